/*
 * transport.h: where a migration stream goes and comes from, QEMU's URIs:
 *   tcp:HOST:PORT   (HOST may be empty or 0 to listen on every address; [v6] accepted)
 *   unix:PATH
 *   fd:NAME         (outgoing: a descriptor passed earlier with QMP getfd;
 *                    incoming: a descriptor number tern inherited, or a getfd name)
 *   exec:CMD        (sh -c CMD; outgoing writes to its stdin, incoming reads its stdout)
 * (The named descriptors of QMP `getfd` / `closefd` live in monitor/qmp-fds.c.)
 */
#ifndef TERN_MIGRATION_TRANSPORT_H
#define TERN_MIGRATION_TRANSPORT_H

#include <glib.h>
#include <stdbool.h>

/* One open stream: the descriptor, and for exec: the child to reap. */
typedef struct MigConn {
    int fd;
    GPid child;         /* 0: none */
    bool bidirectional; /* a socket: the destination can answer */
} MigConn;

/* A socket (so the destination can answer on it), not a pipe or file. */
bool transport_is_socket(int fd);
/* Check a URI's syntax (and, for fd:, that the name exists) before starting. */
bool transport_check_uri(const char *uri, bool incoming, GError **errp);

/*
 * Outgoing. fd: is resolved on the main thread (transport_take_outgoing_fd); the rest
 * connect on the migration thread, giving up when cancel_fd becomes readable.
 */
bool transport_connect(const char *uri, int cancel_fd, MigConn *out, GError **errp);

/*
 * Close the stream; for exec, reap the child. With `kill` it is told to end (SIGTERM,
 * then SIGKILL if it is still there a second later). Otherwise it may finish on its
 * own for timeout_ms (-1: no limit) unless cancel_fd becomes readable; then it is
 * ended the same way. False with errp when the child did not exit in time, the wait
 * was cancelled, or it exited with an error.
 */
bool transport_close(MigConn *c, bool kill, int cancel_fd, int timeout_ms, GError **errp);

/*
 * Incoming: listen (tcp, unix) and call `cb` on the main thread for the first
 * connection, or (fd, exec) open the stream and call `cb` from the main loop at once.
 */
typedef void TransportAcceptFn(MigConn *conn, void *opaque);
typedef struct TransportListener TransportListener;
TransportListener *transport_listen(const char *uri, TransportAcceptFn *cb, void *opaque,
                                    GError **errp);
void transport_listener_free(TransportListener *l);

#endif
