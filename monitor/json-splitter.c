/* json-splitter.c: cut a byte stream into top-level JSON values (see json-splitter.h). */
#include <glib.h>
#include <stdio.h>
#include "monitor/json-splitter.h"

#define JSON_SPLITTER_KEEP (64 * 1024)

struct JsonSplitter {
    GString *buf; /* text of the value being collected */
    size_t max_len;
    unsigned max_depth;
    unsigned depth;      /* open braces and brackets */
    char quote;          /* the open string's delimiter, or 0 */
    bool escape;         /* the previous byte in a string was a backslash */
    bool scalar;         /* collecting a bare top-level scalar (number, true, null, ...) */
    bool skipping;       /* this value was reported as bad: skip to its end */
    bool handed_out;     /* buf was handed out: clear it on the next feed */
    bool recovering;     /* after a lexical error: skipping to a point to resynchronise */
    const char *pending; /* an error to report now */
    char error[64];
};

JsonSplitter *json_splitter_new(size_t max_len, unsigned max_depth)
{
    JsonSplitter *s = g_new0(JsonSplitter, 1);
    s->buf = g_string_new(NULL);
    s->max_len = max_len;
    s->max_depth = max_depth;
    return s;
}

void json_splitter_free(JsonSplitter *s)
{
    if (s) {
        g_string_free(s->buf, TRUE);
        g_free(s);
    }
}

void json_splitter_reset(JsonSplitter *s)
{
    GString *buf = s->buf;
    size_t max_len = s->max_len;
    unsigned max_depth = s->max_depth;
    *s = (JsonSplitter){.buf = buf, .max_len = max_len, .max_depth = max_depth};
    g_string_truncate(buf, 0);
}

/* Where the stream picks up again after a lexical error, as QEMU's lexer does: a
 * structural character, a control byte other than tab (a newline), or a byte that is
 * never UTF-8. A client can send one of the last to put the parser in a known state. */
static bool is_resync(unsigned char c)
{
    return (c < 0x20 && c != '\t') || c == 0xfe || c == 0xff || c == '{' || c == '}' ||
           c == '[' || c == ']';
}

/* A byte no JSON text can hold here: report it now and drop the value it was in (the
 * rest of it could swallow the requests after it), then resynchronise. */
static void lexical_error(JsonSplitter *s, unsigned char c, bool in_string)
{
    bool reported = s->skipping; /* that value was reported already */
    json_splitter_reset(s);
    s->recovering = true;
    if (reported) {
        return;
    }
    if (g_ascii_isprint(c) && !in_string) {
        snprintf(s->error, sizeof(s->error), "stray '%c'", c);
    } else {
        snprintf(s->error, sizeof(s->error), "stray byte 0x%02x%s", c,
                 in_string ? " in a string" : "");
    }
    s->pending = s->error;
}

/* Bytes that may continue a bare literal: numbers, true, false, null. */
static bool is_literal(unsigned char c)
{
    return g_ascii_isalnum(c) || c == '+' || c == '-' || c == '.';
}

static void fail_value(JsonSplitter *s, const char *why)
{
    if (!s->skipping) {
        s->skipping = true;
        s->pending = why;
        g_string_truncate(s->buf, 0);
    }
}

/* Advance over one byte outside a bare scalar; true when it ends the current value. */
static bool step(JsonSplitter *s, unsigned char c)
{
    bool ends = false;
    if (s->quote && (c < 0x20 || c == 0xfe || c == 0xff)) {
        lexical_error(s, c, true);
        return false;
    }
    if (s->quote) {
        if (s->escape) {
            s->escape = false;
        } else if (c == '\\') {
            s->escape = true;
        } else if (c == s->quote) {
            s->quote = 0;
            ends = s->depth == 0;
        }
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        if (s->depth == 0) {
            return false; /* between values: nothing to keep */
        }
    } else if (c == '{' || c == '[') {
        if (++s->depth > s->max_depth) {
            fail_value(s, "nesting depth limit exceeded");
        }
    } else if (c == '}' || c == ']') {
        /* An unmatched closer at top level is a value of its own, for the parser to
         * refuse. */
        s->depth -= s->depth > 0;
        ends = s->depth == 0;
    } else if (c == '"' || c == '\'') {
        s->quote = c;
    } else if (is_literal(c)) {
        s->scalar = s->depth == 0;
    } else if (c == ',' || c == ':') {
        ends = s->depth == 0;
    } else {
        /* Comments, stray punctuation, control bytes, bare UTF-8: not JSON. */
        lexical_error(s, c, false);
        return false;
    }
    if (!s->skipping) {
        if (s->buf->len >= s->max_len) {
            fail_value(s, "message size limit exceeded");
        } else {
            g_string_append_c(s->buf, c);
        }
    }
    return ends;
}

/* The current value ended. */
static JsonSplitStatus finish(JsonSplitter *s)
{
    bool skipped = s->skipping;
    const char *pending = s->pending;

    s->skipping = false;
    s->pending = NULL;
    s->depth = 0;
    s->handed_out = true;
    if (pending) {
        g_strlcpy(s->error, pending, sizeof(s->error));
        return JSON_SPLIT_ERROR;
    }
    if (skipped) { /* reported when it went bad */
        g_string_truncate(s->buf, 0);
        s->handed_out = false;
        return JSON_SPLIT_MORE;
    }
    return JSON_SPLIT_VALUE;
}

/* Report an error raised in the middle of a value; the rest of it will be skipped. */
static JsonSplitStatus report_pending(JsonSplitter *s)
{
    if (s->pending != s->error) {
        g_strlcpy(s->error, s->pending, sizeof(s->error));
    }
    s->pending = NULL;
    s->handed_out = true;
    return JSON_SPLIT_ERROR;
}

JsonSplitStatus json_splitter_feed(JsonSplitter *s, const char *data, size_t len,
                                   size_t *consumed)
{
    json_splitter_done(s);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = data[i];
        JsonSplitStatus st;
        if (s->recovering) {
            if (!is_resync(c)) {
                continue;
            }
            s->recovering = false; /* c starts afresh */
        }
        if (s->scalar && !is_literal(c)) {
            /* The scalar ended just before c, which starts what comes next. */
            s->scalar = false;
            st = finish(s);
            if (st != JSON_SPLIT_MORE) {
                *consumed = i;
                return st;
            }
        }
        if (step(s, c)) {
            st = finish(s);
        } else if (s->pending) {
            st = report_pending(s);
        } else {
            continue;
        }
        if (st != JSON_SPLIT_MORE) {
            *consumed = i + 1;
            return st;
        }
    }
    *consumed = len;
    return JSON_SPLIT_MORE;
}

void json_splitter_done(JsonSplitter *s)
{
    if (s->handed_out) {
        /* A large value is rare: an idle client must not keep its memory. */
        if (s->buf->allocated_len > JSON_SPLITTER_KEEP) {
            g_string_free(s->buf, TRUE);
            s->buf = g_string_new(NULL);
        }
        g_string_truncate(s->buf, 0);
        s->handed_out = false;
    }
}

const char *json_splitter_value(JsonSplitter *s, size_t *len)
{
    if (len) {
        *len = s->buf->len;
    }
    return s->buf->str;
}

const char *json_splitter_error(JsonSplitter *s)
{
    return s->error;
}
