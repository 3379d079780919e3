/*
 * test-cmdline.c: the real tern binary on good and bad command lines. A bad line exits 1
 * with exactly one line on stderr naming the option; -version and -help exit 0.
 */
#include <glib.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *tern_binary(void)
{
    const char *b = g_getenv("TERN_BINARY");
    return b ? b : "build/tern";
}

/* Run tern with `line` (space-separated); returns the exit status, stdout and stderr. */
static int run_tern(const char *line, char **out, char **err)
{
    g_autofree char *full = g_strconcat(tern_binary(), " ", line, NULL);
    g_auto(GStrv) argv = g_strsplit(full, " ", -1);
    int status = -1;
    GError *e = NULL;
    g_assert_true(
        g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err, &status, &e));
    g_assert_no_error(e);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void test_version(void)
{
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint(run_tern("-version", &out, &err), ==, 0);
    g_assert_true(g_str_has_prefix(out, "tern version "));
}

static void test_help_lists_options(void)
{
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint(run_tern("-help", &out, &err), ==, 0);
    static const char *const opts[] = {
        "-m ",         "-smp",       "-kernel", "-initrd", "-append",    "-machine", "-accel",
        "-enable-kvm", "-S ",        "-netdev", "-device", "-incoming",  "-qmp",     "-serial",
        "-pidfile",    "-no-reboot", "-D ",     "-name",   "-nographic", "-display"};
    for (size_t i = 0; i < G_N_ELEMENTS(opts); i++) {
        g_assert_nonnull(strstr(out, opts[i]));
    }
}

typedef struct {
    const char *line;
    const char *message;
} BadLine;

static const BadLine bad_lines[] = {
    {"-frobnicate", "tern: -frobnicate: unknown or unsupported option (see tern -help)"},
    {"-m 7X", "tern: -m: invalid size '7X' (use e.g. 256, 256M or 1G)"},
    {"-machine none -device no-such-device",
     "tern: -device no-such-device: driver not supported"},
    {"-machine none -netdev user,id=u", "tern: -netdev user: backend type not supported"},
    {"-accel tcg", "tern: -accel: accelerator 'tcg' is not supported"},
    {"-machine none -kernel /nonexistent",
     "tern: -kernel: machine 'none' cannot boot a kernel"},
    {"-machine none -qmp unix:/nonexistent-dir/x.qmp,server=on,wait=off", "tern: -qmp unix:"},
    {"-machine none -pidfile /nonexistent-dir/pid", "tern: -pidfile: "},
    /* Control characters from the command line are shown escaped: a newline must not
     * start a line of its own (a forged log line), nor an escape sequence reach the
     * terminal. */
    {"-m 7\ntern:forged\x1b[31m\t\x7f",
     "tern: -m: invalid size '7\\ntern:forged\\x1b[31m\\t\\x7f'"},
    {"-accel kvm\r", "tern: -accel: unknown accelerator 'kvm\\r'"},
};

static void test_bad_line(gconstpointer data)
{
    const BadLine *b = data;
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint(run_tern(b->line, &out, &err), ==, 1);
    if (!g_str_has_prefix(err, b->message)) {
        g_test_message("'%s': stderr '%s', expected to start with '%s'", b->line, err,
                       b->message);
        g_test_fail();
    }
    /* exactly one line */
    char *nl = strchr(err, '\n');
    g_assert_nonnull(nl);
    g_assert_cmpstr(nl + 1, ==, "");
}

/* -machine none runs with no guest; a signal ends it with exit 0 and removes the pidfile. */
static void test_runs_and_exits_on_signal(void)
{
    g_autofree char *dir = g_dir_make_tmp("tern-cmdline-XXXXXX", NULL);
    g_autofree char *pidfile = g_build_filename(dir, "tern.pid", NULL);
    const char *argv[] = {tern_binary(), "-machine", "none",     "-display", "none", "-S",
                          "-name",       "t",        "-pidfile", pidfile,    NULL};
    GPid pid;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                NULL, &pid, NULL));
    g_autofree char *contents = NULL;
    for (int i = 0; i < 200 && !g_file_get_contents(pidfile, &contents, NULL, NULL); i++) {
        g_usleep(10000);
    }
    g_assert_nonnull(contents);
    g_assert_cmpint(atoi(contents), ==, pid);
    kill(pid, SIGTERM);
    int status;
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    g_assert_false(g_file_test(pidfile, G_FILE_TEST_EXISTS));
    rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/cmdline/version", test_version);
    g_test_add_func("/cmdline/help", test_help_lists_options);
    g_test_add_func("/cmdline/runs-and-exits-on-signal", test_runs_and_exits_on_signal);
    for (size_t i = 0; i < G_N_ELEMENTS(bad_lines); i++) {
        g_autofree char *path = g_strdup_printf("/cmdline/bad/%zu", i);
        g_test_add_data_func(path, &bad_lines[i], test_bad_line);
    }
    return g_test_run();
}
