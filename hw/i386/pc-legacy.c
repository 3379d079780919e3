/*
 * pc-legacy.c: the legacy devices of the pc board: COM1 (16550A at 0x3f8, IRQ 4) behind
 * -serial, the CMOS/RTC, the ACPI PM registers, the POST/delay ports 0x80 and 0xed, and
 * a stand-in for the i8042 keyboard controller. The PIC, PIT and port 0x61 are in KVM.
 *
 * i8042: tern has no PS/2 devices. Its status port reads 0xff, which Linux takes for "no
 * controller" at once, and the FADT says there is no 8042; writing 0xfe (pulse reset) to
 * port 0x64 resets the machine, as Linux's keyboard-controller reboot expects.
 */
#include <string.h>
#include "hw/char/serial.h"
#include "hw/i386/acpi-pcihp.h"
#include "hw/i386/pc-legacy.h"
#include "hw/i386/pc-power.h"
#include "hw/i386/pc.h"
#include "hw/memory.h"

#define I8042_DATA 0x60
#define I8042_CMD 0x64
#define I8042_CMD_PULSE_RESET 0xfe

/* The board's legacy devices: one board per process. */
static struct {
    SerialState *com1;
    Cmos *cmos;
    AcpiPm *pm;
    AcpiPciHp *pcihp;
    MemoryRegion post, delay, i8042_data, i8042_cmd;
} legacy;

static uint64_t absent_read(void *opaque, uint64_t offset, unsigned size)
{
    return size == 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1;
}

static void ignore_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
}

static void i8042_cmd_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if ((value & 0xff) == I8042_CMD_PULSE_RESET) {
        pc_power_request(PC_POWER_RESET);
    }
}

static const MemoryRegionOps sink_ops = {.read = absent_read, .write = ignore_write};
static const MemoryRegionOps i8042_cmd_ops = {.read = absent_read, .write = i8042_cmd_write};

static void port_map(MemoryRegion *mr, const char *name, uint16_t port,
                     const MemoryRegionOps *ops)
{
    memory_region_init(mr, ADDR_SPACE_IO, name, 1, ops, NULL);
    memory_region_map(mr, port);
}

static void ram_split(uint64_t *below, uint64_t *above)
{
    const RamBlock *blocks;
    unsigned n = guest_ram_blocks(&blocks);
    *below = *above = 0;
    for (unsigned i = 0; i < n; i++) {
        *(blocks[i].gpa < (1ULL << 32) ? below : above) += blocks[i].size;
    }
}

bool pc_legacy_devices_init(TernConfig *c, GError **errp)
{
    pc_power_set_no_reboot(c->no_reboot);
    if (c->serial && strcmp(c->serial, "none") != 0) {
        Chardev *chr = chardev_open("-serial", c->serial, errp);
        if (!chr) {
            return false;
        }
        legacy.com1 = serial_init(SERIAL_COM1_BASE, SERIAL_COM1_IRQ, chr);
    }
    uint64_t below, above;
    ram_split(&below, &above);
    legacy.cmos = cmos_init(below, above);
    legacy.pm = acpi_pm_init();
    legacy.pcihp = acpi_pcihp_init();
    port_map(&legacy.post, "post", 0x80, &sink_ops);
    port_map(&legacy.delay, "io-delay", 0xed, &sink_ops);
    port_map(&legacy.i8042_data, "i8042-data", I8042_DATA, &sink_ops);
    port_map(&legacy.i8042_cmd, "i8042-cmd", I8042_CMD, &i8042_cmd_ops);
    return true;
}

void pc_legacy_devices_reset(void)
{
    if (legacy.com1) {
        serial_reset(legacy.com1);
    }
}

void pc_legacy_devices_destroy(void)
{
    serial_free(legacy.com1);
    cmos_free(legacy.cmos);
    acpi_pm_free(legacy.pm);
    acpi_pcihp_free(legacy.pcihp);
    memory_region_unmap(&legacy.post);
    memory_region_unmap(&legacy.delay);
    memory_region_unmap(&legacy.i8042_data);
    memory_region_unmap(&legacy.i8042_cmd);
    memset(&legacy, 0, sizeof(legacy));
}
