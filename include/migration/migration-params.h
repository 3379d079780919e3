/*
 * migration-params.h: the migration parameters (QMP migrate-set-parameters and
 * query-migrate-parameters), QEMU's names and semantics. One table lists them; adding a
 * parameter is a field in MigrationParams and a row in that table.
 */
#ifndef TERN_MIGRATION_MIGRATION_PARAMS_H
#define TERN_MIGRATION_MIGRATION_PARAMS_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>
#include "net/announce.h"

typedef struct MigrationParams {
    AnnounceParameters announce; /* announce-initial, -max, -rounds, -step */
    int64_t downtime_limit;      /* downtime-limit: ms the VM may stay stopped (300) */
    uint64_t max_bandwidth;      /* max-bandwidth: bytes/s, 0 unlimited (128 MiB/s) */
    /* x-verdict-timeout: ms the source waits for the destination's verdict (its VM
     * paused) and the destination for the source's confirmation (120000) */
    int64_t verdict_timeout;
} MigrationParams;

/* The current values (read-only; change them with migrate_params_set). */
const MigrationParams *migrate_params(void);
/* Apply a migrate-set-parameters argument object: every given value is checked against
 * the others' new values first; on error nothing changes. */
bool migrate_params_set(JsonObject *args, GError **errp);
/* query-migrate-parameters: every parameter with its value. */
JsonObject *migrate_params_query(void);
/* Back to QEMU's defaults (tests). */
void migrate_params_reset(void);

#endif
