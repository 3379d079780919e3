/*
 * qmp-json.c: JSON text in QEMU's layout.
 *
 * json-glib's generator writes {"a":1}; QEMU writes {"a": 1} and escapes everything
 * outside printable ASCII. Scripts written against QEMU sometimes match reply text
 * (grep '"status": "running"'), so tern writes what QEMU writes. The object model is
 * still json-glib's; only the spelling is ours.
 */
#include <inttypes.h>
#include <math.h>
#include "monitor/json-parser.h"
#include "qmp-internal.h"

static void append_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    const char *next;
    for (const char *p = s; *p; p = next) {
        gunichar c = g_utf8_get_char_validated(p, -1);
        if ((unsigned char)p[0] == 0xc0 && (unsigned char)p[1] == 0x80) {
            c = 0; /* NUL as the parser keeps it (json-parser.h) */
            next = p + 2;
        } else if (c == (gunichar)-1 || c == (gunichar)-2) {
            c = 0xFFFD; /* not UTF-8 (a -name from the command line): as QEMU does */
            next = p + 1;
        } else {
            next = g_utf8_next_char(p);
        }
        switch (c) {
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '\b':
            g_string_append(out, "\\b");
            break;
        case '\f':
            g_string_append(out, "\\f");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        default:
            if (c > 0xFFFF) {
                g_string_append_printf(out, "\\u%04X\\u%04X", 0xD800 + ((c - 0x10000) >> 10),
                                       0xDC00 + ((c - 0x10000) & 0x3FF));
            } else if (c < 0x20 || c >= 0x7F) {
                g_string_append_printf(out, "\\u%04X", c);
            } else {
                g_string_append_c(out, (char)c);
            }
        }
    }
    g_string_append_c(out, '"');
}

static void append_value(GString *out, JsonNode *node)
{
    GType t = json_node_get_value_type(node);
    if (json_node_is_raw_number(node)) {
        g_string_append(out, json_node_raw_number(node)); /* as the client wrote it */
    } else if (t == G_TYPE_STRING) {
        append_string(out, json_node_get_string(node));
    } else if (t == G_TYPE_BOOLEAN) {
        g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
    } else if (t == G_TYPE_DOUBLE && !isfinite(json_node_get_double(node))) {
        g_string_append(out, "null"); /* JSON has no infinity; 1e999 parses as one */
    } else if (t == G_TYPE_DOUBLE) {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        g_string_append(out,
                        g_ascii_formatd(buf, sizeof(buf), "%.17g", json_node_get_double(node)));
    } else {
        g_string_append_printf(out, "%" PRId64, json_node_get_int(node));
    }
}

void qmp_json_append(GString *out, JsonNode *node)
{
    switch (JSON_NODE_TYPE(node)) {
    case JSON_NODE_NULL:
        g_string_append(out, "null");
        break;
    case JSON_NODE_VALUE:
        append_value(out, node);
        break;
    case JSON_NODE_OBJECT: {
        JsonObjectIter it;
        const char *key;
        JsonNode *member;
        const char *sep = "";
        g_string_append_c(out, '{');
        json_object_iter_init_ordered(&it, json_node_get_object(node));
        while (json_object_iter_next_ordered(&it, &key, &member)) {
            g_string_append(out, sep);
            append_string(out, key);
            g_string_append(out, ": ");
            qmp_json_append(out, member);
            sep = ", ";
        }
        g_string_append_c(out, '}');
        break;
    }
    case JSON_NODE_ARRAY: {
        JsonArray *a = json_node_get_array(node);
        g_string_append_c(out, '[');
        for (guint i = 0; i < json_array_get_length(a); i++) {
            g_string_append(out, i ? ", " : "");
            qmp_json_append(out, json_array_get_element(a, i));
        }
        g_string_append_c(out, ']');
        break;
    }
    }
}

char *qmp_json_to_string(JsonNode *node)
{
    GString *out = g_string_new(NULL);
    qmp_json_append(out, node);
    return g_string_free(out, FALSE);
}
