/*
 * kvm-vcpu.c: one thread per vCPU. A thread runs KVM_RUN while the VM runs and parks
 * otherwise; I/O and MMIO exits are dispatched to the devices with the big lock held.
 *
 * Stopping is synchronous: kvm_vcpus_pause() clears `run`, kicks every thread out of
 * KVM_RUN with SIGUSR1 (its handler sets kvm_run->immediate_exit, so a kick that lands
 * just before KVM_RUN is not lost) and waits until all are parked. Only the boot vCPU
 * starts executing; the others wait in the kernel for INIT/SIPI from the guest.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "accel/kvm.h"
#include "error.h"
#include "hw/i386/pc-power.h"
#include "hw/memory.h"
#include "kvm-internal.h"
#include "main-loop.h"
#include "runstate.h"

#define SIG_KICK SIGUSR1

#define MSR_IA32_MISC_ENABLE 0x1a0
#define MISC_ENABLE_FAST_STRING 1
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_NMI 0x400
#define APIC_MODE_EXTINT 0x700

/* The kvm_run of the vCPU this thread runs, for the kick handler. */
static __thread struct kvm_run *vcpu_thread_run;

static void kick_handler(int sig)
{
    struct kvm_run *run = vcpu_thread_run;
    if (run) {
        __atomic_store_n(&run->immediate_exit, 1, __ATOMIC_RELAXED);
    }
}

static void kick_handler_install(void)
{
    static gsize done;
    if (g_once_init_enter(&done)) {
        struct sigaction sa = {.sa_handler = kick_handler};
        sigemptyset(&sa.sa_mask);
        sigaction(SIG_KICK, &sa, NULL); /* no SA_RESTART: KVM_RUN must return */
        g_once_init_leave(&done, 1);
    }
}

/* --- diagnostics ---------------------------------------------------------------------- */

static void vcpu_dump(KvmVcpu *v, const char *why)
{
    struct kvm_regs r;
    struct kvm_sregs sr;
    fprintf(stderr, "tern: vCPU %u: %s\n", v->index, why);
    if (ioctl(v->fd, KVM_GET_REGS, &r) == 0 && ioctl(v->fd, KVM_GET_SREGS, &sr) == 0) {
        fprintf(stderr,
                "tern:   rip=%016llx rsp=%016llx rflags=%08llx rax=%016llx\n"
                "tern:   cs=%04x(base %llx) cr0=%llx cr3=%llx cr4=%llx efer=%llx\n",
                r.rip, r.rsp, r.rflags, r.rax, sr.cs.selector, sr.cs.base, sr.cr0, sr.cr3,
                sr.cr4, sr.efer);
    }
}

static gboolean internal_error_stop(gpointer data)
{
    if (runstate_is_running()) {
        vm_stop(RUN_STATE_INTERNAL_ERROR);
    }
    return G_SOURCE_REMOVE;
}

/* An exit tern cannot handle: report it, park this vCPU for good, stop the VM (as QEMU
 * does: it stays for inspection over QMP). */
static void vcpu_fail(KvmVcpu *v, const char *why)
{
    vcpu_dump(v, why);
    v->guest_stopped = true;
    GSource *src = g_idle_source_new();
    g_source_set_callback(src, internal_error_stop, NULL, NULL);
    g_source_attach(src, main_loop_context());
    g_source_unref(src);
}

/* --- exits ---------------------------------------------------------------------------- */

static void vcpu_exit_io(struct kvm_run *run)
{
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    bool out = run->io.direction == KVM_EXIT_IO_OUT;
    bql_lock();
    for (uint32_t i = 0; i < run->io.count; i++) {
        address_space_rw(ADDR_SPACE_IO, run->io.port, data + i * run->io.size, run->io.size,
                         out);
    }
    bql_unlock();
}

static void vcpu_exit_mmio(struct kvm_run *run)
{
    bql_lock();
    address_space_rw(ADDR_SPACE_MEMORY, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
                     run->mmio.is_write);
    bql_unlock();
}

static void vcpu_exit_system_event(KvmVcpu *v, struct kvm_run *run)
{
    switch (run->system_event.type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
        pc_power_request(PC_POWER_OFF);
        break;
    case KVM_SYSTEM_EVENT_RESET:
        pc_power_request(PC_POWER_RESET);
        break;
    case KVM_SYSTEM_EVENT_CRASH:
        pc_power_request(PC_POWER_PANIC);
        break;
    default: {
        g_autofree char *why =
            g_strdup_printf("unknown KVM system event %u", run->system_event.type);
        vcpu_fail(v, why);
        return;
    }
    }
    v->guest_stopped = true;
}

