/* qvirtio-input.h: the test driver's side of virtio-mouse-pci (virtio-input). */
#ifndef TERN_TESTS_QVIRTIO_INPUT_H
#define TERN_TESTS_QVIRTIO_INPUT_H

#include "qvirtio.h"

#define QVINPUT_ID 18 /* virtio id: PCI 1af4:1052 */

/* A running driver: MSI-X on, VERSION_1 negotiated, eventq (0) and statusq (1) set up,
 * DRIVER_OK. */
void qvinput_init(QVirtioDevice *d, QVirtQueue **eventq, QVirtQueue **statusq);

/* Send one LED status event (EV_LED, LED_NUML, 1) on statusq and wait for the device to
 * return it used with nothing written. */
void qvinput_send_status(QTestState *qts, QVirtQueue *statusq);

#endif
