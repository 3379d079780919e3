/* libqtest.c: the test side of the qtest protocol (see libqtest.h). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "libqtest.h"

#define QTEST_IRQ_MAX 256
#define QTEST_CONNECT_TIMEOUT_MS 30000
#define QTEST_REPLY_TIMEOUT_MS 60000
#define QTEST_EXIT_TIMEOUT_MS 10000
#define QTEST_ALLOC_START 0x100000ULL
#define QTEST_ALLOC_END (QTEST_ALLOC_START + (64ULL << 20))

struct QTestState {
    TernProc *proc;
    int fd;
    GString *rx;
    char *qmp_path;
    QmpClient *qmp;
    bool irq_level[QTEST_IRQ_MAX];
    unsigned irq_raises[QTEST_IRQ_MAX];
    uint64_t alloc_next;
};

/* Fail the test with what tern printed, since that is where the reason is. */
static void G_GNUC_NORETURN G_GNUC_PRINTF(2, 3) qtest_fail(QTestState *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *err = tern_proc_stderr(s->proc);
    g_autofree char *msg = g_strdup_printf("qtest: %s; tern's stderr:\n%s", what, err);
    g_assertion_message(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
    abort(); /* not reached unless assertions are non-fatal */
}

static int qtest_listen(QTestState *s, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    g_assert_cmpuint(strlen(path), <, sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    return fd;
}

/* Wait for tern to connect, noticing when it exits instead. */
static int qtest_accept(QTestState *s, int listen_fd)
{
    gint64 deadline = g_get_monotonic_time() + QTEST_CONNECT_TIMEOUT_MS * 1000LL;
    while (g_get_monotonic_time() < deadline) {
        struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) > 0) {
            int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0) {
                return fd;
            }
        }
        if (!tern_proc_alive(s->proc)) {
            qtest_fail(s, "tern exited before connecting");
        }
    }
    qtest_fail(s, "tern did not connect within %d ms", QTEST_CONNECT_TIMEOUT_MS);
}

static void qtest_free(QTestState *s)
{
    if (s->qmp) {
        qmp_client_free(s->qmp);
    }
    if (s->fd >= 0) {
        close(s->fd);
    }
    tern_proc_free(s->proc);
    g_string_free(s->rx, TRUE);
    g_free(s->qmp_path);
    g_free(s);
}

/* A state with tern started and its listening socket open (returned). */
static QTestState *qtest_start(const char *extra_args, const TernProcOptions *opts,
                               int *listen_fd)
{
    QTestState *s = g_new0(QTestState, 1);
    s->fd = -1;
    s->proc = tern_proc_new();
    s->rx = g_string_new(NULL);
    s->alloc_next = QTEST_ALLOC_START;
    g_autofree char *sock = tern_proc_path(s->proc, "qtest.sock");
    s->qmp_path = tern_proc_path(s->proc, "qmp.sock");
    *listen_fd = qtest_listen(s, sock);

    g_autofree char *qtest_arg = g_strdup_printf("unix:%s", sock);
    g_autofree char *qmp_arg = g_strdup_printf("unix:%s,server=on,wait=off", s->qmp_path);
    GPtrArray *args = g_ptr_array_new();
    const char *fixed[] = {"-accel", "qtest", "-qtest",   qtest_arg,
                           "-qmp",   qmp_arg, "-display", "none"};
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++) {
        g_ptr_array_add(args, (char *)fixed[i]);
    }
    if (g_getenv("QTEST_LOG")) {
        g_ptr_array_add(args, "-qtest-log");
        g_ptr_array_add(args, "/dev/fd/2");
    }
    g_auto(GStrv) extra = NULL;
    if (extra_args && *extra_args) {
        GError *err = NULL;
        g_assert_true(g_shell_parse_argv(extra_args, NULL, &extra, &err));
        for (char **a = extra; *a; a++) {
            g_ptr_array_add(args, *a);
        }
    }
    g_ptr_array_add(args, NULL);
    GError *err = NULL;
    tern_proc_start(s->proc, (const char *const *)args->pdata, opts, &err);
    g_assert_no_error(err);
    g_ptr_array_unref(args);
    return s;
}

QTestState *qtest_init_with_fds(const char *extra_args, const int *fds, unsigned n_fds)
{
    TernProcOptions opts = {.inherit_fds = fds, .n_inherit_fds = n_fds};
    int listen_fd;
    QTestState *s = qtest_start(extra_args, &opts, &listen_fd);
    s->fd = qtest_accept(s, listen_fd);
    close(listen_fd);
    return s;
}

