/* tern-proc.c: run the tern binary as a test's child (see tern-proc.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include "tern-proc.h"

struct TernProc {
    char *dir;
    char *stderr_path;
    GPid pid;   /* 0: not started or reaped */
    int status; /* wait status once reaped */
    bool reaped;
    int stdin_fd; /* our end of the stdin pipe, or -1 */
    bool quiet;
};

/*
 * The live children, so that a test that dies of a failed assertion (SIGABRT) still
 * shows what tern said: the handler prints their stderr, then lets the abort proceed.
 */
#define MAX_LIVE 256
static struct {
    TernProc *procs[MAX_LIVE];
    bool handler_installed;
} live;

static void write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n <= 0) {
            return;
        }
        buf += n;
        len -= n;
    }
}

/* Async-signal-safe: open, read, write only. */
static void dump_children_on_abort(int sig)
{
    static const char head[] = "---- stderr of a tern started by this test ----\n";
    for (int i = 0; i < MAX_LIVE; i++) {
        TernProc *p = live.procs[i];
        int fd = p && p->pid ? open(p->stderr_path, O_RDONLY) : -1;
        if (fd < 0) {
            continue;
        }
        write_all(2, head, sizeof(head) - 1);
        char buf[4096];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
            write_all(2, buf, n);
        }
        close(fd);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void live_add(TernProc *p)
{
    if (!live.handler_installed) {
        signal(SIGABRT, dump_children_on_abort);
        live.handler_installed = true;
    }
    for (int i = 0; i < MAX_LIVE; i++) {
        if (!live.procs[i]) {
            live.procs[i] = p;
            return;
        }
    }
}

static void live_remove(TernProc *p)
{
    for (int i = 0; i < MAX_LIVE; i++) {
        if (live.procs[i] == p) {
            live.procs[i] = NULL;
        }
    }
}

const char *tern_proc_binary(void)
{
    static char *binary;
    if (!binary) {
        const char *env = g_getenv("TERN_BINARY");
        char *path = env ? g_strdup(env)
                         : g_build_filename(g_getenv("BUILD") ? g_getenv("BUILD") : "build",
                                            "tern", NULL);
        binary = g_canonicalize_filename(path, NULL);
        g_free(path);
    }
    return binary;
}

TernProc *tern_proc_new(void)
{
    TernProc *p = g_new0(TernProc, 1);
    GError *err = NULL;
    p->dir = g_dir_make_tmp("tern-test-XXXXXX", &err);
    g_assert_no_error(err);
    p->stdin_fd = -1;
    p->stderr_path = tern_proc_path(p, "stderr.log");
    live_add(p);
    return p;
}

const char *tern_proc_dir(TernProc *p)
{
    return p->dir;
}

char *tern_proc_path(TernProc *p, const char *name)
{
    return g_build_filename(p->dir, name, NULL);
}

GPid tern_proc_pid(TernProc *p)
{
    return p->pid;
}

int tern_proc_count_fds(TernProc *p)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/fd", (int)p->pid);
    GDir *d = g_dir_open(path, 0, NULL);
    g_assert_nonnull(d);
    int n = 0;
    while (g_dir_read_name(d)) {
        n++;
    }
    g_dir_close(d);
    return n;
}

int tern_proc_stdin_fd(TernProc *p)
{
    return p->stdin_fd;
}

/* In the child, between fork and exec. */
static void child_setup(void *parent_pid)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != GPOINTER_TO_INT(parent_pid)) {
        _exit(127); /* the test died before we got here */
    }
}

