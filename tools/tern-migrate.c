/*
 * tern-migrate: drive a live migration over the source VMM's QMP socket and show how it
 * goes (tern or QEMU on the other end: only standard QMP is used).
 *
 *   tern-migrate [-i MS] [-b BYTES] [-d MS] [-q] SRC_QMP URI
 *
 * SRC_QMP is the source's QMP server: unix:PATH, tcp:HOST:PORT, a path (containing '/'),
 * or HOST:PORT. URI is what `migrate` takes (tcp:HOST:PORT, unix:PATH, exec:CMD, ...).
 *
 * It negotiates QMP, turns on the `events` migration capability (so MIGRATION_PASS and
 * MIGRATION arrive), optionally sets max-bandwidth / downtime-limit, issues `migrate`,
 * then polls `query-migrate` every interval and prints a progress line: elapsed time,
 * pass, MiB sent and remaining, dirty rate, expected downtime, status. On a terminal the
 * line is rewritten in place (\r); otherwise each change is a line of its own. The last
 * line says how it ended:
 *
 *   completed in N ms, downtime N ms, N MiB      (exit 0)
 *   failed: <error-desc>                          (exit 1; also for every local error)
 *   cancelled                                     (exit 1)
 *
 * SIGINT or SIGTERM sends migrate_cancel and waits for the outcome; a second one quits
 * at once. The QMP exchange is a plain poll() loop on one socket: no threads, and
 * signals are only let in while waiting (ppoll), so none is lost between checks.
 */
#include <glib.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "qmp-client.h"
#include "sockaddr.h"

#define MIB (1024.0 * 1024.0)

typedef struct {
    QmpClient *qmp;
    bool tty;        /* stdout is a terminal: rewrite the progress line in place */
    bool quiet;      /* no progress lines */
    bool line_open;  /* a \r progress line is on screen without its newline */
    char *last_line; /* last progress line printed (plain mode prints changes only) */
    gint64 start_us; /* when `migrate` was sent */
    int64_t pass;    /* from MIGRATION_PASS, or dirty-sync-count */
    bool query_out;  /* a query-migrate is in flight */
    bool cancel_sent;
    int final_requeries; /* 'completed' seen before its figures were filled in */
} Migrate;

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
    signals_seen++;
}

