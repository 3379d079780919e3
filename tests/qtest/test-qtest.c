/*
 * test-qtest.c: the qtest protocol itself, command by command, including the replies to
 * bad input, against a real tern under -accel qtest.
 */
#include <string.h>
#include <unistd.h>
#include "../lib/libqtest.h"

#define RAM_TEST 0x200000ULL
#define PCI_HOLE 0xe0000000ULL

/* The reply to a raw command line. */
static char *cmd(QTestState *s, const char *line)
{
    return qtest_command(s, "%s", line);
}

static void assert_reply(QTestState *s, const char *line, const char *expected)
{
    g_autofree char *r = cmd(s, line);
    g_assert_cmpstr(r, ==, expected);
}

static void assert_fail(QTestState *s, const char *line)
{
    g_autofree char *r = cmd(s, line);
    if (!g_str_has_prefix(r, "FAIL")) {
        g_error("'%s' answered '%s', expected FAIL", line, r);
    }
}

static void test_endianness(void)
{
    QTestState *s = qtest_init("-machine pc");
    assert_reply(s, "endianness", "OK little");
    qtest_quit(s);
}

static void test_sized_access(void)
{
    QTestState *s = qtest_init("");
    qtest_writeq(s, RAM_TEST, 0x1122334455667788ULL);
    g_assert_cmphex(qtest_readq(s, RAM_TEST), ==, 0x1122334455667788ULL);
    g_assert_cmphex(qtest_readl(s, RAM_TEST), ==, 0x55667788);
    g_assert_cmphex(qtest_readl(s, RAM_TEST + 4), ==, 0x11223344);
    g_assert_cmphex(qtest_readw(s, RAM_TEST + 2), ==, 0x5566);
    g_assert_cmphex(qtest_readb(s, RAM_TEST + 7), ==, 0x11);
    qtest_writeb(s, RAM_TEST, 0xaa);
    qtest_writew(s, RAM_TEST + 2, 0xbbcc);
    qtest_writel(s, RAM_TEST + 4, 0xdeadbeef);
    g_assert_cmphex(qtest_readq(s, RAM_TEST), ==, 0xdeadbeefbbcc77aaULL);
    /* Unaligned within RAM is plain memory. */
    qtest_writel(s, RAM_TEST + 0x11, 0x01020304);
    g_assert_cmphex(qtest_readl(s, RAM_TEST + 0x11), ==, 0x01020304);
    g_assert_cmphex(qtest_readb(s, RAM_TEST + 0x11), ==, 0x04);
    /* QEMU's reply formats, exactly. */
    assert_reply(s, "readb 0x200000", "OK 0x00000000000000aa");
    assert_reply(s, "readw 0x200002", "OK 0x000000000000bbcc");
    assert_reply(s, "inb 0x80", "OK 0x00ff");
    qtest_quit(s);
}

static void test_bulk_roundtrip(void)
{
    QTestState *s = qtest_init("");
    uint8_t out[4096 + 3], in[sizeof(out)];
    for (size_t i = 0; i < sizeof(out); i++) {
        out[i] = i * 7 + 3;
    }
    qtest_memwrite(s, RAM_TEST + 1, out, sizeof(out));
    qtest_memread(s, RAM_TEST + 1, in, sizeof(in));
    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));

    memset(in, 0, sizeof(in));
    qtest_bufread(s, RAM_TEST + 1, in, sizeof(in));
    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));

    for (size_t i = 0; i < sizeof(out); i++) {
        out[i] = ~out[i];
    }
    qtest_bufwrite(s, RAM_TEST + 1, out, sizeof(out));
    qtest_memread(s, RAM_TEST + 1, in, sizeof(in));
    g_assert_cmpmem(in, sizeof(in), out, sizeof(out));

    qtest_memset(s, RAM_TEST + 10, 0x5a, 100);
    qtest_memread(s, RAM_TEST, in, 120);
    g_assert_cmphex(in[9], ==, out[8]);
    for (int i = 10; i < 110; i++) {
        g_assert_cmphex(in[i], ==, 0x5a);
    }
    g_assert_cmphex(in[110], ==, out[109]);

    /* The wire format: "OK 0x" and two digits a byte; short write data is zero-padded. */
    assert_reply(s, "write 0x300000 4 0xa1b2", "OK");
    assert_reply(s, "read 0x300000 4", "OK 0xa1b20000");
    assert_reply(s, "b64write 0x300000 3 AQID", "OK");
    assert_reply(s, "b64read 0x300000 4", "OK AQIDAA==");
    assert_reply(s, "memset 0x300000 2 0xff", "OK");
    assert_reply(s, "memset 0x300000 0 0xff", "OK");
    assert_reply(s, "read 0x300000 3", "OK 0xffff03");
    qtest_quit(s);
}

