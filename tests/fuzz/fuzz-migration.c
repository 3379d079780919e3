/*
 * fuzz-migration.c: libFuzzer target for the migration stream loader.
 *
 * Input: a whole stream as a destination reads it (header, configuration, RAM records,
 * every device section, end), loaded into the in-process pc machine with a virtio-net
 * NIC (fuzz-vm.c) exactly as the incoming thread loads it. A stream the loader accepts is
 * then used as a guest would use it: the VM starts, every decoded port, config space and
 * BAR is read and every queue of the NIC is kicked; state that was loaded without being
 * checked is found there. The seeds are real streams captured from tern
 * (capture-seeds.c, run by the build). TERN_FUZZ_VERBOSE=1 prints why a stream was refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include "fuzz-vm.h"
#include "migration/mig-file.h"
#include "migration/migration-params.h"
#include "migration/savevm.h"
#include "net/announce.h"
#include "runstate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    VirtIONet *n = fuzz_vm_get();
    runstate_init(RUN_STATE_INMIGRATE);
    MigFile *f = mig_file_new_mem(data, size);
    GError *err = NULL;
    bool ok = savevm_load_stream(f, NULL, &err);
    mig_file_close(f);
    if (err && getenv("TERN_FUZZ_VERBOSE")) { /* why a seed does not load */
        fprintf(stderr, "fuzz-migration: %s\n", err->message);
    }
    g_clear_error(&err);
    if (ok) {
        announce_arm_first_run(&migrate_params()->announce); /* as incoming.c does */
        vm_start();
        fuzz_vm_touch_devices();
        for (unsigned q = 0; q < n->vdev.num_queues; q++) {
            virtio_queue_notify(&n->vdev, q);
        }
        vm_stop(RUN_STATE_PAUSED);
    }
    return 0;
}
