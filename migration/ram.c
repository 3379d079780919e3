/*
 * ram.c: guest RAM pre-copy. The first pass sends every page; later passes send the pages
 * the dirty log reports written since the previous sync. A page of zeros goes as a
 * marker (12 bytes for a run) instead of 4096 bytes. The destination writes records
 * straight into its RAM blocks after checking they lie inside one.
 *
 * Ordering that keeps the copy exact: a page's bit is cleared before the page is read,
 * and the dirty log is a separate record the next sync pulls in, so a write racing with
 * the read is always sent again.
 */
#include <string.h>
#include "error.h"
#include "main-loop.h"
#include "migration/ram.h"
#include "migration/savevm.h"
#include "runstate.h"

#define BITS_PER_LONG (8 * sizeof(unsigned long))
#define RUN_MAX 64 /* pages per record */
#define LOAD_RUN_MAX 1024

/* The dirty log registry: the accelerator's log, and tern's own for writes it makes. */
static struct {
    const RamDirtyLogOps *ops;
    void *opaque;
    bool hook_installed;
    bool accel_on; /* the accelerator's log is on (left on by a successful migration) */
    bool saving;   /* a RamSave uses it (ram_save_setup .. ram_save_cleanup) */
    int tracking;  /* atomic: the hook records writes */
    unsigned long *hook_map[2]; /* per RAM block, set atomically by the write hook */
    unsigned hook_nblocks;
    VMChangeStateEntry *runstate_notifier; /* while an accelerator log is registered */
} dlog;

/* Before this VM's vCPUs run again (device priority: ahead of the accelerator's start),
 * a log left on by a migration that handed the VM over goes off: write-protect faults on
 * every page are no way to run here. */
static void ram_vm_state_change(void *opaque, bool running, RunState state, RunState from)
{
    if (running) {
        ram_dirty_log_stop();
    }
}

void ram_dirty_log_register(const RamDirtyLogOps *ops, void *opaque)
{
    dlog.ops = ops;
    dlog.opaque = opaque;
    dlog.accel_on = false;
    if (ops && !dlog.runstate_notifier) {
        dlog.runstate_notifier =
            vm_state_notify_add(ram_vm_state_change, NULL, VM_STATE_PRIO_DEVICE);
    } else if (!ops && dlog.runstate_notifier) {
        vm_state_notify_remove(dlog.runstate_notifier);
        dlog.runstate_notifier = NULL;
    }
}

bool ram_dirty_log_tracks_vcpus(void)
{
    return dlog.ops != NULL;
}

bool ram_dirty_log_is_on(void)
{
    return dlog.accel_on;
}

void ram_dirty_log_stop(void)
{
    /* `cont` on a VM paused before `migrate` runs it during pre-copy: the log stays. */
    if (dlog.accel_on && !dlog.saving) {
        dlog.accel_on = false;
        dlog.ops->stop(dlog.opaque);
    }
}

static size_t bitmap_longs(uint64_t size)
{
    uint64_t pages = size >> MIG_PAGE_SHIFT;
    return (pages + BITS_PER_LONG - 1) / BITS_PER_LONG;
}

static void mark_dirty(unsigned long *map, uint64_t first, uint64_t last)
{
    for (uint64_t p = first; p <= last; p++) {
        __atomic_fetch_or(&map[p / BITS_PER_LONG], 1UL << (p % BITS_PER_LONG),
                          __ATOMIC_RELAXED);
    }
}

/* Any thread: a device (or qtest) wrote guest RAM. */
static void ram_write_hook(uint64_t gpa, uint64_t len, void *opaque)
{
    if (!__atomic_load_n(&dlog.tracking, __ATOMIC_ACQUIRE) || len == 0) {
        return;
    }
    const RamBlock *blocks;
    unsigned n = MIN(guest_ram_blocks(&blocks), dlog.hook_nblocks);
    for (unsigned i = 0; i < n; i++) {
        const RamBlock *b = &blocks[i];
        uint64_t end = gpa + len - 1;
        if (end < b->gpa || gpa >= b->gpa + b->size) {
            continue;
        }
        uint64_t lo = MAX(gpa, b->gpa) - b->gpa, hi = MIN(end, b->gpa + b->size - 1) - b->gpa;
        mark_dirty(dlog.hook_map[i], lo >> MIG_PAGE_SHIFT, hi >> MIG_PAGE_SHIFT);
    }
}

struct RamSave {
    const RamBlock *blocks;
    unsigned nblocks;
    unsigned long *map[2]; /* pages still to send */
    uint64_t dirty;        /* bits set in map */
    RamSaveStats st;
    int64_t last_sync_ns;
    bool accel_started;
    RamSaveProgress *progress; /* after each record sent, for query-migrate */
    void *progress_opaque;
};

void ram_save_set_progress(RamSave *rs, RamSaveProgress *cb, void *opaque)
{
    rs->progress = cb;
    rs->progress_opaque = opaque;
}

