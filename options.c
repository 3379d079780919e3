/*
 * options.c: parse QEMU's command-line syntax into a TernConfig. Every option tern
 * supports is in the table below; anything else is refused with one line naming it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"
#include "options.h"
#include "monitor/qmp.h"
#include "options-internal.h"
#include "sandbox.h"

#define MAX_SMP 64

static char *the_vm_name;

const char *vm_name(void)
{
    return the_vm_name;
}

void vm_name_set(const char *name)
{
    g_free(the_vm_name);
    the_vm_name = g_strdup(name);
}

bool parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"on", "yes", "true", NULL};
    static const char *const no[] = {"off", "no", "false", NULL};
    if (!s) {
        return false;
    }
    if (g_strv_contains(yes, s)) {
        *out = true;
        return true;
    }
    if (g_strv_contains(no, s)) {
        *out = false;
        return true;
    }
    return false;
}

bool parse_size(const char *s, uint64_t default_unit, uint64_t *out)
{
    char *end;
    if (!s || !g_ascii_isdigit(*s)) {
        return false;
    }
    errno = 0;
    double v = g_ascii_strtod(s, &end);
    if (errno || v < 0) {
        return false;
    }
    uint64_t unit = default_unit;
    if (*end) {
        switch (g_ascii_toupper(*end)) {
        case 'B':
            unit = 1;
            break;
        case 'K':
            unit = 1ULL << 10;
            break;
        case 'M':
            unit = 1ULL << 20;
            break;
        case 'G':
            unit = 1ULL << 30;
            break;
        case 'T':
            unit = 1ULL << 40;
            break;
        default:
            return false;
        }
        if (end[1]) {
            return false;
        }
    }
    double bytes = v * (double)unit;
    if (bytes >= 18446744073709551616.0) {
        return false;
    }
    *out = (uint64_t)bytes;
    return true;
}

void opts_free(TernOpts *o)
{
    if (!o) {
        return;
    }
    g_free(o->option);
    g_free(o->driver);
    g_free(o->id);
    g_ptr_array_unref(o->keys);
    g_ptr_array_unref(o->values);
    g_free(o);
}

/* Next comma-separated element, with ",," unescaped to ",". */
static char *next_element(const char **p)
{
    GString *s = g_string_new(NULL);
    while (**p) {
        if (**p == ',') {
            if ((*p)[1] == ',') {
                g_string_append_c(s, ',');
                *p += 2;
                continue;
            }
            (*p)++;
            break;
        }
        g_string_append_c(s, **p);
        (*p)++;
    }
    return g_string_free(s, FALSE);
}

TernOpts *opts_parse(const char *option, const char *text, const char *implied_key,
                     GError **errp)
{
    TernOpts *o = g_new0(TernOpts, 1);
    o->option = g_strdup(option);
    o->keys = g_ptr_array_new_with_free_func(g_free);
    o->values = g_ptr_array_new_with_free_func(g_free);
    const char *p = text;
    bool first = true;
    if (!*text) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s: empty argument", option);
        goto fail;
    }
    while (*p || first) {
        g_autofree char *el = next_element(&p);
        char *eq = strchr(el, '=');
        const char *key, *value;
        if (!eq) {
            if (!first || !implied_key) {
                g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                            "%s: '%s' lacks a value (expected key=value)", option, el);
                goto fail;
            }
            key = implied_key;
            value = el;
        } else {
            *eq = '\0';
            key = el;
            value = eq + 1;
        }
        first = false;
        if (!*key) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s: empty key in '%s'", option,
                        text);
            goto fail;
        }
        if (implied_key && strcmp(key, implied_key) == 0 && !o->driver) {
            o->driver = g_strdup(value);
        } else if (strcmp(key, "id") == 0 && !o->id) {
            o->id = g_strdup(value);
        } else {
            if (opts_get(o, key) || (strcmp(key, "id") == 0)) {
                g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                            "%s: '%s' given more than once", option, key);
                goto fail;
            }
            g_ptr_array_add(o->keys, g_strdup(key));
            g_ptr_array_add(o->values, g_strdup(value));
        }
    }
    return o;
fail:
    opts_free(o);
    return NULL;
}

