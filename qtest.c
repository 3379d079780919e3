/*
 * qtest.c: the qtest accelerator. There are no vCPUs: a test process is the CPU. It
 * sends QEMU's qtest line protocol over -qtest's channel (tern connects to the test's
 * unix socket, or uses stdio), one command per line, and gets one reply line each:
 * port and memory accesses, the virtual clock (manual: it moves only when told), and
 * interrupt lines reported as asynchronous "IRQ raise N" / "IRQ lower N" lines. An MSI
 * is a memory write the test reads back. docs/qtest.md describes the protocol.
 */
#include <errno.h>
#include <glib-unix.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "error.h"
#include "hw/irq.h"
#include "hw/memory.h"
#include "main-loop.h"
#include "qtest.h"
#include "sockaddr.h"

#define QTEST_MAX_GSI 256
/* Largest read/write/b64read/b64write transfer, and the line that can carry it. */
#define QTEST_MAX_XFER (16u << 20)
#define QTEST_MAX_LINE (2 * QTEST_MAX_XFER + 256)
/* memset goes through the address space in chunks, so it has its own bound. */
#define QTEST_MAX_MEMSET (1ULL << 32)

/* The one qtest session of this process. */
static struct {
    bool enabled;
    int in_fd, out_fd;
    GSource *source;
    GString *inbuf;
    bool skipping; /* dropping the rest of an over-long line */
    FILE *log;
    GTimer *timer;
    bool irq_level[QTEST_MAX_GSI];
    char *intercept; /* the path given to irq_intercept_*, NULL until then */
} qt = {.in_fd = -1, .out_fd = -1};

bool qtest_enabled(void)
{
    return qt.enabled;
}

static void qtest_log(char dir, const char *line, size_t len)
{
    if (qt.log) {
        fprintf(qt.log, "[%c +%.6f] %.*s\n", dir, g_timer_elapsed(qt.timer, NULL), (int)len,
                line);
        fflush(qt.log);
    }
}

/* Send one line (without its newline). A vanished peer is noticed by the reader. */
static void qtest_send(const char *line)
{
    size_t len = strlen(line);
    qtest_log('S', line, len);
    g_autofree char *buf = g_strdup_printf("%s\n", line);
    const char *p = buf;
    len++;
    while (len > 0 && qt.out_fd >= 0) {
        ssize_t n = write(qt.out_fd, p, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        p += n;
        len -= n;
    }
}

static void G_GNUC_PRINTF(1, 2) qtest_sendf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qtest_send(line);
}

/* AccelOps */

static void qtest_set_irq(int gsi, bool level)
{
    if (gsi < 0 || gsi >= QTEST_MAX_GSI || qt.irq_level[gsi] == level) {
        return;
    }
    qt.irq_level[gsi] = level;
    if (qt.intercept) {
        qtest_sendf("IRQ %s %d", level ? "raise" : "lower", gsi);
    }
}

/* No interrupt controller: the message lands in guest memory for the test to read. */
static void qtest_send_msi(uint64_t addr, uint32_t data)
{
    uint8_t le[4] = {data, data >> 8, data >> 16, data >> 24};
    if (!dma_write(addr, le, sizeof(le))) {
        g_warning("qtest: MSI to 0x%" PRIx64 " is outside guest RAM, dropped", addr);
    }
}

static const AccelOps qtest_ops = {
    .name = "qtest",
    .set_irq = qtest_set_irq,
    .send_msi = qtest_send_msi,
};

/* Argument parsing: QEMU's base-0 numbers (0x.., 0.., decimal), whole word only. */

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!g_ascii_isdigit(s[0])) {
        return false;
    }
    errno = 0;
    *out = g_ascii_strtoull(s, &end, 0);
    return errno == 0 && *end == '\0';
}

static bool parse_ns(const char *s, int64_t *out)
{
    uint64_t v;
    if (!parse_u64(s, &v) || v > INT64_MAX) {
        return false;
    }
    *out = v;
    return true;
}

