/*
 * qmp-internal.h: what the monitor's files share among themselves (not for devices).
 *
 *   qmp-dispatch.c  command registry, request checks, dispatch, qmp_capabilities
 *   qmp-event.c     events: build, self-check, deliver on the main thread, observers
 *   qmp-server.c    listeners and client sessions on the main context
 *   qmp-json.c      JSON text in QEMU's layout
 *   qmp-commands.c  the core commands
 */
#ifndef TERN_MONITOR_QMP_INTERNAL_H
#define TERN_MONITOR_QMP_INTERNAL_H

#include "monitor/qmp.h"

/* Nesting a request may have (QEMU's MAX_NESTING). */
#define QMP_MAX_DEPTH 1024

/* One client's protocol state (a session owns one; qmp_execute_text makes its own). */
struct QmpContext {
    bool negotiated; /* qmp_capabilities done */
    GQueue fds;      /* received with SCM_RIGHTS, not yet taken (GINT_TO_POINTER) */
};

void qmp_context_init(QmpContext *ctx, bool negotiated);
/* Close every fd that no command took. */
void qmp_context_cleanup(QmpContext *ctx);
/* Keep an fd that arrived with SCM_RIGHTS (a few at most: extras are closed). */
void qmp_context_add_fd(QmpContext *ctx, int fd);

/* Handle one request given as JSON text; returns the reply object (never NULL). */
JsonNode *qmp_dispatch_text(QmpContext *ctx, const char *text, size_t len);
/* {"error": {"class": ..., "desc": ...}} */
JsonNode *qmp_error_reply(const GError *err);

/* Serialize as QEMU does: {"key": value, "k2": [1, 2]}, non-ASCII as \uXXXX. */
void qmp_json_append(GString *out, JsonNode *node);
char *qmp_json_to_string(JsonNode *node);

/* Called on the main thread for each event with its full text (qmp-server.c). */
void qmp_server_broadcast(const char *text, size_t len);

/* The version triple from TERN_VERSION, as query-version and the greeting show it. */
JsonNode *qmp_version_info(void);

#endif
