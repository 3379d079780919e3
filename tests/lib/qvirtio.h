/*
 * qvirtio.h: a virtio 1.x modern PCI driver for tests, over libqtest and qpci: find the
 * device, walk its vendor capabilities, negotiate features, set up split virtqueues in
 * guest RAM (qtest_alloc), add descriptor chains, kick, read the used ring, and see
 * interrupts as MSI-X messages in guest RAM.
 *
 * Everything is explicit so tests can also build what a well-behaved driver never would
 * (bad chains, odd orders): qvirtqueue_desc() writes any descriptor, qvirtqueue_publish()
 * makes any head available.
 */
#ifndef TERN_TESTS_QVIRTIO_H
#define TERN_TESTS_QVIRTIO_H

#include <stdbool.h>
#include <stdint.h>
#include "libqtest.h"
#include "qpci.h"

#define QVIRTIO_VENDOR 0x1af4
#define QVIRTIO_F_VERSION_1 32
#define QVIRTIO_F_EVENT_IDX 29
#define QVIRTIO_F_INDIRECT_DESC 28
#define QVIRTIO_S_ACKNOWLEDGE 1
#define QVIRTIO_S_DRIVER 2
#define QVIRTIO_S_DRIVER_OK 4
#define QVIRTIO_S_FEATURES_OK 8
#define QVIRTIO_S_NEEDS_RESET 0x40
#define QVIRTIO_DESC_F_NEXT 1
#define QVIRTIO_DESC_F_WRITE 2
#define QVIRTIO_DESC_F_INDIRECT 4
#define QVIRTIO_NO_VECTOR 0xffff
#define QVIRTIO_CONFIG_VECTOR 0           /* tests give the config interrupt vector 0 ... */
#define QVIRTIO_QUEUE_VECTOR(i) ((i) + 1) /* ... and queue i vector i + 1 */
/* How long a test waits for the device (a frame from the backend, say). */
#define QVIRTIO_TIMEOUT_MS 10000

typedef struct QVirtioDevice {
    QTestState *qts;
    QPCIBus bus;
    QPCIDevice *pdev;
    int bar;                              /* the BAR the capabilities point into */
    uint64_t common, isr, device, notify; /* offsets in that BAR */
    uint32_t notify_mult;
    uint8_t cfg_cap; /* PCI configuration access capability, 0: none */
    bool msix;
} QVirtioDevice;

typedef struct QVirtQueue {
    QVirtioDevice *dev;
    unsigned index;
    uint16_t size;
    uint64_t desc, avail, used;
    uint16_t notify_off;
    uint16_t next_desc; /* simple allocator: descriptors are used round-robin */
    uint16_t avail_idx; /* the driver's copy of avail->idx */
    uint16_t last_used; /* used entries consumed so far */
} QVirtQueue;

/* The first virtio device of type `virtio_id` (vendor 1af4, device 0x1040 + id); maps
 * its BARs, enables it, finds the capabilities. NULL when there is none. */
QVirtioDevice *qvirtio_pci_find(QTestState *qts, uint16_t virtio_id);
void qvirtio_free(QVirtioDevice *d);
/* The same driver on another tern that holds the same guest (after a migration): a copy
 * of d's view (BARs, capabilities, MSI-X slots) talking to `qts`; touches nothing. */
QVirtioDevice *qvirtio_clone(const QVirtioDevice *d, QTestState *qts);
/* Turn MSI-X on (every vector's message lands in guest RAM; see qpci_msix_take). */
void qvirtio_enable_msix(QVirtioDevice *d);

/* Common configuration. */
uint64_t qvirtio_device_features(QVirtioDevice *d);
void qvirtio_set_driver_features(QVirtioDevice *d, uint64_t f);
uint8_t qvirtio_get_status(QVirtioDevice *d);
void qvirtio_set_status(QVirtioDevice *d, uint8_t s);
void qvirtio_reset(QVirtioDevice *d);
uint8_t qvirtio_config_generation(QVirtioDevice *d);
uint16_t qvirtio_num_queues(QVirtioDevice *d);
void qvirtio_set_config_vector(QVirtioDevice *d, uint16_t v);
/* Reset, ACKNOWLEDGE, DRIVER, write `features`, FEATURES_OK; returns whether the device
 * kept FEATURES_OK. */
bool qvirtio_negotiate(QVirtioDevice *d, uint64_t features);
/* Set DRIVER_OK on top of the current status. */
void qvirtio_driver_ok(QVirtioDevice *d);
/* ISR (reading clears it). */
uint8_t qvirtio_isr(QVirtioDevice *d);

/* Device configuration space. */
uint8_t qvirtio_config_readb(QVirtioDevice *d, uint64_t off);
uint16_t qvirtio_config_readw(QVirtioDevice *d, uint64_t off);
uint32_t qvirtio_config_readl(QVirtioDevice *d, uint64_t off);
void qvirtio_config_writeb(QVirtioDevice *d, uint64_t off, uint8_t v);

/* Interrupts through MSI-X: whether the config / queue vector fired since last asked. */
bool qvirtio_take_config_irq(QVirtioDevice *d);
bool qvirtio_take_queue_irq(QVirtQueue *vq);

/* Set up queue `index` with `size` entries (0: the device's size), vector
 * QVIRTIO_QUEUE_VECTOR(index), and enable it. */
QVirtQueue *qvirtqueue_setup(QVirtioDevice *d, unsigned index, uint16_t size);
/* Select a queue and read/write raw registers (for tests of bad set-ups). */
void qvirtqueue_select(QVirtioDevice *d, unsigned index);
uint16_t qvirtqueue_read_size(QVirtioDevice *d);

/* The 16 bytes of a split-ring descriptor (little-endian). */
void qvirtio_desc_encode(uint8_t out[16], uint64_t addr, uint32_t len, uint16_t flags,
                         uint16_t next);
/* Write descriptor `i` of the queue's table (or of any table at `table`). */
void qvirtqueue_desc(QVirtQueue *vq, uint16_t i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next);
void qvirtio_write_desc(QTestState *qts, uint64_t table, uint16_t i, uint64_t addr,
                        uint32_t len, uint16_t flags, uint16_t next);
/* Add a buffer to the chain being built: `first` starts a new chain (returns its head);
 * later calls link to the previous descriptor. Returns the descriptor index. */
uint16_t qvirtqueue_add(QVirtQueue *vq, uint64_t addr, uint32_t len, bool write, bool first);
/* Make `head` available (no kick). */
void qvirtqueue_publish(QVirtQueue *vq, uint16_t head);
/* Write the avail index as it is (for tests that lie about it). */
void qvirtqueue_set_avail_idx(QVirtQueue *vq, uint16_t idx);
/* Notify the device about this queue. */
void qvirtqueue_kick(QVirtQueue *vq);
/* Publish and kick. */
void qvirtqueue_submit(QVirtQueue *vq, uint16_t head);
/* The used index as the device wrote it. */
uint16_t qvirtqueue_used_idx(QVirtQueue *vq);
/* The next used entry not consumed yet: true with id and len, false when none. */
bool qvirtqueue_get_used(QVirtQueue *vq, uint32_t *id, uint32_t *len);
/* Wait (polling, the main loop of tern runs meanwhile) for the next used entry; fails
 * the test after QVIRTIO_TIMEOUT_MS. */
void qvirtqueue_wait_used(QVirtQueue *vq, uint32_t *id, uint32_t *len);
/* The driver's used_event (EVENT_IDX): where it wants the next interrupt. */
void qvirtqueue_set_used_event(QVirtQueue *vq, uint16_t idx);

#endif
