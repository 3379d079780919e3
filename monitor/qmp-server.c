/*
 * qmp-server.c: QMP listeners (`unix:PATH,server=on,wait=off`, `tcp:HOST:PORT,...`) and
 * the client sessions on them, all on the main context.
 *
 * I/O goes through GSocket (non-blocking; sends use MSG_NOSIGNAL, so a client that
 * vanishes cannot kill tern with SIGPIPE; unix sockets receive SCM_RIGHTS fds).
 * Each session is one GSource watching its socket, with an input buffer fed to the JSON
 * splitter and an output buffer drained as the socket accepts. Memory per client is
 * bounded: a request is at most QMP_MAX_MESSAGE bytes, requests are not read while more
 * than QMP_OUT_HIGH bytes of replies wait, and a client that lets QMP_OUT_MAX bytes
 * pile up (events it never reads) is disconnected. Buffers that grew for one large
 * message or reply are given back once it is done, and at most QMP_MAX_CLIENTS sessions
 * exist at a time: a client beyond that gets an error line and is closed.
 *
 * When accept() fails for a reason other than "nothing to accept" (EMFILE: tern is out
 * of descriptors), the listener stays readable; watching it would spin. The listener is
 * then put aside for QMP_ACCEPT_RETRY_MS, or until a session ends, and the failure is
 * logged once until an accept succeeds again.
 */
#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <gio/gio.h>
#include <gio/gunixfdmessage.h>
#include <gio/gunixsocketaddress.h>
#include "error.h"
#include "main-loop.h"
#include "monitor/json-splitter.h"
#include "options.h"
#include "qmp-internal.h"
#include "sockaddr.h"

#define QMP_READ_CHUNK (64 * 1024)
#define QMP_MAX_MESSAGE (16 * 1024 * 1024)
#define QMP_OUT_HIGH (1024 * 1024)
#define QMP_OUT_MAX (64 * 1024 * 1024)
#define QMP_LISTEN_BACKLOG 128
#define QMP_MAX_CLIENTS 64
#define QMP_KEEP_BUFFER (64 * 1024) /* output buffers larger than this are freed when idle */
#define QMP_ACCEPT_RETRY_MS 250

typedef struct {
    GSocket *sock;
    GSource *src;    /* watches the listener; NULL while accepting is put aside */
    guint retry_id;  /* the timer that watches it again */
    bool warned;     /* an accept failure was logged since the last success */
    char *unix_path; /* removed again at shutdown */
} QmpServer;

typedef struct QmpSession QmpSession;

typedef struct {
    GSource base;
    QmpSession *session;
} SessionSource;

struct QmpSession {
    GSocket *sock;
    bool is_unix;
    SessionSource *src;
    gpointer tag;
    GIOCondition events; /* what we poll for now */
    JsonSplitter *splitter;
    GByteArray *in; /* received, not yet fed to the splitter from in_off on */
    size_t in_off;
    GByteArray *out; /* to send, from out_off on */
    size_t out_off;
    QmpContext ctx;
    bool eof;  /* the client closed its side: answer what we have, then close */
    bool dead; /* to be freed at the next dispatch */
};

/* The server registry. */
static struct {
    GList *servers;  /* QmpServer * */
    GList *sessions; /* QmpSession * */
} qmp;

static size_t pending_output(QmpSession *s)
{
    return s->out->len - s->out_off;
}

static void session_kill(QmpSession *s)
{
    if (!s->dead) {
        s->dead = true;
        g_source_set_ready_time(&s->src->base, 0); /* free it from its own dispatch */
    }
}

static void session_set_events(QmpSession *s)
{
    GIOCondition ev = 0;
    if (!s->eof && !s->dead && s->in_off >= s->in->len) {
        ev |= G_IO_IN;
    }
    if (!s->dead && pending_output(s)) {
        ev |= G_IO_OUT;
    }
    if (ev != s->events) {
        s->events = ev;
        g_source_modify_unix_fd(&s->src->base, s->tag, ev);
    }
}

