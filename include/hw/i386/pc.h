/*
 * pc.h: the pieces of the x86 `pc` board. hw/i386/pc.c assembles them in this order:
 * RAM -> accelerator -> PCI host -> legacy devices -> -device models -> (KVM) boot loader.
 * The accelerators have their own headers: accel/kvm.h and qtest.h.
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

/* hw/i386/x86-boot.c: load a bzImage, initrd and command line (Linux boot protocol),
 * write e820 and the MP table, and set the boot vCPU's registers. */
bool x86_load_linux(TernConfig *c, GError **errp);

/* hw/i386/pc-legacy.c: 16550A UART at 0x3f8/IRQ 4 behind -serial, CMOS/RTC, port 0x80,
 * and the other legacy ports Linux probes. */
bool pc_legacy_devices_init(TernConfig *c, GError **errp);

#endif
