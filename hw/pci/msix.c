/*
 * msix.c: MSI-X for PCI devices: the capability, the vector table and the pending-bit
 * array (PBA) in device BARs, masking (per vector and per function) and delivery.
 *
 * A vector that fires while masked sets its pending bit; unmasking it (or clearing the
 * function mask, or enabling MSI-X) sends it then. Delivery is a bus-master write of the
 * message data to the message address, so it needs PCI_COMMAND_MASTER.
 */
#include <inttypes.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "error.h"
#include "hw/irq.h"
#include "main-loop.h"
#include "pci-internal.h"

/* A vector's fast path: an accelerator MSI route and the eventfd that raises it. */
typedef struct MSIXRoute {
    int gsi;
    int fd;
    uint64_t addr;
    uint32_t data;
    bool wanted; /* fired while routes are deferred: built by the idle callback */
} MSIXRoute;

struct MSIXState {
    unsigned nvectors;
    uint8_t cap;
    int table_bar, pba_bar;
    uint32_t table_offset, pba_offset;
    uint8_t *table; /* nvectors entries of PCI_MSIX_ENTRY_SIZE bytes */
    uint8_t *pba;   /* one bit per vector, in whole quadwords */
    unsigned pba_size;
    uint32_t table_len; /* bytes: nvectors * PCI_MSIX_ENTRY_SIZE */
    MemoryRegion table_mr, pba_mr;
    MemoryRegion own_bars[2]; /* BARs msix_init had to create (table's, PBA's) */
    bool function_masked;     /* as of the last config write */
    PCIDevice *dev;
    MSIXRoute *routes; /* per vector; gsi < 0: none yet */
    /* After a load: deliver with one message each (accel send_msi) and build the routes
     * later, from the main loop when it is idle (msix_post_load says why). */
    bool defer_routes;
    GSource *route_idle;
};

static uint16_t msix_control(PCIDevice *d)
{
    return pci_get_word(d->config + d->msix->cap + PCI_MSIX_FLAGS);
}

uint8_t msix_cap_offset(PCIDevice *d)
{
    return d->msix ? d->msix->cap : 0;
}

bool msix_enabled(PCIDevice *d)
{
    return d->msix && (msix_control(d) & PCI_MSIX_FLAGS_ENABLE);
}

static bool msix_function_masked(PCIDevice *d)
{
    uint16_t ctrl = msix_control(d);
    return !(ctrl & PCI_MSIX_FLAGS_ENABLE) || (ctrl & PCI_MSIX_FLAGS_MASKALL);
}

static uint8_t *msix_entry(MSIXState *m, unsigned vector)
{
    return m->table + vector * PCI_MSIX_ENTRY_SIZE;
}

static bool msix_entry_masked(MSIXState *m, unsigned vector)
{
    return pci_get_long(msix_entry(m, vector) + PCI_MSIX_ENTRY_VECTOR_CTRL) &
           PCI_MSIX_ENTRY_CTRL_MASKBIT;
}

bool msix_vector_masked(PCIDevice *d, unsigned vector)
{
    if (!d->msix || vector >= d->msix->nvectors) {
        return true;
    }
    return msix_function_masked(d) || msix_entry_masked(d->msix, vector);
}

static bool msix_pending(MSIXState *m, unsigned vector)
{
    return m->pba[vector / 8] & (1u << (vector % 8));
}

static void msix_set_pending(MSIXState *m, unsigned vector, bool pending)
{
    if (pending) {
        m->pba[vector / 8] |= 1u << (vector % 8);
    } else {
        m->pba[vector / 8] &= ~(1u << (vector % 8));
    }
}

bool msix_get_message(PCIDevice *d, unsigned vector, uint64_t *addr, uint32_t *data)
{
    if (!d->msix || vector >= d->msix->nvectors) {
        return false;
    }
    const uint8_t *e = msix_entry(d->msix, vector);
    *addr = pci_get_long(e + PCI_MSIX_ENTRY_LOWER_ADDR) |
            (uint64_t)pci_get_long(e + PCI_MSIX_ENTRY_UPPER_ADDR) << 32;
    *data = pci_get_long(e + PCI_MSIX_ENTRY_DATA);
    return true;
}

