/*
 * migration.c: the outgoing migration: QMP `migrate` / `migrate_cancel` /
 * `query-migrate`, and the migration thread that runs pre-copy.
 *
 * Threads (docs/migration.md): the migration thread owns the stream and never blocks
 * with the big lock held; it takes the lock only to sync the dirty log and to save
 * device state. Stopping the VM happens on the main thread (a request the thread waits
 * for), because the run-state notifiers (vCPUs, devices, announce) expect the main
 * thread. The thread's end is also handled on the main thread: the VM goes to
 * postmigrate, or back to the state it had when anything failed or was cancelled.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "error.h"
#include "hw/irq.h"
#include "main-loop.h"
#include "migration/migration-params.h"
#include "migration/migration.h"
#include "migration/ram.h"
#include "migration/savevm.h"
#include "migration/transport.h"
#include "monitor/fds.h"
#include "monitor/qmp.h"
#include "migration/global-state.h"
#include "net/announce.h"
#include "qapi-enum.h"
#include "runstate.h"

const char *migration_status_name(MigrationStatus s)
{
    const char *name = s < MIGRATION_STATUS__MAX ? qapi_enum_str("MigrationStatus", s) : NULL;
    return name ? name : "none";
}

/* The outgoing migration: one per process. `lock` guards what both threads touch. */
static struct {
    GMutex lock;
    GCond cond;
    MigrationStatus status;
    GThread *thread;
    int cancel_fd; /* eventfd, written by migrate_cancel / shutdown */
    char *uri;
    int given_fd; /* fd: URI, taken at `migrate` */
    GError *error;
    bool events;
    /* Main thread <-> migration thread: stopping the VM for the last round. */
    bool stop_requested, stop_done;
    bool vm_stopped; /* we moved the VM to finish-migrate */
    bool want_reply; /* the transport lets the destination answer */
    /* The destination accepted the stream and is (being) told to run the VM: from here
     * on nothing resumes it here, and migrate_cancel is refused. */
    bool committed;
    RunState old_state;
    /* Figures for query-migrate. */
    int64_t start_ms, setup_time, total_time, downtime, expected_downtime;
    int64_t stop_ms;
    /* The completion path after the confirmation (TERN_MIG_TIMING=1 prints them). */
    int64_t confirmed_ns, thread_tail_ns;
    double mbps;
    RamSaveStats ram;
    bool have_ram;
    uint64_t downtime_limit_ms, max_bandwidth;
    int verdict_timeout_ms;
} ms = {.cancel_fd = -1, .given_fd = -1};

static int64_t now_ms(void)
{
    return clock_get_ms(TERN_CLOCK_REALTIME);
}

bool migrate_events_enabled(void)
{
    return ms.events;
}

void migration_emit_status(MigrationStatus s)
{
    if (ms.events) {
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "status", migration_status_name(s));
        qmp_event_emit("MIGRATION", o);
    }
}

static void set_status(MigrationStatus s)
{
    g_mutex_lock(&ms.lock);
    bool changed = ms.status != s;
    ms.status = s;
    g_mutex_unlock(&ms.lock);
    if (changed) {
        migration_emit_status(s);
    }
}

static MigrationStatus get_status(void)
{
    g_mutex_lock(&ms.lock);
    MigrationStatus s = ms.status;
    g_mutex_unlock(&ms.lock);
    return s;
}

static bool status_in_progress(MigrationStatus s)
{
    return s == MIGRATION_STATUS_SETUP || s == MIGRATION_STATUS_ACTIVE ||
           s == MIGRATION_STATUS_DEVICE || s == MIGRATION_STATUS_CANCELLING;
}

bool migration_is_active(void)
{
    return status_in_progress(get_status());
}

static bool cancelled(void)
{
    return get_status() == MIGRATION_STATUS_CANCELLING;
}

/* Migration thread: remember the first error. */
static void fail_with(GError *err)
{
    g_mutex_lock(&ms.lock);
    if (!ms.error) {
        ms.error = err;
    } else {
        g_error_free(err);
    }
    g_mutex_unlock(&ms.lock);
}

