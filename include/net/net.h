/*
 * net.h: network backends (-netdev) and the peers that connect them to NIC models,
 * QEMU's NetClientState model: every backend and every NIC queue is a client; a NIC's
 * client is the peer of its backend's client. Frames go from a client to its peer.
 *
 * Back-pressure: when the receiving side cannot take a frame now (a NIC whose guest has
 * posted no receive buffers), the frame waits in the receiver's bounded queue and flows
 * when the receiver calls net_client_flush(). Frames are dropped (and counted) only when
 * that queue is full. A sender that can stop producing (tap, socket: the kernel buffers
 * for them) checks net_can_send() and resumes when its info->send_ready is called.
 *
 * Everything here runs on the main thread with the big lock held.
 */
#ifndef TERN_NET_NET_H
#define TERN_NET_NET_H

#include <glib-unix.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "iov.h" /* frames are iovecs: their sizes and copies */
#include "options.h"

#define NET_QUEUE_MAX_FRAMES 256
#define ETH_ALEN 6
/* Largest frame any backend passes on (QEMU's NET_BUFSIZE: 64 KiB + headroom). */
#define NET_FRAME_MAX (65536 + 4096)
/* The virtio_net_hdr (v1, with num_buffers) in front of every frame of a pair that
 * carries headers (net_vnet_hdr_enable). */
#define NET_VNET_HDR_LEN 12

/* The offloads a NIC's guest accepts on receive (virtio-net's GUEST_* features): the
 * backend may then hand over frames with partial checksums or GSO. */
typedef struct NetOffloads {
    bool csum, tso4, tso6, ecn;
} NetOffloads;

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
     * Called once per announce round; see announce.h for who paces the rounds.
     */
    bool (*announce)(NetClientState *nc);
    /* NICs only, optional: every (MAC, VLAN) the guest is known to use, for the
     * VMM-side fallback. Fill `out` with NetAnnounceAddr; VLAN 0 means untagged. */
    void (*announce_addresses)(NetClientState *nc, GArray *out);
    /* Link state changed by QMP set_link (nc->link_down already updated). */
    void (*link_status_changed)(NetClientState *nc);
    /* Optional, on the sender: its peer's queue was full or non-empty and has drained
     * (net_client_flush ran); a sender that stopped producing may go on. */
    void (*send_ready)(NetClientState *nc);
    /* Backends, optional: switch to frames that carry a NET_VNET_HDR_LEN virtio_net_hdr
     * both ways (tap with IFF_VNET_HDR). False when this backend cannot. */
    bool (*enable_vnet_hdr)(NetClientState *nc);
    /* Backends with vnet headers: what the receiving guest accepts (TUNSETOFFLOAD). */
    void (*set_offloads)(NetClientState *nc, const NetOffloads *o);
} NetClientInfo;

typedef struct NetAnnounceAddr {
    uint8_t mac[ETH_ALEN];
    uint16_t vlan; /* 0: untagged */
} NetAnnounceAddr;

struct AnnounceNic; /* announce.c's per-NIC state */

struct NetClientState {
    const NetClientInfo *info;
    char *name;  /* -netdev id, or the NIC's device id */
    char *model; /* info->type, for messages */
    NetClientState *peer;
    bool link_down;
    /* Frames between this client and its peer start with a virtio_net_hdr (both ends
     * set, by net_vnet_hdr_enable). */
    bool vnet_hdr;
    void *opaque;                  /* the model or backend that owns this client */
    uint8_t cmdline_mac[ETH_ALEN]; /* NICs: the configured (command-line) MAC */
    /* NICs: announce_rarp=fallback, the VMM sends RARP only in rounds the guest cannot
     * take. False (the default): RARP in every round, on its own schedule, besides
     * asking the guest. The model sets it when it creates the client. */
    bool announce_rarp_fallback;
    GQueue *queue; /* frames waiting to be received by this client */
    /* Frames lost on their way to this client (queue full, link down); frames sent
     * while the client has no peer count on the sender. */
    uint64_t dropped;
    /* Private to net.c / announce.c. */
    bool flushing;
    bool sender_waiting; /* the peer was refused or queued: tell it when drained */
    struct AnnounceNic *announce;
};

NetClientState *net_client_new(const NetClientInfo *info, const char *name, void *opaque);
/* Disconnects from the peer, drops queued frames, cancels announce rounds, calls
 * info->cleanup. */
