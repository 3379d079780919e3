/*
 * test-kvm.c: the KVM accelerator's plumbing with a tiny guest on this host's /dev/kvm:
 * VM, in-kernel irqchip, RAM slot, vCPU thread, boot entry, port I/O exits dispatched to a
 * device, stop/cont really pausing the vCPU, a second vCPU parked until SIPI, and the
 * guest's ways of ending: ACPI S5 (poweroff), the ACPI reset register and a triple fault.
 *
 * Migration (/kvm/migrate/...): the KVM sections saved from a running guest and loaded
 * into a fresh VM in the same process (same RAM) resume the guest where it stopped, with
 * its MSRs; a stream for another vCPU count or CPUID is refused naming section and
 * field; the dirty log reports the pages the guest writes; a stop never leaves an I/O
 * instruction half done (a migration would run it twice).
 *
 * Skips with the reason when /dev/kvm is missing or cannot run the guest.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "../../accel/kvm-internal.h"
#include "../lib/test-stream.h"
#include "accel/kvm.h"
#include "hw/i386/pc-legacy.h"
#include "hw/i386/pc-power.h"
#include "hw/i386/pc.h"
#include "hw/i386/x86-tables.h"
#include "hw/memory.h"
#include "main-loop.h"
#include "migration/mig-file.h"
#include "migration/ram.h"
#include "migration/savevm.h"
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
    0xb0, 0x42,                              /* mov $0x42, %al */
    0xe6, TEST_PORT,                         /* out %al, $0x10 */
    0xff, 0x05,      0x00, 0x20, 0x00, 0x00, /* incl 0x2000 */
    0xeb, 0xf8,                              /* jmp back to incl */
};

static void start_vm(void)
{
    bql_lock();
    vm_start();
    bql_unlock();
}

static void stop_vm(void)
{
    bql_lock();
    vm_stop(RUN_STATE_PAUSED);
    bql_unlock();
}

/* Start the fixture's guest; false (test skipped) when this host's KVM cannot run it. */
static bool guest_started(Fixture *f)
{
    start_vm();
    if (!wait_for(&f->port.writes, 1, 5000)) {
        fixture_down(f);
        g_test_skip("this host's KVM does not run a flat 32-bit guest (PVM?)");
        return false;
    }
    return true;
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
    if (!fixture_up(&f, 2, count_loop, sizeof(count_loop)) || !guest_started(&f)) {
        return;
    }
    g_usleep(20000);
    g_assert_cmpuint(guest_counter(), >, 0);

    stop_vm();
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

static uint64_t msr_get(uint32_t index);

/* Whether moving vCPU 0's TSC offset moves the TSC it reads (PVM ignores the offset). */
static bool tsc_offset_honoured(void)
{
    KvmVcpu *v = &kvm_state_get()->vcpus[0];
    uint64_t before = msr_get(0x10);
    if (!kvm_vcpu_tsc_offset_sub(v, -(1LL << 40))) {
        return false;
    }
    uint64_t after = msr_get(0x10);
    kvm_vcpu_tsc_offset_sub(v, 1LL << 40);
    return after - before > 1ULL << 39;
}

/* While stopped, the TSC stands still with kvm-clock, and across the stop the two agree
 * to well within the 0.2 ms Linux's clocksource watchdog tolerates. */
static void test_stop_cont_tsc(void)
{
    Fixture f = {0};
    if (!fixture_up(&f, 1, count_loop, sizeof(count_loop)) || !guest_started(&f)) {
        return;
    }
    KvmState *s = kvm_state_get();
    stop_vm();
    uint64_t k0 = s->clock.clock, t0 = s->vcpus[0].tsc;
    g_usleep(300000);
    start_vm();
    g_usleep(50000);
    stop_vm();
    uint64_t k1 = s->clock.clock, t1 = s->vcpus[0].tsc;
    int khz = ioctl(s->vcpus[0].fd, KVM_GET_TSC_KHZ, 0);
    bool honoured = tsc_offset_honoured();
    fixture_down(&f);
    if (khz <= 0 || !honoured) {
        g_test_skip("this host's KVM does not apply TSC offsets (PVM?)");
        return;
    }
    int64_t tsc_ns = (int64_t)((t1 - t0) * 1000000 / (uint64_t)khz);
    int64_t clock_ns = (int64_t)(k1 - k0);
    g_test_message("across the stop: TSC +%" G_GINT64_FORMAT " ns, kvm-clock +%" G_GINT64_FORMAT
                   " ns",
                   tsc_ns, clock_ns);
    g_assert_cmpint(clock_ns, <, 200 * 1000000); /* ~50 ms ran, not 350 */
    g_assert_cmpint(ABS(tsc_ns - clock_ns), <, 150000);
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
        0x66,
        0xba,
        ACPI_PM1A_CNT & 0xff,
        ACPI_PM1A_CNT >> 8, /* mov $PM1A_CNT, %dx */
        0x66,
        0xb8,
        v & 0xff,
        v >> 8, /* mov $v, %ax */
        0x66,
        0xef, /* out %ax, %dx */
        0xeb,
        0xfe, /* jmp . */
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
        0x66,
        0xba,
        ACPI_RESET_REG & 0xff,
        ACPI_RESET_REG >> 8, /* mov $RESET, %dx */
        0xb0,
        ACPI_RESET_VALUE, /* mov $6, %al */
        0xee,             /* out %al, %dx */
        0xeb,
        0xfe,
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

/* --- migration --------------------------------------------------------------------- */

/* A device-state stream of the stopped VM (tests/lib/test-stream.h). */
static GByteArray *save_devices(void)
{
    bql_lock();
    GByteArray *out = test_stream_save_devices();
    bql_unlock();
    return out;
}

/* The destination: a new VM (new vCPUs in their reset state) over the same RAM. */
static void vm_recreate(Fixture *f, unsigned smp)
{
    g_autoptr(GError) err = NULL;
    bql_lock();
    kvm_accel_destroy();
    bql_unlock();
    f->cfg->smp = smp;
    g_assert_true(kvm_accel_init(f->cfg, &err));
}

static KvmVcpu *vcpu0(void)
{
    return &kvm_state_get()->vcpus[0];
}

static uint64_t msr_get(uint32_t index)
{
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[1];
    } b = {.hdr.nmsrs = 1, .e = {{.index = index}}};
    g_assert_cmpint(kvm_vcpu_ioctl(vcpu0(), KVM_GET_MSRS, &b), ==, 1);
    return b.e[0].data;
}

static void msr_set(uint32_t index, uint64_t value)
{
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[1];
    } b = {.hdr.nmsrs = 1, .e = {{.index = index, .data = value}}};
    g_assert_cmpint(kvm_vcpu_ioctl(vcpu0(), KVM_SET_MSRS, &b), ==, 1);
}

