/* error.h: errors travel as GError values in one domain; the code is the QMP error class. */
#ifndef TERN_ERROR_H
#define TERN_ERROR_H

#include <glib.h>
#include <stdbool.h>

#define TERN_ERROR (tern_error_quark())
GQuark tern_error_quark(void);

/* QEMU's QMP error classes, in QEMU's order. */
typedef enum {
    TERN_ERROR_GENERIC,           /* GenericError */
    TERN_ERROR_COMMAND_NOT_FOUND, /* CommandNotFound */
    TERN_ERROR_DEVICE_NOT_ACTIVE, /* DeviceNotActive */
    TERN_ERROR_DEVICE_NOT_FOUND,  /* DeviceNotFound */
    TERN_ERROR_KVM_MISSING_CAP,   /* KVMMissingCap */
} TernErrorClass;

/* The QMP class name of an error ("GenericError" for foreign domains). */
const char *tern_error_class_name(const GError *err);

/* Set a GenericError from a format and return false, for `return tern_error_fail(...)`. */
bool tern_error_fail(GError **errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Print "tern: <message>" to stderr once, as one line: control characters in the message
 * (quoted user or stream input) are shown as C escapes. */
void tern_error_report(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

#endif