static void session_flush(QmpSession *s)
{
    while (!s->dead && pending_output(s)) {
        GError *err = NULL;
        gssize n = g_socket_send(s->sock, (const char *)s->out->data + s->out_off,
                                 pending_output(s), NULL, &err);
        if (n < 0) {
            if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
                session_kill(s); /* the client went away */
            }
            g_error_free(err);
            break;
        }
        s->out_off += n;
    }
    if (s->out_off == s->out->len) {
        if (s->out->len > QMP_KEEP_BUFFER) { /* a big reply went out: give its memory back */
            g_byte_array_unref(s->out);
            s->out = g_byte_array_new();
        }
        g_byte_array_set_size(s->out, 0);
        s->out_off = 0;
    } else if (s->out_off >= QMP_OUT_HIGH) {
        g_byte_array_remove_range(s->out, 0, s->out_off);
        s->out_off = 0;
    }
}

static void session_send(QmpSession *s, const char *text, size_t len)
{
    if (s->dead) {
        return;
    }
    if (pending_output(s) + len > QMP_OUT_MAX) {
        g_warning("QMP: dropping a client that does not read its replies and events");
        session_kill(s);
        return;
    }
    g_byte_array_append(s->out, (const guint8 *)text, len);
    session_flush(s);
    session_set_events(s);
}

static void session_send_node(QmpSession *s, JsonNode *node)
{
    GString *text = g_string_new(NULL);
    qmp_json_append(text, node);
    g_string_append_c(text, '\n');
    session_send(s, text->str, text->len);
    g_string_free(text, TRUE);
}

void qmp_server_broadcast(const char *text, size_t len)
{
    for (GList *l = qmp.sessions; l; l = l->next) {
        QmpSession *s = l->data;
        if (s->ctx.negotiated) {
            session_send(s, text, len);
        }
    }
}

static void session_receive(QmpSession *s)
{
    GSocketControlMessage **msgs = NULL;
    gint nmsgs = 0;
    gint flags = 0;
    GError *err = NULL;

    g_byte_array_set_size(s->in, QMP_READ_CHUNK);
    s->in_off = 0;
    GInputVector vec = {s->in->data, QMP_READ_CHUNK};
    gssize n = g_socket_receive_message(s->sock, NULL, &vec, 1, s->is_unix ? &msgs : NULL,
                                        s->is_unix ? &nmsgs : NULL, &flags, NULL, &err);
    for (gint i = 0; i < nmsgs; i++) {
        if (G_IS_UNIX_FD_MESSAGE(msgs[i])) {
            gint nfds;
            gint *fds = g_unix_fd_message_steal_fds(G_UNIX_FD_MESSAGE(msgs[i]), &nfds);
            for (gint k = 0; k < nfds; k++) {
                qmp_context_add_fd(&s->ctx, fds[k]);
            }
            g_free(fds);
        }
        g_object_unref(msgs[i]);
    }
    g_free(msgs);
    g_byte_array_set_size(s->in, n > 0 ? n : 0);
    if (n == 0) {
        s->eof = true;
    } else if (n < 0) {
        if (!g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
            session_kill(s);
        }
        g_error_free(err);
    }
}

/* Answer the requests in the input buffer, while the client keeps up with the replies. */
static void session_process(QmpSession *s)
{
    while (!s->dead && s->in_off < s->in->len && pending_output(s) < QMP_OUT_HIGH) {
        size_t used;
        JsonSplitStatus st = json_splitter_feed(
            s->splitter, (const char *)s->in->data + s->in_off, s->in->len - s->in_off, &used);
        s->in_off += used;
        JsonNode *reply = NULL;
        if (st == JSON_SPLIT_VALUE) {
            size_t len;
            const char *text = json_splitter_value(s->splitter, &len);
            reply = qmp_dispatch_text(&s->ctx, text, len);
        } else if (st == JSON_SPLIT_ERROR) {
            GError *err = g_error_new(TERN_ERROR, TERN_ERROR_GENERIC, "JSON parse error, %s",
                                      json_splitter_error(s->splitter));
            reply = qmp_error_reply(err);
            g_error_free(err);
        }
        json_splitter_done(s->splitter);
        if (reply) {
            session_send_node(s, reply);
            json_node_unref(reply);
        }
    }
    if (s->in_off >= s->in->len) {
        g_byte_array_set_size(s->in, 0);
        s->in_off = 0;
    }
}

