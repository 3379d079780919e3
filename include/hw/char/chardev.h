/*
 * chardev.h: the host side of a character device (what -serial names): stdio,
 * file:PATH (output only), unix:PATH (connect as a client) or
 * unix:PATH,server=on[,wait=off] (listen; QEMU's default wait=on blocks start-up until a
 * client connects), null. Input is read on the main loop only as fast as the frontend
 * (the UART) can take it; output is written straight through (dropped while a server
 * has no client). A client that disconnects is replaced by the next one.
 */
#ifndef TERN_HW_CHAR_CHARDEV_H
#define TERN_HW_CHAR_CHARDEV_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Chardev Chardev;

/* How many bytes the frontend takes now (0: stop reading until chardev_accept_input). */
typedef size_t ChardevCanReceive(void *opaque);
typedef void ChardevReceive(void *opaque, const uint8_t *buf, size_t len);

/* `option` names the command-line option in messages ("-serial"). */
Chardev *chardev_open(const char *option, const char *spec, GError **errp);
void chardev_close(Chardev *chr);
void chardev_set_handlers(Chardev *chr, ChardevCanReceive *can_receive, ChardevReceive *receive,
                          void *opaque);
/* The frontend has room again: resume reading input. Big lock held. */
void chardev_accept_input(Chardev *chr);
void chardev_write(Chardev *chr, const uint8_t *buf, size_t len);

#endif
