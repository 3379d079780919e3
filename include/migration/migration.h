/*
 * migration.h: live migration, outgoing and incoming: the state machine behind QMP
 * `migrate`, `migrate_cancel`, `query-migrate`, `migrate-incoming` and the capability
 * commands, and the hooks vl.c calls. docs/migration.md explains the threads.
 */
#ifndef TERN_MIGRATION_MIGRATION_H
#define TERN_MIGRATION_MIGRATION_H

#include <glib.h>
#include <stdbool.h>

/* QEMU's MigrationStatus, in the schema's (and QEMU's) order, which gives the names
 * (qapi-enum.h); tern uses the precopy subset. */
typedef enum {
    MIGRATION_STATUS_NONE,
    MIGRATION_STATUS_SETUP,
    MIGRATION_STATUS_CANCELLING,
    MIGRATION_STATUS_CANCELLED,
    MIGRATION_STATUS_ACTIVE,
    MIGRATION_STATUS_POSTCOPY_ACTIVE,
    MIGRATION_STATUS_POSTCOPY_PAUSED,
    MIGRATION_STATUS_POSTCOPY_RECOVER,
    MIGRATION_STATUS_COMPLETED,
    MIGRATION_STATUS_FAILED,
    MIGRATION_STATUS_COLO,
    MIGRATION_STATUS_PRE_SWITCHOVER,
    MIGRATION_STATUS_DEVICE,
    MIGRATION_STATUS_WAIT_UNPLUG,
    MIGRATION_STATUS__MAX,
} MigrationStatus;

const char *migration_status_name(MigrationStatus s);

/*
 * vl.c, for -incoming: the VM starts in `inmigrate`; with a URI tern listens (or opens
 * fd:/exec:) at once, with "defer" it waits for QMP migrate-incoming. When the stream
 * has loaded the VM runs (autostart) or waits in prelaunch-migrate for `cont`; a stream
 * that fails to load ends tern with exit status 1 and the reason on stderr.
 */
bool migration_incoming_setup(const char *uri, GError **errp);

/* vl.c, after the main loop ends and before the machine goes: cancel any migration and
 * wait for its thread. Called with the big lock held (released while waiting). */
void migration_shutdown(void);

/* An outgoing migration is between setup and its end (for devices that must refuse
 * changes meanwhile, and for the announce logic). */
bool migration_is_active(void);
/* The `events` capability (MIGRATION and MIGRATION_PASS events). */
bool migrate_events_enabled(void);

/* Internal to migration/: the incoming side's status for query-migrate, the MIGRATION
 * event, and each side's part of migration_shutdown(). */
MigrationStatus migration_incoming_status(void);
void migration_emit_status(MigrationStatus s);
void migration_outgoing_shutdown(void);
void migration_incoming_shutdown(void);

#endif
