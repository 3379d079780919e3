# make demo: print each run's timeline as text (after records.awk):
#   awk -f scripts/demo/records.awk -f scripts/demo/timeline.awk RECORDS
# One chronological list per run, in ms after the destination's RESUME, then the
# figures; with two runs (COMPARE=qemu) a table of both. docs/demo.md explains it.

function line(t, text, err) {
    printf "  %8.1f  %s%s\n", t, text, (err != "" && err + 0 > 0 ? sprintf(" (±%.0f)", err) : "")
}
function fmt_ms(v) { return v == "" || v == "-" ? "-" : sprintf("%.0f", v) }

# rarp_rounds r: the RARP frames on the wire, grouped into rounds: a VMM sends each
# (MAC, VLAN) once per round, so the k-th frame of an entry belongs to round k (the
# frames of one round can reach the switch tens of ms apart on a busy lab).
# RT, RN, RW: round k's first frame, its frame count, its entries; RR[r, k]: the
# round of event k.
function rarp_rounds(r,   i, k, c, seen) {
    nround[r] = 0
    for (i = 1; i <= n[r]; i++) {
        k = S[r, i]
        if (K[r, k] != "frame" || B[r, k] != "rarp") continue
        c = ++seen[A[r, k]]
        RR[r, k] = c
        if (c > nround[r]) { nround[r] = c; RT[r, c] = T[r, k]; RN[r, c] = 0; RW[r, c] = "" }
        RN[r, c]++
        RW[r, c] = RW[r, c] (RN[r, c] > 1 ? ", " : "") A[r, k]
    }
}

function timeline(r,   i, k, kind, name, moved, all, seen, what, ip, blk, first, cnt, tern) {
    tern = R_vmm[r] == "tern"
    sort_run(r)
    rarp_rounds(r)
    printf "\n%s, %s: host ha -> host hb. Times in ms after the destination's RESUME.\n",
        vmm_label(R_vmm[r]), nic_label(R_nic[r])
    if (tern)
        printf "(config interrupts, ACKs and RARP rounds: tern's query-announce history, exact; frames: captured entering the switch from hb)\n"
    else
        printf "(QEMU has no query-announce: its config interrupts and ACKs are not visible; frames: captured entering the switch from hb)\n"
    cnt = 0
    for (i = 1; i <= n[r]; i++) {
        k = S[r, i]; kind = K[r, k]; name = A[r, k]
        if (kind == "stop") line(T[r, k], "source STOP: the VM pauses on ha for the last dirty pages and the device state")
        else if (kind == "resume") line(T[r, k], "destination RESUME: the VM runs on hb")
        else if (kind == "irq") line(T[r, k], "config interrupt " name " raised in the guest (VIRTIO_NET_S_ANNOUNCE set)", ERR[r, k])
        else if (kind == "ack") line(T[r, k], "guest ACK " name " (VIRTIO_NET_CTRL_ANNOUNCE_ACK)", ERR[r, k])
        else if (kind == "frame" && B[r, k] == "rarp") {
            cnt = RR[r, k]
            if (!said[r, cnt]++)
                line(T[r, k], "RARP round " cnt " from " vmm_label(R_vmm[r]) " on the wire: " RN[r, cnt] " frame" (RN[r, cnt] > 1 ? "s" : "") " (" RW[r, cnt] ")")
        } else if (kind == "frame" && (B[r, k] == "garp" || B[r, k] == "na")) {
            if (seen[r, name, B[r, k]]++) continue
            what = B[r, k] == "garp" ? "first gratuitous ARP " : "first unsolicited NA "
            line(T[r, k], what C[r, k] " from " entry_label(name))
        } else if (kind == "fdb") {
            what = C[r, k] == "garp" ? "a gratuitous ARP" : C[r, k] == "na" ? "an NA" : \
                   C[r, k] == "rarp" ? "a RARP" : C[r, k] == "arp" ? "an ARP request" : C[r, k] == "echo-reply" ? "an echo reply" : "another frame"
            line(T[r, k], "switch FDB: " entry_label(name) " moved to " B[r, k] " (hb), by " what)
        } else if (kind == "ping_last") line(T[r, k], "ping " B[r, k] " (" name "): last reply before the move")
        else if (kind == "ping_first") {
            first = first_ev(r, "ping_last", name)
            blk = first ? sprintf(": blackout %.0f ms", T[r, k] - T[r, first]) : ""
            line(T[r, k], "ping " B[r, k] " (" name "): first reply after the move" blk)
        }
    }
    # The figures.
    moved = ""; all = ""
    for (i = 1; i <= nent; i++) {
        name = E_name[i]; k = first_ev(r, "fdb", name)
        if (k) {
            moved = moved sprintf("%s%s +%.1f", moved == "" ? "" : ", ", name, T[r, k])
            if (all != "-" && (all == "" || T[r, k] > all)) all = T[r, k]
        } else {
            moved = moved (moved == "" ? "" : ", ") name " NEVER"
            all = "-"
        }
        MOVED_ALL[r] = all
    }
    printf "  moved:    %s ms%s\n", moved, all == "-" ? ": NOT every (MAC, VLAN) moved" : sprintf(": every (MAC, VLAN) by +%.1f ms", all)
    what = ""
    for (i = 1; i <= nent; i++) {
        name = E_name[i]; ip = E_target[i]
        k = first_ev(r, "ping_first", name); first = first_ev(r, "ping_last", name)
        BLACKOUT[r, i] = (k && first) ? T[r, k] - T[r, first] : "-"
        what = what (i > 1 ? ", " : "") ip " " (BLACKOUT[r, i] == "-" ? "no reply after the move" : sprintf("%.0f ms", BLACKOUT[r, i]))
    }
    printf "  blackout: %s (pings every 100 ms)\n", what
    if (tern) {
        printf "  tern's count (query-announce): %d config interrupt%s, %d ACK%s, %d RARP round%s (%d frames)\n",
            count(r, "irq"), count(r, "irq") == 1 ? "" : "s", count(r, "ack"), count(r, "ack") == 1 ? "" : "s",
            count(r, "round"), count(r, "round") == 1 ? "" : "s", R_frames[r] + 0
    }
    printf "  downtime %s ms (source STOP to destination RESUME: %s ms), total time %s ms, %.1f MiB sent\n",
        fmt_ms(M[r, "downtime_ms"]), fmt_ms(M[r, "stop_resume_ms"]), fmt_ms(M[r, "total_ms"]), M[r, "bytes"] / 1048576
}
function count(r, kind,   i, c) {
    for (i = 1; i <= n[r]; i++) if (K[r, i] == kind) c++
    return c + 0
}
function row(label, a, b) { printf "  %-44s %12s %12s\n", label, a, b }

