/*
 * chardev.c: character device backends for -serial (see chardev.h). Plain file
 * descriptors and one GSource for input on the main loop; nothing here blocks the main
 * loop except QEMU's `wait=on` at start-up, which is what asking for it means.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>
#include "error.h"
#include "hw/char/chardev.h"
#include "main-loop.h"
#include "options.h"
#include "sockaddr.h"

typedef enum { CHR_NULL, CHR_STDIO, CHR_FILE, CHR_UNIX_CLIENT, CHR_UNIX_SERVER } ChardevKind;

struct Chardev {
    ChardevKind kind;
    int in_fd, out_fd; /* -1: none (for a server: no client now) */
    int listen_fd;
    char *path; /* a server's socket file, removed at close */
    GSource *in_src, *listen_src;
    bool tty_saved;
    struct termios tty;
    ChardevCanReceive *can_receive;
    ChardevReceive *receive;
    void *opaque;
};

/* --- input ---------------------------------------------------------------------------- */

static void chr_input_stop(Chardev *chr)
{
    if (chr->in_src) {
        g_source_destroy(chr->in_src);
        g_source_unref(chr->in_src);
        chr->in_src = NULL;
    }
}

static void chr_listen_start(Chardev *chr);

/* The peer went away: a server waits for the next client, others stop reading. */
static void chr_input_eof(Chardev *chr)
{
    if (chr->kind == CHR_UNIX_SERVER || chr->kind == CHR_UNIX_CLIENT) {
        close(chr->in_fd);
        chr->in_fd = chr->out_fd = -1;
        if (chr->kind == CHR_UNIX_SERVER) {
            chr_listen_start(chr);
        }
    } else {
        chr->in_fd = -1;
    }
}

static gboolean chr_readable(gint fd, GIOCondition cond, gpointer opaque)
{
    Chardev *chr = opaque;
    size_t room = chr->can_receive ? chr->can_receive(chr->opaque) : 0;
    if (room == 0) {
        /* The frontend is full: sleep until chardev_accept_input(). */
        g_source_unref(chr->in_src);
        chr->in_src = NULL;
        return G_SOURCE_REMOVE;
    }
    uint8_t buf[256];
    ssize_t n = read(fd, buf, MIN(room, sizeof(buf)));
    if (n > 0) {
        chr->receive(chr->opaque, buf, n);
        return G_SOURCE_CONTINUE;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return G_SOURCE_CONTINUE;
    }
    g_source_unref(chr->in_src);
    chr->in_src = NULL;
    chr_input_eof(chr);
    return G_SOURCE_REMOVE;
}

void chardev_accept_input(Chardev *chr)
{
    if (!chr || chr->in_src || chr->in_fd < 0 || !chr->receive) {
        return;
    }
    chr->in_src = g_unix_fd_source_new(chr->in_fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(chr->in_src, G_SOURCE_FUNC(chr_readable), chr, NULL);
    g_source_attach(chr->in_src, main_loop_context());
}

/* --- unix sockets --------------------------------------------------------------------- */

static gboolean chr_accept(gint fd, GIOCondition cond, gpointer opaque)
{
    Chardev *chr = opaque;
    int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0) {
        return G_SOURCE_CONTINUE;
    }
    chr->in_fd = chr->out_fd = c;
    g_source_unref(chr->listen_src);
    chr->listen_src = NULL;
    chardev_accept_input(chr);
    return G_SOURCE_REMOVE; /* one client at a time */
}

static void chr_listen_start(Chardev *chr)
{
    chr->listen_src = g_unix_fd_source_new(chr->listen_fd, G_IO_IN);
    g_source_set_callback(chr->listen_src, G_SOURCE_FUNC(chr_accept), chr, NULL);
    g_source_attach(chr->listen_src, main_loop_context());
}

/* An error from sockaddr.c, as "-serial unix:...: why". */
static bool chr_fail_with(GError **errp, const char *option, const char *spec, GError *err)
{
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s %s: %s", option, spec, err->message);
    g_error_free(err);
    return false;
}

