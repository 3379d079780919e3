/*
 * pci-host.c: the i440FX-style host bridge at 00.0 and configuration mechanism 1: the
 * driver writes an address to 0xCF8 (enable bit, bus, device/function, register) and
 * moves data through 0xCFC-0xCFF in bytes, words or dwords.
 *
 * The bridge's PAM registers (0x59-0x5F) decide, for each of 13 areas of
 * 0xC0000-0xFFFFF, whether CPU reads and writes reach RAM or the PCI bus (where tern has
 * no ROM: reads float high); its SMRAM register (0x72) opens the 0xA0000-0xBFFFF window
 * to RAM (D_OPEN). Power-on state as QEMU's: PAM 0 (all to PCI), SMRAM 0x02. tern's Linux
 * loader stands in for firmware and leaves what SeaBIOS leaves a kernel: PAM all RAM
 * read/write, SMRAM open. Under KVM the guest reaches RAM through KVM's mappings, not
 * through tern, so there the registers are fixed at that state (docs/qtest.md).
 */
#include <string.h>
#include "hw/memory.h"
#include "hw/pci.h"
#include "migration/savevm.h"
#include "pci-internal.h"

#define I440FX_PAM 0x59
#define I440FX_PAM_SIZE 7
#define I440FX_PAM_RE 1 /* per area nibble: reads reach RAM */
#define I440FX_PAM_WE 2 /* writes reach RAM */
#define I440FX_SMRAM 0x72
#define I440FX_SMRAM_D_OPEN 0x40
#define I440FX_SMRAM_C_BASE_SEG 0x02 /* hardwired: the SMRAM window is at 0xA0000 */
#define SMRAM_WINDOW_START 0xa0000
#define PAM_START 0xc0000
#define PAM_END 0x100000
#define PAM_AREA_SIZE 0x4000 /* 0xC0000-0xEFFFF in 16 KiB areas; the BIOS area is 64 KiB */
#define PAM_BIOS_START 0xf0000

/* The bridge and its two port ranges: one per machine. */
typedef struct PCIHostState {
    PCIDevice dev;
    MemoryRegion address_port, data_port;
    uint32_t config_address;
} PCIHostState;
static PCIHostState host;

/* A driver may be between writing 0xCF8 and touching 0xCFC when the VM stops. */
static const VMStateDescription vmstate_pci_host = {
    .name = "i440fx",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields =
        (const VMStateField[]){
            VMSTATE_PCI_DEVICE(dev, PCIHostState),
            VMSTATE_UINT32(config_address, PCIHostState),
            VMSTATE_END_OF_LIST(),
        },
};

static uint64_t host_address_read(void *opaque, uint64_t offset, unsigned size)
{
    /* Only whole-dword accesses reach the address register (0xCF9 is the PIIX reset
     * control register, not part of it). */
    return offset == 0 && size == 4 ? host.config_address : UINT64_MAX;
}

static void host_address_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if (offset == 0 && size == 4) {
        host.config_address = value;
    }
}

static const MemoryRegionOps host_address_ops = {
    .read = host_address_read,
    .write = host_address_write,
};

/*
 * The device and register the address register selects, or NULL (all ones). Bits 1:0
 * of the address are reserved in the PCI spec, but QEMU ORs them into the register
 * number and QEMU's libqos relies on it (`outl 0xcf8 ...|0x2e; inw 0xcfc` reads the
 * subsystem id), so tern does the same (docs/qtest.md).
 */
static PCIDevice *host_target(uint64_t offset, uint32_t *reg)
{
    uint32_t a = host.config_address;
    if (!(a & PCI_CONFIG_ADDRESS_ENABLE) || ((a >> 16) & 0xff) != 0) {
        return NULL;
    }
    *reg = (a & 0xff) | offset;
    return pci_bus_find((a >> 8) & 0xff);
}

static uint64_t host_data_read(void *opaque, uint64_t offset, unsigned size)
{
    uint32_t reg;
    PCIDevice *d = host_target(offset, &reg);
    if (!d || size > 4) {
        return UINT64_MAX;
    }
    return pci_config_read(d, reg, size);
}

