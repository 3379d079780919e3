/* error.c: the tern error domain and the one place errors reach the user's terminal. */
#include <stdarg.h>
#include <stdio.h>
#include "error.h"

G_DEFINE_QUARK(tern-error-quark, tern_error)

const char *tern_error_class_name(const GError *err)
{
    static const char *const names[] = {
        [TERN_ERROR_GENERIC] = "GenericError",
        [TERN_ERROR_COMMAND_NOT_FOUND] = "CommandNotFound",
        [TERN_ERROR_DEVICE_NOT_ACTIVE] = "DeviceNotActive",
        [TERN_ERROR_DEVICE_NOT_FOUND] = "DeviceNotFound",
        [TERN_ERROR_KVM_MISSING_CAP] = "KVMMissingCap",
    };
    if (err && err->domain == TERN_ERROR && err->code >= 0 &&
        (size_t)err->code < G_N_ELEMENTS(names)) {
        return names[err->code];
    }
    return "GenericError";
}

bool tern_error_fail(GError **errp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(errp, TERN_ERROR, TERN_ERROR_GENERIC, msg);
    return false;
}

void tern_error_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("tern: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}
