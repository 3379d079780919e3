/*
 * serial.c: a 16550A UART, enough of it for Linux's 8250 driver to detect a 16550A, run a
 * console and a getty: divisor latch, FIFO control (16-byte receive FIFO), line and modem
 * control with loopback, and the interrupt identification priorities. Transmission is
 * instantaneous (THR empties at once), as for QEMU's UART; reception is paced by the
 * FIFO: the chardev is read only while there is room.
 *
 * The interrupt line follows "an interrupt is pending" (IIR != no-interrupt); the THRE
 * interrupt is re-armed whenever IER.THRI goes 0->1 with THR empty, as Linux's
 * UART_BUG_THRE probe expects of a real 16550.
 *
 * Migration: the "serial" section carries the registers and the receive FIFO with the
 * bytes the guest has not read yet; the chardev (what -serial names) is each side's own.
 */
#include <string.h>
#include "error.h"
#include "hw/char/serial.h"
#include "hw/irq.h"
#include "hw/memory.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"

enum {
    UART_RX = 0,  /* RBR / THR / DLL */
    UART_IER = 1, /* IER / DLM */
    UART_IIR = 2, /* IIR / FCR */
    UART_LCR = 3,
    UART_MCR = 4,
    UART_LSR = 5,
    UART_MSR = 6,
    UART_SCR = 7,
};

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IER_RLSI 0x04
#define IER_MSI 0x08

#define IIR_NO_INT 0x01
#define IIR_MSI 0x00
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_RLSI 0x06
#define IIR_ID 0x0e
#define IIR_FIFO_ENABLED 0xc0

#define FCR_FE 0x01
#define FCR_RFR 0x02

#define LCR_DLAB 0x80
#define MCR_LOOP 0x10

#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_INT_ANY 0x1e

#define MSR_DCTS 0x01
#define MSR_ANY_DELTA 0x0f
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

#define RX_FIFO_SIZE 16

struct SerialState {
    MemoryRegion io;
    int irq;
    Chardev *chr;
    uint16_t divider;
    uint8_t ier, iir, fcr, lcr, mcr, lsr, msr, scr;
    bool thr_ipending;
    bool irq_level;
    uint8_t rx[RX_FIFO_SIZE];
    uint32_t rx_head, rx_count;
    VMStateEntry *vmse;
};

static void serial_update_irq(SerialState *s)
{
    uint8_t id = IIR_NO_INT;
    if ((s->ier & IER_RLSI) && (s->lsr & LSR_INT_ANY)) {
        id = IIR_RLSI;
    } else if ((s->ier & IER_RDI) && (s->lsr & LSR_DR)) {
        id = IIR_RDI;
    } else if ((s->ier & IER_THRI) && s->thr_ipending) {
        id = IIR_THRI;
    } else if ((s->ier & IER_MSI) && (s->msr & MSR_ANY_DELTA)) {
        id = IIR_MSI;
    }
    s->iir = id | (s->iir & 0xf0);
    bool level = id != IIR_NO_INT;
    if (level != s->irq_level) {
        s->irq_level = level;
        irq_set_level(s->irq, level);
    }
}

static void rx_push(SerialState *s, uint8_t byte)
{
    unsigned cap = (s->fcr & FCR_FE) ? RX_FIFO_SIZE : 1;
    if (s->rx_count >= cap) {
        s->lsr |= LSR_OE; /* overrun: cannot happen from the chardev, which we pace */
        return;
    }
    s->rx[(s->rx_head + s->rx_count++) % RX_FIFO_SIZE] = byte;
    s->lsr |= LSR_DR;
}

static void rx_clear(SerialState *s)
{
    s->rx_head = s->rx_count = 0;
    s->lsr &= ~(LSR_DR | LSR_BI);
}

static size_t serial_can_receive(void *opaque)
{
    SerialState *s = opaque;
    if (s->mcr & MCR_LOOP) {
        return 0; /* in loopback the line is disconnected from the outside */
    }
    unsigned cap = (s->fcr & FCR_FE) ? RX_FIFO_SIZE : 1;
    return cap - s->rx_count;
}

