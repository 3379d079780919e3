/*
 * x86-boot.c: boot a Linux bzImage without firmware, by the kernel's 32-bit boot
 * protocol (Documentation/arch/x86/boot.rst): the protected-mode kernel at 1 MiB, a
 * zero page (boot_params) holding the setup header, the e820 map, the command line and
 * initrd pointers, a flat GDT, and the boot vCPU entering code32_start in protected mode
 * with %esi = boot_params. Also writes the MP and ACPI tables into the BIOS area.
 * Layout and choices: docs/x86-boot.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "accel/kvm.h"
#include "error.h"
#include "hw/i386/pc.h"
#include "hw/i386/x86-boot.h"
#include "hw/i386/x86-tables.h"
#include "hw/memory.h"

/* boot_params offsets (arch/x86/include/uapi/asm/bootparam.h) */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_E820_MAX 128
#define BP_SIZE 0x1000

/* setup header offsets, in the image and in boot_params alike */
#define HDR_START 0x1f1
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260

#define LOADFLAG_LOADED_HIGH 0x01
#define LOADER_UNDEFINED 0xff
#define BOOT_PROTOCOL_MIN 0x206  /* 2.06: cmdline_size */
#define PROTOCOL_INIT_SIZE 0x20a /* 2.10: pref_address, init_size */
#define PROTOCOL_RSDP 0x20e      /* 2.14: acpi_rsdp_addr */

enum { E820_RAM = 1, E820_RESERVED = 2 };

static uint16_t get16(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

static uint32_t get32(const uint8_t *p)
{
    return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = v >> (8 * i);
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, v >> 32);
}

/* Copy into guest RAM, which must hold all of [gpa, gpa + len). */
static bool ram_copy(uint64_t gpa, const void *src, size_t len)
{
    uint8_t *dst = guest_ram_ptr(gpa, len);
    if (!dst) {
        return false;
    }
    memcpy(dst, src, len);
    return true;
}

/* --- e820 ----------------------------------------------------------------------------- */

static void e820_add(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
    uint8_t n = bp[BP_E820_ENTRIES];
    if (n >= BP_E820_MAX || size == 0) {
        return;
    }
    uint8_t *e = bp + BP_E820_TABLE + 20 * n;
    put64(e, addr);
    put64(e + 8, size);
    put32(e + 16, type);
    bp[BP_E820_ENTRIES] = n + 1;
}

/* RAM as the guest should use it: base memory below the EBDA, the reserved BIOS area
 * that holds our tables, RAM from 1 MiB, KVM's private pages, RAM above 4 GiB. */
static void e820_build(uint8_t *bp)
{
    const RamBlock *blocks;
    unsigned n = guest_ram_blocks(&blocks);
    bp[BP_E820_ENTRIES] = 0;
    for (unsigned i = 0; i < n; i++) {
        uint64_t start = blocks[i].gpa, end = blocks[i].gpa + blocks[i].size;
        if (start < X86_KERNEL_ADDR) {
            e820_add(bp, start, MIN(end, X86_EBDA_START) - start, E820_RAM);
            e820_add(bp, X86_EBDA_START, X86_LOW_RAM_END - X86_EBDA_START, E820_RESERVED);
            e820_add(bp, X86_BIOS_START, X86_BIOS_END - X86_BIOS_START, E820_RESERVED);
            start = X86_KERNEL_ADDR;
        }
        if (end > start) {
            e820_add(bp, start, end - start, E820_RAM);
        }
    }
    e820_add(bp, KVM_IDENTITY_MAP_ADDR, KVM_PRIVATE_SIZE, E820_RESERVED);
}

/* --- tables --------------------------------------------------------------------------- */

static bool write_gdt(GError **errp)
{
    /* null, null, __BOOT_CS (0x10): flat 32-bit code, __BOOT_DS (0x18): flat data */
    static const uint64_t gdt[] = {0, 0, 0x00cf9b000000ffffULL, 0x00cf93000000ffffULL};
    uint8_t raw[sizeof(gdt)];
    for (size_t i = 0; i < G_N_ELEMENTS(gdt); i++) {
        put64(raw + 8 * i, gdt[i]);
    }
    return ram_copy(X86_GDT_ADDR, raw, sizeof(raw)) ||
           tern_error_fail(errp, "-m: too little RAM for the boot GDT");
}

