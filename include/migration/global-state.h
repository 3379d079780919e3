/*
 * global-state.h: the run state the VM had on the source when it stopped for the last
 * round, carried in the `globalstate` section (QEMU's name and rule). A destination
 * receiving from a paused source stays paused instead of starting the guest; a running
 * source's stream omits the section (older destinations load it as before).
 */
#ifndef TERN_MIGRATION_GLOBAL_STATE_H
#define TERN_MIGRATION_GLOBAL_STATE_H

#include <stdbool.h>
#include "runstate.h"

/* Register the section (once per process, before any migration). */
void global_state_register(void);
/* Source, main thread, just before the VM stops for the last round: remember the state. */
void global_state_store(void);
/* Destination, after a successful load: the state the source was in, or false when the
 * stream had no globalstate section (the source was running). */
bool global_state_received(RunState *state);

#endif