static void serial_receive(void *opaque, const uint8_t *buf, size_t len)
{
    SerialState *s = opaque;
    for (size_t i = 0; i < len; i++) {
        rx_push(s, buf[i]);
    }
    serial_update_irq(s);
}

static void serial_transmit(SerialState *s, uint8_t byte)
{
    if (s->mcr & MCR_LOOP) {
        rx_push(s, byte);
    } else {
        chardev_write(s->chr, &byte, 1);
    }
    /* Sent at once: THR and the shift register are empty again. */
    s->lsr |= LSR_THRE | LSR_TEMT;
    s->thr_ipending = true;
    serial_update_irq(s);
}

static uint8_t serial_msr(SerialState *s)
{
    if (s->mcr & MCR_LOOP) {
        /* DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD */
        return ((s->mcr & 0x0c) << 4) | ((s->mcr & 0x02) << 3) | ((s->mcr & 0x01) << 5);
    }
    uint8_t v = s->msr;
    s->msr &= ~MSR_ANY_DELTA;
    serial_update_irq(s);
    return v;
}

static uint64_t serial_read_reg(SerialState *s, unsigned reg)
{
    uint8_t v;
    switch (reg) {
    case UART_RX:
        if (s->lcr & LCR_DLAB) {
            return s->divider & 0xff;
        }
        v = 0;
        if (s->rx_count) {
            v = s->rx[s->rx_head];
            s->rx_head = (s->rx_head + 1) % RX_FIFO_SIZE;
            s->rx_count--;
        }
        if (!s->rx_count) {
            s->lsr &= ~(LSR_DR | LSR_BI);
        }
        serial_update_irq(s);
        chardev_accept_input(s->chr);
        return v;
    case UART_IER:
        return (s->lcr & LCR_DLAB) ? s->divider >> 8 : s->ier;
    case UART_IIR:
        v = s->iir;
        if ((v & IIR_ID) == IIR_THRI) {
            s->thr_ipending = false;
            serial_update_irq(s);
        }
        return v;
    case UART_LCR:
        return s->lcr;
    case UART_MCR:
        return s->mcr;
    case UART_LSR:
        v = s->lsr;
        if (s->lsr & (LSR_BI | LSR_OE)) {
            s->lsr &= ~(LSR_BI | LSR_OE);
            serial_update_irq(s);
        }
        return v;
    case UART_MSR:
        return serial_msr(s);
    default:
        return s->scr;
    }
}

static void serial_write_fcr(SerialState *s, uint8_t v)
{
    if (v & FCR_RFR) {
        rx_clear(s);
    }
    if ((v ^ s->fcr) & FCR_FE) {
        rx_clear(s); /* switching FIFO mode empties it */
    }
    s->fcr = v & 0xc9;
    s->iir = (s->iir & 0x0f) | ((s->fcr & FCR_FE) ? IIR_FIFO_ENABLED : 0);
    serial_update_irq(s);
    chardev_accept_input(s->chr);
}

static void serial_write_reg(SerialState *s, unsigned reg, uint8_t v)
{
    switch (reg) {
    case UART_RX:
        if (s->lcr & LCR_DLAB) {
            s->divider = (s->divider & 0xff00) | v;
        } else {
            s->thr_ipending = false;
            serial_transmit(s, v);
        }
        break;
    case UART_IER:
        if (s->lcr & LCR_DLAB) {
            s->divider = (s->divider & 0x00ff) | v << 8;
        } else {
            uint8_t changed = (s->ier ^ v) & 0x0f;
            s->ier = v & 0x0f;
            if (changed & IER_THRI) {
                s->thr_ipending = (s->ier & IER_THRI) && (s->lsr & LSR_THRE);
            }
            serial_update_irq(s);
        }
        break;
    case UART_IIR:
        serial_write_fcr(s, v);
        break;
    case UART_LCR:
        s->lcr = v;
        break;
    case UART_MCR: {
        bool was_loop = s->mcr & MCR_LOOP;
        s->mcr = v & 0x1f;
        if (was_loop && !(s->mcr & MCR_LOOP)) {
            chardev_accept_input(s->chr);
        }
        serial_update_irq(s);
        break;
    }
    case UART_LSR:
    case UART_MSR:
        break; /* read-only */
    default:
        s->scr = v;
        break;
    }
}