static bool write_tables(unsigned ncpus, uint64_t *rsdp, GError **errp)
{
    uint8_t *mp = guest_ram_ptr(X86_MPTABLE_ADDR, X86_MPTABLE_SIZE);
    uint8_t *acpi = guest_ram_ptr(X86_ACPI_ADDR, X86_ACPI_SIZE);
    if (!mp || !acpi) {
        return tern_error_fail(errp, "-m: too little RAM for the BIOS area (need 1 MiB)");
    }
    memset(mp, 0, X86_MPTABLE_SIZE);
    memset(acpi, 0, X86_ACPI_SIZE);
    if (!mptable_write(mp, X86_MPTABLE_SIZE, X86_MPTABLE_ADDR, ncpus)) {
        return tern_error_fail(errp, "-smp %u: the MP table does not fit in %u KiB", ncpus,
                               X86_MPTABLE_SIZE / 1024);
    }
    if (!acpi_tables_write(acpi, X86_ACPI_SIZE, X86_ACPI_ADDR, ncpus)) {
        return tern_error_fail(errp, "-smp %u: the ACPI tables do not fit in %u KiB", ncpus,
                               X86_ACPI_SIZE / 1024);
    }
    *rsdp = X86_ACPI_ADDR;
    return true;
}

/* --- bzImage -------------------------------------------------------------------------- */

typedef struct {
    const char *path;
    uint8_t *data;
    gsize len;
    uint16_t version;
    size_t setup_len;  /* real-mode part: (setup_sects + 1) * 512 */
    uint64_t load_end; /* end of the memory the kernel may use while booting */
} BzImage;

static bool bzimage_check(BzImage *k, GError **errp)
{
    if (k->len < 0x1000 || get16(k->data + HDR_BOOT_FLAG) != 0xaa55 ||
        memcmp(k->data + HDR_MAGIC, "HdrS", 4) != 0) {
        return tern_error_fail(errp, "-kernel %s: not a Linux x86 bzImage (no setup header)",
                               k->path);
    }
    k->version = get16(k->data + HDR_VERSION);
    if (k->version < BOOT_PROTOCOL_MIN) {
        return tern_error_fail(errp,
                               "-kernel %s: boot protocol %u.%02u is too old (tern needs 2.06, "
                               "Linux 2.6.22 or later)",
                               k->path, k->version >> 8, k->version & 0xff);
    }
    if (!(k->data[HDR_LOADFLAGS] & LOADFLAG_LOADED_HIGH)) {
        return tern_error_fail(errp, "-kernel %s: a zImage (loaded low) is not supported",
                               k->path);
    }
    unsigned sects = k->data[HDR_SETUP_SECTS] ? k->data[HDR_SETUP_SECTS] : 4;
    k->setup_len = (sects + 1) * 512;
    if (k->setup_len >= k->len) {
        return tern_error_fail(errp, "-kernel %s: truncated image", k->path);
    }
    k->load_end = X86_KERNEL_ADDR + (k->len - k->setup_len);
    if (k->version >= PROTOCOL_INIT_SIZE) {
        /* The decompressor works at max(load address, pref_address) for init_size. */
        uint64_t pref = get64(k->data + HDR_PREF_ADDRESS);
        k->load_end =
            MAX(k->load_end, MAX(pref, X86_KERNEL_ADDR) + get32(k->data + HDR_INIT_SIZE));
    }
    return true;
}

static uint64_t low_ram_end(void)
{
    const RamBlock *blocks;
    unsigned n = guest_ram_blocks(&blocks);
    return n && blocks[0].gpa == 0 ? blocks[0].size : 0;
}

/*
 * The whole of a -kernel or -initrd file, which must be a regular file no larger than
 * the guest's low RAM. It is sized before it is read: /dev/zero would be read until
 * tern's memory ran out, and a FIFO would block start-up (opened non-blocking, it is
 * refused at once instead).
 */
static bool read_image(const char *option, const char *path, char **data, gsize *len,
                       GError **errp)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    bool ok = false;
    if (fd < 0 || fstat(fd, &st) < 0) {
        tern_error_fail(errp, "%s %s: %s", option, path, g_strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        tern_error_fail(errp, "%s %s: not a regular file", option, path);
    } else if ((uint64_t)st.st_size > low_ram_end()) {
        tern_error_fail(errp,
                        "%s %s: %" G_GUINT64_FORMAT
                        " MiB do not fit in the guest's %" G_GUINT64_FORMAT
                        " MiB of RAM below 4 GiB",
                        option, path, (uint64_t)st.st_size >> 20, low_ram_end() >> 20);
    } else {
        *len = st.st_size;
        *data = g_malloc(*len + 1);
        ssize_t n = 0;
        for (gsize got = 0; got < *len; got += n) {
            n = read(fd, *data + got, *len - got);
            if (n <= 0) { /* the file shrank under us, or failed */
                tern_error_fail(errp, "%s %s: %s", option, path,
                                n < 0 ? g_strerror(errno) : "changed while being read");
                g_clear_pointer(data, g_free);
                break;
            }
        }
        ok = *data != NULL;
    }
    if (fd >= 0) {
        close(fd);
    }
    return ok;
}

