/*
 * test-qmp-schema.c: qapi-schema.json against the code (every command has a handler and
 * every handler a schema entry, runstate names), the schema-driven argument checks with
 * QEMU's messages, query-qmp-schema, and the schema parser's own checks.
 */
#include <glib.h>
#include <string.h>
#include "error.h"
#include "monitor/qapi-schema.h"
#include "monitor/qmp.h"
#include "runstate.h"

/* ---- the real schema and the registry ---- */

static void test_load(void)
{
    GError *err = NULL;
    g_assert_true(qapi_schema_load(&err));
    g_assert_no_error(err);
}

static void test_commands_match_handlers(void)
{
    GError *err = NULL;
    QapiSchema *s = qapi_schema();
    g_assert_true(qapi_schema_check_commands(s, &err));
    g_assert_no_error(err);
    GPtrArray *commands = qapi_schema_commands(s);
    for (guint i = 0; i < commands->len; i++) {
        const QapiCommand *c = commands->pdata[i];
        g_assert_true(qmp_command_is_registered(c->name));
        g_assert_nonnull(c->doc);
    }
    static const char *const core[] = {
        "qmp_capabilities", "query-version", "query-commands", "query-status",
        "query-name",       "stop",          "cont",           "quit",
        "query-qmp-schema"};
    for (guint i = 0; i < G_N_ELEMENTS(core); i++) {
        g_assert_nonnull(qapi_schema_command(s, core[i]));
    }
    for (const char *const *e = (const char *const[]){"STOP", "RESUME", "SHUTDOWN", NULL}; *e;
         e++) {
        g_assert_nonnull(qapi_schema_event(s, *e));
    }
}

/* A schema that lacks a registered command, or declares one nobody handles. */
static void test_registry_mismatch(void)
{
    GError *err = NULL;
    QapiSchema *s = qapi_schema_parse(
        "{\"commands\": [{\"name\": \"query-status\", \"doc\": \"d\"}]}", -1, &err);
    g_assert_no_error(err);
    g_assert_false(qapi_schema_check_commands(s, &err));
    g_assert_nonnull(strstr(err->message, "has a handler but is not declared"));
    g_clear_error(&err);
    qapi_schema_free(s);

    QapiSchema *full = qapi_schema();
    GString *text = g_string_new("{\"commands\": [");
    GPtrArray *commands = qapi_schema_commands(full);
    for (guint i = 0; i < commands->len; i++) {
        g_string_append_printf(text, "{\"name\": \"%s\", \"doc\": \"d\"}, ",
                               ((QapiCommand *)commands->pdata[i])->name);
    }
    g_string_append(text, "{\"name\": \"x-nobody-handles-this\", \"doc\": \"d\"}]}");
    s = qapi_schema_parse(text->str, text->len, &err);
    g_assert_no_error(err);
    g_assert_false(qapi_schema_check_commands(s, &err));
    g_assert_nonnull(strstr(err->message, "'x-nobody-handles-this' is declared"));
    g_clear_error(&err);
    qapi_schema_free(s);
    g_string_free(text, TRUE);
}

static JsonNode *dummy_handler(JsonObject *args, QmpContext *ctx, GError **errp)
{
    return NULL;
}

/* After start-up, registering a command the schema does not declare is refused. */
static void test_register_undeclared(void)
{
    g_assert_true(qapi_schema_load(NULL));
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*not declared*");
    qmp_register_command("x-undeclared", dummy_handler);
    g_test_assert_expected_messages();
    g_assert_false(qmp_command_is_registered("x-undeclared"));
}

static void test_runstate_enum(void)
{
    QapiType *t = qapi_schema_type(qapi_schema(), "RunState");
    g_assert_nonnull(t);
    g_assert_cmpuint(t->values->len, ==, RUN_STATE__MAX);
    for (int i = 0; i < RUN_STATE__MAX; i++) {
        g_assert_cmpstr(t->values->pdata[i], ==, runstate_name(i));
    }
}

/* ---- requests through the dispatcher ---- */

static void expect(const char *request, const char *reply)
{
    char *got = qmp_execute_text(request);
    g_assert_cmpstr(got, ==, reply);
    g_free(got);
}

