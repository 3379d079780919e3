/* test-timers.c: timers on both clocks, manual virtual time, ordering and re-arming. */
#include <glib.h>
#include "main-loop.h"

typedef struct {
    GArray *fired; /* int64_t virtual times at which the callback ran */
    Timer *t;
    int64_t period;
    int remaining;
} Periodic;

static void periodic_cb(void *opaque)
{
    Periodic *p = opaque;
    int64_t now = clock_get_ns(TERN_CLOCK_VIRTUAL);
    g_array_append_val(p->fired, now);
    if (--p->remaining > 0) {
        timer_mod_ns(p->t, now + p->period);
    }
}

static void test_manual_step_exact(void)
{
    clock_virtual_set_manual(true);
    int64_t base = clock_get_ns(TERN_CLOCK_VIRTUAL);
    Periodic p = {g_array_new(FALSE, FALSE, sizeof(int64_t)), NULL, 50 * NS_PER_MS, 3};
    p.t = timer_new(TERN_CLOCK_VIRTUAL, periodic_cb, &p);
    timer_mod_ns(p.t, base + 10 * NS_PER_MS);
    g_assert_true(timer_pending(p.t));
    g_assert_cmpint(clock_virtual_step(9 * NS_PER_MS), ==, base + 9 * NS_PER_MS);
    g_assert_cmpuint(p.fired->len, ==, 0);
    /* one big step fires every round at the time it asked for */
    g_assert_cmpint(clock_virtual_step(NS_PER_SEC), ==, base + 9 * NS_PER_MS + NS_PER_SEC);
    g_assert_cmpuint(p.fired->len, ==, 3);
    g_assert_cmpint(g_array_index(p.fired, int64_t, 0), ==, base + 10 * NS_PER_MS);
    g_assert_cmpint(g_array_index(p.fired, int64_t, 1), ==, base + 60 * NS_PER_MS);
    g_assert_cmpint(g_array_index(p.fired, int64_t, 2), ==, base + 110 * NS_PER_MS);
    g_assert_false(timer_pending(p.t));
    timer_free(p.t);
    g_array_free(p.fired, TRUE);
}

static void test_step_to_next_deadline(void)
{
    clock_virtual_set_manual(true);
    int64_t base = clock_get_ns(TERN_CLOCK_VIRTUAL);
    Periodic p = {g_array_new(FALSE, FALSE, sizeof(int64_t)), NULL, 0, 1};
    p.t = timer_new(TERN_CLOCK_VIRTUAL, periodic_cb, &p);
    timer_mod_ns(p.t, base + 777);
    g_assert_cmpint(clock_virtual_step(-1), ==, base + 777);
    g_assert_cmpuint(p.fired->len, ==, 1);
    /* nothing pending: stays put */
    g_assert_cmpint(clock_virtual_step(-1), ==, base + 777);
    /* clock_set never goes backwards */
    g_assert_cmpint(clock_virtual_set(base), ==, base + 777);
    timer_free(p.t);
    g_array_free(p.fired, TRUE);
}

static void order_cb(void *opaque)
{
    GString *s = opaque;
    g_string_append_c(s, 'x');
}

static void test_delete_and_rearm(void)
{
    clock_virtual_set_manual(true);
    int64_t base = clock_get_ns(TERN_CLOCK_VIRTUAL);
    GString *s = g_string_new(NULL);
    Timer *t = timer_new(TERN_CLOCK_VIRTUAL, order_cb, s);
    timer_mod_ns(t, base + 100);
    timer_mod_ns(t, base + 300); /* re-arming moves it */
    clock_virtual_step(200);
    g_assert_cmpstr(s->str, ==, "");
    timer_del(t);
    clock_virtual_step(200);
    g_assert_cmpstr(s->str, ==, "");
    g_assert_cmpint(clock_deadline_ns(TERN_CLOCK_VIRTUAL), ==, -1);
    timer_free(t);
    g_string_free(s, TRUE);
}

static void quit_cb(void *opaque)
{
    int64_t *when = opaque;
    *when = clock_get_ns(TERN_CLOCK_REALTIME);
    main_loop_quit(7);
}

/* A realtime timer wakes the main loop with millisecond resolution. */
static void test_realtime_timer_in_loop(void)
{
    int64_t fired = 0;
    Timer *t = timer_new(TERN_CLOCK_REALTIME, quit_cb, &fired);
    int64_t start = clock_get_ns(TERN_CLOCK_REALTIME);
    timer_mod_ns(t, start + 15 * NS_PER_MS);
    g_assert_cmpint(main_loop_run(), ==, 7);
    g_assert_cmpint(fired - start, >=, 15 * NS_PER_MS);
    timer_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    g_test_add_func("/timers/manual-step-exact", test_manual_step_exact);
    g_test_add_func("/timers/step-to-next-deadline", test_step_to_next_deadline);
    g_test_add_func("/timers/delete-and-rearm", test_delete_and_rearm);
    g_test_add_func("/timers/realtime-in-loop", test_realtime_timer_in_loop);
    return g_test_run();
}
