/*
 * pci.h: conventional PCI on the pc machine: one bus behind a host bridge reached with
 * configuration mechanism 1 (0xCF8/0xCFC), BARs placed by the driver, capability lists,
 * the command register honoured, MSI-X and legacy INTx.
 *
 * A device model embeds PCIDevice, fills in identity and BARs, adds capabilities, and
 * registers it on the bus. The bus maps and unmaps BAR regions as the driver programs
 * BARs and the command register's I/O and memory enables.
 */
#ifndef TERN_HW_PCI_H
#define TERN_HW_PCI_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "hw/memory.h"

#define PCI_CONFIG_SPACE_SIZE 256
#define PCI_NUM_BARS 6
#define PCI_SLOT_MAX 32

/* Config space offsets and bits used across models. */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS 0x06
#define PCI_STATUS_INTERRUPT 0x08
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_HEADER_TYPE 0x0e
#define PCI_BASE_ADDRESS_0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_BASE_ADDRESS_SPACE_IO 0x01
#define PCI_BASE_ADDRESS_MEM_TYPE_64 0x04
#define PCI_BASE_ADDRESS_MEM_PREFETCH 0x08

#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ID_VNDR 0x09

typedef struct PCIDevice PCIDevice;
typedef struct MSIXState MSIXState;

typedef struct PCIBar {
    MemoryRegion *mr; /* NULL: BAR unused */
    uint8_t type;     /* PCI_BASE_ADDRESS_* flags */
    uint64_t addr;    /* as programmed; mapped when decoding is enabled */
} PCIBar;

struct PCIDevice {
    const char *name;
    int devfn;
    uint8_t config[PCI_CONFIG_SPACE_SIZE];
    uint8_t wmask[PCI_CONFIG_SPACE_SIZE];   /* bits the driver may write */
    uint8_t w1cmask[PCI_CONFIG_SPACE_SIZE]; /* write-1-to-clear bits */
    PCIBar bars[PCI_NUM_BARS];
    MSIXState *msix;
    bool intx_level;
    /* Optional hooks after the generic config write (e.g. a capability's side effects). */
    void (*config_write_hook)(PCIDevice *d, uint32_t addr, uint32_t val, unsigned len);
    /* Called when the bus resets (machine reset). */
    void (*reset)(PCIDevice *d);
};

void pci_device_init(PCIDevice *d, const char *name, uint16_t vendor, uint16_t device,
                     uint32_t class_code /* class<<16 | subclass<<8 | prog-if */,
                     uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id);
/* Put the device in `slot` (-1: first free). */
bool pci_bus_add_device(PCIDevice *d, int slot, GError **errp);
void pci_bus_remove_device(PCIDevice *d);
/* `type` is PCI_BASE_ADDRESS_SPACE_IO or memory flags; mr->size must be a power of 2. */
void pci_register_bar(PCIDevice *d, int bar, uint8_t type, MemoryRegion *mr);
/* Append a capability of `size` bytes; returns its offset (0 and errp on no room). */
uint8_t pci_add_capability(PCIDevice *d, uint8_t cap_id, uint8_t size, GError **errp);
/* Legacy INTx (pin A) level; honours PCI_COMMAND_INTX_DISABLE, sets the status bit. */
void pci_set_irq(PCIDevice *d, bool level);
/* Bus-master DMA: refused when the driver has not set PCI_COMMAND_MASTER. */
bool pci_dma_read(PCIDevice *d, uint64_t gpa, void *buf, size_t len);
bool pci_dma_write(PCIDevice *d, uint64_t gpa, const void *buf, size_t len);
uint16_t pci_get_word(const uint8_t *p);
uint32_t pci_get_long(const uint8_t *p);
void pci_set_word(uint8_t *p, uint16_t v);
void pci_set_long(uint8_t *p, uint32_t v);

/* MSI-X: table and PBA in BARs of the device (they may share one BAR). */
bool msix_init(PCIDevice *d, unsigned nvectors, int table_bar, uint32_t table_offset,
               int pba_bar, uint32_t pba_offset, GError **errp);
bool msix_enabled(PCIDevice *d);
bool msix_vector_masked(PCIDevice *d, unsigned vector);
/* Deliver a vector, or set its pending bit when masked (sent on unmask). */
void msix_notify(PCIDevice *d, unsigned vector);
void msix_reset(PCIDevice *d);
/* The message a vector holds now (for irqfd routing). */
bool msix_get_message(PCIDevice *d, unsigned vector, uint64_t *addr, uint32_t *data);

/* The host bridge and bus, created by the pc machine. */
void pci_host_init(void);
void pci_bus_reset(void);
PCIDevice *pci_bus_find(int devfn);

#endif
