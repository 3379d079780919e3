/*
 * test-virtio-input.c: virtio-mouse-pci on the pc machine under qtest: its PCI identity,
 * negotiation, the config space a guest's driver reads (name, ids, the EV_KEY and EV_REL
 * bitmaps of a relative mouse; unanswered and out-of-range selectors as size 0), a
 * statusq buffer returned used, and unplug by device_del and the ACPI eject register.
 */
#include <string.h>
#include "../lib/qmp-assert.h"
#include "../lib/qvirtio-input.h"

#define CFG_SELECT 0
#define CFG_SUBSEL 1
#define CFG_SIZE 2
#define CFG_UNION 8
#define SEL_ID_NAME 0x01
#define SEL_ID_SERIAL 0x02
#define SEL_ID_DEVIDS 0x03
#define SEL_PROP_BITS 0x10
#define SEL_EV_BITS 0x11
#define SEL_ABS_INFO 0x12
#define EV_KEY 1
#define EV_REL 2
#define EV_ABS 3
#define PCIHP_DOWN 0xae04
#define PCIHP_EJ 0xae08
#define SLOT 5
#define TIMEOUT_MS 5000

static uint8_t cfg_select(QVirtioDevice *d, uint8_t select, uint8_t subsel)
{
    qvirtio_config_writeb(d, CFG_SELECT, select);
    qvirtio_config_writeb(d, CFG_SUBSEL, subsel);
    return qvirtio_config_readb(d, CFG_SIZE);
}

static bool cfg_bit(QVirtioDevice *d, unsigned bit)
{
    return qvirtio_config_readb(d, CFG_UNION + bit / 8) & (1u << (bit % 8));
}

static QTestState *start(QVirtioDevice **d)
{
    QTestState *qts = qtest_init("-machine pc -device virtio-mouse-pci,id=dev0,addr=5");
    *d = qvirtio_pci_find(qts, QVINPUT_ID);
    g_assert_nonnull(*d);
    return qts;
}

static void test_identity(void)
{
    QVirtioDevice *d;
    QTestState *qts = start(&d);
    g_assert_cmphex(qpci_readw(d->pdev, 0x00), ==, 0x1af4);
    g_assert_cmphex(qpci_readw(d->pdev, 0x02), ==, 0x1052);
    g_assert_cmphex(qpci_readw(d->pdev, 0x0a), ==, 0x0980); /* input, other */
    g_assert_cmpuint(qvirtio_num_queues(d), ==, 2);
    g_assert_true(qvirtio_device_features(d) & (1ULL << QVIRTIO_F_VERSION_1));
    g_assert_true(qvirtio_negotiate(d, 1ULL << QVIRTIO_F_VERSION_1));
    qvirtio_free(d);
    qtest_quit(qts);
}

