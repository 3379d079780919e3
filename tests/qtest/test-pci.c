/*
 * test-pci.c: the pc machine's PCI layer through a driver's eyes: configuration
 * mechanism 1, the host bridge, BAR sizing and decoding under the command register,
 * capabilities, MSI-X masking and pending bits, INTx routing and bus-master DMA. The
 * device under test is the built-in pci-testdev (docs/qtest.md lists its registers).
 */
#include <string.h>
#include "../lib/libqtest.h"
#include "../lib/qpci.h"

#define TESTDEV_VENDOR 0x1b36
#define TESTDEV_DEVICE 0x0005
#define REG_SCRATCH 0x00
#define REG_MAGIC 0x04
#define REG_MSIX 0x08
#define REG_INTX 0x0c
#define REG_DMA_LO 0x10
#define REG_DMA_HI 0x14
#define REG_DMA_GO 0x18
#define REG_DMA_STATUS 0x1c
#define MAGIC 0x54534554 /* "TEST" */

typedef struct {
    QTestState *qts;
    QPCIBus bus;
    QPCIDevice *dev;
} Fixture;

/* tern with pci-testdev (extra args appended), the device found and its BARs placed
 * but decoding still off. */
static void fixture_start(Fixture *f, const char *extra)
{
    f->qts = qtest_initf("-machine pc -device pci-testdev%s", extra ? extra : "");
    qpci_init(&f->bus, f->qts);
    f->dev = qpci_device_find(&f->bus, TESTDEV_VENDOR, TESTDEV_DEVICE);
    g_assert_nonnull(f->dev);
    for (int bar = 0; bar < 3; bar++) {
        qpci_iomap(f->dev, bar);
    }
}

static void fixture_stop(Fixture *f)
{
    g_free(f->dev);
    qtest_quit(f->qts);
}

static void test_host_bridge(void)
{
    QTestState *qts = qtest_init("-machine pc");
    QPCIBus bus;
    qpci_init(&bus, qts);
    g_assert_cmphex(qpci_config_readl(&bus, 0, 0x00), ==, 0x12378086);
    g_assert_cmphex(qpci_config_readw(&bus, 0, 0x0a), ==, 0x0600); /* host bridge class */
    g_assert_cmphex(qpci_config_readb(&bus, 0, 0x0e), ==, 0);      /* header type 0 */
    /* Byte and word views of the data port agree with the dword. */
    uint32_t id = qpci_config_readl(&bus, 0, 0x00);
    for (int i = 0; i < 4; i++) {
        g_assert_cmphex(qpci_config_readb(&bus, 0, i), ==, (id >> (8 * i)) & 0xff);
    }
    g_assert_cmphex(qpci_config_readw(&bus, 0, 2), ==, 0x1237);
    /* The address register reads back; identity is read-only. */
    qtest_outl(qts, 0xcf8, 0x80000010);
    g_assert_cmphex(qtest_inl(qts, 0xcf8), ==, 0x80000010);
    qpci_config_writel(&bus, 0, 0x00, 0);
    g_assert_cmphex(qpci_config_readl(&bus, 0, 0x00), ==, 0x12378086);
    /* Absent devices, other buses, and the enable bit clear: all ones. */
    g_assert_cmphex(qpci_config_readw(&bus, QPCI_DEVFN(7, 0), 0), ==, 0xffff);
    g_assert_null(qpci_device_at(&bus, QPCI_DEVFN(31, 0)));
    qtest_outl(qts, 0xcf8, 0x80010000);
    g_assert_cmphex(qtest_inl(qts, 0xcfc), ==, 0xffffffff);
    qtest_outl(qts, 0xcf8, 0x00000000);
    g_assert_cmphex(qtest_inl(qts, 0xcfc), ==, 0xffffffff);
    qtest_outl(qts, 0xcfc, 0x12345678); /* dropped */
    /* Partial accesses to the address register do not change it. */
    qtest_outl(qts, 0xcf8, 0x80000000);
    qtest_outb(qts, 0xcf8, 0x44);
    qtest_outw(qts, 0xcfa, 0x1234);
    g_assert_cmphex(qtest_inl(qts, 0xcf8), ==, 0x80000000);
    /* Bits 1:0 of the address select the byte within the dword, ORed with the port
     * offset (QEMU's behaviour, which libqos relies on). */
    qtest_outl(qts, 0xcf8, 0x80000002);
    g_assert_cmphex(qtest_inw(qts, 0xcfc), ==, 0x1237);
    g_assert_cmphex(qtest_inb(qts, 0xcfd), ==, 0x12); /* 2 | 1: byte 3 */
    qtest_outl(qts, 0xcf8, 0x8000000b);
    g_assert_cmphex(qtest_inb(qts, 0xcfc), ==, 0x06);
    g_assert_cmphex(qtest_inl(qts, 0xcf8), ==, 0x8000000b);
    qtest_quit(qts);
}

