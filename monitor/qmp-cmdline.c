/*
 * qmp-cmdline.c: query-command-line-options, from the options' own parameter lists
 * (options.c), so what libvirt is told is what the parsers accept.
 */
#include <string.h>
#include "error.h"
#include "options.h"
#include "qmp-internal.h"

static JsonObject *option_info(const OptionParamList *l)
{
    JsonArray *params = json_array_new();
    for (const OptionParam *p = l->params; p->name; p++) {
        JsonObject *o = json_object_new();
        json_object_set_string_member(o, "name", p->name);
        json_object_set_string_member(o, "type", p->type);
        json_array_add_object_element(params, o);
    }
    JsonObject *info = json_object_new();
    json_object_set_string_member(info, "option", l->option);
    json_object_set_array_member(info, "parameters", params);
    return info;
}

static JsonNode *qmp_query_command_line_options(JsonObject *args, QmpContext *ctx,
                                                GError **errp)
{
    const char *only = json_object_get_string_member_with_default(args, "option", NULL);
    const OptionParamList *lists;
    size_t n = options_param_lists(&lists);
    JsonArray *list = json_array_new();
    for (size_t i = 0; i < n; i++) {
        if (!only || strcmp(only, lists[i].option) == 0) {
            json_array_add_object_element(list, option_info(&lists[i]));
        }
    }
    if (only && json_array_get_length(list) == 0) {
        json_array_unref(list);
        tern_error_fail(errp, "invalid option name: %s", only);
        return NULL;
    }
    return qmp_node_take_array(list);
}
QMP_COMMAND("query-command-line-options", qmp_query_command_line_options)
