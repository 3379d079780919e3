/*
 * cmos.c: the MC146818 RTC and CMOS RAM at ports 0x70/0x71. The clock reads the host's
 * UTC time (plus whatever offset the guest set), in BCD, 24-hour mode, and never reports
 * an update in progress: a UIP bit stuck at 1 (an absent chip reads 0xff) costs Linux
 * seconds of polling at boot. No RTC interrupts (IRQ 8 stays quiet): Linux keeps time
 * with kvm-clock and the LAPIC timer.
 *
 * Migration ("cmos" section): the index latch, the RAM, and the guest's offset from host
 * time (so a guest that set its RTC keeps its own time on the destination host).
 */
#include <string.h>
#include <time.h>
#include "hw/i386/pc-legacy.h"
#include "hw/i386/x86-tables.h"
#include "hw/memory.h"
#include "error.h"
#include "migration/savevm.h"
#include "migration/vmstate.h"

enum {
    RTC_SECONDS = 0x00,
    RTC_MINUTES = 0x02,
    RTC_HOURS = 0x04,
    RTC_DAY_OF_WEEK = 0x06,
    RTC_DAY_OF_MONTH = 0x07,
    RTC_MONTH = 0x08,
    RTC_YEAR = 0x09,
    RTC_REG_A = 0x0a,
    RTC_REG_B = 0x0b,
    RTC_REG_C = 0x0c,
    RTC_REG_D = 0x0d,
};

#define REG_A_DEFAULT 0x26 /* 32.768 kHz time base, 1024 Hz rate, UIP clear */
#define REG_A_UIP 0x80
#define REG_B_DM_BINARY 0x04
#define REG_B_24H 0x02
#define REG_D_VRT 0x80 /* RAM and time valid */
#define CMOS_SIZE 128

struct Cmos {
    MemoryRegion io;
    uint8_t index;
    uint8_t ram[CMOS_SIZE];
    int64_t offset; /* guest time - host time, seconds */
    VMStateEntry *vmse;
};

/* The latch addresses ram[]: a stream's value is used as an index on the guest's next
 * access to port 0x71, so it must be one the guest could have written. */
static bool cmos_index_valid(void *opaque, int version_id, GError **errp)
{
    struct Cmos *c = opaque;
    if (c->index >= CMOS_SIZE) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "register %u is outside the %d bytes of CMOS RAM", c->index, CMOS_SIZE);
        return false;
    }
    return true;
}

/* The farthest a guest can move its clock: century and year registers at 0xff read as
 * year 16665 (from BCD); 10^12 s is past that either way, and far enough from int64's
 * ends that time() + offset cannot overflow and gmtime_r always finds a year. */
#define CMOS_MAX_OFFSET 1000000000000LL

static bool cmos_offset_valid(void *opaque, int version_id, GError **errp)
{
    struct Cmos *c = opaque;
    if (c->offset > CMOS_MAX_OFFSET || c->offset < -CMOS_MAX_OFFSET) {
        g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                    "%" G_GINT64_FORMAT " s from host time is more than a guest can set",
                    c->offset);
        return false;
    }
    return true;
}

