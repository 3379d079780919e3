/*
 * options-internal.h: what options.c shares with options-extra.c, which holds the
 * options beyond the core machine description (monitor chardevs, firmware settings,
 * absent hardware). One table per file; options.c looks an option up in both.
 */
#ifndef TERN_OPTIONS_INTERNAL_H
#define TERN_OPTIONS_INTERNAL_H

#include "options.h"

typedef bool OptionHandler(TernConfig *c, const char *opt, const char *arg, GError **errp);

typedef struct {
    const char *name; /* without the leading '-' */
    bool has_arg;
    OptionHandler *handler;
    const char *help;
} OptionDef;

extern const OptionDef options_extra_defs[];
extern const size_t options_extra_count;

/* Set errp to "-OPT: message" and return false. */
bool options_fail(GError **errp, const char *opt, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Checks across options once the whole line is parsed (-mon and -chardev pairs). */
bool options_extra_check(TernConfig *c, GError **errp);

#endif
