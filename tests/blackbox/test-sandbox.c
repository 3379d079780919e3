/*
 * test-sandbox.c: `-sandbox` on the real tern binary, with every group denied as libvirt
 * asks for it. The filter is on (the kernel says so in /proc); QMP and a live migration
 * between two sandboxed terns work (their threads are made after the filter);
 * `migrate` to exec:, which would have to fork, is refused with a clear error and tern
 * runs on; `-incoming exec:` is refused at start-up; query-command-line-options offers
 * `sandbox` with QEMU's parameters. What a denied call does to a process is
 * tests/unit/test-sandbox.c's part.
 */
#include <string.h>
#include "../lib/libqtest.h"
#include "../lib/tern-vm.h"

#define SANDBOX                                                                                \
    "-sandbox on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"
#define WAIT_MS 60000

/* The "Seccomp:" mode the kernel reports for pid: 0 none, 2 filter. */
static int seccomp_mode(GPid pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", (int)pid);
    g_autofree char *status = NULL;
    g_assert_true(g_file_get_contents(path, &status, NULL, NULL));
    const char *line = strstr(status, "\nSeccomp:");
    g_assert_nonnull(line);
    return atoi(line + strlen("\nSeccomp:"));
}

static void test_filter_installed(void)
{
    TernVm *vm = tern_vm_start("-machine none " SANDBOX);
    g_assert_cmpint(seccomp_mode(tern_proc_pid(vm->proc)), ==, 2);
    g_autofree char *st = qmp_status(vm->qmp);
    g_assert_cmpstr(st, ==, "running");
    tern_vm_free(vm);

    vm = tern_vm_start("-machine none");
    g_assert_cmpint(seccomp_mode(tern_proc_pid(vm->proc)), ==, 0);
    tern_vm_free(vm);
}

static void test_exec_refused(void)
{
    TernVm *vm = tern_vm_start("-machine none " SANDBOX);
    qmp_assert_error(vm->qmp, "GenericError",
                     "exec: migration starts a process, which -sandbox spawn=deny forbids "
                     "(use tcp:, unix: or fd:)",
                     "{'execute': 'migrate', 'arguments': {'uri': 'exec:cat > /dev/null'}}");
    tern_proc_assert_alive(vm->proc);
    g_autofree char *st = qmp_status(vm->qmp);
    g_assert_cmpstr(st, ==, "running");
    tern_vm_free(vm);

    vm = tern_vm_start("-machine none -incoming defer " SANDBOX);
    qmp_assert_error(vm->qmp, "GenericError", "spawn=deny",
                     "{'execute': 'migrate-incoming', 'arguments': {'uri': 'exec:true'}}");
    tern_proc_assert_alive(vm->proc);
    tern_vm_free(vm);

    /* Without spawn=deny exec: is not refused for the sandbox's sake. */
    vm = tern_vm_start("-machine none -S -sandbox on");
    JsonObject *r =
        qmp(vm->qmp, "{'execute': 'migrate', 'arguments': {'uri': 'exec:cat > /dev/null'}}");
    g_assert_true(json_object_has_member(r, "return"));
    json_object_unref(r);
    tern_vm_free(vm);
}

static void test_incoming_exec_refused(void)
{
    TernProc *p = tern_proc_new();
    tern_proc_start_line(p, "-machine none -display none -incoming exec:cat " SANDBOX);
    int code;
    g_assert_true(tern_proc_wait(p, WAIT_MS, &code));
    g_assert_cmpint(code, ==, 1);
    g_autofree char *err = tern_proc_stderr(p);
    g_assert_nonnull(strstr(err, "spawn=deny forbids"));
    g_assert_cmpint(strchr(err, '\n') - err + 1, ==, strlen(err)); /* one line */
    tern_proc_free(p);
}

static void test_command_line_options(void)
{
    TernVm *vm = tern_vm_start("-machine none");
    JsonNode *r = qmp_ok(vm->qmp, "{'execute': 'query-command-line-options', "
                                  "'arguments': {'option': 'sandbox'}}");
    JsonArray *a = json_node_get_array(r);
    g_assert_cmpuint(json_array_get_length(a), ==, 1);
    JsonObject *info = json_array_get_object_element(a, 0);
    g_assert_cmpstr(json_object_get_string_member(info, "option"), ==, "sandbox");
    JsonArray *params = json_object_get_array_member(info, "parameters");
    static const char *const want[][2] = {{"enable", "boolean"},
                                          {"obsolete", "string"},
                                          {"elevateprivileges", "string"},
                                          {"spawn", "string"},
                                          {"resourcecontrol", "string"}};
    g_assert_cmpuint(json_array_get_length(params), ==, G_N_ELEMENTS(want));
    for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
        JsonObject *p = json_array_get_object_element(params, i);
        g_assert_cmpstr(json_object_get_string_member(p, "name"), ==, want[i][0]);
        g_assert_cmpstr(json_object_get_string_member(p, "type"), ==, want[i][1]);
    }
    json_node_unref(r);
    qmp_assert_error(vm->qmp, "GenericError", "invalid option name: netdev",
                     "{'execute': 'query-command-line-options', "
                     "'arguments': {'option': 'netdev'}}");
    tern_vm_free(vm);
}

static void test_migration_sandboxed(void)
{
    QTestState *src = qtest_init("-machine none -m 8 " SANDBOX);
    g_autofree char *path = tern_proc_path(qtest_proc(src), "mig.sock");
    QTestState *dst = qtest_initf("-machine none -m 8 -incoming unix:%s " SANDBOX, path);
    qtest_writel(src, 0x1000, 0x5a4e5254);
    for (int i = 0; i < 600; i++) { /* until the destination listens */
        JsonNode *r = qmp_ok(qtest_qmp(dst), "{'execute': 'query-migrate'}");
        bool listening = json_object_has_member(json_node_get_object(r), "status");
        json_node_unref(r);
        if (listening) {
            break;
        }
        g_usleep(10000);
    }
    json_node_unref(qmp_ok(qtest_qmp(src),
                           "{'execute': 'migrate', 'arguments': {'uri': 'unix:%s'}}", path));
    gint64 deadline = g_get_monotonic_time() + WAIT_MS * 1000LL;
    g_autofree char *st = NULL;
    while (g_get_monotonic_time() < deadline) {
        g_free(st);
        st = qmp_status(qtest_qmp(dst));
        if (!strcmp(st, "running")) {
            break;
        }
        g_usleep(10000);
    }
    g_assert_cmpstr(st, ==, "running");
    g_assert_cmphex(qtest_readl(dst, 0x1000), ==, 0x5a4e5254);
    g_assert_cmpint(seccomp_mode(tern_proc_pid(qtest_proc(dst))), ==, 2);
    qtest_kill(dst);
    qtest_kill(src);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/filter-installed", test_filter_installed);
    g_test_add_func("/sandbox/exec-refused", test_exec_refused);
    g_test_add_func("/sandbox/incoming-exec-refused", test_incoming_exec_refused);
    g_test_add_func("/sandbox/command-line-options", test_command_line_options);
    g_test_add_func("/sandbox/migration-sandboxed", test_migration_sandboxed);
    return g_test_run();
}
