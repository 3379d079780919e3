/* qvirtio-input.c: the test driver's side of virtio-mouse-pci (virtio-input). */
#include "qvirtio-input.h"

void qvinput_init(QVirtioDevice *d, QVirtQueue **eventq, QVirtQueue **statusq)
{
    qvirtio_enable_msix(d);
    g_assert_true(qvirtio_negotiate(d, 1ULL << QVIRTIO_F_VERSION_1));
    qvirtio_set_config_vector(d, QVIRTIO_CONFIG_VECTOR);
    *eventq = qvirtqueue_setup(d, 0, 0);
    *statusq = qvirtqueue_setup(d, 1, 0);
    qvirtio_driver_ok(d);
}

void qvinput_send_status(QTestState *qts, QVirtQueue *statusq)
{
    static const uint8_t led[8] = {0x11, 0, 0, 0, 1, 0, 0, 0};
    uint64_t buf = qtest_alloc(qts, sizeof(led));
    qtest_memwrite(qts, buf, led, sizeof(led));
    uint16_t head = qvirtqueue_add(statusq, buf, sizeof(led), false, true);
    qvirtqueue_submit(statusq, head);
    uint32_t id, len;
    qvirtqueue_wait_used(statusq, &id, &len);
    g_assert_cmpuint(id, ==, head);
    g_assert_cmpuint(len, ==, 0);
}
