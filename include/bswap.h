/*
 * bswap.h: integers in a byte buffer of a given byte order, at any alignment: the
 * migration stream and the network are big-endian, virtio and ACPI little-endian.
 * ld_* loads, st_* stores; the sized forms take 1 to 8 bytes, for codecs whose field
 * width is data (vmstate's scalars, mig-file's integers).
 */
#ifndef TERN_BSWAP_H
#define TERN_BSWAP_H

#include <stdint.h>

static inline uint64_t ld_be(const void *p, unsigned size)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        v = v << 8 | b[i];
    }
    return v;
}

static inline void st_be(void *p, unsigned size, uint64_t v)
{
    uint8_t *b = p;
    for (unsigned i = 0; i < size; i++) {
        b[i] = v >> (8 * (size - 1 - i));
    }
}

static inline uint64_t ld_le(const void *p, unsigned size)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (unsigned i = size; i-- > 0;) {
        v = v << 8 | b[i];
    }
    return v;
}

static inline void st_le(void *p, unsigned size, uint64_t v)
{
    uint8_t *b = p;
    for (unsigned i = 0; i < size; i++) {
        b[i] = v >> (8 * i);
    }
}

/* ld_be16, st_be16, ld_be32, st_be32, ld_be64, st_be64, ld_le16, st_le16, ld_le32,
 * st_le32, ld_le64, st_le64: the fixed widths. */
#define BSWAP_FIXED(order, bits)                                                               \
    static inline uint##bits##_t ld_##order##bits(const void *p)                               \
    {                                                                                          \
        return ld_##order(p, (bits) / 8);                                                      \
    }                                                                                          \
    static inline void st_##order##bits(void *p, uint##bits##_t v)                             \
    {                                                                                          \
        st_##order(p, (bits) / 8, v);                                                          \
    }
BSWAP_FIXED(be, 16)
BSWAP_FIXED(be, 32)
BSWAP_FIXED(be, 64)
BSWAP_FIXED(le, 16)
BSWAP_FIXED(le, 32)
BSWAP_FIXED(le, 64)
#undef BSWAP_FIXED

#endif
