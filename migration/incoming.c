/*
 * incoming.c: the destination. `-incoming URI` (or `-incoming defer` and QMP
 * migrate-incoming) opens the stream; a load thread reads it straight into RAM and, under
 * the big lock, into the devices; the main thread then starts the VM (autostart) or parks
 * it in prelaunch-migrate. A stream that fails to load ends tern with exit status 1: a
 * half-loaded guest never runs.
 */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "error.h"
#include "main-loop.h"
#include "migration/global-state.h"
#include "migration/migration-params.h"
#include "migration/migration.h"
#include "migration/savevm.h"
#include "migration/transport.h"
#include "monitor/qmp.h"
#include "net/announce.h"
#include "runstate.h"

/* The incoming migration's registry: one per process, main thread except where noted. */
static struct {
    MigrationStatus status;
    bool deferred, started;
    TransportListener *listener;
    GThread *thread;
    MigConn conn;
    int cancel_fd;
    int confirm_timeout_ms; /* x-verdict-timeout when the stream began */
    GError *error;          /* written by the load thread before it hands over */
} incoming = {.cancel_fd = -1, .conn = {.fd = -1}};

MigrationStatus migration_incoming_status(void)
{
    return incoming.status;
}

static void set_status(MigrationStatus s)
{
    if (incoming.status != s) {
        incoming.status = s;
        migration_emit_status(s);
    }
}

/* The state a VM loaded from a source that was not running is left in: the source's own
 * when it is one of the "not started yet" states, otherwise paused (`cont` runs it). */
static RunState arrival_state(RunState src)
{
    switch (src) {
    case RUN_STATE_PRELAUNCH:
    case RUN_STATE_PRELAUNCH_MIGRATE:
        return src;
    default:
        return RUN_STATE_PAUSED;
    }
}

static gboolean incoming_finish_on_main(gpointer opaque)
{
    bool ok = GPOINTER_TO_INT(opaque);
    if (incoming.thread) {
        g_thread_join(incoming.thread);
        incoming.thread = NULL;
    }
    transport_listener_free(incoming.listener);
    incoming.listener = NULL;
    if (!ok) {
        set_status(MIGRATION_STATUS_FAILED);
        tern_error_report("incoming migration failed: %s",
                          incoming.error ? incoming.error->message : "unknown error");
        main_loop_quit(1);
        return G_SOURCE_REMOVE;
    }
    set_status(MIGRATION_STATUS_COMPLETED);
    /* The network must learn where the VM is now: announce its NICs on its first run
     * here (net/announce.c; docs/architecture.md walks the path to the guest). */
    announce_arm_first_run(&migrate_params()->announce);
    /* A source that was not running (paused by `stop`, say) hands over a VM that stays
     * so, as in QEMU; its first run here, at `cont`, is still the arrival. */
    RunState src_state;
    if (global_state_received(&src_state) && src_state != RUN_STATE_RUNNING) {
        runstate_set(arrival_state(src_state));
    } else if (runstate_autostart()) {
        vm_start();
    } else {
        runstate_set(RUN_STATE_PRELAUNCH_MIGRATE);
    }
    return G_SOURCE_REMOVE;
}

static gpointer load_thread(gpointer opaque)
{
    MigFile *f = mig_file_new_fd(incoming.conn.fd);
    incoming.conn.fd = -1;
    mig_file_set_cancel_fd(f, incoming.cancel_fd);
    GError *err = NULL;
    uint32_t flags = 0;
    bool ok = savevm_load_stream(f, &flags, &err);
    if (flags & MIG_STREAM_F_REPLY) {
        bool sent = savevm_put_reply(f, err);
        /* The VM is ours only once the source says so: without its confirmation it
         * may have resumed the VM there (docs/migration-stream.md, the handover). */
        if (ok && (flags & MIG_STREAM_F_CONFIRM)) {
            if (!sent) {
                const GError *e = mig_file_error(f);
                err = g_error_new(TERN_ERROR, TERN_ERROR_GENERIC, "sending the verdict: %s",
                                  e ? e->message : "stream error");
                ok = false;
            } else {
                ok = savevm_get_confirm(f, incoming.confirm_timeout_ms, &err);
            }
        }
    }
    mig_file_close(f);
    transport_close(&incoming.conn, !ok, incoming.cancel_fd, -1, NULL);
    incoming.error = err;
    g_idle_add(incoming_finish_on_main, GINT_TO_POINTER(ok));
    return NULL;
}

static void on_connection(MigConn *conn, void *opaque)
{
    incoming.conn = *conn;
    incoming.confirm_timeout_ms = (int)migrate_params()->verdict_timeout;
    set_status(MIGRATION_STATUS_ACTIVE);
    incoming.thread = g_thread_new("migration-in", load_thread, NULL);
}

static bool incoming_start(const char *uri, GError **errp)
{
    if (!transport_check_uri(uri, true, errp)) {
        return false;
    }
    incoming.cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (incoming.cancel_fd < 0) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "eventfd: %s", g_strerror(errno));
        return false;
    }
    incoming.listener = transport_listen(uri, on_connection, NULL, errp);
    if (!incoming.listener) {
        /* migrate-incoming may be tried again with another URI. */
        close(incoming.cancel_fd);
        incoming.cancel_fd = -1;
        return false;
    }
    incoming.started = true;
    set_status(MIGRATION_STATUS_SETUP);
    return true;
}

bool migration_incoming_setup(const char *uri, GError **errp)
{
    runstate_init(RUN_STATE_INMIGRATE);
    if (strcmp(uri, "defer") == 0) {
        incoming.deferred = true;
        return true;
    }
    if (!incoming_start(uri, errp)) {
        g_prefix_error(errp, "-incoming %s: ", uri);
        return false;
    }
    return true;
}

static JsonNode *qmp_migrate_incoming(JsonObject *args, QmpContext *ctx, GError **errp)
{
    if (!incoming.deferred) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "For use with '-incoming defer'");
    } else if (incoming.started) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "The incoming migration has already been started");
    } else if (!runstate_check(RUN_STATE_INMIGRATE)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "'-incoming' was not specified on the command line");
    } else {
        incoming_start(json_object_get_string_member(args, "uri"), errp);
    }
    return NULL;
}

QMP_COMMAND("migrate-incoming", qmp_migrate_incoming)

void migration_incoming_shutdown(void)
{
    if (incoming.thread) {
        uint64_t one = 1;
        if (write(incoming.cancel_fd, &one, sizeof(one)) < 0) {
            g_warning("incoming migration: eventfd: %s", g_strerror(errno));
        }
        bool held = bql_locked();
        if (held) {
            bql_unlock();
        }
        g_thread_join(incoming.thread);
        incoming.thread = NULL;
        if (held) {
            bql_lock();
        }
    }
    transport_listener_free(incoming.listener);
    incoming.listener = NULL;
    g_clear_error(&incoming.error);
}

void migration_shutdown(void)
{
    migration_outgoing_shutdown();
    migration_incoming_shutdown();
}
