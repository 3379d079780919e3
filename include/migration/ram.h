/*
 * ram.h: guest RAM in the migration stream (pre-copy), and the dirty log that tells
 * migration which pages changed since it last looked.
 *
 * The dirty log is a small interface an accelerator implements (KVM: KVM_MEM_LOG_DIRTY_PAGES
 * on each memory slot and KVM_GET_DIRTY_LOG). Without one, only writes tern itself makes
 * to RAM are seen: device DMA (dma_write) and CPU-side writes through the address space
 * (qtest), which memory.c reports through the dma write hook. That is complete under qtest
 * and -machine none; under KVM the guest's own writes need the accelerator's log.
 */
#ifndef TERN_MIGRATION_RAM_H
#define TERN_MIGRATION_RAM_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "hw/memory.h"
#include "migration/mig-file.h"

#define MIG_PAGE_SHIFT 12
#define MIG_PAGE_SIZE (1u << MIG_PAGE_SHIFT)

/*
 * What an accelerator implements. Blocks are those of guest_ram_blocks(), by index; a
 * bitmap has one bit per 4 KiB page of the block (bit i of word i / BITS_PER_LONG is the
 * page at block->gpa + i * 4096), and `sync` ORs into it (never clears bits) the pages
 * written since `start` or the previous `sync`, then forgets them. Called from the
 * migration thread with the big lock held.
 */
typedef struct RamDirtyLogOps {
    bool (*start)(void *opaque, GError **errp);
    void (*stop)(void *opaque);
    bool (*sync)(void *opaque, unsigned block, const RamBlock *rb, unsigned long *bitmap,
                 GError **errp);
} RamDirtyLogOps;

/* The accelerator registers its log at start-up (NULL ops: none). */
void ram_dirty_log_register(const RamDirtyLogOps *ops, void *opaque);
/* True when guest vCPU writes are tracked (an accelerator log is registered). */
bool ram_dirty_log_tracks_vcpus(void);
/*
 * The accelerator's log outlives a successful migration (ram_save_cleanup with
 * keep_log): turning it off costs a memory-slot update per block (29-57 ms of the lab's
 * only CPU), which would compete with the destination starting the guest. It is turned
 * off lazily, before this VM's vCPUs run again (ram.c subscribes to the run state), or reused
 * (its log cleared) by the next ram_save_setup. ram_dirty_log_stop() does nothing when it is
 * off, nor while a migration uses it (`cont` during pre-copy of a VM paused before `migrate`).
 * Big lock.
 */
bool ram_dirty_log_is_on(void);
void ram_dirty_log_stop(void);

/* Source side: one RAM save, driven by the migration thread. */
typedef struct RamSaveStats {
    uint64_t total;     /* bytes of guest RAM */
    uint64_t remaining; /* bytes still dirty */
    uint64_t transferred;
    uint64_t duplicate; /* zero pages sent as markers */
    uint64_t normal;    /* pages sent whole */
    uint64_t dirty_sync_count;
    uint64_t dirty_pages_rate; /* pages dirtied per second over the last pass */
} RamSaveStats;

typedef struct RamSave RamSave;
/* Start the dirty log (or clear it, when a previous migration left it on) and mark every
 * page dirty (the first pass sends all of RAM). */
RamSave *ram_save_setup(GError **errp);
/* Send every page dirty in the bitmap (rate limited by the file); false on error. */
bool ram_save_pass(RamSave *rs, MigFile *f);
/* Pull the dirty log into the bitmap; returns the pages now dirty. Big lock held. */
uint64_t ram_save_sync(RamSave *rs, GError **errp);
void ram_save_stats(RamSave *rs, RamSaveStats *out);
/*
 * Whether pre-copy may stop the VM now: `remaining` bytes are dirty after a pass that
 * started with `prev_remaining` (UINT64_MAX before the first), and `budget` bytes fit in
 * the downtime limit at the measured bandwidth. *extra counts the passes made since the
 * rest first fitted (start it at 0).
 */
bool ram_precopy_converged(uint64_t remaining, uint64_t prev_remaining, double budget,
                           unsigned *extra);
/* Called from the migration thread after each RAM record is queued, so query-migrate's
 * figures move during a long pass, not only at its end. */
typedef void RamSaveProgress(RamSave *rs, MigFile *f, void *opaque);
void ram_save_set_progress(RamSave *rs, RamSaveProgress *cb, void *opaque);
/* keep_log: leave the accelerator's log on (the VM now runs elsewhere; see above). */
void ram_save_cleanup(RamSave *rs, bool keep_log);

/* Destination side: one RAM record of `type` (MIG_REC_RAM_*), its type byte read. */
bool ram_load_record(MigFile *f, uint8_t type, GError **errp);

#endif
