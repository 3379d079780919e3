/*
 * inherited-fds.h: the file descriptors tern was started with, which are the only ones an
 * option may name by number (`-incoming fd:N`, `-netdev socket,fd=N`, `-netdev tap,fd=N`).
 *
 * A number names whatever is open under it now; without this check `fd:N` could name one
 * of tern's own descriptors (the QMP listener, a client's socket, an eventfd) and hand it
 * to the migration stream or a NIC. main() records the set before it opens anything; each
 * descriptor can then be claimed once, by one user.
 *
 * A process that never called inherited_fds_init() (a unit test driving a subsystem in
 * process) places no restriction: it has no command line to protect.
 */
#ifndef TERN_INHERITED_FDS_H
#define TERN_INHERITED_FDS_H

#include <glib.h>
#include <stdbool.h>

/* Record the descriptors open now (from /proc/self/fd). Call first thing in main(). */
void inherited_fds_init(void);
/* Take descriptor fd: true when tern was started with it and nobody has taken it yet;
 * else false with errp set (the caller adds which option named it). */
bool inherited_fd_claim(int fd, GError **errp);
/* Give a claimed descriptor back, still open (its user refused it after all). */
void inherited_fd_release(int fd);

#endif
