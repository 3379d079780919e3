/*
 * nbench: a tiny network load generator and sink for tern's bench/net.
 *
 * The test guest has busybox (no iperf), so this static C program is built into
 * its initramfs (/bin/nbench) and, from the same source, run on the lab host:
 * one side sends, the other counts, and the receiver's figure is the result.
 *
 *   nbench udp-send [-t SECONDS] [-s PAYLOAD] HOST PORT
 *   nbench udp-recv [-t SECONDS] [-w SECONDS] PORT
 *   nbench tcp-send [-t SECONDS] HOST PORT
 *   nbench tcp-recv [-t SECONDS] [-w SECONDS] PORT
 *
 * udp-send sends PAYLOAD-byte datagrams (default 18: with UDP, IPv4 and Ethernet
 * headers and the FCS that makes a 64-byte frame) as fast as it can, in batches
 * (sendmmsg), for SECONDS (default 3). udp-recv waits up to -w SECONDS (default
 * 30) for the first datagram, then counts what arrives for -t SECONDS or until
 * the sender has been silent for 1 s; the rate is packets over the time from
 * the first to the last datagram counted.
 *
 * tcp-send connects (retrying for up to 10 s while the receiver starts), writes
 * 128 KiB buffers for SECONDS and closes. tcp-recv accepts one connection and
 * reads until EOF or -t SECONDS after the first byte; the rate is bytes over
 * the time from the first to the last byte read.
 *
 * Output: one line on stdout,
 *   NBENCH <mode> packets=N bytes=N seconds=S pps=R gbps=G
 * (exit 0), or "nbench: <why>" on stderr (exit 1; 2 for usage).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define TCP_BUF (128 * 1024)
#define UDP_IDLE_MS 1000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "nbench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void usage(void)
{
    fprintf(stderr, "usage: nbench udp-send|tcp-send [-t S] [-s PAYLOAD] HOST PORT\n"
                    "       nbench udp-recv|tcp-recv [-t S] [-w S] PORT\n");
    exit(2);
}

static void report(const char *mode, uint64_t packets, uint64_t bytes, double secs)
{
    double s = secs > 0 ? secs : 1e-9;
    printf("NBENCH %s packets=%llu bytes=%llu seconds=%.3f pps=%.0f gbps=%.4f\n", mode,
           (unsigned long long)packets, (unsigned long long)bytes, secs, packets / s,
           bytes * 8 / s / 1e9);
    fflush(stdout);
}

static struct sockaddr_in addr_of(const char *host, const char *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(atoi(port))};
    if (host && inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "nbench: %s: not an IPv4 address\n", host);
        exit(2);
    }
    if (!host) {
        sa.sin_addr.s_addr = htonl(INADDR_ANY);
    }
    return sa;
}

static int bound_socket(int type, const char *port)
{
    struct sockaddr_in sa = addr_of(NULL, port);
    int fd = socket(AF_INET, type, 0), one = 1, big = 8 << 20;
    if (fd < 0) {
        die("socket");
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        die("bind");
    }
    return fd;
}

/* Wait until fd is readable or ms pass; 0 on timeout. */
static int wait_readable(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r;
    do {
        r = poll(&p, 1, ms);
    } while (r < 0 && errno == EINTR);
    return r > 0;
}

static void udp_send(const char *host, const char *port, double secs, size_t payload)
{
    struct sockaddr_in sa = addr_of(host, port);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        die("udp connect");
    }
    static char buf[65536];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){buf, payload};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    uint64_t sent = 0;
    double t0 = now(), t = t0;
    while (t - t0 < secs) {
        int n = sendmmsg(fd, msgs, BATCH, 0);
        if (n > 0) {
            sent += n;
        } else if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR &&
                   errno != ECONNREFUSED) {
            die("sendmmsg");
        }
        t = now();
    }
    report("udp-send", sent, sent * payload, t - t0);
}

static void udp_recv(const char *port, double secs, double wait)
{
    int fd = bound_socket(SOCK_DGRAM, port);
    static char bufs[BATCH][2048];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof(msgs));
    for (int i = 0; i < BATCH; i++) {
        iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    if (!wait_readable(fd, (int)(wait * 1000))) {
        fprintf(stderr, "nbench: no datagram within %.0f s\n", wait);
        exit(1);
    }
    uint64_t packets = 0, bytes = 0;
    double first = 0, last = 0;
    for (;;) {
        if (!wait_readable(fd, UDP_IDLE_MS)) {
            break;
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) {
            continue;
        }
        last = now();
        if (!packets) {
            first = last;
            /* The first batch opens the window; it is not counted. */
            packets = 1;
            continue;
        }
        packets += n;
        for (int i = 0; i < n; i++) {
            bytes += msgs[i].msg_len;
        }
        if (last - first >= secs) {
            break;
        }
    }
    report("udp-recv", packets - 1, bytes, last - first);
}

static void tcp_send(const char *host, const char *port, double secs)
{
    struct sockaddr_in sa = addr_of(host, port);
    int fd = -1;
    double give_up = now() + 10;
    for (;;) {
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) {
            die("socket");
        }
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            break;
        }
        if (now() > give_up) {
            die("tcp connect");
        }
        close(fd);
        usleep(100 * 1000);
    }
    static char buf[TCP_BUF];
    memset(buf, 0x5a, sizeof(buf));
    uint64_t bytes = 0;
    double t0 = now(), t = t0;
    while (t - t0 < secs) {
        ssize_t n = write(fd, buf, sizeof(buf));
        if (n < 0 && errno != EINTR) {
            die("write");
        }
        bytes += n > 0 ? n : 0;
        t = now();
    }
    close(fd);
    report("tcp-send", 0, bytes, t - t0);
}

static void tcp_recv(const char *port, double secs, double wait)
{
    int lfd = bound_socket(SOCK_STREAM, port);
    if (listen(lfd, 1) < 0) {
        die("listen");
    }
    if (!wait_readable(lfd, (int)(wait * 1000))) {
        fprintf(stderr, "nbench: no connection within %.0f s\n", wait);
        exit(1);
    }
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) {
        die("accept");
    }
    static char buf[TCP_BUF];
    uint64_t bytes = 0;
    double first = 0, last = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        last = now();
        if (!bytes) {
            first = last;
        }
        bytes += n;
        if (last - first >= secs) {
            break;
        }
    }
    report("tcp-recv", 0, bytes, last - first);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage();
    }
    const char *mode = argv[1];
    double secs = 3, wait = 30;
    size_t payload = 18;
    int c;
    optind = 2;
    while ((c = getopt(argc, argv, "t:w:s:")) != -1) {
        switch (c) {
        case 't':
            secs = atof(optarg);
            break;
        case 'w':
            wait = atof(optarg);
            break;
        case 's':
            payload = strtoul(optarg, NULL, 0);
            break;
        default:
            usage();
        }
    }
    int left = argc - optind;
    char **a = argv + optind;
    if (payload < 1 || payload > 65000 || secs <= 0) {
        usage();
    }
    if (!strcmp(mode, "udp-send") && left == 2) {
        udp_send(a[0], a[1], secs, payload);
    } else if (!strcmp(mode, "udp-recv") && left == 1) {
        udp_recv(a[0], secs, wait);
    } else if (!strcmp(mode, "tcp-send") && left == 2) {
        tcp_send(a[0], a[1], secs);
    } else if (!strcmp(mode, "tcp-recv") && left == 1) {
        tcp_recv(a[0], secs, wait);
    } else {
        usage();
    }
    return 0;
}