/* The stream broke. A destination that refused it has said why before it hung up:
 * that reason is the one to report, not the broken pipe it caused. */
static void fail_from_file(MigFile *f, const char *what)
{
    if (ms.want_reply && get_status() != MIGRATION_STATUS_CANCELLING) {
        GError *verdict = NULL;
        int fd = dup(mig_file_fd(f));
        MigFile *rf = fd >= 0 ? mig_file_new_fd(fd) : NULL;
        if (rf) {
            mig_file_set_cancel_fd(rf, ms.cancel_fd);
            bool answered =
                savevm_get_reply(rf, 2000, &verdict) || strstr(verdict->message, "refused");
            mig_file_close(rf);
            if (answered && verdict) {
                fail_with(verdict);
                return;
            }
            g_clear_error(&verdict);
        }
    }
    const GError *e = mig_file_error(f);
    fail_with(g_error_new(TERN_ERROR, TERN_ERROR_GENERIC, "%s: %s", what,
                          e ? e->message : "stream error"));
}

/* ---- stopping the VM for the last round (main thread) ----------------------------- */

static gboolean stop_vm_on_main(gpointer opaque)
{
    g_mutex_lock(&ms.lock);
    bool go = ms.status == MIGRATION_STATUS_ACTIVE;
    g_mutex_unlock(&ms.lock);
    if (go) {
        ms.old_state = runstate_get();
        global_state_store();
        ms.stop_ms = now_ms();
        vm_stop_force_state(RUN_STATE_FINISH_MIGRATE);
        ms.vm_stopped = true;
    }
    g_mutex_lock(&ms.lock);
    ms.stop_done = true;
    g_cond_broadcast(&ms.cond);
    g_mutex_unlock(&ms.lock);
    return G_SOURCE_REMOVE;
}

/* Migration thread: ask the main thread to stop the VM and wait; false if cancelled. */
static bool request_vm_stop(void)
{
    g_mutex_lock(&ms.lock);
    ms.stop_requested = true;
    ms.stop_done = false;
    g_mutex_unlock(&ms.lock);
    g_idle_add(stop_vm_on_main, NULL);
    g_mutex_lock(&ms.lock);
    while (!ms.stop_done && ms.status != MIGRATION_STATUS_CANCELLING) {
        g_cond_wait(&ms.cond, &ms.lock);
    }
    bool ok = ms.stop_done && ms.status != MIGRATION_STATUS_CANCELLING;
    g_mutex_unlock(&ms.lock);
    return ok;
}

/* ---- the migration thread ----------------------------------------------------------- */

static void update_ram_figures(RamSave *rs)
{
    g_mutex_lock(&ms.lock);
    ram_save_stats(rs, &ms.ram);
    ms.have_ram = true;
    g_mutex_unlock(&ms.lock);
}

static void on_ram_progress(RamSave *rs, MigFile *f, void *opaque)
{
    update_ram_figures(rs);
    g_mutex_lock(&ms.lock);
    ms.ram.transferred = mig_file_bytes(f);
    g_mutex_unlock(&ms.lock);
}

static void emit_pass(uint64_t pass)
{
    if (ms.events) {
        JsonObject *o = json_object_new();
        json_object_set_int_member(o, "pass", (gint64)pass);
        qmp_event_emit("MIGRATION_PASS", o);
    }
}

static void read_params(void)
{
    const MigrationParams *p = migrate_params();
    g_mutex_lock(&ms.lock);
    ms.downtime_limit_ms = p->downtime_limit;
    ms.max_bandwidth = p->max_bandwidth;
    ms.verdict_timeout_ms = (int)p->verdict_timeout;
    g_mutex_unlock(&ms.lock);
}

/* Pre-copy passes until the rest fits in the downtime limit and stops shrinking; false
 * on error/cancel. */
