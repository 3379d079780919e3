/*
 * pc-power.h: the guest asks the board to power off or reset (ACPI PM1a SLP_EN, the
 * ACPI reset register, the i8042 reset line, a triple fault, a KVM system event).
 *
 * The request is carried to the main thread, which emits QMP SHUTDOWN with
 * {guest: true, reason: "guest-shutdown" | "guest-reset" | "guest-panic"} and ends
 * tern with exit status 0, as QEMU does on power-off and, with -no-reboot, on reset.
 * Without -no-reboot QEMU would reset the machine; tern has no firmware to run again,
 * so it exits the same way and says why (see docs/x86-boot.md).
 */
#ifndef TERN_HW_I386_PC_POWER_H
#define TERN_HW_I386_PC_POWER_H

#include <stdbool.h>

typedef enum {
    PC_POWER_OFF,
    PC_POWER_RESET,
    PC_POWER_PANIC,
} PcPowerRequest;

/* -no-reboot given (only changes what tern prints on a reset). */
void pc_power_set_no_reboot(bool no_reboot);
/* Any thread, big lock held or not; only the first request counts. */
void pc_power_request(PcPowerRequest req);

#endif
