/*
 * pci.c: the PCI bus and the type 0 configuration header every device shares: config
 * space with write masks, BARs decoded as the driver programs them, capability lists,
 * legacy INTx and bus-master DMA.
 */
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "hw/irq.h"
#include "pci-internal.h"

#define PCI_DEVFN_MAX 256

/* The one bus behind the host bridge. */
static struct {
    bool exists;
    PCIDevice *devices[PCI_DEVFN_MAX];
    unsigned gsi_users[PCI_INTX_GSI_COUNT]; /* asserted INTx outputs per GSI */
} bus;

uint16_t pci_get_word(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

uint32_t pci_get_long(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

void pci_set_word(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

void pci_set_long(uint8_t *p, uint32_t v)
{
    pci_set_word(p, v);
    pci_set_word(p + 2, v >> 16);
}

int pci_intx_gsi(int slot, int pin)
{
    return PCI_INTX_GSI_BASE + ((slot + pin - 2) & 3);
}

int pci_slot_gsi(int slot)
{
    return pci_intx_gsi(slot, 1);
}

void pci_bus_create(void)
{
    bus.exists = true;
}

bool pci_bus_exists(void)
{
    return bus.exists;
}

void pci_device_init(PCIDevice *d, const char *name, uint16_t vendor, uint16_t device,
                     uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
                     uint16_t subsys_id)
{
    d->name = name;
    d->devfn = -1;
    memset(d->config, 0, sizeof(d->config));
    memset(d->wmask, 0, sizeof(d->wmask));
    memset(d->w1cmask, 0, sizeof(d->w1cmask));
    memset(d->bars, 0, sizeof(d->bars));
    d->msix = NULL;
    d->intx_level = false;
    d->intx_output = false;
    d->cap_end = PCI_CAP_START;

    pci_set_word(d->config + PCI_VENDOR_ID, vendor);
    pci_set_word(d->config + PCI_DEVICE_ID, device);
    d->config[PCI_REVISION_ID] = revision;
    d->config[PCI_CLASS_PROG] = class_code;
    pci_set_word(d->config + PCI_CLASS_DEVICE, class_code >> 8);
    d->config[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
    pci_set_word(d->config + PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
    pci_set_word(d->config + PCI_SUBSYSTEM_ID, subsys_id);
    d->config[PCI_INTERRUPT_PIN] = 1;

    pci_set_word(d->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                                             PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
                                             PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    pci_set_word(d->w1cmask + PCI_STATUS, PCI_STATUS_ERROR_BITS);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_LATENCY_TIMER] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

static void pci_intx_update(PCIDevice *d)
{
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);
    uint8_t pin = d->config[PCI_INTERRUPT_PIN];
    bool out = d->devfn >= 0 && pin >= 1 && pin <= 4 && d->intx_level &&
               !(cmd & PCI_COMMAND_INTX_DISABLE);
    if (out == d->intx_output) {
        return;
    }
    d->intx_output = out;
    int gsi = pci_intx_gsi(PCI_SLOT(d->devfn), pin);
    unsigned *users = &bus.gsi_users[gsi - PCI_INTX_GSI_BASE];
    *users += out ? 1 : -1;
    if (*users == (out ? 1 : 0)) {
        irq_set_level(gsi, out);
    }
}

void pci_set_irq(PCIDevice *d, bool level)
{
    uint16_t status = pci_get_word(d->config + PCI_STATUS);
    status = level ? status | PCI_STATUS_INTERRUPT : status & ~PCI_STATUS_INTERRUPT;
    pci_set_word(d->config + PCI_STATUS, status);
    d->intx_level = level;
    pci_intx_update(d);
}

static bool bar_is_64(const PCIDevice *d, int bar)
{
    return !(d->bars[bar].type & PCI_BASE_ADDRESS_SPACE_IO) &&
           (d->bars[bar].type & PCI_BASE_ADDRESS_MEM_TYPE_64);
}

/* The address the driver wrote into the BAR, without the type bits. */
static uint64_t bar_programmed(const PCIDevice *d, int bar)
{
    uint32_t lo = pci_get_long(d->config + PCI_BASE_ADDRESS_0 + 4 * bar);
    if (d->bars[bar].type & PCI_BASE_ADDRESS_SPACE_IO) {
        return lo & ~0x3u;
    }
    uint64_t addr = lo & ~0xfu;
    if (bar_is_64(d, bar)) {
        addr |= (uint64_t)pci_get_long(d->config + PCI_BASE_ADDRESS_0 + 4 * (bar + 1)) << 32;
    }
    return addr;
}

uint64_t pci_bar_mapped_address(PCIDevice *d, int bar)
{
    if (bar < 0 || bar >= PCI_NUM_BARS || !d->bars[bar].mr) {
        return PCI_BAR_UNMAPPED;
    }
    const PCIBar *b = &d->bars[bar];
    uint16_t cmd = pci_get_word(d->config + PCI_COMMAND);
    bool io = b->type & PCI_BASE_ADDRESS_SPACE_IO;
    if (!(cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY))) {
        return PCI_BAR_UNMAPPED;
    }
    uint64_t addr = bar_programmed(d, bar);
    uint64_t last = addr + b->mr->size - 1;
    uint64_t limit = io ? 0xffff : bar_is_64(d, bar) ? UINT64_MAX - 1 : UINT32_MAX - 1;
    /* Zero means "not placed"; the all-ones a driver writes to size a BAR lands at the
     * top of the space and must not decode there either. */
    if (addr == 0 || last < addr || last > limit) {
        return PCI_BAR_UNMAPPED;
    }
    return addr;
}

static void pci_update_mappings(PCIDevice *d)
{
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        PCIBar *b = &d->bars[i];
        if (!b->mr) {
            continue;
        }
        b->addr = bar_programmed(d, i);
        uint64_t at = d->devfn >= 0 ? pci_bar_mapped_address(d, i) : PCI_BAR_UNMAPPED;
        if (at == PCI_BAR_UNMAPPED) {
            memory_region_unmap(b->mr);
        } else if (!b->mr->mapped || b->mr->base != at) {
            memory_region_map(b->mr, at);
        }
    }
    msix_update_mappings(d);
}

void pci_register_bar(PCIDevice *d, int bar, uint8_t type, MemoryRegion *mr)
{
    bool io = type & PCI_BASE_ADDRESS_SPACE_IO;
    bool is64 = !io && (type & PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_return_if_fail(bar >= 0 && bar < PCI_NUM_BARS - (is64 ? 1 : 0));
    g_return_if_fail(mr && mr->size && (mr->size & (mr->size - 1)) == 0);
    g_return_if_fail(mr->space == (io ? ADDR_SPACE_IO : ADDR_SPACE_MEMORY));
    g_return_if_fail(!io || mr->size <= 0x10000);

    uint8_t flags = io ? PCI_BASE_ADDRESS_SPACE_IO : type & 0x0f & ~PCI_BASE_ADDRESS_SPACE_IO;
    uint64_t size = MAX(mr->size, io ? 4 : 16);
    uint64_t mask = ~(size - 1) & (io ? ~0x3ULL : ~0xfULL);
    uint8_t *cfg = d->config + PCI_BASE_ADDRESS_0 + 4 * bar;
    uint8_t *wm = d->wmask + PCI_BASE_ADDRESS_0 + 4 * bar;

    d->bars[bar] = (PCIBar){.mr = mr, .type = flags};
    pci_set_long(cfg, flags);
    pci_set_long(wm, (uint32_t)mask);
    if (is64) {
        d->bars[bar + 1] = (PCIBar){0};
        pci_set_long(cfg + 4, 0);
        pci_set_long(wm + 4, mask >> 32);
    }
    pci_update_mappings(d);
}

uint8_t pci_add_capability(PCIDevice *d, uint8_t cap_id, uint8_t size, GError **errp)
{
    unsigned at = (d->cap_end + 3) & ~3u;
    if (size < 2 || at + size > PCI_CONFIG_SPACE_SIZE) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%s: no room in config space for a %u-byte capability 0x%02x", d->name,
                    size, cap_id);
        return 0;
    }
    /* Append, so a driver walks capabilities in the order the model added them. */
    uint8_t *link = d->config + PCI_CAPABILITY_LIST;
    while (*link) {
        link = d->config + *link + PCI_CAP_LIST_NEXT;
    }
    *link = at;
    d->config[at + PCI_CAP_LIST_ID] = cap_id;
    d->config[at + PCI_CAP_LIST_NEXT] = 0;
    pci_set_word(d->config + PCI_STATUS,
                 pci_get_word(d->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
    d->cap_end = at + size;
    return at;
}

static bool ranges_overlap(uint32_t a, unsigned alen, uint32_t b, unsigned blen)
{
    return a < b + blen && b < a + alen;
}

uint32_t pci_config_read(PCIDevice *d, uint32_t addr, unsigned len)
{
    uint32_t val = 0;
    for (unsigned i = 0; i < len && i < 4; i++) {
        uint8_t byte = addr + i < PCI_CONFIG_SPACE_SIZE ? d->config[addr + i] : 0xff;
        val |= (uint32_t)byte << (8 * i);
    }
    return val;
}

void pci_config_write(PCIDevice *d, uint32_t addr, uint32_t val, unsigned len)
{
    len = MIN(len, 4);
    if (addr >= PCI_CONFIG_SPACE_SIZE) {
        return;
    }
    len = MIN(len, PCI_CONFIG_SPACE_SIZE - addr);
    for (unsigned i = 0; i < len; i++) {
        uint8_t b = val >> (8 * i);
        uint8_t *c = &d->config[addr + i];
        *c = (*c & ~d->wmask[addr + i]) | (b & d->wmask[addr + i]);
        *c &= ~(b & d->w1cmask[addr + i]);
    }
    if (ranges_overlap(addr, len, PCI_COMMAND, 2) ||
        ranges_overlap(addr, len, PCI_BASE_ADDRESS_0, 4 * PCI_NUM_BARS)) {
        pci_update_mappings(d);
        pci_intx_update(d);
    }
    uint8_t msix = msix_cap_offset(d);
    if (msix && ranges_overlap(addr, len, msix + PCI_MSIX_FLAGS, 2)) {
        msix_config_written(d);
    }
    if (d->config_write_hook) {
        d->config_write_hook(d, addr, val, len);
    }
}

int pci_parse_slot(const char *addr, GError **errp)
{
    char *end;
    unsigned long slot = strtoul(addr, &end, 16);
    if (end == addr || (*end && strcmp(end, ".0") != 0) || slot >= PCI_SLOT_MAX) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "Property 'addr': '%s' is not a PCI slot (00-1f, function 0)", addr);
        return -1;
    }
    return slot;
}

bool pci_bus_add_device(PCIDevice *d, int slot, GError **errp)
{
    if (!bus.exists) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%s: this machine has no PCI bus (use -machine pc)", d->name);
        return false;
    }
    if (slot < 0) {
        for (slot = 0; slot < PCI_SLOT_MAX && bus.devices[PCI_DEVFN(slot, 0)]; slot++) {
        }
    }
    if (slot >= PCI_SLOT_MAX) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    slot == PCI_SLOT_MAX ? "%s: no free PCI slot left"
                                         : "%s: PCI slot %d does not exist (0-31)",
                    d->name, slot);
        return false;
    }
    int devfn = PCI_DEVFN(slot, 0);
    if (bus.devices[devfn]) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%s: PCI slot %d is already taken by %s", d->name, slot,
                    bus.devices[devfn]->name);
        return false;
    }
    d->devfn = devfn;
    bus.devices[devfn] = d;
    if (d->config[PCI_INTERRUPT_PIN]) {
        d->config[PCI_INTERRUPT_LINE] = pci_intx_gsi(slot, d->config[PCI_INTERRUPT_PIN]);
    }
    pci_update_mappings(d);
    pci_intx_update(d);
    return true;
}