/* The i440FX's PAM and SMRAM registers route CPU accesses below 1 MiB: QEMU's power-on
 * values, each PAM area on its own, the datasheet's meaning of the two bits. */
static void test_pam_smram(void)
{
    QTestState *qts = qtest_init("-machine pc");
    QPCIBus bus;
    qpci_init(&bus, qts);
    g_assert_cmphex(qpci_config_readb(&bus, 0, 0x72), ==, 0x02);
    for (int r = 0x59; r <= 0x5f; r++) {
        g_assert_cmphex(qpci_config_readb(&bus, 0, r), ==, 0);
    }
    /* All to PCI: nothing there, writes vanish. */
    qtest_writeb(qts, 0xc4000, 0x42);
    g_assert_cmphex(qtest_readb(qts, 0xc4000), ==, 0xff);
    /* PAM1 high nibble is 0xC4000-0xC7FFF: RAM read/write there, not next door. */
    qpci_config_writeb(&bus, 0, 0x5a, 0x30);
    qtest_writeb(qts, 0xc4000, 0x42);
    qtest_writeb(qts, 0xc7fff, 0x43);
    g_assert_cmphex(qtest_readb(qts, 0xc4000), ==, 0x42);
    g_assert_cmphex(qtest_readb(qts, 0xc7fff), ==, 0x43);
    g_assert_cmphex(qtest_readb(qts, 0xc3fff), ==, 0xff);
    g_assert_cmphex(qtest_readb(qts, 0xc8000), ==, 0xff);
    /* Read enable only: RAM reads, writes dropped. Write enable only: the reverse. */
    qpci_config_writeb(&bus, 0, 0x5a, 0x10);
    qtest_writeb(qts, 0xc4000, 0x99);
    g_assert_cmphex(qtest_readb(qts, 0xc4000), ==, 0x42);
    qpci_config_writeb(&bus, 0, 0x5a, 0x20);
    qtest_writeb(qts, 0xc4000, 0x77);
    g_assert_cmphex(qtest_readb(qts, 0xc4000), ==, 0xff);
    qpci_config_writeb(&bus, 0, 0x5a, 0x10);
    g_assert_cmphex(qtest_readb(qts, 0xc4000), ==, 0x77);
    /* The BIOS area is PAM0's high nibble, 64 KiB; the low nibble stores nothing. */
    qpci_config_writeb(&bus, 0, 0x59, 0xff);
    g_assert_cmphex(qpci_config_readb(&bus, 0, 0x59), ==, 0x30);
    qtest_writel(qts, 0xf0000, 0x12345678);
    qtest_writel(qts, 0xffffc, 0x9abcdef0);
    g_assert_cmphex(qtest_readl(qts, 0xf0000), ==, 0x12345678);
    g_assert_cmphex(qtest_readl(qts, 0xffffc), ==, 0x9abcdef0);
    /* An access across an area boundary is split at it. */
    g_assert_cmphex(qtest_readw(qts, 0xc3fff), ==, 0x77ff);
    /* SMRAM: D_OPEN shows the RAM under 0xA0000-0xBFFFF; the base stays hardwired. */
    g_assert_cmphex(qtest_readb(qts, 0xa0000), ==, 0xff);
    qpci_config_writeb(&bus, 0, 0x72, 0x47);
    g_assert_cmphex(qpci_config_readb(&bus, 0, 0x72), ==, 0x42);
    qtest_writeb(qts, 0xbffff, 0x5a);
    g_assert_cmphex(qtest_readb(qts, 0xbffff), ==, 0x5a);
    qpci_config_writeb(&bus, 0, 0x72, 0x02);
    g_assert_cmphex(qtest_readb(qts, 0xbffff), ==, 0xff);
    /* Below and above the window: plain RAM whatever the registers say. */
    qtest_writeb(qts, 0x9ffff, 0x11);
    g_assert_cmphex(qtest_readb(qts, 0x9ffff), ==, 0x11);
    qtest_writeb(qts, 0x100000, 0x22);
    g_assert_cmphex(qtest_readb(qts, 0x100000), ==, 0x22);
    qtest_quit(qts);
}

