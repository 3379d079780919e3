/*
 * runstate.c: the VM's run state, the one table of allowed transitions, and the
 * notifiers that let the layers above (the monitor's events, devices, the announce
 * logic, the vCPUs) react to start/stop. It calls nothing above it.
 */
#include <stdio.h>
#include <stdlib.h>
#include "error.h"
#include "main-loop.h"
#include "qapi-enum.h"
#include "runstate.h"

typedef struct {
    RunState from, to;
} RunStateTransition;

/* QEMU's table (without COLO), plus the transitions of prelaunch-migrate. */
static const RunStateTransition transitions[] = {
    {RUN_STATE_DEBUG, RUN_STATE_RUNNING},
    {RUN_STATE_DEBUG, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_DEBUG, RUN_STATE_PRELAUNCH},
    {RUN_STATE_DEBUG, RUN_STATE_SUSPENDED},

    {RUN_STATE_INMIGRATE, RUN_STATE_INTERNAL_ERROR},
    {RUN_STATE_INMIGRATE, RUN_STATE_IO_ERROR},
    {RUN_STATE_INMIGRATE, RUN_STATE_PAUSED},
    {RUN_STATE_INMIGRATE, RUN_STATE_RUNNING},
    {RUN_STATE_INMIGRATE, RUN_STATE_SHUTDOWN},
    {RUN_STATE_INMIGRATE, RUN_STATE_SUSPENDED},
    {RUN_STATE_INMIGRATE, RUN_STATE_WATCHDOG},
    {RUN_STATE_INMIGRATE, RUN_STATE_GUEST_PANICKED},
    {RUN_STATE_INMIGRATE, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_INMIGRATE, RUN_STATE_PRELAUNCH},
    {RUN_STATE_INMIGRATE, RUN_STATE_POSTMIGRATE},
    {RUN_STATE_INMIGRATE, RUN_STATE_PRELAUNCH_MIGRATE},

    {RUN_STATE_INTERNAL_ERROR, RUN_STATE_PAUSED},
    {RUN_STATE_INTERNAL_ERROR, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_INTERNAL_ERROR, RUN_STATE_PRELAUNCH},

    {RUN_STATE_IO_ERROR, RUN_STATE_RUNNING},
    {RUN_STATE_IO_ERROR, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_IO_ERROR, RUN_STATE_PRELAUNCH},

    {RUN_STATE_PAUSED, RUN_STATE_RUNNING},
    {RUN_STATE_PAUSED, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_PAUSED, RUN_STATE_POSTMIGRATE},
    {RUN_STATE_PAUSED, RUN_STATE_PRELAUNCH},

    {RUN_STATE_POSTMIGRATE, RUN_STATE_RUNNING},
    {RUN_STATE_POSTMIGRATE, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_POSTMIGRATE, RUN_STATE_PRELAUNCH},

    {RUN_STATE_PRELAUNCH, RUN_STATE_RUNNING},
    {RUN_STATE_PRELAUNCH, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_PRELAUNCH, RUN_STATE_INMIGRATE},

    {RUN_STATE_FINISH_MIGRATE, RUN_STATE_RUNNING},
    {RUN_STATE_FINISH_MIGRATE, RUN_STATE_PAUSED},
    {RUN_STATE_FINISH_MIGRATE, RUN_STATE_POSTMIGRATE},
    {RUN_STATE_FINISH_MIGRATE, RUN_STATE_PRELAUNCH},

    {RUN_STATE_RESTORE_VM, RUN_STATE_RUNNING},
    {RUN_STATE_RESTORE_VM, RUN_STATE_PRELAUNCH},

    {RUN_STATE_RUNNING, RUN_STATE_DEBUG},
    {RUN_STATE_RUNNING, RUN_STATE_INTERNAL_ERROR},
    {RUN_STATE_RUNNING, RUN_STATE_IO_ERROR},
    {RUN_STATE_RUNNING, RUN_STATE_PAUSED},
    {RUN_STATE_RUNNING, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_RUNNING, RUN_STATE_RESTORE_VM},
    {RUN_STATE_RUNNING, RUN_STATE_SAVE_VM},
    {RUN_STATE_RUNNING, RUN_STATE_SHUTDOWN},
    {RUN_STATE_RUNNING, RUN_STATE_WATCHDOG},
    {RUN_STATE_RUNNING, RUN_STATE_GUEST_PANICKED},
    {RUN_STATE_RUNNING, RUN_STATE_SUSPENDED},

    {RUN_STATE_SAVE_VM, RUN_STATE_RUNNING},

    {RUN_STATE_SHUTDOWN, RUN_STATE_PAUSED},
    {RUN_STATE_SHUTDOWN, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_SHUTDOWN, RUN_STATE_PRELAUNCH},

    {RUN_STATE_SUSPENDED, RUN_STATE_RUNNING},
    {RUN_STATE_SUSPENDED, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_SUSPENDED, RUN_STATE_PRELAUNCH},

    {RUN_STATE_WATCHDOG, RUN_STATE_RUNNING},
    {RUN_STATE_WATCHDOG, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_WATCHDOG, RUN_STATE_PRELAUNCH},

    {RUN_STATE_GUEST_PANICKED, RUN_STATE_RUNNING},
    {RUN_STATE_GUEST_PANICKED, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_GUEST_PANICKED, RUN_STATE_PRELAUNCH},

    /* Loaded by migration, started with -S: `cont` runs it (and announces), a reset
     * or an outgoing migration may come first, the guest may be shut down. */
    {RUN_STATE_PRELAUNCH_MIGRATE, RUN_STATE_RUNNING},
    {RUN_STATE_PRELAUNCH_MIGRATE, RUN_STATE_FINISH_MIGRATE},
    {RUN_STATE_PRELAUNCH_MIGRATE, RUN_STATE_PRELAUNCH},
    {RUN_STATE_PRELAUNCH_MIGRATE, RUN_STATE_SHUTDOWN},
};

