/*
 * qtest.h: the qtest accelerator (qtest.c). It connects to -qtest's socket (or uses
 * stdio), makes the virtual clock manual and serves the protocol on the main loop; tern
 * exits (exit code 0) when the test closes the connection. docs/qtest.md has the protocol.
 */
#ifndef TERN_QTEST_H
#define TERN_QTEST_H

#include <glib.h>
#include <stdbool.h>
#include "options.h"

bool qtest_accel_init(TernConfig *c, GError **errp);
void qtest_accel_destroy(void);
bool qtest_enabled(void);

#endif
