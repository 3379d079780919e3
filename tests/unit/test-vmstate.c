/*
 * test-vmstate.c: the declarative device-state engine and the stream framing around it.
 * Every field type round-trips; subsections travel only when needed; versions gate
 * fields; and every malformed input (truncated at any byte, counts over capacity, bad
 * bools, configuration mismatches, unknown or missing sections, random corruption) is
 * refused with the section and field named, never a crash.
 */
#include <glib.h>
#include <string.h>
#include "hw/memory.h"
#include "migration/mig-file.h"
#include "migration/ram.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"

/* ---- a device with one of everything --------------------------------------------- */

typedef struct {
    uint16_t idx;
    uint64_t addr;
    bool ready;
} Queue;

typedef struct {
    uint8_t kind;
    uint32_t nfilter;
} Inner;

typedef struct {
    bool b;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t mac[6];
    uint32_t regs[4];
    uint32_t nvlans;
    uint16_t vlans[8];
    uint32_t blen;
    uint8_t blob[16];
    Inner inner;
    Queue queues[3];
    uint32_t nq;
    Queue vq[4];
    Queue *table; /* 2 entries, allocated */
    uint8_t *pba; /* 4 bytes, allocated */
    uint32_t nqueues_cfg;
    uint8_t extra; /* version 2 */
    /* subsection "announce" */
    bool announce_pending;
    uint32_t announce_round;
    int post_loads;
} Dev;

static const VMStateField queue_fields[] = {
    VMSTATE_UINT16(idx, Queue),
    VMSTATE_UINT64(addr, Queue),
    VMSTATE_BOOL(ready, Queue),
    VMSTATE_END_OF_LIST(),
};
static const VMStateDescription vmstate_queue = {
    .name = "queue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = queue_fields,
};

static const VMStateField inner_fields[] = {
    VMSTATE_UINT8(kind, Inner),
    VMSTATE_UINT32(nfilter, Inner),
    VMSTATE_END_OF_LIST(),
};
static const VMStateDescription vmstate_inner = {
    .name = "inner",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = inner_fields,
};

static bool announce_needed(void *opaque)
{
    return ((Dev *)opaque)->announce_pending;
}

static const VMStateField announce_fields[] = {
    VMSTATE_BOOL(announce_pending, Dev),
    VMSTATE_UINT32(announce_round, Dev),
    VMSTATE_END_OF_LIST(),
};
static const VMStateDescription vmstate_announce = {
    .name = "dev/announce",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = announce_fields,
    .needed = announce_needed,
};
static const VMStateDescription *const dev_subsections[] = {&vmstate_announce, NULL};

static bool check_round(void *opaque, int version_id, GError **errp)
{
    Dev *d = opaque;
    if (d->u8 == 0xEE) {
        g_set_error(errp, g_quark_from_static_string("t"), 0, "u8 0xEE is reserved");
        return false;
    }
    return true;
}

static bool dev_post_load(void *opaque, int version_id, GError **errp)
{
    ((Dev *)opaque)->post_loads++;
    return true;
}

#define DEV_FIELDS                                                                             \
    VMSTATE_BOOL(b, Dev), VMSTATE_UINT8(u8, Dev), VMSTATE_UINT16(u16, Dev),                    \
        VMSTATE_UINT32(u32, Dev), VMSTATE_UINT64(u64, Dev), VMSTATE_INT8(i8, Dev),             \
        VMSTATE_INT16(i16, Dev), VMSTATE_INT32(i32, Dev), VMSTATE_INT64(i64, Dev),             \
        VMSTATE_BUFFER(mac, Dev), VMSTATE_UINT32_ARRAY(regs, Dev),                             \
        VMSTATE_UINT32(nvlans, Dev), VMSTATE_UINT16_VARRAY_UINT32(vlans, Dev, nvlans),         \
        VMSTATE_UINT32(blen, Dev), VMSTATE_VBUFFER_UINT32(blob, Dev, blen),                    \
        VMSTATE_STRUCT(inner, Dev, vmstate_inner, Inner),                                      \
        VMSTATE_STRUCT_ARRAY(queues, Dev, vmstate_queue, Queue), VMSTATE_UINT32(nq, Dev),      \
        VMSTATE_STRUCT_VARRAY_UINT32(vq, Dev, nq, vmstate_queue, Queue),                       \
        VMSTATE_STRUCT_ARRAY_POINTER(table, Dev, 2, vmstate_queue, Queue),                     \
        VMSTATE_BUFFER_POINTER(pba, Dev, 4), VMSTATE_UINT32_EQUAL(nqueues_cfg, Dev),           \
        VMSTATE_VALIDATE("u8-not-reserved", check_round)

