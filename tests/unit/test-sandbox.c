/*
 * test-sandbox.c: -sandbox's parsing (QEMU's defaults for `on`, every group, refusals)
 * and its filter, each time in a child process that installs the filter and then makes
 * one system call: a denied one must kill the child with SIGSYS (or fail with EPERM for
 * resourcecontrol), an allowed one (a thread, a setuid without elevateprivileges=deny)
 * must work. The child is a plain fork() of this test, made before any filter exists.
 */
#include <errno.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sandbox.h"

static unsigned parse_ok(const char *arg)
{
    unsigned groups = 0xdead;
    GError *err = NULL;
    g_assert_true(sandbox_parse(arg, &groups, &err));
    g_assert_no_error(err);
    return groups;
}

static void test_parse(void)
{
    g_assert_cmphex(parse_ok("off"), ==, 0);
    g_assert_cmphex(parse_ok("off,spawn=deny"), ==, 0);
    g_assert_cmphex(parse_ok("on"), ==, SANDBOX_DEFAULT | SANDBOX_OBSOLETE);
    g_assert_cmphex(parse_ok("on,obsolete=allow"), ==, SANDBOX_DEFAULT);
    g_assert_cmphex(parse_ok("on,obsolete=deny,elevateprivileges=deny,spawn=deny,"
                             "resourcecontrol=deny"),
                    ==,
                    SANDBOX_DEFAULT | SANDBOX_OBSOLETE | SANDBOX_PRIVILEGED | SANDBOX_SPAWN |
                        SANDBOX_RESOURCECTL);
    g_assert_cmphex(parse_ok("enable=on,elevateprivileges=children"), ==,
                    SANDBOX_DEFAULT | SANDBOX_OBSOLETE | SANDBOX_PRIVILEGED |
                        SANDBOX_NO_NEW_PRIVS);
    static const char *const bad[][2] = {
        {"maybe", "expected on or off"},
        {"on,spawn=maybe", "invalid argument for spawn"},
        {"on,elevateprivileges=sometimes", "invalid argument for elevateprivileges"},
        {"on,frobnicate=deny", "'frobnicate' is not supported"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        unsigned groups = 0;
        GError *err = NULL;
        g_assert_false(sandbox_parse(bad[i][0], &groups, &err));
        g_assert_nonnull(strstr(err->message, bad[i][1]));
        g_error_free(err);
    }
}

typedef int ChildFunc(void);

/* Fork; the child installs `groups` and returns what `fn` returns as its exit code.
 * Returns the child's exit code, or 128 + the signal that killed it. */
static int in_sandbox(unsigned groups, ChildFunc *fn)
{
    pid_t pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        GError *err = NULL;
        sandbox_configure(groups);
        if (!sandbox_install(&err)) {
            _exit(99);
        }
        _exit(fn());
    }
    int status;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int do_fork(void)
{
    pid_t pid = fork();
    if (pid == 0) {
        _exit(0);
    }
    return pid > 0 ? 0 : 1;
}

static int do_exec(void)
{
    execl("/bin/true", "true", NULL);
    return 1;
}

static gpointer thread_body(gpointer data)
{
    return data;
}

static int do_thread(void)
{
    GThread *t = g_thread_new("sandboxed", thread_body, GINT_TO_POINTER(42));
    return GPOINTER_TO_INT(g_thread_join(t)) == 42 ? 0 : 1;
}

static int do_setuid(void)
{
    return setuid(getuid()) == 0 ? 0 : 1;
}

static int do_umount(void)
{
    umount2("/nonexistent-tern-sandbox", 0);
    return 0;
}

static int do_setpriority(void)
{
    return setpriority(PRIO_PROCESS, 0, 0) == -1 && errno == EPERM ? 0 : 1;
}

static const unsigned all_groups = SANDBOX_DEFAULT | SANDBOX_OBSOLETE | SANDBOX_PRIVILEGED |
                                   SANDBOX_SPAWN | SANDBOX_RESOURCECTL;

static void test_spawn_denied(void)
{
    g_assert_cmpint(in_sandbox(all_groups, do_fork), ==, 128 + SIGSYS);
    g_assert_cmpint(in_sandbox(all_groups, do_exec), ==, 128 + SIGSYS);
    /* Without spawn=deny both work. */
    g_assert_cmpint(in_sandbox(SANDBOX_DEFAULT | SANDBOX_OBSOLETE, do_fork), ==, 0);
    g_assert_cmpint(in_sandbox(SANDBOX_DEFAULT | SANDBOX_OBSOLETE, do_exec), ==, 0);
}

static void test_threads_allowed(void)
{
    /* vCPU, migration and GLib threads are made after the filter is on. */
    g_assert_cmpint(in_sandbox(all_groups, do_thread), ==, 0);
}

static void test_privileges(void)
{
    g_assert_cmpint(in_sandbox(all_groups, do_setuid), ==, 128 + SIGSYS);
    g_assert_cmpint(in_sandbox(SANDBOX_DEFAULT | SANDBOX_OBSOLETE, do_setuid), ==, 0);
}

static void test_default_set(void)
{
    g_assert_cmpint(in_sandbox(SANDBOX_DEFAULT, do_umount), ==, 128 + SIGSYS);
    g_assert_cmpint(in_sandbox(0, do_umount), ==, 0);
}

static void test_resourcecontrol(void)
{
    g_assert_cmpint(in_sandbox(all_groups, do_setpriority), ==, 0);
    g_assert_cmpint(in_sandbox(SANDBOX_DEFAULT, do_setpriority), ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox/parse", test_parse);
    g_test_add_func("/sandbox/spawn-denied", test_spawn_denied);
    g_test_add_func("/sandbox/threads-allowed", test_threads_allowed);
    g_test_add_func("/sandbox/privileges", test_privileges);
    g_test_add_func("/sandbox/default-set", test_default_set);
    g_test_add_func("/sandbox/resourcecontrol", test_resourcecontrol);
    return g_test_run();
}
