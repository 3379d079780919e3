/*
 * json-parser.h: QMP's JSON reader. One value's text (as the splitter cut it) becomes a
 * json-glib node tree, read as QEMU's parser reads it and no more leniently:
 *
 *  - RFC 8259 numbers only: no hex, no leading zeros, no `.5`, no `+1`;
 *  - strings in "..." or QEMU's '...', escapes \" \\ \/ \' \b \f \n \r \t \uXXXX (paired
 *    surrogates), valid UTF-8, no raw control bytes; anything else is refused;
 *  - \u0000 is kept, as QEMU keeps it, as the two bytes C0 80 (modified UTF-8): a C
 *    string cannot hold a NUL, and a name with one must not be read as the part before
 *    it ("quit\u0000x" is not "quit");
 *  - duplicate keys are refused.
 *
 * Numbers json-glib cannot hold exactly (integers outside int64, and every number with a
 * fraction or an exponent) become "raw numbers": nodes that keep the text as sent, so a
 * request's `id` is echoed exactly and a uint64 keeps all 64 bits. They are string nodes
 * whose text starts with a byte that no parsed string can hold (0xFF); test for them with
 * json_node_is_raw_number() before treating a node as a string.
 */
#ifndef TERN_MONITOR_JSON_PARSER_H
#define TERN_MONITOR_JSON_PARSER_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Parse `len` bytes holding exactly one value. NULL with errp set ("expecting value",
 * "invalid escape sequence in string", ...) when they are not one. */
JsonNode *json_parse(const char *text, size_t len, unsigned max_depth, GError **errp);

/* A string node that is really a number kept as text (see above). */
bool json_node_is_raw_number(JsonNode *n);
/* The number's text, or NULL when n is not a raw number. */
const char *json_node_raw_number(JsonNode *n);
/* n is a JSON string (not a raw number). */
bool json_node_holds_string(JsonNode *n);
/* An integer in [INT64_MIN, UINT64_MAX]: true with *v set (a negative int64 as its two's
 * complement, which is how QEMU reads a negative number for a uint64). */
bool json_node_get_uint64(JsonNode *n, uint64_t *v);
/* A node for v: an int64 node when it fits, else a raw number. */
JsonNode *json_node_new_uint64(uint64_t v);

#endif
