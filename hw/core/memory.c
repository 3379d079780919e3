/*
 * memory.c: guest RAM, the flat region maps of the memory and I/O address spaces, and
 * checked DMA.
 *
 * The maps are short lists searched newest first, so a later mapping shadows an earlier
 * one where they overlap (an MSI-X table over the rest of its BAR). CPU-side accesses
 * that a region cannot take whole (unaligned, straddling two regions) are split into
 * naturally aligned pieces, down to single bytes, so a device sees only sizes 1, 2, 4, 8
 * inside its own bounds.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include "error.h"
#include "hw/memory.h"

#define GIB (1ULL << 30)
#define RAM_HIGH_BASE (4 * GIB)

/* The registry of RAM and mapped regions: one per process. */
static struct {
    RamBlock ram[2];
    unsigned nram;
    uint64_t ram_size;
    GPtrArray *maps[ADDR_SPACE__MAX]; /* MemoryRegion *, oldest first */
    DmaWriteHook *write_hook;
    void *write_hook_opaque;
    MemoryRamView *ram_view;
    void *ram_view_opaque;
} mem;

static const uint64_t space_limit[ADDR_SPACE__MAX] = {
    [ADDR_SPACE_MEMORY] = UINT64_MAX,
    [ADDR_SPACE_IO] = 0xffff,
};

static GPtrArray *space_map(AddressSpaceId space)
{
    if (!mem.maps[space]) {
        mem.maps[space] = g_ptr_array_new();
    }
    return mem.maps[space];
}

void memory_region_init(MemoryRegion *mr, AddressSpaceId space, const char *name, uint64_t size,
                        const MemoryRegionOps *ops, void *opaque)
{
    *mr = (MemoryRegion){
        .name = name,
        .space = space,
        .size = size,
        .ops = ops,
        .opaque = opaque,
    };
}

void memory_region_map(MemoryRegion *mr, uint64_t base)
{
    g_return_if_fail(mr->space < ADDR_SPACE__MAX && mr->size > 0);
    memory_region_unmap(mr);
    mr->base = base;
    mr->mapped = true;
    g_ptr_array_add(space_map(mr->space), mr);
}

void memory_region_unmap(MemoryRegion *mr)
{
    if (mr->mapped) {
        g_ptr_array_remove(space_map(mr->space), mr);
        mr->mapped = false;
    }
}

/* The newest region containing addr, and how many bytes from addr it covers before
 * its end or before a newer region that starts inside it takes over. */
static MemoryRegion *region_find(AddressSpaceId space, uint64_t addr, uint64_t *avail)
{
    GPtrArray *map = space_map(space);
    uint64_t limit = UINT64_MAX;
    for (guint i = map->len; i-- > 0;) {
        MemoryRegion *mr = g_ptr_array_index(map, i);
        if (addr >= mr->base && addr - mr->base < mr->size) {
            *avail = MIN(mr->size - (addr - mr->base), limit);
            return mr;
        }
        if (mr->base > addr) {
            limit = MIN(limit, mr->base - addr);
        }
    }
    *avail = limit;
    return NULL;
}

/*
 * Anonymous guest RAM on a 2 MiB boundary, asking for transparent huge pages, as QEMU
 * does: a guest 2 MiB page then sits on one host huge page and KVM maps it with one
 * nested page entry. Without both, every 4 KiB the guest touches first is a host fault
 * and a nested-paging fault of its own: a guest that arrives by migration, whose
 * memory the incoming stream wrote but KVM has not mapped yet, pays them all at once
 * when it resumes (docs/kvm.md).
 */
#define RAM_ALIGN (2ULL << 20)

static void *guest_ram_map(uint64_t size)
{
    uint64_t len = size + RAM_ALIGN;
    uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    uint8_t *host = (uint8_t *)(((uintptr_t)p + RAM_ALIGN - 1) & ~(uintptr_t)(RAM_ALIGN - 1));
    if (host > p) {
        munmap(p, host - p);
    }
    if (host + size < p + len) {
        munmap(host + size, p + len - (host + size));
    }
    /* Only a hint: without THP in the host kernel it fails, and 4 KiB pages work too. */
    madvise(host, size, MADV_HUGEPAGE);
    return host;
}

bool guest_ram_init(uint64_t size, uint64_t ram_below_4g, GError **errp)
{
    g_return_val_if_fail(mem.nram == 0, false);
    uint64_t low = MIN(size, ram_below_4g);
    uint64_t parts[2][2] = {{0, low}, {RAM_HIGH_BASE, size - low}};
    for (int i = 0; i < 2; i++) {
        if (parts[i][1] == 0) {
            continue;
        }
        void *host = guest_ram_map(parts[i][1]);
        if (!host) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "-m: cannot reserve %" G_GUINT64_FORMAT " MiB of guest RAM: %s",
                        size >> 20, g_strerror(errno));
            guest_ram_free();
            return false;
        }
        mem.ram[mem.nram++] = (RamBlock){parts[i][0], parts[i][1], host};
    }
    mem.ram_size = size;
    return true;
}

void guest_ram_free(void)
{
    for (unsigned i = 0; i < mem.nram; i++) {
        munmap(mem.ram[i].host, mem.ram[i].size);
    }
    mem.nram = 0;
    mem.ram_size = 0;
}

uint64_t guest_ram_size(void)
{
    return mem.ram_size;
}

unsigned guest_ram_blocks(const RamBlock **blocks)
{
    *blocks = mem.ram;
    return mem.nram;
}

/* The RAM block holding gpa, or NULL. */
static const RamBlock *ram_find(uint64_t gpa)
{
    for (unsigned i = 0; i < mem.nram; i++) {
        if (gpa >= mem.ram[i].gpa && gpa - mem.ram[i].gpa < mem.ram[i].size) {
            return &mem.ram[i];
        }
    }
    return NULL;
}

