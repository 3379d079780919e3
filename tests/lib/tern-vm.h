/*
 * tern-vm.h: the usual black-box set-up in one call: start tern with a QMP unix socket in
 * its private directory, connect, negotiate; tear it all down again.
 *
 *     TernVm *vm = tern_vm_start("-machine none -S");
 *     g_autofree char *st = qmp_status(vm->qmp);
 *     tern_vm_free(vm);
 */
#ifndef TERN_TESTS_VM_H
#define TERN_TESTS_VM_H

#include "qmp-assert.h"
#include "tern-proc.h"

typedef struct {
    TernProc *proc;
    QmpClient *qmp; /* connected and negotiated */
    char *qmp_path; /* the QMP socket */
} TernVm;

/* Start tern with `args` plus "-display none -qmp unix:<dir>/qmp.sock,server=on,wait=off";
 * asserts that it comes up and answers. */
TernVm *tern_vm_start(const char *args);
/* Another client on the same socket: greeting read, not negotiated. */
QmpClient *tern_vm_connect(TernVm *vm);
/* Close the client, stop tern if it still runs, remove its directory. */
void tern_vm_free(TernVm *vm);

#endif