static uint64_t serial_io_read(void *opaque, uint64_t offset, unsigned size)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size && offset + i < 8; i++) {
        v |= serial_read_reg(opaque, offset + i) << (8 * i);
    }
    return v;
}

static void serial_io_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    for (unsigned i = 0; i < size && offset + i < 8; i++) {
        serial_write_reg(opaque, offset + i, value >> (8 * i));
    }
}

static const MemoryRegionOps serial_ops = {
    .read = serial_io_read,
    .write = serial_io_write,
};

void serial_reset(SerialState *s)
{
    s->divider = 12; /* 9600 baud */
    s->ier = 0;
    s->iir = IIR_NO_INT;
    s->fcr = 0;
    s->lcr = 0;
    s->mcr = 0;
    s->lsr = LSR_TEMT | LSR_THRE;
    s->msr = MSR_DCD | MSR_DSR | MSR_CTS; /* a connected, ready peer */
    s->scr = 0;
    s->thr_ipending = false;
    rx_clear(s);
    serial_update_irq(s);
}

/* --- migration ------------------------------------------------------------------------ */

static bool serial_check_fifo(void *opaque, int version_id, GError **errp)
{
    SerialState *s = opaque;
    if (s->rx_head >= RX_FIFO_SIZE || s->rx_count > RX_FIFO_SIZE) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "receive FIFO head %u / count %u out of range (FIFO of %d)", s->rx_head,
                    s->rx_count, RX_FIFO_SIZE);
        return false;
    }
    return true;
}

/* The line on this side starts low: raise it if an interrupt is pending (an edge the
 * guest may see twice, which the 8250 driver takes as a spurious one, rather than none),
 * and read the chardev again if the FIFO has room. */
static bool serial_post_load(void *opaque, int version_id, GError **errp)
{
    SerialState *s = opaque;
    s->irq_level = false;
    serial_update_irq(s);
    chardev_accept_input(s->chr);
    return true;
}

static const VMStateField serial_fields[] = {
    VMSTATE_UINT16(divider, SerialState),
    VMSTATE_UINT8(ier, SerialState),
    VMSTATE_UINT8(iir, SerialState),
    VMSTATE_UINT8(fcr, SerialState),
    VMSTATE_UINT8(lcr, SerialState),
    VMSTATE_UINT8(mcr, SerialState),
    VMSTATE_UINT8(lsr, SerialState),
    VMSTATE_UINT8(msr, SerialState),
    VMSTATE_UINT8(scr, SerialState),
    VMSTATE_BOOL(thr_ipending, SerialState),
    VMSTATE_UINT8_ARRAY(rx, SerialState),
    VMSTATE_UINT32(rx_head, SerialState),
    VMSTATE_UINT32(rx_count, SerialState),
    VMSTATE_VALIDATE("rx", serial_check_fifo),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_serial = {
    .name = "serial",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = serial_fields,
    .post_load = serial_post_load,
};

SerialState *serial_init(uint16_t base, int irq, Chardev *chr)
{
    SerialState *s = g_new0(SerialState, 1);
    s->irq = irq;
    s->chr = chr;
    memory_region_init(&s->io, ADDR_SPACE_IO, "serial", 8, &serial_ops, s);
    memory_region_map(&s->io, base);
    serial_reset(s);
    if (chr) {
        chardev_set_handlers(chr, serial_can_receive, serial_receive, s);
    }
    s->vmse = vmstate_register(VMSTATE_INSTANCE_ID_ANY, &vmstate_serial, s);
    return s;
}

void serial_free(SerialState *s)
{
    if (!s) {
        return;
    }
    vmstate_unregister(s->vmse);
    memory_region_unmap(&s->io);
    chardev_close(s->chr);
    g_free(s);
}