static const VMStateField dev_fields_v2[] = {
    DEV_FIELDS,
    VMSTATE_UINT8_V(extra, Dev, 2),
    VMSTATE_END_OF_LIST(),
};
static const VMStateField dev_fields_v1[] = {
    DEV_FIELDS,
    VMSTATE_END_OF_LIST(),
};
static const VMStateDescription vmstate_dev = {
    .name = "dev",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = dev_fields_v2,
    .subsections = dev_subsections,
    .post_load = dev_post_load,
};
static const VMStateDescription vmstate_dev_v1 = {
    .name = "dev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = dev_fields_v1,
    .subsections = dev_subsections,
};
/* A destination that knows no subsections. */
static const VMStateDescription vmstate_dev_nosub = {
    .name = "dev",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = dev_fields_v2,
};
static const VMStateDescription vmstate_dev_v3only = {
    .name = "dev",
    .version_id = 3,
    .minimum_version_id = 3,
    .fields = dev_fields_v2,
};

static void dev_init(Dev *d)
{
    memset(d, 0, sizeof(*d));
    d->table = g_new0(Queue, 2);
    d->pba = g_new0(uint8_t, 4);
    d->nqueues_cfg = 2;
}

static void dev_fill(Dev *d)
{
    d->b = true;
    d->u8 = 0xa5;
    d->u16 = 0xbeef;
    d->u32 = 0xdeadbeef;
    d->u64 = 0x0123456789abcdefULL;
    d->i8 = -5;
    d->i16 = -300;
    d->i32 = -70000;
    d->i64 = -5000000000LL;
    memcpy(d->mac, "\x52\x54\x00\x12\x34\x56", 6);
    for (int i = 0; i < 4; i++) {
        d->regs[i] = 0x1000 + i;
    }
    d->nvlans = 3;
    d->vlans[0] = 10;
    d->vlans[1] = 20;
    d->vlans[2] = 4095;
    d->blen = 5;
    memcpy(d->blob, "hello", 5);
    d->inner = (Inner){7, 9};
    for (int i = 0; i < 3; i++) {
        d->queues[i] = (Queue){.idx = 100 + i, .addr = 0x10000ULL * i, .ready = i & 1};
    }
    d->nq = 2;
    d->vq[0] = (Queue){1, 2, true};
    d->vq[1] = (Queue){3, 4, false};
    d->table[0] = (Queue){5, 6, true};
    d->table[1] = (Queue){7, 8, true};
    memcpy(d->pba, "\x01\x02\x03\x04", 4);
    d->extra = 42;
}

static void dev_free(Dev *d)
{
    g_free(d->table);
    g_free(d->pba);
}