/* Print the outcome line (ending any in-place progress line first). */
static void outcome(Migrate *m, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void outcome(Migrate *m, const char *fmt, ...)
{
    va_list ap;
    if (m->line_open) {
        fputc('\n', stdout);
        m->line_open = false;
    }
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* SRC_QMP: unix:PATH, tcp:HOST:PORT, a path (containing '/' or no ':'), or HOST:PORT. */
static bool parse_qmp_addr(const char *spec, SockAddr *addr, GError **errp)
{
    if (g_str_has_prefix(spec, "unix:") || g_str_has_prefix(spec, "tcp:")) {
        return sockaddr_parse(spec, addr, errp);
    }
    if (strchr(spec, '/') || !strchr(spec, ':')) {
        return sockaddr_parse_unix(spec, addr, errp);
    }
    return sockaddr_parse_inet(spec, addr, errp);
}

/* o's member `name` when it is an object, else NULL (json-glib warns on absent ones). */
static JsonObject *member_object(JsonObject *o, const char *name)
{
    JsonNode *n = json_object_get_member(o, name);
    return n && JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
}

static const char *error_desc(JsonObject *reply)
{
    JsonObject *e = member_object(reply, "error");
    return e ? json_object_get_string_member_with_default(e, "desc", "unknown error")
             : "unknown error";
}

static void handle_event(Migrate *m, JsonObject *msg)
{
    const char *ev = json_object_get_string_member_with_default(msg, "event", "");
    JsonObject *data = member_object(msg, "data");
    if (!strcmp(ev, "MIGRATION_PASS") && data) {
        m->pass = MAX(m->pass, json_object_get_int_member_with_default(data, "pass", 0));
    }
}

/* Send a command and wait for its reply: TRUE on "return"; else errp says why. The
 * events that came meanwhile are handled. */
static bool command(Migrate *m, const char *name, JsonNode *args, GError **errp)
{
    g_autoptr(JsonObject) reply = qmp_client_execute(m->qmp, name, args, name, errp);
    GList *events = qmp_client_take_events(m->qmp);
    for (GList *l = events; l; l = l->next) {
        handle_event(m, l->data);
    }
    g_list_free_full(events, (GDestroyNotify)json_object_unref);
    if (!reply) {
        return false;
    }
    if (json_object_has_member(reply, "error")) {
        g_set_error(errp, G_IO_ERROR, G_IO_ERROR_FAILED, "%s", error_desc(reply));
        return false;
    }
    return true;
}

static void progress(Migrate *m, JsonObject *info)
{
    const char *status = json_object_get_string_member_with_default(info, "status", "none");
    JsonObject *ram = member_object(info, "ram");
    double secs = (g_get_monotonic_time() - m->start_us) / 1e6;
    g_autofree char *figures = NULL;
    if (ram) {
        int64_t page = json_object_get_int_member_with_default(ram, "page-size", 4096);
        m->pass =
            MAX(m->pass, json_object_get_int_member_with_default(ram, "dirty-sync-count", 0));
        figures = g_strdup_printf(
            "pass %" G_GINT64_FORMAT ", %.1f MiB sent, %.1f MiB remaining, dirty %.1f MiB/s, "
            "expected downtime %" G_GINT64_FORMAT " ms",
            m->pass, json_object_get_int_member_with_default(ram, "transferred", 0) / MIB,
            json_object_get_int_member_with_default(ram, "remaining", 0) / MIB,
            json_object_get_int_member_with_default(ram, "dirty-pages-rate", 0) * page / MIB,
            json_object_get_int_member_with_default(info, "expected-downtime", 0));
    }
    g_autofree char *body =
        g_strdup_printf("%s%s[%s]", figures ? figures : "", figures ? " " : "", status);
    if (m->quiet) {
        return;
    }
    if (m->tty) {
        /* A line that wraps cannot be rewritten with \r: cut it to the width. */
        g_autofree char *line = g_strdup_printf("%5.1f s  %s", secs, body);
        struct winsize ws;
        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1 &&
            strlen(line) >= ws.ws_col) {
            line[ws.ws_col - 1] = '\0';
        }
        printf("\r%s\033[K", line);
        m->line_open = true;
    } else if (g_strcmp0(body, m->last_line) != 0) {
        printf("%.1f s  %s\n", secs, body);
    }
    fflush(stdout);
    g_free(m->last_line);
    m->last_line = g_steal_pointer(&body);
}

static bool terminal_status(const char *s)
{
    return !strcmp(s, "completed") || !strcmp(s, "failed") || !strcmp(s, "cancelled");
}

/* Report how it ended; the exit status. */
static int finish(Migrate *m, JsonObject *info)
{
    const char *status = json_object_get_string_member_with_default(info, "status", "");
    if (!strcmp(status, "completed")) {
        JsonObject *ram = member_object(info, "ram");
        outcome(
            m,
            "completed in %" G_GINT64_FORMAT " ms, downtime %" G_GINT64_FORMAT " ms, %.1f MiB",
            json_object_get_int_member_with_default(info, "total-time", 0),
            json_object_get_int_member_with_default(info, "downtime", 0),
            ram ? json_object_get_int_member_with_default(ram, "transferred", 0) / MIB : 0.0);
        return 0;
    }
    if (!strcmp(status, "cancelled")) {
        outcome(m, "cancelled");
    } else {
        outcome(m, "failed: %s",
                json_object_get_string_member_with_default(info, "error-desc",
                                                           "(no reason given)"));
    }
    return 1;
}

static int64_t parse_size(const char *s)
{
    char *end;
    double v = g_ascii_strtod(s, &end);
    const char *units = "KMG", *u = *end ? strchr(units, g_ascii_toupper(*end)) : NULL;
    if (u) {
        for (const char *k = units; k <= u; k++) {
            v *= 1024;
        }
        end++;
    }
    return (*end || end == s || v < 0) ? -1 : (int64_t)v;
}

static int run(Migrate *m, const char *src, const char *uri, const char *bandwidth,
               int64_t downtime_limit, int interval_ms)
{
    GError *err = NULL;
    SockAddr addr;
    if (!parse_qmp_addr(src, &addr, &err)) {
        outcome(m, "failed: %s", err->message);
        g_error_free(err);
        return 1;
    }
    /* One attempt: the source is running already, or this is the wrong address. The
     * greeting may take its time (QMP_CLIENT_TIMEOUT_MS). */
    m->qmp = qmp_client_connect(&addr, 0, &err);
    sockaddr_clear(&addr);
    if (!m->qmp) {
        outcome(m, "failed: %s", err->message);
        g_error_free(err);
        return 1;
    }
    JsonNode *caps = json_from_string(
        "{\"capabilities\": [{\"capability\": \"events\", \"state\": true}]}", NULL);
    g_autoptr(JsonBuilder) pb = json_builder_new();
    json_builder_begin_object(pb);
    if (bandwidth) {
        json_builder_set_member_name(pb, "max-bandwidth");
        json_builder_add_int_value(pb, parse_size(bandwidth));
    }
    if (downtime_limit >= 0) {
        json_builder_set_member_name(pb, "downtime-limit");
        json_builder_add_int_value(pb, downtime_limit);
    }
    json_builder_end_object(pb);
    g_autoptr(JsonBuilder) mb = json_builder_new();
    json_builder_begin_object(mb);
    json_builder_set_member_name(mb, "uri");
    json_builder_add_string_value(mb, uri);
    json_builder_end_object(mb);

    if (!command(m, "qmp_capabilities", NULL, &err) ||
        !command(m, "migrate-set-capabilities", caps, &err) ||
        ((bandwidth || downtime_limit >= 0) &&
         !command(m, "migrate-set-parameters", json_builder_get_root(pb), &err))) {
        outcome(m, "failed: %s", err->message);
        g_error_free(err);
        return 1;
    }
    if (signals_seen) {
        outcome(m, "cancelled");
        return 1;
    }
    m->start_us = g_get_monotonic_time();
    if (!command(m, "migrate", json_builder_get_root(mb), &err)) {
        outcome(m, "failed: %s", err->message);
        g_error_free(err);
        return 1;
    }

    /* Signals are blocked except inside ppoll, so a SIGINT is never missed. */
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);

    gint64 next_query = 0;
    int handled_signals = 0;
    for (;;) {
        if (signals_seen != handled_signals) {
            handled_signals = signals_seen;
            if (m->cancel_sent) {
                outcome(m, "failed: interrupted before the cancel took effect");
                return 1;
            }
            if (!qmp_client_send_command(m->qmp, "migrate_cancel", NULL, "cancel", &err)) {
                break;
            }
            m->cancel_sent = true;
        }
        gint64 now = g_get_monotonic_time();
        if (!m->query_out && now >= next_query) {
            if (!qmp_client_send_command(m->qmp, "query-migrate", NULL, "query", &err)) {
                break;
            }
            m->query_out = true;
            next_query = now + interval_ms * 1000LL;
        }
        int wait_ms = m->query_out ? 1000 : (int)MAX(0, (next_query - now + 999) / 1000);
        g_autoptr(JsonObject) msg = qmp_client_poll(m->qmp, wait_ms, &waitmask, &err);
        if (!msg) {
            if (err) {
                break;
            }
            continue;
        }
        if (json_object_has_member(msg, "event")) {
            handle_event(m, msg);
            const char *ev = json_object_get_string_member_with_default(msg, "event", "");
            JsonObject *data = member_object(msg, "data");
            /* The end: ask at once rather than at the next tick. */
            if (!strcmp(ev, "MIGRATION") && data &&
                terminal_status(
                    json_object_get_string_member_with_default(data, "status", ""))) {
                next_query = 0;
            }
            continue;
        }
        const char *id = json_object_get_string_member_with_default(msg, "id", "");
        if (!strcmp(id, "cancel") && json_object_has_member(msg, "error")) {
            fprintf(stderr, "tern-migrate: migrate_cancel: %s\n", error_desc(msg));
        }
        if (strcmp(id, "query") != 0) {
            continue;
        }
        m->query_out = false;
        if (json_object_has_member(msg, "error")) {
            outcome(m, "failed: query-migrate: %s", error_desc(msg));
            return 1;
        }
        JsonObject *info = member_object(msg, "return");
        if (!info) {
            continue;
        }
        const char *st = json_object_get_string_member_with_default(info, "status", "");
        /* QEMU reports 'completed' a moment before it fills in total-time: ask again
         * briefly rather than print a 0 ms migration. */
        if (!strcmp(st, "completed") &&
            json_object_get_int_member_with_default(info, "total-time", 0) <= 0 &&
            m->final_requeries++ < 20) {
            next_query = g_get_monotonic_time() + 50 * 1000;
            continue;
        }
        if (terminal_status(st)) {
            return finish(m, info);
        }
        progress(m, info);
    }
    outcome(m, "failed: %s", err ? err->message : "QMP connection lost");
    g_clear_error(&err);
    return 1;
}

