/*
 * memory.h: guest RAM and the two address spaces (memory and I/O ports) that CPU-side
 * accesses (qtest commands, KVM exits) are dispatched through, plus checked DMA for
 * devices. A device never gets a raw pointer it has not bounds-checked here.
 */
#ifndef TERN_HW_MEMORY_H
#define TERN_HW_MEMORY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    ADDR_SPACE_MEMORY,
    ADDR_SPACE_IO,
    ADDR_SPACE__MAX,
} AddressSpaceId;

typedef struct MemoryRegionOps {
    /* size is 1, 2, 4 or 8; offset is relative to the region's base. */
    uint64_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint64_t value, unsigned size);
} MemoryRegionOps;

typedef struct MemoryRegion {
    const char *name;
    AddressSpaceId space;
    uint64_t base, size;
    const MemoryRegionOps *ops;
    void *opaque;
    bool mapped;
} MemoryRegion;

void memory_region_init(MemoryRegion *mr, AddressSpaceId space, const char *name, uint64_t size,
                        const MemoryRegionOps *ops, void *opaque);
/* Map (or move) the region at `base`; overlapping mappings: the latest wins. */
void memory_region_map(MemoryRegion *mr, uint64_t base);
void memory_region_unmap(MemoryRegion *mr);

/* Guest RAM: low RAM from 0 up to min(size, ram_below_4g), the rest from 4 GiB. */
typedef struct RamBlock {
    uint64_t gpa;
    uint64_t size;
    uint8_t *host;
} RamBlock;

bool guest_ram_init(uint64_t size, uint64_t ram_below_4g, GError **errp);
void guest_ram_free(void);
uint64_t guest_ram_size(void);
/* The RAM blocks (for KVM memory slots and migration); returns the count. */
unsigned guest_ram_blocks(const RamBlock **blocks);
/* Host pointer for [gpa, gpa+len) when all of it is RAM, else NULL. */
void *guest_ram_ptr(uint64_t gpa, uint64_t len);

/* CPU-side access: RAM, else the mapped region, else reads return all ones and writes
 * are dropped (as on a PC bus). */
void address_space_rw(AddressSpaceId space, uint64_t addr, void *buf, uint64_t len,
                      bool is_write);
uint64_t address_space_read(AddressSpaceId space, uint64_t addr, unsigned size);
void address_space_write(AddressSpaceId space, uint64_t addr, uint64_t value, unsigned size);

/*
 * The chipset's view of RAM for CPU-side accesses (the i440FX's PAM and SMRAM registers
 * decide whether 0xA0000-0xFFFFF reads and writes reach RAM). Called for an access to
 * RAM at addr: clear *readable / *writable where they do not (reads then float high,
 * writes vanish), and cut *len to where that answer ends. NULL: all RAM is plain RAM.
 * Device DMA does not go through it, nor do KVM's own mappings of RAM.
 */
typedef void MemoryRamView(uint64_t addr, uint64_t *len, bool *readable, bool *writable,
                           void *opaque);
void memory_set_ram_view(MemoryRamView *view, void *opaque);

/* Device-side (bus-master) access to RAM, little-endian guest. False when any byte is
 * outside RAM: the caller treats that as a guest error. */
bool dma_read(uint64_t gpa, void *buf, size_t len);
bool dma_write(uint64_t gpa, const void *buf, size_t len);

/* Called for every RAM write a device makes (migration's dirty tracking hooks here). */
typedef void DmaWriteHook(uint64_t gpa, uint64_t len, void *opaque);
void dma_set_write_hook(DmaWriteHook *hook, void *opaque);

#endif
