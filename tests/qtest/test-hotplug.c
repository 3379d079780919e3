/*
 * test-hotplug.c: NIC hotplug on the pc machine under qtest, with the test in the guest's
 * place: device_add sets PCIU and raises GPE 1 (the SCI), device_del sets PCID, the
 * device stays until the "guest" writes its slot to B0EJ (as libqos does), then
 * DEVICE_DELETED arrives in QEMU's shape. Also: refusals with QEMU's errors, bogus
 * register writes, re-adding at the same slot, traffic through a hot-added NIC,
 * netdev_add / netdev_del, and the ACPI registers' layout.
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../lib/qpci.h"
#include "../lib/qvirtio-net.h"
#include "../lib/tern-proc.h"
#include "../migration/migration-util.h"

#define PCIHP_UP 0xae00
#define PCIHP_DOWN 0xae04
#define PCIHP_EJ 0xae08
#define PCIHP_RMV 0xae0c
#define PCIHP_SEL 0xae10
#define GPE0_STS 0xafe0
#define GPE0_EN 0xafe2
#define GPE_PCIHP 0x02
#define SCI_GSI 9
#define SLOT 6
#define TIMEOUT_MS 5000

typedef struct {
    QTestState *qts;
    QmpClient *qmp;
    QPCIBus bus;
    int backend; /* the test's end of netdev n0 */
} Fixture;

/* pc machine with a socket netdev n0 and no NIC; GPE 1 enabled, the SCI watched. */
static void fixture_start(Fixture *f, const char *extra)
{
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    g_autofree char *args =
        g_strdup_printf("-machine pc -netdev socket,id=n0,fd=%d %s", sv[1], extra ? extra : "");
    f->qts = qtest_init_with_fds(args, &sv[1], 1);
    close(sv[1]);
    f->backend = sv[0];
    f->qmp = qtest_qmp(f->qts);
    qpci_init(&f->bus, f->qts);
    qtest_irq_intercept_in(f->qts, "ioapic");
    qtest_outw(f->qts, GPE0_EN, GPE_PCIHP);
}

static void fixture_stop(Fixture *f)
{
    close(f->backend);
    qtest_quit(f->qts);
}

static uint16_t slot_vendor(Fixture *f, int slot)
{
    return qpci_config_readw(&f->bus, QPCI_DEVFN(slot, 0), 0);
}

/* The guest's _E01: the SCI is up with GPE 1 set; acknowledge it. */
static void guest_take_gpe(Fixture *f)
{
    g_assert_true(qtest_get_irq(f->qts, SCI_GSI));
    g_assert_cmphex(qtest_inw(f->qts, GPE0_STS) & GPE_PCIHP, ==, GPE_PCIHP);
    qtest_outw(f->qts, GPE0_STS, GPE_PCIHP);
    g_assert_cmphex(qtest_inw(f->qts, GPE0_STS), ==, 0);
    g_assert_false(qtest_get_irq(f->qts, SCI_GSI));
}

static void add_nic(Fixture *f, const char *id, int slot)
{
    g_autoptr(JsonNode) r = qmp_ok(f->qmp,
                                   "{'execute': 'device_add', 'arguments': {'driver': "
                                   "'virtio-net-pci', 'id': '%s', 'netdev': 'n0', "
                                   "'addr': '0x%02x', 'mac': '52:54:00:12:34:99'}}",
                                   id, slot);
}

static void assert_no_event(Fixture *f, const char *name)
{
    g_autoptr(JsonNode) r = qmp_ok(f->qmp, "{'execute': 'query-status'}");
    GList *events = qmp_client_take_events(f->qmp);
    for (GList *l = events; l; l = l->next) {
        g_assert_cmpstr(json_object_get_string_member(l->data, "event"), !=, name);
    }
    g_list_free_full(events, (GDestroyNotify)json_object_unref);
}

