/*
 * transport.c: the migration URIs (tcp, unix, fd, exec), outgoing and incoming; fd:NAME
 * takes a descriptor passed with QMP getfd (monitor/qmp-fds.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "error.h"
#include "inherited-fds.h"
#include "main-loop.h"
#include "migration/transport.h"
#include "monitor/fds.h"
#include "monitor/qmp.h"
#include "sandbox.h"
#include "sockaddr.h"

typedef enum { URI_TCP, URI_UNIX, URI_FD, URI_EXEC } UriKind;

typedef struct {
    UriKind kind;
    SockAddr addr; /* tcp, unix */
    char *path;    /* fd name, exec command */
} Uri;

static void uri_clear(Uri *u)
{
    sockaddr_clear(&u->addr);
    g_free(u->path);
}

static bool uri_parse(const char *uri, Uri *u, GError **errp)
{
    memset(u, 0, sizeof(*u));
    if (g_str_has_prefix(uri, "tcp:") || g_str_has_prefix(uri, "unix:")) {
        if (g_str_has_prefix(uri, "tcp:") && strchr(uri, ',')) {
            return tern_error_fail(errp, "'%s': expected tcp:HOST:PORT", uri);
        }
        u->kind = g_str_has_prefix(uri, "tcp:") ? URI_TCP : URI_UNIX;
        return sockaddr_parse(uri, &u->addr, errp);
    }
    static const struct {
        const char *prefix;
        UriKind kind;
    } simple[] = {{"fd:", URI_FD}, {"exec:", URI_EXEC}};
    for (size_t i = 0; i < G_N_ELEMENTS(simple); i++) {
        if (g_str_has_prefix(uri, simple[i].prefix)) {
            u->kind = simple[i].kind;
            u->path = g_strdup(uri + strlen(simple[i].prefix));
            if (!*u->path) {
                uri_clear(u);
                return tern_error_fail(errp, "'%s': nothing after '%s'", uri, simple[i].prefix);
            }
            return true;
        }
    }
    return tern_error_fail(
        errp, "unknown migration protocol: %s (use tcp:, unix:, fd: or exec:)", uri);
}

bool transport_check_uri(const char *uri, bool incoming, GError **errp)
{
    Uri u;
    if (!uri_parse(uri, &u, errp)) {
        return false;
    }
    bool ok = true;
    if (u.kind == URI_FD && !(incoming && g_ascii_isdigit(u.path[0])) &&
        !monitor_fd_exists(u.path)) {
        ok = tern_error_fail(errp, "File descriptor named '%s' not found", u.path);
    }
    /* The filter would kill tern at the fork: say so instead (QEMU just dies). */
    if (u.kind == URI_EXEC && sandbox_denies(SANDBOX_SPAWN)) {
        ok = tern_error_fail(errp, "exec: migration starts a process, which -sandbox "
                                   "spawn=deny forbids (use tcp:, unix: or fd:)");
    }
    uri_clear(&u);
    return ok;
}

/* ---- sockets --------------------------------------------------------------------- */

bool transport_is_socket(int fd)
{
    int type;
    socklen_t len = sizeof(type);
    return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
}

/* Non-blocking connect that gives up when cancel_fd becomes readable. */
static int connect_cancellable(int family, const struct sockaddr *sa, socklen_t len,
                               int cancel_fd, GError **errp)
{
    int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        tern_error_fail(errp, "socket: %s", g_strerror(errno));
        return -1;
    }
    if (connect(fd, sa, len) == 0) {
        return fd;
    }
    if (errno != EINPROGRESS) {
        tern_error_fail(errp, "%s", g_strerror(errno));
        close(fd);
        return -1;
    }
    struct pollfd p[2] = {{.fd = fd, .events = POLLOUT}, {.fd = cancel_fd, .events = POLLIN}};
    for (;;) {
        int n = poll(p, cancel_fd >= 0 ? 2 : 1, -1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n > 0 && cancel_fd >= 0 && (p[1].revents & POLLIN)) {
            tern_error_fail(errp, "cancelled");
            close(fd);
            return -1;
        }
        break;
    }
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr) {
        tern_error_fail(errp, "%s", g_strerror(soerr));
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- exec ------------------------------------------------------------------------ */

static bool exec_spawn(const char *cmd, bool outgoing, MigConn *out, GError **errp)
{
    const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    int fd = -1;
    GError *err = NULL;
    GSpawnFlags flags = G_SPAWN_DO_NOT_REAP_CHILD | (outgoing ? G_SPAWN_STDOUT_TO_DEV_NULL : 0);
    if (!g_spawn_async_with_pipes(NULL, (char **)argv, NULL, flags, NULL, NULL, &out->child,
                                  outgoing ? &fd : NULL, outgoing ? NULL : &fd, NULL, &err)) {
        tern_error_fail(errp, "exec:%s: %s", cmd, err->message);
        g_error_free(err);
        return false;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    out->fd = fd;
    out->bidirectional = false;
    return true;
}

/* How long a command asked to end (SIGTERM) may take before it is killed (SIGKILL). */
#define EXEC_TERM_GRACE_MS 1000

typedef enum { REAP_DONE, REAP_TIMEOUT, REAP_CANCELLED } ReapResult;

/* Reap the child within timeout_ms (-1: no limit) unless cancel_fd becomes readable
 * first. Sleeps in short slices: a child has no descriptor to poll together with the
 * cancel eventfd. */
static ReapResult child_reap(GPid pid, int *status, int cancel_fd, int timeout_ms)
{
    int64_t deadline =
        timeout_ms < 0 ? INT64_MAX : g_get_monotonic_time() + timeout_ms * 1000LL;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) {
            return REAP_DONE;
        }
        if (r < 0 && errno != EINTR) {
            *status = W_EXITCODE(255, 0); /* not ours to wait for any more */
            return REAP_DONE;
        }
        int64_t left_us = deadline - g_get_monotonic_time();
        if (left_us <= 0) {
            return REAP_TIMEOUT;
        }
        struct pollfd p = {.fd = cancel_fd, .events = POLLIN};
        if (poll(&p, cancel_fd >= 0 ? 1 : 0, (int)MIN(10, (left_us + 999) / 1000)) > 0) {
            return REAP_CANCELLED;
        }
    }
}

