/*
 * qmp-event.c: events. qmp_event_emit() may be called from any thread (a vCPU thread
 * seeing a guest shutdown, the migration thread); the event is stamped there with the
 * wall clock, as QEMU does, and delivered on the main thread, where the sessions live:
 * at once when the caller is the main thread (so an event a command causes goes out
 * before that command's reply, as in QEMU), otherwise through the main context.
 */
#include <unistd.h>
#include "main-loop.h"
#include "monitor/qapi-schema.h"
#include "qmp-internal.h"
#include "runstate.h"

typedef struct {
    guint id;
    QmpEventObserver *cb;
    void *opaque;
} Observer;

typedef struct {
    char *name;
    JsonNode *event; /* {"timestamp": ..., "event": ..., "data": ...} */
} PendingEvent;

/* The observer registry. */
static struct {
    GMutex lock;
    GList *observers; /* Observer * */
    guint next_id;
} observers;

static bool on_main_thread(void)
{
    return gettid() == getpid();
}

guint qmp_event_observer_add(QmpEventObserver *cb, void *opaque)
{
    Observer *o = g_new0(Observer, 1);
    o->cb = cb;
    o->opaque = opaque;
    g_mutex_lock(&observers.lock);
    o->id = ++observers.next_id;
    observers.observers = g_list_append(observers.observers, o);
    g_mutex_unlock(&observers.lock);
    return o->id;
}

void qmp_event_observer_remove(guint id)
{
    g_mutex_lock(&observers.lock);
    for (GList *l = observers.observers; l; l = l->next) {
        Observer *o = l->data;
        if (o->id == id) {
            observers.observers = g_list_delete_link(observers.observers, l);
            g_free(o);
            break;
        }
    }
    g_mutex_unlock(&observers.lock);
}

static void notify_observers(const char *name, JsonObject *data)
{
    g_mutex_lock(&observers.lock);
    GList *copy = NULL;
    for (GList *l = observers.observers; l; l = l->next) {
        copy = g_list_prepend(copy, g_memdup2(l->data, sizeof(Observer)));
    }
    g_mutex_unlock(&observers.lock);
    copy = g_list_reverse(copy);
    for (GList *l = copy; l; l = l->next) {
        Observer *o = l->data;
        o->cb(name, data, o->opaque);
    }
    g_list_free_full(copy, g_free);
}

static void pending_free(void *p)
{
    PendingEvent *pe = p;
    g_free(pe->name);
    json_node_unref(pe->event);
    g_free(pe);
}

static gboolean deliver(void *p)
{
    PendingEvent *pe = p;
    GString *text = g_string_new(NULL);
    qmp_json_append(text, pe->event);
    g_string_append_c(text, '\n');
    qmp_server_broadcast(text->str, text->len);
    g_string_free(text, TRUE);

    JsonObject *ev = json_node_get_object(pe->event);
    notify_observers(pe->name, json_object_has_member(ev, "data")
                                   ? json_object_get_object_member(ev, "data")
                                   : NULL);
    return G_SOURCE_REMOVE;
}

/* Event data must match the schema; a mismatch is a bug in tern, so it is loud. */
static void check_data(const QapiEvent *ev, JsonObject *data)
{
    GError *err = NULL;
    if (ev->data) {
        JsonObject *o = data ? data : json_object_new();
        JsonNode *n = json_node_init_object(json_node_alloc(), o);
        qapi_check_value(ev->data, n, "data", &err);
        json_node_unref(n);
        if (!data) {
            json_object_unref(o);
        }
    } else if (data && json_object_get_size(data)) {
        g_set_error_literal(&err, G_IO_ERROR, G_IO_ERROR_FAILED, "it carries no data");
    }
    if (err) {
        g_critical("QMP event '%s' does not match its schema: %s", ev->name, err->message);
        g_error_free(err);
    }
}

void qmp_event_emit(const char *name, JsonObject *data)
{
    const QapiEvent *ev = qapi_schema_event(qapi_schema(), name);
    if (!ev) {
        g_critical("QMP event '%s' is not declared in qapi-schema.json; dropped", name);
        if (data) {
            json_object_unref(data);
        }
        return;
    }
    check_data(ev, data);

    gint64 now = g_get_real_time();
    JsonObject *ts = json_object_new();
    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    JsonObject *o = json_object_new();
    json_object_set_object_member(o, "timestamp", ts);
    json_object_set_string_member(o, "event", name);
    if (data) {
        json_object_set_object_member(o, "data", data);
    }

    PendingEvent *pe = g_new0(PendingEvent, 1);
    pe->name = g_strdup(name);
    pe->event = qmp_node_take_object(o);
    if (on_main_thread()) {
        deliver(pe);
        pending_free(pe);
        return;
    }
    GSource *src = g_idle_source_new();
    g_source_set_priority(src, G_PRIORITY_HIGH);
    g_source_set_callback(src, deliver, pe, pending_free);
    g_source_attach(src, main_loop_context());
    g_source_unref(src);
}

void qmp_event_emit_shutdown(bool guest, const char *reason)
{
    JsonObject *data = json_object_new();
    json_object_set_boolean_member(data, "guest", guest);
    json_object_set_string_member(data, "reason", reason);
    qmp_event_emit("SHUTDOWN", data);
}

/* RESUME and STOP follow the run state: the monitor subscribes to it, so runstate.c
 * knows nothing of QMP. At VM_STATE_PRIO_MONITOR RESUME goes out before anything else
 * starts and STOP once everything has stopped, the order QEMU's events have. */
static void qmp_event_vm_state_change(void *opaque, bool running, RunState state, RunState from)
{
    qmp_event_emit(running ? "RESUME" : "STOP", NULL);
}

void qmp_event_init(void)
{
    static VMChangeStateEntry *subscription;
    if (!subscription) {
        subscription =
            vm_state_notify_add(qmp_event_vm_state_change, NULL, VM_STATE_PRIO_MONITOR);
    }
}
