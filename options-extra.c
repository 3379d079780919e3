/*
 * options-extra.c: the QEMU options beyond the core machine description: -chardev and
 * -mon (QMP on a socket chardev, as libqtest and libvirt start QEMU), firmware settings
 * fw_cfg hands to a guest (-uuid, -boot), and hardware tern does not have (-audiodev
 * none, -nodefaults).
 */
#include <string.h>
#include <json-glib/json-glib.h>
#include "error.h"
#include "options-internal.h"

/* Parse `arg` as `-OPT TYPE,...` and check its keys; NULL with errp set on failure. */
static TernOpts *parse_checked(const char *option, const char *arg, const char *implied,
                               const char *const *known, GError **errp)
{
    TernOpts *o = opts_parse(option, arg, implied, errp);
    if (o && !opts_check_keys(o, known, errp)) {
        opts_free(o);
        return NULL;
    }
    return o;
}

const TernOpts *config_find_chardev(const TernConfig *c, const char *id)
{
    for (guint i = 0; i < c->chardevs->len; i++) {
        const TernOpts *o = g_ptr_array_index(c->chardevs, i);
        if (strcmp(o->id, id) == 0) {
            return o;
        }
    }
    return NULL;
}

/* Only the socket backend on a unix path: QMP monitors are the one user of -chardev. */
static bool opt_chardev(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    static const char *const known[] = {"path", "server", "wait", NULL};
    bool flag;
    TernOpts *o = opts_parse("-chardev", arg, "backend", errp);
    if (!o) {
        return false;
    }
    bool ok = false;
    if (!o->driver || strcmp(o->driver, "socket") != 0) {
        options_fail(errp, opt,
                     "backend '%s' is not supported (supported: socket,id=ID,path=PATH)",
                     o->driver ? o->driver : "");
    } else if (!o->id) {
        options_fail(errp, opt, "'%s' lacks id=", arg);
    } else if (config_find_chardev(c, o->id)) {
        options_fail(errp, opt, "duplicate id '%s'", o->id);
    } else if (!opts_get(o, "path") || !*opts_get(o, "path")) {
        options_fail(errp, opt, "%s: needs path=PATH (a unix socket; tcp is not supported)",
                     o->id);
    } else {
        ok = opts_check_keys(o, known, errp) &&
             opts_get_bool(o, "server", false, &flag, errp) &&
             opts_get_bool(o, "wait", true, &flag, errp);
    }
    if (!ok) {
        opts_free(o);
        return false;
    }
    g_ptr_array_add(c->chardevs, o);
    return true;
}

static bool opt_mon(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    static const char *const known[] = {"mode", "pretty", NULL};
    TernOpts *o = parse_checked("-mon", arg, "chardev", known, errp);
    if (!o) {
        return false;
    }
    const char *mode = opts_get(o, "mode");
    bool pretty;
    bool ok = opts_get_bool(o, "pretty", false, &pretty, errp);
    if (ok && !o->driver) {
        ok = options_fail(errp, opt, "'%s' lacks chardev=ID", arg);
    } else if (ok && (!mode || strcmp(mode, "control") != 0)) {
        ok = options_fail(errp, opt,
                          "only mode=control (QMP) is supported; tern has no human "
                          "monitor (mode=readline)");
    } else if (ok && pretty) {
        ok = options_fail(errp, opt, "pretty=on is not supported");
    }
    if (!ok) {
        opts_free(o);
        return false;
    }
    g_ptr_array_add(c->monitors, o);
    return true;
}

/* tern creates no default devices QEMU's -nodefaults would remove, except the serial
 * port that -nographic puts on stdio. */
static bool opt_nodefaults(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    c->nodefaults = true;
    return true;
}

/* tern has no sound device: the only audio backend it can honestly take is "none". */
static bool audio_driver_none(const char *opt, const char *driver, GError **errp)
{
    if (!driver || strcmp(driver, "none") != 0) {
        return options_fail(errp, opt,
                            "audio driver '%s' is not supported (tern has no sound "
                            "devices; only 'none')",
                            driver ? driver : "");
    }
    return true;
}

static bool opt_audiodev(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    if (arg[0] == '{') { /* the JSON form libvirt uses */
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonNode *root = json_parser_load_from_data(parser, arg, -1, NULL)
                             ? json_parser_get_root(parser)
                             : NULL;
        JsonObject *obj =
            root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
        if (!obj || json_object_get_size(obj) != 2 || !json_object_has_member(obj, "id") ||
            !json_object_has_member(obj, "driver")) {
            return options_fail(errp, opt, "expected {\"id\":\"ID\",\"driver\":\"none\"}");
        }
        return audio_driver_none(opt, json_object_get_string_member(obj, "driver"), errp);
    }
    TernOpts *o = parse_checked("-audiodev", arg, "driver", NULL, errp);
    if (!o) {
        return false;
    }
    bool ok = o->id ? audio_driver_none(opt, o->driver, errp)
                    : options_fail(errp, opt, "'%s' lacks id=", arg);
    opts_free(o);
    return ok;
}

static bool opt_audio(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    TernOpts *o = parse_checked("-audio", arg, "driver", NULL, errp);
    if (!o) {
        return false;
    }
    bool ok = audio_driver_none(opt, o->driver, errp);
    opts_free(o);
    return ok;
}