#define GENERIC(desc) "{\"error\": {\"class\": \"GenericError\", \"desc\": \"" desc "\"}}"

static void test_protocol_errors(void)
{
    expect("[1]", GENERIC("QMP input must be a JSON object"));
    expect("\"x\"", GENERIC("QMP input must be a JSON object"));
    expect("{}", GENERIC("QMP input lacks member 'execute'"));
    expect("{\"execute\": 1}", GENERIC("QMP input member 'execute' must be a string"));
    expect("{\"execute\": \"stop\", \"bogus\": 1}",
           GENERIC("QMP input member 'bogus' is unexpected"));
    expect("{\"exec-oob\": \"stop\"}", GENERIC("QMP input member 'exec-oob' is unexpected"));
    expect("{\"execute\": \"stop\", \"arguments\": []}",
           GENERIC("QMP input member 'arguments' must be an object"));
    expect("{\"execute\": \"no-such\"}",
           "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command no-such has "
           "not been found\"}}");
    /* Non-ASCII is written as \uXXXX, as QEMU does. */
    expect("{\"execute\": \"caf\xc3\xa9\"}",
           "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command caf\\u00E9 "
           "has not been found\"}}");
    expect("{\"execute\": \"stop\", \"execute\": \"cont\"}",
           GENERIC("JSON parse error, duplicate key"));
    expect("{\"execute\": \"query-name\", \"id\": [{\"a\": 1, \"a\": 1}]}",
           GENERIC("JSON parse error, duplicate key"));
    /* An id comes back as it was sent, even a number no double holds. */
    expect("{\"execute\": \"query-name\", \"id\": 1e999}", "{\"return\": {}, \"id\": 1e999}");
    char *got = qmp_execute_text("{\"execute\": ");
    g_assert_true(g_str_has_prefix(got, "{\"error\": {\"class\": \"GenericError\", "
                                        "\"desc\": \"JSON parse error, "));
    g_free(got);
}

static void test_id_echo(void)
{
    expect("{\"id\": 1}", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"QMP input "
                          "lacks member 'execute'\"}, \"id\": 1}");
    expect("{\"execute\": \"query-name\", \"id\": {\"a\": [1, \"x\"]}}",
           "{\"return\": {}, \"id\": {\"a\": [1, \"x\"]}}");
    expect("{\"id\": \"abc\", \"execute\": \"no-such\"}",
           "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command no-such has "
           "not been found\"}, \"id\": \"abc\"}");
}

static void test_argument_errors(void)
{
    expect("{\"execute\": \"query-status\", \"arguments\": {\"x\": 1}}",
           GENERIC("Parameter 'x' is unexpected"));
    expect("{\"execute\": \"set_link\", \"arguments\": {\"name\": \"n\"}}",
           GENERIC("Parameter 'up' is missing"));
    expect("{\"execute\": \"set_link\", \"arguments\": {\"name\": 1, \"up\": true}}",
           GENERIC("Invalid parameter type for 'name', expected: string"));
    expect("{\"execute\": \"set_link\", \"arguments\": {\"name\": \"n\", \"up\": \"yes\"}}",
           GENERIC("Invalid parameter type for 'up', expected: boolean"));
    expect("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": \"oob\"}}",
           GENERIC("Invalid parameter type for 'enable', expected: array"));
    expect("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [1]}}",
           GENERIC("Invalid parameter type for 'enable[0]', expected: string"));
    expect("{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"x\"]}}",
           GENERIC("Parameter 'enable[0]' does not accept value 'x'"));
    /* Checks come before the handler: the already-negotiated answer needs valid input. */
    expect("{\"execute\": \"qmp_capabilities\"}",
           "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"Capabilities negotiation "
           "is already complete, command ignored\"}}");
}

static void test_query_commands(void)
{
    char *got = qmp_execute_text("{\"execute\": \"query-commands\"}");
    GPtrArray *commands = qapi_schema_commands(qapi_schema());
    GString *want = g_string_new("{\"return\": [");
    for (guint i = 0; i < commands->len; i++) {
        g_string_append_printf(want, "%s{\"name\": \"%s\"}", i ? ", " : "",
                               ((QapiCommand *)commands->pdata[i])->name);
    }
    g_string_append(want, "]}");
    g_assert_cmpstr(got, ==, want->str);
    g_string_free(want, TRUE);
    g_free(got);
}

