/*
 * qmp-machine.c: what the machine is made of, as QEMU's management and test tools ask
 * for it (query-machines, qom-list-types, query-uuid), and system_reset. The answers
 * list only what tern really builds; tests/unit/test-qmp-machine.c holds the type table
 * to the -device registry.
 */
#include <string.h>
#include "error.h"
#include "hw/machine.h"
#include "options.h"
#include "qmp-internal.h"

#define PC_CPU_MAX 64 /* options.c's -smp bound */

static JsonObject *machine_info(const char *name, const char *alias, bool is_default,
                                int cpu_max)
{
    JsonObject *m = json_object_new();
    json_object_set_string_member(m, "name", name);
    if (alias) {
        json_object_set_string_member(m, "alias", alias);
    }
    if (is_default) {
        json_object_set_boolean_member(m, "is-default", TRUE);
    }
    json_object_set_int_member(m, "cpu-max", cpu_max);
    json_object_set_boolean_member(m, "hotpluggable-cpus", FALSE);
    json_object_set_boolean_member(m, "numa-mem-supported", FALSE);
    json_object_set_boolean_member(m, "deprecated", FALSE);
    return m;
}

/* No default-cpu-type and no default-ram-id: tern has neither CPU models nor memory
 * backends, and a client that sees them would pass -cpu and -object options. */
static JsonNode *qmp_query_machines(JsonObject *args, QmpContext *ctx, GError **errp)
{
    JsonArray *list = json_array_new();
    json_array_add_object_element(list, machine_info("pc-i440fx-7.2", "pc", true, PC_CPU_MAX));
    /* QEMU's none machine takes one CPU; tern's runs none (qtest) or none at all. */
    json_array_add_object_element(list, machine_info("none", NULL, false, 1));
    return qmp_node_take_array(list);
}
QMP_COMMAND("query-machines", qmp_query_machines)

/* The type hierarchy tern implements, QEMU's names. A type is listed only when tern has
 * the thing: a -device model, a board device, a machine or an accelerator. */
static const struct QomType {
    const char *name, *parent;
    bool abstract;
} qom_types[] = {
    {"device", NULL, true},
    {"pci-device", "device", true},
    {"machine", NULL, true},
    {"accel", NULL, true},
    {"pc-i440fx-7.2-machine", "machine", false},
    {"none-machine", "machine", false},
    {"kvm-accel", "accel", false},
    {"qtest-accel", "accel", false},
    {"i440FX-pcihost", "device", false},
    {"i440FX", "pci-device", false},
    {"isa-serial", "device", false},
    {"virtio-net-pci", "pci-device", false},
    {"virtio-mouse-pci", "pci-device", false},
    {"pci-testdev", "pci-device", false},
};

static const struct QomType *qom_type_find(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(qom_types); i++) {
        if (strcmp(qom_types[i].name, name) == 0) {
            return &qom_types[i];
        }
    }
    return NULL;
}

static bool qom_type_implements(const struct QomType *t, const char *ancestor)
{
    for (; t; t = t->parent ? qom_type_find(t->parent) : NULL) {
        if (strcmp(t->name, ancestor) == 0) {
            return true;
        }
    }
    return false;
}

static JsonNode *qmp_qom_list_types(JsonObject *args, QmpContext *ctx, GError **errp)
{
    const char *implements =
        json_object_get_string_member_with_default(args, "implements", NULL);
    bool abstract = json_object_get_boolean_member_with_default(args, "abstract", FALSE);
    JsonArray *list = json_array_new();
    for (size_t i = 0; i < G_N_ELEMENTS(qom_types); i++) {
        const struct QomType *t = &qom_types[i];
        if ((t->abstract && !abstract) || (implements && !qom_type_implements(t, implements))) {
            continue;
        }
        JsonObject *info = json_object_new();
        json_object_set_string_member(info, "name", t->name);
        if (t->abstract) {
            json_object_set_boolean_member(info, "abstract", TRUE);
        }
        if (t->parent) {
            json_object_set_string_member(info, "parent", t->parent);
        }
        json_array_add_object_element(list, info);
    }
    return qmp_node_take_array(list);
}
QMP_COMMAND("qom-list-types", qmp_qom_list_types)

static JsonNode *qmp_query_uuid(JsonObject *args, QmpContext *ctx, GError **errp)
{
    g_autofree char *uuid = vm_uuid_string();
    JsonObject *info = json_object_new();
    json_object_set_string_member(info, "UUID", uuid);
    return qmp_node_take_object(info);
}
QMP_COMMAND("query-uuid", qmp_query_uuid)

/* QEMU's order: the devices reset, then RESET; the reply follows. */
static JsonNode *qmp_system_reset(JsonObject *args, QmpContext *ctx, GError **errp)
{
    if (!machine_system_reset(errp)) {
        return NULL;
    }
    JsonObject *data = json_object_new();
    json_object_set_boolean_member(data, "guest", FALSE);
    json_object_set_string_member(data, "reason", "host-qmp-system-reset");
    qmp_event_emit("RESET", data);
    return NULL;
}
QMP_COMMAND("system_reset", qmp_system_reset)