const char *opts_get(const TernOpts *o, const char *key)
{
    for (guint i = 0; i < o->keys->len; i++) {
        if (strcmp(g_ptr_array_index(o->keys, i), key) == 0) {
            return g_ptr_array_index(o->values, i);
        }
    }
    return NULL;
}

static const char *opts_name(const TernOpts *o)
{
    return o->driver ? o->driver : o->option;
}

bool opts_get_bool(const TernOpts *o, const char *key, bool def, bool *out, GError **errp)
{
    const char *v = opts_get(o, key);
    if (!v) {
        *out = def;
        return true;
    }
    if (!parse_bool(v, out)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%s %s: '%s' must be on or off, not '%s'", o->option, opts_name(o), key, v);
        return false;
    }
    return true;
}

bool opts_get_uint(const TernOpts *o, const char *key, uint64_t def, uint64_t max,
                   uint64_t *out, GError **errp)
{
    const char *v = opts_get(o, key);
    if (!v) {
        *out = def;
        return true;
    }
    guint64 n;
    if (!g_ascii_string_to_unsigned(v, 10, 0, max, &n, NULL)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%s %s: '%s' must be a number from 0 to %" G_GUINT64_FORMAT ", not '%s'",
                    o->option, opts_name(o), key, (guint64)max, v);
        return false;
    }
    *out = n;
    return true;
}

bool opts_check_keys(const TernOpts *o, const char *const *known, GError **errp)
{
    for (guint i = 0; i < o->keys->len; i++) {
        const char *k = g_ptr_array_index(o->keys, i);
        if (!known || !g_strv_contains(known, k)) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "%s %s: property '%s' is not supported", o->option, opts_name(o), k);
            return false;
        }
    }
    return true;
}

bool opts_check_params(const TernOpts *o, const OptionParam *params, GError **errp)
{
    g_autoptr(GPtrArray) known = g_ptr_array_new();
    for (const OptionParam *p = params + 1; p->name; p++) {
        g_ptr_array_add(known, (char *)p->name);
    }
    g_ptr_array_add(known, NULL);
    return opts_check_keys(o, (const char *const *)known->pdata, errp);
}

/* The key=value options: their implied key first, then what the parser accepts. */
static const OptionParam name_params[] = {
    {"guest", "string"}, {"debug-threads", "boolean"}, {"process", "string"}, {NULL}};
static const OptionParam smp_params[] = {{"cpus", "number"},
                                         {"sockets", "number"},
                                         {"cores", "number"},
                                         {"threads", "number"},
                                         {"maxcpus", "number"},
                                         {"dies", "number"},
                                         {NULL}};
static const OptionParam machine_params[] = {{"type", "string"}, {"accel", "string"}, {NULL}};

size_t options_param_lists(const OptionParamList **lists)
{
    static const OptionParamList all[] = {
        {"name", name_params},
        {"smp-opts", smp_params}, /* QEMU's name for -smp's list */
        {"machine", machine_params},
        {"sandbox", sandbox_params}, /* last: only in a build that has it */
    };
    *lists = all;
    return G_N_ELEMENTS(all) - !sandbox_available();
}

TernConfig *config_new(void)
{
    TernConfig *c = g_new0(TernConfig, 1);
    c->ram_size = 128ULL << 20; /* QEMU's pc default */
    c->smp = 1;
    c->machine = g_strdup("pc");
    c->qmp = g_ptr_array_new_with_free_func(g_free);
    c->netdevs = g_ptr_array_new_with_free_func((GDestroyNotify)opts_free);
    c->devices = g_ptr_array_new_with_free_func((GDestroyNotify)opts_free);
    c->chardevs = g_ptr_array_new_with_free_func((GDestroyNotify)opts_free);
    c->monitors = g_ptr_array_new_with_free_func((GDestroyNotify)opts_free);
    c->boot.reboot_timeout = UINT32_MAX; /* QEMU's default: the firmware never reboots */
    return c;
}

void config_free(TernConfig *c)
{
    if (!c) {
        return;
    }
    g_free(c->name);
    g_free(c->kernel);
    g_free(c->initrd);
    g_free(c->append);
    g_free(c->machine);
    g_free(c->serial);
    g_ptr_array_unref(c->qmp);
    g_ptr_array_unref(c->netdevs);
    g_ptr_array_unref(c->devices);
    g_free(c->incoming);
    g_free(c->pidfile);
    g_free(c->logfile);
    g_free(c->qtest);
    g_free(c->qtest_log);
    g_ptr_array_unref(c->chardevs);
    g_ptr_array_unref(c->monitors);
    g_free(c);
}

