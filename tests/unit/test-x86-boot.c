/*
 * test-x86-boot.c: the firmware-less boot loader and the tables it writes, on guest RAM
 * without a CPU (kvm not started: x86_load_linux only fills memory): boot_params from a
 * synthetic bzImage (setup header, loader type, command line, initrd at the top of low
 * RAM, e820), the MP table and the ACPI tables (signatures, checksums, the fields Linux
 * relies on), and the refusals with their messages.
 */
#include <string.h>
#include <sys/stat.h>
#include "hw/i386/pc.h"
#include "hw/i386/x86-boot.h"
#include "hw/i386/x86-tables.h"
#include "hw/memory.h"
#include "hw/pci.h"

#define RAM_MB 64
#define BP 0x7000
#define PAYLOAD 0x2000

static uint32_t rd32(uint64_t gpa)
{
    uint32_t v;
    memcpy(&v, guest_ram_ptr(gpa, 4), 4);
    return v;
}

static uint64_t rd64(uint64_t gpa)
{
    uint64_t v;
    memcpy(&v, guest_ram_ptr(gpa, 8), 8);
    return v;
}

static uint8_t sum(uint64_t gpa, size_t len)
{
    const uint8_t *p = guest_ram_ptr(gpa, len);
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++) {
        s += p[i];
    }
    return s;
}

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* A bzImage as far as the boot protocol looks: one setup sector, then PAYLOAD bytes of
 * "kernel" (a counting pattern). */
static char *make_bzimage(uint16_t version, uint32_t cmdline_size)
{
    size_t len = 2 * 512 + PAYLOAD;
    uint8_t *img = g_malloc0(len);
    img[0x1f1] = 1;
    put16(img + 0x1fe, 0xaa55);
    img[0x200] = 0xeb;
    img[0x201] = 0x66;
    memcpy(img + 0x202, "HdrS", 4);
    put16(img + 0x206, version);
    img[0x211] = 0x01; /* LOADED_HIGH */
    put32(img + 0x22c, 0x7fffffff);
    put32(img + 0x238, cmdline_size);
    put32(img + 0x258, 0x1000000); /* pref_address: 16 MiB */
    put32(img + 0x260, 0x800000);  /* init_size: 8 MiB */
    for (size_t i = 0; i < PAYLOAD; i++) {
        img[1024 + i] = i * 7;
    }
    char *path = g_strdup_printf("%s/tern-bz-%d-%x-%u", g_get_tmp_dir(), getpid(), version,
                                 cmdline_size);
    g_assert_true(g_file_set_contents(path, (char *)img, len, NULL));
    g_free(img);
    return path;
}

static char *make_file(size_t len, const char *tag)
{
    char *data = g_malloc(len + 1); /* g_malloc(0) is NULL, which memset may not take */
    memset(data, 0x5a, len);
    char *path = g_strdup_printf("%s/tern-%s-%d", g_get_tmp_dir(), tag, getpid());
    g_assert_true(g_file_set_contents(path, data, len, NULL));
    g_free(data);
    return path;
}

static TernConfig *config(const char *kernel, const char *initrd, const char *append)
{
    TernConfig *c = config_new();
    c->kernel = g_strdup(kernel);
    c->initrd = g_strdup(initrd);
    c->append = g_strdup(append);
    c->smp = 2;
    return c;
}

static void test_boot_params(void)
{
    g_autofree char *kernel = make_bzimage(0x20f, 2047);
    g_autofree char *initrd = make_file(1 << 20, "initrd");
    TernConfig *c = config(kernel, initrd, "console=ttyS0 tern.test=1");
    g_autoptr(GError) err = NULL;
    g_assert_true(x86_load_linux(c, &err));
    g_assert_no_error(err);

    g_assert_cmpmem(guest_ram_ptr(BP + 0x202, 4), 4, "HdrS", 4);
    g_assert_cmpuint(*(uint8_t *)guest_ram_ptr(BP + 0x210, 1), ==, 0xff); /* loader */
    g_assert_cmpuint(rd32(BP + 0x214), ==, X86_KERNEL_ADDR);              /* code32_start */
    g_assert_cmpuint(rd32(BP + 0x228), ==, X86_CMDLINE_ADDR);
    g_assert_cmpstr(guest_ram_ptr(X86_CMDLINE_ADDR, 1), ==, "console=ttyS0 tern.test=1");
    uint32_t rd_image = rd32(BP + 0x218), rd_size = rd32(BP + 0x21c);
    g_assert_cmpuint(rd_size, ==, 1 << 20);
    g_assert_cmpuint(rd_image, ==, (RAM_MB << 20) - (1 << 20)); /* top of low RAM */
    g_assert_cmpuint(rd_image % 4096, ==, 0);
    g_assert_cmpuint(rd64(BP + 0x070), ==, X86_ACPI_ADDR); /* acpi_rsdp_addr (2.14+) */

    /* The protected-mode kernel at 1 MiB, byte for byte. */
    const uint8_t *k = guest_ram_ptr(X86_KERNEL_ADDR, PAYLOAD);
    for (size_t i = 0; i < PAYLOAD; i++) {
        g_assert_cmpuint(k[i], ==, (uint8_t)(i * 7));
    }
    /* Flat code and data descriptors at __BOOT_CS / __BOOT_DS. */
    g_assert_cmphex(rd64(X86_GDT_ADDR + 0x10), ==, 0x00cf9b000000ffffULL);
    g_assert_cmphex(rd64(X86_GDT_ADDR + 0x18), ==, 0x00cf93000000ffffULL);

    /* e820: base RAM, EBDA, BIOS area, RAM from 1 MiB, KVM's private pages. */
    static const struct {
        uint64_t addr, size;
        uint32_t type;
    } want[] = {
        {0, 0x9fc00, 1},         {0x9fc00, 0x400, 2},
        {0xe0000, 0x20000, 2},   {0x100000, (RAM_MB << 20) - 0x100000, 1},
        {0xfeffc000, 0x4000, 2},
    };
    g_assert_cmpuint(*(uint8_t *)guest_ram_ptr(BP + 0x1e8, 1), ==, G_N_ELEMENTS(want));
    for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
        uint64_t e = BP + 0x2d0 + 20 * i;
        g_assert_cmphex(rd64(e), ==, want[i].addr);
        g_assert_cmphex(rd64(e + 8), ==, want[i].size);
        g_assert_cmpuint(rd32(e + 16), ==, want[i].type);
    }
    config_free(c);
    unlink(kernel);
    unlink(initrd);
}

