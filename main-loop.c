/*
 * main-loop.c: the GLib main context that runs devices, timers and QMP, the realtime and
 * virtual clocks, timers on them, and the big lock.
 *
 * The main thread holds the big lock except while it polls, so vCPU and migration threads
 * get it exactly when the main loop is idle (QEMU's BQL scheme). Timers live in a small
 * list per clock; one GSource wakes the loop at the earliest deadline.
 */
#include <poll.h>
#include <time.h>
#include "main-loop.h"

struct Timer {
    TernClockType type;
    TimerCb *cb;
    void *opaque;
    int64_t expire_ns;
    bool pending;
};

/* The loop's registry: one per process. */
static struct {
    GMainContext *ctx;
    GSource *timer_source;
    GPtrArray *timers[TERN_CLOCK__MAX]; /* pending timers, unordered */
    bool quit;
    int exit_code;
    GPollFunc default_poll;

    GMutex clock_lock;
    bool virt_running;
    bool virt_manual;
    int64_t virt_frozen_ns; /* value while stopped or manual */
    int64_t virt_offset_ns; /* running: virtual = monotonic + offset */
} ml;

static GMutex big_lock;
static __thread bool big_lock_held;

void bql_lock(void)
{
    g_mutex_lock(&big_lock);
    big_lock_held = true;
}

void bql_unlock(void)
{
    big_lock_held = false;
    g_mutex_unlock(&big_lock);
}

bool bql_locked(void)
{
    return big_lock_held;
}

static int64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t clock_get_ns(TernClockType type)
{
    if (type == TERN_CLOCK_REALTIME) {
        return monotonic_ns();
    }
    g_mutex_lock(&ml.clock_lock);
    int64_t v = (ml.virt_running && !ml.virt_manual) ? monotonic_ns() + ml.virt_offset_ns
                                                     : ml.virt_frozen_ns;
    g_mutex_unlock(&ml.clock_lock);
    return v;
}

int64_t clock_get_ms(TernClockType type)
{
    return clock_get_ns(type) / NS_PER_MS;
}

static GPtrArray *timer_list(TernClockType type)
{
    if (!ml.timers[type]) {
        ml.timers[type] = g_ptr_array_new();
    }
    return ml.timers[type];
}

int64_t clock_deadline_ns(TernClockType type)
{
    GPtrArray *list = timer_list(type);
    int64_t best = -1;
    for (guint i = 0; i < list->len; i++) {
        Timer *t = g_ptr_array_index(list, i);
        if (best < 0 || t->expire_ns < best) {
            best = t->expire_ns;
        }
    }
    return best;
}

/* Fire, in deadline order, every timer on `type` due at or before `now`. A callback may
 * arm or delete any timer, itself included. */
static bool timers_run_due(TernClockType type, int64_t now)
{
    bool ran = false;
    for (;;) {
        GPtrArray *list = timer_list(type);
        Timer *due = NULL;
        for (guint i = 0; i < list->len; i++) {
            Timer *t = g_ptr_array_index(list, i);
            if (t->expire_ns <= now && (!due || t->expire_ns < due->expire_ns)) {
                due = t;
            }
        }
        if (!due) {
            return ran;
        }
        timer_del(due);
        due->cb(due->opaque);
        ran = true;
    }
}

static bool virtual_clock_ticks(void)
{
    return ml.virt_running && !ml.virt_manual;
}

/* Nanoseconds until the earliest deadline the loop must wake for, or -1. */
static int64_t timer_wait_ns(void)
{
    int64_t now = monotonic_ns();
    int64_t wait = -1;
    int64_t d = clock_deadline_ns(TERN_CLOCK_REALTIME);
    if (d >= 0) {
        wait = MAX(d - now, 0);
    }
    if (virtual_clock_ticks()) {
        d = clock_deadline_ns(TERN_CLOCK_VIRTUAL);
        if (d >= 0) {
            int64_t v = MAX(d - clock_get_ns(TERN_CLOCK_VIRTUAL), 0);
            wait = wait < 0 ? v : MIN(wait, v);
        }
    }
    return wait;
}

/* The same in milliseconds, rounded up (GLib's unit). */
static int timer_source_timeout_ms(void)
{
    int64_t wait = timer_wait_ns();
    if (wait < 0) {
        return -1;
    }
    return (int)MIN((wait + NS_PER_MS - 1) / NS_PER_MS, G_MAXINT);
}

static gboolean timer_source_prepare(GSource *source, gint *timeout)
{
    *timeout = timer_source_timeout_ms();
    return *timeout == 0;
}

static gboolean timer_source_check(GSource *source)
{
    return timer_source_timeout_ms() == 0;
}