#define fail options_fail

bool options_fail(GError **errp, const char *opt, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "-%s: %s", opt, msg);
    return false;
}

static bool set_string(char **slot, const char *arg)
{
    g_free(*slot);
    *slot = g_strdup(arg);
    return true;
}

static bool opt_name(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    g_autoptr(GError) err = NULL;
    TernOpts *o = opts_parse("-name", arg, name_params[0].name, &err);
    if (!o) {
        g_propagate_error(errp, g_steal_pointer(&err));
        return false;
    }
    bool ok = opts_check_params(o, name_params, errp);
    if (ok) {
        set_string(&c->name, o->driver);
    }
    opts_free(o);
    return ok;
}

static bool opt_m(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    TernOpts *o = opts_parse("-m", arg, "size", errp);
    if (!o) {
        return false;
    }
    uint64_t size = 0;
    bool ok = opts_check_keys(o, NULL, errp);
    if (ok && (!o->driver || !parse_size(o->driver, 1ULL << 20, &size))) {
        ok = tern_error_fail(errp, "-%s: invalid size '%s' (use e.g. 256, 256M or 1G)", opt,
                             o->driver ? o->driver : arg);
    }
    if (ok && (size < (2ULL << 20) || size > (1ULL << 40))) {
        ok =
            tern_error_fail(errp, "-%s: RAM size '%s' out of range (2M to 1T)", opt, o->driver);
    }
    if (ok) {
        c->ram_size = size & ~0xfffULL;
    }
    opts_free(o);
    return ok;
}

static bool opt_smp(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    TernOpts *o = opts_parse("-smp", arg, smp_params[0].name, errp);
    if (!o) {
        return false;
    }
    uint64_t cpus = 0, sockets, cores, threads, dies, maxcpus;
    bool ok = opts_check_params(o, smp_params, errp) &&
              opts_get_uint(o, "sockets", 1, MAX_SMP, &sockets, errp) &&
              opts_get_uint(o, "dies", 1, MAX_SMP, &dies, errp) &&
              opts_get_uint(o, "cores", 1, MAX_SMP, &cores, errp) &&
              opts_get_uint(o, "threads", 1, MAX_SMP, &threads, errp);
    if (ok && o->driver) {
        guint64 n;
        if (!g_ascii_string_to_unsigned(o->driver, 10, 1, MAX_SMP, &n, NULL)) {
            ok = tern_error_fail(errp, "-%s: CPU count '%s' must be from 1 to %d", opt,
                                 o->driver, MAX_SMP);
        }
        cpus = n;
    } else if (ok) {
        cpus = sockets * dies * cores * threads;
    }
    if (ok && !opts_get_uint(o, "maxcpus", cpus, MAX_SMP, &maxcpus, errp)) {
        ok = false;
    }
    if (ok && (cpus < 1 || cpus > MAX_SMP)) {
        ok = tern_error_fail(errp, "-%s: CPU count %" G_GUINT64_FORMAT " must be from 1 to %d",
                             opt, (guint64)cpus, MAX_SMP);
    }
    if (ok && maxcpus != cpus) {
        ok = tern_error_fail(errp, "-%s: CPU hotplug is not supported: maxcpus must equal cpus",
                             opt);
    }
    if (ok && (opts_get(o, "sockets") || opts_get(o, "cores") || opts_get(o, "threads")) &&
        sockets * dies * cores * threads != cpus) {
        ok = tern_error_fail(
            errp, "-%s: sockets*dies*cores*threads must equal cpus (%" G_GUINT64_FORMAT ")",
            opt, (guint64)cpus);
    }
    if (ok) {
        c->smp = cpus;
    }
    opts_free(o);
    return ok;
}

