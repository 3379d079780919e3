/*
 * virtio-pci.h: the modern (virtio 1.x, non-transitional) PCI transport for a virtio
 * device: vendor 1af4, device 0x1040 + virtio id, revision 1. Vendor capabilities place
 * the common, ISR, device-config and notify structures in one 64-bit memory BAR (BAR4);
 * MSI-X (one vector per queue plus config) lives in BAR1; INTx when MSI-X is off; a PCI
 * configuration access capability for firmware that cannot map BARs.
 */
#ifndef TERN_HW_VIRTIO_PCI_H
#define TERN_HW_VIRTIO_PCI_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "hw/pci.h"
#include "hw/qdev.h"
#include "migration/savevm.h"
#include "hw/virtio.h"

#define PCI_VENDOR_ID_VIRTIO 0x1af4
#define PCI_DEVICE_ID_VIRTIO_MODERN_BASE 0x1040
#define PCI_SUBSYSTEM_ID_VIRTIO 0x1100 /* QEMU's; the spec asks for >= 0x40 */

/* virtio_pci_cap.cfg_type */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* virtio_pci_cap field offsets */
#define VIRTIO_PCI_CAP_LEN 2
#define VIRTIO_PCI_CAP_CFG_TYPE 3
#define VIRTIO_PCI_CAP_BAR 4
#define VIRTIO_PCI_CAP_OFFSET 8
#define VIRTIO_PCI_CAP_LENGTH 12
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16
#define VIRTIO_PCI_CFG_DATA 16

/* struct virtio_pci_common_cfg */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00
#define VIRTIO_PCI_COMMON_DF 0x04
#define VIRTIO_PCI_COMMON_GFSELECT 0x08
#define VIRTIO_PCI_COMMON_GF 0x0c
#define VIRTIO_PCI_COMMON_MSIX 0x10
#define VIRTIO_PCI_COMMON_NUMQ 0x12
#define VIRTIO_PCI_COMMON_STATUS 0x14
#define VIRTIO_PCI_COMMON_CFGGENERATION 0x15
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20
#define VIRTIO_PCI_COMMON_Q_DESCHI 0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30
#define VIRTIO_PCI_COMMON_Q_USEDHI 0x34

/* tern's layout of the modern BAR. */
#define VIRTIO_PCI_MODERN_BAR 4
#define VIRTIO_PCI_MSIX_BAR 1
#define VIRTIO_PCI_COMMON_OFFSET 0x0000
#define VIRTIO_PCI_ISR_OFFSET 0x1000
#define VIRTIO_PCI_DEVICE_OFFSET 0x2000
#define VIRTIO_PCI_NOTIFY_OFFSET 0x3000
#define VIRTIO_PCI_REGION_SIZE 0x1000
#define VIRTIO_PCI_MODERN_BAR_SIZE 0x4000
#define VIRTIO_PCI_NOTIFY_MULTIPLIER 4

typedef struct VirtIOPCIProxy {
    PCIDevice pci;
    VirtIODevice *vdev;
    MemoryRegion modern_bar;
    unsigned nvectors;
    uint32_t dfselect, gfselect;
    uint16_t queue_sel;
    uint8_t cfg_cap; /* offset of the PCI configuration access capability */
    /* ioeventfd fast path for the notify region, armed while the driver is ready. */
    bool ioeventfd_started;
    uint64_t ioeventfd_base;
    int ioeventfd[VIRTIO_QUEUES_MAX];
    GSource *ioeventfd_src[VIRTIO_QUEUES_MAX];
    /* Set by the -device class (virtio-pci-device.c): the model, its state, the
     * section this transport saves them in. */
    const VirtioDeviceClass *vdc;
    void *device_state;
    VMStateDescription *section_vmsd;
    VMStateEntry *migration_section;
} VirtIOPCIProxy;

/* Make `vdev` (its queues already added) a PCI function in `slot` (-1: first free). */
bool virtio_pci_realize(VirtIOPCIProxy *proxy, VirtIODevice *vdev, const char *name,
                        uint32_t class_code, int slot, GError **errp);
void virtio_pci_unrealize(VirtIOPCIProxy *proxy);

/*
 * Migration: the transport's fields (the PCI function: config space, BARs, MSI-X; the
 * selectors), saved by virtio-pci-device.c between the virtio core and the model's own
 * state. Its check that every vector the core uses exists on this side, and the restart
 * of a ready driver's ioeventfds, run after the whole section has loaded
 * (virtio_pci_post_load).
 */
extern const VMStateField vmstate_virtio_pci_fields[];
bool virtio_pci_post_load(void *opaque, int version_id, GError **errp);

/* -device <model>-pci: the transport wrapping any VirtioDeviceClass. */
bool virtio_pci_device_create(const TernOpts *o, DeviceState *ds, GError **errp);
void virtio_pci_device_destroy(DeviceState *ds);
#define VIRTIO_PCI_DEVICE_REGISTER(vdc, class_name, description)                               \
    static const DeviceClass vdc##_pci_class = {                                               \
        .name = (class_name),                                                                  \
        .desc = (description),                                                                 \
        .create = virtio_pci_device_create,                                                    \
        .destroy = virtio_pci_device_destroy,                                                  \
        .data = &(vdc),                                                                        \
    };                                                                                         \
    DEVICE_CLASS_REGISTER(vdc##_pci_class)

#endif
