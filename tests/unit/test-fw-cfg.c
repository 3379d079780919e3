/*
 * test-fw-cfg.c: fw_cfg as firmware sees it on the pc machine's ports: the signature
 * and id, integers little-endian, the sorted file directory, the DMA interface (read,
 * select, skip, zeros past an item) and a hostile guest's DMA (descriptors and buffers
 * outside RAM, wrapping addresses, writes, 4 GiB lengths), and migration of the guest's
 * position with its checks.
 */
#include <string.h>
#include "hw/memory.h"
#include "hw/nvram/fw_cfg.h"
#include "../lib/test-stream.h"

#define RAM_SIZE (16u << 20)
#define DESC 0x1000 /* where the tests put a FWCfgDmaAccess */
#define BUF 0x2000

static void select_key(uint16_t key)
{
    address_space_write(ADDR_SPACE_IO, FW_CFG_IO_BASE, key, 2);
}

static void read_data(void *buf, size_t len)
{
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        p[i] = address_space_read(ADDR_SPACE_IO, FW_CFG_IO_BASE + 1, 1);
    }
}

static uint32_t get_le(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v |= (uint32_t)p[i] << (8 * i);
    }
    return v;
}

static uint32_t get_be(const uint8_t *p, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = v >> (8 * (n - 1 - i));
    }
}

static FwCfg *setup(void)
{
    GError *err = NULL;
    g_assert_true(guest_ram_init(RAM_SIZE, RAM_SIZE, &err));
    FwCfg *s = fw_cfg_init_io_dma(FW_CFG_IO_BASE, FW_CFG_DMA_IO_BASE);
    fw_cfg_add_i16(s, FW_CFG_NB_CPUS, 0x0203);
    fw_cfg_add_i64(s, FW_CFG_RAM_SIZE, 0x1122334455667788ULL);
    g_assert_true(fw_cfg_add_file(s, "etc/zz", "last", 4));
    g_assert_true(fw_cfg_add_file(s, "etc/aa", "first!", 6));
    g_assert_false(fw_cfg_add_file(s, "etc/aa", "again", 5)); /* taken */
    char longname[FW_CFG_FILE_NAME_MAX + 1];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    g_assert_false(fw_cfg_add_file(s, longname, "", 0));
    return s;
}

static void teardown(FwCfg *s)
{
    fw_cfg_free(s);
    guest_ram_free();
}

