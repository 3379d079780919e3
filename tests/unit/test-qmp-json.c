/*
 * test-qmp-json.c: QMP's JSON reader (monitor/json-parser.c) against what RFC 8259 and
 * QEMU refuse, NUL inside strings, and numbers outside int64, through the parser and
 * through the whole dispatcher (request text in, reply text out).
 */
#include <glib.h>
#include <string.h>
#include "migration/migration-params.h"
#include "monitor/json-parser.h"
#include "monitor/qmp.h"

/* The parser's verdict on `text`: NULL when accepted, else its message. */
static char *parse_error(const char *text, size_t len)
{
    GError *err = NULL;
    JsonNode *n = json_parse(text, len, 64, &err);
    if (n) {
        json_node_unref(n);
        return NULL;
    }
    g_assert_nonnull(err);
    char *msg = g_strdup(err->message);
    g_error_free(err);
    return msg;
}

static void refused(const char *text, const char *why)
{
    g_autofree char *msg = parse_error(text, strlen(text));
    if (!msg || !strstr(msg, why)) {
        g_error("'%s': expected refusal '%s', got %s", text, why, msg ? msg : "accepted");
    }
}

static void accepted(const char *text)
{
    g_autofree char *msg = parse_error(text, strlen(text));
    if (msg) {
        g_error("'%s' refused: %s", text, msg);
    }
}

static void test_rfc8259_numbers(void)
{
    refused("0x10", "invalid number");
    refused("010", "invalid number");
    refused("-01", "invalid number");
    refused(".5", "expecting value");
    refused("[.5]", "expecting value");
    refused("+1", "expecting value");
    refused("1.", "invalid number");
    refused("1e", "invalid number");
    refused("1.2.3", "invalid number");
    refused("-", "invalid number");
    refused("Infinity", "expecting value");
    refused("NaN", "expecting value");
    accepted("0");
    accepted("-0");
    accepted("0.5");
    accepted("-12.5e+3");
    accepted("1E-2");
}

static void test_rfc8259_strings(void)
{
    refused("\"\\q\"", "invalid escape sequence in string");
    refused("\"\\x41\"", "invalid escape sequence in string");
    refused("\"\\u12\"", "invalid hex escape sequence in string");
    refused("\"\\uD800\"", "is not followed by a low surrogate");
    refused("\"\\uDC00\"", "lone low surrogate");
    refused("\"a\tb\"", "control character 0x09 in string");
    refused("\"a\nb\"", "control character 0x0a in string");
    refused("\"\xff\"", "invalid UTF-8 sequence in string");
    refused("\"\xc0\x80\"", "invalid UTF-8 sequence in string");     /* overlong NUL */
    refused("\"\xed\xa0\x80\"", "invalid UTF-8 sequence in string"); /* a surrogate */
    refused("\"open", "missing end of string");
    accepted("\"\\\" \\\\ \\/ \\' \\b \\f \\n \\r \\t\"");
    accepted("'single \"quoted\"'");
    accepted("\"\\uD83D\\uDE00 \xc3\xa9\"");
}

static void test_structure(void)
{
    refused("{\"a\": 1, \"a\": 2}", "duplicate key");
    refused("{1: 2}", "key is not a string in object");
    refused("{\"a\" 1}", "missing ':' in object");
    refused("[1 2]", "expected ',' or ']' in array");
    refused("[1,]", "expecting value");
    refused("{\"a\": 1,}", "key is not a string in object");
    refused("{} {}", "unexpected data after the value");
    refused("tru", "invalid keyword");
    refused("nullx", "invalid keyword");
    refused("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]"
            "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
            "nesting depth limit exceeded");
    accepted(" {\"a\": [true, false, null, {}, []]}\n");
}

/* \u0000 is kept as C0 80, never as the end of the string. */
static void test_nul(void)
{
    GError *err = NULL;
    JsonNode *n = json_parse("\"ab\\u0000cd\"", 12, 8, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(json_node_get_string(n), ==,
                    "ab\xc0\x80"
                    "cd");
    json_node_unref(n);

    g_autofree char *quit = qmp_execute_text("{\"execute\": \"quit\\u0000-not-really\"}");
    g_assert_cmpstr(quit, ==,
                    "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
                    "quit\\u0000-not-really has not been found\"}}");
    g_autofree char *bare = qmp_execute_text("{\"execute\": \"query-name\\u0000\"}");
    g_assert_nonnull(strstr(bare, "CommandNotFound"));
    g_autofree char *link = qmp_execute_text(
        "{\"execute\": \"set_link\", \"arguments\": {\"name\": \"n0\\u0000x\", \"up\": true}}");
    g_assert_cmpstr(link, ==,
                    "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device "
                    "'n0\\u0000x' not found\"}}");
    /* Echoed as sent. */
    g_autofree char *id =
        qmp_execute_text("{\"execute\": \"query-name\", \"id\": \"a\\u0000\"}");
    g_assert_cmpstr(id, ==, "{\"return\": {}, \"id\": \"a\\u0000\"}");
}

/* A client matches replies by id: each must come back as it was sent. */
static void test_id_echo(void)
{
    const char *ids[] = {"9223372036854775807",
                         "9223372036854775808",
                         "18446744073709551615",
                         "18446744073709551616",
                         "-9223372036854775809",
                         "123456789012345678901234567890",
                         "0.1",
                         "1e999",
                         "-0.0",
                         "[18446744073709551616, {\"x\": 1.5E3}]"};
    for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
        g_autofree char *req =
            g_strdup_printf("{\"execute\": \"query-name\", \"id\": %s}", ids[i]);
        g_autofree char *want = g_strdup_printf("{\"return\": {}, \"id\": %s}", ids[i]);
        g_autofree char *got = qmp_execute_text(req);
        g_assert_cmpstr(got, ==, want);
    }
}

