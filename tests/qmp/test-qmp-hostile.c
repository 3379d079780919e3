/*
 * test-qmp-hostile.c: what hostile QMP clients cannot do to tern, against the real
 * binary: take more than QMP_MAX_CLIENTS sessions, leave memory held after one large
 * message, make it spin on a listener that stays readable when it is out of
 * descriptors, cut a name short with an escaped NUL, or stall the parser with a
 * malformed request (QEMU's qmp-test test_malformed).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "../lib/tern-vm.h"
#include "../lib/test-ports.h"

#define VM_ARGS "-machine none -S"
#define MAX_CLIENTS 64 /* monitor/qmp-server.c */

/* A raw connection to the QMP socket, nothing read yet. */
static int raw_connect(TernVm *vm)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    g_strlcpy(sun.sun_path, vm->qmp_path, sizeof(sun.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* The first line the server sends on fd ("" when it closes or says nothing in 10 s). */
static char *raw_first_line(int fd)
{
    GString *s = g_string_new(NULL);
    char c;
    while (read(fd, &c, 1) == 1 && c != '\n') {
        g_string_append_c(s, c);
    }
    return g_string_free(s, FALSE);
}

static void test_client_cap(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    int fds[MAX_CLIENTS];
    /* vm->qmp is one session already. */
    for (int i = 0; i < MAX_CLIENTS - 1; i++) {
        fds[i] = raw_connect(vm);
        g_autofree char *greeting = raw_first_line(fds[i]);
        g_assert_nonnull(strstr(greeting, "\"QMP\""));
    }
    int extra = raw_connect(vm);
    g_autofree char *refusal = raw_first_line(extra);
    g_assert_nonnull(strstr(refusal, "too many QMP clients (at most 64)"));
    char c;
    g_assert_cmpint(read(extra, &c, 1), ==, 0); /* and closed */
    close(extra);
    /* One leaves: the next one is served. */
    close(fds[0]);
    gint64 deadline = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
    for (;;) {
        int again = raw_connect(vm);
        g_autofree char *line = raw_first_line(again);
        close(again);
        if (strstr(line, "\"QMP\"")) {
            break;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline); /* the close is seen later */
        g_usleep(20000);
    }
    for (int i = 1; i < MAX_CLIENTS - 1; i++) {
        close(fds[i]);
    }
    g_autofree char *err = tern_proc_stderr(vm->proc);
    g_assert_nonnull(strstr(err, "QMP: refusing a client: 64 clients are connected already"));
    g_assert_nonnull(qmp_status(vm->qmp));
    tern_vm_free(vm);
}

static long proc_kib(GPid pid, const char *field)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    const char *at = strstr(text, field);
    g_assert_nonnull(at);
    return strtol(at + strlen(field) + 1, NULL, 10);
}

#define BIG_CLIENTS 12
#define BIG_MESSAGE (15 * 1024 * 1024)

/* Idle clients that each sent one large message hold none of its memory. */
static void test_buffers_shrink(void)
{
    if (getenv("ASAN_OPTIONS")) {
        /* ASan's quarantine keeps freed memory resident on purpose. */
        g_test_skip("resident memory says nothing under AddressSanitizer");
        return;
    }
    TernVm *vm = tern_vm_start(VM_ARGS);
    GString *req = g_string_new("{\"execute\": \"query-status\", \"arguments\": {\"pad\": \"");
    while (req->len < BIG_MESSAGE) {
        g_string_append(req, "abcdefghijklmnop");
    }
    g_string_append(req, "\"}}\n");
    QmpClient *clients[BIG_CLIENTS];
    GError *err = NULL;
    for (int i = 0; i < BIG_CLIENTS; i++) {
        clients[i] = tern_vm_connect(vm);
        g_assert_true(qmp_client_negotiate(clients[i], &err));
        g_assert_true(qmp_client_send_raw(clients[i], req->str, req->len, &err));
        g_autoptr(JsonObject) r = qmp_client_read(clients[i], 60000, &err);
        g_assert_no_error(err);
        qmp_reply_assert_error(r, "GenericError", "Parameter 'pad' is unexpected");
    }
    /* Holding each message's buffer would be 12 x 16 MiB or more. */
    long rss = proc_kib(tern_proc_pid(vm->proc), "VmRSS:");
    g_test_message("resident after %d idle clients sent 15 MiB each: %ld KiB", BIG_CLIENTS,
                   rss);
    g_assert_cmpint(rss, <, 120 * 1024);
    for (int i = 0; i < BIG_CLIENTS; i++) {
        qmp_client_free(clients[i]);
    }
    g_string_free(req, TRUE);
    tern_vm_free(vm);
}

/* CPU time (user + system) of a process, in clock ticks. */
static long proc_ticks(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    const char *p = strrchr(text, ')'); /* the command name may hold spaces */
    g_assert_nonnull(p);
    unsigned long utime = 0, stime = 0;
    g_assert_cmpint(
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime),
        ==, 2);
    return (long)(utime + stime);
}

