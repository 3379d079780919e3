/*
 * kvm-cpu-state.c: a vCPU's state in the migration stream, one "cpu" section per vCPU
 * (instance = vCPU index = APIC id).
 *
 * pre_save reads everything from KVM into a plain KvmCpuState (the VM is stopped, every
 * vCPU parked with no I/O left half done: kvm-vcpu.c); the table below declares it.
 * post_load writes it back in the order KVM needs, which is QEMU's
 * kvm_arch_put_registers order with the LAPIC slotted in before the TSC deadline:
 *
 *   CPUID -> TSC frequency -> regs -> XSAVE -> XCRs -> sregs (APIC base, EFER, CRs) ->
 *   MSRs -> MP state -> LAPIC -> TSC deadline -> pending events -> debug registers
 *
 * CPUID first because KVM checks XSAVE, XCR0 and MSR writes against it; the APIC base
 * (in sregs) before the LAPIC because x2APIC mode changes how KVM reads the LAPIC page;
 * the TSC deadline after the LAPIC because KVM ignores it unless the LAPIC timer is in
 * TSC-deadline mode; events last so nothing above clears an injected interrupt.
 * On the way out MP state is read first: KVM_GET_MP_STATE may act on a pending INIT/SIPI
 * and so change the registers read after it.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include "error.h"
#include "kvm-internal.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"

#define CPU_CPUID_MAX 256
#define CPU_XSAVE_MAX 16384
#define CPU_MSRS_MAX 64
#define KVM_XSAVE_LEGACY_SIZE 4096

#define MSR_IA32_TSC_DEADLINE 0x6e0

/*
 * The MSRs a vCPU carries across, when this host's KVM has them (probed at start-up).
 * The order is the order they are written back: ASYNC_PF_INT before ASYNC_PF_EN (which
 * may ask for delivery as an interrupt), the TSC before the kvm-clock MSRs that read it.
 * EFER and the APIC base travel in sregs; the TSC deadline separately (see above).
 */
static const struct {
    uint32_t index;
    const char *name;
} msr_candidates[] = {
    {0x174, "SYSENTER_CS"},
    {0x175, "SYSENTER_ESP"},
    {0x176, "SYSENTER_EIP"},
    {0xc0000081, "STAR"},
    {0xc0000082, "LSTAR"},
    {0xc0000083, "CSTAR"},
    {0xc0000084, "FMASK"},
    {0xc0000102, "KERNEL_GS_BASE"},
    {0xc0000103, "TSC_AUX"},
    {0x277, "PAT"},
    {0x1a0, "MISC_ENABLE"},
    {0x48, "SPEC_CTRL"},
    {0xc001011f, "VIRT_SPEC_CTRL"},
    {0xc0010117, "VM_HSAVE_PA"},
    {0x2ff, "MTRR_DEF_TYPE"},
    {0x250, "MTRR_FIX_64K"},
    {0x258, "MTRR_FIX_16K_80000"},
    {0x259, "MTRR_FIX_16K_A0000"},
    {0x268, "MTRR_FIX_4K_C0000"},
    {0x269, "MTRR_FIX_4K_C8000"},
    {0x26a, "MTRR_FIX_4K_D0000"},
    {0x26b, "MTRR_FIX_4K_D8000"},
    {0x26c, "MTRR_FIX_4K_E0000"},
    {0x26d, "MTRR_FIX_4K_E8000"},
    {0x26e, "MTRR_FIX_4K_F0000"},
    {0x26f, "MTRR_FIX_4K_F8000"},
    {0x200, "MTRR_PHYS_BASE0"},
    {0x201, "MTRR_PHYS_MASK0"},
    {0x202, "MTRR_PHYS_BASE1"},
    {0x203, "MTRR_PHYS_MASK1"},
    {0x204, "MTRR_PHYS_BASE2"},
    {0x205, "MTRR_PHYS_MASK2"},
    {0x206, "MTRR_PHYS_BASE3"},
    {0x207, "MTRR_PHYS_MASK3"},
    {0x208, "MTRR_PHYS_BASE4"},
    {0x209, "MTRR_PHYS_MASK4"},
    {0x20a, "MTRR_PHYS_BASE5"},
    {0x20b, "MTRR_PHYS_MASK5"},
    {0x20c, "MTRR_PHYS_BASE6"},
    {0x20d, "MTRR_PHYS_MASK6"},
    {0x20e, "MTRR_PHYS_BASE7"},
    {0x20f, "MTRR_PHYS_MASK7"},
    {0x3b, "TSC_ADJUST"},
    {MSR_IA32_TSC, "TSC"},
    {0x11, "KVM_WALL_CLOCK"},
    {0x12, "KVM_SYSTEM_TIME"},
    {0x4b564d00, "KVM_WALL_CLOCK_NEW"},
    {0x4b564d01, "KVM_SYSTEM_TIME_NEW"},
    {0x4b564d06, "KVM_ASYNC_PF_INT"},
    {0x4b564d02, "KVM_ASYNC_PF_EN"},
    {0x4b564d03, "KVM_STEAL_TIME"},
    {0x4b564d04, "KVM_PV_EOI_EN"},
    {0x4b564d05, "KVM_POLL_CONTROL"},
    {MSR_IA32_TSC_DEADLINE, "TSC_DEADLINE"},
};