static void msix_route_release(MSIXRoute *r)
{
    const AccelOps *ops = accel_get_ops();
    if (r->gsi >= 0) {
        if (ops->irqfd_del) {
            ops->irqfd_del(r->fd, r->gsi);
        }
        if (ops->msi_route_remove) {
            ops->msi_route_remove(r->gsi);
        }
    }
    if (r->fd >= 0) {
        close(r->fd);
    }
    r->gsi = r->fd = -1;
}

static void msix_routes_cancel_deferred(MSIXState *m)
{
    m->defer_routes = false;
    if (m->route_idle) {
        g_source_destroy(m->route_idle);
        g_source_unref(m->route_idle);
        m->route_idle = NULL;
    }
}

static void msix_routes_release(MSIXState *m)
{
    msix_routes_cancel_deferred(m);
    for (unsigned v = 0; m->routes && v < m->nvectors; v++) {
        msix_route_release(&m->routes[v]);
        m->routes[v].wanted = false;
    }
}

/* A route and its irqfd for the message (addr, data); false when the accelerator has
 * no such path or ran out of routes. */
static bool msix_route_build(MSIXRoute *r, uint64_t addr, uint32_t data)
{
    const AccelOps *ops = accel_get_ops();
    r->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    r->gsi = r->fd >= 0 ? ops->msi_route_add(addr, data) : -1;
    if (r->gsi < 0 || !ops->irqfd_add(r->fd, r->gsi)) {
        msix_route_release(r);
        return false;
    }
    r->addr = addr;
    r->data = data;
    return true;
}

static gboolean msix_routes_build_idle(gpointer opaque)
{
    MSIXState *m = opaque;
    g_source_unref(m->route_idle);
    m->route_idle = NULL;
    m->defer_routes = false;
    for (unsigned v = 0; v < m->nvectors; v++) {
        MSIXRoute *r = &m->routes[v];
        uint64_t addr;
        uint32_t data;
        if (r->wanted && r->gsi < 0 && !msix_vector_masked(m->dev, v)) {
            msix_get_message(m->dev, v, &addr, &data);
            msix_route_build(r, addr, data);
        }
        r->wanted = false;
    }
    return G_SOURCE_REMOVE;
}

/* Deliver through the vector's irqfd, creating or re-targeting its route; false when
 * the accelerator has no such path (or ran out of routes, or routes are deferred): use
 * msi_send. */
static bool msix_irqfd_send(MSIXState *m, unsigned vector, uint64_t addr, uint32_t data)
{
    const AccelOps *ops = accel_get_ops();
    if (!ops->msi_route_add || !ops->irqfd_add) {
        return false;
    }
    MSIXRoute *r = &m->routes[vector];
    if (r->gsi < 0 && m->defer_routes) {
        r->wanted = true;
        if (!m->route_idle) {
            m->route_idle = g_idle_source_new();
            g_source_set_priority(m->route_idle, G_PRIORITY_LOW);
            g_source_set_callback(m->route_idle, msix_routes_build_idle, m, NULL);
            g_source_attach(m->route_idle, main_loop_context());
        }
        return false;
    }
    if (r->gsi < 0) {
        if (!msix_route_build(r, addr, data)) {
            return false;
        }
    } else if (r->addr != addr || r->data != data) {
        if (!ops->msi_route_update(r->gsi, addr, data)) {
            msix_route_release(r);
            return false;
        }
    }
    r->addr = addr;
    r->data = data;
    uint64_t one = 1;
    return write(r->fd, &one, sizeof(one)) == sizeof(one);
}

