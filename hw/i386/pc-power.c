/* pc-power.c: guest power-off and reset requests end tern (see pc-power.h for why). */
#include <stdio.h>
#include "hw/i386/pc-power.h"
#include "main-loop.h"
#include "monitor/qmp.h"

static struct {
    bool no_reboot;
    gint requested; /* atomic */
} power;

void pc_power_set_no_reboot(bool no_reboot)
{
    power.no_reboot = no_reboot;
}

static gboolean power_do(gpointer data)
{
    PcPowerRequest req = GPOINTER_TO_INT(data);
    static const char *const reason[] = {
        [PC_POWER_OFF] = "guest-shutdown",
        [PC_POWER_RESET] = "guest-reset",
        [PC_POWER_PANIC] = "guest-panic",
    };
    if (req == PC_POWER_RESET && !power.no_reboot) {
        fprintf(stderr, "tern: the guest rebooted; tern boots Linux without firmware and "
                        "cannot restart it, so it exits (pass -no-reboot to make this "
                        "the expected behaviour)\n");
    }
    JsonObject *ev = json_object_new();
    json_object_set_boolean_member(ev, "guest", TRUE);
    json_object_set_string_member(ev, "reason", reason[req]);
    qmp_event_emit("SHUTDOWN", ev);
    main_loop_quit(0);
    return G_SOURCE_REMOVE;
}

void pc_power_request(PcPowerRequest req)
{
    if (!g_atomic_int_compare_and_exchange(&power.requested, 0, 1)) {
        return;
    }
    /* Always deferred to the main loop (never run in the caller, which may be a vCPU
     * thread without the big lock). */
    GSource *src = g_idle_source_new();
    g_source_set_callback(src, power_do, GINT_TO_POINTER(req), NULL);
    g_source_attach(src, main_loop_context());
    g_source_unref(src);
}
