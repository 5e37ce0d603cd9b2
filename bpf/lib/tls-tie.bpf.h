/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tying a TLS library's SSL* to its socket. SSL_read/SSL_write do not know
 * the fd, and offsets into OpenSSL's private structs change between
 * versions; what is reliable is the socket syscall the library makes on the
 * same thread while the call is in flight. So:
 *
 *   SSL_* entry (sources/openssl.bpf.h)  tls_call_begin(): note the call in tls_calls
 *   socket syscall enter (sources/syscalls.bpf.h) tls_tie_fd(fd): the call learns its fd
 *   SSL_* return                         tls_call_fd(): that fd, cached per (tgid, SSL*)
 *                                        in tls_fds; else the cached one (SSL_read often
 *                                        returns bytes already buffered, with no syscall)
 *
 * A call that learned no fd and has none cached is not guessed: its bytes
 * are counted (HT_CNT_TLS_UNTIED) and dropped.
 *
 * Node's OpenSSL works on memory BIOs: libuv reads the ciphertext from the
 * socket, then, in the same callback on the same thread, node hands it to
 * the SSL* of that socket and calls SSL_read; no syscall happens inside any
 * SSL_* call. For libraries user space marks so (TLS_COOKIE_MEMORY_BIO), an
 * SSL* with no socket yet is tied to the socket its thread last read from
 * (counted in HT_CNT_TLS_TIED_BY_READ); the first SSL_read of a connection
 * (it drives the handshake) comes right after such a read, and the tie is
 * cached for the SSL*'s writes.
 */
#pragma once

#include "maps.bpf.h"

/*
 * Set by user space (source-openssl.c, through the mmap()ed .bss) once at
 * least one SSL_* probe is attached, and never cleared while the object
 * lives. Until then nothing can have an SSL_* call in flight or a TLS view
 * of a socket, so the syscall source skips the tie lookup on every TCP
 * socket syscall and the tls_conns lookup on every close(): a host (or a
 * configuration) without TLS pays nothing for the TLS source.
 */
volatile __u32 tls_probes_attached = 0;

static __always_inline bool tls_source_on(void) {
        return tls_probes_attached != 0;
}

/* The SSL_* call in flight on a thread, from its entry to its return. */
struct tls_call {
        __u64 ssl;               /* the SSL* */
        __u64 buf;               /* plaintext buffer */
        __u64 ret_bytes;         /* _ex variants: size_t *readbytes / *written; 0 otherwise */
        __s32 fd;                /* socket the library used during the call; -1 until one is seen */
        __s32 last_read_fd;      /* the socket this thread last read from; -1: none yet */
        __u8 direction;          /* enum ht_direction */
        __u8 active;             /* set at entry, cleared at return */
        __u8 _pad[2];
};

/* Task-local, like the syscall source's args_map: freed with the thread. */
struct {
        __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, int);
        __type(value, struct tls_call);
} tls_calls SEC(".maps");

/* Attach cookie: the library's 1-based index in the low byte, and this flag. */
#define TLS_COOKIE_MEMORY_BIO 0x100u

struct tls_fd_key {
        __u32 tgid;
        __u32 _pad;
        __u64 ssl;
};

/*
 * The socket of an SSL*, and the file the fd named then: a tie whose fd now
 * names another file (the socket was closed, the SSL* freed and its address
 * reused) is stale and not used. viewed: the socket's TLS view (tls_conns)
 * was made for it; if a live, viewed tie finds no view, the LRU evicted it
 * (close deletes the view but also makes the tie stale; user space deletes
 * views only of exited processes), counted in HT_CNT_TLS_CONNS_EVICTED.
 */
struct tls_fd {
        __u64 file;
        __s32 fd;
        __u8 viewed;
        __u8 _pad[3];
};

/* SSL* -> socket, learned by a syscall inside an earlier call on that SSL*. */
struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, HT_MAP_TLS_FDS);
        __type(key, struct tls_fd_key);
        __type(value, struct tls_fd);
} tls_fds SEC(".maps");

/*
 * A socket syscall on fd by the current thread (a TCP socket the syscall
 * source tracks): if an SSL_* call is in flight here, that is its socket.
 * The first socket seen wins: one SSL* speaks over one socket.
 */
static __always_inline void tls_tie_fd(int fd, __u8 dir) {
        struct tls_call *call;

        if (!tls_source_on())
                return;
        /* Only threads that have made an SSL_* call have the slot. */
        call = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), NULL, 0);
        if (!call)
                return;
        if (call->active && call->fd < 0)
                call->fd = fd;
        if (dir == HT_DIR_INGRESS)
                call->last_read_fd = fd;
}
