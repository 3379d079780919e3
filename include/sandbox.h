/*
 * sandbox.h: QEMU's `-sandbox`: a seccomp filter over the whole process, installed once
 * start-up is done and before the main loop runs, for every thread (TSYNC).
 *
 *   -sandbox on|off[,obsolete=allow|deny][,elevateprivileges=allow|deny|children]
 *                  [,spawn=allow|deny][,resourcecontrol=allow|deny]
 *
 * `on` always denies QEMU's default set (reboot, mount, swapon, kexec_load, syslog, ...)
 * and, unless obsolete=allow, the obsolete system calls. A denied call kills the whole
 * process with SIGSYS (QEMU's choice where the kernel has SECCOMP_RET_KILL_PROCESS),
 * except resourcecontrol's, which fail with EPERM, and clone3, which fails with ENOSYS
 * so that the C library falls back to clone, whose flags the filter can see.
 * docs/security.md lists every group. Built without libseccomp, tern refuses `on`.
 */
#ifndef TERN_SANDBOX_H
#define TERN_SANDBOX_H

#include <glib.h>
#include <stdbool.h>
#include "options.h"

/* The groups of system calls, as QEMU names them (QEMU_SECCOMP_SET_*). */
enum {
    SANDBOX_DEFAULT = 1u << 0,
    SANDBOX_OBSOLETE = 1u << 1,
    SANDBOX_PRIVILEGED = 1u << 2, /* elevateprivileges=deny: the setuid family */
    SANDBOX_SPAWN = 1u << 3,      /* spawn=deny: fork, execve, clone of a process */
    SANDBOX_RESOURCECTL = 1u << 4,
    SANDBOX_NO_NEW_PRIVS = 1u << 5, /* elevateprivileges=children: also for children */
};

/* The option's parameters (for query-command-line-options). */
extern const OptionParam sandbox_params[];

/* Whether this build has libseccomp. */
bool sandbox_available(void);
/* Parse the option's value into groups (0: off). Refuses `on` without libseccomp. */
bool sandbox_parse(const char *arg, unsigned *groups, GError **errp);
/* Remember what will be installed, so that callers can refuse what it would kill
 * (exec: migration under spawn=deny) before it is installed. */
void sandbox_configure(unsigned groups);
/* True when the configured sandbox denies `group`. */
bool sandbox_denies(unsigned group);
/* Install the configured filter on every thread of the process; true when there is
 * nothing to install. */
bool sandbox_install(GError **errp);

#endif
