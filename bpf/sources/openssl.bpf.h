/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TLS source: uprobes on OpenSSL's SSL_read, SSL_write, SSL_read_ex and
 * SSL_write_ex (libssl.so.3 / .so.1.1, or a binary with OpenSSL linked in
 * that exports them, such as node). User space (src/capture/
 * source-openssl.c) attaches these programs to each distinct library file
 * it finds, with pid -1 (every process mapping the file, now and later) and
 * the file's 1-based index as the attach cookie, which becomes the
 * connection's tls_library.
 *
 * Entry saves (SSL*, buffer) per thread; return knows the byte count, finds
 * the socket (lib/tls-tie.bpf.h) and then does what the syscall source does
 * with a syscall's bytes, on the TLS view of the socket (tls_conns, through
 * conns_of()): classify, filter, announce, emit one data record of kind
 * HT_TLS_READ / HT_TLS_WRITE. The TLS view starts mid-stream (no
 * HT_CONN_SEEN_START): its first plaintext is looked at for a message start,
 * as for a connection opened before the daemon. Close and process exit come
 * from the syscall source, which closes both views (sources/syscalls.bpf.h).
 */
#pragma once

#include "lib/maps.bpf.h"
#include "lib/task.bpf.h"
#include "lib/conn.bpf.h"
#include "lib/emit.bpf.h"
#include "lib/protocol.bpf.h"
#include "lib/tls-tie.bpf.h"

/*
 * The direction of an SSL_do_handshake() call: it moves no plaintext, but
 * the socket it reads and writes ties its SSL* before the first SSL_read.
 * A server that reads the client's first request together with the end of
 * the handshake (apache mod_ssl: its input filter reads up to 8 KiB)
 * answers its first SSL_read from that buffer, with no syscall to learn
 * the socket from, and writes through its own output BIO, again without
 * one: tied only here.
 */
#define TLS_CALL_HANDSHAKE 0xff

static __always_inline void tls_entry(__u64 ssl, __u64 buf, __u64 ret_bytes, __u8 dir) {
        struct tls_call *call;
        __u64 pid_tgid;

        if (!traced_task(&pid_tgid))
                return;
        call = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), NULL, 0);
        if (!call) {
                /* First SSL_* call of this thread: a fresh slot, no socket read seen yet. */
                struct tls_call fresh = { .fd = -1, .last_read_fd = -1 };

                call = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), &fresh,
                                            BPF_LOCAL_STORAGE_GET_F_CREATE);
                if (!call) {
                        count(HT_CNT_ARGS_MAP_FULL, 1);
                        return;
                }
        }
        call->ssl = ssl;
        call->buf = buf;
        call->ret_bytes = ret_bytes;
        call->fd = -1;
        call->direction = dir;
        call->active = 1;
}

/*
 * The return program is split into global (noinline) functions, each
 * verified once on its own: the tie, the TLS view, the plaintext. Inlined
 * into one program, every path of the tie (learned, cached, stale, by
 * read) was walked again through every path of the view (fd table walk,
 * new connection, filter) and of the plaintext (filter, classification,
 * announcement, loss): 783,037 instructions processed, a 6 s load on the
 * 2-core machine, most of the daemon's start. A global function returns
 * only a scalar, so each one looks up again what the next needs (a hash
 * lookup each, on paths that then do far more).
 */

/*
 * Tie the finished call to its socket: the fd learned during it (cached,
 * unless the same tie is cached already), or cached earlier (if its fd
 * still names the same file), or, for a memory-BIO library, the socket the
 * thread last read (cached too). Returns the fd, -1 if none; the tie is in
 * tls_fds under (tgid, call->ssl).
 */
__attribute__((noinline)) int ht_tls_tie(const struct tls_call *call, __u32 tgid, __u64 cookie) {
        struct tls_fd_key key = { .tgid = tgid };
        struct tls_fd tie = {}, *cached;

        if (!call)
                return -1;
        key.ssl = call->ssl;
        cached = bpf_map_lookup_elem(&tls_fds, &key);
        if (call->fd >= 0) {
                tie.fd = call->fd;
                tie.file = (__u64) fd_to_file(call->fd);
                if (cached && cached->fd == tie.fd && cached->file == tie.file)
                        return tie.fd;   /* the same socket: keep the tie (and its viewed flag) */
                if (bpf_map_update_elem(&tls_fds, &key, &tie, BPF_ANY) < 0)
                        return -1;
                return tie.fd;
        }
        if (cached) {
                int fd = cached->fd;

                if (cached->file == (__u64) fd_to_file(fd))
                        return fd;
                /* Stale: the socket is gone; this SSL* must learn its socket again. */
                bpf_map_delete_elem(&tls_fds, &key);
        }
        if ((cookie & TLS_COOKIE_MEMORY_BIO) && call->last_read_fd >= 0) {
                tie.fd = call->last_read_fd;
                tie.file = (__u64) fd_to_file(tie.fd);
                if (bpf_map_update_elem(&tls_fds, &key, &tie, BPF_ANY) < 0)
                        return -1;
                count(HT_CNT_TLS_TIED_BY_READ, 1);
                return tie.fd;
        }
        return -1;
}

/*
 * Plaintext of op on c, its TLS view: the filter, then what the syscall
 * source does with a syscall's bytes (classify, announce, emit).
 */