static const char *msr_name(uint32_t index)
{
    for (size_t i = 0; i < G_N_ELEMENTS(msr_candidates); i++) {
        if (msr_candidates[i].index == index) {
            return msr_candidates[i].name;
        }
    }
    return "unknown";
}

typedef struct {
    uint32_t index;
    uint64_t value;
} CpuMsr;

typedef struct {
    uint32_t xcr;
    uint64_t value;
} CpuXcr;

struct KvmCpuState {
    KvmVcpu *v;
    VMStateEntry *entry;
    uint32_t ncpuid;
    struct kvm_cpuid_entry2 cpuid[CPU_CPUID_MAX];
    uint32_t tsc_khz;
    uint32_t mp_state;
    struct kvm_regs regs;
    uint32_t xsave_len;
    uint8_t xsave[CPU_XSAVE_MAX];
    uint32_t nxcrs;
    CpuXcr xcrs[KVM_MAX_XCRS];
    struct kvm_sregs sregs;
    uint32_t nmsrs;
    CpuMsr msrs[CPU_MSRS_MAX];
    uint8_t lapic[KVM_APIC_REG_SIZE];
    bool has_tsc_deadline;
    uint64_t tsc_deadline;
    struct kvm_vcpu_events events;
    struct kvm_debugregs debugregs;
};

/* --- talking to KVM ------------------------------------------------------------------- */

static bool cpu_ioctl(KvmCpuState *cs, unsigned long req, void *arg, const char *what,
                      GError **errp)
{
    int rc = kvm_vcpu_ioctl(cs->v, req, arg);
    if (rc < 0) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "vCPU %u: %s: %s", cs->v->index, what,
                    g_strerror(-rc));
        return false;
    }
    return true;
}

static bool msr_known(const KvmState *s, uint32_t index)
{
    for (unsigned i = 0; i < s->nmsr_index; i++) {
        if (s->msr_index[i] == index) {
            return true;
        }
    }
    return false;
}

typedef struct {
    struct kvm_msrs hdr;
    struct kvm_msr_entry e[CPU_MSRS_MAX];
} MsrBuf;

/* KVM_GET_MSRS / KVM_SET_MSRS answer how many entries they did, stopping at the first
 * one KVM refuses: name that one. */
static bool cpu_msrs(KvmCpuState *cs, unsigned long req, MsrBuf *b, GError **errp)
{
    bool set = req == KVM_SET_MSRS;
    int rc = kvm_vcpu_ioctl(cs->v, req, b);
    if (rc < 0 || (unsigned)rc < b->hdr.nmsrs) {
        uint32_t index = rc < 0 ? b->e[0].index : b->e[rc].index;
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "vCPU %u: %s: %s MSR 0x%x (%s)",
                    cs->v->index, set ? "KVM_SET_MSRS" : "KVM_GET_MSRS",
                    rc < 0 ? g_strerror(-rc)
                    : set  ? "KVM refused"
                           : "KVM cannot read",
                    index, msr_name(index));
        return false;
    }
    return true;
}

