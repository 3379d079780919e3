/* test-qmp-splitter.c: cutting a QMP byte stream into JSON values. */
#include <glib.h>
#include <string.h>
#include "monitor/json-splitter.h"

/* Feed `input` in chunks of `chunk` bytes; return what came out, one line per value:
 * "V <text>" or "E <error>". */
static char *split(JsonSplitter *s, const char *input, size_t len, size_t chunk)
{
    GString *out = g_string_new(NULL);
    for (size_t off = 0; off < len;) {
        size_t n = MIN(chunk, len - off);
        size_t used;
        JsonSplitStatus st = json_splitter_feed(s, input + off, n, &used);
        g_assert_cmpuint(used, <=, n);
        off += used;
        if (st == JSON_SPLIT_VALUE) {
            g_string_append_printf(out, "V %s\n", json_splitter_value(s, NULL));
        } else if (st == JSON_SPLIT_ERROR) {
            g_string_append_printf(out, "E %s\n", json_splitter_error(s));
        } else {
            g_assert_cmpuint(used, ==, n);
        }
    }
    return g_string_free(out, FALSE);
}

static void check(const char *input, const char *expected)
{
    /* Whole, then byte by byte: the cut must not depend on how bytes arrive. */
    for (size_t chunk = strlen(input) + 1; chunk; chunk = chunk > 1 ? 1 : 0) {
        JsonSplitter *s = json_splitter_new(1024, 8);
        char *got = split(s, input, strlen(input), chunk);
        g_assert_cmpstr(got, ==, expected);
        g_free(got);
        json_splitter_free(s);
    }
}

static void test_objects(void)
{
    check("{\"a\": 1}", "V {\"a\": 1}\n");
    check("{\"a\":1}{\"b\":2}\n", "V {\"a\":1}\nV {\"b\":2}\n");
    check("  {\"execute\":\n  \"stop\"\n}\n", "V {\"execute\":\n  \"stop\"\n}\n");
    check("[1, [2, {\"x\": []}]] {}", "V [1, [2, {\"x\": []}]]\nV {}\n");
    check("{\"a\": 1", ""); /* incomplete: nothing yet */
    check("\n \t\r\n", "");
}

static void test_strings(void)
{
    check("{\"a\": \"}{][\"}", "V {\"a\": \"}{][\"}\n");
    check("{\"a\": \"\\\"}\"}", "V {\"a\": \"\\\"}\"}\n");
    check("{\"a\": \"\\\\\"}", "V {\"a\": \"\\\\\"}\n");
    check("{'a': '}\"'}", "V {'a': '}\"'}\n");
    check("\"top\" 'level'", "V \"top\"\nV 'level'\n");
}

static void test_scalars(void)
{
    check("42\n", "V 42\n");
    check("true false null -1.5e3 ", "V true\nV false\nV null\nV -1.5e3\n");
    check("12{}", "V 12\nV {}\n");
    check("7", ""); /* a number may go on */
    check("}\n", "V }\n");
    check(",", "V ,\n");
}

static void test_stray(void)
{
    check("#\n{}", "E stray '#'\nV {}\n");
    /* As QEMU's lexer: the value is dropped at once and the stream resynchronises at the
     * next structural character or control byte, here the closing brace. */
    check("{\"a\": /* c */ 1}{}", "E stray '/'\nV }\nV {}\n");
    check("{\"a\": \x01}", "E stray byte 0x01\nV }\n");
    JsonSplitter *s = json_splitter_new(1024, 8);
    char *got = split(s, "\0\n{}", 4, 64);
    g_assert_cmpstr(got, ==, "E stray byte 0x00\nV {}\n");
    g_free(got);
    json_splitter_free(s);
    check("{\"\xc3\xa9\": 1}", "V {\"\xc3\xa9\": 1}\n"); /* UTF-8 inside strings is fine */
}

/* QEMU's tests/qtest/qmp-test.c test_malformed: each bad input is answered at once,
 * with no newline or closing brace needed, and the next request is read afresh. */
static void test_recovery(void)
{
    const char *next = "{ 'execute': 'no-such-cmd' }";
    const char *bad[] = {"{\xff", "{\x01", "{'bad \xff", "{'execute': 'nonexistent', 'id':'\n",
                         "%%p"};
    const char *want[] = {"E stray byte 0xff\n", "E stray byte 0x01\n",
                          "E stray byte 0xff in a string\n", "E stray byte 0x0a in a string\n",
                          "E stray '%'\n"};
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *input = g_strconcat(bad[i], next, NULL);
        g_autofree char *expected = g_strdup_printf("%sV %s\n", want[i], next);
        check(input, expected);
    }
    /* Raw control bytes and 0xFE/0xFF never belong in a string; other UTF-8 does. */
    check("['a\tb']", "E stray byte 0x09 in a string\nV ]\n");
    check("[\"\xfe\"]", "E stray byte 0xfe in a string\nV ]\n");
    /* Skipping after an error stops at a newline, which starts nothing itself. */
    check("{\"a\": @ 1, 2\n{}", "E stray '@'\nV {}\n");
    /* A value already refused (too deep) is not reported twice. */
    check("[[[[[[[[[ # ]]]]]]]]]\n{}", "E nesting depth limit exceeded\nV ]\nV ]\nV ]\n"
                                       "V ]\nV ]\nV ]\nV ]\nV ]\nV ]\nV {}\n");
}

static void test_depth(void)
{
    check("[[[[[[[[[]]]]]]]]] {}", "E nesting depth limit exceeded\nV {}\n");
    check("[[[[[[[[]]]]]]]]", "V [[[[[[[[]]]]]]]]\n");
}

static void test_size(void)
{
    JsonSplitter *s = json_splitter_new(16, 8);
    char *got = split(s, "{\"a\": \"0123456789abcdef\"} {\"b\":2}", 33, 64);
    g_assert_cmpstr(got, ==, "E message size limit exceeded\nV {\"b\":2}\n");
    g_free(got);
    /* A huge bare scalar: one error, then the stream goes on. */
    got = split(s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n{}", 39, 5);
    g_assert_cmpstr(got, ==, "E message size limit exceeded\nV {}\n");
    g_free(got);
    /* Exactly at the limit is fine. */
    got = split(s, "[\"0123456789ab\"]", 16, 3);
    g_assert_cmpstr(got, ==, "V [\"0123456789ab\"]\n");
    g_free(got);
    json_splitter_free(s);
}

static void test_reset(void)
{
    JsonSplitter *s = json_splitter_new(1024, 8);
    char *got = split(s, "{\"a\": \"open", 11, 64);
    g_assert_cmpstr(got, ==, "");
    g_free(got);
    json_splitter_reset(s);
    got = split(s, "{}", 2, 64);
    g_assert_cmpstr(got, ==, "V {}\n");
    g_free(got);
    json_splitter_free(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/splitter/objects", test_objects);
    g_test_add_func("/qmp/splitter/strings", test_strings);
    g_test_add_func("/qmp/splitter/scalars", test_scalars);
    g_test_add_func("/qmp/splitter/stray", test_stray);
    g_test_add_func("/qmp/splitter/recovery", test_recovery);
    g_test_add_func("/qmp/splitter/depth", test_depth);
    g_test_add_func("/qmp/splitter/size", test_size);
    g_test_add_func("/qmp/splitter/reset", test_reset);
    return g_test_run();
}
