/* test-virtio-net-props.c: the NIC's property table drives the parser and the docs. */
#include <string.h>
#include "error.h"
#include "hw/virtio-net.h"

#define DOC_BEGIN "<!-- virtio-net properties: generated from hw/net/virtio-net-props.c -->\n"
#define DOC_END "<!-- end of virtio-net properties -->"

/* docs/virtio.md lists exactly the table, as virtio_net_props_doc() writes it. */
static void test_docs_list_the_table(void)
{
    const char *src = g_getenv("TERN_SOURCE_DIR");
    g_autofree char *path = g_build_filename(src ? src : ".", "docs", "virtio.md", NULL);
    g_autofree char *doc = NULL;
    g_assert_true(g_file_get_contents(path, &doc, NULL, NULL));
    const char *begin = strstr(doc, DOC_BEGIN);
    g_assert_nonnull(begin);
    begin += strlen(DOC_BEGIN);
    const char *end = strstr(begin, DOC_END);
    g_assert_nonnull(end);
    g_autofree char *committed = g_strndup(begin, end - begin);
    g_autofree char *generated = virtio_net_props_doc();
    if (g_strcmp0(committed, generated) != 0) {
        g_test_message("%s: the virtio-net property list differs from the table; it "
                       "should read:\n%s",
                       path, generated);
        g_test_fail();
    }
}

/* Every feature bit the table names is named back for load errors, once. */
static void test_feature_names(void)
{
    for (const VirtIONetProp *p = virtio_net_props; p->name; p++) {
        if (p->kind == VNET_PROP_FEATURE || p->kind == VNET_PROP_OFFLOAD) {
            g_assert_cmpstr(virtio_net_props_feature_name(p->bit), ==, p->name);
        }
    }
    g_assert_null(virtio_net_props_feature_name(VIRTIO_F_VERSION_1));
}

/* The guest's FEATURES_OK check uses the same dependencies as the command line. */
static void test_guest_dependencies(void)
{
    uint64_t vq = VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ);
    g_assert_null(virtio_net_props_invalid(vq | VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE)));
    g_assert_nonnull(virtio_net_props_invalid(VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE)));
    g_assert_nonnull(virtio_net_props_invalid(vq | VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX_EXTRA)));
    g_assert_nonnull(virtio_net_props_invalid(VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4)));
    g_assert_null(virtio_net_props_invalid(VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) |
                                           VIRTIO_BIT(VIRTIO_NET_F_CSUM)));
    /* guest_announce without status is refused on the command line only, as before. */
    g_assert_null(virtio_net_props_invalid(vq | VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE)));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/virtio-net-props/docs", test_docs_list_the_table);
    g_test_add_func("/virtio-net-props/feature-names", test_feature_names);
    g_test_add_func("/virtio-net-props/guest-dependencies", test_guest_dependencies);
    return g_test_run();
}
