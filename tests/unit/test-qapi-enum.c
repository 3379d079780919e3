/* test-qapi-enum: the C enums that mirror schema enums match them, and names round-trip. */
#include <glib.h>
#include "migration/migration.h"
#include "qapi-enum.h"
#include "runstate.h"

static void test_runstate(void)
{
    g_assert_cmpuint(qapi_enum_count("RunState"), ==, RUN_STATE__MAX);
    for (int s = 0; s < RUN_STATE__MAX; s++) {
        g_assert_cmpint(runstate_from_name(runstate_name(s)), ==, s);
    }
    g_assert_cmpstr(runstate_name(RUN_STATE_PRELAUNCH_MIGRATE), ==, "prelaunch-migrate");
    g_assert_cmpstr(runstate_name(RUN_STATE__MAX), ==, "invalid");
    g_assert_cmpint(runstate_from_name("no-such-state"), ==, RUN_STATE__MAX);
    g_assert_cmpint(runstate_from_name(NULL), ==, RUN_STATE__MAX);
}

static void test_migration_status(void)
{
    g_assert_cmpuint(qapi_enum_count("MigrationStatus"), ==, MIGRATION_STATUS__MAX);
    g_assert_cmpstr(migration_status_name(MIGRATION_STATUS_WAIT_UNPLUG), ==, "wait-unplug");
    g_assert_cmpstr(migration_status_name(MIGRATION_STATUS_COMPLETED), ==, "completed");
    g_assert_cmpstr(migration_status_name(MIGRATION_STATUS__MAX), ==, "none");
}

static void test_lookup(void)
{
    g_assert_cmpstr(qapi_enum_str("MigrationStatus", 1), ==, "setup");
    g_assert_null(qapi_enum_str("MigrationStatus", 1000));
    g_assert_null(qapi_enum_str("NoSuchEnum", 0));
    g_assert_cmpint(qapi_enum_value("MigrationStatus", "device"), ==, MIGRATION_STATUS_DEVICE);
    g_assert_cmpint(qapi_enum_value("MigrationStatus", "bogus"), ==, -1);
    g_assert_cmpuint(qapi_enum_count("NoSuchEnum"), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qapi-enum/runstate", test_runstate);
    g_test_add_func("/qapi-enum/migration-status", test_migration_status);
    g_test_add_func("/qapi-enum/lookup", test_lookup);
    return g_test_run();
}
