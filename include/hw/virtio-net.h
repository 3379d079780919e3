/*
 * virtio-net.h: the virtio network device (`-device virtio-net-pci`): one queue pair and
 * a control queue, the receive filter the control queue programs, and the guest
 * announce (VIRTIO_NET_F_GUEST_ANNOUNCE) that makes the network follow a moved VM.
 *
 * The model is split by job: virtio-net.c (device, properties, receive),
 * virtio-net-tx.c (transmit and when it runs), virtio-net-ctrl.c (control queue, receive
 * filter, query-rx-filter), virtio-net-announce.c (announce hook, ACK, the addresses the
 * VMM-side fallback announces) and virtio-net-vmstate.c (migration). The functions below are
 * what those files offer each other.
 */
#ifndef TERN_HW_VIRTIO_NET_H
#define TERN_HW_VIRTIO_NET_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hw/virtio.h"
#include "main-loop.h"
#include "migration/vmstate.h"
#include "net/net.h"
#include "options.h"
#include "runstate.h"

#define VIRTIO_ID_NET 1

/* Feature bits (virtio 1.x 5.1.3). */
#define VIRTIO_NET_F_CSUM 0       /* the device completes partial checksums (guest TX) */
#define VIRTIO_NET_F_GUEST_CSUM 1 /* the guest takes partial checksums (RX) */
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_CTRL_VLAN 19
#define VIRTIO_NET_F_CTRL_RX_EXTRA 20
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23

/* Config space: mac[6], le16 status, le16 max_virtqueue_pairs. */
#define VIRTIO_NET_CONFIG_MAC 0
#define VIRTIO_NET_CONFIG_STATUS 6
#define VIRTIO_NET_CONFIG_MAX_VQ_PAIRS 8
#define VIRTIO_NET_CONFIG_LEN 10
#define VIRTIO_NET_S_LINK_UP 1
#define VIRTIO_NET_S_ANNOUNCE 2

/* struct virtio_net_hdr_mrg_rxbuf: the header every frame carries with VERSION_1:
 * u8 flags, u8 gso_type, le16 hdr_len, gso_size, csum_start, csum_offset, num_buffers. */
#define VIRTIO_NET_HDR_LEN 12
#define VIRTIO_NET_HDR_FLAGS 0
#define VIRTIO_NET_HDR_GSO_TYPE 1
#define VIRTIO_NET_HDR_CSUM_START 6  /* le16 */
#define VIRTIO_NET_HDR_CSUM_OFFSET 8 /* le16 */
#define VIRTIO_NET_HDR_NUM_BUFFERS 10
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
#define VIRTIO_NET_HDR_GSO_TCPV6 4
#define VIRTIO_NET_HDR_GSO_ECN 0x80

/* Control queue. */
#define VIRTIO_NET_OK 0
#define VIRTIO_NET_ERR 1
#define VIRTIO_NET_CTRL_RX 0
#define VIRTIO_NET_CTRL_RX_PROMISC 0
#define VIRTIO_NET_CTRL_RX_ALLMULTI 1
#define VIRTIO_NET_CTRL_RX_ALLUNI 2
#define VIRTIO_NET_CTRL_RX_NOMULTI 3
#define VIRTIO_NET_CTRL_RX_NOUNI 4
#define VIRTIO_NET_CTRL_RX_NOBCAST 5
#define VIRTIO_NET_CTRL_MAC 1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET 0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET 1
#define VIRTIO_NET_CTRL_VLAN 2
#define VIRTIO_NET_CTRL_VLAN_ADD 0
#define VIRTIO_NET_CTRL_VLAN_DEL 1
#define VIRTIO_NET_CTRL_ANNOUNCE 3
#define VIRTIO_NET_CTRL_ANNOUNCE_ACK 0
#define VIRTIO_NET_CTRL_MQ 4
#define VIRTIO_NET_CTRL_GUEST_OFFLOADS 5

#define VIRTIO_NET_MAC_TABLE_ENTRIES 64
#define VIRTIO_NET_MAX_VLAN 4096
#define VIRTIO_NET_LEARNED_MAX 256
/* announce_ageing: seconds a learned (MAC, VLAN) stays announced after its last frame;
 * the default is the Linux bridge's FDB ageing time. */
#define VIRTIO_NET_AGEING_DEFAULT 300
#define VIRTIO_NET_AGEING_MAX 1000000
/* The oldest age a migration stream may carry (ms): 2^32 s, far beyond any ageing. */
#define VIRTIO_NET_LEARNED_AGE_MAX_MS (1000ULL << 32)
#define VIRTIO_NET_QUEUE_SIZE 256
#define VIRTIO_NET_RX_QUEUE 0
#define VIRTIO_NET_TX_QUEUE 1
#define VIRTIO_NET_CTRL_QUEUE 2 /* 2N with N = 1 queue pair */

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#endif