static int open_log(TernProc *p, const char *name)
{
    if (p->quiet) {
        return open("/dev/null", O_WRONLY | O_CLOEXEC);
    }
    char *path = tern_proc_path(p, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    g_free(path);
    return fd;
}

bool tern_proc_start(TernProc *p, const char *const *args, const TernProcOptions *opts,
                     GError **errp)
{
    g_assert(!p->pid);
    p->quiet = opts && opts->quiet;
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)tern_proc_binary());
    for (const char *const *a = args; a && *a; a++) {
        g_ptr_array_add(argv, (char *)*a);
    }
    g_ptr_array_add(argv, NULL);

    int in_pipe[2] = {-1, -1};
    int in_fd;
    if (opts && opts->stdin_pipe) {
        bool piped = g_unix_open_pipe(in_pipe, FD_CLOEXEC, NULL);
        g_assert_true(piped);
        in_fd = in_pipe[0];
        p->stdin_fd = in_pipe[1];
    } else {
        in_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    }
    int out_fd = open_log(p, "stdout.log");
    int err_fd = open_log(p, "stderr.log");
    bool ok = g_spawn_async_with_pipes_and_fds(
        p->dir, (const char *const *)argv->pdata, NULL, G_SPAWN_DO_NOT_REAP_CHILD, child_setup,
        GINT_TO_POINTER(getpid()), in_fd, out_fd, err_fd, opts ? opts->inherit_fds : NULL,
        opts ? opts->inherit_fds : NULL, opts ? opts->n_inherit_fds : 0, &p->pid, NULL, NULL,
        NULL, errp);
    close(in_fd);
    close(out_fd);
    close(err_fd);
    g_ptr_array_unref(argv);
    if (!ok) {
        p->pid = 0;
    }
    return ok;
}

void tern_proc_start_line(TernProc *p, const char *line)
{
    char **args = NULL;
    GError *err = NULL;
    g_assert(g_shell_parse_argv(line, NULL, &args, &err));
    tern_proc_start(p, (const char *const *)args, NULL, &err);
    g_assert_no_error(err);
    g_strfreev(args);
}

static bool reap(TernProc *p, bool block)
{
    if (!p->pid || p->reaped) {
        return p->reaped;
    }
    int status;
    pid_t r;
    do {
        r = waitpid(p->pid, &status, block ? 0 : WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == p->pid) {
        p->reaped = true;
        p->status = status;
    }
    return p->reaped;
}

bool tern_proc_alive(TernProc *p)
{
    return p->pid && !reap(p, false);
}

bool tern_proc_wait(TernProc *p, int timeout_ms, int *code)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    while (!reap(p, false)) {
        if (!p->pid || g_get_monotonic_time() >= deadline) {
            return false;
        }
        g_usleep(2000);
    }
    if (code) {
        *code = WIFEXITED(p->status) ? WEXITSTATUS(p->status) : 128 + WTERMSIG(p->status);
    }
    return true;
}

void tern_proc_signal(TernProc *p, int sig)
{
    if (tern_proc_alive(p)) {
        kill(p->pid, sig);
    }
}

void tern_proc_kill(TernProc *p)
{
    if (tern_proc_alive(p)) {
        kill(p->pid, SIGKILL);
        reap(p, true);
    }
}

static char *read_log(TernProc *p, const char *name)
{
    char *path = tern_proc_path(p, name);
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        text = g_strdup("");
    }
    g_free(path);
    return text;
}

char *tern_proc_stdout(TernProc *p)
{
    return read_log(p, "stdout.log");
}

char *tern_proc_stderr(TernProc *p)
{
    return read_log(p, "stderr.log");
}

static void remove_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
            !g_file_test(child, G_FILE_TEST_IS_SYMLINK)) {
            remove_tree(child);
        } else {
            g_unlink(child);
        }
        g_free(child);
    }
    if (d) {
        g_dir_close(d);
    }
    g_rmdir(path);
}

void tern_proc_free(TernProc *p)
{
    if (!p) {
        return;
    }
    live_remove(p);
    tern_proc_kill(p);
    if (g_test_failed() && p->pid) {
        char *err = tern_proc_stderr(p);
        if (*err) {
            g_printerr("---- stderr of tern (pid %d) ----\n%s----\n", (int)p->pid, err);
        }
        g_free(err);
    }
    if (p->stdin_fd >= 0) {
        close(p->stdin_fd);
    }
    remove_tree(p->dir);
    g_free(p->dir);
    g_free(p->stderr_path);
    g_free(p);
}

void tern_proc_assert_refused(TernProc *p, const char *const *args, const char *message)
{
    GError *err = NULL;
    int code = -1;
    g_assert_true(tern_proc_start(p, args, NULL, &err));
    g_assert_true(tern_proc_wait(p, 30000, &code));
    g_assert_cmpint(code, ==, 1);
    g_autofree char *out = tern_proc_stderr(p);
    if (!strstr(out, message)) {
        g_autofree char *joined = g_strjoinv(" ", (char **)args);
        g_autofree char *msg =
            g_strdup_printf("'%s': stderr \"%s\" does not say \"%s\"", joined, out, message);
        g_assertion_message(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
    }
}
