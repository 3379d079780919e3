/* qmp-assert.c: the tests' asserting shorthands over the QMP client (see qmp-assert.h). */
#include <string.h>
#include "qmp-assert.h"

static JsonObject *vrequest(QmpClient *c, const char *fmt, va_list ap)
{
    char *json = g_strdup_vprintf(fmt, ap);
    GError *err = NULL;
    JsonObject *r = qmp_client_request(c, json, &err);
    g_assert_no_error(err);
    g_free(json);
    return r;
}

JsonObject *qmp(QmpClient *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    JsonObject *r = vrequest(c, fmt, ap);
    va_end(ap);
    return r;
}

JsonNode *qmp_ok(QmpClient *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    JsonObject *r = vrequest(c, fmt, ap);
    va_end(ap);
    JsonNode *ret = json_object_get_member(r, "return");
    if (!ret) {
        char *text = qmp_client_object_text(r);
        char *msg = g_strdup_printf("expected success, got %s", text);
        g_assertion_message(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
        g_free(msg);
        g_free(text);
        json_object_unref(r);
        return NULL;
    }
    ret = json_node_copy(ret);
    json_object_unref(r);
    return ret;
}

void qmp_reply_assert_error(JsonObject *reply, const char *cls, const char *desc)
{
    JsonObject *e = json_object_has_member(reply, "error")
                        ? json_object_get_object_member(reply, "error")
                        : NULL;
    const char *got_cls = e ? json_object_get_string_member_with_default(e, "class", "") : "";
    const char *got_desc = e ? json_object_get_string_member_with_default(e, "desc", "") : "";
    if (!e || strcmp(got_cls, cls) != 0 || (desc && !strstr(got_desc, desc))) {
        char *text = qmp_client_object_text(reply);
        char *msg =
            g_strdup_printf("expected error %s \"%s\", got %s", cls, desc ? desc : "", text);
        g_assertion_message(G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, msg);
        g_free(msg);
        g_free(text);
    }
}

void qmp_assert_error(QmpClient *c, const char *cls, const char *desc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    JsonObject *r = vrequest(c, fmt, ap);
    va_end(ap);
    qmp_reply_assert_error(r, cls, desc);
    json_object_unref(r);
}

char *qmp_status(QmpClient *c)
{
    JsonNode *ret = qmp_ok(c, "{\"execute\": \"query-status\"}");
    char *status = g_strdup(json_object_get_string_member(json_node_get_object(ret), "status"));
    json_node_unref(ret);
    return status;
}
