/*
 * net.c: network clients and their peers. A frame goes from a client to its peer: it is
 * handed over at once when the peer can take it, waits in the peer's bounded queue when
 * the peer says "not now" (receive returns 0), and is dropped and counted only when that
 * queue is full. The receiver drains its queue with net_client_flush() and the sender
 * hears about it through info->send_ready, so tap and socket stop reading the kernel
 * instead of losing frames.
 */
#include <string.h>
#include "error.h"
#include "main-loop.h"
#include "net/announce.h"
#include "net/net.h"

typedef struct {
    size_t len;
    uint8_t data[];
} NetFrame;

/* The client registry: one per process, touched with the big lock held. */
static struct {
    GPtrArray *nics;     /* NetClientState *, creation order */
    GPtrArray *backends; /* NetClientState *, creation order */
} net;

static GPtrArray *client_list(NetClientKind kind)
{
    GPtrArray **list = kind == NET_CLIENT_NIC ? &net.nics : &net.backends;
    if (!*list) {
        *list = g_ptr_array_new();
    }
    return *list;
}

NetClientState *net_client_new(const NetClientInfo *info, const char *name, void *opaque)
{
    NetClientState *nc = g_new0(NetClientState, 1);
    nc->info = info;
    nc->name = g_strdup(name);
    nc->model = g_strdup(info->type);
    nc->opaque = opaque;
    nc->queue = g_queue_new();
    g_ptr_array_add(client_list(info->kind), nc);
    return nc;
}

void net_client_purge(NetClientState *nc)
{
    NetFrame *f;
    while ((f = g_queue_pop_head(nc->queue))) {
        g_free(f);
    }
}

void net_client_free(NetClientState *nc)
{
    if (!nc) {
        return;
    }
    if (nc->info->kind == NET_CLIENT_NIC) {
        announce_nic_cleanup(nc);
    }
    if (nc->peer) {
        /* Frames the peer has not taken yet came from us: they go with us. */
        net_client_purge(nc->peer);
        nc->peer->vnet_hdr = false;
        nc->peer->peer = NULL;
        nc->peer = NULL;
    }
    g_ptr_array_remove(client_list(nc->info->kind), nc);
    if (nc->info->cleanup) {
        nc->info->cleanup(nc);
    }
    net_client_purge(nc);
    g_queue_free(nc->queue);
    g_free(nc->name);
    g_free(nc->model);
    g_free(nc);
}

static NetClientState *find_in(GPtrArray *list, const char *name)
{
    for (guint i = 0; list && i < list->len; i++) {
        NetClientState *nc = g_ptr_array_index(list, i);
        if (g_strcmp0(nc->name, name) == 0) {
            return nc;
        }
    }
    return NULL;
}

NetClientState *net_backend_find(const char *id)
{
    return find_in(net.backends, id);
}

NetClientState *net_nic_find(const char *name)
{
    return find_in(net.nics, name);
}

NetClientState *net_client_find(const char *name)
{
    NetClientState *nc = net_nic_find(name);
    return nc ? nc : net_backend_find(name);
}

GPtrArray *net_nics(void)
{
    return client_list(NET_CLIENT_NIC);
}

bool net_client_connect(NetClientState *nic, NetClientState *backend, GError **errp)
{
    if (backend->peer) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "netdev '%s' is already in use by '%s'", backend->name,
                    backend->peer->name ? backend->peer->name : backend->peer->model);
        return false;
    }
    if (nic->peer) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "'%s' is already connected to '%s'",
                    nic->name ? nic->name : nic->model, nic->peer->name);
        return false;
    }
    nic->peer = backend;
    backend->peer = nic;
    return true;
}

static bool queue_full(const NetClientState *nc)
{
    return g_queue_get_length(nc->queue) >= NET_QUEUE_MAX_FRAMES;
}

bool net_can_send(NetClientState *from)
{
    NetClientState *to = from->peer;
    return to && !from->link_down && !to->link_down && !queue_full(to);
}

bool net_peer_full(NetClientState *from)
{
    NetClientState *to = from->peer;
    return to && !from->link_down && !to->link_down && queue_full(to);
}

static bool enqueue(NetClientState *to, const struct iovec *iov, int iovcnt, size_t len)
{
    to->sender_waiting = true;
    if (queue_full(to)) {
        to->dropped++;
        return false;
    }
    NetFrame *f = g_malloc(sizeof(*f) + len);
    f->len = len;
    iov_to_buf(iov, iovcnt, 0, f->data, len);
    g_queue_push_tail(to->queue, f);
    return true;
}