/* QMP system_reset under qtest: RESET (QEMU's data), then the devices are at their
 * power-on state: PCI command registers, the i440FX's PAM, fw_cfg's selector. */
static void test_system_reset(void)
{
    QTestState *qts = qtest_init("-machine pc -device pci-testdev,addr=05.0");
    QPCIBus bus;
    qpci_init(&bus, qts);
    int devfn = QPCI_DEVFN(5, 0);
    qpci_config_writew(&bus, devfn, 0x04, 0x0007);
    qpci_config_writeb(&bus, 0, 0x5a, 0x33);
    qtest_outw(qts, 0x510, 0x01); /* fw_cfg: select the id */
    QmpClient *c = qtest_qmp(qts);
    g_autoptr(JsonNode) ret = qmp_ok(c, "{'execute': 'system_reset'}");
    GError *err = NULL;
    g_autoptr(JsonObject) ev = qmp_client_wait_event(c, "RESET", 5000, &err);
    g_assert_no_error(err);
    JsonObject *data = json_object_get_object_member(ev, "data");
    g_assert_false(json_object_get_boolean_member(data, "guest"));
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==, "host-qmp-system-reset");
    g_assert_cmphex(qpci_config_readw(&bus, devfn, 0x04), ==, 0);
    g_assert_cmphex(qpci_config_readb(&bus, 0, 0x5a), ==, 0);
    g_assert_cmphex(qpci_config_readw(&bus, devfn, 0x00), ==, TESTDEV_VENDOR);
    g_assert_cmphex(qtest_inb(qts, 0x511), ==, 'Q'); /* the signature again */
    qtest_quit(qts);
}

static void test_find_device(void)
{
    QTestState *qts = qtest_init("-machine pc -device pci-testdev,addr=05.0");
    QPCIBus bus;
    qpci_init(&bus, qts);
    QPCIDevice *d = qpci_device_find(&bus, TESTDEV_VENDOR, 0xffff);
    g_assert_nonnull(d);
    g_assert_cmpint(d->devfn, ==, QPCI_DEVFN(5, 0));
    g_free(d);
    d = qpci_device_find_class(&bus, 0x00ff);
    g_assert_nonnull(d);
    g_assert_cmpint(d->devfn, ==, QPCI_DEVFN(5, 0));
    g_assert_cmphex(qpci_readw(d, 0x2c), ==, 0x1af4); /* subsystem vendor */
    g_free(d);
    g_assert_null(qpci_device_find(&bus, 0x1af4, 0x1041));
    qtest_quit(qts);
}

