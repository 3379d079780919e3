/*
 * vmstate.c: the declarative device-state engine. Walks a VMStateDescription's field
 * table to write a device's state into a buffer, or to read it back with every length,
 * count, version and value checked. All multi-byte values are big-endian on the wire.
 *
 * A description's payload is its fields in table order, then its subsections, each as
 * {u8 1, u8 name length, name, u32 version, u32 length, payload}, then u8 0. A nested
 * struct is {u32 version, payload}. Buffers are raw bytes. See docs/migration-stream.md.
 *
 * Errors name the section and the field path ("virtio-net (instance 0): field
 * 'queues[2].size': ..."), because the person reading them has to find which side's
 * configuration differs.
 */
#include <string.h>
#include "error.h"
#include "bswap.h"
#include "migration/vmstate.h"

#define SUBSECTION_MORE 1
#define SUBSECTION_END 0

/* ---- saving ---------------------------------------------------------------------- */

static void put_be(GByteArray *out, uint64_t v, unsigned size)
{
    uint8_t b[8];
    st_be(b, size, v);
    g_byte_array_append(out, b, size);
}

static uint64_t get_ne(const void *p, unsigned size)
{
    switch (size) {
    case 1:
        return *(const uint8_t *)p;
    case 2:
        return *(const uint16_t *)p;
    case 4:
        return *(const uint32_t *)p;
    default:
        return *(const uint64_t *)p;
    }
}

static void set_ne(void *p, uint64_t v, unsigned size)
{
    switch (size) {
    case 1:
        *(uint8_t *)p = v;
        break;
    case 2:
        *(uint16_t *)p = v;
        break;
    case 4:
        *(uint32_t *)p = v;
        break;
    default:
        *(uint64_t *)p = v;
        break;
    }
}

static unsigned scalar_size(VMStateType t)
{
    switch (t) {
    case VMS_BOOL:
    case VMS_UINT8:
    case VMS_INT8:
        return 1;
    case VMS_UINT16:
    case VMS_INT16:
        return 2;
    case VMS_UINT32:
    case VMS_INT32:
        return 4;
    case VMS_UINT64:
    case VMS_INT64:
        return 8;
    default:
        return 0;
    }
}

static bool field_present(const VMStateField *f, void *opaque, int version_id)
{
    if (f->version_id > version_id) {
        return false;
    }
    return !f->field_exists || f->field_exists(opaque, version_id);
}

static void *field_base(const VMStateField *f, void *opaque)
{
    void *p = (char *)opaque + f->offset;
    return f->pointer ? *(void **)p : p;
}

/* The name of the field stored at `offset` (for messages about a count). */
static const char *field_name_at(const VMStateField *fields, size_t offset)
{
    for (const VMStateField *f = fields; f->type != VMS_END; f++) {
        if (f->offset == offset && !f->pointer && f->shape == VMS_SINGLE) {
            return f->name;
        }
    }
    return "?";
}

/* How many elements the field has now (a VARRAY's from its count field, which may
 * exceed the capacity: callers refuse that). */
static uint64_t field_count(const VMStateField *f, void *opaque)
{
    switch (f->shape) {
    case VMS_ARRAY:
        return f->num;
    case VMS_VARRAY:
        return get_ne((char *)opaque + f->count_offset, scalar_size(f->count_type));
    default:
        return 1;
    }
}

static bool save_desc(const VMStateDescription *d, void *opaque, GByteArray *out,
                      GError **errp);

static bool save_field(const VMStateField *f, void *opaque, GByteArray *out, GError **errp)
{
    void *base = field_base(f, opaque);
    uint64_t n = field_count(f, opaque);
    if (f->shape == VMS_VARRAY && n > f->num) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "field '%s': count %" G_GUINT64_FORMAT " exceeds capacity %u", f->name, n,
                    f->num);
        return false;
    }
    if (n > 0 && !base) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "field '%s': no storage", f->name);
        return false;
    }
    if (f->type == VMS_BUFFER) {
        g_byte_array_append(out, base, f->size * n);
        return true;
    }
    for (uint64_t i = 0; i < n; i++) {
        void *elem = (char *)base + i * f->size;
        if (f->type == VMS_STRUCT) {
            put_be(out, f->vmsd->version_id, 4);
            if (!save_desc(f->vmsd, elem, out, errp)) {
                g_prefix_error(errp, "field '%s': ", f->name);
                return false;
            }
        } else {
            unsigned sz = scalar_size(f->type);
            put_be(out, get_ne(elem, sz), sz);
        }
    }
    return true;
}

