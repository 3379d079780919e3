/* json-parser.c: QMP's JSON reader (see json-parser.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "monitor/json-parser.h"

/* Raw numbers: RAW_MARK, then the number's text. No parsed string holds 0xFF (it is not
 * UTF-8), so a client cannot forge one. */
#define RAW_MARK '\xff'

typedef struct {
    const char *p, *end;
    unsigned depth, max_depth;
    GError **errp;
} Parser;

static JsonNode *parse_value(Parser *ps);

/* The first error sticks: an inner failure is more precise than the ones it causes. */
static JsonNode *parser_fail(Parser *ps, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static JsonNode *parser_fail(Parser *ps, const char *fmt, ...)
{
    if (ps->errp && !*ps->errp) {
        va_list ap;
        va_start(ap, fmt);
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        va_end(ap);
        tern_error_fail(ps->errp, "%s", msg);
    }
    return NULL;
}

static void skip_ws(Parser *ps)
{
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) {
        ps->p++;
    }
}

static int hex4(const char *p, const char *end)
{
    if (end - p < 4) {
        return -1;
    }
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = g_ascii_xdigit_value(p[i]);
        if (d < 0) {
            return -1;
        }
        v = v << 4 | d;
    }
    return v;
}

/* At the backslash of \uXXXX; appends the code point (a surrogate pair as one). */
static bool parse_unicode_escape(Parser *ps, GString *out)
{
    int cp = hex4(ps->p + 2, ps->end);
    if (cp < 0) {
        parser_fail(ps, "invalid hex escape sequence in string");
        return false;
    }
    ps->p += 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        int lo = ps->end - ps->p >= 2 && ps->p[0] == '\\' && ps->p[1] == 'u'
                     ? hex4(ps->p + 2, ps->end)
                     : -1;
        if (lo < 0xDC00 || lo > 0xDFFF) {
            parser_fail(ps, "\\u%04X is not followed by a low surrogate", (unsigned)cp);
            return false;
        }
        ps->p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        parser_fail(ps, "\\u%04X is a lone low surrogate", (unsigned)cp);
        return false;
    }
    if (cp == 0) {
        g_string_append(out, "\xc0\x80"); /* QEMU's spelling of NUL inside a string */
    } else {
        g_string_append_unichar(out, cp);
    }
    return true;
}

static char *parse_string_text(Parser *ps)
{
    char quote = *ps->p++;
    GString *s = g_string_new(NULL);
    while (ps->p < ps->end && *ps->p != quote) {
        unsigned char c = *ps->p;
        if (c < 0x20) {
            parser_fail(ps, "control character 0x%02x in string", c);
            goto bad;
        }
        if (c >= 0x80) {
            gunichar u = g_utf8_get_char_validated(ps->p, ps->end - ps->p);
            if (u == (gunichar)-1 || u == (gunichar)-2) {
                parser_fail(ps, "invalid UTF-8 sequence in string");
                goto bad;
            }
            const char *next = g_utf8_next_char(ps->p);
            g_string_append_len(s, ps->p, next - ps->p);
            ps->p = next;
            continue;
        }
        if (c != '\\') {
            g_string_append_c(s, c);
            ps->p++;
            continue;
        }
        if (ps->end - ps->p < 2) {
            break;
        }
        static const char from[] = "\"\\/'bfnrt", to[] = "\"\\/'\b\f\n\r\t";
        const char *at = ps->p[1] ? strchr(from, ps->p[1]) : NULL;
        if (at) {
            g_string_append_c(s, to[at - from]);
            ps->p += 2;
        } else if (ps->p[1] == 'u') {
            if (!parse_unicode_escape(ps, s)) {
                goto bad;
            }
        } else {
            parser_fail(ps, "invalid escape sequence in string");
            goto bad;
        }
    }
    if (ps->p >= ps->end) {
        parser_fail(ps, "missing end of string");
        goto bad;
    }
    ps->p++;
    return g_string_free(s, FALSE);
bad:
    g_string_free(s, TRUE);
    return NULL;
}

static JsonNode *node_take_string(char *s)
{
    JsonNode *n = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(n, s);
    g_free(s);
    return n;
}

static JsonNode *raw_number(const char *text, size_t len)
{
    g_autofree char *s = g_strdup_printf("%c%.*s", RAW_MARK, (int)len, text);
    JsonNode *n = json_node_new(JSON_NODE_VALUE);
    json_node_set_string(n, s);
    return n;
}

static size_t digits(const char *p, const char *end)
{
    size_t n = 0;
    while (p + n < end && g_ascii_isdigit(p[n])) {
        n++;
    }
    return n;
}

/* RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static JsonNode *parse_number(Parser *ps)
{
    const char *start = ps->p, *p = ps->p, *end = ps->end;
    bool negative = *p == '-';
    p += negative;
    size_t n = digits(p, end);
    if (n == 0 || (n > 1 && *p == '0')) {
        return parser_fail(ps, "invalid number");
    }
    p += n;
    bool integer = true;
    if (p < end && *p == '.') {
        n = digits(p + 1, end);
        if (n == 0) {
            return parser_fail(ps, "invalid number");
        }
        p += 1 + n;
        integer = false;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        p += p < end && (*p == '+' || *p == '-');
        n = digits(p, end);
        if (n == 0) {
            return parser_fail(ps, "invalid number");
        }
        p += n;
        integer = false;
    }
    if (p < end && (g_ascii_isalnum(*p) || *p == '.' || *p == '_')) {
        return parser_fail(ps, "invalid number"); /* 0x10, 1a, 1.2.3 */
    }
    ps->p = p;
    g_autofree char *text = g_strndup(start, p - start);
    if (integer) {
        errno = 0;
        gint64 v = g_ascii_strtoll(text, NULL, 10);
        if (errno == 0) {
            JsonNode *node = json_node_new(JSON_NODE_VALUE);
            json_node_set_int(node, v);
            return node;
        }
    }
    return raw_number(start, p - start);
}