static void assert_dev_equal(const Dev *a, const Dev *b)
{
    g_assert_cmpint(a->b, ==, b->b);
    g_assert_cmpuint(a->u8, ==, b->u8);
    g_assert_cmpuint(a->u16, ==, b->u16);
    g_assert_cmpuint(a->u32, ==, b->u32);
    g_assert_cmpuint(a->u64, ==, b->u64);
    g_assert_cmpint(a->i8, ==, b->i8);
    g_assert_cmpint(a->i16, ==, b->i16);
    g_assert_cmpint(a->i32, ==, b->i32);
    g_assert_cmpint(a->i64, ==, b->i64);
    g_assert_cmpmem(a->mac, 6, b->mac, 6);
    g_assert_cmpmem(a->regs, sizeof(a->regs), b->regs, sizeof(b->regs));
    g_assert_cmpuint(a->nvlans, ==, b->nvlans);
    g_assert_cmpmem(a->vlans, a->nvlans * 2, b->vlans, b->nvlans * 2);
    g_assert_cmpuint(a->blen, ==, b->blen);
    g_assert_cmpmem(a->blob, a->blen, b->blob, b->blen);
    g_assert_cmpmem(&a->inner, sizeof(Inner), &b->inner, sizeof(Inner));
    for (int i = 0; i < 3; i++) {
        g_assert_cmpuint(a->queues[i].idx, ==, b->queues[i].idx);
        g_assert_cmpuint(a->queues[i].addr, ==, b->queues[i].addr);
        g_assert_cmpint(a->queues[i].ready, ==, b->queues[i].ready);
    }
    g_assert_cmpuint(a->nq, ==, b->nq);
    for (uint32_t i = 0; i < a->nq; i++) {
        g_assert_cmpuint(a->vq[i].idx, ==, b->vq[i].idx);
        g_assert_cmpuint(a->vq[i].addr, ==, b->vq[i].addr);
    }
    for (int i = 0; i < 2; i++) {
        g_assert_cmpuint(a->table[i].idx, ==, b->table[i].idx);
        g_assert_cmpuint(a->table[i].addr, ==, b->table[i].addr);
    }
    g_assert_cmpmem(a->pba, 4, b->pba, 4);
}

static GByteArray *save(const VMStateDescription *vmsd, Dev *d)
{
    GByteArray *out = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    g_assert_true(vmstate_save(vmsd, d, out, &err));
    g_assert_no_error(err);
    return out;
}

static void test_round_trip(void)
{
    Dev src, dst;
    dev_init(&src);
    dev_init(&dst);
    dev_fill(&src);
    g_autoptr(GByteArray) buf = save(&vmstate_dev, &src);
    g_autoptr(GError) err = NULL;
    g_assert_true(vmstate_load(&vmstate_dev, &dst, 2, buf->data, buf->len, "dev", &err));
    g_assert_no_error(err);
    assert_dev_equal(&src, &dst);
    g_assert_cmpuint(dst.extra, ==, 42);
    g_assert_cmpint(dst.post_loads, ==, 1);
    /* Big-endian on the wire: the first scalar after the bool is u8, then u16 0xbeef. */
    g_assert_cmpuint(buf->data[0], ==, 1);
    g_assert_cmpuint(buf->data[1], ==, 0xa5);
    g_assert_cmpuint(buf->data[2], ==, 0xbe);
    g_assert_cmpuint(buf->data[3], ==, 0xef);
    dev_free(&src);
    dev_free(&dst);
}

static void test_subsection(void)
{
    Dev src, dst;
    dev_init(&src);
    dev_init(&dst);
    dev_fill(&src);
    /* Not needed: not sent; the destination keeps its own value. */
    g_autoptr(GByteArray) without = save(&vmstate_dev, &src);
    dst.announce_round = 77;
    g_assert_true(
        vmstate_load(&vmstate_dev, &dst, 2, without->data, without->len, "dev", NULL));
    g_assert_cmpuint(dst.announce_round, ==, 77);
    g_assert_false(dst.announce_pending);
    /* Needed: sent and loaded; the stream is longer by the subsection. */
    src.announce_pending = true;
    src.announce_round = 3;
    g_autoptr(GByteArray) with = save(&vmstate_dev, &src);
    g_assert_cmpuint(with->len, >, without->len);
    g_assert_true(vmstate_load(&vmstate_dev, &dst, 2, with->data, with->len, "dev", NULL));
    g_assert_true(dst.announce_pending);
    g_assert_cmpuint(dst.announce_round, ==, 3);
    /* A destination that does not know the subsection refuses, naming it. */
    g_autoptr(GError) err = NULL;
    g_assert_false(vmstate_load(&vmstate_dev_nosub, &dst, 2, with->data, with->len,
                                "dev (instance 0)", &err));
    g_assert_nonnull(strstr(err->message, "dev (instance 0)"));
    g_assert_nonnull(strstr(err->message, "unknown subsection 'dev/announce'"));
    /* ...but loads the stream without it. */
    g_assert_true(
        vmstate_load(&vmstate_dev_nosub, &dst, 2, without->data, without->len, "dev", NULL));
    dev_free(&src);
    dev_free(&dst);
}

