/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The syscall source: tracepoints on the socket read/write families,
 * accept, connect, close and process exit. Plaintext as the process hands it
 * to the kernel (or gets it back); records say HT_SOURCE_SYSCALL and the
 * syscall (enum ht_syscall) that moved the bytes.
 *
 * Flow per data syscall: sys_enter_* looks the (tgid, fd) up in the
 * connection map (classifying unknown fds through the fd table with CO-RE)
 * and stashes the arguments; sys_exit_* knows the byte count, infers the
 * protocol if still unknown, announces the connection once, and emits data
 * records — one per iovec for vectored I/O, each carrying up to payload_max
 * bytes and the rest as a gap of known length (on HTTP/2, the rest in more
 * records: emit_segment()).
 *
 * Entry points are thin; the logic is in the helpers above them and in lib/.
 */
#pragma once

#include "lib/maps.bpf.h"
#include "lib/task.bpf.h"
#include "lib/conn.bpf.h"
#include "lib/emit.bpf.h"
#include "lib/protocol.bpf.h"
#include "lib/tls-tie.bpf.h"

/* UAPI macros, so not in vmlinux.h. */
#define EINPROGRESS   115
#define MSG_PEEK      2
#define CLOSE_RANGE_CLOEXEC (1U << 2)

/*
 * fds close_range() forgets one by one in the fd cache, from its first; it
 * is bounded by the process's fd table size too (usually 64 to 1024). Past
 * it, a verdict may outlive its fd (then an exec, which close_range
 * usually precedes, still invalidates it).
 */
#define CLOSE_RANGE_SCAN 65536u

/* Arguments of a syscall in flight, from its enter to its exit, per thread. */
struct syscall_args {
        __u64 sock;         /* the connection's socket (key of its map entry) */
        __u64 buf;          /* buffer, or the iovec array for vectored calls */
        __u64 iovcnt;       /* 0 for plain buffers */
        __s32 fd;
        __u8 syscall;       /* enum ht_syscall, or ARGS_CONNECT */
        __u8 direction;
        __u8 active;        /* set at enter, cleared at exit */
        __u8 _pad;
};
#define ARGS_CONNECT 100
_Static_assert(ARGS_CONNECT > HT_SYS_SPLICE && ARGS_CONNECT <= 255,
               "ARGS_CONNECT must fit syscall_args.syscall and be no enum ht_syscall value");

/*
 * Task-local storage: the slot lives in the thread's task_struct, so saving
 * and finding the arguments costs a pointer walk rather than a hash update
 * and delete per syscall (an LRU hash update was the biggest single cost of
 * the enter programs). It is freed with the thread, so a thread killed
 * inside a syscall leaves nothing behind.
 */
struct {
        __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, int);
        __type(value, struct syscall_args);
} args_map SEC(".maps");

/* The arguments saved at this thread's syscall enter, taken (cleared) for its exit. */
static __always_inline bool take_args(struct syscall_args *ret) {
        struct syscall_args *a;

        a = bpf_task_storage_get(&args_map, bpf_get_current_task_btf(), NULL, 0);
        if (!a || !a->active)
                return false;
        *ret = *a;
        a->active = 0;
        return true;
}