static void vcpu_handle_exit(KvmVcpu *v)
{
    struct kvm_run *run = v->run;
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        vcpu_exit_io(run);
        v->io_pending = true;
        break;
    case KVM_EXIT_MMIO:
        vcpu_exit_mmio(run);
        v->io_pending = true;
        break;
    case KVM_EXIT_INTR:
    case KVM_EXIT_HLT: /* the in-kernel LAPIC handles HLT; nothing to do if it exits */
        break;
    case KVM_EXIT_SHUTDOWN:
        /* Triple fault: what `reboot=t` and a failed keyboard-controller reset end in. */
        pc_power_request(PC_POWER_RESET);
        v->guest_stopped = true;
        break;
    case KVM_EXIT_SYSTEM_EVENT:
        vcpu_exit_system_event(v, run);
        break;
    case KVM_EXIT_FAIL_ENTRY: {
        g_autofree char *why =
            g_strdup_printf("KVM_EXIT_FAIL_ENTRY (hardware reason %#llx)",
                            (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        vcpu_fail(v, why);
        break;
    }
    case KVM_EXIT_INTERNAL_ERROR: {
        g_autofree char *why =
            g_strdup_printf("KVM_EXIT_INTERNAL_ERROR (suberror %u)", run->internal.suberror);
        vcpu_fail(v, why);
        break;
    }
    default: {
        g_autofree char *why = g_strdup_printf("unhandled KVM exit %u", run->exit_reason);
        vcpu_fail(v, why);
        break;
    }
    }
}

static void vcpu_run_once(KvmVcpu *v)
{
    int rc = ioctl(v->fd, KVM_RUN, 0);
    int err = errno;
    __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
    v->io_pending = false; /* KVM completed it on entry, whatever happened next */
    if (rc < 0) {
        if (err != EINTR && err != EAGAIN) {
            g_autofree char *why = g_strdup_printf("KVM_RUN: %s", g_strerror(err));
            vcpu_fail(v, why);
        }
        return;
    }
    vcpu_handle_exit(v);
}

/*
 * Before parking: an IN or an MMIO read is complete (its value in the register, RIP past
 * the instruction) only once KVM_RUN is entered again, and the state a stopped VM shows
 * (KVM_GET_REGS, migration) must not have half an instruction in it. Re-enter with
 * immediate_exit: KVM finishes the instruction and returns at once. A string I/O
 * instruction may exit again for its next chunk; handle that too.
 */
static void vcpu_complete_io(KvmVcpu *v)
{
    while (v->io_pending && !v->guest_stopped) {
        __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELAXED);
        vcpu_run_once(v);
    }
}

static void *vcpu_thread(void *opaque)
{
    KvmVcpu *v = opaque;
    KvmState *s = v->s;
    sigset_t set;

    vcpu_thread_run = v->run;
    sigemptyset(&set);
    sigaddset(&set, SIG_KICK);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);

    g_mutex_lock(&s->lock);
    while (!s->quit) {
        if (!s->run && v->io_pending && !v->guest_stopped) {
            g_mutex_unlock(&s->lock);
            vcpu_complete_io(v);
            g_mutex_lock(&s->lock);
            continue;
        }
        if (!s->run || v->guest_stopped) {
            v->parked = true;
            g_cond_broadcast(&s->cond);
            g_cond_wait(&s->cond, &s->lock);
            continue;
        }
        v->parked = false;
        g_mutex_unlock(&s->lock);
        vcpu_run_once(v);
        g_mutex_lock(&s->lock);
    }
    v->parked = true;
    g_cond_broadcast(&s->cond);
    g_mutex_unlock(&s->lock);
    vcpu_thread_run = NULL;
    return NULL;
}

/* --- control -------------------------------------------------------------------------- */

static void kick_all_locked(KvmState *s)
{
    for (unsigned i = 0; i < s->ncpus; i++) {
        KvmVcpu *v = &s->vcpus[i];
        if (v->thread_started && !v->parked) {
            pthread_kill(v->thread, SIG_KICK);
        }
    }
    g_cond_broadcast(&s->cond);
}

static bool all_parked_locked(KvmState *s)
{
    for (unsigned i = 0; i < s->ncpus; i++) {
        if (s->vcpus[i].thread_started && !s->vcpus[i].parked) {
            return false;
        }
    }
    return true;
}

/* Wait until no vCPU is in KVM_RUN. The caller normally holds the big lock, which a vCPU
 * may need to finish the exit it is handling: drop it while waiting (QEMU does too). */
