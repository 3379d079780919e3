/*
 * test-migration-hostile.c: what a migration peer or a QMP client gets wrong on purpose.
 *
 * Hand-crafted streams that a destination must refuse (cmos, serial, the virtio core and
 * its queues, virtio-net's MAC table), and fd:N naming tern's own descriptors. A real
 * source (`-machine pc` under qtest) migrates into a file through `exec:`; the test finds
 * one device section in it, changes one field to a value that would later index, size or
 * address something out of range, and feeds the result to a destination, which must exit
 * 1 naming the section and the field, never load it.
 *
 * Stream layout: docs/migration-stream.md.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bswap.h"
#include "../lib/libqtest.h"
#include "../lib/qmp-assert.h"
#include "migration-util.h"

#define REC_END 0x00
#define REC_CONFIG 0x01
#define REC_RAM_PAGES 0x02
#define REC_RAM_ZERO 0x03
#define REC_DEVICE 0x04
#define HEADER_LEN 12
#define PAGE 4096

/* Offset of section `name`'s payload in the stream (and its length through *len). */
static size_t stream_find_section(const uint8_t *s, size_t n, const char *name, size_t *len)
{
    size_t pos = HEADER_LEN;
    while (pos < n) {
        uint8_t type = s[pos++];
        switch (type) {
        case REC_END:
            g_error("section '%s' is not in the stream", name);
        case REC_CONFIG:
            pos += 4 + (size_t)ld_be32(s + pos) * 16;
            break;
        case REC_RAM_PAGES:
            pos += 12 + (size_t)ld_be32(s + pos + 8) * PAGE;
            break;
        case REC_RAM_ZERO:
            pos += 12;
            break;
        case REC_DEVICE: {
            uint8_t nl = s[pos];
            bool match = nl == strlen(name) && memcmp(s + pos + 1, name, nl) == 0;
            pos += 1 + nl + 8;
            uint32_t plen = ld_be32(s + pos);
            pos += 4;
            if (match) {
                *len = plen;
                return pos;
            }
            pos += plen;
            break;
        }
        default:
            g_error("record type 0x%02x at %zu: not a stream this test knows", type, pos - 1);
        }
    }
    g_error("section '%s' is not in the stream", name);
}

/* Both sides' machine: -machine pc with COM1 and a NIC whose netdev listens on any free
 * port (so the destination's does too). */
#define MACHINE                                                                                \
    "-m 16 -serial null -netdev socket,id=n0,listen=127.0.0.1:0 "                              \
    "-device virtio-net-pci,netdev=n0,addr=3"
#define NIC "0000:00:03.0/virtio-net"

/* The stream of a freshly started MACHINE. */
static GBytes *capture_stream(void)
{
    QTestState *src = qtest_init(MACHINE);
    g_autofree char *file = tern_proc_path(qtest_proc(src), "stream.bin");
    g_autofree char *uri = g_strdup_printf("exec:cat > %s", file);
    g_autoptr(JsonObject) end = mig_migrate_until_end(qtest_qmp(src), uri, "completed");
    char *data = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(file, &data, &len, NULL));
    qtest_quit(src);
    return g_bytes_new_take(data, len);
}

typedef struct {
    const char *section; /* the record's idstr */
    size_t offset;       /* of the field within the payload */
    const uint8_t *bytes;
    size_t nbytes;
    const char *why; /* the destination's refusal, as it must say it */
    bool from_end;   /* offset counts back from the end of the payload */
} Patch;

/* Load `stream` with `p` applied into a destination, which must refuse it. */
static void assert_patch_refused(GBytes *stream, const Patch *p)
{
    gsize n = g_bytes_get_size(stream);
    g_autofree uint8_t *s = g_memdup2(g_bytes_get_data(stream, NULL), n);
    size_t plen;
    size_t at = stream_find_section(s, n, p->section, &plen);
    size_t off = p->from_end ? plen - p->offset : p->offset;
    g_assert_cmpuint(off + p->nbytes, <=, plen);
    memcpy(s + at + off, p->bytes, p->nbytes);

    g_autofree char *dir = g_dir_make_tmp("tern-stream-XXXXXX", NULL);
    g_autofree char *file = g_build_filename(dir, "patched.bin", NULL);
    g_assert_true(g_file_set_contents(file, (const char *)s, n, NULL));
    QTestState *dst = qtest_initf(MACHINE " -incoming 'exec:cat %s'", file);
    mig_assert_dst_failed(dst, p->why);
    unlink(file);
    rmdir(dir);
}

static GBytes *pc_stream;

static GBytes *pc(void)
{
    if (!pc_stream) {
        pc_stream = capture_stream();
    }
    return pc_stream;
}

/* The index latch addresses the 128-byte CMOS RAM (hw/i386/cmos.c): the guest's next
 * access to port 0x71 would read and write past it. */