static gboolean timer_source_dispatch(GSource *source, GSourceFunc cb, gpointer data)
{
    timers_run_due(TERN_CLOCK_REALTIME, monotonic_ns());
    if (virtual_clock_ticks()) {
        timers_run_due(TERN_CLOCK_VIRTUAL, clock_get_ns(TERN_CLOCK_VIRTUAL));
    }
    return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_source_funcs = {
    .prepare = timer_source_prepare,
    .check = timer_source_check,
    .dispatch = timer_source_dispatch,
};

/* Poll without the big lock so other threads can take it while the loop sleeps. */
static gint unlocked_poll(GPollFD *fds, guint nfds, gint timeout)
{
    bool held = bql_locked();
    if (held) {
        bql_unlock();
    }
    /* GLib rounds timeouts up to milliseconds; a timer due sooner (virtio-net's
     * transmit timer: 150 us) waits its own time, not a whole millisecond. */
    int64_t wait = timeout > 0 ? timer_wait_ns() : -1;
    gint r;
    if (wait >= 0 && wait < timeout * NS_PER_MS) {
        struct timespec ts = {wait / NS_PER_SEC, wait % NS_PER_SEC};
        /* GPollFD is struct pollfd on Unix (GLib guarantees the layout). */
        r = ppoll((struct pollfd *)fds, nfds, &ts, NULL);
    } else {
        r = ml.default_poll(fds, nfds, timeout);
    }
    if (held) {
        bql_lock();
    }
    return r;
}

void main_loop_init(void)
{
    if (ml.ctx) {
        return;
    }
    ml.ctx = g_main_context_default();
    ml.default_poll = g_main_context_get_poll_func(ml.ctx);
    g_main_context_set_poll_func(ml.ctx, unlocked_poll);
    ml.timer_source = g_source_new(&timer_source_funcs, sizeof(GSource));
    g_source_set_name(ml.timer_source, "tern-timers");
    g_source_attach(ml.timer_source, ml.ctx);
}

GMainContext *main_loop_context(void)
{
    main_loop_init();
    return ml.ctx;
}

bool main_loop_iterate(bool may_block)
{
    main_loop_init();
    return g_main_context_iteration(ml.ctx, may_block);
}

int main_loop_run(void)
{
    main_loop_init();
    bool held = bql_locked();
    if (!held) {
        bql_lock();
    }
    while (!ml.quit) {
        g_main_context_iteration(ml.ctx, TRUE);
    }
    if (!held) {
        bql_unlock();
    }
    return ml.exit_code;
}

void main_loop_quit(int exit_code)
{
    ml.exit_code = exit_code;
    ml.quit = true;
    if (ml.ctx) {
        g_main_context_wakeup(ml.ctx);
    }
}

bool main_loop_quit_requested(void)
{
    return ml.quit;
}

static void main_loop_kick(void)
{
    if (ml.ctx) {
        g_main_context_wakeup(ml.ctx);
    }
}

void clock_virtual_set_running(bool running)
{
    g_mutex_lock(&ml.clock_lock);
    if (running != ml.virt_running && !ml.virt_manual) {
        int64_t now = monotonic_ns();
        if (running) {
            ml.virt_offset_ns = ml.virt_frozen_ns - now;
        } else {
            ml.virt_frozen_ns = now + ml.virt_offset_ns;
        }
    }
    ml.virt_running = running;
    g_mutex_unlock(&ml.clock_lock);
    main_loop_kick();
}

void clock_virtual_set_manual(bool manual)
{
    g_mutex_lock(&ml.clock_lock);
    if (manual && !ml.virt_manual && ml.virt_running) {
        ml.virt_frozen_ns = monotonic_ns() + ml.virt_offset_ns;
    } else if (!manual && ml.virt_manual && ml.virt_running) {
        ml.virt_offset_ns = ml.virt_frozen_ns - monotonic_ns();
    }
    ml.virt_manual = manual;
    g_mutex_unlock(&ml.clock_lock);
}

bool clock_virtual_is_manual(void)
{
    return ml.virt_manual;
}

static void virt_manual_move(int64_t ns)
{
    g_mutex_lock(&ml.clock_lock);
    ml.virt_frozen_ns = ns;
    g_mutex_unlock(&ml.clock_lock);
}

int64_t clock_virtual_set(int64_t target)
{
    g_return_val_if_fail(ml.virt_manual, clock_get_ns(TERN_CLOCK_VIRTUAL));
    int64_t now = clock_get_ns(TERN_CLOCK_VIRTUAL);
    if (target < now) {
        target = now;
    }
    /* Walk deadline by deadline so each timer sees the time it asked for. */
    for (;;) {
        int64_t d = clock_deadline_ns(TERN_CLOCK_VIRTUAL);
        if (d < 0 || d > target) {
            break;
        }
        if (d > clock_get_ns(TERN_CLOCK_VIRTUAL)) {
            virt_manual_move(d);
        }
        timers_run_due(TERN_CLOCK_VIRTUAL, clock_get_ns(TERN_CLOCK_VIRTUAL));
    }
    virt_manual_move(target);
    return target;
}

int64_t clock_virtual_step(int64_t ns)
{
    int64_t now = clock_get_ns(TERN_CLOCK_VIRTUAL);
    if (ns < 0) {
        int64_t d = clock_deadline_ns(TERN_CLOCK_VIRTUAL);
        return clock_virtual_set(d < 0 ? now : d);
    }
    return clock_virtual_set(now + ns);
}

Timer *timer_new(TernClockType type, TimerCb *cb, void *opaque)
{
    Timer *t = g_new0(Timer, 1);
    t->type = type;
    t->cb = cb;
    t->opaque = opaque;
    return t;
}

void timer_free(Timer *t)
{
    if (t) {
        timer_del(t);
        g_free(t);
    }
}

void timer_mod_ns(Timer *t, int64_t expire_ns)
{
    if (!t->pending) {
        g_ptr_array_add(timer_list(t->type), t);
        t->pending = true;
    }
    t->expire_ns = expire_ns;
    main_loop_kick();
}

void timer_del(Timer *t)
{
    if (t->pending) {
        g_ptr_array_remove_fast(timer_list(t->type), t);
        t->pending = false;
    }
}

bool timer_pending(const Timer *t)
{
    return t->pending;
}

int64_t timer_expire_ns(const Timer *t)
{
    return t->expire_ns;
}