static int hex_nibble(char c)
{
    return g_ascii_xdigit_value(c);
}

/* Commands. Each gets its words (argv[0] is the command) and sends exactly one reply. */

typedef struct {
    const char *name;
    int min_args, max_args; /* not counting the command */
    const char *usage;
    void (*fn)(char **argv, int argc);
} QTestCommand;

static unsigned access_width(const char *name)
{
    switch (name[strlen(name) - 1]) {
    case 'b':
        return 1;
    case 'w':
        return 2;
    case 'l':
        return 4;
    default:
        return 8;
    }
}

static void cmd_out(char **argv, int argc)
{
    uint64_t addr, val;
    if (!parse_u64(argv[1], &addr) || !parse_u64(argv[2], &val) || addr > 0xffff) {
        qtest_sendf("FAIL %s: bad port or value", argv[0]);
        return;
    }
    address_space_write(ADDR_SPACE_IO, addr, val, access_width(argv[0]));
    qtest_send("OK");
}

static void cmd_in(char **argv, int argc)
{
    uint64_t addr;
    if (!parse_u64(argv[1], &addr) || addr > 0xffff) {
        qtest_sendf("FAIL %s: bad port", argv[0]);
        return;
    }
    qtest_sendf("OK 0x%04" PRIx64,
                address_space_read(ADDR_SPACE_IO, addr, access_width(argv[0])));
}

static void cmd_write_n(char **argv, int argc)
{
    uint64_t addr, val;
    if (!parse_u64(argv[1], &addr) || !parse_u64(argv[2], &val)) {
        qtest_sendf("FAIL %s: bad address or value", argv[0]);
        return;
    }
    address_space_write(ADDR_SPACE_MEMORY, addr, val, access_width(argv[0]));
    qtest_send("OK");
}

static void cmd_read_n(char **argv, int argc)
{
    uint64_t addr;
    if (!parse_u64(argv[1], &addr)) {
        qtest_sendf("FAIL %s: bad address", argv[0]);
        return;
    }
    qtest_sendf("OK 0x%016" PRIx64,
                address_space_read(ADDR_SPACE_MEMORY, addr, access_width(argv[0])));
}

/* ADDR LEN with 1 <= LEN <= QTEST_MAX_XFER; sends the FAIL itself. */
static bool parse_xfer(char **argv, uint64_t *addr, uint64_t *len)
{
    if (!parse_u64(argv[1], addr) || !parse_u64(argv[2], len)) {
        qtest_sendf("FAIL %s: bad address or length", argv[0]);
        return false;
    }
    if (*len == 0 || *len > QTEST_MAX_XFER) {
        qtest_sendf("FAIL %s: length must be 1-%u", argv[0], QTEST_MAX_XFER);
        return false;
    }
    return true;
}

static void cmd_read(char **argv, int argc)
{
    uint64_t addr, len;
    if (!parse_xfer(argv, &addr, &len)) {
        return;
    }
    g_autofree uint8_t *data = g_malloc(len);
    address_space_rw(ADDR_SPACE_MEMORY, addr, data, len, false);
    GString *reply = g_string_sized_new(2 * len + 8);
    g_string_append(reply, "OK 0x");
    for (uint64_t i = 0; i < len; i++) {
        g_string_append_printf(reply, "%02x", data[i]);
    }
    qtest_send(reply->str);
    g_string_free(reply, TRUE);
}