static void test_bar_sizing(void)
{
    QTestState *qts = qtest_init("-machine pc -device pci-testdev");
    QPCIBus bus;
    qpci_init(&bus, qts);
    QPCIDevice *d = qpci_device_find(&bus, TESTDEV_VENDOR, TESTDEV_DEVICE);
    bool io, wide;
    g_assert_cmphex(qpci_bar_size(d, 0, &io, &wide), ==, 4096);
    g_assert_false(io);
    g_assert_false(wide);
    g_assert_cmphex(qpci_bar_size(d, 1, &io, &wide), ==, 256);
    g_assert_true(io);
    g_assert_cmphex(qpci_bar_size(d, 2, &io, &wide), ==, 16384);
    g_assert_true(wide);
    g_assert_cmphex(qpci_readl(d, 0x18) & 0xf, ==, 0xc); /* 64-bit, prefetchable */
    g_assert_cmphex(qpci_bar_size(d, 4, NULL, NULL), ==, 0);
    g_assert_cmphex(qpci_bar_size(d, 5, NULL, NULL), ==, 0);
    /* The raw read-back of an all-ones write is the size mask with the type bits. */
    qpci_writel(d, 0x10, 0xffffffff);
    g_assert_cmphex(qpci_readl(d, 0x10), ==, 0xfffff000);
    qpci_writel(d, 0x14, 0xffffffff);
    g_assert_cmphex(qpci_readl(d, 0x14), ==, 0xffffff01);
    qpci_writel(d, 0x1c, 0xffffffff);
    g_assert_cmphex(qpci_readl(d, 0x1c), ==, 0xffffffff);
    /* Placement as a driver does it. */
    qpci_writel(d, 0x1c, 0);
    uint64_t mmio = qpci_iomap(d, 0), pio = qpci_iomap(d, 1), wide_bar = qpci_iomap(d, 2);
    g_assert_cmphex(mmio, ==, 0xe0000000);
    g_assert_cmphex(pio, ==, 0xc000);
    g_assert_cmphex(wide_bar, ==, 0xe0004000);
    g_assert_cmphex(qpci_readl(d, 0x10), ==, 0xe0000000);
    g_assert_cmphex(qpci_readl(d, 0x14), ==, 0xc001);
    g_assert_cmphex(qpci_readl(d, 0x18), ==, 0xe000400c);
    g_assert_cmphex(qpci_readl(d, 0x1c), ==, 0);
    g_free(d);
    qtest_quit(qts);
}

static void test_bar_decoding(void)
{
    Fixture f;
    fixture_start(&f, NULL);
    uint64_t mmio = f.dev->bar_addr[0];
    uint16_t pio = f.dev->bar_addr[1];
    /* Placed but not enabled: nothing answers. */
    g_assert_cmphex(qtest_readl(f.qts, mmio + REG_MAGIC), ==, 0xffffffff);
    g_assert_cmphex(qtest_inb(f.qts, pio), ==, 0xff);
    /* Memory enable alone: BAR0 answers, the I/O BAR does not. */
    qpci_writew(f.dev, 0x04, 0x2);
    g_assert_cmphex(qtest_readl(f.qts, mmio + REG_MAGIC), ==, MAGIC);
    qtest_outb(f.qts, pio, 0x11);
    g_assert_cmphex(qtest_inb(f.qts, pio), ==, 0xff);
    /* I/O enable alone. */
    qpci_writew(f.dev, 0x04, 0x1);
    g_assert_cmphex(qtest_readl(f.qts, mmio + REG_MAGIC), ==, 0xffffffff);
    qtest_outl(f.qts, pio + 4, 0xa1b2c3d4);
    g_assert_cmphex(qtest_inl(f.qts, pio + 4), ==, 0xa1b2c3d4);
    g_assert_cmphex(qtest_inw(f.qts, pio + 6), ==, 0xa1b2);
    g_assert_cmphex(qtest_inb(f.qts, pio + 5), ==, 0xc3);
    /* Both; scratch register round trip through MMIO. */
    qpci_device_enable(f.dev);
    qpci_io_writel(f.dev, 0, REG_SCRATCH, 0x01020304);
    g_assert_cmphex(qpci_io_readl(f.dev, 0, REG_SCRATCH), ==, 0x01020304);
    qpci_io_writeb(f.dev, 0, REG_SCRATCH + 1, 0xee);
    g_assert_cmphex(qpci_io_readl(f.dev, 0, REG_SCRATCH), ==, 0x0102ee04);
    /* Unaligned and straddling accesses are split, never fatal. */
    g_assert_cmphex(qtest_readl(f.qts, mmio + 2), ==, 0x45540102);
    g_assert_cmphex(qtest_readq(f.qts, mmio + 4096 - 4), ==, 0xffffffff00000000ULL);
    qtest_writel(f.qts, mmio + 4096 - 2, 0xffffffff);
    /* Move BAR0: the old address goes dark, the new one answers. */
    qpci_writel(f.dev, 0x10, 0xe0100000);
    g_assert_cmphex(qtest_readl(f.qts, mmio + REG_MAGIC), ==, 0xffffffff);
    g_assert_cmphex(qtest_readl(f.qts, 0xe0100000 + REG_MAGIC), ==, MAGIC);
    /* Address zero means "not placed", even with decoding on. */
    qpci_writel(f.dev, 0x10, 0);
    g_assert_cmphex(qtest_readl(f.qts, 0xe0100000 + REG_MAGIC), ==, 0xffffffff);
    g_assert_cmphex(qtest_readl(f.qts, REG_MAGIC), ==, 0); /* RAM, not the BAR */
    /* Sizing with decoding on must not leave the BAR at the top of the 4 GiB space. */
    qpci_writel(f.dev, 0x10, 0xffffffff);
    g_assert_cmphex(qtest_readl(f.qts, 0xfffff000 + REG_MAGIC), ==, 0xffffffff);
    /* 64-bit BAR above 4 GiB. */
    qpci_writel(f.dev, 0x18, 0x0000000c);
    qpci_writel(f.dev, 0x1c, 0x1);
    g_assert_cmphex(qtest_readl(f.qts, 0x100000000ULL + 12), ==, 1); /* vector 0 masked */
    fixture_stop(&f);
}

