/*
 * sockaddr.h: socket addresses as tern's options spell them, parsed and opened in one
 * place. The QMP server (-qmp), migration (tcp:/unix: URIs), chardevs (unix:), qtest
 * (-qtest unix:) and -netdev socket (listen=/connect=) all read their addresses here, so
 * each refuses the same things the same way:
 *
 *   HOST:PORT, [V6HOST]:PORT, :PORT (any address)   PORT is decimal, 0 to 65535
 *   a unix socket path                               1 to 107 bytes
 *
 * A port outside 0..65535 is refused; it was wrapped (99999 listened on 34463).
 */
#ifndef TERN_SOCKADDR_H
#define TERN_SOCKADDR_H

#include <glib.h>
#include <netdb.h>
#include <stdbool.h>
#include <sys/un.h>

typedef struct SockAddr {
    bool is_unix;
    char *host; /* inet: without brackets; "" for any address */
    char *port; /* inet: the decimal port, checked */
    char *path; /* unix */
} SockAddr;

/* "HOST:PORT" (the part after "tcp:"). */
bool sockaddr_parse_inet(const char *spec, SockAddr *out, GError **errp);
/* A unix socket path. */
bool sockaddr_parse_unix(const char *path, SockAddr *out, GError **errp);
/* "tcp:HOST:PORT" or "unix:PATH". */
bool sockaddr_parse(const char *spec, SockAddr *out, GError **errp);
void sockaddr_clear(SockAddr *a);
/* "HOST:PORT" or the path, for messages (caller frees). */
char *sockaddr_to_string(const SockAddr *a);

/* The unix address of a. */
void sockaddr_unix(const SockAddr *a, struct sockaddr_un *sun);
/* The inet addresses of a (stream sockets); free with freeaddrinfo. */
struct addrinfo *sockaddr_resolve(const SockAddr *a, bool passive, GError **errp);

/* A listening stream socket (close-on-exec, SO_REUSEADDR for inet) on the first address
 * that works; a unix path must not exist. Returns the fd, or -1 with errp set. */
int sockaddr_listen(const SockAddr *a, int backlog, GError **errp);
/* A connected stream socket (close-on-exec, blocking connect). */
int sockaddr_connect(const SockAddr *a, GError **errp);

#endif
