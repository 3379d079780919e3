/*
 * runstate.h: QEMU's run states plus prelaunch-migrate, one enforced transition table,
 * and state-change notifiers with priorities.
 */
#ifndef TERN_RUNSTATE_H
#define TERN_RUNSTATE_H

#include <glib.h>
#include <stdbool.h>

/* The schema's RunState, in its order: the names come from there (qapi-enum.h). */
typedef enum {
    RUN_STATE_DEBUG,
    RUN_STATE_INMIGRATE,
    RUN_STATE_INTERNAL_ERROR,
    RUN_STATE_IO_ERROR,
    RUN_STATE_PAUSED,
    RUN_STATE_POSTMIGRATE,
    RUN_STATE_PRELAUNCH,
    RUN_STATE_FINISH_MIGRATE,
    RUN_STATE_RESTORE_VM,
    RUN_STATE_RUNNING,
    RUN_STATE_SAVE_VM,
    RUN_STATE_SHUTDOWN,
    RUN_STATE_SUSPENDED,
    RUN_STATE_WATCHDOG,
    RUN_STATE_GUEST_PANICKED,
    /* tern: an incoming migration finished loading; started with -S, waits for `cont`. */
    RUN_STATE_PRELAUNCH_MIGRATE,
    RUN_STATE__MAX,
} RunState;

const char *runstate_name(RunState s);
/* Parse a QMP name; returns RUN_STATE__MAX when unknown. */
RunState runstate_from_name(const char *name);

/* Initial state at start-up (prelaunch, or inmigrate with -incoming). */
void runstate_init(RunState initial);
RunState runstate_get(void);
bool runstate_check(RunState s);
bool runstate_is_running(void);
bool runstate_transition_allowed(RunState from, RunState to);
/* Move to a new state; a transition outside the table is a programming error: abort. */
void runstate_set(RunState s);

/*
 * Notifiers run on every change of the `running` flag (vm_start / vm_stop): in ascending
 * priority when starting, descending when stopping. So devices resume first and vCPUs
 * last; vCPUs stop first and devices last. `from` is the state the VM left; a handler that
 * wants "first run after an incoming migration" tests from == INMIGRATE || PRELAUNCH_MIGRATE.
 */
typedef void VMChangeStateHandler(void *opaque, bool running, RunState state, RunState from);
typedef struct VMChangeStateEntry VMChangeStateEntry;

enum {
    VM_STATE_PRIO_MONITOR = 0,  /* QMP RESUME first on a start, STOP last on a stop */
    VM_STATE_PRIO_DEVICE = 100, /* device models */
    VM_STATE_PRIO_NET = 200,    /* announce: after every device has resumed */
    VM_STATE_PRIO_ACCEL = 300,  /* vCPUs: last to start, first to stop */
};

VMChangeStateEntry *vm_state_notify_add(VMChangeStateHandler *cb, void *opaque, int priority);
void vm_state_notify_remove(VMChangeStateEntry *e);

/*
 * Start the VM from a stopped state: moves to running, starts the virtual clock and runs
 * the notifiers (the monitor's emits RESUME). A no-op when already running.
 */
void vm_start(void);
/* QMP `cont`, QEMU's rules: refused when the VM needs a reset (shutdown, internal-error,
 * guest-panicked) or mid-migration (finish-migrate); in inmigrate it only sets autostart. */
bool vm_cont(GError **errp);
/* Stop a running VM into `state` (paused, shutdown, ...): vCPUs stop, the virtual clock
 * stops, the monitor's notifier emits STOP. Does nothing when the VM is not running
 * (QEMU's `stop`). */
void vm_stop(RunState state);
/* Like vm_stop, but moves to `state` even when the VM is already stopped (migration's
 * finish-migrate, postmigrate). */
void vm_stop_force_state(RunState state);
/* shutdown, internal-error, guest-panicked: only a reset can leave them. */
bool runstate_needs_reset(void);
/* True when the VM arrived by migration and has not yet run since (announce uses it). */
bool runstate_arrived_by_migration(void);

/* What `-S`/autostart asked for; used by migration to pick running vs prelaunch-migrate. */
void runstate_set_autostart(bool autostart);
bool runstate_autostart(void);

#endif