QTestState *qtest_init(const char *extra_args)
{
    int listen_fd;
    QTestState *s = qtest_start(extra_args, NULL, &listen_fd);
    s->fd = qtest_accept(s, listen_fd);
    close(listen_fd);
    return s;
}

char *qtest_init_fail(const char *extra_args)
{
    int listen_fd;
    QTestState *s = qtest_start(extra_args, NULL, &listen_fd);
    gint64 deadline = g_get_monotonic_time() + QTEST_CONNECT_TIMEOUT_MS * 1000LL;
    int code = 0;
    while (!tern_proc_wait(s->proc, 20, &code)) {
        struct pollfd pfd = {.fd = listen_fd, .events = POLLIN};
        if (s->fd < 0 && poll(&pfd, 1, 0) > 0) {
            s->fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        }
        if (g_get_monotonic_time() > deadline) {
            qtest_fail(s, "tern accepted arguments it should refuse: %s", extra_args);
        }
    }
    close(listen_fd);
    if (code == 0) {
        qtest_fail(s, "tern exited with 0 for arguments it should refuse: %s", extra_args);
    }
    char *err = tern_proc_stderr(s->proc);
    qtest_free(s);
    return err;
}

QTestState *qtest_initf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *args = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return qtest_init(args);
}

void qtest_quit(QTestState *s)
{
    if (!s) {
        return;
    }
    if (s->qmp) {
        qmp_client_free(s->qmp);
        s->qmp = NULL;
    }
    close(s->fd);
    s->fd = -1;
    int code = -1;
    if (!tern_proc_wait(s->proc, QTEST_EXIT_TIMEOUT_MS, &code)) {
        tern_proc_kill(s->proc);
        qtest_fail(s, "tern did not exit after the qtest connection closed");
    }
    if (code != 0) {
        qtest_fail(s, "tern exited with %d after the qtest connection closed", code);
    }
    qtest_free(s);
}

void qtest_kill(QTestState *s)
{
    if (s) {
        tern_proc_kill(s->proc);
        qtest_free(s);
    }
}

TernProc *qtest_proc(QTestState *s)
{
    return s->proc;
}

const char *qtest_qmp_path(QTestState *s)
{
    return s->qmp_path;
}

QmpClient *qtest_qmp(QTestState *s)
{
    if (!s->qmp) {
        GError *err = NULL;
        s->qmp = qmp_client_connect_unix(s->qmp_path, QMP_CLIENT_TIMEOUT_MS, &err);
        if (!s->qmp || !qmp_client_negotiate(s->qmp, &err)) {
            qtest_fail(s, "QMP: %s", err ? err->message : "cannot connect");
        }
    }
    return s->qmp;
}

static void qtest_send(QTestState *s, const char *line)
{
    g_autofree char *buf = g_strdup_printf("%s\n", line);
    size_t len = strlen(buf);
    const char *p = buf;
    while (len > 0) {
        ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            qtest_fail(s, "cannot send '%.40s': %s", line, g_strerror(errno));
        }
        p += n;
        len -= n;
    }
}

static char *qtest_read_line(QTestState *s)
{
    for (;;) {
        char *nl = memchr(s->rx->str, '\n', s->rx->len);
        if (nl) {
            char *line = g_strndup(s->rx->str, nl - s->rx->str);
            g_string_erase(s->rx, 0, nl - s->rx->str + 1);
            return line;
        }
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        int r = poll(&pfd, 1, QTEST_REPLY_TIMEOUT_MS);
        if (r == 0) {
            qtest_fail(s, "no reply within %d ms", QTEST_REPLY_TIMEOUT_MS);
        }
        char buf[65536];
        ssize_t n = r > 0 ? recv(s->fd, buf, sizeof(buf), 0) : -1;
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            qtest_fail(s, "tern closed the qtest connection");
        }
        g_string_append_len(s->rx, buf, n);
    }
}