static void server_watch(QmpServer *srv);

static void session_free(QmpSession *s)
{
    qmp.sessions = g_list_remove(qmp.sessions, s);
    /* A descriptor came free: a listener put aside may accept again. */
    for (GList *l = qmp.servers; l; l = l->next) {
        QmpServer *srv = l->data;
        if (!srv->src) {
            server_watch(srv);
        }
    }
    s->src->session = NULL;
    g_source_destroy(&s->src->base);
    g_source_unref(&s->src->base);
    g_socket_close(s->sock, NULL);
    g_object_unref(s->sock);
    json_splitter_free(s->splitter);
    g_byte_array_unref(s->in);
    g_byte_array_unref(s->out);
    qmp_context_cleanup(&s->ctx);
    g_free(s);
}

static gboolean session_dispatch(GSource *base, GSourceFunc cb, gpointer data)
{
    QmpSession *s = ((SessionSource *)base)->session;
    GIOCondition rev = g_source_query_unix_fd(base, s->tag);

    g_source_set_ready_time(base, -1);
    if (rev & G_IO_OUT) {
        session_flush(s);
    }
    if ((rev & (G_IO_IN | G_IO_HUP | G_IO_ERR)) && !s->eof && s->in_off >= s->in->len) {
        session_receive(s);
    }
    session_process(s);
    bool finished = s->eof && s->in_off >= s->in->len && !pending_output(s);
    if (s->dead || finished) {
        session_free(s);
        return G_SOURCE_REMOVE;
    }
    session_set_events(s);
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs session_source_funcs = {
    .dispatch = session_dispatch,
};

static void session_new(GSocket *sock, bool is_unix)
{
    QmpSession *s = g_new0(QmpSession, 1);
    s->sock = sock;
    s->is_unix = is_unix;
    g_socket_set_blocking(sock, FALSE);
    s->splitter = json_splitter_new(QMP_MAX_MESSAGE, QMP_MAX_DEPTH);
    s->in = g_byte_array_new();
    s->out = g_byte_array_new();
    qmp_context_init(&s->ctx, false);
    s->src = (SessionSource *)g_source_new(&session_source_funcs, sizeof(SessionSource));
    s->src->session = s;
    g_source_set_name(&s->src->base, "qmp-session");
    s->events = G_IO_IN;
    s->tag = g_source_add_unix_fd(&s->src->base, g_socket_get_fd(sock), s->events);
    g_source_attach(&s->src->base, main_loop_context());
    qmp.sessions = g_list_append(qmp.sessions, s);

    JsonObject *qmp_obj = json_object_new();
    json_object_set_member(qmp_obj, "version", qmp_version_info());
    json_object_set_array_member(qmp_obj, "capabilities", json_array_new());
    JsonObject *greeting = json_object_new();
    json_object_set_object_member(greeting, "QMP", qmp_obj);
    JsonNode *node = qmp_node_take_object(greeting);
    session_send_node(s, node);
    json_node_unref(node);
}

/* Over the cap: say why in the protocol's own terms, then close. */
static void server_refuse(GSocket *client)
{
    static const char msg[] =
        "{\"error\": {\"class\": \"GenericError\", \"desc\": "
        "\"too many QMP clients (at most " G_STRINGIFY(QMP_MAX_CLIENTS) ")\"}}\n";
    g_socket_set_blocking(client, FALSE);
    g_socket_send(client, msg, sizeof(msg) - 1, NULL, NULL); /* best effort */
    g_socket_close(client, NULL);
    g_object_unref(client);
}

static gboolean server_retry(gpointer data)
{
    QmpServer *srv = data;
    srv->retry_id = 0;
    server_watch(srv);
    return G_SOURCE_REMOVE;
}

/* accept() failed with the listener still readable: stop watching it for a while. */
static void server_pause(QmpServer *srv, const GError *err)
{
    if (!srv->warned) {
        g_warning("QMP: accepting a client failed: %s (retrying every %d ms, or when a "
                  "client leaves; not logged again until it works)",
                  err->message, QMP_ACCEPT_RETRY_MS);
        srv->warned = true;
    }
    g_source_destroy(srv->src);
    g_source_unref(srv->src);
    srv->src = NULL;
    srv->retry_id =
        g_timeout_add_full(G_PRIORITY_DEFAULT, QMP_ACCEPT_RETRY_MS, server_retry, srv, NULL);
}

static gboolean server_accept(GSocket *sock, GIOCondition cond, gpointer data)
{
    QmpServer *srv = data;
    for (;;) {
        GError *err = NULL;
        GSocket *client = g_socket_accept(srv->sock, NULL, &err);
        if (!client) {
            bool spin = !g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
            if (spin) {
                server_pause(srv, err);
            }
            g_error_free(err);
            return spin ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
        }
        srv->warned = false;
        if (g_list_length(qmp.sessions) >= QMP_MAX_CLIENTS) {
            g_warning("QMP: refusing a client: %d clients are connected already",
                      QMP_MAX_CLIENTS);
            server_refuse(client);
            continue;
        }
        session_new(client, srv->unix_path != NULL);
    }
}

static void server_watch(QmpServer *srv)
{
    if (srv->retry_id) {
        g_source_remove(srv->retry_id);
        srv->retry_id = 0;
    }
    srv->src = g_socket_create_source(srv->sock, G_IO_IN, NULL);
    g_source_set_callback(srv->src, G_SOURCE_FUNC(server_accept), srv, NULL);
    g_source_set_name(srv->src, "qmp-listener");
    g_source_attach(srv->src, main_loop_context());
}

/* A leftover socket file from a tern that died is removed; a live one is not stolen. */
static bool unix_path_free(const char *path, GError **errp)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        return true;
    }
    if (!S_ISSOCK(st.st_mode)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s exists and is not a socket",
                    path);
        return false;
    }
    SockAddr probe = {.is_unix = true, .path = (char *)path};
    g_autoptr(GError) refused = NULL;
    int fd = sockaddr_connect(&probe, &refused);
    bool live = fd >= 0;
    if (fd >= 0) {
        close(fd);
    }
    if (live) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "another process is listening on %s",
                    path);
        return false;
    }
    unlink(path);
    return true;
}

