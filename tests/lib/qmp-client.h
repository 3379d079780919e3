/*
 * qmp-client.h: a QMP client for black-box tests (tern or QEMU on the other end).
 *
 * Messages are read one per line, as QEMU and tern write them. A request's reply is
 * the next message that is not an event; events that arrive meanwhile are queued, and
 * qmp_client_wait_event() looks in that queue before it reads more.
 *
 * Calls with GError report I/O trouble and timeouts to the caller; the short helpers
 * (qmp, qmp_ok, qmp_assert_error) assert instead, which is what most tests want.
 * Replies and events are JsonObjects the caller unrefs (g_autoptr(JsonObject) works).
 */
#ifndef TERN_TESTS_QMP_CLIENT_H
#define TERN_TESTS_QMP_CLIENT_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

/* How long a test waits for anything (generous: sanitizer builds are slow). */
#define QMP_CLIENT_TIMEOUT_MS 30000

typedef struct QmpClient QmpClient;

/* Connect, retrying until the server accepts or timeout_ms passes (the VMM may still be
 * starting), and read the greeting. */
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
/* Send text with a file descriptor attached (SCM_RIGHTS; unix sockets only). */
bool qmp_client_send_fd(QmpClient *c, int fd, const char *text, GError **errp);
/* The next message of any kind; NULL with errp on timeout or when the server closed. */
JsonObject *qmp_client_read(QmpClient *c, int timeout_ms, GError **errp);
/* Send a request and return its reply ("return" or "error"), queueing events. */
JsonObject *qmp_client_request(QmpClient *c, const char *json, GError **errp);

/* Events: the first queued or arriving event called `name` (others stay queued). */
JsonObject *qmp_client_wait_event(QmpClient *c, const char *name, int timeout_ms,
                                  GError **errp);
/* Every event received so far, oldest first (caller frees the list and unrefs). */
GList *qmp_client_take_events(QmpClient *c);

/* Asserting helpers; `fmt` is printf-style JSON (QEMU's 'single quotes' are accepted). */
JsonObject *qmp(QmpClient *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Assert success; returns the "return" value (caller unrefs). */
JsonNode *qmp_ok(QmpClient *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Assert an error of class `cls` whose desc contains `desc` (NULL: any). */
void qmp_assert_error(QmpClient *c, const char *cls, const char *desc, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
/* Assert a reply is an error like that (for replies read some other way). */
void qmp_reply_assert_error(JsonObject *reply, const char *cls, const char *desc);
/* query-status's "status". */
char *qmp_status(QmpClient *c);

#endif
