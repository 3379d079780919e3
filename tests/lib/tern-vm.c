/* tern-vm.c: start tern with a QMP socket and a negotiated client (see tern-vm.h). */
#include "tern-vm.h"

TernVm *tern_vm_start(const char *args)
{
    TernVm *vm = g_new0(TernVm, 1);
    vm->proc = tern_proc_new();
    vm->qmp_path = tern_proc_path(vm->proc, "qmp.sock");
    char *line =
        g_strdup_printf("%s -display none -qmp unix:%s,server=on,wait=off", args, vm->qmp_path);
    tern_proc_start_line(vm->proc, line);
    g_free(line);
    vm->qmp = tern_vm_connect(vm);
    GError *err = NULL;
    qmp_client_negotiate(vm->qmp, &err);
    g_assert_no_error(err);
    return vm;
}

QmpClient *tern_vm_connect(TernVm *vm)
{
    GError *err = NULL;
    /* Retry until the socket accepts, but give up early if tern died on start-up. */
    gint64 deadline = g_get_monotonic_time() + (gint64)QMP_CLIENT_TIMEOUT_MS * 1000;
    for (;;) {
        QmpClient *c = qmp_client_connect_unix(vm->qmp_path, 100, &err);
        if (c) {
            return c;
        }
        tern_proc_assert_alive(vm->proc);
        if (g_get_monotonic_time() >= deadline) {
            g_assert_no_error(err);
        }
        g_clear_error(&err);
    }
}

void tern_vm_free(TernVm *vm)
{
    if (!vm) {
        return;
    }
    qmp_client_free(vm->qmp);
    tern_proc_free(vm->proc);
    g_free(vm->qmp_path);
    g_free(vm);
}