static const struct {
    uint32_t index;
    uint64_t value;
} test_msrs[] = {
    {0x174, 0x10},                    /* SYSENTER_CS */
    {0xc0000081, 0x0023001000000000}, /* STAR */
    {0xc0000082, 0xffffffff81a00000}, /* LSTAR */
    {0xc0000102, 0xffff888000123000}, /* KERNEL_GS_BASE */
    {0x277, 0x0007010600070106},      /* PAT */
};

static void test_migrate_round_trip(void)
{
    Fixture f = {0};
    g_autoptr(GError) err = NULL;
    if (!fixture_up(&f, 1, count_loop, sizeof(count_loop)) || !guest_started(&f)) {
        return;
    }
    g_usleep(20000);
    stop_vm();
    uint32_t c0 = guest_counter();
    uint64_t k0 = kvm_state_get()->clock.clock, t0 = vcpu0()->tsc;
    for (size_t i = 0; i < G_N_ELEMENTS(test_msrs); i++) {
        msr_set(test_msrs[i].index, test_msrs[i].value);
    }
    g_autoptr(GByteArray) stream = save_devices();

    vm_recreate(&f, 1);
    g_assert_cmpuint(msr_get(0xc0000082), ==, 0); /* really a fresh vCPU */
    g_assert_true(test_stream_load(stream, &err));
    g_assert_no_error(err);
    for (size_t i = 0; i < G_N_ELEMENTS(test_msrs); i++) {
        g_assert_cmphex(msr_get(test_msrs[i].index), ==, test_msrs[i].value);
    }
    struct kvm_regs regs;
    g_assert_cmpint(kvm_vcpu_ioctl(vcpu0(), KVM_GET_REGS, &regs), ==, 0);
    g_assert_cmphex(regs.rip, >=, CODE + 4); /* in the counting loop */
    g_assert_cmphex(regs.rip, <, CODE + sizeof(count_loop));
    g_usleep(20000);
    g_assert_cmpuint(guest_counter(), ==, c0); /* loaded, not running until started */

    start_vm();
    g_usleep(50000);
    stop_vm();
    g_assert_cmpuint(guest_counter(), >, c0); /* it runs on where it stopped... */
    g_assert_cmpint(g_atomic_int_get(&f.port.writes), ==, 1); /* ...not from the start */
    /* Both clocks went on from the source's values, by the same ~50 ms. */
    uint64_t k1 = kvm_state_get()->clock.clock, t1 = vcpu0()->tsc;
    int khz = ioctl(vcpu0()->fd, KVM_GET_TSC_KHZ, 0);
    g_assert_cmpuint(k1 - k0, <, 1000000000);
    if (khz > 0 && tsc_offset_honoured()) {
        int64_t tsc_ns = (int64_t)((t1 - t0) * 1000000 / (uint64_t)khz);
        g_assert_cmpint(ABS(tsc_ns - (int64_t)(k1 - k0)), <, 150000);
    }
    fixture_down(&f);
}