static bool chr_open_unix(Chardev *chr, const char *option, const char *spec, GError **errp)
{
    g_autoptr(GError) err = NULL;
    TernOpts *o = opts_parse(option, spec + strlen("unix:"), "path", &err);
    static const char *const known[] = {"server", "wait", NULL};
    bool server, wait, ok = false;
    SockAddr sa = {0};
    if (!o || !opts_check_keys(o, known, &err) ||
        !opts_get_bool(o, "server", false, &server, &err) ||
        !opts_get_bool(o, "wait", true, &wait, &err)) {
        g_propagate_error(errp, g_steal_pointer(&err));
        goto out;
    }
    const char *path = o->driver; /* the implied first value */
    if (!sockaddr_parse_unix(path ? path : "", &sa, &err)) {
        chr_fail_with(errp, option, spec, g_steal_pointer(&err));
        goto out;
    }
    if (!server) {
        chr->kind = CHR_UNIX_CLIENT;
        chr->in_fd = chr->out_fd = sockaddr_connect(&sa, &err);
        ok = chr->in_fd >= 0 || chr_fail_with(errp, option, spec, g_steal_pointer(&err));
        goto out;
    }
    chr->kind = CHR_UNIX_SERVER;
    unlink(path);
    chr->listen_fd = sockaddr_listen(&sa, 1, &err);
    if (chr->listen_fd < 0) {
        chr_fail_with(errp, option, spec, g_steal_pointer(&err));
        goto out;
    }
    chr->path = g_strdup(path);
    if (wait) {
        fprintf(stderr, "tern: %s: waiting for a connection on %s\n", option, path);
        int c = accept4(chr->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
            tern_error_fail(errp, "%s %s: accept: %s", option, spec, g_strerror(errno));
            goto out;
        }
        chr->in_fd = chr->out_fd = c;
    } else {
        chr_listen_start(chr);
    }
    ok = true;
out:
    sockaddr_clear(&sa);
    if (o) {
        opts_free(o);
    }
    return ok;
}

/* --- open/close ----------------------------------------------------------------------- */

/* The terminal's settings before tern changed them, restored at exit however tern
 * ends (one terminal per process). */
static struct termios stdio_tty_orig;

static void chr_stdio_restore(void)
{
    tcsetattr(STDIN_FILENO, TCSANOW, &stdio_tty_orig);
}

/* A terminal on stdin: characters go to the guest as typed (no line editing, no echo,
 * CR kept), but ^C still ends tern. */
static void chr_stdio_raw(Chardev *chr)
{
    struct termios t;
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &chr->tty) < 0) {
        return;
    }
    chr->tty_saved = true;
    stdio_tty_orig = chr->tty;
    atexit(chr_stdio_restore);
    t = chr->tty;
    t.c_lflag &= ~(ICANON | ECHO | ECHONL | IEXTEN);
    t.c_iflag &= ~(ICRNL | INLCR | IGNCR | IXON);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

Chardev *chardev_open(const char *option, const char *spec, GError **errp)
{
    Chardev *chr = g_new0(Chardev, 1);
    chr->in_fd = chr->out_fd = chr->listen_fd = -1;
    bool ok = true;
    if (strcmp(spec, "null") == 0) {
        chr->kind = CHR_NULL;
    } else if (strcmp(spec, "stdio") == 0) {
        chr->kind = CHR_STDIO;
        chr->in_fd = STDIN_FILENO;
        chr->out_fd = STDOUT_FILENO;
        chr_stdio_raw(chr);
    } else if (g_str_has_prefix(spec, "file:")) {
        chr->kind = CHR_FILE;
        chr->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ok = chr->out_fd >= 0 ||
             tern_error_fail(errp, "%s %s: open: %s", option, spec, g_strerror(errno));
    } else if (g_str_has_prefix(spec, "unix:")) {
        ok = chr_open_unix(chr, option, spec, errp);
    } else {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%s %s: unsupported backend (supported: stdio, file:PATH, "
                    "unix:PATH[,server=on,wait=off], null, none)",
                    option, spec);
        ok = false;
    }
    if (!ok) {
        chardev_close(chr);
        return NULL;
    }
    return chr;
}

void chardev_set_handlers(Chardev *chr, ChardevCanReceive *can_receive, ChardevReceive *receive,
                          void *opaque)
{
    chr->can_receive = can_receive;
    chr->receive = receive;
    chr->opaque = opaque;
    chardev_accept_input(chr);
}

void chardev_write(Chardev *chr, const uint8_t *buf, size_t len)
{
    while (chr && chr->out_fd >= 0 && len > 0) {
        ssize_t n = write(chr->out_fd, buf, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return; /* a gone reader loses output, as a disconnected UART would */
        }
        buf += n;
        len -= n;
    }
}

void chardev_close(Chardev *chr)
{
    if (!chr) {
        return;
    }
    chr_input_stop(chr);
    if (chr->listen_src) {
        g_source_destroy(chr->listen_src);
        g_source_unref(chr->listen_src);
    }
    if (chr->tty_saved) {
        tcsetattr(STDIN_FILENO, TCSANOW, &chr->tty);
    }
    if (chr->kind != CHR_STDIO && chr->out_fd >= 0) {
        close(chr->out_fd);
    }
    if (chr->listen_fd >= 0) {
        close(chr->listen_fd);
    }
    if (chr->path) {
        unlink(chr->path);
        g_free(chr->path);
    }
    g_free(chr);
}
