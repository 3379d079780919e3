/* qapi-doc: print the QMP reference generated from the embedded schema (`make docs`). */
#include <stdio.h>
#include "monitor/qapi-doc.h"

int main(void)
{
    g_autofree char *md = qapi_doc_markdown(qapi_schema());
    fputs(md, stdout);
    return 0;
}
