/*
 * net-qmp.c: the QMP commands of the net layer: announce-self, query-announce and
 * set_link. Arguments arrive checked against qapi-schema.json.
 */
#include "error.h"
#include "monitor/qmp.h"
#include "net/announce.h"
#include "net/net.h"

static bool check_interfaces(JsonArray *names, GError **errp)
{
    for (guint i = 0; names && i < json_array_get_length(names); i++) {
        const char *name = json_array_get_string_element(names, i);
        if (net_nic_find(name)) {
            continue;
        }
        if (net_backend_find(name)) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC,
                        "'%s' is a netdev, not a NIC: name the NIC's id in 'interfaces'", name);
        } else {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_DEVICE_NOT_FOUND, "Device '%s' not found",
                        name);
        }
        return false;
    }
    return true;
}

static JsonNode *qmp_announce_self(JsonObject *args, QmpContext *ctx, GError **errp)
{
    AnnounceParameters p = {
        .initial = json_object_get_int_member(args, "initial"),
        .max = json_object_get_int_member(args, "max"),
        .rounds = json_object_get_int_member(args, "rounds"),
        .step = json_object_get_int_member(args, "step"),
    };
    JsonArray *names = json_object_has_member(args, "interfaces")
                           ? json_object_get_array_member(args, "interfaces")
                           : NULL;
    const char *id =
        json_object_has_member(args, "id") ? json_object_get_string_member(args, "id") : NULL;
    if (!announce_parameters_check_named(&p, "", errp) || !check_interfaces(names, errp)) {
        return NULL;
    }
    g_autofree const char **list = NULL;
    if (names) {
        guint n = json_array_get_length(names);
        list = g_new0(const char *, n + 1);
        for (guint i = 0; i < n; i++) {
            list[i] = json_array_get_string_element(names, i);
        }
    }
    /* QEMU's clock for these: the frames go out while the VM is paused, too. */
    net_announce(&p, list, id, TERN_CLOCK_REALTIME);
    return NULL;
}

static const char *const mode_names[] = {
    [ANNOUNCE_MODE_GUEST] = "guest",
    [ANNOUNCE_MODE_RARP] = "rarp",
};

static JsonObject *announce_info(NetClientState *nc)
{
    AnnounceNicStats st;
    announce_nic_stats(nc, &st);
    JsonObject *o = json_object_new();
    g_autofree char *mac = net_format_mac(nc->cmdline_mac);
    json_object_set_string_member(o, "name", nc->name ? nc->name : "");
    json_object_set_string_member(o, "mac", mac);
    json_object_set_boolean_member(o, "active", st.active);
    if (st.id) {
        json_object_set_string_member(o, "id", st.id);
    }
    if (st.mode != ANNOUNCE_MODE_NONE) {
        json_object_set_string_member(o, "mode", mode_names[st.mode]);
    }
    json_object_set_int_member(o, "rounds-done", st.rounds_done);
    json_object_set_int_member(o, "rounds-left", st.rounds_left);
    json_object_set_boolean_member(o, "awaiting-ack", st.awaiting_ack);
    json_object_set_int_member(o, "guest-irqs", st.guest_irqs);
    json_object_set_int_member(o, "guest-acks", st.guest_acks);
    if (st.last_ack_ms >= 0) {
        json_object_set_int_member(o, "last-ack-ms", st.last_ack_ms);
    }
    json_object_set_int_member(o, "frames-sent", st.frames_sent);
    static const char *const mark_names[] = {[ANNOUNCE_MARK_IRQ] = "irq",
                                             [ANNOUNCE_MARK_ACK] = "ack",
                                             [ANNOUNCE_MARK_RARP] = "rarp"};
    JsonArray *history = json_array_new();
    for (guint i = 0; st.history && i < st.history->len; i++) {
        const AnnounceMark *m = &g_array_index(st.history, AnnounceMark, i);
        JsonObject *e = json_object_new();
        json_object_set_string_member(e, "kind", mark_names[m->kind]);
        json_object_set_int_member(e, "n", m->n);
        if (m->kind == ANNOUNCE_MARK_RARP) {
            json_object_set_int_member(e, "frames", m->frames);
        }
        json_object_set_int_member(e, "wall-us", m->wall_us);
        json_array_add_object_element(history, e);
    }
    json_object_set_array_member(o, "history", history);
    return o;
}

static JsonNode *qmp_query_announce(JsonObject *args, QmpContext *ctx, GError **errp)
{
    JsonArray *list = json_array_new();
    GPtrArray *nics = net_nics();
    for (guint i = 0; i < nics->len; i++) {
        json_array_add_object_element(list, announce_info(g_ptr_array_index(nics, i)));
    }
    JsonNode *n = json_node_new(JSON_NODE_ARRAY);
    json_node_take_array(n, list);
    return n;
}

static JsonNode *qmp_set_link(JsonObject *args, QmpContext *ctx, GError **errp)
{
    net_set_link(json_object_get_string_member(args, "name"),
                 json_object_get_boolean_member(args, "up"), errp);
    return NULL;
}

QMP_COMMAND("announce-self", qmp_announce_self)
QMP_COMMAND("query-announce", qmp_query_announce)
QMP_COMMAND("set_link", qmp_set_link)

static JsonNode *qmp_netdev_add(JsonObject *args, QmpContext *ctx, GError **errp)
{
    TernOpts *o = qmp_opts_from_args("netdev_add", args, "type", errp);
    if (o) {
        netdev_create(o, errp);
        opts_free(o);
    }
    return NULL;
}

/* QEMU's rule: a NIC using the netdev stays, with its link down and no backend. */
static JsonNode *qmp_netdev_del(JsonObject *args, QmpContext *ctx, GError **errp)
{
    const char *id = json_object_get_string_member(args, "id");
    NetClientState *nc = net_backend_find(id);
    if (!nc) {
        if (net_nic_find(id)) {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_GENERIC, "Device '%s' is not a netdev",
                        id);
        } else {
            g_set_error(errp, TERN_ERROR, TERN_ERROR_DEVICE_NOT_FOUND, "Device '%s' not found",
                        id);
        }
        return NULL;
    }
    NetClientState *nic = nc->peer;
    net_client_free(nc);
    if (nic) {
        nic->link_down = true;
        if (nic->info->link_status_changed) {
            nic->info->link_status_changed(nic);
        }
    }
    return NULL;
}

QMP_COMMAND("netdev_add", qmp_netdev_add)
QMP_COMMAND("netdev_del", qmp_netdev_del)