__attribute__((noinline)) int ht_tls_plaintext(struct ht_conn *c, const struct ht_op *op, __u64 buf, __u64 bytes) {
        if (!c || !op)
                return 0;
        if (!(c->flags & HT_CONN_SOCK_OK) || !ht_protocol_wanted(c->protocol))
                return 0;
        if (!conn_filter(c, op)) {
                count(HT_CNT_FILTERED_SYSCALLS, 1);
                return 0;
        }
        if (!conn_data_begin(c, op, buf, bytes, bytes))
                return 0;
        emit_data(c, op, buf, bytes, bytes, HT_DATA_SEGMENT_START);
        return 0;
}

/*
 * Make sure op's socket (tied to ssl) has its TLS view: 1 if it has. A tie that had a view and finds none lost it to the LRU
 * (see struct tls_fd): counted, and the view starts again mid-stream, from
 * the next message start.
 */
__attribute__((noinline)) int ht_tls_view(const struct ht_op *op, __u64 ssl) {
        struct tls_fd_key key = { .ssl = ssl };
        struct ht_conn *c;
        struct tls_fd *tie;

        if (!op)
                return 0;
        key.tgid = op->pid_tgid >> 32;
        tie = bpf_map_lookup_elem(&tls_fds, &key);
        if (!tie) {
                /* Evicted from tls_fds since ht_tls_tie(): as untied as if never learned. */
                count(HT_CNT_TLS_UNTIED, 1);
                return 0;
        }
        c = conn_lookup(op);
        if (!c) {
                if (tie->viewed)
                        count(HT_CNT_TLS_CONNS_EVICTED, 1);
                c = conn_get(op);
        }
        if (!c)
                return 0;
        tie->viewed = 1;
        return 1;
}

/* Return of an SSL_* call that moved bytes plaintext bytes (0 or less: nothing moved). */
static __always_inline void tls_return(struct pt_regs *ctx, long bytes) {
        struct tls_call *slot, call;
        struct ht_op op;
        __u64 pid_tgid, cookie = bpf_get_attach_cookie(ctx);
        int fd;

        slot = bpf_task_storage_get(&tls_calls, bpf_get_current_task_btf(), NULL, 0);
        if (!slot || !slot->active)
                return;
        call = *slot;
        slot->active = 0;
        if (!task_ids(&pid_tgid))
                return;

        if (call.ret_bytes) {
                size_t n = 0;

                /*
                 * _ex: 1 on success, the count in *readbytes / *written; the
                 * internal functions (src/capture/tls-entry.h): > 0 on success.
                 */
                if (bytes <= 0 || bpf_probe_read_user(&n, sizeof(n), (const void *) call.ret_bytes) < 0)
                        bytes = 0;
                else
                        bytes = n;
        }
        fd = ht_tls_tie(&call, pid_tgid >> 32, cookie);
        if (bytes <= 0 || call.direction == TLS_CALL_HANDSHAKE)
                return;
        if (fd < 0) {
                count(HT_CNT_TLS_UNTIED, 1);
                return;
        }

        op = (struct ht_op) {
                .pid_tgid = pid_tgid, .fd = fd, .direction = call.direction,
                .kind = call.direction == HT_DIR_INGRESS ? HT_TLS_READ : HT_TLS_WRITE,
                .source = HT_SOURCE_TLS, .library = (__u8) cookie,
        };
        /*
         * Not one call into the other: each global function's stack adds up
         * along a chain of calls (512 bytes at most), and the view's (a new
         * struct ht_conn) and the plaintext's (inference buffers) do not fit
         * together above ht_emit_data's.
         */
        if (ht_tls_view(&op, call.ssl))
                ht_tls_plaintext(conn_lookup(&op), &op, call.buf, bytes);
}

/* ---- entry points: attached by user space to each library file, never auto-attached.
 * BPF_KPROBE/BPF_KRETPROBE only name pt_regs arguments: they serve uprobes (libbpf 1.1 has no BPF_UPROBE). ---- */

SEC("uprobe")
int BPF_KPROBE(ht_ssl_read, void *ssl, void *buf, int num) {
        tls_entry((__u64) ssl, (__u64) buf, 0, HT_DIR_INGRESS);
        return 0;
}

SEC("uprobe")
int BPF_KPROBE(ht_ssl_write, void *ssl, const void *buf, int num) {
        tls_entry((__u64) ssl, (__u64) buf, 0, HT_DIR_EGRESS);
        return 0;
}

SEC("uprobe")
int BPF_KPROBE(ht_ssl_read_ex, void *ssl, void *buf, size_t num, size_t *readbytes) {
        tls_entry((__u64) ssl, (__u64) buf, (__u64) readbytes, HT_DIR_INGRESS);
        return 0;
}

SEC("uprobe")
int BPF_KPROBE(ht_ssl_write_ex, void *ssl, const void *buf, size_t num, size_t *written) {
        tls_entry((__u64) ssl, (__u64) buf, (__u64) written, HT_DIR_EGRESS);
        return 0;
}

SEC("uprobe")
int BPF_KPROBE(ht_ssl_do_handshake, void *ssl) {
        tls_entry((__u64) ssl, 0, 0, TLS_CALL_HANDSHAKE);
        return 0;
}

/* One return program for all: the entry saved what differs. */
SEC("uretprobe")
int BPF_KRETPROBE(ht_ssl_return, int ret) {
        tls_return(ctx, ret);
        return 0;
}
