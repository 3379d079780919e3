/*
 * acpi-pm.c: the ACPI fixed hardware the FADT (acpi-build.c) points at, on I/O ports:
 *  - PM1a event block: status (write 1 to clear) and enable; nothing ever sets a status
 *    bit, so the SCI (IRQ 9) stays low;
 *  - PM1a control: SCI_EN reads 1 (always in ACPI mode, no SMI_CMD); writing SLP_EN
 *    with SLP_TYP = \_S5's value powers the machine off;
 *  - the PM timer, 3.579545 MHz, 32 bits, on the virtual clock (stops while paused);
 *  - the reset register: writing ACPI_RESET_VALUE resets.
 * Accesses may be any width; each byte is handled on its own.
 *
 * Migration ("acpi-pm" section): the three registers and the PM timer's count, which the
 * destination continues from (its virtual clock starts elsewhere).
 */
#include "hw/i386/pc-legacy.h"
#include "hw/i386/pc-power.h"
#include "hw/i386/x86-tables.h"
#include "hw/memory.h"
#include "main-loop.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"

#define PM_TIMER_HZ 3579545ULL
#define PM1_CNT_SCI_EN 0x0001
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_EN (1u << 13)

struct AcpiPm {
    MemoryRegion io;
    uint16_t sts, en, cnt;
    uint32_t timer_offset; /* added to the virtual clock's count (after a migration) */
    uint32_t timer;        /* the count at save */
    VMStateEntry *vmse;
};

static uint32_t pm_timer_raw(void)
{
    uint64_t ns = clock_get_ns(TERN_CLOCK_VIRTUAL);
    /* ticks = ns * f / 1e9, without overflowing 64 bits */
    uint64_t ticks =
        (ns / NS_PER_SEC) * PM_TIMER_HZ + (ns % NS_PER_SEC) * PM_TIMER_HZ / NS_PER_SEC;
    return (uint32_t)ticks;
}

static uint32_t pm_timer(AcpiPm *pm)
{
    return pm_timer_raw() + pm->timer_offset;
}

static bool pm_pre_save(void *opaque, GError **errp)
{
    AcpiPm *pm = opaque;
    pm->timer = pm_timer(pm);
    return true;
}

static bool pm_post_load(void *opaque, int version_id, GError **errp)
{
    AcpiPm *pm = opaque;
    pm->timer_offset = pm->timer - pm_timer_raw();
    return true;
}

static const VMStateField pm_fields[] = {
    VMSTATE_UINT16(sts, AcpiPm),   VMSTATE_UINT16(en, AcpiPm), VMSTATE_UINT16(cnt, AcpiPm),
    VMSTATE_UINT32(timer, AcpiPm), VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_acpi_pm = {
    .name = "acpi-pm",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pm_fields,
    .pre_save = pm_pre_save,
    .post_load = pm_post_load,
};

static uint8_t pm_read_byte(AcpiPm *pm, unsigned off)
{
    switch (off) {
    case 0:
    case 1:
        return pm->sts >> (8 * off);
    case 2:
    case 3:
        return pm->en >> (8 * (off - 2));
    case 4:
    case 5:
        return (pm->cnt | PM1_CNT_SCI_EN) >> (8 * (off - 4));
    case 8:
    case 9:
    case 10:
    case 11:
        return pm_timer(pm) >> (8 * (off - 8));
    default:
        return 0;
    }
}

static void pm_write_byte(AcpiPm *pm, unsigned off, uint8_t v)
{
    switch (off) {
    case 0:
    case 1:
        pm->sts &= ~(v << (8 * off));
        break;
    case 2:
    case 3:
        pm->en = (pm->en & ~(0xff << (8 * (off - 2)))) | v << (8 * (off - 2));
        break;
    case 4:
        pm->cnt = (pm->cnt & 0xff00) | v;
        break;
    case 5: {
        /* SLP_TYP and SLP_EN both live in the high byte. */
        uint16_t cnt = (pm->cnt & 0x00ff) | v << 8;
        unsigned typ = (cnt >> PM1_CNT_SLP_TYP_SHIFT) & 7;
        pm->cnt = cnt & ~PM1_CNT_SLP_EN; /* SLP_EN is write-only */
        if ((cnt & PM1_CNT_SLP_EN) && typ == ACPI_SLP_TYP_S5) {
            pc_power_request(PC_POWER_OFF);
        }
        break;
    }
    case ACPI_RESET_REG - ACPI_PM_BASE:
        if (v == ACPI_RESET_VALUE) {
            pc_power_request(PC_POWER_RESET);
        }
        break;
    default:
        break;
    }
}

static uint64_t pm_io_read(void *opaque, uint64_t offset, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)pm_read_byte(opaque, offset + i) << (8 * i);
    }
    return v;
}

static void pm_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        pm_write_byte(opaque, offset + i, value >> (8 * i));
    }
}

static const MemoryRegionOps pm_ops = {
    .read = pm_io_read,
    .write = pm_io_write,
};

AcpiPm *acpi_pm_init(void)
{
    AcpiPm *pm = g_new0(AcpiPm, 1);
    memory_region_init(&pm->io, ADDR_SPACE_IO, "acpi-pm", ACPI_PM_LEN, &pm_ops, pm);
    memory_region_map(&pm->io, ACPI_PM_BASE);
    pm->vmse = vmstate_register(VMSTATE_INSTANCE_ID_ANY, &vmstate_acpi_pm, pm);
    return pm;
}

void acpi_pm_free(AcpiPm *pm)
{
    if (pm) {
        vmstate_unregister(pm->vmse);
        memory_region_unmap(&pm->io);
        g_free(pm);
    }
}
