/*
 * qvirtio-net.h: a virtio-net driver for tests (receive, transmit, control commands) and
 * the far end of the NIC's netdev: a stream socket with QEMU's 4-byte big-endian length
 * framing, held by the test.
 */
#ifndef TERN_TESTS_QVIRTIO_NET_H
#define TERN_TESTS_QVIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "qvirtio.h"

#define QVNET_ID 1
#define QVNET_F_CSUM 0
#define QVNET_F_GUEST_CSUM 1
#define QVNET_F_MAC 5
#define QVNET_F_GUEST_TSO4 7
#define QVNET_F_GUEST_TSO6 8
#define QVNET_F_GUEST_ECN 9
#define QVNET_F_HOST_TSO4 11
#define QVNET_F_HOST_TSO6 12
#define QVNET_F_HOST_ECN 13
#define QVNET_F_MRG_RXBUF 15
#define QVNET_F_STATUS 16
#define QVNET_F_CTRL_VQ 17
#define QVNET_F_CTRL_RX 18
#define QVNET_F_CTRL_VLAN 19
#define QVNET_F_CTRL_RX_EXTRA 20
#define QVNET_F_GUEST_ANNOUNCE 21
#define QVNET_F_MQ 22
#define QVNET_F_CTRL_MAC_ADDR 23
#define QVNET_BIT(b) (1ULL << (b))
/* The offloads, offered only on a backend that passes virtio_net_hdr through (tap). */
#define QVNET_OFFLOAD_FEATURES                                                                 \
    (QVNET_BIT(QVNET_F_CSUM) | QVNET_BIT(QVNET_F_GUEST_CSUM) | QVNET_BIT(QVNET_F_GUEST_TSO4) | \
     QVNET_BIT(QVNET_F_GUEST_TSO6) | QVNET_BIT(QVNET_F_GUEST_ECN) |                            \
     QVNET_BIT(QVNET_F_HOST_TSO4) | QVNET_BIT(QVNET_F_HOST_TSO6) |                             \
     QVNET_BIT(QVNET_F_HOST_ECN))
/* Everything tern's virtio-net offers by default on a socket netdev (or none). */
#define QVNET_ALL_FEATURES                                                                     \
    (QVNET_BIT(QVIRTIO_F_VERSION_1) | QVNET_BIT(QVIRTIO_F_EVENT_IDX) |                         \
     QVNET_BIT(QVIRTIO_F_INDIRECT_DESC) | QVNET_BIT(QVNET_F_MAC) |                             \
     QVNET_BIT(QVNET_F_MRG_RXBUF) | QVNET_BIT(QVNET_F_STATUS) | QVNET_BIT(QVNET_F_CTRL_VQ) |   \
     QVNET_BIT(QVNET_F_CTRL_RX) | QVNET_BIT(QVNET_F_CTRL_VLAN) |                               \
     QVNET_BIT(QVNET_F_CTRL_RX_EXTRA) | QVNET_BIT(QVNET_F_GUEST_ANNOUNCE) |                    \
     QVNET_BIT(QVNET_F_CTRL_MAC_ADDR))

#define QVNET_S_LINK_UP 1
#define QVNET_S_ANNOUNCE 2
#define QVNET_CONFIG_STATUS 6
#define QVNET_HDR_LEN 12
#define QVNET_OK 0
#define QVNET_ERR 1
#define QVNET_RX_BUF 2048

typedef struct QVirtioNet {
    QTestState *qts;
    QVirtioDevice *dev;
    QVirtQueue *rx, *tx, *ctrl;
    uint64_t features; /* negotiated */
    uint64_t *rx_addr; /* per descriptor head: the buffer posted there */
    uint32_t *rx_len;
} QVirtioNet;

/*
 * Start tern with `-device virtio-net-pci,netdev=n0[,<props>]` on a socket netdev whose
 * other end is returned in *backend_fd (closed by the caller), plus `extra` arguments.
 */
QTestState *qvnet_start(const char *props, const char *extra, int *backend_fd);

/* Drive the NIC: negotiate `features` (must be offered), set up rx, tx and (with CTRL_VQ)
 * the control queue, MSI-X on; DRIVER_OK when `driver_ok`. */
