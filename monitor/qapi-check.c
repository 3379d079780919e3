/*
 * qapi-check.c: check a JSON value against a schema type, with QEMU 7.2's messages.
 *
 * This is what QEMU's generated visitors do for each command; here one walk over the
 * schema serves every command, the replies (a handler whose reply does not match its
 * schema is a bug we want to see) and event data.
 *
 * Names in messages are QEMU's "full names": "x" for an argument, "x.y" for a member of
 * a nested object, "x[2]" for an array element.
 */
#include <string.h>
#include "error.h"
#include "monitor/json-parser.h"
#include "monitor/qapi-schema.h"

static bool check(const QapiType *t, JsonNode *v, GString *path, GError **errp);

static const char *name_of(GString *path)
{
    return path->len ? path->str : "<anonymous>";
}

static bool wrong_type(GString *path, const char *expected, GError **errp)
{
    return tern_error_fail(errp, "Invalid parameter type for '%s', expected: %s", name_of(path),
                           expected);
}

static bool expects(GString *path, const char *what, GError **errp)
{
    return tern_error_fail(errp, "Parameter '%s' expects %s", name_of(path), what);
}

static bool is_value(JsonNode *v, GType type)
{
    if (type == G_TYPE_STRING) {
        return json_node_holds_string(v); /* a raw number is not one */
    }
    return JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == type;
}

static bool check_int(QapiBuiltin kind, JsonNode *v, GString *path, GError **errp)
{
    static const struct {
        int64_t min, max;
        const char *name;
    } signed_range[] = {
        [QAPI_INT] = {INT64_MIN, INT64_MAX, "int64_t"},
        [QAPI_INT8] = {INT8_MIN, INT8_MAX, "int8_t"},
        [QAPI_INT16] = {INT16_MIN, INT16_MAX, "int16_t"},
        [QAPI_INT32] = {INT32_MIN, INT32_MAX, "int32_t"},
    };
    static const struct {
        uint64_t max;
        const char *name;
    } unsigned_range[] = {
        [QAPI_UINT8] = {UINT8_MAX, "uint8_t"},    [QAPI_UINT16] = {UINT16_MAX, "uint16_t"},
        [QAPI_UINT32] = {UINT32_MAX, "uint32_t"}, [QAPI_UINT64] = {UINT64_MAX, "uint64_t"},
        [QAPI_SIZE] = {UINT64_MAX, "uint64_t"},
    };
    bool is_int = is_value(v, G_TYPE_INT64);
    if (kind <= QAPI_INT32) {
        if (json_node_is_raw_number(v)) {
            return expects(path, "integer", errp); /* beyond int64, or not whole */
        }
        if (!is_int) {
            return wrong_type(path, "integer", errp);
        }
        int64_t x = json_node_get_int(v);
        if (x < signed_range[kind].min || x > signed_range[kind].max) {
            return expects(path, signed_range[kind].name, errp);
        }
        return true;
    }
    /* QEMU reads unsigned values as uint64 first (accepting negative numbers, for
     * backward compatibility) and range-checks the narrower types afterwards. */
    uint64_t x;
    if (!json_node_get_uint64(v, &x)) {
        return expects(path, "uint64", errp);
    }
    if (x > unsigned_range[kind].max) {
        return expects(path, unsigned_range[kind].name, errp);
    }
    return true;
}

static bool check_builtin(QapiBuiltin kind, JsonNode *v, GString *path, GError **errp)
{
    switch (kind) {
    case QAPI_STR:
        return is_value(v, G_TYPE_STRING) || wrong_type(path, "string", errp);
    case QAPI_BOOL:
        return is_value(v, G_TYPE_BOOLEAN) || wrong_type(path, "boolean", errp);
    case QAPI_NUMBER:
        return is_value(v, G_TYPE_INT64) || is_value(v, G_TYPE_DOUBLE) ||
               json_node_is_raw_number(v) || wrong_type(path, "number", errp);
    case QAPI_NULL:
        return JSON_NODE_HOLDS_NULL(v) || wrong_type(path, "null", errp);
    case QAPI_ANY:
        return true;
    default:
        return check_int(kind, v, path, errp);
    }
}

static bool check_enum(const QapiType *t, JsonNode *v, GString *path, GError **errp)
{
    if (!is_value(v, G_TYPE_STRING)) {
        return wrong_type(path, "string", errp);
    }
    const char *s = json_node_get_string(v);
    for (guint i = 0; i < t->values->len; i++) {
        if (strcmp(t->values->pdata[i], s) == 0) {
            return true;
        }
    }
    return tern_error_fail(errp, "Parameter '%s' does not accept value '%s'", name_of(path), s);
}

/* Check `members` of `o`; names found are added to `seen`. */
static bool check_members(GPtrArray *members, JsonObject *o, GHashTable *seen, GString *path,
                          GError **errp)
{
    gsize len = path->len;
    bool ok = true;
    for (guint i = 0; ok && i < members->len; i++) {
        QapiMember *m = members->pdata[i];
        JsonNode *mv = json_object_get_member(o, m->name);
        if (len) {
            g_string_append_c(path, '.');
        }
        g_string_append(path, m->name);
        if (!mv) {
            ok = m->optional || tern_error_fail(errp, "Parameter '%s' is missing", path->str);
        } else {
            g_hash_table_add(seen, m->name);
            ok = check(m->type, mv, path, errp);
        }
        g_string_truncate(path, len);
    }
    return ok;
}

