/*
 * qmp-assert.h: the tests' shorthands over the QMP client (include/qmp-client.h): they
 * assert instead of returning errors, which is what most tests want.
 */
#ifndef TERN_TESTS_QMP_ASSERT_H
#define TERN_TESTS_QMP_ASSERT_H

#include "qmp-client.h"

/* `fmt` is printf-style JSON (QEMU's 'single quotes' are accepted). */
JsonObject *qmp(QmpClient *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Assert success; returns the "return" value (caller unrefs). */
JsonNode *qmp_ok(QmpClient *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Assert an error of class `cls` whose desc contains `desc` (NULL: any). */
void qmp_assert_error(QmpClient *c, const char *cls, const char *desc, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
/* Assert a reply is an error like that (for replies read some other way). */
void qmp_reply_assert_error(JsonObject *reply, const char *cls, const char *desc);
/* query-status's "status". */
char *qmp_status(QmpClient *c);

#endif
