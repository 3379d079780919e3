/*
 * pc.h: the pieces of the x86 `pc` board. hw/i386/pc.c assembles them in this order:
 * RAM -> accelerator -> PCI host -> legacy devices -> -device models -> (KVM) boot loader.
 * Each piece has its header: accel/kvm.h and qtest.h (the accelerators),
 * hw/i386/pc-legacy.h (legacy devices), hw/i386/x86-boot.h (the boot loader).
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

#endif