static void msix_send(PCIDevice *d, unsigned vector)
{
    uint64_t addr;
    uint32_t data;
    if (!(pci_get_word(d->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        return; /* the bus-master write never leaves the device */
    }
    msix_get_message(d, vector, &addr, &data);
    if (!msix_irqfd_send(d->msix, vector, addr, data)) {
        msi_send(addr, data);
    }
}

void msix_notify(PCIDevice *d, unsigned vector)
{
    if (!d->msix || vector >= d->msix->nvectors) {
        return;
    }
    if (msix_vector_masked(d, vector)) {
        msix_set_pending(d->msix, vector, true);
        return;
    }
    msix_send(d, vector);
}

/* A vector just became deliverable: send what it held back. */
static void msix_vector_unmasked(PCIDevice *d, unsigned vector)
{
    if (msix_pending(d->msix, vector) && !msix_vector_masked(d, vector)) {
        msix_set_pending(d->msix, vector, false);
        msix_send(d, vector);
    }
}

void msix_config_written(PCIDevice *d)
{
    MSIXState *m = d->msix;
    bool was_masked = m->function_masked;
    m->function_masked = msix_function_masked(d);
    if (msix_enabled(d)) {
        /* MSI-X and INTx are exclusive: enabling MSI-X releases the line. */
        pci_set_irq(d, false);
    }
    if (was_masked && !m->function_masked) {
        for (unsigned v = 0; v < m->nvectors; v++) {
            msix_vector_unmasked(d, v);
        }
    }
}

static uint64_t msix_bytes_read(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static uint64_t msix_table_read(void *opaque, uint64_t offset, unsigned size)
{
    MSIXState *m = opaque;
    return msix_bytes_read(m->table + offset, size);
}

static void msix_table_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    MSIXState *m = opaque;
    unsigned vector = offset / PCI_MSIX_ENTRY_SIZE;
    bool was_masked = msix_vector_masked(m->dev, vector);
    for (unsigned i = 0; i < size; i++) {
        m->table[offset + i] = value >> (8 * i);
    }
    /* Only the mask bit of vector control is defined; the rest reads as zero. */
    uint8_t *ctrl = msix_entry(m, vector) + PCI_MSIX_ENTRY_VECTOR_CTRL;
    pci_set_long(ctrl, pci_get_long(ctrl) & PCI_MSIX_ENTRY_CTRL_MASKBIT);
    if (was_masked) {
        msix_vector_unmasked(m->dev, vector);
    }
}

static const MemoryRegionOps msix_table_ops = {
    .read = msix_table_read,
    .write = msix_table_write,
};

static uint64_t msix_pba_read(void *opaque, uint64_t offset, unsigned size)
{
    MSIXState *m = opaque;
    return msix_bytes_read(m->pba + offset, size);
}

static void msix_pba_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    /* The PBA is read-only. */
}

static const MemoryRegionOps msix_pba_ops = {
    .read = msix_pba_read,
    .write = msix_pba_write,
};

static uint64_t msix_empty_read(void *opaque, uint64_t offset, unsigned size)
{
    return 0;
}

static void msix_empty_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
}

/* The rest of a BAR msix_init created: reserved, reads zero. */
static const MemoryRegionOps msix_empty_ops = {
    .read = msix_empty_read,
    .write = msix_empty_write,
};

static bool msix_fits(PCIDevice *d, int bar, uint32_t offset, uint32_t len, const char *what,
                      GError **errp)
{
    if (bar < 0 || bar >= PCI_NUM_BARS || (offset & PCI_MSIX_BIR_MASK)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%s: MSI-X %s: BAR %d offset 0x%x is not a valid location", d->name, what,
                    bar, offset);
        return false;
    }
    const MemoryRegion *mr = d->bars[bar].mr;
    if (mr && (d->bars[bar].type & PCI_BASE_ADDRESS_SPACE_IO)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s: MSI-X %s: BAR %d is an I/O BAR",
                    d->name, what, bar);
        return false;
    }
    if (mr && (uint64_t)offset + len > mr->size) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%s: MSI-X %s does not fit in BAR %d (%u bytes at 0x%x, BAR is 0x%" PRIx64
                    " bytes)",
                    d->name, what, bar, len, offset, mr->size);
        return false;
    }
    return true;
}