static uint64_t count_bits(const unsigned long *map, size_t longs)
{
    uint64_t n = 0;
    for (size_t i = 0; i < longs; i++) {
        n += __builtin_popcountl(map[i]);
    }
    return n;
}

RamSave *ram_save_setup(GError **errp)
{
    RamSave *rs = g_new0(RamSave, 1);
    rs->nblocks = MIN(guest_ram_blocks(&rs->blocks), 2);
    if (!dlog.hook_installed) {
        dma_set_write_hook(ram_write_hook, NULL);
        dlog.hook_installed = true;
    }
    for (unsigned i = 0; i < rs->nblocks; i++) {
        uint64_t pages = rs->blocks[i].size >> MIG_PAGE_SHIFT;
        size_t longs = bitmap_longs(rs->blocks[i].size);
        rs->map[i] = g_new0(unsigned long, longs);
        for (uint64_t p = 0; p < pages; p++) {
            rs->map[i][p / BITS_PER_LONG] |= 1UL << (p % BITS_PER_LONG);
        }
        g_free(dlog.hook_map[i]);
        dlog.hook_map[i] = g_new0(unsigned long, longs);
        rs->st.total += rs->blocks[i].size;
        rs->dirty += pages;
    }
    dlog.hook_nblocks = rs->nblocks;
    __atomic_store_n(&dlog.tracking, 1, __ATOMIC_RELEASE);
    if (dlog.ops && rs->nblocks > 0) {
        if (dlog.accel_on) {
            /* Left on by the previous (successful) migration: forget what it logged
             * since (every page is dirty here anyway), so the first sync reports only
             * what the guest writes from now on. */
            for (unsigned i = 0; i < rs->nblocks; i++) {
                if (!dlog.ops->sync(dlog.opaque, i, &rs->blocks[i], rs->map[i], errp)) {
                    g_prefix_error(errp, "dirty log: ");
                    ram_save_cleanup(rs, false);
                    return NULL;
                }
            }
        } else if (!dlog.ops->start(dlog.opaque, errp)) {
            g_prefix_error(errp, "dirty log: ");
            ram_save_cleanup(rs, false);
            return NULL;
        }
        dlog.accel_on = true;
        dlog.saving = true;
        rs->accel_started = true;
    }
    rs->st.remaining = rs->dirty << MIG_PAGE_SHIFT;
    rs->st.dirty_sync_count = 1;
    rs->last_sync_ns = clock_get_ns(TERN_CLOCK_REALTIME);
    return rs;
}

static bool page_is_zero(const uint8_t *p)
{
    const uint64_t *q = (const uint64_t *)p;
    for (unsigned i = 0; i < MIG_PAGE_SIZE / 8; i++) {
        if (q[i]) {
            return false;
        }
    }
    return true;
}

/* One record: `n` pages from `gpa`, zero or whole. */
static void put_run(RamSave *rs, MigFile *f, uint64_t gpa, const uint8_t *host, uint32_t n,
                    bool zero)
{
    mig_file_put_u8(f, zero ? MIG_REC_RAM_ZERO : MIG_REC_RAM_PAGES);
    mig_file_put_be64(f, gpa);
    mig_file_put_be32(f, n);
    if (zero) {
        rs->st.duplicate += n;
    } else {
        mig_file_put_buffer(f, host, (size_t)n << MIG_PAGE_SHIFT);
        rs->st.normal += n;
    }
    rs->st.remaining = rs->dirty << MIG_PAGE_SHIFT;
    mig_file_rate_limit(f);
    if (rs->progress) {
        rs->progress(rs, f, rs->progress_opaque);
    }
}

bool ram_save_pass(RamSave *rs, MigFile *f)
{
    for (unsigned b = 0; b < rs->nblocks; b++) {
        const RamBlock *rb = &rs->blocks[b];
        uint64_t pages = rb->size >> MIG_PAGE_SHIFT;
        uint64_t run_start = 0;
        uint32_t run_len = 0;
        bool run_zero = false;
        for (uint64_t p = 0; p < pages; p++) {
            unsigned long *w = &rs->map[b][p / BITS_PER_LONG];
            unsigned long bit = 1UL << (p % BITS_PER_LONG);
            if (*w == 0) {
                /* Skip a clean word at once. */
                p += BITS_PER_LONG - 1 - (p % BITS_PER_LONG);
                continue;
            }
            if (!(*w & bit)) {
                continue;
            }
            *w &= ~bit;
            rs->dirty--;
            const uint8_t *host = rb->host + (p << MIG_PAGE_SHIFT);
            bool zero = page_is_zero(host);
            if (run_len &&
                (zero != run_zero || run_start + run_len != p || run_len == RUN_MAX)) {
                put_run(rs, f, rb->gpa + (run_start << MIG_PAGE_SHIFT),
                        rb->host + (run_start << MIG_PAGE_SHIFT), run_len, run_zero);
                run_len = 0;
            }
            if (!run_len) {
                run_start = p;
                run_zero = zero;
            }
            run_len++;
            rs->st.remaining = rs->dirty << MIG_PAGE_SHIFT;
            if (mig_file_error(f)) {
                return false;
            }
        }
        if (run_len) {
            put_run(rs, f, rb->gpa + (run_start << MIG_PAGE_SHIFT),
                    rb->host + (run_start << MIG_PAGE_SHIFT), run_len, run_zero);
        }
    }
    rs->st.remaining = rs->dirty << MIG_PAGE_SHIFT;
    rs->st.transferred = mig_file_bytes(f);
    return mig_file_error(f) == NULL;
}