static void wait_all_parked(KvmState *s)
{
    bool held = bql_locked();
    if (held) {
        bql_unlock();
    }
    g_mutex_lock(&s->lock);
    while (!all_parked_locked(s)) {
        /* A kick can land between a vCPU's check of `run` and KVM_RUN only as
         * immediate_exit; re-kick periodically anyway in case of a stray EINTR path. */
        gint64 end = g_get_monotonic_time() + 50 * G_TIME_SPAN_MILLISECOND;
        if (!g_cond_wait_until(&s->cond, &s->lock, end)) {
            kick_all_locked(s);
        }
    }
    g_mutex_unlock(&s->lock);
    if (held) {
        bql_lock();
    }
}

void kvm_vcpus_resume(KvmState *s)
{
    g_mutex_lock(&s->lock);
    s->run = true;
    g_cond_broadcast(&s->cond);
    g_mutex_unlock(&s->lock);
}

void kvm_vcpus_pause(KvmState *s)
{
    g_mutex_lock(&s->lock);
    s->run = false;
    kick_all_locked(s);
    g_mutex_unlock(&s->lock);
    wait_all_parked(s);
}

void kvm_vcpus_destroy(KvmState *s)
{
    if (!s->vcpus) {
        return;
    }
    g_mutex_lock(&s->lock);
    s->quit = true;
    kick_all_locked(s);
    g_mutex_unlock(&s->lock);
    wait_all_parked(s);
    for (unsigned i = 0; i < s->ncpus; i++) {
        KvmVcpu *v = &s->vcpus[i];
        if (v->thread_started) {
            pthread_join(v->thread, NULL);
        }
        if (v->run) {
            munmap(v->run, s->run_mmap_size);
        }
        if (v->fd >= 0) {
            close(v->fd);
        }
        g_free(v->cpuid);
    }
    g_free(s->vcpus);
    s->vcpus = NULL;
}

/* --- creation ------------------------------------------------------------------------- */

static bool vcpu_fail_setup(GError **errp, unsigned index, int err, const char *what)
{
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "-accel kvm: vCPU %u: %s: %s", index,
                what, g_strerror(err));
    return false;
}

/* The LAPIC's LINT0 takes the PIC's output (ExtINT) and LINT1 is NMI, as firmware leaves
 * them on a PC, so the guest has its legacy timer interrupt until it sets up the IOAPIC. */
static bool vcpu_init_lapic(KvmVcpu *v, GError **errp)
{
    struct kvm_lapic_state lapic;
    int rc = kvm_vcpu_ioctl(v, KVM_GET_LAPIC, &lapic);
    if (rc < 0) {
        return vcpu_fail_setup(errp, v->index, -rc, "KVM_GET_LAPIC");
    }
    uint32_t lvt0 = APIC_MODE_EXTINT, lvt1 = APIC_MODE_NMI;
    memcpy(&lapic.regs[APIC_LVT0], &lvt0, 4);
    memcpy(&lapic.regs[APIC_LVT1], &lvt1, 4);
    rc = kvm_vcpu_ioctl(v, KVM_SET_LAPIC, &lapic);
    if (rc < 0) {
        return vcpu_fail_setup(errp, v->index, -rc, "KVM_SET_LAPIC");
    }
    return true;
}

/*
 * XCR0 starts as the full set of user states CPUID offers (kvm-cpuid.c), which is what
 * Linux writes with XSETBV anyway. Then CPUID.0xD.0.EBX (the XSAVE size for the current
 * XCR0, which KVM keeps in step with its copy of XCR0) reads the same before and after
 * the guest's XSETBV, even under an outer hypervisor that lets XSETBV through without
 * telling KVM (QEMU TCG's nested SVM in the lab does): otherwise Linux sees 576 bytes for
 * x87+SSE+AVX, warns "XSAVE consistency problem" and turns XSAVE off.
 */
static bool vcpu_init_xcr0(KvmVcpu *v, const struct kvm_cpuid2 *cpuid, GError **errp)
{
    uint64_t xcr0 = 0;
    for (unsigned i = 0; i < cpuid->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &cpuid->entries[i];
        if (e->function == 0xd && e->index == 0) {
            xcr0 = (uint64_t)e->edx << 32 | e->eax;
        }
    }
    if (!xcr0 || ioctl(v->s->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) <= 0) {
        return true; /* no XSAVE: nothing to keep consistent */
    }
    struct kvm_xcrs xcrs = {.nr_xcrs = 1, .xcrs = {{.xcr = 0, .value = xcr0}}};
    int rc = kvm_vcpu_ioctl(v, KVM_SET_XCRS, &xcrs);
    if (rc < 0) {
        return vcpu_fail_setup(errp, v->index, -rc, "KVM_SET_XCRS");
    }
    return true;
}