/* An asynchronous "IRQ raise N" / "IRQ lower N"; false for anything else. */
static bool qtest_handle_irq_line(QTestState *s, const char *line)
{
    int gsi;
    char what[8];
    if (sscanf(line, "IRQ %7s %d", what, &gsi) != 2 || gsi < 0 || gsi >= QTEST_IRQ_MAX) {
        return false;
    }
    bool raise = strcmp(what, "raise") == 0;
    if (!raise && strcmp(what, "lower") != 0) {
        return false;
    }
    s->irq_level[gsi] = raise;
    s->irq_raises[gsi] += raise;
    return true;
}

char *qtest_command(QTestState *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    qtest_send(s, line);
    for (;;) {
        char *reply = qtest_read_line(s);
        if (!qtest_handle_irq_line(s, reply)) {
            return reply;
        }
        g_free(reply);
    }
}

/* Run a command that must answer "OK[ value]"; returns the value part ("" if none). */
static char *G_GNUC_PRINTF(2, 3) qtest_ok(QTestState *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *reply = qtest_command(s, "%s", line);
    if (strcmp(reply, "OK") == 0) {
        return g_strdup("");
    }
    if (!g_str_has_prefix(reply, "OK ")) {
        qtest_fail(s, "'%.60s' answered '%.200s'", line, reply);
    }
    return g_strdup(reply + 3);
}

static uint64_t qtest_ok_number(QTestState *s, const char *line)
{
    g_autofree char *v = qtest_ok(s, "%s", line);
    char *end;
    errno = 0;
    uint64_t n = g_ascii_strtoull(v, &end, 0);
    if (errno || end == v || *end) {
        qtest_fail(s, "'%s' answered a non-number '%.60s'", line, v);
    }
    return n;
}

static void qtest_out(QTestState *s, const char *cmd, uint16_t port, uint32_t v)
{
    g_free(qtest_ok(s, "%s 0x%x 0x%x", cmd, port, v));
}

static uint32_t qtest_in(QTestState *s, const char *cmd, uint16_t port)
{
    g_autofree char *line = g_strdup_printf("%s 0x%x", cmd, port);
    return qtest_ok_number(s, line);
}

void qtest_outb(QTestState *s, uint16_t port, uint8_t v)
{
    qtest_out(s, "outb", port, v);
}

void qtest_outw(QTestState *s, uint16_t port, uint16_t v)
{
    qtest_out(s, "outw", port, v);
}

void qtest_outl(QTestState *s, uint16_t port, uint32_t v)
{
    qtest_out(s, "outl", port, v);
}

uint8_t qtest_inb(QTestState *s, uint16_t port)
{
    return qtest_in(s, "inb", port);
}

uint16_t qtest_inw(QTestState *s, uint16_t port)
{
    return qtest_in(s, "inw", port);
}

uint32_t qtest_inl(QTestState *s, uint16_t port)
{
    return qtest_in(s, "inl", port);
}

static void qtest_write_n(QTestState *s, const char *cmd, uint64_t addr, uint64_t v)
{
    g_free(qtest_ok(s, "%s 0x%" PRIx64 " 0x%" PRIx64, cmd, addr, v));
}

static uint64_t qtest_read_n(QTestState *s, const char *cmd, uint64_t addr)
{
    g_autofree char *line = g_strdup_printf("%s 0x%" PRIx64, cmd, addr);
    return qtest_ok_number(s, line);
}

void qtest_writeb(QTestState *s, uint64_t addr, uint8_t v)
{
    qtest_write_n(s, "writeb", addr, v);
}

void qtest_writew(QTestState *s, uint64_t addr, uint16_t v)
{
    qtest_write_n(s, "writew", addr, v);
}

void qtest_writel(QTestState *s, uint64_t addr, uint32_t v)
{
    qtest_write_n(s, "writel", addr, v);
}

void qtest_writeq(QTestState *s, uint64_t addr, uint64_t v)
{
    qtest_write_n(s, "writeq", addr, v);
}

uint8_t qtest_readb(QTestState *s, uint64_t addr)
{
    return qtest_read_n(s, "readb", addr);
}

uint16_t qtest_readw(QTestState *s, uint64_t addr)
{
    return qtest_read_n(s, "readw", addr);
}

uint32_t qtest_readl(QTestState *s, uint64_t addr)
{
    return qtest_read_n(s, "readl", addr);
}

uint64_t qtest_readq(QTestState *s, uint64_t addr)
{
    return qtest_read_n(s, "readq", addr);
}

