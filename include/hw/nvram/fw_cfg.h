/*
 * fw_cfg.h: QEMU's firmware configuration device, the channel through which firmware
 * (SeaBIOS, OVMF) and test programs read the machine's description: RAM size, CPU
 * counts, UUID, boot settings and named files.
 *
 * On the pc machine: a 16-bit selector write to 0x510 picks an item, byte reads from
 * 0x511 stream it; the DMA interface at 0x514 takes the big-endian guest address of a
 * FWCfgDmaAccess {be32 control; be32 length; be64 address} and copies straight into
 * guest RAM. Items are read-only (QEMU removed data-port writes in 2.4; a DMA write
 * answers with the error bit). Every address and length the guest hands over is checked
 * against guest RAM; a bad one sets the error bit, never reaches outside RAM.
 */
#ifndef TERN_HW_NVRAM_FW_CFG_H
#define TERN_HW_NVRAM_FW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Item keys (QEMU's numbering, include/standard-headers/linux/qemu_fw_cfg.h). */
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_UUID 0x02
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_NUMA 0x0d
#define FW_CFG_BOOT_MENU 0x0e
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_ARCH_LOCAL 0x8000
#define FW_CFG_INVALID 0xffff

/* FW_CFG_ID bits */
#define FW_CFG_VERSION 0x01
#define FW_CFG_VERSION_DMA 0x02

/* FWCfgDmaAccess control bits */
#define FW_CFG_DMA_CTL_ERROR 0x01
#define FW_CFG_DMA_CTL_READ 0x02
#define FW_CFG_DMA_CTL_SKIP 0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE 0x10

/* What a read of the DMA register returns: "QEMU CFG", big-endian. */
#define FW_CFG_DMA_SIGNATURE 0x51454d5520434647ULL

#define FW_CFG_IO_BASE 0x510 /* selector; data at +1 */
#define FW_CFG_DMA_IO_BASE 0x514
#define FW_CFG_FILE_NAME_MAX 56 /* bytes, NUL included */

typedef struct FwCfg FwCfg;

/* Map the selector/data ports at io_base and the DMA register at dma_base, with the
 * signature, the id and an empty file directory; register its migration state. */
FwCfg *fw_cfg_init_io_dma(uint16_t io_base, uint16_t dma_base);
void fw_cfg_free(FwCfg *s);
/* Power-on state: the signature selected, no DMA address half written. */
void fw_cfg_reset(FwCfg *s);

/* Add an item (the data is copied; integers are stored little-endian, as QEMU's). A key
 * already set is replaced. */
void fw_cfg_add_bytes(FwCfg *s, uint16_t key, const void *data, size_t len);
void fw_cfg_add_i16(FwCfg *s, uint16_t key, uint16_t value);
void fw_cfg_add_i32(FwCfg *s, uint16_t key, uint32_t value);
void fw_cfg_add_i64(FwCfg *s, uint16_t key, uint64_t value);
/* Add a named file; the directory stays sorted by name (QEMU's order), so a file's key
 * follows its place in it. False when the name is too long, taken, or no slot is left. */
bool fw_cfg_add_file(FwCfg *s, const char *name, const void *data, size_t len);

#endif
