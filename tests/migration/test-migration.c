/*
 * test-migration.c: live migration between two real tern processes under qtest
 * (-machine none keeps -m's RAM under qtest, so the test writes a pattern into RAM on the
 * source and reads it back page by page on the destination). Every transport (unix, tcp
 * on 127.0.0.1, fd via getfd, exec), cancel in each phase, a destination killed mid-stream,
 * corrupt and truncated streams, the run states on both sides and the MIGRATION events.
 * Each tern is started through libqtest / tern-proc, which kill and reap it by PID.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../lib/libqtest.h"
#include "../lib/qmp-assert.h"
#include "migration-util.h"
#include "../lib/test-ports.h"

#define RAM_MB 8
#define RAM_SIZE ((uint64_t)RAM_MB << 20)
#define PAGE 4096
#define CHUNK (256 * 1024)

static const char *machine_args = "-machine none -m " G_STRINGIFY(RAM_MB);

/* Page p: zeros when p % 3 == 0 (sent as a marker), else a pattern seeded by p and gen. */
static void pattern_chunk(uint8_t *buf, uint64_t addr, size_t len, unsigned gen)
{
    for (size_t off = 0; off < len; off += PAGE) {
        uint64_t p = (addr + off) / PAGE;
        uint8_t *pg = buf + off;
        if (p % 3 == 0) {
            memset(pg, 0, PAGE);
            continue;
        }
        for (unsigned i = 0; i < PAGE; i++) {
            pg[i] = (uint8_t)(p * 7 + i + gen * 13);
        }
    }
}

static void fill_ram(QTestState *s, unsigned gen)
{
    g_autofree uint8_t *buf = g_malloc(CHUNK);
    for (uint64_t a = 0; a < RAM_SIZE; a += CHUNK) {
        pattern_chunk(buf, a, CHUNK, gen);
        qtest_bufwrite(s, a, buf, CHUNK);
    }
}

/* Pages of [start, end) that differ from the pattern `gen` (0: none). */
static unsigned count_bad_pages(QTestState *s, uint64_t start, uint64_t end, unsigned gen)
{
    g_autofree uint8_t *want = g_malloc(CHUNK);
    g_autofree uint8_t *got = g_malloc(CHUNK);
    unsigned bad = 0;
    for (uint64_t a = start; a < end; a += CHUNK) {
        pattern_chunk(want, a, CHUNK, gen);
        qtest_bufread(s, a, got, CHUNK);
        for (size_t off = 0; off < CHUNK; off += PAGE) {
            bad += memcmp(want + off, got + off, PAGE) != 0;
        }
    }
    return bad;
}

/* Every page on the destination equals what the source held. */
static void check_ram(QTestState *s, unsigned gen)
{
    g_autofree uint8_t *want = g_malloc(CHUNK);
    g_autofree uint8_t *got = g_malloc(CHUNK);
    for (uint64_t a = 0; a < RAM_SIZE; a += CHUNK) {
        pattern_chunk(want, a, CHUNK, gen);
        qtest_bufread(s, a, got, CHUNK);
        for (size_t off = 0; off < CHUNK; off += PAGE) {
            if (memcmp(want + off, got + off, PAGE) != 0) {
                g_error("page at 0x%" G_GINT64_MODIFIER "x differs on the destination",
                        a + off);
            }
        }
    }
}

static QTestState *start_src(const char *extra)
{
    return qtest_initf("%s %s", machine_args, extra ? extra : "");
}

/* A destination; for a socket URI, returns once it listens (status setup). */
static QTestState *start_dst_on(const char *machine, const char *incoming, const char *extra)
{
    QTestState *s = qtest_initf("%s -incoming '%s' %s", machine, incoming, extra ? extra : "");
    if (g_str_has_prefix(incoming, "unix:") || g_str_has_prefix(incoming, "tcp:")) {
        mig_wait_listening(qtest_qmp(s));
    }
    return s;
}

static QTestState *start_dst(const char *incoming, const char *extra)
{
    return start_dst_on(machine_args, incoming, extra);
}

static void set_bandwidth(QmpClient *c, uint64_t bytes_per_sec)
{
    JsonNode *r = qmp_ok(c,
                         "{'execute': 'migrate-set-parameters', 'arguments': "
                         "{'max-bandwidth': %" G_GUINT64_FORMAT "}}",
                         bytes_per_sec);
    json_node_unref(r);
}

