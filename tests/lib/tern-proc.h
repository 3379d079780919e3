/*
 * tern-proc.h: run the real tern binary as a child of a test, and always clean it up.
 *
 * Each TernProc has a private working directory (sockets, pidfiles and the child's
 * stdout.log / stderr.log live there) that tern_proc_free() removes. The binary is
 * $TERN_BINARY, else $BUILD/tern, else build/tern.
 *
 * Cleanup does not depend on the test reaching its teardown: the child asks the kernel
 * to SIGKILL it when the test process dies (PR_SET_PDEATHSIG), so a failed assertion,
 * which aborts the test, cannot leave a tern behind. (The signal follows the thread that
 * started the child: start children from the test's main thread.) On such an abort the
 * stderr of every child still registered is printed first, to show why.
 */
#ifndef TERN_TESTS_PROC_H
#define TERN_TESTS_PROC_H

#include <glib.h>
#include <stdbool.h>

typedef struct TernProc TernProc;

typedef struct {
    bool stdin_pipe; /* stdin is a pipe (tern_proc_stdin_fd); default /dev/null */
    bool quiet;      /* stdout and stderr to /dev/null instead of the log files */
    /* File descriptors the child inherits at the same numbers (e.g. `-netdev socket,fd=N`
     * over a socketpair); the caller keeps and closes its own copies. */
    const int *inherit_fds;
    unsigned n_inherit_fds;
} TernProcOptions;

/* A new, not yet started process with its own temporary directory. */
TernProc *tern_proc_new(void);
/* Stop the child (SIGKILL) if it still runs, reap it, remove the directory. When the
 * test has failed, the child's stderr is shown first. NULL is fine. */
void tern_proc_free(TernProc *p);

const char *tern_proc_dir(TernProc *p);
/* A path in the process's directory (caller frees). */
char *tern_proc_path(TernProc *p, const char *name);
/* The binary that tern_proc_start runs (absolute path). */
const char *tern_proc_binary(void);

/* Start the binary with `args` (NULL-terminated, argv[0] excluded) in the directory. */
bool tern_proc_start(TernProc *p, const char *const *args, const TernProcOptions *opts,
                     GError **errp);
/* The same with args from a shell-like string ("-machine none -S"); asserts success. */
void tern_proc_start_line(TernProc *p, const char *line);

GPid tern_proc_pid(TernProc *p);
/* How many file descriptors the child has open now (from /proc). */
int tern_proc_count_fds(TernProc *p);
int tern_proc_stdin_fd(TernProc *p);
/* True while the child runs (reaps it once it has exited). */
bool tern_proc_alive(TernProc *p);
/* Wait up to timeout_ms for the child to exit. Returns true when it did, with its exit
 * code in *code (128 + signal number when a signal killed it). */
bool tern_proc_wait(TernProc *p, int timeout_ms, int *code);
/* Send a signal (nothing if the child is gone). */
void tern_proc_signal(TernProc *p, int sig);
/* SIGKILL and reap. */
void tern_proc_kill(TernProc *p);
/* What the child wrote so far (caller frees; "" when quiet). */
char *tern_proc_stdout(TernProc *p);
char *tern_proc_stderr(TernProc *p);

/* Start the binary with `args`, which it must refuse: assert that it exits with code 1
 * within 30 s and that its stderr contains `message` (else the stderr is in the failure). */
void tern_proc_assert_refused(TernProc *p, const char *const *args, const char *message);

/* Assert the child still runs; on failure, its stderr is part of the message. */
#define tern_proc_assert_alive(p)                                                              \
    do {                                                                                       \
        if (!tern_proc_alive(p)) {                                                             \
            g_autofree char *err_ = tern_proc_stderr(p);                                       \
            g_autofree char *msg_ = g_strdup_printf(                                           \
                "tern (pid %d) is not running; its stderr:\n%s", (int)tern_proc_pid(p), err_); \
            g_assertion_message(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg_);            \
        }                                                                                      \
    } while (0)

#endif
