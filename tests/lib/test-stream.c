/* test-stream.c: see test-stream.h. */
#include "migration/mig-file.h"
#include "migration/savevm.h"
#include "test-stream.h"

GByteArray *test_stream_save_devices(void)
{
    g_autoptr(GError) err = NULL;
    GByteArray *out = g_byte_array_new();
    g_autoptr(GByteArray) dev = g_byte_array_new();
    MigFile *f = mig_file_new_buffer(out);
    savevm_put_header(f, 0);
    savevm_put_config(f);
    bool ok = savevm_save_devices(dev, &err);
    g_assert_no_error(err);
    g_assert_true(ok);
    mig_file_put_buffer(f, dev->data, dev->len);
    savevm_put_end(f);
    g_assert_null(mig_file_error(f));
    mig_file_close(f);
    return out;
}

bool test_stream_load(const GByteArray *stream, GError **errp)
{
    MigFile *f = mig_file_new_mem(stream->data, stream->len);
    bool ok = savevm_load_stream(f, NULL, errp);
    mig_file_close(f);
    return ok;
}
