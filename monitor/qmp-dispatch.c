/*
 * qmp-dispatch.c: the command registry and one request's way through the monitor.
 *
 * A request is checked in QEMU's order: it must be a JSON object with only `execute`,
 * `arguments` and `id`; before capabilities negotiation only qmp_capabilities runs;
 * the command must be in the schema and registered; its arguments are checked against
 * the schema; then the handler runs and its reply is checked against the schema too.
 *
 * Commands register from constructors (QMP_COMMAND), before main() and before the schema
 * is read, so the registry is matched against the schema by qapi_schema_load() at
 * start-up: a handler without a schema entry, or a schema command without a handler,
 * stops tern there (and fails the unit tests). A registration after that is checked at
 * once and refused if the schema does not declare the command.
 */
#include <string.h>
#include <unistd.h>
#include "error.h"
#include "monitor/json-parser.h"
#include "monitor/qapi-schema.h"
#include "qmp-internal.h"

#define QMP_MAX_PENDING_FDS 8

/* The registry: command name -> handler. */
static struct {
    GHashTable *handlers;
    bool sealed; /* checked against the schema: later registrations are checked at once */
} registry;

void qmp_register_command(const char *name, QmpCommandFunc *fn)
{
    if (!registry.handlers) {
        registry.handlers = g_hash_table_new(g_str_hash, g_str_equal);
    }
    if (g_hash_table_contains(registry.handlers, name)) {
        g_error("QMP command '%s' is registered twice", name);
    }
    if (registry.sealed && !qapi_schema_command(qapi_schema(), name)) {
        g_critical("QMP command '%s' refused: it is not declared in qapi-schema.json", name);
        return;
    }
    g_hash_table_insert(registry.handlers, (char *)name, fn);
}

bool qmp_command_is_registered(const char *name)
{
    return registry.handlers && g_hash_table_contains(registry.handlers, name);
}

bool qapi_schema_check_commands(QapiSchema *s, GError **errp)
{
    if (registry.handlers) {
        GHashTableIter it;
        const char *name;
        g_hash_table_iter_init(&it, registry.handlers);
        while (g_hash_table_iter_next(&it, (void **)&name, NULL)) {
            if (!qapi_schema_command(s, name)) {
                g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                            "QMP command '%s' has a handler but is not declared in "
                            "qapi-schema.json",
                            name);
                return false;
            }
        }
    }
    GPtrArray *commands = qapi_schema_commands(s);
    for (guint i = 0; i < commands->len; i++) {
        const QapiCommand *c = commands->pdata[i];
        if (!qmp_command_is_registered(c->name)) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "QMP command '%s' is declared in qapi-schema.json but has no handler",
                        c->name);
            return false;
        }
    }
    return true;
}

bool qapi_schema_load(GError **errp)
{
    QapiSchema *s = qapi_schema_get(errp);
    if (!s || !qapi_schema_check_commands(s, errp)) {
        return false;
    }
    registry.sealed = true;
    return true;
}

void qmp_context_init(QmpContext *ctx, bool negotiated)
{
    ctx->negotiated = negotiated;
    g_queue_init(&ctx->fds);
}

void qmp_context_cleanup(QmpContext *ctx)
{
    int fd;
    while ((fd = qmp_context_take_fd(ctx)) >= 0) {
        close(fd);
    }
}

void qmp_context_add_fd(QmpContext *ctx, int fd)
{
    if (g_queue_get_length(&ctx->fds) >= QMP_MAX_PENDING_FDS) {
        close(fd);
        return;
    }
    g_queue_push_tail(&ctx->fds, GINT_TO_POINTER(fd));
}

int qmp_context_take_fd(QmpContext *ctx)
{
    if (g_queue_is_empty(&ctx->fds)) {
        return -1;
    }
    return GPOINTER_TO_INT(g_queue_pop_head(&ctx->fds));
}

JsonNode *qmp_node_take_object(JsonObject *o)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, o);
    return n;
}

JsonNode *qmp_node_take_array(JsonArray *a)
{
    JsonNode *n = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(n, a);
    return n;
}

JsonNode *qmp_error_reply(const GError *err)
{
    JsonObject *e = json_object_new();
    json_object_set_string_member(e, "class", tern_error_class_name(err));
    json_object_set_string_member(e, "desc", err->message);
    JsonObject *reply = json_object_new();
    json_object_set_object_member(reply, "error", e);
    return qmp_node_take_object(reply);
}

/* QEMU's qmp_dispatch_check_obj: the request's shape. Returns the command name. */
static const char *check_request(JsonNode *request, GError **errp)
{
    if (!JSON_NODE_HOLDS_OBJECT(request)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "QMP input must be a JSON object");
        return NULL;
    }
    JsonObjectIter it;
    const char *key;
    JsonNode *value;
    const char *command = NULL;
    json_object_iter_init_ordered(&it, json_node_get_object(request));
    while (json_object_iter_next_ordered(&it, &key, &value)) {
        if (strcmp(key, "execute") == 0) {
            if (!json_node_holds_string(value)) {
                g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                            "QMP input member 'execute' must be a string");
                return NULL;
            }
            command = json_node_get_string(value);
        } else if (strcmp(key, "arguments") == 0) {
            if (!JSON_NODE_HOLDS_OBJECT(value)) {
                g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                            "QMP input member 'arguments' must be an object");
                return NULL;
            }
        } else if (strcmp(key, "id") != 0) {
            /* exec-oob lands here too: tern offers no out-of-band capability. */
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "QMP input member '%s' is unexpected", key);
            return NULL;
        }
    }
    if (!command) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "QMP input lacks member 'execute'");
    }
    return command;
}