typedef struct VirtIONetMacTable {
    unsigned in_use;      /* entries in macs[] */
    unsigned first_multi; /* unicast entries come first */
    bool uni_overflow, multi_overflow;
    uint8_t macs[VIRTIO_NET_MAC_TABLE_ENTRIES * ETH_ALEN];
} VirtIONetMacTable;

/* A (source MAC, VLAN) the guest transmitted from. */
typedef struct VirtIONetLearned {
    uint8_t mac[ETH_ALEN];
    uint16_t vlan;   /* 0: untagged */
    uint64_t seen;   /* sequence number of the last frame: the oldest goes first */
    int64_t seen_ns; /* virtual clock of the last frame (its age migrates, not this) */
} VirtIONetLearned;

/* When transmit runs (`tx=`): at once on a kick, or on a timer after it. */
typedef enum {
    VIRTIO_NET_TX_BH,
    VIRTIO_NET_TX_TIMER,
} VirtIONetTxMode;

#define VIRTIO_NET_TX_INTERVAL_NS 150000 /* x-txtimer: QEMU's TX_TIMER_INTERVAL */
#define VIRTIO_NET_TX_BURST 256          /* x-txburst: QEMU's TX_BURST */

typedef struct VirtIONetTx {
    VirtIONetTxMode mode;
    int64_t interval_ns; /* x-txtimer: timer: the delay; bh: the look after a run (0: none) */
    unsigned burst;      /* x-txburst: frames per run before the main loop gets a turn */
    GSource *bh;         /* continues a long burst from the main loop */
    Timer *timer;        /* on the virtual clock */
} VirtIONetTx;

/* virtio-net-props.c: the command-line properties, one table. */
typedef enum {
    VNET_PROP_FEATURE,  /* on|off: a feature bit offered to the guest */
    VNET_PROP_OFFLOAD,  /* on|off: an offload bit, offered with a header-passing netdev */
    VNET_PROP_OFF_ONLY, /* QEMU's property for a feature tern lacks: only off */
    VNET_PROP_BOOL,     /* on|off into a field; the kinds above are read first, in order */
    VNET_PROP_UINT,     /* a number from 0 to max (and check) into a uint64_t field */
    VNET_PROP_ENUM,     /* one of values into an unsigned field (its index) */
    VNET_PROP_STRING,   /* read and resolved by the model */
} VirtIONetPropKind;

/* What the table's properties fill in. */
typedef struct VirtIONetProps {
    uint64_t features;
    uint64_t offloads; /* offered only when the backend passes virtio_net_hdr through */
    uint64_t rx_size, tx_size, ageing, tx_interval_ns, tx_burst;
    bool learned;
    unsigned tx_mode;   /* VirtIONetTxMode */
    unsigned rarp_mode; /* 0: fallback, 1: always */
} VirtIONetProps;

typedef struct VirtIONetProp VirtIONetProp;
struct VirtIONetProp {
    const char *name;
    VirtIONetPropKind kind;
    unsigned bit;    /* FEATURE, OFFLOAD */
    size_t offset;   /* BOOL, UINT, ENUM: the field in VirtIONetProps */
    uint64_t def;    /* bool: 0/1; ENUM: index into values */
    uint64_t max;    /* UINT */
    uint64_t needs;  /* FEATURE: all these bits; OFFLOAD: any one of them */
    uint64_t needs2; /* FEATURE: a second dependency, reported on its own */
    const char *needs_prop, *needs_prop2;
    const char *const *values; /* ENUM, NULL-terminated; an error lists the first two */
    bool (*check)(const VirtIONetProp *p, uint64_t v, GError **errp); /* UINT */
    const char *doc;
};

extern const VirtIONetProp virtio_net_props[]; /* ends with a NULL name */
/* Read every property of o with defaults and dependencies, refusing unknown ones (but
 * for transport_props, NULL-terminated: the transport's to read). */
bool virtio_net_props_parse(const TernOpts *o, const char *const *transport_props,
                            VirtIONetProps *c, GError **errp);
/* The guest's feature set f breaks a dependency: why, else NULL. */
const char *virtio_net_props_invalid(uint64_t f);
const char *virtio_net_props_feature_name(unsigned bit);
/* The table as Markdown, as docs/virtio.md lists it. */
char *virtio_net_props_doc(void);