/* DEVICE_DELETED for the NIC's virtio backend, then for the NIC: QEMU's two events. */
static void expect_nic_deleted(Fixture *f, const char *id)
{
    g_autofree char *dev_path = g_strdup_printf("/machine/peripheral/%s", id);
    g_autofree char *be_path = g_strdup_printf("%s/virtio-backend", dev_path);
    g_autoptr(JsonObject) e1 =
        qmp_client_wait_event(f->qmp, "DEVICE_DELETED", TIMEOUT_MS, NULL);
    g_assert_nonnull(e1);
    JsonObject *d1 = json_object_get_object_member(e1, "data");
    g_assert_false(json_object_has_member(d1, "device"));
    g_assert_cmpstr(json_object_get_string_member(d1, "path"), ==, be_path);
    g_autoptr(JsonObject) e2 =
        qmp_client_wait_event(f->qmp, "DEVICE_DELETED", TIMEOUT_MS, NULL);
    g_assert_nonnull(e2);
    JsonObject *d2 = json_object_get_object_member(e2, "data");
    g_assert_cmpstr(json_object_get_string_member(d2, "device"), ==, id);
    g_assert_cmpstr(json_object_get_string_member(d2, "path"), ==, dev_path);
}

static void test_add_del(void)
{
    Fixture f;
    fixture_start(&f, NULL);
    g_assert_cmphex(slot_vendor(&f, SLOT), ==, 0xffff);
    g_assert_false(qtest_get_irq(f.qts, SCI_GSI));

    add_nic(&f, "net1", SLOT);
    g_assert_cmphex(slot_vendor(&f, SLOT), ==, 0x1af4);
    guest_take_gpe(&f);
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_UP), ==, 1u << SLOT);
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_UP), ==, 0); /* cleared by the read */
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_DOWN), ==, 0);
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_RMV) & (1u << SLOT), ==, 1u << SLOT);
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_RMV) & 1, ==, 0); /* the host bridge stays */

    /* The request only asks: the NIC stays until the guest ejects it. */
    g_autoptr(JsonNode) r =
        qmp_ok(f.qmp, "{'execute': 'device_del', 'arguments': {'id': 'net1'}}");
    guest_take_gpe(&f);
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_DOWN), ==, 1u << SLOT);
    g_assert_cmphex(slot_vendor(&f, SLOT), ==, 0x1af4);
    assert_no_event(&f, "DEVICE_DELETED");
    qmp_assert_error(f.qmp, "GenericError", "already in the process of unplug",
                     "{'execute': 'device_del', 'arguments': {'id': 'net1'}}");

    qtest_outl(f.qts, PCIHP_EJ, 1u << SLOT);
    expect_nic_deleted(&f, "net1");
    g_assert_cmphex(slot_vendor(&f, SLOT), ==, 0xffff);
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_DOWN), ==, 0);
    qmp_assert_error(f.qmp, "DeviceNotFound", "Device 'net1' not found",
                     "{'execute': 'device_del', 'arguments': {'id': 'net1'}}");

    /* Same id, same slot, same netdev (the NIC let go of it) again. */
    add_nic(&f, "net1", SLOT);
    g_assert_cmphex(slot_vendor(&f, SLOT), ==, 0x1af4);
    guest_take_gpe(&f);
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_UP), ==, 1u << SLOT);
    fixture_stop(&f);
}

/* A NIC from the command line can be unplugged too (QEMU's rule), and the guest may
 * eject a removable device without being asked. */
static void test_coldplugged(void)
{
    Fixture f;
    fixture_start(&f, "-device virtio-net-pci,id=net0,netdev=n0,addr=4");
    g_assert_cmphex(slot_vendor(&f, 4), ==, 0x1af4);
    g_assert_cmphex(qtest_inw(f.qts, GPE0_STS), ==, 0); /* present at boot: no event */
    qtest_outl(f.qts, PCIHP_EJ, 1u << 4);
    expect_nic_deleted(&f, "net0");
    g_assert_cmphex(slot_vendor(&f, 4), ==, 0xffff);
    fixture_stop(&f);
}