static void host_data_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    uint32_t reg;
    PCIDevice *d = host_target(offset, &reg);
    if (d && size <= 4) {
        pci_config_write(d, reg, value, size);
    }
}

static const MemoryRegionOps host_data_ops = {
    .read = host_data_read,
    .write = host_data_write,
};

/* Area index as the PAM registers number them: 1 is 0xF0000-0xFFFFF (PAM0's high
 * nibble), 2.. are the 16 KiB areas from 0xC0000 (PAM1 low nibble, ...). */
static unsigned pam_area(uint64_t addr, uint64_t *end)
{
    if (addr >= PAM_BIOS_START) {
        *end = PAM_END;
        return 1;
    }
    *end = (addr & ~(uint64_t)(PAM_AREA_SIZE - 1)) + PAM_AREA_SIZE;
    return 2 + (addr - PAM_START) / PAM_AREA_SIZE;
}

static void host_ram_view(uint64_t addr, uint64_t *len, bool *readable, bool *writable,
                          void *opaque)
{
    uint64_t end;
    if (addr < SMRAM_WINDOW_START) {
        end = SMRAM_WINDOW_START;
    } else if (addr < PAM_START) {
        end = PAM_START;
        *readable = *writable = host.dev.config[I440FX_SMRAM] & I440FX_SMRAM_D_OPEN;
    } else if (addr < PAM_END) {
        unsigned area = pam_area(addr, &end);
        uint8_t reg = host.dev.config[I440FX_PAM + area / 2];
        uint8_t attr = area & 1 ? reg >> 4 : reg & 0xf;
        *readable = attr & I440FX_PAM_RE;
        *writable = attr & I440FX_PAM_WE;
    } else {
        return;
    }
    *len = MIN(*len, end - addr);
}

void pci_host_firmware_done(bool fixed)
{
    for (int i = 0; i < I440FX_PAM_SIZE; i++) {
        host.dev.config[I440FX_PAM + i] = i == 0 ? 0x30 : 0x33;
        if (fixed) {
            host.dev.wmask[I440FX_PAM + i] = 0;
        }
    }
    host.dev.config[I440FX_SMRAM] = I440FX_SMRAM_C_BASE_SEG | I440FX_SMRAM_D_OPEN;
    if (fixed) {
        host.dev.wmask[I440FX_SMRAM] = 0;
    }
}

void pci_host_init(void)
{
    if (pci_bus_exists()) {
        return;
    }
    pci_bus_create();
    /* QEMU's i440FX identity, so guests and drivers recognise the board. */
    pci_device_init(&host.dev, "i440FX", 0x8086, 0x1237, 0x060000, 0x02, 0x1af4, 0x1100);
    host.dev.config[PCI_INTERRUPT_PIN] = 0;
    host.dev.wmask[PCI_INTERRUPT_LINE] = 0;
    /* PAM: both attribute bits of each nibble; SMRAM: D_OPEN, D_CLS, D_LCK and G_SMRAME
     * store (tern has no SMM, so only D_OPEN has an effect), the base is hardwired. */
    memset(host.dev.wmask + I440FX_PAM, 0x33, I440FX_PAM_SIZE);
    host.dev.wmask[I440FX_PAM] = 0x30; /* PAM0's low nibble is reserved */
    host.dev.config[I440FX_SMRAM] = I440FX_SMRAM_C_BASE_SEG;
    host.dev.wmask[I440FX_SMRAM] = 0x78;
    memory_set_ram_view(host_ram_view, NULL);
    pci_bus_add_device(&host.dev, 0, NULL);
    g_autofree char *path = pci_device_path(&host.dev);
    g_autofree char *idstr = g_strdup_printf("%s/i440fx", path);
    vmstate_register_named(idstr, 0, &vmstate_pci_host, &host);

    memory_region_init(&host.address_port, ADDR_SPACE_IO, "pci-config-address", 4,
                       &host_address_ops, NULL);
    memory_region_init(&host.data_port, ADDR_SPACE_IO, "pci-config-data", 4, &host_data_ops,
                       NULL);
    memory_region_map(&host.address_port, PCI_CONFIG_ADDRESS_PORT);
    memory_region_map(&host.data_port, PCI_CONFIG_DATA_PORT);
}