static char *sock_path(QTestState *s, const char *name)
{
    return tern_proc_path(qtest_proc(s), name);
}

/* A full migration over `uri`; dst is already listening. Checks RAM and run states. */
static void migrate_and_check(QTestState *src, QTestState *dst, const char *uri)
{
    QmpClient *sq = qtest_qmp(src), *dq = qtest_qmp(dst);
    fill_ram(src, 1);
    mig_assert_runstate(dq, "inmigrate");
    g_autoptr(JsonObject) end = mig_migrate_until_end(sq, uri, "completed");
    JsonObject *ram = json_object_get_object_member(end, "ram");
    g_assert_cmpint(json_object_get_int_member(ram, "total"), ==, RAM_SIZE);
    g_assert_cmpint(json_object_get_int_member(ram, "remaining"), ==, 0);
    /* A third of the pages are zero: markers, not 4 KiB each. */
    g_assert_cmpint(json_object_get_int_member(ram, "duplicate"), >=, RAM_SIZE / PAGE / 3);
    g_assert_cmpint(json_object_get_int_member(ram, "normal"), >=, RAM_SIZE / PAGE * 2 / 3);
    g_assert_true(json_object_has_member(end, "downtime"));
    g_assert_true(json_object_has_member(end, "total-time"));
    g_assert_true(json_object_has_member(end, "setup-time"));
    mig_assert_runstate(sq, "postmigrate");
    mig_wait_runstate(dq, "running");
    check_ram(dst, 1);
}

static void test_unix(void)
{
    QTestState *src = start_src(NULL);
    g_autofree char *path = sock_path(src, "mig.sock");
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    QTestState *dst = start_dst(uri, NULL);
    migrate_and_check(src, dst, uri);
    /* `cont` on the source afterwards runs it again (QEMU's postmigrate -> running). */
    JsonNode *r = qmp_ok(qtest_qmp(src), "{'execute': 'cont'}");
    json_node_unref(r);
    mig_assert_runstate(qtest_qmp(src), "running");
    qtest_quit(dst);
    qtest_quit(src);
}

static void test_tcp(void)
{
    g_autofree char *uri = g_strdup_printf("tcp:127.0.0.1:%d", test_free_tcp_port());
    QTestState *src = start_src(NULL);
    QTestState *dst = start_dst(uri, NULL);
    migrate_and_check(src, dst, uri);
    qtest_quit(dst);
    qtest_quit(src);
}

static void test_exec(void)
{
    QTestState *src = start_src(NULL);
    g_autofree char *file = sock_path(src, "stream.bin");
    g_autofree char *out = g_strdup_printf("exec:cat > %s", file);
    fill_ram(src, 2);
    mig_migrate(qtest_qmp(src), out);
    g_autoptr(JsonObject) end = mig_wait_end(qtest_qmp(src));
    g_assert_cmpstr(json_object_get_string_member(end, "status"), ==, "completed");
    mig_assert_runstate(qtest_qmp(src), "postmigrate");

    g_autofree char *in = g_strdup_printf("exec:cat %s", file);
    QTestState *dst = start_dst(in, NULL);
    mig_wait_runstate(qtest_qmp(dst), "running");
    check_ram(dst, 2);
    qtest_quit(dst);

    /* The same stream truncated: refused, exit 1. */
    g_autofree char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(file, &data, &len, NULL));
    g_autofree char *cut = sock_path(src, "cut.bin");
    g_assert_true(g_file_set_contents(cut, data, len / 2, NULL));
    g_autofree char *in_cut = g_strdup_printf("exec:cat %s", cut);
    mig_assert_dst_failed(start_dst(in_cut, NULL), "unexpected end of stream");

    /* Corrupt: a bad magic, and a flipped record type. */
    g_autofree char *bad = sock_path(src, "bad.bin");
    data[0] ^= 0xff;
    g_assert_true(g_file_set_contents(bad, data, len, NULL));
    g_autofree char *in_bad = g_strdup_printf("exec:cat %s", bad);
    mig_assert_dst_failed(start_dst(in_bad, NULL), "not a tern migration stream");
    data[0] ^= 0xff;
    data[12] = 0x7f; /* the configuration record's type */
    g_assert_true(g_file_set_contents(bad, data, len, NULL));
    mig_assert_dst_failed(start_dst(in_bad, NULL),
                          "record 0x7f before the configuration record");

    /* A destination with a different RAM size refuses the configuration. */
    QTestState *small = qtest_initf("-machine none -m 4 -incoming 'exec:cat %s'", file);
    mig_assert_dst_failed(small, "configuration: RAM block 0 is 8 MiB");
    qtest_quit(src);
}

