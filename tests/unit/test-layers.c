/*
 * test-layers.c: the one-way rules of docs/architecture.md, read from the sources. A
 * lower layer never includes a higher one's header: net/ knows nothing of migration/
 * (the incoming side hands the announce its parameters), and runstate.c knows nothing
 * of the monitor (the monitor subscribes to emit RESUME and STOP). A new include that
 * breaks a rule fails here, naming the file and the line.
 */
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>

typedef struct {
    const char *name;    /* the test's */
    const char *dir;     /* relative to the source tree */
    const char *file;    /* NULL: every .c and .h in dir */
    const char *refused; /* an include prefix the files may not use */
    const char *why;
} LayerRule;

static const LayerRule rules[] = {
    {"net-not-migration", "net", NULL, "migration/",
     "net/ is below migration/: it takes its parameters as arguments"},
    {"net-headers-not-migration", "include/net", NULL, "migration/",
     "net/ is below migration/"},
    {"runstate-not-monitor", ".", "runstate.c", "monitor/",
     "runstate is the bottom: the monitor subscribes to it"},
    {"runstate-header-not-monitor", "include", "runstate.h", "monitor/",
     "runstate is the bottom"},
    {"runstate-not-migration", ".", "runstate.c", "migration/",
     "runstate is the bottom: migration subscribes to it (the dirty log's lazy stop)"},
};

static char *source_dir(void)
{
    const char *d = g_getenv("TERN_SOURCE_DIR");
    return g_strdup(d ? d : ".");
}

/* Append "path:line: text" for every include of `refused` in `path`. */
static void scan_file(const char *path, const char *refused, GString *bad)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &text, NULL, &err)) {
        g_string_append_printf(bad, "%s: %s\n", path, err->message);
        return;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autofree char *quoted = g_strdup_printf("\"%s", refused);
    g_autofree char *angled = g_strdup_printf("<%s", refused);
    for (guint i = 0; lines[i]; i++) {
        const char *l = lines[i];
        while (*l == ' ' || *l == '\t') {
            l++;
        }
        if (*l != '#') {
            continue;
        }
        l++;
        while (*l == ' ' || *l == '\t') {
            l++;
        }
        if (!g_str_has_prefix(l, "include")) {
            continue;
        }
        if (strstr(l, quoted) || strstr(l, angled)) {
            g_string_append_printf(bad, "%s:%u: %s\n", path, i + 1, lines[i]);
        }
    }
}

static guint check_rule(const char *top, const LayerRule *r, GString *bad)
{
    g_autofree char *dir = g_build_filename(top, r->dir, NULL);
    if (r->file) {
        g_autofree char *path = g_build_filename(dir, r->file, NULL);
        scan_file(path, r->refused, bad);
        return 1;
    }
    g_autoptr(GError) err = NULL;
    GDir *d = g_dir_open(dir, 0, &err);
    if (!d) {
        g_string_append_printf(bad, "%s: %s\n", dir, err->message);
        return 0;
    }
    guint n = 0;
    const char *name;
    while ((name = g_dir_read_name(d))) {
        if (g_str_has_suffix(name, ".c") || g_str_has_suffix(name, ".h")) {
            g_autofree char *path = g_build_filename(dir, name, NULL);
            scan_file(path, r->refused, bad);
            n++;
        }
    }
    g_dir_close(d);
    return n;
}

static void test_one_way(gconstpointer data)
{
    const LayerRule *r = data;
    g_autofree char *top = source_dir();
    GString *bad = g_string_new(NULL);
    guint files = check_rule(top, r, bad);
    if (bad->len) {
        g_printerr("%s (%s):\n%s", r->refused, r->why, bad->str);
    }
    g_assert_cmpuint(files, >, 0);
    g_assert_cmpuint(bad->len, ==, 0);
    g_string_free(bad, TRUE);
}

/* The checker itself: a file that includes a refused header is reported. */
static void test_checker_sees_a_breach(void)
{
    g_autofree char *dir = g_dir_make_tmp("tern-layers-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "bad.c", NULL);
    g_assert_true(g_file_set_contents(path,
                                      "#include <glib.h>\n"
                                      "#  include \"migration/migration.h\"\n",
                                      -1, NULL));
    GString *bad = g_string_new(NULL);
    scan_file(path, "migration/", bad);
    g_assert_nonnull(strstr(bad->str, "bad.c:2:"));
    g_string_free(bad, TRUE);
    g_unlink(path);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(rules); i++) {
        g_autofree char *name = g_strdup_printf("/layers/%s", rules[i].name);
        g_test_add_data_func(name, &rules[i], test_one_way);
    }
    g_test_add_func("/layers/checker-sees-a-breach", test_checker_sees_a_breach);
    return g_test_run();
}
