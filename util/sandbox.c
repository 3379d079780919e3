/*
 * sandbox.c: `-sandbox` (see sandbox.h): QEMU's groups of denied system calls, installed
 * with libseccomp on every thread. The filter allows by default and denies by group: it
 * takes away what a VMM never needs (and what an attacker who took over tern would
 * want), not the calls tern makes, so KVM, vCPU and migration threads, sockets and files
 * work unchanged.
 */
#include <errno.h>
#include <string.h>
#include "error.h"
#include "options.h"
#include "sandbox.h"

#ifdef CONFIG_SECCOMP
#include <sched.h>
#include <seccomp.h>
#include <sys/prctl.h>
#endif

const OptionParam sandbox_params[] = {
    {"enable", "boolean"}, {"obsolete", "string"},        {"elevateprivileges", "string"},
    {"spawn", "string"},   {"resourcecontrol", "string"}, {NULL},
};

/* What -sandbox asked for; set once at start-up, before any thread reads it. */
static unsigned configured;

void sandbox_configure(unsigned groups)
{
    configured = groups;
}

bool sandbox_denies(unsigned group)
{
    return configured & group;
}

/* One `key=allow|deny` (or elevateprivileges=children): adjust `groups`. */
static bool parse_group(const char *key, const char *value, unsigned *groups, GError **errp)
{
    static const struct {
        const char *key;
        unsigned group;
    } keys[] = {
        {"obsolete", SANDBOX_OBSOLETE},
        {"elevateprivileges", SANDBOX_PRIVILEGED},
        {"spawn", SANDBOX_SPAWN},
        {"resourcecontrol", SANDBOX_RESOURCECTL},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        if (strcmp(key, keys[i].key) != 0) {
            continue;
        }
        if (strcmp(value, "deny") == 0) {
            *groups |= keys[i].group;
        } else if (strcmp(value, "allow") == 0) {
            *groups &= ~keys[i].group;
        } else if (keys[i].group == SANDBOX_PRIVILEGED && strcmp(value, "children") == 0) {
            *groups |= SANDBOX_PRIVILEGED | SANDBOX_NO_NEW_PRIVS;
        } else {
            return tern_error_fail(
                errp, "-sandbox: invalid argument for %s (use allow or deny%s)", key,
                keys[i].group == SANDBOX_PRIVILEGED ? " or children" : "");
        }
        return true;
    }
    return tern_error_fail(errp, "-sandbox: property '%s' is not supported", key);
}

bool sandbox_parse(const char *arg, unsigned *groups, GError **errp)
{
    TernOpts *o = opts_parse("-sandbox", arg, sandbox_params[0].name, errp);
    if (!o) {
        return false;
    }
    bool enable = false;
    bool ok = opts_check_params(o, sandbox_params, errp);
    if (ok && !(o->driver && parse_bool(o->driver, &enable))) {
        ok = tern_error_fail(errp, "-sandbox: expected on or off first");
    }
    /* QEMU's defaults for `on`: its default set and the obsolete calls. */
    unsigned g = SANDBOX_DEFAULT | SANDBOX_OBSOLETE;
    for (guint i = 0; ok && i < o->keys->len; i++) {
        ok = parse_group(g_ptr_array_index(o->keys, i), g_ptr_array_index(o->values, i), &g,
                         errp);
    }
    if (ok && enable && !sandbox_available()) {
        ok = tern_error_fail(errp, "-sandbox on: this tern was built without libseccomp "
                                   "(install libseccomp-dev and rebuild)");
    }
    if (ok) {
        *groups = enable ? g : 0;
    }
    opts_free(o);
    return ok;
}

#ifdef CONFIG_SECCOMP

bool sandbox_available(void)
{
    return true;
}

#define DENY (SCMP_ACT_KILL_PROCESS)

typedef struct {
    int nr;
    unsigned group;
    uint32_t action;
    /* Optional: deny only when (clone flags & mask) == value. */
    bool on_flags;
    uint64_t mask, value;
} SandboxRule;

/* A process, not a thread: clone without one of the flags every pthread_create sets,
 * or with one that makes a new process, namespace or tracer. */
#define CLONE_WITHOUT(f)                                                                       \
    {                                                                                          \
        SCMP_SYS(clone), SANDBOX_SPAWN, DENY, true, (f), 0                                     \
    }
#define CLONE_WITH(f)                                                                          \
    {                                                                                          \
        SCMP_SYS(clone), SANDBOX_SPAWN, DENY, true, (f), (f)                                   \
    }