QVirtioNet *qvnet_init(QTestState *qts, uint64_t features, bool driver_ok);
void qvnet_free(QVirtioNet *n);
/* The driver of `n`, carried over to the destination of a migration (`qts`, whose RAM
 * now holds the guest): queues, posted buffers and the allocator continue where they
 * were. `n` stays valid (for the source). */
QVirtioNet *qvnet_clone(const QVirtioNet *n, QTestState *qts);
uint16_t qvnet_status(QVirtioNet *n);
void qvnet_config_mac(QVirtioNet *n, uint8_t mac[6]);

/* Post one receive buffer of `size` bytes (header included) and kick. */
void qvnet_rx_post(QVirtioNet *n, uint32_t size);
/* The next received frame, waiting up to QVIRTIO_TIMEOUT_MS: copies the frame (header
 * stripped) and returns its length; *num_buffers from the header when not NULL. Only
 * single-buffer frames (tests post buffers big enough). */
size_t qvnet_rx_wait(QVirtioNet *n, uint8_t *frame, size_t cap, uint16_t *num_buffers);
/* True when a frame was received already (non-blocking form of qvnet_rx_wait). */
bool qvnet_rx_poll(QVirtioNet *n, uint8_t *frame, size_t cap, size_t *len);
/* Transmit a frame (header + frame in one buffer) and wait until the device used it. */
void qvnet_tx(QVirtioNet *n, const void *frame, size_t len);
/* The same with the given virtio_net_hdr (QVNET_HDR_LEN bytes) instead of a zero one. */
void qvnet_tx_hdr(QVirtioNet *n, const uint8_t *hdr, const void *frame, size_t len);
/* qvnet_rx_wait that also copies the frame's virtio_net_hdr (QVNET_HDR_LEN bytes). */
size_t qvnet_rx_wait_hdr(QVirtioNet *n, uint8_t *hdr, uint8_t *frame, size_t cap);
/* A control command: header, data (none when len is 0), ack. Returns the ack. */
uint8_t qvnet_ctrl(QVirtioNet *n, uint8_t cls, uint8_t cmd, const void *data, size_t len);
/* The same in two steps: queue and kick (the ack byte reads 0xee until answered), then
 * wait for the answer. A command queued before a migration may be answered after it, by
 * the destination: qvnet_ctrl_wait on the cloned driver. */
typedef struct QVnetCtrlReq {
    uint16_t head;
    uint64_t ack; /* guest address of the ack byte */
} QVnetCtrlReq;
QVnetCtrlReq qvnet_ctrl_submit(QVirtioNet *n, uint8_t cls, uint8_t cmd, const void *data,
                               size_t len);
uint8_t qvnet_ctrl_wait(QVirtioNet *n, QVnetCtrlReq req);

/* The backend's end of the wire. */
void qvnet_backend_send(int fd, const void *frame, size_t len);
/* The next frame within timeout_ms: its length, or -1 when none came. */
ssize_t qvnet_backend_recv(int fd, uint8_t *buf, size_t cap, int timeout_ms);
/* The next frame is exactly `want` (waiting up to QVIRTIO_TIMEOUT_MS). */
void qvnet_backend_expect(int fd, const void *want, size_t len);
/* ... FACTS.md's RARP announce frame for (mac, vlan). */
void qvnet_backend_expect_rarp(int fd, const uint8_t mac[6], uint16_t vlan);
/* No frame within `ms`. tern writes a frame it builds itself (RARP) before it answers
 * the qtest command that caused it, and a frame the guest transmits within a main-loop
 * iteration of the kick, so a short wait (tens of ms) proves there is none. */
void qvnet_backend_expect_none(int fd, int ms);

/* Build an Ethernet frame: dst, src, optional 802.1Q tag (vlan > 0), ethertype,
 * payload of `payload_len` bytes of a pattern. Returns its length. */
size_t qvnet_build_frame(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6],
                         uint16_t vlan, uint16_t ethertype, size_t payload_len);
/* FACTS.md's RARP announce frame for `mac`, tagged when vlan != 0: its length (60, or 64
 * tagged; buf holds at least 64 bytes). */
size_t qvnet_build_rarp(uint8_t *buf, const uint8_t mac[6], uint16_t vlan);

#endif