uint64_t ram_save_sync(RamSave *rs, GError **errp)
{
    uint64_t before = rs->dirty;
    for (unsigned b = 0; b < rs->nblocks; b++) {
        size_t longs = bitmap_longs(rs->blocks[b].size);
        if (rs->accel_started &&
            !dlog.ops->sync(dlog.opaque, b, &rs->blocks[b], rs->map[b], errp)) {
            g_prefix_error(errp, "dirty log: ");
            return UINT64_MAX;
        }
        for (size_t i = 0; i < longs; i++) {
            rs->map[b][i] |= __atomic_exchange_n(&dlog.hook_map[b][i], 0, __ATOMIC_ACQ_REL);
        }
    }
    uint64_t dirty = 0;
    for (unsigned b = 0; b < rs->nblocks; b++) {
        dirty += count_bits(rs->map[b], bitmap_longs(rs->blocks[b].size));
    }
    int64_t now = clock_get_ns(TERN_CLOCK_REALTIME);
    int64_t dt = MAX(now - rs->last_sync_ns, 1);
    uint64_t newly = dirty > before ? dirty - before : 0;
    rs->st.dirty_pages_rate = newly * NS_PER_SEC / dt;
    rs->last_sync_ns = now;
    rs->dirty = dirty;
    rs->st.remaining = dirty << MIG_PAGE_SHIFT;
    rs->st.dirty_sync_count++;
    return dirty;
}

/*
 * The downtime limit is a ceiling, not a target. While a pass leaves less than half of
 * what it sent dirty behind (the guest dirties slower than half the link), one more pass
 * with the guest running takes that time off the pause, so pre-copy goes on until the
 * rest stops shrinking. QEMU stops at the first pass that fits the limit, and its pause
 * carries up to the whole limit's worth of pages. A fixed cost per pass (the dirty-log
 * sync) brings the ratio to one half soon; PRECOPY_EXTRA_PASSES bounds it anyway.
 */
#define PRECOPY_EXTRA_PASSES 16

bool ram_precopy_converged(uint64_t remaining, uint64_t prev_remaining, double budget,
                           unsigned *extra)
{
    if (remaining == 0) {
        return true;
    }
    if ((double)remaining > budget) {
        *extra = 0;
        return false;
    }
    return remaining > prev_remaining / 2 || ++*extra > PRECOPY_EXTRA_PASSES;
}

void ram_save_stats(RamSave *rs, RamSaveStats *out)
{
    *out = rs->st;
}

void ram_save_cleanup(RamSave *rs, bool keep_log)
{
    if (!rs) {
        return;
    }
    __atomic_store_n(&dlog.tracking, 0, __ATOMIC_RELEASE);
    if (rs->accel_started) {
        dlog.saving = false;
    }
    if (rs->accel_started && !keep_log) {
        ram_dirty_log_stop();
    }
    for (unsigned i = 0; i < 2; i++) {
        g_free(rs->map[i]);
    }
    g_free(rs);
}

bool ram_load_record(MigFile *f, uint8_t type, GError **errp)
{
    uint64_t gpa;
    uint32_t n;
    if (!mig_file_get_be64(f, &gpa) || !mig_file_get_be32(f, &n)) {
        const GError *e = mig_file_error(f);
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "RAM record: %s",
                    e ? e->message : "truncated");
        return false;
    }
    uint8_t *host = NULL;
    if (n > 0 && n <= LOAD_RUN_MAX && (gpa & (MIG_PAGE_SIZE - 1)) == 0) {
        host = guest_ram_ptr(gpa, (uint64_t)n << MIG_PAGE_SHIFT);
    }
    if (!host) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "RAM record: %u pages at 0x%" G_GINT64_MODIFIER "x are not inside a RAM "
                    "block here",
                    n, gpa);
        return false;
    }
    if (type == MIG_REC_RAM_PAGES) {
        if (!mig_file_get_buffer(f, host, (size_t)n << MIG_PAGE_SHIFT)) {
            const GError *e = mig_file_error(f);
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "RAM record at 0x%" G_GINT64_MODIFIER "x: %s", gpa,
                        e ? e->message : "truncated");
            return false;
        }
        return true;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *page = host + ((size_t)i << MIG_PAGE_SHIFT);
        /* Leave an untouched (never faulted-in) page alone. */
        if (!page_is_zero(page)) {
            memset(page, 0, MIG_PAGE_SIZE);
        }
    }
    return true;
}
