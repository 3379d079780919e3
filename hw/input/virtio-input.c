/*
 * virtio-input.c: virtio-mouse-pci, a virtio 1.x input device (virtio id 18) answering
 * the capabilities of QEMU's virtio-mouse: a relative pointer with left, right, middle,
 * side and extra buttons, X/Y motion and a wheel. Two queues: eventq (0), where the
 * driver leaves buffers for events, and statusq (1), where it sends LED state; tern has
 * no display, so no events are generated (as QEMU with -display none) and the eventq
 * buffers stay with the device; statusq buffers are returned used, their content
 * ignored.
 *
 * Config space (struct virtio_input_config): the driver writes select and subsel, then
 * reads size and the union at offset 8. A selector this device does not answer (or an
 * out-of-range subsel) reads as size 0: the guest never indexes past a table.
 */
#include <string.h>
#include "error.h"
#include "hw/virtio-pci.h"

#define VIRTIO_ID_INPUT 18

/* struct virtio_input_config */
#define VIRTIO_INPUT_CFG_SELECT 0
#define VIRTIO_INPUT_CFG_SUBSEL 1
#define VIRTIO_INPUT_CFG_SIZE 2
#define VIRTIO_INPUT_CFG_UNION 8
#define VIRTIO_INPUT_CFG_UNION_LEN 128
#define VIRTIO_INPUT_CFG_LEN (VIRTIO_INPUT_CFG_UNION + VIRTIO_INPUT_CFG_UNION_LEN)

/* virtio_input_config_select */
#define VIRTIO_INPUT_CFG_ID_NAME 0x01
#define VIRTIO_INPUT_CFG_ID_SERIAL 0x02
#define VIRTIO_INPUT_CFG_ID_DEVIDS 0x03
#define VIRTIO_INPUT_CFG_PROP_BITS 0x10
#define VIRTIO_INPUT_CFG_EV_BITS 0x11
#define VIRTIO_INPUT_CFG_ABS_INFO 0x12

/* Linux input event codes. */
#define EV_KEY 0x01
#define EV_REL 0x02
#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define BTN_SIDE 0x113
#define BTN_EXTRA 0x114
#define REL_X 0x00
#define REL_Y 0x01
#define REL_WHEEL 0x08
#define BUS_VIRTUAL 0x06

/* QEMU's virtio-mouse: its name and ids (vendor 0x0627, product 2, version 1). */
#define VIRTIO_MOUSE_NAME "QEMU Virtio Mouse"
static const uint16_t mouse_ids[4] = {BUS_VIRTUAL, 0x0627, 0x0002, 0x0001};
static const uint16_t mouse_keys[] = {BTN_LEFT, BTN_RIGHT, BTN_MIDDLE, BTN_SIDE, BTN_EXTRA};
static const uint16_t mouse_rels[] = {REL_X, REL_Y, REL_WHEEL};

typedef struct VirtIOInput {
    uint8_t select, subsel; /* what the driver asked for: its migration state */
    VirtIODevice vdev;
} VirtIOInput;

static VirtIOInput *to_input(VirtIODevice *vdev)
{
    return (VirtIOInput *)((char *)vdev - offsetof(VirtIOInput, vdev));
}

/* A bitmap of `codes` in `u`; its size is up to the last non-zero byte. */
static uint8_t input_bitmap(uint8_t *u, const uint16_t *codes, size_t n)
{
    uint8_t size = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned byte = codes[i] / 8;
        g_assert(byte < VIRTIO_INPUT_CFG_UNION_LEN);
        u[byte] |= 1u << (codes[i] % 8);
        size = MAX(size, byte + 1);
    }
    return size;
}

