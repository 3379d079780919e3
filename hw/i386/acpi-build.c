/*
 * acpi-build.c: the smallest ACPI that gives a Linux guest power-off: RSDP, RSDT, FADT
 * (PM1a event/control, PM timer and reset register on I/O ports, SCI on IRQ 9), FACS,
 * MADT (the same CPUs, IOAPIC and wiring as the MP table) and a DSDT with the PCI root
 * bridge (its windows and the _PRT of INTx to IOAPIC pins) and \_S5.
 *
 * Why ACPI at all: Linux without it cannot power a PC off (it halts), and a halted vCPU
 * never leaves the kernel; with it `poweroff` writes SLP_EN to PM1a_CNT, an I/O exit
 * tern sees (acpi-pm.c). Once the guest uses ACPI its PCI root and interrupt routing
 * must come from the DSDT, hence PCI0 and _PRT. The AML is built by hand: a few opcodes.
 * The FADT's GPE0 block and the DSDT's slot devices and methods give the guest QEMU's
 * ACPI PCI hotplug (acpi-pcihp.h): GPE 1 runs \_GPE._E01, which notifies the slots.
 */
#include <stdio.h>
#include <string.h>
#include "bswap.h"
#include "hw/i386/acpi-pcihp.h"
#include "hw/i386/x86-tables.h"
#include "hw/memory.h"
#include "hw/pci.h"

#define SDT_HEADER_LEN 36
#define OEM_ID "TERN  "
#define OEM_TABLE_ID "TERN-PC "

/* --- byte buffers --------------------------------------------------------------------- */

typedef GByteArray Buf;

static void buf_u8(Buf *b, uint8_t v)
{
    g_byte_array_append(b, &v, 1);
}

static void buf_le(Buf *b, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++) {
        buf_u8(b, v >> (8 * i));
    }
}

static void buf_str(Buf *b, const char *s, size_t n)
{
    g_byte_array_append(b, (const uint8_t *)s, n);
}

static void buf_cat(Buf *b, Buf *tail)
{
    g_byte_array_append(b, tail->data, tail->len);
    g_byte_array_unref(tail);
}

/* --- AML (ACPI 6.x chapter 20) -------------------------------------------------------- */

enum {
    AML_ZERO = 0x00,
    AML_ONE = 0x01,
    AML_NAME = 0x08,
    AML_BYTE = 0x0a,
    AML_WORD = 0x0b,
    AML_DWORD = 0x0c,
    AML_QWORD = 0x0e,
    AML_SCOPE = 0x10,
    AML_BUFFER = 0x11,
    AML_PACKAGE = 0x12,
    AML_METHOD = 0x14,
    AML_DUAL_NAME = 0x2e,
    AML_MULTI_NAME = 0x2f,
    AML_EXT = 0x5b,
    AML_EXT_MUTEX = 0x01,
    AML_EXT_ACQUIRE = 0x23,
    AML_EXT_RELEASE = 0x27,
    AML_EXT_OP_REGION = 0x80,
    AML_EXT_FIELD = 0x81,
    AML_EXT_DEVICE = 0x82,
    AML_ROOT = 0x5c,
    AML_ARG0 = 0x68,
    AML_STORE = 0x70,
    AML_SHIFT_LEFT = 0x79,
    AML_AND = 0x7b,
    AML_NOTIFY = 0x86,
    AML_IF = 0xa0,
    AML_RETURN = 0xa4,
};

static void aml_int(Buf *b, uint64_t v)
{
    if (v <= 1) {
        buf_u8(b, v ? AML_ONE : AML_ZERO);
    } else if (v <= 0xff) {
        buf_u8(b, AML_BYTE), buf_le(b, v, 1);
    } else if (v <= 0xffff) {
        buf_u8(b, AML_WORD), buf_le(b, v, 2);
    } else if (v <= 0xffffffff) {
        buf_u8(b, AML_DWORD), buf_le(b, v, 4);
    } else {
        buf_u8(b, AML_QWORD), buf_le(b, v, 8);
    }
}

/* A NameString: "XXXX", "\\XXXX" or a dotted path "\\_SB_.PCI0.PCNT"; segments are
 * exactly 4 characters. */
