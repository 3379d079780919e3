/* test-runstate.c: the transition table, notifier order, and vm_start/vm_stop/vm_cont. */
#include <glib.h>
#include "main-loop.h"
#include "runstate.h"

/* Every transition the table allows, spelled out independently of runstate.c. */
static const char *const allowed[] = {
    "debug>running",
    "debug>finish-migrate",
    "debug>prelaunch",
    "debug>suspended",
    "inmigrate>internal-error",
    "inmigrate>io-error",
    "inmigrate>paused",
    "inmigrate>running",
    "inmigrate>shutdown",
    "inmigrate>suspended",
    "inmigrate>watchdog",
    "inmigrate>guest-panicked",
    "inmigrate>finish-migrate",
    "inmigrate>prelaunch",
    "inmigrate>postmigrate",
    "inmigrate>prelaunch-migrate",
    "internal-error>paused",
    "internal-error>finish-migrate",
    "internal-error>prelaunch",
    "io-error>running",
    "io-error>finish-migrate",
    "io-error>prelaunch",
    "paused>running",
    "paused>finish-migrate",
    "paused>postmigrate",
    "paused>prelaunch",
    "postmigrate>running",
    "postmigrate>finish-migrate",
    "postmigrate>prelaunch",
    "prelaunch>running",
    "prelaunch>finish-migrate",
    "prelaunch>inmigrate",
    "finish-migrate>running",
    "finish-migrate>paused",
    "finish-migrate>postmigrate",
    "finish-migrate>prelaunch",
    "restore-vm>running",
    "restore-vm>prelaunch",
    "running>debug",
    "running>internal-error",
    "running>io-error",
    "running>paused",
    "running>finish-migrate",
    "running>restore-vm",
    "running>save-vm",
    "running>shutdown",
    "running>watchdog",
    "running>guest-panicked",
    "running>suspended",
    "save-vm>running",
    "shutdown>paused",
    "shutdown>finish-migrate",
    "shutdown>prelaunch",
    "suspended>running",
    "suspended>finish-migrate",
    "suspended>prelaunch",
    "watchdog>running",
    "watchdog>finish-migrate",
    "watchdog>prelaunch",
    "guest-panicked>running",
    "guest-panicked>finish-migrate",
    "guest-panicked>prelaunch",
    "prelaunch-migrate>running",
    "prelaunch-migrate>finish-migrate",
    "prelaunch-migrate>prelaunch",
    "prelaunch-migrate>shutdown",
    NULL,
};

static void test_names(void)
{
    static const char *const names[] = {
        "debug",      "inmigrate",   "internal-error", "io-error",
        "paused",     "postmigrate", "prelaunch",      "finish-migrate",
        "restore-vm", "running",     "save-vm",        "shutdown",
        "suspended",  "watchdog",    "guest-panicked", "prelaunch-migrate",
    };
    g_assert_cmpint(G_N_ELEMENTS(names), ==, RUN_STATE__MAX);
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        RunState s = runstate_from_name(names[i]);
        g_assert_cmpint(s, <, RUN_STATE__MAX);
        g_assert_cmpstr(runstate_name(s), ==, names[i]);
    }
    g_assert_cmpint(runstate_from_name("colo"), ==, RUN_STATE__MAX);
}

/* The table holds exactly the list above: every pair is checked, allowed or refused. */
static void test_table_exact(void)
{
    int n_allowed = 0;
    for (int from = 0; from < RUN_STATE__MAX; from++) {
        for (int to = 0; to < RUN_STATE__MAX; to++) {
            g_autofree char *key =
                g_strdup_printf("%s>%s", runstate_name(from), runstate_name(to));
            bool expect = g_strv_contains(allowed, key);
            if (runstate_transition_allowed(from, to) != expect) {
                g_test_message("transition %s: table says %d, expected %d", key, !expect,
                               expect);
                g_test_fail();
            }
            n_allowed += expect;
        }
    }
    g_assert_cmpint(n_allowed, ==, g_strv_length((char **)allowed));
}