static bool precopy_iterate(RamSave *rs, MigFile *f)
{
    uint64_t prev_remaining = UINT64_MAX;
    unsigned extra = 0;
    for (;;) {
        int64_t t0 = clock_get_ns(TERN_CLOCK_REALTIME);
        uint64_t b0 = mig_file_bytes(f);
        if (!ram_save_pass(rs, f) || !mig_file_flush(f)) {
            fail_from_file(f, "sending RAM");
            return false;
        }
        int64_t dt_ns = MAX(clock_get_ns(TERN_CLOCK_REALTIME) - t0, 1);
        uint64_t sent = mig_file_bytes(f) - b0;
        GError *err = NULL;
        bql_lock();
        uint64_t dirty = ram_save_sync(rs, &err);
        read_params();
        bql_unlock();
        if (dirty == UINT64_MAX) {
            fail_with(err);
            return false;
        }
        mig_file_set_rate_limit(f, ms.max_bandwidth);
        /* Bytes per millisecond this pass achieved, and what the rest would take. */
        double bw = (double)sent * NS_PER_MS / dt_ns;
        uint64_t remaining = dirty << MIG_PAGE_SHIFT;
        update_ram_figures(rs);
        g_mutex_lock(&ms.lock);
        ms.mbps = bw * 8.0 * 1000.0 / 1e6;
        ms.ram.transferred = mig_file_bytes(f);
        ms.expected_downtime = bw > 0 ? (int64_t)(remaining / bw) : 0;
        uint64_t limit = ms.downtime_limit_ms;
        g_mutex_unlock(&ms.lock);
        emit_pass(ms.ram.dirty_sync_count);
        if (ram_precopy_converged(remaining, prev_remaining, bw * (double)limit, &extra)) {
            return true;
        }
        prev_remaining = remaining;
        if (cancelled()) {
            return false;
        }
    }
}

/*
 * The handover after END (docs/migration-stream.md): the destination's verdict, then
 * our confirmation. The destination runs the VM only once it has the confirmation, so
 * until that is sent every failure leaves the VM here, and this side may resume it.
 * Once committed, the VM belongs to the destination: nothing here resumes it.
 */
static bool handover(MigFile *f)
{
    GError *err = NULL;
    if (!savevm_get_reply(f, ms.verdict_timeout_ms, &err)) {
        fail_with(err);
        return false;
    }
    g_mutex_lock(&ms.lock);
    bool cancelling = ms.status == MIGRATION_STATUS_CANCELLING;
    ms.committed = !cancelling;
    g_mutex_unlock(&ms.lock);
    if (cancelling) {
        savevm_put_confirm(f, false); /* so that it exits at once, saying why */
        return false;
    }
    if (!savevm_put_confirm(f, true)) {
        /* Not sent: the destination cannot have it, and does not run the VM. */
        g_mutex_lock(&ms.lock);
        ms.committed = false;
        g_mutex_unlock(&ms.lock);
        fail_from_file(f, "confirming the handover");
        return false;
    }
    return true;
}

/* Stop the VM, send what is left and the device state, hand the VM over. */
static bool precopy_complete(RamSave *rs, MigFile *f, bool want_reply)
{
    if (!request_vm_stop()) {
        return false;
    }
    set_status(MIGRATION_STATUS_DEVICE);
    mig_file_set_rate_limit(f, 0);
    GError *err = NULL;
    g_autoptr(GByteArray) dev = g_byte_array_new();
    bql_lock();
    bool ok = ram_save_sync(rs, &err) != UINT64_MAX;
    bql_unlock();
    if (!ok) {
        fail_with(err);
        return false;
    }
    if (!ram_save_pass(rs, f)) {
        fail_from_file(f, "sending RAM");
        return false;
    }
    bql_lock();
    ok = savevm_save_devices(dev, &err);
    bql_unlock();
    if (!ok) {
        fail_with(err);
        return false;
    }
    mig_file_put_buffer(f, dev->data, dev->len);
    savevm_put_end(f);
    if (!mig_file_flush(f)) {
        fail_from_file(f, "sending device state");
        return false;
    }
    update_ram_figures(rs);
    g_mutex_lock(&ms.lock);
    ms.ram.transferred = mig_file_bytes(f);
    g_mutex_unlock(&ms.lock);
    if (want_reply && !handover(f)) {
        return false;
    }
    /* The guest's pause ends here (the destination runs it); tearing down the dirty
     * log and the connection afterwards is not downtime. */
    g_mutex_lock(&ms.lock);
    ms.downtime = now_ms() - ms.stop_ms;
    ms.confirmed_ns = clock_get_ns(TERN_CLOCK_REALTIME);
    g_mutex_unlock(&ms.lock);
    return true;
}

