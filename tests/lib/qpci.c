/* qpci.c: a PCI driver for tests (see qpci.h). */
#include <string.h>
#include "qpci.h"

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc

/* Register numbers as the PCI spec names them (the test side keeps its own). */
#define REG_VENDOR 0x00
#define REG_COMMAND 0x04
#define REG_STATUS 0x06
#define REG_CLASS 0x0a
#define REG_BAR0 0x10
#define REG_CAP_PTR 0x34
#define STATUS_CAP_LIST 0x10
#define CMD_ENABLES 0x7 /* I/O, memory, bus master */
#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_ENABLE 0x8000
#define MSIX_MASKALL 0x4000
#define CAP_ID_MSIX 0x11

void qpci_init(QPCIBus *bus, QTestState *qts)
{
    bus->qts = qts;
    bus->mmio_next = QPCI_MMIO_START;
    bus->pio_next = QPCI_PIO_START;
}

static void select_reg(QPCIBus *bus, int devfn, uint8_t off)
{
    qtest_outl(bus->qts, CONFIG_ADDRESS, 0x80000000u | (devfn & 0xff) << 8 | (off & 0xfc));
}

uint8_t qpci_config_readb(QPCIBus *bus, int devfn, uint8_t off)
{
    select_reg(bus, devfn, off);
    return qtest_inb(bus->qts, CONFIG_DATA + (off & 3));
}

uint16_t qpci_config_readw(QPCIBus *bus, int devfn, uint8_t off)
{
    select_reg(bus, devfn, off);
    return qtest_inw(bus->qts, CONFIG_DATA + (off & 2));
}

uint32_t qpci_config_readl(QPCIBus *bus, int devfn, uint8_t off)
{
    select_reg(bus, devfn, off);
    return qtest_inl(bus->qts, CONFIG_DATA);
}

void qpci_config_writeb(QPCIBus *bus, int devfn, uint8_t off, uint8_t v)
{
    select_reg(bus, devfn, off);
    qtest_outb(bus->qts, CONFIG_DATA + (off & 3), v);
}

void qpci_config_writew(QPCIBus *bus, int devfn, uint8_t off, uint16_t v)
{
    select_reg(bus, devfn, off);
    qtest_outw(bus->qts, CONFIG_DATA + (off & 2), v);
}

void qpci_config_writel(QPCIBus *bus, int devfn, uint8_t off, uint32_t v)
{
    select_reg(bus, devfn, off);
    qtest_outl(bus->qts, CONFIG_DATA, v);
}

QPCIDevice *qpci_device_at(QPCIBus *bus, int devfn)
{
    if (qpci_config_readw(bus, devfn, REG_VENDOR) == 0xffff) {
        return NULL;
    }
    QPCIDevice *d = g_new0(QPCIDevice, 1);
    d->bus = bus;
    d->devfn = devfn;
    for (int i = 0; i < 6; i++) {
        d->bar_addr[i] = QPCI_NO_BAR;
    }
    return d;
}

/* Function 0 of each slot: tern's devices are single-function. */
static QPCIDevice *find(QPCIBus *bus, bool (*match)(QPCIBus *, int, uint32_t), uint32_t key)
{
    for (int slot = 0; slot < 32; slot++) {
        if (qpci_config_readw(bus, slot << 3, REG_VENDOR) != 0xffff &&
            match(bus, slot << 3, key)) {
            return qpci_device_at(bus, slot << 3);
        }
    }
    return NULL;
}

static bool match_id(QPCIBus *bus, int devfn, uint32_t key)
{
    uint32_t id = qpci_config_readl(bus, devfn, REG_VENDOR);
    return (id & 0xffff) == (key & 0xffff) &&
           ((key >> 16) == 0xffff || (id >> 16) == (key >> 16));
}

static bool match_class(QPCIBus *bus, int devfn, uint32_t key)
{
    return qpci_config_readw(bus, devfn, REG_CLASS) == key;
}

QPCIDevice *qpci_device_find(QPCIBus *bus, uint16_t vendor, uint16_t device)
{
    return find(bus, match_id, (uint32_t)device << 16 | vendor);
}

QPCIDevice *qpci_device_find_class(QPCIBus *bus, uint16_t class_code)
{
    return find(bus, match_class, class_code);
}

uint8_t qpci_readb(QPCIDevice *d, uint8_t off)
{
    return qpci_config_readb(d->bus, d->devfn, off);
}

uint16_t qpci_readw(QPCIDevice *d, uint8_t off)
{
    return qpci_config_readw(d->bus, d->devfn, off);
}

uint32_t qpci_readl(QPCIDevice *d, uint8_t off)
{
    return qpci_config_readl(d->bus, d->devfn, off);
}

void qpci_writeb(QPCIDevice *d, uint8_t off, uint8_t v)
{
    qpci_config_writeb(d->bus, d->devfn, off, v);
}