/* A raw number is never a string, whatever the schema expects. */
static void test_raw_numbers_are_not_strings(void)
{
    g_autofree char *cmd = qmp_execute_text("{\"execute\": 18446744073709551616}");
    g_assert_nonnull(strstr(cmd, "QMP input member 'execute' must be a string"));
    g_autofree char *arg = qmp_execute_text(
        "{\"execute\": \"set_link\", \"arguments\": {\"name\": 1e3, \"up\": true}}");
    g_assert_nonnull(strstr(arg, "Invalid parameter type for 'name', expected: string"));
}

/* uint64 in the schema takes the whole range; int64 refuses what lies beyond it. */
static void test_uint64_range(void)
{
    migrate_params_reset();
    g_autofree char *set =
        qmp_execute_text("{\"execute\": \"migrate-set-parameters\", \"arguments\": "
                         "{\"max-bandwidth\": 18446744073709551615}}");
    g_assert_cmpstr(set, ==, "{\"return\": {}}");
    g_assert_cmpuint(migrate_params()->max_bandwidth, ==, UINT64_MAX);
    g_autofree char *query = qmp_execute_text("{\"execute\": \"query-migrate-parameters\"}");
    g_assert_nonnull(strstr(query, "\"max-bandwidth\": 18446744073709551615"));
    g_autofree char *half =
        qmp_execute_text("{\"execute\": \"migrate-set-parameters\", \"arguments\": "
                         "{\"max-bandwidth\": 9223372036854775808}}");
    g_assert_cmpstr(half, ==, "{\"return\": {}}");
    g_assert_cmpuint(migrate_params()->max_bandwidth, ==, 1ULL << 63);
    g_autofree char *over =
        qmp_execute_text("{\"execute\": \"migrate-set-parameters\", \"arguments\": "
                         "{\"max-bandwidth\": 18446744073709551616}}");
    g_assert_nonnull(strstr(over, "Parameter 'max-bandwidth' expects uint64"));
    g_autofree char *frac = qmp_execute_text(
        "{\"execute\": \"migrate-set-parameters\", \"arguments\": {\"max-bandwidth\": 1.5}}");
    g_assert_nonnull(strstr(frac, "Parameter 'max-bandwidth' expects uint64"));
    /* Beyond int64 in a bounded parameter: refused by its bound, not read as 0. */
    g_autofree char *downtime =
        qmp_execute_text("{\"execute\": \"migrate-set-parameters\", \"arguments\": "
                         "{\"downtime-limit\": 9223372036854775808}}");
    g_assert_nonnull(strstr(downtime, "Parameter 'downtime_limit' expects an integer"));
    g_autofree char *rounds =
        qmp_execute_text("{\"execute\": \"migrate-set-parameters\", \"arguments\": "
                         "{\"announce-rounds\": 18446744073709551615}}");
    g_assert_nonnull(strstr(rounds, "error"));
    g_autofree char *wide = qmp_execute_text(
        "{\"execute\": \"announce-self\", \"arguments\": {\"initial\": 9223372036854775808, "
        "\"max\": 1, \"rounds\": 1, \"step\": 1}}");
    g_assert_nonnull(strstr(wide, "Parameter 'initial' expects integer"));
    migrate_params_reset();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_true(qapi_schema_load(NULL));
    g_test_add_func("/qmp/json/rfc8259-numbers", test_rfc8259_numbers);
    g_test_add_func("/qmp/json/rfc8259-strings", test_rfc8259_strings);
    g_test_add_func("/qmp/json/structure", test_structure);
    g_test_add_func("/qmp/json/nul", test_nul);
    g_test_add_func("/qmp/json/id-echo", test_id_echo);
    g_test_add_func("/qmp/json/raw-numbers-are-not-strings", test_raw_numbers_are_not_strings);
    g_test_add_func("/qmp/json/uint64-range", test_uint64_range);
    return g_test_run();
}
