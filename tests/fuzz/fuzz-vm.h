/*
 * fuzz-vm.h: what the fuzz targets share: tern's own pc machine built in the fuzzer's
 * process (qtest accelerator, no vCPU, a virtio-net NIC on a socket netdev), so a target
 * drives the real device models, section registry and loaders; and a reader that takes
 * typed values off the fuzzer's input.
 */
#ifndef TERN_TESTS_FUZZ_VM_H
#define TERN_TESTS_FUZZ_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "hw/virtio-net.h"

/* The machine, besides its NIC "virtio-net-pci,netdev=n0,id=nic0": the migration seeds
 * are captured from one with the same arguments (capture-seeds.c), since a stream loads
 * only into the same RAM and devices. Every device with a section is there. */
#define FUZZ_VM_ARGS "-m 16M -serial null -device pci-testdev"

/* Build the machine once per process (the big lock stays held by this thread); returns
 * the NIC. Aborts when tern refuses its own configuration. */
VirtIONet *fuzz_vm_get(void);
/* Read every I/O port the pc board decodes and the NIC's PCI config space, as a guest
 * would after the machine arrived: state that was loaded but never checked is used here. */
void fuzz_vm_touch_devices(void);

/* Consume the fuzzer's input front to back; past its end every read gives zeros. */
typedef struct {
    const uint8_t *p;
    size_t len;
} FuzzInput;

uint8_t fuzz_u8(FuzzInput *in);
uint16_t fuzz_u16(FuzzInput *in);
uint32_t fuzz_u32(FuzzInput *in);
uint64_t fuzz_u64(FuzzInput *in);
/* Up to `len` bytes into buf (zero-filled past the end); returns how many were input. */
size_t fuzz_bytes(FuzzInput *in, void *buf, size_t len);

#endif
