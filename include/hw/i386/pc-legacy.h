/*
 * pc-legacy.h: the legacy PC devices (hw/i386/pc-legacy.c), all at once for the board
 * and one by one for tests.
 */
#ifndef TERN_HW_I386_PC_LEGACY_H
#define TERN_HW_I386_PC_LEGACY_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "options.h"

/* 16550A UART at 0x3f8/IRQ 4 behind -serial, CMOS/RTC, port 0x80, and the other legacy
 * ports Linux probes. */
bool pc_legacy_devices_init(TernConfig *c, GError **errp);

/* Undo pc_legacy_devices_init(): close the serial backend (a server's socket file goes),
 * unmap the ports. */
void pc_legacy_devices_destroy(void);
/* The UART to its power-on state (system reset); the RTC keeps its time, as on a PC. */
void pc_legacy_devices_reset(void);

/* hw/i386/cmos.c: RTC + CMOS RAM at 0x70/0x71. */
typedef struct Cmos Cmos;
Cmos *cmos_init(uint64_t ram_below_4g, uint64_t ram_above_4g);
void cmos_free(Cmos *c);

/* hw/i386/acpi-pm.c: PM1a event/control, PM timer, reset register (x86-tables.h). */
typedef struct AcpiPm AcpiPm;
AcpiPm *acpi_pm_init(void);
void acpi_pm_free(AcpiPm *pm);

#endif
