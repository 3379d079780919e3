/*
 * pci-testdev.c: a PCI device for tests of the PCI layer itself (QEMU's identity
 * 1b36:0005). It has one BAR of each kind and MSI-X, and registers that make it raise
 * interrupts and do bus-master DMA on demand. docs/qtest.md lists its registers.
 *
 *   BAR0  32-bit memory, 4 KiB: registers (below)
 *   BAR1  I/O, 256 bytes: scratch bytes, any access size
 *   BAR2  64-bit prefetchable memory, 16 KiB: MSI-X table at 0, PBA at 0x2000
 */
#include <string.h>
#include "error.h"
#include "hw/pci.h"
#include "hw/qdev.h"
#include "migration/savevm.h"

#define TESTDEV_SCRATCH 0x00    /* rw */
#define TESTDEV_MAGIC 0x04      /* ro: "TEST" */
#define TESTDEV_MSIX 0x08       /* wo: vector number to notify */
#define TESTDEV_INTX 0x0c       /* rw: INTx level, 0 or 1 */
#define TESTDEV_DMA_LO 0x10     /* rw: DMA address, low half */
#define TESTDEV_DMA_HI 0x14     /* rw: DMA address, high half */
#define TESTDEV_DMA_GO 0x18     /* wo: 1 writes SCRATCH to memory, 2 reads it back */
#define TESTDEV_DMA_STATUS 0x1c /* ro: 1 when the last DMA succeeded, else 0 */
#define TESTDEV_NREGS 8
#define TESTDEV_MAGIC_VALUE 0x54534554u
#define TESTDEV_MSIX_PBA 0x2000
#define TESTDEV_MAX_VECTORS 64

typedef struct {
    PCIDevice pci;
    MemoryRegion regs_mr, io_mr, msix_mr;
    uint32_t regs[TESTDEV_NREGS];
    uint8_t io[256];
    VMStateEntry *vmse;
} PCITestDev;

static uint64_t testdev_read(void *opaque, uint64_t offset, unsigned size)
{
    PCITestDev *t = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        uint64_t at = offset + i;
        uint8_t byte = 0;
        if (at < 4 * TESTDEV_NREGS) {
            byte = t->regs[at / 4] >> (8 * (at % 4));
        }
        v |= (uint64_t)byte << (8 * i);
    }
    return v;
}

static void testdev_dma(PCITestDev *t, uint32_t op)
{
    uint64_t gpa = t->regs[TESTDEV_DMA_LO / 4] | (uint64_t)t->regs[TESTDEV_DMA_HI / 4] << 32;
    uint8_t buf[4];
    bool ok = false;
    if (op == 1) {
        pci_set_long(buf, t->regs[TESTDEV_SCRATCH / 4]);
        ok = pci_dma_write(&t->pci, gpa, buf, sizeof(buf));
    } else if (op == 2) {
        ok = pci_dma_read(&t->pci, gpa, buf, sizeof(buf));
        if (ok) {
            t->regs[TESTDEV_SCRATCH / 4] = pci_get_long(buf);
        }
    }
    t->regs[TESTDEV_DMA_STATUS / 4] = ok;
}

static void testdev_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    PCITestDev *t = opaque;
    if (offset >= 4 * TESTDEV_NREGS || offset % 4 || size < 4) {
        if (offset < 4 && offset + size <= 4) { /* SCRATCH takes partial writes */
            for (unsigned i = 0; i < size; i++) {
                uint32_t shift = 8 * (offset + i);
                t->regs[0] = (t->regs[0] & ~(0xffu << shift)) | ((value >> (8 * i)) & 0xff)
                                                                    << shift;
            }
        }
        return;
    }
    uint32_t v = value;
    switch (offset) {
    case TESTDEV_SCRATCH:
    case TESTDEV_DMA_LO:
    case TESTDEV_DMA_HI:
        t->regs[offset / 4] = v;
        break;
    case TESTDEV_MSIX:
        msix_notify(&t->pci, v);
        break;
    case TESTDEV_INTX:
        t->regs[offset / 4] = v & 1;
        pci_set_irq(&t->pci, v & 1);
        break;
    case TESTDEV_DMA_GO:
        testdev_dma(t, v);
        break;
    }
    if (size == 8 && offset % 8 == 0) { /* a quadword also writes the next register */
        testdev_write(opaque, offset + 4, value >> 32, 4);
    }
}

static const MemoryRegionOps testdev_regs_ops = {
    .read = testdev_read,
    .write = testdev_write,
};

