/* qdev-monitor.c: QMP device_add and device_del (the hotplug path is in qdev.c). */
#include "error.h"
#include "hw/qdev.h"
#include "monitor/qmp.h"

static JsonNode *qmp_device_add(JsonObject *args, QmpContext *ctx, GError **errp)
{
    TernOpts *o = qmp_opts_from_args("device_add", args, "driver", errp);
    if (o) {
        device_hotplug(o, errp);
        opts_free(o);
    }
    return NULL;
}
QMP_COMMAND("device_add", qmp_device_add)

static JsonNode *qmp_device_del(JsonObject *args, QmpContext *ctx, GError **errp)
{
    device_unplug_request(json_object_get_string_member(args, "id"), errp);
    return NULL;
}
QMP_COMMAND("device_del", qmp_device_del)
