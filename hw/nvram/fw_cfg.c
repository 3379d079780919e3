/*
 * fw_cfg.c: QEMU's firmware configuration device (see fw_cfg.h): items by key, named
 * files with a sorted directory, the I/O selector/data ports and the DMA interface.
 */
#include <string.h>
#include "error.h"
#include "hw/memory.h"
#include "hw/nvram/fw_cfg.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"

#define FW_CFG_ENTRY_MASK 0x3fff /* without the arch-local and write-channel bits */
#define FW_CFG_FILE_SLOTS 32     /* QEMU's default */
#define FW_CFG_MAX_ENTRY (FW_CFG_FILE_FIRST + FW_CFG_FILE_SLOTS)
#define FW_CFG_DIR_ENTRY_SIZE 64 /* be32 size, be16 select, be16 reserved, name[56] */
#define FW_CFG_DMA_ACCESS_SIZE 16
#define FW_CFG_ZERO_CHUNK 65536

typedef struct {
    uint8_t *data;
    uint32_t len;
} FwCfgEntry;

typedef struct {
    char name[FW_CFG_FILE_NAME_MAX];
    FwCfgEntry entry; /* owns the data; entries[0][select] points at the same bytes */
} FwCfgFile;

struct FwCfg {
    FwCfgEntry entries[2][FW_CFG_MAX_ENTRY]; /* [arch-local][key & mask] */
    FwCfgFile files[FW_CFG_FILE_SLOTS];      /* sorted by name */
    unsigned nfiles;
    uint16_t cur_entry;
    uint32_t cur_offset;
    uint8_t dma_addr[8]; /* the big-endian address, as the two halves arrive */
    MemoryRegion io, dma;
    VMStateEntry *vmstate;
};

static FwCfgEntry *entry_for(FwCfg *s, uint16_t key)
{
    if (key == FW_CFG_INVALID || (key & FW_CFG_ENTRY_MASK) >= FW_CFG_MAX_ENTRY) {
        return NULL;
    }
    return &s->entries[!!(key & FW_CFG_ARCH_LOCAL)][key & FW_CFG_ENTRY_MASK];
}

static void fw_cfg_select(FwCfg *s, uint16_t key)
{
    s->cur_offset = 0;
    s->cur_entry = entry_for(s, key) ? key : FW_CFG_INVALID;
}

void fw_cfg_reset(FwCfg *s)
{
    fw_cfg_select(s, FW_CFG_SIGNATURE);
    memset(s->dma_addr, 0, sizeof(s->dma_addr));
}

/* The next `len` bytes of the selected item (fewer at its end, none when nothing is
 * selected), advancing the offset. */
static const uint8_t *take(FwCfg *s, uint32_t want, uint32_t *got)
{
    FwCfgEntry *e = entry_for(s, s->cur_entry);
    if (!e || !e->data || s->cur_offset >= e->len) {
        *got = 0;
        return NULL;
    }
    *got = MIN(want, e->len - s->cur_offset);
    const uint8_t *p = e->data + s->cur_offset;
    s->cur_offset += *got;
    return p;
}

/* --- the I/O interface: selector (16-bit write), data (byte reads) -------------------- */

/* A byte read at either port streams the item (QEMU's); past its end reads give 0. */
static uint64_t io_read(void *opaque, uint64_t offset, unsigned size)
{
    uint32_t got;
    const uint8_t *p = size == 1 ? take(opaque, 1, &got) : NULL;
    if (size != 1) {
        return size == 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1;
    }
    return p ? *p : 0;
}

/* Byte writes (the old data-port write) do nothing since QEMU 2.4. */
static void io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if (size == 2 && offset == 0) {
        fw_cfg_select(opaque, value);
    }
}

static const MemoryRegionOps io_ops = {.read = io_read, .write = io_write};

/* --- the DMA interface ---------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static bool zero_fill(uint64_t gpa, uint64_t len)
{
    static const uint8_t zeros[FW_CFG_ZERO_CHUNK];
    while (len > 0) {
        uint64_t n = MIN(len, sizeof(zeros));
        if (!dma_write(gpa, zeros, n)) {
            return false;
        }
        gpa += n;
        len -= n;
    }
    return true;
}

/*
 * Run the FWCfgDmaAccess at `desc` (QEMU's semantics): optionally select, then read
 * (copy to RAM; zeros past the item's end), skip, or write (refused: nothing is
 * writable). The control word is written back as 0 or the error bit.
 */
