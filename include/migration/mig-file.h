/*
 * mig-file.h: the byte stream a migration travels on: buffered, big-endian helpers, a
 * sticky error, a byte count, rate limiting, and cancellation. Backed by a file
 * descriptor (socket, pipe) or by memory (unit tests, and sections built in memory).
 *
 * Every wait on the descriptor also watches a cancel descriptor, so `migrate_cancel`
 * (or a shutdown) breaks a transfer stuck on a peer that stopped reading, whatever the
 * transport: shutdown() does not work on pipes, a poll on an eventfd does.
 */
#ifndef TERN_MIGRATION_MIG_FILE_H
#define TERN_MIGRATION_MIG_FILE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct MigFile MigFile;

/* Takes ownership of fd (made non-blocking; closed by mig_file_close). */
MigFile *mig_file_new_fd(int fd);
/* Reads from memory that must outlive the MigFile. */
MigFile *mig_file_new_mem(const uint8_t *data, size_t len);
/* Writes append to `out` (not owned). */
MigFile *mig_file_new_buffer(GByteArray *out);
void mig_file_close(MigFile *f);

/* When `fd` becomes readable every wait fails with "cancelled" (not owned). */
void mig_file_set_cancel_fd(MigFile *f, int fd);
/* Every wait from timeout_ms from now on fails with "timed out" (-1: no deadline). */
void mig_file_set_deadline(MigFile *f, int timeout_ms);
/* Bytes per second, 0 for no limit; mig_file_rate_limit() sleeps to honour it. */
void mig_file_set_rate_limit(MigFile *f, uint64_t bytes_per_sec);
/* Sleep (cancellably) until the current 100 ms window has budget left. */
void mig_file_rate_limit(MigFile *f);

void mig_file_put_u8(MigFile *f, uint8_t v);
void mig_file_put_be16(MigFile *f, uint16_t v);
void mig_file_put_be32(MigFile *f, uint32_t v);
void mig_file_put_be64(MigFile *f, uint64_t v);
void mig_file_put_buffer(MigFile *f, const void *buf, size_t len);
bool mig_file_flush(MigFile *f);

/* Reads fail (false, sticky error) on end of stream, error or cancellation. */
bool mig_file_get_u8(MigFile *f, uint8_t *v);
bool mig_file_get_be16(MigFile *f, uint16_t *v);
bool mig_file_get_be32(MigFile *f, uint32_t *v);
bool mig_file_get_be64(MigFile *f, uint64_t *v);
bool mig_file_get_buffer(MigFile *f, void *buf, size_t len);
/* Wait at most timeout_ms (-1: forever) for input; false on timeout, error, cancel. */
bool mig_file_wait_readable(MigFile *f, int timeout_ms);

/* The first error, or NULL. */
const GError *mig_file_error(MigFile *f);
/* Record an error (the first one sticks); takes ownership. */
void mig_file_set_error(MigFile *f, GError *err);
/* Bytes written (including still buffered) or read so far. */
uint64_t mig_file_bytes(MigFile *f);
int mig_file_fd(MigFile *f);

#endif
