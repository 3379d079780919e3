/* error.c: the tern error domain and the one place errors reach the user's terminal. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "error.h"

G_DEFINE_QUARK(tern - error - quark, tern_error)

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

/* Messages quote what users, streams and guests wrote; a control character in there
 * must not start a line of its own (a forged log line) or reach the terminal as an
 * escape sequence. A message is one line: everything below 0x20, and DEL, is shown as a
 * C escape. */
static void put_escaped(const char *msg, FILE *out)
{
    for (const unsigned char *p = (const unsigned char *)msg; *p; p++) {
        static const char named[] = "\n\r\t";
        const char *at = strchr(named, *p);
        if (at) {
            fputc('\\', out);
            fputc("nrt"[at - named], out);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(out, "\\x%02x", *p);
        } else {
            fputc(*p, out);
        }
    }
}

void tern_error_report(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fputs("tern: ", stderr);
    put_escaped(msg, stderr);
    fputc('\n', stderr);
}
