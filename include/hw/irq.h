/*
 * irq.h: what the accelerator (KVM or qtest) does for devices: interrupt lines, MSI
 * delivery, and optional fast paths (ioeventfd for doorbells, irqfd for interrupts).
 * Devices call irq_set_level()/msi_send(); the accelerator registered at start-up
 * decides how the interrupt reaches the guest (or the qtest client).
 */
#ifndef TERN_HW_IRQ_H
#define TERN_HW_IRQ_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "hw/memory.h"

typedef struct AccelOps {
    const char *name;
    void (*set_irq)(int gsi, bool level);
    void (*send_msi)(uint64_t addr, uint32_t data);
    /* Optional: a guest write of `size` bytes to addr signals `fd` instead of exiting
     * (with `data` matched when match_data). Return false when unsupported. */
    bool (*add_ioeventfd)(int fd, AddressSpaceId space, uint64_t addr, unsigned size,
                          bool match_data, uint64_t data);
    void (*del_ioeventfd)(int fd, AddressSpaceId space, uint64_t addr, unsigned size,
                          bool match_data, uint64_t data);
    /*
     * Optional MSI fast path (all NULL when unsupported): msi_route_add gives a GSI that
     * delivers the message (-1: none left); msi_route_update re-targets it when the
     * driver rewrites the MSI-X entry; irqfd_add makes a write to the eventfd `fd` raise
     * that GSI in the kernel, so a device thread or the kernel (vhost) interrupts the
     * guest with no trip through tern. Called with the big lock held.
     */
    int (*msi_route_add)(uint64_t addr, uint32_t data);
    bool (*msi_route_update)(int gsi, uint64_t addr, uint32_t data);
    void (*msi_route_remove)(int gsi);
    bool (*irqfd_add)(int fd, int gsi);
    void (*irqfd_del)(int fd, int gsi);
} AccelOps;

void accel_set_ops(const AccelOps *ops);
const AccelOps *accel_get_ops(void);

/* Level of an interrupt line at the interrupt controller (GSI). */
void irq_set_level(int gsi, bool level);
/* An MSI write: address and data as the device's MSI-X table holds them. */
void msi_send(uint64_t addr, uint32_t data);

#endif
