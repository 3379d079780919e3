/*
 * test-migration-faults.c: fault injection between two tern processes (qtest, no guest).
 *
 * A proxy (tests/lib/mig-proxy.h) sits between the source and the destination and, in
 * turn, cuts the connection before or after each message of the protocol, drops it (and
 * all after it in its direction), or holds all traffic for longer than the side waiting
 * for it will wait: the stream header, the configuration, the first RAM record, the first
 * device section, the end of the stream, the destination's verdict and the source's
 * confirmation; and `migrate_cancel` while the source waits for the verdict.
 *
 * The invariant, checked with query-status on both sides once both have settled: never
 * both running; either exactly one runs, or (the confirmation lost on its way) the source
 * waits in postmigrate, the destination has exited, and `cont` on the source (the
 * operator's decision, docs/migration-stream.md) runs it again. Each case also names
 * which of those outcomes the protocol must give.
 */
#include <signal.h>
#include <string.h>
#include "../lib/libqtest.h"
#include "../lib/mig-proxy.h"
#include "../lib/qmp-assert.h"
#include "migration-util.h"

#define RAM_MB 4
#define RAM_SIZE ((uint64_t)RAM_MB << 20)
/* x-verdict-timeout on both sides; stalls last well past it. */
#define ANSWER_TIMEOUT_MS 1000
#define STALL_MS 2500

typedef enum {
    SRC_RUNS = 1,      /* the source resumed; the destination exited */
    DST_RUNS = 2,      /* the destination runs; the source is in postmigrate */
    HANDOVER_LOST = 4, /* confirmation lost: source in postmigrate, destination exited */
} Outcome;

typedef struct {
    MigProxyMsg msg;
    MigFaultKind kind;
    unsigned allowed; /* Outcome bits */
} FaultCase;

static const FaultCase cases[] = {
    /* Before the end of the stream the destination cannot have the VM. A stall there is
     * only a delay while the source still runs the VM: the migration completes. */
    {MIG_MSG_HEADER, MIG_FAULT_CUT_BEFORE, SRC_RUNS},
    {MIG_MSG_HEADER, MIG_FAULT_CUT_AFTER, SRC_RUNS},
    {MIG_MSG_HEADER, MIG_FAULT_DROP, SRC_RUNS},
    {MIG_MSG_HEADER, MIG_FAULT_STALL, DST_RUNS},
    {MIG_MSG_CONFIG, MIG_FAULT_CUT_BEFORE, SRC_RUNS},
    {MIG_MSG_CONFIG, MIG_FAULT_CUT_AFTER, SRC_RUNS},
    {MIG_MSG_CONFIG, MIG_FAULT_DROP, SRC_RUNS},
    {MIG_MSG_CONFIG, MIG_FAULT_STALL, DST_RUNS},
    {MIG_MSG_RAM, MIG_FAULT_CUT_BEFORE, SRC_RUNS},
    {MIG_MSG_RAM, MIG_FAULT_CUT_AFTER, SRC_RUNS},
    {MIG_MSG_RAM, MIG_FAULT_DROP, SRC_RUNS},
    {MIG_MSG_RAM, MIG_FAULT_STALL, DST_RUNS},
    /* In the last round (source stopped) a stall outlasts the wait for the verdict. */
    {MIG_MSG_DEVICE, MIG_FAULT_CUT_BEFORE, SRC_RUNS},
    {MIG_MSG_DEVICE, MIG_FAULT_CUT_AFTER, SRC_RUNS},
    {MIG_MSG_DEVICE, MIG_FAULT_DROP, SRC_RUNS},
    {MIG_MSG_DEVICE, MIG_FAULT_STALL, SRC_RUNS},
    {MIG_MSG_END, MIG_FAULT_CUT_BEFORE, SRC_RUNS},
    {MIG_MSG_END, MIG_FAULT_CUT_AFTER, SRC_RUNS}, /* loaded, but its verdict cannot go */
    {MIG_MSG_END, MIG_FAULT_DROP, SRC_RUNS},
    {MIG_MSG_END, MIG_FAULT_STALL, SRC_RUNS}, /* END arrives after the source gave up */
    /* The destination answered; the source has not heard it: the VM stays there. */
    {MIG_MSG_VERDICT, MIG_FAULT_CUT_BEFORE, SRC_RUNS},
    /* Heard, and the cut races the confirmation: on a unix socket the source usually
     * fails to send it and resumes; if it was sent into the closing proxy, it is lost. */
    {MIG_MSG_VERDICT, MIG_FAULT_CUT_AFTER, SRC_RUNS | HANDOVER_LOST},
    {MIG_MSG_VERDICT, MIG_FAULT_DROP, SRC_RUNS},
    {MIG_MSG_VERDICT, MIG_FAULT_STALL, SRC_RUNS},
    /* The source has committed: the VM is the destination's, or nobody's until `cont`. */
    {MIG_MSG_CONFIRM, MIG_FAULT_CUT_BEFORE, HANDOVER_LOST},
    {MIG_MSG_CONFIRM, MIG_FAULT_CUT_AFTER, DST_RUNS},
    {MIG_MSG_CONFIRM, MIG_FAULT_DROP, HANDOVER_LOST},
    {MIG_MSG_CONFIRM, MIG_FAULT_STALL, HANDOVER_LOST},
};

