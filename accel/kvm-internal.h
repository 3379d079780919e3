/*
 * kvm-internal.h: the state shared by the KVM accelerator's files: kvm-all.c (the VM,
 * memory slots and their dirty log, interrupt routing, run-state hooks), kvm-vcpu.c
 * (vCPU threads and exits), kvm-cpuid.c (the CPUID table each vCPU sees), kvm-clock.c
 * (kvm-clock and the TSCs while the VM is stopped), and the migration state:
 * kvm-cpu-state.c (one section per vCPU) and kvm-vm-state.c (the in-kernel irqchip, PIT
 * and kvm-clock).
 */
#ifndef TERN_ACCEL_KVM_INTERNAL_H
#define TERN_ACCEL_KVM_INTERNAL_H

#include <glib.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct KvmState KvmState;
typedef struct KvmCpuState KvmCpuState;

typedef struct KvmVcpu {
    KvmState *s;
    unsigned index; /* also its APIC id */
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool thread_started;
    bool parked;        /* not in KVM_RUN and will not enter it until told; under s->lock */
    bool kick_pending;  /* under s->lock */
    bool guest_stopped; /* this vCPU asked for a shutdown/reset: never runs again */
    /* The last exit was I/O or MMIO: KVM finishes the instruction only on the next
     * KVM_RUN, so the vCPU re-enters (with immediate_exit) before it parks. vCPU thread. */
    bool io_pending;
    struct kvm_cpuid2 *cpuid; /* the table KVM_SET_CPUID2 gave it */
    uint64_t tsc;             /* IA32_TSC frozen with kvm-clock (KvmState.clock_saved) */
    bool tsc_valid;
    KvmCpuState *state; /* its migration section (kvm-cpu-state.c) */
} KvmVcpu;

struct KvmState {
    int kvm_fd;
    int vm_fd;
    int run_mmap_size;
    unsigned ncpus;
    KvmVcpu *vcpus;
    struct kvm_cpuid2 *supported_cpuid;

    /* vCPU run control: vCPUs run while `run` is set and `quit` is not. */
    GMutex lock;
    GCond cond;
    bool run;
    bool quit;

    /* kvm-clock while paused (KVM_GET_CLOCK at stop, KVM_SET_CLOCK at start), and with
     * it every vCPU's TSC (KvmVcpu.tsc). */
    struct kvm_clock_data clock;
    bool clock_saved;

    /* GSI routing: the default ISA/IOAPIC routes plus MSI routes from 24 up. */
    struct kvm_irq_routing_entry *routes;
    unsigned nroutes, routes_cap;
    GArray *free_gsis; /* int */
    int next_gsi;

    /* Migration: the MSRs this KVM can read and write (probed once), the XSAVE area
     * size, the dirty log's scratch bitmaps, the VM-wide section (kvm-vm-state.c). */
    uint32_t *msr_index;
    unsigned nmsr_index;
    uint32_t xsave_size;
    unsigned long *dirty_scratch;
    bool dirty_logging;
    struct KvmVmState *vm_state;
};

/* kvm-all.c */
int kvm_vm_ioctl(KvmState *s, unsigned long req, void *arg);
int kvm_vcpu_ioctl(KvmVcpu *v, unsigned long req, void *arg);
bool kvm_has_cap(KvmState *s, int cap);
/* The VM of this process, or NULL (white-box tests look inside through it). */
KvmState *kvm_state_get(void);

/* kvm-vcpu.c */
bool kvm_vcpus_create(KvmState *s, GError **errp);
/* Let every vCPU run / stop every vCPU and wait until none is inside KVM_RUN. */
void kvm_vcpus_resume(KvmState *s);
void kvm_vcpus_pause(KvmState *s);
void kvm_vcpus_destroy(KvmState *s);

/* kvm-clock.c: the guest's clocks stand still while the VM is stopped. freeze: after the
 * vCPUs parked, kvm-clock into KvmState.clock and each TSC into KvmVcpu.tsc, as of the
 * same instant. thaw: before they run again, both back (values a migration loaded, or
 * the frozen ones), consistent with each other. */
void kvm_clock_freeze(KvmState *s);
void kvm_clock_thaw(KvmState *s);
/* Move a vCPU's TSC by -cycles through its offset (KVM_VCPU_TSC_OFFSET); false when KVM
 * cannot. */
bool kvm_vcpu_tsc_offset_sub(KvmVcpu *v, int64_t cycles);
#define MSR_IA32_TSC 0x10
struct KvmBootEntry;
bool kvm_vcpu_set_boot_entry(KvmVcpu *v, const struct KvmBootEntry *e, GError **errp);

/* kvm-cpuid.c: the CPUID table for one vCPU (g_free it). */
struct kvm_cpuid2 *kvm_cpuid_for_vcpu(const struct kvm_cpuid2 *supported, unsigned index,
                                      unsigned ncpus);
struct kvm_cpuid2 *kvm_cpuid_get_supported(int kvm_fd, GError **errp);
/* The guest may run on this vCPU with `from` (another host's table for it): same vendor,
 * and every feature bit `from` offers is in `here`. Else false with the leaf named. */
bool kvm_cpuid_check_compatible(const struct kvm_cpuid2 *from, const struct kvm_cpuid2 *here,
                                GError **errp);

/* kvm-cpu-state.c: the "cpu" sections (instance = vCPU index). */
bool kvm_cpu_state_init(KvmState *s, GError **errp);
void kvm_cpu_state_destroy(KvmState *s);

/* kvm-vm-state.c: the "kvm" section, saved before the vCPUs': vCPU count, PICs, IOAPIC,
 * PIT and kvm-clock. */
void kvm_vm_state_init(KvmState *s);
void kvm_vm_state_destroy(KvmState *s);

/*
 * vmstate fields for the kernel's __u8/__u16/__u32/__u64 members (vmstate.h's macros
 * check the C type, and __u64 is `unsigned long long`, not uint64_t): the size is checked
 * at compile time instead.
 */
#define KVMS_SIZE_CHECK_(st, f, n) (0 * sizeof(char[sizeof(((st *)0)->f) == (n) ? 1 : -1]))
#define KVMS_FIELD_(f, st, t, n)                                                               \
    {                                                                                          \
        .name = #f, .type = (t), .offset = offsetof(st, f),                                    \
        .size = (n) + KVMS_SIZE_CHECK_(st, f, n)                                               \
    }
#define KVMS_U8(f, st) KVMS_FIELD_(f, st, VMS_UINT8, 1)
#define KVMS_U16(f, st) KVMS_FIELD_(f, st, VMS_UINT16, 2)
#define KVMS_U32(f, st) KVMS_FIELD_(f, st, VMS_UINT32, 4)
#define KVMS_U64(f, st) KVMS_FIELD_(f, st, VMS_UINT64, 8)
#define KVMS_U64_ARRAY(f, st)                                                                  \
    {                                                                                          \
        .name = #f, .type = VMS_UINT64, .shape = VMS_ARRAY, .offset = offsetof(st, f),         \
        .size = 8 + KVMS_SIZE_CHECK_(st, f[0], 8), .num = sizeof(((st *)0)->f) / 8             \
    }

#endif