struct VMChangeStateEntry {
    VMChangeStateHandler *cb;
    void *opaque;
    int priority;
};

/* The run state registry: one per process, touched with the big lock held. */
static struct {
    RunState current;
    bool arrived_by_migration;
    bool autostart;
    GList *notifiers; /* VMChangeStateEntry, ascending priority */
} rs = {.current = RUN_STATE_PRELAUNCH, .autostart = true};

const char *runstate_name(RunState s)
{
    const char *name = s >= 0 && s < RUN_STATE__MAX ? qapi_enum_str("RunState", s) : NULL;
    return name ? name : "invalid";
}

RunState runstate_from_name(const char *name)
{
    int v = qapi_enum_value("RunState", name);
    return v >= 0 && v < RUN_STATE__MAX ? (RunState)v : RUN_STATE__MAX;
}

void runstate_init(RunState initial)
{
    rs.current = initial;
    rs.arrived_by_migration = initial == RUN_STATE_INMIGRATE;
}

RunState runstate_get(void)
{
    return rs.current;
}

bool runstate_check(RunState s)
{
    return rs.current == s;
}

bool runstate_is_running(void)
{
    return rs.current == RUN_STATE_RUNNING;
}

bool runstate_needs_reset(void)
{
    return rs.current == RUN_STATE_INTERNAL_ERROR || rs.current == RUN_STATE_SHUTDOWN ||
           rs.current == RUN_STATE_GUEST_PANICKED;
}

bool runstate_transition_allowed(RunState from, RunState to)
{
    for (size_t i = 0; i < G_N_ELEMENTS(transitions); i++) {
        if (transitions[i].from == from && transitions[i].to == to) {
            return true;
        }
    }
    return false;
}

void runstate_set(RunState s)
{
    if (s == rs.current) {
        return;
    }
    if (s < 0 || s >= RUN_STATE__MAX || !runstate_transition_allowed(rs.current, s)) {
        fprintf(stderr, "tern: invalid runstate transition: '%s' -> '%s'\n",
                runstate_name(rs.current), runstate_name(s));
        abort();
    }
    if (s == RUN_STATE_INMIGRATE) {
        rs.arrived_by_migration = true;
    } else if (s == RUN_STATE_POSTMIGRATE) {
        rs.arrived_by_migration = false; /* it moved on before it ever ran here */
    }
    rs.current = s;
}

bool runstate_arrived_by_migration(void)
{
    return rs.arrived_by_migration;
}

void runstate_set_autostart(bool autostart)
{
    rs.autostart = autostart;
}

bool runstate_autostart(void)
{
    return rs.autostart;
}

static gint notifier_cmp(gconstpointer a, gconstpointer b)
{
    const VMChangeStateEntry *ea = a, *eb = b;
    return (ea->priority > eb->priority) - (ea->priority < eb->priority);
}

VMChangeStateEntry *vm_state_notify_add(VMChangeStateHandler *cb, void *opaque, int priority)
{
    VMChangeStateEntry *e = g_new0(VMChangeStateEntry, 1);
    e->cb = cb;
    e->opaque = opaque;
    e->priority = priority;
    rs.notifiers = g_list_insert_sorted(rs.notifiers, e, notifier_cmp);
    return e;
}

void vm_state_notify_remove(VMChangeStateEntry *e)
{
    rs.notifiers = g_list_remove(rs.notifiers, e);
    g_free(e);
}

static void vm_state_notify(bool running, RunState state, RunState from)
{
    /* Copy: a handler may remove itself. */
    GList *list = g_list_copy(rs.notifiers);
    if (!running) {
        list = g_list_reverse(list);
    }
    for (GList *l = list; l; l = l->next) {
        VMChangeStateEntry *e = l->data;
        if (g_list_find(rs.notifiers, e)) {
            e->cb(e->opaque, running, state, from);
        }
    }
    g_list_free(list);
}

void vm_start(void)
{
    RunState from = rs.current;
    if (from == RUN_STATE_RUNNING) {
        return;
    }
    runstate_set(RUN_STATE_RUNNING);
    clock_virtual_set_running(true);
    vm_state_notify(true, RUN_STATE_RUNNING, from);
    /* Only the first run after an incoming migration counts as an arrival. */
    rs.arrived_by_migration = false;
}

bool vm_cont(GError **errp)
{
    if (runstate_needs_reset()) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "Resetting the Virtual Machine is required");
        return false;
    }
    if (rs.current == RUN_STATE_SUSPENDED) {
        return true;
    }
    if (rs.current == RUN_STATE_FINISH_MIGRATE) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "Migration is not finalized yet");
        return false;
    }
    if (rs.current == RUN_STATE_INMIGRATE) {
        rs.autostart = true;
        return true;
    }
    vm_start();
    return true;
}

void vm_stop(RunState state)
{
    if (!runstate_is_running()) {
        return;
    }
    clock_virtual_set_running(false);
    runstate_set(state);
    vm_state_notify(false, state, RUN_STATE_RUNNING);
}

void vm_stop_force_state(RunState state)
{
    if (runstate_is_running()) {
        vm_stop(state);
    } else {
        runstate_set(state);
    }
}