static void test_config_masks(void)
{
    Fixture f;
    fixture_start(&f, NULL);
    /* Read-only: identity, class, header type, interrupt pin, capability pointer. */
    uint32_t id = qpci_readl(f.dev, 0x00);
    qpci_writel(f.dev, 0x00, 0);
    qpci_writel(f.dev, 0x08, 0);
    qpci_writeb(f.dev, 0x0e, 0x80);
    qpci_writeb(f.dev, 0x3d, 4);
    qpci_writeb(f.dev, 0x34, 0x80);
    g_assert_cmphex(qpci_readl(f.dev, 0x00), ==, id);
    g_assert_cmphex(qpci_readl(f.dev, 0x08), ==, 0x00ff0000);
    g_assert_cmphex(qpci_readb(f.dev, 0x0e), ==, 0);
    g_assert_cmphex(qpci_readb(f.dev, 0x3d), ==, 1);
    g_assert_cmphex(qpci_readb(f.dev, 0x34), ==, 0x40);
    /* Writable: command bits that exist, cache line, latency, interrupt line. */
    qpci_writew(f.dev, 0x04, 0xffff);
    g_assert_cmphex(qpci_readw(f.dev, 0x04), ==, 0x0547);
    qpci_writew(f.dev, 0x04, 0);
    qpci_writeb(f.dev, 0x0c, 0x10);
    qpci_writeb(f.dev, 0x0d, 0x40);
    g_assert_cmphex(qpci_readw(f.dev, 0x0c), ==, 0x4010);
    /* Status: writing ones clears error bits and sets nothing. */
    uint16_t status = qpci_readw(f.dev, 0x06);
    qpci_writew(f.dev, 0x06, 0xffff);
    g_assert_cmphex(qpci_readw(f.dev, 0x06), ==, status);
    /* Beyond the header nothing is writable by accident. */
    qpci_writel(f.dev, 0xfc, 0xffffffff);
    g_assert_cmphex(qpci_readl(f.dev, 0xfc), ==, 0);
    fixture_stop(&f);
}

