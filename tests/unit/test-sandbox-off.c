/*
 * test-sandbox-off.c: a tern built without libseccomp (this binary links util/sandbox.c
 * compiled without CONFIG_SECCOMP, see the Makefile): `-sandbox on` is refused with one
 * line that says why, `-sandbox off` is accepted, and query-command-line-options does
 * not offer `sandbox`, so libvirt never asks for it.
 */
#include <string.h>
#include "monitor/qmp.h"
#include "options.h"
#include "sandbox.h"

static void test_on_refused(void)
{
    TernConfig *c = config_new();
    char *argv[] = {"tern", "-sandbox", "on,spawn=deny", NULL};
    GError *err = NULL;
    g_assert_false(sandbox_available());
    g_assert_cmpint(options_parse(c, 3, argv, stdout, &err), ==, OPTIONS_ERROR);
    g_assert_cmpstr(err->message, ==,
                    "-sandbox on: this tern was built without libseccomp (install "
                    "libseccomp-dev and rebuild)");
    g_assert_null(strchr(err->message, '\n'));
    g_error_free(err);
    config_free(c);
}

static void test_off_accepted(void)
{
    TernConfig *c = config_new();
    char *argv[] = {"tern", "-sandbox", "off", NULL};
    GError *err = NULL;
    g_assert_cmpint(options_parse(c, 3, argv, stdout, &err), ==, OPTIONS_RUN);
    g_assert_no_error(err);
    g_assert_cmpuint(c->sandbox, ==, 0);
    g_assert_true(sandbox_install(&err));
    config_free(c);
}

static void test_not_listed(void)
{
    const OptionParamList *lists;
    size_t n = options_param_lists(&lists);
    g_assert_cmpuint(n, >, 0);
    for (size_t i = 0; i < n; i++) {
        g_assert_cmpstr(lists[i].option, !=, "sandbox");
    }
    char *reply = qmp_execute_text("{\"execute\": \"query-command-line-options\", "
                                   "\"arguments\": {\"option\": \"sandbox\"}}");
    g_assert_nonnull(strstr(reply, "invalid option name: sandbox"));
    g_free(reply);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/sandbox-off/on-refused", test_on_refused);
    g_test_add_func("/sandbox-off/off-accepted", test_off_accepted);
    g_test_add_func("/sandbox-off/not-listed", test_not_listed);
    return g_test_run();
}
