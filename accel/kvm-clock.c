/*
 * kvm-clock.c: the guest's two clocks, kvm-clock and the TSC, stand still together while
 * the VM is stopped (a pause, or the downtime of a migration), and start again agreeing
 * with each other.
 *
 * kvm-clock alone (KVM_GET_CLOCK at stop, KVM_SET_CLOCK at start) hides a pause from the
 * guest's timekeeping, but the TSC would run on through it, and Linux's clocksource
 * watchdog, which compares the two every half second, declares the TSC unstable when
 * they disagree by more than about 0.2 ms. So the TSC freezes too, as of the same instant.
 *
 * Neither clock can be read or set in one step with the other, and in the lab (nested
 * KVM under TCG) one ioctl takes tens of microseconds. So each read and write is timed
 * on CLOCK_MONOTONIC, placed at the middle of its ioctl, and the TSC corrected for the
 * time between them. An ioctl that took over 0.2 ms (preempted on a busy CPU: its middle
 * is then off by up to half that) makes the freeze read again, or the thaw run again,
 * up to 8 times (f is the guest's TSC rate, KVM_GET_TSC_KHZ):
 *
 *   freeze: kvm-clock K0 read at t0; a TSC read as g at t: saved g - (t - t0) * f
 *   thaw:   the TSC offsets (KVM_VCPU_TSC_OFFSET) moved so that the TSCs read their
 *           saved values at t1; kvm-clock set to K0 at t3; the offsets moved back by
 *           (t3 - t1) * f, so the TSCs read the saved values at t3 as well.
 *
 * Without the offset attribute (Linux before 5.16) the TSC is written through IA32_TSC;
 * KVM takes a value within a second of what it expects for vCPUs synchronizing with
 * each other and keeps the old offset (kvm_synchronize_tsc), so there a short pause
 * stays visible in the TSC.
 */
#include <errno.h>
#include <sys/ioctl.h>
#include <time.h>
#include "kvm-internal.h"

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t ns_to_cycles(int64_t ns, int khz)
{
    return (int64_t)((__int128)ns * khz / 1000000);
}

/* An ioctl that took longer than this (the thread was preempted in it, as happens on
 * the lab's one busy CPU) places its middle too loosely: the reads or the thaw are done
 * again, up to CLOCK_TRIES times, keeping the tightest. */
#define CLOCK_IOCTL_SLOW_NS 200000
#define CLOCK_TRIES 8

/* The middle of an ioctl begun at `a`, and in *took how long it took. */
static int64_t ioctl_middle(int64_t a, int64_t *took)
{
    int64_t b = mono_ns();
    *took = b - a;
    return a + (b - a) / 2;
}

/* IA32_TSC of a vCPU, read or written; *at gets the middle of the ioctl, *took its time. */
static int tsc_msr(KvmVcpu *v, unsigned long req, uint64_t *value, int64_t *at, int64_t *took)
{
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[1];
    } b = {.hdr.nmsrs = 1, .e = {{.index = MSR_IA32_TSC, .data = *value}}};
    int64_t a = mono_ns();
    int rc = kvm_vcpu_ioctl(v, req, &b);
    *at = ioctl_middle(a, took);
    *value = b.e[0].data;
    return rc == 1 ? 0 : rc < 0 ? rc : -EINVAL;
}

bool kvm_vcpu_tsc_offset_sub(KvmVcpu *v, int64_t cycles)
{
    uint64_t off = 0;
    struct kvm_device_attr a = {
        .group = KVM_VCPU_TSC_CTRL,
        .attr = KVM_VCPU_TSC_OFFSET,
        .addr = (uintptr_t)&off,
    };
    if (kvm_vcpu_ioctl(v, KVM_GET_DEVICE_ATTR, &a) < 0) {
        return false;
    }
    off -= (uint64_t)cycles;
    return kvm_vcpu_ioctl(v, KVM_SET_DEVICE_ATTR, &a) == 0;
}

/* One reading of kvm-clock and every TSC as of one instant; returns the longest ioctl
 * (the reading's uncertainty), or -1 when kvm-clock cannot be read. */
