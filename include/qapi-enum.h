/*
 * qapi-enum.h: the names of the schema's enums. qapi-schema.json is their one list; a C
 * enum that mirrors a schema enum (RunState, MigrationStatus) declares its values in
 * the schema's order and takes the names from here, so a name is never written twice.
 * A unit test (test-qapi-enum) checks each mirror's size against the schema.
 */
#ifndef TERN_QAPI_ENUM_H
#define TERN_QAPI_ENUM_H

#include <stddef.h>

/* The name of value `value` of schema enum `type`; NULL when out of range. */
const char *qapi_enum_str(const char *type, unsigned value);
/* The value named `str` in schema enum `type`; -1 when there is none. */
int qapi_enum_value(const char *type, const char *str);
/* How many values schema enum `type` has (0 when it is not an enum). */
size_t qapi_enum_count(const char *type);

#endif
