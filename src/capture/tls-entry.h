/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where to put the TLS source's uprobes in a library's machine code (x86-64).
 *
 * A uprobe traps at its instruction and must then execute that instruction:
 * the kernel emulates a few kinds (push of a register, nop, jmp, call,
 * conditional jumps) and single-steps every other one out of line, a second
 * trap. On this project's machines (a Firecracker guest) that second trap is
 * by far the dearest part: measured ~24 us per SSL_write/SSL_read call with
 * the probe on Debian's libssl.so.3 SSL_read (it starts with `sub $0x18,%rsp`),
 * ~12 us with it on ssl_read_internal (it starts with `push %r13`).
 *
 * OpenSSL's SSL_read and SSL_read_ex both call the internal
 * ssl_read_internal(SSL *, void *buf, size_t num, size_t *readbytes)
 * (SSL_write/_ex likewise ssl_write_internal), not exported. Its address is
 * found without symbols or offsets into OpenSSL's structs: the one target of
 * a direct call (or jump) that both exported functions make in their first
 * TLS_ENTRY_SCAN bytes, and that starts with an emulated instruction. Found,
 * one probe pair there replaces the four on the exported functions; not
 * found (another compiler, LTO inlined it, another architecture), the
 * exported functions are probed as before.
 *
 * Pure: bytes in, offsets out; no I/O, no logging.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes of an exported function scanned for its call to the internal one (both Debian's calls are within 0x20). */
#define TLS_ENTRY_SCAN 64u

/* Direct calls/jumps collected per function: a rel32 call or jmp needs 5 bytes, so 64 bytes hold at most 13. */
#define TLS_ENTRY_TARGETS_MAX (TLS_ENTRY_SCAN / 5 + 1)

/*
 * Whether code (n bytes, the start of a function) begins with an
 * instruction x86-64 uprobes emulate without single-stepping: a push of a
 * register (with or without REX.B) or a one-byte nop.
 */
bool tls_entry_emulated(const uint8_t *code, size_t n);

/*
 * The targets of the direct calls and jumps (e8/e9 rel32) found at any
 * byte of code[0..min(n, TLS_ENTRY_SCAN)), which starts at address addr:
 * at most max of them into ret. Every byte position is tried (there is no
 * instruction decoder here): a false candidate is weeded out by the caller
 * requiring two functions to agree. Returns how many were written.
 */
size_t tls_entry_targets(const uint8_t *code, size_t n, uint64_t addr, uint64_t *ret, size_t max);

/*
 * The one address that both a[0..na) and b[0..nb) contain, or 0 if there
 * is none or more than one (ambiguous: not guessed).
 */
uint64_t tls_entry_common(const uint64_t *a, size_t na, const uint64_t *b, size_t nb);
