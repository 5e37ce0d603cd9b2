// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel side of http-tracer: one BPF object, assembled here from its parts.
 * For each TCP socket the first bytes decide whether it speaks a protocol
 * user space parses (HTTP/1.x); only those connections send payload to user
 * space, through one ring buffer whose wakeups are batched.
 *
 *   lib/maps.bpf.h          everything user space reaches by name: settings, filter words, maps
 *   lib/task.bpf.h          the current task's ids in the daemon's PID namespace, fd -> file
 *   lib/filter.bpf.h        the kernel filter (semantics: src/capture/kernel-filter.c)
 *   lib/emit.bpf.h          the records (struct ht_op describes the operation they report)
 *   lib/infer.h             protocol inference on a buffer, pure (also built in the unit tests)
 *   lib/protocol.bpf.h      a connection's classification and the one "is it traced" gate
 *   lib/conn.bpf.h          connection tracking: conn_get(), conn_filter()
 *   lib/tls-tie.bpf.h       SSL* -> socket, learned from the syscalls made during an SSL_* call
 *   sources/syscalls.bpf.h  the syscall tracepoints
 *   sources/openssl.bpf.h   OpenSSL uprobes: TLS plaintext (attached per library file by user space)
 *
 * The records and maps shared with user space are defined in abi.h.
 * Each source header includes what it uses from lib/; a new source is a new
 * header under sources/ and one line here.
 */

#include "sources/syscalls.bpf.h"
#include "sources/openssl.bpf.h"

char LICENSE[] SEC("license") = "GPL";
