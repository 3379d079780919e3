/*
 * test-qmp.c: QMP over a real socket against the real binary. Each test starts its own
 * tern (-machine none -S), and after every bad input checks that the same session still
 * answers a good command and that the process lives.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "../lib/tern-vm.h"
#include "../lib/test-ports.h"

#define VM_ARGS "-machine none -S"

/* The session (and the process) survived: a good command still gets its answer. */
static void assert_alive(TernVm *vm, QmpClient *c)
{
    tern_proc_assert_alive(vm->proc);
    g_autofree char *status = qmp_status(c);
    g_assert_nonnull(status);
}

static JsonObject *obj(JsonObject *o, const char *member)
{
    g_assert_true(json_object_has_member(o, member));
    return json_object_get_object_member(o, member);
}

static void test_greeting(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    QmpClient *c = tern_vm_connect(vm);
    JsonObject *qmp = obj(qmp_client_greeting(c), "QMP");
    JsonObject *version = obj(qmp, "version");
    JsonObject *triple = obj(version, "qemu");
    g_assert_cmpint(json_object_get_int_member(triple, "major"), ==, 0);
    g_assert_cmpint(json_object_get_int_member(triple, "minor"), ==, 1);
    g_assert_cmpint(json_object_get_int_member(triple, "micro"), ==, 0);
    g_assert_true(g_str_has_prefix(json_object_get_string_member(version, "package"), "tern-"));
    g_assert_cmpuint(json_array_get_length(json_object_get_array_member(qmp, "capabilities")),
                     ==, 0);

    /* query-version says the same as the greeting. */
    GError *err = NULL;
    g_assert_true(qmp_client_negotiate(c, &err));
    g_autoptr(JsonNode) ret = qmp_ok(c, "{'execute': 'query-version'}");
    JsonObject *v = json_node_get_object(ret);
    g_assert_true(json_node_equal(json_object_get_member(v, "qemu"),
                                  json_object_get_member(version, "qemu")));
    g_assert_cmpstr(json_object_get_string_member(v, "package"), ==,
                    json_object_get_string_member(version, "package"));
    qmp_client_free(c);
    tern_vm_free(vm);
}

static void test_negotiation(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    QmpClient *c = tern_vm_connect(vm);
    const char *expecting = "Expecting capabilities negotiation with 'qmp_capabilities'";
    qmp_assert_error(c, "CommandNotFound", expecting, "{'execute': 'query-status'}");
    qmp_assert_error(c, "CommandNotFound", expecting, "{'execute': 'no-such-command'}");
    qmp_assert_error(c, "GenericError", "QMP input lacks member 'execute'", "{'id': 1}");
    qmp_assert_error(c, "GenericError", "Capability 'oob' not available",
                     "{'execute': 'qmp_capabilities', 'arguments': {'enable': ['oob']}}");

    /* Events go to negotiated clients only: stop/cont on another session... */
    qmp_ok(vm->qmp, "{'execute': 'cont'}");
    json_node_unref(qmp_ok(vm->qmp, "{'execute': 'stop'}"));
    GError *err = NULL;
    g_autoptr(JsonObject) stop =
        qmp_client_wait_event(vm->qmp, "STOP", QMP_CLIENT_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    /* ...left nothing for this one: the next message it reads is its own reply. */
    g_assert_true(
        qmp_client_send_raw(c, "{'execute': 'qmp_capabilities', 'id': 'caps'}\n", 46, &err));
    g_autoptr(JsonObject) reply = qmp_client_read(c, QMP_CLIENT_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    g_assert_true(json_object_has_member(reply, "return"));
    g_assert_cmpstr(json_object_get_string_member(reply, "id"), ==, "caps");

    qmp_assert_error(c, "CommandNotFound",
                     "Capabilities negotiation is already complete, command ignored",
                     "{'execute': 'qmp_capabilities'}");
    assert_alive(vm, c);
    qmp_client_free(c);
    tern_vm_free(vm);
}

static bool has_name(JsonArray *list, const char *name)
{
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *o = json_array_get_object_element(list, i);
        if (strcmp(json_object_get_string_member(o, "name"), name) == 0) {
            return true;
        }
    }
    return false;
}

static void test_queries(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    QmpClient *c = vm->qmp;

    g_autoptr(JsonNode) st = qmp_ok(c, "{'execute': 'query-status'}");
    JsonObject *s = json_node_get_object(st);
    g_assert_cmpstr(json_object_get_string_member(s, "status"), ==, "prelaunch");
    g_assert_false(json_object_get_boolean_member(s, "running"));
    g_assert_false(json_object_get_boolean_member(s, "singlestep"));

    g_autoptr(JsonNode) name = qmp_ok(c, "{'execute': 'query-name'}");
    g_assert_cmpuint(json_object_get_size(json_node_get_object(name)), ==, 0);

    static const char *const core[] = {
        "qmp_capabilities", "query-version", "query-commands", "query-status",
        "query-name",       "stop",          "cont",           "quit",
        "query-qmp-schema"};
    g_autoptr(JsonNode) cmds = qmp_ok(c, "{'execute': 'query-commands'}");
    g_autoptr(JsonNode) schema = qmp_ok(c, "{'execute': 'query-qmp-schema'}");
    JsonArray *cl = json_node_get_array(cmds);
    JsonArray *sl = json_node_get_array(schema);
    for (guint i = 0; i < G_N_ELEMENTS(core); i++) {
        g_assert_true(has_name(cl, core[i]));
    }
    /* Every listed command is introspectable, and STOP/RESUME/SHUTDOWN are there. */
    for (guint i = 0; i < json_array_get_length(cl); i++) {
        JsonObject *o = json_array_get_object_element(cl, i);
        g_assert_true(has_name(sl, json_object_get_string_member(o, "name")));
    }
    g_assert_true(has_name(sl, "STOP") && has_name(sl, "RESUME") && has_name(sl, "SHUTDOWN"));
    tern_vm_free(vm);

    vm = tern_vm_start(VM_ARGS " -name guest-one");
    g_autoptr(JsonNode) named = qmp_ok(vm->qmp, "{'execute': 'query-name'}");
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(named), "name"), ==,
                    "guest-one");
    tern_vm_free(vm);
}

