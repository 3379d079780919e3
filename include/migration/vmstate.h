/*
 * vmstate.h: device state for migration, declared as a table. A device describes its
 * migratable fields once (name, offset, type, since which version) and registers an
 * instance; the engine writes and reads the bytes, checks every length and bound on load,
 * and names the section and field in every refusal. No device writes its own bytes.
 *
 *     static const VMStateField serial_fields[] = {
 *         VMSTATE_UINT8(lcr, SerialState),
 *         VMSTATE_UINT16(divider, SerialState),
 *         VMSTATE_UINT8_V(scr, SerialState, 2),           // since version 2
 *         VMSTATE_END_OF_LIST(),
 *     };
 *     static const VMStateDescription vmstate_serial = {
 *         .name = "serial", .version_id = 2, .minimum_version_id = 1,
 *         .fields = serial_fields, .post_load = serial_post_load,
 *     };
 *     vmstate_register(0, &vmstate_serial, s);            // migration/savevm.h
 *
 * The wire encoding of each field type is in docs/migration-stream.md.
 */
#ifndef TERN_MIGRATION_VMSTATE_H
#define TERN_MIGRATION_VMSTATE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct VMStateDescription VMStateDescription;

typedef enum {
    VMS_END = 0, /* terminates a field list */
    VMS_BOOL,    /* bool, one byte on the wire, 0 or 1 */
    VMS_UINT8,
    VMS_UINT16,
    VMS_UINT32,
    VMS_UINT64,
    VMS_INT8,
    VMS_INT16,
    VMS_INT32,
    VMS_INT64,
    VMS_BUFFER,   /* `size` raw bytes */
    VMS_STRUCT,   /* a nested struct described by `vmsd` */
    VMS_VALIDATE, /* no data: `validate` runs here on load, after the fields before it */
} VMStateType;

/* How many elements a field has. */
typedef enum {
    VMS_SINGLE = 0, /* one element */
    VMS_ARRAY,      /* `num` elements, always all of them */
    VMS_VARRAY,     /* as many as the count field says (at most `num`) */
} VMStateShape;

typedef struct VMStateField {
    const char *name;
    VMStateType type;
    VMStateShape shape;
    size_t offset; /* of the field (or of the pointer to it, with `pointer`) */
    size_t size;   /* of one element */
    uint32_t num;  /* ARRAY: element count; VARRAY: capacity */
    bool pointer;  /* the struct holds a pointer to the storage, not the storage */
    /* VARRAY: the field holding the element count, stored before this one. Its type is
     * VMS_UINT8/16/32; on load a count above `num` is refused. A VMS_BUFFER with shape
     * VARRAY counts bytes, with `size` 1. */
    size_t count_offset;
    VMStateType count_type;
    const VMStateDescription *vmsd; /* VMS_STRUCT */
    int version_id;                 /* present in streams of this version and later */
    /* Load only: the value saved must equal the value already here (configuration that
     * both sides must have chosen alike, e.g. a queue count). */
    bool must_equal;
    /* Optional: whether the field is in the stream at all (both sides decide alike). */
    bool (*field_exists)(void *opaque, int version_id);
    /* VMS_VALIDATE: false (with errp set) refuses the stream. */
    bool (*validate)(void *opaque, int version_id, GError **errp);
} VMStateField;

struct VMStateDescription {
    const char *name;
    int version_id;         /* written on save */
    int minimum_version_id; /* oldest stream version this code still loads */
    const VMStateField *fields;
    /* Optional sections sent only when `needed` says so, each its own version and name;
     * NULL-terminated. A stream may omit one: the device keeps what it has. */
    const VMStateDescription *const *subsections;
    /* Subsections: is this one sent? A registered section with `needed` is sent only
     * when it returns true, and a stream without it loads (the state keeps its value). */
    bool (*needed)(void *opaque);
    bool (*pre_save)(void *opaque, GError **errp);
    bool (*pre_load)(void *opaque, GError **errp);
    /* After every field and subsection of this description has loaded. */
    bool (*post_load)(void *opaque, int version_id, GError **errp);
};

