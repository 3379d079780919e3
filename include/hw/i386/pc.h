/*
 * pc.h: the pieces of the x86 `pc` board. hw/i386/pc.c assembles them in this order:
 * RAM -> accelerator -> PCI host -> legacy devices -> -device models -> (KVM) boot loader.
 */
#ifndef TERN_HW_I386_PC_H
#define TERN_HW_I386_PC_H

#include <glib.h>
#include <stdbool.h>
#include "options.h"

/* 32-bit PCI window: from the end of low RAM (at most 0xE0000000) to the IOAPIC. */
#define PC_RAM_BELOW_4G_MAX 0xE0000000ULL
#define PC_PCI_HOLE_END 0xFEC00000ULL

bool pc_machine_init(TernConfig *c, GError **errp);
/* The board's own devices (fw_cfg) to their power-on state; then freed at exit. Both
 * do nothing when no pc board was built. */
void pc_machine_reset(void);
void pc_machine_destroy(void);

/* accel/kvm-all.c: the VM, in-kernel irqchip and PIT, RAM slots, vCPU threads (which
 * run only while the VM runs), and the AccelOps for interrupts and ioeventfd. */
bool kvm_accel_init(TernConfig *c, GError **errp);
void kvm_accel_destroy(void);

/* hw/i386/x86-boot.c: load a bzImage, initrd and command line (Linux boot protocol),
 * write e820 and the MP table, and set the boot vCPU's registers. */
bool x86_load_linux(TernConfig *c, GError **errp);

/* hw/i386/pc-legacy.c: 16550A UART at 0x3f8/IRQ 4 behind -serial, CMOS/RTC, port 0x80,
 * and the other legacy ports Linux probes. */
bool pc_legacy_devices_init(TernConfig *c, GError **errp);

/* qtest.c: the qtest accelerator; connects to -qtest's socket (or uses stdio), makes the
 * virtual clock manual and serves the protocol on the main loop. tern exits (exit code
 * 0) when the test closes the connection. */
bool qtest_accel_init(TernConfig *c, GError **errp);
void qtest_accel_destroy(void);
bool qtest_enabled(void);

#endif