static void aml_name(Buf *b, const char *name)
{
    if (name[0] == '\\') {
        buf_u8(b, AML_ROOT);
        name++;
    }
    size_t len = strlen(name), segs = (len + 1) / 5;
    g_assert(len == segs * 5 - 1);
    if (segs == 2) {
        buf_u8(b, AML_DUAL_NAME);
    } else if (segs > 2) {
        buf_u8(b, AML_MULTI_NAME), buf_u8(b, segs);
    }
    for (size_t i = 0; i < segs; i++) {
        g_assert(i == 0 || name[5 * i - 1] == '.');
        buf_str(b, name + 5 * i, 4);
    }
}

/* PkgLength counts itself: 1 byte up to 63, else a lead byte plus 1-3 bytes. */
static void aml_pkg_wrap(Buf *out, Buf *body)
{
    size_t len = body->len;
    if (len + 1 < 64) {
        buf_u8(out, len + 1);
    } else {
        unsigned extra = len + 2 < (1 << 12) ? 1 : len + 3 < (1 << 20) ? 2 : 3;
        size_t total = len + 1 + extra;
        buf_u8(out, (extra << 6) | (total & 0xf));
        for (unsigned i = 0; i < extra; i++) {
            buf_u8(out, total >> (4 + 8 * i));
        }
    }
    buf_cat(out, body);
}

/* Opcode(s), PkgLength, name, terms: the shape of Scope() and Device(). */
static void aml_named_block(Buf *out, const uint8_t *op, size_t oplen, const char *name,
                            Buf *terms)
{
    Buf *body = g_byte_array_new();
    aml_name(body, name);
    buf_cat(body, terms);
    g_byte_array_append(out, op, oplen);
    aml_pkg_wrap(out, body);
}

static void aml_scope(Buf *out, const char *name, Buf *terms)
{
    static const uint8_t op[] = {AML_SCOPE};
    aml_named_block(out, op, sizeof(op), name, terms);
}

static void aml_device(Buf *out, const char *name, Buf *terms)
{
    static const uint8_t op[] = {AML_EXT, AML_EXT_DEVICE};
    aml_named_block(out, op, sizeof(op), name, terms);
}

/* Name(name, <object already encoded in obj>) */
static void aml_name_obj(Buf *out, const char *name, Buf *obj)
{
    buf_u8(out, AML_NAME);
    aml_name(out, name);
    buf_cat(out, obj);
}

static void aml_name_int(Buf *out, const char *name, uint64_t v)
{
    Buf *obj = g_byte_array_new();
    aml_int(obj, v);
    aml_name_obj(out, name, obj);
}

static Buf *aml_buffer(Buf *bytes)
{
    Buf *body = g_byte_array_new(), *out = g_byte_array_new();
    aml_int(body, bytes->len);
    buf_cat(body, bytes);
    buf_u8(out, AML_BUFFER);
    aml_pkg_wrap(out, body);
    return out;
}

/* Package of already-encoded elements. */
static Buf *aml_package(unsigned count, Buf *elements)
{
    Buf *body = g_byte_array_new(), *out = g_byte_array_new();
    buf_u8(body, count);
    buf_cat(body, elements);
    buf_u8(out, AML_PACKAGE);
    aml_pkg_wrap(out, body);
    return out;
}

/* --- resource descriptors (ACPI 6.x 6.4) ---------------------------------------------- */

enum { RES_MEM = 0, RES_IO = 1, RES_BUS = 2 };
#define RES_MIN_MAX_FIXED 0x0c /* producer, positive decode, min and max fixed */

static void res_word(Buf *b, uint8_t type, uint8_t type_flags, uint16_t min, uint16_t max)
{
    buf_u8(b, 0x88), buf_le(b, 13, 2);
    buf_u8(b, type), buf_u8(b, RES_MIN_MAX_FIXED), buf_u8(b, type_flags);
    buf_le(b, 0, 2), buf_le(b, min, 2), buf_le(b, max, 2), buf_le(b, 0, 2);
    buf_le(b, max - min + 1, 2);
}

