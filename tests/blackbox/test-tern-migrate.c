/*
 * test-tern-migrate.c: the tern-migrate command-line tool, black box. Two real tern
 * processes (-machine none under qtest, so the test can put data in the source's RAM)
 * and the tool between them: a migration over unix and tcp that completes (progress
 * lines, outcome line, exit 0, run states), one cancelled with SIGINT, and the failures
 * (destination absent, bad URI, no QMP server, usage), each with its outcome line and
 * exit 1.
 *
 * The tool is $TERN_MIGRATE_BINARY, else tern-migrate next to $TERN_BINARY, else
 * build/tern-migrate.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../lib/libqtest.h"
#include "../lib/qmp-assert.h"
#include "../lib/test-ports.h"

#define RAM_MB 8
#define WAIT_MS 60000

/* The outcome lines, whole. */
#define COMPLETED_RE "^completed in [0-9]+ ms, downtime [0-9]+ ms, [0-9]+\\.[0-9] MiB$"
/* A progress line while RAM flows (plain mode: one per change). */
#define PROGRESS_RE                                                                            \
    "^[0-9]+\\.[0-9] s  pass [0-9]+, [0-9]+\\.[0-9] MiB sent, [0-9]+\\.[0-9] MiB remaining, "  \
    "dirty [0-9]+\\.[0-9] MiB/s, expected downtime [0-9]+ ms \\[active\\]$"

static char *tool_path(void)
{
    const char *env = g_getenv("TERN_MIGRATE_BINARY");
    if (env) {
        return g_strdup(env);
    }
    g_autofree char *dir = g_path_get_dirname(tern_proc_binary());
    return g_build_filename(dir, "tern-migrate", NULL);
}

/* Skip (and say why) when the tool has not been built. */
static bool have_tool(void)
{
    g_autofree char *tool = tool_path();
    if (g_file_test(tool, G_FILE_TEST_IS_EXECUTABLE)) {
        return true;
    }
    g_autofree char *why = g_strdup_printf("no tern-migrate at %s (make it first)", tool);
    g_test_skip(why);
    return false;
}

/* Run the tool to its end; assert it exits with `want`; its stdout and stderr. */
static void run_tool(const char *const *args, int want, char **out, char **err)
{
    g_autofree char *tool = tool_path();
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_ptr_array_add(argv, tool);
    for (; *args; args++) {
        g_ptr_array_add(argv, (char *)*args);
    }
    g_ptr_array_add(argv, NULL);
    int status = -1;
    GError *e = NULL;
    g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               out, err, &status, &e));
    g_assert_no_error(e);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (code != want) {
        g_error("tern-migrate exited %d, expected %d; stdout:\n%s\nstderr:\n%s", code, want,
                *out, *err);
    }
}

static bool matches(const char *re, const char *line)
{
    return g_regex_match_simple(re, line, 0, 0);
}

/* The last non-empty line of text (caller frees). */
static char *last_line(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = g_strv_length(lines) - 1; i >= 0; i--) {
        if (*lines[i]) {
            return g_strdup(lines[i]);
        }
    }
    return g_strdup("");
}

static unsigned count_matching(const char *re, const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    unsigned n = 0;
    for (char **l = lines; *l; l++) {
        n += matches(re, *l);
    }
    return n;
}

static char *status_of(QTestState *s)
{
    return qmp_status(qtest_qmp(s));
}

static void set_bandwidth(QTestState *s, uint64_t bytes_per_sec)
{
    JsonNode *r = qmp_ok(qtest_qmp(s),
                         "{'execute': 'migrate-set-parameters', 'arguments': "
                         "{'max-bandwidth': %" G_GUINT64_FORMAT "}}",
                         bytes_per_sec);
    json_node_unref(r);
}

/* A source (with `extra` arguments) whose RAM holds data: a zero page would be sent as
 * a marker, and the figures would show nothing. */
static QTestState *start_src(const char *extra)
{
    QTestState *s = qtest_initf("-machine none -m %d %s", RAM_MB, extra);
    g_autofree uint8_t *buf = g_malloc(1 << 20);
    for (uint64_t a = 0; a < (uint64_t)RAM_MB << 20; a += 1 << 20) {
        for (size_t i = 0; i < (1 << 20); i++) {
            buf[i] = (uint8_t)(a / 4096 + i * 7 + 1);
        }
        qtest_bufwrite(s, a, buf, 1 << 20);
    }
    return s;
}

