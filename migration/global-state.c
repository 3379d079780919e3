/*
 * global-state.c: the `globalstate` section, the source's run state at the moment it
 * stopped for the last round. Sent only when that was not `running` (a section with
 * needed() may be absent: savevm.c), as the name of the state in a NUL-padded 32-byte
 * field. docs/migration-stream.md lists it; the destination's use is in incoming.c.
 */
#include <string.h>
#include "error.h"
#include "migration/global-state.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"

#define GLOBAL_STATE_NAME_LEN 32

typedef struct {
    RunState stored;                      /* source: the state at the last stop */
    char runstate[GLOBAL_STATE_NAME_LEN]; /* on the wire */
    bool received;                        /* destination: the section arrived */
    RunState loaded;
} GlobalState;

static GlobalState gs = {.stored = RUN_STATE_RUNNING};

void global_state_store(void)
{
    gs.stored = runstate_get();
}

bool global_state_received(RunState *state)
{
    if (gs.received) {
        *state = gs.loaded;
    }
    return gs.received;
}

static bool global_state_needed(void *opaque)
{
    GlobalState *s = opaque;
    return s->stored != RUN_STATE_RUNNING;
}

static bool global_state_pre_save(void *opaque, GError **errp)
{
    GlobalState *s = opaque;
    memset(s->runstate, 0, sizeof(s->runstate));
    g_strlcpy(s->runstate, runstate_name(s->stored), sizeof(s->runstate));
    return true;
}

static bool global_state_post_load(void *opaque, int version_id, GError **errp)
{
    GlobalState *s = opaque;
    if (!memchr(s->runstate, 0, sizeof(s->runstate))) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "field 'runstate': not a NUL-terminated name");
        return false;
    }
    RunState r = runstate_from_name(s->runstate);
    if (r == RUN_STATE__MAX) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "field 'runstate': unknown run "
                    "state '%s'",
                    s->runstate);
        return false;
    }
    s->loaded = r;
    s->received = true;
    return true;
}

static const VMStateField global_state_fields[] = {
    VMSTATE_BUFFER(runstate, GlobalState),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_global_state = {
    .name = "globalstate",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = global_state_fields,
    .needed = global_state_needed,
    .pre_save = global_state_pre_save,
    .post_load = global_state_post_load,
};

void global_state_register(void)
{
    static bool done;
    if (!done) {
        vmstate_register(0, &vmstate_global_state, &gs);
        done = true;
    }
}