static void test_unmapped_and_edges(void)
{
    QTestState *s = qtest_init("-m 128");
    /* The PCI hole and the space above RAM float high; writes vanish. */
    g_assert_cmphex(qtest_readl(s, PCI_HOLE), ==, 0xffffffff);
    qtest_writel(s, PCI_HOLE, 0);
    g_assert_cmphex(qtest_readl(s, PCI_HOLE), ==, 0xffffffff);
    g_assert_cmphex(qtest_readq(s, 0x100000000ULL), ==, UINT64_MAX);
    g_assert_cmphex(qtest_readq(s, UINT64_MAX - 3), ==, UINT64_MAX);
    qtest_writeq(s, UINT64_MAX - 3, 0);
    /* memset across the top of the address space stops there: nothing wraps to 0. */
    qtest_writel(s, 0, 0x600df00d);
    assert_reply(s, "memset 0xfffffffffffff000 0x2000 0xaa", "OK");
    g_assert_cmphex(qtest_readl(s, 0), ==, 0x600df00d);
    /* An access straddling the end of RAM: RAM bytes, then all ones. */
    uint64_t end = 128ULL << 20;
    qtest_writel(s, end - 2, 0x12345678);
    g_assert_cmphex(qtest_readl(s, end - 2), ==, 0xffff5678);
    uint8_t buf[4];
    qtest_memread(s, end - 1, buf, sizeof(buf));
    g_assert_cmphex(buf[1], ==, 0xff);
    /* Ports: nothing at 0x1234; the top port exists. */
    g_assert_cmphex(qtest_inl(s, 0x1234), ==, 0xffffffff);
    g_assert_cmphex(qtest_inw(s, 0xffff), ==, 0xffff);
    qtest_outl(s, 0xfffe, 0);
    qtest_quit(s);
}

static void test_ram_above_4g(void)
{
    QTestState *s = qtest_init("-m 4G");
    /* Low RAM stops at 0xE0000000; the remaining 512 MiB start at 4 GiB. */
    qtest_writel(s, PCI_HOLE - 4, 0xcafe0001);
    g_assert_cmphex(qtest_readl(s, PCI_HOLE - 4), ==, 0xcafe0001);
    g_assert_cmphex(qtest_readl(s, PCI_HOLE), ==, 0xffffffff);
    qtest_writeq(s, 0x100000000ULL, 0x0123456789abcdefULL);
    g_assert_cmphex(qtest_readq(s, 0x100000000ULL), ==, 0x0123456789abcdefULL);
    uint64_t top = 0x100000000ULL + (512ULL << 20);
    qtest_writel(s, top - 4, 0xcafe0002);
    g_assert_cmphex(qtest_readl(s, top - 4), ==, 0xcafe0002);
    g_assert_cmphex(qtest_readl(s, top), ==, 0xffffffff);
    qtest_quit(s);
}

static void test_clock(void)
{
    QTestState *s = qtest_init("");
    /* Manual: nothing moves by itself. */
    int64_t t0 = qtest_clock_step(s, 0);
    g_usleep(20000);
    g_assert_cmpint(qtest_clock_step(s, 0), ==, t0);
    g_assert_cmpint(qtest_clock_step(s, 1000), ==, t0 + 1000);
    g_assert_cmpint(qtest_clock_step(s, 999999), ==, t0 + 1000999);
    g_assert_cmpint(qtest_clock_set(s, t0 + 5000000), ==, t0 + 5000000);
    /* Never backwards. */
    g_assert_cmpint(qtest_clock_set(s, 10), ==, t0 + 5000000);
    /* No timer pending: stepping to the next deadline stays put. */
    g_assert_cmpint(qtest_clock_step_next(s), ==, t0 + 5000000);
    g_autofree char *expected = g_strdup_printf("OK %" G_GINT64_FORMAT, t0 + 5000016);
    assert_reply(s, "clock_step 0x10", expected);
    qtest_quit(s);
}