static bool cpu_get_msrs(KvmCpuState *cs, GError **errp)
{
    KvmState *s = cs->v->s;
    MsrBuf b = {0};
    for (unsigned i = 0; i < s->nmsr_index; i++) {
        if (s->msr_index[i] != MSR_IA32_TSC_DEADLINE) {
            b.e[b.hdr.nmsrs++].index = s->msr_index[i];
        }
    }
    if (b.hdr.nmsrs && !cpu_msrs(cs, KVM_GET_MSRS, &b, errp)) {
        return false;
    }
    cs->nmsrs = b.hdr.nmsrs;
    for (unsigned i = 0; i < b.hdr.nmsrs; i++) {
        cs->msrs[i] = (CpuMsr){b.e[i].index, b.e[i].data};
        /* The TSC as it was when kvm-clock stopped, not as it has run on since. */
        if (b.e[i].index == MSR_IA32_TSC && s->clock_saved && cs->v->tsc_valid) {
            cs->msrs[i].value = cs->v->tsc;
        }
    }
    cs->has_tsc_deadline = msr_known(s, MSR_IA32_TSC_DEADLINE);
    cs->tsc_deadline = 0;
    if (cs->has_tsc_deadline) {
        b = (MsrBuf){.hdr.nmsrs = 1, .e = {{.index = MSR_IA32_TSC_DEADLINE}}};
        if (!cpu_msrs(cs, KVM_GET_MSRS, &b, errp)) {
            return false;
        }
        cs->tsc_deadline = b.e[0].data;
    }
    return true;
}

static bool cpu_get_xsave(KvmCpuState *cs, GError **errp)
{
    KvmState *s = cs->v->s;
    if (!s->xsave_size) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "this host's KVM lacks KVM_CAP_XSAVE: tern cannot save the FPU state");
        return false;
    }
    unsigned long req = s->xsave_size > KVM_XSAVE_LEGACY_SIZE ? KVM_GET_XSAVE2 : KVM_GET_XSAVE;
    cs->xsave_len = s->xsave_size;
    return cpu_ioctl(cs, req, cs->xsave, "KVM_GET_XSAVE", errp);
}

static bool cpu_get_xcrs(KvmCpuState *cs, GError **errp)
{
    cs->nxcrs = 0;
    if (!kvm_has_cap(cs->v->s, KVM_CAP_XCRS)) {
        return true;
    }
    struct kvm_xcrs x = {0};
    if (!cpu_ioctl(cs, KVM_GET_XCRS, &x, "KVM_GET_XCRS", errp)) {
        return false;
    }
    for (unsigned i = 0; i < x.nr_xcrs && i < KVM_MAX_XCRS; i++) {
        cs->xcrs[cs->nxcrs++] = (CpuXcr){x.xcrs[i].xcr, x.xcrs[i].value};
    }
    return true;
}

static bool cpu_pre_save(void *opaque, GError **errp)
{
    KvmCpuState *cs = opaque;
    KvmVcpu *v = cs->v;
    struct kvm_mp_state mp;

    if (v->cpuid->nent > CPU_CPUID_MAX) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "vCPU %u: %u CPUID entries, tern migrates at most %d", v->index,
                    v->cpuid->nent, CPU_CPUID_MAX);
        return false;
    }
    cs->ncpuid = v->cpuid->nent;
    memcpy(cs->cpuid, v->cpuid->entries, cs->ncpuid * sizeof(cs->cpuid[0]));
    int khz = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
    cs->tsc_khz = khz > 0 ? khz : 0;
    if (!cpu_ioctl(cs, KVM_GET_MP_STATE, &mp, "KVM_GET_MP_STATE", errp)) {
        return false;
    }
    cs->mp_state = mp.mp_state;
    struct kvm_lapic_state lapic;
    if (!cpu_ioctl(cs, KVM_GET_REGS, &cs->regs, "KVM_GET_REGS", errp) ||
        !cpu_get_xsave(cs, errp) || !cpu_get_xcrs(cs, errp) ||
        !cpu_ioctl(cs, KVM_GET_SREGS, &cs->sregs, "KVM_GET_SREGS", errp) ||
        !cpu_get_msrs(cs, errp) ||
        !cpu_ioctl(cs, KVM_GET_LAPIC, &lapic, "KVM_GET_LAPIC", errp) ||
        !cpu_ioctl(cs, KVM_GET_VCPU_EVENTS, &cs->events, "KVM_GET_VCPU_EVENTS", errp) ||
        !cpu_ioctl(cs, KVM_GET_DEBUGREGS, &cs->debugregs, "KVM_GET_DEBUGREGS", errp)) {
        return false;
    }
    memcpy(cs->lapic, lapic.regs, sizeof(cs->lapic));
    return true;
}