void pci_bus_remove_device(PCIDevice *d)
{
    if (d->devfn < 0 || bus.devices[d->devfn] != d) {
        return;
    }
    d->intx_level = false;
    pci_intx_update(d);
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        if (d->bars[i].mr) {
            memory_region_unmap(d->bars[i].mr);
        }
    }
    msix_unmap(d);
    bus.devices[d->devfn] = NULL;
    d->devfn = -1;
}

PCIDevice *pci_bus_find(int devfn)
{
    return devfn >= 0 && devfn < PCI_DEVFN_MAX ? bus.devices[devfn] : NULL;
}

/* Power-on state: every bit the driver could write is clear again. */
static void pci_device_reset(PCIDevice *d)
{
    for (int i = 0; i < PCI_CONFIG_SPACE_SIZE; i++) {
        d->config[i] &= ~(d->wmask[i] | d->w1cmask[i]);
    }
    if (d->config[PCI_INTERRUPT_PIN]) {
        d->config[PCI_INTERRUPT_LINE] =
            pci_intx_gsi(PCI_SLOT(d->devfn), d->config[PCI_INTERRUPT_PIN]);
    }
    pci_set_irq(d, false);
    pci_update_mappings(d);
    msix_reset(d);
    if (d->reset) {
        d->reset(d);
    }
}

