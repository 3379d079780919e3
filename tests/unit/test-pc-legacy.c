/*
 * test-pc-legacy.c: the legacy PC devices through the I/O address space, as a guest
 * sees them: the 16550A (what Linux's 8250 probe checks, the THRE interrupt rules,
 * loopback, the interrupt line), its chardev (file output; unix server input paced by
 * the receive FIFO), the CMOS/RTC (never "update in progress", BCD time of day), the
 * ACPI PM registers (SCI_EN, the PM timer's rate) and the i8042 reset line.
 */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "hw/char/serial.h"
#include "hw/irq.h"
#include "hw/i386/pc-legacy.h"
#include "hw/i386/pc.h"
#include "hw/i386/x86-tables.h"
#include "hw/memory.h"
#include "main-loop.h"
#include "monitor/qmp.h"

#define COM1 SERIAL_COM1_BASE
enum { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

/* The interrupt controller as the devices drive it. */
static int irq_levels[24];

static void rec_set_irq(int gsi, bool level)
{
    irq_levels[gsi] = level;
}

static void rec_send_msi(uint64_t addr, uint32_t data)
{
}

static const AccelOps rec_ops = {
    .name = "rec", .set_irq = rec_set_irq, .send_msi = rec_send_msi};

static uint8_t in8(uint16_t port)
{
    return address_space_read(ADDR_SPACE_IO, port, 1);
}

static void out8(uint16_t port, uint8_t v)
{
    address_space_write(ADDR_SPACE_IO, port, v, 1);
}

static void test_uart_probe_and_irq(void)
{
    SerialState *s = serial_init(COM1, 4, NULL);
    g_assert_cmphex(in8(COM1 + LSR), ==, 0x60); /* THR and transmitter empty */
    g_assert_cmphex(in8(COM1 + IIR), ==, 0x01); /* no interrupt */
    g_assert_cmphex(in8(COM1 + MSR) & 0xb0, ==, 0xb0);

    /* Scratch and divisor latch keep what is written. */
    out8(COM1 + SCR, 0xa5);
    g_assert_cmphex(in8(COM1 + SCR), ==, 0xa5);
    out8(COM1 + LCR, 0x80);
    out8(COM1 + RBR, 0x01);
    out8(COM1 + IER, 0x00);
    g_assert_cmphex(in8(COM1 + RBR), ==, 0x01);
    out8(COM1 + LCR, 0x03);

    /* FIFO enabled shows in IIR's top bits (a 16550A, not a 16450). */
    out8(COM1 + FCR, 0x07);
    g_assert_cmphex(in8(COM1 + IIR), ==, 0xc1);
    /* IER's undefined bits stay clear (else Linux would take it for an XScale). */
    out8(COM1 + IER, 0x40);
    g_assert_cmphex(in8(COM1 + IER), ==, 0x00);

    /* Enabling THRI with THR empty raises THRE; reading IIR clears it; toggling
     * IER.THRI raises it again (Linux's UART_BUG_THRE probe). */
    out8(COM1 + IER, 0x02);
    g_assert_true(irq_levels[4]);
    g_assert_cmphex(in8(COM1 + IIR), ==, 0xc2);
    g_assert_false(irq_levels[4]);
    g_assert_cmphex(in8(COM1 + IIR), ==, 0xc1);
    out8(COM1 + IER, 0x00);
    out8(COM1 + IER, 0x02);
    g_assert_cmphex(in8(COM1 + IIR), ==, 0xc2);
    /* A transmitted byte empties THR at once: THRE again. */
    out8(COM1 + RBR, 'x');
    g_assert_true(irq_levels[4]);
    g_assert_cmphex(in8(COM1 + IIR), ==, 0xc2);
    out8(COM1 + IER, 0x00);
    g_assert_false(irq_levels[4]);

    /* Loopback: modem outputs appear as inputs, THR comes back in RBR. */
    out8(COM1 + MCR, 0x10 | 0x0a);
    g_assert_cmphex(in8(COM1 + MSR) & 0xf0, ==, 0x90);
    out8(COM1 + IER, 0x01);
    out8(COM1 + RBR, 'y');
    g_assert_cmphex(in8(COM1 + LSR) & 0x01, ==, 0x01);
    g_assert_true(irq_levels[4]);
    g_assert_cmphex(in8(COM1 + IIR), ==, 0xc4);
    g_assert_cmpuint(in8(COM1 + RBR), ==, 'y');
    g_assert_cmphex(in8(COM1 + LSR) & 0x01, ==, 0);
    g_assert_false(irq_levels[4]);
    serial_free(s);
}

static void test_uart_file_output(void)
{
    g_autofree char *path = g_strdup_printf("%s/tern-serial-%d", g_get_tmp_dir(), getpid());
    g_autofree char *spec = g_strdup_printf("file:%s", path);
    g_autoptr(GError) err = NULL;
    Chardev *chr = chardev_open("-serial", spec, &err);
    g_assert_no_error(err);
    SerialState *s = serial_init(COM1, 4, chr);
    for (const char *p = "hello\r\n"; *p; p++) {
        out8(COM1 + RBR, *p);
    }
    serial_free(s);
    g_autofree char *got = NULL;
    g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
    g_assert_cmpstr(got, ==, "hello\r\n");
    unlink(path);

    g_assert_null(chardev_open("-serial", "pty", &err));
    g_assert_nonnull(strstr(err->message, "unsupported backend"));
}

/* A client writes 40 bytes to a unix server: the UART takes 16 (its FIFO), the rest
 * waits in the socket until the guest reads. */
static void test_uart_unix_server_paced(void)
{
    g_autofree char *path =
        g_strdup_printf("%s/tern-serial-%d.sock", g_get_tmp_dir(), getpid());
    g_autofree char *spec = g_strdup_printf("unix:%s,server=on,wait=off", path);
    g_autoptr(GError) err = NULL;
    Chardev *chr = chardev_open("-serial", spec, &err);
    g_assert_no_error(err);
    SerialState *s = serial_init(COM1, 4, chr);
    out8(COM1 + FCR, 0x07);

    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    g_assert_cmpint(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    char msg[41];
    for (int i = 0; i < 40; i++) {
        msg[i] = 'a' + i % 26;
    }
    g_assert_cmpint(write(fd, msg, 40), ==, 40);

    GString *got = g_string_new(NULL);
    for (int round = 0; round < 2000 && got->len < 40; round++) {
        bql_lock();
        main_loop_iterate(false);
        bql_unlock();
        unsigned avail = 0;
        while (in8(COM1 + LSR) & 0x01) {
            g_string_append_c(got, in8(COM1 + RBR));
            avail++;
        }
        g_assert_cmpuint(avail, <=, 16); /* never more than the FIFO holds */
        g_usleep(1000);
    }
    g_assert_cmpuint(got->len, ==, 40);
    g_assert_cmpmem(got->str, 40, msg, 40);
    /* And the guest's output goes back to the client. */
    out8(COM1 + RBR, '!');
    char c = 0;
    g_assert_cmpint(read(fd, &c, 1), ==, 1);
    g_assert_cmpint(c, ==, '!');
    close(fd);
    g_string_free(got, TRUE);
    serial_free(s);
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS)); /* removed at close */
}

