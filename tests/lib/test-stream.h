/*
 * test-stream.h: device-state migration streams inside one test process: save the
 * registered sections (header, configuration, sections, end; no RAM, since the
 * "destination" is this process and its RAM stays), and load such a stream back.
 */
#ifndef TERN_TESTS_STREAM_H
#define TERN_TESTS_STREAM_H

#include <glib.h>
#include <stdbool.h>

/* Asserts that saving works; the caller holds the big lock if the devices need it. */
GByteArray *test_stream_save_devices(void);
bool test_stream_load(const GByteArray *stream, GError **errp);

#endif
