/*
 * qmp-opts.c: QMP arguments as a -device / -netdev option list, so device_add and
 * netdev_add reach the models through the same property parsing as the command line
 * (one table of properties per model, one set of checks and messages).
 */
#include <inttypes.h>
#include "error.h"
#include "monitor/qmp.h"

/* A scalar as the command line spells it: strings as they are, booleans on/off. */
static char *scalar_text(JsonNode *v)
{
    if (!JSON_NODE_HOLDS_VALUE(v)) {
        return NULL;
    }
    GType t = json_node_get_value_type(v);
    if (t == G_TYPE_STRING) {
        return g_strdup(json_node_get_string(v));
    }
    if (t == G_TYPE_BOOLEAN) {
        return g_strdup(json_node_get_boolean(v) ? "on" : "off");
    }
    if (t == G_TYPE_INT64) {
        return g_strdup_printf("%" PRId64, json_node_get_int(v));
    }
    if (t == G_TYPE_DOUBLE) {
        return g_strdup_printf("%.17g", json_node_get_double(v));
    }
    return NULL;
}

TernOpts *qmp_opts_from_args(const char *option, JsonObject *args, const char *driver_key,
                             GError **errp)
{
    TernOpts *o = g_new0(TernOpts, 1);
    o->option = g_strdup(option);
    o->keys = g_ptr_array_new_with_free_func(g_free);
    o->values = g_ptr_array_new_with_free_func(g_free);
    JsonObjectIter it;
    const char *key;
    JsonNode *v;
    json_object_iter_init_ordered(&it, args);
    while (json_object_iter_next_ordered(&it, &key, &v)) {
        char *text = scalar_text(v);
        if (!text) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "Parameter '%s' expects a string, number or boolean", key);
            opts_free(o);
            return NULL;
        }
        if (g_strcmp0(key, driver_key) == 0) {
            o->driver = text;
        } else if (g_strcmp0(key, "id") == 0) {
            o->id = text;
        } else {
            g_ptr_array_add(o->keys, g_strdup(key));
            g_ptr_array_add(o->values, text);
        }
    }
    return o;
}