static uint8_t cmos(uint8_t index)
{
    out8(0x70, index);
    return in8(0x71);
}

static int bcd(uint8_t v)
{
    return (v >> 4) * 10 + (v & 0xf);
}

static void test_cmos(void)
{
    Cmos *c = cmos_init(256 << 20, 0);
    for (int i = 0; i < 1000; i++) {
        g_assert_cmphex(cmos(0x0a) & 0x80, ==, 0); /* never "update in progress" */
    }
    g_assert_cmphex(cmos(0x0b), ==, 0x02); /* 24 h, BCD */
    g_assert_cmphex(cmos(0x0d), ==, 0x80); /* valid */
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int hour = bcd(cmos(0x04)), min = bcd(cmos(0x02));
    g_assert_cmpint(bcd(cmos(0x09)), ==, tm.tm_year % 100);
    g_assert_cmpint(bcd(cmos(CMOS_CENTURY_INDEX)), ==, 19 + tm.tm_year / 100);
    g_assert_cmpint(hour * 60 + min, <=, tm.tm_hour * 60 + tm.tm_min + 1);
    /* The guest sets the hour: the clock keeps running from there. */
    out8(0x70, 0x04);
    out8(0x71, 0x05);
    g_assert_cmpint(bcd(cmos(0x04)), ==, 5);
    /* CMOS RAM outside the clock keeps what is written. */
    out8(0x70, 0x40);
    out8(0x71, 0x77);
    g_assert_cmphex(cmos(0x40), ==, 0x77);
    cmos_free(c);
}