static void dma_transfer(FwCfg *s, uint64_t desc)
{
    uint8_t access[FW_CFG_DMA_ACCESS_SIZE];
    uint8_t status[4] = {0, 0, 0, 0};
    if (!dma_read(desc, access, sizeof(access))) {
        status[3] = FW_CFG_DMA_CTL_ERROR;
        dma_write(desc, status, sizeof(status)); /* if that is outside RAM too: nothing */
        return;
    }
    uint32_t control = be32(access), length = be32(access + 4);
    uint64_t addr = be64(access + 8);
    bool read = control & FW_CFG_DMA_CTL_READ;
    bool write = !read && (control & FW_CFG_DMA_CTL_WRITE);
    bool skip = !read && !write && (control & FW_CFG_DMA_CTL_SKIP);
    bool error = false;
    if (control & FW_CFG_DMA_CTL_SELECT) {
        fw_cfg_select(s, control >> 16);
    }
    if (!read && !write && !skip) {
        length = 0;
    }
    while (length > 0 && !error) {
        uint32_t got;
        const uint8_t *p = take(s, length, &got);
        uint64_t n = p ? got : length;
        if (addr + n < addr || write) {
            error = true; /* wraps around the address space, or a write */
        } else if (read) {
            error = p ? !dma_write(addr, p, n) : !zero_fill(addr, n);
        }
        addr += n;
        length -= n;
    }
    status[3] = error ? FW_CFG_DMA_CTL_ERROR : 0;
    dma_write(desc, status, sizeof(status));
}

static uint64_t dma_reg_read(void *opaque, uint64_t offset, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size && offset + i < 8; i++) { /* byte i = lowest address */
        v |= ((FW_CFG_DMA_SIGNATURE >> (8 * (7 - offset - i))) & 0xff) << (8 * i);
    }
    return v;
}

/* The guest writes the address big-endian: the high half at +0, then the low half at
 * +4, which starts the transfer (or all 8 bytes at once). */
static void dma_reg_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    FwCfg *s = opaque;
    if (!((size == 4 && (offset == 0 || offset == 4)) || (size == 8 && offset == 0))) {
        return;
    }
    for (unsigned i = 0; i < size; i++) {
        s->dma_addr[offset + i] = value >> (8 * i);
    }
    if (offset + size == 8) {
        uint64_t desc = be64(s->dma_addr);
        memset(s->dma_addr, 0, sizeof(s->dma_addr)); /* QEMU: reset before the access */
        dma_transfer(s, desc);
    }
}

static const MemoryRegionOps dma_ops = {.read = dma_reg_read, .write = dma_reg_write};

/* --- items and files ------------------------------------------------------------------ */

static void entry_set(FwCfgEntry *e, const void *data, size_t len)
{
    g_free(e->data);
    e->data = g_memdup2(data, len);
    e->len = len;
}

void fw_cfg_add_bytes(FwCfg *s, uint16_t key, const void *data, size_t len)
{
    FwCfgEntry *e = entry_for(s, key);
    g_assert(e && (key & FW_CFG_ENTRY_MASK) < FW_CFG_FILE_FIRST && len <= UINT32_MAX);
    entry_set(e, data, len);
}

void fw_cfg_add_i16(FwCfg *s, uint16_t key, uint16_t value)
{
    uint8_t le[2] = {value, value >> 8};
    fw_cfg_add_bytes(s, key, le, sizeof(le));
}

void fw_cfg_add_i32(FwCfg *s, uint16_t key, uint32_t value)
{
    uint8_t le[4];
    for (int i = 0; i < 4; i++) {
        le[i] = value >> (8 * i);
    }
    fw_cfg_add_bytes(s, key, le, sizeof(le));
}

void fw_cfg_add_i64(FwCfg *s, uint16_t key, uint64_t value)
{
    uint8_t le[8];
    for (int i = 0; i < 8; i++) {
        le[i] = value >> (8 * i);
    }
    fw_cfg_add_bytes(s, key, le, sizeof(le));
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = v >> (8 * (n - 1 - i));
    }
}