static bool save_desc(const VMStateDescription *d, void *opaque, GByteArray *out, GError **errp)
{
    if (d->pre_save && !d->pre_save(opaque, errp)) {
        return false;
    }
    for (const VMStateField *f = d->fields; f && f->type != VMS_END; f++) {
        if (f->type == VMS_VALIDATE || !field_present(f, opaque, d->version_id)) {
            continue;
        }
        if (!save_field(f, opaque, out, errp)) {
            return false;
        }
    }
    for (const VMStateDescription *const *s = d->subsections; s && *s; s++) {
        const VMStateDescription *sub = *s;
        if (sub->needed && !sub->needed(opaque)) {
            continue;
        }
        size_t namelen = strlen(sub->name);
        g_return_val_if_fail(namelen <= 255, false);
        put_be(out, SUBSECTION_MORE, 1);
        put_be(out, namelen, 1);
        g_byte_array_append(out, (const uint8_t *)sub->name, namelen);
        put_be(out, sub->version_id, 4);
        guint len_at = out->len;
        put_be(out, 0, 4);
        if (!save_desc(sub, opaque, out, errp)) {
            g_prefix_error(errp, "subsection '%s': ", sub->name);
            return false;
        }
        uint32_t len = out->len - len_at - 4;
        for (int i = 0; i < 4; i++) {
            out->data[len_at + i] = len >> (8 * (3 - i));
        }
    }
    put_be(out, SUBSECTION_END, 1);
    return true;
}

bool vmstate_save(const VMStateDescription *vmsd, void *opaque, GByteArray *out, GError **errp)
{
    return save_desc(vmsd, opaque, out, errp);
}

/* ---- loading --------------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    GString *path; /* the field being loaded, e.g. "queues[1].size" */
} Reader;

