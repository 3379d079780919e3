/*
 * fds.h: the named descriptors of QMP getfd/closefd (monitor/qmp-fds.c). Main thread only.
 */
#ifndef TERN_MONITOR_FDS_H
#define TERN_MONITOR_FDS_H

#include <glib.h>
#include <stdbool.h>

/* Take the descriptor named `name` out of the registry (the caller owns it now); -1 with
 * errp set when there is none. */
int monitor_fd_take(const char *name, GError **errp);
/* Whether a descriptor is registered under `name`. */
bool monitor_fd_exists(const char *name);

#endif