typedef struct VirtIONet {
    VirtIODevice vdev;
    NetClientState *nc;
    char *name;                    /* the NIC's name: the device id, or virtio-net-pci.N */
    char *dev_id;                  /* the device id, NULL when none was given */
    char *qom_path;                /* QEMU's canonical path of the virtio backend, for events */
    uint8_t cmdline_mac[ETH_ALEN]; /* -device mac=: what a reset restores */
    uint8_t guest_mac[ETH_ALEN];   /* in config space: the driver may set it (MAC_ADDR_SET) */
    uint16_t status;
    uint16_t max_queue_pairs; /* 1: tern has no multiqueue */
    VirtQueue *rx_vq, *tx_vq, *ctrl_vq;
    bool mergeable_rx;
    bool guest_csum; /* GUEST_CSUM negotiated: receive headers pass to the guest as they are */
    VirtIONetTx tx;
    VMChangeStateEntry *runstate_notifier;

    /* Receive filter, programmed through the control queue. */
    bool promisc, allmulti, alluni, nomulti, nouni, nobcast;
    VirtIONetMacTable mac_table;
    uint32_t vlans[VIRTIO_NET_MAX_VLAN / 32];
    bool rxfilter_notify_enabled; /* NIC_RX_FILTER_CHANGED is armed */

    /* Announce. */
    bool announce_learned;  /* announce_learned=on */
    bool announce_deferred; /* asked before DRIVER_OK: ask at DRIVER_OK */
    /* S_ANNOUNCE arrived set in the migration stream: the guest was asked on the source
     * host and may have answered there; the first round here asks again. */
    bool announce_inherited;
    uint32_t announce_ageing; /* s; announce_ageing=SECONDS */
    VirtIONetLearned learned[VIRTIO_NET_LEARNED_MAX];
    unsigned learned_count, learned_last;
    uint64_t learned_seq;
    /* Migration only: each learned address's age in ms, filled just before saving. */
    uint32_t learned_age_count;
    uint64_t learned_age_ms[VIRTIO_NET_LEARNED_MAX];
} VirtIONet;

static inline VirtIONet *virtio_net_of(VirtIODevice *vdev)
{
    return container_of(vdev, VirtIONet, vdev);
}

/* The model behind a NIC client, or NULL when it is another model. */
VirtIONet *virtio_net_from_nc(NetClientState *nc);
/* What the negotiated features mean for the data path (mergeable buffers, the offloads
 * the backend may use toward the guest): after set_features, reset and a load. */
void virtio_net_apply_features(VirtIONet *n, uint64_t features);

/* virtio-net-tx.c */
void virtio_net_tx_init(VirtIONet *n, VirtIONetTxMode mode, int64_t interval_ns,
                        unsigned burst);
void virtio_net_tx_cleanup(VirtIONet *n);
void virtio_net_handle_tx(VirtIODevice *vdev, VirtQueue *vq);
/* Send what the guest queued now, if the VM runs and the driver is ready (start,
 * send_ready). */
void virtio_net_tx_run(VirtIONet *n);
/* The VM stopped: what the guest queued before leaves now; nothing runs until a start. */
void virtio_net_tx_stop(VirtIONet *n);
void virtio_net_tx_reset(VirtIONet *n);

/* virtio-net-ctrl.c */
void virtio_net_handle_ctrl(VirtIODevice *vdev, VirtQueue *vq);
/* Run one control command (class, command, data after the 2-byte header). */
uint8_t virtio_net_ctrl_command(VirtIONet *n, uint8_t cls, uint8_t cmd, const uint8_t *data,
                                size_t len);
/* Whether the receive filter lets `frame` (Ethernet, `len` bytes) reach the guest. */
bool virtio_net_receive_filter(const VirtIONet *n, const uint8_t *frame, size_t len);
/* The guest's own tables still name (mac, vlan): mac is its MAC or in the unicast part
 * of its MAC table, and vlan is 0 or one its VLAN filter passes. */
bool virtio_net_filter_names(const VirtIONet *n, const uint8_t *mac, uint16_t vlan);
/* The receive filter's power-on state (QEMU's: promiscuous until the driver says). */
void virtio_net_rx_filter_reset(VirtIONet *n);
/* The filter changed: emit NIC_RX_FILTER_CHANGED if armed, then disarm. */
void virtio_net_rxfilter_notify(VirtIONet *n);

/* virtio-net-vmstate.c: the device's section, registered at realize. */
extern const VMStateDescription vmstate_virtio_net;

/* virtio-net-announce.c */
bool virtio_net_announce(NetClientState *nc);
void virtio_net_announce_addresses(NetClientState *nc, GArray *out);
/* ANNOUNCE class command: clears the bit before the caller marks the buffer used. */
uint8_t virtio_net_announce_ack(VirtIONet *n, uint8_t cmd, size_t len);
/* The driver just set DRIVER_OK: a deferred request goes to the guest now. */
void virtio_net_announce_driver_ok(VirtIONet *n);
/* Device reset; `driver_was_ok`: a running driver went away (cancel rounds in flight). */
void virtio_net_announce_reset(VirtIONet *n, bool driver_was_ok);
/* Whether the guest negotiated what it takes to answer an announce request. */
bool virtio_net_guest_can_announce(const VirtIONet *n);
/* Remember the (source MAC, VLAN) of a frame the guest transmitted at `now_ns` (virtual
 * clock). */
void virtio_net_learn_tx(VirtIONet *n, const uint8_t *frame, size_t len, int64_t now_ns);

#endif
