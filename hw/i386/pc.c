/*
 * pc.c: the x86 `pc` board: RAM (low RAM up to the 32-bit PCI window, the rest above
 * 4 GiB), the accelerator, the PCI host bridge, the legacy devices, fw_cfg, the -device
 * models and, under KVM, the Linux boot loader; in that order (see pc.h).
 */
#include "accel/kvm.h"
#include "error.h"
#include "hw/i386/pc-legacy.h"
#include "hw/i386/pc.h"
#include "hw/i386/x86-boot.h"
#include "hw/memory.h"
#include "hw/nvram/fw_cfg.h"
#include "hw/pci.h"
#include "hw/qdev.h"
#include "qtest.h"

#define E820_RAM 1
#define E820_ENTRY_SIZE 20 /* le64 address, le64 length, le32 type */

/* The board's own devices beyond the legacy ones: one board per process. */
static struct {
    FwCfg *fw_cfg;
} pc;

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        p[i] = v >> (8 * i);
    }
}

/* What QEMU's pc machine tells firmware through fw_cfg, from tern's configuration. */
static FwCfg *pc_fw_cfg_init(TernConfig *c)
{
    FwCfg *s = fw_cfg_init_io_dma(FW_CFG_IO_BASE, FW_CFG_DMA_IO_BASE);
    fw_cfg_add_bytes(s, FW_CFG_UUID, c->uuid, sizeof(c->uuid)); /* zeros without -uuid */
    fw_cfg_add_i64(s, FW_CFG_RAM_SIZE, c->ram_size);
    fw_cfg_add_i16(s, FW_CFG_NOGRAPHIC, c->nographic);
    fw_cfg_add_i16(s, FW_CFG_NB_CPUS, c->smp);
    /* APIC ids run from 0 to smp - 1 and there is no CPU hotplug: the limit is smp. */
    fw_cfg_add_i16(s, FW_CFG_MAX_CPUS, c->smp);
    fw_cfg_add_i16(s, FW_CFG_BOOT_MENU, c->boot.menu);
    /* No NUMA: node count 0, then each CPU's node (0); no per-node sizes follow. */
    g_autofree uint8_t *numa = g_malloc0(8 * (1 + c->smp));
    fw_cfg_add_bytes(s, FW_CFG_NUMA, numa, 8 * (1 + c->smp));

    uint8_t le[4];
    put_le(le, c->boot.reboot_timeout, 4);
    fw_cfg_add_file(s, "etc/boot-fail-wait", le, 4);
    if (c->boot.has_splash_time) {
        put_le(le, c->boot.splash_time, 2);
        fw_cfg_add_file(s, "etc/boot-menu-wait", le, 2);
    }
    const RamBlock *blocks;
    unsigned n = guest_ram_blocks(&blocks);
    g_autofree uint8_t *e820 = g_malloc0(n * E820_ENTRY_SIZE);
    for (unsigned i = 0; i < n; i++) {
        put_le(e820 + i * E820_ENTRY_SIZE, blocks[i].gpa, 8);
        put_le(e820 + i * E820_ENTRY_SIZE + 8, blocks[i].size, 8);
        put_le(e820 + i * E820_ENTRY_SIZE + 16, E820_RAM, 4);
    }
    fw_cfg_add_file(s, "etc/e820", e820, n * E820_ENTRY_SIZE);
    return s;
}

bool pc_machine_init(TernConfig *c, GError **errp)
{
    bool kvm = c->accel != ACCEL_QTEST;
    if (!guest_ram_init(c->ram_size, PC_RAM_BELOW_4G_MAX, errp)) {
        return false;
    }
    if (kvm ? !kvm_accel_init(c, errp) : !qtest_accel_init(c, errp)) {
        return false;
    }
    pci_host_init();
    if (!pc_legacy_devices_init(c, errp)) {
        return false;
    }
    pc.fw_cfg = pc_fw_cfg_init(c);
    if (!devices_create(c->devices, errp)) {
        return false;
    }
    /* Under qtest the test is the CPU: there is nothing to boot unless asked. */
    if (kvm || c->kernel) {
        pci_host_firmware_done(kvm);
        return x86_load_linux(c, errp);
    }
    return true;
}

void pc_machine_reset(void)
{
    if (pc.fw_cfg) {
        fw_cfg_reset(pc.fw_cfg);
    }
}

void pc_machine_destroy(void)
{
    fw_cfg_free(pc.fw_cfg);
    pc.fw_cfg = NULL;
}
