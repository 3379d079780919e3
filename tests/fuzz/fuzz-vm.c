/*
 * fuzz-vm.c: tern's pc machine inside a fuzz target (see fuzz-vm.h).
 *
 * The machine is built the way vl.c builds it, from a command line, so the fuzzers
 * exercise exactly the devices and sections a real `-machine pc` destination has. The
 * qtest channel is a unix socket nobody answers and the netdev a socketpair nobody reads:
 * the target is the only driver.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "fuzz-vm.h"
#include "hw/machine.h"
#include "hw/memory.h"
#include "hw/pci.h"
#include "hw/i386/x86-tables.h"
#include "main-loop.h"
#include "migration/global-state.h"
#include "monitor/qmp.h"
#include "net/announce.h"
#include "net/net.h"
#include "options.h"
#include "runstate.h"

/* The machine lives as long as the process; so does what it was built from. */
static struct {
    TernConfig *config;
    char *qtest_path;
    VirtIONet *nic;
} vm;

/* A listening socket for qtest to connect to; its connection is never accepted. */
static char *qtest_listener(void)
{
    char *dir = g_dir_make_tmp("tern-fuzz-XXXXXX", NULL);
    g_assert(dir);
    char *path = g_build_filename(dir, "qtest.sock", NULL);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
             listen(fd, 1) == 0);
    g_free(dir);
    return path;
}

static void fuzz_vm_build(void)
{
    int sv[2];
    g_assert(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    vm.qtest_path = qtest_listener();
    g_autofree char *qtest = g_strdup_printf("unix:%s", vm.qtest_path);
    g_autofree char *netdev = g_strdup_printf("socket,id=n0,fd=%d", sv[1]);
    g_autofree char *line =
        g_strdup_printf("tern -machine pc,accel=qtest -qtest %s -display none -netdev %s "
                        "-device virtio-net-pci,netdev=n0,id=nic0 " FUZZ_VM_ARGS,
                        qtest, netdev);
    g_auto(GStrv) argv = g_strsplit(line, " ", -1);
    TernConfig *c = vm.config = config_new();
    GError *err = NULL;
    main_loop_init();
    bql_lock();
    if (options_parse(c, g_strv_length(argv), argv, stdout, &err) != OPTIONS_RUN ||
        !qapi_schema_load(&err) || !netdevs_create(c->netdevs, &err) ||
        !machine_create(c, &err)) {
        fprintf(stderr, "fuzz-vm: %s\n", err ? err->message : "cannot start");
        abort();
    }
    global_state_register();
    qmp_event_init();
    announce_init();
    runstate_init(RUN_STATE_PRELAUNCH);
    GPtrArray *nics = net_nics();
    for (guint i = 0; i < nics->len && !vm.nic; i++) {
        vm.nic = virtio_net_from_nc(g_ptr_array_index(nics, i));
    }
    g_assert(vm.nic);
}

VirtIONet *fuzz_vm_get(void)
{
    if (!vm.nic) {
        fuzz_vm_build();
    }
    return vm.nic;
}

static uint32_t guest_pci_read(unsigned slot, unsigned offset)
{
    address_space_write(ADDR_SPACE_IO, PCI_CONFIG_ADDRESS_PORT,
                        PCI_CONFIG_ADDRESS_ENABLE | slot << 11 | offset, 4);
    return address_space_read(ADDR_SPACE_IO, PCI_CONFIG_DATA_PORT, 4);
}

void fuzz_vm_touch_devices(void)
{
    /* The CMOS/RTC, both serial port windows, the ACPI PM block, port 0x80. */
    static const struct {
        uint16_t base, len;
    } ports[] = {{0x70, 2}, {0x3f8, 8}, {ACPI_PM_BASE, 16}, {0x80, 1}};
    for (size_t i = 0; i < G_N_ELEMENTS(ports); i++) {
        for (unsigned p = ports[i].base; p < ports[i].base + ports[i].len; p++) {
            address_space_read(ADDR_SPACE_IO, p, 1);
        }
    }
    /* Every function's config space, and what its memory BARs decode. */
    for (unsigned slot = 0; slot < 32; slot++) {
        if ((guest_pci_read(slot, 0) & 0xffff) == 0xffff) {
            continue;
        }
        for (unsigned off = 0; off < PCI_CONFIG_SPACE_SIZE; off += 4) {
            guest_pci_read(slot, off);
        }
        for (unsigned bar = 0; bar < 6; bar++) {
            uint64_t addr = guest_pci_read(slot, 0x10 + 4 * bar);
            if (addr & 1) {
                continue; /* I/O BAR: tern's devices have none */
            }
            if ((addr & 6) == 4 && bar < 5) {
                addr |= (uint64_t)guest_pci_read(slot, 0x10 + 4 * ++bar) << 32;
            }
            addr &= ~0xfULL;
            for (uint64_t off = 0; addr && off < 0x4000; off += 4) {
                address_space_read(ADDR_SPACE_MEMORY, addr + off, 4);
            }
        }
    }
}

uint8_t fuzz_u8(FuzzInput *in)
{
    uint8_t v = 0;
    fuzz_bytes(in, &v, 1);
    return v;
}

uint16_t fuzz_u16(FuzzInput *in)
{
    return fuzz_u8(in) | fuzz_u8(in) << 8;
}

uint32_t fuzz_u32(FuzzInput *in)
{
    return fuzz_u16(in) | (uint32_t)fuzz_u16(in) << 16;
}

uint64_t fuzz_u64(FuzzInput *in)
{
    return fuzz_u32(in) | (uint64_t)fuzz_u32(in) << 32;
}

size_t fuzz_bytes(FuzzInput *in, void *buf, size_t len)
{
    size_t n = MIN(len, in->len);
    memcpy(buf, in->p, n);
    memset((uint8_t *)buf + n, 0, len - n);
    in->p += n;
    in->len -= n;
    return n;
}