int main(int argc, char **argv)
{
    int interval_ms = 150;
    char *bandwidth = NULL;
    gint64 downtime_limit = -1;
    gboolean quiet = FALSE;
    GOptionEntry entries[] = {
        {"interval", 'i', 0, G_OPTION_ARG_INT, &interval_ms,
         "poll query-migrate every MS milliseconds (default 150)", "MS"},
        {"max-bandwidth", 'b', 0, G_OPTION_ARG_STRING, &bandwidth,
         "set max-bandwidth first (bytes/s; K, M, G suffixes)", "BYTES"},
        {"downtime-limit", 'd', 0, G_OPTION_ARG_INT64, &downtime_limit,
         "set downtime-limit first (ms)", "MS"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "print only the outcome line", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("SRC_QMP URI");
    g_option_context_set_summary(
        ctx, "Migrate a VM over its source's QMP socket and show the progress.\n"
             "SRC_QMP: unix:PATH, tcp:HOST:PORT, a path, or HOST:PORT.\n"
             "URI: as QMP migrate takes it (tcp:HOST:PORT, unix:PATH, exec:CMD).\n"
             "Exit status 0 when the migration completed, 1 otherwise;\n"
             "SIGINT cancels the migration.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc != 3 || interval_ms < 10 ||
        (bandwidth && parse_size(bandwidth) < 0)) {
        fprintf(stderr,
                "tern-migrate: %s\nusage: tern-migrate [-i MS] [-b BYTES] [-d MS] [-q] "
                "SRC_QMP URI (see --help)\n",
                err         ? err->message
                : argc != 3 ? "expected two arguments"
                            : "invalid option value");
        g_clear_error(&err);
        return 1;
    }

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    Migrate m = {.tty = isatty(STDOUT_FILENO), .quiet = quiet};
    int rc = run(&m, argv[1], argv[2], bandwidth, downtime_limit, interval_ms);
    qmp_client_free(m.qmp);
    g_free(m.last_line);
    g_free(bandwidth);
    return rc;
}