/* A reply that does not match the schema is a bug in tern: say so loudly, and tell
 * the client instead of sending it something its schema does not describe. */
static JsonNode *check_reply(const QapiCommand *cmd, JsonNode *ret, GError **errp)
{
    GError *err = NULL;
    bool ok;
    if (cmd->ret) {
        ok = ret && qapi_check_value(cmd->ret, ret, "return", &err);
    } else {
        ok = !ret || (JSON_NODE_HOLDS_OBJECT(ret) &&
                      json_object_get_size(json_node_get_object(ret)) == 0);
    }
    if (ok) {
        return ret ? ret : qmp_node_take_object(json_object_new());
    }
    g_critical("QMP command '%s' returned a reply its schema does not allow: %s", cmd->name,
               err ? err->message : "no value");
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                "Internal error: the reply of '%s' does not match the schema", cmd->name);
    g_clear_error(&err);
    if (ret) {
        json_node_unref(ret);
    }
    return NULL;
}

static JsonNode *execute(QmpContext *ctx, JsonNode *request, GError **errp)
{
    const char *name = check_request(request, errp);
    if (!name) {
        return NULL;
    }
    bool negotiating = strcmp(name, "qmp_capabilities") == 0;
    if (!ctx->negotiated && !negotiating) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_COMMAND_NOT_FOUND,
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
        return NULL;
    }
    const QapiCommand *cmd = qapi_schema_command(qapi_schema(), name);
    QmpCommandFunc *fn =
        registry.handlers ? g_hash_table_lookup(registry.handlers, name) : NULL;
    if (!cmd || !fn) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_COMMAND_NOT_FOUND,
                    "The command %s has not been found", name);
        return NULL;
    }
    JsonObject *obj = json_node_get_object(request);
    JsonObject *args = json_object_has_member(obj, "arguments")
                           ? json_object_ref(json_object_get_object_member(obj, "arguments"))
                           : json_object_new();
    JsonNode *ret = NULL;
    GError *err = NULL;
    if (qapi_check_args(cmd, args, &err)) {
        ret = fn(args, ctx, &err);
        if (err && ret) {
            json_node_unref(ret);
            ret = NULL;
        }
        ret = err ? NULL : check_reply(cmd, ret, &err);
    }
    json_object_unref(args);
    if (err) {
        g_propagate_error(errp, err);
        return NULL;
    }
    return ret;
}

static JsonNode *dispatch(QmpContext *ctx, JsonNode *request)
{
    GError *err = NULL;
    JsonNode *ret = execute(ctx, request, &err);
    JsonNode *reply;
    if (ret) {
        JsonObject *o = json_object_new();
        json_object_set_member(o, "return", ret);
        reply = qmp_node_take_object(o);
    } else {
        reply = qmp_error_reply(err);
        g_error_free(err);
    }
    if (JSON_NODE_HOLDS_OBJECT(request)) {
        JsonNode *id = json_object_get_member(json_node_get_object(request), "id");
        if (id) {
            json_object_set_member(json_node_get_object(reply), "id", json_node_copy(id));
        }
    }
    return reply;
}

JsonNode *qmp_dispatch_text(QmpContext *ctx, const char *text, size_t len)
{
    GError *err = NULL;
    JsonNode *root = json_parse(text, len, QMP_MAX_DEPTH, &err);
    JsonNode *reply;
    if (root) {
        reply = dispatch(ctx, root);
        json_node_unref(root);
    } else {
        g_prefix_error(&err, "JSON parse error, ");
        reply = qmp_error_reply(err);
        g_error_free(err);
    }
    return reply;
}

char *qmp_execute_text(const char *request)
{
    QmpContext ctx;
    qmp_context_init(&ctx, true);
    JsonNode *reply = qmp_dispatch_text(&ctx, request, strlen(request));
    char *text = qmp_json_to_string(reply);
    json_node_unref(reply);
    qmp_context_cleanup(&ctx);
    return text;
}

static JsonNode *qmp_capabilities(JsonObject *args, QmpContext *ctx, GError **errp)
{
    if (ctx->negotiated) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_COMMAND_NOT_FOUND,
                    "Capabilities negotiation is already complete, command ignored");
        return NULL;
    }
    if (json_object_has_member(args, "enable")) {
        JsonArray *enable = json_object_get_array_member(args, "enable");
        if (json_array_get_length(enable) > 0) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "Capability '%s' not available",
                        json_array_get_string_element(enable, 0));
            return NULL;
        }
    }
    ctx->negotiated = true;
    return NULL;
}
QMP_COMMAND("qmp_capabilities", qmp_capabilities)