/* ---- query-qmp-schema ---- */

static JsonArray *introspect(void)
{
    char *text = qmp_execute_text("{\"execute\": \"query-qmp-schema\"}");
    JsonParser *p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, text, -1, NULL));
    JsonObject *reply = json_node_get_object(json_parser_get_root(p));
    g_assert_true(json_object_has_member(reply, "return"));
    JsonArray *list = json_array_ref(json_object_get_array_member(reply, "return"));
    g_object_unref(p);
    g_free(text);
    return list;
}

static void check_ref(GHashTable *names, JsonObject *o, const char *key)
{
    if (json_object_has_member(o, key)) {
        const char *ref = json_object_get_string_member(o, key);
        if (!g_hash_table_contains(names, ref)) {
            g_error("query-qmp-schema refers to '%s' but does not define it", ref);
        }
    }
}

static void check_member_refs(GHashTable *names, JsonObject *o, const char *list,
                              const char *key)
{
    if (!json_object_has_member(o, list)) {
        return;
    }
    JsonArray *a = json_object_get_array_member(o, list);
    for (guint i = 0; i < json_array_get_length(a); i++) {
        check_ref(names, json_array_get_object_element(a, i), key);
    }
}

static void test_introspection(void)
{
    JsonArray *list = introspect();
    GHashTable *names = g_hash_table_new(g_str_hash, g_str_equal);
    GHashTable *entities = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *o = json_array_get_object_element(list, i);
        const char *name = json_object_get_string_member(o, "name");
        g_assert_false(g_hash_table_contains(names, name)); /* each entity once */
        g_hash_table_add(names, (char *)name);
        g_hash_table_insert(entities, (char *)name, o);
    }
    /* Closed under references. */
    for (guint i = 0; i < json_array_get_length(list); i++) {
        JsonObject *o = json_array_get_object_element(list, i);
        check_ref(names, o, "arg-type");
        check_ref(names, o, "ret-type");
        check_ref(names, o, "element-type");
        const char *meta = json_object_get_string_member(o, "meta-type");
        if (strcmp(meta, "object") == 0 || strcmp(meta, "alternate") == 0) {
            check_member_refs(names, o, "members", "type");
            check_member_refs(names, o, "variants", "type");
        }
    }
    /* Every command is there, with QEMU's shapes. */
    GPtrArray *commands = qapi_schema_commands(qapi_schema());
    for (guint i = 0; i < commands->len; i++) {
        JsonObject *c =
            g_hash_table_lookup(entities, ((QapiCommand *)commands->pdata[i])->name);
        g_assert_nonnull(c);
        g_assert_cmpstr(json_object_get_string_member(c, "meta-type"), ==, "command");
    }
    JsonObject *qs = g_hash_table_lookup(entities, "query-status");
    g_assert_cmpstr(json_object_get_string_member(qs, "arg-type"), ==, "q_empty");
    JsonObject *info =
        g_hash_table_lookup(entities, json_object_get_string_member(qs, "ret-type"));
    JsonArray *members = json_object_get_array_member(info, "members");
    gboolean saw_status = FALSE;
    for (guint i = 0; i < json_array_get_length(members); i++) {
        JsonObject *m = json_array_get_object_element(members, i);
        if (strcmp(json_object_get_string_member(m, "name"), "status") == 0) {
            JsonObject *e =
                g_hash_table_lookup(entities, json_object_get_string_member(m, "type"));
            g_assert_cmpstr(json_object_get_string_member(e, "meta-type"), ==, "enum");
            JsonArray *values = json_object_get_array_member(e, "values");
            g_assert_cmpstr(
                json_array_get_string_element(values, json_array_get_length(values) - 1), ==,
                "prelaunch-migrate");
            saw_status = TRUE;
        }
    }
    g_assert_true(saw_status);
    /* Optional members carry "default": null. */
    JsonObject *caps = g_hash_table_lookup(
        entities, json_object_get_string_member(
                      g_hash_table_lookup(entities, "qmp_capabilities"), "arg-type"));
    JsonObject *enable =
        json_array_get_object_element(json_object_get_array_member(caps, "members"), 0);
    g_assert_cmpstr(json_object_get_string_member(enable, "name"), ==, "enable");
    g_assert_true(json_object_has_member(enable, "default"));
    g_assert_true(json_object_get_null_member(enable, "default"));
    JsonObject *ev = g_hash_table_lookup(entities, "SHUTDOWN");
    g_assert_cmpstr(json_object_get_string_member(ev, "meta-type"), ==, "event");
    JsonObject *b = g_hash_table_lookup(entities, "int");
    g_assert_cmpstr(json_object_get_string_member(b, "json-type"), ==, "int");
    g_hash_table_unref(names);
    g_hash_table_unref(entities);
    json_array_unref(list);
}