static void test_mptable(void)
{
    g_autofree char *kernel = make_bzimage(0x20f, 2047);
    TernConfig *c = config(kernel, NULL, NULL);
    g_assert_true(x86_load_linux(c, NULL));
    g_assert_cmpmem(guest_ram_ptr(X86_MPTABLE_ADDR, 4), 4, "_MP_", 4);
    g_assert_cmpuint(sum(X86_MPTABLE_ADDR, 16), ==, 0);
    uint32_t cfg = rd32(X86_MPTABLE_ADDR + 4);
    g_assert_cmpmem(guest_ram_ptr(cfg, 4), 4, "PCMP", 4);
    uint16_t len = rd32(cfg + 4) & 0xffff;
    g_assert_cmpuint(sum(cfg, len), ==, 0);
    g_assert_cmphex(rd32(cfg + 36), ==, X86_LAPIC_ADDR);

    /* Walk the entries: 2 CPUs (the first the BSP), 2 buses, the IOAPIC with id 2, 15
     * ISA interrupts (all but the cascade), ExtINT and NMI on LINT0/1. */
    unsigned cpus = 0, buses = 0, ioapics = 0, isa = 0, lint = 0;
    const uint8_t *p = guest_ram_ptr(cfg + 44, len - 44);
    for (const uint8_t *e = p; e < p + len - 44;) {
        switch (e[0]) {
        case 0:
            g_assert_cmpuint(e[1], ==, cpus);
            g_assert_cmpuint(e[3], ==, cpus == 0 ? 3 : 1);
            cpus++, e += 20;
            break;
        case 1:
            buses++, e += 8;
            break;
        case 2:
            g_assert_cmpuint(e[1], ==, 2);
            ioapics++, e += 8;
            break;
        case 3:
            if (e[4] == 1) {
                g_assert_cmpuint(e[5], ==, e[7]); /* ISA IRQ n on pin n */
                isa++;
            }
            e += 8;
            break;
        case 4:
            lint++, e += 8;
            break;
        default:
            g_assert_not_reached();
        }
    }
    g_assert_cmpuint(cpus, ==, 2);
    g_assert_cmpuint(buses, ==, 2);
    g_assert_cmpuint(ioapics, ==, 1);
    g_assert_cmpuint(isa, ==, 15);
    g_assert_cmpuint(lint, ==, 2);
    config_free(c);
    unlink(kernel);
}

/* An ACPI table at gpa: signature and checksum; returns its length. */
static uint32_t acpi_table(uint32_t gpa, const char *sig)
{
    g_assert_cmpmem(guest_ram_ptr(gpa, 4), 4, sig, 4);
    uint32_t len = rd32(gpa + 4);
    g_assert_cmpuint(sum(gpa, len), ==, 0);
    return len;
}

