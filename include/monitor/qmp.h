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
#include "options.h"

typedef struct QmpContext QmpContext;

/*
 * A command handler. `args` has been validated against the schema (never NULL: empty
 * object when none were given). Return the "return" value (NULL means {}), or set errp
 * and return NULL. Runs on the main thread with the big lock held.
 */
typedef JsonNode *QmpCommandFunc(JsonObject *args, QmpContext *ctx, GError **errp);

void qmp_register_command(const char *name, QmpCommandFunc *fn);

/* True when a handler is registered under `name` (the registry/schema test uses it). */
bool qmp_command_is_registered(const char *name);

/* Wrap a handler's return value in a node, taking over the caller's reference. */
JsonNode *qmp_node_take_object(JsonObject *o);
JsonNode *qmp_node_take_array(JsonArray *a);

/* Register a command at start-up, from the file that implements it. */
#define QMP_COMMAND(name, fn)                                                                  \
    static void __attribute__((constructor)) qmp_register_##fn(void)                           \
    {                                                                                          \
        qmp_register_command(name, fn);                                                        \
    }

/* The oldest file descriptor this client passed with SCM_RIGHTS (unix sockets) that no
 * command has taken yet, or -1. Ownership moves to the caller (QEMU's getfd). */
int qmp_context_take_fd(QmpContext *ctx);

/* QMP arguments as an option list for the -device / -netdev parsers: `driver_key`'s value
 * becomes the driver, "id" the id, every other scalar a key=value (booleans on/off). */
TernOpts *qmp_opts_from_args(const char *option, JsonObject *args, const char *driver_key,
                             GError **errp);

/* Emit an event to every client that finished capabilities negotiation. `data` may be
 * NULL; ownership is taken. The event name must be declared in the schema. Thread-safe. */
void qmp_event_emit(const char *name, JsonObject *data);

/* At start-up (vl.c): emit RESUME and STOP as the VM starts and stops. */
void qmp_event_init(void);

/* SHUTDOWN with QEMU's data: `guest` (the guest caused it) and `reason`, a ShutdownCause
 * name ("host-qmp-quit", "host-signal", "guest-shutdown", ...). */
void qmp_event_emit_shutdown(bool guest, const char *reason);

/* Observe emitted events (tests and the demo timeline); returns an id for removal. */
typedef void QmpEventObserver(const char *name, JsonObject *data, void *opaque);
guint qmp_event_observer_add(QmpEventObserver *cb, void *opaque);
void qmp_event_observer_remove(guint id);

/* Listen as QEMU's `-qmp unix:PATH,server=on,wait=off` / `tcp:HOST:PORT,server=on,...`. */
bool qmp_server_add(const char *spec, GError **errp);
/* QMP on a `-chardev socket,path=PATH[,server=on,wait=off]` named by `-mon
 * chardev=ID,mode=control`: without server=on tern connects to PATH as a client (QEMU's
 * libqtest listens there); with it, tern listens as for -qmp. */
bool qmp_server_add_chardev(const TernOpts *chr, GError **errp);
/* At exit: give clients up to a second each to take what is still queued for them (the
 * reply to quit, SHUTDOWN), close them and the listeners, remove unix socket files. */
void qmp_server_shutdown(void);

/* Execute one request (a JSON object as text) as if from a negotiated client and return
 * the reply as text (for tests and internal callers). */
char *qmp_execute_text(const char *request);

/* Load the embedded qapi-schema.json and match it against the registered commands: a
 * handler without a schema entry, or a declared command without a handler, is an error
 * naming it. Call once at start-up, before qmp_server_add; exit on failure. */
bool qapi_schema_load(GError **errp);

#endif