static void test_versions(void)
{
    Dev src, dst;
    dev_init(&src);
    dev_init(&dst);
    dev_fill(&src);
    /* A version-1 source has no `extra`: the v2 destination loads it and leaves extra. */
    g_autoptr(GByteArray) v1 = save(&vmstate_dev_v1, &src);
    g_autoptr(GByteArray) v2 = save(&vmstate_dev, &src);
    g_assert_cmpuint(v2->len, ==, v1->len + 1);
    dst.extra = 9;
    g_assert_true(vmstate_load(&vmstate_dev, &dst, 1, v1->data, v1->len, "dev", NULL));
    g_assert_cmpuint(dst.extra, ==, 9);
    assert_dev_equal(&src, &dst);
    /* Too new for a v1 destination; too old for a destination that needs v3. */
    g_autoptr(GError) err = NULL;
    g_assert_false(vmstate_load(&vmstate_dev_v1, &dst, 2, v2->data, v2->len, "dev", &err));
    g_assert_nonnull(strstr(err->message, "version 2 is newer than this tern supports (1)"));
    g_clear_error(&err);
    g_assert_false(vmstate_load(&vmstate_dev_v3only, &dst, 2, v2->data, v2->len, "dev", &err));
    g_assert_nonnull(strstr(err->message, "version 2 is older than this tern accepts (3)"));
    /* A v2 stream read as v1 leaves a byte over: refused, not ignored. */
    g_clear_error(&err);
    g_assert_false(vmstate_load(&vmstate_dev_v1, &dst, 1, v2->data, v2->len, "dev", &err));
    g_assert_nonnull(strstr(err->message, "bad subsection marker 0x2a"));
    dev_free(&src);
    dev_free(&dst);
}

/* Offset of a field in the saved payload of a filled Dev (for targeted corruption). */
static size_t off_nvlans(void)
{
    return 1 + 1 + 2 + 4 + 8 + 1 + 2 + 4 + 8 + 6 + 16;
}

static void expect_refusal(GByteArray *buf, const char *want1, const char *want2)
{
    Dev dst;
    dev_init(&dst);
    g_autoptr(GError) err = NULL;
    g_assert_false(vmstate_load(&vmstate_dev, &dst, 2, buf->data, buf->len,
                                "section 'dev' (instance 0)", &err));
    g_assert_nonnull(err);
    if (!strstr(err->message, want1) || (want2 && !strstr(err->message, want2))) {
        g_test_message("message: %s (wanted '%s' and '%s')", err->message, want1,
                       want2 ? want2 : "");
        g_test_fail();
    }
    g_assert_nonnull(strstr(err->message, "section 'dev' (instance 0)"));
    dev_free(&dst);
}

static void test_refusals(void)
{
    Dev src;
    dev_init(&src);
    dev_fill(&src);
    g_autoptr(GByteArray) good = save(&vmstate_dev, &src);

    /* Variable count above the capacity, naming both fields. */
    g_autoptr(GByteArray) b1 = g_byte_array_new();
    g_byte_array_append(b1, good->data, good->len);
    b1->data[off_nvlans() + 3] = 9;
    expect_refusal(b1, "field 'vlans'", "count 9 (field 'nvlans') exceeds capacity 8");

    /* A bool that is neither 0 nor 1. */
    g_autoptr(GByteArray) b2 = g_byte_array_new();
    g_byte_array_append(b2, good->data, good->len);
    b2->data[0] = 2;
    expect_refusal(b2, "field 'b'", "invalid bool value 2");

    /* Configuration mismatch (_EQUAL): the source had 3 queues configured. */
    src.nqueues_cfg = 3;
    g_autoptr(GByteArray) b3 = save(&vmstate_dev, &src);
    expect_refusal(b3, "field 'nqueues_cfg'",
                   "configuration mismatch: the stream has 3, this side 2");
    src.nqueues_cfg = 2;

    /* The validation hook. */
    src.u8 = 0xEE;
    g_autoptr(GByteArray) b4 = save(&vmstate_dev, &src);
    expect_refusal(b4, "field 'u8-not-reserved'", "u8 0xEE is reserved");
    src.u8 = 0xa5;

    /* Nested struct arrays are named with their index. */
    g_autoptr(GByteArray) b5 = g_byte_array_new();
    g_byte_array_append(b5, good->data, good->len);
    /* nvlans, vlans, blen, blob, inner {version, kind, nfilter, end of subsections},
     * queues[0] {version, idx, addr, ready, end}, then queues[1]'s version, idx, addr. */
    size_t q1 =
        off_nvlans() + 4 + 3 * 2 + 4 + 5 + (4 + 1 + 4 + 1) + (4 + 2 + 8 + 1 + 1) + 4 + 2 + 8;
    g_assert_cmpuint(b5->data[q1], ==, 1);
    b5->data[q1] = 7;
    expect_refusal(b5, "field 'queues[1].ready'", "invalid bool value 7");
    dev_free(&src);
}

