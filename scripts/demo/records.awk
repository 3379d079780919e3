# make demo: read the records that scripts/demo/lab.sh wrote (one section per run) into
# arrays for timeline.awk and svg.awk (awk -f records.awk -f timeline.awk RECORDS).
# POSIX awk (Debian's mawk is enough).
#
# Records, one per line (times: ms after the destination's RESUME):
#   === run vmm=V nic=N resume=EPOCH t0=EPOCH port=P status=S     a run begins
#   meta KEY VALUE...            total_ms, downtime_ms, setup_ms, bytes, stop_resume_ms,
#                                poll_ms, version, moved_NAME yes|no
#   entry NAME MAC VLAN TARGET   a (MAC, VLAN) of the guest and the address pinged on it
#   ev MS stop -                 the source's STOP event
#   ev MS resume -               the destination's RESUME (0)
#   ev MS frame NAME KIND ADDR   a frame from the guest entering the switch from the new
#                                host; KIND garp, na, rarp, arp (not gratuitous), other
#   ev MS fdb NAME PORT KIND ADDR  the switch moved NAME's entry to PORT (by that frame)
#   ev MS ping_last NAME IP      the client's last echo reply from IP before RESUME
#   ev MS ping_first NAME IP     and its first one after
#   watch resume US | watch completed US     query-announce poller's events (epoch, us)
#   watch PREV SEND RECV IRQS ACKS ROUNDS FRAMES MODE
#                                query-announce changed between PREV and RECV (epoch, us)
#   === end
#
# Arrays: nrun; R_vmm[r], R_nic[r], R_status[r], R_port[r]; M[r, key]; nent, E_name[i],
# E_mac[i], E_vlan[i], E_target[i], E_idx[name]; per run r: n[r] events,
# T[r, k] (ms), K[r, k] kind, A[r, k], B[r, k], C[r, k], D[r, k] the fields after the kind,
# ERR[r, k] (± ms, for what the poller saw). Derived kinds: irq, ack, round
# (A = the number, B = RARP frames sent since the previous poll);
# R_frames[r]: RARP frames tern sent in all (query-announce).

function kv(s, key,   i, p, a) {
    p = split(s, a, " ")
    for (i = 1; i <= p; i++) if (index(a[i], key "=") == 1) return substr(a[i], length(key) + 2)
    return ""
}
function add(r, t, kind, a, b, c, err, d) {
    n[r]++
    T[r, n[r]] = t + 0; K[r, n[r]] = kind; A[r, n[r]] = a; B[r, n[r]] = b; C[r, n[r]] = c
    D[r, n[r]] = d
    ERR[r, n[r]] = err
}
function us(epoch,   p) {     # "1795311189.185273" -> microseconds
    p = index(epoch, ".")
    if (!p) return epoch * 1000000
    return substr(epoch, 1, p - 1) * 1000000 + substr(substr(epoch, p + 1) "000000", 1, 6)
}

{ sub(/\r$/, "") }
/^=== run / {
    nrun++; r = nrun
    R_vmm[r] = kv($0, "vmm"); R_nic[r] = kv($0, "nic"); R_status[r] = kv($0, "status")
    R_port[r] = kv($0, "port"); R_resume_us[r] = us(kv($0, "resume"))
    w_irq = 0; w_ack = 0; w_round = 0; w_frames = 0
    next
}
/^=== end/ { r = 0; next }
r == 0 { next }
$1 == "meta" { v = $0; sub(/^meta [^ ]+ ?/, "", v); M[r, $2] = v; next }
$1 == "entry" {
    if (!($2 in E_idx)) {
        nent++; E_idx[$2] = nent
        E_name[nent] = $2; E_mac[nent] = $3; E_vlan[nent] = $4; E_target[nent] = $5
    }
    next
}
$1 == "ev" { add(r, $2, $3, $4, $5, $6, "", $7); next }
$1 == "watch" && ($2 == "resume" || $2 == "completed") { next }
$1 == "watch" && NF >= 9 {
    # The change happened after PREV (the previous poll was sent) and before RECV.
    mid = (($2 + $4) / 2 - R_resume_us[r]) / 1000
    err = ($4 - $2) / 2000
    for (k = w_irq + 1; k <= $5; k++) add(r, mid, "irq", k, "", "", err)
    for (k = w_ack + 1; k <= $6; k++) add(r, mid, "ack", k, "", "", err)
    if ($9 == "rarp")
        for (k = w_round + 1; k <= $7; k++) add(r, mid, "round", k, $8 - w_frames, "", err)
    w_irq = $5; w_ack = $6; w_round = $7; w_frames = $8; R_frames[r] = $8
    next
}

# Helpers for the writers.
function entry_label(name,   i) {
    i = E_idx[name]
    if (!i) return name
    return name " (" E_mac[i] ", VLAN " E_vlan[i] ")"
}
function vmm_label(v) { return v == "qemu" ? "QEMU 7.2" : v }
function nic_label(x) { return x == "rarp" ? "guest_announce=off: RARP fallback" : "guest announce" }
# sort_run r: S[r, 1..n[r]] = event indexes in time order (insertion sort: few events).
function sort_run(r,   i, j, x) {
    for (i = 1; i <= n[r]; i++) {
        x = i
        for (j = i - 1; j >= 1 && T[r, S[r, j]] > T[r, x]; j--) S[r, j + 1] = S[r, j]
        S[r, j + 1] = x
    }
}
# first_ev r kind name: index of the earliest event of that kind for that entry, or 0.
function first_ev(r, kind, name,   k, best) {
    best = 0
    for (k = 1; k <= n[r]; k++)
        if (K[r, k] == kind && (name == "" || A[r, k] == name) && (!best || T[r, k] < T[r, best])) best = k
    return best
}
# first_frame r name kind: the earliest frame of KIND from that entry, or 0.
function first_frame(r, name, kind,   k, best) {
    best = 0
    for (k = 1; k <= n[r]; k++)
        if (K[r, k] == "frame" && A[r, k] == name && B[r, k] == kind && (!best || T[r, k] < T[r, best])) best = k
    return best
}
