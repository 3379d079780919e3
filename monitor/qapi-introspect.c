/*
 * qapi-introspect.c: the schema as QEMU's SchemaInfo list (query-qmp-schema).
 *
 * Commands and events come first, in schema order, then every type they reach, once.
 * Like QEMU, all integer types introspect as the builtin "int", a command without
 * arguments or return value refers to the empty object "q_empty", and inline arguments
 * get an implicit object type ("q_obj_<name>-arg"). Unlike QEMU's release builds, type
 * names are not masked: clients must treat them as opaque either way.
 */
#include "monitor/qapi-schema.h"
#include "monitor/qmp.h"

typedef struct {
    JsonArray *out;
    GHashTable *done; /* introspected names already emitted */
    GPtrArray *queue; /* QapiType * waiting to be emitted */
} Introspect;

static const char *builtin_name(QapiBuiltin b, const char **json_type)
{
    switch (b) {
    case QAPI_STR:
        *json_type = "string";
        return "str";
    case QAPI_NUMBER:
        *json_type = "number";
        return "number";
    case QAPI_BOOL:
        *json_type = "boolean";
        return "bool";
    case QAPI_ANY:
        *json_type = "value";
        return "any";
    case QAPI_NULL:
        *json_type = "null";
        return "null";
    default:
        *json_type = "int";
        return "int";
    }
}

/* The name a type has in the introspection output (caller frees). */
static char *type_name(const QapiType *t)
{
    const char *json_type;
    if (t->meta == QAPI_BUILTIN) {
        return g_strdup(builtin_name(t->builtin, &json_type));
    }
    if (t->meta == QAPI_ARRAY) {
        char *el = type_name(t->element);
        char *name = g_strdup_printf("[%s]", el);
        g_free(el);
        return name;
    }
    return g_strdup(t->name);
}

/* Name a type and queue it for output. */
static void set_type(Introspect *in, JsonObject *o, const char *key, QapiType *t)
{
    char *name = type_name(t);
    json_object_set_string_member(o, key, name);
    g_free(name);
    g_ptr_array_add(in->queue, t);
}

static JsonObject *entity(Introspect *in, const char *name, const char *meta)
{
    JsonObject *o = json_object_new();
    json_object_set_string_member(o, "name", name);
    json_object_set_string_member(o, "meta-type", meta);
    json_array_add_object_element(in->out, o);
    return o;
}

static JsonArray *object_members(Introspect *in, GPtrArray *members)
{
    JsonArray *a = json_array_new();
    for (guint i = 0; i < members->len; i++) {
        QapiMember *m = members->pdata[i];
        JsonObject *mo = json_object_new();
        json_object_set_string_member(mo, "name", m->name);
        set_type(in, mo, "type", m->type);
        if (m->optional) {
            json_object_set_null_member(mo, "default");
        }
        json_array_add_object_element(a, mo);
    }
    return a;
}

static void emit_type(Introspect *in, QapiType *t)
{
    char *name = type_name(t);
    if (g_hash_table_contains(in->done, name)) {
        g_free(name);
        return;
    }
    g_hash_table_add(in->done, name);

    JsonObject *o;
    const char *json_type;
    switch (t->meta) {
    case QAPI_BUILTIN:
        builtin_name(t->builtin, &json_type);
        o = entity(in, name, "builtin");
        json_object_set_string_member(o, "json-type", json_type);
        break;
    case QAPI_ENUM: {
        JsonArray *members = json_array_new();
        JsonArray *values = json_array_new();
        for (guint i = 0; i < t->values->len; i++) {
            JsonObject *mo = json_object_new();
            json_object_set_string_member(mo, "name", t->values->pdata[i]);
            json_array_add_object_element(members, mo);
            json_array_add_string_element(values, t->values->pdata[i]);
        }
        o = entity(in, name, "enum");
        json_object_set_array_member(o, "members", members);
        json_object_set_array_member(o, "values", values);
        break;
    }
    case QAPI_ARRAY:
        o = entity(in, name, "array");
        set_type(in, o, "element-type", t->element);
        break;
    case QAPI_STRUCT:
    case QAPI_UNION:
        o = entity(in, name, "object");
        json_object_set_array_member(o, "members", object_members(in, t->members));
        if (t->meta == QAPI_UNION) {
            JsonArray *variants = json_array_new();
            for (guint i = 0; i < t->variants->len; i++) {
                QapiVariant *v = t->variants->pdata[i];
                JsonObject *vo = json_object_new();
                json_object_set_string_member(vo, "case", v->value);
                set_type(in, vo, "type", v->type);
                json_array_add_object_element(variants, vo);
            }
            json_object_set_string_member(o, "tag", t->tag->name);
            json_object_set_array_member(o, "variants", variants);
        }
        break;
    case QAPI_ALTERNATE: {
        JsonArray *members = json_array_new();
        for (guint i = 0; i < t->branches->len; i++) {
            JsonObject *mo = json_object_new();
            set_type(in, mo, "type", ((QapiMember *)t->branches->pdata[i])->type);
            json_array_add_object_element(members, mo);
        }
        o = entity(in, name, "alternate");
        json_object_set_array_member(o, "members", members);
        break;
    }
    }
}

JsonNode *qapi_introspect(QapiSchema *s)
{
    Introspect in = {
        .out = json_array_new(),
        .done = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .queue = g_ptr_array_new(),
    };
    QapiType *empty = qapi_schema_type(s, "q_empty");
    GPtrArray *commands = qapi_schema_commands(s);
    for (guint i = 0; i < commands->len; i++) {
        const QapiCommand *c = commands->pdata[i];
        JsonObject *o = entity(&in, c->name, "command");
        set_type(&in, o, "arg-type", c->args);
        set_type(&in, o, "ret-type", c->ret ? c->ret : empty);
    }
    GPtrArray *events = qapi_schema_events(s);
    for (guint i = 0; i < events->len; i++) {
        const QapiEvent *e = events->pdata[i];
        JsonObject *o = entity(&in, e->name, "event");
        set_type(&in, o, "arg-type", e->data ? e->data : empty);
    }
    /* The queue grows while we walk it: each type queues the types it uses. */
    for (guint i = 0; i < in.queue->len; i++) {
        emit_type(&in, in.queue->pdata[i]);
    }
    g_hash_table_unref(in.done);
    g_ptr_array_unref(in.queue);
    return qmp_node_take_array(in.out);
}