/* ---- pointer fields: a struct behind a pointer, a buffer sized at realize --------- */

typedef struct {
    uint32_t nvec;  /* configuration: must match */
    uint32_t bytes; /* derived from nvec on each side, not in the stream */
    uint8_t *table;
    bool flag; /* subsection "extra", always sent */
} PtrInner;

typedef struct {
    uint8_t tag;
    PtrInner *inner;
} PtrDev;

static const VMStateField ptr_inner_fields[] = {
    VMSTATE_UINT32_EQUAL(nvec, PtrInner),
    VMSTATE_VBUFFER_POINTER_UINT32(table, PtrInner, bytes, 64),
    VMSTATE_END_OF_LIST(),
};
static const VMStateField ptr_extra_fields[] = {
    VMSTATE_BOOL(flag, PtrInner),
    VMSTATE_END_OF_LIST(),
};
static const VMStateDescription vmstate_ptr_extra = {
    .name = "extra",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = ptr_extra_fields,
};
static const VMStateDescription *const ptr_inner_subsections[] = {&vmstate_ptr_extra, NULL};
static const VMStateDescription vmstate_ptr_inner = {
    .name = "ptr-inner",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = ptr_inner_fields,
    .subsections = ptr_inner_subsections,
};
static const VMStateField ptr_fields[] = {
    VMSTATE_UINT8(tag, PtrDev),
    VMSTATE_STRUCT_POINTER(inner, PtrDev, vmstate_ptr_inner),
    VMSTATE_END_OF_LIST(),
};
static const VMStateDescription vmstate_ptr = {
    .name = "ptr",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = ptr_fields,
};

static PtrDev *ptr_new(uint32_t nvec)
{
    PtrDev *d = g_new0(PtrDev, 1);
    d->inner = g_new0(PtrInner, 1);
    d->inner->nvec = nvec;
    d->inner->bytes = nvec * 4;
    d->inner->table = g_malloc0(d->inner->bytes);
    return d;
}

static void ptr_free(PtrDev *d)
{
    g_free(d->inner->table);
    g_free(d->inner);
    g_free(d);
}

static void test_pointer_fields(void)
{
    PtrDev *src = ptr_new(3), *dst = ptr_new(3), *other = ptr_new(2);
    src->tag = 9;
    for (unsigned i = 0; i < 12; i++) {
        src->inner->table[i] = 0x40 + i;
    }
    g_autoptr(GByteArray) out = g_byte_array_new();
    g_assert_true(vmstate_save(&vmstate_ptr, src, out, NULL));
    /* tag, the nested version, nvec, 12 table bytes, the subsection {1, 5, "extra",
     * version, length, flag, end}, the nested end, the outer end */
    size_t sub = 1 + 4 + 4 + 12;
    g_assert_cmpuint(out->len, ==, sub + 1 + 1 + 5 + 4 + 4 + 1 + 1 + 1 + 1);
    g_autoptr(GError) err = NULL;
    g_assert_true(vmstate_load(&vmstate_ptr, dst, 1, out->data, out->len, "ptr", &err));
    g_assert_no_error(err);
    g_assert_cmpuint(dst->tag, ==, 9);
    g_assert_cmpmem(dst->inner->table, 12, src->inner->table, 12);
    /* A side with a smaller table refuses at the configuration field, before a byte of
     * the table is written. */
    g_assert_false(vmstate_load(&vmstate_ptr, other, 1, out->data, out->len, "ptr", &err));
    g_assert_nonnull(strstr(err->message, "field 'inner.nvec'"));
    g_assert_nonnull(strstr(err->message, "the stream has 3, this side 2"));
    /* A subsection of a nested struct is named by its path. */
    g_clear_error(&err);
    out->data[sub + 1 + 1 + 5 + 4 + 4] = 3;
    g_assert_false(vmstate_load(&vmstate_ptr, dst, 1, out->data, out->len, "ptr", &err));
    g_assert_nonnull(strstr(err->message, "field 'inner.extra.flag': invalid bool value 3"));
    ptr_free(src);
    ptr_free(dst);
    ptr_free(other);
}

