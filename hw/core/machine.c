/* machine.c: pick and build the board. */
#include <string.h>
#include "error.h"
#include "hw/machine.h"
#include "hw/qdev.h"

bool machine_create(TernConfig *c, GError **errp)
{
    if (strcmp(c->machine, "none") == 0) {
        if (c->kernel) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "-kernel: machine 'none' cannot boot a kernel (use -machine pc)");
            return false;
        }
        return devices_create(c->devices, errp);
    }
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                "-machine %s: not available in this build yet", c->machine);
    return false;
}

void machine_destroy(void)
{
}

void machine_reset(void)
{
}
