/*
 * test-dirty-log.c: when the accelerator's dirty log is turned off around a migration,
 * seen through a fake RamDirtyLogOps. A migration that hands the VM over leaves it on
 * (turning it off costs the CPU the destination needs to start the guest); `cont` turns
 * it off before the vCPUs run; a new migration reuses it with its log cleared; a failed
 * or cancelled one turns it off.
 */
#include <glib.h>
#include <stdint.h>
#include "hw/memory.h"
#include "main-loop.h"
#include "migration/ram.h"
#include "runstate.h"

static struct {
    bool on;
    unsigned starts, stops, syncs;
    bool on_when_running; /* the log's state when the vCPUs were told to run */
} fake;

static bool fake_start(void *opaque, GError **errp)
{
    g_assert_false(fake.on); /* never started twice */
    fake.on = true;
    fake.starts++;
    return true;
}

static void fake_stop(void *opaque)
{
    g_assert_true(fake.on);
    fake.on = false;
    fake.stops++;
}

static bool fake_sync(void *opaque, unsigned block, const RamBlock *rb, unsigned long *bitmap,
                      GError **errp)
{
    g_assert_true(fake.on);
    bitmap[0] |= 1; /* the guest wrote its first page */
    fake.syncs++;
    return true;
}

static const RamDirtyLogOps fake_ops = {
    .start = fake_start,
    .stop = fake_stop,
    .sync = fake_sync,
};

static void on_run_state(void *opaque, bool running, RunState state, RunState from)
{
    if (running) {
        fake.on_when_running = fake.on;
    }
}

static void fresh(void)
{
    memset(&fake, 0, sizeof(fake));
    ram_dirty_log_register(&fake_ops, NULL);
}

/* A VM that ran and was paused (before any log is on). */
static void paused(void)
{
    bql_lock();
    vm_start();
    vm_stop(RUN_STATE_PAUSED);
    bql_unlock();
}

static RamSave *setup(void)
{
    g_autoptr(GError) err = NULL;
    bql_lock();
    RamSave *rs = ram_save_setup(&err);
    bql_unlock();
    g_assert_no_error(err);
    g_assert_nonnull(rs);
    return rs;
}

static void cleanup(RamSave *rs, bool handed_over)
{
    bql_lock();
    ram_save_cleanup(rs, handed_over);
    bql_unlock();
}

/* Handed over: the log stays on; `cont` (vm_start) turns it off before the vCPUs run. */
static void test_success_then_cont(void)
{
    fresh();
    paused();
    cleanup(setup(), true);
    g_assert_cmpuint(fake.starts, ==, 1);
    g_assert_cmpuint(fake.stops, ==, 0);
    g_assert_true(ram_dirty_log_is_on());
    bql_lock();
    vm_stop_force_state(RUN_STATE_POSTMIGRATE);
    vm_start();
    bql_unlock();
    g_assert_true(runstate_is_running());
    g_assert_cmpuint(fake.stops, ==, 1);
    g_assert_false(fake.on_when_running);
    g_assert_false(ram_dirty_log_is_on());
    /* Nothing left to stop: stopping again does nothing. */
    ram_dirty_log_stop();
    g_assert_cmpuint(fake.stops, ==, 1);
}

/* A new migration after a successful one: no second start, the log cleared. */
static void test_success_then_migrate_again(void)
{
    fresh();
    cleanup(setup(), true);
    unsigned syncs = fake.syncs;
    RamSave *rs = setup();
    g_assert_cmpuint(fake.starts, ==, 1);
    g_assert_cmpuint(fake.stops, ==, 0);
    const RamBlock *blocks;
    unsigned n = guest_ram_blocks(&blocks);
    g_assert_cmpuint(fake.syncs, ==, syncs + n); /* what it logged since is forgotten */
    /* Every page is still to send, as in any first pass. */
    RamSaveStats st;
    ram_save_stats(rs, &st);
    g_assert_cmpuint(st.remaining, ==, st.total);
    g_assert_cmpuint(st.dirty_sync_count, ==, 1);
    /* This one fails: the log goes off with it. */
    cleanup(rs, false);
    g_assert_cmpuint(fake.stops, ==, 1);
    g_assert_false(ram_dirty_log_is_on());
    /* And the one after starts it again. */
    cleanup(setup(), false);
    g_assert_cmpuint(fake.starts, ==, 2);
    g_assert_cmpuint(fake.stops, ==, 2);
}

/* `cont` during pre-copy (the VM was paused before `migrate`): the log stays on. */
static void test_cont_during_precopy(void)
{
    fresh();
    paused();
    RamSave *rs = setup();
    bql_lock();
    vm_start();
    bql_unlock();
    g_assert_true(fake.on_when_running);
    g_assert_cmpuint(fake.stops, ==, 0);
    g_autoptr(GError) err = NULL;
    bql_lock();
    g_assert_cmpuint(ram_save_sync(rs, &err), !=, UINT64_MAX);
    bql_unlock();
    g_assert_no_error(err);
    cleanup(rs, false);
    g_assert_cmpuint(fake.stops, ==, 1);
}

/* Failed or cancelled: off at once, and off when the VM resumes. */
static void test_failure_stops(void)
{
    fresh();
    paused();
    cleanup(setup(), false);
    g_assert_cmpuint(fake.stops, ==, 1);
    g_assert_false(ram_dirty_log_is_on());
    bql_lock();
    vm_start();
    bql_unlock();
    g_assert_false(fake.on_when_running);
    g_assert_cmpuint(fake.stops, ==, 1);
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    g_test_init(&argc, &argv, NULL);
    g_assert_true(guest_ram_init(2 << 20, 2 << 20, &err));
    vm_state_notify_add(on_run_state, NULL, VM_STATE_PRIO_ACCEL); /* where vCPUs start */
    g_test_add_func("/dirty-log/success-then-cont", test_success_then_cont);
    g_test_add_func("/dirty-log/success-then-migrate-again", test_success_then_migrate_again);
    g_test_add_func("/dirty-log/cont-during-precopy", test_cont_during_precopy);
    g_test_add_func("/dirty-log/failure-stops", test_failure_stops);
    return g_test_run();
}