/* SIGTERM, and SIGKILL for a command that ignores it: quit and migrate_cancel wait for
 * this, with the source's VM stopped, so it must end within a bound. */
static void child_kill(GPid pid)
{
    int status;
    kill(pid, SIGTERM);
    if (child_reap(pid, &status, -1, EXEC_TERM_GRACE_MS) == REAP_DONE) {
        return;
    }
    g_warning("exec: command (pid %d) ignored SIGTERM for %d ms: killing it", (int)pid,
              EXEC_TERM_GRACE_MS);
    kill(pid, SIGKILL);
    if (child_reap(pid, &status, -1, EXEC_TERM_GRACE_MS) != REAP_DONE) {
        g_warning("exec: command (pid %d) survived SIGKILL: not waiting for it", (int)pid);
    }
}

bool transport_close(MigConn *c, bool kill_child, int cancel_fd, int timeout_ms, GError **errp)
{
    bool ok = true;
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    if (c->child > 0) {
        int status = 0;
        ReapResult r =
            kill_child ? REAP_CANCELLED : child_reap(c->child, &status, cancel_fd, timeout_ms);
        if (r != REAP_DONE) {
            child_kill(c->child);
        }
        if (r == REAP_TIMEOUT) {
            ok = tern_error_fail(errp,
                                 "the exec: command did not exit within %d ms after "
                                 "the end of the stream",
                                 timeout_ms);
        } else if (r == REAP_CANCELLED && !kill_child) {
            ok = tern_error_fail(errp, "cancelled while waiting for the exec: command");
        } else if (r == REAP_DONE && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
            ok = tern_error_fail(errp, "the exec: command %s %d",
                                 WIFEXITED(status) ? "exited with status"
                                                   : "was killed by signal",
                                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        }
        c->child = 0;
    }
    return ok;
}

/* ---- outgoing -------------------------------------------------------------------- */

bool transport_connect(const char *uri, int cancel_fd, MigConn *out, GError **errp)
{
    Uri u;
    *out = (MigConn){.fd = -1};
    if (!uri_parse(uri, &u, errp)) {
        return false;
    }
    bool ok = false;
    switch (u.kind) {
    case URI_TCP: {
        struct addrinfo *res = sockaddr_resolve(&u.addr, false, errp);
        GError *last = NULL;
        for (struct addrinfo *a = res; a && out->fd < 0; a = a->ai_next) {
            g_clear_error(&last);
            out->fd =
                connect_cancellable(a->ai_family, a->ai_addr, a->ai_addrlen, cancel_fd, &last);
        }
        if (res) {
            freeaddrinfo(res);
            if (out->fd < 0) {
                g_autofree char *name = sockaddr_to_string(&u.addr);
                tern_error_fail(errp, "Failed to connect to '%s': %s", name,
                                last ? last->message : "no address");
            }
        }
        g_clear_error(&last);
        ok = out->fd >= 0;
        break;
    }
    case URI_UNIX: {
        struct sockaddr_un sa;
        GError *err = NULL;
        sockaddr_unix(&u.addr, &sa);
        out->fd =
            connect_cancellable(AF_UNIX, (struct sockaddr *)&sa, sizeof(sa), cancel_fd, &err);
        if (out->fd < 0) {
            tern_error_fail(errp, "Failed to connect to '%s': %s", u.addr.path, err->message);
            g_error_free(err);
        }
        ok = out->fd >= 0;
        break;
    }
    case URI_EXEC:
        ok = exec_spawn(u.path, true, out, errp);
        break;
    case URI_FD:
        ok = tern_error_fail(errp, "fd: is resolved when the migration starts");
        break;
    }
    if (ok && u.kind != URI_EXEC) {
        out->bidirectional = transport_is_socket(out->fd);
    }
    uri_clear(&u);
    return ok;
}

/* ---- incoming -------------------------------------------------------------------- */

struct TransportListener {
    int fd;
    char *unix_path; /* to unlink */
    guint watch;
    guint idle;
    MigConn pending; /* fd, exec: opened at once, handed over from an idle callback */
    TransportAcceptFn *cb;
    void *opaque;
};

static void listener_stop(TransportListener *l)
{
    if (l->watch) {
        g_source_remove(l->watch);
        l->watch = 0;
    }
    if (l->fd >= 0) {
        close(l->fd);
        l->fd = -1;
    }
    if (l->unix_path) {
        unlink(l->unix_path);
        g_clear_pointer(&l->unix_path, g_free);
    }
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer opaque)
{
    TransportListener *l = opaque;
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
        return errno == EAGAIN || errno == EINTR ? G_SOURCE_CONTINUE : G_SOURCE_CONTINUE;
    }
    /* QEMU takes one connection; the listener goes away once it has it. */
    l->watch = 0;
    listener_stop(l);
    MigConn conn = {.fd = c, .bidirectional = true};
    l->cb(&conn, l->opaque);
    return G_SOURCE_REMOVE;
}

