/*
 * test-precopy.c: when pre-copy stops the VM (ram_precopy_converged): not before the
 * rest fits in the downtime limit; once it fits, only when a further pass would not
 * halve it (the limit is a ceiling, not a target), and never more than a bounded number
 * of passes later.
 */
#include <glib.h>
#include <stdint.h>
#include "migration/ram.h"

#define MIB (1ULL << 20)

static void test_not_before_it_fits(void)
{
    unsigned extra = 0;
    g_assert_false(ram_precopy_converged(64 * MIB, UINT64_MAX, 30 * MIB, &extra));
    g_assert_false(ram_precopy_converged(40 * MIB, 64 * MIB, 30 * MIB, &extra));
    g_assert_true(ram_precopy_converged(0, 64 * MIB, 30 * MIB, &extra));
}

static void test_goes_on_while_shrinking(void)
{
    unsigned extra = 0;
    /* Fits (20 MiB of a 30 MiB budget), but the pass left a fifth behind: go on. */
    g_assert_false(ram_precopy_converged(20 * MIB, 100 * MIB, 30 * MIB, &extra));
    g_assert_false(ram_precopy_converged(4 * MIB, 20 * MIB, 30 * MIB, &extra));
    /* The guest dirties as fast as the pass sends: stop now. */
    g_assert_true(ram_precopy_converged(3 * MIB, 4 * MIB, 30 * MIB, &extra));
}

static void test_bounded(void)
{
    unsigned extra = 0;
    uint64_t prev = 1ULL << 40, cur = prev / 4;
    unsigned passes = 0;
    while (!ram_precopy_converged(cur, prev, (double)(1ULL << 41), &extra)) {
        prev = cur;
        cur = MAX(cur / 4, 1); /* always shrinking fast, never empty */
        g_assert_cmpuint(++passes, <, 100);
    }
    g_assert_cmpuint(passes, ==, 16);
}

static void test_fitting_again_restarts_the_count(void)
{
    unsigned extra = 0;
    g_assert_false(ram_precopy_converged(10 * MIB, 100 * MIB, 30 * MIB, &extra));
    g_assert_cmpuint(extra, ==, 1);
    /* A burst of dirtying: no longer fits; the count starts again when it does. */
    g_assert_false(ram_precopy_converged(50 * MIB, 10 * MIB, 30 * MIB, &extra));
    g_assert_cmpuint(extra, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/precopy/not-before-it-fits", test_not_before_it_fits);
    g_test_add_func("/precopy/goes-on-while-shrinking", test_goes_on_while_shrinking);
    g_test_add_func("/precopy/bounded", test_bounded);
    g_test_add_func("/precopy/fitting-again", test_fitting_again_restarts_the_count);
    return g_test_run();
}
