/*
 * pc-legacy.h: the legacy PC devices behind pc_legacy_devices_init() (pc.h), for tests
 * that build them one by one.
 */
#ifndef TERN_HW_I386_PC_LEGACY_H
#define TERN_HW_I386_PC_LEGACY_H

#include <glib.h>
#include <stdint.h>

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