static gboolean migration_finish_on_main(gpointer opaque);

static gpointer migration_thread(gpointer opaque)
{
    MigConn conn = {.fd = -1};
    GError *err = NULL;
    bool ok = false;
    if (ms.given_fd >= 0) {
        conn.fd = ms.given_fd;
        ms.given_fd = -1;
        conn.bidirectional = transport_is_socket(conn.fd);
    } else if (!transport_connect(ms.uri, ms.cancel_fd, &conn, &err)) {
        fail_with(err);
        goto out;
    }
    MigFile *f = mig_file_new_fd(conn.fd);
    conn.fd = -1; /* the file owns it now */
    mig_file_set_cancel_fd(f, ms.cancel_fd);
    mig_file_set_rate_limit(f, ms.max_bandwidth);
    bool want_reply = ms.want_reply = conn.bidirectional;
    savevm_put_header(f, want_reply ? MIG_STREAM_F_REPLY | MIG_STREAM_F_CONFIRM : 0);
    bql_lock();
    savevm_put_config(f);
    RamSave *rs = ram_save_setup(&err);
    bql_unlock();
    if (!rs) {
        fail_with(err);
    } else {
        g_mutex_lock(&ms.lock);
        ms.setup_time = now_ms() - ms.start_ms;
        g_mutex_unlock(&ms.lock);
        update_ram_figures(rs);
        ram_save_set_progress(rs, on_ram_progress, NULL);
        emit_pass(1); /* the initial sync: every page dirty */
        if (!cancelled()) {
            set_status(MIGRATION_STATUS_ACTIVE);
            ok = precopy_iterate(rs, f) && precopy_complete(rs, f, want_reply);
        }
        /* The VM now runs on the destination: the dirty log stays on (turning it off
         * here would take the CPU the destination needs to start the guest); the next
         * vm_start or migration here deals with it (include/migration/ram.h). */
        bql_lock();
        ram_save_cleanup(rs, ok);
        bql_unlock();
    }
    mig_file_close(f);
out:
    /* An exec: command's exit is its verdict: waited for like one, VM stopped. */
    if (!transport_close(&conn, !ok, ms.cancel_fd, ms.verdict_timeout_ms, &err)) {
        fail_with(err);
        ok = false;
    }
    g_mutex_lock(&ms.lock);
    int64_t end = now_ms();
    ms.total_time = end - ms.start_ms;
    ms.thread_tail_ns =
        ms.confirmed_ns ? clock_get_ns(TERN_CLOCK_REALTIME) - ms.confirmed_ns : 0;
    if (!ok && !ms.error) {
        ms.error = g_error_new_literal(TERN_ERROR, TERN_ERROR_GENERIC, "migration failed");
    }
    g_mutex_unlock(&ms.lock);
    g_idle_add(migration_finish_on_main, GINT_TO_POINTER(ok));
    return NULL;
}

/* Put the VM back where it was before the last round stopped it. */
static void restore_vm_state(void)
{
    if (!ms.vm_stopped) {
        return;
    }
    ms.vm_stopped = false;
    if (ms.old_state == RUN_STATE_RUNNING) {
        vm_start();
    } else if (runstate_check(RUN_STATE_FINISH_MIGRATE)) {
        runstate_set(runstate_transition_allowed(RUN_STATE_FINISH_MIGRATE, ms.old_state)
                         ? ms.old_state
                         : RUN_STATE_PAUSED);
    }
}

