/*
 * kvm.h: the KVM accelerator (accel/): starting and ending it, the boot vCPU's entry
 * state and a few facts about the VM.
 */
#ifndef TERN_ACCEL_KVM_H
#define TERN_ACCEL_KVM_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "options.h"

/* accel/kvm-all.c: the VM, in-kernel irqchip and PIT, RAM slots, vCPU threads (which
 * run only while the VM runs), and the AccelOps for interrupts and ioeventfd. */
bool kvm_accel_init(TernConfig *c, GError **errp);
void kvm_accel_destroy(void);

/*
 * Entry state of the boot vCPU for the Linux 32-bit boot protocol: protected mode, paging
 * off, interrupts off, flat 4 GiB segments (code selector 0x10, data 0x18) described by
 * a GDT in guest memory, %esi pointing at boot_params, every other register zero.
 */
typedef struct KvmBootEntry {
    uint32_t eip;
    uint32_t esi;
    uint32_t gdt_base;
    uint16_t gdt_limit;
} KvmBootEntry;

#define KVM_BOOT_CS 0x10
#define KVM_BOOT_DS 0x18

/* Load the boot vCPU's registers (before the VM first runs). */
bool kvm_set_boot_entry(const KvmBootEntry *e, GError **errp);

/* True once kvm_accel_init() succeeded. */
bool kvm_enabled(void);
/* Number of vCPUs (APIC ids 0..n-1); 0 without KVM. */
unsigned kvm_vcpu_count(void);

/* Guest-physical pages KVM keeps for itself (the real-mode TSS and identity map of
 * VMX); the board marks them reserved in e820. */
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000ULL
#define KVM_TSS_ADDR (KVM_IDENTITY_MAP_ADDR + 0x1000)
#define KVM_PRIVATE_SIZE 0x4000ULL

#endif