void net_client_free(NetClientState *nc);
/* A backend created by -netdev, by id; NULL when none. */
NetClientState *net_backend_find(const char *id);
/* Attach a NIC to a backend; refuses a backend that already has a peer. */
bool net_client_connect(NetClientState *nic, NetClientState *backend, GError **errp);
/* Send a frame from `from` to its peer: delivered, queued at the peer, or dropped when
 * the peer's queue is full or it has none / link down. Returns true unless dropped. */
bool net_send(NetClientState *from, const struct iovec *iov, int iovcnt);
bool net_send_buf(NetClientState *from, const void *buf, size_t len);
/* A frame the VMM built itself (RARP): plain Ethernet, given an all-zero virtio_net_hdr
 * when the pair carries headers. */
bool net_send_plain(NetClientState *from, const void *buf, size_t len);
/* A NIC asks its backend for frames with virtio_net_hdr both ways; true when the pair
 * now carries them (the NIC may then offer offloads). */
bool net_vnet_hdr_enable(NetClientState *nic);
/* A NIC tells its backend what its guest accepts on receive (no-op without headers). */
void net_set_offloads(NetClientState *nic, const NetOffloads *o);
/* True when a frame sent now would not be dropped for lack of room at the peer (it has
 * a peer, the links are up and the peer's queue has room). */
bool net_can_send(NetClientState *from);
/* The peer's queue is full (links up): a producer that can wait (tap, socket) stops
 * reading until its info->send_ready. Unlike !net_can_send, false with no peer or a link
 * down, where frames are dropped anyway. */
bool net_peer_full(NetClientState *from);
/* The receiver can take frames again: deliver what waits in its queue, in order. */
void net_client_flush(NetClientState *nc);
/* Drop every frame queued for nc (device reset). */
void net_client_purge(NetClientState *nc);
/* Every NIC client, in creation order (announce walks it). */
GPtrArray *net_nics(void);
NetClientState *net_nic_find(const char *name);
/* A NIC or backend by name (QMP set_link). */
NetClientState *net_client_find(const char *name);
/* QMP set_link: set the link of `name` and its peer, tell both. DeviceNotFound error. */
bool net_set_link(const char *name, bool up, GError **errp);
/* Free every backend (at exit; NICs belong to their device models). */
void net_cleanup(void);

/* Backends: watch an fd on the main loop (GUnixFDSourceFunc callback); unwatch drops
 * the source and clears the pointer (safe from inside the callback). */
GSource *net_fd_watch(int fd, GIOCondition cond, GUnixFDSourceFunc fn, void *opaque);
void net_fd_unwatch(GSource **src);

/* MAC helpers. */
bool net_parse_mac(const char *s, uint8_t mac[ETH_ALEN]);
char *net_format_mac(const uint8_t mac[ETH_ALEN]);

typedef struct NetBackendClass {
    const char *type; /* "tap", "socket" */
    bool (*create)(const TernOpts *opts, GError **errp);
} NetBackendClass;

void net_backend_class_register(const NetBackendClass *nc);
const NetBackendClass *net_backend_class_find(const char *type);

#define NET_BACKEND_REGISTER(nc)                                                               \
    static void __attribute__((constructor)) net_backend_register_##nc(void)                   \
    {                                                                                          \
        net_backend_class_register(&nc);                                                       \
    }

/* Create every -netdev in order; the first failure stops with its message. */
bool netdevs_create(GPtrArray *netdev_opts, GError **errp);
/* Create one (QMP netdev_add, tests). */
bool netdev_create(const TernOpts *opts, GError **errp);
/* fd=: a descriptor number tern inherited, or the name of one passed with QMP getfd (which
 * is taken: *owned, the caller closes it if it does not keep it). -1 and errp if neither. */
int netdev_fd_get(const TernOpts *o, const char *fdstr, bool *owned, GError **errp);
/* A descriptor from netdev_fd_get that its netdev refused after all: closed when owned (a
 * getfd one), else given back to the inherited set, still open. */
void netdev_fd_put_back(int fd, bool owned);
/* A backend's option error: "-netdev TYPE,id=ID: message". Returns false. */
bool netdev_error(GError **errp, const TernOpts *o, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

#endif
