/* qapi-doc.h: the QMP reference in Markdown, generated from the schema. */
#ifndef TERN_MONITOR_QAPI_DOC_H
#define TERN_MONITOR_QAPI_DOC_H

#include "monitor/qapi-schema.h"

/* The whole of docs/qmp.md (caller frees). */
char *qapi_doc_markdown(QapiSchema *s);

#endif