static __always_inline void save_args(__u64 sock, int fd, __u64 buf, __u64 iovcnt, __u8 sys, __u8 dir) {
        struct syscall_args *a;

        a = bpf_task_storage_get(&args_map, bpf_get_current_task_btf(), NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
        if (!a) {
                /* Out of memory, or the storage is busy (recursion): this syscall goes untraced. */
                count(HT_CNT_ARGS_MAP_FULL, 1);
                return;
        }
        *a = (struct syscall_args) {
                .sock = sock, .buf = buf, .iovcnt = iovcnt, .fd = fd, .syscall = sys, .direction = dir,
                .active = 1,
        };
}

/* The operation of a syscall by the current task on fd. */
static __always_inline struct ht_op syscall_op(__u64 pid_tgid, int fd, __u8 sys, __u8 dir) {
        return (struct ht_op) {
                .pid_tgid = pid_tgid, .fd = fd, .direction = dir, .kind = sys, .source = HT_SOURCE_SYSCALL,
        };
}

/* Enter of a data syscall: remember its arguments if the fd is (or may be) traced. */
static __always_inline void data_enter(int fd, __u64 buf, __u64 iovcnt, __u8 sys, __u8 dir) {
        struct ht_op op;
        __u64 pid_tgid;
        struct ht_conn *c;

        if (!traced_task(&pid_tgid))
                return;
        op = syscall_op(pid_tgid, fd, sys, dir);
        c = conn_get_syscall(&op);
        if (!c)
                return;
        /* An SSL_* call in flight on this thread learns its socket here (a TLS socket is not wanted below). */
        if (c->flags & HT_CONN_SOCK_OK)
                tls_tie_fd(fd, dir);
        if (!ht_protocol_wanted(c->protocol))
                return;
        if (!conn_filter(c, &op)) {
                count(HT_CNT_FILTERED_SYSCALLS, 1);
                return;
        }
        save_args(c->sock ^ sock_salt, fd, buf, iovcnt, sys, dir);
}

struct iovec_user {
        __u64 base;
        __u64 len;
};

/*
 * One segment of a data syscall (its buffer, or one iovec) in records of at
 * most chunk bytes each. Outside HTTP/2 the chunk is the whole segment: one
 * record carries payload_max bytes of it and the rest as a gap of known
 * length, which keeps HTTP/1 in sync (a body's size is in its head). On
 * HTTP/2 frame headers sit between DATA payloads, and one gap over them
 * costs the frame parser its sync (a node client reading 64 KiB responses
 * lost it in 27 of 72 streams), so there a segment longer than payload_max
 * goes in records of payload_max each, for up to HT_SEGMENT_CHUNKS of them.
 *
 * The step keeps no state: the chunk's offset is the loop index times the
 * chunk. A step that changed its state by a constant (payload_max is known
 * at load) would never let the verifier's states converge.
 */
struct segment_walk {
        struct ht_op op;
        __u64 sock;
        __u64 base;
        __u64 len;
        __u64 chunk;
        __u64 syscall_bytes;
        __u8 flags;             /* of the segment's first record */
};

static long chunk_step(__u32 i, void *ctx) {
        struct segment_walk *s = ctx;
        struct ht_conn *c;
        __u64 off = (__u64) i * s->chunk, n;

        if (off >= s->len)
                return 1;
        n = s->len - off < s->chunk ? s->len - off : s->chunk;
        c = conn_of_sock(&s->op, s->sock);
        if (!c)
                return 1;
        emit_data(c, &s->op, s->base + off, n, s->syscall_bytes, i == 0 ? s->flags : 0);
        return 0;
}

/*
 * A global (not inlined) function, verified once on its own rather than at
 * each of its two call sites and for every path leading to them (as
 * ht_emit_data()): inlined, it added 32,152 instructions to each exit program.
 */
__attribute__((noinline)) int ht_emit_segment(struct ht_conn *c, const struct segment_walk *seg) {
        struct segment_walk s;
        __u64 walked;

        if (!c || !seg)
                return 0;
        s = *seg;
        s.chunk = payload_max;
        if (c->protocol != HT_PROTO_HTTP2 || s.len <= s.chunk || s.chunk == 0) {
                emit_data(c, &s.op, s.base, s.len, s.syscall_bytes, s.flags);
                return 0;
        }
        bpf_loop(HT_SEGMENT_CHUNKS, chunk_step, &s, 0);
        /* A segment of more than HT_SEGMENT_CHUNKS chunks: the rest is a gap of known size. */
        walked = (__u64) HT_SEGMENT_CHUNKS * s.chunk;
        if (s.len > walked)
                emit_data(c, &s.op, 0, s.len - walked, s.syscall_bytes, 0);
        return 0;
}

static __always_inline void emit_segment(struct ht_conn *c, const struct ht_op *op, __u64 sock, __u64 base,
                                         __u64 len, __u64 syscall_bytes, __u8 flags) {
        struct segment_walk s = {
                .op = *op, .sock = sock, .base = base, .len = len, .syscall_bytes = syscall_bytes,
                .flags = flags,
        };

        ht_emit_segment(c, &s);
}

/*
 * State of a bpf_loop() walk over an iovec array. bpf_loop() has the
 * verifier check the step once instead of once per unrolled iteration:
 * with HT_IOV_CAP unrolled copies of emit_data() in nine exit programs,
 * loading took 2.7 s here; with bpf_loop() 0.8 s. The bound is every
 * iovec the kernel accepts (HT_IOV_CAP): the step is verified once however
 * many times it runs, so walking 1024 costs the load nothing over 32.
 */
struct iov_walk {
        struct ht_op op;
        __u64 sock;
        __u64 iov;
        __u64 iovcnt;
        __u64 left;
        __u64 syscall_bytes;
        __u8 flags;
};

static long iov_step(__u32 i, void *ctx) {
        struct iov_walk *w = ctx;
        struct iovec_user iv;
        struct ht_conn *c;
        __u64 seg;

        if (i >= w->iovcnt || w->left == 0)
                return 1;
        if (bpf_probe_read_user(&iv, sizeof(iv), (const void *) (w->iov + i * sizeof(iv))) < 0)
                return 1;
        seg = iv.len < w->left ? iv.len : w->left;
        if (seg == 0)
                return 0;
        c = conn_of_sock(&w->op, w->sock);
        if (!c)
                return 1;
        emit_segment(c, &w->op, w->sock, iv.base, seg, w->syscall_bytes, w->flags);
        w->flags = 0;
        w->left -= seg;
        return 0;
}

/* Exit of a data syscall that returned ret bytes. */
static __always_inline void data_exit(long ret) {
        __u64 pid_tgid;
        struct syscall_args a;
        struct ht_op op;
        struct ht_conn *c;
        __u64 first, first_len;

        /* Cheapest test first: most syscalls are on files and sockets that are not traced. */
        if (!take_args(&a) || ret <= 0)
                return;
        if (!task_ids(&pid_tgid))
                return;

        op = syscall_op(pid_tgid, a.fd, a.syscall, a.direction);
        c = conn_of_sock(&op, a.sock);
        /* Excluded by another thread between this syscall's enter and exit: nothing more goes out. */
        if (!c || (c->flags & HT_CONN_FILTERED))
                return;

        if (a.syscall == HT_SYS_SENDFILE || a.syscall == HT_SYS_SPLICE) {
                /* Bytes moved inside the kernel are invisible: a gap of known length keeps the stream in sync. */
                if (!ht_protocol_traced(c->protocol)) {
                        /* Not classified yet: the bytes after these are no longer the stream's first. */
                        if (c->protocol == HT_PROTO_UNKNOWN) {
                                c->flags &= ~HT_CONN_SEEN_START;
                                c->stash_len = 0;
                        }
                        return;
                }
                if (!announce(c, &op)) {
                        __sync_fetch_and_add(&c->lost[op.direction & 1], ret);
                        return;
                }
                emit_data(c, &op, 0, ret, ret, HT_DATA_SEGMENT_START | HT_DATA_SENDFILE);
                return;
        }

        /* The first bytes: the buffer itself, or the first iovec (never read past its end). */
        first = a.buf;
        first_len = ret;
        if (a.iovcnt) {
                struct iovec_user iv = {};

                if (bpf_probe_read_user(&iv, sizeof(iv), (const void *) a.buf) < 0) {
                        count(HT_CNT_READ_FAULTS, 1);
                        return;
                }
                first = iv.base;
                if (iv.len < first_len)
                        first_len = iv.len;
        }
        if (!conn_data_begin(c, &op, first, first_len, ret))
                return;

        if (!a.iovcnt) {
                emit_segment(c, &op, a.sock, a.buf, ret, ret, HT_DATA_SEGMENT_START);
                return;
        }
        if (a.iovcnt == 1 && first_len == ret) {
                /* One iovec (nginx's response head, most writev()s): read above, no walk, no
                 * second iovec read and connection lookup. An iovec found shorter than ret
                 * (changed by another thread since the call) takes the walk, which counts
                 * and gaps what it cannot read. */
                emit_segment(c, &op, a.sock, first, first_len, ret, HT_DATA_SEGMENT_START);
                return;
        }

        /* Vectored: a record per iovec, in order, until ret bytes are accounted for. */
        struct iov_walk w = {
                .op = op, .sock = a.sock, .iov = a.buf, .iovcnt = a.iovcnt, .left = ret, .syscall_bytes = ret,
                .flags = HT_DATA_SEGMENT_START,
        };
        bpf_loop(HT_IOV_CAP, iov_step, &w, 0);
        if (w.left > 0) {
                /* An unreadable iovec array (or the connection gone meanwhile): the rest is a gap of known size. */
                count(HT_CNT_IOV_TRUNCATED, 1);
                emit_data(c, &op, 0, w.left, ret, w.flags);
        }
}

/* ---- entry points ---- */

SEC("tracepoint/syscalls/sys_enter_read")
int ht_enter_read(struct trace_event_raw_sys_enter *ctx) {
        data_enter(ctx->args[0], ctx->args[1], 0, HT_SYS_READ, HT_DIR_INGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvfrom")
int ht_enter_recvfrom(struct trace_event_raw_sys_enter *ctx) {
        /* Peeked bytes are read again later: counting them now would duplicate them. */
        if (ctx->args[3] & MSG_PEEK)
                return 0;
        data_enter(ctx->args[0], ctx->args[1], 0, HT_SYS_RECVFROM, HT_DIR_INGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_readv")
int ht_enter_readv(struct trace_event_raw_sys_enter *ctx) {
        if (ctx->args[2] > 0)
                data_enter(ctx->args[0], ctx->args[1], ctx->args[2], HT_SYS_READV, HT_DIR_INGRESS);
        return 0;
}

static __always_inline void msg_enter(struct trace_event_raw_sys_enter *ctx, __u8 sys, __u8 dir) {
        struct user_msghdr msg = {};

        if (bpf_probe_read_user(&msg, sizeof(msg), (const void *) ctx->args[1]) < 0)
                return;
        if (msg.msg_iovlen > 0)
                data_enter(ctx->args[0], (__u64) msg.msg_iov, msg.msg_iovlen, sys, dir);
}

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int ht_enter_recvmsg(struct trace_event_raw_sys_enter *ctx) {
        if (ctx->args[2] & MSG_PEEK)
                return 0;
        msg_enter(ctx, HT_SYS_RECVMSG, HT_DIR_INGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_write")
int ht_enter_write(struct trace_event_raw_sys_enter *ctx) {
        data_enter(ctx->args[0], ctx->args[1], 0, HT_SYS_WRITE, HT_DIR_EGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int ht_enter_sendto(struct trace_event_raw_sys_enter *ctx) {
        data_enter(ctx->args[0], ctx->args[1], 0, HT_SYS_SENDTO, HT_DIR_EGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int ht_enter_writev(struct trace_event_raw_sys_enter *ctx) {
        if (ctx->args[2] > 0)
                data_enter(ctx->args[0], ctx->args[1], ctx->args[2], HT_SYS_WRITEV, HT_DIR_EGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int ht_enter_sendmsg(struct trace_event_raw_sys_enter *ctx) {
        msg_enter(ctx, HT_SYS_SENDMSG, HT_DIR_EGRESS);
        return 0;
}

/*
 * Enter of a syscall whose bytes never pass through user memory (sendfile,
 * splice) on op's fd: remember it if the fd is a traced connection's. Such a
 * syscall never starts a classification (its bytes are invisible), but one
 * on a connection still unclassified is remembered too: what follows it is
 * no longer the stream's start. True if op's fd is a tracked connection.
 */
static __always_inline bool gap_enter(const struct ht_op *op) {
        struct ht_conn *c = conn_lookup(op);

        if (!c || !ht_protocol_wanted(c->protocol))
                return c != NULL;
        if (!conn_filter(c, op)) {
                count(HT_CNT_FILTERED_SYSCALLS, 1);
                return true;
        }
        save_args(c->sock ^ sock_salt, op->fd, 0, 0, op->kind, op->direction);
        return true;
}

SEC("tracepoint/syscalls/sys_enter_sendfile64")
int ht_enter_sendfile(struct trace_event_raw_sys_enter *ctx) {
        struct ht_op op;
        __u64 pid_tgid;

        if (!traced_task(&pid_tgid))
                return 0;
        op = syscall_op(pid_tgid, ctx->args[0], HT_SYS_SENDFILE, HT_DIR_EGRESS);
        gap_enter(&op);
        return 0;
}

/*
 * splice() moves bytes between a pipe and a socket (HAProxy's bodies) inside
 * the kernel, like sendfile: the socket end is traced as a gap of the
 * returned length. One end is always a pipe, so at most one is our socket.
 * tee() and vmsplice() take only pipes: they never touch a socket.
 */
SEC("tracepoint/syscalls/sys_enter_splice")
int ht_enter_splice(struct trace_event_raw_sys_enter *ctx) {
        struct ht_op op;
        __u64 pid_tgid;

        if (!traced_task(&pid_tgid))
                return 0;
        op = syscall_op(pid_tgid, ctx->args[2], HT_SYS_SPLICE, HT_DIR_EGRESS);
        if (gap_enter(&op))
                return 0;
        op = syscall_op(pid_tgid, ctx->args[0], HT_SYS_SPLICE, HT_DIR_INGRESS);
        gap_enter(&op);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_splice")
int ht_exit_splice(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int ht_exit_read(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int ht_exit_recvfrom(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_readv")
int ht_exit_readv(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int ht_exit_recvmsg(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int ht_exit_write(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int ht_exit_sendto(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_writev")
int ht_exit_writev(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int ht_exit_sendmsg(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendfile64")
int ht_exit_sendfile(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

static __always_inline void accept_exit(long ret) {
        struct ht_op op;
        __u64 pid_tgid;

        if (ret < 0 || !traced_task(&pid_tgid))
                return;
        op = syscall_op(pid_tgid, ret, 0, HT_DIR_INGRESS);
        conn_create(&op, HT_ROLE_SERVER);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int ht_exit_accept(struct trace_event_raw_sys_exit *ctx) {
        accept_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int ht_exit_accept4(struct trace_event_raw_sys_exit *ctx) {
        accept_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int ht_enter_connect(struct trace_event_raw_sys_enter *ctx) {
        __u64 pid_tgid;

        if (!traced_task(&pid_tgid))
                return 0;
        save_args(0, ctx->args[0], 0, 0, ARGS_CONNECT, HT_DIR_EGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int ht_exit_connect(struct trace_event_raw_sys_exit *ctx) {
        struct syscall_args a;
        struct ht_op op;
        __u64 pid_tgid;

        if (!take_args(&a) || a.syscall != ARGS_CONNECT || !task_ids(&pid_tgid))
                return 0;
        if (ctx->ret == 0 || ctx->ret == -EINPROGRESS) {
                op = syscall_op(pid_tgid, a.fd, 0, HT_DIR_EGRESS);
                conn_create(&op, HT_ROLE_CLIENT);
        }
        return 0;
}

/*
 * close(fd): the fd number is free, its verdict goes. When the fd held the
 * last reference to a tracked socket, the connection ends here, in both
 * sources' views (the TLS source sees no close of its own); otherwise
 * another fd or process still holds the socket and the connection goes on
 * (its end comes with the last close, or with tcp_destroy_sock).
 */
SEC("tracepoint/syscalls/sys_enter_close")
int ht_enter_close(struct trace_event_raw_sys_enter *ctx) {
        struct fd_key k;
        struct fd_verdict *v;
        struct ht_op op;
        __u64 pid_tgid, sock;

        fd_freeing_begin((__s32) ctx->args[0] + 1);
        if (!task_ids(&pid_tgid))
                return 0;
        k = (struct fd_key) { .tgid = pid_tgid >> 32, .fd = ctx->args[0] };
        v = bpf_map_lookup_elem(&fd_cache, &k);
        if (!v)
                return 0;
        sock = v->kind == FD_TCP ? v->sock : 0;
        bpf_map_delete_elem(&fd_cache, &k);
        if (!sock || !file_last_ref(fd_to_file(k.fd)))
                return 0;
        op = syscall_op(pid_tgid, k.fd, 0, 0);
        conn_end(sock, &op, HT_CLOSE_SYSCALL);
        if (tls_source_on()) {
                op.source = HT_SOURCE_TLS;
                conn_end(sock, &op, HT_CLOSE_SYSCALL);
        }
        return 0;
}

/*
 * The exits of the syscalls that free fd numbers: the per-thread verdicts
 * decided on them before (lib/conn.bpf.h, fd_l1_find()) go stale here, once
 * the numbers are free; and the fd cache's entry is deleted again, in case
 * another thread decided it anew between the enter (which deleted it) and
 * the number's freeing.
 */
static __always_inline void fd_freed(void) {
        struct task_fds *t = bpf_task_storage_get(&task_fds, bpf_get_current_task_btf(), NULL, 0);
        __u64 pid_tgid;

        if (t && t->freeing > 0 && task_ids(&pid_tgid))
                fd_cache_forget(pid_tgid >> 32, t->freeing - 1);
        fd_freeing_end();
}

SEC("tracepoint/syscalls/sys_exit_close")
int ht_exit_close(void *ctx) {
        fd_freed();
        return 0;
}

/* dup2()/dup3() free newfd first (if open): its verdict goes. A socket whose last fd that was ends at destruction. */
static __always_inline void dup_enter(int newfd) {
        __u64 pid_tgid;

        fd_freeing_begin(newfd + 1);
        if (task_ids(&pid_tgid))
                fd_cache_forget(pid_tgid >> 32, newfd);
}

SEC("tracepoint/syscalls/sys_enter_dup2")
int ht_enter_dup2(struct trace_event_raw_sys_enter *ctx) {
        dup_enter(ctx->args[1]);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_dup2")
int ht_exit_dup2(void *ctx) {
        fd_freed();
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_dup3")
int ht_enter_dup3(struct trace_event_raw_sys_enter *ctx) {
        dup_enter(ctx->args[1]);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_dup3")
int ht_exit_dup3(void *ctx) {
        fd_freed();
        return 0;
}

struct range_walk {
        __u32 tgid;
        __u32 first;
        __u32 last;
};

static long range_step(__u32 i, void *ctx) {
        struct range_walk *w = ctx;

        if (w->first + i > w->last)
                return 1;
        fd_cache_forget(w->tgid, w->first + i);
        return 0;
}

/* close_range(first, last, flags) frees the fds in [first, last] (unless it only marks them close-on-exec). */
SEC("tracepoint/syscalls/sys_enter_close_range")
int ht_enter_close_range(struct trace_event_raw_sys_enter *ctx) {
        struct task_struct *task = bpf_get_current_task_btf();
        struct range_walk w;
        __u64 pid_tgid;
        __u32 max_fds;

        if (ctx->args[2] & CLOSE_RANGE_CLOEXEC)
                return 0;
        fd_freeing_begin(-1);
        if (!task_ids(&pid_tgid) || !task->files)
                return 0;
        max_fds = task->files->fdt->max_fds;
        w = (struct range_walk) { .tgid = pid_tgid >> 32, .first = ctx->args[0], .last = ctx->args[1] };
        if (max_fds == 0 || w.first >= max_fds)
                return 0;
        if (w.last >= max_fds)
                w.last = max_fds - 1;
        bpf_loop(CLOSE_RANGE_SCAN, range_step, &w, 0);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_close_range")
int ht_exit_close_range(void *ctx) {
        fd_freeing_end();
        return 0;
}

/*
 * The TCP stack destroys a socket: the end of its connection whatever
 * happened to its fds (a process exit, an exec or dup2 closing the last fd
 * without a close(), or a close racing another thread). Runs in any
 * context, often softirq: the record names no task.
 */
SEC("tracepoint/tcp/tcp_destroy_sock")
int ht_tcp_destroy_sock(struct trace_event_raw_tcp_event_sk *ctx) {
        struct ht_op op = { .fd = -1, .source = HT_SOURCE_SYSCALL };
        __u64 sock = (__u64) ctx->skaddr;

        conn_end(sock, &op, HT_CLOSE_DESTROYED);
        if (tls_source_on()) {
                op.source = HT_SOURCE_TLS;
                conn_end(sock, &op, HT_CLOSE_DESTROYED);
        }
        return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int ht_process_exit(void *ctx) {
        struct ht_op op;
        __u64 pid_tgid;
        __u32 tgid;

        if (!task_ids(&pid_tgid))
                return 0;
        tgid = pid_tgid >> 32;
        /* The thread group leader's exit stands for the process. */
        if ((__u32) pid_tgid != tgid)
                return 0;
        if (!bpf_map_lookup_elem(&http_procs, &tgid))
                return 0;
        bpf_map_delete_elem(&http_procs, &tgid);

        op = syscall_op(pid_tgid, -1, 0, 0);
        emit_proc_exit(&op);
        return 0;
}

/*
 * io_uring: a server that submits its socket reads and writes through
 * io_uring (IORING_OP_RECV/SEND/READ/WRITE...) makes none of the syscalls
 * above for them, so its bytes are not traced. It is detected and counted
 * instead (HT_CNT_IO_URING_SOCKETS, once per socket while it stays in
 * uring_socks): the kernel looks up the file of each submitted request by
 * fd (io_uring:io_uring_file_get; files registered with
 * IORING_REGISTER_FILES are looked up without it and are not seen).
 */
struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, HT_MAP_IO_URING_SOCKS);
        __type(key, __u64);      /* struct sock * */
        __type(value, __u8);
} uring_socks SEC(".maps");

struct io_uring_file_get_args {
        __u64 _common;
        __u64 ctx;
        __u64 req;
        __u64 user_data;
        __s32 fd;
};

SEC("tracepoint/io_uring/io_uring_file_get")
int ht_io_uring_file_get(struct io_uring_file_get_args *ctx) {
        struct ht_op op;
        __u64 pid_tgid, sock;
        __u8 one = 1;

        if (!traced_task(&pid_tgid))
                return 0;
        op = syscall_op(pid_tgid, ctx->fd, 0, 0);
        sock = fd_sock(&op);
        if (sock && bpf_map_update_elem(&uring_socks, &sock, &one, BPF_NOEXIST) == 0)
                count(HT_CNT_IO_URING_SOCKETS, 1);
        return 0;
}
