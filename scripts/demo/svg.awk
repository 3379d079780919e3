# make demo: draw the runs' timelines as one SVG chart (after records.awk):
#   awk -f scripts/demo/records.awk -f scripts/demo/svg.awk RECORDS > chart.svg
# One panel per run (side by side, the same time scale), one row per (MAC, VLAN)
# plus a row for what the VMM itself says; x is ms after the destination's RESUME.
# In a row: the ping blackout of the address on that entry (a bar from the last
# reply before to the first after), the guest's frames entering the switch from
# the new host (GARP, NA, RARP, others), and the moment the switch moved the entry.
# Grey band: the VM paused (source STOP to destination RESUME). docs/demo.md.

function x(r, t) {
    if (t < XMIN) t = XMIN
    if (t > XMAX) t = XMAX
    return sprintf("%.1f", PX[r] + (t - XMIN) / (XMAX - XMIN) * PW)
}
function out(s) { print s }
function text(xx, yy, s, size, color, anchor, weight) {
    out(sprintf("<text x=\"%s\" y=\"%s\" font-size=\"%s\" fill=\"%s\" text-anchor=\"%s\"%s>%s</text>",
        xx, yy, size, color, anchor == "" ? "start" : anchor,
        weight == "" ? "" : " font-weight=\"" weight "\"", esc(s)))
}
function esc(s) { gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); return s }
function line(x1, y1, x2, y2, color, width, dash) {
    out(sprintf("<line x1=\"%s\" y1=\"%s\" x2=\"%s\" y2=\"%s\" stroke=\"%s\" stroke-width=\"%s\"%s/>",
        x1, y1, x2, y2, color, width, dash == "" ? "" : " stroke-dasharray=\"" dash "\""))
}
function rect(xx, yy, w, h, fill, stroke) {
    out(sprintf("<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\"%s/>", xx, yy, w, h, fill,
        stroke == "" ? "" : " stroke=\"" stroke "\""))
}
# mark SHAPE X Y: one symbol (the legend uses the same).
function mark(shape, xx, yy,   c) {
    if (shape == "garp") out(sprintf("<circle cx=\"%s\" cy=\"%s\" r=\"4\" fill=\"%s\" fill-opacity=\"0.85\"/>", xx, yy, COL["garp"]))
    else if (shape == "na") out(sprintf("<path d=\"M%s %sl4.5 4.5l-4.5 4.5l-4.5 -4.5z\" fill=\"%s\" fill-opacity=\"0.85\"/>", xx, yy - 4.5, COL["na"]))
    else if (shape == "rarp") out(sprintf("<rect x=\"%s\" y=\"%s\" width=\"8\" height=\"8\" fill=\"%s\" fill-opacity=\"0.9\"/>", xx - 4, yy - 4, COL["rarp"]))
    else if (shape == "irq") out(sprintf("<path d=\"M%s %sl5 8.5h-10z\" fill=\"%s\"/>", xx, yy - 4.5, COL["irq"]))
    else if (shape == "ack") out(sprintf("<path d=\"M%s %sl5 -8.5h-10z\" fill=\"%s\"/>", xx, yy + 4.5, COL["ack"]))
    else if (shape == "other") line(xx, yy - 4, xx, yy + 4, COL["other"], 1.5)
    else if (shape == "fdb") { line(xx, yy - 13, xx, yy + 13, COL["fdb"], 3) }
}
function nice_step(span, px,   steps, i) {
    split("10 20 50 100 200 250 500 1000 2000 5000", steps, " ")
    for (i = 1; i <= 10; i++) if (span / steps[i] <= px / 55) return steps[i] + 0
    return 10000
}

BEGIN {
    COL["garp"] = "#1f77b4"; COL["na"] = "#9467bd"; COL["rarp"] = "#ff7f0e"; COL["irq"] = "#17a2b8"
    COL["ack"] = "#2ca02c"; COL["other"] = "#8c8c8c"; COL["fdb"] = "#d62728"
    COL["blackout"] = "#f8d0d0"; COL["paused"] = "#e4e4e4"
}

