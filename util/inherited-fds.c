/* inherited-fds.c: descriptors tern was started with, each claimable once (see the header). */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include "error.h"
#include "inherited-fds.h"

/* The registry: filled in main() before any thread starts, then used on the main thread.
 * Keys are GINT_TO_POINTER(fd + 1) of each inherited descriptor not yet claimed. */
static GHashTable *available;

void inherited_fds_init(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d) {
        return; /* no /proc: nothing can be told apart, so nothing is restricted */
    }
    available = g_hash_table_new(NULL, NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        /* The listing's own descriptor is closed below and its number reused later. */
        if (*e->d_name && !*end && fd != dirfd(d)) {
            g_hash_table_add(available, GINT_TO_POINTER((int)fd + 1));
        }
    }
    closedir(d);
}

bool inherited_fd_claim(int fd, GError **errp)
{
    if (fcntl(fd, F_GETFD) < 0) {
        return tern_error_fail(errp, "descriptor %d is not open", fd);
    }
    if (available && !g_hash_table_remove(available, GINT_TO_POINTER(fd + 1))) {
        return tern_error_fail(errp,
                               "descriptor %d was not passed to tern, or is in use already "
                               "(tern's own descriptors cannot be named)",
                               fd);
    }
    return true;
}

void inherited_fd_release(int fd)
{
    if (available) {
        g_hash_table_add(available, GINT_TO_POINTER(fd + 1));
    }
}
