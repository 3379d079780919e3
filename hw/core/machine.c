/* machine.c: pick and build the board. */
#include <string.h>
#include "accel/kvm.h"
#include "error.h"
#include "hw/i386/acpi-pcihp.h"
#include "hw/i386/pc.h"
#include "hw/i386/pc-legacy.h"
#include "hw/machine.h"
#include "hw/memory.h"
#include "hw/pci.h"
#include "hw/qdev.h"
#include "qtest.h"

/* What machine_create started building, for machine_destroy. */
static struct {
    bool created;
    TernAccel accel;
} machine;

/* QEMU's `none` board: no buses, no RAM; tern keeps -m's RAM under qtest so a test
 * can use memory commands without a board. */
static bool machine_none_init(TernConfig *c, GError **errp)
{
    if (c->kernel) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-kernel: machine 'none' cannot boot a kernel (use -machine pc)");
        return false;
    }
    if (c->accel == ACCEL_QTEST) {
        if (!guest_ram_init(c->ram_size, PC_RAM_BELOW_4G_MAX, errp) ||
            !qtest_accel_init(c, errp)) {
            return false;
        }
    }
    return devices_create(c->devices, errp);
}

bool machine_create(TernConfig *c, GError **errp)
{
    machine.created = true;
    machine.accel = c->accel;
    if (strcmp(c->machine, "none") == 0) {
        return machine_none_init(c, errp);
    }
    if (strcmp(c->machine, "pc") == 0) {
        return pc_machine_init(c, errp);
    }
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                "-machine %s: not available in this build", c->machine);
    return false;
}

void machine_destroy(void)
{
    if (!machine.created) {
        return;
    }
    if (machine.accel == ACCEL_QTEST) {
        qtest_accel_destroy();
    } else {
        kvm_accel_destroy(); /* a no-op when it never started */
    }
    pc_machine_destroy();
    pc_legacy_devices_destroy(); /* closes the serial backend: terminal, socket file */
    guest_ram_free();
}

bool machine_reset_supported(TernAccel accel, GError **errp)
{
    if (accel == ACCEL_KVM) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "system_reset is not supported with KVM: tern has no firmware to run "
                    "again (quit and start the VM anew)");
        return false;
    }
    return true;
}

bool machine_system_reset(GError **errp)
{
    if (!machine_reset_supported(machine.accel, errp)) {
        return false;
    }
    machine_reset();
    return true;
}

void machine_reset(void)
{
    acpi_pcihp_reset();
    pci_bus_reset();
    pc_machine_reset();
    pc_legacy_devices_reset();
}
