/* qmp-client.c: a QMP client for black-box tests (see qmp-client.h). */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "qmp-client.h"

struct QmpClient {
    int fd;
    GString *in;   /* received bytes not yet split into messages */
    GQueue events; /* JsonObject *, oldest first */
    JsonObject *greeting;
};

static bool fail(GError **errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static bool fail(GError **errp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_propagate_error(errp, g_error_new_valist(G_IO_ERROR, G_IO_ERROR_FAILED, fmt, ap));
    va_end(ap);
    return false;
}

static char *object_text(JsonObject *o)
{
    JsonNode *n = json_node_init_object(json_node_alloc(), o);
    char *text = json_to_string(n, FALSE);
    json_node_unref(n);
    return text;
}

/* Connect a fresh socket to addr, retrying while nobody listens yet. */
static int connect_retry(const struct sockaddr *addr, socklen_t len, int timeout_ms,
                         GError **errp)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            fail(errp, "socket: %s", g_strerror(errno));
            return -1;
        }
        if (connect(fd, addr, len) == 0) {
            struct timeval tv = {.tv_sec = QMP_CLIENT_TIMEOUT_MS / 1000};
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
            return fd;
        }
        int e = errno;
        close(fd);
        if ((e != ENOENT && e != ECONNREFUSED && e != EAGAIN) ||
            g_get_monotonic_time() >= deadline) {
            fail(errp, "connecting to the QMP socket: %s", g_strerror(e));
            return -1;
        }
        g_usleep(5000);
    }
}

static QmpClient *client_new(int fd, int timeout_ms, GError **errp)
{
    if (fd < 0) {
        return NULL;
    }
    QmpClient *c = g_new0(QmpClient, 1);
    c->fd = fd;
    c->in = g_string_new(NULL);
    g_queue_init(&c->events);
    c->greeting = qmp_client_read(c, timeout_ms, errp);
    if (c->greeting && !json_object_has_member(c->greeting, "QMP")) {
        char *text = object_text(c->greeting);
        fail(errp, "expected the QMP greeting, got %s", text);
        g_free(text);
        g_clear_pointer(&c->greeting, json_object_unref);
    }
    if (!c->greeting) {
        qmp_client_free(c);
        return NULL;
    }
    return c;
}

QmpClient *qmp_client_connect_unix(const char *path, int timeout_ms, GError **errp)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path)) {
        fail(errp, "socket path too long: %s", path);
        return NULL;
    }
    strcpy(sun.sun_path, path);
    int fd = connect_retry((struct sockaddr *)&sun, sizeof(sun), timeout_ms, errp);
    return client_new(fd, timeout_ms, errp);
}

QmpClient *qmp_client_connect_tcp(const char *host, int port, int timeout_ms, GError **errp)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    char service[16];
    g_snprintf(service, sizeof(service), "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        fail(errp, "resolving %s: %s", host, gai_strerror(rc));
        return NULL;
    }
    int fd = connect_retry(res->ai_addr, res->ai_addrlen, timeout_ms, errp);
    freeaddrinfo(res);
    return client_new(fd, timeout_ms, errp);
}

QmpClient *qmp_client_accept(int listen_fd, int timeout_ms, GError **errp)
{
    struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
    int n = poll(&pfd, 1, timeout_ms);
    int fd = n > 0 ? accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC) : -1;
    if (fd < 0) {
        fail(errp, "no connection to accept within %d ms: %s", timeout_ms,
             n == 0 ? "timed out" : g_strerror(errno));
    }
    return client_new(fd, timeout_ms, errp);
}

void qmp_client_free(QmpClient *c)
{
    if (!c) {
        return;
    }
    close(c->fd);
    g_string_free(c->in, TRUE);
    g_queue_clear_full(&c->events, (GDestroyNotify)json_object_unref);
    if (c->greeting) {
        json_object_unref(c->greeting);
    }
    g_free(c);
}

int qmp_client_fd(QmpClient *c)
{
    return c->fd;
}

JsonObject *qmp_client_greeting(QmpClient *c)
{
    return c->greeting;
}

bool qmp_client_send_raw(QmpClient *c, const void *data, size_t len, GError **errp)
{
    const char *p = data;
    while (len) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return fail(errp, "sending to QMP: %s", g_strerror(errno));
        }
        p += n;
        len -= n;
    }
    return true;
}

bool qmp_client_send_fd(QmpClient *c, int fd, const char *text, GError **errp)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control = {0};
    struct iovec iov = {(void *)text, strlen(text)};
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buf,
        .msg_controllen = sizeof(control.buf),
    };
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    ssize_t n;
    do {
        n = sendmsg(c->fd, &msg, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return fail(errp, "sendmsg with an fd: %s", g_strerror(errno));
    }
    /* The fd went with the first byte; the rest is plain text. */
    return qmp_client_send_raw(c, text + n, strlen(text) - n, errp);
}

/* Parse one line; NULL (with errp) unless it is a JSON object. */
static JsonObject *parse_line(const char *line, GError **errp)
{
    JsonParser *parser = json_parser_new();
    JsonObject *o = NULL;
    GError *err = NULL;
    if (!json_parser_load_from_data(parser, line, -1, &err)) {
        fail(errp, "QMP sent invalid JSON (%s): %s", err->message, line);
        g_error_free(err);
    } else if (!JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        fail(errp, "QMP sent something other than an object: %s", line);
    } else {
        o = json_object_ref(json_node_get_object(json_parser_get_root(parser)));
    }
    g_object_unref(parser);
    return o;
}