/* The stream of a guest with `smp` vCPUs that ran and stopped; the VM is then a fresh
 * one with `smp_here` vCPUs. NULL (test skipped) when the guest cannot run here. */
static GByteArray *saved_then_recreated(Fixture *f, unsigned smp, unsigned smp_here)
{
    if (!fixture_up(f, smp, count_loop, sizeof(count_loop)) || !guest_started(f)) {
        return NULL;
    }
    stop_vm();
    GByteArray *stream = save_devices();
    vm_recreate(f, smp_here);
    return stream;
}

static void test_migrate_vcpu_count(void)
{
    Fixture f = {0};
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) stream = saved_then_recreated(&f, 2, 1);
    if (!stream) {
        return;
    }
    g_assert_false(test_stream_load(stream, &err));
    g_assert_nonnull(strstr(err->message, "section 'kvm' (instance 0)"));
    g_assert_nonnull(strstr(err->message, "field 'ncpus'"));
    g_assert_nonnull(strstr(err->message, "the stream has 2, this side 1"));
    fixture_down(&f);
}

static void test_migrate_cpuid(void)
{
    Fixture f = {0};
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) stream = saved_then_recreated(&f, 1, 1);
    if (!stream) {
        return;
    }
    /* A destination whose KVM lacks a feature the guest saw: the hypervisor bit. */
    struct kvm_cpuid2 *c = vcpu0()->cpuid;
    for (unsigned i = 0; i < c->nent; i++) {
        if (c->entries[i].function == 1) {
            c->entries[i].ecx &= ~(1u << 31);
        }
    }
    g_assert_false(test_stream_load(stream, &err));
    g_assert_nonnull(strstr(err->message, "section 'cpu' (instance 0)"));
    g_assert_nonnull(strstr(err->message, "field 'cpuid'"));
    g_assert_nonnull(strstr(err->message, "leaf 0x1.0 ECX"));
    g_assert_nonnull(strstr(err->message, "0x80000000"));
    fixture_down(&f);
}

/* Pages dirty after a pass (and so sent again in the next one). */
static uint64_t dirty_after_pass(RamSave *rs)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GByteArray) sink = g_byte_array_new();
    MigFile *mf = mig_file_new_buffer(sink);
    g_assert_true(ram_save_pass(rs, mf));
    mig_file_close(mf);
    g_usleep(20000);
    bql_lock();
    uint64_t n = ram_save_sync(rs, &err);
    bql_unlock();
    g_assert_no_error(err);
    return n;
}

static void test_migrate_dirty_log(void)
{
    Fixture f = {0};
    g_autoptr(GError) err = NULL;
    if (!fixture_up(&f, 1, count_loop, sizeof(count_loop)) || !guest_started(&f)) {
        return;
    }
    g_assert_true(ram_dirty_log_tracks_vcpus());
    bql_lock();
    RamSave *rs = ram_save_setup(&err);
    bql_unlock();
    g_assert_no_error(err);
    g_assert_true(kvm_state_get()->dirty_logging);
    /* The guest writes one page (its counter), and KVM nothing else it logs. */
    uint64_t n = dirty_after_pass(rs);
    g_assert_cmpuint(n, >=, 1);
    g_assert_cmpuint(n, <=, 4);
    stop_vm();
    dirty_after_pass(rs);
    g_assert_cmpuint(dirty_after_pass(rs), ==, 0); /* stopped: nothing more */
    /* Handed over: the log stays on; the next migration reuses it, cleared. */
    bql_lock();
    ram_save_cleanup(rs, true);
    bql_unlock();
    g_assert_true(kvm_state_get()->dirty_logging);
    bql_lock();
    rs = ram_save_setup(&err);
    bql_unlock();
    g_assert_no_error(err);
    dirty_after_pass(rs);
    g_assert_cmpuint(dirty_after_pass(rs), ==, 0);
    bql_lock();
    ram_save_cleanup(rs, true);
    bql_unlock();
    /* The VM runs here again (`cont` in postmigrate): off before the vCPUs run. */
    start_vm();
    g_assert_false(kvm_state_get()->dirty_logging);
    g_assert_false(ram_dirty_log_is_on());
    fixture_down(&f);
}

