/*
 * savevm.h: the migration stream's framing. A stream is a header, a configuration
 * record, RAM records, one record per registered device section, and an end record;
 * docs/migration-stream.md has the byte layout and the list of what a loader refuses.
 */
#ifndef TERN_MIGRATION_SAVEVM_H
#define TERN_MIGRATION_SAVEVM_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "migration/mig-file.h"
#include "migration/vmstate.h"

/*
 * Registered instances: savevm.c saves each one as a section named `idstr` (NULL: the
 * description's name) with `instance_id`. VMSTATE_INSTANCE_ID_ANY picks the next free id
 * for that name. A device that goes away unregisters.
 */
#define VMSTATE_INSTANCE_ID_ANY UINT32_MAX
VMStateEntry *vmstate_register_named(const char *idstr, uint32_t instance_id,
                                     const VMStateDescription *vmsd, void *opaque);
VMStateEntry *vmstate_register(uint32_t instance_id, const VMStateDescription *vmsd,
                               void *opaque);
void vmstate_unregister(VMStateEntry *e);

#define MIG_STREAM_MAGIC 0x54524e4du /* "TRNM" */
#define MIG_STREAM_VERSION 1
/* Header flag: the source waits for the destination's verdict after the end record. */
#define MIG_STREAM_F_REPLY 0x1u
/* Header flag (with REPLY): the source answers an ok verdict with a confirmation, and
 * the destination runs the VM only once it has it (docs/migration-stream.md). */
#define MIG_STREAM_F_CONFIRM 0x2u

enum {
    MIG_REC_END = 0x00,
    MIG_REC_CONFIG = 0x01,
    MIG_REC_RAM_PAGES = 0x02, /* u64 gpa, u32 n, n * 4096 bytes */
    MIG_REC_RAM_ZERO = 0x03,  /* u64 gpa, u32 n: n pages of zeros */
    MIG_REC_DEVICE = 0x04,
};

/* Device sections larger than this are refused on load (a corrupt length). */
#define MIG_SECTION_MAX (64u << 20)
/* Reply after the end record when the header asked for one. */
#define MIG_REPLY_MAGIC 0x54524e52u /* "TRNR" */
/* The source's answer to an ok verdict (CONFIRM): u32 magic, u8 RUN or KEEP. */
#define MIG_CONFIRM_MAGIC 0x54524e43u /* "TRNC" */
#define MIG_CONFIRM_RUN 0
#define MIG_CONFIRM_KEEP 1

/* Source: header and configuration record. */
void savevm_put_header(MigFile *f, uint32_t flags);
void savevm_put_config(MigFile *f);
/* Every registered device section, as DEVICE records, into `out`. Big lock held, VM
 * stopped. */
bool savevm_save_devices(GByteArray *out, GError **errp);
void savevm_put_end(MigFile *f);

/*
 * Destination: read and apply a whole stream. Takes the big lock (unless held) only
 * around each device section's load. Refuses a bad header, an unknown or duplicate
 * section, a section missing at the end, a version or configuration mismatch and any
 * truncation, with a message naming the section and field. `flags` gets the header's.
 */
bool savevm_load_stream(MigFile *f, uint32_t *flags, GError **errp);

/* The verdict the destination sends back (MIG_STREAM_F_REPLY): ok, or the message.
 * False when it could not be sent. */
bool savevm_put_reply(MigFile *f, const GError *err);
/* Source: read the whole verdict within timeout_ms; false with the destination's
 * message when it refused, or with why no verdict came. */
bool savevm_get_reply(MigFile *f, int timeout_ms, GError **errp);
/* Source: answer an ok verdict (MIG_STREAM_F_CONFIRM): run the VM there, or keep it
 * here. False when it could not be sent. */
bool savevm_put_confirm(MigFile *f, bool run);
/* Destination: read the source's confirmation within timeout_ms; true only for RUN. */
bool savevm_get_confirm(MigFile *f, int timeout_ms, GError **errp);

#endif
