/* sockaddr.c: socket addresses, parsed and opened in one place (see sockaddr.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "error.h"
#include "sockaddr.h"

#define UNIX_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

static bool port_valid(const char *port)
{
    guint64 n;
    /* Digits only: strtol would take "+80", " 80" and wrap 4294967376 to 80. */
    for (const char *p = port; *p; p++) {
        if (!g_ascii_isdigit(*p)) {
            return false;
        }
    }
    return *port && strlen(port) <= 5 &&
           g_ascii_string_to_unsigned(port, 10, 0, 65535, &n, NULL);
}

bool sockaddr_parse_inet(const char *spec, SockAddr *out, GError **errp)
{
    memset(out, 0, sizeof(*out));
    const char *colon = strrchr(spec, ':');
    if (!colon || !colon[1]) {
        return tern_error_fail(errp, "'%s': expected HOST:PORT", spec);
    }
    if (!port_valid(colon + 1)) {
        return tern_error_fail(errp, "'%s': port '%s' is not a number from 0 to 65535", spec,
                               colon + 1);
    }
    size_t hl = colon - spec;
    if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') { /* [::1]:4444 */
        out->host = g_strndup(spec + 1, hl - 2);
    } else {
        out->host = g_strndup(spec, hl);
    }
    out->port = g_strdup(colon + 1);
    return true;
}

bool sockaddr_parse_unix(const char *path, SockAddr *out, GError **errp)
{
    memset(out, 0, sizeof(*out));
    if (!*path || strlen(path) > UNIX_PATH_MAX) {
        return tern_error_fail(errp, "'%s': a unix socket path must be 1 to %zu bytes long",
                               path, UNIX_PATH_MAX);
    }
    out->is_unix = true;
    out->path = g_strdup(path);
    return true;
}

bool sockaddr_parse(const char *spec, SockAddr *out, GError **errp)
{
    if (g_str_has_prefix(spec, "tcp:")) {
        return sockaddr_parse_inet(spec + 4, out, errp);
    }
    if (g_str_has_prefix(spec, "unix:")) {
        return sockaddr_parse_unix(spec + 5, out, errp);
    }
    memset(out, 0, sizeof(*out));
    return tern_error_fail(errp, "'%s': expected tcp:HOST:PORT or unix:PATH", spec);
}

void sockaddr_clear(SockAddr *a)
{
    g_free(a->host);
    g_free(a->port);
    g_free(a->path);
    memset(a, 0, sizeof(*a));
}

char *sockaddr_to_string(const SockAddr *a)
{
    if (a->is_unix) {
        return g_strdup(a->path);
    }
    return g_strdup_printf(strchr(a->host, ':') ? "[%s]:%s" : "%s:%s", a->host, a->port);
}

void sockaddr_unix(const SockAddr *a, struct sockaddr_un *sun)
{
    memset(sun, 0, sizeof(*sun));
    sun->sun_family = AF_UNIX;
    g_strlcpy(sun->sun_path, a->path, sizeof(sun->sun_path));
}

struct addrinfo *sockaddr_resolve(const SockAddr *a, bool passive, GError **errp)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(*a->host ? a->host : NULL, a->port, &hints, &res);
    if (rc != 0) {
        g_autofree char *name = sockaddr_to_string(a);
        tern_error_fail(errp, "cannot resolve '%s': %s", name, gai_strerror(rc));
        return NULL;
    }
    return res;
}

/* Listen or connect on each address in turn; the first that works wins. */
static int sockaddr_open(const SockAddr *a, bool listening, int backlog, GError **errp)
{
    struct sockaddr_un sun;
    struct addrinfo unix_ai = {.ai_family = AF_UNIX,
                               .ai_socktype = SOCK_STREAM,
                               .ai_addr = (struct sockaddr *)&sun,
                               .ai_addrlen = sizeof(sun)};
    struct addrinfo *res = NULL;
    if (a->is_unix) {
        sockaddr_unix(a, &sun);
    } else if (!(res = sockaddr_resolve(a, listening, errp))) {
        return -1;
    }
    int err = EADDRNOTAVAIL;
    int fd = -1;
    for (struct addrinfo *ai = a->is_unix ? &unix_ai : res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        if (listening && !a->is_unix) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        }
        bool ok = listening
                      ? bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, backlog) == 0
                      : connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
        if (!ok) {
            err = errno;
            close(fd);
            fd = -1;
        }
    }
    if (res) {
        freeaddrinfo(res);
    }
    if (fd < 0) {
        g_autofree char *name = sockaddr_to_string(a);
        tern_error_fail(errp, "cannot %s %s: %s", listening ? "listen on" : "connect to", name,
                        g_strerror(err));
    }
    return fd;
}

int sockaddr_listen(const SockAddr *a, int backlog, GError **errp)
{
    return sockaddr_open(a, true, backlog, errp);
}

int sockaddr_connect(const SockAddr *a, GError **errp)
{
    return sockaddr_open(a, false, 0, errp);
}