static void test_capabilities(void)
{
    Fixture f;
    fixture_start(&f, ",vectors=5");
    g_assert_cmphex(qpci_readw(f.dev, 0x06) & 0x10, ==, 0x10);
    uint8_t cap = qpci_find_capability(f.dev, 0x11, 0);
    g_assert_cmphex(cap, ==, 0x40);
    g_assert_cmphex(qpci_readb(f.dev, cap + 1), ==, 0);          /* last in the list */
    g_assert_cmphex(qpci_readw(f.dev, cap + 2), ==, 4);          /* table size N-1, disabled */
    g_assert_cmphex(qpci_readl(f.dev, cap + 4), ==, 0x00000002); /* table: BAR2 + 0 */
    g_assert_cmphex(qpci_readl(f.dev, cap + 8), ==, 0x00002002); /* PBA: BAR2 + 0x2000 */
    g_assert_cmphex(qpci_find_capability(f.dev, 0x09, 0), ==, 0);
    g_assert_cmphex(qpci_find_capability(f.dev, 0x11, cap), ==, 0);
    /* The host bridge has no capabilities. */
    g_assert_cmphex(qpci_config_readw(&f.bus, 0, 0x06) & 0x10, ==, 0);
    fixture_stop(&f);
}

static void notify(Fixture *f, unsigned vector)
{
    qpci_io_writel(f->dev, 0, REG_MSIX, vector);
}

static void test_msix(void)
{
    Fixture f;
    fixture_start(&f, ",vectors=4");
    qpci_msix_enable(f.dev);
    g_assert_cmpuint(f.dev->msix_vectors, ==, 4);
    g_assert_cmphex(f.dev->msix_table, ==, f.dev->bar_addr[2]);

    /* Unmasked: delivered at once, each vector to its own slot. */
    notify(&f, 0);
    notify(&f, 3);
    g_assert_true(qpci_msix_take(f.dev, 0));
    g_assert_true(qpci_msix_take(f.dev, 3));
    g_assert_false(qpci_msix_take(f.dev, 1));
    g_assert_false(qpci_msix_pending(f.dev, 0));

    /* Vector mask: held as pending, sent on unmask, exactly once. */
    qpci_msix_set_vector_mask(f.dev, 1, true);
    notify(&f, 1);
    notify(&f, 1);
    g_assert_false(qpci_msix_take(f.dev, 1));
    g_assert_true(qpci_msix_pending(f.dev, 1));
    qpci_msix_set_vector_mask(f.dev, 1, false);
    g_assert_true(qpci_msix_take(f.dev, 1));
    g_assert_false(qpci_msix_pending(f.dev, 1));
    g_assert_false(qpci_msix_take(f.dev, 1));

    /* Function mask: every vector held; clearing it sends the pending ones. */
    qpci_msix_set_function_mask(f.dev, true);
    notify(&f, 2);
    g_assert_false(qpci_msix_take(f.dev, 2));
    g_assert_true(qpci_msix_pending(f.dev, 2));
    g_assert_false(qpci_msix_pending(f.dev, 0));
    qpci_msix_set_function_mask(f.dev, false);
    g_assert_true(qpci_msix_take(f.dev, 2));
    g_assert_false(qpci_msix_pending(f.dev, 2));

    /* A vector masked on its own stays held when the function mask clears. */
    qpci_msix_set_function_mask(f.dev, true);
    qpci_msix_set_vector_mask(f.dev, 0, true);
    notify(&f, 0);
    qpci_msix_set_function_mask(f.dev, false);
    g_assert_false(qpci_msix_take(f.dev, 0));
    g_assert_true(qpci_msix_pending(f.dev, 0));
    qpci_msix_set_vector_mask(f.dev, 0, false);
    g_assert_true(qpci_msix_take(f.dev, 0));

    /* MSI-X disabled: held as pending too, sent when enabled. */
    qpci_msix_disable(f.dev);
    notify(&f, 3);
    g_assert_false(qpci_msix_take(f.dev, 3));
    g_assert_true(qpci_msix_pending(f.dev, 3));
    qpci_msix_enable(f.dev);
    g_assert_true(qpci_msix_take(f.dev, 3));

    /* Out-of-range vectors are ignored; the PBA is read-only. */
    notify(&f, 4);
    notify(&f, 0xffffffff);
    qtest_writel(f.qts, f.dev->msix_pba, 0xffffffff);
    g_assert_cmphex(qtest_readl(f.qts, f.dev->msix_pba), ==, 0);

    /* The table reads back what the driver wrote; vector control keeps only the mask. */
    uint64_t e1 = f.dev->msix_table + 16;
    g_assert_cmphex(qtest_readl(f.qts, e1 + 8), ==, QPCI_MSIX_DATA(1));
    qtest_writel(f.qts, e1 + 12, 0xfffffffe);
    g_assert_cmphex(qtest_readl(f.qts, e1 + 12), ==, 0);
    qtest_writeq(f.qts, e1, 0x0000000100000000ULL);
    g_assert_cmphex(qtest_readq(f.qts, e1), ==, 0x0000000100000000ULL);

    /* Bus mastering off: the message write never happens, and is not pending. */
    qpci_writew(f.dev, 0x04, 0x3);
    notify(&f, 2);
    g_assert_false(qpci_msix_take(f.dev, 2));
    g_assert_false(qpci_msix_pending(f.dev, 2));
    fixture_stop(&f);
}