static void res_dword_mem(Buf *b, uint32_t min, uint32_t max)
{
    buf_u8(b, 0x87), buf_le(b, 23, 2);
    buf_u8(b, RES_MEM), buf_u8(b, RES_MIN_MAX_FIXED), buf_u8(b, 0x01 /* RW, uncached */);
    buf_le(b, 0, 4), buf_le(b, min, 4), buf_le(b, max, 4), buf_le(b, 0, 4);
    buf_le(b, (uint64_t)max - min + 1, 4);
}

static void res_io_fixed(Buf *b, uint16_t port, uint8_t len)
{
    buf_u8(b, 0x47), buf_u8(b, 0x01 /* 16-bit decode */);
    buf_le(b, port, 2), buf_le(b, port, 2), buf_u8(b, 1), buf_u8(b, len);
}

/* --- DSDT ----------------------------------------------------------------------------- */

static uint64_t low_ram_end(void)
{
    const RamBlock *blocks;
    unsigned n = guest_ram_blocks(&blocks);
    return n && blocks[0].gpa == 0 ? blocks[0].size : 0;
}

/* The root bridge decodes every bus, all I/O but its own config ports, and memory from
 * the end of low RAM to the IOAPIC: where Linux places BARs (no firmware did). */
static Buf *pci0_crs(void)
{
    Buf *r = g_byte_array_new();
    res_word(r, RES_BUS, 0, 0, 0xff);
    res_io_fixed(r, PCI_CONFIG_ADDRESS_PORT, 8);
    res_word(r, RES_IO, 0x03, 0x0000, PCI_CONFIG_ADDRESS_PORT - 1);
    res_word(r, RES_IO, 0x03, PCI_CONFIG_ADDRESS_PORT + 8, 0xffff);
    uint64_t start = MAX(low_ram_end(), 0x10000000ULL);
    res_dword_mem(r, start, 0xfebfffff);
    buf_u8(r, 0x79), buf_u8(r, 0); /* end tag, checksum 0: "ignore" */
    return aml_buffer(r);
}

/* _PRT: INTA-D of every slot to the GSI the bus drives (pci_intx_gsi). */
static Buf *pci0_prt(void)
{
    Buf *entries = g_byte_array_new();
    unsigned n = 0;
    for (int slot = 1; slot < PCI_SLOT_MAX; slot++) {
        for (int pin = 1; pin <= 4; pin++, n++) {
            Buf *e = g_byte_array_new();
            aml_int(e, ((uint32_t)slot << 16) | 0xffff);
            aml_int(e, pin - 1);
            aml_int(e, 0); /* source: none, the index is a GSI */
            aml_int(e, pci_intx_gsi(slot, pin));
            buf_cat(entries, aml_package(4, e));
        }
    }
    return aml_package(n, entries);
}

/* --- ACPI PCI hotplug (acpi-pcihp.h): the methods QEMU's pc DSDT gives the guest ------- */

/* Method(name, nargs, NotSerialized) { body } */
static void aml_method(Buf *out, const char *name, unsigned nargs, Buf *body)
{
    static const uint8_t op[] = {AML_METHOD};
    Buf *terms = g_byte_array_new();
    buf_u8(terms, nargs & 7);
    buf_cat(terms, body);
    aml_named_block(out, op, sizeof(op), name, terms);
}

static void aml_if(Buf *out, Buf *predicate, Buf *body)
{
    buf_cat(predicate, body);
    buf_u8(out, AML_IF);
    aml_pkg_wrap(out, predicate);
}

/* OperationRegion(name, SystemIO, port, len) and Field(name, DWordAcc, NoLock,
 * WriteAsZeros) with a 32-bit field per name. */
static void aml_io_dwords(Buf *out, const char *region, uint16_t port,
                          const char *const *fields, unsigned n)
{
    buf_u8(out, AML_EXT), buf_u8(out, AML_EXT_OP_REGION);
    aml_name(out, region);
    buf_u8(out, 0x01); /* SystemIO */
    aml_int(out, port);
    aml_int(out, 4 * n);
    Buf *f = g_byte_array_new();
    aml_name(f, region);
    buf_u8(f, 0x03 | (2 << 5)); /* DWordAcc, NoLock, WriteAsZeros */
    for (unsigned i = 0; i < n; i++) {
        buf_str(f, fields[i], 4);
        buf_u8(f, 32); /* the field's bit length, as a one-byte PkgLength */
    }
    buf_u8(out, AML_EXT), buf_u8(out, AML_EXT_FIELD);
    aml_pkg_wrap(out, f);
}

