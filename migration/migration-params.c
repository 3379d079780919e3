/*
 * migration-params.c: the migration parameters and their QMP commands. The table below is
 * the only list of them: set, query and the checks all walk it. Like QEMU, a
 * migrate-set-parameters call is applied to a copy, the copy is checked as a whole, and
 * only a valid copy becomes current.
 */
#include <stddef.h>
#include "error.h"
#include "migration/migration-params.h"
#include "monitor/json-parser.h"
#include "monitor/qmp.h"

typedef enum {
    MP_INT64,  /* int64_t field, a JSON integer ('size' or 'int' in the schema) */
    MP_UINT64, /* uint64_t field, the whole uint64 range ('size' in the schema) */
    MP_BOOL,   /* bool field */
} MigrationParamKind;

typedef struct {
    const char *name; /* QMP member name */
    MigrationParamKind kind;
    size_t offset; /* in MigrationParams */
} MigrationParamDesc;

#define MP_FIELD(name, kind, field)                                                            \
    {                                                                                          \
        name, kind, offsetof(MigrationParams, field)                                           \
    }

static const MigrationParamDesc params_table[] = {
    MP_FIELD("announce-initial", MP_INT64, announce.initial),
    MP_FIELD("announce-max", MP_INT64, announce.max),
    MP_FIELD("announce-rounds", MP_INT64, announce.rounds),
    MP_FIELD("announce-step", MP_INT64, announce.step),
    MP_FIELD("downtime-limit", MP_INT64, downtime_limit),
    MP_FIELD("max-bandwidth", MP_UINT64, max_bandwidth),
    MP_FIELD("x-verdict-timeout", MP_INT64, verdict_timeout),
};

/* Whole-set checks, in QEMU's order; each sees the tentative values. */
static bool check_announce(const MigrationParams *p, GError **errp)
{
    return announce_parameters_check(&p->announce, errp);
}

/* QEMU's bounds and messages. */
#define MAX_MIGRATE_DOWNTIME_MS (2000 * 1000)
#define DEFAULT_MIGRATE_DOWNTIME_MS 300
#define DEFAULT_MAX_BANDWIDTH (128 << 20)
/* tern's own: how long either side waits for the other's answer at the end. */
#define DEFAULT_VERDICT_TIMEOUT_MS 120000
#define MAX_VERDICT_TIMEOUT_MS 3600000

static bool check_migrate(const MigrationParams *p, GError **errp)
{
    if (p->downtime_limit < 0 || p->downtime_limit > MAX_MIGRATE_DOWNTIME_MS) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "Parameter 'downtime_limit' expects an integer in the range of 0 to "
                    "2000 seconds");
        return false;
    }
    /* max-bandwidth: any uint64, as in QEMU (whose bound is SIZE_MAX). */
    if (p->verdict_timeout < 1 || p->verdict_timeout > MAX_VERDICT_TIMEOUT_MS) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "Parameter 'x-verdict-timeout' expects an integer in the range of 1 to "
                    "%d ms",
                    MAX_VERDICT_TIMEOUT_MS);
        return false;
    }
    return true;
}

static bool (*const params_checks[])(const MigrationParams *, GError **) = {
    check_announce,
    check_migrate,
};

/* The parameter registry: one per process, touched with the big lock held. */
static MigrationParams current;
static bool current_set;

static MigrationParams *params_current(void)
{
    if (!current_set) {
        migrate_params_reset();
    }
    return &current;
}

void migrate_params_reset(void)
{
    announce_parameters_default(&current.announce);
    current.downtime_limit = DEFAULT_MIGRATE_DOWNTIME_MS;
    current.max_bandwidth = DEFAULT_MAX_BANDWIDTH;
    current.verdict_timeout = DEFAULT_VERDICT_TIMEOUT_MS;
    current_set = true;
}

const MigrationParams *migrate_params(void)
{
    return params_current();
}

static void *field(MigrationParams *p, const MigrationParamDesc *d)
{
    return (char *)p + d->offset;
}

bool migrate_params_set(JsonObject *args, GError **errp)
{
    MigrationParams tmp = *params_current();
    for (size_t i = 0; i < G_N_ELEMENTS(params_table); i++) {
        const MigrationParamDesc *d = &params_table[i];
        JsonNode *v = json_object_get_member(args, d->name);
        if (!v) {
            continue;
        }
        switch (d->kind) {
        case MP_INT64:
        case MP_UINT64: {
            /* Every one is unsigned in the schema, whose check let through only what
             * this reads; a value above INT64_MAX reaches an MP_INT64 field negative,
             * and its range check refuses it. */
            uint64_t u = 0;
            json_node_get_uint64(v, &u);
            if (d->kind == MP_INT64) {
                *(int64_t *)field(&tmp, d) = (int64_t)u;
            } else {
                *(uint64_t *)field(&tmp, d) = u;
            }
            break;
        }
        case MP_BOOL:
            *(bool *)field(&tmp, d) = json_node_get_boolean(v);
            break;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(params_checks); i++) {
        if (!params_checks[i](&tmp, errp)) {
            return false;
        }
    }
    current = tmp;
    return true;
}

JsonObject *migrate_params_query(void)
{
    MigrationParams *p = params_current();
    JsonObject *o = json_object_new();
    for (size_t i = 0; i < G_N_ELEMENTS(params_table); i++) {
        const MigrationParamDesc *d = &params_table[i];
        switch (d->kind) {
        case MP_INT64:
            json_object_set_int_member(o, d->name, *(int64_t *)field(p, d));
            break;
        case MP_UINT64:
            json_object_set_member(o, d->name, json_node_new_uint64(*(uint64_t *)field(p, d)));
            break;
        case MP_BOOL:
            json_object_set_boolean_member(o, d->name, *(bool *)field(p, d));
            break;
        }
    }
    return o;
}

static JsonNode *qmp_migrate_set_parameters(JsonObject *args, QmpContext *ctx, GError **errp)
{
    migrate_params_set(args, errp);
    return NULL;
}

static JsonNode *qmp_query_migrate_parameters(JsonObject *args, QmpContext *ctx, GError **errp)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);
    json_node_take_object(n, migrate_params_query());
    return n;
}

QMP_COMMAND("migrate-set-parameters", qmp_migrate_set_parameters)
QMP_COMMAND("query-migrate-parameters", qmp_query_migrate_parameters)