JsonObject *qmp_client_read(QmpClient *c, int timeout_ms, GError **errp)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        char *nl = memchr(c->in->str, '\n', c->in->len);
        if (nl) {
            char *line = g_strndup(c->in->str, nl - c->in->str);
            g_string_erase(c->in, 0, nl - c->in->str + 1);
            g_strstrip(line);
            JsonObject *o = *line ? parse_line(line, errp) : NULL;
            bool blank = !*line;
            g_free(line);
            if (!blank) {
                return o;
            }
            continue;
        }
        gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int r = left_ms > 0 ? poll(&pfd, 1, (int)left_ms) : 0;
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r == 0) {
            fail(errp, "no message from QMP within %d ms", timeout_ms);
            return NULL;
        }
        char buf[65536];
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            fail(errp, "QMP closed the connection%s%s", n < 0 ? ": " : "",
                 n < 0 ? g_strerror(errno) : "");
            return NULL;
        }
        g_string_append_len(c->in, buf, n);
    }
}

/* Read until a message that is not an event; queue the events. */
static JsonObject *read_reply(QmpClient *c, GError **errp)
{
    for (;;) {
        JsonObject *o = qmp_client_read(c, QMP_CLIENT_TIMEOUT_MS, errp);
        if (!o || !json_object_has_member(o, "event")) {
            return o;
        }
        g_queue_push_tail(&c->events, o);
    }
}

JsonObject *qmp_client_request(QmpClient *c, const char *json, GError **errp)
{
    /* One write with the newline: after `quit` the server may close before a second. */
    size_t len = strlen(json);
    char *line = g_strdup_printf("%s%s", json, len && json[len - 1] == '\n' ? "" : "\n");
    bool sent = qmp_client_send_raw(c, line, strlen(line), errp);
    g_free(line);
    return sent ? read_reply(c, errp) : NULL;
}

bool qmp_client_negotiate(QmpClient *c, GError **errp)
{
    JsonObject *r = qmp_client_request(c, "{\"execute\": \"qmp_capabilities\"}", errp);
    bool ok = r && json_object_has_member(r, "return");
    if (r && !ok) {
        char *text = object_text(r);
        fail(errp, "qmp_capabilities failed: %s", text);
        g_free(text);
    }
    if (r) {
        json_object_unref(r);
    }
    return ok;
}

static bool is_event(JsonObject *o, const char *name)
{
    return g_strcmp0(json_object_get_string_member_with_default(o, "event", NULL), name) == 0;
}

JsonObject *qmp_client_wait_event(QmpClient *c, const char *name, int timeout_ms,
                                  GError **errp)
{
    for (GList *l = c->events.head; l; l = l->next) {
        if (is_event(l->data, name)) {
            JsonObject *o = l->data;
            g_queue_delete_link(&c->events, l);
            return o;
        }
    }
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
        if (left_ms <= 0) {
            fail(errp, "no %s event within %d ms", name, timeout_ms);
            return NULL;
        }
        JsonObject *o = qmp_client_read(c, (int)left_ms, errp);
        if (!o || is_event(o, name)) {
            return o;
        }
        if (!json_object_has_member(o, "event")) {
            char *text = object_text(o);
            fail(errp, "a reply arrived while waiting for %s: %s", name, text);
            g_free(text);
            json_object_unref(o);
            return NULL;
        }
        g_queue_push_tail(&c->events, o);
    }
}

GList *qmp_client_take_events(QmpClient *c)
{
    GList *events = c->events.head;
    g_queue_init(&c->events);
    return events;
}

static JsonObject *vrequest(QmpClient *c, const char *fmt, va_list ap)
{
    char *json = g_strdup_vprintf(fmt, ap);
    GError *err = NULL;
    JsonObject *r = qmp_client_request(c, json, &err);
    g_assert_no_error(err);
    g_free(json);
    return r;
}

JsonObject *qmp(QmpClient *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    JsonObject *r = vrequest(c, fmt, ap);
    va_end(ap);
    return r;
}

JsonNode *qmp_ok(QmpClient *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    JsonObject *r = vrequest(c, fmt, ap);
    va_end(ap);
    JsonNode *ret = json_object_get_member(r, "return");
    if (!ret) {
        char *text = object_text(r);
        char *msg = g_strdup_printf("expected success, got %s", text);
        g_assertion_message(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
        g_free(msg);
        g_free(text);
        json_object_unref(r);
        return NULL;
    }
    ret = json_node_copy(ret);
    json_object_unref(r);
    return ret;
}

void qmp_reply_assert_error(JsonObject *reply, const char *cls, const char *desc)
{
    JsonObject *e = json_object_has_member(reply, "error")
                        ? json_object_get_object_member(reply, "error")
                        : NULL;
    const char *got_cls = e ? json_object_get_string_member_with_default(e, "class", "") : "";
    const char *got_desc = e ? json_object_get_string_member_with_default(e, "desc", "") : "";
    if (!e || strcmp(got_cls, cls) != 0 || (desc && !strstr(got_desc, desc))) {
        char *text = object_text(reply);
        char *msg = g_strdup_printf("expected error %s \"%s\", got %s", cls, desc ? desc : "",
                                    text);
        g_assertion_message(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
        g_free(msg);
        g_free(text);
    }
}

void qmp_assert_error(QmpClient *c, const char *cls, const char *desc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    JsonObject *r = vrequest(c, fmt, ap);
    va_end(ap);
    qmp_reply_assert_error(r, cls, desc);
    json_object_unref(r);
}

char *qmp_status(QmpClient *c)
{
    JsonNode *ret = qmp_ok(c, "{\"execute\": \"query-status\"}");
    char *status = g_strdup(json_object_get_string_member(json_node_get_object(ret), "status"));
    json_node_unref(ret);
    return status;
}