void pci_bus_reset(void)
{
    for (int devfn = 0; devfn < PCI_DEVFN_MAX; devfn++) {
        if (bus.devices[devfn]) {
            pci_device_reset(bus.devices[devfn]);
        }
    }
}

bool pci_dma_read(PCIDevice *d, uint64_t gpa, void *buf, size_t len)
{
    if (!(pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        return false;
    }
    return dma_read(gpa, buf, len);
}

bool pci_dma_write(PCIDevice *d, uint64_t gpa, const void *buf, size_t len)
{
    if (!(pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        return false;
    }
    return dma_write(gpa, buf, len);
}

/* ---- migration --------------------------------------------------------------------- */

char *pci_device_path(const PCIDevice *d)
{
    return g_strdup_printf("0000:00:%02x.%x", PCI_SLOT(d->devfn), PCI_FUNC(d->devfn));
}

/* Bits the device changes itself although the driver cannot write them. */
static uint8_t pci_dynamic_bits(unsigned offset)
{
    return offset == PCI_STATUS ? PCI_STATUS_INTERRUPT : 0;
}

static bool pci_pre_save(void *opaque, GError **errp)
{
    PCIDevice *d = opaque;
    memcpy(d->config_wire, d->config, sizeof(d->config));
    return true;
}

static bool pci_post_load(void *opaque, int version_id, GError **errp)
{
    PCIDevice *d = opaque;
    /* Identity, BAR sizes and types, capability layout and everything else read-only
     * describe the device and its options: they must already be what the stream has. */
    for (unsigned i = 0; i < PCI_CONFIG_SPACE_SIZE; i++) {
        uint8_t ro = ~(d->wmask[i] | d->w1cmask[i] | pci_dynamic_bits(i));
        if ((d->config_wire[i] ^ d->config[i]) & ro) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "config space byte 0x%02x is 0x%02x in the stream, 0x%02x here: "
                        "read-only bits differ (start the destination with the same "
                        "device and options)",
                        i, d->config_wire[i], d->config[i]);
            return false;
        }
    }
    for (unsigned i = 0; i < PCI_CONFIG_SPACE_SIZE; i++) {
        uint8_t w = d->wmask[i] | d->w1cmask[i];
        d->config[i] = (d->config[i] & ~w) | (d->config_wire[i] & w);
    }
    pci_update_mappings(d);
    pci_set_irq(d, d->intx_level);
    if (d->msix) {
        msix_post_load(d);
    }
    return true;
}

static bool pci_msix_needed(void *opaque)
{
    return ((PCIDevice *)opaque)->msix != NULL;
}

static const VMStateDescription vmstate_pci_msix = {
    .name = "msix",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pci_msix_needed,
    .fields =
        (const VMStateField[]){
            VMSTATE_STRUCT_POINTER(msix, PCIDevice, vmstate_msix),
            VMSTATE_END_OF_LIST(),
        },
};

const VMStateDescription vmstate_pci_device = {
    .name = "pci",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = pci_pre_save,
    .post_load = pci_post_load,
    .fields =
        (const VMStateField[]){
            /* Named for what it is; loaded aside and merged in post-load. */
            {.name = "config",
             .type = VMS_BUFFER,
             .offset = offsetof(PCIDevice, config_wire),
             .size = PCI_CONFIG_SPACE_SIZE},
            VMSTATE_BOOL(intx_level, PCIDevice),
            VMSTATE_END_OF_LIST(),
        },
    .subsections = (const VMStateDescription *const[]){&vmstate_pci_msix, NULL},
};
