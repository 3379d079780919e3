/* test-ports.h: loopback ports for tests that need a TCP listener address. */
#ifndef TERN_TESTS_PORTS_H
#define TERN_TESTS_PORTS_H

/* A TCP port on 127.0.0.1 that was free a moment ago (the kernel picked it). */
int test_free_tcp_port(void);

#endif
