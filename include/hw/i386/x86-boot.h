/*
 * x86-boot.h: the Linux boot loader of the pc board (hw/i386/x86-boot.c).
 */
#ifndef TERN_HW_I386_X86_BOOT_H
#define TERN_HW_I386_X86_BOOT_H

#include <glib.h>
#include <stdbool.h>
#include "options.h"

/* Load a bzImage, initrd and command line (Linux boot protocol), write e820 and the MP
 * table, and set the boot vCPU's registers. */
bool x86_load_linux(TernConfig *c, GError **errp);

#endif
