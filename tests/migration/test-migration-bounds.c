/*
 * test-migration-bounds.c: how long a source waits, with its VM stopped, for a peer that
 * does not answer: the `x-verdict-timeout` parameter (a destination that reads the whole
 * stream and never answers, or answers half), and an `exec:` command that ignores SIGTERM
 * (migrate_cancel, quit on either side, and one that never exits after the end of the
 * stream).
 * Each tern is started through libqtest / tern-proc, which kill and reap it by PID; the
 * exec: commands are tern's children and end with it.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include "../lib/libqtest.h"
#include "../lib/qmp-assert.h"
#include "migration-util.h"

#define RAM_MB 8
/* Bounds the tests allow for what must take about a second. */
#define SLACK_MS 8000
/* An exec: command that ignores SIGTERM, says so with a file in tern's directory, and
 * outlives every bound here. */
#define STUBBORN "trap '' TERM; touch stubborn; "
#define LINGER "exec sleep 90"

static QTestState *start_src(void)
{
    QTestState *s = qtest_initf("-machine none -m %d", RAM_MB);
    /* Not zero: the stream is larger than a pipe or socket can buffer. */
    qtest_memset(s, 0, 0x5a, (size_t)RAM_MB << 20);
    return s;
}

static void set_verdict_timeout(QmpClient *c, int ms)
{
    JsonNode *r = qmp_ok(c,
                         "{'execute': 'migrate-set-parameters', 'arguments': "
                         "{'x-verdict-timeout': %d}}",
                         ms);
    json_node_unref(r);
}

static gint64 now_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

/* The parameter: default, set, shown, bounds. */
static void test_parameter(void)
{
    QTestState *s = qtest_initf("-machine none");
    QmpClient *c = qtest_qmp(s);
    JsonNode *r = qmp_ok(c, "{'execute': 'query-migrate-parameters'}");
    g_assert_cmpint(json_object_get_int_member(json_node_get_object(r), "x-verdict-timeout"),
                    ==, 120000);
    json_node_unref(r);
    set_verdict_timeout(c, 500);
    r = qmp_ok(c, "{'execute': 'query-migrate-parameters'}");
    g_assert_cmpint(json_object_get_int_member(json_node_get_object(r), "x-verdict-timeout"),
                    ==, 500);
    json_node_unref(r);
    qmp_assert_error(c, "GenericError", "x-verdict-timeout",
                     "{'execute': 'migrate-set-parameters', 'arguments': "
                     "{'x-verdict-timeout': 0}}");
    qmp_assert_error(c, "GenericError", "x-verdict-timeout",
                     "{'execute': 'migrate-set-parameters', 'arguments': "
                     "{'x-verdict-timeout': 3600001}}");
    qtest_quit(s);
}

/*
 * A peer that reads the whole stream and never answers (or sends the first bytes of an
 * answer and stops): the source gives up after x-verdict-timeout and runs the VM again.
 */
static void silent_peer(bool half_answer)
{
    QTestState *src = start_src();
    QmpClient *sq = qtest_qmp(src);
    set_verdict_timeout(sq, 500);
    int lfd;
    int c = mig_migrate_to_test(sq, &lfd);
    char buf[65536];
    gint64 waiting_since = 0, deadline = now_ms() + MIG_WAIT_MS;
    for (;;) {
        g_assert_cmpint(now_ms(), <, deadline);
        ssize_t n = read(c, buf, sizeof(buf));
        if (n > 0) {
            continue;
        }
        g_autofree char *st = mig_status(sq);
        if (!waiting_since && !strcmp(st, "device")) {
            waiting_since = now_ms();
            if (half_answer) {
                g_assert_cmpint(write(c, "TRN", 3), ==, 3);
            }
        }
        if (!strcmp(st, "failed")) {
            break;
        }
    }
    gint64 waited = now_ms() - waiting_since;
    g_test_message("the source waited %" G_GINT64_FORMAT " ms", waited);
    g_assert_cmpint(waited, <, 500 + SLACK_MS);
    g_autoptr(JsonObject) end = mig_wait_end(sq);
    g_assert_cmpstr(json_object_get_string_member(end, "error-desc"), ==,
                    "no answer from the destination: timed out");
    mig_assert_runstate(sq, "running");
    close(c);
    close(lfd);
    qtest_quit(src);
}

static void test_silent_peer(void)
{
    silent_peer(false);
}

static void test_half_answer(void)
{
    silent_peer(true);
}

/* Wait until s's STUBBORN command ignores SIGTERM. */
static void wait_stubborn(QTestState *s)
{
    g_autofree char *flag = tern_proc_path(qtest_proc(s), "stubborn");
    gint64 deadline = now_ms() + MIG_WAIT_MS;
    while (!g_file_test(flag, G_FILE_TEST_EXISTS)) {
        g_assert_cmpint(now_ms(), <, deadline);
        g_usleep(5000);
    }
}

