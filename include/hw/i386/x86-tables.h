/*
 * x86-tables.h: the low-memory layout tern writes in place of firmware (see
 * docs/x86-boot.md), and the writers of the tables that describe the machine to the
 * guest: the MP table (mptable.c) and the ACPI tables (acpi-build.c).
 */
#ifndef TERN_HW_I386_X86_TABLES_H
#define TERN_HW_I386_X86_TABLES_H

#include <stddef.h>
#include <stdint.h>

#define X86_GDT_ADDR 0x500
#define X86_BOOT_PARAMS_ADDR 0x7000
#define X86_CMDLINE_ADDR 0x20000
#define X86_CMDLINE_MAX 0x10000
#define X86_EBDA_START 0x9fc00 /* the last KiB below 640 KiB, reserved as a PC has it */
#define X86_LOW_RAM_END 0xa0000
#define X86_BIOS_START 0xe0000 /* reserved up to 1 MiB: the tables below live here */
#define X86_ACPI_ADDR 0xe0000  /* RSDP first (Linux scans 0xe0000-0xfffff for it) */
#define X86_ACPI_SIZE 0x10000
#define X86_MPTABLE_ADDR 0xf0000
#define X86_MPTABLE_SIZE 0x10000
#define X86_BIOS_END 0x100000
#define X86_KERNEL_ADDR 0x100000

/* ACPI fixed hardware on I/O ports (hw/i386/acpi-pm.c): PM1a event (status, enable),
 * PM1a control, the PM timer and the reset register; SCI on ISA IRQ 9. */
#define ACPI_PM_BASE 0x600
#define ACPI_PM1A_EVT (ACPI_PM_BASE + 0x0)
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1A_CNT (ACPI_PM_BASE + 0x4)
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR (ACPI_PM_BASE + 0x8)
#define ACPI_PM_TMR_LEN 4
#define ACPI_RESET_REG (ACPI_PM_BASE + 0xc)
#define ACPI_PM_LEN 0x10
#define ACPI_RESET_VALUE 0x06
#define ACPI_SCI_IRQ 9
#define ACPI_SLP_TYP_S5 5 /* what the DSDT's \_S5 tells the guest to write */
#define CMOS_CENTURY_INDEX 0x32

#define X86_IOAPIC_ADDR 0xfec00000u
#define X86_LAPIC_ADDR 0xfee00000u
#define X86_ISA_IRQS 16

/* Write the MP floating pointer and configuration table at `gpa` (host view `dst`, `room`
 * bytes): `ncpus` processors (APIC ids 0..n-1), the IOAPIC (id ncpus), buses PCI 0 and
 * ISA 1, identity-mapped ISA interrupts, the INTx of every PCI device present. Returns
 * the bytes used, 0 when it does not fit. */
size_t mptable_write(uint8_t *dst, size_t room, uint32_t gpa, unsigned ncpus);

/* Write RSDP (at `gpa`), RSDT, FADT, FACS, MADT and DSDT. Same conventions. */
size_t acpi_tables_write(uint8_t *dst, size_t room, uint32_t gpa, unsigned ncpus);

/* Byte sum complement for table checksums. */
uint8_t x86_table_checksum(const uint8_t *p, size_t len);

#endif