static gboolean migration_finish_on_main(gpointer opaque)
{
    bool ok = GPOINTER_TO_INT(opaque);
    int64_t t0 = clock_get_ns(TERN_CLOCK_REALTIME);
    if (ms.thread) {
        g_thread_join(ms.thread);
        ms.thread = NULL;
    }
    MigrationStatus st = get_status();
    if (ok && st != MIGRATION_STATUS_CANCELLING) {
        ms.vm_stopped = false;
        runstate_set(RUN_STATE_POSTMIGRATE);
        set_status(MIGRATION_STATUS_COMPLETED);
    } else {
        /* The VM stays here: no log left on (vm_start would stop it anyway). */
        ram_dirty_log_stop();
        restore_vm_state();
        if (st == MIGRATION_STATUS_CANCELLING) {
            set_status(MIGRATION_STATUS_CANCELLED);
        } else {
            g_log("tern", G_LOG_LEVEL_MESSAGE, "migration failed: %s", ms.error->message);
            set_status(MIGRATION_STATUS_FAILED);
        }
    }
    if (ms.cancel_fd >= 0) {
        close(ms.cancel_fd);
        ms.cancel_fd = -1;
    }
    if (ok && ms.confirmed_ns && g_getenv("TERN_MIG_TIMING")) {
        g_printerr("tern: migration: after the confirmation: migration thread %.2f ms, "
                   "main thread %.2f ms\n",
                   ms.thread_tail_ns / 1e6, (clock_get_ns(TERN_CLOCK_REALTIME) - t0) / 1e6);
    }
    return G_SOURCE_REMOVE;
}

/* ---- QMP ------------------------------------------------------------------------- */

static bool migrate_start(const char *uri, QmpContext *ctx, GError **errp)
{
    if (status_in_progress(get_status()) || ms.thread) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "There's a migration process in progress");
        return false;
    }
    if (runstate_check(RUN_STATE_INMIGRATE)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "Guest is waiting for an incoming migration");
        return false;
    }
    if (runstate_needs_reset()) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "Resetting the Virtual Machine is required");
        return false;
    }
    if (runstate_is_running() && guest_ram_size() > 0 && !ram_dirty_log_tracks_vcpus() &&
        g_strcmp0(accel_get_ops()->name, "kvm") == 0) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "the accelerator cannot report pages the guest writes: stop the VM "
                    "before migrating it");
        return false;
    }
    if (!transport_check_uri(uri, false, errp)) {
        return false;
    }
    int fd = -1;
    if (g_str_has_prefix(uri, "fd:") && (fd = monitor_fd_take(uri + 3, errp)) < 0) {
        return false;
    }
    int cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (cancel_fd < 0) {
        if (fd >= 0) {
            close(fd);
        }
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "eventfd: %s", g_strerror(errno));
        return false;
    }
    g_clear_error(&ms.error);
    g_free(ms.uri);
    ms.uri = g_strdup(uri);
    ms.given_fd = fd;
    ms.cancel_fd = cancel_fd;
    ms.start_ms = now_ms();
    ms.setup_time = ms.total_time = ms.downtime = ms.expected_downtime = 0;
    ms.mbps = 0;
    ms.have_ram = false;
    memset(&ms.ram, 0, sizeof(ms.ram));
    ms.vm_stopped = false;
    ms.committed = false;
    ms.confirmed_ns = ms.thread_tail_ns = 0;
    read_params();
    ms.expected_downtime = ms.downtime_limit_ms;
    set_status(MIGRATION_STATUS_SETUP);
    /* The VM is about to live elsewhere: announce rounds in flight end here, also for a
     * VM already paused (which the stop into finish-migrate does not notify: its rounds
     * would otherwise resume on this host at the next `cont`). */
    announce_cancel_all();
    ms.thread = g_thread_new("migration", migration_thread, NULL);
    return true;
}