static void cmd_write(char **argv, int argc)
{
    uint64_t addr, len;
    if (!parse_xfer(argv, &addr, &len)) {
        return;
    }
    const char *hex = argv[3];
    size_t digits = strlen(hex) - 2;
    if (!g_str_has_prefix(hex, "0x") || digits % 2 || digits / 2 > len) {
        qtest_send("FAIL write: data must be 0x and at most LEN pairs of hex digits");
        return;
    }
    /* Missing trailing bytes are zero, as QEMU pads them. */
    g_autofree uint8_t *data = g_malloc0(len);
    for (size_t i = 0; i < digits / 2; i++) {
        int hi = hex_nibble(hex[2 + 2 * i]), lo = hex_nibble(hex[3 + 2 * i]);
        if (hi < 0 || lo < 0) {
            qtest_send("FAIL write: invalid hex digit");
            return;
        }
        data[i] = hi << 4 | lo;
    }
    address_space_rw(ADDR_SPACE_MEMORY, addr, data, len, true);
    qtest_send("OK");
}

static void cmd_b64read(char **argv, int argc)
{
    uint64_t addr, len;
    if (!parse_xfer(argv, &addr, &len)) {
        return;
    }
    g_autofree uint8_t *data = g_malloc(len);
    address_space_rw(ADDR_SPACE_MEMORY, addr, data, len, false);
    g_autofree char *b64 = g_base64_encode(data, len);
    qtest_sendf("OK %s", b64);
}

static bool base64_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n % 4) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!g_ascii_isalnum(s[i]) && s[i] != '+' && s[i] != '/' &&
            !(s[i] == '=' && i >= n - 2)) {
            return false;
        }
    }
    return true;
}

static void cmd_b64write(char **argv, int argc)
{
    uint64_t addr, len;
    if (!parse_xfer(argv, &addr, &len)) {
        return;
    }
    if (!base64_valid(argv[3])) {
        qtest_send("FAIL b64write: data is not base64");
        return;
    }
    gsize out_len;
    g_autofree uint8_t *decoded = g_base64_decode(argv[3], &out_len);
    if (out_len > len) {
        qtest_send("FAIL b64write: data longer than LEN");
        return;
    }
    g_autofree uint8_t *data = g_malloc0(len);
    memcpy(data, decoded, out_len);
    address_space_rw(ADDR_SPACE_MEMORY, addr, data, len, true);
    qtest_send("OK");
}

static void cmd_memset(char **argv, int argc)
{
    uint64_t addr, len, byte;
    if (!parse_u64(argv[1], &addr) || !parse_u64(argv[2], &len) || !parse_u64(argv[3], &byte) ||
        byte > 0xff) {
        qtest_send("FAIL memset: expected ADDR LEN BYTE");
        return;
    }
    if (len > QTEST_MAX_MEMSET) {
        qtest_send("FAIL memset: length above 4 GiB");
        return;
    }
    if (addr && len > -addr) {
        len = -addr; /* up to the top of the address space; nothing lies past it */
    }
    uint8_t chunk[4096];
    memset(chunk, byte, sizeof(chunk));
    while (len > 0) {
        uint64_t n = MIN(len, sizeof(chunk));
        address_space_rw(ADDR_SPACE_MEMORY, addr, chunk, n, true);
        addr += n;
        len -= n;
    }
    qtest_send("OK");
}

static void cmd_clock_step(char **argv, int argc)
{
    int64_t ns = -1; /* to the next deadline */
    if (argc > 1 && !parse_ns(argv[1], &ns)) {
        qtest_send("FAIL clock_step: NS must be a non-negative number");
        return;
    }
    qtest_sendf("OK %" PRIi64, clock_virtual_step(ns));
}

static void cmd_clock_set(char **argv, int argc)
{
    int64_t ns;
    if (!parse_ns(argv[1], &ns)) {
        qtest_send("FAIL clock_set: NS must be a non-negative number");
        return;
    }
    qtest_sendf("OK %" PRIi64, clock_virtual_set(ns));
}

