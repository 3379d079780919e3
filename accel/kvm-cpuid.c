/*
 * kvm-cpuid.c: the CPUID table each vCPU sees: what KVM supports on this host, adjusted
 * so that an unmodified Linux guest finds a coherent machine:
 *  - leaf 1 ECX bit 31 (hypervisor): without it Linux ignores the KVM leaves, finds no
 *    kvm-clock and cannot calibrate its TSC;
 *  - APIC ids and the package topology (leaves 1, 4, 0xB, 0x80000008) match -smp, one
 *    core per vCPU in one package;
 *  - XSAVE (leaf 0xD) describes exactly the user state components we let the guest
 *    enable, with sizes that add up (else "XSAVE consistency problem");
 *  - the KVM paravirtual leaves 0x40000000/1 are present.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include "error.h"
#include "kvm-internal.h"

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT (1u << 28)
#define CPUID_7_EBX_MPX (1u << 14)
#define CPUID_D1_EAX_XSAVES (1u << 3)
#define CPUID_80000001_ECX_CMP_LEGACY (1u << 1)
#define CPUID_80000001_ECX_TOPOEXT (1u << 22)
#define XSTATE_MPX_MASK ((1ull << 3) | (1ull << 4))
#define XSAVE_LEGACY_AND_HEADER 576
#define KVM_FEATURE_MSI_EXT_DEST_ID_BIT 15

struct kvm_cpuid2 *kvm_cpuid_get_supported(int kvm_fd, GError **errp)
{
    for (unsigned n = 128; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
        c->nent = n;
        if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
            return c;
        }
        int err = errno;
        g_free(c);
        if (err != E2BIG) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "-accel kvm: KVM_GET_SUPPORTED_CPUID: %s", g_strerror(err));
            return NULL;
        }
    }
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                "-accel kvm: KVM_GET_SUPPORTED_CPUID: more than 4096 entries");
    return NULL;
}

/* Like strchr, a const table gives a mutable entry: callers that only read pass one. */
static struct kvm_cpuid_entry2 *cpuid_find(const struct kvm_cpuid2 *c, uint32_t fn,
                                           uint32_t idx)
{
    for (unsigned i = 0; i < c->nent; i++) {
        if (c->entries[i].function == fn &&
            (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
             c->entries[i].index == idx)) {
            return (struct kvm_cpuid_entry2 *)&c->entries[i];
        }
    }
    return NULL;
}

/* Drop every entry for which `drop` says so. */
static void cpuid_filter(struct kvm_cpuid2 *c,
                         bool (*drop)(const struct kvm_cpuid_entry2 *e, void *opaque),
                         void *opaque)
{
    unsigned out = 0;
    for (unsigned i = 0; i < c->nent; i++) {
        if (!drop(&c->entries[i], opaque)) {
            c->entries[out++] = c->entries[i];
        }
    }
    c->nent = out;
}

/* Bits needed to number n things (0 for 1). */
static unsigned id_bits(unsigned n)
{
    unsigned b = 0;
    while ((1u << b) < n) {
        b++;
    }
    return b;
}

static bool is_amd(const struct kvm_cpuid2 *c)
{
    struct kvm_cpuid_entry2 *e = cpuid_find(c, 0, 0);
    /* "AuthenticAMD" or "HygonGenuine" */
    return e && (e->ebx == 0x68747541 || e->ebx == 0x6f677948);
}

