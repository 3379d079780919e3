/* pci-internal.h: what the files of hw/pci tell each other; not for device models. */
#ifndef TERN_HW_PCI_INTERNAL_H
#define TERN_HW_PCI_INTERNAL_H

#include "hw/pci.h"

/* pci.c: the bus exists once the host bridge creates it. */
void pci_bus_create(void);
bool pci_bus_exists(void);

/* msix.c: re-read the message control register after a config write (enable and
 * function mask side effects: pending vectors go out, INTx is released). */
void msix_config_written(PCIDevice *d);
/* msix.c: lay the table and PBA over their BARs where those are mapped, else unmap. */
void msix_update_mappings(PCIDevice *d);
/* msix.c: take the table and PBA out of the address space (device removal). */
void msix_unmap(PCIDevice *d);
/* msix.c: the message control register's offset in config space (0: no MSI-X). */
uint8_t msix_cap_offset(PCIDevice *d);

/* msix.c: migration. The table and PBA travel in the "msix" subsection of
 * vmstate_pci_device; after config space is applied, msix_post_load() recomputes the
 * function mask and delivers what is pending and no longer masked. */
extern const VMStateDescription vmstate_msix;
void msix_post_load(PCIDevice *d);

#endif