END {
    if (!nrun) exit 1
    # The time range: the same for every panel, from the earliest ping/STOP to the last event.
    XMIN = 0; XMAX = 500
    for (r = 1; r <= nrun; r++) for (k = 1; k <= n[r]; k++) {
        if (T[r, k] < XMIN) XMIN = T[r, k]
        if (T[r, k] > XMAX) XMAX = T[r, k]
    }
    if (XMIN < -1500) XMIN = -1500
    if (XMAX > 4000) XMAX = 4000
    LW = 215; PW = nrun == 1 ? 800 : 560; GAP = 60
    step = nice_step(XMAX - XMIN + 100, PW)
    XMIN = int((XMIN - 50) / step - (XMIN - 50 < 0 ? 0.999 : 0)) * step
    XMAX = int((XMAX + 50) / step + 0.999) * step
    for (r = 1; r <= nrun; r++) PX[r] = LW + (r - 1) * (PW + GAP)
    width = LW + nrun * PW + (nrun - 1) * GAP + 25
    TOP = 92; VH = 46; RH = 58
    rows_h = VH + nent * RH
    height = TOP + rows_h + 118

    out("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
    out(sprintf("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Verdana, sans-serif\">", width, height, width, height))
    rect(0, 0, width, height, "#ffffff")
    title = "Live migration ha \342\206\222 hb: the network follows the VM"
    text(14, 26, title, 18, "#222", "start", "bold")
    sub_ = nic_label(R_nic[1]) "; guest with eth0, eth0.10 (VLAN 10) and macvlan0; the client pings each every 100 ms from the switch side"
    text(14, 46, sub_, 12, "#444")

    for (r = 1; r <= nrun; r++) {
        sort_run(r)
        px = PX[r]
        # Panel header: the VMM and its figures.
        all = ""
        for (i = 1; i <= nent; i++) {
            k = first_ev(r, "fdb", E_name[i])
            if (!k) { all = "-"; break }
            if (all == "" || T[r, k] > all) all = T[r, k]
        }
        text(px, 62, vmm_label(R_vmm[r]), 15, "#111", "start", "bold")
        text(px + PW, 62, sprintf("downtime %s ms \302\267 total %s ms \302\267 %s", M[r, "downtime_ms"], M[r, "total_ms"],
            all == "-" ? "NOT every (MAC, VLAN) moved" : sprintf("every entry moved by +%.0f ms", all)), 12,
            all == "-" ? COL["fdb"] : "#333", "end")
        # Background: rows, the paused band, the grid.
        for (i = 0; i <= nent; i++) {
            y = i == 0 ? TOP : TOP + VH + (i - 1) * RH
            h = i == 0 ? VH : RH
            rect(px, y, PW, h, (i % 2) ? "#fafafa" : "#f3f6fa")
        }
        k = first_ev(r, "stop", "")
        if (k) {
            rect(x(r, T[r, k]), TOP, x(r, 0) - x(r, T[r, k]), rows_h, COL["paused"])
            text(x(r, T[r, k]) - 2, TOP - 5, "STOP", 10, "#555", "end")
        }
        for (t = XMIN; t <= XMAX; t += step) {
            line(x(r, t), TOP, x(r, t), TOP + rows_h, t == 0 ? "#222" : "#d8d8d8", t == 0 ? 1.5 : 0.8)
            text(x(r, t), TOP + rows_h + 14, (t > 0 ? "+" : "") t, 10, "#333", "middle")
        }
        text(x(r, 0) + 2, TOP - 5, "RESUME", 10, "#222", "start", "bold")
        text(px + PW / 2, TOP + rows_h + 30, "ms after the destination's RESUME", 11, "#333", "middle")
        rect(px, TOP, PW, rows_h, "none", "#bbbbbb")

        # The VMM's row: config interrupts and ACKs (query-announce), or why not.
        yv = TOP + VH / 2
        if (R_vmm[r] != "tern") text(px + 8, yv + 4, "no query-announce in QEMU: interrupts and ACKs not visible", 11, "#777")
        for (i = 1; i <= n[r]; i++) {
            k = S[r, i]
            kind = K[r, k]
            if (kind != "irq" && kind != "ack" && kind != "round") continue
            yy = kind == "irq" ? yv - 8 : kind == "ack" ? yv + 8 : yv
            # The poll brackets the moment: a whisker for the uncertainty.
            line(x(r, T[r, k] - ERR[r, k]), yy, x(r, T[r, k] + ERR[r, k]), yy, "#9aa", 1)
            mark(kind == "round" ? "rarp" : kind, x(r, T[r, k]), yy)
        }

        # One row per (MAC, VLAN).
        for (e = 1; e <= nent; e++) {
            name = E_name[e]
            y0 = TOP + VH + (e - 1) * RH; yc = y0 + RH / 2 + 4
            kl = first_ev(r, "ping_last", name); kf = first_ev(r, "ping_first", name)
            if (kl) {
                x1 = x(r, T[r, kl]); x2 = kf ? x(r, T[r, kf]) : px + PW
                out(sprintf("<rect x=\"%s\" y=\"%s\" width=\"%s\" height=\"%s\" fill=\"%s\" fill-opacity=\"0.75\"/>", x1, y0 + 5, x2 - x1, RH - 10, COL["blackout"]))
                lab = kf ? sprintf("ping %s: no reply for %.0f ms", E_target[e], T[r, kf] - T[r, kl]) : sprintf("ping %s: no reply after the move", E_target[e])
                text(x1 + 3, y0 + 15, lab, 10, "#a33")
            }
            for (i = 1; i <= n[r]; i++) {
                k = S[r, i]
                if (K[r, k] != "frame" || A[r, k] != name) continue
                kind = B[r, k]
                if (kind == "garp") mark("garp", x(r, T[r, k]), yc - 4)
                else if (kind == "na") mark("na", x(r, T[r, k]), yc + 5)
                else if (kind == "rarp") mark("rarp", x(r, T[r, k]), yc - 4)
                else mark("other", x(r, T[r, k]), yc + 14)
            }
            k = first_ev(r, "fdb", name)
            if (k) {
                mark("fdb", x(r, T[r, k]), yc)
                text(x(r, T[r, k]) + 4, y0 + RH - 5, sprintf("FDB +%.0f", T[r, k]), 10, COL["fdb"], "start", "bold")
            } else
                text(px + PW - 4, y0 + RH - 6, "FDB entry never moved", 10, COL["fdb"], "end", "bold")
        }
    }
    # Row labels.
    text(12, TOP + VH / 2 - 2, "the VMM", 12, "#111", "start", "bold")
    text(12, TOP + VH / 2 + 12, "IRQ \342\226\262  ACK \342\226\274  RARP round \342\226\240", 10, "#555")
    for (e = 1; e <= nent; e++) {
        y0 = TOP + VH + (e - 1) * RH
        text(12, y0 + 19, E_name[e], 12, "#111", "start", "bold")
        text(12, y0 + 33, E_mac[e] " \302\267 VLAN " E_vlan[e], 10, "#444")
        text(12, y0 + 46, "pinged at " E_target[e], 10, "#444")
    }
    # Legend.
    ly = TOP + rows_h + 58; lx = 14
    split("garp gratuitous ARP|na unsolicited NA|rarp RARP|other other frame (MLD, ARP)|fdb switch FDB entry moved|irq config interrupt|ack guest ACK", items, "|")
    for (i = 1; i <= 7; i++) {
        kind = items[i]; sub(/ .*/, "", kind); lab = items[i]; sub(/^[a-z]+ /, "", lab)
        mark(kind, lx + 5, ly - 4)
        text(lx + 14, ly, lab, 11, "#333")
        lx += 28 + length(lab) * 6.2
    }
    ly += 20; lx = 14
    rect(lx, ly - 10, 18, 12, COL["blackout"]); text(lx + 24, ly, "ping blackout: last echo reply before the move to the first after", 11, "#333")
    rect(lx + 420, ly - 10, 18, 12, COL["paused"]); text(lx + 444, ly, "VM paused (source STOP to destination RESUME)", 11, "#333")
    text(14, ly + 20, "Frames: captured entering the switch from hb (kernel timestamps). Interrupts, ACKs, RARP rounds: tern's query-announce history.", 10, "#666")
    out("</svg>")
}