/* ---- the checker, on a schema made for it ---- */

static const char test_schema[] =
    "{\"enums\": [{\"name\": \"Color\", \"doc\": \"d\", \"values\": [\"red\", \"blue\"]},"
    "             {\"name\": \"Kind\", \"doc\": \"d\", \"values\": [\"a\", \"b\"]}],"
    " \"structs\": ["
    "   {\"name\": \"Inner\", \"doc\": \"d\", \"members\": {\"b\": \"int8\", \"*c\": "
    "\"Color\"}},"
    "   {\"name\": \"VarA\", \"doc\": \"d\", \"members\": {\"x\": \"str\"}}],"
    " \"unions\": [{\"name\": \"U\", \"doc\": \"d\", \"base\": {\"kind\": \"Kind\"},"
    "   \"discriminator\": \"kind\", \"data\": {\"a\": \"VarA\"}}],"
    " \"alternates\": [{\"name\": \"StrOrNull\", \"doc\": \"d\","
    "   \"data\": {\"s\": \"str\", \"n\": \"null\"}}],"
    " \"commands\": [{\"name\": \"t\", \"doc\": \"d\", \"data\": {"
    "   \"*in\": \"Inner\", \"*l\": [\"Inner\"], \"*u8\": \"uint8\", \"*u64\": \"uint64\","
    "   \"*sz\": \"size\", \"*i\": \"int\", \"*n\": \"number\", \"*any\": \"any\","
    "   \"*u\": \"U\", \"*alt\": \"StrOrNull\", \"*nul\": \"null\"}}],"
    " \"events\": []}";

static void check_args(QapiSchema *s, const char *args, const char *error)
{
    JsonParser *p = json_parser_new();
    g_assert_true(json_parser_load_from_data(p, args, -1, NULL));
    GError *err = NULL;
    bool ok = qapi_check_args(qapi_schema_command(s, "t"),
                              json_node_get_object(json_parser_get_root(p)), &err);
    if (error) {
        g_assert_false(ok);
        g_assert_cmpstr(err->message, ==, error);
        g_assert_cmpint(err->code, ==, TERN_ERROR_GENERIC);
        g_error_free(err);
    } else {
        g_assert_no_error(err);
        g_assert_true(ok);
    }
    g_object_unref(p);
}