static int64_t clock_read(KvmState *s, struct kvm_clock_data *clock, uint64_t *tsc, bool *valid)
{
    int64_t a = mono_ns(), took;
    int rc = kvm_vm_ioctl(s, KVM_GET_CLOCK, clock);
    int64_t t0 = ioctl_middle(a, &took), worst = took;
    if (rc < 0) {
        g_warning("kvm: KVM_GET_CLOCK: %s", g_strerror(-rc));
        return -1;
    }
    for (unsigned i = 0; i < s->ncpus; i++) {
        KvmVcpu *v = &s->vcpus[i];
        int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
        int64_t t;
        rc = tsc_msr(v, KVM_GET_MSRS, &tsc[i], &t, &took);
        valid[i] = rc == 0;
        if (rc < 0) {
            g_warning("kvm: vCPU %u: reading the TSC: %s", i, g_strerror(-rc));
            continue;
        }
        worst = MAX(worst, took);
        if (khz > 0) {
            tsc[i] -= ns_to_cycles(t - t0, khz);
        }
    }
    return worst;
}

void kvm_clock_freeze(KvmState *s)
{
    g_autofree uint64_t *tsc = g_new0(uint64_t, s->ncpus);
    g_autofree bool *valid = g_new0(bool, s->ncpus);
    int64_t best = INT64_MAX;
    s->clock_saved = false;
    for (int attempt = 0; attempt < CLOCK_TRIES && best > CLOCK_IOCTL_SLOW_NS; attempt++) {
        struct kvm_clock_data clock;
        int64_t worst = clock_read(s, &clock, tsc, valid);
        if (worst < 0) {
            return;
        }
        if (worst < best) {
            best = worst;
            s->clock = clock;
            s->clock_saved = true;
            for (unsigned i = 0; i < s->ncpus; i++) {
                s->vcpus[i].tsc = tsc[i];
                s->vcpus[i].tsc_valid = valid[i];
            }
        }
    }
}

/*
 * Make every vCPU with a saved TSC read it at the instant returned in *at (the reference
 * read took *took). One delta, measured on the first such vCPU, moves every offset
 * alike, so TSCs that were in step stay in step. True when every vCPU went through its
 * offset. Doing it again is harmless: the TSCs read their saved values at the new *at.
 */
static bool tsc_restore(KvmState *s, int64_t *at, int64_t *took)
{
    KvmVcpu *ref = NULL;
    uint64_t now = 0;
    bool offsets = true;
    *took = 0;
    for (unsigned i = 0; i < s->ncpus && !ref; i++) {
        if (s->vcpus[i].tsc_valid) {
            ref = &s->vcpus[i];
        }
    }
    if (!ref || tsc_msr(ref, KVM_GET_MSRS, &now, at, took) < 0) {
        offsets = false;
    }
    for (unsigned i = 0; i < s->ncpus; i++) {
        KvmVcpu *v = &s->vcpus[i];
        if (!v->tsc_valid ||
            (offsets && kvm_vcpu_tsc_offset_sub(v, (int64_t)(now - ref->tsc)))) {
            continue;
        }
        offsets = false;
        int64_t ignored;
        int rc = tsc_msr(v, KVM_SET_MSRS, &v->tsc, at, &ignored);
        if (rc < 0) {
            g_warning("kvm: vCPU %u: restoring the TSC: %s", i, g_strerror(-rc));
        }
    }
    return offsets && ref;
}

/* One thaw: the TSCs to their saved values, kvm-clock to its, the TSCs moved on to the
 * instant kvm-clock was set. Returns the longest timed ioctl; *offsets: whether the TSCs
 * went through their offsets (only then can a thaw be redone). */
static int64_t clock_restore(KvmState *s, bool *offsets)
{
    int64_t t1 = 0, took1, took3;
    *offsets = tsc_restore(s, &t1, &took1);
    struct kvm_clock_data data = {.clock = s->clock.clock};
    int64_t a = mono_ns();
    int rc = kvm_vm_ioctl(s, KVM_SET_CLOCK, &data);
    int64_t t3 = ioctl_middle(a, &took3);
    if (rc < 0) {
        g_warning("kvm: KVM_SET_CLOCK: %s", g_strerror(-rc));
    }
    for (unsigned i = 0; i < s->ncpus; i++) {
        KvmVcpu *v = &s->vcpus[i];
        int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
        if (*offsets && v->tsc_valid && khz > 0) {
            kvm_vcpu_tsc_offset_sub(v, ns_to_cycles(t3 - t1, khz));
        }
    }
    return MAX(took1, took3);
}

void kvm_clock_thaw(KvmState *s)
{
    if (!s->clock_saved) {
        return;
    }
    s->clock_saved = false;
    bool offsets = false;
    for (int attempt = 0; attempt < CLOCK_TRIES; attempt++) {
        if (clock_restore(s, &offsets) <= CLOCK_IOCTL_SLOW_NS || !offsets) {
            break;
        }
    }
    for (unsigned i = 0; i < s->ncpus; i++) {
        s->vcpus[i].tsc_valid = false;
    }
}
