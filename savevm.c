/*
 * savevm.c: the registry of device sections and the stream's framing around them and
 * around RAM: header, configuration, device records, end, and the destination's
 * verdict. The fields inside a section are vmstate.c's business; RAM records ram.c's.
 */
#include <string.h>
#include "bswap.h"
#include "error.h"
#include "main-loop.h"
#include "migration/ram.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"

struct VMStateEntry {
    char *idstr;
    uint32_t instance_id;
    const VMStateDescription *vmsd;
    void *opaque;
    bool loaded; /* during a load: its section arrived */
};

/* The section registry: one per process, changed with the big lock held. */
static GPtrArray *entries; /* VMStateEntry *, in registration order */

static VMStateEntry *entry_find(const char *idstr, uint32_t instance_id)
{
    for (guint i = 0; entries && i < entries->len; i++) {
        VMStateEntry *e = entries->pdata[i];
        if (e->instance_id == instance_id && strcmp(e->idstr, idstr) == 0) {
            return e;
        }
    }
    return NULL;
}

VMStateEntry *vmstate_register_named(const char *idstr, uint32_t instance_id,
                                     const VMStateDescription *vmsd, void *opaque)
{
    if (!idstr) {
        idstr = vmsd->name;
    }
    g_return_val_if_fail(strlen(idstr) <= 255, NULL);
    if (!entries) {
        entries = g_ptr_array_new();
    }
    if (instance_id == VMSTATE_INSTANCE_ID_ANY) {
        instance_id = 0;
        while (entry_find(idstr, instance_id)) {
            instance_id++;
        }
    } else if (entry_find(idstr, instance_id)) {
        g_error("vmstate: section '%s' instance %u registered twice", idstr, instance_id);
    }
    VMStateEntry *e = g_new0(VMStateEntry, 1);
    e->idstr = g_strdup(idstr);
    e->instance_id = instance_id;
    e->vmsd = vmsd;
    e->opaque = opaque;
    g_ptr_array_add(entries, e);
    return e;
}

VMStateEntry *vmstate_register(uint32_t instance_id, const VMStateDescription *vmsd,
                               void *opaque)
{
    return vmstate_register_named(NULL, instance_id, vmsd, opaque);
}

void vmstate_unregister(VMStateEntry *e)
{
    if (e && entries && g_ptr_array_remove(entries, e)) {
        g_free(e->idstr);
        g_free(e);
    }
}

/* ---- source ---------------------------------------------------------------------- */

void savevm_put_header(MigFile *f, uint32_t flags)
{
    mig_file_put_be32(f, MIG_STREAM_MAGIC);
    mig_file_put_be32(f, MIG_STREAM_VERSION);
    mig_file_put_be32(f, flags);
}

void savevm_put_config(MigFile *f)
{
    const RamBlock *blocks;
    unsigned n = guest_ram_blocks(&blocks);
    mig_file_put_u8(f, MIG_REC_CONFIG);
    mig_file_put_be32(f, n);
    for (unsigned i = 0; i < n; i++) {
        mig_file_put_be64(f, blocks[i].gpa);
        mig_file_put_be64(f, blocks[i].size);
    }
}

static void put_be32(GByteArray *out, uint32_t v)
{
    uint8_t b[4];
    st_be32(b, v);
    g_byte_array_append(out, b, 4);
}

bool savevm_save_devices(GByteArray *out, GError **errp)
{
    for (guint i = 0; entries && i < entries->len; i++) {
        VMStateEntry *e = entries->pdata[i];
        if (e->vmsd->needed && !e->vmsd->needed(e->opaque)) {
            continue; /* an optional section with nothing to say this time */
        }
        uint8_t hdr[2] = {MIG_REC_DEVICE, strlen(e->idstr)};
        g_byte_array_append(out, hdr, 2);
        g_byte_array_append(out, (const uint8_t *)e->idstr, hdr[1]);
        put_be32(out, e->instance_id);
        put_be32(out, e->vmsd->version_id);
        guint len_at = out->len;
        put_be32(out, 0);
        if (!vmstate_save(e->vmsd, e->opaque, out, errp)) {
            g_prefix_error(errp, "section '%s' (instance %u): ", e->idstr, e->instance_id);
            return false;
        }
        uint32_t len = out->len - len_at - 4;
        for (int k = 0; k < 4; k++) {
            out->data[len_at + k] = len >> (8 * (3 - k));
        }
    }
    return true;
}