void qpci_writew(QPCIDevice *d, uint8_t off, uint16_t v)
{
    qpci_config_writew(d->bus, d->devfn, off, v);
}

void qpci_writel(QPCIDevice *d, uint8_t off, uint32_t v)
{
    qpci_config_writel(d->bus, d->devfn, off, v);
}

uint64_t qpci_bar_size(QPCIDevice *d, int bar, bool *is_io, bool *is_64)
{
    g_assert_cmpint(bar, >=, 0);
    g_assert_cmpint(bar, <, 6);
    uint8_t reg = REG_BAR0 + 4 * bar;
    uint32_t orig = qpci_readl(d, reg);
    qpci_writel(d, reg, 0xffffffff);
    uint32_t mask = qpci_readl(d, reg);
    qpci_writel(d, reg, orig);
    bool io = orig & 1;
    bool wide = !io && (orig & 0x6) == 0x4;
    if (is_io) {
        *is_io = io;
    }
    if (is_64) {
        *is_64 = wide;
    }
    if (mask == 0) {
        return 0;
    }
    uint64_t full = mask & (io ? ~0x3u : ~0xfu);
    if (wide) {
        uint32_t orig_hi = qpci_readl(d, reg + 4);
        qpci_writel(d, reg + 4, 0xffffffff);
        full |= (uint64_t)qpci_readl(d, reg + 4) << 32;
        qpci_writel(d, reg + 4, orig_hi);
    } else {
        full |= io ? 0xffffffffffff0000ULL : 0xffffffff00000000ULL;
    }
    return ~full + 1;
}

uint64_t qpci_iomap(QPCIDevice *d, int bar)
{
    bool io, wide;
    uint64_t size = qpci_bar_size(d, bar, &io, &wide);
    g_assert_cmpuint(size, !=, 0);
    uint64_t addr;
    uint8_t reg = REG_BAR0 + 4 * bar;
    if (io) {
        addr = (d->bus->pio_next + size - 1) & ~(size - 1);
        g_assert_cmpuint(addr + size, <=, QPCI_PIO_END);
        d->bus->pio_next = addr + size;
    } else {
        addr = (d->bus->mmio_next + size - 1) & ~(size - 1);
        g_assert_cmpuint(addr + size, <=, QPCI_MMIO_END);
        d->bus->mmio_next = addr + size;
    }
    qpci_writel(d, reg, (uint32_t)addr);
    if (wide) {
        qpci_writel(d, reg + 4, addr >> 32);
    }
    d->bar_addr[bar] = addr;
    d->bar_size[bar] = size;
    d->bar_io[bar] = io;
    return addr;
}

void qpci_device_enable(QPCIDevice *d)
{
    qpci_writew(d, REG_COMMAND, qpci_readw(d, REG_COMMAND) | CMD_ENABLES);
}

uint8_t qpci_find_capability(QPCIDevice *d, uint8_t id, uint8_t start)
{
    if (!(qpci_readw(d, REG_STATUS) & STATUS_CAP_LIST)) {
        return 0;
    }
    uint8_t at = start ? qpci_readb(d, start + 1) : qpci_readb(d, REG_CAP_PTR);
    /* 48 capabilities at most fit in config space: a longer walk is a loop. */
    for (int n = 0; at && n < 48; n++) {
        if (qpci_readb(d, at) == id) {
            return at;
        }
        at = qpci_readb(d, at + 1);
    }
    return 0;
}

static uint64_t bar_at(QPCIDevice *d, int bar, uint64_t off)
{
    g_assert_cmpuint(d->bar_addr[bar], !=, QPCI_NO_BAR);
    return d->bar_addr[bar] + off;
}

uint8_t qpci_io_readb(QPCIDevice *d, int bar, uint64_t off)
{
    uint64_t a = bar_at(d, bar, off);
    return d->bar_io[bar] ? qtest_inb(d->bus->qts, a) : qtest_readb(d->bus->qts, a);
}

uint16_t qpci_io_readw(QPCIDevice *d, int bar, uint64_t off)
{
    uint64_t a = bar_at(d, bar, off);
    return d->bar_io[bar] ? qtest_inw(d->bus->qts, a) : qtest_readw(d->bus->qts, a);
}

uint32_t qpci_io_readl(QPCIDevice *d, int bar, uint64_t off)
{
    uint64_t a = bar_at(d, bar, off);
    return d->bar_io[bar] ? qtest_inl(d->bus->qts, a) : qtest_readl(d->bus->qts, a);
}

uint64_t qpci_io_readq(QPCIDevice *d, int bar, uint64_t off)
{
    uint64_t a = bar_at(d, bar, off);
    if (d->bar_io[bar]) {
        return qtest_inl(d->bus->qts, a) | (uint64_t)qtest_inl(d->bus->qts, a + 4) << 32;
    }
    return qtest_readq(d->bus->qts, a);
}

