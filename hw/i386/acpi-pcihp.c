/*
 * acpi-pcihp.c: ACPI PCI hotplug on the pc machine (the register layout is in
 * acpi-pcihp.h). device_add sets the slot's bit in PCIU, device_del its bit in PCID; both
 * raise GPE 1 so the guest runs its \_GPE._E01 handler. The device leaves only when the
 * guest (or a qtest client acting as one) writes its slot to B0EJ, or at the next system
 * reset: then it is freed and DEVICE_DELETED goes out (qdev.c).
 *
 * Every guest write is a request to check: a bus other than 0, an empty bitmap, an empty
 * slot or one whose device cannot be unplugged (the host bridge) does nothing.
 */
#include "hw/irq.h"
#include "hw/i386/acpi-pcihp.h"
#include "hw/i386/x86-tables.h"
#include "hw/memory.h"
#include "hw/pci.h"
#include "hw/qdev.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"

struct AcpiPciHp {
    MemoryRegion io, gpe;
    uint32_t up, down; /* slot bitmaps of bus 0 */
    uint32_t select;   /* SEL: the bus the other registers speak of */
    uint16_t gpe_sts, gpe_en;
    bool sci;
    VMStateEntry *vmse;
};

/* The one instance: the qdev hotplug callbacks carry no opaque. */
static AcpiPciHp *pcihp;

static void pcihp_update_sci(AcpiPciHp *s)
{
    /* acpi-pm.c never sets a PM1 status bit, so GPE0 alone drives the SCI. */
    bool level = (s->gpe_sts & s->gpe_en) != 0;
    if (level != s->sci) {
        s->sci = level;
        irq_set_level(ACPI_SCI_IRQ, level);
    }
}

static void pcihp_notify(AcpiPciHp *s)
{
    s->gpe_sts |= ACPI_GPE_PCI_HOTPLUG;
    pcihp_update_sci(s);
}

/* Slots whose device may go: empty slots and devices with an unplug path. */
static uint32_t pcihp_removable(void)
{
    uint32_t rmv = ~0u;
    for (int slot = 0; slot < PCI_SLOT_MAX; slot++) {
        DeviceState *ds = device_find_slot(slot);
        if (pci_bus_find(PCI_DEVFN(slot, 0)) && (!ds || !ds->dc->destroy)) {
            rmv &= ~(1u << slot);
        }
    }
    return rmv;
}

/* B0EJ: the lowest slot in the bitmap leaves the machine. */
static void pcihp_eject(AcpiPciHp *s, uint32_t slots)
{
    if (s->select != 0 || !slots) {
        return;
    }
    int slot = __builtin_ctz(slots);
    s->down &= ~(1u << slot);
    s->up &= ~(1u << slot);
    DeviceState *ds = device_find_slot(slot);
    if (ds && ds->dc->destroy) {
        device_remove(ds);
    }
}

static uint64_t pcihp_read(void *opaque, uint64_t offset, unsigned size)
{
    AcpiPciHp *s = opaque;
    uint32_t v = 0;
    if (size != 4 || (offset & 3)) {
        return 0;
    }
    if (offset == ACPI_PCIHP_SEL) {
        return s->select;
    }
    if (s->select != 0) {
        return 0; /* no such bus */
    }
    switch (offset) {
    case ACPI_PCIHP_UP:
        v = s->up;
        s->up = 0; /* QEMU clears it on read (bridge-capable interface) */
        break;
    case ACPI_PCIHP_DOWN:
        v = s->down;
        break;
    case ACPI_PCIHP_RMV:
        v = pcihp_removable();
        break;
    default: /* B0EJ has no features to report; AIDX: no acpi-index */
        break;
    }
    return v;
}

static void pcihp_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    AcpiPciHp *s = opaque;
    if (size != 4 || (offset & 3)) {
        return;
    }
    switch (offset) {
    case ACPI_PCIHP_EJECT:
        pcihp_eject(s, value);
        break;
    case ACPI_PCIHP_SEL:
        s->select = value;
        break;
    default:
        break;
    }
}

static const MemoryRegionOps pcihp_ops = {
    .read = pcihp_read,
    .write = pcihp_write,
};