static void test_refused(void)
{
    Fixture f;
    fixture_start(&f, "-netdev socket,id=n1,listen=127.0.0.1:0");
    add_nic(&f, "net1", SLOT);
    guest_take_gpe(&f);
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_UP), ==, 1u << SLOT);
    qmp_assert_error(f.qmp, "GenericError", "Duplicate ID 'net1' for device",
                     "{'execute': 'device_add', 'arguments': {'driver': 'virtio-net-pci', "
                     "'id': 'net1', 'netdev': 'n1'}}");
    qmp_assert_error(f.qmp, "GenericError", "can't find value 'nope'",
                     "{'execute': 'device_add', 'arguments': {'driver': 'virtio-net-pci', "
                     "'id': 'net2', 'netdev': 'nope'}}");
    qmp_assert_error(f.qmp, "GenericError", "PCI slot 6 is already taken",
                     "{'execute': 'device_add', 'arguments': {'driver': 'virtio-net-pci', "
                     "'id': 'net2', 'netdev': 'n1', 'addr': '6'}}");
    qmp_assert_error(f.qmp, "GenericError", "is not a PCI slot",
                     "{'execute': 'device_add', 'arguments': {'driver': 'virtio-net-pci', "
                     "'id': 'net2', 'netdev': 'n1', 'addr': '0x20'}}");
    qmp_assert_error(f.qmp, "GenericError", NULL,
                     "{'execute': 'device_add', 'arguments': {'driver': 'virtio-net-pci', "
                     "'id': 'net2', 'netdev': 'n0'}}"); /* n0 is net1's */
    qmp_assert_error(f.qmp, "GenericError", "'no-such-nic' is not a valid device model name",
                     "{'execute': 'device_add', 'arguments': {'driver': 'no-such-nic'}}");
    qmp_assert_error(f.qmp, "GenericError", "Parameter 'driver' is missing",
                     "{'execute': 'device_add', 'arguments': {'id': 'x'}}");
    qmp_assert_error(f.qmp, "GenericError", "no_such_prop",
                     "{'execute': 'device_add', 'arguments': {'driver': 'virtio-net-pci', "
                     "'id': 'net2', 'no_such_prop': 1}}");
    qmp_assert_error(f.qmp, "DeviceNotFound", "Device 'ghost' not found",
                     "{'execute': 'device_del', 'arguments': {'id': 'ghost'}}");
    /* Nothing was half-made: no event, no slot taken, and a good add still works. */
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_UP), ==, 0);
    g_assert_cmphex(qtest_inw(f.qts, GPE0_STS), ==, 0);
    for (int slot = SLOT + 1; slot < 32; slot++) {
        g_assert_cmphex(slot_vendor(&f, slot), ==, 0xffff);
    }
    g_autoptr(JsonNode) r = qmp_ok(f.qmp, "{'execute': 'device_add', 'arguments': {'driver': "
                                          "'virtio-net-pci', 'id': 'net2', 'netdev': 'n1', "
                                          "'addr': '0x1f'}}");
    g_assert_cmphex(slot_vendor(&f, 0x1f), ==, 0x1af4);
    fixture_stop(&f);
}

/* What an untrusted guest writes to the registers removes nothing it should not. */
static void test_bogus_writes(void)
{
    Fixture f;
    fixture_start(&f, NULL);
    add_nic(&f, "net1", SLOT);
    qtest_outl(f.qts, PCIHP_EJ, 0);          /* no slot */
    qtest_outl(f.qts, PCIHP_EJ, 1u << 0);    /* the host bridge */
    qtest_outl(f.qts, PCIHP_EJ, 1u << 9);    /* an empty slot */
    qtest_outb(f.qts, PCIHP_EJ, 1u << SLOT); /* not a 32-bit access */
    qtest_outl(f.qts, PCIHP_SEL, 1);         /* a bus that does not exist */
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_SEL), ==, 1);
    qtest_outl(f.qts, PCIHP_EJ, 1u << SLOT);
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_UP), ==, 0);
    qtest_outl(f.qts, PCIHP_SEL, 0xffffffff);
    qtest_outl(f.qts, PCIHP_EJ, 0xffffffff);
    qtest_outl(f.qts, PCIHP_SEL, 0);
    assert_no_event(&f, "DEVICE_DELETED");
    g_assert_cmphex(slot_vendor(&f, 0), ==, 0x8086);
    g_assert_cmphex(slot_vendor(&f, SLOT), ==, 0x1af4);
    /* Bit 9 and bit 6 at once: only the lowest slot (9 is empty, so 6 is not it). */
    qtest_outl(f.qts, PCIHP_EJ, (1u << SLOT) | (1u << 9));
    expect_nic_deleted(&f, "net1");
    g_autofree char *st = qmp_status(f.qmp);
    g_assert_cmpstr(st, ==, "running");
    fixture_stop(&f);
}