/* --- load ----------------------------------------------------------------------------- */

static bool cpu_check_cpuid(void *opaque, int version_id, GError **errp)
{
    KvmCpuState *cs = opaque;
    g_autofree struct kvm_cpuid2 *from =
        g_malloc0(sizeof(*from) + cs->ncpuid * sizeof(from->entries[0]));
    from->nent = cs->ncpuid;
    memcpy(from->entries, cs->cpuid, cs->ncpuid * sizeof(cs->cpuid[0]));
    return kvm_cpuid_check_compatible(from, cs->v->cpuid, errp);
}

static bool cpu_check_xsave(void *opaque, int version_id, GError **errp)
{
    KvmCpuState *cs = opaque;
    uint32_t here = cs->v->s->xsave_size;
    if (cs->xsave_len > here) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "the source's XSAVE area is %u bytes, this host's KVM takes %u",
                    cs->xsave_len, here);
        return false;
    }
    return true;
}

static bool cpu_check_msrs(void *opaque, int version_id, GError **errp)
{
    KvmCpuState *cs = opaque;
    for (unsigned i = 0; i < cs->nmsrs; i++) {
        if (!msr_known(cs->v->s, cs->msrs[i].index)) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "MSR 0x%x (%s), which the guest had on the source, is not supported "
                        "by this host's KVM",
                        cs->msrs[i].index, msr_name(cs->msrs[i].index));
            return false;
        }
    }
    return true;
}

/* The guest keeps the CPUID it booted with: the source's table replaces ours. */
static bool cpu_put_cpuid(KvmCpuState *cs, GError **errp)
{
    KvmVcpu *v = cs->v;
    struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + cs->ncpuid * sizeof(c->entries[0]));
    c->nent = cs->ncpuid;
    memcpy(c->entries, cs->cpuid, cs->ncpuid * sizeof(cs->cpuid[0]));
    if (!cpu_ioctl(cs, KVM_SET_CPUID2, c, "KVM_SET_CPUID2", errp)) {
        g_free(c);
        return false;
    }
    g_free(v->cpuid);
    v->cpuid = c;
    return true;
}

/* A different TSC rate is not fatal (QEMU's choice too): the guest calibrated against
 * the old one, so its clock drifts unless KVM can scale. */
static void cpu_put_tsc_khz(KvmCpuState *cs)
{
    KvmVcpu *v = cs->v;
    int here = ioctl(v->fd, KVM_GET_TSC_KHZ, 0);
    if (!cs->tsc_khz || here <= 0 || (uint32_t)here == cs->tsc_khz) {
        return;
    }
    if (kvm_has_cap(v->s, KVM_CAP_TSC_CONTROL) &&
        ioctl(v->fd, KVM_SET_TSC_KHZ, (unsigned long)cs->tsc_khz) == 0) {
        return;
    }
    g_warning("kvm: vCPU %u: the guest's TSC ran at %u kHz on the source and runs at %d kHz "
              "here (this KVM cannot scale it)",
              v->index, cs->tsc_khz, here);
}

static bool cpu_put_xsave(KvmCpuState *cs, GError **errp)
{
    g_autofree uint8_t *buf = g_malloc0(MAX(cs->v->s->xsave_size, KVM_XSAVE_LEGACY_SIZE));
    memcpy(buf, cs->xsave, cs->xsave_len);
    return cpu_ioctl(cs, KVM_SET_XSAVE, buf, "KVM_SET_XSAVE", errp);
}

static bool cpu_put_xcrs(KvmCpuState *cs, GError **errp)
{
    if (!cs->nxcrs) {
        return true;
    }
    struct kvm_xcrs x = {.nr_xcrs = cs->nxcrs};
    for (unsigned i = 0; i < cs->nxcrs; i++) {
        x.xcrs[i] = (struct kvm_xcr){.xcr = cs->xcrs[i].xcr, .value = cs->xcrs[i].value};
    }
    return cpu_ioctl(cs, KVM_SET_XCRS, &x, "KVM_SET_XCRS", errp);
}

/* The TSC is also kept for the start (kvm-all.c), which sets it again together with
 * kvm-clock: until then it runs here while kvm-clock stands. */