static void test_cmos_index(void)
{
    static const uint8_t idx[] = {0x80};
    assert_patch_refused(pc(), &(Patch){"cmos", 0, idx, 1,
                                        "section 'cmos' (instance 0): field 'index': "
                                        "register 128 is outside the 128 bytes of CMOS RAM"});
    static const uint8_t ff[] = {0xff};
    assert_patch_refused(pc(), &(Patch){"cmos", 0, ff, 1, "field 'index': register 255"});
    /* The clock offset: time() + offset must not overflow. */
    static const uint8_t max[] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_patch_refused(pc(), &(Patch){"cmos", 1 + 128, max, 8,
                                        "field 'offset': 9223372036854775807 s from host "
                                        "time is more than a guest can set"});
}

/* serial: u16 divider, 8 u8 registers, bool thr_ipending, u8 rx[16], u32 rx_head,
 * u32 rx_count. Head and count address the receive FIFO. */
#define SERIAL_RX_HEAD (2 + 8 + 1 + 16)
static void test_serial_fifo(void)
{
    static const uint8_t head[] = {0, 0, 0, 16};
    assert_patch_refused(pc(), &(Patch){"serial", SERIAL_RX_HEAD, head, 4,
                                        "section 'serial' (instance 0): field 'rx': receive "
                                        "FIFO head 16 / count 0 out of range"});
    static const uint8_t count[] = {0x80, 0, 0, 0};
    assert_patch_refused(pc(), &(Patch){"serial", SERIAL_RX_HEAD + 4, count, 4,
                                        "field 'rx': receive FIFO head 0 / count 2147483648"});
}

/*
 * The NIC's section (the virtio-pci transport's, version 2) starts with the virtio core as
 * a nested struct: u32 version, u32 num_queues, u8 status, u64 driver_features, u64
 * guest_features, u8 isr, u8 config_generation, u16 config_vector, bool broken, then each
 * queue as a nested struct: u32 version, u16 num, bool enabled, u64 desc, avail, used,
 * u16 vector...
 */
#define VIRTIO_STATUS 8
#define VIRTIO_GUEST_FEATURES 17
#define VIRTIO_CONFIG_VECTOR 27
#define VQ0 30
#define VQ_NUM 4
#define VQ_ENABLED 6
#define VQ_VECTOR 31

/* Fields of the virtio core and its queues that index, size or address something. */
static void test_virtio(void)
{
    static const uint8_t driver_ok[] = {0x04}, bit63[] = {0x80, 0, 0, 0, 0, 0, 0, 0},
                         vec256[] = {0x01, 0x00}, big[] = {0x04, 0x00},
                         /* enabled, desc at 64 GiB */
        far[] = {1, 0, 0, 0, 0x10, 0, 0, 0, 0};
    static const Patch patches[] = {
        {NIC, VIRTIO_STATUS, driver_ok, 1,
         "section '" NIC "' (instance 0): field 'virtio': device status 0x04 has DRIVER_OK "
         "without FEATURES_OK"},
        {NIC, VIRTIO_GUEST_FEATURES, bit63, 8,
         "field 'virtio.guest_features': the guest negotiated bit 63, which this side does "
         "not offer"},
        {NIC, VIRTIO_CONFIG_VECTOR, vec256, 2,
         "the config interrupt uses MSI-X vector 256, the device has 4"},
        {NIC, VQ0 + VQ_VECTOR, vec256, 2, "queue 0 uses MSI-X vector 256, the device has 4"},
        {NIC, VQ0 + VQ_NUM, big, 2,
         "field 'virtio.vq[0]': queue 0 has 1024 entries, this side offers at most 256"},
        /* An enabled ring lies inside guest RAM. */
        {NIC, VQ0 + VQ_ENABLED, far, sizeof(far),
         "field 'virtio.vq[0]': queue 0: ring outside guest RAM on this side"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(patches); i++) {
        assert_patch_refused(pc(), &patches[i]);
    }
}

/*
 * virtio-net's own state, a nested struct, ends the section, so its fields are found from
 * the end (a fresh NIC has no learned addresses): mac_table {u32 version, u32 in_use, u32
 * first_multi, bool, bool, macs[64 * 6], u8 0}, u32 vlans[128], bool announce_deferred,
 * u32 learned_count, u32 learned_last, u64 learned_seq, u8 0 (the NIC's subsections),
 * u8 0 (the section's).
 */
#define TAIL_AFTER_MACS (1 + 512 + 1 + 4 + 4 + 8 + 1 + 1)
#define MAC_TABLE_IN_USE (4 + 4 + 1 + 1 + 64 * 6 + TAIL_AFTER_MACS)
#define MAC_TABLE_FIRST_MULTI (MAC_TABLE_IN_USE - 4)

/* The MAC table's counts address its entries. */
static void test_virtio_net_mac_table(void)
{
    static const uint8_t n65[] = {0, 0, 0, 65}, n1[] = {0, 0, 0, 1};
    static const Patch patches[] = {
        {NIC, MAC_TABLE_IN_USE, n65, 4,
         "field 'virtio-net.mac_table.in_use': 65 entries with 0 unicast do not fit a table of "
         "64",
         true},
        {NIC, MAC_TABLE_FIRST_MULTI, n1, 4,
         "field 'virtio-net.mac_table.in_use': 0 entries with 1 unicast do not fit a table of "
         "64",
         true},
    };
    for (guint i = 0; i < G_N_ELEMENTS(patches); i++) {
        assert_patch_refused(pc(), &patches[i]);
    }
}

/* A migrate-incoming that fails leaves no descriptor behind (it leaked an eventfd). */
static void test_incoming_failures_leak_nothing(void)
{
    QTestState *dst = qtest_init("-m 16 -incoming defer");
    QmpClient *c = qtest_qmp(dst);
    g_autofree char *bad = tern_proc_path(qtest_proc(dst), "no/such/dir/sock");
    /* Once to let anything allocated on first use settle. */
    qmp_assert_error(c, "GenericError", NULL,
                     "{'execute': 'migrate-incoming', 'arguments': {'uri': 'unix:%s'}}", bad);
    int before = tern_proc_count_fds(qtest_proc(dst));
    for (int i = 0; i < 10; i++) {
        qmp_assert_error(c, "GenericError", NULL,
                         "{'execute': 'migrate-incoming', 'arguments': {'uri': 'unix:%s'}}",
                         bad);
    }
    g_assert_cmpint(tern_proc_count_fds(qtest_proc(dst)), ==, before);
    qtest_quit(dst);
}

/* Descriptors tern has open, 3 and up, that it opened itself (tern_proc passes none). */
static GArray *own_fds(TernProc *p, bool sockets_only)
{
    g_autofree char *dir = g_strdup_printf("/proc/%d/fd", (int)tern_proc_pid(p));
    GDir *d = g_dir_open(dir, 0, NULL);
    g_assert_nonnull(d);
    GArray *fds = g_array_new(FALSE, FALSE, sizeof(int));
    const char *name;
    while ((name = g_dir_read_name(d))) {
        int fd = atoi(name);
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);
        if (fd > 2 && target && (!sockets_only || g_str_has_prefix(target, "socket:"))) {
            g_array_append_val(fds, fd);
        }
    }
    g_dir_close(d);
    return fds;
}

