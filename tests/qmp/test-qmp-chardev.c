/*
 * test-qmp-chardev.c: QMP on `-chardev socket,... -mon chardev=...,mode=control`, the
 * way QEMU's libqtest (tern connects to the test's socket) and libvirt (tern listens)
 * start the VMM, against the real binary.
 */
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "../lib/qmp-assert.h"
#include "../lib/tern-proc.h"

static int listen_unix(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
    g_assert_cmpint(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), ==, 0);
    g_assert_cmpint(listen(fd, 1), ==, 0);
    return fd;
}

/* libqtest's line: tern connects to the socket the test listens on and serves QMP. */
static void test_client_mode(void)
{
    TernProc *p = tern_proc_new();
    g_autofree char *path = tern_proc_path(p, "qmp.sock");
    int lfd = listen_unix(path);
    g_autofree char *chr = g_strdup_printf("socket,path=%s,id=char0", path);
    const char *args[] = {
        "-machine", "none",     "-S", "-nodefaults", "-display",
        "none",     "-chardev", chr,  "-mon",        "chardev=char0,mode=control",
        NULL};
    GError *err = NULL;
    g_assert_true(tern_proc_start(p, args, NULL, &err));
    QmpClient *c = qmp_client_accept(lfd, QMP_CLIENT_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    close(lfd);
    g_assert_true(json_object_has_member(qmp_client_greeting(c), "QMP"));
    g_assert_true(qmp_client_negotiate(c, &err));
    g_autofree char *status = qmp_status(c);
    g_assert_cmpstr(status, ==, "prelaunch");

    /* The session ending does not end tern (only the qtest channel does that). */
    qmp_client_free(c);
    g_usleep(100 * 1000);
    tern_proc_assert_alive(p);
    tern_proc_free(p);
}

/* libvirt's line: server=on,wait=off listens like -qmp. */
static void test_server_mode(void)
{
    TernProc *p = tern_proc_new();
    g_autofree char *path = tern_proc_path(p, "mon.sock");
    g_autofree char *chr =
        g_strdup_printf("socket,id=charmonitor,path=%s,server=on,wait=off", path);
    const char *args[] = {"-machine", "none", "-S",
                          "-display", "none", "-chardev",
                          chr,        "-mon", "chardev=charmonitor,id=monitor,mode=control",
                          NULL};
    GError *err = NULL;
    g_assert_true(tern_proc_start(p, args, NULL, &err));
    QmpClient *c = qmp_client_connect_unix(path, QMP_CLIENT_TIMEOUT_MS, &err);
    g_assert_no_error(err);
    g_assert_true(qmp_client_negotiate(c, &err));
    g_autofree char *status = qmp_status(c);
    g_assert_cmpstr(status, ==, "prelaunch");
    qmp_client_free(c);
    tern_proc_free(p);
}

/* Start tern with a -chardev/-mon pair it must refuse; check its message. */
static void refused(const char *chardev, const char *mon, const char *message)
{
    TernProc *p = tern_proc_new();
    g_autofree char *path = tern_proc_path(p, "absent.sock");
    g_autofree char *chr =
        strstr(chardev, "%s") ? g_strdup_printf(chardev, path) : g_strdup(chardev);
    const char *args[] = {"-machine", "none",     "-S", "-display",
                          "none",     "-chardev", chr,  mon ? "-mon" : NULL,
                          mon,        NULL};
    tern_proc_assert_refused(p, args, message);
    tern_proc_free(p);
}

static void test_refused(void)
{
    refused("socket,path=%s,id=c", "chardev=c,mode=control", "cannot connect to");
    refused("socket,path=%s,id=c,server=on", "chardev=c,mode=control", "wait=off");
    refused("socket,path=%s,id=c", "chardev=c", "only mode=control");
    refused("socket,path=%s,id=c", "chardev=d,mode=control", "no -chardev with id 'd'");
    refused("socket,path=%s,id=c", NULL, "not used by any -mon");
    refused("socket,path=%s,id=c,reconnect=1", "chardev=c,mode=control",
            "property 'reconnect' is not supported");
    refused("pty,id=c", "chardev=c,mode=control", "backend 'pty' is not supported");
    refused("socket,host=localhost,port=4444,id=c", "chardev=c,mode=control",
            "tcp is not supported");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp-chardev/client-mode", test_client_mode);
    g_test_add_func("/qmp-chardev/server-mode", test_server_mode);
    g_test_add_func("/qmp-chardev/refused", test_refused);
    return g_test_run();
}
