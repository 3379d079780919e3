/*
 * qmp-fds.c: descriptors a QMP client passed with getfd (SCM_RIGHTS), kept by name until
 * a user takes them (`migrate fd:NAME`, `-netdev`/`netdev_add` `fd=NAME`) or closefd.
 */
#include <unistd.h>
#include "error.h"
#include "monitor/fds.h"
#include "monitor/qmp.h"

/* The registry of named descriptors: name -> fd, main thread only. */
static GHashTable *named_fds;

static GHashTable *named_fds_table(void)
{
    if (!named_fds) {
        named_fds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    }
    return named_fds;
}

int monitor_fd_take(const char *name, GError **errp)
{
    gpointer fd;
    if (!g_hash_table_lookup_extended(named_fds_table(), name, NULL, &fd)) {
        tern_error_fail(errp, "File descriptor named '%s' not found", name);
        return -1;
    }
    g_hash_table_remove(named_fds_table(), name);
    return GPOINTER_TO_INT(fd);
}

bool monitor_fd_exists(const char *name)
{
    return g_hash_table_contains(named_fds_table(), name);
}

static JsonNode *qmp_getfd(JsonObject *args, QmpContext *ctx, GError **errp)
{
    const char *name = json_object_get_string_member(args, "fdname");
    int fd = qmp_context_take_fd(ctx);
    if (fd < 0) {
        tern_error_fail(errp, "No file descriptor supplied via SCM_RIGHTS");
        return NULL;
    }
    if (g_ascii_isdigit(name[0])) {
        close(fd);
        tern_error_fail(errp, "Parameter 'fdname' expects a name not starting with a digit");
        return NULL;
    }
    gpointer old;
    if (g_hash_table_lookup_extended(named_fds_table(), name, NULL, &old)) {
        close(GPOINTER_TO_INT(old));
    }
    g_hash_table_insert(named_fds_table(), g_strdup(name), GINT_TO_POINTER(fd));
    return NULL;
}

static JsonNode *qmp_closefd(JsonObject *args, QmpContext *ctx, GError **errp)
{
    int fd = monitor_fd_take(json_object_get_string_member(args, "fdname"), errp);
    if (fd >= 0) {
        close(fd);
    }
    return NULL;
}

QMP_COMMAND("getfd", qmp_getfd)
QMP_COMMAND("closefd", qmp_closefd)
