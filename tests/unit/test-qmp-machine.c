/*
 * test-qmp-machine.c: query-machines, qom-list-types and query-uuid answer in QEMU's
 * shape and list only what tern has (the -device registry is the reference).
 */
#include <string.h>
#include <json-glib/json-glib.h>
#include "hw/machine.h"
#include "hw/qdev.h"
#include "monitor/qmp.h"
#include "options.h"
#include "runstate.h"

/* Execute a request and return its "return" array/object (asserting success). */
static JsonNode *ok(const char *request)
{
    g_autofree char *text = qmp_execute_text(request);
    g_autoptr(JsonParser) p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
    JsonObject *reply = json_node_get_object(json_parser_get_root(p));
    if (!json_object_has_member(reply, "return")) {
        g_error("%s -> %s", request, text);
    }
    return json_node_copy(json_object_get_member(reply, "return"));
}

static void test_query_machines(void)
{
    g_autoptr(JsonNode) ret = ok("{'execute': 'query-machines'}");
    JsonArray *list = json_node_get_array(ret);
    g_assert_cmpuint(json_array_get_length(list), ==, 2);
    JsonObject *pc = json_array_get_object_element(list, 0);
    g_assert_cmpstr(json_object_get_string_member(pc, "name"), ==, "pc-i440fx-7.2");
    g_assert_cmpstr(json_object_get_string_member(pc, "alias"), ==, "pc");
    g_assert_true(json_object_get_boolean_member(pc, "is-default"));
    g_assert_cmpint(json_object_get_int_member(pc, "cpu-max"), ==, 64);
    g_assert_false(json_object_get_boolean_member(pc, "hotpluggable-cpus"));
    /* Nothing tern lacks: no CPU models, no RAM backend objects. */
    g_assert_false(json_object_has_member(pc, "default-cpu-type"));
    g_assert_false(json_object_has_member(pc, "default-ram-id"));
    JsonObject *none = json_array_get_object_element(list, 1);
    g_assert_cmpstr(json_object_get_string_member(none, "name"), ==, "none");
    g_assert_false(json_object_has_member(none, "is-default"));

    /* Every machine listed is one -machine takes. */
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *m = json_array_get_object_element(list, i);
        g_autofree char *arg =
            g_strdup_printf("%s,accel=qtest", json_object_get_string_member(m, "name"));
        char *argv[] = {"tern", "-machine", arg, "-qtest", "stdio", NULL};
        TernConfig *c = config_new();
        g_assert_cmpint(options_parse(c, 5, argv, stdout, NULL), ==, OPTIONS_RUN);
        config_free(c);
    }
}

static GHashTable *type_names(const char *request)
{
    g_autoptr(JsonNode) ret = ok(request);
    GHashTable *names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    JsonArray *list = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *t = json_array_get_object_element(list, i);
        g_hash_table_add(names, g_strdup(json_object_get_string_member(t, "name")));
    }
    return names;
}

static void test_qom_list_types(void)
{
    /* What qos-test asks: devices, abstract ones included. */
    g_autoptr(GHashTable) devices =
        type_names("{'execute': 'qom-list-types', "
                   "'arguments': {'implements': 'device', 'abstract': true}}");
    g_assert_true(g_hash_table_contains(devices, "device"));
    g_assert_true(g_hash_table_contains(devices, "pci-device"));
    g_assert_true(g_hash_table_contains(devices, "virtio-net-pci"));
    g_assert_false(g_hash_table_contains(devices, "pc-i440fx-7.2-machine"));
    g_assert_false(g_hash_table_contains(devices, "e1000"));

    /* Every PCI device type listed is one -device creates, and the reverse. */
    g_autoptr(GHashTable) pci =
        type_names("{'execute': 'qom-list-types', 'arguments': {'implements': 'pci-device'}}");
    g_assert_false(g_hash_table_contains(pci, "pci-device")); /* abstract: left out */
    GHashTableIter it;
    gpointer name;
    g_hash_table_iter_init(&it, pci);
    while (g_hash_table_iter_next(&it, &name, NULL)) {
        if (strcmp(name, "i440FX") != 0) { /* the host bridge: part of the board */
            g_assert_nonnull(device_class_find(name));
        }
    }
    g_assert_nonnull(device_class_find("virtio-net-pci"));
    g_assert_true(g_hash_table_contains(pci, "virtio-net-pci"));
    g_assert_true(g_hash_table_contains(pci, "virtio-mouse-pci"));
    g_assert_true(g_hash_table_contains(pci, "pci-testdev"));

    /* Without arguments: the concrete types, accelerators and machines among them. */
    g_autoptr(GHashTable) all = type_names("{'execute': 'qom-list-types'}");
    g_assert_true(g_hash_table_contains(all, "kvm-accel"));
    g_assert_true(g_hash_table_contains(all, "none-machine"));
    g_assert_false(g_hash_table_contains(all, "tcg-accel"));
    g_assert_false(g_hash_table_contains(all, "device"));

    g_autoptr(GHashTable) nothing =
        type_names("{'execute': 'qom-list-types', 'arguments': {'implements': 'no-such'}}");
    g_assert_cmpuint(g_hash_table_size(nothing), ==, 0);
}