static void test_intx(void)
{
    QTestState *qts = qtest_init("-machine pc -device pci-testdev,addr=1 "
                                 "-device pci-testdev,addr=5 -device pci-testdev,addr=2");
    QPCIBus bus;
    qpci_init(&bus, qts);
    QPCIDevice *a = qpci_device_at(&bus, QPCI_DEVFN(1, 0));
    QPCIDevice *b = qpci_device_at(&bus, QPCI_DEVFN(5, 0));
    QPCIDevice *c = qpci_device_at(&bus, QPCI_DEVFN(2, 0));
    QPCIDevice *devs[] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        qpci_iomap(devs[i], 0);
        qpci_device_enable(devs[i]);
    }
    /* The fixed routing: 16 + ((slot + pin - 2) & 3), in the line register. */
    g_assert_cmpuint(qpci_readb(a, 0x3c), ==, 16);
    g_assert_cmpuint(qpci_readb(b, 0x3c), ==, 16);
    g_assert_cmpuint(qpci_readb(c, 0x3c), ==, 17);
    qtest_irq_intercept_in(qts, "ioapic");

    qpci_io_writel(a, 0, REG_INTX, 1);
    g_assert_true(qtest_get_irq(qts, 16));
    g_assert_false(qtest_get_irq(qts, 17));
    g_assert_cmphex(qpci_readw(a, 0x06) & 0x08, ==, 0x08); /* interrupt status */
    /* A shared line stays up until every device lowers it. */
    qpci_io_writel(b, 0, REG_INTX, 1);
    qpci_io_writel(a, 0, REG_INTX, 0);
    g_assert_true(qtest_get_irq(qts, 16));
    g_assert_cmphex(qpci_readw(a, 0x06) & 0x08, ==, 0);
    qpci_io_writel(b, 0, REG_INTX, 0);
    g_assert_false(qtest_get_irq(qts, 16));
    g_assert_cmpuint(qtest_irq_raises(qts, 16), ==, 1);

    /* INTx disable: the line drops, the status bit still shows the device's request. */
    qpci_io_writel(c, 0, REG_INTX, 1);
    g_assert_true(qtest_get_irq(qts, 17));
    qpci_writew(c, 0x04, 0x0407);
    g_assert_false(qtest_get_irq(qts, 17));
    g_assert_cmphex(qpci_readw(c, 0x06) & 0x08, ==, 0x08);
    qpci_writew(c, 0x04, 0x0007);
    g_assert_true(qtest_get_irq(qts, 17));
    /* Enabling MSI-X releases INTx. */
    qpci_msix_enable(c);
    g_assert_false(qtest_get_irq(qts, 17));
    g_assert_cmpuint(qtest_irq_raises(qts, 17), ==, 2);
    for (int i = 0; i < 3; i++) {
        g_free(devs[i]);
    }
    qtest_quit(qts);
}