static bool load_initrd(TernConfig *c, const BzImage *k, uint8_t *bp, GError **errp)
{
    g_autofree char *data = NULL;
    gsize len;
    if (!read_image("-initrd", c->initrd, &data, &len, errp)) {
        return false;
    }
    uint64_t max = get32(bp + HDR_INITRD_ADDR_MAX);
    uint64_t top = MIN(low_ram_end(), max + 1);
    uint64_t addr = top > len ? (top - len) & ~0xfffULL : 0;
    if (addr < k->load_end) {
        return tern_error_fail(errp,
                               "-initrd %s: %" G_GSIZE_FORMAT " KiB do not fit between the "
                               "kernel (up to %" G_GUINT64_FORMAT
                               " MiB) and the end of low RAM; "
                               "give the guest more memory with -m",
                               c->initrd, len >> 10, k->load_end >> 20);
    }
    if (!ram_copy(addr, data, len)) {
        return tern_error_fail(errp, "-initrd: cannot place it at %#" G_GINT64_MODIFIER "x",
                               addr);
    }
    put32(bp + HDR_RAMDISK_IMAGE, (uint32_t)addr);
    put32(bp + HDR_RAMDISK_SIZE, (uint32_t)len);
    put32(bp + BP_EXT_RAMDISK_IMAGE, addr >> 32);
    put32(bp + BP_EXT_RAMDISK_SIZE, (uint64_t)len >> 32);
    return true;
}

static bool load_cmdline(TernConfig *c, const BzImage *k, uint8_t *bp, GError **errp)
{
    const char *cmdline = c->append ? c->append : "";
    size_t len = strlen(cmdline) + 1;
    uint32_t limit = get32(k->data + HDR_CMDLINE_SIZE) + 1;
    if (len > limit || len > X86_CMDLINE_MAX) {
        return tern_error_fail(errp,
                               "-append: the command line is %zu bytes; this kernel takes "
                               "at most %u",
                               len - 1, MIN(limit, X86_CMDLINE_MAX) - 1);
    }
    if (!ram_copy(X86_CMDLINE_ADDR, cmdline, len)) {
        return tern_error_fail(errp, "-m: too little RAM for the command line");
    }
    put32(bp + HDR_CMD_LINE_PTR, X86_CMDLINE_ADDR);
    put32(bp + BP_EXT_CMD_LINE_PTR, 0);
    return true;
}

bool x86_load_linux(TernConfig *c, GError **errp)
{
    if (!c->kernel) {
        return tern_error_fail(errp,
                               "-kernel is required: tern has no firmware and boots a Linux "
                               "bzImage directly");
    }
    BzImage k = {.path = c->kernel};
    if (!read_image("-kernel", c->kernel, (char **)&k.data, &k.len, errp)) {
        return false;
    }
    bool ok = false;
    uint8_t bp[BP_SIZE] = {0};
    uint64_t rsdp = 0;
    if (!bzimage_check(&k, errp)) {
        goto out;
    }
    if (k.load_end > low_ram_end()) {
        tern_error_fail(errp,
                        "-m: the kernel needs %" G_GUINT64_FORMAT " MiB of RAM to boot, "
                        "the guest has %" G_GUINT64_FORMAT " MiB below 4 GiB",
                        (k.load_end + (1 << 20) - 1) >> 20, low_ram_end() >> 20);
        goto out;
    }
    /* The setup header as the image has it; its length is in the jump at 0x200. */
    size_t hdr_end = HDR_MAGIC + k.data[HDR_JUMP + 1];
    memcpy(bp + HDR_START, k.data + HDR_START, MIN(hdr_end, BP_SIZE) - HDR_START);
    bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEFINED;
    put32(bp + HDR_CODE32_START, X86_KERNEL_ADDR);
    e820_build(bp);
    if (!ram_copy(X86_KERNEL_ADDR, k.data + k.setup_len, k.len - k.setup_len)) {
        tern_error_fail(errp, "-m: too little RAM for the kernel");
        goto out;
    }
    if (!load_cmdline(c, &k, bp, errp) || (c->initrd && !load_initrd(c, &k, bp, errp)) ||
        !write_gdt(errp) || !write_tables(c->smp ? c->smp : 1, &rsdp, errp)) {
        goto out;
    }
    if (k.version >= PROTOCOL_RSDP) {
        put64(bp + BP_ACPI_RSDP_ADDR, rsdp);
    }
    if (!ram_copy(X86_BOOT_PARAMS_ADDR, bp, sizeof(bp))) {
        tern_error_fail(errp, "-m: too little RAM for boot_params");
        goto out;
    }
    if (kvm_enabled()) {
        KvmBootEntry entry = {
            .eip = X86_KERNEL_ADDR,
            .esi = X86_BOOT_PARAMS_ADDR,
            .gdt_base = X86_GDT_ADDR,
            .gdt_limit = 4 * 8 - 1,
        };
        ok = kvm_set_boot_entry(&entry, errp);
    } else {
        ok = true; /* qtest: the test inspects memory; there is no CPU to start */
    }
out:
    g_free(k.data);
    return ok;
}