#define FD_LIMIT 48

/* accept() failing with EMFILE leaves the listener readable: tern must not spin on it,
 * nor log each attempt, and must accept again once a descriptor is free. */
static void test_out_of_descriptors(void)
{
    struct rlimit saved, low;
    g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &saved), ==, 0);
    low = saved;
    low.rlim_cur = FD_LIMIT; /* the child inherits it; this process takes its own back */
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &low), ==, 0);
    TernVm *vm = tern_vm_start(VM_ARGS);
    g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &saved), ==, 0);

    GPid pid = tern_proc_pid(vm->proc);
    int room = FD_LIMIT - tern_proc_count_fds(vm->proc);
    g_assert_cmpint(room, >, 0);
    int n = room + 3; /* the last ones wait in the backlog */
    int *fds = g_new(int, n);
    for (int i = 0; i < n; i++) {
        fds[i] = raw_connect(vm);
    }
    for (int i = 0; i < room; i++) {
        g_autofree char *greeting = raw_first_line(fds[i]);
        g_assert_nonnull(strstr(greeting, "\"QMP\""));
    }
    g_usleep(200000); /* accept() has failed by now */
    long t0 = proc_ticks(pid);
    g_usleep(G_USEC_PER_SEC);
    long busy = proc_ticks(pid) - t0;
    g_test_message("CPU while out of descriptors: %ld ticks in 1 s", busy);
    g_assert_cmpint(busy, <, sysconf(_SC_CLK_TCK) / 4);
    g_autofree char *err = tern_proc_stderr(vm->proc);
    g_assert_nonnull(strstr(err, "QMP: accepting a client failed: "));
    g_assert_cmpuint(strlen(err), <, 1024); /* logged once */

    /* Clients leave: those waiting are served. */
    for (int i = 0; i < 3; i++) {
        close(fds[i]);
    }
    for (int i = room; i < n; i++) {
        g_autofree char *greeting = raw_first_line(fds[i]);
        g_assert_nonnull(strstr(greeting, "\"QMP\""));
    }
    for (int i = 3; i < n; i++) {
        close(fds[i]);
    }
    g_free(fds);
    g_assert_nonnull(qmp_status(vm->qmp));
    tern_vm_free(vm);
}

/* A NUL inside a name ends nothing: the name with it is another name. */
static void test_nul_in_names(void)
{
    g_autofree char *args = g_strdup_printf(VM_ARGS " -netdev socket,id=n0,listen=127.0.0.1:%d",
                                            test_free_tcp_port());
    TernVm *vm = tern_vm_start(args);
    /* In double quotes: json-glib, tern's reader before, read no escapes in '...'. */
    qmp_assert_error(vm->qmp, "DeviceNotFound", NULL,
                     "{\"execute\": \"set_link\", \"arguments\": "
                     "{\"name\": \"n0\\u0000x\", \"up\": false}}");
    json_node_unref(
        qmp_ok(vm->qmp, "{'execute': 'set_link', 'arguments': {'name': 'n0', 'up': false}}"));
    qmp_assert_error(vm->qmp, "CommandNotFound", NULL,
                     "{\"execute\": \"quit\\u0000-not-really\"}");
    tern_proc_assert_alive(vm->proc);
    tern_vm_free(vm);
}

/* Each malformed input is answered at once and the next request is read afresh, as
 * QEMU's tests/qtest/qmp-test.c test_malformed expects. */
static void test_malformed(void)
{
    TernVm *vm = tern_vm_start(VM_ARGS);
    const char *bad[] = {
        "{]\n", "{\xFF", "{\x01", "{'bad \xFF", "{'execute': 'nonexistent', 'id':'\n", "%p"};
    GError *err = NULL;
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_assert_true(qmp_client_send_raw(vm->qmp, bad[i], strlen(bad[i]), &err));
        g_autoptr(JsonObject) r = qmp_client_read(vm->qmp, QMP_CLIENT_TIMEOUT_MS, &err);
        g_assert_no_error(err);
        qmp_reply_assert_error(r, "GenericError", "JSON parse error, ");
        qmp_assert_error(vm->qmp, "CommandNotFound", NULL, "{'execute': 'no-such-cmd'}");
    }
    tern_vm_free(vm);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/qmp-hostile/client-cap", test_client_cap);
    g_test_add_func("/qmp-hostile/buffers-shrink", test_buffers_shrink);
    g_test_add_func("/qmp-hostile/out-of-descriptors", test_out_of_descriptors);
    g_test_add_func("/qmp-hostile/nul-in-names", test_nul_in_names);
    g_test_add_func("/qmp-hostile/malformed", test_malformed);
    return g_test_run();
}