static void test_dma(void)
{
    Fixture f;
    fixture_start(&f, NULL);
    qpci_device_enable(f.dev);
    uint64_t buf = qtest_alloc(f.qts, 16);
    qpci_io_writel(f.dev, 0, REG_SCRATCH, 0xfeedf00d);
    qpci_io_writel(f.dev, 0, REG_DMA_LO, buf);
    qpci_io_writel(f.dev, 0, REG_DMA_HI, 0);
    qpci_io_writel(f.dev, 0, REG_DMA_GO, 1);
    g_assert_cmpuint(qpci_io_readl(f.dev, 0, REG_DMA_STATUS), ==, 1);
    g_assert_cmphex(qtest_readl(f.qts, buf), ==, 0xfeedf00d);
    qtest_writel(f.qts, buf, 0x12345678);
    qpci_io_writel(f.dev, 0, REG_DMA_GO, 2);
    g_assert_cmphex(qpci_io_readl(f.dev, 0, REG_SCRATCH), ==, 0x12345678);

    /* Bus master off: refused, memory untouched. */
    qpci_writew(f.dev, 0x04, 0x3);
    qpci_io_writel(f.dev, 0, REG_SCRATCH, 0xbad);
    qpci_io_writel(f.dev, 0, REG_DMA_GO, 1);
    g_assert_cmpuint(qpci_io_readl(f.dev, 0, REG_DMA_STATUS), ==, 0);
    g_assert_cmphex(qtest_readl(f.qts, buf), ==, 0x12345678);

    /* Outside RAM, straddling its end, or wrapping the address space: refused. */
    qpci_device_enable(f.dev);
    static const uint64_t bad[] = {0xe0000000ULL, (128ULL << 20) - 2, UINT64_MAX - 1};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        qpci_io_writel(f.dev, 0, REG_DMA_LO, (uint32_t)bad[i]);
        qpci_io_writel(f.dev, 0, REG_DMA_HI, bad[i] >> 32);
        qpci_io_writel(f.dev, 0, REG_DMA_GO, 1);
        g_assert_cmpuint(qpci_io_readl(f.dev, 0, REG_DMA_STATUS), ==, 0);
    }
    fixture_stop(&f);
}

static void test_bad_devices(void)
{
    g_autofree char *taken = qtest_init_fail("-machine pc -device pci-testdev,addr=0");
    g_assert_nonnull(strstr(taken, "slot 0 is already taken"));
    g_autofree char *range = qtest_init_fail("-machine pc -device pci-testdev,addr=32");
    g_assert_nonnull(strstr(range, "'32' is not a PCI slot"));
    g_autofree char *prop = qtest_init_fail("-machine pc -device pci-testdev,bogus=1");
    g_assert_nonnull(strstr(prop, "bogus"));
    g_autofree char *vec = qtest_init_fail("-machine pc -device pci-testdev,vectors=0");
    g_assert_nonnull(strstr(vec, "vectors"));
    g_autofree char *none = qtest_init_fail("-machine none -device pci-testdev");
    g_assert_nonnull(strstr(none, "no PCI bus"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/pci/host-bridge", test_host_bridge);
    g_test_add_func("/pci/pam-smram", test_pam_smram);
    g_test_add_func("/pci/system-reset", test_system_reset);
    g_test_add_func("/pci/find-device", test_find_device);
    g_test_add_func("/pci/bar-sizing", test_bar_sizing);
    g_test_add_func("/pci/bar-decoding", test_bar_decoding);
    g_test_add_func("/pci/config-masks", test_config_masks);
    g_test_add_func("/pci/capabilities", test_capabilities);
    g_test_add_func("/pci/msix", test_msix);
    g_test_add_func("/pci/intx", test_intx);
    g_test_add_func("/pci/dma", test_dma);
    g_test_add_func("/pci/bad-devices", test_bad_devices);
    return g_test_run();
}
