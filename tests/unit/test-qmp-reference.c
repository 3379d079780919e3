/* test-qmp-reference.c: docs/qmp.md is exactly what the schema generates. */
#include <glib.h>
#include <string.h>
#include "monitor/qapi-doc.h"

static void test_reference_current(void)
{
    const char *src = g_getenv("TERN_SOURCE_DIR");
    g_autofree char *path = g_build_filename(src ? src : ".", "docs", "qmp.md", NULL);
    g_autofree char *committed = NULL;
    g_assert_true(g_file_get_contents(path, &committed, NULL, NULL));
    g_autofree char *generated = qapi_doc_markdown(qapi_schema());
    if (g_strcmp0(committed, generated) != 0) {
        g_test_message("%s differs from qapi-schema.json: run `make docs`", path);
        g_test_fail();
    }
}

/* Every command and event of the schema has a section. */
static void test_reference_complete(void)
{
    g_autofree char *md = qapi_doc_markdown(qapi_schema());
    GPtrArray *cmds = qapi_schema_commands(qapi_schema());
    for (guint i = 0; i < cmds->len; i++) {
        const QapiCommand *c = g_ptr_array_index(cmds, i);
        g_autofree char *heading = g_strdup_printf("\n### `%s`\n", c->name);
        g_assert_nonnull(strstr(md, heading));
    }
    GPtrArray *evs = qapi_schema_events(qapi_schema());
    for (guint i = 0; i < evs->len; i++) {
        const QapiEvent *e = g_ptr_array_index(evs, i);
        g_autofree char *heading = g_strdup_printf("\n### `%s`\n", e->name);
        g_assert_nonnull(strstr(md, heading));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp-reference/current", test_reference_current);
    g_test_add_func("/qmp-reference/complete", test_reference_complete);
    return g_test_run();
}
