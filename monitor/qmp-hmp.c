/*
 * qmp-hmp.c: human-monitor-command, for tools that pass a human monitor line through
 * QMP (libvirt's `qemu-monitor-command --hmp`, QEMU's qmp-test). tern has no human
 * monitor; it answers the few informational commands below in QEMU's words, and any
 * other line with QEMU's "unknown command" text (a reply, not an error, as in QEMU).
 */
#include <string.h>
#include "options.h"
#include "qmp-internal.h"
#include "runstate.h"

typedef char *HmpInfo(void);

static char *hmp_info_status(void)
{
    if (runstate_is_running()) {
        return g_strdup("VM status: running\r\n");
    }
    return g_strdup_printf("VM status: paused (%s)\r\n", runstate_name(runstate_get()));
}

static char *hmp_info_name(void)
{
    return vm_name() ? g_strdup_printf("%s\r\n", vm_name()) : g_strdup("");
}

static char *hmp_info_version(void)
{
    return g_strdup(TERN_VERSION " (tern-" TERN_VERSION ")\r\n");
}

static const struct {
    const char *name;
    HmpInfo *fn;
    const char *help;
} hmp_infos[] = {
    {"status", hmp_info_status, "show the current VM status (running|paused)"},
    {"name", hmp_info_name, "show the current VM name"},
    {"version", hmp_info_version, "show the version of tern"},
};

static char *hmp_help(void)
{
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(hmp_infos); i++) {
        g_string_append_printf(s, "info %s  -- %s\r\n", hmp_infos[i].name, hmp_infos[i].help);
    }
    return g_string_free(s, FALSE);
}

static char *hmp_run(const char *line)
{
    g_autofree char *copy = g_strstrip(g_strdup(line));
    g_auto(GStrv) words = g_strsplit_set(copy, " \t", -1);
    GPtrArray *w = g_ptr_array_new();
    for (char **p = words; *p; p++) {
        if (**p) {
            g_ptr_array_add(w, *p);
        }
    }
    char *out = NULL;
    const char *cmd = w->len ? g_ptr_array_index(w, 0) : "";
    if (w->len == 1 && (strcmp(cmd, "help") == 0 || strcmp(cmd, "?") == 0)) {
        out = hmp_help();
    } else if (w->len == 2 && strcmp(cmd, "info") == 0) {
        for (size_t i = 0; !out && i < G_N_ELEMENTS(hmp_infos); i++) {
            if (strcmp(g_ptr_array_index(w, 1), hmp_infos[i].name) == 0) {
                out = hmp_infos[i].fn();
            }
        }
    }
    if (!out && *cmd) {
        out = g_strdup_printf("unknown command: '%s'\r\n", copy);
    }
    g_ptr_array_unref(w);
    return out ? out : g_strdup("");
}

static JsonNode *qmp_human_monitor_command(JsonObject *args, QmpContext *ctx, GError **errp)
{
    g_autofree char *out = hmp_run(json_object_get_string_member(args, "command-line"));
    JsonNode *node = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(node, out);
    return node;
}
QMP_COMMAND("human-monitor-command", qmp_human_monitor_command)