static void test_truncated(void)
{
    Dev src;
    dev_init(&src);
    dev_fill(&src);
    src.announce_pending = true;
    g_autoptr(GByteArray) good = save(&vmstate_dev, &src);
    for (guint len = 0; len < good->len; len++) {
        Dev dst;
        dev_init(&dst);
        g_autoptr(GError) err = NULL;
        g_assert_false(vmstate_load(&vmstate_dev, &dst, 2, good->data, len, "dev", &err));
        g_assert_nonnull(err);
        g_assert_true(g_str_has_prefix(err->message, "dev: "));
        dev_free(&dst);
    }
    dev_free(&src);
}

static void test_fuzz(void)
{
    Dev src;
    dev_init(&src);
    dev_fill(&src);
    src.announce_pending = true;
    g_autoptr(GByteArray) good = save(&vmstate_dev, &src);
    GRand *rnd = g_rand_new_with_seed(1234);
    int refused = 0;
    for (int iter = 0; iter < 20000; iter++) {
        g_autofree uint8_t *buf = g_memdup2(good->data, good->len);
        int flips = g_rand_int_range(rnd, 1, 5);
        for (int k = 0; k < flips; k++) {
            buf[g_rand_int_range(rnd, 0, good->len)] = g_rand_int_range(rnd, 0, 256);
        }
        guint len =
            g_rand_boolean(rnd) ? good->len : (guint)g_rand_int_range(rnd, 0, good->len + 1);
        Dev dst;
        dev_init(&dst);
        GError *err = NULL;
        if (!vmstate_load(&vmstate_dev, &dst, 2, buf, len, "dev", &err)) {
            g_assert_nonnull(err);
            refused++;
        } else {
            /* Whatever loaded respects every bound. */
            g_assert_cmpuint(dst.nvlans, <=, 8);
            g_assert_cmpuint(dst.blen, <=, 16);
            g_assert_cmpuint(dst.nq, <=, 4);
            g_assert_cmpuint(dst.nqueues_cfg, ==, 2);
        }
        g_clear_error(&err);
        dev_free(&dst);
    }
    g_rand_free(rnd);
    g_assert_cmpint(refused, >, 0);
    dev_free(&src);
}

/* ---- whole streams: sections, configuration, RAM ---------------------------------- */

static GByteArray *save_stream(void)
{
    GByteArray *out = g_byte_array_new();
    MigFile *f = mig_file_new_buffer(out);
    savevm_put_header(f, 0);
    savevm_put_config(f);
    GError *err = NULL;
    RamSave *rs = ram_save_setup(&err);
    g_assert_no_error(err);
    g_assert_true(ram_save_pass(rs, f));
    ram_save_cleanup(rs, false);
    g_autoptr(GByteArray) dev = g_byte_array_new();
    g_assert_true(savevm_save_devices(dev, &err));
    g_assert_no_error(err);
    mig_file_put_buffer(f, dev->data, dev->len);
    savevm_put_end(f);
    g_assert_null(mig_file_error(f));
    mig_file_close(f);
    return out;
}

