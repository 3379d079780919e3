/*
 * test-kvm.c: the KVM accelerator's plumbing with a tiny guest on this host's /dev/kvm:
 * VM, in-kernel irqchip, RAM slot, vCPU thread, boot entry, port I/O exits dispatched to a
 * device, stop/cont really pausing the vCPU, a second vCPU parked until SIPI, and the
 * guest's ways of ending: ACPI S5 (poweroff), the ACPI reset register and a triple fault.
 * Skips with the reason when /dev/kvm is missing or cannot run the guest.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include "accel/kvm.h"
#include "hw/i386/pc-legacy.h"
#include "hw/i386/pc-power.h"
#include "hw/i386/pc.h"
#include "hw/i386/x86-tables.h"
#include "hw/memory.h"
#include "main-loop.h"
#include "monitor/qmp.h"
#include "runstate.h"

#define RAM_SIZE (16 << 20)
#define CODE 0x100000
#define COUNTER 0x2000
#define TEST_PORT 0x10

/* Whether /kvm/io-exit saw the guest run; the tests that need a running guest (in a
 * subprocess, since a shutdown request ends the process's VM for good) skip otherwise. */
static bool guest_runs;

typedef struct {
    MemoryRegion io;
    gint writes; /* atomic */
    gint last;   /* atomic */
} TestPort;

static void port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    TestPort *p = opaque;
    g_atomic_int_set(&p->last, (int)value);
    g_atomic_int_inc(&p->writes);
}

static const MemoryRegionOps port_ops = {.write = port_write};

static const char *kvm_skip_reason(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return "no usable /dev/kvm on this host";
    }
    close(fd);
    return NULL;
}

typedef struct {
    TernConfig *cfg;
    TestPort port;
} Fixture;

/* RAM, KVM, the test port, a GDT and `code` at CODE, then the boot vCPU pointed at it. */
static bool fixture_up(Fixture *f, unsigned smp, const uint8_t *code, size_t len)
{
    g_autoptr(GError) err = NULL;
    f->cfg = config_new();
    f->cfg->smp = smp;
    f->cfg->no_reboot = true;
    g_assert_true(guest_ram_init(RAM_SIZE, PC_RAM_BELOW_4G_MAX, &err));
    if (!kvm_accel_init(f->cfg, &err)) {
        g_test_skip(err->message);
        guest_ram_free();
        config_free(f->cfg);
        return false;
    }
    memory_region_init(&f->port.io, ADDR_SPACE_IO, "test-port", 1, &port_ops, &f->port);
    memory_region_map(&f->port.io, TEST_PORT);
    static const uint64_t gdt[] = {0, 0, 0x00cf9b000000ffffULL, 0x00cf93000000ffffULL};
    memcpy(guest_ram_ptr(X86_GDT_ADDR, sizeof(gdt)), gdt, sizeof(gdt));
    memcpy(guest_ram_ptr(CODE, len), code, len);
    runstate_init(RUN_STATE_PRELAUNCH);
    KvmBootEntry e = {.eip = CODE, .gdt_base = X86_GDT_ADDR, .gdt_limit = sizeof(gdt) - 1};
    g_assert_true(kvm_set_boot_entry(&e, &err));
    return true;
}

static void fixture_down(Fixture *f)
{
    bql_lock();
    vm_stop(RUN_STATE_PAUSED);
    kvm_accel_destroy();
    bql_unlock();
    memory_region_unmap(&f->port.io);
    guest_ram_free();
    config_free(f->cfg);
}

static bool wait_for(gint *counter, int at_least, int ms)
{
    for (int i = 0; i < ms; i++) {
        if (g_atomic_int_get(counter) >= at_least) {
            return true;
        }
        g_usleep(1000);
    }
    return false;
}

static uint32_t guest_counter(void)
{
    return __atomic_load_n((uint32_t *)guest_ram_ptr(COUNTER, 4), __ATOMIC_RELAXED);
}

/* out 0x42 to the test port, then count forever at COUNTER. */
static const uint8_t count_loop[] = {
    0xb0, 0x42,                         /* mov $0x42, %al */
    0xe6, TEST_PORT,                    /* out %al, $0x10 */
    0xff, 0x05, 0x00, 0x20, 0x00, 0x00, /* incl 0x2000 */
    0xeb, 0xf8,                         /* jmp back to incl */
};

static void start_vm(void)
{
    bql_lock();
    vm_start();
    bql_unlock();
}

static void test_io_exit(void)
{
    Fixture f = {0};
    if (!fixture_up(&f, 1, count_loop, sizeof(count_loop))) {
        return;
    }
    g_assert_cmpint(g_atomic_int_get(&f.port.writes), ==, 0); /* prelaunch: parked */
    start_vm();
    if (!wait_for(&f.port.writes, 1, 5000)) {
        fixture_down(&f);
        g_test_skip("this host's KVM does not run a flat 32-bit guest (PVM?)");
        return;
    }
    g_assert_cmpint(g_atomic_int_get(&f.port.last), ==, 0x42);
    guest_runs = true;
    fixture_down(&f);
}