/* Read a reply after a request sent with qmp_client_send_fd. */
static void send_fd_ok(QmpClient *c, int fd, const char *text)
{
    GError *err = NULL;
    g_assert_true(qmp_client_send_fd(c, fd, text, &err));
    for (;;) {
        g_autoptr(JsonObject) m = qmp_client_read(c, MIG_WAIT_MS, &err);
        g_assert_no_error(err);
        if (json_object_has_member(m, "event")) {
            continue;
        }
        g_assert_true(json_object_has_member(m, "return"));
        return;
    }
}

static void test_fd(void)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    QTestState *src = start_src(NULL);
    QTestState *dst = qtest_initf("%s -incoming defer", machine_args);
    QmpClient *dq = qtest_qmp(dst);
    mig_assert_runstate(dq, "inmigrate");
    /* migrate-incoming only with -incoming defer, only once. */
    send_fd_ok(dq, sv[0], "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"in\"}}");
    JsonNode *r = qmp_ok(dq, "{'execute': 'migrate-incoming', 'arguments': {'uri': 'fd:in'}}");
    json_node_unref(r);
    qmp_assert_error(dq, "GenericError", "The incoming migration has already been started",
                     "{'execute': 'migrate-incoming', 'arguments': {'uri': 'fd:in'}}");
    QmpClient *sq = qtest_qmp(src);
    qmp_assert_error(sq, "GenericError", "File descriptor named 'out' not found",
                     "{'execute': 'migrate', 'arguments': {'uri': 'fd:out'}}");
    qmp_assert_error(sq, "GenericError", "For use with '-incoming defer'",
                     "{'execute': 'migrate-incoming', 'arguments': {'uri': 'fd:x'}}");
    send_fd_ok(sq, sv[1], "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"out\"}}");
    close(sv[0]);
    close(sv[1]);
    migrate_and_check(src, dst, "fd:out");
    qtest_quit(dst);
    qtest_quit(src);
}

/* Destination started with -S: it waits in prelaunch-migrate until `cont`. */
static void test_dst_paused(void)
{
    QTestState *src = start_src(NULL);
    g_autofree char *path = sock_path(src, "mig.sock");
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    QTestState *dst = start_dst(uri, "-S");
    QmpClient *sq = qtest_qmp(src), *dq = qtest_qmp(dst);
    mig_enable_events(sq);
    mig_enable_events(dq);
    g_autoptr(JsonObject) end = mig_migrate_until_end(sq, uri, "completed");
    mig_wait_runstate(dq, "prelaunch-migrate");
    g_autofree char *dst_status = mig_status(dq);
    g_assert_cmpstr(dst_status, ==, "completed");
    JsonNode *r = qmp_ok(dq, "{'execute': 'cont'}");
    json_node_unref(r);
    mig_assert_runstate(dq, "running");
    GError *err = NULL;
    g_autoptr(JsonObject) resume = qmp_client_wait_event(dq, "RESUME", MIG_WAIT_MS, &err);
    g_assert_no_error(err);

    /* Events on the source: setup, active, device, completed, in order, and passes;
     * a STOP when the VM stopped for the last round. */
    const char *want[] = {"setup", "active", "device", "completed"};
    size_t next = 0;
    bool pass = false, stop = false;
    GList *events = qmp_client_take_events(sq);
    for (GList *l = events; l; l = l->next) {
        JsonObject *ev = l->data;
        const char *name = json_object_get_string_member(ev, "event");
        if (!strcmp(name, "MIGRATION")) {
            const char *st = json_object_get_string_member(
                json_object_get_object_member(ev, "data"), "status");
            g_assert_cmpuint(next, <, G_N_ELEMENTS(want));
            g_assert_cmpstr(st, ==, want[next]);
            next++;
        } else if (!strcmp(name, "MIGRATION_PASS")) {
            pass = true;
        } else if (!strcmp(name, "STOP")) {
            stop = true;
        }
    }
    g_list_free_full(events, (GDestroyNotify)json_object_unref);
    g_assert_cmpuint(next, ==, G_N_ELEMENTS(want));
    g_assert_true(pass);
    g_assert_true(stop);
    qtest_quit(dst);
    qtest_quit(src);
}

