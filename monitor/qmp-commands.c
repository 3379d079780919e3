/*
 * qmp-commands.c: the core commands: versions, the command list, run state control,
 * the guest name, quit and schema introspection.
 *
 * stop and cont only ask runstate.c; the STOP and RESUME events come from there, so a
 * stop for any other reason reports the same way.
 */
#include <stdio.h>
#include "error.h"
#include "main-loop.h"
#include "monitor/qapi-schema.h"
#include "options.h"
#include "qmp-internal.h"
#include "runstate.h"

JsonNode *qmp_version_info(void)
{
    int major = 0, minor = 0, micro = 0;
    sscanf(TERN_VERSION, "%d.%d.%d", &major, &minor, &micro);
    JsonObject *triple = json_object_new();
    json_object_set_int_member(triple, "micro", micro);
    json_object_set_int_member(triple, "minor", minor);
    json_object_set_int_member(triple, "major", major);
    JsonObject *info = json_object_new();
    json_object_set_object_member(info, "qemu", triple);
    json_object_set_string_member(info, "package", "tern-" TERN_VERSION);
    return qmp_node_take_object(info);
}

static JsonNode *qmp_query_version(JsonObject *args, QmpContext *ctx, GError **errp)
{
    return qmp_version_info();
}
QMP_COMMAND("query-version", qmp_query_version)

static JsonNode *qmp_query_commands(JsonObject *args, QmpContext *ctx, GError **errp)
{
    GPtrArray *commands = qapi_schema_commands(qapi_schema());
    JsonArray *list = json_array_new();
    for (guint i = 0; i < commands->len; i++) {
        JsonObject *info = json_object_new();
        json_object_set_string_member(info, "name", ((QapiCommand *)commands->pdata[i])->name);
        json_array_add_object_element(list, info);
    }
    return qmp_node_take_array(list);
}
QMP_COMMAND("query-commands", qmp_query_commands)

static JsonNode *qmp_query_status(JsonObject *args, QmpContext *ctx, GError **errp)
{
    JsonObject *info = json_object_new();
    json_object_set_string_member(info, "status", runstate_name(runstate_get()));
    json_object_set_boolean_member(info, "singlestep", FALSE);
    json_object_set_boolean_member(info, "running", runstate_is_running());
    return qmp_node_take_object(info);
}
QMP_COMMAND("query-status", qmp_query_status)

static JsonNode *qmp_query_name(JsonObject *args, QmpContext *ctx, GError **errp)
{
    JsonObject *info = json_object_new();
    if (vm_name()) {
        json_object_set_string_member(info, "name", vm_name());
    }
    return qmp_node_take_object(info);
}
QMP_COMMAND("query-name", qmp_query_name)

static JsonNode *qmp_stop(JsonObject *args, QmpContext *ctx, GError **errp)
{
    /* As QEMU: during an incoming migration, `stop` means "do not start when done". */
    if (runstate_check(RUN_STATE_INMIGRATE)) {
        runstate_set_autostart(false);
    } else {
        vm_stop(RUN_STATE_PAUSED);
    }
    return NULL;
}
QMP_COMMAND("stop", qmp_stop)

static JsonNode *qmp_cont(JsonObject *args, QmpContext *ctx, GError **errp)
{
    vm_cont(errp);
    return NULL;
}
QMP_COMMAND("cont", qmp_cont)

/* After the reply has gone out (QEMU's order): SHUTDOWN, then leave the main loop. */
static gboolean quit_now(void *opaque)
{
    qmp_event_emit_shutdown(false, "host-qmp-quit");
    main_loop_quit(0);
    return G_SOURCE_REMOVE;
}

static JsonNode *qmp_quit(JsonObject *args, QmpContext *ctx, GError **errp)
{
    GSource *src = g_idle_source_new();
    g_source_set_priority(src, G_PRIORITY_HIGH);
    g_source_set_callback(src, quit_now, NULL, NULL);
    g_source_attach(src, main_loop_context());
    g_source_unref(src);
    return NULL;
}
QMP_COMMAND("quit", qmp_quit)

static JsonNode *qmp_query_qmp_schema(JsonObject *args, QmpContext *ctx, GError **errp)
{
    return qapi_introspect(qapi_schema());
}
QMP_COMMAND("query-qmp-schema", qmp_query_qmp_schema)
