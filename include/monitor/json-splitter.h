/*
 * json-splitter.h: cut a byte stream into top-level JSON values without parsing them.
 *
 * QMP clients send JSON objects back to back: one may span many lines, several may
 * share one. The splitter counts braces and brackets, aware of strings ("..." and
 * QEMU's '...') and backslash escapes, and hands out each complete value's text for
 * json-parser.h to read. A bare scalar at top level ends at the first byte that cannot
 * continue it (QEMU's lexer does the same).
 *
 * A byte that cannot stand where it is (outside a string: anything that starts no JSON
 * token; inside one: a control byte, 0xFE or 0xFF) is reported at once and the value it
 * was in is dropped; then, as QEMU's lexer does, bytes are skipped up to the next brace,
 * bracket or control byte other than tab, where reading starts afresh.
 *
 * Memory stays bounded: a value longer than max_len or nested deeper than max_depth is
 * reported at once; the rest of it is then skipped (still counted, not stored) and the
 * stream resynchronises where that value ends.
 */
#ifndef TERN_MONITOR_JSON_SPLITTER_H
#define TERN_MONITOR_JSON_SPLITTER_H

#include <stdbool.h>
#include <stddef.h>

typedef struct JsonSplitter JsonSplitter;

typedef enum {
    JSON_SPLIT_MORE,  /* all input consumed, no complete value yet */
    JSON_SPLIT_VALUE, /* a value is complete: json_splitter_value() */
    JSON_SPLIT_ERROR, /* a value is malformed or too big: json_splitter_error() */
} JsonSplitStatus;

JsonSplitter *json_splitter_new(size_t max_len, unsigned max_depth);
void json_splitter_free(JsonSplitter *s);
/* Forget any partial value (a client reconnected, or gave up on it). */
void json_splitter_reset(JsonSplitter *s);

/* Consume bytes until one value completes (or fails) or the input runs out. Returns
 * the status; *consumed says how much of `data` was used. Call again with the rest. */
JsonSplitStatus json_splitter_feed(JsonSplitter *s, const char *data, size_t len,
                                   size_t *consumed);
/* After JSON_SPLIT_VALUE: the value's text, NUL-terminated; valid until the next feed. */
const char *json_splitter_value(JsonSplitter *s, size_t *len);
/* The caller is done with the value or error just reported; memory a large value took
 * is given back (the next feed does this too). */
void json_splitter_done(JsonSplitter *s);
/* After JSON_SPLIT_ERROR: what was wrong, for a "JSON parse error, ..." reply. */
const char *json_splitter_error(JsonSplitter *s);

#endif
