/*
 * test-device-errors.c: a -device that fails half way through realize gives back what it
 * took. virtio-net-pci in an occupied PCI slot fails after MSI-X is set up; that state
 * (table, PBA, routes) must go with the device.
 *
 * Measured as the heap in use before and after many failures (mallinfo2); under
 * AddressSanitizer, which keeps its own books, LeakSanitizer is asked instead.
 */
#include <glib.h>
#include <malloc.h>
#include <string.h>
#include "hw/memory.h"
#include "hw/pci.h"
#include "hw/qdev.h"
#include "options.h"

int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

#define ROUNDS 200

static void fail_once(void)
{
    g_autoptr(GError) err = NULL;
    /* Slot 0 is the host bridge's. */
    TernOpts *o = opts_parse("-device", "virtio-net-pci,addr=0", "driver", &err);
    g_assert_nonnull(o);
    GPtrArray *devs = g_ptr_array_new();
    g_ptr_array_add(devs, o);
    g_assert_false(devices_create(devs, &err));
    g_assert_nonnull(strstr(err->message, "virtio-net-pci"));
    g_ptr_array_free(devs, TRUE);
    opts_free(o);
}

static void test_virtio_net_slot_taken(void)
{
    fail_once(); /* anything made once, on first use, is made now */
    if (__lsan_do_recoverable_leak_check) {
        for (int i = 0; i < ROUNDS; i++) {
            fail_once();
        }
        g_assert_cmpint(__lsan_do_recoverable_leak_check(), ==, 0);
        return;
    }
    size_t before = mallinfo2().uordblks;
    for (int i = 0; i < ROUNDS; i++) {
        fail_once();
    }
    size_t after = mallinfo2().uordblks;
    g_test_message("heap in use: %zu bytes before, %zu after %d failed realizes", before, after,
                   ROUNDS);
    /* MSI-X alone is a few hundred bytes a device: a leak shows as tens of KiB. */
    g_assert_cmpuint(after, <, before + 8 * 1024);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_assert_true(guest_ram_init(16 << 20, 0xE0000000ULL, NULL));
    pci_host_init();
    g_test_add_func("/device-errors/virtio-net-slot-taken", test_virtio_net_slot_taken);
    return g_test_run();
}