static uint64_t testdev_io_read(void *opaque, uint64_t offset, unsigned size)
{
    PCITestDev *t = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)t->io[offset + i] << (8 * i);
    }
    return v;
}

static void testdev_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    PCITestDev *t = opaque;
    for (unsigned i = 0; i < size; i++) {
        t->io[offset + i] = value >> (8 * i);
    }
}

static const MemoryRegionOps testdev_io_ops = {
    .read = testdev_io_read,
    .write = testdev_io_write,
};

static uint64_t testdev_zero_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0;
}

/* BAR2 outside the MSI-X table and PBA: reserved, reads zero. */
static const MemoryRegionOps testdev_msix_bar_ops = {
    .read = testdev_zero_read,
};

static void testdev_reset(PCIDevice *d)
{
    PCITestDev *t = (PCITestDev *)d;
    memset(t->regs, 0, sizeof(t->regs));
    t->regs[TESTDEV_MAGIC / 4] = TESTDEV_MAGIC_VALUE;
    memset(t->io, 0, sizeof(t->io));
}

/* Registers and scratch bytes; DMA and interrupts act at once and leave nothing behind
 * but what these hold. */
static const VMStateDescription vmstate_testdev = {
    .name = "pci-testdev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields =
        (const VMStateField[]){
            VMSTATE_PCI_DEVICE(pci, PCITestDev),
            VMSTATE_UINT32_ARRAY(regs, PCITestDev),
            VMSTATE_UINT8_ARRAY(io, PCITestDev),
            VMSTATE_END_OF_LIST(),
        },
};

static bool testdev_create(const TernOpts *o, DeviceState *ds, GError **errp)
{
    static const char *const known[] = {"addr", "vectors", NULL};
    uint64_t vectors;
    int slot = -1;
    if (!opts_check_keys(o, known, errp) ||
        !opts_get_uint(o, "vectors", 4, TESTDEV_MAX_VECTORS, &vectors, errp) ||
        (opts_get(o, "addr") && (slot = pci_parse_slot(opts_get(o, "addr"), errp)) < 0)) {
        return false;
    }
    if (vectors == 0) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-device pci-testdev: vectors must be 1-%d", TESTDEV_MAX_VECTORS);
        return false;
    }
    PCITestDev *t = g_new0(PCITestDev, 1);
    pci_device_init(&t->pci, "pci-testdev", 0x1b36, 0x0005, 0x00ff00, 0, 0x1af4, 0x1100);
    t->pci.reset = testdev_reset;
    testdev_reset(&t->pci);
    memory_region_init(&t->regs_mr, ADDR_SPACE_MEMORY, "pci-testdev-regs", 4096,
                       &testdev_regs_ops, t);
    memory_region_init(&t->io_mr, ADDR_SPACE_IO, "pci-testdev-io", 256, &testdev_io_ops, t);
    memory_region_init(&t->msix_mr, ADDR_SPACE_MEMORY, "pci-testdev-msix", 16384,
                       &testdev_msix_bar_ops, t);
    pci_register_bar(&t->pci, 0, 0, &t->regs_mr);
    pci_register_bar(&t->pci, 1, PCI_BASE_ADDRESS_SPACE_IO, &t->io_mr);
    pci_register_bar(&t->pci, 2, PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH,
                     &t->msix_mr);
    if (!msix_init(&t->pci, vectors, 2, 0, 2, TESTDEV_MSIX_PBA, errp) ||
        !pci_bus_add_device(&t->pci, slot, errp)) {
        msix_uninit(&t->pci);
        g_free(t);
        return false;
    }
    g_autofree char *path = pci_device_path(&t->pci);
    g_autofree char *idstr = g_strdup_printf("%s/pci-testdev", path);
    t->vmse = vmstate_register_named(idstr, 0, &vmstate_testdev, t);
    ds->pci = &t->pci;
    ds->opaque = t;
    return true;
}

static void testdev_destroy(DeviceState *ds)
{
    PCITestDev *t = ds->opaque;
    vmstate_unregister(t->vmse);
    pci_bus_remove_device(&t->pci);
    msix_uninit(&t->pci);
    g_free(t);
}

static const DeviceClass pci_testdev_class = {
    .name = "pci-testdev",
    .desc = "PCI test device (1b36:0005): memory, I/O and 64-bit BARs, MSI-X, INTx, DMA",
    .create = testdev_create,
    .destroy = testdev_destroy,
};
DEVICE_CLASS_REGISTER(pci_testdev_class)