/* Any path names the interrupt controller's inputs (GSIs): there is only one. */
static void cmd_irq_intercept(char **argv, int argc)
{
    if (qt.intercept) {
        if (strcmp(qt.intercept, argv[1]) == 0) {
            qtest_send("OK");
        } else {
            qtest_send("FAIL IRQ intercept already enabled");
        }
        return;
    }
    qt.intercept = g_strdup(argv[1]);
    /* Tell the test about lines already high, so its picture starts right. */
    for (int gsi = 0; gsi < QTEST_MAX_GSI; gsi++) {
        if (qt.irq_level[gsi]) {
            qtest_sendf("IRQ raise %d", gsi);
        }
    }
    qtest_send("OK");
}

static void cmd_endianness(char **argv, int argc)
{
    qtest_send("OK little");
}

static const QTestCommand qtest_commands[] = {
    {"outb", 2, 2, "PORT VALUE", cmd_out},
    {"outw", 2, 2, "PORT VALUE", cmd_out},
    {"outl", 2, 2, "PORT VALUE", cmd_out},
    {"inb", 1, 1, "PORT", cmd_in},
    {"inw", 1, 1, "PORT", cmd_in},
    {"inl", 1, 1, "PORT", cmd_in},
    {"writeb", 2, 2, "ADDR VALUE", cmd_write_n},
    {"writew", 2, 2, "ADDR VALUE", cmd_write_n},
    {"writel", 2, 2, "ADDR VALUE", cmd_write_n},
    {"writeq", 2, 2, "ADDR VALUE", cmd_write_n},
    {"readb", 1, 1, "ADDR", cmd_read_n},
    {"readw", 1, 1, "ADDR", cmd_read_n},
    {"readl", 1, 1, "ADDR", cmd_read_n},
    {"readq", 1, 1, "ADDR", cmd_read_n},
    {"read", 2, 2, "ADDR LEN", cmd_read},
    {"write", 3, 3, "ADDR LEN 0xDATA", cmd_write},
    {"b64read", 2, 2, "ADDR LEN", cmd_b64read},
    {"b64write", 3, 3, "ADDR LEN BASE64", cmd_b64write},
    {"memset", 3, 3, "ADDR LEN BYTE", cmd_memset},
    {"clock_step", 0, 1, "[NS]", cmd_clock_step},
    {"clock_set", 1, 1, "NS", cmd_clock_set},
    {"irq_intercept_in", 1, 1, "QOM-PATH", cmd_irq_intercept},
    {"irq_intercept_out", 1, 1, "QOM-PATH", cmd_irq_intercept},
    {"endianness", 0, 0, "", cmd_endianness},
};

static void qtest_process_line(char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r') {
        line[--len] = '\0';
    }
    qtest_log('R', line, len);
    if (memchr(line, '\0', len)) {
        qtest_send("FAIL NUL byte in command");
        return;
    }
    g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
    /* Collapse runs of blanks: keep the non-empty words. */
    int argc = 0;
    for (int i = 0; words[i]; i++) {
        if (words[i][0]) {
            char *w = words[i];
            words[i] = NULL;
            words[argc++] = w;
        } else {
            g_free(words[i]);
            words[i] = NULL;
        }
    }
    if (argc == 0) {
        qtest_send("FAIL empty command");
        return;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(qtest_commands); i++) {
        const QTestCommand *cmd = &qtest_commands[i];
        if (strcmp(words[0], cmd->name) != 0) {
            continue;
        }
        if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
            qtest_sendf("FAIL usage: %s %s", cmd->name, cmd->usage);
            return;
        }
        cmd->fn(words, argc);
        return;
    }
    g_autofree char *shown = g_strescape(words[0], NULL);
    qtest_sendf("FAIL Unknown command '%.64s'", shown);
}

/* Run every complete line in the input buffer, in order. */
static void qtest_process_input(void)
{
    size_t start = 0;
    for (;;) {
        char *nl = memchr(qt.inbuf->str + start, '\n', qt.inbuf->len - start);
        if (!nl) {
            break;
        }
        size_t len = nl - (qt.inbuf->str + start);
        *nl = '\0';
        if (qt.skipping) {
            qt.skipping = false;
        } else {
            qtest_process_line(qt.inbuf->str + start, len);
        }
        start += len + 1;
    }
    g_string_erase(qt.inbuf, 0, start);
    if (qt.inbuf->len > QTEST_MAX_LINE) {
        qtest_send("FAIL line too long");
        g_string_truncate(qt.inbuf, 0);
        qt.skipping = true;
    }
}