/* Cancel while the stream is flowing (slowed by max-bandwidth) and in setup. */
static void test_cancel(void)
{
    QTestState *src = start_src(NULL);
    QmpClient *sq = qtest_qmp(src);
    fill_ram(src, 3);
    for (int phase = 0; phase < 2; phase++) {
        g_autofree char *name = g_strdup_printf("mig%d.sock", phase);
        g_autofree char *path = sock_path(src, name);
        g_autofree char *uri = g_strdup_printf("unix:%s", path);
        QTestState *dst = start_dst(uri, NULL);
        set_bandwidth(sq, 1 << 20);
        mig_migrate(sq, uri);
        if (phase == 1) {
            mig_wait_status(sq, "active");
            /* A second migrate while one runs is refused. */
            qmp_assert_error(sq, "GenericError", "There's a migration process in progress",
                             "{'execute': 'migrate', 'arguments': {'uri': '%s'}}", uri);
        }
        JsonNode *r = qmp_ok(sq, "{'execute': 'migrate_cancel'}");
        json_node_unref(r);
        g_autoptr(JsonObject) end = mig_wait_end(sq);
        g_assert_cmpstr(json_object_get_string_member(end, "status"), ==, "cancelled");
        mig_assert_runstate(sq, "running");
        if (phase == 1) {
            /* The destination saw the stream break: it exits 1, never runs the half. */
            mig_assert_dst_failed(dst, NULL);
        } else {
            /* Cancelled in setup, perhaps before connecting: whatever the destination
             * got, it has not run a guest. */
            int code;
            if (!tern_proc_wait(qtest_proc(dst), 2000, &code)) {
                mig_assert_runstate(qtest_qmp(dst), "inmigrate");
            }
            qtest_kill(dst);
        }
    }
    /* Afterwards a migration succeeds. */
    set_bandwidth(sq, 0);
    g_autofree char *path = sock_path(src, "final.sock");
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    QTestState *dst = start_dst(uri, NULL);
    g_autoptr(JsonObject) end = mig_migrate_until_end(sq, uri, "completed");
    mig_wait_runstate(qtest_qmp(dst), "running");
    check_ram(dst, 3);
    qtest_quit(dst);
    qtest_quit(src);
}

/*
 * Cancel in the `device` phase: the peer is a plain socket in this test that reads the
 * stream but never answers, so the source waits for the verdict with the VM stopped.
 */
static void test_cancel_device_phase(void)
{
    QTestState *src = start_src(NULL);
    QmpClient *sq = qtest_qmp(src);
    int lfd;
    int c = mig_migrate_to_test(sq, &lfd);
    /* Drain until the source waits in `device`. */
    gint64 deadline = g_get_monotonic_time() + MIG_WAIT_MS * 1000LL;
    char buf[65536];
    for (;;) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        ssize_t n = read(c, buf, sizeof(buf));
        if (n <= 0) {
            g_autofree char *st = mig_status(sq);
            if (!strcmp(st, "device")) {
                break;
            }
        }
    }
    mig_assert_runstate(sq, "finish-migrate");
    /* `cont` is refused while the last round runs (QEMU's rule). */
    qmp_assert_error(sq, "GenericError", "Migration is not finalized yet",
                     "{'execute': 'cont'}");
    JsonNode *r = qmp_ok(sq, "{'execute': 'migrate_cancel'}");
    json_node_unref(r);
    g_autoptr(JsonObject) end = mig_wait_end(sq);
    g_assert_cmpstr(json_object_get_string_member(end, "status"), ==, "cancelled");
    mig_assert_runstate(sq, "running");
    close(c);
    close(lfd);
    qtest_quit(src);
}