/* A destination listening on `uri` (its query-migrate leaves "none" once it listens). */
static QTestState *start_dst(const char *uri)
{
    QTestState *s = qtest_initf("-machine none -m %d -incoming '%s'", RAM_MB, uri);
    for (int i = 0; i < 6000; i++) {
        JsonNode *r = qmp_ok(qtest_qmp(s), "{'execute': 'query-migrate'}");
        bool listening = json_object_has_member(json_node_get_object(r), "status");
        json_node_unref(r);
        if (listening) {
            return s;
        }
        g_usleep(5000);
    }
    g_error("the destination never started listening");
}

/* unix:PATH for a migration socket in s's directory (caller frees). */
static char *unix_uri(QTestState *s)
{
    g_autofree char *path = tern_proc_path(qtest_proc(s), "mig.sock");
    return g_strdup_printf("unix:%s", path);
}

/* A migration that completes, paced so that it takes ~0.5 s and shows progress. */
static void check_completed(QTestState *src, QTestState *dst, const char *src_qmp,
                            const char *uri)
{
    g_autofree char *out = NULL, *err = NULL;
    const char *args[] = {"-b", "12M", "-i", "50", src_qmp, uri, NULL};
    run_tool(args, 0, &out, &err);
    g_autofree char *last = last_line(out);
    if (!matches(COMPLETED_RE, last) || count_matching(PROGRESS_RE, out) < 1) {
        g_error("expected progress lines and an outcome matching %s; stdout:\n%s", COMPLETED_RE,
                out);
    }
    /* About 8 MiB went over: the figure is the stream's size. */
    long total_ms, downtime_ms;
    double mib;
    g_assert_cmpint(sscanf(last, "completed in %ld ms, downtime %ld ms, %lf MiB", &total_ms,
                           &downtime_ms, &mib),
                    ==, 3);
    g_assert_cmpfloat(mib, >=, RAM_MB * 0.9);
    g_assert_cmpint(downtime_ms, <=, total_ms);
    /* No terminal: no \r, no escape sequences. */
    g_assert_null(strchr(out, '\r'));
    g_assert_null(strchr(out, '\033'));
    g_assert_cmpstr(err, ==, "");
    g_autofree char *ss = status_of(src);
    g_assert_cmpstr(ss, ==, "postmigrate");
    for (int i = 0; i < 1000; i++) {
        g_autofree char *ds = status_of(dst);
        if (!strcmp(ds, "running")) {
            return;
        }
        g_usleep(10000);
    }
    g_error("the destination never ran");
}

static void test_unix(void)
{
    if (!have_tool()) {
        return;
    }
    QTestState *src = start_src("");
    g_autofree char *uri = unix_uri(src);
    QTestState *dst = start_dst(uri);
    check_completed(src, dst, qtest_qmp_path(src), uri);
    qtest_quit(dst);
    qtest_quit(src);
}

/* QMP over tcp (tcp:HOST:PORT) and a tcp stream. */
static void test_tcp(void)
{
    if (!have_tool()) {
        return;
    }
    g_autofree char *src_qmp = g_strdup_printf("tcp:127.0.0.1:%d", test_free_tcp_port());
    /* The qtest source keeps its unix QMP; this one is a second server, over tcp. */
    g_autofree char *extra = g_strdup_printf("-qmp %s,server=on,wait=off", src_qmp);
    QTestState *src = start_src(extra);
    g_autofree char *uri = g_strdup_printf("tcp:127.0.0.1:%d", test_free_tcp_port());
    QTestState *dst = start_dst(uri);
    check_completed(src, dst, src_qmp, uri);
    qtest_quit(dst);
    qtest_quit(src);
}