void savevm_put_end(MigFile *f)
{
    mig_file_put_u8(f, MIG_REC_END);
}

/* ---- destination ----------------------------------------------------------------- */

static bool stream_error(MigFile *f, const char *where, GError **errp)
{
    const GError *e = mig_file_error(f);
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s: %s", where,
                e ? e->message : "unexpected end of stream");
    return false;
}

static bool load_header(MigFile *f, uint32_t *flags, GError **errp)
{
    uint32_t magic, version;
    if (!mig_file_get_be32(f, &magic) || !mig_file_get_be32(f, &version) ||
        !mig_file_get_be32(f, flags)) {
        return stream_error(f, "stream header", errp);
    }
    if (magic != MIG_STREAM_MAGIC) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "stream header: not a tern migration stream (magic 0x%08x)", magic);
        return false;
    }
    if (version != MIG_STREAM_VERSION) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "stream header: stream version %u, this tern reads version %u", version,
                    MIG_STREAM_VERSION);
        return false;
    }
    const uint32_t known = MIG_STREAM_F_REPLY | MIG_STREAM_F_CONFIRM;
    if (*flags & ~known) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "stream header: unknown flags 0x%x",
                    *flags & ~known);
        return false;
    }
    if ((*flags & MIG_STREAM_F_CONFIRM) && !(*flags & MIG_STREAM_F_REPLY)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "stream header: CONFIRM without REPLY (flags 0x%x)", *flags);
        return false;
    }
    return true;
}

static bool load_config(MigFile *f, GError **errp)
{
    const RamBlock *blocks;
    unsigned n = guest_ram_blocks(&blocks);
    uint32_t sn;
    if (!mig_file_get_be32(f, &sn)) {
        return stream_error(f, "configuration", errp);
    }
    if (sn != n) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "configuration: the source has %u RAM blocks, this side %u (start the "
                    "destination with the same -machine and -m)",
                    sn, n);
        return false;
    }
    for (unsigned i = 0; i < n; i++) {
        uint64_t gpa, size;
        if (!mig_file_get_be64(f, &gpa) || !mig_file_get_be64(f, &size)) {
            return stream_error(f, "configuration", errp);
        }
        if (gpa != blocks[i].gpa || size != blocks[i].size) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "configuration: RAM block %u is %" G_GUINT64_FORMAT
                        " MiB at 0x%" G_GINT64_MODIFIER "x on the source, %" G_GUINT64_FORMAT
                        " MiB at 0x%" G_GINT64_MODIFIER "x here (start with the same -m)",
                        i, size >> 20, gpa, blocks[i].size >> 20, blocks[i].gpa);
            return false;
        }
    }
    return true;
}

static bool load_device(MigFile *f, GError **errp)
{
    uint8_t namelen;
    char name[256];
    uint32_t instance_id, version, len;
    if (!mig_file_get_u8(f, &namelen) || !mig_file_get_buffer(f, name, namelen)) {
        return stream_error(f, "device section", errp);
    }
    name[namelen] = 0;
    g_autofree char *what = NULL;
    if (!mig_file_get_be32(f, &instance_id)) {
        return stream_error(f, "device section", errp);
    }
    what = g_strdup_printf("section '%s' (instance %u)", name, instance_id);
    if (!mig_file_get_be32(f, &version) || !mig_file_get_be32(f, &len)) {
        return stream_error(f, what, errp);
    }
    VMStateEntry *e = entry_find(name, instance_id);
    if (!e) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%s: unknown section (this side has no such device; start it with the "
                    "same -device options as the source)",
                    what);
        return false;
    }
    if (e->loaded) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s: sent twice", what);
        return false;
    }
    if (len > MIG_SECTION_MAX) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s: length %u is too large", what,
                    len);
        return false;
    }
    g_autofree uint8_t *payload = g_malloc(MAX(len, 1));
    if (!mig_file_get_buffer(f, payload, len)) {
        return stream_error(f, what, errp);
    }
    bool take_lock = !bql_locked();
    if (take_lock) {
        bql_lock();
    }
    bool ok = vmstate_load(e->vmsd, e->opaque, (int)MIN(version, INT32_MAX), payload, len, what,
                           errp);
    if (take_lock) {
        bql_unlock();
    }
    e->loaded = ok;
    return ok;
}

static bool check_all_loaded(GError **errp)
{
    for (guint i = 0; entries && i < entries->len; i++) {
        VMStateEntry *e = entries->pdata[i];
        if (!e->loaded && !e->vmsd->needed) { /* a section with needed() may be absent */
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "section '%s' (instance %u): missing from the stream (the source has "
                        "no such device; start both sides with the same -device options)",
                        e->idstr, e->instance_id);
            return false;
        }
    }
    return true;
}