static void test_bad_input(void)
{
    QTestState *s = qtest_init("");
    static const char *const bad[] = {
        "frobnicate 1 2",
        "",
        "   ",
        "readb",
        "readb 1 2",
        "readb zz",
        "readb -1",
        "readl 0x",
        "writeb 0x1000",
        "writeb 0x1000 0x1 0x2",
        "writeq 0x1000 0x10000000000000000",
        "outb 0x10000 1",
        "outb 0x80",
        "inw 70000",
        "read 0x1000 0",
        "read 0x1000 0x7fffffffffffffff",
        "read 0x1000",
        "write 0x1000 2 1234",
        "write 0x1000 2 0x123456",
        "write 0x1000 2 0x12g4",
        "write 0x1000 2 0x123",
        "b64write 0x1000 2 !!!!",
        "b64write 0x1000 1 AQID",
        "memset 0x1000 4 0x100",
        "memset 0x1000 0x200000000 1",
        "clock_step -5",
        "clock_step 1 2",
        "clock_set",
        "clock_set abc",
        "endianness big",
        "irq_intercept_in",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        assert_fail(s, bad[i]);
    }
    /* Garbage bytes and a carriage return: one reply each, then business as usual. */
    assert_fail(s, "\x01\x02\xff\xfe garbage \x7f");
    assert_fail(s, "readb 0\x01");
    assert_reply(s, "endianness\r", "OK little");
    assert_reply(s, "  readb    0x0  ", "OK 0x0000000000000000");
    qtest_writel(s, RAM_TEST, 42);
    g_assert_cmpuint(qtest_readl(s, RAM_TEST), ==, 42);
    qtest_quit(s);
}

static void test_irq_intercept(void)
{
    QTestState *s = qtest_init("");
    qtest_irq_intercept_in(s, "ioapic");
    assert_reply(s, "irq_intercept_in ioapic", "OK");
    assert_fail(s, "irq_intercept_out /machine/somewhere-else");
    g_assert_false(qtest_get_irq(s, 16));
    qtest_quit(s);
}

static void test_machine_none(void)
{
    QTestState *s = qtest_init("-machine none -m 16");
    qtest_writel(s, 0x1000, 0x600dd00d);
    g_assert_cmphex(qtest_readl(s, 0x1000), ==, 0x600dd00d);
    /* No PCI host on this board. */
    qtest_outl(s, 0xcf8, 0x80000000);
    g_assert_cmphex(qtest_inl(s, 0xcfc), ==, 0xffffffff);
    g_assert_cmphex(qtest_readl(s, 16 << 20), ==, 0xffffffff);
    qtest_quit(s);
}

static void test_log(void)
{
    TernProc *dir = tern_proc_new(); /* only for a scratch directory */
    g_autofree char *log = tern_proc_path(dir, "qtest.log");
    g_autofree char *args = g_strdup_printf("-qtest-log %s", log);
    QTestState *s = qtest_init(args);
    qtest_writel(s, RAM_TEST, 7);
    qtest_quit(s);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(log, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "] writel 0x200000 0x7\n"));
    g_assert_nonnull(strstr(text, "[S +"));
    g_assert_nonnull(strstr(text, "CLOSED"));
    tern_proc_free(dir);
}

/* -qtest stdio: commands on stdin, replies on stdout; EOF on stdin ends tern. */
static void test_stdio(void)
{
    TernProc *p = tern_proc_new();
    const char *args[] = {"-machine", "pc", "-qtest", "stdio", "-display", "none", NULL};
    TernProcOptions opts = {.stdin_pipe = true};
    GError *err = NULL;
    g_assert_true(tern_proc_start(p, args, &opts, &err));
    /* A NUL byte inside a line must not cut it short or confuse the framing. */
    static const char script[] = "writel 0x1000 0xabcd\nreadl 0x1000\nbogus\nread\0b 0\n"
                                 "clock_step 7\n";
    g_assert_cmpint(write(tern_proc_stdin_fd(p), script, sizeof(script) - 1), ==,
                    sizeof(script) - 1);
    const char *expected = "OK\nOK 0x000000000000abcd\nFAIL Unknown command 'bogus'\n"
                           "FAIL NUL byte in command\nOK 7\n";
    g_autofree char *out = NULL;
    for (int i = 0; i < 3000; i++) {
        g_free(out);
        out = tern_proc_stdout(p);
        if (strlen(out) >= strlen(expected)) {
            break;
        }
        tern_proc_assert_alive(p);
        g_usleep(2000);
    }
    g_assert_cmpstr(out, ==, expected);
    close(tern_proc_stdin_fd(p));
    int code = -1;
    g_assert_true(tern_proc_wait(p, 10000, &code));
    g_assert_cmpint(code, ==, 0);
    tern_proc_free(p);
}

