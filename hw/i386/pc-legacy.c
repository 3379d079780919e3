/* pc-legacy.c: legacy PC devices (placeholder until it is written). */
#include "hw/i386/pc.h"

bool pc_legacy_devices_init(TernConfig *c, GError **errp)
{
    return true;
}