static bool vcpu_init(KvmState *s, KvmVcpu *v, GError **errp)
{
    v->fd = ioctl(s->vm_fd, KVM_CREATE_VCPU, (unsigned long)v->index);
    if (v->fd < 0) {
        return vcpu_fail_setup(errp, v->index, errno, "KVM_CREATE_VCPU");
    }
    void *run = mmap(NULL, s->run_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (run == MAP_FAILED) {
        return vcpu_fail_setup(errp, v->index, errno, "mmap of kvm_run");
    }
    v->run = run;

    v->cpuid = kvm_cpuid_for_vcpu(s->supported_cpuid, v->index, s->ncpus);
    int rc = kvm_vcpu_ioctl(v, KVM_SET_CPUID2, v->cpuid);
    if (rc < 0) {
        return vcpu_fail_setup(errp, v->index, -rc, "KVM_SET_CPUID2");
    }
    if (!vcpu_init_xcr0(v, v->cpuid, errp)) {
        return false;
    }
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[1];
    } msrs = {.hdr.nmsrs = 1,
              .e = {{.index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING}}};
    kvm_vcpu_ioctl(v, KVM_SET_MSRS, &msrs); /* a hint only: fine if refused */
    return vcpu_init_lapic(v, errp);
}

bool kvm_vcpus_create(KvmState *s, GError **errp)
{
    kick_handler_install();
    s->vcpus = g_new0(KvmVcpu, s->ncpus);
    for (unsigned i = 0; i < s->ncpus; i++) {
        s->vcpus[i] = (KvmVcpu){.s = s, .index = i, .fd = -1, .parked = true};
    }
    for (unsigned i = 0; i < s->ncpus; i++) {
        if (!vcpu_init(s, &s->vcpus[i], errp)) {
            return false;
        }
    }
    /* Threads start with every signal blocked but the kick (they unblock it). */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (unsigned i = 0; i < s->ncpus; i++) {
        KvmVcpu *v = &s->vcpus[i];
        int err = pthread_create(&v->thread, NULL, vcpu_thread, v);
        if (err) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            return vcpu_fail_setup(errp, i, err, "pthread_create");
        }
        v->thread_started = true;
        g_autofree char *name = g_strdup_printf("tern-vcpu%u", i);
        pthread_setname_np(v->thread, name);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return true;
}

/* --- boot state ----------------------------------------------------------------------- */

static void flat_segment(struct kvm_segment *seg, uint16_t selector, uint8_t type)
{
    *seg = (struct kvm_segment){
        .base = 0,
        .limit = 0xffffffff,
        .selector = selector,
        .type = type,
        .present = 1,
        .dpl = 0,
        .db = 1,
        .s = 1,
        .g = 1,
    };
}

bool kvm_vcpu_set_boot_entry(KvmVcpu *v, const KvmBootEntry *e, GError **errp)
{
    struct kvm_sregs sregs;
    int rc = kvm_vcpu_ioctl(v, KVM_GET_SREGS, &sregs);
    if (rc < 0) {
        return vcpu_fail_setup(errp, v->index, -rc, "KVM_GET_SREGS");
    }
    flat_segment(&sregs.cs, KVM_BOOT_CS, 0xb); /* execute/read, accessed */
    flat_segment(&sregs.ds, KVM_BOOT_DS, 0x3); /* read/write, accessed */
    sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
    sregs.gdt.base = e->gdt_base;
    sregs.gdt.limit = e->gdt_limit;
    sregs.cr0 = 0x11; /* PE, ET */
    sregs.cr3 = 0;
    sregs.cr4 = 0;
    sregs.efer = 0;
    rc = kvm_vcpu_ioctl(v, KVM_SET_SREGS, &sregs);
    if (rc < 0) {
        return vcpu_fail_setup(errp, v->index, -rc, "KVM_SET_SREGS");
    }
    struct kvm_regs regs = {.rip = e->eip, .rsi = e->esi, .rflags = 0x2};
    rc = kvm_vcpu_ioctl(v, KVM_SET_REGS, &regs);
    if (rc < 0) {
        return vcpu_fail_setup(errp, v->index, -rc, "KVM_SET_REGS");
    }
    struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
    rc = kvm_vcpu_ioctl(v, KVM_SET_FPU, &fpu);
    if (rc < 0) {
        return vcpu_fail_setup(errp, v->index, -rc, "KVM_SET_FPU");
    }
    return true;
}