static gboolean on_ready(gpointer opaque)
{
    TransportListener *l = opaque;
    l->idle = 0;
    MigConn conn = l->pending;
    l->pending = (MigConn){.fd = -1};
    l->cb(&conn, l->opaque);
    return G_SOURCE_REMOVE;
}

TransportListener *transport_listen(const char *uri, TransportAcceptFn *cb, void *opaque,
                                    GError **errp)
{
    Uri u;
    if (!uri_parse(uri, &u, errp)) {
        return NULL;
    }
    TransportListener *l = g_new0(TransportListener, 1);
    l->fd = -1;
    l->pending.fd = -1;
    l->cb = cb;
    l->opaque = opaque;
    bool ok = false;
    GError *err = NULL;
    switch (u.kind) {
    case URI_TCP:
    case URI_UNIX:
        if (u.kind == URI_UNIX) {
            unlink(u.addr.path);
        }
        l->fd = sockaddr_listen(&u.addr, 1, &err);
        if (l->fd < 0) {
            tern_error_fail(errp, "Failed to bind socket: %s", err->message);
        } else {
            g_unix_set_fd_nonblocking(l->fd, TRUE, NULL);
            l->unix_path = g_strdup(u.addr.path);
        }
        ok = l->fd >= 0;
        break;
    case URI_FD: {
        int fd;
        if (g_ascii_isdigit(u.path[0])) {
            guint64 n;
            fd = -1;
            if (!g_ascii_string_to_unsigned(u.path, 10, 0, G_MAXINT, &n, NULL)) {
                tern_error_fail(errp, "fd:%s: not a file descriptor number", u.path);
            } else if (inherited_fd_claim((int)n, errp)) {
                fd = (int)n;
            } else {
                g_prefix_error(errp, "fd:%s: ", u.path);
            }
        } else {
            fd = monitor_fd_take(u.path, errp);
        }
        if (fd >= 0) {
            l->pending = (MigConn){.fd = fd, .bidirectional = transport_is_socket(fd)};
            ok = true;
        }
        break;
    }
    case URI_EXEC:
        ok = exec_spawn(u.path, false, &l->pending, errp);
        break;
    }
    g_clear_error(&err);
    uri_clear(&u);
    if (!ok) {
        transport_listener_free(l);
        return NULL;
    }
    if (l->fd >= 0) {
        l->watch = g_unix_fd_add_full(G_PRIORITY_DEFAULT, l->fd, G_IO_IN, on_accept, l, NULL);
    } else {
        l->idle = g_idle_add(on_ready, l);
    }
    return l;
}

void transport_listener_free(TransportListener *l)
{
    if (!l) {
        return;
    }
    listener_stop(l);
    if (l->idle) {
        g_source_remove(l->idle);
    }
    if (l->pending.fd >= 0 || l->pending.child) {
        transport_close(&l->pending, true, -1, 0, NULL);
    }
    g_free(l);
}