/* The destination dies mid-stream: the source fails, keeps running, and migrates again. */
static void test_dst_killed(void)
{
    QTestState *src = start_src(NULL);
    QmpClient *sq = qtest_qmp(src);
    fill_ram(src, 4);
    g_autofree char *path = sock_path(src, "mig.sock");
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    QTestState *dst = start_dst(uri, NULL);
    set_bandwidth(sq, 1 << 20);
    mig_migrate(sq, uri);
    mig_wait_status(sq, "active");
    g_usleep(200000);
    qtest_kill(dst);
    g_autoptr(JsonObject) end = mig_wait_end(sq);
    g_assert_cmpstr(json_object_get_string_member(end, "status"), ==, "failed");
    g_assert_true(json_object_has_member(end, "error-desc"));
    mig_assert_runstate(sq, "running");

    set_bandwidth(sq, 0);
    dst = start_dst(uri, NULL);
    g_autoptr(JsonObject) end2 = mig_migrate_until_end(sq, uri, "completed");
    mig_wait_runstate(qtest_qmp(dst), "running");
    check_ram(dst, 4);
    qtest_quit(dst);
    qtest_quit(src);
}

/* max-bandwidth holds: the stream cannot beat the limit. */
static void test_bandwidth(void)
{
    QTestState *src = start_src(NULL);
    QmpClient *sq = qtest_qmp(src);
    fill_ram(src, 5);
    g_autofree char *path = sock_path(src, "mig.sock");
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    QTestState *dst = start_dst(uri, NULL);
    const uint64_t bw = 4 << 20;
    set_bandwidth(sq, bw);
    mig_migrate(sq, uri);
    /* Mid-pass, query-migrate's figures move (the first pass takes over a second). */
    g_usleep(400000);
    JsonNode *mid = qmp_ok(sq, "{'execute': 'query-migrate'}");
    JsonObject *mid_o = json_node_get_object(mid);
    g_assert_cmpstr(json_object_get_string_member(mid_o, "status"), ==, "active");
    JsonObject *mid_ram = json_object_get_object_member(mid_o, "ram");
    int64_t mid_sent = json_object_get_int_member(mid_ram, "transferred");
    int64_t mid_total = json_object_get_int_member(mid_ram, "total");
    int64_t mid_left = json_object_get_int_member(mid_ram, "remaining");
    g_assert_cmpint(mid_sent, >, 0);
    g_assert_cmpint(mid_sent, <, mid_total);
    g_assert_cmpint(mid_left, <, mid_total);
    json_node_unref(mid);
    g_autoptr(JsonObject) end = mig_wait_end(sq);
    g_assert_cmpstr(json_object_get_string_member(end, "status"), ==, "completed");
    int64_t ms = json_object_get_int_member(end, "total-time");
    int64_t bytes =
        json_object_get_int_member(json_object_get_object_member(end, "ram"), "transferred");
    /* All but the last round is limited; allow one 100 ms window of slack. */
    g_assert_cmpint(ms, >=, (int64_t)(bytes * 1000 / bw) - 200);
    g_test_message("%" G_GINT64_FORMAT " bytes in %" G_GINT64_FORMAT
                   " ms at a %" G_GUINT64_FORMAT " B/s limit",
                   bytes, ms, bw);
    mig_wait_runstate(qtest_qmp(dst), "running");
    check_ram(dst, 5);
    qtest_quit(dst);
    qtest_quit(src);
}

/*
 * The source's RAM changes while the stream flows (qtest writes as a guest would): the
 * changed pages are sent again and the destination ends with the new contents.
 */