static void aml_acquire(Buf *out, const char *mutex)
{
    buf_u8(out, AML_EXT), buf_u8(out, AML_EXT_ACQUIRE);
    aml_name(out, mutex);
    buf_le(out, 0xffff, 2); /* wait forever */
}

static void aml_release(Buf *out, const char *mutex)
{
    buf_u8(out, AML_EXT), buf_u8(out, AML_EXT_RELEASE);
    aml_name(out, mutex);
}

/* Store(Zero, BNUM): the registers speak of bus 0, the only one. */
static void aml_select_bus0(Buf *out)
{
    buf_u8(out, AML_STORE), aml_int(out, 0), aml_name(out, "BNUM");
}

/*
 * Inside PCI0: the registers, PCEJ(slot) (_EJ0 of every slot: write the slot to B0EJ),
 * a device per hot-pluggable slot (S<devfn in hex>, as QEMU names them) with _ADR, _SUN
 * and _EJ0, DVNT(bitmap, event) notifying the slots in a bitmap, and PCNT: bus check
 * (1) for slots in PCIU, eject request (3) for slots in PCID. \_GPE._E01 calls PCNT.
 */
static void pci0_hotplug(Buf *pci0)
{
    static const char *const st[] = {"PCIU", "PCID"}, *const ej[] = {"B0EJ"},
                             *const sel[] = {"BNUM"};
    aml_io_dwords(pci0, "PCST", ACPI_PCIHP_BASE + ACPI_PCIHP_UP, st, 2);
    aml_io_dwords(pci0, "SEJ_", ACPI_PCIHP_BASE + ACPI_PCIHP_EJECT, ej, 1);
    aml_io_dwords(pci0, "BNMR", ACPI_PCIHP_BASE + ACPI_PCIHP_SEL, sel, 1);
    buf_u8(pci0, AML_EXT), buf_u8(pci0, AML_EXT_MUTEX);
    aml_name(pci0, "BLCK");
    buf_u8(pci0, 0);

    Buf *pcej = g_byte_array_new();
    aml_acquire(pcej, "BLCK");
    aml_select_bus0(pcej);
    buf_u8(pcej, AML_STORE), buf_u8(pcej, AML_SHIFT_LEFT), aml_int(pcej, 1);
    buf_u8(pcej, AML_ARG0), buf_u8(pcej, 0), aml_name(pcej, "B0EJ");
    aml_release(pcej, "BLCK");
    buf_u8(pcej, AML_RETURN), aml_int(pcej, 0);
    aml_method(pci0, "PCEJ", 1, pcej);

    Buf *dvnt = g_byte_array_new();
    for (int slot = 1; slot < PCI_SLOT_MAX; slot++) {
        char name[5];
        snprintf(name, sizeof(name), "S%02X_", PCI_DEVFN(slot, 0));
        Buf *dev = g_byte_array_new();
        aml_name_int(dev, "_ADR", (uint32_t)slot << 16);
        aml_name_int(dev, "_SUN", slot);
        Buf *ej0 = g_byte_array_new();
        aml_name(ej0, "PCEJ"), aml_name(ej0, "_SUN");
        aml_method(dev, "_EJ0", 1, ej0);
        aml_device(pci0, name, dev);

        Buf *pred = g_byte_array_new(), *notify = g_byte_array_new();
        buf_u8(pred, AML_AND), buf_u8(pred, AML_ARG0), aml_int(pred, 1u << slot);
        buf_u8(pred, 0);
        buf_u8(notify, AML_NOTIFY), aml_name(notify, name), buf_u8(notify, AML_ARG0 + 1);
        aml_if(dvnt, pred, notify);
    }
    aml_method(pci0, "DVNT", 2, dvnt);

    Buf *pcnt = g_byte_array_new();
    aml_select_bus0(pcnt);
    aml_name(pcnt, "DVNT"), aml_name(pcnt, "PCIU"), aml_int(pcnt, 1);
    aml_name(pcnt, "DVNT"), aml_name(pcnt, "PCID"), aml_int(pcnt, 3);
    aml_method(pci0, "PCNT", 0, pcnt);
}