static void test_io(void)
{
    FwCfg *s = setup();
    char sig[5] = {0};
    read_data(sig, 4); /* selected at reset */
    g_assert_cmpstr(sig, ==, "QEMU");
    g_assert_cmpuint(address_space_read(ADDR_SPACE_IO, FW_CFG_IO_BASE + 1, 1), ==, 0);

    uint8_t b[8];
    select_key(FW_CFG_ID);
    read_data(b, 4);
    g_assert_cmpuint(get_le(b, 4), ==, FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    select_key(FW_CFG_NB_CPUS);
    read_data(b, 2);
    g_assert_cmpuint(get_le(b, 2), ==, 0x0203);
    select_key(FW_CFG_RAM_SIZE);
    read_data(b, 8);
    g_assert_cmpuint(get_le(b, 4), ==, 0x55667788);
    g_assert_cmpuint(get_le(b + 4, 4), ==, 0x11223344);

    /* The directory: count, then entries sorted by name with their keys. */
    uint8_t dir[4 + 2 * 64];
    select_key(FW_CFG_FILE_DIR);
    read_data(dir, sizeof(dir));
    g_assert_cmpuint(get_be(dir, 4), ==, 2);
    g_assert_cmpuint(get_be(dir + 4, 4), ==, 6);
    g_assert_cmpuint(get_be(dir + 8, 2), ==, FW_CFG_FILE_FIRST);
    g_assert_cmpstr((char *)dir + 12, ==, "etc/aa");
    g_assert_cmpuint(get_be(dir + 68 + 4, 2), ==, FW_CFG_FILE_FIRST + 1);
    g_assert_cmpstr((char *)dir + 76, ==, "etc/zz");
    char data[7] = {0};
    select_key(FW_CFG_FILE_FIRST + 1);
    read_data(data, 4);
    g_assert_cmpstr(data, ==, "last");

    /* Unknown keys and keys past the last slot read as zeros; byte writes do nothing. */
    select_key(0x0b);
    g_assert_cmpuint(address_space_read(ADDR_SPACE_IO, FW_CFG_IO_BASE + 1, 1), ==, 0);
    select_key(0x3fff);
    g_assert_cmpuint(address_space_read(ADDR_SPACE_IO, FW_CFG_IO_BASE + 1, 1), ==, 0);
    select_key(FW_CFG_SIGNATURE);
    address_space_write(ADDR_SPACE_IO, FW_CFG_IO_BASE + 1, 0x55, 1);
    g_assert_cmpuint(address_space_read(ADDR_SPACE_IO, FW_CFG_IO_BASE + 1, 1), ==, 'Q');
    teardown(s);
}

/* Write a FWCfgDmaAccess at DESC and start it (big-endian halves, as Linux does). */
static uint32_t dma(uint32_t control, uint32_t length, uint64_t addr, uint64_t desc)
{
    uint8_t a[16];
    put_be(a, control, 4);
    put_be(a + 4, length, 4);
    put_be(a + 8, addr, 8);
    if (desc <= RAM_SIZE - sizeof(a)) {
        g_assert_true(dma_write(desc, a, sizeof(a)));
    }
    uint8_t be[8];
    put_be(be, desc, 8);
    address_space_write(ADDR_SPACE_IO, FW_CFG_DMA_IO_BASE, get_le(be, 4), 4);
    address_space_write(ADDR_SPACE_IO, FW_CFG_DMA_IO_BASE + 4, get_le(be + 4, 4), 4);
    uint8_t ctl[4] = {0xee, 0xee, 0xee, 0xee};
    dma_read(desc, ctl, 4);
    return get_be(ctl, 4);
}

static void test_dma(void)
{
    FwCfg *s = setup();
    /* The register reads "QEMU CFG" in address order. */
    g_assert_cmphex(address_space_read(ADDR_SPACE_IO, FW_CFG_DMA_IO_BASE, 4), ==,
                    get_le((const uint8_t *)"QEMU", 4));
    g_assert_cmphex(address_space_read(ADDR_SPACE_IO, FW_CFG_DMA_IO_BASE + 4, 4), ==,
                    get_le((const uint8_t *)" CFG", 4));

    /* Select and read: the item, then zeros where it ends. */
    uint8_t buf[16];
    memset(buf, 0xaa, sizeof(buf));
    dma_write(BUF, buf, sizeof(buf));
    uint32_t ctl = FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ | (FW_CFG_FILE_FIRST << 16);
    g_assert_cmphex(dma(ctl, 10, BUF, DESC), ==, 0);
    dma_read(BUF, buf, sizeof(buf));
    g_assert_cmpmem(buf, 10, "first!\0\0\0\0", 10);
    g_assert_cmphex(buf[10], ==, 0xaa);

    /* Skip then read on: the offset moves. */
    ctl = FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_SKIP | (FW_CFG_FILE_FIRST << 16);
    g_assert_cmphex(dma(ctl, 2, 0, DESC), ==, 0);
    g_assert_cmphex(dma(FW_CFG_DMA_CTL_READ, 4, BUF, DESC), ==, 0);
    dma_read(BUF, buf, 4);
    g_assert_cmpmem(buf, 4, "rst!", 4);
    /* No operation bit: nothing moves, no error. */
    g_assert_cmphex(dma(0, 100, BUF, DESC), ==, 0);

    /* A hostile guest: a destination outside RAM, or one that wraps, is an error. */
    ctl = FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ | (FW_CFG_SIGNATURE << 16);
    g_assert_cmphex(dma(ctl, 4, RAM_SIZE - 2, DESC), ==, FW_CFG_DMA_CTL_ERROR);
    g_assert_cmphex(dma(ctl, 4, UINT64_MAX - 1, DESC), ==, FW_CFG_DMA_CTL_ERROR);
    g_assert_cmphex(dma(ctl, 4, 0xfec00000, DESC), ==, FW_CFG_DMA_CTL_ERROR);
    /* ~4 GiB claimed: the zeros run into the end of RAM and stop there. */
    ctl = FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ | (FW_CFG_ID << 16);
    g_assert_cmphex(dma(ctl, UINT32_MAX, BUF, DESC), ==, FW_CFG_DMA_CTL_ERROR);
    /* Nothing is writable. */
    ctl = FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_WRITE | (FW_CFG_FILE_FIRST << 16);
    g_assert_cmphex(dma(ctl, 2, BUF, DESC), ==, FW_CFG_DMA_CTL_ERROR);
    select_key(FW_CFG_FILE_FIRST);
    char data[3] = {0};
    read_data(data, 2);
    g_assert_cmpstr(data, ==, "fi");
    /* A descriptor partly or wholly outside RAM: nothing happens, nothing breaks. */
    dma(FW_CFG_DMA_CTL_READ, 4, BUF, RAM_SIZE - 8);
    dma(FW_CFG_DMA_CTL_READ, 4, BUF, UINT64_MAX - 3);
    g_assert_cmphex(dma(FW_CFG_DMA_CTL_READ, 0, BUF, DESC), ==, 0); /* still serves */
    teardown(s);
}

static void test_migration(void)
{
    FwCfg *s = setup();
    char data[8] = {0};
    select_key(FW_CFG_FILE_FIRST);
    read_data(data, 3);
    g_autoptr(GByteArray) stream = test_stream_save_devices();
    teardown(s);

    /* The same configuration on the destination: the guest reads on where it was. */
    s = setup();
    GError *err = NULL;
    g_assert_true(test_stream_load(stream, &err));
    g_assert_no_error(err);
    read_data(data, 3);
    g_assert_cmpstr(data, ==, "st!");
    teardown(s);

    /* A destination whose item is shorter than the source's offset refuses the stream. */
    g_assert_true(guest_ram_init(RAM_SIZE, RAM_SIZE, &err));
    s = fw_cfg_init_io_dma(FW_CFG_IO_BASE, FW_CFG_DMA_IO_BASE);
    g_assert_true(fw_cfg_add_file(s, "etc/aa", "f", 1));
    g_assert_false(test_stream_load(stream, &err));
    g_assert_nonnull(strstr(err->message, "offset 3 is past the end of item 0x20"));
    g_clear_error(&err);
    teardown(s);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/fw-cfg/io", test_io);
    g_test_add_func("/fw-cfg/dma", test_dma);
    g_test_add_func("/fw-cfg/migration", test_migration);
    return g_test_run();
}