static const VMStateField cmos_fields[] = {
    VMSTATE_UINT8(index, struct Cmos),
    VMSTATE_VALIDATE("index", cmos_index_valid),
    VMSTATE_UINT8_ARRAY(ram, struct Cmos),
    VMSTATE_INT64(offset, struct Cmos),
    VMSTATE_VALIDATE("offset", cmos_offset_valid),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_cmos = {
    .name = "cmos",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = cmos_fields,
};

static bool is_time_reg(uint8_t r)
{
    return r == RTC_SECONDS || r == RTC_MINUTES || r == RTC_HOURS || r == RTC_DAY_OF_WEEK ||
           r == RTC_DAY_OF_MONTH || r == RTC_MONTH || r == RTC_YEAR || r == CMOS_CENTURY_INDEX;
}

static uint8_t to_reg(const struct Cmos *c, int v)
{
    return (c->ram[RTC_REG_B] & REG_B_DM_BINARY) ? v : ((v / 10) << 4) | (v % 10);
}

static int from_reg(const struct Cmos *c, uint8_t v)
{
    return (c->ram[RTC_REG_B] & REG_B_DM_BINARY) ? v : (v >> 4) * 10 + (v & 0xf);
}

static void guest_tm(const struct Cmos *c, struct tm *tm)
{
    time_t now = time(NULL) + c->offset;
    gmtime_r(&now, tm);
}

static uint8_t time_reg_read(const struct Cmos *c, uint8_t r)
{
    struct tm tm;
    guest_tm(c, &tm);
    switch (r) {
    case RTC_SECONDS:
        return to_reg(c, tm.tm_sec);
    case RTC_MINUTES:
        return to_reg(c, tm.tm_min);
    case RTC_HOURS:
        return to_reg(c, tm.tm_hour);
    case RTC_DAY_OF_WEEK:
        return to_reg(c, tm.tm_wday + 1);
    case RTC_DAY_OF_MONTH:
        return to_reg(c, tm.tm_mday);
    case RTC_MONTH:
        return to_reg(c, tm.tm_mon + 1);
    case RTC_YEAR:
        return to_reg(c, tm.tm_year % 100);
    default: /* century */
        return to_reg(c, 19 + tm.tm_year / 100);
    }
}

/* The guest sets one field: keep the others, move the offset. */
static void time_reg_write(struct Cmos *c, uint8_t r, uint8_t v)
{
    struct tm tm;
    guest_tm(c, &tm);
    int x = from_reg(c, v);
    switch (r) {
    case RTC_SECONDS:
        tm.tm_sec = x;
        break;
    case RTC_MINUTES:
        tm.tm_min = x;
        break;
    case RTC_HOURS:
        tm.tm_hour = x;
        break;
    case RTC_DAY_OF_MONTH:
        tm.tm_mday = x;
        break;
    case RTC_MONTH:
        tm.tm_mon = x - 1;
        break;
    case RTC_YEAR:
        tm.tm_year = (tm.tm_year / 100) * 100 + x;
        break;
    case CMOS_CENTURY_INDEX:
        tm.tm_year = (x - 19) * 100 + tm.tm_year % 100;
        break;
    default:
        return; /* day of week follows from the date */
    }
    time_t t = timegm(&tm);
    if (t != (time_t)-1) {
        c->offset = t - time(NULL);
    }
}

static uint64_t cmos_read(void *opaque, uint64_t offset, unsigned size)
{
    struct Cmos *c = opaque;
    if (offset == 0) {
        return 0xff; /* the index register is write-only */
    }
    uint8_t r = c->index;
    if (is_time_reg(r)) {
        return time_reg_read(c, r);
    }
    if (r == RTC_REG_A) {
        return c->ram[r] & ~REG_A_UIP;
    }
    uint8_t v = c->ram[r];
    if (r == RTC_REG_C) {
        c->ram[r] = 0; /* reading C acknowledges */
    }
    return v;
}

static void cmos_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    struct Cmos *c = opaque;
    if (offset == 0) {
        c->index = value & 0x7f; /* bit 7 masks NMI: nothing to mask here */
        return;
    }
    uint8_t r = c->index;
    if (is_time_reg(r)) {
        time_reg_write(c, r, value);
    } else if (r == RTC_REG_C || r == RTC_REG_D) {
        /* read-only */
    } else {
        c->ram[r] = value;
    }
}

static const MemoryRegionOps cmos_ops = {
    .read = cmos_read,
    .write = cmos_write,
};

/* Memory sizes where a BIOS would leave them (Linux uses e820; other guests may look). */
static void cmos_set_memory(struct Cmos *c, uint64_t ram_below_4g, uint64_t ram_above_4g)
{
    uint64_t ext_kb = ram_below_4g > 0x100000 ? (ram_below_4g - 0x100000) >> 10 : 0;
    ext_kb = MIN(ext_kb, 0xffff);
    c->ram[0x15] = 640 & 0xff;
    c->ram[0x16] = 640 >> 8;
    c->ram[0x17] = c->ram[0x30] = ext_kb & 0xff;
    c->ram[0x18] = c->ram[0x31] = ext_kb >> 8;
    uint64_t above_16m = ram_below_4g > (16 << 20) ? (ram_below_4g - (16 << 20)) >> 16 : 0;
    above_16m = MIN(above_16m, 0xffff);
    c->ram[0x34] = above_16m & 0xff;
    c->ram[0x35] = above_16m >> 8;
    uint64_t high = ram_above_4g >> 16;
    c->ram[0x5b] = high & 0xff;
    c->ram[0x5c] = high >> 8;
    c->ram[0x5d] = high >> 16;
}

struct Cmos *cmos_init(uint64_t ram_below_4g, uint64_t ram_above_4g)
{
    struct Cmos *c = g_new0(struct Cmos, 1);
    c->ram[RTC_REG_A] = REG_A_DEFAULT;
    c->ram[RTC_REG_B] = REG_B_24H;
    c->ram[RTC_REG_D] = REG_D_VRT;
    cmos_set_memory(c, ram_below_4g, ram_above_4g);
    memory_region_init(&c->io, ADDR_SPACE_IO, "cmos", 2, &cmos_ops, c);
    memory_region_map(&c->io, 0x70);
    c->vmse = vmstate_register(VMSTATE_INSTANCE_ID_ANY, &vmstate_cmos, c);
    return c;
}

void cmos_free(struct Cmos *c)
{
    if (c) {
        vmstate_unregister(c->vmse);
        memory_region_unmap(&c->io);
        g_free(c);
    }
}
