/* qapi-enum.c: the schema's enum names by value and back (see qapi-enum.h). */
#include <glib.h>
#include "monitor/qapi-schema.h"
#include "qapi-enum.h"

/* The values of schema enum `type`; the schema is part of the binary, so a missing
 * enum is a programming error caught by test-qapi-enum, not a runtime condition. */
static GPtrArray *qapi_enum_values(const char *type)
{
    QapiType *t = qapi_schema_type(qapi_schema(), type);
    return t && t->meta == QAPI_ENUM ? t->values : NULL;
}

const char *qapi_enum_str(const char *type, unsigned value)
{
    GPtrArray *v = qapi_enum_values(type);
    return v && value < v->len ? g_ptr_array_index(v, value) : NULL;
}

int qapi_enum_value(const char *type, const char *str)
{
    GPtrArray *v = qapi_enum_values(type);
    for (guint i = 0; v && str && i < v->len; i++) {
        if (g_str_equal(g_ptr_array_index(v, i), str)) {
            return i;
        }
    }
    return -1;
}

size_t qapi_enum_count(const char *type)
{
    GPtrArray *v = qapi_enum_values(type);
    return v ? v->len : 0;
}
