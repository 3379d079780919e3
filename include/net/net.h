/*
 * net.h: network backends (-netdev) and the peers that connect them to NIC models,
 * QEMU's NetClientState model: every backend and every NIC queue is a client; a NIC's
 * client is the peer of its backend's client. Frames go from a client to its peer.
 *
 * Back-pressure: when the receiving side cannot take a frame now (a NIC whose guest has
 * posted no receive buffers), the frame waits in the receiver's bounded queue and flows
 * when the receiver calls net_client_flush(). Frames are dropped (and counted) only when
 * that queue is full.
 */
#ifndef TERN_NET_NET_H
#define TERN_NET_NET_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "options.h"

#define NET_QUEUE_MAX_FRAMES 256
#define ETH_ALEN 6

typedef struct NetClientState NetClientState;

typedef enum {
    NET_CLIENT_BACKEND,
    NET_CLIENT_NIC,
} NetClientKind;

typedef struct NetClientInfo {
    NetClientKind kind;
    const char *type; /* "tap", "socket", "virtio-net-pci", ... */
    /* Take one frame (plain Ethernet, no virtio header). Return the length taken, 0 when
     * it cannot take it now (the frame is queued; call net_client_flush later), or -1 to
     * drop it (filtered out, error). */
    ssize_t (*receive)(NetClientState *nc, const struct iovec *iov, int iovcnt);
    /* Optional quick check before building a frame for this client. */
    bool (*can_receive)(NetClientState *nc);
    void (*cleanup)(NetClientState *nc);
    /*
     * NICs only, optional: ask the guest to announce itself (guest announce). Return
     * true when the model took it (its guest will announce), false when it cannot (no
     * feature negotiated, no driver): the caller then sends RARP frames itself.
     */
    bool (*announce)(NetClientState *nc);
    /* NICs only, optional: every (MAC, VLAN) the guest is known to use, for the
     * VMM-side fallback. Fill `out` with NetAnnounceAddr; VLAN 0 means untagged. */
    void (*announce_addresses)(NetClientState *nc, GArray *out);
    /* NICs only, optional: the announce property, e.g. announce_rarp=always. */
    bool (*announce_rarp_always)(NetClientState *nc);
    /* Link state changed by QMP set_link. */
    void (*link_status_changed)(NetClientState *nc);
} NetClientInfo;

typedef struct NetAnnounceAddr {
    uint8_t mac[ETH_ALEN];
    uint16_t vlan; /* 0: untagged */
} NetAnnounceAddr;

struct NetClientState {
    const NetClientInfo *info;
    char *name;  /* -netdev id, or the NIC's device id */
    char *model; /* info->type, for messages */
    NetClientState *peer;
    bool link_down;
    void *opaque; /* the model or backend that owns this client */
    uint8_t mac[ETH_ALEN]; /* NICs: the configured (command-line) MAC */
    GQueue *queue;          /* frames waiting to be received by this client */
    uint64_t dropped;
};

NetClientState *net_client_new(const NetClientInfo *info, const char *name, void *opaque);
void net_client_free(NetClientState *nc);
/* A backend created by -netdev, by id; NULL when none. */
NetClientState *net_backend_find(const char *id);
/* Attach a NIC to a backend; refuses a backend that already has a peer. */
bool net_client_connect(NetClientState *nic, NetClientState *backend, GError **errp);
/* Send a frame from `from` to its peer: delivered, queued at the peer, or dropped when
 * the peer's queue is full or it has none / link down. Returns true unless dropped. */
bool net_send(NetClientState *from, const struct iovec *iov, int iovcnt);
bool net_send_buf(NetClientState *from, const void *buf, size_t len);
/* The receiver can take frames again: deliver what waits in its queue, in order. */
void net_client_flush(NetClientState *nc);
/* Every NIC client, in creation order (announce walks it). */
GPtrArray *net_nics(void);
NetClientState *net_nic_find(const char *name);

/* MAC helpers. */
bool net_parse_mac(const char *s, uint8_t mac[ETH_ALEN]);
char *net_format_mac(const uint8_t mac[ETH_ALEN]);

typedef struct NetBackendClass {
    const char *type; /* "tap", "socket" */
    bool (*create)(const TernOpts *opts, GError **errp);
} NetBackendClass;

void net_backend_class_register(const NetBackendClass *nc);
const NetBackendClass *net_backend_class_find(const char *type);

#define NET_BACKEND_REGISTER(nc)                                                           \
    static void __attribute__((constructor)) net_backend_register_##nc(void)               \
    {                                                                                      \
        net_backend_class_register(&nc);                                                   \
    }

/* Create every -netdev in order; the first failure stops with its message. */
bool netdevs_create(GPtrArray *netdev_opts, GError **errp);

#endif