static void test_query_uuid(void)
{
    vm_uuid_set(NULL);
    g_autoptr(JsonNode) zero = ok("{'execute': 'query-uuid'}");
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(zero), "UUID"), ==,
                    "00000000-0000-0000-0000-000000000000");
    static const uint8_t u[16] = {0x46, 0x00, 0xcb, 0x32, 0x38, 0xec, 0x4b, 0x2f,
                                  0x8a, 0xcb, 0x81, 0xc6, 0xea, 0x54, 0xf2, 0xd8};
    vm_uuid_set(u);
    g_autoptr(JsonNode) set = ok("{'execute': 'query-uuid'}");
    g_assert_cmpstr(json_object_get_string_member(json_node_get_object(set), "UUID"), ==,
                    "4600cb32-38ec-4b2f-8acb-81c6ea54f2d8");
    vm_uuid_set(NULL);
}

/* system_reset without a machine: RESET all the same; with KVM it cannot work. */
static void on_event(const char *name, JsonObject *data, void *opaque)
{
    if (strcmp(name, "RESET") == 0) {
        g_assert_cmpstr(json_object_get_string_member(data, "reason"), ==,
                        "host-qmp-system-reset");
        (*(int *)opaque)++;
    }
}

static void test_system_reset(void)
{
    int resets = 0;
    guint id = qmp_event_observer_add(on_event, &resets);
    g_autoptr(JsonNode) ret = ok("{'execute': 'system_reset'}");
    qmp_event_observer_remove(id);
    g_assert_cmpint(resets, ==, 1);
    g_autoptr(GError) err = NULL;
    g_assert_true(machine_reset_supported(ACCEL_QTEST, NULL));
    g_assert_false(machine_reset_supported(ACCEL_KVM, &err));
    g_assert_nonnull(strstr(err->message, "not supported with KVM"));
}

static const char *hmp(const char *line, JsonNode **keep)
{
    g_autofree char *req = g_strdup_printf(
        "{'execute': 'human-monitor-command', 'arguments': {'command-line': '%s'}}", line);
    *keep = ok(req);
    return json_node_get_string(*keep);
}

static void test_human_monitor_command(void)
{
    runstate_init(RUN_STATE_PRELAUNCH);
    vm_name_set("vm1");
    JsonNode *n[6];
    g_assert_cmpstr(hmp("info status", &n[0]), ==, "VM status: paused (prelaunch)\r\n");
    g_assert_cmpstr(hmp("  info   name ", &n[1]), ==, "vm1\r\n");
    g_assert_cmpstr(hmp("info version", &n[2]), ==,
                    TERN_VERSION " (tern-" TERN_VERSION ")\r\n");
    g_assert_nonnull(strstr(hmp("help", &n[3]), "info status"));
    /* Anything else: QEMU's text, as a reply. */
    g_assert_cmpstr(hmp("savevm snap", &n[4]), ==, "unknown command: 'savevm snap'\r\n");
    g_assert_cmpstr(hmp("", &n[5]), ==, "");
    for (int i = 0; i < 6; i++) {
        json_node_unref(n[i]);
    }
    vm_name_set(NULL);
    /* The argument is required (QEMU's qmp-test checks the error). */
    g_autofree char *text = qmp_execute_text("{'execute': 'human-monitor-command', 'id': 2}");
    g_assert_nonnull(strstr(text, "\"GenericError\""));
    g_assert_nonnull(strstr(text, "\"id\": 2"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    GError *err = NULL;
    if (!qapi_schema_load(&err)) {
        g_error("%s", err->message);
    }
    g_test_add_func("/qmp-machine/query-machines", test_query_machines);
    g_test_add_func("/qmp-machine/qom-list-types", test_qom_list_types);
    g_test_add_func("/qmp-machine/query-uuid", test_query_uuid);
    g_test_add_func("/qmp-machine/system-reset", test_system_reset);
    g_test_add_func("/qmp-machine/human-monitor-command", test_human_monitor_command);
    return g_test_run();
}