static JsonNode *parse_literal(Parser *ps)
{
    static const char *const words[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, words[i], n) == 0 &&
            (ps->p + n == ps->end || !g_ascii_isalnum(ps->p[n]))) {
            ps->p += n;
            if (i == 2) {
                return json_node_new(JSON_NODE_NULL);
            }
            JsonNode *node = json_node_new(JSON_NODE_VALUE);
            json_node_set_boolean(node, i == 0);
            return node;
        }
    }
    return parser_fail(ps, "invalid keyword");
}

/* After a member or element: true at the closer, false after a comma (more follow). */
static bool parse_separator(Parser *ps, char closer, bool *done)
{
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
        ps->p++;
        *done = false;
        return true;
    }
    if (ps->p < ps->end && *ps->p == closer) {
        ps->p++;
        *done = true;
        return true;
    }
    parser_fail(ps, closer == '}' ? "expected ',' or '}' in object"
                                  : "expected ',' or ']' in array");
    return false;
}

static JsonNode *parse_object(Parser *ps)
{
    JsonObject *o = json_object_new();
    ps->p++;
    skip_ws(ps);
    bool done = ps->p < ps->end && *ps->p == '}';
    ps->p += done;
    while (!done) {
        skip_ws(ps);
        if (ps->p >= ps->end || (*ps->p != '"' && *ps->p != '\'')) {
            parser_fail(ps, "key is not a string in object");
            goto bad;
        }
        g_autofree char *key = parse_string_text(ps);
        if (!key) {
            goto bad;
        }
        if (json_object_has_member(o, key)) {
            parser_fail(ps, "duplicate key");
            goto bad;
        }
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            parser_fail(ps, "missing ':' in object");
            goto bad;
        }
        ps->p++;
        JsonNode *v = parse_value(ps);
        if (!v) {
            goto bad;
        }
        json_object_set_member(o, key, v);
        if (!parse_separator(ps, '}', &done)) {
            goto bad;
        }
    }
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, o);
    return n;
bad:
    json_object_unref(o);
    return NULL;
}

static JsonNode *parse_array(Parser *ps)
{
    JsonArray *a = json_array_new();
    ps->p++;
    skip_ws(ps);
    bool done = ps->p < ps->end && *ps->p == ']';
    ps->p += done;
    while (!done) {
        JsonNode *v = parse_value(ps);
        if (!v) {
            json_array_unref(a);
            return NULL;
        }
        json_array_add_element(a, v);
        if (!parse_separator(ps, ']', &done)) {
            json_array_unref(a);
            return NULL;
        }
    }
    JsonNode *n = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(n, a);
    return n;
}

static JsonNode *parse_value(Parser *ps)
{
    skip_ws(ps);
    if (ps->p >= ps->end) {
        return parser_fail(ps, "expecting value");
    }
    char c = *ps->p;
    if (c == '{' || c == '[') {
        if (++ps->depth > ps->max_depth) {
            return parser_fail(ps, "nesting depth limit exceeded");
        }
        JsonNode *n = c == '{' ? parse_object(ps) : parse_array(ps);
        ps->depth--;
        return n;
    }
    if (c == '"' || c == '\'') {
        char *s = parse_string_text(ps);
        return s ? node_take_string(s) : NULL;
    }
    if (c == '-' || g_ascii_isdigit(c)) {
        return parse_number(ps);
    }
    if (c == 't' || c == 'f' || c == 'n') {
        return parse_literal(ps);
    }
    return parser_fail(ps, "expecting value");
}

JsonNode *json_parse(const char *text, size_t len, unsigned max_depth, GError **errp)
{
    Parser ps = {.p = text, .end = text + len, .max_depth = max_depth, .errp = errp};
    JsonNode *n = parse_value(&ps);
    if (n) {
        skip_ws(&ps);
        if (ps.p != ps.end) {
            json_node_unref(n);
            return parser_fail(&ps, "unexpected data after the value");
        }
    }
    return n;
}

bool json_node_is_raw_number(JsonNode *n)
{
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING &&
           json_node_get_string(n)[0] == RAW_MARK;
}

const char *json_node_raw_number(JsonNode *n)
{
    return json_node_is_raw_number(n) ? json_node_get_string(n) + 1 : NULL;
}

bool json_node_holds_string(JsonNode *n)
{
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING &&
           !json_node_is_raw_number(n);
}

bool json_node_get_uint64(JsonNode *n, uint64_t *v)
{
    if (JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64) {
        *v = (uint64_t)json_node_get_int(n);
        return true;
    }
    const char *raw = json_node_raw_number(n);
    if (!raw || !g_ascii_isdigit(raw[0])) {
        return false;
    }
    char *end;
    errno = 0;
    guint64 x = g_ascii_strtoull(raw, &end, 10);
    if (errno || *end) {
        return false; /* a fraction, an exponent, or beyond uint64 */
    }
    *v = x;
    return true;
}

JsonNode *json_node_new_uint64(uint64_t v)
{
    if (v <= INT64_MAX) {
        JsonNode *n = json_node_new(JSON_NODE_VALUE);
        json_node_set_int(n, (int64_t)v);
        return n;
    }
    char text[24];
    int len = g_snprintf(text, sizeof(text), "%" G_GUINT64_FORMAT, v);
    return raw_number(text, len);
}