static void test_acpi(void)
{
    g_autofree char *kernel = make_bzimage(0x20f, 2047);
    TernConfig *c = config(kernel, NULL, NULL);
    g_assert_true(x86_load_linux(c, NULL));
    g_assert_cmpmem(guest_ram_ptr(X86_ACPI_ADDR, 8), 8, "RSD PTR ", 8);
    g_assert_cmpuint(sum(X86_ACPI_ADDR, 20), ==, 0);
    uint32_t rsdt = rd32(X86_ACPI_ADDR + 16);
    uint32_t rsdt_len = acpi_table(rsdt, "RSDT");
    g_assert_cmpuint(rsdt_len, ==, 36 + 8);
    uint32_t fadt = rd32(rsdt + 36), madt = rd32(rsdt + 40);

    acpi_table(fadt, "FACP");
    g_assert_cmpuint(rd32(fadt + 46) & 0xffff, ==, ACPI_SCI_IRQ);
    g_assert_cmpuint(rd32(fadt + 56), ==, ACPI_PM1A_EVT);
    g_assert_cmpuint(rd32(fadt + 64), ==, ACPI_PM1A_CNT);
    g_assert_cmpuint(rd32(fadt + 76), ==, ACPI_PM_TMR);
    g_assert_cmpuint(rd32(fadt + 112) & (1u << 10), !=, 0); /* reset register supported */
    g_assert_cmphex(rd64(fadt + 120), ==, ACPI_RESET_REG);
    uint32_t facs = rd32(fadt + 36);
    g_assert_cmpmem(guest_ram_ptr(facs, 4), 4, "FACS", 4);
    g_assert_cmpuint(facs % 64, ==, 0);

    uint32_t dsdt = rd32(fadt + 40);
    uint32_t dsdt_len = acpi_table(dsdt, "DSDT");
    /* The AML names what Linux needs: the PCI root, its routing, and \_S5. */
    const char *aml = guest_ram_ptr(dsdt, dsdt_len);
    g_assert_nonnull(memmem(aml, dsdt_len, "PCI0", 4));
    g_assert_nonnull(memmem(aml, dsdt_len, "_PRT", 4));
    g_assert_nonnull(memmem(aml, dsdt_len, "_CRS", 4));
    const char s5[] = {0x08, '\\', '_', 'S', '5', '_', 0x12};
    g_assert_nonnull(memmem(aml, dsdt_len, s5, sizeof(s5)));

    uint32_t madt_len = acpi_table(madt, "APIC");
    unsigned lapics = 0, ioapics = 0;
    for (uint32_t off = 44; off < madt_len;) {
        const uint8_t *e = guest_ram_ptr(madt + off, 2);
        lapics += e[0] == 0;
        ioapics += e[0] == 1;
        g_assert_cmpuint(e[1], >=, 2);
        off += e[1];
    }
    g_assert_cmpuint(lapics, ==, 2);
    g_assert_cmpuint(ioapics, ==, 1);
    config_free(c);
    unlink(kernel);
}

static void expect_refusal(TernConfig *c, const char *needle)
{
    g_autoptr(GError) err = NULL;
    g_assert_false(x86_load_linux(c, &err));
    g_assert_nonnull(err);
    if (!strstr(err->message, needle)) {
        g_error("message '%s' lacks '%s'", err->message, needle);
    }
    config_free(c);
}

static void test_refusals(void)
{
    g_autofree char *not_bz = make_file(8192, "notbz");
    g_autofree char *old = make_bzimage(0x205, 255);
    g_autofree char *tiny_cmdline = make_bzimage(0x20f, 8);
    g_autofree char *kernel = make_bzimage(0x20f, 2047);
    g_autofree char *huge = make_file(60 << 20, "hugeinitrd");

    expect_refusal(config(NULL, NULL, NULL), "-kernel is required");
    expect_refusal(config("/nonexistent/vmlinuz", NULL, NULL), "-kernel");
    expect_refusal(config(not_bz, NULL, NULL), "not a Linux x86 bzImage");
    expect_refusal(config(old, NULL, NULL), "too old");
    expect_refusal(config(tiny_cmdline, NULL, "console=ttyS0"), "at most 8");
    expect_refusal(config(kernel, huge, NULL), "-m");
    /* Sized before read: no endless device, no FIFO that blocks start-up, nothing
     * larger than the guest's RAM. */
    expect_refusal(config("/dev/zero", NULL, NULL), "-kernel /dev/zero: not a regular file");
    expect_refusal(config(kernel, "/dev/zero", NULL), "-initrd /dev/zero: not a regular file");
    g_autofree char *dir = g_dir_make_tmp("tern-boot-XXXXXX", NULL);
    g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
    g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
    g_autofree char *fifo_msg = g_strdup_printf("-kernel %s: not a regular file", fifo);
    expect_refusal(config(fifo, NULL, NULL), fifo_msg);
    g_autofree char *fifo_initrd = g_strdup_printf("-initrd %s: not a regular file", fifo);
    expect_refusal(config(kernel, fifo, NULL), fifo_initrd);
    unlink(fifo);
    rmdir(dir);
    g_autofree char *sparse = make_file(1, "sparse");
    g_assert_cmpint(truncate(sparse, 1ULL << 40), ==, 0);
    expect_refusal(config(sparse, NULL, NULL), "do not fit in the guest's");
    unlink(sparse);
    unlink(not_bz);
    unlink(old);
    unlink(tiny_cmdline);
    unlink(kernel);
    unlink(huge);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_true(guest_ram_init((uint64_t)RAM_MB << 20, PC_RAM_BELOW_4G_MAX, NULL));
    pci_host_init();
    g_test_add_func("/x86-boot/boot-params", test_boot_params);
    g_test_add_func("/x86-boot/mptable", test_mptable);
    g_test_add_func("/x86-boot/acpi", test_acpi);
    g_test_add_func("/x86-boot/refusals", test_refusals);
    return g_test_run();
}