static JsonNode *qmp_migrate(JsonObject *args, QmpContext *ctx, GError **errp)
{
    const char *uri = json_object_get_string_member(args, "uri");
    static const char *const refused[][2] = {
        {"blk", "block migration is not supported"},
        {"inc", "incremental block migration is not supported"},
        {"resume", "postcopy recovery is not supported (tern migrates with pre-copy only)"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(refused); i++) {
        if (json_object_get_boolean_member_with_default(args, refused[i][0], FALSE)) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s", refused[i][1]);
            return NULL;
        }
    }
    /* `detach` is accepted and ignored, as QEMU does: QMP migrate always detaches. */
    migrate_start(uri, ctx, errp);
    return NULL;
}

/* Ask the migration thread to stop; `force` (shutdown) also interrupts a handover
 * that can no longer be cancelled, so that quitting never waits on the peer. */
static bool migrate_cancel(bool force, GError **errp)
{
    g_mutex_lock(&ms.lock);
    bool act = ms.status == MIGRATION_STATUS_SETUP || ms.status == MIGRATION_STATUS_ACTIVE ||
               ms.status == MIGRATION_STATUS_DEVICE;
    bool late = act && ms.committed;
    if (act && !late) {
        ms.status = MIGRATION_STATUS_CANCELLING;
    }
    g_mutex_unlock(&ms.lock);
    if (late && !force) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "The migration can no longer be cancelled: the destination has accepted "
                    "the VM and is being told to run it");
        return false;
    }
    if (!act) {
        return true; /* QEMU: nothing to cancel is not an error */
    }
    if (!late) {
        migration_emit_status(MIGRATION_STATUS_CANCELLING);
    }
    uint64_t one = 1;
    if (write(ms.cancel_fd, &one, sizeof(one)) < 0) {
        g_warning("migrate_cancel: eventfd: %s", g_strerror(errno));
    }
    g_mutex_lock(&ms.lock);
    g_cond_broadcast(&ms.cond);
    g_mutex_unlock(&ms.lock);
    return true;
}

static JsonNode *qmp_migrate_cancel(JsonObject *args, QmpContext *ctx, GError **errp)
{
    migrate_cancel(false, errp);
    return NULL;
}

static void put_ram_info(JsonObject *info, const RamSaveStats *r, double mbps)
{
    JsonObject *o = json_object_new();
    json_object_set_int_member(o, "transferred", r->transferred);
    json_object_set_int_member(o, "remaining", r->remaining);
    json_object_set_int_member(o, "total", r->total);
    json_object_set_int_member(o, "duplicate", r->duplicate);
    json_object_set_int_member(o, "skipped", 0);
    json_object_set_int_member(o, "normal", r->normal);
    json_object_set_int_member(o, "normal-bytes", r->normal << MIG_PAGE_SHIFT);
    json_object_set_int_member(o, "dirty-pages-rate", r->dirty_pages_rate);
    json_object_set_double_member(o, "mbps", mbps);
    json_object_set_int_member(o, "dirty-sync-count", r->dirty_sync_count);
    json_object_set_int_member(o, "postcopy-requests", 0);
    json_object_set_int_member(o, "page-size", MIG_PAGE_SIZE);
    json_object_set_int_member(o, "multifd-bytes", 0);
    json_object_set_int_member(o, "pages-per-second", 0);
    json_object_set_int_member(o, "precopy-bytes", r->transferred);
    json_object_set_int_member(o, "downtime-bytes", 0);
    json_object_set_int_member(o, "postcopy-bytes", 0);
    json_object_set_object_member(info, "ram", o);
}