static bool opt_uuid(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    unsigned n = 0;
    bool ok = strlen(arg) == 36;
    for (size_t i = 0; ok && i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            ok = arg[i] == '-';
            continue;
        }
        ok = g_ascii_isxdigit(arg[i]) && g_ascii_isxdigit(arg[i + 1]);
        if (ok) {
            c->uuid[n++] = g_ascii_xdigit_value(arg[i]) << 4 | g_ascii_xdigit_value(arg[i + 1]);
            i++;
        }
    }
    if (!ok) {
        return options_fail(errp, opt,
                            "'%s' is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", arg);
    }
    c->has_uuid = true;
    return true;
}

/* -boot's firmware settings; the boot order and splash pictures need firmware tern does
 * not run, so they are refused. */
static bool opt_boot(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    static const char *const known[] = {"menu", "splash-time", "reboot-timeout", NULL};
    TernOpts *o = parse_checked("-boot", arg, NULL, known, errp);
    if (!o) {
        return false;
    }
    const char *rt = opts_get(o, "reboot-timeout");
    uint64_t splash = 0, timeout = 0;
    bool ok = opts_get_bool(o, "menu", false, &c->boot.menu, errp) &&
              opts_get_uint(o, "splash-time", 0, 0xffff, &splash, errp);
    if (ok && rt && strcmp(rt, "-1") != 0) {
        ok = opts_get_uint(o, "reboot-timeout", 0, 0xffff, &timeout, errp);
        c->boot.reboot_timeout = timeout;
    } else if (ok && rt) {
        c->boot.reboot_timeout = UINT32_MAX; /* -1: never reboot */
    }
    c->boot.has_splash_time = ok && opts_get(o, "splash-time");
    c->boot.splash_time = splash;
    opts_free(o);
    return ok;
}

/* Named so the refusal says why, instead of "unknown option". */
static bool opt_firmware(TernConfig *c, const char *opt, const char *arg, GError **errp)
{
    return options_fail(errp, opt,
                        "tern loads no firmware images; it boots Linux itself "
                        "(-kernel, -initrd, -append)");
}

const OptionDef options_extra_defs[] = {
    {"chardev", true, opt_chardev, "socket,id=ID,path=PATH[,server=on,wait=off]  for -mon"},
    {"mon", true, opt_mon, "chardev=ID,mode=control  QMP on that chardev"},
    {"nodefaults", false, opt_nodefaults, "no default devices (-nographic: no serial)"},
    {"audiodev", true, opt_audiodev, "none,id=ID  (tern has no sound devices)"},
    {"audio", true, opt_audio, "none  (tern has no sound devices)"},
    {"uuid", true, opt_uuid, "UUID  the machine's UUID (fw_cfg, query-uuid)"},
    {"bios", true, opt_firmware, NULL},
    {"pflash", true, opt_firmware, NULL},
    {"boot", true, opt_boot, "[menu=on|off][,splash-time=MS][,reboot-timeout=MS|-1]"},
};
const size_t options_extra_count = G_N_ELEMENTS(options_extra_defs);

/* Is chardev `id` named by a -mon? */
static bool chardev_used(const TernConfig *c, const char *id, guint n_monitors)
{
    for (guint k = 0; k < n_monitors; k++) {
        if (strcmp(((TernOpts *)g_ptr_array_index(c->monitors, k))->driver, id) == 0) {
            return true;
        }
    }
    return false;
}

/* Every -chardev serves exactly one -mon: QMP is their only user. */
bool options_extra_check(TernConfig *c, GError **errp)
{
    for (guint i = 0; i < c->monitors->len; i++) {
        const TernOpts *m = g_ptr_array_index(c->monitors, i);
        if (chardev_used(c, m->driver, i)) {
            return options_fail(errp, "mon", "chardev '%s' is used twice", m->driver);
        }
        if (!config_find_chardev(c, m->driver)) {
            return options_fail(errp, "mon", "no -chardev with id '%s'", m->driver);
        }
    }
    for (guint i = 0; i < c->chardevs->len; i++) {
        const TernOpts *chr = g_ptr_array_index(c->chardevs, i);
        if (!chardev_used(c, chr->id, c->monitors->len)) {
            return options_fail(errp, "chardev",
                                "%s: not used by any -mon (tern attaches "
                                "chardevs to QMP monitors only)",
                                chr->id);
        }
    }
    return true;
}

/* The -uuid of this process, for QMP query-uuid (the machine reads TernConfig). */
static struct {
    bool set;
    uint8_t bytes[16];
} the_vm_uuid;

void vm_uuid_set(const uint8_t *uuid)
{
    the_vm_uuid.set = uuid != NULL;
    memset(the_vm_uuid.bytes, 0, sizeof(the_vm_uuid.bytes));
    if (uuid) {
        memcpy(the_vm_uuid.bytes, uuid, sizeof(the_vm_uuid.bytes));
    }
}

char *vm_uuid_string(void)
{
    const uint8_t *u = the_vm_uuid.bytes;
    return g_strdup_printf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                           "%02x%02x%02x%02x%02x%02x",
                           u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
                           u[11], u[12], u[13], u[14], u[15]);
}