static bool cpu_put_msrs(KvmCpuState *cs, GError **errp)
{
    MsrBuf b = {.hdr.nmsrs = cs->nmsrs};
    for (unsigned i = 0; i < cs->nmsrs; i++) {
        b.e[i] = (struct kvm_msr_entry){.index = cs->msrs[i].index, .data = cs->msrs[i].value};
        if (cs->msrs[i].index == MSR_IA32_TSC) {
            cs->v->tsc = cs->msrs[i].value;
            cs->v->tsc_valid = true;
        }
    }
    return !cs->nmsrs || cpu_msrs(cs, KVM_SET_MSRS, &b, errp);
}

static bool cpu_put_tsc_deadline(KvmCpuState *cs, GError **errp)
{
    if (!cs->has_tsc_deadline || !msr_known(cs->v->s, MSR_IA32_TSC_DEADLINE)) {
        return true;
    }
    MsrBuf b = {.hdr.nmsrs = 1,
                .e = {{.index = MSR_IA32_TSC_DEADLINE, .data = cs->tsc_deadline}}};
    return cpu_msrs(cs, KVM_SET_MSRS, &b, errp);
}

static bool cpu_put_events(KvmCpuState *cs, GError **errp)
{
    struct kvm_vcpu_events ev = cs->events;
    /* What KVM_GET_VCPU_EVENTS says is valid, minus what needs a capability tern does
     * not enable (exception payloads, triple fault). */
    ev.flags &= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
                KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM;
    return cpu_ioctl(cs, KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS", errp);
}

static bool cpu_post_load(void *opaque, int version_id, GError **errp)
{
    KvmCpuState *cs = opaque;
    struct kvm_mp_state mp = {.mp_state = cs->mp_state};
    struct kvm_lapic_state lapic;
    struct kvm_debugregs dbg = cs->debugregs;

    memcpy(lapic.regs, cs->lapic, sizeof(lapic.regs));
    dbg.flags = 0;
    if (!cpu_put_cpuid(cs, errp)) {
        return false;
    }
    cpu_put_tsc_khz(cs);
    return cpu_ioctl(cs, KVM_SET_REGS, &cs->regs, "KVM_SET_REGS", errp) &&
           cpu_put_xsave(cs, errp) && cpu_put_xcrs(cs, errp) &&
           cpu_ioctl(cs, KVM_SET_SREGS, &cs->sregs, "KVM_SET_SREGS", errp) &&
           cpu_put_msrs(cs, errp) &&
           cpu_ioctl(cs, KVM_SET_MP_STATE, &mp, "KVM_SET_MP_STATE", errp) &&
           cpu_ioctl(cs, KVM_SET_LAPIC, &lapic, "KVM_SET_LAPIC", errp) &&
           cpu_put_tsc_deadline(cs, errp) && cpu_put_events(cs, errp) &&
           cpu_ioctl(cs, KVM_SET_DEBUGREGS, &dbg, "KVM_SET_DEBUGREGS", errp);
}

/* --- the description ------------------------------------------------------------------ */

static const VMStateField cpuid_entry_fields[] = {
    KVMS_U32(function, struct kvm_cpuid_entry2), KVMS_U32(index, struct kvm_cpuid_entry2),
    KVMS_U32(flags, struct kvm_cpuid_entry2),    KVMS_U32(eax, struct kvm_cpuid_entry2),
    KVMS_U32(ebx, struct kvm_cpuid_entry2),      KVMS_U32(ecx, struct kvm_cpuid_entry2),
    KVMS_U32(edx, struct kvm_cpuid_entry2),      VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_cpuid_entry = {
    .name = "cpuid-entry",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = cpuid_entry_fields,
};

static const VMStateField segment_fields[] = {
    KVMS_U64(base, struct kvm_segment),
    KVMS_U32(limit, struct kvm_segment),
    KVMS_U16(selector, struct kvm_segment),
    KVMS_U8(type, struct kvm_segment),
    KVMS_U8(present, struct kvm_segment),
    KVMS_U8(dpl, struct kvm_segment),
    KVMS_U8(db, struct kvm_segment),
    KVMS_U8(s, struct kvm_segment),
    KVMS_U8(l, struct kvm_segment),
    KVMS_U8(g, struct kvm_segment),
    KVMS_U8(avl, struct kvm_segment),
    KVMS_U8(unusable, struct kvm_segment),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_segment = {
    .name = "segment",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = segment_fields,
};

static const VMStateField dtable_fields[] = {
    KVMS_U64(base, struct kvm_dtable),
    KVMS_U16(limit, struct kvm_dtable),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_dtable = {
    .name = "dtable",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = dtable_fields,
};

static const VMStateField xcr_fields[] = {
    VMSTATE_UINT32(xcr, CpuXcr),
    VMSTATE_UINT64(value, CpuXcr),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_xcr = {
    .name = "xcr",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = xcr_fields,
};

static const VMStateField msr_fields[] = {
    VMSTATE_UINT32(index, CpuMsr),
    VMSTATE_UINT64(value, CpuMsr),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_msr = {
    .name = "msr",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = msr_fields,
};

#define SEG(f) VMSTATE_STRUCT(sregs.f, KvmCpuState, vmstate_segment, struct kvm_segment)

static const VMStateField cpu_fields[] = {
    VMSTATE_UINT32(ncpuid, KvmCpuState),
    VMSTATE_STRUCT_VARRAY_UINT32(cpuid, KvmCpuState, ncpuid, vmstate_cpuid_entry,
                                 struct kvm_cpuid_entry2),
    VMSTATE_VALIDATE("cpuid", cpu_check_cpuid),
    VMSTATE_UINT32(tsc_khz, KvmCpuState),
    VMSTATE_UINT32(mp_state, KvmCpuState),

    KVMS_U64(regs.rax, KvmCpuState),
    KVMS_U64(regs.rbx, KvmCpuState),
    KVMS_U64(regs.rcx, KvmCpuState),
    KVMS_U64(regs.rdx, KvmCpuState),
    KVMS_U64(regs.rsi, KvmCpuState),
    KVMS_U64(regs.rdi, KvmCpuState),
    KVMS_U64(regs.rsp, KvmCpuState),
    KVMS_U64(regs.rbp, KvmCpuState),
    KVMS_U64(regs.r8, KvmCpuState),
    KVMS_U64(regs.r9, KvmCpuState),
    KVMS_U64(regs.r10, KvmCpuState),
    KVMS_U64(regs.r11, KvmCpuState),
    KVMS_U64(regs.r12, KvmCpuState),
    KVMS_U64(regs.r13, KvmCpuState),
    KVMS_U64(regs.r14, KvmCpuState),
    KVMS_U64(regs.r15, KvmCpuState),
    KVMS_U64(regs.rip, KvmCpuState),
    KVMS_U64(regs.rflags, KvmCpuState),

    VMSTATE_UINT32(xsave_len, KvmCpuState),
    VMSTATE_VBUFFER_UINT32(xsave, KvmCpuState, xsave_len),
    VMSTATE_VALIDATE("xsave", cpu_check_xsave),
    VMSTATE_UINT32(nxcrs, KvmCpuState),
    VMSTATE_STRUCT_VARRAY_UINT32(xcrs, KvmCpuState, nxcrs, vmstate_xcr, CpuXcr),

    SEG(cs),
    SEG(ds),
    SEG(es),
    SEG(fs),
    SEG(gs),
    SEG(ss),
    SEG(tr),
    SEG(ldt),
    VMSTATE_STRUCT(sregs.gdt, KvmCpuState, vmstate_dtable, struct kvm_dtable),
    VMSTATE_STRUCT(sregs.idt, KvmCpuState, vmstate_dtable, struct kvm_dtable),
    KVMS_U64(sregs.cr0, KvmCpuState),
    KVMS_U64(sregs.cr2, KvmCpuState),
    KVMS_U64(sregs.cr3, KvmCpuState),
    KVMS_U64(sregs.cr4, KvmCpuState),
    KVMS_U64(sregs.cr8, KvmCpuState),
    KVMS_U64(sregs.efer, KvmCpuState),
    KVMS_U64(sregs.apic_base, KvmCpuState),
    KVMS_U64_ARRAY(sregs.interrupt_bitmap, KvmCpuState),

    VMSTATE_UINT32(nmsrs, KvmCpuState),
    VMSTATE_STRUCT_VARRAY_UINT32(msrs, KvmCpuState, nmsrs, vmstate_msr, CpuMsr),
    VMSTATE_VALIDATE("msrs", cpu_check_msrs),

    VMSTATE_BUFFER(lapic, KvmCpuState),
    VMSTATE_BOOL(has_tsc_deadline, KvmCpuState),
    VMSTATE_UINT64(tsc_deadline, KvmCpuState),

    KVMS_U8(events.exception.injected, KvmCpuState),
    KVMS_U8(events.exception.nr, KvmCpuState),
    KVMS_U8(events.exception.has_error_code, KvmCpuState),
    KVMS_U8(events.exception.pending, KvmCpuState),
    KVMS_U32(events.exception.error_code, KvmCpuState),
    KVMS_U8(events.interrupt.injected, KvmCpuState),
    KVMS_U8(events.interrupt.nr, KvmCpuState),
    KVMS_U8(events.interrupt.soft, KvmCpuState),
    KVMS_U8(events.interrupt.shadow, KvmCpuState),
    KVMS_U8(events.nmi.injected, KvmCpuState),
    KVMS_U8(events.nmi.pending, KvmCpuState),
    KVMS_U8(events.nmi.masked, KvmCpuState),
    KVMS_U32(events.sipi_vector, KvmCpuState),
    KVMS_U32(events.flags, KvmCpuState),
    KVMS_U8(events.smi.smm, KvmCpuState),
    KVMS_U8(events.smi.pending, KvmCpuState),
    KVMS_U8(events.smi.smm_inside_nmi, KvmCpuState),
    KVMS_U8(events.smi.latched_init, KvmCpuState),

    KVMS_U64_ARRAY(debugregs.db, KvmCpuState),
    KVMS_U64(debugregs.dr6, KvmCpuState),
    KVMS_U64(debugregs.dr7, KvmCpuState),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_kvm_cpu = {
    .name = "cpu",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = cpu_fields,
    .pre_save = cpu_pre_save,
    .post_load = cpu_post_load,
};

/* --- set-up --------------------------------------------------------------------------- */

/* Which candidate MSRs this KVM reads (and so will write back): one at a time, since
 * KVM_GET_MSRS stops at the first it does not know. */
static void probe_msrs(KvmState *s)
{
    KvmVcpu *v = &s->vcpus[0];
    s->msr_index = g_new(uint32_t, G_N_ELEMENTS(msr_candidates));
    s->nmsr_index = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(msr_candidates); i++) {
        struct {
            struct kvm_msrs hdr;
            struct kvm_msr_entry e[1];
        } b = {.hdr.nmsrs = 1, .e = {{.index = msr_candidates[i].index}}};
        if (kvm_vcpu_ioctl(v, KVM_GET_MSRS, &b) == 1) {
            s->msr_index[s->nmsr_index++] = msr_candidates[i].index;
        }
    }
    G_STATIC_ASSERT(G_N_ELEMENTS(msr_candidates) <= CPU_MSRS_MAX);
}

bool kvm_cpu_state_init(KvmState *s, GError **errp)
{
    probe_msrs(s);
    int xsave2 = ioctl(s->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
    if (xsave2 > KVM_XSAVE_LEGACY_SIZE) {
        s->xsave_size = xsave2;
    } else if (kvm_has_cap(s, KVM_CAP_XSAVE)) {
        s->xsave_size = KVM_XSAVE_LEGACY_SIZE;
    }
    if (s->xsave_size > CPU_XSAVE_MAX) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-accel kvm: the XSAVE area is %u bytes, tern migrates at most %u",
                    s->xsave_size, CPU_XSAVE_MAX);
        return false;
    }
    for (unsigned i = 0; i < s->ncpus; i++) {
        KvmVcpu *v = &s->vcpus[i];
        v->state = g_new0(KvmCpuState, 1);
        v->state->v = v;
        v->state->entry = vmstate_register_named("cpu", i, &vmstate_kvm_cpu, v->state);
    }
    return true;
}

void kvm_cpu_state_destroy(KvmState *s)
{
    for (unsigned i = 0; s->vcpus && i < s->ncpus; i++) {
        KvmVcpu *v = &s->vcpus[i];
        if (v->state) {
            vmstate_unregister(v->state->entry);
            g_free(v->state);
            v->state = NULL;
        }
    }
    g_free(s->msr_index);
    s->msr_index = NULL;
    s->nmsr_index = 0;
}