/* Field macros, QEMU's names. `_V`: present since version v. */
/* Compile-time type check: 0, or an error when `lv` is not of type `ct`. */
#define VMS_TYPE_CHECK_(ct, lv) (0 * sizeof((ct *)0 - &(lv)))
#define VMSTATE_SCALAR_(f, st, t, ct, v)                                                       \
    {                                                                                          \
        .name = #f, .type = (t), .offset = offsetof(st, f),                                    \
        .size = sizeof(ct) + VMS_TYPE_CHECK_(ct, ((st *)0)->f), .version_id = (v)              \
    }

#define VMSTATE_BOOL_V(f, st, v) VMSTATE_SCALAR_(f, st, VMS_BOOL, bool, v)
#define VMSTATE_UINT8_V(f, st, v) VMSTATE_SCALAR_(f, st, VMS_UINT8, uint8_t, v)
#define VMSTATE_UINT16_V(f, st, v) VMSTATE_SCALAR_(f, st, VMS_UINT16, uint16_t, v)
#define VMSTATE_UINT32_V(f, st, v) VMSTATE_SCALAR_(f, st, VMS_UINT32, uint32_t, v)
#define VMSTATE_UINT64_V(f, st, v) VMSTATE_SCALAR_(f, st, VMS_UINT64, uint64_t, v)
#define VMSTATE_INT8_V(f, st, v) VMSTATE_SCALAR_(f, st, VMS_INT8, int8_t, v)
#define VMSTATE_INT16_V(f, st, v) VMSTATE_SCALAR_(f, st, VMS_INT16, int16_t, v)
#define VMSTATE_INT32_V(f, st, v) VMSTATE_SCALAR_(f, st, VMS_INT32, int32_t, v)
#define VMSTATE_INT64_V(f, st, v) VMSTATE_SCALAR_(f, st, VMS_INT64, int64_t, v)
#define VMSTATE_BOOL(f, st) VMSTATE_BOOL_V(f, st, 0)
#define VMSTATE_UINT8(f, st) VMSTATE_UINT8_V(f, st, 0)
#define VMSTATE_UINT16(f, st) VMSTATE_UINT16_V(f, st, 0)
#define VMSTATE_UINT32(f, st) VMSTATE_UINT32_V(f, st, 0)
#define VMSTATE_UINT64(f, st) VMSTATE_UINT64_V(f, st, 0)
#define VMSTATE_INT8(f, st) VMSTATE_INT8_V(f, st, 0)
#define VMSTATE_INT16(f, st) VMSTATE_INT16_V(f, st, 0)
#define VMSTATE_INT32(f, st) VMSTATE_INT32_V(f, st, 0)
#define VMSTATE_INT64(f, st) VMSTATE_INT64_V(f, st, 0)

/* Configuration both sides must agree on: a different value refuses the stream. */
#define VMSTATE_UINT8_EQUAL(f, st)                                                             \
    {                                                                                          \
        .name = #f, .type = VMS_UINT8, .offset = offsetof(st, f), .size = 1,                   \
        .must_equal = true                                                                     \
    }
#define VMSTATE_UINT16_EQUAL(f, st)                                                            \
    {                                                                                          \
        .name = #f, .type = VMS_UINT16, .offset = offsetof(st, f), .size = 2,                  \
        .must_equal = true                                                                     \
    }
#define VMSTATE_UINT32_EQUAL(f, st)                                                            \
    {                                                                                          \
        .name = #f, .type = VMS_UINT32, .offset = offsetof(st, f), .size = 4,                  \
        .must_equal = true                                                                     \
    }

/* Fixed arrays of scalars: `f` is an array member of the struct. */
#define VMSTATE_ARRAY_(f, st, t, et, v)                                                        \
    {                                                                                          \
        .name = #f, .type = (t), .shape = VMS_ARRAY, .offset = offsetof(st, f),                \
        .size = sizeof(et) + VMS_TYPE_CHECK_(et, ((st *)0)->f[0]),                             \
        .num = sizeof(((st *)0)->f) / sizeof(et), .version_id = (v)                            \
    }
