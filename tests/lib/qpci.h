/*
 * qpci.h: a PCI driver for tests, over libqtest: configuration mechanism 1 through
 * 0xCF8/0xCFC, finding devices by id or class, BAR sizing and placement (memory BARs
 * in the 32-bit window from 0xE0000000, I/O BARs from 0xC000; a 64-bit BAR is placed
 * there too, with a zero upper half), capability walks, and MSI-X with message
 * addresses in guest RAM so a test sees each message as a 32-bit write it can read.
 */
#ifndef TERN_TESTS_QPCI_H
#define TERN_TESTS_QPCI_H

#include <stdbool.h>
#include <stdint.h>
#include "libqtest.h"

#define QPCI_MMIO_START 0xe0000000ULL
#define QPCI_MMIO_END 0xfec00000ULL
#define QPCI_PIO_START 0xc000u
#define QPCI_PIO_END 0x10000u
#define QPCI_NO_BAR UINT64_MAX
#define QPCI_DEVFN(slot, fn) (((slot) << 3) | (fn))

typedef struct QPCIBus {
    QTestState *qts;
    uint64_t mmio_next; /* next free address in the 32-bit memory window */
    uint32_t pio_next;  /* next free I/O port */
} QPCIBus;

typedef struct QPCIDevice {
    QPCIBus *bus;
    int devfn;
    uint64_t bar_addr[6]; /* as placed by qpci_iomap, else QPCI_NO_BAR */
    uint64_t bar_size[6];
    bool bar_io[6];
    /* MSI-X, after qpci_msix_enable */
    uint8_t msix_cap;
    unsigned msix_vectors;
    uint64_t msix_table, msix_pba; /* guest addresses of the structures */
    uint64_t msix_msg_base;        /* vector v writes its data at msix_msg_base + 4 * v */
} QPCIDevice;

void qpci_init(QPCIBus *bus, QTestState *qts);

/* Raw config access to any bus-0 devfn (an absent one reads all ones). */
uint8_t qpci_config_readb(QPCIBus *bus, int devfn, uint8_t off);
uint16_t qpci_config_readw(QPCIBus *bus, int devfn, uint8_t off);
uint32_t qpci_config_readl(QPCIBus *bus, int devfn, uint8_t off);
void qpci_config_writeb(QPCIBus *bus, int devfn, uint8_t off, uint8_t v);
void qpci_config_writew(QPCIBus *bus, int devfn, uint8_t off, uint16_t v);
void qpci_config_writel(QPCIBus *bus, int devfn, uint8_t off, uint32_t v);

/* The device at devfn, or NULL when its vendor id reads 0xFFFF. Free with g_free. */
QPCIDevice *qpci_device_at(QPCIBus *bus, int devfn);
/* The first device with this vendor (and device, unless 0xFFFF), or NULL. */
QPCIDevice *qpci_device_find(QPCIBus *bus, uint16_t vendor, uint16_t device);
/* The first device whose class code (class << 8 | subclass) matches, or NULL. */
QPCIDevice *qpci_device_find_class(QPCIBus *bus, uint16_t class_code);

/* Config access on a device. */
uint8_t qpci_readb(QPCIDevice *d, uint8_t off);
uint16_t qpci_readw(QPCIDevice *d, uint8_t off);
uint32_t qpci_readl(QPCIDevice *d, uint8_t off);
void qpci_writeb(QPCIDevice *d, uint8_t off, uint8_t v);
void qpci_writew(QPCIDevice *d, uint8_t off, uint16_t v);
void qpci_writel(QPCIDevice *d, uint8_t off, uint32_t v);

/* Size a BAR the way a driver does (write all ones, read back, restore): 0 when the
 * BAR is not implemented. Sets *is_io, *is_64 when given. */
uint64_t qpci_bar_size(QPCIDevice *d, int bar, bool *is_io, bool *is_64);
/* Size and place a BAR (naturally aligned, in the window of its kind); returns the
 * address. Does not touch the command register. */
uint64_t qpci_iomap(QPCIDevice *d, int bar);
/* Set I/O, memory and bus-master enables. */
void qpci_device_enable(QPCIDevice *d);

/* Offset of the first capability with `id` after `start` (0: from the list head), or 0. */
uint8_t qpci_find_capability(QPCIDevice *d, uint8_t id, uint8_t start);

/* Access a placed BAR: port I/O for an I/O BAR, MMIO otherwise. */
uint8_t qpci_io_readb(QPCIDevice *d, int bar, uint64_t off);
uint16_t qpci_io_readw(QPCIDevice *d, int bar, uint64_t off);
uint32_t qpci_io_readl(QPCIDevice *d, int bar, uint64_t off);
uint64_t qpci_io_readq(QPCIDevice *d, int bar, uint64_t off);
void qpci_io_writeb(QPCIDevice *d, int bar, uint64_t off, uint8_t v);
void qpci_io_writew(QPCIDevice *d, int bar, uint64_t off, uint16_t v);
void qpci_io_writel(QPCIDevice *d, int bar, uint64_t off, uint32_t v);
void qpci_io_writeq(QPCIDevice *d, int bar, uint64_t off, uint64_t v);

/*
 * MSI-X: place the table's and PBA's BARs (qpci_iomap, unless already placed), enable
 * the device, point every vector v at a fresh 4-byte slot in guest RAM with data
 * QPCI_MSIX_DATA(v), unmask every vector and set the enable bit (function mask clear).
 */
#define QPCI_MSIX_DATA(v) (0x7e500000u + (v))
void qpci_msix_enable(QPCIDevice *d);
void qpci_msix_disable(QPCIDevice *d);
void qpci_msix_set_function_mask(QPCIDevice *d, bool masked);
void qpci_msix_set_vector_mask(QPCIDevice *d, unsigned vector, bool masked);
bool qpci_msix_pending(QPCIDevice *d, unsigned vector);
/* True when vector's message arrived since the last call (its slot holds the data);
 * clears the slot. */
bool qpci_msix_take(QPCIDevice *d, unsigned vector);

#endif