static void assert_status(QmpClient *c, const char *status, bool running)
{
    g_autoptr(JsonNode) st = qmp_ok(c, "{'execute': 'query-status'}");
    JsonObject *s = json_node_get_object(st);
    g_assert_cmpstr(json_object_get_string_member(s, "status"), ==, status);
    g_assert_cmpint(json_object_get_boolean_member(s, "running"), ==, running);
}

static void assert_event(QmpClient *c, const char *name)
{
    GError *err = NULL;
    JsonObject *ev = qmp_client_wait_event(c, name, QMP_CLIENT_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    /* QEMU's timestamp: wall clock seconds and microseconds. */
    JsonObject *ts = obj(ev, "timestamp");
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    g_assert_cmpint(json_object_get_int_member(ts, "seconds"), <=, now);
    g_assert_cmpint(json_object_get_int_member(ts, "seconds"), >=, now - 60);
    g_assert_cmpint(json_object_get_int_member(ts, "microseconds"), >=, 0);
    g_assert_cmpint(json_object_get_int_member(ts, "microseconds"), <, G_USEC_PER_SEC);
    json_object_unref(ev);
}

static void test_stop_cont(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    QmpClient *c = vm->qmp;
    assert_status(c, "prelaunch", false);
    json_node_unref(qmp_ok(c, "{'execute': 'cont'}"));
    assert_event(c, "RESUME");
    assert_status(c, "running", true);
    json_node_unref(qmp_ok(c, "{'execute': 'stop'}"));
    assert_event(c, "STOP");
    assert_status(c, "paused", false);
    json_node_unref(qmp_ok(c, "{'execute': 'cont'}"));
    assert_event(c, "RESUME");
    assert_status(c, "running", true);
    /* One event each, no more. */
    GList *rest = qmp_client_take_events(c);
    g_assert_null(rest);
    tern_vm_free(vm);
}

static void test_quit(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    json_node_unref(qmp_ok(vm->qmp, "{'execute': 'quit'}"));
    GError *err = NULL;
    g_autoptr(JsonObject) ev =
        qmp_client_wait_event(vm->qmp, "SHUTDOWN", QMP_CLIENT_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    JsonObject *data = obj(ev, "data");
    g_assert_false(json_object_get_boolean_member(data, "guest"));
    g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==, "host-qmp-quit");
    int code = -1;
    g_assert_true(tern_proc_wait(vm->proc, QMP_CLIENT_TIMEOUT_MS, &code));
    g_assert_cmpint(code, ==, 0);
    g_assert_false(g_file_test(vm->qmp_path, G_FILE_TEST_EXISTS));
    tern_vm_free(vm);
}

/* The check: no guest, -S; prelaunch, running after cont, exit 0 on quit. */
static void test_done_when(void)
{
    TernProc *p = tern_proc_new();
    g_autofree char *path = tern_proc_path(p, "x.qmp");
    g_autofree char *spec = g_strdup_printf("unix:%s,server=on,wait=off", path);
    const char *args[] = {"-machine", "none", "-S", "-qmp", spec, "-display", "none", NULL};
    GError *err = NULL;
    g_assert_true(tern_proc_start(p, args, NULL, &err));
    QmpClient *c = qmp_client_connect_unix(path, QMP_CLIENT_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    g_assert_true(qmp_client_negotiate(c, &err));
    assert_status(c, "prelaunch", false);
    json_node_unref(qmp_ok(c, "{'execute': 'cont'}"));
    assert_status(c, "running", true);
    json_node_unref(qmp_ok(c, "{'execute': 'quit'}"));
    int code = -1;
    g_assert_true(tern_proc_wait(p, QMP_CLIENT_TIMEOUT_MS, &code));
    g_assert_cmpint(code, ==, 0);
    qmp_client_free(c);
    tern_proc_free(p);
}

static void test_signal(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    tern_proc_signal(vm->proc, SIGTERM);
    GError *err = NULL;
    g_autoptr(JsonObject) ev =
        qmp_client_wait_event(vm->qmp, "SHUTDOWN", QMP_CLIENT_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(json_object_get_string_member(obj(ev, "data"), "reason"), ==,
                    "host-signal");
    int code = -1;
    g_assert_true(tern_proc_wait(vm->proc, QMP_CLIENT_TIMEOUT_MS, &code));
    g_assert_cmpint(code, ==, 0);
    tern_vm_free(vm);
}

/* Send raw text; expect one error reply whose desc contains `desc`. */
static void bad(TernVm *vm, const char *text, const char *cls, const char *desc)
{
    GError *err = NULL;
    g_assert_true(qmp_client_send_raw(vm->qmp, text, strlen(text), &err));
    g_autoptr(JsonObject) reply = qmp_client_read(vm->qmp, QMP_CLIENT_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    qmp_reply_assert_error(reply, cls, desc);
    assert_alive(vm, vm->qmp);
}

static void test_bad_input(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    bad(vm, "{\"execute\": }\n", "GenericError", "JSON parse error, ");
    bad(vm, "nonsense\n", "GenericError", "JSON parse error, ");
    /* Refused at the '/', as QEMU does; the rest of the line is skipped. */
    bad(vm, "{\"execute\": \"stop\" // comment\n", "GenericError",
        "JSON parse error, stray '/'");
    bad(vm, "{\"execute\": \"stop\", \"execute\": \"cont\"}\n", "GenericError",
        "JSON parse error, duplicate key");
    bad(vm, "\x01\n", "GenericError", "JSON parse error, stray byte 0x01");
    bad(vm, "[1, 2]\n", "GenericError", "QMP input must be a JSON object");
    bad(vm, "\"text\"\n", "GenericError", "QMP input must be a JSON object");
    bad(vm, "42\n", "GenericError", "QMP input must be a JSON object");
    bad(vm, "{}\n", "GenericError", "QMP input lacks member 'execute'");
    bad(vm, "{\"execute\": [\"stop\"]}\n", "GenericError",
        "QMP input member 'execute' must be a string");
    bad(vm, "{\"execute\": \"stop\", \"argumnts\": {}}\n", "GenericError",
        "QMP input member 'argumnts' is unexpected");
    bad(vm, "{\"execute\": \"stop\", \"arguments\": 1}\n", "GenericError",
        "QMP input member 'arguments' must be an object");
    bad(vm, "{\"execute\": \"no-such-command\"}\n", "CommandNotFound",
        "The command no-such-command has not been found");
    /* Arguments, checked against the schema. */
    bad(vm, "{\"execute\": \"query-status\", \"arguments\": {\"verbose\": true}}\n",
        "GenericError", "Parameter 'verbose' is unexpected");
    bad(vm, "{\"execute\": \"set_link\", \"arguments\": {\"name\": \"n0\"}}\n", "GenericError",
        "Parameter 'up' is missing");
    bad(vm, "{\"execute\": \"set_link\", \"arguments\": {\"name\": \"n0\", \"up\": \"yes\"}}\n",
        "GenericError", "Invalid parameter type for 'up', expected: boolean");
    bad(vm, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": \"oob\"}}\n",
        "GenericError", "Invalid parameter type for 'enable', expected: array");
    bad(vm, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"fast\"]}}\n",
        "GenericError", "Parameter 'enable[0]' does not accept value 'fast'");
    /* Deep nesting is refused before any parser sees it. */
    GString *deep = g_string_new("{\"execute\": \"stop\", \"id\": ");
    for (int i = 0; i < 5000; i++) {
        g_string_append_c(deep, '[');
    }
    for (int i = 0; i < 5000; i++) {
        g_string_append_c(deep, ']');
    }
    g_string_append(deep, "}\n");
    bad(vm, deep->str, "GenericError", "JSON parse error, nesting depth limit exceeded");
    g_string_free(deep, TRUE);
    tern_vm_free(vm);
}

static void test_framing(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    GError *err = NULL;
    /* Split over lines and writes, two on one line, ids echoed whatever their type. */
    const char *parts[] = {"{\"execute\":", "\n  \"query-name\", \"id\": {\"n\": [1]}",
                           "}{\"execute\": \"query-status\", \"id\": 2}",
                           "\n{'execute': 'query-name', 'id': 'three'}\n"};
    for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
        g_assert_true(qmp_client_send_raw(vm->qmp, parts[i], strlen(parts[i]), &err));
        g_usleep(10000);
    }
    const char *ids[] = {"{\"n\":[1]}", "2", "\"three\""};
    for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autoptr(JsonObject) r = qmp_client_read(vm->qmp, QMP_CLIENT_TIMEOUT_MS, &err);
        g_assert_no_error(err);
        g_assert_true(json_object_has_member(r, "return"));
        g_autofree char *id = json_to_string(json_object_get_member(r, "id"), FALSE);
        g_assert_cmpstr(id, ==, ids[i]);
    }
    /* An error reply echoes the id too. */
    g_autoptr(JsonObject) r = qmp(vm->qmp, "{'execute': 'nope', 'id': 9}");
    g_assert_cmpint(json_object_get_int_member(r, "id"), ==, 9);
    assert_alive(vm, vm->qmp);
    tern_vm_free(vm);
}

static void test_big_lines(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    /* A 1 MiB request is read whole and answered. */
    GString *s = g_string_new("{\"execute\": \"query-status\", \"arguments\": {\"pad\": \"");
    while (s->len < 1024 * 1024) {
        g_string_append(s, "abcdefghijklmnop");
    }
    g_string_append(s, "\"}}\n");
    bad(vm, s->str, "GenericError", "Parameter 'pad' is unexpected");
    /* A 1 MiB line of garbage: one parse error. */
    g_string_truncate(s, 0);
    while (s->len < 1024 * 1024) {
        g_string_append(s, "garbagegarbage");
    }
    g_string_append_c(s, '\n');
    bad(vm, s->str, "GenericError", "JSON parse error, ");
    /* Past the 16 MiB limit: one error, the rest of that value is skipped, and the
     * stream picks up after it. */
    g_string_truncate(s, 0);
    g_string_append(s, "{\"execute\": \"query-status\", \"arguments\": {\"pad\": \"");
    while (s->len < 17 * 1024 * 1024) {
        g_string_append(s, "{}[]{}[]\\\"\\\"{}[]");
    }
    g_string_append(s, "\"}}\n");
    bad(vm, s->str, "GenericError", "JSON parse error, message size limit exceeded");
    g_string_free(s, TRUE);
    tern_vm_free(vm);
}

/* Wait (a bounded while: closes are noticed asynchronously) for tern's fd count. */
static void assert_fds_back_to(TernVm *vm, int expected)
{
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    int n;
    while ((n = tern_proc_count_fds(vm->proc)) != expected &&
           g_get_monotonic_time() < deadline) {
        g_usleep(10000);
    }
    g_assert_cmpint(n, ==, expected);
}

static void test_disconnects(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    GError *err = NULL;
    int baseline = tern_proc_count_fds(vm->proc);
    for (int i = 0; i < 5; i++) {
        /* Mid-message. */
        QmpClient *c = tern_vm_connect(vm);
        g_assert_true(qmp_client_send_raw(c, "{\"execute\": \"qmp_capa", 21, &err));
        qmp_client_free(c);
        /* Mid-command: asks, leaves before the answer. */
        c = tern_vm_connect(vm);
        g_assert_true(qmp_client_negotiate(c, &err));
        const char *req = "{\"execute\": \"query-qmp-schema\"}\n";
        for (int k = 0; k < 20; k++) {
            g_assert_true(qmp_client_send_raw(c, req, strlen(req), &err));
        }
        qmp_client_free(c);
        /* Right after connecting, before reading anything more. */
        c = tern_vm_connect(vm);
        qmp_client_free(c);
    }
    /* A client that sends a file descriptor along (SCM_RIGHTS) is served as usual. */
    QmpClient *c = tern_vm_connect(vm);
    g_assert_true(qmp_client_negotiate(c, &err));
    int fds[2];
    g_assert_cmpint(pipe(fds), ==, 0);
    g_assert_true(qmp_client_send_fd(c, fds[0], "{\"execute\": \"query-name\"}\n", &err));
    g_autoptr(JsonObject) r = qmp_client_read(c, QMP_CLIENT_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    g_assert_true(json_object_has_member(r, "return"));
    /* Passed fds nobody took are closed with the session, as is everything else. */
    g_assert_true(qmp_client_send_fd(c, fds[1], "{\"execute\": \"query", &err));
    close(fds[0]);
    close(fds[1]);
    qmp_client_free(c);
    assert_alive(vm, vm->qmp);
    assert_fds_back_to(vm, baseline);
    tern_vm_free(vm);
}

#define N_CLIENTS 50

static void test_many_clients(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    QmpClient *clients[N_CLIENTS];
    GError *err = NULL;
    for (int i = 0; i < N_CLIENTS; i++) {
        clients[i] = tern_vm_connect(vm);
    }
    /* All ask at once, then all read. */
    for (int i = 0; i < N_CLIENTS; i++) {
        g_autofree char *req =
            g_strdup_printf("{\"execute\": \"qmp_capabilities\", \"id\": %d}\n"
                            "{\"execute\": \"query-status\", \"id\": %d}\n",
                            i, 1000 + i);
        g_assert_true(qmp_client_send_raw(clients[i], req, strlen(req), &err));
    }
    for (int i = 0; i < N_CLIENTS; i++) {
        for (int k = 0; k < 2; k++) {
            g_autoptr(JsonObject) r = qmp_client_read(clients[i], QMP_CLIENT_TIMEOUT_MS, &err);
            g_assert_no_error(err);
            g_assert_true(json_object_has_member(r, "return"));
            g_assert_cmpint(json_object_get_int_member(r, "id"), ==, k * 1000 + i);
        }
    }
    /* One event reaches every one of them. */
    json_node_unref(qmp_ok(vm->qmp, "{'execute': 'cont'}"));
    for (int i = 0; i < N_CLIENTS; i++) {
        g_autoptr(JsonObject) ev =
            qmp_client_wait_event(clients[i], "RESUME", QMP_CLIENT_TIMEOUT_MS, &err);
        g_assert_no_error(err);
    }
    for (int i = 0; i < N_CLIENTS; i++) {
        qmp_client_free(clients[i]);
    }
    assert_alive(vm, vm->qmp);
    tern_vm_free(vm);
}

static void test_tcp_and_several_servers(void)
{
    int port = test_free_tcp_port();
    g_autofree char *args =
        g_strdup_printf(VM_ARGS " -qmp tcp:127.0.0.1:%d,server=on,wait=off", port);
    TernVm *vm = tern_vm_start(args);
    GError *err = NULL;
    QmpClient *t = qmp_client_connect_tcp("127.0.0.1", port, QMP_CLIENT_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    g_assert_true(qmp_client_negotiate(t, &err));
    json_node_unref(qmp_ok(t, "{'execute': 'cont'}"));
    assert_status(vm->qmp, "running", true);
    /* The unix client sees the event caused from the tcp one. */
    assert_event(vm->qmp, "RESUME");
    qmp_client_free(t);
    tern_vm_free(vm);
}

/* tern refuses the spec (a %s in it is a socket path): exit code 1 and a message
 * naming what is wrong. */
static void refused(const char *spec_fmt, const char *message)
{
    TernProc *p = tern_proc_new();
    g_autofree char *path = tern_proc_path(p, "q.sock");
    g_autofree char *spec = g_strdup_printf(spec_fmt, path);
    const char *args[] = {"-machine", "none", "-S", "-display", "none", "-qmp", spec, NULL};
    tern_proc_assert_refused(p, args, message);
    tern_proc_free(p);
}

static void test_server_options(void)
{
    refused("unix:%s,server=off,wait=off", "server=off) is not supported");
    refused("unix:%s", "server=off) is not supported");
    refused("unix:%s,server=on",
            "wait=on (waiting for a client before starting) is not supported");
    refused("unix:%s,server=on,wait=on", "wait=on");
    refused("unix:%s,server=on,wait=off,mode=fast", "unknown option 'mode'");
    refused("unix:%s,server=maybe,wait=off", "'server' must be on or off");
    refused("udp:%s,server=on,wait=off", "unix:PATH");
    refused("tcp:%s,server=on,wait=off", "expected HOST:PORT");
    refused("tcp:127.0.0.1:99999,server=on,wait=off",
            "port '99999' is not a number from 0 to 65535");
    refused("tcp:no-such-host.invalid:4444,server=on,wait=off", "cannot resolve");
    g_autofree char *long_path = g_strdup_printf("unix:/tmp/%0200d,server=on,wait=off", 0);
    refused(long_path, "a unix socket path must be 1 to 107 bytes long");

    /* A TCP port somebody else listens on. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), ==, 0);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    g_assert_cmpint(getsockname(fd, (struct sockaddr *)&sin, &len), ==, 0);
    g_autofree char *busy =
        g_strdup_printf("tcp:127.0.0.1:%d,server=on,wait=off", ntohs(sin.sin_port));
    refused(busy, "cannot listen on 127.0.0.1:");
    close(fd);
}

static void test_unix_socket_file(void)
{
    /* A socket file left behind by a dead process is replaced. */
    TernProc *p = tern_proc_new();
    g_autofree char *path = tern_proc_path(p, "stale.sock");
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
    close(fd);
    g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    g_autofree char *spec = g_strdup_printf("unix:%s,server=on,wait=off", path);
    const char *args[] = {"-machine", "none", "-S", "-display", "none", "-qmp", spec, NULL};
    GError *err = NULL;
    g_assert_true(tern_proc_start(p, args, NULL, &err));
    QmpClient *c = qmp_client_connect_unix(path, QMP_CLIENT_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    g_assert_true(qmp_client_negotiate(c, &err));

    /* A live one is not stolen: a second tern on the same path refuses to start. */
    TernProc *q = tern_proc_new();
    g_assert_true(tern_proc_start(q, args, NULL, &err));
    int code = -1;
    g_assert_true(tern_proc_wait(q, QMP_CLIENT_TIMEOUT_MS, &code));
    g_assert_cmpint(code, ==, 1);
    g_autofree char *out = tern_proc_stderr(q);
    g_assert_nonnull(strstr(out, "another process is listening"));
    tern_proc_free(q);

    g_autofree char *status = qmp_status(c);
    g_assert_cmpstr(status, ==, "prelaunch");
    qmp_client_free(c);
    tern_proc_free(p);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_file_test(tern_proc_binary(), G_FILE_TEST_IS_EXECUTABLE)) {
        g_printerr("test-qmp: %s is missing: build it first (make)\n", tern_proc_binary());
        return 1;
    }
    g_test_add_func("/qmp/greeting", test_greeting);
    g_test_add_func("/qmp/negotiation", test_negotiation);
    g_test_add_func("/qmp/queries", test_queries);
    g_test_add_func("/qmp/stop-cont", test_stop_cont);
    g_test_add_func("/qmp/quit", test_quit);
    g_test_add_func("/qmp/done-when", test_done_when);
    g_test_add_func("/qmp/signal", test_signal);
    g_test_add_func("/qmp/bad-input", test_bad_input);
    g_test_add_func("/qmp/framing", test_framing);
    g_test_add_func("/qmp/big-lines", test_big_lines);
    g_test_add_func("/qmp/disconnects", test_disconnects);
    g_test_add_func("/qmp/many-clients", test_many_clients);
    g_test_add_func("/qmp/tcp-and-several-servers", test_tcp_and_several_servers);
    g_test_add_func("/qmp/server-options", test_server_options);
    g_test_add_func("/qmp/unix-socket-file", test_unix_socket_file);
    return g_test_run();
}
