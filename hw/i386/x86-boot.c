/* x86-boot.c: the Linux boot loader (placeholder until it is written: refuses clearly). */
#include "error.h"
#include "hw/i386/pc.h"

bool x86_load_linux(TernConfig *c, GError **errp)
{
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "-kernel: not available in this build yet");
    return false;
}
