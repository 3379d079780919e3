/* kvm-all.c: the KVM accelerator (placeholder until it is written: refuses clearly). */
#include "error.h"
#include "hw/i386/pc.h"

bool kvm_accel_init(TernConfig *c, GError **errp)
{
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                "-accel kvm: the KVM accelerator is not available in this build yet");
    return false;
}

void kvm_accel_destroy(void)
{
}