static JsonNode *qmp_query_migrate(JsonObject *args, QmpContext *ctx, GError **errp)
{
    JsonObject *info = json_object_new();
    g_mutex_lock(&ms.lock);
    MigrationStatus st = ms.status;
    if (st == MIGRATION_STATUS_NONE) {
        /* Never migrated out: the destination's view, if any (QEMU's). */
        MigrationStatus in = migration_incoming_status();
        if (in != MIGRATION_STATUS_NONE) {
            json_object_set_string_member(info, "status", migration_status_name(in));
        }
    } else {
        json_object_set_string_member(info, "status", migration_status_name(st));
        bool running = st == MIGRATION_STATUS_SETUP || st == MIGRATION_STATUS_ACTIVE ||
                       st == MIGRATION_STATUS_DEVICE || st == MIGRATION_STATUS_CANCELLING;
        if (running) {
            json_object_set_int_member(info, "total-time", now_ms() - ms.start_ms);
            if (st != MIGRATION_STATUS_SETUP) {
                json_object_set_int_member(info, "expected-downtime", ms.expected_downtime);
                json_object_set_int_member(info, "setup-time", ms.setup_time);
            }
        }
        if (st == MIGRATION_STATUS_COMPLETED) {
            json_object_set_int_member(info, "total-time", ms.total_time);
            json_object_set_int_member(info, "downtime", ms.downtime);
            json_object_set_int_member(info, "setup-time", ms.setup_time);
        }
        if (ms.have_ram && st != MIGRATION_STATUS_SETUP) {
            RamSaveStats r = ms.ram;
            double mbps = ms.mbps;
            if (st == MIGRATION_STATUS_COMPLETED && ms.total_time > 0) {
                mbps = (double)r.transferred * 8.0 / 1e6 / (ms.total_time / 1000.0);
            }
            put_ram_info(info, &r, mbps);
        }
        if (st == MIGRATION_STATUS_FAILED && ms.error) {
            json_object_set_string_member(info, "error-desc", ms.error->message);
        }
    }
    g_mutex_unlock(&ms.lock);
    return json_node_init_object(json_node_alloc(), info);
}

QMP_COMMAND("migrate", qmp_migrate)
QMP_COMMAND("migrate_cancel", qmp_migrate_cancel)
QMP_COMMAND("query-migrate", qmp_query_migrate)

/* QEMU 7.2's capabilities (the schema's MigrationCapability): tern implements `events`;
 * the rest may only be turned off. */
static JsonNode *qmp_migrate_set_capabilities(JsonObject *args, QmpContext *ctx, GError **errp)
{
    if (migration_is_active()) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "There's a migration process in progress");
        return NULL;
    }
    JsonArray *caps = json_object_get_array_member(args, "capabilities");
    bool events = ms.events;
    for (guint i = 0; i < json_array_get_length(caps); i++) {
        JsonObject *c = json_array_get_object_element(caps, i);
        const char *name = json_object_get_string_member(c, "capability");
        bool state = json_object_get_boolean_member(c, "state");
        if (strcmp(name, "events") == 0) {
            events = state;
        } else if (state) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "Migration capability '%s' is not supported by tern", name);
            return NULL;
        }
    }
    ms.events = events;
    return NULL;
}

static JsonNode *qmp_query_migrate_capabilities(JsonObject *args, QmpContext *ctx,
                                                GError **errp)
{
    JsonArray *a = json_array_new();
    for (size_t i = 0; i < qapi_enum_count("MigrationCapability"); i++) {
        const char *name = qapi_enum_str("MigrationCapability", i);
        JsonObject *c = json_object_new();
        json_object_set_string_member(c, "capability", name);
        json_object_set_boolean_member(c, "state", strcmp(name, "events") == 0 && ms.events);
        json_array_add_object_element(a, c);
    }
    return json_node_init_array(json_node_alloc(), a);
}

QMP_COMMAND("migrate-set-capabilities", qmp_migrate_set_capabilities)
QMP_COMMAND("query-migrate-capabilities", qmp_query_migrate_capabilities)

/* ---- shutdown -------------------------------------------------------------------- */

void migration_outgoing_shutdown(void)
{
    if (!ms.thread) {
        return;
    }
    migrate_cancel(true, NULL);
    bool held = bql_locked();
    if (held) {
        bql_unlock();
    }
    g_thread_join(ms.thread);
    ms.thread = NULL;
    if (held) {
        bql_lock();
    }
    /* migration_finish_on_main is still queued; it finds no thread and restores. */
}
