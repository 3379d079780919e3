/* test-iov: util/iov.c, the iovec walker: ranges across pieces, ends, empty pieces. */
#include <glib.h>
#include <string.h>
#include "iov.h"

/* "abc" | "" | "defg" | "h" */
static char p0[] = "abc", p2[] = "defg", p3[] = "h";
static struct iovec list[] = {{p0, 3}, {NULL, 0}, {p2, 4}, {p3, 1}};

static void test_size(void)
{
    g_assert_cmpuint(iov_size(list, 4), ==, 8);
    g_assert_cmpuint(iov_size(list, 0), ==, 0);
}

static void test_to_buf(void)
{
    char out[16] = {0};
    g_assert_cmpuint(iov_to_buf(list, 4, 0, out, 8), ==, 8);
    g_assert_cmpstr(out, ==, "abcdefgh");
    memset(out, 0, sizeof(out));
    g_assert_cmpuint(iov_to_buf(list, 4, 2, out, 3), ==, 3);
    g_assert_cmpstr(out, ==, "cde");
    /* past the end: as far as it reaches */
    memset(out, 0, sizeof(out));
    g_assert_cmpuint(iov_to_buf(list, 4, 6, out, 10), ==, 2);
    g_assert_cmpstr(out, ==, "gh");
    g_assert_cmpuint(iov_to_buf(list, 4, 8, out, 1), ==, 0);
}

static void test_from_buf(void)
{
    char a[3], b[2];
    struct iovec v[] = {{a, 3}, {b, 2}};
    g_assert_cmpuint(iov_from_buf(v, 2, 1, "wxyz!", 5), ==, 4);
    g_assert_cmpmem(a + 1, 2, "wx", 2);
    g_assert_cmpmem(b, 2, "yz", 2);
}

static bool stop_after_one(void *p, size_t n, void *opaque)
{
    (*(int *)opaque)++;
    return false;
}

static void test_walk_stops(void)
{
    int calls = 0;
    g_assert_false(iov_walk(list, 4, 0, 8, stop_after_one, &calls));
    g_assert_cmpint(calls, ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/iov/size", test_size);
    g_test_add_func("/iov/to-buf", test_to_buf);
    g_test_add_func("/iov/from-buf", test_from_buf);
    g_test_add_func("/iov/walk-stops", test_walk_stops);
    return g_test_run();
}