/* Frames flow both ways through a NIC added at run time on a socket netdev. */
static void test_traffic(void)
{
    Fixture f;
    fixture_start(&f, NULL);
    add_nic(&f, "net1", SLOT);
    QVirtioNet *n = qvnet_init(f.qts, QVNET_ALL_FEATURES, true);
    g_assert_cmpuint(qvnet_status(n) & QVNET_S_LINK_UP, ==, QVNET_S_LINK_UP);
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x99};
    static const uint8_t peer[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
    uint8_t frame[128], got[2048];
    size_t len = qvnet_build_frame(frame, peer, mac, 0, 0x0800, 60);
    qvnet_tx(n, frame, len);
    qvnet_backend_expect(f.backend, frame, len);
    len = qvnet_build_frame(frame, mac, peer, 0, 0x0800, 70);
    qvnet_rx_post(n, QVNET_RX_BUF);
    qvnet_backend_send(f.backend, frame, len);
    g_assert_cmpuint(qvnet_rx_wait(n, got, sizeof(got), NULL), ==, len);
    g_assert_cmpmem(got, len, frame, len);
    qvnet_free(n);
    fixture_stop(&f);
}

/* netdev_add / netdev_del (QEMU's argument shape); deleting a netdev a NIC uses leaves
 * the NIC, link down, as QEMU does. */
static void test_netdev_add_del(void)
{
    Fixture f;
    fixture_start(&f, NULL);
    g_autoptr(JsonNode) r1 = qmp_ok(f.qmp, "{'execute': 'netdev_add', 'arguments': {'type': "
                                           "'socket', 'id': 'hn', 'listen': '127.0.0.1:0'}}");
    qmp_assert_error(f.qmp, "GenericError", "Duplicate ID 'hn' for netdev",
                     "{'execute': 'netdev_add', 'arguments': {'type': 'socket', 'id': 'hn', "
                     "'listen': '127.0.0.1:0'}}");
    qmp_assert_error(f.qmp, "GenericError", NULL,
                     "{'execute': 'netdev_add', 'arguments': {'type': 'user', 'id': 'u'}}");
    qmp_assert_error(f.qmp, "GenericError", "Parameter 'ifname' is unexpected",
                     "{'execute': 'netdev_add', 'arguments': {'type': 'socket', 'id': 's', "
                     "'ifname': 'x'}}");
    g_autoptr(JsonNode) r2 = qmp_ok(f.qmp, "{'execute': 'device_add', 'arguments': {'driver': "
                                           "'virtio-net-pci', 'id': 'net1', 'netdev': 'n0'}}");
    QVirtioNet *n = qvnet_init(f.qts, QVNET_ALL_FEATURES, true);
    g_assert_cmpuint(qvnet_status(n) & QVNET_S_LINK_UP, ==, QVNET_S_LINK_UP);
    qmp_assert_error(f.qmp, "GenericError", "Device 'net1' is not a netdev",
                     "{'execute': 'netdev_del', 'arguments': {'id': 'net1'}}");
    g_autoptr(JsonNode) r3 =
        qmp_ok(f.qmp, "{'execute': 'netdev_del', 'arguments': {'id': 'n0'}}");
    g_assert_cmpuint(qvnet_status(n) & QVNET_S_LINK_UP, ==, 0);
    /* The backend is closed: the test's end sees EOF. */
    uint8_t buf[16];
    g_assert_cmpint(read(f.backend, buf, sizeof(buf)), ==, 0);
    qmp_assert_error(f.qmp, "DeviceNotFound", "Device 'n0' not found",
                     "{'execute': 'netdev_del', 'arguments': {'id': 'n0'}}");
    g_autoptr(JsonNode) r4 =
        qmp_ok(f.qmp, "{'execute': 'netdev_del', 'arguments': {'id': 'hn'}}");
    qvnet_free(n);
    fixture_stop(&f);
}

/* A hot-added NIC migrates: the destination starts with it on its command line (same
 * slot, same properties), the guest's driver goes on there, and the hotplug registers'
 * state (PCIU not yet read, GPE 1 raised) travels too. */