static const SandboxRule rules[] = {
    /* QEMU's default set: no VMM reboots the host, mounts, swaps or loads kernels. */
    {SCMP_SYS(reboot), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(swapon), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(swapoff), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(syslog), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(mount), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(umount), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(umount2), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(kexec_load), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(kexec_file_load), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(afs_syscall), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(break), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(ftime), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(getpmsg), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(gtty), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(lock), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(mpx), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(prof), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(profil), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(putpmsg), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(security), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(stty), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(tuxcall), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(ulimit), SANDBOX_DEFAULT, DENY},
    {SCMP_SYS(vserver), SANDBOX_DEFAULT, DENY},
    /* obsolete=deny (the default with `on`) */
    {SCMP_SYS(readdir), SANDBOX_OBSOLETE, DENY},
    {SCMP_SYS(_sysctl), SANDBOX_OBSOLETE, DENY},
    {SCMP_SYS(bdflush), SANDBOX_OBSOLETE, DENY},
    {SCMP_SYS(create_module), SANDBOX_OBSOLETE, DENY},
    {SCMP_SYS(get_kernel_syms), SANDBOX_OBSOLETE, DENY},
    {SCMP_SYS(query_module), SANDBOX_OBSOLETE, DENY},
    {SCMP_SYS(sgetmask), SANDBOX_OBSOLETE, DENY},
    {SCMP_SYS(ssetmask), SANDBOX_OBSOLETE, DENY},
    {SCMP_SYS(sysfs), SANDBOX_OBSOLETE, DENY},
    {SCMP_SYS(uselib), SANDBOX_OBSOLETE, DENY},
    {SCMP_SYS(ustat), SANDBOX_OBSOLETE, DENY},
    /* elevateprivileges=deny: tern never changes its identity. */
    {SCMP_SYS(setuid), SANDBOX_PRIVILEGED, DENY},
    {SCMP_SYS(setgid), SANDBOX_PRIVILEGED, DENY},
    {SCMP_SYS(setpgid), SANDBOX_PRIVILEGED, DENY},
    {SCMP_SYS(setsid), SANDBOX_PRIVILEGED, DENY},
    {SCMP_SYS(setreuid), SANDBOX_PRIVILEGED, DENY},
    {SCMP_SYS(setregid), SANDBOX_PRIVILEGED, DENY},
    {SCMP_SYS(setresuid), SANDBOX_PRIVILEGED, DENY},
    {SCMP_SYS(setresgid), SANDBOX_PRIVILEGED, DENY},
    {SCMP_SYS(setfsuid), SANDBOX_PRIVILEGED, DENY},
    {SCMP_SYS(setfsgid), SANDBOX_PRIVILEGED, DENY},
    /* spawn=deny: no new process, program or namespace; threads are still allowed. */
    {SCMP_SYS(fork), SANDBOX_SPAWN, DENY},
    {SCMP_SYS(vfork), SANDBOX_SPAWN, DENY},
    {SCMP_SYS(execve), SANDBOX_SPAWN, DENY},
    {SCMP_SYS(execveat), SANDBOX_SPAWN, DENY},
    {SCMP_SYS(setns), SANDBOX_SPAWN, DENY},
    {SCMP_SYS(unshare), SANDBOX_SPAWN, DENY},
    {SCMP_SYS(clone3), SANDBOX_SPAWN, SCMP_ACT_ERRNO(ENOSYS)},
    CLONE_WITHOUT(CLONE_VM),
    CLONE_WITHOUT(CLONE_FS),
    CLONE_WITHOUT(CLONE_FILES),
    CLONE_WITHOUT(CLONE_SIGHAND),
    CLONE_WITHOUT(CLONE_THREAD),
    CLONE_WITHOUT(CLONE_SYSVSEM),
    CLONE_WITH(CLONE_VFORK),
    CLONE_WITH(CLONE_PARENT),
    CLONE_WITH(CLONE_PTRACE),
    CLONE_WITH(CLONE_UNTRACED),
    CLONE_WITH(CLONE_PIDFD),
    CLONE_WITH(CLONE_IO),
    CLONE_WITH(CLONE_NEWNS),
    CLONE_WITH(CLONE_NEWCGROUP),
    CLONE_WITH(CLONE_NEWUTS),
    CLONE_WITH(CLONE_NEWIPC),
    CLONE_WITH(CLONE_NEWUSER),
    CLONE_WITH(CLONE_NEWPID),
    CLONE_WITH(CLONE_NEWNET),
    /* resourcecontrol=deny: fail, as QEMU does (callers cope with EPERM). */
    {SCMP_SYS(setpriority), SANDBOX_RESOURCECTL, SCMP_ACT_ERRNO(EPERM)},
    {SCMP_SYS(sched_setparam), SANDBOX_RESOURCECTL, SCMP_ACT_ERRNO(EPERM)},
    {SCMP_SYS(sched_setscheduler), SANDBOX_RESOURCECTL, SCMP_ACT_ERRNO(EPERM)},
    {SCMP_SYS(sched_setaffinity), SANDBOX_RESOURCECTL, SCMP_ACT_ERRNO(EPERM)},
    {SCMP_SYS(sched_setattr), SANDBOX_RESOURCECTL, SCMP_ACT_ERRNO(EPERM)},
};

bool sandbox_install(GError **errp)
{
    if (!configured) {
        return true;
    }
    if ((configured & SANDBOX_NO_NEW_PRIVS) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        return tern_error_fail(errp, "-sandbox: cannot set no_new_privs: %s",
                               g_strerror(errno));
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        return tern_error_fail(errp, "-sandbox: cannot create a seccomp filter");
    }
    /* Every thread, those started before the filter too (vCPUs, GLib's workers). */
    int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
    const char *what = "thread synchronisation";
    for (size_t i = 0; rc == 0 && i < G_N_ELEMENTS(rules); i++) {
        const SandboxRule *r = &rules[i];
        if (!(configured & r->group)) {
            continue;
        }
        what = "a rule";
        /* A syscall this architecture lacks (a pseudo number) has nothing to deny. */
        if (r->nr < 0) {
            continue;
        }
        rc = r->on_flags ? seccomp_rule_add(ctx, r->action, r->nr, 1,
                                            SCMP_A0(SCMP_CMP_MASKED_EQ, r->mask, r->value))
                         : seccomp_rule_add(ctx, r->action, r->nr, 0);
    }
    if (rc == 0) {
        what = "loading the filter";
        rc = seccomp_load(ctx);
    }
    seccomp_release(ctx);
    if (rc != 0) {
        return tern_error_fail(errp, "-sandbox: seccomp failed (%s): %s", what,
                               g_strerror(-rc));
    }
    return true;
}

#else /* !CONFIG_SECCOMP */

bool sandbox_available(void)
{
    return false;
}

bool sandbox_install(GError **errp)
{
    /* sandbox_parse() refused `on`; nothing can be configured here. */
    return !configured || tern_error_fail(errp, "-sandbox: built without libseccomp");
}

#endif
