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
#include "migration/vmstate.h"

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
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_BASE_ADDRESS_5 0x24
#define PCI_COMMAND_PARITY 0x40
#define PCI_COMMAND_SERR 0x100
/* Error bits of the status register: write 1 to clear. */
#define PCI_STATUS_ERROR_BITS 0xf900
#define PCI_HEADER_TYPE_NORMAL 0
#define PCI_CAP_LIST_ID 0
#define PCI_CAP_LIST_NEXT 1
/* Capabilities start after the type 0 header. */
#define PCI_CAP_START 0x40

#define PCI_DEVFN(slot, fn) ((((slot)&0x1f) << 3) | ((fn)&0x07))
#define PCI_SLOT(devfn) (((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn) ((devfn)&0x07)

/* Configuration mechanism 1 (the host bridge's I/O ports). */
#define PCI_CONFIG_ADDRESS_PORT 0xcf8
#define PCI_CONFIG_DATA_PORT 0xcfc
#define PCI_CONFIG_ADDRESS_ENABLE 0x80000000u

/* MSI-X capability layout and table entries (PCI Local Bus 3.0, 6.8.2). */
#define PCI_MSIX_FLAGS 2 /* message control, 16 bits */
#define PCI_MSIX_FLAGS_QSIZE 0x07ff
#define PCI_MSIX_FLAGS_MASKALL 0x4000
#define PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_TABLE 4 /* offset | BIR */
#define PCI_MSIX_PBA 8
#define PCI_MSIX_BIR_MASK 0x7
#define PCI_MSIX_CAP_SIZE 12
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_LOWER_ADDR 0
#define PCI_MSIX_ENTRY_UPPER_ADDR 4
#define PCI_MSIX_ENTRY_DATA 8
#define PCI_MSIX_ENTRY_VECTOR_CTRL 12
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 0x1
#define PCI_MSIX_MAX_VECTORS 2048

/*
 * Legacy INTx routing (fixed; no firmware programs it): the PIIX swizzle of slot and pin
 * onto PIRQ A-D, with PIRQ A-D wired to IOAPIC inputs (GSIs) 16-19, level-triggered,
 * active low on the wire (active high as irq_set_level() reports it). Pin 1 is INTA#:
 *   gsi = 16 + ((slot + pin - 2) & 3)
 * so INTA# of slot 1 is GSI 16, slot 2 GSI 17, slot 3 GSI 18, slot 4 GSI 19, slot 5 GSI
 * 16 again. The interrupt line register holds this GSI after power-on and reset, as a
 * BIOS would leave it; an MP table or ACPI writer uses pci_intx_gsi() for its entries.
 */
#define PCI_INTX_GSI_BASE 16
#define PCI_INTX_GSI_COUNT 4
int pci_intx_gsi(int slot, int pin);
/* INTA# of a slot. */
int pci_slot_gsi(int slot);

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
    /* Called when the bus resets (machine reset), after the generic reset. */
    void (*reset)(PCIDevice *d);

    /* Private to hw/pci. */
    uint8_t cap_end;  /* first free byte for the next capability */
    bool intx_output; /* the level the interrupt line sees */
    /* Migration: config space as it travels; the load lands here and post-load merges
     * the driver-writable bits into `config` (see vmstate_pci_device). */
    uint8_t config_wire[PCI_CONFIG_SPACE_SIZE];
};

/*
 * Fill in a type 0 header: identity, interrupt pin A, the standard writable bits
 * (command, cache line, latency, interrupt line; status errors are write-1-to-clear).
 * Clears config, BARs and MSI-X; leaves the hooks as the caller set them.
 */
void pci_device_init(PCIDevice *d, const char *name, uint16_t vendor, uint16_t device,
                     uint32_t class_code /* class<<16 | subclass<<8 | prog-if */,
                     uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id);
/* QEMU's -device addr=SLOT[.0] property (hex slot, function 0): the slot, or -1 and errp. */
int pci_parse_slot(const char *addr, GError **errp);
/* Put the device in `slot` (-1: first free); function 0 only. Fails without a bus. */
bool pci_bus_add_device(PCIDevice *d, int slot, GError **errp);
void pci_bus_remove_device(PCIDevice *d);
/*
 * `type` is PCI_BASE_ADDRESS_SPACE_IO or memory flags; mr->size must be a power of 2 and
 * mr->space must match the type. A 64-bit BAR also takes bar + 1. The region is mapped
 * while the BAR holds a non-zero address that fits its space (below 64 KiB for I/O, below
 * 4 GiB for a 32-bit BAR) and the command register enables that space; every config write
 * to the BARs or the command register re-evaluates this.
 */