/* Register a BAR that holds only MSI-X structures, sized to reach `end`. */
static void msix_create_bar(PCIDevice *d, MemoryRegion *mr, int bar, uint64_t end)
{
    uint64_t size = 4096;
    while (size < end) {
        size <<= 1;
    }
    memory_region_init(mr, ADDR_SPACE_MEMORY, "msix-bar", size, &msix_empty_ops, NULL);
    pci_register_bar(d, bar, 0, mr);
}

bool msix_init(PCIDevice *d, unsigned nvectors, int table_bar, uint32_t table_offset,
               int pba_bar, uint32_t pba_offset, GError **errp)
{
    if (d->msix) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s: MSI-X already set up", d->name);
        return false;
    }
    if (nvectors < 1 || nvectors > PCI_MSIX_MAX_VECTORS) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%s: %u MSI-X vectors requested (1-%d supported)", d->name, nvectors,
                    PCI_MSIX_MAX_VECTORS);
        return false;
    }
    uint32_t table_len = nvectors * PCI_MSIX_ENTRY_SIZE;
    uint32_t pba_len = (nvectors + 63) / 64 * 8;
    if (!msix_fits(d, table_bar, table_offset, table_len, "table", errp) ||
        !msix_fits(d, pba_bar, pba_offset, pba_len, "PBA", errp)) {
        return false;
    }
    if (table_bar == pba_bar && table_offset < pba_offset + pba_len &&
        pba_offset < table_offset + table_len) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%s: MSI-X table and PBA overlap in BAR %d", d->name, table_bar);
        return false;
    }

    MSIXState *m = g_new0(MSIXState, 1);
    GError *err = NULL;
    m->cap = pci_add_capability(d, PCI_CAP_ID_MSIX, PCI_MSIX_CAP_SIZE, &err);
    if (!m->cap) {
        g_propagate_error(errp, err);
        g_free(m);
        return false;
    }
    m->dev = d;
    m->nvectors = nvectors;
    m->table_bar = table_bar;
    m->pba_bar = pba_bar;
    m->table_offset = table_offset;
    m->pba_offset = pba_offset;
    m->table = g_malloc0(table_len);
    m->table_len = table_len;
    m->pba = g_malloc0(pba_len);
    m->pba_size = pba_len;
    m->function_masked = true;
    m->routes = g_new(MSIXRoute, nvectors);
    for (unsigned v = 0; v < nvectors; v++) {
        m->routes[v] = (MSIXRoute){.gsi = -1, .fd = -1};
    }
    memory_region_init(&m->table_mr, ADDR_SPACE_MEMORY, "msix-table", table_len,
                       &msix_table_ops, m);
    memory_region_init(&m->pba_mr, ADDR_SPACE_MEMORY, "msix-pba", pba_len, &msix_pba_ops, m);

    uint8_t *cap = d->config + m->cap;
    pci_set_word(cap + PCI_MSIX_FLAGS, nvectors - 1);
    pci_set_long(cap + PCI_MSIX_TABLE, table_offset | table_bar);
    pci_set_long(cap + PCI_MSIX_PBA, pba_offset | pba_bar);
    pci_set_word(d->wmask + m->cap + PCI_MSIX_FLAGS,
                 PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    d->msix = m;
    msix_reset(d);

    if (!d->bars[table_bar].mr) {
        uint64_t end = table_offset + table_len;
        if (pba_bar == table_bar) {
            end = MAX(end, (uint64_t)pba_offset + pba_len);
        }
        msix_create_bar(d, &m->own_bars[0], table_bar, end);
    }
    if (!d->bars[pba_bar].mr) {
        msix_create_bar(d, &m->own_bars[1], pba_bar, pba_offset + pba_len);
    }
    msix_update_mappings(d);
    return true;
}

