/*
 * test-msix-irqfd.c: with an accelerator that offers MSI routes and irqfd (KVM), MSI-X
 * vectors are delivered by writing the vector's eventfd, bound to a route holding its
 * message; the route follows table rewrites and goes away on reset; after a load the
 * first interrupts go as single messages and the routes are built when the main loop
 * is idle. A fake accelerator records what the PCI layer asks of it.
 */
#include <glib.h>
#include <poll.h>
#include <unistd.h>
#include "hw/irq.h"
#include "hw/memory.h"
#include "hw/pci.h"
#include "../../hw/pci/pci-internal.h" /* msix_post_load */

#define BAR_ADDR 0xE0000000ULL
#define MAX_ROUTES 8

static struct {
    int nroutes, removed, msi_sent;
    uint64_t addr[MAX_ROUTES];
    uint32_t data[MAX_ROUTES];
    int fd[MAX_ROUTES]; /* irqfd bound to route i, -1 none */
} fake;

static int fake_route_add(uint64_t addr, uint32_t data)
{
    g_assert_cmpint(fake.nroutes, <, MAX_ROUTES);
    fake.addr[fake.nroutes] = addr;
    fake.data[fake.nroutes] = data;
    fake.fd[fake.nroutes] = -1;
    return fake.nroutes++;
}

static bool fake_route_update(int gsi, uint64_t addr, uint32_t data)
{
    fake.addr[gsi] = addr;
    fake.data[gsi] = data;
    return true;
}

static void fake_route_remove(int gsi)
{
    fake.removed++;
}

static bool fake_irqfd_add(int fd, int gsi)
{
    fake.fd[gsi] = fd;
    return true;
}

static void fake_irqfd_del(int fd, int gsi)
{
    g_assert_cmpint(fake.fd[gsi], ==, fd);
    fake.fd[gsi] = -1;
}

static void fake_set_irq(int gsi, bool level)
{
}

static void fake_send_msi(uint64_t addr, uint32_t data)
{
    fake.msi_sent++;
}

static const AccelOps fake_ops = {
    .name = "fake-kvm",
    .set_irq = fake_set_irq,
    .send_msi = fake_send_msi,
    .msi_route_add = fake_route_add,
    .msi_route_update = fake_route_update,
    .msi_route_remove = fake_route_remove,
    .irqfd_add = fake_irqfd_add,
    .irqfd_del = fake_irqfd_del,
};

/* How many times the eventfd fired since last asked (0 when none). */
static uint64_t eventfd_count(int fd)
{
    uint64_t n = 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) == 1) {
        g_assert_cmpint(read(fd, &n, sizeof(n)), ==, sizeof(n));
    }
    return n;
}

static PCIDevice dev;

static void write_entry(unsigned v, uint64_t addr, uint32_t data, bool masked)
{
    uint64_t e = BAR_ADDR + v * PCI_MSIX_ENTRY_SIZE;
    address_space_write(ADDR_SPACE_MEMORY, e + PCI_MSIX_ENTRY_LOWER_ADDR, (uint32_t)addr, 4);
    address_space_write(ADDR_SPACE_MEMORY, e + PCI_MSIX_ENTRY_UPPER_ADDR, addr >> 32, 4);
    address_space_write(ADDR_SPACE_MEMORY, e + PCI_MSIX_ENTRY_DATA, data, 4);
    address_space_write(ADDR_SPACE_MEMORY, e + PCI_MSIX_ENTRY_VECTOR_CTRL, masked, 4);
}