static void test_config(void)
{
    QVirtioDevice *d;
    QTestState *qts = start(&d);
    g_assert_true(qvirtio_negotiate(d, 1ULL << QVIRTIO_F_VERSION_1));

    static const char name[] = "QEMU Virtio Mouse";
    g_assert_cmpuint(cfg_select(d, SEL_ID_NAME, 0), ==, strlen(name));
    char got[sizeof(name)] = {0};
    for (size_t i = 0; i < strlen(name); i++) {
        got[i] = qvirtio_config_readb(d, CFG_UNION + i);
    }
    g_assert_cmpstr(got, ==, name);
    g_assert_cmpuint(qvirtio_config_readb(d, CFG_SELECT), ==, SEL_ID_NAME);

    g_assert_cmpuint(cfg_select(d, SEL_ID_DEVIDS, 0), ==, 8);
    g_assert_cmphex(qvirtio_config_readw(d, CFG_UNION + 0), ==, 0x06); /* BUS_VIRTUAL */
    g_assert_cmphex(qvirtio_config_readw(d, CFG_UNION + 2), ==, 0x0627);
    g_assert_cmphex(qvirtio_config_readw(d, CFG_UNION + 4), ==, 0x0002);
    g_assert_cmphex(qvirtio_config_readw(d, CFG_UNION + 6), ==, 0x0001);

    g_assert_cmpuint(cfg_select(d, SEL_EV_BITS, EV_REL), ==, 2);
    g_assert_true(cfg_bit(d, 0));  /* REL_X */
    g_assert_true(cfg_bit(d, 1));  /* REL_Y */
    g_assert_true(cfg_bit(d, 8));  /* REL_WHEEL */
    g_assert_false(cfg_bit(d, 2)); /* REL_Z */

    g_assert_cmpuint(cfg_select(d, SEL_EV_BITS, EV_KEY), ==, 0x114 / 8 + 1);
    for (unsigned b = 0x110; b <= 0x114; b++) { /* BTN_LEFT ... BTN_EXTRA */
        g_assert_true(cfg_bit(d, b));
    }
    g_assert_false(cfg_bit(d, 0x10f));
    g_assert_false(cfg_bit(d, 30)); /* KEY_A: a mouse, not a keyboard */

    /* What a relative mouse does not have, and what no device has, reads as size 0. */
    g_assert_cmpuint(cfg_select(d, SEL_EV_BITS, EV_ABS), ==, 0);
    g_assert_cmpuint(cfg_select(d, SEL_ABS_INFO, 0), ==, 0);
    g_assert_cmpuint(cfg_select(d, SEL_PROP_BITS, 0), ==, 0);
    g_assert_cmpuint(cfg_select(d, SEL_ID_SERIAL, 0), ==, 0);
    g_assert_cmpuint(cfg_select(d, SEL_ID_NAME, 1), ==, 0);
    g_assert_cmpuint(cfg_select(d, SEL_EV_BITS, 0xff), ==, 0);
    g_assert_cmpuint(cfg_select(d, 0xff, 0xff), ==, 0);
    g_assert_cmphex(qvirtio_config_readl(d, CFG_UNION), ==, 0);
    g_assert_cmphex(qvirtio_config_readl(d, CFG_UNION + 124), ==, 0);
    /* Only select and subsel are writable. */
    cfg_select(d, SEL_ID_DEVIDS, 0);
    qvirtio_config_writeb(d, CFG_SIZE, 0x55);
    qvirtio_config_writeb(d, CFG_UNION, 0x55);
    g_assert_cmpuint(qvirtio_config_readb(d, CFG_SIZE), ==, 8);
    g_assert_cmphex(qvirtio_config_readw(d, CFG_UNION), ==, 0x06);

    /* Reset clears the selector. */
    qvirtio_reset(d);
    g_assert_cmpuint(qvirtio_config_readb(d, CFG_SELECT), ==, 0);
    g_assert_cmpuint(qvirtio_config_readb(d, CFG_SIZE), ==, 0);
    qvirtio_free(d);
    qtest_quit(qts);
}

static void test_queues(void)
{
    QVirtioDevice *d;
    QTestState *qts = start(&d);
    QVirtQueue *ev, *st;
    qvinput_init(d, &ev, &st);

    /* Event buffers wait for events; without a display there are none. */
    uint64_t evbuf = qtest_alloc(qts, 8);
    qvirtqueue_submit(ev, qvirtqueue_add(ev, evbuf, 8, true, true));

    /* An LED status event: returned, nothing written, an interrupt. */
    qvinput_send_status(qts, st);
    g_assert_true(qvirtio_take_queue_irq(st));

    g_assert_cmpuint(qvirtqueue_used_idx(ev), ==, 0);
    g_assert_false(qvirtio_get_status(d) & QVIRTIO_S_NEEDS_RESET);
    g_free(ev);
    g_free(st);
    qvirtio_free(d);
    qtest_quit(qts);
}

/* device-plug-test's path: device_del, then the guest ejects the slot. */
static void test_unplug(void)
{
    QVirtioDevice *d;
    QTestState *qts = start(&d);
    QmpClient *qmp = qtest_qmp(qts);
    g_autoptr(JsonNode) r =
        qmp_ok(qmp, "{'execute': 'device_del', 'arguments': {'id': 'dev0'}}");
    g_assert_cmphex(qtest_inl(qts, PCIHP_DOWN), ==, 1u << SLOT);
    qtest_outl(qts, PCIHP_EJ, 1u << SLOT);
    g_autoptr(JsonObject) e1 = qmp_client_wait_event(qmp, "DEVICE_DELETED", TIMEOUT_MS, NULL);
    g_assert_nonnull(e1);
    g_assert_cmpstr(
        json_object_get_string_member(json_object_get_object_member(e1, "data"), "path"), ==,
        "/machine/peripheral/dev0/virtio-backend");
    g_autoptr(JsonObject) e2 = qmp_client_wait_event(qmp, "DEVICE_DELETED", TIMEOUT_MS, NULL);
    g_assert_nonnull(e2);
    g_assert_cmpstr(
        json_object_get_string_member(json_object_get_object_member(e2, "data"), "device"), ==,
        "dev0");
    g_assert_cmphex(qpci_readw(d->pdev, 0x00), ==, 0xffff);
    qvirtio_free(d);
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-input/identity", test_identity);
    g_test_add_func("/virtio-input/config", test_config);
    g_test_add_func("/virtio-input/queues", test_queues);
    g_test_add_func("/virtio-input/unplug", test_unplug);
    return g_test_run();
}
