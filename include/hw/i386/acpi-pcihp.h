/*
 * acpi-pcihp.h: ACPI PCI hotplug as QEMU's pc machine (PIIX4 PM) has it, so a guest's
 * DSDT methods (acpi-build.c) and QEMU's own qtest programs (libqos) drive it the same:
 *
 *   0xae00 PCIU  up: slots with a device added since the guest last read (clears on read)
 *   0xae04 PCID  down: slots whose device the host asks the guest to release
 *   0xae08 B0EJ  write a slot bitmap: the guest ejects the lowest slot set (reads 0)
 *   0xae0c RMV   slots whose device may be removed
 *   0xae10 SEL   bus select (tern has one bus: 0; others read 0, eject nothing)
 *   0xae14 AIDX  acpi-index of a slot (tern assigns none: 0)
 * 32-bit accesses only. The GPE0 block at 0xafe0 (status, write 1 to clear; enable)
 * carries bit 1, "PCI hotplug", which raises the SCI (IRQ 9) while set and enabled; the
 * guest's \_GPE._E01 then notifies the slots from PCIU (bus check) and PCID (eject
 * request).
 *
 * Migration ("acpi-pcihp" section): the up/down bitmaps, the selector and GPE0.
 */
#ifndef TERN_HW_I386_ACPI_PCIHP_H
#define TERN_HW_I386_ACPI_PCIHP_H

#define ACPI_PCIHP_BASE 0xae00
#define ACPI_PCIHP_LEN 0x18
#define ACPI_PCIHP_UP 0x00
#define ACPI_PCIHP_DOWN 0x04
#define ACPI_PCIHP_EJECT 0x08
#define ACPI_PCIHP_RMV 0x0c
#define ACPI_PCIHP_SEL 0x10
#define ACPI_PCIHP_AIDX 0x14
#define ACPI_GPE0_BASE 0xafe0
#define ACPI_GPE0_LEN 4
#define ACPI_GPE_PCI_HOTPLUG 0x02 /* GPE 1 */

typedef struct AcpiPciHp AcpiPciHp;

/* Map the registers and become the PCI bus's hotplug handler (qdev.h). */
AcpiPciHp *acpi_pcihp_init(void);
void acpi_pcihp_free(AcpiPciHp *s);
/* System reset: unplugs still pending complete (QEMU's behaviour), GPE0 clears. */
void acpi_pcihp_reset(void);

#endif
