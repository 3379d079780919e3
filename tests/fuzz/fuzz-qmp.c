/*
 * fuzz-qmp.c: libFuzzer target for the QMP input path: bytes -> JSON splitter -> JSON
 * parser -> request checks -> schema argument checks -> handler -> reply serialisation.
 *
 * Input: what a client writes on its socket, fed to the splitter in chunks whose size the
 * input's first byte picks (a value may arrive split anywhere), with the limits of a
 * real session scaled down. Each complete value goes to qmp_dispatch_text(), as
 * qmp-server.c does, on a client that has negotiated, so the schema checks and the
 * handlers run. Only handlers that act on nothing outside the process may run: a
 * request naming one of the others (migrate, quit, ...) is answered by a client that has
 * not negotiated, which still checks its shape. There is no machine (`-machine none`).
 */
#include <string.h>
#include "main-loop.h"
#include "monitor/json-splitter.h"
#include "monitor/qmp.h"
#include "runstate.h"
#include "../../monitor/qmp-internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Commands whose handlers touch the world outside the process, or end it. */
static const char *const unsafe[] = {
    "migrate", "migrate-incoming", "migrate_cancel", "quit", "getfd", "closefd", NULL,
};

/* The command a request names, as json-glib reads it (a name with a NUL in it reads as
 * its part before the NUL: the conservative answer); unparsable text is safe to pass. */
static bool is_unsafe(const char *text, size_t len)
{
    JsonParser *p = json_parser_new();
    bool unsafe_cmd = false;
    if (json_parser_load_from_data(p, text, len, NULL)) {
        JsonNode *root = json_parser_get_root(p);
        JsonObject *o =
            root && JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : NULL;
        JsonNode *ex = o ? json_object_get_member(o, "execute") : NULL;
        const char *name =
            ex && JSON_NODE_HOLDS_VALUE(ex) && json_node_get_value_type(ex) == G_TYPE_STRING
                ? json_node_get_string(ex)
                : NULL;
        for (const char *const *u = unsafe; name && *u && !unsafe_cmd; u++) {
            unsafe_cmd = strcmp(name, *u) == 0;
        }
    }
    g_object_unref(p);
    return unsafe_cmd;
}

static void setup(void)
{
    static bool done;
    if (done) {
        return;
    }
    done = true;
    main_loop_init();
    bql_lock();
    GError *err = NULL;
    if (!qapi_schema_load(&err)) {
        g_error("%s", err->message);
    }
    runstate_init(RUN_STATE_PRELAUNCH);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    size_t chunk = size ? (data[0] % 64) + 1 : 1;
    JsonSplitter *sp = json_splitter_new(64 * 1024, 64);
    QmpContext negotiated, fresh;
    qmp_context_init(&negotiated, true);
    qmp_context_init(&fresh, false);
    for (size_t off = size ? 1 : 0; off < size;) {
        size_t len = MIN(chunk, size - off);
        while (len > 0) {
            size_t step;
            JsonSplitStatus st = json_splitter_feed(sp, (const char *)data + off, len, &step);
            off += step;
            len -= step;
            JsonNode *reply = NULL;
            if (st == JSON_SPLIT_VALUE) {
                size_t vlen;
                const char *text = json_splitter_value(sp, &vlen);
                g_assert(strlen(text) <= vlen);
                QmpContext *ctx = is_unsafe(text, vlen) ? &fresh : &negotiated;
                reply = qmp_dispatch_text(ctx, text, vlen);
                fresh.negotiated = false;
            } else if (st == JSON_SPLIT_ERROR) {
                g_assert(json_splitter_error(sp)[0]);
            }
            if (reply) {
                /* Every reply must serialise; the text must parse back as JSON. */
                char *text = qmp_json_to_string(reply);
                JsonParser *p = json_parser_new();
                g_assert(json_parser_load_from_data(p, text, -1, NULL));
                g_object_unref(p);
                g_free(text);
                json_node_unref(reply);
            }
        }
    }
    qmp_context_cleanup(&negotiated);
    qmp_context_cleanup(&fresh);
    json_splitter_free(sp);
    while (main_loop_iterate(false)) {
    }
    return 0;
}