void msix_reset(PCIDevice *d)
{
    MSIXState *m = d->msix;
    if (!m) {
        return;
    }
    memset(m->table, 0, m->nvectors * PCI_MSIX_ENTRY_SIZE);
    for (unsigned v = 0; v < m->nvectors; v++) {
        pci_set_long(msix_entry(m, v) + PCI_MSIX_ENTRY_VECTOR_CTRL,
                     PCI_MSIX_ENTRY_CTRL_MASKBIT);
    }
    memset(m->pba, 0, m->pba_size);
    m->function_masked = msix_function_masked(d);
    msix_routes_release(m);
}

static void msix_place(PCIDevice *d, MemoryRegion *mr, int bar, uint32_t offset)
{
    uint64_t base = pci_bar_mapped_address(d, bar);
    if (d->devfn < 0 || base == PCI_BAR_UNMAPPED) {
        memory_region_unmap(mr);
    } else {
        /* Re-map even in place: the table must stay above its BAR's own region. */
        memory_region_map(mr, base + offset);
    }
}

void msix_update_mappings(PCIDevice *d)
{
    MSIXState *m = d->msix;
    if (m) {
        msix_place(d, &m->table_mr, m->table_bar, m->table_offset);
        msix_place(d, &m->pba_mr, m->pba_bar, m->pba_offset);
    }
}

void msix_uninit(PCIDevice *d)
{
    MSIXState *m = d->msix;
    if (!m) {
        return;
    }
    msix_unmap(d);
    msix_routes_release(m);
    g_free(m->routes);
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        if (d->bars[i].mr == &m->own_bars[0] || d->bars[i].mr == &m->own_bars[1]) {
            memory_region_unmap(d->bars[i].mr);
            d->bars[i].mr = NULL;
        }
    }
    g_free(m->table);
    g_free(m->pba);
    g_free(m);
    d->msix = NULL;
}

void msix_unmap(PCIDevice *d)
{
    if (d->msix) {
        memory_region_unmap(&d->msix->table_mr);
        memory_region_unmap(&d->msix->pba_mr);
    }
}

/* ---- migration --------------------------------------------------------------------- */

const VMStateDescription vmstate_msix = {
    .name = "msix",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields =
        (const VMStateField[]){
            VMSTATE_UINT32_EQUAL(nvectors, MSIXState),
            VMSTATE_VBUFFER_POINTER_UINT32(table, MSIXState, table_len,
                                           PCI_MSIX_MAX_VECTORS *PCI_MSIX_ENTRY_SIZE),
            VMSTATE_VBUFFER_POINTER_UINT32(pba, MSIXState, pba_size, PCI_MSIX_MAX_VECTORS / 8),
            VMSTATE_END_OF_LIST(),
        },
};

void msix_post_load(PCIDevice *d)
{
    MSIXState *m = d->msix;
    for (unsigned v = 0; v < m->nvectors; v++) {
        /* As msix_table_write keeps it: only the mask bit of vector control exists. */
        uint8_t *ctrl = msix_entry(m, v) + PCI_MSIX_ENTRY_VECTOR_CTRL;
        pci_set_long(ctrl, pci_get_long(ctrl) & PCI_MSIX_ENTRY_CTRL_MASKBIT);
    }
    for (unsigned v = m->nvectors; v < m->pba_size * 8; v++) {
        msix_set_pending(m, v, false);
    }
    m->function_masked = msix_function_masked(d);
    /* Rebuilt from the loaded table, but not on the first interrupts after the arrival:
     * a route costs KVM_SET_GSI_ROUTING (an SRCU grace period) and KVM_IRQFD, measured
     * at 0.4 to 22 ms each in the lab, on the path of the guest's first packets. Those
     * go as single messages (QEMU's way without vhost) and the routes are built once
     * the main loop is idle. */
    msix_routes_release(m);
    m->defer_routes = true;
    /* A vector cannot be pending and deliverable at once on a consistent source; if the
     * stream says so, deliver it now rather than hold it forever. */
    for (unsigned v = 0; v < m->nvectors; v++) {
        msix_vector_unmasked(d, v);
    }
}