static bool accel_from_name(TernConfig *c, const char *opt, const char *name, GError **errp)
{
    if (strcmp(name, "kvm") == 0) {
        c->accel = ACCEL_KVM;
    } else if (strcmp(name, "qtest") == 0) {
        c->accel = ACCEL_QTEST;
    } else if (strcmp(name, "tcg") == 0 || strcmp(name, "xen") == 0 ||
               strcmp(name, "hvf") == 0 || strcmp(name, "whpx") == 0) {
        return tern_error_fail(
            errp,
            "-%s: accelerator '%s' is not supported: tern runs guests under KVM "
            "(or qtest for device tests)",
            opt, name);
    } else {
        return tern_error_fail(errp, "-%s: unknown accelerator '%s' (supported: kvm, qtest)",
                               opt, name);
    }
    return true;
}

static bool opt_machine(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    TernOpts *o = opts_parse("-machine", arg, machine_params[0].name, errp);
    if (!o) {
        return false;
    }
    bool ok = opts_check_params(o, machine_params, errp);
    if (ok && o->driver) {
        if (strcmp(o->driver, "pc") == 0 || g_str_has_prefix(o->driver, "pc-i440fx-")) {
            set_string(&c->machine, "pc");
        } else if (strcmp(o->driver, "none") == 0) {
            set_string(&c->machine, "none");
        } else {
            ok = tern_error_fail(
                errp, "-%s: machine type '%s' is not supported (supported: pc, none)", opt,
                o->driver);
        }
    }
    const char *accel = opts_get(o, "accel");
    if (ok && accel) {
        ok = accel_from_name(c, opt, accel, errp);
    }
    opts_free(o);
    return ok;
}

static bool opt_accel(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    TernOpts *o = opts_parse("-accel", arg, "accel", errp);
    if (!o) {
        return false;
    }
    bool ok = opts_check_keys(o, NULL, errp) && accel_from_name(c, opt, o->driver, errp);
    opts_free(o);
    return ok;
}

static bool opt_enable_kvm(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    c->accel = ACCEL_KVM;
    return true;
}

static bool opt_S(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    c->start_paused = true;
    return true;
}

static bool opt_nographic(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    c->nographic = true;
    return true;
}

static bool opt_display(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    if (strcmp(arg, "none") != 0) {
        return tern_error_fail(errp,
                               "-%s: display '%s' is not supported (tern has no display: use "
                               "-display none or -nographic)",
                               opt, arg);
    }
    c->display_none = true;
    return true;
}

/* A chardev spec as -serial and -qtest take it. */
static bool chardev_spec_valid(const char *spec)
{
    return strcmp(spec, "stdio") == 0 || strcmp(spec, "none") == 0 ||
           strcmp(spec, "null") == 0 || (g_str_has_prefix(spec, "file:") && spec[5]) ||
           (g_str_has_prefix(spec, "unix:") && spec[5]);
}

static bool opt_serial(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    if (!chardev_spec_valid(arg)) {
        return tern_error_fail(errp,
                               "-%s: unsupported backend '%s' (supported: stdio, file:PATH, "
                               "unix:PATH[,server=on,wait=off], none)",
                               opt, arg);
    }
    if (c->serial) {
        return tern_error_fail(errp, "-%s: only one serial port is supported", opt);
    }
    return set_string(&c->serial, arg);
}

static bool opt_qmp(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    if (!(g_str_has_prefix(arg, "unix:") || g_str_has_prefix(arg, "tcp:"))) {
        return tern_error_fail(
            errp,
            "-%s: '%s' is not supported (use unix:PATH,server=on,wait=off or "
            "tcp:HOST:PORT,server=on,wait=off)",
            opt, arg);
    }
    g_ptr_array_add(c->qmp, g_strdup(arg));
    return true;
}

static bool opt_netdev(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    TernOpts *o = opts_parse("-netdev", arg, "type", errp);
    if (!o) {
        return false;
    }
    if (!o->id) {
        opts_free(o);
        return tern_error_fail(errp, "-%s: '%s' lacks id=", opt, arg);
    }
    for (guint i = 0; i < c->netdevs->len; i++) {
        TernOpts *other = g_ptr_array_index(c->netdevs, i);
        if (strcmp(other->id, o->id) == 0) {
            opts_free(o);
            return tern_error_fail(errp, "-%s: duplicate id '%s'", opt, other->id);
        }
    }
    g_ptr_array_add(c->netdevs, o);
    return true;
}