void pci_register_bar(PCIDevice *d, int bar, uint8_t type, MemoryRegion *mr);
/* Where a BAR decodes now, or PCI_BAR_UNMAPPED. */
#define PCI_BAR_UNMAPPED UINT64_MAX
uint64_t pci_bar_mapped_address(PCIDevice *d, int bar);
/*
 * Config space as the driver sees it (the host bridge's data port calls these): len is
 * 1, 2 or 4; bytes beyond the 256-byte space read as all ones and are not written. A
 * write honours wmask/w1cmask, then updates BAR mappings, INTx, MSI-X state, and runs
 * the device's config_write_hook.
 */
uint32_t pci_config_read(PCIDevice *d, uint32_t addr, unsigned len);
void pci_config_write(PCIDevice *d, uint32_t addr, uint32_t val, unsigned len);
/* Append a capability of `size` bytes; returns its offset (0 and errp on no room). */
uint8_t pci_add_capability(PCIDevice *d, uint8_t cap_id, uint8_t size, GError **errp);
/* Legacy INTx level; honours PCI_COMMAND_INTX_DISABLE, sets the status bit; devices sharing
 * a GSI are OR-ed. */
void pci_set_irq(PCIDevice *d, bool level);
/* Bus-master DMA: refused when the driver has not set PCI_COMMAND_MASTER (MSI-X messages
 * are bus-master writes too: without it they are lost, as on real hardware). */
bool pci_dma_read(PCIDevice *d, uint64_t gpa, void *buf, size_t len);
bool pci_dma_write(PCIDevice *d, uint64_t gpa, const void *buf, size_t len);
uint16_t pci_get_word(const uint8_t *p);
uint32_t pci_get_long(const uint8_t *p);
void pci_set_word(uint8_t *p, uint16_t v);
void pci_set_long(uint8_t *p, uint32_t v);

/*
 * MSI-X: table and PBA in BARs of the device (they may share one BAR). A BAR the device
 * has not registered is created here as a 32-bit memory BAR just big enough (at least
 * 4 KiB); a registered BAR gets the table and PBA laid over it at their offsets. Vectors
 * start masked; a vector is masked when MSI-X is disabled, the function mask is set, or
 * its own mask bit is set.
 */
bool msix_init(PCIDevice *d, unsigned nvectors, int table_bar, uint32_t table_offset,
               int pba_bar, uint32_t pba_offset, GError **errp);
bool msix_enabled(PCIDevice *d);
bool msix_vector_masked(PCIDevice *d, unsigned vector);
/* Deliver a vector, or set its pending bit when masked (sent on unmask). */
void msix_notify(PCIDevice *d, unsigned vector);
void msix_reset(PCIDevice *d);
/* Free the MSI-X state (the device is going away; its capability stays in config). */
void msix_uninit(PCIDevice *d);
/* The message a vector holds now (for irqfd routing). */
bool msix_get_message(PCIDevice *d, unsigned vector, uint64_t *addr, uint32_t *data);

/*
 * Migration. A model embeds the PCI state in its own section with VMSTATE_PCI_DEVICE;
 * the section is named after the bus address ("0000:00:03.0/virtio-net", from
 * pci_device_path()), so both sides must place the device in the same slot. On load:
 * every read-only bit of config space must equal this side's (else the devices or their
 * options differ: refused, naming the offset), the bits the driver can write (wmask,
 * w1cmask) are taken from the stream, then BARs are remapped, INTx re-asserted, and
 * MSI-X (table, PBA, subsection "msix") re-evaluated: a pending vector that is not
 * masked is delivered.
 */
extern const VMStateDescription vmstate_pci_device;
#define VMSTATE_PCI_DEVICE(f, st)                                                              \
    {                                                                                          \
        .name = "pci", .type = VMS_STRUCT, .offset = offsetof(st, f),                          \
        .size = sizeof(PCIDevice), .vmsd = &vmstate_pci_device                                 \
    }
/* "0000:00:SS.F" (caller frees); the device must be on the bus. */
char *pci_device_path(const PCIDevice *d);

/* The host bridge (8086:1237 at 00.0) and bus, created by the pc machine; the bridge
 * answers configuration mechanism 1 at 0xCF8/0xCFC. */
void pci_host_init(void);
/* Leave the host bridge as firmware leaves it for an OS (tern's Linux loader stands in
 * for firmware): PAM all RAM read/write, SMRAM open. `fixed`: the registers stay so
 * (under KVM, where the guest reaches RAM through KVM's mappings, not through tern). */
void pci_host_firmware_done(bool fixed);
void pci_bus_reset(void);
PCIDevice *pci_bus_find(int devfn);

#endif