bool net_send(NetClientState *from, const struct iovec *iov, int iovcnt)
{
    NetClientState *to = from->peer;
    size_t len = iov_size(iov, iovcnt);
    if (!to) {
        from->dropped++;
        return false;
    }
    if (from->link_down || to->link_down) {
        to->dropped++;
        return false;
    }
    /* Behind frames already waiting, or while the receiver drains them: keep order. */
    if (!g_queue_is_empty(to->queue) || to->flushing ||
        (to->info->can_receive && !to->info->can_receive(to))) {
        return enqueue(to, iov, iovcnt, len);
    }
    ssize_t r = to->info->receive(to, iov, iovcnt);
    if (r == 0) {
        return enqueue(to, iov, iovcnt, len);
    }
    return true; /* taken, or refused by the receiver's own rules (filter, error) */
}

bool net_send_buf(NetClientState *from, const void *buf, size_t len)
{
    struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
    return net_send(from, &iov, 1);
}

bool net_send_plain(NetClientState *from, const void *buf, size_t len)
{
    static const uint8_t zero_hdr[NET_VNET_HDR_LEN];
    struct iovec iov[2] = {
        {.iov_base = (void *)zero_hdr, .iov_len = sizeof(zero_hdr)},
        {.iov_base = (void *)buf, .iov_len = len},
    };
    return from->vnet_hdr ? net_send(from, iov, 2) : net_send(from, &iov[1], 1);
}

bool net_vnet_hdr_enable(NetClientState *nic)
{
    NetClientState *b = nic->peer;
    if (!b || !b->info->enable_vnet_hdr || !b->info->enable_vnet_hdr(b)) {
        return false;
    }
    nic->vnet_hdr = b->vnet_hdr = true;
    return true;
}

void net_set_offloads(NetClientState *nic, const NetOffloads *o)
{
    NetClientState *b = nic->peer;
    if (nic->vnet_hdr && b && b->info->set_offloads) {
        b->info->set_offloads(b, o);
    }
}

void net_client_flush(NetClientState *nc)
{
    if (nc->flushing) {
        return; /* called from inside our own receive: the outer loop goes on */
    }
    nc->flushing = true;
    NetFrame *f;
    while ((f = g_queue_peek_head(nc->queue))) {
        if (nc->link_down) {
            net_client_purge(nc);
            break;
        }
        if (nc->info->can_receive && !nc->info->can_receive(nc)) {
            break;
        }
        struct iovec iov = {.iov_base = f->data, .iov_len = f->len};
        if (nc->info->receive(nc, &iov, 1) == 0) {
            break;
        }
        g_queue_pop_head(nc->queue);
        g_free(f);
    }
    nc->flushing = false;
    if (nc->sender_waiting && !queue_full(nc)) {
        nc->sender_waiting = !g_queue_is_empty(nc->queue);
        NetClientState *sender = nc->peer;
        if (sender && sender->info->send_ready) {
            sender->info->send_ready(sender);
        }
    }
}

bool net_set_link(const char *name, bool up, GError **errp)
{
    NetClientState *nc = net_client_find(name);
    if (!nc) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_DEVICE_NOT_FOUND, "Device '%s' not found",
                    name);
        return false;
    }
    /* QEMU: a NIC and its backend go down and up together. */
    NetClientState *both[2] = {nc, nc->peer};
    for (int i = 0; i < 2; i++) {
        if (both[i]) {
            both[i]->link_down = !up;
        }
    }
    for (int i = 0; i < 2; i++) {
        if (both[i] && both[i]->info->link_status_changed) {
            both[i]->info->link_status_changed(both[i]);
        }
    }
    if (up && nc->peer) {
        net_client_flush(nc);
        net_client_flush(nc->peer);
    }
    return true;
}

void net_cleanup(void)
{
    while (net.backends && net.backends->len) {
        net_client_free(g_ptr_array_index(net.backends, net.backends->len - 1));
    }
}

GSource *net_fd_watch(int fd, GIOCondition cond, GUnixFDSourceFunc fn, void *opaque)
{
    GSource *src = g_unix_fd_source_new(fd, cond);
    g_source_set_callback(src, (GSourceFunc)(void (*)(void))fn, opaque, NULL);
    g_source_attach(src, main_loop_context());
    return src;
}

void net_fd_unwatch(GSource **src)
{
    if (*src) {
        g_source_destroy(*src);
        g_source_unref(*src);
        *src = NULL;
    }
}

bool net_parse_mac(const char *s, uint8_t mac[ETH_ALEN])
{
    uint8_t m[ETH_ALEN];
    for (int i = 0; i < ETH_ALEN; i++) {
        if (!g_ascii_isxdigit(s[0]) || !g_ascii_isxdigit(s[1])) {
            return false;
        }
        m[i] = g_ascii_xdigit_value(s[0]) << 4 | g_ascii_xdigit_value(s[1]);
        s += 2;
        if (i < ETH_ALEN - 1) {
            if (*s != ':' && *s != '-') {
                return false;
            }
            s++;
        }
    }
    if (*s) {
        return false;
    }
    memcpy(mac, m, ETH_ALEN);
    return true;
}

char *net_format_mac(const uint8_t mac[ETH_ALEN])
{
    return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                           mac[4], mac[5]);
}
