/*
 * test-memory.c: guest RAM is mapped the way QEMU maps it for KVM: each block starts on a
 * 2 MiB boundary and is advised for transparent huge pages (VmFlags "hg" in smaps), so
 * that the host can back guest 2 MiB pages with huge pages.
 */
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include "hw/memory.h"

#define MIB (1ULL << 20)

/* The VmFlags line of the mapping that starts at `start`, from /proc/self/smaps. */
static char *smaps_vmflags(const void *start)
{
    g_autofree char *smaps = NULL;
    g_assert_true(g_file_get_contents("/proc/self/smaps", &smaps, NULL, NULL));
    g_autofree char *head = g_strdup_printf("%lx-", (unsigned long)(uintptr_t)start);
    bool in = false;
    for (char *line = strtok(smaps, "\n"); line; line = strtok(NULL, "\n")) {
        if (g_ascii_isxdigit(line[0]) && strchr(line, '-') && strchr(line, ' ')) {
            in = g_str_has_prefix(line, head);
        } else if (in && g_str_has_prefix(line, "VmFlags:")) {
            return g_strdup(line);
        }
    }
    return NULL;
}

static void test_ram_aligned_huge(void)
{
    /* Both blocks: 3 GiB below 4 GiB and the rest above (MAP_NORESERVE: nothing is
     * touched, so this costs no memory). */
    g_assert_true(guest_ram_init(3072 * MIB + 6 * MIB, 3072 * MIB, NULL));
    const RamBlock *b;
    unsigned n = guest_ram_blocks(&b);
    g_assert_cmpuint(n, ==, 2);
    for (unsigned i = 0; i < n; i++) {
        g_assert_cmphex((uintptr_t)b[i].host % (2 * MIB), ==, 0);
        g_autofree char *flags = smaps_vmflags(b[i].host);
        g_assert_nonnull(flags);
        if (!strstr(flags, " hg")) {
            g_error("guest RAM block %u is not advised for huge pages: %s", i, flags);
        }
    }
    guest_ram_free();
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memory/ram-aligned-huge", test_ram_aligned_huge);
    return g_test_run();
}
