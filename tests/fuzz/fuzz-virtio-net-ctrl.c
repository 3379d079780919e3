/*
 * fuzz-virtio-net-ctrl.c: libFuzzer target for virtio-net's control queue
 * (hw/net/virtio-net-ctrl.c): receive modes, MAC tables, the VLAN filter, MAC_ADDR_SET,
 * the announce ACK and everything unknown, as a guest driver sends them.
 *
 * Input: one byte of features the driver leaves out (so each command also meets a
 * device that did not negotiate it), then commands, each `class, command, le16 length,
 * data, split`: the command goes into guest RAM as a real descriptor chain (header and
 * data cut into up to four device-readable buffers where `split` says, and a writable
 * ack buffer) and the driver kicks the control queue of the in-process NIC
 * (fuzz-vm.c). After the commands the filter is queried over QMP and probed with frames.
 */
#include <string.h>
#include "bswap.h"
#include "fuzz-vm.h"
#include "hw/memory.h"
#include "hw/pci.h"
#include "hw/virtio-pci.h"
#include "monitor/qmp.h"
#include "runstate.h"
#include "../lib/qvirtio.h"

#define RING 0x100000   /* descriptor table, avail and used ring of the control queue */
#define CMD 0x110000    /* command bytes */
#define CMD_MAX 0x11000 /* a full MAC table with some spare */
#define QSIZE 64
#define MAX_COMMANDS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The optional control features a driver may leave out, bit by bit of the first byte. */
static const unsigned optional[] = {
    VIRTIO_NET_F_CTRL_RX,        VIRTIO_NET_F_CTRL_VLAN,     VIRTIO_NET_F_CTRL_RX_EXTRA,
    VIRTIO_NET_F_GUEST_ANNOUNCE, VIRTIO_NET_F_CTRL_MAC_ADDR,
};

static void pci_config_write16(int devfn, unsigned offset, uint16_t v)
{
    address_space_write(ADDR_SPACE_IO, PCI_CONFIG_ADDRESS_PORT,
                        PCI_CONFIG_ADDRESS_ENABLE | devfn << 8 | (offset & ~3u), 4);
    address_space_write(ADDR_SPACE_IO, PCI_CONFIG_DATA_PORT + (offset & 3), v, 2);
}

/* Reset the NIC and bring it up as a driver does, with `features` and the control queue
 * at RING. */
static void driver_init(VirtIONet *n, uint64_t features)
{
    VirtIODevice *vdev = &n->vdev;
    VirtIOPCIProxy *proxy = vdev->transport_opaque; /* the NIC's transport */
    pci_config_write16(proxy->pci.devfn, PCI_COMMAND, PCI_COMMAND_MASTER);
    virtio_set_status(vdev, 0);
    virtio_set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_write_driver_features(vdev, 0, (uint32_t)features);
    virtio_write_driver_features(vdev, 1, features >> 32);
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_FEATURES_OK);
    VirtQueue *vq = n->ctrl_vq;
    vq->num = QSIZE;
    vq->desc = RING;
    vq->avail = RING + QSIZE * VRING_DESC_SIZE;
    vq->used = RING + 0x1000;
    virtio_queue_enable(vq);
    virtio_set_status(vdev, vdev->status | VIRTIO_CONFIG_S_DRIVER_OK);
}

static void put_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t d[VRING_DESC_SIZE];
    qvirtio_desc_encode(d, addr, len, flags, next);
    g_assert(dma_write(RING + i * VRING_DESC_SIZE, d, sizeof(d)));
}

static void put16(uint64_t gpa, uint16_t v)
{
    uint8_t b[2];
    st_le16(b, v);
    g_assert(dma_write(gpa, b, 2));
}

/* Post one command (2-byte header + data, already at CMD) as a chain and kick. */
static void send_command(VirtIONet *n, size_t len, uint8_t split, uint16_t *avail_idx)
{
    unsigned nseg = 1 + split % 4, d = 0;
    size_t off = 0;
    for (unsigned s = 0; s < nseg && off < len; s++) {
        /* Cut points from the split byte; the last segment takes the rest. */
        size_t seg = s + 1 == nseg ? len - off : MIN(len - off, (size_t)1 + (split >> 2) * s);
        put_desc(d, CMD + off, seg, VRING_DESC_F_NEXT, d + 1);
        off += seg;
        d++;
    }
    put_desc(d, CMD + CMD_MAX, 1, VRING_DESC_F_WRITE, 0);
    uint64_t avail = n->ctrl_vq->avail;
    put16(avail + 4 + 2 * (*avail_idx % QSIZE), 0);
    put16(avail + 2, ++*avail_idx);
    virtio_queue_notify(&n->vdev, n->ctrl_vq->index);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VirtIONet *n = fuzz_vm_get();
    runstate_init(RUN_STATE_RUNNING);
    FuzzInput in = {data, size};
    uint8_t leave_out = fuzz_u8(&in);
    uint64_t features = n->vdev.host_features;
    for (unsigned i = 0; i < G_N_ELEMENTS(optional); i++) {
        if (leave_out & (1u << i)) {
            features &= ~VIRTIO_BIT(optional[i]);
        }
    }
    driver_init(n, features);
    uint16_t avail_idx = 0;
    static uint8_t cmd[CMD_MAX];
    for (unsigned c = 0; c < MAX_COMMANDS && in.len > 0 && !n->vdev.broken; c++) {
        cmd[0] = fuzz_u8(&in);
        cmd[1] = fuzz_u8(&in);
        size_t len = fuzz_u16(&in); /* CMD_MAX holds the longest */
        fuzz_bytes(&in, cmd + 2, len);
        uint8_t split = fuzz_u8(&in);
        g_assert(dma_write(CMD, cmd, len + 2));
        send_command(n, len + 2, split, &avail_idx);
    }
    char *reply = qmp_execute_text("{\"execute\": \"query-rx-filter\"}");
    g_assert(strstr(reply, "\"return\""));
    g_free(reply);
    /* The filter as the receive path consults it, for the frames the table names. */
    for (unsigned i = 0; i < VIRTIO_NET_MAC_TABLE_ENTRIES; i++) {
        uint8_t frame[18] = {0};
        memcpy(frame, n->mac_table.macs + i * ETH_ALEN, ETH_ALEN);
        frame[12] = 0x81;
        frame[15] = i;
        virtio_net_receive_filter(n, frame, sizeof(frame));
    }
    return 0;
}