#define VMSTATE_UINT8_ARRAY(f, st) VMSTATE_ARRAY_(f, st, VMS_UINT8, uint8_t, 0)
#define VMSTATE_UINT16_ARRAY(f, st) VMSTATE_ARRAY_(f, st, VMS_UINT16, uint16_t, 0)
#define VMSTATE_UINT32_ARRAY(f, st) VMSTATE_ARRAY_(f, st, VMS_UINT32, uint32_t, 0)
#define VMSTATE_UINT64_ARRAY(f, st) VMSTATE_ARRAY_(f, st, VMS_UINT64, uint64_t, 0)
#define VMSTATE_BOOL_ARRAY(f, st) VMSTATE_ARRAY_(f, st, VMS_BOOL, bool, 0)
#define VMSTATE_UINT32_ARRAY_V(f, st, v) VMSTATE_ARRAY_(f, st, VMS_UINT32, uint32_t, v)

/* A byte buffer of the member's full size (uint8_t f[N] or any plain struct). */
#define VMSTATE_BUFFER(f, st) VMSTATE_BUFFER_NAMED(#f, f, st)
/* The same, named `name` in errors and docs/migration-stream.md: a member renamed in C
 * keeps the name the stream's documentation and its users know. */
#define VMSTATE_BUFFER_NAMED(name_, f, st)                                                     \
    {                                                                                          \
        .name = (name_), .type = VMS_BUFFER, .offset = offsetof(st, f),                        \
        .size = sizeof(((st *)0)->f)                                                           \
    }
#define VMSTATE_BUFFER_V(f, st, v)                                                             \
    {                                                                                          \
        .name = #f, .type = VMS_BUFFER, .offset = offsetof(st, f),                             \
        .size = sizeof(((st *)0)->f), .version_id = (v)                                        \
    }

/* Variable-length: `count` (a uint8/16/32 member saved earlier) elements of array `f`,
 * whose capacity is the member's size; a count above it refuses the stream. */
#define VMSTATE_VARRAY_(f, st, t, et, count, ct)                                               \
    {                                                                                          \
        .name = #f, .type = (t), .shape = VMS_VARRAY, .offset = offsetof(st, f),               \
        .size = sizeof(et) + VMS_TYPE_CHECK_(et, ((st *)0)->f[0]),                             \
        .num = sizeof(((st *)0)->f) / sizeof(et),                                              \
        .count_offset = offsetof(st, count) + VMS_TYPE_CHECK_(uint32_t, ((st *)0)->count),     \
        .count_type = (ct)                                                                     \
    }
#define VMSTATE_UINT8_VARRAY_UINT32(f, st, count)                                              \
    VMSTATE_VARRAY_(f, st, VMS_UINT8, uint8_t, count, VMS_UINT32)
#define VMSTATE_UINT16_VARRAY_UINT32(f, st, count)                                             \
    VMSTATE_VARRAY_(f, st, VMS_UINT16, uint16_t, count, VMS_UINT32)
#define VMSTATE_UINT32_VARRAY_UINT32(f, st, count)                                             \
    VMSTATE_VARRAY_(f, st, VMS_UINT32, uint32_t, count, VMS_UINT32)
#define VMSTATE_UINT64_VARRAY_UINT32(f, st, count)                                             \
    VMSTATE_VARRAY_(f, st, VMS_UINT64, uint64_t, count, VMS_UINT32)
/* Bytes of buffer `f`, as many as `count` says (at most sizeof f). */
#define VMSTATE_VBUFFER_UINT32(f, st, count)                                                   \
    {                                                                                          \
        .name = #f, .type = VMS_BUFFER, .shape = VMS_VARRAY, .offset = offsetof(st, f),        \
        .size = 1, .num = sizeof(((st *)0)->f), .count_offset = offsetof(st, count),           \
        .count_type = VMS_UINT32                                                               \
    }

/* A nested struct member, and fixed / variable arrays of them (element type et). */
#define VMSTATE_STRUCT(f, st, desc, et)                                                        \
    {                                                                                          \
        .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f), .size = sizeof(et),         \
        .vmsd = &(desc)                                                                        \
    }
