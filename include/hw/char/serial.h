/*
 * serial.h: a 16550A UART on I/O ports, its interrupt on an ISA IRQ, its host side a
 * chardev (hw/char/chardev.h).
 */
#ifndef TERN_HW_CHAR_SERIAL_H
#define TERN_HW_CHAR_SERIAL_H

#include <stdint.h>
#include "hw/char/chardev.h"

#define SERIAL_COM1_BASE 0x3f8
#define SERIAL_COM1_IRQ 4

typedef struct SerialState SerialState;

/* Map the UART at `base` (8 ports) raising `irq`; it owns `chr` (may be NULL: a UART with
 * nothing attached). */
SerialState *serial_init(uint16_t base, int irq, Chardev *chr);
void serial_free(SerialState *s);
void serial_reset(SerialState *s);

#endif