static bool check_object(const QapiType *t, JsonNode *v, GString *path, GError **errp)
{
    if (!JSON_NODE_HOLDS_OBJECT(v)) {
        return wrong_type(path, "object", errp);
    }
    JsonObject *o = json_node_get_object(v);
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    bool ok = check_members(t->members, o, seen, path, errp);
    if (ok && t->meta == QAPI_UNION) {
        const char *tag = json_object_get_string_member(o, t->tag->name);
        for (guint i = 0; i < t->variants->len; i++) {
            QapiVariant *var = t->variants->pdata[i];
            if (strcmp(var->value, tag) == 0) {
                ok = check_members(var->type->members, o, seen, path, errp);
                break;
            }
        }
    }
    JsonObjectIter it;
    const char *key;
    json_object_iter_init_ordered(&it, o);
    while (ok && json_object_iter_next_ordered(&it, &key, NULL)) {
        if (!g_hash_table_contains(seen, key)) {
            ok = tern_error_fail(errp, "Parameter '%s%s%s' is unexpected", path->str,
                                 path->len ? "." : "", key);
        }
    }
    g_hash_table_unref(seen);
    return ok;
}

static bool check_array(const QapiType *t, JsonNode *v, GString *path, GError **errp)
{
    if (!JSON_NODE_HOLDS_ARRAY(v)) {
        return wrong_type(path, "array", errp);
    }
    JsonArray *a = json_node_get_array(v);
    gsize len = path->len;
    bool ok = true;
    for (guint i = 0; ok && i < json_array_get_length(a); i++) {
        g_string_append_printf(path, "[%u]", i);
        ok = check(t->element, json_array_get_element(a, i), path, errp);
        g_string_truncate(path, len);
    }
    return ok;
}

/* An alternate takes the branch whose JSON type matches the value, as QEMU does. */
static bool branch_matches(const QapiType *bt, JsonNode *v)
{
    switch (bt->meta) {
    case QAPI_STRUCT:
    case QAPI_UNION:
        return JSON_NODE_HOLDS_OBJECT(v);
    case QAPI_ARRAY:
        return JSON_NODE_HOLDS_ARRAY(v);
    case QAPI_ENUM:
        return is_value(v, G_TYPE_STRING);
    case QAPI_ALTERNATE:
        return false;
    case QAPI_BUILTIN:
        break;
    }
    switch (bt->builtin) {
    case QAPI_STR:
        return is_value(v, G_TYPE_STRING);
    case QAPI_BOOL:
        return is_value(v, G_TYPE_BOOLEAN);
    case QAPI_NULL:
        return JSON_NODE_HOLDS_NULL(v);
    case QAPI_ANY:
        return true;
    case QAPI_NUMBER:
        return is_value(v, G_TYPE_DOUBLE) || is_value(v, G_TYPE_INT64) ||
               json_node_is_raw_number(v);
    default:
        return is_value(v, G_TYPE_INT64) || json_node_is_raw_number(v);
    }
}

static bool check_alternate(const QapiType *t, JsonNode *v, GString *path, GError **errp)
{
    for (guint i = 0; i < t->branches->len; i++) {
        const QapiType *bt = ((QapiMember *)t->branches->pdata[i])->type;
        if (branch_matches(bt, v)) {
            return check(bt, v, path, errp);
        }
    }
    return wrong_type(path, t->name, errp);
}

static bool check(const QapiType *t, JsonNode *v, GString *path, GError **errp)
{
    switch (t->meta) {
    case QAPI_BUILTIN:
        return check_builtin(t->builtin, v, path, errp);
    case QAPI_ENUM:
        return check_enum(t, v, path, errp);
    case QAPI_STRUCT:
    case QAPI_UNION:
        return check_object(t, v, path, errp);
    case QAPI_ARRAY:
        return check_array(t, v, path, errp);
    case QAPI_ALTERNATE:
        return check_alternate(t, v, path, errp);
    }
    g_assert_not_reached();
}

bool qapi_check_value(const QapiType *type, JsonNode *value, const char *name, GError **errp)
{
    GString *path = g_string_new(name);
    bool ok = check(type, value, path, errp);
    g_string_free(path, TRUE);
    return ok;
}

bool qapi_check_args(const QapiCommand *cmd, JsonObject *args, GError **errp)
{
    g_autoptr(JsonObject) declared = NULL;
    if (cmd->open_args) {
        declared = json_object_new();
        for (guint i = 0; i < cmd->args->members->len; i++) {
            const char *name = ((QapiMember *)cmd->args->members->pdata[i])->name;
            if (json_object_has_member(args, name)) {
                json_object_set_member(declared, name,
                                       json_node_copy(json_object_get_member(args, name)));
            }
        }
        args = declared;
    }
    JsonNode *node = json_node_init_object(json_node_alloc(), args);
    bool ok = qapi_check_value(cmd->args, node, NULL, errp);
    json_node_unref(node);
    return ok;
}