#define VMSTATE_STRUCT_ARRAY(f, st, desc, et)                                                  \
    {                                                                                          \
        .name = #f, .type = VMS_STRUCT, .shape = VMS_ARRAY, .offset = offsetof(st, f),         \
        .size = sizeof(et), .num = sizeof(((st *)0)->f) / sizeof(et), .vmsd = &(desc)          \
    }
#define VMSTATE_STRUCT_VARRAY_UINT32(f, st, count, desc, et)                                   \
    {                                                                                          \
        .name = #f, .type = VMS_STRUCT, .shape = VMS_VARRAY, .offset = offsetof(st, f),        \
        .size = sizeof(et), .num = sizeof(((st *)0)->f) / sizeof(et),                          \
        .count_offset = offsetof(st, count), .count_type = VMS_UINT32, .vmsd = &(desc)         \
    }
/* Storage allocated by the device: `f` is `et *`, with room for `cap` elements (the same
 * on both sides: a device whose capacity is configurable saves it with _EQUAL first). */
#define VMSTATE_STRUCT_ARRAY_POINTER(f, st, cap, desc, et)                                     \
    {                                                                                          \
        .name = #f, .type = VMS_STRUCT, .shape = VMS_ARRAY, .offset = offsetof(st, f),         \
        .size = sizeof(et), .num = (cap), .pointer = true, .vmsd = &(desc)                     \
    }
#define VMSTATE_BUFFER_POINTER(f, st, len)                                                     \
    {                                                                                          \
        .name = #f, .type = VMS_BUFFER, .offset = offsetof(st, f), .size = (len),              \
        .pointer = true                                                                        \
    }
/* Storage allocated by the device, of a size fixed at realize: `f` is `uint8_t *`, `count`
 * (a uint32_t member; it need not be in the stream) says how many bytes, at most `cap`.
 * Save a configuration field that fixes `count` with _EQUAL before this one. */
#define VMSTATE_VBUFFER_POINTER_UINT32(f, st, count, cap)                                      \
    {                                                                                          \
        .name = #f, .type = VMS_BUFFER, .shape = VMS_VARRAY, .offset = offsetof(st, f),        \
        .size = 1, .num = (cap), .pointer = true,                                              \
        .count_offset = offsetof(st, count) + VMS_TYPE_CHECK_(uint32_t, ((st *)0)->count),     \
        .count_type = VMS_UINT32                                                               \
    }
/* One struct the device holds a pointer to (`f` is `T *`, never NULL when saved). */
#define VMSTATE_STRUCT_POINTER(f, st, desc)                                                    \
    {                                                                                          \
        .name = #f, .type = VMS_STRUCT, .offset = offsetof(st, f), .size = 0, .pointer = true, \
        .vmsd = &(desc)                                                                        \
    }

/* Run `fn(opaque, version_id, errp)` on load at this point. */
#define VMSTATE_VALIDATE(n, fn)                                                                \
    {                                                                                          \
        .name = (n), .type = VMS_VALIDATE, .validate = (fn)                                    \
    }
#define VMSTATE_END_OF_LIST()                                                                  \
    {                                                                                          \
        .name = NULL, .type = VMS_END                                                          \
    }

/*
 * The engine, on in-memory buffers (savevm.c frames them into the stream). `what` names
 * the section in messages ("virtio-net (instance 0)"). Load refuses, with the section
 * and field named, a version outside [minimum_version_id, version_id], a truncated or
 * overlong payload, a bool other than 0/1, a count above its capacity, an _EQUAL
 * mismatch, an unknown subsection and a failed validation or post_load.
 */
bool vmstate_save(const VMStateDescription *vmsd, void *opaque, GByteArray *out, GError **errp);
bool vmstate_load(const VMStateDescription *vmsd, void *opaque, int version_id,
                  const uint8_t *buf, size_t len, const char *what, GError **errp);

/* A registered instance: a section of the stream (migration/savevm.h registers). */
typedef struct VMStateEntry VMStateEntry;

#endif
