/*
 * qapi-schema.h: the QMP schema (qapi-schema.json) as data, and what is derived from it:
 * value checking against a type (argument checking, reply and event self-checks) and the
 * query-qmp-schema introspection list.
 *
 * The schema is parsed once, from the GResource /org/tern/qapi-schema.json, on first use
 * (or by qapi_schema_load(), which also cross-checks it against the registered commands).
 */
#ifndef TERN_MONITOR_QAPI_SCHEMA_H
#define TERN_MONITOR_QAPI_SCHEMA_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    QAPI_BUILTIN,
    QAPI_ENUM,
    QAPI_STRUCT, /* also the implicit argument types of commands and events */
    QAPI_UNION,  /* flat union: base members, a discriminator, per-value variants */
    QAPI_ALTERNATE,
    QAPI_ARRAY,
} QapiMeta;

typedef enum {
    QAPI_STR,
    QAPI_INT, /* int and int64 */
    QAPI_INT8,
    QAPI_INT16,
    QAPI_INT32,
    QAPI_UINT8,
    QAPI_UINT16,
    QAPI_UINT32,
    QAPI_UINT64,
    QAPI_SIZE,
    QAPI_NUMBER,
    QAPI_BOOL,
    QAPI_ANY,
    QAPI_NULL,
} QapiBuiltin;

typedef struct QapiType QapiType;

typedef struct {
    char *name;
    QapiType *type;
    bool optional;
    char *doc; /* may be NULL */
} QapiMember;

typedef struct {
    char *value;    /* discriminator value */
    QapiType *type; /* a struct */
} QapiVariant;

struct QapiType {
    char *name; /* "[T]" for arrays, "q_obj_<cmd>-arg" for implicit argument types */
    QapiMeta meta;
    char *doc;
    QapiBuiltin builtin; /* QAPI_BUILTIN */
    GPtrArray *values;   /* QAPI_ENUM: char * */
    GPtrArray *members;  /* QAPI_STRUCT, QAPI_UNION (base members): QapiMember * */
    QapiMember *tag;     /* QAPI_UNION: the discriminator, one of members */
    GPtrArray *variants; /* QAPI_UNION: QapiVariant * */
    GPtrArray *branches; /* QAPI_ALTERNATE: QapiMember * (name = branch name) */
    QapiType *element;   /* QAPI_ARRAY */
};

typedef struct {
    char *name;
    char *doc;
    QapiType *args; /* a struct; the empty struct "q_empty" when the command takes none */
    QapiType *ret;  /* NULL: returns {} */
    bool open_args; /* 'gen': false: members beyond the declared ones go to the handler */
} QapiCommand;

typedef struct {
    char *name;
    char *doc;
    QapiType *data; /* NULL: the event carries no data */
} QapiEvent;

/* Parse a schema text (tests use this with small schemas); NULL and errp on any error. */
typedef struct QapiSchema QapiSchema;
QapiSchema *qapi_schema_parse(const char *json, gsize len, GError **errp);
void qapi_schema_free(QapiSchema *s);

/* The process's schema, parsed from the GResource on first use; thread-safe. */
QapiSchema *qapi_schema_get(GError **errp);
/* The same, aborting if the schema is broken (it is part of the binary, and
 * qapi_schema_load() at start-up has already reported any problem). */
QapiSchema *qapi_schema(void);

const QapiCommand *qapi_schema_command(QapiSchema *s, const char *name);
const QapiEvent *qapi_schema_event(QapiSchema *s, const char *name);
QapiType *qapi_schema_type(QapiSchema *s, const char *name);
/* Commands and events in schema order (QapiCommand * / QapiEvent *). */
GPtrArray *qapi_schema_commands(QapiSchema *s);
GPtrArray *qapi_schema_events(QapiSchema *s);

/*
 * Check `value` against `type` with QEMU 7.2's messages ("Parameter 'x' is missing",
 * "Parameter 'x' is unexpected", "Invalid parameter type for 'x', expected: string", ...).
 * `name` is the value's name for messages (NULL at the root).
 */
bool qapi_check_value(const QapiType *type, JsonNode *value, const char *name, GError **errp);
/* Check a command's arguments object. */
bool qapi_check_args(const QapiCommand *cmd, JsonObject *args, GError **errp);

/* Match the command registry against a schema: every registered handler must be
 * declared, every declared command must have a handler (qmp-dispatch.c; called by
 * qapi_schema_load() at start-up). */
bool qapi_schema_check_commands(QapiSchema *s, GError **errp);

/* QEMU's SchemaInfo list for query-qmp-schema: commands, events, and every type they use. */
JsonNode *qapi_introspect(QapiSchema *s);

#endif