/* A load error names the field it was reading, when there is one. */
static bool reader_fail(Reader *r, GError **errp, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static bool reader_fail(Reader *r, GError **errp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (r->path->len) {
        return tern_error_fail(errp, "field '%s': %s", r->path->str, msg);
    }
    return tern_error_fail(errp, "%s", msg);
}

static bool take(Reader *r, size_t n, const uint8_t **out, GError **errp)
{
    if (n > r->len - r->pos) {
        return reader_fail(r, errp, "stream truncated (%zu bytes needed, %zu left)", n,
                           r->len - r->pos);
    }
    *out = r->p + r->pos;
    r->pos += n;
    return true;
}

static bool get_be(Reader *r, unsigned size, uint64_t *v, GError **errp)
{
    const uint8_t *b = NULL;
    if (!take(r, size, &b, errp)) {
        return false;
    }
    *v = ld_be(b, size);
    return true;
}

static bool load_desc(const VMStateDescription *d, void *opaque, int version_id, Reader *r,
                      GError **errp);

static bool load_scalar(const VMStateField *f, void *elem, Reader *r, GError **errp)
{
    unsigned sz = scalar_size(f->type);
    uint64_t v;
    if (!get_be(r, sz, &v, errp)) {
        return false;
    }
    if (f->type == VMS_BOOL && v > 1) {
        return reader_fail(r, errp, "invalid bool value %" G_GUINT64_FORMAT, v);
    }
    if (f->must_equal && v != get_ne(elem, sz)) {
        return reader_fail(r, errp,
                           "configuration mismatch: the stream has %" G_GUINT64_FORMAT
                           ", this side %" G_GUINT64_FORMAT,
                           v, get_ne(elem, sz));
    }
    set_ne(elem, v, sz);
    return true;
}

static bool load_field(const VMStateDescription *d, const VMStateField *f, void *opaque,
                       int version_id, Reader *r, GError **errp)
{
    void *base = field_base(f, opaque);
    uint64_t n = field_count(f, opaque);
    if (f->shape == VMS_VARRAY && n > f->num) {
        return reader_fail(r, errp,
                           "count %" G_GUINT64_FORMAT " (field '%s') exceeds capacity %u", n,
                           field_name_at(d->fields, f->count_offset), f->num);
    }
    if (n > 0 && !base) {
        return reader_fail(r, errp, "no storage on this side");
    }
    if (f->type == VMS_BUFFER) {
        const uint8_t *src = NULL;
        if (!take(r, f->size * n, &src, errp)) {
            return false;
        }
        memcpy(base, src, f->size * n);
        return true;
    }
    size_t plen = r->path->len;
    for (uint64_t i = 0; i < n; i++) {
        void *elem = (char *)base + i * f->size;
        if (f->shape != VMS_SINGLE) {
            g_string_truncate(r->path, plen);
            g_string_append_printf(r->path, "[%" G_GUINT64_FORMAT "]", i);
        }
        bool ok;
        if (f->type == VMS_STRUCT) {
            uint64_t v;
            ok = get_be(r, 4, &v, errp);
            if (ok) {
                g_string_append_c(r->path, '.');
                ok = load_desc(f->vmsd, elem, (int)MIN(v, INT32_MAX), r, errp);
            }
        } else {
            ok = load_scalar(f, elem, r, errp);
        }
        if (!ok) {
            return false;
        }
    }
    g_string_truncate(r->path, plen);
    return true;
}

static const VMStateDescription *find_subsection(const VMStateDescription *d,
                                                 const uint8_t *name, size_t len)
{
    for (const VMStateDescription *const *s = d->subsections; s && *s; s++) {
        if (strlen((*s)->name) == len && memcmp((*s)->name, name, len) == 0) {
            return *s;
        }
    }
    return NULL;
}

static bool load_subsections(const VMStateDescription *d, void *opaque, Reader *r,
                             GError **errp)
{
    size_t plen = r->path->len;
    for (;;) {
        uint64_t marker, namelen, version, len;
        const uint8_t *name = NULL, *payload = NULL;
        if (!get_be(r, 1, &marker, errp)) {
            return false;
        }
        if (marker == SUBSECTION_END) {
            return true;
        }
        if (marker != SUBSECTION_MORE) {
            return reader_fail(r, errp, "bad subsection marker 0x%02x", (unsigned)marker);
        }
        if (!get_be(r, 1, &namelen, errp) || !take(r, namelen, &name, errp)) {
            return false;
        }
        g_autofree char *sname = g_strndup((const char *)name, namelen);
        const VMStateDescription *sub = find_subsection(d, name, namelen);
        if (!sub) {
            return reader_fail(r, errp, "unknown subsection '%s' in '%s'", sname, d->name);
        }
        /* Inside a nested struct the path already ends with its dot. */
        const char *sep = plen && r->path->str[plen - 1] != '.' ? "." : "";
        g_string_append_printf(r->path, "%s%s", sep, sname);
        if (!get_be(r, 4, &version, errp) || !get_be(r, 4, &len, errp) ||
            !take(r, len, &payload, errp)) {
            return false;
        }
        Reader sr = {.p = payload, .len = len, .path = r->path};
        g_string_append_c(r->path, '.');
        if (!load_desc(sub, opaque, (int)MIN(version, INT32_MAX), &sr, errp)) {
            return false;
        }
        g_string_truncate(r->path, plen);
        if (sr.pos != sr.len) {
            g_string_append_printf(r->path, "%s%s", sep, sname);
            return reader_fail(r, errp, "%zu unexpected bytes at the end of subsection",
                               sr.len - sr.pos);
        }
    }
}

static bool load_desc(const VMStateDescription *d, void *opaque, int version_id, Reader *r,
                      GError **errp)
{
    if (version_id > d->version_id) {
        return reader_fail(r, errp, "'%s' version %d is newer than this tern supports (%d)",
                           d->name, version_id, d->version_id);
    }
    if (version_id < d->minimum_version_id) {
        return reader_fail(r, errp, "'%s' version %d is older than this tern accepts (%d)",
                           d->name, version_id, d->minimum_version_id);
    }
    if (d->pre_load && !d->pre_load(opaque, errp)) {
        return false;
    }
    size_t plen = r->path->len;
    for (const VMStateField *f = d->fields; f && f->type != VMS_END; f++) {
        if (!field_present(f, opaque, version_id)) {
            continue;
        }
        g_string_append(r->path, f->name);
        if (f->type == VMS_VALIDATE) {
            GError *err = NULL;
            if (!f->validate(opaque, version_id, &err)) {
                reader_fail(r, errp, "%s", err ? err->message : "invalid state");
                g_clear_error(&err);
                return false;
            }
        } else if (!load_field(d, f, opaque, version_id, r, errp)) {
            return false;
        }
        g_string_truncate(r->path, plen);
    }
    if (!load_subsections(d, opaque, r, errp)) {
        return false;
    }
    if (d->post_load) {
        GError *err = NULL;
        if (!d->post_load(opaque, version_id, &err)) {
            g_string_truncate(r->path, plen > 0 ? plen - 1 : 0);
            reader_fail(r, errp, "%s", err ? err->message : "post-load failed");
            g_clear_error(&err);
            return false;
        }
    }
    return true;
}

bool vmstate_load(const VMStateDescription *vmsd, void *opaque, int version_id,
                  const uint8_t *buf, size_t len, const char *what, GError **errp)
{
    g_autoptr(GString) path = g_string_new(NULL);
    Reader r = {.p = buf, .len = len, .path = path};
    if (!load_desc(vmsd, opaque, version_id, &r, errp)) {
        g_prefix_error(errp, "%s: ", what);
        return false;
    }
    if (r.pos != r.len) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%s: %zu unexpected bytes after the last field", what, r.len - r.pos);
        return false;
    }
    return true;
}