/* A listening socket as a GSocket, which sessions are built on. */
static GSocket *listen_on(const SockAddr *addr, GError **errp)
{
    if (addr->is_unix && !unix_path_free(addr->path, errp)) {
        return NULL;
    }
    int fd = sockaddr_listen(addr, QMP_LISTEN_BACKLOG, errp);
    if (fd < 0) {
        return NULL;
    }
    GSocket *sock = g_socket_new_from_fd(fd, errp);
    if (!sock) {
        close(fd);
        return NULL;
    }
    g_socket_set_blocking(sock, FALSE);
    return sock;
}

static GSocket *listen_addr(const char *spec, GError **errp)
{
    SockAddr addr;
    GSocket *sock = NULL;
    if (sockaddr_parse(spec, &addr, errp)) {
        sock = listen_on(&addr, errp);
    }
    sockaddr_clear(&addr);
    return sock;
}

/* server=on and wait=off are required: tern listens, and never waits for a client. */
static bool check_options(char **opts, GError **errp)
{
    bool server = false, wait = true;
    for (char **o = opts; *o; o++) {
        char *eq = strchr(*o, '=');
        char *key = eq ? g_strndup(*o, eq - *o) : g_strdup(*o);
        bool value = true;
        bool known = strcmp(key, "server") == 0 || strcmp(key, "wait") == 0 ||
                     (strcmp(key, "nowait") == 0 && !eq);
        if (!known || (eq && !parse_bool(eq + 1, &value))) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        known ? "'%s' must be on or off"
                              : "unknown option '%s' (supported: server=on,wait=off)",
                        key);
            g_free(key);
            return false;
        }
        if (strcmp(key, "server") == 0) {
            server = value;
        } else {
            wait = strcmp(key, "wait") == 0 ? value : false;
        }
        g_free(key);
    }
    if (!server) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "client mode (server=off) is not supported; add server=on,wait=off");
        return false;
    }
    if (wait) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "wait=on (waiting for a client before starting) is not "
                    "supported; add wait=off");
        return false;
    }
    return true;
}

