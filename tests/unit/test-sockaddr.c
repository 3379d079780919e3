/*
 * test-sockaddr.c: the one socket-address parser and opener (util/sockaddr.c), and each of
 * its users refusing a port outside 0..65535 instead of wrapping it (99999 listened on
 * 34463): the QMP server, migration URIs, -netdev socket; chardevs and qtest take unix
 * paths through it.
 */
#include <glib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "hw/char/chardev.h"
#include "migration/transport.h"
#include "monitor/qmp.h"
#include "net/net.h"
#include "options.h"
#include "sockaddr.h"

static void parses(const char *spec, bool is_unix, const char *host, const char *port,
                   const char *path)
{
    SockAddr a;
    GError *err = NULL;
    g_assert_true(sockaddr_parse(spec, &a, &err));
    g_assert_no_error(err);
    g_assert_cmpint(a.is_unix, ==, is_unix);
    g_assert_cmpstr(a.host, ==, host);
    g_assert_cmpstr(a.port, ==, port);
    g_assert_cmpstr(a.path, ==, path);
    sockaddr_clear(&a);
}

static void refused(const char *spec, const char *why)
{
    SockAddr a;
    g_autoptr(GError) err = NULL;
    g_assert_false(sockaddr_parse(spec, &a, &err));
    g_assert_nonnull(err);
    if (!strstr(err->message, why)) {
        g_error("'%s': '%s' does not say '%s'", spec, err->message, why);
    }
    sockaddr_clear(&a);
}

static void test_parse(void)
{
    parses("tcp:127.0.0.1:4444", false, "127.0.0.1", "4444", NULL);
    parses("tcp::0", false, "", "0", NULL);
    parses("tcp:[::1]:65535", false, "::1", "65535", NULL);
    parses("tcp:localhost:1", false, "localhost", "1", NULL);
    parses("unix:/tmp/x.sock", true, NULL, NULL, "/tmp/x.sock");
    refused("tcp:127.0.0.1:65536", "port '65536' is not a number from 0 to 65535");
    refused("tcp:127.0.0.1:99999", "port '99999' is not a number from 0 to 65535");
    refused("tcp:127.0.0.1:4294967376", "port '4294967376'"); /* 2^32 + 80 */
    refused("tcp:127.0.0.1:-1", "port '-1'");
    refused("tcp:127.0.0.1:+80", "port '+80'");
    refused("tcp:127.0.0.1:8x", "port '8x'");
    refused("tcp:127.0.0.1:http", "port 'http'");
    refused("tcp:127.0.0.1:", "expected HOST:PORT");
    refused("tcp:nocolon", "expected HOST:PORT");
    refused("unix:", "a unix socket path must be 1 to 107 bytes long");
    g_autofree char *longpath = g_strdup_printf("unix:/%0200d", 0);
    refused(longpath, "a unix socket path must be 1 to 107 bytes long");
    refused("udp:1.2.3.4:5", "expected tcp:HOST:PORT or unix:PATH");
}

/* Listen on an ephemeral loopback port and a unix path; connect to each. */
static void test_open(void)
{
    GError *err = NULL;
    SockAddr a;
    g_assert_true(sockaddr_parse("tcp:127.0.0.1:0", &a, &err));
    int l = sockaddr_listen(&a, 1, &err);
    g_assert_no_error(err);
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);
    g_assert_cmpint(getsockname(l, (struct sockaddr *)&sin, &len), ==, 0);
    sockaddr_clear(&a);
    g_autofree char *spec = g_strdup_printf("tcp:127.0.0.1:%d", ntohs(sin.sin_port));
    g_assert_true(sockaddr_parse(spec, &a, &err));
    int c = sockaddr_connect(&a, &err);
    g_assert_no_error(err);
    g_assert_cmpint(c, >=, 0);
    close(c);
    /* The port is taken now. */
    int l2 = sockaddr_listen(&a, 1, &err);
    g_assert_cmpint(l2, ==, -1);
    g_assert_nonnull(strstr(err->message, "cannot listen on 127.0.0.1:"));
    g_clear_error(&err);
    sockaddr_clear(&a);
    close(l);

    g_autofree char *dir = g_dir_make_tmp("tern-sockaddr-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "s", NULL);
    g_assert_true(sockaddr_parse_unix(path, &a, &err));
    l = sockaddr_listen(&a, 1, &err);
    g_assert_no_error(err);
    c = sockaddr_connect(&a, &err);
    g_assert_no_error(err);
    close(c);
    close(l);
    unlink(path);
    c = sockaddr_connect(&a, &err);
    g_assert_cmpint(c, ==, -1);
    g_assert_nonnull(strstr(err->message, "cannot connect to"));
    g_clear_error(&err);
    sockaddr_clear(&a);
    rmdir(dir);
}

/* Each user refuses the port rather than wrap it. */
static void test_users(void)
{
    g_autoptr(GError) err = NULL;
    g_assert_false(qmp_server_add("tcp:127.0.0.1:99999,server=on,wait=off", &err));
    g_assert_nonnull(strstr(err->message, "port '99999' is not a number from 0 to 65535"));
    g_clear_error(&err);

    g_assert_false(transport_check_uri("tcp:127.0.0.1:99999", true, &err));
    g_assert_nonnull(strstr(err->message, "port '99999'"));
    g_clear_error(&err);
    g_assert_null(transport_listen("tcp:127.0.0.1:99999", NULL, NULL, &err));
    g_assert_nonnull(strstr(err->message, "port '99999'"));
    g_clear_error(&err);

    TernOpts *o = opts_parse("-netdev", "socket,id=s0,listen=127.0.0.1:99999", "type", &err);
    g_assert_nonnull(o);
    g_assert_false(netdev_create(o, &err));
    g_assert_nonnull(strstr(err->message, "listen=127.0.0.1:99999: '127.0.0.1:99999': port"));
    g_clear_error(&err);
    opts_free(o);

    g_autofree char *longpath = g_strdup_printf("unix:/%0200d,server=on,wait=off", 0);
    g_assert_null(chardev_open("-serial", longpath, &err));
    g_assert_nonnull(strstr(err->message, "a unix socket path must be 1 to 107 bytes long"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sockaddr/parse", test_parse);
    g_test_add_func("/sockaddr/open", test_open);
    g_test_add_func("/sockaddr/users", test_users);
    return g_test_run();
}