static void test_acpi_pm(void)
{
    AcpiPm *pm = acpi_pm_init();
    g_assert_cmphex(address_space_read(ADDR_SPACE_IO, ACPI_PM1A_CNT, 2) & 1, ==, 1);
    clock_virtual_set_manual(true);
    uint32_t t0 = address_space_read(ADDR_SPACE_IO, ACPI_PM_TMR, 4);
    clock_virtual_step(NS_PER_SEC);
    uint32_t t1 = address_space_read(ADDR_SPACE_IO, ACPI_PM_TMR, 4);
    g_assert_cmpuint(t1 - t0, >=, 3579544);
    g_assert_cmpuint(t1 - t0, <=, 3579546);
    clock_virtual_set_manual(false);
    /* Sleep types other than \_S5 do nothing (the process is still here). */
    address_space_write(ADDR_SPACE_IO, ACPI_PM1A_CNT, (1 << 10) | (1 << 13), 2);
    g_assert_cmphex(address_space_read(ADDR_SPACE_IO, ACPI_PM1A_CNT, 2) & (1 << 13), ==, 0);
    acpi_pm_free(pm);
}

static void on_shutdown(const char *name, JsonObject *data, void *opaque)
{
    if (strcmp(name, "SHUTDOWN") == 0) {
        *(char **)opaque = g_strdup(json_object_get_string_member(data, "reason"));
    }
}

/* i8042: no controller to find (status 0xff), but pulsing its reset line resets. */
static void test_i8042_reset_child(void)
{
    g_autoptr(GError) err = NULL;
    TernConfig *c = config_new();
    c->no_reboot = true;
    g_assert_true(pc_legacy_devices_init(c, &err));
    g_assert_cmphex(in8(0x64), ==, 0xff);
    char *reason = NULL;
    qmp_event_observer_add(on_shutdown, &reason);
    bql_lock();
    out8(0x64, 0xfe);
    g_assert_cmpint(main_loop_run(), ==, 0);
    bql_unlock();
    g_assert_cmpstr(reason, ==, "guest-reset");
    pc_legacy_devices_destroy();
    config_free(c);
    exit(0);
}

static void test_i8042_reset(void)
{
    g_test_trap_subprocess("/pc-legacy/i8042-reset/subprocess", 10 * G_USEC_PER_SEC,
                           G_TEST_SUBPROCESS_INHERIT_STDERR);
    g_test_trap_assert_passed();
}

int main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    if (!qapi_schema_load(&err)) {
        g_error("%s", err->message);
    }
    g_assert_true(guest_ram_init(256 << 20, PC_RAM_BELOW_4G_MAX, NULL));
    accel_set_ops(&rec_ops);
    g_test_add_func("/pc-legacy/uart-probe-irq", test_uart_probe_and_irq);
    g_test_add_func("/pc-legacy/uart-file", test_uart_file_output);
    g_test_add_func("/pc-legacy/uart-unix-paced", test_uart_unix_server_paced);
    g_test_add_func("/pc-legacy/cmos", test_cmos);
    g_test_add_func("/pc-legacy/acpi-pm", test_acpi_pm);
    g_test_add_func("/pc-legacy/i8042-reset", test_i8042_reset);
    g_test_add_func("/pc-legacy/i8042-reset/subprocess", test_i8042_reset_child);
    return g_test_run();
}