static bool load_stream(const GByteArray *s, size_t len, GError **errp)
{
    MigFile *f = mig_file_new_mem(s->data, len);
    bool ok = savevm_load_stream(f, NULL, errp);
    mig_file_close(f);
    return ok;
}

static void test_stream_sections(void)
{
    Dev src, dst;
    dev_init(&src);
    dev_init(&dst);
    dev_fill(&src);
    VMStateEntry *e = vmstate_register(0, &vmstate_dev, &src);
    VMStateEntry *e2 =
        vmstate_register_named("dev-b", VMSTATE_INSTANCE_ID_ANY, &vmstate_dev, &src);
    g_autoptr(GByteArray) s = save_stream();
    vmstate_unregister(e);
    vmstate_unregister(e2);

    /* Same devices on the destination: loads. */
    e = vmstate_register(0, &vmstate_dev, &dst);
    e2 = vmstate_register_named("dev-b", 0, &vmstate_dev, &dst);
    g_autoptr(GError) err = NULL;
    g_assert_true(load_stream(s, s->len, &err));
    g_assert_no_error(err);
    assert_dev_equal(&src, &dst);
    g_assert_cmpint(dst.post_loads, ==, 2);

    /* Every truncation refused. */
    for (guint len = 0; len < s->len; len++) {
        GError *e3 = NULL;
        g_assert_false(load_stream(s, len, &e3));
        g_assert_nonnull(e3);
        g_error_free(e3);
    }

    /* A section this side lacks. */
    vmstate_unregister(e2);
    g_assert_false(load_stream(s, s->len, &err));
    g_assert_cmpstr(err->message, ==,
                    "section 'dev-b' (instance 0): unknown section (this side has no such "
                    "device; start it with the same -device options as the source)");
    g_clear_error(&err);

    /* A section the source did not send. */
    e2 = vmstate_register_named("dev-b", 0, &vmstate_dev, &dst);
    VMStateEntry *e3 = vmstate_register(1, &vmstate_dev, &dst);
    g_assert_false(load_stream(s, s->len, &err));
    g_assert_nonnull(
        strstr(err->message, "section 'dev' (instance 1): missing from the stream"));
    g_clear_error(&err);
    vmstate_unregister(e3);

    /* A field-level refusal inside a section names section and field. */
    dst.nqueues_cfg = 4;
    g_assert_false(load_stream(s, s->len, &err));
    g_assert_nonnull(strstr(err->message, "section 'dev' (instance 0): field 'nqueues_cfg': "
                                          "configuration mismatch"));
    g_clear_error(&err);
    dst.nqueues_cfg = 2;

    /* Header: magic and version. */
    g_autoptr(GByteArray) bad = g_byte_array_new();
    g_byte_array_append(bad, s->data, s->len);
    bad->data[0] = 'X';
    g_assert_false(load_stream(bad, bad->len, &err));
    g_assert_nonnull(strstr(err->message, "not a tern migration stream"));
    g_clear_error(&err);
    bad->data[0] = s->data[0];
    bad->data[7] = 9;
    g_assert_false(load_stream(bad, bad->len, &err));
    g_assert_nonnull(strstr(err->message, "stream version 9, this tern reads version 1"));
    g_clear_error(&err);

    /* Random corruption of the whole stream: refused or loaded, never a crash. */
    GRand *rnd = g_rand_new_with_seed(99);
    for (int i = 0; i < 3000; i++) {
        g_byte_array_set_size(bad, 0);
        g_byte_array_append(bad, s->data, s->len);
        for (int k = 0; k < 3; k++) {
            bad->data[g_rand_int_range(rnd, 0, bad->len)] ^= 1u << g_rand_int_range(rnd, 0, 8);
        }
        GError *e4 = NULL;
        load_stream(bad, bad->len, &e4);
        g_clear_error(&e4);
    }
    g_rand_free(rnd);
    vmstate_unregister(e);
    vmstate_unregister(e2);
    dev_free(&src);
    dev_free(&dst);
}