/* in al, 0x11; incl COUNTER; jmp back: every IN is one read of the port. */
#define READ_PORT 0x11
static const uint8_t read_loop[] = {
    0xe4, READ_PORT,                         /* in $0x11, %al */
    0xff, 0x05,      0x00, 0x20, 0x00, 0x00, /* incl 0x2000 */
    0xeb, 0xf6,                              /* jmp back to in */
};

typedef struct {
    MemoryRegion io;
    gint reads; /* atomic */
} ReadPort;

static uint64_t read_port_read(void *opaque, uint64_t offset, unsigned size)
{
    ReadPort *p = opaque;
    return g_atomic_int_add(&p->reads, 1) & 0xff;
}

static const MemoryRegionOps read_port_ops = {.read = read_port_read};

static void test_migrate_io_completed(void)
{
    Fixture f = {0};
    ReadPort rp = {0};
    const uint8_t code[] = {0xb0, 0x42, 0xe6, TEST_PORT}; /* out to the test port first */
    uint8_t prog[sizeof(code) + sizeof(read_loop)];
    memcpy(prog, code, sizeof(code));
    memcpy(prog + sizeof(code), read_loop, sizeof(read_loop));
    if (!fixture_up(&f, 1, prog, sizeof(prog))) {
        return;
    }
    memory_region_init(&rp.io, ADDR_SPACE_IO, "read-port", 1, &read_port_ops, &rp);
    memory_region_map(&rp.io, READ_PORT);
    if (!guest_started(&f)) {
        memory_region_unmap(&rp.io);
        return;
    }
    const uint64_t in_at = CODE + sizeof(code), incl_at = in_at + 2, jmp_at = incl_at + 6;
    for (int i = 0; i < 12; i++) {
        g_usleep(3000);
        stop_vm();
        /* At the IN: not executed (as many reads as increments); past it: one more
         * read than increments. Never at the IN with the read already done. */
        struct kvm_regs regs;
        g_assert_cmpint(kvm_vcpu_ioctl(vcpu0(), KVM_GET_REGS, &regs), ==, 0);
        int64_t ahead = (int64_t)g_atomic_int_get(&rp.reads) - guest_counter();
        g_assert_true(regs.rip == in_at || regs.rip == incl_at || regs.rip == jmp_at);
        g_assert_cmpint(ahead, ==, regs.rip == incl_at ? 1 : 0);
        if (i % 2) {
            g_autoptr(GError) err = NULL;
            g_autoptr(GByteArray) stream = save_devices();
            vm_recreate(&f, 1);
            g_assert_true(test_stream_load(stream, &err));
            g_assert_no_error(err);
        }
        start_vm();
    }
    memory_region_unmap(&rp.io);
    fixture_down(&f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/kvm/io-exit", test_io_exit);
    g_test_add_func("/kvm/stop-cont", test_stop_cont);
    g_test_add_func("/kvm/stop-cont/tsc", test_stop_cont_tsc);
    g_test_add_func("/kvm/acpi-poweroff", test_acpi_poweroff);
    g_test_add_func("/kvm/acpi-poweroff/subprocess", test_acpi_poweroff_child);
    g_test_add_func("/kvm/acpi-reset", test_acpi_reset);
    g_test_add_func("/kvm/acpi-reset/subprocess", test_acpi_reset_child);
    g_test_add_func("/kvm/triple-fault", test_triple_fault);
    g_test_add_func("/kvm/triple-fault/subprocess", test_triple_fault_child);
    g_test_add_func("/kvm/migrate/round-trip", test_migrate_round_trip);
    g_test_add_func("/kvm/migrate/vcpu-count", test_migrate_vcpu_count);
    g_test_add_func("/kvm/migrate/cpuid", test_migrate_cpuid);
    g_test_add_func("/kvm/migrate/dirty-log", test_migrate_dirty_log);
    g_test_add_func("/kvm/migrate/io-completed", test_migrate_io_completed);
    g_autoptr(GError) err = NULL;
    main_loop_init();
    if (!qapi_schema_load(&err)) {
        g_error("%s", err->message);
    }
    return g_test_run();
}