static void cpuid_set_topology(struct kvm_cpuid2 *c, unsigned index, unsigned ncpus)
{
    unsigned bits = id_bits(ncpus);
    struct kvm_cpuid_entry2 *e = cpuid_find(c, 1, 0);
    if (e) {
        e->ebx = (e->ebx & 0xffff) | (index << 24) | ((1u << bits) << 16);
        e->edx = ncpus > 1 ? e->edx | CPUID_1_EDX_HTT : e->edx & ~CPUID_1_EDX_HTT;
        e->ecx |= CPUID_1_ECX_HYPERVISOR;
    }
    /* Deterministic cache parameters: every cache private to its core but the last. */
    for (unsigned i = 0; i < c->nent; i++) {
        e = &c->entries[i];
        if (e->function == 4 && (e->eax & 0x1f)) {
            unsigned level = (e->eax >> 5) & 7;
            uint32_t sharing = level >= 3 ? (1u << bits) - 1 : 0;
            e->eax = (e->eax & 0x3fff) | (sharing << 14) | (((1u << bits) - 1) << 26);
        }
        if (e->function == 0xb) {
            e->edx = index;
            switch (e->index) {
            case 0: /* SMT level: one thread per core */
                e->eax = 0, e->ebx = 1, e->ecx = 0x100;
                break;
            case 1: /* core level: every vCPU a core of one package */
                e->eax = bits, e->ebx = ncpus, e->ecx = 0x201;
                break;
            default:
                e->eax = e->ebx = 0, e->ecx = e->index;
                break;
            }
        }
    }
    if (is_amd(c)) {
        e = cpuid_find(c, 0x80000001, 0);
        if (e) {
            e->ecx &= ~CPUID_80000001_ECX_TOPOEXT;
            e->ecx = ncpus > 1 ? e->ecx | CPUID_80000001_ECX_CMP_LEGACY
                               : e->ecx & ~CPUID_80000001_ECX_CMP_LEGACY;
        }
        e = cpuid_find(c, 0x80000008, 0);
        if (e) {
            e->ecx = (bits << 12) | (ncpus - 1);
        }
    }
}

/* Leaves we do not describe consistently: V2 extended topology (0x1f) and AMD's
 * TOPOEXT leaves; with them gone Linux uses 0xb / 0x80000008. Also XSAVE subleaves for
 * components the guest may not enable (see cpuid_set_xsave). */
static bool drop_unsupported(const struct kvm_cpuid_entry2 *e, void *opaque)
{
    uint64_t xcr0 = *(uint64_t *)opaque;
    if (e->function == 0x1f || e->function == 0x8000001d || e->function == 0x8000001e) {
        return true;
    }
    if (e->function == 0xd && e->index >= 2 && e->index < 64) {
        return !(xcr0 & (1ull << e->index));
    }
    return false;
}

/* The user state components we offer (all KVM supports but MPX, which Linux dropped),
 * and sizes computed from the very subleaves we pass on. Supervisor states (XSS) and
 * XSAVES are not offered: tern does not manage IA32_XSS. Returns the XCR0 mask. */
static uint64_t cpuid_set_xsave(struct kvm_cpuid2 *c)
{
    struct kvm_cpuid_entry2 *d0 = cpuid_find(c, 0xd, 0);
    struct kvm_cpuid_entry2 *d1 = cpuid_find(c, 0xd, 1);
    if (!d0) {
        return 0;
    }
    uint64_t xcr0 = ((uint64_t)d0->edx << 32 | d0->eax) & ~XSTATE_MPX_MASK;
    uint32_t size = XSAVE_LEGACY_AND_HEADER;
    for (unsigned i = 2; i < 64; i++) {
        struct kvm_cpuid_entry2 *sub = cpuid_find(c, 0xd, i);
        if (!(xcr0 & (1ull << i))) {
            continue;
        }
        if (!sub || sub->eax == 0 || (sub->ecx & 1)) {
            xcr0 &= ~(1ull << i); /* no layout, or a supervisor component */
            continue;
        }
        size = MAX(size, sub->ebx + sub->eax);
    }
    d0->eax = (uint32_t)xcr0;
    d0->edx = xcr0 >> 32;
    d0->ebx = size; /* KVM keeps EBX in step with the guest's XCR0 at run time */
    d0->ecx = size;
    if (d1) {
        d1->eax &= ~CPUID_D1_EAX_XSAVES;
        d1->ebx = 0;
        d1->ecx = d1->edx = 0;
    }
    struct kvm_cpuid_entry2 *l7 = cpuid_find(c, 7, 0);
    if (l7) {
        l7->ebx &= ~CPUID_7_EBX_MPX;
    }
    return xcr0;
}

static void cpuid_set_kvm_leaves(struct kvm_cpuid2 *c, unsigned cap)
{
    struct kvm_cpuid_entry2 *sig = cpuid_find(c, 0x40000000, 0);
    struct kvm_cpuid_entry2 *feat = cpuid_find(c, 0x40000001, 0);
    if (!sig && c->nent < cap) {
        sig = &c->entries[c->nent++];
        *sig = (struct kvm_cpuid_entry2){.function = 0x40000000};
    }
    if (sig) {
        /* "KVMKVMKVM\0\0\0" */
        sig->eax = MAX(sig->eax, 0x40000001);
        sig->ebx = 0x4b4d564b;
        sig->ecx = 0x564b4d56;
        sig->edx = 0x4d;
    }
    if (feat) {
        /* Needs the x2APIC API enabled for routing; not worth it below 256 vCPUs. */
        feat->eax &= ~(1u << KVM_FEATURE_MSI_EXT_DEST_ID_BIT);
    }
}