static void qtest_closed(void)
{
    if (qt.log) {
        fprintf(qt.log, "[I +%.6f] CLOSED\n", g_timer_elapsed(qt.timer, NULL));
        fflush(qt.log);
    }
    qt.source = NULL;
    /* As QEMU: the test is gone, so is the VM. */
    main_loop_quit(0);
}

static gboolean qtest_readable(gint fd, GIOCondition cond, gpointer data)
{
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    if (n <= 0) {
        qtest_closed();
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(qt.inbuf, buf, n);
    qtest_process_input();
    return G_SOURCE_CONTINUE;
}

static int qtest_connect_unix(const char *path, GError **errp)
{
    SockAddr addr;
    GError *err = NULL;
    int fd = -1;
    if (sockaddr_parse_unix(path, &addr, &err)) {
        fd = sockaddr_connect(&addr, &err);
    }
    if (fd < 0) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-qtest unix:%s: %s (the test must listen there first)", path,
                    err->message);
        g_error_free(err);
    }
    sockaddr_clear(&addr);
    return fd;
}

bool qtest_accel_init(TernConfig *c, GError **errp)
{
    g_return_val_if_fail(!qt.enabled, false);
    const char *spec = c->qtest;
    if (!spec) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-accel qtest: needs -qtest unix:PATH or -qtest stdio");
        return false;
    }
    if (strcmp(spec, "stdio") == 0) {
        qt.in_fd = STDIN_FILENO;
        qt.out_fd = STDOUT_FILENO;
    } else if (g_str_has_prefix(spec, "unix:")) {
        qt.in_fd = qt.out_fd = qtest_connect_unix(spec + 5, errp);
        if (qt.in_fd < 0) {
            return false;
        }
    } else {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-qtest %s: unsupported channel (use unix:PATH or stdio)", spec);
        return false;
    }
    if (c->qtest_log && strcmp(c->qtest_log, "none") != 0) {
        qt.log = fopen(c->qtest_log, "w");
        if (!qt.log) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "-qtest-log %s: %s", c->qtest_log,
                        g_strerror(errno));
            qtest_accel_destroy();
            return false;
        }
    }
    qt.enabled = true;
    qt.timer = g_timer_new();
    qt.inbuf = g_string_new(NULL);
    if (qt.log) {
        fprintf(qt.log, "[I %.6f] OPENED\n", 0.0);
    }
    clock_virtual_set_manual(true);
    accel_set_ops(&qtest_ops);
    qt.source = g_unix_fd_source_new(qt.in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(qt.source, (GSourceFunc)(void (*)(void))qtest_readable, NULL, NULL);
    g_source_set_name(qt.source, "qtest");
    g_source_attach(qt.source, main_loop_context());
    g_source_unref(qt.source);
    return true;
}

void qtest_accel_destroy(void)
{
    if (qt.source) {
        g_source_destroy(qt.source);
        qt.source = NULL;
    }
    if (qt.enabled) {
        accel_set_ops(NULL);
    }
    if (qt.in_fd > STDERR_FILENO) {
        close(qt.in_fd);
    }
    qt.in_fd = qt.out_fd = -1;
    if (qt.log) {
        fclose(qt.log);
        qt.log = NULL;
    }
    if (qt.timer) {
        g_timer_destroy(qt.timer);
        qt.timer = NULL;
    }
    if (qt.inbuf) {
        g_string_free(qt.inbuf, TRUE);
        qt.inbuf = NULL;
    }
    g_clear_pointer(&qt.intercept, g_free);
    qt.enabled = false;
}
