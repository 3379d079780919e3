/*
 * main-loop.h: the event loop (a GLib GMainContext on the main thread), the two clocks and
 * timers on them, and the big lock that guards device state.
 *
 * Clocks count nanoseconds. The realtime clock is CLOCK_MONOTONIC. The virtual clock
 * advances only while the VM runs; under qtest it is manual and moves only when the test
 * steps it. Timers fire on the main thread, with the big lock held.
 */
#ifndef TERN_MAIN_LOOP_H
#define TERN_MAIN_LOOP_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef enum {
    TERN_CLOCK_REALTIME,
    TERN_CLOCK_VIRTUAL,
    TERN_CLOCK__MAX,
} TernClockType;

#define NS_PER_MS 1000000LL
#define NS_PER_SEC 1000000000LL

void main_loop_init(void);
GMainContext *main_loop_context(void);
/* Runs until main_loop_quit(); returns the exit code given there. */
int main_loop_run(void);
void main_loop_quit(int exit_code);
bool main_loop_quit_requested(void);
/* Run one iteration of the loop (for tests); may_block as g_main_context_iteration. */
bool main_loop_iterate(bool may_block);

int64_t clock_get_ns(TernClockType type);
int64_t clock_get_ms(TernClockType type);

/* Start or stop the virtual clock (runstate calls this on entering/leaving running). */
void clock_virtual_set_running(bool running);
/* Manual mode (qtest): the virtual clock moves only by clock_virtual_step/set. */
void clock_virtual_set_manual(bool manual);
bool clock_virtual_is_manual(void);
/* Manual mode: advance by ns (or to the next deadline when ns < 0), firing every timer
 * due on the way in order; returns the new virtual time. */
int64_t clock_virtual_step(int64_t ns);
/* Manual mode: move to ns (never backwards), firing due timers; returns the new time. */
int64_t clock_virtual_set(int64_t ns);
/* Earliest pending deadline on a clock, or -1. */
int64_t clock_deadline_ns(TernClockType type);

typedef struct Timer Timer;
typedef void TimerCb(void *opaque);

Timer *timer_new(TernClockType type, TimerCb *cb, void *opaque);
void timer_free(Timer *t);
/* Arm at an absolute time on the timer's clock (re-arming moves it). */
void timer_mod_ns(Timer *t, int64_t expire_ns);
void timer_del(Timer *t);
bool timer_pending(const Timer *t);
int64_t timer_expire_ns(const Timer *t);

/* The big lock: held by the main loop while it dispatches, taken by vCPU and migration
 * threads before they touch device state. */
void bql_lock(void);
void bql_unlock(void);
bool bql_locked(void);

#endif