static void test_refused_samples(void)
{
    g_assert_false(runstate_transition_allowed(RUN_STATE_PRELAUNCH, RUN_STATE_POSTMIGRATE));
    g_assert_false(runstate_transition_allowed(RUN_STATE_RUNNING, RUN_STATE_INMIGRATE));
    g_assert_false(runstate_transition_allowed(RUN_STATE_SHUTDOWN, RUN_STATE_RUNNING));
    g_assert_false(runstate_transition_allowed(RUN_STATE_RUNNING, RUN_STATE_PRELAUNCH_MIGRATE));
    g_assert_false(
        runstate_transition_allowed(RUN_STATE_PRELAUNCH, RUN_STATE_PRELAUNCH_MIGRATE));
    g_assert_false(
        runstate_transition_allowed(RUN_STATE_PRELAUNCH_MIGRATE, RUN_STATE_INMIGRATE));
}

/* An invalid transition is a programming error: the process aborts. */
static void test_invalid_aborts(void)
{
    if (g_test_subprocess()) {
        runstate_init(RUN_STATE_SHUTDOWN);
        runstate_set(RUN_STATE_RUNNING);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*invalid runstate transition: 'shutdown' -> 'running'*");
}

typedef struct {
    GString *log;
} NotifyLog;

static void note(void *opaque, bool running, RunState state, RunState from, const char *who)
{
    NotifyLog *l = opaque;
    g_string_append_printf(l->log, "%s:%d:%s<%s ", who, running, runstate_name(state),
                           runstate_name(from));
}

static void note_dev(void *o, bool r, RunState s, RunState f)
{
    note(o, r, s, f, "dev");
}

static void note_net(void *o, bool r, RunState s, RunState f)
{
    note(o, r, s, f, "net");
}

static void note_cpu(void *o, bool r, RunState s, RunState f)
{
    note(o, r, s, f, "cpu");
}

static void test_notifier_order(void)
{
    NotifyLog l = {g_string_new(NULL)};
    VMChangeStateEntry *a = vm_state_notify_add(note_cpu, &l, VM_STATE_PRIO_ACCEL);
    VMChangeStateEntry *b = vm_state_notify_add(note_dev, &l, VM_STATE_PRIO_DEVICE);
    VMChangeStateEntry *c = vm_state_notify_add(note_net, &l, VM_STATE_PRIO_NET);
    runstate_init(RUN_STATE_PRELAUNCH);
    vm_start();
    g_assert_cmpstr(l.log->str, ==,
                    "dev:1:running<prelaunch net:1:running<prelaunch cpu:1:running<prelaunch ");
    g_string_truncate(l.log, 0);
    vm_stop(RUN_STATE_PAUSED);
    g_assert_cmpstr(l.log->str, ==,
                    "cpu:0:paused<running net:0:paused<running dev:0:paused<running ");
    g_assert_cmpint(runstate_get(), ==, RUN_STATE_PAUSED);
    /* stop when not running does nothing (QEMU's `stop`) */
    g_string_truncate(l.log, 0);
    vm_stop(RUN_STATE_PAUSED);
    g_assert_cmpstr(l.log->str, ==, "");
    vm_state_notify_remove(a);
    vm_state_notify_remove(b);
    vm_state_notify_remove(c);
    g_string_free(l.log, TRUE);
}

static void test_arrival_by_migration(void)
{
    NotifyLog l = {g_string_new(NULL)};
    VMChangeStateEntry *e = vm_state_notify_add(note_net, &l, VM_STATE_PRIO_NET);
    runstate_init(RUN_STATE_INMIGRATE);
    g_assert_true(runstate_arrived_by_migration());
    runstate_set(RUN_STATE_PRELAUNCH_MIGRATE);
    g_assert_true(runstate_arrived_by_migration());
    g_assert_true(vm_cont(NULL));
    g_assert_cmpstr(l.log->str, ==, "net:1:running<prelaunch-migrate ");
    g_assert_false(runstate_arrived_by_migration());
    /* a plain stop/cont afterwards is not an arrival */
    vm_stop(RUN_STATE_PAUSED);
    g_assert_true(vm_cont(NULL));
    g_assert_false(runstate_arrived_by_migration());

    /* from a paused source: loaded into paused, the first `cont` is the arrival */
    g_string_truncate(l.log, 0);
    runstate_init(RUN_STATE_INMIGRATE);
    runstate_set(RUN_STATE_PAUSED);
    g_assert_true(runstate_arrived_by_migration());
    g_assert_true(vm_cont(NULL));
    g_assert_cmpstr(l.log->str, ==, "net:1:running<paused ");
    g_assert_false(runstate_arrived_by_migration());

    /* migrated on before it ever ran: a later `cont` there is no arrival */
    runstate_init(RUN_STATE_INMIGRATE);
    runstate_set(RUN_STATE_PRELAUNCH_MIGRATE);
    runstate_set(RUN_STATE_FINISH_MIGRATE);
    runstate_set(RUN_STATE_POSTMIGRATE);
    g_assert_false(runstate_arrived_by_migration());
    vm_state_notify_remove(e);
    g_string_free(l.log, TRUE);
}

static void test_cont_rules(void)
{
    GError *err = NULL;
    runstate_init(RUN_STATE_RUNNING);
    vm_stop(RUN_STATE_SHUTDOWN);
    g_assert_false(vm_cont(&err));
    g_assert_cmpstr(err->message, ==, "Resetting the Virtual Machine is required");
    g_clear_error(&err);

    runstate_init(RUN_STATE_FINISH_MIGRATE);
    g_assert_false(vm_cont(&err));
    g_assert_cmpstr(err->message, ==, "Migration is not finalized yet");
    g_clear_error(&err);

    /* cont during inmigrate only asks for autostart */
    runstate_init(RUN_STATE_INMIGRATE);
    runstate_set_autostart(false);
    g_assert_true(vm_cont(NULL));
    g_assert_true(runstate_autostart());
    g_assert_cmpint(runstate_get(), ==, RUN_STATE_INMIGRATE);
}

/* The virtual clock runs only while the VM runs. */
static void test_virtual_clock_follows_runstate(void)
{
    runstate_init(RUN_STATE_PRELAUNCH);
    int64_t t0 = clock_get_ns(TERN_CLOCK_VIRTUAL);
    g_usleep(20000);
    g_assert_cmpint(clock_get_ns(TERN_CLOCK_VIRTUAL), ==, t0);
    vm_start();
    g_usleep(20000);
    int64_t t1 = clock_get_ns(TERN_CLOCK_VIRTUAL);
    g_assert_cmpint(t1 - t0, >=, 20 * NS_PER_MS);
    vm_stop(RUN_STATE_PAUSED);
    int64_t t2 = clock_get_ns(TERN_CLOCK_VIRTUAL);
    g_usleep(20000);
    g_assert_cmpint(clock_get_ns(TERN_CLOCK_VIRTUAL), ==, t2);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_loop_init();
    g_test_add_func("/runstate/names", test_names);
    g_test_add_func("/runstate/table-exact", test_table_exact);
    g_test_add_func("/runstate/refused-samples", test_refused_samples);
    g_test_add_func("/runstate/invalid-aborts", test_invalid_aborts);
    g_test_add_func("/runstate/notifier-order", test_notifier_order);
    g_test_add_func("/runstate/arrival-by-migration", test_arrival_by_migration);
    g_test_add_func("/runstate/cont-rules", test_cont_rules);
    g_test_add_func("/runstate/virtual-clock", test_virtual_clock_follows_runstate);
    return g_test_run();
}