/* -device '{"driver": ..., ...}': QEMU's JSON form, the same members as device_add. */
static TernOpts *device_opts_json(const char *arg, GError **errp)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(GError) err = NULL;
    if (!json_parser_load_from_data(parser, arg, -1, &err)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "-device: JSON parse error, %s",
                    err->message);
        return NULL;
    }
    JsonNode *root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-device: JSON argument must be an object");
        return NULL;
    }
    TernOpts *o = qmp_opts_from_args("-device", json_node_get_object(root), "driver", errp);
    if (o && !o->driver) {
        opts_free(o);
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-device: Parameter 'driver' is missing");
        return NULL;
    }
    return o;
}

static bool opt_device(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    TernOpts *o = arg[0] == '{' ? device_opts_json(arg, errp)
                                : opts_parse("-device", arg, "driver", errp);
    if (!o) {
        return false;
    }
    for (guint i = 0; o->id && i < c->devices->len; i++) {
        TernOpts *other = g_ptr_array_index(c->devices, i);
        if (other->id && strcmp(other->id, o->id) == 0) {
            opts_free(o);
            return tern_error_fail(errp, "-%s: duplicate id '%s'", opt, other->id);
        }
    }
    g_ptr_array_add(c->devices, o);
    return true;
}

static bool opt_incoming(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    static const char *const prefixes[] = {"tcp:", "unix:", "fd:", "exec:"};
    bool ok = strcmp(arg, "defer") == 0;
    for (size_t i = 0; !ok && i < G_N_ELEMENTS(prefixes); i++) {
        ok = g_str_has_prefix(arg, prefixes[i]) && arg[strlen(prefixes[i])];
    }
    if (!ok) {
        return tern_error_fail(
            errp,
            "-%s: unsupported URI '%s' (supported: tcp:HOST:PORT, unix:PATH, "
            "fd:NAME, exec:CMD, defer)",
            opt, arg);
    }
    return set_string(&c->incoming, arg);
}

static bool opt_kernel(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    return set_string(&c->kernel, arg);
}

static bool opt_initrd(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    return set_string(&c->initrd, arg);
}

static bool opt_append(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    return set_string(&c->append, arg);
}

static bool opt_pidfile(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    return set_string(&c->pidfile, arg);
}

static bool opt_no_reboot(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    c->no_reboot = true;
    return true;
}

static bool opt_D(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    return set_string(&c->logfile, arg);
}

static bool opt_qtest(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    if (!chardev_spec_valid(arg)) {
        return tern_error_fail(errp, "-%s: unsupported chardev '%s' (use unix:PATH or stdio)",
                               opt, arg);
    }
    return set_string(&c->qtest, arg);
}

static bool opt_qtest_log(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    return set_string(&c->qtest_log, arg);
}

static bool opt_sandbox(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    return sandbox_parse(arg, &c->sandbox, errp);
}

static const OptionDef option_defs[] = {
    {"version", false, NULL, "print the version and exit"},
    {"help", false, NULL, "print this help and exit"},
    {"h", false, NULL, NULL},
    {"name", true, opt_name, "NAME  name the VM (query-name)"},
    {"m", true, opt_m, "SIZE[M|G]  guest RAM (default 128M; a bare number is MiB)"},
    {"smp", true, opt_smp, "N  number of vCPUs"},
    {"kernel", true, opt_kernel, "FILE  Linux bzImage to boot"},
    {"initrd", true, opt_initrd, "FILE  initial ramdisk"},
    {"append", true, opt_append, "CMDLINE  kernel command line"},
    {"machine", true, opt_machine, "[TYPE][,accel=kvm|qtest]  pc (default) or none"},
    {"M", true, opt_machine, NULL},
    {"accel", true, opt_accel, "kvm|qtest  accelerator"},
    {"enable-kvm", false, opt_enable_kvm, "same as -accel kvm"},
    {"S", false, opt_S, "do not start the vCPUs until QMP 'cont'"},
    {"nographic", false, opt_nographic, "no display; serial on stdio unless -serial says"},
    {"display", true, opt_display, "none"},
    {"serial", true, opt_serial, "stdio|file:PATH|unix:PATH[,server=on,wait=off]|none"},
    {"qmp", true, opt_qmp, "unix:PATH,server=on,wait=off | tcp:HOST:PORT,server=on,wait=off"},
    {"netdev", true, opt_netdev, "tap,id=ID,... | socket,id=ID,...  network backend"},
    {"device", true, opt_device, "DRIVER[,prop=value,...]  add a device"},
    {"incoming", true, opt_incoming, "tcp:HOST:PORT|unix:PATH|fd:NAME|exec:CMD|defer"},
    {"pidfile", true, opt_pidfile, "FILE  write the process id to FILE"},
    {"no-reboot", false, opt_no_reboot, "exit instead of rebooting"},
    {"D", true, opt_D, "LOGFILE  write the log to LOGFILE"},
    {"qtest", true, opt_qtest, "unix:PATH|stdio  qtest protocol channel (tests)"},
    {"qtest-log", true, opt_qtest_log, "FILE  log the qtest protocol"},
    {"sandbox", true, opt_sandbox,
     "on|off[,obsolete=,elevateprivileges=,spawn=,resourcecontrol=allow|deny]  seccomp"},
};