static void setup(void)
{
    GError *err = NULL;
    g_assert_true(guest_ram_init(16 << 20, 0xE0000000ULL, &err));
    pci_host_init();
    pci_device_init(&dev, "msix-test", 0x1b36, 0x00ff, 0xff0000, 0, 0x1af4, 0x1100);
    g_assert_true(msix_init(&dev, 2, 0, 0, 0, 0x800, &err));
    g_assert_true(pci_bus_add_device(&dev, -1, &err));
    pci_config_write(&dev, PCI_BASE_ADDRESS_0, (uint32_t)BAR_ADDR, 4);
    pci_config_write(&dev, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    uint8_t cap = pci_config_read(&dev, PCI_CAPABILITY_LIST, 1); /* the only capability */
    g_assert_cmpuint(pci_config_read(&dev, cap, 1), ==, PCI_CAP_ID_MSIX);
    pci_config_write(&dev, cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
    accel_set_ops(&fake_ops);
}

static void test_irqfd_delivery(void)
{
    write_entry(0, 0xFEE00000, 0x41, false);
    msix_notify(&dev, 0);
    g_assert_cmpint(fake.nroutes, ==, 1);
    g_assert_cmphex(fake.addr[0], ==, 0xFEE00000);
    g_assert_cmphex(fake.data[0], ==, 0x41);
    g_assert_cmpint(fake.fd[0], >=, 0);
    g_assert_cmpuint(eventfd_count(fake.fd[0]), ==, 1);
    g_assert_cmpint(fake.msi_sent, ==, 0); /* no per-interrupt ioctl */

    /* the same vector again: the route is reused */
    msix_notify(&dev, 0);
    msix_notify(&dev, 0);
    g_assert_cmpint(fake.nroutes, ==, 1);
    g_assert_cmpuint(eventfd_count(fake.fd[0]), ==, 2);

    /* the driver retargets the vector: the route follows */
    write_entry(0, 0xFEE01000, 0x42, false);
    msix_notify(&dev, 0);
    g_assert_cmpint(fake.nroutes, ==, 1);
    g_assert_cmphex(fake.addr[0], ==, 0xFEE01000);
    g_assert_cmphex(fake.data[0], ==, 0x42);
    g_assert_cmpuint(eventfd_count(fake.fd[0]), ==, 1);

    /* masked: nothing fires; unmasking delivers the pending one through the route */
    write_entry(1, 0xFEE00000, 0x51, true);
    msix_notify(&dev, 1);
    g_assert_cmpint(fake.nroutes, ==, 1);
    write_entry(1, 0xFEE00000, 0x51, false);
    g_assert_cmpint(fake.nroutes, ==, 2);
    g_assert_cmpuint(eventfd_count(fake.fd[1]), ==, 1);

    /* reset drops every route and its irqfd */
    msix_reset(&dev);
    g_assert_cmpint(fake.removed, ==, 2);
    g_assert_cmpint(fake.fd[0], ==, -1);
    g_assert_cmpint(fake.fd[1], ==, -1);
}

/* After a load (a migration's arrival) the first interrupts go as single messages; the
 * routes of the vectors that fired are built when the main loop is idle, and from then
 * on the irqfds carry them. */
static void test_routes_deferred_after_load(void)
{
    write_entry(0, 0xFEE00000, 0x41, false);
    write_entry(1, 0xFEE00000, 0x51, false);
    msix_notify(&dev, 0);
    int routes = fake.nroutes, sent = fake.msi_sent;

    msix_post_load(&dev);
    msix_notify(&dev, 0);
    msix_notify(&dev, 0);
    g_assert_cmpint(fake.nroutes, ==, routes); /* no route on the delivery path */
    g_assert_cmpint(fake.msi_sent, ==, sent + 2);

    while (g_main_context_iteration(NULL, FALSE)) {
    }
    g_assert_cmpint(fake.nroutes, ==, routes + 1); /* vector 0 only: 1 never fired */
    int gsi = fake.nroutes - 1;
    g_assert_cmphex(fake.data[gsi], ==, 0x41);
    msix_notify(&dev, 0);
    g_assert_cmpuint(eventfd_count(fake.fd[gsi]), ==, 1);
    g_assert_cmpint(fake.msi_sent, ==, sent + 2);

    /* a vector first used after that builds its route at once, as before a load */
    msix_notify(&dev, 1);
    g_assert_cmpint(fake.nroutes, ==, routes + 2);
    g_assert_cmpint(fake.msi_sent, ==, sent + 2);
    msix_reset(&dev);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    setup();
    g_test_add_func("/msix/irqfd-delivery", test_irqfd_delivery);
    g_test_add_func("/msix/routes-deferred-after-load", test_routes_deferred_after_load);
    return g_test_run();
}