static void test_migrate(void)
{
    Fixture src, dst;
    fixture_start(&src, NULL);
    add_nic(&src, "net1", SLOT);
    QVirtioNet *sn = qvnet_init(src.qts, QVNET_ALL_FEATURES, true);
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x99};
    static const uint8_t peer[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
    uint8_t frame[128];
    size_t len = qvnet_build_frame(frame, peer, mac, 0, 0x0800, 60);
    qvnet_tx(sn, frame, len);
    qvnet_backend_expect(src.backend, frame, len);

    g_autofree char *path = tern_proc_path(qtest_proc(src.qts), "mig.sock");
    g_autofree char *extra = g_strdup_printf(
        "-device virtio-net-pci,id=net1,netdev=n0,addr=0x%02x,mac=52:54:00:12:34:99 "
        "-incoming unix:%s",
        SLOT, path);
    fixture_start(&dst, extra);
    mig_wait_listening(dst.qmp);
    g_autofree char *uri = g_strdup_printf("unix:%s", path);
    g_autoptr(JsonObject) end = mig_migrate_until_end(src.qmp, uri, "completed");
    mig_wait_runstate(dst.qmp, "running");

    QVirtioNet *dn = qvnet_clone(sn, dst.qts);
    qvnet_tx(dn, frame, len);
    /* The arrival's announce (RARP) may come first. */
    uint8_t got[2048];
    ssize_t n;
    while ((n = qvnet_backend_recv(dst.backend, got, sizeof(got), TIMEOUT_MS)) == 60 &&
           got[12] == 0x80 && got[13] == 0x35) {
    }
    g_assert_cmpmem(got, n, frame, len);
    g_assert_cmphex(qtest_inw(dst.qts, GPE0_STS) & GPE_PCIHP, ==, GPE_PCIHP);
    g_assert_cmphex(qtest_inl(dst.qts, PCIHP_UP), ==, 1u << SLOT);

    /* There it is a device like any other: it can be unplugged. */
    g_autoptr(JsonNode) r =
        qmp_ok(dst.qmp, "{'execute': 'device_del', 'arguments': {'id': 'net1'}}");
    qtest_outl(dst.qts, PCIHP_EJ, 1u << SLOT);
    expect_nic_deleted(&dst, "net1");
    qvnet_free(dn);
    qvnet_free(sn);
    fixture_stop(&dst);
    fixture_stop(&src);
}

/* libqos's sequence (virtio-net-test's hotplug path): a NIC with no netdev, added at
 * slot 6 by a string address, asked to go and ejected by the test; then an anonymous NIC,
 * which reports its peripheral-anon path and no id. */
static void test_libqos_sequence(void)
{
    QTestState *qts = qtest_init("-machine pc");
    QmpClient *c = qtest_qmp(qts);
    g_autoptr(JsonNode) r1 = qmp_ok(c, "{'execute': 'device_add', 'arguments': {'driver': "
                                       "'virtio-net-pci', 'id': 'net1', 'addr': '0x06'}}");
    g_autoptr(JsonNode) r2 =
        qmp_ok(c, "{'execute': 'device_del', 'arguments': {'id': 'net1'}}");
    qtest_outl(qts, PCIHP_EJ, 1u << SLOT);
    g_autoptr(JsonObject) e = qmp_client_wait_event(c, "DEVICE_DELETED", TIMEOUT_MS, NULL);
    g_assert_nonnull(e);

    g_autoptr(JsonNode) r3 = qmp_ok(c, "{'execute': 'device_add', 'arguments': {'driver': "
                                       "'virtio-net-pci', 'addr': 7}}");
    qtest_outl(qts, PCIHP_EJ, 1u << 7);
    bool seen = false;
    for (int i = 0; i < 4 && !seen; i++) {
        g_autoptr(JsonObject) ev = qmp_client_wait_event(c, "DEVICE_DELETED", TIMEOUT_MS, NULL);
        g_assert_nonnull(ev);
        JsonObject *d = json_object_get_object_member(ev, "data");
        const char *path = json_object_get_string_member(d, "path");
        if (g_str_has_prefix(path, "/machine/peripheral-anon/device[") &&
            g_str_has_suffix(path, "]")) {
            g_assert_false(json_object_has_member(d, "device"));
            seen = true;
        }
    }
    g_assert_true(seen);
    qtest_quit(qts);
}

/* While a migration runs the set of devices is fixed: device_add and device_del are
 * refused (QEMU's messages), and allowed again once it has ended. */