/* Migrate to a STUBBORN exec: command; returns once it ignores SIGTERM. */
static void migrate_exec(QTestState *s, const char *cmd)
{
    g_autofree char *flag = tern_proc_path(qtest_proc(s), "stubborn");
    unlink(flag);
    /* Plain JSON: the command has single quotes. */
    g_autofree char *req = g_strdup_printf(
        "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"exec:%s\"}}", cmd);
    GError *err = NULL;
    g_autoptr(JsonObject) r = qmp_client_request(qtest_qmp(s), req, &err);
    g_assert_no_error(err);
    g_assert_true(json_object_has_member(r, "return"));
    wait_stubborn(s);
}

/* QMP quit: tern exits (status 0) within the bound. */
static void quit_within_bound(QTestState *s)
{
    gint64 t0 = now_ms();
    GError *err = NULL;
    g_autoptr(JsonObject) r = qmp_client_request(qtest_qmp(s), "{\"execute\": \"quit\"}", &err);
    g_clear_error(&err); /* the reply may or may not make it before the exit */
    int code = -1;
    g_assert_true(tern_proc_wait(qtest_proc(s), SLACK_MS, &code));
    g_test_message("quit in %" G_GINT64_FORMAT " ms", now_ms() - t0);
    g_assert_cmpint(code, ==, 0);
    qtest_kill(s);
}

/* migrate_cancel ends the migration within the bound; the source runs again. */
static void cancel_within_bound(QmpClient *sq)
{
    gint64 t0 = now_ms();
    JsonNode *r = qmp_ok(sq, "{'execute': 'migrate_cancel'}");
    json_node_unref(r);
    g_autoptr(JsonObject) end = mig_wait_end(sq);
    g_test_message("cancelled in %" G_GINT64_FORMAT " ms", now_ms() - t0);
    g_assert_cmpint(now_ms() - t0, <, SLACK_MS);
    g_assert_cmpstr(json_object_get_string_member(end, "status"), ==, "cancelled");
    mig_assert_runstate(sq, "running");
}

/* migrate_cancel while the command, which ignores SIGTERM, no longer reads. */
static void test_exec_cancel(void)
{
    QTestState *src = start_src();
    QmpClient *sq = qtest_qmp(src);
    migrate_exec(src, STUBBORN LINGER);
    mig_wait_status(sq, "active");
    cancel_within_bound(sq);
    g_autofree char *err = tern_proc_stderr(qtest_proc(src));
    g_assert_nonnull(strstr(err, "ignored SIGTERM"));
    qtest_quit(src);
}

/* quit while migrating to such a command: tern exits within the bound. */
static void test_exec_quit(void)
{
    QTestState *src = start_src();
    migrate_exec(src, STUBBORN LINGER);
    mig_wait_status(qtest_qmp(src), "active");
    quit_within_bound(src);
}

/* A destination reading from such a command, which sends nothing: quit, likewise. */
static void test_exec_incoming_quit(void)
{
    QTestState *dst =
        qtest_initf("-machine none -m %d -incoming \"exec:" STUBBORN LINGER "\"", RAM_MB);
    wait_stubborn(dst);
    mig_assert_runstate(qtest_qmp(dst), "inmigrate");
    quit_within_bound(dst);
}

/*
 * A command that reads the whole stream and then does not exit: its exit is its verdict,
 * waited for at most x-verdict-timeout with the VM stopped; migrate_cancel ends the
 * wait at once. Either way the source runs again.
 */
static void test_exec_lingers(void)
{
    QTestState *src = start_src();
    QmpClient *sq = qtest_qmp(src);
    set_verdict_timeout(sq, 500);
    migrate_exec(src, STUBBORN "cat > /dev/null; " LINGER);
    g_autoptr(JsonObject) end = mig_wait_end(sq);
    g_assert_cmpstr(json_object_get_string_member(end, "status"), ==, "failed");
    g_assert_cmpstr(json_object_get_string_member(end, "error-desc"), ==,
                    "the exec: command did not exit within 500 ms after the end of the "
                    "stream");
    mig_assert_runstate(sq, "running");

    set_verdict_timeout(sq, 60000);
    migrate_exec(src, STUBBORN "cat > /dev/null; " LINGER);
    mig_wait_status(sq, "device");
    mig_assert_runstate(sq, "finish-migrate");
    cancel_within_bound(sq);
    qtest_quit(src);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/migration/bounds/parameter", test_parameter);
    g_test_add_func("/migration/bounds/silent-peer", test_silent_peer);
    g_test_add_func("/migration/bounds/half-answer", test_half_answer);
    g_test_add_func("/migration/bounds/exec-cancel", test_exec_cancel);
    g_test_add_func("/migration/bounds/exec-quit", test_exec_quit);
    g_test_add_func("/migration/bounds/exec-incoming-quit", test_exec_incoming_quit);
    g_test_add_func("/migration/bounds/exec-lingers", test_exec_lingers);
    return g_test_run();
}
