/*
 * vl.c: tern's main(): command line -> configuration -> machine -> main loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "error.h"
#include "hw/machine.h"
#include "inherited-fds.h"
#include "main-loop.h"
#include "migration/global-state.h"
#include "migration/migration.h"
#include "monitor/qmp.h"
#include "net/announce.h"
#include "net/net.h"
#include "options.h"
#include "runstate.h"
#include "sandbox.h"

static FILE *log_file;

static void log_to_file(const gchar *domain, GLogLevelFlags level, const gchar *msg,
                        gpointer data)
{
    fprintf(log_file, "%s%s%s\n", domain ? domain : "", domain ? ": " : "", msg);
    fflush(log_file);
}

static bool write_pidfile(const char *path, GError **errp)
{
    g_autofree char *pid = g_strdup_printf("%d\n", getpid());
    if (!g_file_set_contents(path, pid, -1, errp)) {
        g_prefix_error(errp, "-pidfile: ");
        return false;
    }
    return true;
}

/* SIGINT/SIGTERM/SIGHUP: a host-side shutdown, as QEMU reports it. */
static gboolean on_signal(gpointer data)
{
    qmp_event_emit_shutdown(false, "host-signal");
    main_loop_quit(0);
    return G_SOURCE_CONTINUE;
}

static bool vl_start(TernConfig *c, GError **errp)
{
    if (c->logfile) {
        log_file = fopen(c->logfile, "a");
        if (!log_file) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "-D %s: %s", c->logfile,
                        g_strerror(errno));
            return false;
        }
        g_log_set_default_handler(log_to_file, NULL);
    }
    if (c->pidfile && !write_pidfile(c->pidfile, errp)) {
        return false;
    }
    vm_name_set(c->name);
    vm_uuid_set(c->has_uuid ? c->uuid : NULL);
    if (!qapi_schema_load(errp)) {
        return false;
    }
    qmp_event_init();
    for (guint i = 0; i < c->qmp->len; i++) {
        if (!qmp_server_add(g_ptr_array_index(c->qmp, i), errp)) {
            g_prefix_error(errp, "-qmp %s: ", (char *)g_ptr_array_index(c->qmp, i));
            return false;
        }
    }
    for (guint i = 0; i < c->monitors->len; i++) {
        const TernOpts *mon = g_ptr_array_index(c->monitors, i);
        if (!qmp_server_add_chardev(config_find_chardev(c, mon->driver), errp)) {
            g_prefix_error(errp, "-chardev %s: ", mon->driver);
            return false;
        }
    }
    if (!netdevs_create(c->netdevs, errp) || !machine_create(c, errp)) {
        return false;
    }
    global_state_register();
    announce_init();
    runstate_set_autostart(!c->start_paused);
    runstate_init(RUN_STATE_PRELAUNCH);
    if (c->incoming) {
        /* Sets inmigrate; the VM starts (or waits in prelaunch-migrate) once loaded. */
        return migration_incoming_setup(c->incoming, errp);
    }
    if (!c->start_paused) {
        vm_start();
    }
    return true;
}

int main(int argc, char **argv)
{
    /* Before anything is opened: fd:N may name only what tern was started with. */
    inherited_fds_init();
    g_autoptr(GError) err = NULL;
    TernConfig *c = config_new();
    int rc = 1;

    signal(SIGPIPE, SIG_IGN);
    switch (options_parse(c, argc, argv, stdout, &err)) {
    case OPTIONS_EXIT_OK:
        config_free(c);
        return 0;
    case OPTIONS_ERROR:
        tern_error_report("%s", err->message);
        config_free(c);
        return 1;
    case OPTIONS_RUN:
        break;
    }

    main_loop_init();
    bql_lock();
    g_unix_signal_add(SIGINT, on_signal, NULL);
    g_unix_signal_add(SIGTERM, on_signal, NULL);
    g_unix_signal_add(SIGHUP, on_signal, NULL);
    /* The sandbox goes on once everything is set up (sockets bound, devices and vCPU
     * threads made, the kernel loaded), before anything from outside is served. */
    sandbox_configure(c->sandbox);
    if (vl_start(c, &err) && sandbox_install(&err)) {
        rc = main_loop_run();
    } else {
        tern_error_report("%s", err->message);
    }
    migration_shutdown();
    qmp_server_shutdown();
    machine_destroy();
    net_cleanup();
    bql_unlock();
    if (c->pidfile) {
        unlink(c->pidfile);
    }
    if (log_file) {
        fclose(log_file);
    }
    config_free(c);
    return rc;
}
