/*
 * qapi-doc.c: the QMP reference (docs/qmp.md) written from the schema, so the document
 * cannot drift from what the monitor accepts. `make docs` regenerates it; a unit test
 * fails when the committed file differs.
 */
#include "monitor/qapi-doc.h"

/* A type as a reader writes it: "str", "['str']", "RxFilterInfo". */
static void append_type(GString *out, const QapiType *t)
{
    if (!t) {
        g_string_append(out, "{}");
    } else if (t->meta == QAPI_ARRAY) {
        g_string_append_c(out, '[');
        append_type(out, t->element);
        g_string_append_c(out, ']');
    } else {
        g_string_append(out, t->name);
    }
}

/* Markdown table cells hold one line and no bare '|'. */
static void append_cell(GString *out, const char *text)
{
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '|') {
            g_string_append(out, "\\|");
        } else if (*p == '\n') {
            g_string_append_c(out, ' ');
        } else {
            g_string_append_c(out, *p);
        }
    }
}

static void append_members(GString *out, const GPtrArray *members)
{
    if (!members || members->len == 0) {
        g_string_append(out, "No members.\n\n");
        return;
    }
    g_string_append(out, "| name | type | optional | meaning |\n|---|---|---|---|\n");
    for (guint i = 0; i < members->len; i++) {
        const QapiMember *m = g_ptr_array_index(members, i);
        g_string_append_printf(out, "| `%s` | `", m->name);
        append_type(out, m->type);
        g_string_append_printf(out, "` | %s | ", m->optional ? "yes" : "no");
        append_cell(out, m->doc);
        g_string_append(out, " |\n");
    }
    g_string_append_c(out, '\n');
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    const QapiType *ta = *(const QapiType *const *)a, *tb = *(const QapiType *const *)b;
    return g_strcmp0(ta->name, tb->name);
}

/* Named enums, structs, unions and alternates the commands and events refer to. */
static void collect_type(GPtrArray *seen, const QapiType *t)
{
    if (!t || t->meta == QAPI_BUILTIN || g_ptr_array_find(seen, t, NULL)) {
        return;
    }
    if (t->meta == QAPI_ARRAY) {
        collect_type(seen, t->element);
        return;
    }
    bool implicit = g_str_has_prefix(t->name, "q_");
    if (!implicit) {
        g_ptr_array_add(seen, (gpointer)t);
    }
    for (guint i = 0; t->members && i < t->members->len; i++) {
        collect_type(seen, ((QapiMember *)g_ptr_array_index(t->members, i))->type);
    }
    for (guint i = 0; t->variants && i < t->variants->len; i++) {
        collect_type(seen, ((QapiVariant *)g_ptr_array_index(t->variants, i))->type);
    }
    for (guint i = 0; t->branches && i < t->branches->len; i++) {
        collect_type(seen, ((QapiMember *)g_ptr_array_index(t->branches, i))->type);
    }
}

static void append_type_section(GString *out, const QapiType *t)
{
    static const char *const kinds[] = {
        [QAPI_ENUM] = "enum",
        [QAPI_STRUCT] = "struct",
        [QAPI_UNION] = "union",
        [QAPI_ALTERNATE] = "alternate",
    };
    g_string_append_printf(out, "### `%s` (%s)\n\n", t->name, kinds[t->meta]);
    if (t->doc) {
        g_string_append_printf(out, "%s\n\n", t->doc);
    }
    switch (t->meta) {
    case QAPI_ENUM:
        g_string_append(out, "Values:");
        for (guint i = 0; i < t->values->len; i++) {
            g_string_append_printf(out, " `%s`", (char *)g_ptr_array_index(t->values, i));
        }
        g_string_append(out, "\n\n");
        break;
    case QAPI_STRUCT:
        append_members(out, t->members);
        break;
    case QAPI_UNION:
        append_members(out, t->members);
        for (guint i = 0; i < t->variants->len; i++) {
            const QapiVariant *v = g_ptr_array_index(t->variants, i);
            g_string_append_printf(out, "When `%s` is `%s`: members of `%s`.\n\n", t->tag->name,
                                   v->value, v->type->name);
        }
        break;
    case QAPI_ALTERNATE:
        g_string_append(out, "One of:");
        for (guint i = 0; i < t->branches->len; i++) {
            const QapiMember *m = g_ptr_array_index(t->branches, i);
            g_string_append(out, " `");
            append_type(out, m->type);
            g_string_append_c(out, '`');
        }
        g_string_append(out, "\n\n");
        break;
    default:
        break;
    }
}

char *qapi_doc_markdown(QapiSchema *s)
{
    GString *out = g_string_new(NULL);
    GPtrArray *types = g_ptr_array_new();
    GPtrArray *commands = qapi_schema_commands(s);
    GPtrArray *events = qapi_schema_events(s);

    g_string_append(out, "# QMP reference\n\n"
                         "Generated from `qapi-schema.json` by `make docs`; do not edit. "
                         "How the protocol works: `docs/qmp-design.md`.\n\n"
                         "## Commands\n\n");
    for (guint i = 0; i < commands->len; i++) {
        const QapiCommand *c = g_ptr_array_index(commands, i);
        g_string_append_printf(out, "### `%s`\n\n", c->name);
        if (c->doc) {
            g_string_append_printf(out, "%s\n\n", c->doc);
        }
        if (c->args && c->args->members && c->args->members->len) {
            g_string_append(out, "Arguments:\n\n");
            append_members(out, c->args->members);
        }
        g_string_append(out, "Returns: `");
        append_type(out, c->ret);
        g_string_append(out, "`\n\n");
        collect_type(types, c->args);
        collect_type(types, c->ret);
    }
    g_string_append(out, "## Events\n\n");
    for (guint i = 0; i < events->len; i++) {
        const QapiEvent *e = g_ptr_array_index(events, i);
        g_string_append_printf(out, "### `%s`\n\n", e->name);
        if (e->doc) {
            g_string_append_printf(out, "%s\n\n", e->doc);
        }
        if (e->data) {
            g_string_append(out, "Data:\n\n");
            append_members(out, e->data->members);
            collect_type(types, e->data);
        }
    }
    g_string_append(out, "## Types\n\n");
    g_ptr_array_sort(types, by_name);
    for (guint i = 0; i < types->len; i++) {
        append_type_section(out, g_ptr_array_index(types, i));
    }
    g_ptr_array_unref(types);
    return g_string_free(out, FALSE);
}
