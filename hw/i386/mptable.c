/*
 * mptable.c: the Intel MultiProcessor Specification 1.4 table. Without it (or ACPI's
 * MADT) Linux finds no IOAPIC and no other CPUs and falls back to virtual wire mode.
 * Linux prefers ACPI when tern writes it too; the MP table serves `acpi=off` guests.
 */
#include <string.h>
#include "hw/i386/x86-tables.h"
#include "hw/pci.h"

#define MP_APIC_VERSION 0x14
#define MP_IOAPIC_VERSION 0x11
#define MP_BUS_PCI 0
#define MP_BUS_ISA 1

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_INTSRC, MP_LINTSRC };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };
#define MP_CPU_ENABLED 1
#define MP_CPU_BSP 2
#define MP_IRQ_ACTIVE_LOW 3
#define MP_IRQ_LEVEL (3 << 2)

struct mpf_intel {
    char signature[4]; /* "_MP_" */
    uint32_t physptr;
    uint8_t length; /* in 16-byte units */
    uint8_t specification;
    uint8_t checksum;
    uint8_t feature[5];
} __attribute__((packed));

struct mpc_table {
    char signature[4]; /* "PCMP" */
    uint16_t length;
    uint8_t spec;
    uint8_t checksum;
    char oem[8];
    char productid[12];
    uint32_t oemptr;
    uint16_t oemsize;
    uint16_t oemcount;
    uint32_t lapic;
    uint32_t reserved;
} __attribute__((packed));

struct mpc_cpu {
    uint8_t type, apicid, apicver, cpuflag;
    uint32_t cpufeature, featureflag;
    uint32_t reserved[2];
} __attribute__((packed));

struct mpc_bus {
    uint8_t type, busid;
    char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
    uint8_t type, apicid, apicver, flags;
    uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
    uint8_t type, irqtype;
    uint16_t irqflag;
    uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

_Static_assert(sizeof(struct mpf_intel) == 16, "mpf");
_Static_assert(sizeof(struct mpc_table) == 44, "mpc");
_Static_assert(sizeof(struct mpc_cpu) == 20, "cpu");
_Static_assert(sizeof(struct mpc_intsrc) == 8, "intsrc");

uint8_t x86_table_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++) {
        sum += p[i];
    }
    return (uint8_t)-sum;
}

typedef struct {
    uint8_t *base;
    size_t used, room;
    uint16_t entries;
} MpBuf;

static void *mp_add(MpBuf *b, size_t len)
{
    if (b->used + len > b->room) {
        b->room = 0; /* overflow: mptable_write reports it */
        return NULL;
    }
    void *p = b->base + b->used;
    memset(p, 0, len);
    b->used += len;
    b->entries++;
    return p;
}

static void mp_intsrc(MpBuf *b, uint8_t type, uint16_t flags, uint8_t bus, uint8_t busirq,
                      uint8_t apic, uint8_t pin)
{
    struct mpc_intsrc *e = mp_add(b, sizeof(*e));
    if (e) {
        *e = (struct mpc_intsrc){MP_INTSRC, type, flags, bus, busirq, apic, pin};
    }
}

size_t mptable_write(uint8_t *dst, size_t room, uint32_t gpa, unsigned ncpus)
{
    const size_t head = sizeof(struct mpf_intel);
    if (room < head + sizeof(struct mpc_table)) {
        return 0;
    }
    MpBuf b = {.base = dst + head, .room = room - head};
    struct mpc_table *t = mp_add(&b, sizeof(*t));
    b.entries = 0;
    uint8_t ioapic_id = ncpus;

    for (unsigned i = 0; i < ncpus; i++) {
        struct mpc_cpu *cpu = mp_add(&b, sizeof(*cpu));
        if (cpu) {
            cpu->type = MP_PROCESSOR;
            cpu->apicid = i;
            cpu->apicver = MP_APIC_VERSION;
            cpu->cpuflag = MP_CPU_ENABLED | (i == 0 ? MP_CPU_BSP : 0);
            cpu->cpufeature = 0x600;  /* family 6: Linux only prints it */
            cpu->featureflag = 0x201; /* FPU, APIC */
        }
    }
    static const char *const bus_names[] = {[MP_BUS_PCI] = "PCI   ", [MP_BUS_ISA] = "ISA   "};
    for (uint8_t id = 0; id < G_N_ELEMENTS(bus_names); id++) {
        struct mpc_bus *bus = mp_add(&b, sizeof(*bus));
        if (bus) {
            bus->type = MP_BUS;
            bus->busid = id;
            memcpy(bus->bustype, bus_names[id], 6);
        }
    }
    struct mpc_ioapic *io = mp_add(&b, sizeof(*io));
    if (io) {
        *io = (struct mpc_ioapic){MP_IOAPIC, ioapic_id, MP_IOAPIC_VERSION, 1, X86_IOAPIC_ADDR};
    }
    /* ISA IRQ n on IOAPIC pin n, as KVM's default GSI routing wires them (so the PIT's
     * IRQ 0 is pin 0, not pin 2 as on most boards). IRQ 2 is the PIC cascade. */
    for (uint8_t irq = 0; irq < X86_ISA_IRQS; irq++) {
        if (irq != 2) {
            mp_intsrc(&b, MP_INT, 0, MP_BUS_ISA, irq, ioapic_id, irq);
        }
    }
    /* PCI INTx: level-triggered, active low, slot and pin as the bus routes them. */
    for (int slot = 0; slot < PCI_SLOT_MAX; slot++) {
        PCIDevice *d = pci_bus_find(PCI_DEVFN(slot, 0));
        int pin = d ? d->config[PCI_INTERRUPT_PIN] : 0;
        if (pin >= 1 && pin <= 4) {
            mp_intsrc(&b, MP_INT, MP_IRQ_ACTIVE_LOW | MP_IRQ_LEVEL, MP_BUS_PCI,
                      (slot << 2) | (pin - 1), ioapic_id, pci_intx_gsi(slot, pin));
        }
    }
    /* LINT0 takes the PIC (ExtINT), LINT1 is NMI, on every local APIC. */
    struct mpc_intsrc *l0 = mp_add(&b, sizeof(*l0));
    struct mpc_intsrc *l1 = mp_add(&b, sizeof(*l1));
    if (!b.room || !t || !l0 || !l1) {
        return 0;
    }
    *l0 = (struct mpc_intsrc){MP_LINTSRC, MP_EXTINT, 0, MP_BUS_ISA, 0, 0xff, 0};
    *l1 = (struct mpc_intsrc){MP_LINTSRC, MP_NMI, 0, MP_BUS_ISA, 0, 0xff, 1};

    memcpy(t->signature, "PCMP", 4);
    t->length = b.used;
    t->spec = 4;
    memcpy(t->oem, "TERN    ", 8);
    memcpy(t->productid, "TERN-PC     ", 12);
    t->oemcount = b.entries;
    t->lapic = X86_LAPIC_ADDR;
    t->checksum = x86_table_checksum((uint8_t *)t, b.used);

    struct mpf_intel *mpf = (struct mpf_intel *)dst;
    memset(mpf, 0, sizeof(*mpf));
    memcpy(mpf->signature, "_MP_", 4);
    mpf->physptr = gpa + head;
    mpf->length = 1;
    mpf->specification = 4;
    mpf->checksum = x86_table_checksum(dst, head);
    return head + b.used;
}