typedef struct {
    QTestState *src, *dst;
    char *dst_path, *proxy_path;
    MigProxy *proxy;
} Pair;

static void set_answer_timeout(QTestState *s, int ms)
{
    JsonNode *r = qmp_ok(qtest_qmp(s),
                         "{'execute': 'migrate-set-parameters', 'arguments': "
                         "{'x-verdict-timeout': %d}}",
                         ms);
    json_node_unref(r);
}

/* Source and destination (listening), RAM that fills more than the sockets can buffer,
 * the proxy between them. */
static void pair_start(Pair *p, MigFault fault, int src_timeout_ms)
{
    p->src = qtest_initf("-machine pc -m %d", RAM_MB);
    p->dst_path = tern_proc_path(qtest_proc(p->src), "dst.sock");
    p->proxy_path = tern_proc_path(qtest_proc(p->src), "proxy.sock");
    p->dst = qtest_initf("-machine pc -m %d -incoming unix:%s", RAM_MB, p->dst_path);
    mig_wait_listening(qtest_qmp(p->dst));
    qtest_memset(p->src, 0, 0x5a, RAM_SIZE);
    set_answer_timeout(p->src, src_timeout_ms);
    set_answer_timeout(p->dst, ANSWER_TIMEOUT_MS);
    p->proxy = mig_proxy_new(p->proxy_path, p->dst_path, fault);
    g_autofree char *uri = g_strdup_printf("unix:%s", p->proxy_path);
    mig_migrate(qtest_qmp(p->src), uri);
}

static void pair_stop(Pair *p)
{
    mig_proxy_free(p->proxy);
    qtest_quit(p->src);
    if (tern_proc_alive(qtest_proc(p->dst))) {
        qtest_quit(p->dst);
    } else {
        qtest_kill(p->dst); /* reaps it */
    }
    g_free(p->dst_path);
    g_free(p->proxy_path);
}

/* query-status without asserting: NULL once the process is gone. */
static char *try_status(QmpClient *c)
{
    GError *err = NULL;
    g_autoptr(JsonObject) r = qmp_client_request(c, "{\"execute\": \"query-status\"}", &err);
    if (!r || !json_object_has_member(r, "return")) {
        g_clear_error(&err);
        return NULL;
    }
    JsonObject *ret = json_object_get_object_member(r, "return");
    return g_strdup(json_object_get_string_member(ret, "status"));
}

/* The destination settles: it runs, or it exits (then true in *exited, code 1). */
static void wait_dst_settled(Pair *p, bool *exited)
{
    QmpClient *dq = qtest_qmp(p->dst);
    gint64 deadline = g_get_monotonic_time() + MIG_WAIT_MS * 1000LL;
    while (g_get_monotonic_time() < deadline) {
        int code;
        if (tern_proc_wait(qtest_proc(p->dst), 0, &code)) {
            g_autofree char *err = tern_proc_stderr(qtest_proc(p->dst));
            if (code != 1 || !strstr(err, "incoming migration failed: ")) {
                g_error("destination exited with %d: %s", code, err);
            }
            *exited = true;
            return;
        }
        g_autofree char *st = try_status(dq);
        if (st && strcmp(st, "inmigrate") != 0) {
            g_assert_cmpstr(st, ==, "running");
            *exited = false;
            return;
        }
        g_usleep(20000);
    }
    g_error("the destination neither ran nor exited");
}