/* GPE0: two status bytes (write 1 to clear), then two enable bytes. */
static uint64_t gpe_read(void *opaque, uint64_t offset, unsigned size)
{
    AcpiPciHp *s = opaque;
    uint32_t regs = s->gpe_sts | (uint32_t)s->gpe_en << 16;
    uint64_t v = 0;
    for (unsigned i = 0; i < size && offset + i < ACPI_GPE0_LEN; i++) {
        v |= (uint64_t)((regs >> (8 * (offset + i))) & 0xff) << (8 * i);
    }
    return v;
}

static void gpe_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    AcpiPciHp *s = opaque;
    for (unsigned i = 0; i < size && offset + i < ACPI_GPE0_LEN; i++) {
        unsigned at = offset + i;
        uint16_t byte = (value >> (8 * i)) & 0xff;
        if (at < 2) {
            s->gpe_sts &= ~(byte << (8 * at));
        } else {
            unsigned sh = 8 * (at - 2);
            s->gpe_en = (s->gpe_en & ~(0xff << sh)) | byte << sh;
        }
    }
    pcihp_update_sci(s);
}

static const MemoryRegionOps gpe_ops = {
    .read = gpe_read,
    .write = gpe_write,
};

static void pcihp_plug(DeviceState *ds)
{
    pcihp->up |= 1u << PCI_SLOT(ds->pci->devfn);
    pcihp_notify(pcihp);
}

static void pcihp_unplug_request(DeviceState *ds)
{
    pcihp->down |= 1u << PCI_SLOT(ds->pci->devfn);
    pcihp_notify(pcihp);
}

static const HotplugHandler pcihp_handler = {
    .plug = pcihp_plug,
    .unplug_request = pcihp_unplug_request,
};

void acpi_pcihp_reset(void)
{
    AcpiPciHp *s = pcihp;
    if (!s) {
        return;
    }
    /* A guest that never answered cannot hold a device past a reset (QEMU's rule). */
    s->select = 0;
    while (s->down) {
        pcihp_eject(s, s->down);
    }
    s->up = 0;
    s->gpe_sts = s->gpe_en = 0;
    pcihp_update_sci(s);
}

static bool pcihp_post_load(void *opaque, int version_id, GError **errp)
{
    AcpiPciHp *s = opaque;
    s->sci = !((s->gpe_sts & s->gpe_en) != 0); /* force the line to the loaded level */
    pcihp_update_sci(s);
    return true;
}

static const VMStateField pcihp_fields[] = {
    VMSTATE_UINT32(up, AcpiPciHp),     VMSTATE_UINT32(down, AcpiPciHp),
    VMSTATE_UINT32(select, AcpiPciHp), VMSTATE_UINT16(gpe_sts, AcpiPciHp),
    VMSTATE_UINT16(gpe_en, AcpiPciHp), VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_acpi_pcihp = {
    .name = "acpi-pcihp",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = pcihp_fields,
    .post_load = pcihp_post_load,
};

AcpiPciHp *acpi_pcihp_init(void)
{
    AcpiPciHp *s = g_new0(AcpiPciHp, 1);
    memory_region_init(&s->io, ADDR_SPACE_IO, "acpi-pci-hotplug", ACPI_PCIHP_LEN, &pcihp_ops,
                       s);
    memory_region_map(&s->io, ACPI_PCIHP_BASE);
    memory_region_init(&s->gpe, ADDR_SPACE_IO, "acpi-gpe0", ACPI_GPE0_LEN, &gpe_ops, s);
    memory_region_map(&s->gpe, ACPI_GPE0_BASE);
    s->vmse = vmstate_register(VMSTATE_INSTANCE_ID_ANY, &vmstate_acpi_pcihp, s);
    pcihp = s;
    device_set_hotplug_handler(&pcihp_handler);
    return s;
}

void acpi_pcihp_free(AcpiPciHp *s)
{
    if (!s) {
        return;
    }
    device_set_hotplug_handler(NULL);
    pcihp = NULL;
    vmstate_unregister(s->vmse);
    memory_region_unmap(&s->io);
    memory_region_unmap(&s->gpe);
    g_free(s);
}