bool savevm_load_stream(MigFile *f, uint32_t *flags, GError **errp)
{
    uint32_t hflags = 0;
    bool ok = load_header(f, &hflags, errp);
    if (flags) {
        *flags = hflags;
    }
    for (guint i = 0; entries && i < entries->len; i++) {
        ((VMStateEntry *)entries->pdata[i])->loaded = false;
    }
    bool have_config = false;
    while (ok) {
        uint8_t type;
        if (!mig_file_get_u8(f, &type)) {
            return stream_error(f, "record", errp);
        }
        if (type != MIG_REC_CONFIG && !have_config) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "record 0x%02x before the configuration record", type);
            return false;
        }
        switch (type) {
        case MIG_REC_CONFIG:
            if (have_config) {
                g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                            "configuration record sent twice");
                return false;
            }
            ok = have_config = load_config(f, errp);
            break;
        case MIG_REC_RAM_PAGES:
        case MIG_REC_RAM_ZERO:
            ok = ram_load_record(f, type, errp);
            break;
        case MIG_REC_DEVICE:
            ok = load_device(f, errp);
            break;
        case MIG_REC_END:
            return check_all_loaded(errp);
        default:
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "unknown record type 0x%02x at byte %" G_GUINT64_FORMAT, type,
                        mig_file_bytes(f) - 1);
            return false;
        }
    }
    return false;
}

bool savevm_put_reply(MigFile *f, const GError *err)
{
    const char *msg = err ? err->message : "";
    size_t len = MIN(strlen(msg), 4096);
    mig_file_put_be32(f, MIG_REPLY_MAGIC);
    mig_file_put_u8(f, err ? 1 : 0);
    mig_file_put_be16(f, len);
    mig_file_put_buffer(f, msg, len);
    return mig_file_flush(f);
}

/* The peer's answer did not come: `what` and why (the stream's error, else "timed out"). */
static bool no_answer(MigFile *f, const char *what, GError **errp)
{
    const GError *e = mig_file_error(f);
    g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s: %s", what,
                e ? e->message : "timed out");
    return false;
}

bool savevm_get_reply(MigFile *f, int timeout_ms, GError **errp)
{
    uint32_t magic;
    uint8_t status;
    uint16_t len;
    char msg[4097];
    const char *what = "no answer from the destination";
    /* The whole answer within the bound: a destination that sends half of it and then
     * nothing must not keep the source's VM paused for longer. */
    mig_file_set_deadline(f, timeout_ms);
    bool ok = mig_file_get_be32(f, &magic) && mig_file_get_u8(f, &status) &&
              mig_file_get_be16(f, &len);
    bool sane = ok && len <= 4096;
    ok = sane && mig_file_get_buffer(f, msg, len);
    mig_file_set_deadline(f, -1);
    if (!ok && !sane && !mig_file_error(f)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "%s: malformed answer", what);
        return false;
    }
    if (!ok) {
        return no_answer(f, what, errp);
    }
    msg[len] = 0;
    if (magic != MIG_REPLY_MAGIC) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "malformed answer from the destination");
        return false;
    }
    if (status != 0) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "the destination refused the stream: %s", msg);
        return false;
    }
    return true;
}

bool savevm_put_confirm(MigFile *f, bool run)
{
    mig_file_put_be32(f, MIG_CONFIRM_MAGIC);
    mig_file_put_u8(f, run ? MIG_CONFIRM_RUN : MIG_CONFIRM_KEEP);
    return mig_file_flush(f);
}

bool savevm_get_confirm(MigFile *f, int timeout_ms, GError **errp)
{
    uint32_t magic;
    uint8_t what;
    mig_file_set_deadline(f, timeout_ms);
    bool ok = mig_file_get_be32(f, &magic) && mig_file_get_u8(f, &what);
    mig_file_set_deadline(f, -1);
    if (!ok) {
        return no_answer(f, "no confirmation from the source", errp);
    }
    if (magic != MIG_CONFIRM_MAGIC || (what != MIG_CONFIRM_RUN && what != MIG_CONFIRM_KEEP)) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "malformed confirmation from the source");
        return false;
    }
    if (what == MIG_CONFIRM_KEEP) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "the source keeps the VM (the migration was cancelled on the source)");
        return false;
    }
    return true;
}