static void server_register(GSocket *sock, const char *unix_path)
{
    QmpServer *srv = g_new0(QmpServer, 1);
    srv->sock = sock;
    srv->unix_path = g_strdup(unix_path);
    server_watch(srv);
    qmp.servers = g_list_append(qmp.servers, srv);
}

bool qmp_server_add(const char *spec, GError **errp)
{
    char **parts = g_strsplit(spec, ",", -1);
    const char *addr = parts[0];
    GSocket *sock = NULL;
    bool is_unix = g_str_has_prefix(addr, "unix:");

    if (!is_unix && !g_str_has_prefix(addr, "tcp:")) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "expected unix:PATH or tcp:HOST:PORT with server=on,wait=off");
    } else if (check_options(parts + 1, errp)) {
        sock = listen_addr(addr, errp);
    }
    if (sock) {
        server_register(sock, is_unix ? addr + 5 : NULL);
    }
    g_strfreev(parts);
    return sock != NULL;
}

/* A client-mode chardev: connect to the peer's listening socket; one session, which
 * ends when the peer closes it (QEMU does not reconnect either without reconnect=). */
static bool connect_unix(const char *path, GError **errp)
{
    SockAddr addr;
    GSocket *sock = NULL;
    if (sockaddr_parse_unix(path, &addr, errp)) {
        int fd = sockaddr_connect(&addr, errp);
        if (fd >= 0 && !(sock = g_socket_new_from_fd(fd, errp))) {
            close(fd);
        }
    }
    sockaddr_clear(&addr);
    if (sock) {
        session_new(sock, true);
    }
    return sock != NULL;
}

bool qmp_server_add_chardev(const TernOpts *chr, GError **errp)
{
    const char *path = opts_get(chr, "path");
    bool server = false, wait = true;
    opts_get_bool(chr, "server", false, &server, NULL); /* checked by the option parser */
    opts_get_bool(chr, "wait", true, &wait, NULL);
    GSocket *sock = NULL;
    if (!server) {
        return connect_unix(path, errp);
    }
    if (wait) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "wait=on (waiting for a client before starting) is not supported; "
                    "add wait=off");
        return false;
    }
    SockAddr addr;
    if (sockaddr_parse_unix(path, &addr, errp)) {
        sock = listen_on(&addr, errp);
    }
    sockaddr_clear(&addr);
    if (sock) {
        server_register(sock, path);
    }
    return sock != NULL;
}

void qmp_server_shutdown(void)
{
    /* Let the last replies (quit's, the SHUTDOWN event) reach their clients. */
    while (qmp.sessions) {
        QmpSession *s = qmp.sessions->data;
        if (!s->dead && pending_output(s)) {
            g_socket_set_timeout(s->sock, 1);
            g_socket_set_blocking(s->sock, TRUE);
            session_flush(s);
        }
        session_free(s);
    }
    while (qmp.servers) {
        QmpServer *srv = qmp.servers->data;
        qmp.servers = g_list_delete_link(qmp.servers, qmp.servers);
        if (srv->src) {
            g_source_destroy(srv->src);
            g_source_unref(srv->src);
        }
        if (srv->retry_id) {
            g_source_remove(srv->retry_id);
        }
        g_socket_close(srv->sock, NULL);
        g_object_unref(srv->sock);
        if (srv->unix_path) {
            unlink(srv->unix_path);
            g_free(srv->unix_path);
        }
        g_free(srv);
    }
}