static void test_checker(void)
{
    GError *err = NULL;
    QapiSchema *s = qapi_schema_parse(test_schema, -1, &err);
    g_assert_no_error(err);

    check_args(s, "{}", NULL);
    check_args(s, "{\"in\": {\"b\": 1, \"c\": \"red\"}, \"l\": [{\"b\": -128}]}", NULL);
    check_args(s, "{\"in\": {}}", "Parameter 'in.b' is missing");
    check_args(s, "{\"in\": {\"b\": 1, \"z\": 0}}", "Parameter 'in.z' is unexpected");
    check_args(s, "{\"in\": 5}", "Invalid parameter type for 'in', expected: object");
    check_args(s, "{\"in\": {\"b\": 1, \"c\": \"green\"}}",
               "Parameter 'in.c' does not accept value 'green'");
    check_args(s, "{\"l\": [{\"b\": 1}, {\"b\": \"x\"}]}",
               "Invalid parameter type for 'l[1].b', expected: integer");
    check_args(s, "{\"l\": {}}", "Invalid parameter type for 'l', expected: array");
    check_args(s, "{\"in\": {\"b\": 128}}", "Parameter 'in.b' expects int8_t");
    check_args(s, "{\"in\": {\"b\": 1.5}}",
               "Invalid parameter type for 'in.b', expected: integer");
    check_args(s, "{\"u8\": 255, \"u64\": -1, \"sz\": 0}", NULL);
    check_args(s, "{\"u8\": 256}", "Parameter 'u8' expects uint8_t");
    check_args(s, "{\"u8\": -1}", "Parameter 'u8' expects uint8_t");
    check_args(s, "{\"u64\": \"1\"}", "Parameter 'u64' expects uint64");
    check_args(s, "{\"sz\": 1.0}", "Parameter 'sz' expects uint64");
    check_args(s, "{\"i\": true}", "Invalid parameter type for 'i', expected: integer");
    check_args(s, "{\"n\": 1, \"any\": [null, {}]}", NULL);
    check_args(s, "{\"n\": 1.5}", NULL);
    check_args(s, "{\"n\": \"1\"}", "Invalid parameter type for 'n', expected: number");
    check_args(s, "{\"nul\": null}", NULL);
    check_args(s, "{\"nul\": 0}", "Invalid parameter type for 'nul', expected: null");
    check_args(s, "{\"i\": null}", "Invalid parameter type for 'i', expected: integer");
    /* Flat union: base, discriminator, the variant's members. */
    check_args(s, "{\"u\": {\"kind\": \"a\", \"x\": \"s\"}}", NULL);
    check_args(s, "{\"u\": {\"kind\": \"b\"}}", NULL);
    check_args(s, "{\"u\": {\"kind\": \"a\"}}", "Parameter 'u.x' is missing");
    check_args(s, "{\"u\": {\"kind\": \"b\", \"x\": \"s\"}}", "Parameter 'u.x' is unexpected");
    check_args(s, "{\"u\": {\"kind\": \"c\"}}", "Parameter 'u.kind' does not accept value 'c'");
    check_args(s, "{\"u\": {}}", "Parameter 'u.kind' is missing");
    /* Alternate: the branch follows the JSON type. */
    check_args(s, "{\"alt\": \"s\"}", NULL);
    check_args(s, "{\"alt\": null}", NULL);
    check_args(s, "{\"alt\": 1}", "Invalid parameter type for 'alt', expected: StrOrNull");
    qapi_schema_free(s);
}

static void schema_error(const char *text, const char *message)
{
    GError *err = NULL;
    g_assert_null(qapi_schema_parse(text, -1, &err));
    g_assert_nonnull(err);
    if (!strstr(err->message, message)) {
        g_error("schema error \"%s\" does not mention \"%s\"", err->message, message);
    }
    g_error_free(err);
}

static void test_schema_errors(void)
{
    schema_error("[]", "must be a JSON object");
    schema_error("{\"comands\": []}", "unknown section 'comands'");
    schema_error("{\"commands\": [{\"name\": \"x\"}]}", "lacks a 'doc'");
    schema_error("{\"commands\": [{\"name\": \"x\", \"doc\": \"d\", \"retrns\": \"int\"}]}",
                 "unknown key 'retrns'");
    schema_error(
        "{\"commands\": [{\"name\": \"x\", \"doc\": \"d\", \"data\": {\"a\": \"Nope\"}}]}",
        "unknown type 'Nope'");
    schema_error("{\"commands\": [{\"name\": \"x\", \"doc\": \"d\"}, {\"name\": \"x\", "
                 "\"doc\": \"d\"}]}",
                 "declared twice");
    schema_error("{\"structs\": [{\"name\": \"str\", \"doc\": \"d\", \"members\": {}}]}",
                 "taken or reserved");
    schema_error("{\"enums\": [{\"name\": \"E\", \"doc\": \"d\", \"values\": [\"a\", \"a\"]}]}",
                 "duplicate value");
    schema_error("{\"events\": [{\"name\": \"lower\", \"doc\": \"d\"}]}", "UPPER_CASE");
    schema_error("{\"commands\": [{\"name\": \"x\", \"doc\": \"d\", \"data\": {\"a\": "
                 "[\"int\", \"str\"]}}]}",
                 "one element");
    schema_error(
        "{\"structs\": [{\"name\": \"S\", \"doc\": \"d\", \"members\": {\"a\": \"int\"}}],"
        " \"unions\": [{\"name\": \"U\", \"doc\": \"d\", \"base\": {\"a\": \"int\"},"
        " \"discriminator\": \"a\", \"data\": {}}]}",
        "mandatory enum member");
    schema_error(
        "{\"alternates\": [{\"name\": \"A\", \"doc\": \"d\", \"data\": {\"i\": \"int\","
        " \"n\": \"number\"}}]}",
        "same JSON type");
    schema_error("{\"commands\": [{\"name\": \"x\", \"doc\": \"d\", \"data\": \"int\"}]}",
                 "must name a struct");
}

