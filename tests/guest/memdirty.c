/*
 * memdirty: keep guest memory dirty and check that none of it was lost.
 *
 * For tern's migration tests, runs inside the test guest (static binary in the
 * initramfs, /bin/memdirty). A shell loop is far too slow to dirty memory at a
 * rate that stresses pre-copy, so this is C.
 *
 *   memdirty [-s] [-r MIB_PER_S] [-t SECONDS] [-i SECONDS] MIB
 *
 * Allocates MIB MiB, fills every 4 KiB page, then sweeps over the pages again
 * and again, rewriting each one with a new generation number (unless -s).
 * Each page holds: word 0 = magic ^ page index, word 1 = generation, the rest a
 * pseudo-random function of (index, generation, word). A separate table
 * remembers the generation last written to every page.
 *
 * A migration that loses a dirty page leaves a page whose content is older than
 * the table (or a table older than the page, or a torn page): verification
 * compares every page with the table and with its own formula.
 *
 *   -s        static: fill once, then never write again (content and checksum
 *             must survive migration unchanged)
 *   -r N      limit dirtying to N MiB/s (default 0: as fast as possible)
 *   -t N      run N seconds, then verify, print the result and exit
 *             (0 = run until a signal; the default)
 *   -i N      print a STATUS line every N seconds (default 0: never)
 *
 * Signals: SIGUSR1 verifies now and goes on; SIGTERM/SIGINT verify and exit;
 * SIGUSR2 rolls page 0 back one generation without telling the table, i.e.
 * simulates a lost dirty page (a negative control: the next verify must FAIL).
 * Output (stdout, one line each, flushed):
 *   MEMDIRTY READY pid=<pid> mib=<n>
 *   MEMDIRTY STATUS sweeps=<n> pages=<total pages written> mib_s=<rate>
 *   MEMDIRTY VERIFY OK pages=<n> sweeps=<n> checksum=<16 hex>
 *   MEMDIRTY VERIFY FAIL bad=<n> first=<page> want_gen=<g> got_gen=<g> ...
 * Exit status: 0 when the last verification passed, 1 when it failed, 2 on a
 * usage or allocation error.
 *
 * The checksum covers all page contents; in -s mode it is constant, so tests
 * can compare it before and after a migration.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096u
#define WORDS (PAGE / 8u)
#define MAGIC 0x7465726e4d454d44ull /* "ternMEMD" */

static volatile sig_atomic_t want_verify, want_exit, want_corrupt;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        want_verify = 1;
    else if (sig == SIGUSR2)
        want_corrupt = 1;
    else
        want_exit = 1;
}

static inline uint64_t mix(uint64_t idx, uint64_t gen, uint64_t w)
{
    /* splitmix64 finaliser over a combination of the inputs */
    uint64_t x = idx * 0x9e3779b97f4a7c15ull ^ gen * 0xc2b2ae3d27d4eb4full ^ w;
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static void write_page(uint64_t *p, uint64_t idx, uint64_t gen)
{
    p[0] = MAGIC ^ idx;
    p[1] = gen;
    for (uint64_t w = 2; w < WORDS; w++)
        p[w] = mix(idx, gen, w);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t *mem, *table;
static uint64_t npages, sweeps, written;

/* Returns the number of bad pages and prints one VERIFY line. */
static uint64_t verify(void)
{
    uint64_t bad = 0, first = 0, want = 0, got = 0, sum = 0;
    for (uint64_t i = 0; i < npages; i++) {
        uint64_t *p = mem + i * WORDS;
        int ok = p[0] == (MAGIC ^ i) && p[1] == table[i];
        for (uint64_t w = 2; ok && w < WORDS; w++)
            ok = p[w] == mix(i, p[1], w);
        for (uint64_t w = 0; w < WORDS; w++)
            sum = (sum ^ p[w]) * 0x100000001b3ull + w;
        if (!ok) {
            if (!bad) {
                first = i;
                want = table[i];
                got = p[1];
            }
            bad++;
        }
    }
    if (bad)
        printf("MEMDIRTY VERIFY FAIL bad=%" PRIu64 " first=%" PRIu64 " want_gen=%" PRIu64
               " got_gen=%" PRIu64 " pages=%" PRIu64 "\n",
               bad, first, want, got, npages);
    else
        printf("MEMDIRTY VERIFY OK pages=%" PRIu64 " sweeps=%" PRIu64 " checksum=%016" PRIx64
               "\n",
               npages, sweeps, sum);
    fflush(stdout);
    return bad;
}

static void usage(void)
{
    fprintf(stderr, "usage: memdirty [-s] [-r MIB_PER_S] [-t SECONDS] [-i SECONDS] MIB\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int opt, stat = 0;
    double rate = 0, duration = 0, interval = 0;

    while ((opt = getopt(argc, argv, "sr:t:i:")) != -1) {
        switch (opt) {
        case 's':
            stat = 1;
            break;
        case 'r':
            rate = atof(optarg);
            break;
        case 't':
            duration = atof(optarg);
            break;
        case 'i':
            interval = atof(optarg);
            break;
        default:
            usage();
        }
    }
    if (optind != argc - 1)
        usage();
    long mib = atol(argv[optind]);
    if (mib <= 0)
        usage();
    npages = (uint64_t)mib * (1024 * 1024 / PAGE);

    mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    table = calloc(npages, sizeof(*table));
    if (mem == MAP_FAILED || !table) {
        fprintf(stderr, "memdirty: cannot allocate %ld MiB: %s\n", mib, strerror(errno));
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    for (uint64_t i = 0; i < npages; i++) {
        write_page(mem + i * WORDS, i, 1);
        table[i] = 1;
    }
    printf("MEMDIRTY READY pid=%d mib=%ld\n", (int)getpid(), mib);
    fflush(stdout);

    double start = now(), last_status = start, window_start = start;
    uint64_t window_written = 0, last_written = 0;
    uint64_t i = 0, bad = 0;
    int frozen0 = 0;
    for (;;) {
        if (want_corrupt) {
            want_corrupt = 0;
            write_page(mem, 0, table[0] - 1);
            frozen0 = 1; /* the sweep must not repair page 0 */
        }
        if (want_verify) {
            want_verify = 0;
            bad = verify();
        }
        if (want_exit || (duration > 0 && now() - start >= duration))
            break;
        if (interval > 0 && now() - last_status >= interval) {
            double t = now();
            printf("MEMDIRTY STATUS sweeps=%" PRIu64 " pages=%" PRIu64 " mib_s=%.1f\n", sweeps,
                   written,
                   (written - last_written) * (double)PAGE / (1 << 20) / (t - last_status));
            fflush(stdout);
            last_status = t;
            last_written = written;
        }
        if (stat) {
            usleep(50000);
            continue;
        }
        /* 64 pages (256 KiB) between checks of signals, clock and rate */
        for (int k = 0; k < 64; k++) {
            if (i == 0 && frozen0)
                i = npages > 1 ? 1 : 0;
            uint64_t gen = table[i] + 1;
            write_page(mem + i * WORDS, i, gen);
            table[i] = gen;
            written++;
            window_written++;
            if (++i == npages) {
                i = 0;
                sweeps++;
            }
        }
        if (rate > 0) {
            double ahead =
                window_written * (double)PAGE / (1 << 20) / rate - (now() - window_start);
            if (ahead > 0)
                usleep((useconds_t)(ahead * 1e6));
            if (now() - window_start > 1.0) { /* no bursts after a stall */
                window_start = now();
                window_written = 0;
            }
        }
    }
    bad = verify();
    return bad ? 1 : 0;
}