static void test_stream_ram(void)
{
    const RamBlock *blocks;
    g_assert_cmpuint(guest_ram_blocks(&blocks), ==, 1);
    uint8_t *ram = blocks[0].host;
    uint64_t size = blocks[0].size;
    /* Half the pages zero, the others patterned. */
    for (uint64_t p = 0; p < size / MIG_PAGE_SIZE; p++) {
        memset(ram + p * MIG_PAGE_SIZE, p % 2 ? (int)(p & 0xff) | 1 : 0, MIG_PAGE_SIZE);
    }
    g_autofree uint8_t *copy = g_memdup2(ram, size);
    g_autoptr(GByteArray) s = save_stream();
    /* Far smaller than RAM: zero pages travel as markers. */
    g_assert_cmpuint(s->len, <, size / 2 + 16384);
    memset(ram, 0x5a, size);
    g_autoptr(GError) err = NULL;
    g_assert_true(load_stream(s, s->len, &err));
    g_assert_no_error(err);
    g_assert_true(memcmp(ram, copy, size) == 0);

    /* A RAM record outside guest RAM is refused. */
    g_autoptr(GByteArray) bad = g_byte_array_new();
    MigFile *f = mig_file_new_buffer(bad);
    savevm_put_header(f, 0);
    savevm_put_config(f);
    mig_file_put_u8(f, MIG_REC_RAM_ZERO);
    mig_file_put_be64(f, size);
    mig_file_put_be32(f, 1);
    savevm_put_end(f);
    mig_file_close(f);
    g_assert_false(load_stream(bad, bad->len, &err));
    g_assert_nonnull(strstr(err->message, "not inside a RAM block"));
}

static void test_dirty_tracking(void)
{
    const RamBlock *blocks;
    guest_ram_blocks(&blocks);
    g_autoptr(GByteArray) out = g_byte_array_new();
    MigFile *f = mig_file_new_buffer(out);
    GError *err = NULL;
    RamSave *rs = ram_save_setup(&err);
    RamSaveStats st;
    ram_save_stats(rs, &st);
    g_assert_cmpuint(st.remaining, ==, blocks[0].size);
    g_assert_true(ram_save_pass(rs, f));
    g_assert_cmpuint(ram_save_sync(rs, &err), ==, 0);
    /* Device writes after the pass are dirty at the next sync: 3 pages here. */
    uint8_t data[5000] = {1};
    g_assert_true(dma_write(0x3000, data, 1));
    g_assert_true(dma_write(0x8ffe, data, 5000)); /* straddles 0x8000..0xa387: 3 pages */
    g_assert_cmpuint(ram_save_sync(rs, &err), ==, 4);
    ram_save_stats(rs, &st);
    g_assert_cmpuint(st.remaining, ==, 4 * MIG_PAGE_SIZE);
    g_assert_cmpuint(st.dirty_sync_count, ==, 3);
    /* Pages 0x3 and 0x8 hold a 1, 0x9 and 0xa only zeros: two whole, two markers. */
    uint64_t normal = st.normal, dup = st.duplicate;
    g_assert_true(ram_save_pass(rs, f));
    ram_save_stats(rs, &st);
    g_assert_cmpuint(st.normal - normal, ==, 2);
    g_assert_cmpuint(st.duplicate - dup, ==, 2);
    g_assert_cmpuint(ram_save_sync(rs, &err), ==, 0);
    ram_save_cleanup(rs, false);
    mig_file_close(f);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    GError *err = NULL;
    g_assert_true(guest_ram_init(2 << 20, 2 << 20, &err));
    g_test_add_func("/vmstate/round-trip", test_round_trip);
    g_test_add_func("/vmstate/subsection", test_subsection);
    g_test_add_func("/vmstate/versions", test_versions);
    g_test_add_func("/vmstate/refusals", test_refusals);
    g_test_add_func("/vmstate/truncated", test_truncated);
    g_test_add_func("/vmstate/pointer-fields", test_pointer_fields);
    g_test_add_func("/vmstate/fuzz", test_fuzz);
    g_test_add_func("/vmstate/stream/sections", test_stream_sections);
    g_test_add_func("/vmstate/stream/ram", test_stream_ram);
    g_test_add_func("/vmstate/stream/dirty-tracking", test_dirty_tracking);
    int rc = g_test_run();
    guest_ram_free();
    return rc;
}