static void print_help(FILE *out)
{
    fprintf(out,
            "tern %s, a small KVM virtual machine monitor\n"
            "usage: tern [options]\n\n",
            TERN_VERSION);
    const OptionDef *tables[] = {option_defs, options_extra_defs};
    const size_t sizes[] = {G_N_ELEMENTS(option_defs), options_extra_count};
    for (size_t t = 0; t < G_N_ELEMENTS(tables); t++) {
        for (size_t i = 0; i < sizes[t]; i++) {
            const OptionDef *d = &tables[t][i];
            if (d->help) {
                fprintf(out, "  -%-12s %s\n", d->name, d->help);
            }
        }
    }
    fprintf(out, "\nThe syntax is QEMU's; anything tern does not support is refused.\n");
}

OptionsResult options_parse(TernConfig *c, int argc, char **argv, FILE *out, GError **errp)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || !arg[1]) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "'%s': unexpected argument (disk images are not supported)", arg);
            return OPTIONS_ERROR;
        }
        const char *name = arg + 1 + (arg[1] == '-'); /* -opt and --opt */
        const OptionDef *d = NULL;
        for (size_t k = 0; k < G_N_ELEMENTS(option_defs); k++) {
            if (strcmp(option_defs[k].name, name) == 0) {
                d = &option_defs[k];
                break;
            }
        }
        for (size_t k = 0; !d && k < options_extra_count; k++) {
            if (strcmp(options_extra_defs[k].name, name) == 0) {
                d = &options_extra_defs[k];
            }
        }
        if (!d) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "-%s: unknown or unsupported option (see tern -help)", name);
            return OPTIONS_ERROR;
        }
        if (strcmp(d->name, "version") == 0) {
            fprintf(out, "tern version %s\n", TERN_VERSION);
            return OPTIONS_EXIT_OK;
        }
        if (strcmp(d->name, "help") == 0 || strcmp(d->name, "h") == 0) {
            print_help(out);
            return OPTIONS_EXIT_OK;
        }
        const char *value = NULL;
        if (d->has_arg) {
            if (i + 1 >= argc) {
                g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "-%s: requires an argument",
                            d->name);
                return OPTIONS_ERROR;
            }
            value = argv[++i];
        }
        if (!d->handler(c, d->name, value, errp)) {
            return OPTIONS_ERROR;
        }
    }
    if (c->qtest && c->accel == ACCEL_DEFAULT) {
        c->accel = ACCEL_QTEST; /* QEMU: -qtest implies the qtest accelerator */
    }
    if (c->accel == ACCEL_QTEST && !c->qtest) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "-accel qtest: needs -qtest unix:PATH or -qtest stdio");
        return OPTIONS_ERROR;
    }
    if ((c->initrd || c->append) && !c->kernel) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "-%s: only allowed with -kernel",
                    c->initrd ? "initrd" : "append");
        return OPTIONS_ERROR;
    }
    if (c->nographic && !c->serial && !c->nodefaults) {
        c->serial = g_strdup("stdio");
    }
    if (!options_extra_check(c, errp)) {
        return OPTIONS_ERROR;
    }
    return OPTIONS_RUN;
}