void qtest_memread(QTestState *s, uint64_t addr, void *buf, size_t len)
{
    if (len == 0) {
        return;
    }
    g_autofree char *hex = qtest_ok(s, "read 0x%" PRIx64 " 0x%zx", addr, len);
    if (!g_str_has_prefix(hex, "0x") || strlen(hex) != 2 + 2 * len) {
        qtest_fail(s, "read of %zu bytes answered '%.60s'", len, hex);
    }
    uint8_t *out = buf;
    for (size_t i = 0; i < len; i++) {
        int hi = g_ascii_xdigit_value(hex[2 + 2 * i]);
        int lo = g_ascii_xdigit_value(hex[3 + 2 * i]);
        if (hi < 0 || lo < 0) {
            qtest_fail(s, "read answered bad hex");
        }
        out[i] = hi << 4 | lo;
    }
}

void qtest_memwrite(QTestState *s, uint64_t addr, const void *buf, size_t len)
{
    if (len == 0) {
        return;
    }
    const uint8_t *in = buf;
    GString *line = g_string_sized_new(2 * len + 48);
    g_string_printf(line, "write 0x%" PRIx64 " 0x%zx 0x", addr, len);
    for (size_t i = 0; i < len; i++) {
        g_string_append_printf(line, "%02x", in[i]);
    }
    g_free(qtest_ok(s, "%s", line->str));
    g_string_free(line, TRUE);
}

void qtest_memset(QTestState *s, uint64_t addr, uint8_t byte, size_t len)
{
    g_free(qtest_ok(s, "memset 0x%" PRIx64 " 0x%zx 0x%02x", addr, len, byte));
}

void qtest_bufread(QTestState *s, uint64_t addr, void *buf, size_t len)
{
    if (len == 0) {
        return;
    }
    g_autofree char *b64 = qtest_ok(s, "b64read 0x%" PRIx64 " 0x%zx", addr, len);
    gsize n;
    g_autofree uint8_t *data = g_base64_decode(b64, &n);
    if (n != len) {
        qtest_fail(s, "b64read of %zu bytes returned %zu", len, (size_t)n);
    }
    memcpy(buf, data, len);
}

void qtest_bufwrite(QTestState *s, uint64_t addr, const void *buf, size_t len)
{
    if (len == 0) {
        return;
    }
    g_autofree char *b64 = g_base64_encode(buf, len);
    g_free(qtest_ok(s, "b64write 0x%" PRIx64 " 0x%zx %s", addr, len, b64));
}

int64_t qtest_clock_step(QTestState *s, int64_t ns)
{
    g_autofree char *line = g_strdup_printf("clock_step %" PRIi64, ns);
    return qtest_ok_number(s, line);
}

int64_t qtest_clock_step_next(QTestState *s)
{
    return qtest_ok_number(s, "clock_step");
}

int64_t qtest_clock_set(QTestState *s, int64_t ns)
{
    g_autofree char *line = g_strdup_printf("clock_set %" PRIi64, ns);
    return qtest_ok_number(s, line);
}

void qtest_irq_intercept_in(QTestState *s, const char *path)
{
    g_free(qtest_ok(s, "irq_intercept_in %s", path));
}

bool qtest_get_irq(QTestState *s, int gsi)
{
    g_assert_cmpint(gsi, >=, 0);
    g_assert_cmpint(gsi, <, QTEST_IRQ_MAX);
    /* A round trip, so every IRQ line tern sent before now has been read. */
    g_free(qtest_ok(s, "endianness"));
    return s->irq_level[gsi];
}

unsigned qtest_irq_raises(QTestState *s, int gsi)
{
    qtest_get_irq(s, gsi);
    return s->irq_raises[gsi];
}

uint64_t qtest_alloc_aligned(QTestState *s, uint64_t size, uint64_t align)
{
    g_assert_true(align && (align & (align - 1)) == 0);
    uint64_t at = (s->alloc_next + align - 1) & ~(align - 1);
    if (size > QTEST_ALLOC_END || at > QTEST_ALLOC_END - size) {
        qtest_fail(s, "guest allocator exhausted (%" PRIu64 " bytes asked)", size);
    }
    s->alloc_next = at + size;
    qtest_memset(s, at, 0, size);
    return at;
}

void qtest_alloc_continue(QTestState *s, const QTestState *from)
{
    s->alloc_next = MAX(s->alloc_next, from->alloc_next);
}

uint64_t qtest_alloc(QTestState *s, uint64_t size)
{
    return qtest_alloc_aligned(s, size, 16);
}
