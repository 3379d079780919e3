/*
 * pc.c: the x86 `pc` board: RAM (low RAM up to the 32-bit PCI window, the rest above
 * 4 GiB), the accelerator, the PCI host bridge, the legacy devices, the -device models
 * and, under KVM, the Linux boot loader; in that order (see pc.h).
 */
#include "accel/kvm.h"
#include "error.h"
#include "hw/i386/pc-legacy.h"
#include "hw/i386/pc.h"
#include "hw/i386/x86-boot.h"
#include "hw/memory.h"
#include "hw/pci.h"
#include "hw/qdev.h"
#include "qtest.h"

bool pc_machine_init(TernConfig *c, GError **errp)
{
    bool kvm = c->accel != ACCEL_QTEST;
    if (!guest_ram_init(c->ram_size, PC_RAM_BELOW_4G_MAX, errp)) {
        return false;
    }
    if (kvm ? !kvm_accel_init(c, errp) : !qtest_accel_init(c, errp)) {
        return false;
    }
    pci_host_init();
    if (!pc_legacy_devices_init(c, errp) || !devices_create(c->devices, errp)) {
        return false;
    }
    /* Under qtest the test is the CPU: there is nothing to boot unless asked. */
    if (kvm || c->kernel) {
        return x86_load_linux(c, errp);
    }
    return true;
}