END {
    if (!nrun) { print "demo: no records (the run ended before the migration)"; exit 1 }
    for (r = 1; r <= nrun; r++) timeline(r)
    if (nrun >= 2) {
        printf "\nside by side (%s):\n", nic_label(R_nic[1])
        row("", vmm_label(R_vmm[1]), vmm_label(R_vmm[2]))
        row("downtime (ms, the VMM's figure)", fmt_ms(M[1, "downtime_ms"]), fmt_ms(M[2, "downtime_ms"]))
        row("source STOP to destination RESUME (ms)", fmt_ms(M[1, "stop_resume_ms"]), fmt_ms(M[2, "stop_resume_ms"]))
        row("total time (ms)", fmt_ms(M[1, "total_ms"]), fmt_ms(M[2, "total_ms"]))
        for (i = 1; i <= nent; i++) {
            a = first_ev(1, "fdb", E_name[i]); b = first_ev(2, "fdb", E_name[i])
            row("RESUME to FDB move: " E_name[i] " (ms)", a ? sprintf("%.1f", T[1, a]) : "never", b ? sprintf("%.1f", T[2, b]) : "never")
        }
        for (i = 1; i <= nent; i++)
            row("ping blackout " E_target[i] " (ms)", BLACKOUT[1, i] == "-" ? "no reply" : sprintf("%.0f", BLACKOUT[1, i]),
                BLACKOUT[2, i] == "-" ? "no reply" : sprintf("%.0f", BLACKOUT[2, i]))
    }
    ok = 0
    for (r = 1; r <= nrun; r++) if (R_vmm[r] == "tern" && MOVED_ALL[r] != "" && MOVED_ALL[r] != "-") ok = 1
    exit !ok
}
