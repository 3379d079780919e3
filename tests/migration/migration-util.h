/*
 * migration-util.h: what the migration tests share: driving `migrate` and waiting for
 * its end over QMP, run states on either side, and a destination's refusal (exit 1 and
 * its reason on stderr). Header-only: each test binary is one file.
 */
#ifndef TERN_TESTS_MIGRATION_UTIL_H
#define TERN_TESTS_MIGRATION_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include "../lib/libqtest.h"
#include "../lib/qmp-assert.h"

#define MIG_WAIT_MS 60000

/* query-migrate's status ("none" when it has none); caller frees. */
static inline char *mig_status(QmpClient *c)
{
    JsonNode *r = qmp_ok(c, "{'execute': 'query-migrate'}");
    JsonObject *o = json_node_get_object(r);
    char *st = g_strdup(json_object_get_string_member_with_default(o, "status", "none"));
    json_node_unref(r);
    return st;
}

/* Poll query-migrate until it reaches an end state; returns the whole reply. */
static inline JsonObject *mig_wait_end(QmpClient *c)
{
    gint64 deadline = g_get_monotonic_time() + MIG_WAIT_MS * 1000LL;
    while (g_get_monotonic_time() < deadline) {
        JsonNode *r = qmp_ok(c, "{'execute': 'query-migrate'}");
        JsonObject *o = json_node_get_object(r);
        const char *st = json_object_get_string_member_with_default(o, "status", "none");
        if (!strcmp(st, "completed") || !strcmp(st, "failed") || !strcmp(st, "cancelled")) {
            JsonObject *ret = json_object_ref(o);
            json_node_unref(r);
            return ret;
        }
        json_node_unref(r);
        g_usleep(10000);
    }
    g_error("migration did not end within %d ms", MIG_WAIT_MS);
}

static inline void mig_wait_status(QmpClient *c, const char *want)
{
    gint64 deadline = g_get_monotonic_time() + MIG_WAIT_MS * 1000LL;
    while (g_get_monotonic_time() < deadline) {
        g_autofree char *st = mig_status(c);
        if (!strcmp(st, want)) {
            return;
        }
        g_usleep(5000);
    }
    g_error("migration never reached '%s'", want);
}

/* A destination listening on a socket says so with a status other than "none". */
static inline void mig_wait_listening(QmpClient *c)
{
    for (int i = 0; i < 6000; i++) {
        g_autofree char *st = mig_status(c);
        if (strcmp(st, "none") != 0) {
            return;
        }
        g_usleep(5000);
    }
    g_error("the destination never started listening");
}

static inline void mig_wait_runstate(QmpClient *c, const char *want)
{
    gint64 deadline = g_get_monotonic_time() + MIG_WAIT_MS * 1000LL;
    while (g_get_monotonic_time() < deadline) {
        g_autofree char *st = qmp_status(c);
        if (!strcmp(st, want)) {
            return;
        }
        g_usleep(5000);
    }
    g_autofree char *st = qmp_status(c);
    g_error("run state is '%s', expected '%s'", st, want);
}

static inline void mig_assert_runstate(QmpClient *c, const char *want)
{
    g_autofree char *st = qmp_status(c);
    g_assert_cmpstr(st, ==, want);
}

static inline void mig_migrate(QmpClient *c, const char *uri)
{
    JsonNode *r = qmp_ok(c, "{'execute': 'migrate', 'arguments': {'uri': '%s'}}", uri);
    json_node_unref(r);
}

/* Migrate and wait; the outcome must be `want` ("completed", "failed", ...). Returns
 * query-migrate's last reply. */
static inline JsonObject *mig_migrate_until_end(QmpClient *c, const char *uri, const char *want)
{
    mig_migrate(c, uri);
    JsonObject *end = mig_wait_end(c);
    const char *st = json_object_get_string_member(end, "status");
    if (strcmp(st, want) != 0) {
        g_error("migration ended '%s' (%s), expected '%s'", st,
                json_object_get_string_member_with_default(end, "error-desc", ""), want);
    }
    return end;
}

/* The test plays the destination: migrate to a TCP listener of its own on 127.0.0.1 and
 * return the accepted connection (its reads time out after 20 ms), the listener in *lfd;
 * the caller closes both. */
static inline int mig_migrate_to_test(QmpClient *c, int *lfd)
{
    *lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    g_assert_cmpint(bind(*lfd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(*lfd, 1), ==, 0);
    g_assert_cmpint(getsockname(*lfd, (struct sockaddr *)&sa, &len), ==, 0);
    g_autofree char *uri = g_strdup_printf("tcp:127.0.0.1:%d", ntohs(sa.sin_port));
    mig_migrate(c, uri);
    int fd = accept(*lfd, NULL, NULL);
    g_assert_cmpint(fd, >=, 0);
    struct timeval tv = {0, 20000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

static inline void mig_enable_events(QmpClient *c)
{
    JsonNode *r = qmp_ok(c, "{'execute': 'migrate-set-capabilities', 'arguments': "
                            "{'capabilities': [{'capability': 'events', 'state': true}]}}");
    json_node_unref(r);
}

/* The destination ends with exit status 1 and says why on stderr; then it is reaped. */
static inline void mig_assert_dst_failed(QTestState *dst, const char *why)
{
    int code = -1;
    g_assert_true(tern_proc_wait(qtest_proc(dst), MIG_WAIT_MS, &code));
    g_assert_cmpint(code, ==, 1);
    g_autofree char *err = tern_proc_stderr(qtest_proc(dst));
    if (!strstr(err, "incoming migration failed: ") || (why && !strstr(err, why))) {
        g_error("destination stderr: %s (expected '%s')", err, why ? why : "");
    }
    qtest_kill(dst);
}

#endif
