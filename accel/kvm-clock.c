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
 * time between them (f is the guest's TSC rate, KVM_GET_TSC_KHZ):
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

/* IA32_TSC of a vCPU, read or written; *at gets the middle of the ioctl. */
static int tsc_msr(KvmVcpu *v, unsigned long req, uint64_t *value, int64_t *at)
{
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[1];
    } b = {.hdr.nmsrs = 1, .e = {{.index = MSR_IA32_TSC, .data = *value}}};
    int64_t a = mono_ns();
    int rc = kvm_vcpu_ioctl(v, req, &b);
    *at = (a + mono_ns()) / 2;
    *value = b.e[0].data;
    return rc == 1 ? 0 : rc < 0 ? rc : -EINVAL;
}

/* Move a vCPU's TSC by -cycles through its offset; false when KVM cannot. */
static bool tsc_offset_sub(KvmVcpu *v, int64_t cycles)
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

void kvm_clock_freeze(KvmState *s)
{
    int64_t a = mono_ns();
    int rc = kvm_vm_ioctl(s, KVM_GET_CLOCK, &s->clock);
    int64_t t0 = (a + mono_ns()) / 2;
    s->clock_saved = rc >= 0;
    if (rc < 0) {
        g_warning("kvm: KVM_GET_CLOCK: %s", g_strerror(-rc));
    }
    for (unsigned i = 0; i < s->ncpus; i++) {
        KvmVcpu *v = &s->vcpus[i];
        int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
        int64_t t;
        rc = tsc_msr(v, KVM_GET_MSRS, &v->tsc, &t);
        v->tsc_valid = rc == 0;
        if (rc < 0) {
            g_warning("kvm: vCPU %u: reading the TSC: %s", i, g_strerror(-rc));
        } else if (khz > 0) {
            v->tsc -= ns_to_cycles(t - t0, khz);
        }
    }
}

/*
 * Make every vCPU with a saved TSC read it at the instant returned in *at. One delta,
 * measured on the first such vCPU, moves every offset alike, so TSCs that were in step
 * stay in step. True when every vCPU went through its offset.
 */
static bool tsc_restore(KvmState *s, int64_t *at)
{
    KvmVcpu *ref = NULL;
    uint64_t now = 0;
    bool offsets = true;
    for (unsigned i = 0; i < s->ncpus && !ref; i++) {
        if (s->vcpus[i].tsc_valid) {
            ref = &s->vcpus[i];
        }
    }
    if (!ref || tsc_msr(ref, KVM_GET_MSRS, &now, at) < 0) {
        offsets = false;
    }
    for (unsigned i = 0; i < s->ncpus; i++) {
        KvmVcpu *v = &s->vcpus[i];
        if (!v->tsc_valid || (offsets && tsc_offset_sub(v, (int64_t)(now - ref->tsc)))) {
            continue;
        }
        offsets = false;
        int rc = tsc_msr(v, KVM_SET_MSRS, &v->tsc, at);
        if (rc < 0) {
            g_warning("kvm: vCPU %u: restoring the TSC: %s", i, g_strerror(-rc));
        }
    }
    return offsets && ref;
}

void kvm_clock_thaw(KvmState *s)
{
    if (!s->clock_saved) {
        return;
    }
    s->clock_saved = false;
    int64_t t1 = 0;
    bool offsets = tsc_restore(s, &t1);
    struct kvm_clock_data data = {.clock = s->clock.clock};
    int64_t a = mono_ns();
    int rc = kvm_vm_ioctl(s, KVM_SET_CLOCK, &data);
    int64_t t3 = (a + mono_ns()) / 2;
    if (rc < 0) {
        g_warning("kvm: KVM_SET_CLOCK: %s", g_strerror(-rc));
    }
    for (unsigned i = 0; i < s->ncpus; i++) {
        KvmVcpu *v = &s->vcpus[i];
        int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
        if (offsets && v->tsc_valid && khz > 0) {
            tsc_offset_sub(v, ns_to_cycles(t3 - t1, khz));
        }
        v->tsc_valid = false;
    }
}