static void test_refused_while_migrating(void)
{
    Fixture f;
    fixture_start(&f, "-device virtio-net-pci,id=net0,netdev=n0,addr=4");
    int lfd, fd = mig_migrate_to_test(f.qmp, &lfd); /* never read: the stream stalls */
    mig_wait_status(f.qmp, "active");
    qmp_assert_error(f.qmp, "GenericError", "device_add not allowed while migrating",
                     "{'execute': 'device_add', 'arguments': {'driver': 'virtio-net-pci', "
                     "'id': 'net1'}}");
    qmp_assert_error(f.qmp, "GenericError", "device_del not allowed while migrating",
                     "{'execute': 'device_del', 'arguments': {'id': 'net0'}}");
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_DOWN), ==, 0);
    close(fd);
    close(lfd);
    g_autoptr(JsonObject) end = mig_wait_end(f.qmp);
    g_assert_cmpstr(json_object_get_string_member(end, "status"), ==, "failed");
    g_autoptr(JsonNode) r =
        qmp_ok(f.qmp, "{'execute': 'device_del', 'arguments': {'id': 'net0'}}");
    g_assert_cmphex(qtest_inl(f.qts, PCIHP_DOWN), ==, 1u << 4);
    fixture_stop(&f);
}

/* libvirt's way to attach an interface: the backend's descriptor passed with getfd, then
 * netdev_add naming it, then device_add; frames flow through the socket handed over. */
static void test_netdev_getfd(void)
{
    Fixture f;
    fixture_start(&f, NULL);
    int sv[2];
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), ==, 0);
    GError *err = NULL;
    g_assert_true(qmp_client_send_fd(
        f.qmp, sv[1], "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"hfd\"}}\n",
        &err));
    g_assert_no_error(err);
    close(sv[1]);
    g_autoptr(JsonObject) reply = qmp_client_read(f.qmp, TIMEOUT_MS, &err);
    g_assert_no_error(err);
    g_assert_true(json_object_has_member(reply, "return"));
    qmp_assert_error(f.qmp, "GenericError", "File descriptor named 'nope' not found",
                     "{'execute': 'netdev_add', 'arguments': {'type': 'socket', 'id': 'hn', "
                     "'fd': 'nope'}}");
    g_autoptr(JsonNode) r1 = qmp_ok(f.qmp, "{'execute': 'netdev_add', 'arguments': {'type': "
                                           "'socket', 'id': 'hn', 'fd': 'hfd'}}");
    g_autoptr(JsonNode) r2 = qmp_ok(f.qmp, "{'execute': 'device_add', 'arguments': {'driver': "
                                           "'virtio-net-pci', 'id': 'net1', 'netdev': 'hn', "
                                           "'mac': '52:54:00:12:34:99'}}");
    QVirtioNet *n = qvnet_init(f.qts, QVNET_ALL_FEATURES, true);
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x99};
    static const uint8_t peer[6] = {0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc};
    uint8_t frame[128];
    size_t len = qvnet_build_frame(frame, peer, mac, 0, 0x0800, 60);
    qvnet_tx(n, frame, len);
    qvnet_backend_expect(sv[0], frame, len);
    /* The name was taken: it cannot serve twice. */
    qmp_assert_error(f.qmp, "GenericError", "File descriptor named 'hfd' not found",
                     "{'execute': 'netdev_add', 'arguments': {'type': 'socket', 'id': 'hn2', "
                     "'fd': 'hfd'}}");
    qvnet_free(n);
    close(sv[0]);
    fixture_stop(&f);
}

/* The machine without a PCI bus has nowhere to put a NIC. */
static void test_machine_none(void)
{
    QTestState *qts = qtest_init("-machine none");
    qmp_assert_error(qtest_qmp(qts), "GenericError",
                     "No 'PCI' bus found for device 'virtio-net-pci'",
                     "{'execute': 'device_add', 'arguments': {'driver': 'virtio-net-pci'}}");
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/hotplug/add-del", test_add_del);
    g_test_add_func("/hotplug/coldplugged", test_coldplugged);
    g_test_add_func("/hotplug/refused", test_refused);
    g_test_add_func("/hotplug/bogus-writes", test_bogus_writes);
    g_test_add_func("/hotplug/traffic", test_traffic);
    g_test_add_func("/hotplug/netdev-add-del", test_netdev_add_del);
    g_test_add_func("/hotplug/netdev-getfd", test_netdev_getfd);
    g_test_add_func("/hotplug/libqos-sequence", test_libqos_sequence);
    g_test_add_func("/hotplug/migrate", test_migrate);
    g_test_add_func("/hotplug/refused-while-migrating", test_refused_while_migrating);
    g_test_add_func("/hotplug/machine-none", test_machine_none);
    return g_test_run();
}