static void test_dirty_while_active(void)
{
    QTestState *src = start_src(NULL);
    QmpClient *sq = qtest_qmp(src);
    fill_ram(src, 6);
    g_autofree char *path = sock_path(src, "mig.sock");
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    QTestState *dst = start_dst(uri, NULL);
    set_bandwidth(sq, 2 << 20);
    mig_migrate(sq, uri);
    mig_wait_status(sq, "active");
    /* The first chunk goes out first: rewrite it once it has been sent. */
    g_usleep(300000);
    g_autofree uint8_t *buf = g_malloc(CHUNK);
    pattern_chunk(buf, 0, CHUNK, 7);
    qtest_bufwrite(src, 0, buf, CHUNK);
    g_autoptr(JsonObject) end = mig_wait_end(sq);
    g_assert_cmpstr(json_object_get_string_member(end, "status"), ==, "completed");
    JsonObject *ram = json_object_get_object_member(end, "ram");
    g_assert_cmpint(json_object_get_int_member(ram, "dirty-sync-count"), >=, 2);
    mig_wait_runstate(qtest_qmp(dst), "running");
    /* pages the test wrote while RAM was being sent arrive too (dirty tracking) */
    g_assert_cmpuint(count_bad_pages(dst, 0, CHUNK, 7), ==, 0);
    qtest_quit(dst);
    qtest_quit(src);
}

/* Nobody listening: failed at once with the reason, the source keeps running. */
static void test_connect_refused(void)
{
    QTestState *src = start_src(NULL);
    QmpClient *sq = qtest_qmp(src);
    g_autofree char *path = sock_path(src, "nobody.sock");
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    g_autoptr(JsonObject) end = mig_migrate_until_end(sq, uri, "failed");
    g_assert_nonnull(
        strstr(json_object_get_string_member(end, "error-desc"), "Failed to connect to"));
    mig_assert_runstate(sq, "running");
    qmp_assert_error(sq, "GenericError", "unknown migration protocol: bogus:x",
                     "{'execute': 'migrate', 'arguments': {'uri': 'bogus:x'}}");
    qmp_assert_error(sq, "GenericError", "block migration is not supported",
                     "{'execute': 'migrate', 'arguments': {'uri': '%s', 'blk': true}}", uri);
    qmp_assert_error(sq, "GenericError", "not supported by tern",
                     "{'execute': 'migrate-set-capabilities', 'arguments': "
                     "{'capabilities': [{'capability': 'xbzrle', 'state': true}]}}");
    qmp_assert_error(sq, "GenericError", "downtime_limit",
                     "{'execute': 'migrate-set-parameters', 'arguments': "
                     "{'downtime-limit': 2000001}}");
    JsonNode *r = qmp_ok(sq, "{'execute': 'migrate-set-parameters', 'arguments': "
                             "{'downtime-limit': 500, 'max-bandwidth': 1000000}}");
    json_node_unref(r);
    r = qmp_ok(sq, "{'execute': 'query-migrate-parameters'}");
    g_assert_cmpint(json_object_get_int_member(json_node_get_object(r), "downtime-limit"), ==,
                    500);
    g_assert_cmpint(json_object_get_int_member(json_node_get_object(r), "max-bandwidth"), ==,
                    1000000);
    json_node_unref(r);
    qtest_quit(src);
}

/* A destination refusing the device state answers the source, which keeps running. */
static void test_refused_by_destination(void)
{
    QTestState *src = start_src(NULL);
    QmpClient *sq = qtest_qmp(src);
    g_autofree char *path = sock_path(src, "mig.sock");
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    QTestState *dst = start_dst_on("-machine none -m 16", uri, NULL);
    g_autoptr(JsonObject) end = mig_migrate_until_end(sq, uri, "failed");
    g_assert_nonnull(strstr(json_object_get_string_member(end, "error-desc"),
                            "the destination refused the stream: configuration"));
    mig_assert_runstate(sq, "running");
    mig_assert_dst_failed(dst, "configuration: RAM block 0 is 8 MiB");
    qtest_quit(src);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/migration/unix", test_unix);
    g_test_add_func("/migration/tcp", test_tcp);
    g_test_add_func("/migration/exec-and-bad-streams", test_exec);
    g_test_add_func("/migration/fd", test_fd);
    g_test_add_func("/migration/dst-paused-and-events", test_dst_paused);
    g_test_add_func("/migration/cancel", test_cancel);
    g_test_add_func("/migration/cancel-device-phase", test_cancel_device_phase);
    g_test_add_func("/migration/dst-killed", test_dst_killed);
    g_test_add_func("/migration/bandwidth", test_bandwidth);
    g_test_add_func("/migration/dirty-while-active", test_dirty_while_active);
    g_test_add_func("/migration/connect-refused", test_connect_refused);
    g_test_add_func("/migration/refused-by-destination", test_refused_by_destination);
    return g_test_run();
}