/* Random command lines (seeded: rerun with --seed) against a machine with a PCI device:
 * config-space pokes move BARs around while accesses hit them. Every line gets exactly
 * one OK or FAIL and tern stays up. */
static void test_random_lines(void)
{
    static const char *const cmds[] = {
        "outb",
        "outw",
        "outl",
        "inb",
        "inw",
        "inl",
        "readb",
        "readw",
        "readl",
        "readq",
        "writeb",
        "writew",
        "writel",
        "writeq",
        "read",
        "write",
        "b64read",
        "b64write",
        "memset",
        "clock_step",
        "clock_set",
        "endianness",
        "irq_intercept_in",
        "nonsense",
    };
    static const char *const numbers[] = {
        "0",
        "1",
        "2",
        "3",
        "4",
        "7",
        "0xcf8",
        "0xcf9",
        "0xcfc",
        "0xcfd",
        "0xc000",
        "0xfffe",
        "0xffff",
        "0x10000",
        "0xe0000000",
        "0xe0000ffe",
        "0xe0004000",
        "0xfec00000",
        "0xffffffff",
        "0x80000800",
        "0x80000810",
        "0x80000804",
        "0x100000000",
        "0xffffffffffffffff",
        "0xfffffffffffffffd",
        "0x7ffffff",
        "-1",
        "0x",
        "abc",
        "",
        "0xAQID",
        "AQID",
        "0x00ff",
        "010",
        "99999999999999999999999",
    };
    QTestState *s = qtest_init("-device pci-testdev,addr=1");
    for (int i = 0; i < 3000; i++) {
        GString *line = g_string_new(cmds[g_test_rand_int_range(0, G_N_ELEMENTS(cmds))]);
        int nargs = g_test_rand_int_range(0, 5);
        for (int a = 0; a < nargs; a++) {
            if (g_test_rand_int_range(0, 4) == 0) {
                g_string_append_printf(line, " 0x%x", g_test_rand_int());
            } else {
                g_string_append_printf(
                    line, " %s", numbers[g_test_rand_int_range(0, G_N_ELEMENTS(numbers))]);
            }
        }
        g_autofree char *r = qtest_command(s, "%s", line->str);
        if (!g_str_has_prefix(r, "OK") && !g_str_has_prefix(r, "FAIL")) {
            g_error("'%s' answered '%s'", line->str, r);
        }
        g_string_free(line, TRUE);
    }
    assert_reply(s, "endianness", "OK little");
    qtest_quit(s);
}

static void test_refused_options(void)
{
    g_autofree char *e1 = qtest_init_fail("-machine pc -device no-such-device");
    g_assert_nonnull(strstr(e1, "no-such-device"));
    g_autofree char *e2 = qtest_init_fail("-machine pc -kernel /nonexistent");
    g_assert_cmpstr(e2, !=, "");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qtest/endianness", test_endianness);
    g_test_add_func("/qtest/sized-access", test_sized_access);
    g_test_add_func("/qtest/bulk-roundtrip", test_bulk_roundtrip);
    g_test_add_func("/qtest/unmapped-and-edges", test_unmapped_and_edges);
    g_test_add_func("/qtest/ram-above-4g", test_ram_above_4g);
    g_test_add_func("/qtest/clock", test_clock);
    g_test_add_func("/qtest/bad-input", test_bad_input);
    g_test_add_func("/qtest/irq-intercept", test_irq_intercept);
    g_test_add_func("/qtest/machine-none", test_machine_none);
    g_test_add_func("/qtest/log", test_log);
    g_test_add_func("/qtest/stdio", test_stdio);
    g_test_add_func("/qtest/random-lines", test_random_lines);
    g_test_add_func("/qtest/refused-options", test_refused_options);
    return g_test_run();
}