/* The answer to (select, subsel): fills the union, returns its size (0: none). */
static uint8_t input_answer(uint8_t select, uint8_t subsel, uint8_t *u)
{
    switch (select) {
    case VIRTIO_INPUT_CFG_ID_NAME:
        if (subsel == 0) {
            memcpy(u, VIRTIO_MOUSE_NAME, strlen(VIRTIO_MOUSE_NAME));
            return strlen(VIRTIO_MOUSE_NAME);
        }
        return 0;
    case VIRTIO_INPUT_CFG_ID_DEVIDS:
        if (subsel == 0) {
            for (size_t i = 0; i < G_N_ELEMENTS(mouse_ids); i++) {
                u[2 * i] = mouse_ids[i];
                u[2 * i + 1] = mouse_ids[i] >> 8;
            }
            return sizeof(mouse_ids);
        }
        return 0;
    case VIRTIO_INPUT_CFG_EV_BITS:
        if (subsel == EV_KEY) {
            return input_bitmap(u, mouse_keys, G_N_ELEMENTS(mouse_keys));
        }
        if (subsel == EV_REL) {
            return input_bitmap(u, mouse_rels, G_N_ELEMENTS(mouse_rels));
        }
        return 0;
    default: /* no serial, no properties, no absolute axes, unknown selectors */
        return 0;
    }
}

static void input_get_config(VirtIODevice *vdev, uint8_t *config)
{
    VirtIOInput *in = to_input(vdev);
    memset(config, 0, VIRTIO_INPUT_CFG_LEN);
    config[VIRTIO_INPUT_CFG_SELECT] = in->select;
    config[VIRTIO_INPUT_CFG_SUBSEL] = in->subsel;
    config[VIRTIO_INPUT_CFG_SIZE] =
        input_answer(in->select, in->subsel, config + VIRTIO_INPUT_CFG_UNION);
}

/* Only select and subsel are writable; the rest is recomputed on the next read. */
static void input_set_config(VirtIODevice *vdev, const uint8_t *config)
{
    VirtIOInput *in = to_input(vdev);
    in->select = config[VIRTIO_INPUT_CFG_SELECT];
    in->subsel = config[VIRTIO_INPUT_CFG_SUBSEL];
}

static void input_reset(VirtIODevice *vdev)
{
    VirtIOInput *in = to_input(vdev);
    in->select = in->subsel = 0;
}

/* Buffers for events: kept until there is an event, and there never is one. */
static void input_handle_event(VirtIODevice *vdev, VirtQueue *vq)
{
}

/* LED state from the driver: ignored, the buffer returned. */
static void input_handle_status(VirtIODevice *vdev, VirtQueue *vq)
{
    VirtQueueElement *elem;
    bool pushed = false;
    while ((elem = virtqueue_pop(vq))) {
        virtqueue_push(vq, elem, 0);
        virtqueue_elem_free(elem);
        pushed = true;
    }
    if (pushed) {
        virtio_notify(vdev, vq);
    }
}

static const VirtioDeviceOps input_ops = {
    .get_config = input_get_config,
    .set_config = input_set_config,
    .reset = input_reset,
};

/* Any select/subsel pair is legal (an unanswered one reads as size 0), so a loaded
 * pair needs no check beyond its type. */
static const VMStateDescription vmstate_virtio_input = {
    .name = "virtio-input",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_UINT8(select, VirtIOInput),
                                     VMSTATE_UINT8(subsel, VirtIOInput), VMSTATE_END_OF_LIST()},
};

static VirtIODevice *input_create(const TernOpts *o, const char *const *transport_props,
                                  const char *backend_path, GError **errp)
{
    if (!opts_check_keys(o, transport_props, errp)) {
        return NULL;
    }
    VirtIOInput *in = g_new0(VirtIOInput, 1);
    virtio_init(&in->vdev, "virtio-mouse", VIRTIO_ID_INPUT, VIRTIO_INPUT_CFG_LEN, &input_ops);
    in->vdev.host_features = VIRTIO_BIT(VIRTIO_F_VERSION_1);
    virtio_add_queue(&in->vdev, 64, input_handle_event);
    virtio_add_queue(&in->vdev, 64, input_handle_status);
    return &in->vdev;
}

static void input_free(VirtIODevice *vdev)
{
    virtio_cleanup(vdev);
    g_free(to_input(vdev));
}

static const VirtioDeviceClass virtio_mouse_class = {
    .name = "virtio-input",
    .class_code = 0x098000, /* input device controller, other */
    .create = input_create,
    .free = input_free,
    .vmsd = &vmstate_virtio_input,
    .vdev_offset = offsetof(VirtIOInput, vdev),
};
VIRTIO_PCI_DEVICE_REGISTER(
    virtio_mouse_class, "virtio-mouse-pci",
    "virtio input device: a relative mouse (no events without a display)")