/* fd:N names only a descriptor tern was started with, never one of its own (the QMP
 * listener, a client's socket, an eventfd). */
static void test_incoming_fd_own(void)
{
    QTestState *dst = qtest_init("-m 16 -incoming defer");
    QmpClient *c = qtest_qmp(dst);
    g_autoptr(GArray) fds = own_fds(qtest_proc(dst), false);
    g_assert_cmpuint(fds->len, >, 0);
    for (guint i = 0; i < fds->len; i++) {
        qmp_assert_error(c, "GenericError", "was not passed to tern",
                         "{'execute': 'migrate-incoming', 'arguments': {'uri': 'fd:%d'}}",
                         g_array_index(fds, int, i));
    }
    qtest_quit(dst);
}

/* The same for -netdev socket,fd=N: the QMP listener is opened before netdevs, so a
 * second tern started alike has it under the same number. */
static void test_netdev_fd_own(void)
{
    QTestState *first = qtest_init("-m 16");
    g_autoptr(GArray) fds = own_fds(qtest_proc(first), true);
    qtest_quit(first);
    g_assert_cmpuint(fds->len, >, 0);
    unsigned refused = 0;
    for (guint i = 0; i < fds->len; i++) {
        int fd = g_array_index(fds, int, i);
        g_autofree char *args = g_strdup_printf("-m 16 -netdev socket,id=n0,fd=%d -S", fd);
        g_autofree char *err = qtest_init_fail(args);
        /* Sockets opened after the netdevs (the qtest connection) are not open yet. */
        if (strstr(err, "was not passed to tern")) {
            refused++;
        } else if (!strstr(err, "is not an open file descriptor")) {
            g_error("-netdev socket,fd=%d (a descriptor of tern's own): %s", fd, err);
        }
    }
    g_assert_cmpuint(refused, >, 0); /* the QMP listener at least */
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    signal(SIGPIPE, SIG_IGN);
    g_test_add_func("/migration-hostile/cmos/index", test_cmos_index);
    g_test_add_func("/migration-hostile/serial/fifo", test_serial_fifo);
    g_test_add_func("/migration-hostile/virtio", test_virtio);
    g_test_add_func("/migration-hostile/virtio-net/mac-table", test_virtio_net_mac_table);
    g_test_add_func("/migration-hostile/incoming-fd-own", test_incoming_fd_own);
    g_test_add_func("/migration-hostile/netdev-fd-own", test_netdev_fd_own);
    g_test_add_func("/migration-hostile/incoming-failures-leak-nothing",
                    test_incoming_failures_leak_nothing);
    int rc = g_test_run();
    if (pc_stream) {
        g_bytes_unref(pc_stream);
    }
    return rc;
}
