/*
 * qmp.h: the QMP server (QEMU's wire protocol) and the command/event registry.
 *
 * qapi-schema.json is the single source of truth: a command is callable only if the
 * schema declares it and code registers it; arguments are checked against the schema
 * (missing, unexpected, wrong type) before the handler runs, so handlers can trust
 * their argument types.
 */
#ifndef TERN_MONITOR_QMP_H
#define TERN_MONITOR_QMP_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

typedef struct QmpContext QmpContext;

/*
 * A command handler. `args` has been validated against the schema (never NULL: empty
 * object when none were given). Return the "return" value (NULL means {}), or set errp
 * and return NULL. Runs on the main thread with the big lock held.
 */
typedef JsonNode *QmpCommandFunc(JsonObject *args, QmpContext *ctx, GError **errp);

void qmp_register_command(const char *name, QmpCommandFunc *fn);

/* Register a command at start-up, from the file that implements it. */
#define QMP_COMMAND(name, fn)                                                              \
    static void __attribute__((constructor)) qmp_register_##fn(void)                       \
    {                                                                                      \
        qmp_register_command(name, fn);                                                    \
    }

/* A file descriptor passed with SCM_RIGHTS along with the current command (-1: none).
 * Ownership moves to the caller. */
int qmp_context_take_fd(QmpContext *ctx);

/* Emit an event to every client that finished capabilities negotiation. `data` may be
 * NULL; ownership is taken. The event name must be declared in the schema. Thread-safe. */
void qmp_event_emit(const char *name, JsonObject *data);

/* Observe emitted events (tests and the demo timeline); returns an id for removal. */
typedef void QmpEventObserver(const char *name, JsonObject *data, void *opaque);
guint qmp_event_observer_add(QmpEventObserver *cb, void *opaque);
void qmp_event_observer_remove(guint id);

/* Listen as QEMU's `-qmp unix:PATH,server=on,wait=off` / `tcp:HOST:PORT,server=on,...`. */
bool qmp_server_add(const char *spec, GError **errp);
void qmp_server_shutdown(void);

/* Execute one request (a JSON object as text) as if from a negotiated client and return
 * the reply as text (for tests and internal callers). */
char *qmp_execute_text(const char *request);

/* The schema, loaded from the embedded qapi-schema.json. */
bool qapi_schema_load(GError **errp);

#endif
