/*
 * capture-seeds: save real migration streams from tern, as the migration fuzzer's seeds.
 *
 *   capture-seeds DIR
 *
 * Starts tern (TERN_BINARY) under qtest with the fuzz machine's configuration
 * (fuzz-vm.h), brings up its virtio-net NIC as a driver does (every feature, MSI-X, rx
 * buffers, a programmed receive filter), migrates it with `migrate` to `exec:cat > FILE`
 * and writes DIR/pc-virtio-net.bin; then the same from a paused VM, and from
 * `-machine none`. Built and run by `make fuzz-seeds` (the Makefile runs it before the
 * migration fuzzer), so the seeds always have the stream format of the tree.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "../lib/qvirtio-net.h"
#include "../migration/migration-util.h"
#include "fuzz-vm.h"

static void migrate_to(QmpClient *c, const char *dir, const char *name)
{
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
    g_autofree char *uri = g_strdup_printf("exec:cat > %s", tmp);
    unlink(tmp);
    json_object_unref(mig_migrate_until_end(c, uri, "completed"));
    if (rename(tmp, path) != 0) {
        g_error("rename %s: %m", tmp);
    }
    printf("capture-seeds: %s\n", path);
}

static void capture_nic(const char *dir, bool paused, const char *name)
{
    static const uint8_t mc[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    int backend;
    QTestState *qts = qvnet_start("id=nic0", FUZZ_VM_ARGS, &backend);
    QVirtioNet *n = qvnet_init(qts, QVNET_ALL_FEATURES, true);
    qvnet_rx_post(n, QVNET_RX_BUF);
    uint8_t table[4 + 6 + 4 + 6] = {1, 0, 0, 0, 0x02, 0, 0, 0, 0, 0x11, 1, 0, 0, 0};
    memcpy(table + 14, mc, 6);
    qvnet_ctrl(n, 1 /* MAC */, 0 /* TABLE_SET */, table, sizeof(table));
    uint16_t vid = 10;
    qvnet_ctrl(n, 2 /* VLAN */, 0 /* ADD */, &vid, 2);
    QmpClient *qmp = qtest_qmp(qts);
    if (paused) {
        json_node_unref(qmp_ok(qmp, "{'execute': 'stop'}"));
    }
    migrate_to(qmp, dir, name);
    qvnet_free(n);
    close(backend);
    qtest_kill(qts);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: capture-seeds DIR\n");
        return 2;
    }
    g_mkdir_with_parents(argv[1], 0755);
    argv[1] = realpath(argv[1], NULL); /* the exec: child runs in tern's directory */
    capture_nic(argv[1], false, "pc-virtio-net.bin");
    capture_nic(argv[1], true, "pc-virtio-net-paused.bin");
    QTestState *qts = qtest_init("-machine none -m 16M");
    migrate_to(qtest_qmp(qts), argv[1], "machine-none.bin");
    qtest_kill(qts);
    return 0;
}