/* Rebuild the directory and point each file's key at its data (keys follow order). */
static void files_publish(FwCfg *s)
{
    size_t len = 4 + (size_t)s->nfiles * FW_CFG_DIR_ENTRY_SIZE;
    g_autofree uint8_t *dir = g_malloc0(len);
    put_be(dir, s->nfiles, 4);
    for (unsigned i = 0; i < FW_CFG_FILE_SLOTS; i++) {
        FwCfgEntry *e = &s->entries[0][FW_CFG_FILE_FIRST + i];
        *e = i < s->nfiles ? s->files[i].entry : (FwCfgEntry){0};
        if (i < s->nfiles) {
            uint8_t *d = dir + 4 + i * FW_CFG_DIR_ENTRY_SIZE;
            put_be(d, e->len, 4);
            put_be(d + 4, FW_CFG_FILE_FIRST + i, 2);
            memcpy(d + 8, s->files[i].name, strlen(s->files[i].name));
        }
    }
    entry_set(&s->entries[0][FW_CFG_FILE_DIR], dir, len);
}

bool fw_cfg_add_file(FwCfg *s, const char *name, const void *data, size_t len)
{
    if (strlen(name) >= FW_CFG_FILE_NAME_MAX || s->nfiles == FW_CFG_FILE_SLOTS ||
        len > UINT32_MAX) {
        return false;
    }
    unsigned at = 0;
    while (at < s->nfiles && strcmp(s->files[at].name, name) < 0) {
        at++;
    }
    if (at < s->nfiles && strcmp(s->files[at].name, name) == 0) {
        return false;
    }
    memmove(&s->files[at + 1], &s->files[at], (s->nfiles - at) * sizeof(s->files[0]));
    s->nfiles++;
    FwCfgFile *f = &s->files[at];
    memset(f, 0, sizeof(*f));
    g_strlcpy(f->name, name, sizeof(f->name));
    f->entry = (FwCfgEntry){.data = g_memdup2(data, len), .len = len};
    files_publish(s);
    return true;
}

/* --- migration ------------------------------------------------------------------------ */

/* The items are rebuilt from the destination's own configuration; only the guest's
 * position in them moves. A stream must not point past an item or at a key that does
 * not exist. */
static bool fw_cfg_post_load(void *opaque, int version_id, GError **errp)
{
    FwCfg *s = opaque;
    FwCfgEntry *e = entry_for(s, s->cur_entry);
    if (s->cur_entry != FW_CFG_INVALID && !e) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "fw_cfg: selected key 0x%x does not exist", s->cur_entry);
        return false;
    }
    if (s->cur_offset > (e ? e->len : 0)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "fw_cfg: offset %u is past the end of item 0x%x (%u bytes)", s->cur_offset,
                    s->cur_entry, e ? e->len : 0);
        return false;
    }
    return true;
}

static const VMStateDescription vmstate_fw_cfg = {
    .name = "fw_cfg",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields =
        (const VMStateField[]){
            VMSTATE_UINT16(cur_entry, FwCfg),
            VMSTATE_UINT32(cur_offset, FwCfg),
            VMSTATE_BUFFER(dma_addr, FwCfg),
            VMSTATE_END_OF_LIST(),
        },
    .post_load = fw_cfg_post_load,
};

FwCfg *fw_cfg_init_io_dma(uint16_t io_base, uint16_t dma_base)
{
    FwCfg *s = g_new0(FwCfg, 1);
    fw_cfg_add_bytes(s, FW_CFG_SIGNATURE, "QEMU", 4);
    fw_cfg_add_i32(s, FW_CFG_ID, FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    files_publish(s);
    fw_cfg_reset(s);
    memory_region_init(&s->io, ADDR_SPACE_IO, "fw_cfg", 2, &io_ops, s);
    memory_region_map(&s->io, io_base);
    memory_region_init(&s->dma, ADDR_SPACE_IO, "fw_cfg-dma", 8, &dma_ops, s);
    memory_region_map(&s->dma, dma_base);
    s->vmstate = vmstate_register(0, &vmstate_fw_cfg, s);
    return s;
}

void fw_cfg_free(FwCfg *s)
{
    if (!s) {
        return;
    }
    vmstate_unregister(s->vmstate);
    memory_region_unmap(&s->io);
    memory_region_unmap(&s->dma);
    for (unsigned i = 0; i < FW_CFG_FILE_FIRST; i++) {
        g_free(s->entries[0][i].data);
        g_free(s->entries[1][i].data);
    }
    for (unsigned i = 0; i < s->nfiles; i++) {
        g_free(s->files[i].entry.data);
    }
    g_free(s);
}