/* Both sides settled: classify, check the invariant, recover a lost handover. */
static Outcome check_outcome(Pair *p)
{
    QmpClient *sq = qtest_qmp(p->src);
    g_autoptr(JsonObject) end = mig_wait_end(sq);
    const char *mig = json_object_get_string_member(end, "status");
    bool dst_exited;
    wait_dst_settled(p, &dst_exited);
    g_autofree char *src = qmp_status(sq);
    bool src_runs = !strcmp(src, "running");
    g_test_message("source %s (%s: %s), destination %s", src, mig,
                   json_object_get_string_member_with_default(end, "error-desc", ""),
                   dst_exited ? "exited" : "running");
    if (src_runs && !dst_exited) {
        g_error("split brain: the VM runs on both sides");
    }
    if (src_runs) {
        g_assert_true(!strcmp(mig, "failed") || !strcmp(mig, "cancelled"));
        return SRC_RUNS;
    }
    /* Once the source has confirmed, the VM is no longer its own to resume. */
    g_assert_cmpstr(src, ==, "postmigrate");
    g_assert_cmpstr(mig, ==, "completed");
    if (!dst_exited) {
        g_assert_cmpuint(qtest_readb(p->dst, RAM_SIZE - 1), ==, 0x5a);
        return DST_RUNS;
    }
    g_autofree char *err = tern_proc_stderr(qtest_proc(p->dst));
    g_assert_nonnull(strstr(err, "no confirmation from the source"));
    /* The operator's decision: the destination is gone, the source runs the VM again. */
    JsonNode *r = qmp_ok(sq, "{'execute': 'cont'}");
    json_node_unref(r);
    mig_assert_runstate(sq, "running");
    return HANDOVER_LOST;
}

static void test_fault(gconstpointer data)
{
    const FaultCase *fc = data;
    Pair p;
    pair_start(&p, (MigFault){fc->msg, fc->kind, STALL_MS}, ANSWER_TIMEOUT_MS);
    Outcome got = check_outcome(&p);
    g_assert_true(mig_proxy_fired(p.proxy));
    if (!(fc->allowed & got)) {
        g_error("outcome %d, expected one of 0x%x", got, fc->allowed);
    }
    pair_stop(&p);
}

/* Through the proxy without a fault: every message passes, the destination runs. */
static void test_no_fault(void)
{
    Pair p;
    pair_start(&p, (MigFault){MIG_MSG__MAX, MIG_FAULT_NONE, 0}, ANSWER_TIMEOUT_MS);
    g_assert_cmpint(check_outcome(&p), ==, DST_RUNS);
    for (MigProxyMsg m = 0; m < MIG_MSG__MAX; m++) {
        g_test_message("%s: %u", mig_proxy_msg_name(m), mig_proxy_seen(p.proxy, m));
        g_assert_cmpuint(mig_proxy_seen(p.proxy, m), >, 0);
    }
    pair_stop(&p);
}

/*
 * migrate_cancel while the source waits for the verdict (the destination has answered,
 * the answer is lost on the way): the source resumes, so the destination must not run.
 */
static void test_cancel_awaiting_verdict(void)
{
    Pair p;
    pair_start(&p, (MigFault){MIG_MSG_VERDICT, MIG_FAULT_DROP, 0}, 60000);
    QmpClient *sq = qtest_qmp(p.src);
    g_assert_true(mig_proxy_wait_seen(p.proxy, MIG_MSG_VERDICT, MIG_WAIT_MS));
    g_autofree char *mig = mig_status(sq);
    g_assert_cmpstr(mig, ==, "device");
    mig_assert_runstate(sq, "finish-migrate");
    JsonNode *r = qmp_ok(sq, "{'execute': 'migrate_cancel'}");
    json_node_unref(r);
    g_assert_cmpint(check_outcome(&p), ==, SRC_RUNS);
    g_autoptr(JsonObject) end = mig_wait_end(sq);
    g_assert_cmpstr(json_object_get_string_member(end, "status"), ==, "cancelled");
    pair_stop(&p);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/migration/faults/none", test_no_fault);
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *name =
            g_strdup_printf("/migration/faults/%s/%s", mig_proxy_msg_name(cases[i].msg),
                            mig_fault_name(cases[i].kind));
        g_test_add_data_func(name, &cases[i], test_fault);
    }
    g_test_add_func("/migration/faults/cancel-awaiting-verdict", test_cancel_awaiting_verdict);
    return g_test_run();
}
