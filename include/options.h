/*
 * options.h: tern's command line, QEMU's syntax, parsed into one typed configuration.
 * Parsing only checks syntax and values; whether a -netdev type or -device driver exists
 * is checked by vl.c against the backend and device registries.
 */
#ifndef TERN_OPTIONS_H
#define TERN_OPTIONS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define TERN_VERSION "0.1.0"

/* A QEMU-style "driver,key=value,key=value" list ("," inside a value is written ",,"). */
typedef struct {
    char *option; /* the option it came from, e.g. "-device", for messages */
    char *driver; /* the implied first value: netdev type, device driver */
    char *id;
    GPtrArray *keys;   /* char *, in order, without driver and id */
    GPtrArray *values; /* char *, parallel to keys */
} TernOpts;

TernOpts *opts_parse(const char *option, const char *text, const char *implied_key,
                     GError **errp);
void opts_free(TernOpts *o);
const char *opts_get(const TernOpts *o, const char *key);
/* Typed getters; each fails with a message naming the option and key. */
bool opts_get_bool(const TernOpts *o, const char *key, bool def, bool *out, GError **errp);
bool opts_get_uint(const TernOpts *o, const char *key, uint64_t def, uint64_t max,
                   uint64_t *out, GError **errp);
/* Fail on any key not in the NULL-terminated `known` list. */
bool opts_check_keys(const TernOpts *o, const char *const *known, GError **errp);
/* A key=value parameter of an option, with QEMU's type name for it ("string",
 * "boolean", "number", "size"); lists end with {NULL}. The first entry of an option's
 * list is its implied key (`-smp 4` is cpus=4). */
typedef struct {
    const char *name;
    const char *type;
} OptionParam;
typedef struct {
    const char *option; /* without the dash */
    const OptionParam *params;
} OptionParamList;
/* The options that take key=value parameters, as the parsers check them: what
 * query-command-line-options reports. Returns the count. */
size_t options_param_lists(const OptionParamList **lists);
/* Check `o`'s keys against `params` (the implied key excluded). */
bool opts_check_params(const TernOpts *o, const OptionParam *params, GError **errp);

/* "on/off/yes/no/true/false" */
bool parse_bool(const char *s, bool *out);
/* "256", "256M", "1G", "512k", "2T"; a bare number is `default_unit` bytes. */
bool parse_size(const char *s, uint64_t default_unit, uint64_t *out);

typedef enum {
    ACCEL_DEFAULT, /* none given: kvm for a machine with a guest, none for -machine none */
    ACCEL_KVM,
    ACCEL_QTEST,
} TernAccel;

/* -boot: what firmware would read from fw_cfg (tern boots no firmware itself). */
typedef struct {
    bool menu;               /* menu=on */
    bool has_splash_time;    /* splash-time given: "etc/boot-menu-wait" exists */
    uint16_t splash_time;    /* ms */
    uint32_t reboot_timeout; /* ms, "etc/boot-fail-wait"; UINT32_MAX: never (-1) */
} TernBootConfig;

typedef struct {
    char *name;
    uint64_t ram_size; /* bytes */
    unsigned smp;
    char *kernel, *initrd, *append;
    char *machine; /* "pc" or "none" */
    TernAccel accel;
    bool start_paused; /* -S */
    bool nographic;
    bool display_none;
    char *serial;       /* "stdio", "file:PATH", "unix:PATH[,server=on,wait=off]", "none" */
    GPtrArray *qmp;     /* char * specs */
    GPtrArray *netdevs; /* TernOpts * */
    GPtrArray *devices; /* TernOpts * */
    char *incoming;     /* URI or "defer" */
    char *pidfile;
    bool no_reboot;
    char *logfile;
    char *qtest;         /* -qtest chardev spec */
    char *qtest_log;     /* -qtest-log FILE */
    unsigned sandbox;    /* -sandbox: SANDBOX_* groups to deny, 0 for none */
    GPtrArray *chardevs; /* TernOpts *: -chardev socket,id=ID,path=PATH[,server=,wait=] */
    GPtrArray *monitors; /* TernOpts *: -mon chardev=ID,mode=control */
    bool nodefaults;     /* -nodefaults: -nographic puts no serial port on stdio */
    bool has_uuid;
    uint8_t uuid[16]; /* -uuid, in the byte order it is written (RFC 4122) */
    TernBootConfig boot;
} TernConfig;

typedef enum {
    OPTIONS_RUN,     /* start the VMM */
    OPTIONS_EXIT_OK, /* -version / -help printed: exit 0 */
    OPTIONS_ERROR,   /* message in errp: exit 1 */
} OptionsResult;

TernConfig *config_new(void);
void config_free(TernConfig *c);
/* Parse argv (argv[0] is the program); -version and -help print to `out`. */
OptionsResult options_parse(TernConfig *c, int argc, char **argv, FILE *out, GError **errp);

/* The -chardev with this id, or NULL. */
const TernOpts *config_find_chardev(const TernConfig *c, const char *id);

/* The VM's name from -name (NULL when none), for QMP query-name. */
const char *vm_name(void);
void vm_name_set(const char *name);
/* The VM's -uuid (16 bytes, NULL: none), for QMP query-uuid. */
void vm_uuid_set(const uint8_t *uuid);
/* xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx; all zeros without -uuid (QEMU's). Caller frees. */
char *vm_uuid_string(void);

#endif
