/*
 * mig-proxy.h: a man in the middle for migration tests.
 *
 * It listens on a unix socket (the source migrates to it), connects to the destination's
 * unix socket, and relays both directions in a thread of the test, parsing tern's
 * protocol (docs/migration-stream.md) into its messages: the stream header, each record
 * (CONFIG, RAM, DEVICE, END), the destination's verdict and the source's confirmation.
 * At the first message of the chosen kind it injects one fault:
 *
 *   cut-before  close both connections instead of passing the message on
 *   cut-after   pass it on, then close both connections
 *   drop        lose it and everything after it in its direction; the other direction
 *               keeps flowing (a one-way black hole)
 *   stall       hold it, and all traffic both ways, for stall_ms; then deliver
 *
 * When either end closes, the proxy passes on what it holds and closes the other end
 * (with `drop` the lost bytes stay lost), as TCP eventually would. Only loopback unix
 * sockets; mig_proxy_free() stops the thread and closes and removes everything.
 */
#ifndef TERN_TESTS_MIG_PROXY_H
#define TERN_TESTS_MIG_PROXY_H

#include <glib.h>
#include <stdbool.h>

typedef enum {
    MIG_MSG_HEADER,
    MIG_MSG_CONFIG,
    MIG_MSG_RAM, /* RAM_PAGES or RAM_ZERO */
    MIG_MSG_DEVICE,
    MIG_MSG_END,
    MIG_MSG_VERDICT, /* destination -> source */
    MIG_MSG_CONFIRM, /* source -> destination, after the verdict */
    MIG_MSG__MAX
} MigProxyMsg;

typedef enum {
    MIG_FAULT_NONE,
    MIG_FAULT_CUT_BEFORE,
    MIG_FAULT_CUT_AFTER,
    MIG_FAULT_DROP,
    MIG_FAULT_STALL,
    MIG_FAULT__MAX
} MigFaultKind;

typedef struct {
    MigProxyMsg msg;
    MigFaultKind kind;
    int stall_ms; /* MIG_FAULT_STALL */
} MigFault;

typedef struct MigProxy MigProxy;

/* Listen on listen_path now; relay the first connection to dst_path. */
MigProxy *mig_proxy_new(const char *listen_path, const char *dst_path, MigFault fault);
/* Stop relaying, close both connections and the listener. NULL is fine. */
void mig_proxy_free(MigProxy *p);

/* Messages of kind `m` the proxy has seen whole (whatever it did with them). */
unsigned mig_proxy_seen(MigProxy *p, MigProxyMsg m);
/* Wait up to timeout_ms until a message of kind `m` has been seen. */
bool mig_proxy_wait_seen(MigProxy *p, MigProxyMsg m, int timeout_ms);
/* The fault has been injected. */
bool mig_proxy_fired(MigProxy *p);

const char *mig_proxy_msg_name(MigProxyMsg m);
const char *mig_fault_name(MigFaultKind k);

#endif