/* ---- events ---- */

typedef struct {
    int count;
    char *last;
    GThread *thread;
} Seen;

static void observe(const char *name, JsonObject *data, void *opaque)
{
    Seen *seen = opaque;
    seen->count++;
    g_free(seen->last);
    seen->last = g_strdup(name);
    seen->thread = g_thread_self();
}

static void *emit_from_thread(void *unused)
{
    qmp_event_emit("RESUME", NULL);
    return NULL;
}

static void test_events(void)
{
    Seen seen = {0};
    guint id = qmp_event_observer_add(observe, &seen);

    /* On the main thread: delivered at once. */
    qmp_event_emit("STOP", NULL);
    g_assert_cmpint(seen.count, ==, 1);
    g_assert_cmpstr(seen.last, ==, "STOP");

    /* From another thread: delivered by the main loop, on the main thread. */
    GThread *t = g_thread_new("emitter", emit_from_thread, NULL);
    g_thread_join(t);
    g_assert_cmpint(seen.count, ==, 1);
    while (seen.count < 2) {
        g_main_context_iteration(NULL, TRUE);
    }
    g_assert_cmpstr(seen.last, ==, "RESUME");
    g_assert_true(seen.thread == g_thread_self());

    /* Undeclared events, and data that does not match, are bugs: loud. */
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*'NO_SUCH' is not declared*");
    qmp_event_emit("NO_SUCH", NULL);
    g_test_assert_expected_messages();
    g_assert_cmpint(seen.count, ==, 2);
    JsonObject *bad = json_object_new();
    json_object_set_string_member(bad, "reason", "sunspots");
    g_test_expect_message(G_LOG_DOMAIN, G_LOG_LEVEL_CRITICAL, "*SHUTDOWN*does not match*");
    qmp_event_emit("SHUTDOWN", bad);
    g_test_assert_expected_messages();

    qmp_event_observer_remove(id);
    qmp_event_emit("STOP", NULL);
    g_assert_cmpint(seen.count, ==, 3);
    g_free(seen.last);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/schema/load", test_load);
    g_test_add_func("/qmp/schema/commands-match-handlers", test_commands_match_handlers);
    g_test_add_func("/qmp/schema/registry-mismatch", test_registry_mismatch);
    g_test_add_func("/qmp/schema/register-undeclared", test_register_undeclared);
    g_test_add_func("/qmp/schema/runstate-enum", test_runstate_enum);
    g_test_add_func("/qmp/dispatch/protocol-errors", test_protocol_errors);
    g_test_add_func("/qmp/dispatch/id-echo", test_id_echo);
    g_test_add_func("/qmp/dispatch/argument-errors", test_argument_errors);
    g_test_add_func("/qmp/dispatch/query-commands", test_query_commands);
    g_test_add_func("/qmp/introspect/closed-and-shaped", test_introspection);
    g_test_add_func("/qmp/check/types", test_checker);
    g_test_add_func("/qmp/schema/errors", test_schema_errors);
    g_test_add_func("/qmp/events/delivery", test_events);
    return g_test_run();
}