struct kvm_cpuid2 *kvm_cpuid_for_vcpu(const struct kvm_cpuid2 *supported, unsigned index,
                                      unsigned ncpus)
{
    unsigned cap = supported->nent + 1;
    size_t bytes = sizeof(*supported) + supported->nent * sizeof(supported->entries[0]);
    struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + cap * sizeof(c->entries[0]));
    memcpy(c, supported, bytes);

    uint64_t xcr0 = cpuid_set_xsave(c);
    cpuid_filter(c, drop_unsupported, &xcr0);
    cpuid_set_topology(c, index, ncpus);
    cpuid_set_kvm_leaves(c, cap);
    return c;
}

/* --- migration ------------------------------------------------------------------------ */

enum { R_EAX, R_EBX, R_ECX, R_EDX };

static uint32_t cpuid_reg(const struct kvm_cpuid_entry2 *e, int reg)
{
    switch (reg) {
    case R_EAX:
        return e->eax;
    case R_EBX:
        return e->ebx;
    case R_ECX:
        return e->ecx;
    default:
        return e->edx;
    }
}

/*
 * The words of feature bits a guest decides on once, at boot: what it saw on the source
 * must all be there on the destination. Bits KVM itself flips at run time (OSXSAVE and
 * OSPKE follow CR4, APIC follows the APIC base) are left out.
 */
static const struct {
    uint32_t fn, idx;
    int reg;
    uint32_t dynamic;
} feature_words[] = {
    {1, 0, R_ECX, 1u << 27},   /* OSXSAVE follows CR4 */
    {1, 0, R_EDX, 1u << 9},    /* APIC follows the APIC base */
    {7, 0, R_EBX, 0},          /* structured extended features */
    {7, 0, R_ECX, 1u << 4},    /* OSPKE follows CR4 */
    {7, 0, R_EDX, 0},          /* */
    {0xd, 0, R_EAX, 0},        /* XCR0 components, low */
    {0xd, 0, R_EDX, 0},        /* XCR0 components, high */
    {0xd, 1, R_EAX, 0},        /* XSAVEOPT, XSAVEC, ... */
    {0x80000001, 0, R_ECX, 0}, /* extended features */
    {0x80000001, 0, R_EDX, 0}, /* */
    {0x40000001, 0, R_EAX, 0}, /* KVM paravirtual features */
};

bool kvm_cpuid_check_compatible(const struct kvm_cpuid2 *from, const struct kvm_cpuid2 *here,
                                GError **errp)
{
    static const char regname[] = "ABCD";
    const struct kvm_cpuid_entry2 *fv = cpuid_find(from, 0, 0), *hv = cpuid_find(here, 0, 0);
    if (!fv || !hv || fv->ebx != hv->ebx || fv->ecx != hv->ecx || fv->edx != hv->edx) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "leaf 0x0: the CPU vendor differs from the source's (migrate between "
                    "hosts with the same CPU vendor)");
        return false;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(feature_words); i++) {
        const struct kvm_cpuid_entry2 *a =
            cpuid_find(from, feature_words[i].fn, feature_words[i].idx);
        const struct kvm_cpuid_entry2 *b =
            cpuid_find(here, feature_words[i].fn, feature_words[i].idx);
        uint32_t had = a ? cpuid_reg(a, feature_words[i].reg) & ~feature_words[i].dynamic : 0;
        uint32_t have = b ? cpuid_reg(b, feature_words[i].reg) : 0;
        if (had & ~have) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "leaf 0x%x.%u E%cX: the guest saw feature bits 0x%08x on the source "
                        "that this host's KVM does not offer (migrate to a host with the same "
                        "CPU features)",
                        feature_words[i].fn, feature_words[i].idx,
                        regname[feature_words[i].reg], had & ~have);
            return false;
        }
    }
    return true;
}