/* \_GPE._E01: GPE 1 is PCI hotplug. */
static void gpe_hotplug(Buf *aml)
{
    Buf *e01 = g_byte_array_new();
    aml_acquire(e01, "\\_SB_.PCI0.BLCK");
    aml_name(e01, "\\_SB_.PCI0.PCNT");
    aml_release(e01, "\\_SB_.PCI0.BLCK");
    Buf *gpe = g_byte_array_new();
    aml_method(gpe, "_E01", 0, e01);
    aml_scope(aml, "\\_GPE", gpe);
}

static Buf *dsdt_aml(void)
{
    Buf *pci0 = g_byte_array_new();
    Buf *hid = g_byte_array_new();
    buf_u8(hid, AML_DWORD), buf_le(hid, 0x030ad041, 4); /* EisaId("PNP0A03") */
    aml_name_obj(pci0, "_HID", hid);
    aml_name_int(pci0, "_ADR", 0);
    aml_name_int(pci0, "_UID", 0);
    aml_name_obj(pci0, "_CRS", pci0_crs());
    aml_name_obj(pci0, "_PRT", pci0_prt());
    pci0_hotplug(pci0);

    Buf *sb = g_byte_array_new();
    aml_device(sb, "PCI0", pci0);

    Buf *aml = g_byte_array_new();
    aml_scope(aml, "\\_SB_", sb);
    gpe_hotplug(aml);
    Buf *s5 = g_byte_array_new();
    aml_int(s5, ACPI_SLP_TYP_S5), aml_int(s5, ACPI_SLP_TYP_S5), aml_int(s5, 0), aml_int(s5, 0);
    aml_name_obj(aml, "\\_S5_", aml_package(4, s5));
    return aml;
}

/* --- tables --------------------------------------------------------------------------- */

typedef struct {
    uint8_t *base;
    uint32_t gpa;
    size_t used, room;
} Area;

/* Place a table (SDT header filled in here) at the next `align` boundary; returns its
 * guest address, 0 when it does not fit. */
static uint32_t area_add(Area *a, const char *sig, uint8_t rev, Buf *body, size_t align)
{
    size_t at = (a->used + align - 1) & ~(align - 1);
    size_t len = SDT_HEADER_LEN + body->len;
    if (at + len > a->room) {
        g_byte_array_unref(body);
        return 0;
    }
    uint8_t *t = a->base + at;
    memcpy(t, sig, 4);
    st_le(t + 4, 4, len);
    t[8] = rev;
    t[9] = 0;
    memcpy(t + 10, OEM_ID, 6);
    memcpy(t + 16, OEM_TABLE_ID, 8);
    st_le(t + 24, 4, 1);
    memcpy(t + 28, "TERN", 4);
    st_le(t + 32, 4, 1);
    memcpy(t + SDT_HEADER_LEN, body->data, body->len);
    t[9] = x86_table_checksum(t, len);
    g_byte_array_unref(body);
    a->used = at + len;
    return a->gpa + at;
}

static Buf *madt_body(unsigned ncpus)
{
    Buf *b = g_byte_array_new();
    buf_le(b, X86_LAPIC_ADDR, 4);
    buf_le(b, 1, 4); /* PCAT_COMPAT: the 8259s are there (in KVM) */
    for (unsigned i = 0; i < ncpus; i++) {
        buf_u8(b, 0), buf_u8(b, 8), buf_u8(b, i), buf_u8(b, i), buf_le(b, 1, 4);
    }
    buf_u8(b, 1), buf_u8(b, 12), buf_u8(b, ncpus), buf_u8(b, 0);
    buf_le(b, X86_IOAPIC_ADDR, 4), buf_le(b, 0, 4);
    /* ISA IRQs are identity-mapped (see mptable.c); only the SCI is level, active high. */
    buf_u8(b, 2), buf_u8(b, 10), buf_u8(b, 0), buf_u8(b, ACPI_SCI_IRQ);
    buf_le(b, ACPI_SCI_IRQ, 4), buf_le(b, 0x000d, 2);
    /* LINT1 of every processor is NMI. */
    buf_u8(b, 4), buf_u8(b, 6), buf_u8(b, 0xff), buf_le(b, 0, 2), buf_u8(b, 1);
    return b;
}

