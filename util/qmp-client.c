/* qmp-client.c: the QMP client of tern's tools and tests (see qmp-client.h). */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "error.h"
#include "qmp-client.h"

struct QmpClient {
    int fd;
    GString *in;   /* received bytes not yet split into messages */
    GQueue events; /* JsonObject *, oldest first */
    JsonObject *greeting;
};

char *qmp_client_object_text(JsonObject *o)
{
    JsonNode *n = json_node_init_object(json_node_alloc(), o);
    char *text = json_to_string(n, FALSE);
    json_node_unref(n);
    return text;
}

/* Connect to addr, retrying while nobody listens yet. */
static int connect_retry(const SockAddr *addr, int timeout_ms, GError **errp)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        GError *err = NULL;
        int fd = sockaddr_connect(addr, &err);
        if (fd >= 0) {
            struct timeval tv = {.tv_sec = QMP_CLIENT_TIMEOUT_MS / 1000};
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
            return fd;
        }
        if (g_get_monotonic_time() >= deadline) {
            g_propagate_error(errp, err);
            return -1;
        }
        g_error_free(err);
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
    c->greeting = qmp_client_read(c, timeout_ms > 0 ? timeout_ms : QMP_CLIENT_TIMEOUT_MS, errp);
    if (c->greeting && !json_object_has_member(c->greeting, "QMP")) {
        char *text = qmp_client_object_text(c->greeting);
        tern_error_fail(errp, "expected the QMP greeting, got %s", text);
        g_free(text);
        g_clear_pointer(&c->greeting, json_object_unref);
    }
    if (!c->greeting) {
        qmp_client_free(c);
        return NULL;
    }
    return c;
}

QmpClient *qmp_client_connect(const SockAddr *addr, int timeout_ms, GError **errp)
{
    int fd = connect_retry(addr, timeout_ms, errp);
    return client_new(fd, timeout_ms, errp);
}

QmpClient *qmp_client_connect_unix(const char *path, int timeout_ms, GError **errp)
{
    SockAddr addr = {0};
    if (!sockaddr_parse_unix(path, &addr, errp)) {
        return NULL;
    }
    QmpClient *c = qmp_client_connect(&addr, timeout_ms, errp);
    sockaddr_clear(&addr);
    return c;
}

QmpClient *qmp_client_connect_tcp(const char *host, int port, int timeout_ms, GError **errp)
{
    g_autofree char *port_text = g_strdup_printf("%d", port);
    SockAddr addr = {.host = (char *)host, .port = port_text};
    return qmp_client_connect(&addr, timeout_ms, errp);
}

QmpClient *qmp_client_accept(int listen_fd, int timeout_ms, GError **errp)
{
    struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
    int n = poll(&pfd, 1, timeout_ms);
    int fd = n > 0 ? accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC) : -1;
    if (fd < 0) {
        tern_error_fail(errp, "no connection to accept within %d ms: %s", timeout_ms,
                        n == 0 ? "timed out" : g_strerror(errno));
        return NULL;
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
            return tern_error_fail(errp, "sending to QMP: %s", g_strerror(errno));
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
        return tern_error_fail(errp, "sendmsg with an fd: %s", g_strerror(errno));
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
        tern_error_fail(errp, "QMP sent invalid JSON (%s): %s", err->message, line);
        g_error_free(err);
    } else if (!JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
        tern_error_fail(errp, "QMP sent something other than an object: %s", line);
    } else {
        o = json_object_ref(json_node_get_object(json_parser_get_root(parser)));
    }
    g_object_unref(parser);
    return o;
}

JsonObject *qmp_client_poll(QmpClient *c, int timeout_ms, const sigset_t *sigmask,
                            GError **errp)
{
    for (;;) {
        char *nl = memchr(c->in->str, '\n', c->in->len);
        if (nl) {
            g_autofree char *line = g_strndup(c->in->str, nl - c->in->str);
            g_string_erase(c->in, 0, nl - c->in->str + 1);
            g_strstrip(line);
            if (!*line) {
                continue;
            }
            return parse_line(line, errp);
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
        if (ppoll(&pfd, 1, timeout_ms < 0 ? NULL : &ts, sigmask) <= 0) {
            return NULL;
        }
        char buf[65536];
        ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            tern_error_fail(errp, "QMP closed the connection%s%s", n < 0 ? ": " : "",
                            n < 0 ? g_strerror(errno) : "");
            return NULL;
        }
        g_string_append_len(c->in, buf, n);
        timeout_ms = 0;
    }
}

JsonObject *qmp_client_read(QmpClient *c, int timeout_ms, GError **errp)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        GError *err = NULL;
        gint64 left_ms = MAX(0, (deadline - g_get_monotonic_time()) / 1000);
        JsonObject *o = qmp_client_poll(c, (int)left_ms, NULL, &err);
        if (err) {
            g_propagate_error(errp, err);
            return NULL;
        }
        if (o) {
            return o;
        }
        if (left_ms == 0) {
            tern_error_fail(errp, "no message from QMP within %d ms", timeout_ms);
            return NULL;
        }
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

bool qmp_client_send(QmpClient *c, const char *json, GError **errp)
{
    size_t len = strlen(json);
    g_autofree char *line =
        g_strdup_printf("%s%s", json, len && json[len - 1] == '\n' ? "" : "\n");
    return qmp_client_send_raw(c, line, strlen(line), errp);
}

JsonObject *qmp_client_request(QmpClient *c, const char *json, GError **errp)
{
    return qmp_client_send(c, json, errp) ? read_reply(c, errp) : NULL;
}

bool qmp_client_send_command(QmpClient *c, const char *name, JsonNode *args, const char *id,
                             GError **errp)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, name);
    if (args) {
        json_builder_set_member_name(b, "arguments");
        json_builder_add_value(b, args);
    }
    if (id) {
        json_builder_set_member_name(b, "id");
        json_builder_add_string_value(b, id);
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    g_autofree char *text = json_to_string(root, FALSE);
    return qmp_client_send(c, text, errp);
}

JsonObject *qmp_client_execute(QmpClient *c, const char *name, JsonNode *args, const char *id,
                               GError **errp)
{
    return qmp_client_send_command(c, name, args, id, errp) ? read_reply(c, errp) : NULL;
}

bool qmp_client_negotiate(QmpClient *c, GError **errp)
{
    JsonObject *r = qmp_client_request(c, "{\"execute\": \"qmp_capabilities\"}", errp);
    bool ok = r && json_object_has_member(r, "return");
    if (r && !ok) {
        char *text = qmp_client_object_text(r);
        tern_error_fail(errp, "qmp_capabilities failed: %s", text);
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

JsonObject *qmp_client_wait_event(QmpClient *c, const char *name, int timeout_ms, GError **errp)
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
            tern_error_fail(errp, "no %s event within %d ms", name, timeout_ms);
            return NULL;
        }
        JsonObject *o = qmp_client_read(c, (int)left_ms, errp);
        if (!o || is_event(o, name)) {
            return o;
        }
        if (!json_object_has_member(o, "event")) {
            char *text = qmp_client_object_text(o);
            tern_error_fail(errp, "a reply arrived while waiting for %s: %s", name, text);
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
