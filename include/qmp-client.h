/*
 * qmp-client.h: the one QMP client, for tern's tools (tern-migrate) and its tests; tern
 * or QEMU may be on the other end.
 *
 * Messages are read one per line, as QEMU and tern write them. A request's reply is
 * the next message that is not an event; events that arrive meanwhile are queued, and
 * qmp_client_wait_event() looks in that queue before it reads more.
 *
 * Errors are tern GenericErrors (util/error.c). Replies and events are JsonObjects the
 * caller unrefs (g_autoptr(JsonObject) works). The tests' asserting shorthands sit on
 * top of this in tests/lib/qmp-assert.h.
 */
#ifndef TERN_QMP_CLIENT_H
#define TERN_QMP_CLIENT_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdbool.h>
#include "sockaddr.h"

/* How long a request waits for its reply (generous: sanitizer builds are slow). */
#define QMP_CLIENT_TIMEOUT_MS 30000

typedef struct QmpClient QmpClient;

/* Connect, retrying until the server accepts or timeout_ms passes (the VMM may still be
 * starting), and read the greeting. 0: one attempt, and the greeting within
 * QMP_CLIENT_TIMEOUT_MS. */
QmpClient *qmp_client_connect(const SockAddr *addr, int timeout_ms, GError **errp);
QmpClient *qmp_client_connect_unix(const char *path, int timeout_ms, GError **errp);
QmpClient *qmp_client_connect_tcp(const char *host, int port, int timeout_ms, GError **errp);
/* Wait up to timeout_ms for the VMM to connect to `listen_fd` (a test listens where a
 * `-chardev socket,path=...` client connects), and read the greeting. */
QmpClient *qmp_client_accept(int listen_fd, int timeout_ms, GError **errp);
/* Close the connection (at once, whatever is in flight). */
void qmp_client_free(QmpClient *c);
int qmp_client_fd(QmpClient *c);

/* {"QMP": {...}} as the server sent it (owned by the client). */
JsonObject *qmp_client_greeting(QmpClient *c);
/* qmp_capabilities, expecting success. */
bool qmp_client_negotiate(QmpClient *c, GError **errp);

/* Send bytes as they are (partial JSON, garbage, huge lines). */
bool qmp_client_send_raw(QmpClient *c, const void *data, size_t len, GError **errp);
/* Send one message: the text and a newline, in one write (after `quit` the server may
 * close before a second). */
bool qmp_client_send(QmpClient *c, const char *json, GError **errp);
/* Send text with a file descriptor attached (SCM_RIGHTS; unix sockets only). */
bool qmp_client_send_fd(QmpClient *c, int fd, const char *text, GError **errp);
/* The next message of any kind; NULL with errp on timeout or when the server closed. */
JsonObject *qmp_client_read(QmpClient *c, int timeout_ms, GError **errp);
/* The next message if one is whole or arrives within timeout_ms (-1: no limit), waiting
 * with the signal mask `sigmask` (NULL: unchanged), as ppoll does. NULL with errp unset:
 * nothing yet (the time passed, or a signal came); with errp set: the connection failed
 * or sent something that is not a JSON object. */
JsonObject *qmp_client_poll(QmpClient *c, int timeout_ms, const sigset_t *sigmask,
                            GError **errp);
/* Send a request and return its reply ("return" or "error"), queueing events. */
JsonObject *qmp_client_request(QmpClient *c, const char *json, GError **errp);

/* The same built from parts: {"execute": name, "arguments": args, "id": id}; args and id
 * may be NULL; args is taken. _send_command does not wait for the reply. */
bool qmp_client_send_command(QmpClient *c, const char *name, JsonNode *args, const char *id,
                             GError **errp);
JsonObject *qmp_client_execute(QmpClient *c, const char *name, JsonNode *args, const char *id,
                               GError **errp);

/* Events: the first queued or arriving event called `name` (others stay queued). */
JsonObject *qmp_client_wait_event(QmpClient *c, const char *name, int timeout_ms,
                                  GError **errp);
/* Every event received so far, oldest first (caller frees the list and unrefs). */
GList *qmp_client_take_events(QmpClient *c);

/* The compact JSON text of o (caller frees). */
char *qmp_client_object_text(JsonObject *o);

#endif