static void test_stop_cont(void)
{
    Fixture f = {0};
    if (!fixture_up(&f, 2, count_loop, sizeof(count_loop))) {
        return;
    }
    start_vm();
    if (!wait_for(&f.port.writes, 1, 5000)) {
        fixture_down(&f);
        g_test_skip("this host's KVM does not run a flat 32-bit guest (PVM?)");
        return;
    }
    g_usleep(20000);
    g_assert_cmpuint(guest_counter(), >, 0);

    bql_lock();
    vm_stop(RUN_STATE_PAUSED);
    bql_unlock();
    uint32_t frozen = guest_counter();
    g_usleep(100000);
    g_assert_cmpuint(guest_counter(), ==, frozen); /* really paused, not just flagged */

    start_vm();
    g_usleep(50000);
    g_assert_cmpuint(guest_counter(), >, frozen);
    /* The AP never got INIT/SIPI: only the boot vCPU wrote the port. */
    g_assert_cmpint(g_atomic_int_get(&f.port.writes), ==, 1);
    fixture_down(&f);
}

typedef struct {
    char *reason;
    bool guest;
} ShutdownSeen;

static void on_event(const char *name, JsonObject *data, void *opaque)
{
    ShutdownSeen *s = opaque;
    if (strcmp(name, "SHUTDOWN") == 0 && !s->reason) {
        s->reason = g_strdup(json_object_get_string_member(data, "reason"));
        s->guest = json_object_get_boolean_member(data, "guest");
    }
}

static gboolean loop_timeout(gpointer data)
{
    main_loop_quit(99);
    return G_SOURCE_REMOVE;
}

/* Run `code` until tern's main loop ends; check the exit status and SHUTDOWN reason. */
static void run_until_shutdown(const uint8_t *code, size_t len, const char *reason)
{
    Fixture f = {0};
    g_assert_true(fixture_up(&f, 1, code, len));
    bql_lock();
    pc_power_set_no_reboot(true);
    AcpiPm *pm = acpi_pm_init();
    ShutdownSeen seen = {0};
    guint obs = qmp_event_observer_add(on_event, &seen);
    vm_start();
    g_timeout_add(5000, loop_timeout, NULL);
    int rc = main_loop_run();
    bql_unlock();
    g_assert_cmpint(rc, ==, 0);
    g_assert_cmpstr(seen.reason, ==, reason);
    g_assert_true(seen.guest);
    qmp_event_observer_remove(obs);
    acpi_pm_free(pm);
    fixture_down(&f);
    g_free(seen.reason);
    exit(0);
}

static void run_in_subprocess(const char *path)
{
    if (!guest_runs) {
        g_test_skip(kvm_skip_reason() ? kvm_skip_reason()
                                      : "this host's KVM does not run a flat 32-bit guest");
        return;
    }
    g_test_trap_subprocess(path, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed();
}

/* PM1a_CNT = SLP_TYP 5 | SLP_EN, as Linux's ACPI poweroff writes it. */
static void test_acpi_poweroff_child(void)
{
    const uint16_t v = (ACPI_SLP_TYP_S5 << 10) | (1 << 13);
    const uint8_t code[] = {
        0x66, 0xba, ACPI_PM1A_CNT & 0xff, ACPI_PM1A_CNT >> 8, /* mov $PM1A_CNT, %dx */
        0x66, 0xb8, v & 0xff, v >> 8,                         /* mov $v, %ax */
        0x66, 0xef,                                           /* out %ax, %dx */
        0xeb, 0xfe,                                           /* jmp . */
    };
    run_until_shutdown(code, sizeof(code), "guest-shutdown");
}

static void test_acpi_poweroff(void)
{
    run_in_subprocess("/kvm/acpi-poweroff/subprocess");
}

static void test_acpi_reset_child(void)
{
    const uint8_t code[] = {
        0x66, 0xba, ACPI_RESET_REG & 0xff, ACPI_RESET_REG >> 8, /* mov $RESET, %dx */
        0xb0, ACPI_RESET_VALUE,                                 /* mov $6, %al */
        0xee,                                                   /* out %al, %dx */
        0xeb, 0xfe,
    };
    run_until_shutdown(code, sizeof(code), "guest-reset");
}

static void test_acpi_reset(void)
{
    run_in_subprocess("/kvm/acpi-reset/subprocess");
}

/* An empty IDT and an exception: #GP -> #DF -> triple fault (KVM_EXIT_SHUTDOWN). */
static void test_triple_fault_child(void)
{
    const uint8_t code[] = {
        0x0f, 0x01, 0x1d, 0x10, 0x20, 0x00, 0x00, /* lidt 0x2010 (limit 0) */
        0x0f, 0x0b,                               /* ud2 */
        0xeb, 0xfe,
    };
    /* The IDT descriptor at 0x2010 is zero: fresh RAM. */
    run_until_shutdown(code, sizeof(code), "guest-reset");
}

static void test_triple_fault(void)
{
    run_in_subprocess("/kvm/triple-fault/subprocess");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kvm/io-exit", test_io_exit);
    g_test_add_func("/kvm/stop-cont", test_stop_cont);
    g_test_add_func("/kvm/acpi-poweroff", test_acpi_poweroff);
    g_test_add_func("/kvm/acpi-poweroff/subprocess", test_acpi_poweroff_child);
    g_test_add_func("/kvm/acpi-reset", test_acpi_reset);
    g_test_add_func("/kvm/acpi-reset/subprocess", test_acpi_reset_child);
    g_test_add_func("/kvm/triple-fault", test_triple_fault);
    g_test_add_func("/kvm/triple-fault/subprocess", test_triple_fault_child);
    g_autoptr(GError) err = NULL;
    main_loop_init();
    if (!qapi_schema_load(&err)) {
        g_error("%s", err->message);
    }
    return g_test_run();
}
