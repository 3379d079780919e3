/*
 * pci-host.c: the i440FX-style host bridge at 00.0 and configuration mechanism 1: the
 * driver writes an address to 0xCF8 (enable bit, bus, device/function, register) and
 * moves data through 0xCFC-0xCFF in bytes, words or dwords.
 */
#include "hw/pci.h"
#include "migration/savevm.h"
#include "pci-internal.h"

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

/* The device and register the address register selects, or NULL (all ones). */
static PCIDevice *host_target(uint64_t offset, uint32_t *reg)
{
    uint32_t a = host.config_address;
    if (!(a & PCI_CONFIG_ADDRESS_ENABLE) || ((a >> 16) & 0xff) != 0) {
        return NULL;
    }
    *reg = (a & 0xfc) + offset;
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