/* SIGINT while RAM flows: migrate_cancel, "cancelled", exit 1, the source runs on. */
static void test_sigint_cancels(void)
{
    if (!have_tool()) {
        return;
    }
    QTestState *src = start_src("");
    g_autofree char *uri = unix_uri(src);
    QTestState *dst = start_dst(uri);
    set_bandwidth(src, 1 << 20); /* ~8 s: plenty of time to interrupt */
    g_autofree char *tool = tool_path();
    char *argv[] = {tool, (char *)qtest_qmp_path(src), uri, NULL};
    GPid pid;
    int out_fd;
    GError *e = NULL;
    g_assert_true(g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                           NULL, &pid, NULL, &out_fd, NULL, &e));
    g_assert_no_error(e);
    g_autoptr(GString) out = g_string_new(NULL);
    bool sent = false;
    gint64 deadline = g_get_monotonic_time() + WAIT_MS * 1000LL;
    for (;;) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        struct pollfd p = {.fd = out_fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0) {
            continue;
        }
        char buf[1024];
        ssize_t n = read(out_fd, buf, sizeof(buf));
        if (n <= 0) {
            break;
        }
        g_string_append_len(out, buf, n);
        if (!sent && count_matching(PROGRESS_RE, out->str) > 0) {
            kill(pid, SIGINT);
            sent = true;
        }
    }
    close(out_fd);
    int status;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_spawn_close_pid(pid);
    g_autofree char *last = last_line(out->str);
    if (!sent || !WIFEXITED(status) || WEXITSTATUS(status) != 1 || strcmp(last, "cancelled")) {
        g_error("expected 'cancelled' and exit 1 after SIGINT (%s); status 0x%x, stdout:\n%s",
                sent ? "sent" : "never sent: no progress line", status, out->str);
    }
    g_autofree char *ss = status_of(src);
    g_assert_cmpstr(ss, ==, "running");
    qtest_kill(dst);
    qtest_quit(src);
}

/* Failures: each ends with "failed: <why>" and exit 1; the source keeps running. */
typedef struct {
    const char *uri;     /* NULL: the source's QMP is absent instead */
    const char *message; /* what the outcome line must contain */
} Failure;

static const Failure failures[] = {
    {"unix:/nonexistent-dir/mig.sock", "No such file or directory"},
    {"bogus:somewhere", "unknown migration protocol"},
    {NULL, "cannot connect to"},
};

static void test_failure(gconstpointer data)
{
    const Failure *f = data;
    if (!have_tool()) {
        return;
    }
    QTestState *src = qtest_init("-machine none -m " G_STRINGIFY(RAM_MB));
    g_autofree char *absent = tern_proc_path(qtest_proc(src), "absent.qmp");
    const char *src_qmp = f->uri ? qtest_qmp_path(src) : absent;
    const char *args[] = {src_qmp, f->uri ? f->uri : "unix:/nowhere", NULL};
    g_autofree char *out = NULL, *err = NULL;
    run_tool(args, 1, &out, &err);
    g_autofree char *last = last_line(out);
    g_assert_true(g_str_has_prefix(last, "failed: "));
    g_assert_nonnull(strstr(last, f->message));
    g_autofree char *ss = status_of(src);
    g_assert_cmpstr(ss, ==, "running");
    qtest_quit(src);
}

static void test_usage(void)
{
    if (!have_tool()) {
        return;
    }
    g_autofree char *out = NULL, *err = NULL;
    const char *one[] = {"only-one-argument", NULL};
    run_tool(one, 1, &out, &err);
    g_assert_nonnull(strstr(err, "usage: tern-migrate"));
    g_clear_pointer(&out, g_free);
    g_clear_pointer(&err, g_free);
    const char *help[] = {"--help", NULL};
    run_tool(help, 0, &out, &err);
    g_assert_nonnull(strstr(out, "SRC_QMP URI"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tern-migrate/unix", test_unix);
    g_test_add_func("/tern-migrate/tcp-qmp-and-stream", test_tcp);
    g_test_add_func("/tern-migrate/sigint-cancels", test_sigint_cancels);
    for (size_t i = 0; i < G_N_ELEMENTS(failures); i++) {
        g_autofree char *name = g_strdup_printf("/tern-migrate/failure/%s",
                                                failures[i].uri ? failures[i].uri : "no-qmp");
        g_strdelimit(name + strlen("/tern-migrate/failure/"), "/:", '-');
        g_test_add_data_func(name, &failures[i], test_failure);
    }
    g_test_add_func("/tern-migrate/usage", test_usage);
    return g_test_run();
}
