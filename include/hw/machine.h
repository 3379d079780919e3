/* machine.h: build the board the configuration asks for (pc or none) on its accelerator. */
#ifndef TERN_HW_MACHINE_H
#define TERN_HW_MACHINE_H

#include <glib.h>
#include <stdbool.h>
#include "options.h"

/* Create RAM, buses, devices and the accelerator; load the kernel if any. */
bool machine_create(TernConfig *c, GError **errp);
/* Tear down what machine_create made (at exit). */
void machine_destroy(void);
/* System reset: devices to their power-on state (a guest reboot, QMP system_reset). */
void machine_reset(void);
/* QMP system_reset: machine_reset() where tern can (no vCPUs to restart: qtest, or no
 * machine); with KVM an error saying why not. */
bool machine_system_reset(GError **errp);
/* Whether system_reset can work on this accelerator (the error says why not). */
bool machine_reset_supported(TernAccel accel, GError **errp);

#endif