void *guest_ram_ptr(uint64_t gpa, uint64_t len)
{
    const RamBlock *b = ram_find(gpa);
    if (!b || len > b->size - (gpa - b->gpa)) {
        return NULL;
    }
    return b->host + (gpa - b->gpa);
}

static uint64_t region_read(MemoryRegion *mr, uint64_t offset, unsigned size)
{
    if (!mr->ops || !mr->ops->read) {
        return UINT64_MAX;
    }
    return mr->ops->read(mr->opaque, offset, size);
}

/* The largest naturally aligned access size at addr that fits in len. */
static unsigned access_size(uint64_t addr, uint64_t len)
{
    for (unsigned size = 8; size > 1; size >>= 1) {
        if (len >= size && (addr & (size - 1)) == 0) {
            return size;
        }
    }
    return 1;
}

static void store_le(uint8_t *p, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++) {
        p[i] = v >> (8 * i);
    }
}

static uint64_t load_le(const uint8_t *p, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

/* One step of an access: at most `len` bytes at `addr`; returns how many were done. */
static uint64_t access_step(AddressSpaceId space, uint64_t addr, uint8_t *buf, uint64_t len,
                            bool is_write)
{
    if (addr > space_limit[space]) {
        if (!is_write) {
            memset(buf, 0xff, len);
        }
        return len;
    }
    if (len - 1 > space_limit[space] - addr) {
        len = space_limit[space] - addr + 1;
    }
    /* RAM first: a BAR the driver placed over RAM does not shadow it (as on a PC). */
    const RamBlock *ram = space == ADDR_SPACE_MEMORY ? ram_find(addr) : NULL;
    if (ram) {
        uint64_t n = MIN(len, ram->size - (addr - ram->gpa));
        uint8_t *host = ram->host + (addr - ram->gpa);
        bool readable = true, writable = true;
        if (mem.ram_view) {
            mem.ram_view(addr, &n, &readable, &writable, mem.ram_view_opaque);
        }
        if (!(is_write ? writable : readable)) {
            /* The chipset routes it away from RAM, to a bus with nothing there. */
            if (!is_write) {
                memset(buf, 0xff, n);
            }
            return n;
        }
        if (is_write) {
            memcpy(host, buf, n);
            /* qtest writes RAM behind any dirty log: migration must see them too. */
            if (mem.write_hook) {
                mem.write_hook(addr, n, mem.write_hook_opaque);
            }
        } else {
            memcpy(buf, host, n);
        }
        return n;
    }
    uint64_t avail;
    MemoryRegion *mr = region_find(space, addr, &avail);
    for (unsigned i = 0; space == ADDR_SPACE_MEMORY && i < mem.nram; i++) {
        if (mem.ram[i].gpa > addr) {
            avail = MIN(avail, mem.ram[i].gpa - addr);
        }
    }
    if (!mr) {
        /* Unmapped up to the next region or RAM block: reads float high, writes vanish. */
        uint64_t n = MIN(len, avail);
        if (!is_write) {
            memset(buf, 0xff, n);
        }
        return n;
    }
    uint64_t offset = addr - mr->base;
    unsigned size = access_size(addr, MIN(len, avail));
    if (is_write) {
        if (mr->ops && mr->ops->write) {
            mr->ops->write(mr->opaque, offset, load_le(buf, size), size);
        }
    } else {
        store_le(buf, region_read(mr, offset, size), size);
    }
    return size;
}

void address_space_rw(AddressSpaceId space, uint64_t addr, void *buf, uint64_t len,
                      bool is_write)
{
    g_return_if_fail(space < ADDR_SPACE__MAX);
    uint8_t *p = buf;
    while (len > 0) {
        uint64_t n = access_step(space, addr, p, len, is_write);
        p += n;
        len -= n;
        if (addr + n < addr && len > 0) {
            /* Past the top of the 64-bit space there is nothing, not address 0. */
            if (!is_write) {
                memset(p, 0xff, len);
            }
            return;
        }
        addr += n;
    }
}

uint64_t address_space_read(AddressSpaceId space, uint64_t addr, unsigned size)
{
    uint8_t buf[8];
    g_return_val_if_fail(size == 1 || size == 2 || size == 4 || size == 8, UINT64_MAX);
    address_space_rw(space, addr, buf, size, false);
    return load_le(buf, size);
}

void address_space_write(AddressSpaceId space, uint64_t addr, uint64_t value, unsigned size)
{
    uint8_t buf[8];
    g_return_if_fail(size == 1 || size == 2 || size == 4 || size == 8);
    store_le(buf, value, size);
    address_space_rw(space, addr, buf, size, true);
}

void memory_set_ram_view(MemoryRamView *view, void *opaque)
{
    mem.ram_view = view;
    mem.ram_view_opaque = opaque;
}

bool dma_read(uint64_t gpa, void *buf, size_t len)
{
    if (len == 0) {
        return true;
    }
    void *host = guest_ram_ptr(gpa, len);
    if (!host) {
        return false;
    }
    memcpy(buf, host, len);
    return true;
}

bool dma_write(uint64_t gpa, const void *buf, size_t len)
{
    if (len == 0) {
        return true;
    }
    void *host = guest_ram_ptr(gpa, len);
    if (!host) {
        return false;
    }
    memcpy(host, buf, len);
    if (mem.write_hook) {
        mem.write_hook(gpa, len, mem.write_hook_opaque);
    }
    return true;
}

void dma_set_write_hook(DmaWriteHook *hook, void *opaque)
{
    mem.write_hook = hook;
    mem.write_hook_opaque = opaque;
}