static Buf *fadt_body(uint32_t facs, uint32_t dsdt)
{
    uint8_t f[244 - SDT_HEADER_LEN] = {0};
#define FADT(off, v, n) st_le(f + (off)-SDT_HEADER_LEN, (n), (v))
    FADT(36, facs, 4);
    FADT(40, dsdt, 4);
    FADT(46, ACPI_SCI_IRQ, 2);
    FADT(56, ACPI_PM1A_EVT, 4);
    FADT(64, ACPI_PM1A_CNT, 4);
    FADT(76, ACPI_PM_TMR, 4);
    FADT(80, ACPI_GPE0_BASE, 4);
    FADT(88, ACPI_PM1_EVT_LEN, 1);
    FADT(89, ACPI_PM1_CNT_LEN, 1);
    FADT(91, ACPI_PM_TMR_LEN, 1);
    FADT(92, ACPI_GPE0_LEN, 1);
    FADT(96, 0x65, 2);  /* C2 latency > 100 us: no C2 */
    FADT(98, 0x3e9, 2); /* C3 latency > 1000 us: no C3 */
    FADT(108, CMOS_CENTURY_INDEX, 1);
    FADT(109, 1u << 2, 2); /* IAPC_BOOT_ARCH: no VGA; no 8042 */
    /* WBINVD, C1 on all CPUs, no fixed power/sleep buttons, 32-bit PM timer, reset reg */
    FADT(112, (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 8) | (1u << 10), 4);
    FADT(116, 1, 1); /* RESET_REG: system I/O, 8 bits at offset 0, byte access */
    FADT(117, 8, 1);
    FADT(118, 0, 1);
    FADT(119, 1, 1);
    FADT(120, ACPI_RESET_REG, 8);
    FADT(128, ACPI_RESET_VALUE, 1);
#undef FADT
    Buf *b = g_byte_array_new();
    g_byte_array_append(b, f, sizeof(f));
    return b;
}

size_t acpi_tables_write(uint8_t *dst, size_t room, uint32_t gpa, unsigned ncpus)
{
    const size_t rsdp_len = 20; /* ACPI 1.0 RSDP: RSDT only */
    Area a = {.base = dst, .gpa = gpa, .used = rsdp_len, .room = room};

    uint32_t dsdt = area_add(&a, "DSDT", 2, dsdt_aml(), 16);
    /* FACS has no SDT header: signature, length, then zeros; 64-byte aligned. */
    size_t facs_at = (a.used + 63) & ~(size_t)63;
    if (!dsdt || facs_at + 64 > room) {
        return 0;
    }
    memcpy(dst + facs_at, "FACS", 4);
    st_le(dst + facs_at + 4, 4, 64);
    dst[facs_at + 32] = 1; /* version */
    a.used = facs_at + 64;
    uint32_t facs = gpa + facs_at;

    uint32_t fadt = area_add(&a, "FACP", 3, fadt_body(facs, dsdt), 16);
    uint32_t madt = area_add(&a, "APIC", 1, madt_body(ncpus), 16);
    Buf *rsdt_body = g_byte_array_new();
    buf_le(rsdt_body, fadt, 4);
    buf_le(rsdt_body, madt, 4);
    uint32_t rsdt = area_add(&a, "RSDT", 1, rsdt_body, 16);
    if (!fadt || !madt || !rsdt) {
        return 0;
    }

    memcpy(dst, "RSD PTR ", 8);
    memcpy(dst + 9, OEM_ID, 6);
    dst[15] = 0; /* revision 0: ACPI 1.0 */
    st_le(dst + 16, 4, rsdt);
    dst[8] = x86_table_checksum(dst, rsdp_len);
    return a.used;
}
