/*
 * kvm-internal.h: the state shared by the KVM accelerator's files: kvm-all.c (the VM,
 * memory slots, interrupt routing, run-state hooks), kvm-vcpu.c (vCPU threads and exits)
 * and kvm-cpuid.c (the CPUID table each vCPU sees).
 */
#ifndef TERN_ACCEL_KVM_INTERNAL_H
#define TERN_ACCEL_KVM_INTERNAL_H

#include <glib.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct KvmState KvmState;

typedef struct KvmVcpu {
    KvmState *s;
    unsigned index; /* also its APIC id */
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool thread_started;
    bool parked;       /* not in KVM_RUN and will not enter it until told; under s->lock */
    bool kick_pending; /* under s->lock */
    bool guest_stopped; /* this vCPU asked for a shutdown/reset: never runs again */
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

    /* kvm-clock while paused (KVM_GET_CLOCK at stop, KVM_SET_CLOCK at start). */
    struct kvm_clock_data clock;
    bool clock_saved;

    /* GSI routing: the default ISA/IOAPIC routes plus MSI routes from 24 up. */
    struct kvm_irq_routing_entry *routes;
    unsigned nroutes, routes_cap;
    GArray *free_gsis; /* int */
    int next_gsi;
};

/* kvm-all.c */
int kvm_vm_ioctl(KvmState *s, unsigned long req, void *arg);
int kvm_vcpu_ioctl(KvmVcpu *v, unsigned long req, void *arg);

/* kvm-vcpu.c */
bool kvm_vcpus_create(KvmState *s, GError **errp);
/* Let every vCPU run / stop every vCPU and wait until none is inside KVM_RUN. */
void kvm_vcpus_resume(KvmState *s);
void kvm_vcpus_pause(KvmState *s);
void kvm_vcpus_destroy(KvmState *s);
struct KvmBootEntry;
bool kvm_vcpu_set_boot_entry(KvmVcpu *v, const struct KvmBootEntry *e, GError **errp);

/* kvm-cpuid.c: the CPUID table for one vCPU (g_free it). */
struct kvm_cpuid2 *kvm_cpuid_for_vcpu(const struct kvm_cpuid2 *supported, unsigned index,
                                      unsigned ncpus);
struct kvm_cpuid2 *kvm_cpuid_get_supported(int kvm_fd, GError **errp);

#endif
