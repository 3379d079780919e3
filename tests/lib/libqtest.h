/*
 * libqtest.h: start tern under the qtest accelerator and drive it with QEMU's qtest
 * protocol: I/O ports, memory, the virtual clock and interrupt lines.
 *
 * qtest_init() listens on a unix socket in the child's directory, starts tern (through
 * tern-proc.h, so the child dies with the test) with `-accel qtest -qtest unix:...` and
 * a QMP socket, and accepts tern's connection. Every helper asserts that tern answered
 * OK; qtest_command() returns the raw reply for tests of the protocol itself. Replies
 * that take longer than a minute, or a tern that goes away, fail the test with tern's
 * stderr in the message. Set QTEST_LOG=1 to have tern log the protocol to its stderr.
 */
#ifndef TERN_TESTS_LIBQTEST_H
#define TERN_TESTS_LIBQTEST_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "qmp-assert.h"
#include "tern-proc.h"

typedef struct QTestState QTestState;

/* Start tern with extra arguments (shell-like: "-m 256 -device pci-testdev"). The
 * machine is tern's default (pc) unless the arguments say -machine. */
QTestState *qtest_init(const char *extra_args);
QTestState *qtest_initf(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* The same, the child inheriting `fds` at the same numbers (say `-netdev socket,fd=N`). */
QTestState *qtest_init_with_fds(const char *extra_args, const int *fds, unsigned n_fds);
/* Start tern with arguments it must refuse: wait for it to exit (it may connect first),
 * assert a non-zero exit code and return its stderr (caller frees). */
char *qtest_init_fail(const char *extra_args);
/* Close the qtest connection, expect tern to exit with 0 (it must: the test is gone),
 * reap it and free everything. NULL is fine. */
void qtest_quit(QTestState *s);
/* Kill tern (SIGKILL) and free everything, without checks (failure paths). */
void qtest_kill(QTestState *s);

TernProc *qtest_proc(QTestState *s);
/* The QMP socket tern listens on (server=on,wait=off), for a QMP client. */
const char *qtest_qmp_path(QTestState *s);
/* A QMP client on that socket, connected and negotiated on first use; owned by s. */
QmpClient *qtest_qmp(QTestState *s);

/* Send one command line (no newline) and return the reply line (caller frees), with any
 * asynchronous IRQ lines before it consumed. */
char *qtest_command(QTestState *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

void qtest_outb(QTestState *s, uint16_t port, uint8_t v);
void qtest_outw(QTestState *s, uint16_t port, uint16_t v);
void qtest_outl(QTestState *s, uint16_t port, uint32_t v);
uint8_t qtest_inb(QTestState *s, uint16_t port);
uint16_t qtest_inw(QTestState *s, uint16_t port);
uint32_t qtest_inl(QTestState *s, uint16_t port);

void qtest_writeb(QTestState *s, uint64_t addr, uint8_t v);
void qtest_writew(QTestState *s, uint64_t addr, uint16_t v);
void qtest_writel(QTestState *s, uint64_t addr, uint32_t v);
void qtest_writeq(QTestState *s, uint64_t addr, uint64_t v);
uint8_t qtest_readb(QTestState *s, uint64_t addr);
uint16_t qtest_readw(QTestState *s, uint64_t addr);
uint32_t qtest_readl(QTestState *s, uint64_t addr);
uint64_t qtest_readq(QTestState *s, uint64_t addr);

/* Bulk access as CPU accesses (RAM, or MMIO regions): hex `read`/`write`. */
void qtest_memread(QTestState *s, uint64_t addr, void *buf, size_t len);
void qtest_memwrite(QTestState *s, uint64_t addr, const void *buf, size_t len);
void qtest_memset(QTestState *s, uint64_t addr, uint8_t byte, size_t len);
/* The same through base64 (`b64read`/`b64write`). */
void qtest_bufread(QTestState *s, uint64_t addr, void *buf, size_t len);
void qtest_bufwrite(QTestState *s, uint64_t addr, const void *buf, size_t len);

/* Virtual clock: step by ns, to the next timer deadline, or to an absolute time.
 * Each returns the new virtual time in ns. */
int64_t qtest_clock_step(QTestState *s, int64_t ns);
int64_t qtest_clock_step_next(QTestState *s);
int64_t qtest_clock_set(QTestState *s, int64_t ns);

/* Interrupt lines (GSIs). After intercepting, tern reports level changes and the test
 * tracks them: the current level and how many times a line was raised. */
void qtest_irq_intercept_in(QTestState *s, const char *path);
bool qtest_get_irq(QTestState *s, int gsi);
unsigned qtest_irq_raises(QTestState *s, int gsi);

/*
 * A bump allocator for guest RAM (rings, buffers, MSI-X message slots): from 1 MiB up
 * to 64 MiB + 1 MiB (inside the default 128 MiB), zero-filled, never freed. Fails the
 * test when exhausted. align is a power of two.
 */
uint64_t qtest_alloc(QTestState *s, uint64_t size);
uint64_t qtest_alloc_aligned(QTestState *s, uint64_t size, uint64_t align);
/* After a migration from `from` to `s`: s's guest RAM holds what from's allocator handed
 * out, so s goes on allocating where from stopped. */
void qtest_alloc_continue(QTestState *s, const QTestState *from);

#endif