void qpci_io_writeb(QPCIDevice *d, int bar, uint64_t off, uint8_t v)
{
    uint64_t a = bar_at(d, bar, off);
    d->bar_io[bar] ? qtest_outb(d->bus->qts, a, v) : qtest_writeb(d->bus->qts, a, v);
}

void qpci_io_writew(QPCIDevice *d, int bar, uint64_t off, uint16_t v)
{
    uint64_t a = bar_at(d, bar, off);
    d->bar_io[bar] ? qtest_outw(d->bus->qts, a, v) : qtest_writew(d->bus->qts, a, v);
}

void qpci_io_writel(QPCIDevice *d, int bar, uint64_t off, uint32_t v)
{
    uint64_t a = bar_at(d, bar, off);
    d->bar_io[bar] ? qtest_outl(d->bus->qts, a, v) : qtest_writel(d->bus->qts, a, v);
}

void qpci_io_writeq(QPCIDevice *d, int bar, uint64_t off, uint64_t v)
{
    uint64_t a = bar_at(d, bar, off);
    if (d->bar_io[bar]) {
        qtest_outl(d->bus->qts, a, v);
        qtest_outl(d->bus->qts, a + 4, v >> 32);
    } else {
        qtest_writeq(d->bus->qts, a, v);
    }
}

/* Where an MSI-X structure lives: BAR (placed on demand) plus offset. */
static uint64_t msix_locate(QPCIDevice *d, uint8_t reg)
{
    uint32_t v = qpci_readl(d, d->msix_cap + reg);
    int bar = v & 7;
    if (d->bar_addr[bar] == QPCI_NO_BAR) {
        qpci_iomap(d, bar);
    }
    return d->bar_addr[bar] + (v & ~7u);
}

void qpci_msix_enable(QPCIDevice *d)
{
    QTestState *qts = d->bus->qts;
    d->msix_cap = qpci_find_capability(d, CAP_ID_MSIX, 0);
    g_assert_cmpuint(d->msix_cap, !=, 0);
    d->msix_vectors = (qpci_readw(d, d->msix_cap + MSIX_CTRL) & 0x7ff) + 1;
    d->msix_table = msix_locate(d, MSIX_TABLE);
    d->msix_pba = msix_locate(d, MSIX_PBA);
    qpci_device_enable(d);
    if (!d->msix_msg_base) {
        d->msix_msg_base = qtest_alloc_aligned(qts, 4 * d->msix_vectors, 64);
    }
    for (unsigned v = 0; v < d->msix_vectors; v++) {
        uint64_t entry = d->msix_table + 16 * v;
        uint64_t addr = d->msix_msg_base + 4 * v;
        qtest_writel(qts, entry + 0, (uint32_t)addr);
        qtest_writel(qts, entry + 4, addr >> 32);
        qtest_writel(qts, entry + 8, QPCI_MSIX_DATA(v));
        qtest_writel(qts, entry + 12, 0);
    }
    uint16_t ctrl = qpci_readw(d, d->msix_cap + MSIX_CTRL);
    qpci_writew(d, d->msix_cap + MSIX_CTRL, (ctrl & ~MSIX_MASKALL) | MSIX_ENABLE);
}

void qpci_msix_disable(QPCIDevice *d)
{
    uint16_t ctrl = qpci_readw(d, d->msix_cap + MSIX_CTRL);
    qpci_writew(d, d->msix_cap + MSIX_CTRL, ctrl & ~MSIX_ENABLE);
}

void qpci_msix_set_function_mask(QPCIDevice *d, bool masked)
{
    uint16_t ctrl = qpci_readw(d, d->msix_cap + MSIX_CTRL);
    ctrl = masked ? ctrl | MSIX_MASKALL : ctrl & ~MSIX_MASKALL;
    qpci_writew(d, d->msix_cap + MSIX_CTRL, ctrl);
}

void qpci_msix_set_vector_mask(QPCIDevice *d, unsigned vector, bool masked)
{
    g_assert_cmpuint(vector, <, d->msix_vectors);
    qtest_writel(d->bus->qts, d->msix_table + 16 * vector + 12, masked);
}

bool qpci_msix_pending(QPCIDevice *d, unsigned vector)
{
    g_assert_cmpuint(vector, <, d->msix_vectors);
    uint32_t word = qtest_readl(d->bus->qts, d->msix_pba + 4 * (vector / 32));
    return word & (1u << (vector % 32));
}

bool qpci_msix_take(QPCIDevice *d, unsigned vector)
{
    g_assert_cmpuint(vector, <, d->msix_vectors);
    uint64_t slot = d->msix_msg_base + 4 * vector;
    uint32_t data = qtest_readl(d->bus->qts, slot);
    if (data == 0) {
        return false;
    }
    g_assert_cmphex(data, ==, QPCI_MSIX_DATA(vector));
    qtest_writel(d->bus->qts, slot, 0);
    return true;
}
