/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Connection tracking, shared by every source. A connection is a TCP
 * socket (its struct sock), whatever fds and processes reach it: systemd
 * Accept=yes and inetd services (the socket dup2'ed to fds 0 and 1), a
 * forked child serving what its parent accepted, a shell's
 * `exec 3<>/dev/tcp/...` read by `cat <&3`: one entry in its source's
 * connection map (conns_of()), one id, one byte stream per direction.
 *
 * In front of it, the fd cache: (tgid, fd) -> what the fd is (not a socket,
 * another kind of socket, or which TCP socket), decided once by a walk of
 * the fd table and remembered. A pipe or file costs one lookup per syscall
 * from then on. The verdict stays true until the fd number is freed, which
 * happens only by close(), dup2()/dup3() over it, close_range(), exec
 * (close-on-exec fds) or the process's exit: the first three delete the
 * entry (sources/syscalls.bpf.h), and an entry remembers the process
 * (its leader's start time: a recycled tgid is another process) and its
 * exec count (task->self_exec_id), so the last two invalidate it without
 * a walk. Not seen: fds closed by io_uring (IORING_OP_CLOSE) or by another
 * process sharing the fd table (clone(CLONE_FILES) without CLONE_THREAD);
 * accept() and connect() still set their fd's verdict afresh.
 *
 * In front of the fd cache, per thread: the last verdicts this thread used,
 * in its task storage (task_fds, a pointer walk where the fd cache is a hash
 * lookup), FD_L1_SLOTS of them indexed by fd modulo FD_L1_SLOTS. Each
 * remembers the generation of its fd's bucket: the process (its leader's
 * task_fds) counts per bucket the fd numbers freed by any of its threads,
 * at the *exit* of close(), dup2()/dup3() and close_range(), i.e. after the
 * number is free, so that a verdict decided before that exit no longer
 * matches (one decided in between was decided on the new file). An exec
 * empties the thread's slots (task->self_exec_id); a thread that becomes
 * the leader by exec'ing has storage of its own. A TCP socket whose
 * connection was found not worth tracing (HT_PROTO_OTHER: ssh, databases,
 * TLS seen as ciphertext) is remembered so by the syscall source, so a
 * bystander's socket costs no connection lookup.
 *
 * A source calls conn_get() before it touches a connection's bytes, and
 * conn_data_begin() before it emits them.
 */
#pragma once

#include "maps.bpf.h"
#include "task.bpf.h"
#include "filter.bpf.h"
#include "emit.bpf.h"
#include "protocol.bpf.h"
#include "tls-tie.bpf.h"

/* UAPI macros, so not in vmlinux.h (SOCK_STREAM and IPPROTO_TCP are enumerators there). */
#define S_IFMT        00170000
#define S_IFSOCK      0140000

enum fd_kind {
        FD_NOT_SOCKET = 0,
        FD_OTHER_SOCKET,   /* a socket, but not TCP over IPv4/IPv6 */
        FD_TCP,
};

struct fd_key {
        __u32 tgid;
        __s32 fd;
};

struct fd_verdict {
        __u64 sock;              /* FD_TCP: the struct sock * */
        __u64 start_time;        /* the process's leader's start_time when decided */
        __u32 exec_id;           /* the task's self_exec_id when decided */
        __u8 kind;               /* enum fd_kind */
        __u8 _pad[3];
};

/* The fd cache (HT_MAP_FD_CACHE, abi.h): kernel only. */
struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, HT_MAP_FD_CACHE);
        __type(key, struct fd_key);
        __type(value, struct fd_verdict);
} fd_cache SEC(".maps");

/* What file is; *ret_sock its struct sock for FD_TCP. */
static __always_inline int file_kind(struct file *file, __u64 *ret_sock) {
        struct socket *sock;
        struct sock *sk;
        umode_t mode;
        __u16 family, proto;
        short type;

        *ret_sock = 0;
        if (!file)
                return FD_NOT_SOCKET;
        mode = BPF_CORE_READ(file, f_inode, i_mode);
        if ((mode & S_IFMT) != S_IFSOCK)
                return FD_NOT_SOCKET;

        sock = BPF_CORE_READ(file, private_data);
        if (!sock)
                return FD_OTHER_SOCKET;
        type = BPF_CORE_READ(sock, type);
        sk = BPF_CORE_READ(sock, sk);
        if (type != SOCK_STREAM || !sk)
                return FD_OTHER_SOCKET;
        family = BPF_CORE_READ(sk, __sk_common.skc_family);
        proto = BPF_CORE_READ(sk, sk_protocol);
        if ((family != AF_INET && family != AF_INET6) || proto != IPPROTO_TCP)
                return FD_OTHER_SOCKET;
        *ret_sock = (__u64) sk;
        return FD_TCP;
}

/* The addresses of the TCP socket sk, into c. */
static __always_inline void conn_fill_addrs(struct ht_conn *c, __u64 sock) {
        struct sock *sk = (struct sock *) sock;
        __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

        c->family = family;
        c->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
        c->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
        if (family == AF_INET) {
                __u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
                __u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);

                __builtin_memcpy(c->local_addr, &l, 4);
                __builtin_memcpy(c->remote_addr, &r, 4);
        } else {
                BPF_CORE_READ_INTO(&c->local_addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
                BPF_CORE_READ_INTO(&c->remote_addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
        }
}

/* Who the current process is, for the fd cache: its leader's start and its exec count. Direct loads. */
static __always_inline void fd_cache_stamp(struct fd_verdict *v) {
        struct task_struct *task = bpf_get_current_task_btf();

        v->start_time = task->group_leader->start_time;
        v->exec_id = (__u32) task->self_exec_id;
}

/* Remember what (tgid, fd) is; then check the fd still names file (a close() by another thread in between). */
static __always_inline void fd_cache_set(__u32 tgid, int fd, struct file *file, int kind, __u64 sock) {
        struct fd_key k = { .tgid = tgid, .fd = fd };
        struct fd_verdict v = { .sock = sock, .kind = kind };

        fd_cache_stamp(&v);
        bpf_map_update_elem(&fd_cache, &k, &v, BPF_ANY);
        if (fd_to_file(fd) != file)
                bpf_map_delete_elem(&fd_cache, &k);
}

/* The fd number was freed (close, dup2 over it, close_range): forget what it was. */
static __always_inline void fd_cache_forget(__u32 tgid, int fd) {
        struct fd_key k = { .tgid = tgid, .fd = fd };

        bpf_map_delete_elem(&fd_cache, &k);
}

/*
 * The per-thread verdicts (see the top of this file). 8 slots: a thread
 * busy with more fds than that at once (a server with many connections)
 * misses them and pays the fd cache's lookup as before; 8 keep each
 * thread's storage at ~300 B (every thread that makes a read/write
 * family syscall gets one, freed with the thread).
 */
#define FD_L1_SLOTS 8
_Static_assert((FD_L1_SLOTS & (FD_L1_SLOTS - 1)) == 0, "FD_L1_SLOTS must be a power of two");

enum {
        FD_L1_NOT_WANTED = 1 << 0,   /* FD_TCP whose syscall-source connection is HT_PROTO_OTHER */
};

struct fd_l1_slot {
        __u64 sock;              /* FD_TCP: the struct sock *; 0: not a TCP socket */
        __u32 fd1;               /* the fd + 1; 0: empty */
        __u32 gen;               /* the process's close_gen[fd % FD_L1_SLOTS] when decided */
        __u32 flags;             /* FD_L1_NOT_WANTED */
        __u32 _pad;
};

struct task_fds {
        struct fd_l1_slot slot[FD_L1_SLOTS];   /* this thread's verdicts */
        __u32 close_gen[FD_L1_SLOTS];          /* in the leader's: fd numbers freed, per bucket */
        __u32 exec_id;                         /* task->self_exec_id the slots were filled under */
        __s32 freeing;                         /* close/dup2/dup3 in flight: the fd + 1; -1 close_range */
};

struct {
        __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, int);
        __type(value, struct task_fds);
} task_fds SEC(".maps");

/* Where a lookup of fd in this thread's verdicts stands: the slot to read or to fill, and its generation. */
struct fd_l1 {
        struct fd_l1_slot *slot;   /* NULL: no storage, neither read nor filled */
        __u32 gen;
};

/* This thread's verdict on fd if it is still good (true); else l1 says where a new one goes. */
static __always_inline bool fd_l1_find(int fd, struct fd_l1 *l1) {
        struct task_struct *task = bpf_get_current_task_btf(), *leader = task->group_leader;
        struct task_fds *t, *lt;
        __u32 b = fd & (FD_L1_SLOTS - 1), exec_id = (__u32) task->self_exec_id;

        l1->slot = NULL;
        t = bpf_task_storage_get(&task_fds, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
        if (!t)
                return false;
        lt = leader == task ? t : bpf_task_storage_get(&task_fds, leader, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
        if (!lt)
                return false;
        if (t->exec_id != exec_id) {
                /* An exec freed the close-on-exec fds: nothing decided before it holds. */
                for (int i = 0; i < FD_L1_SLOTS; i++)
                        t->slot[i].fd1 = 0;
                t->exec_id = exec_id;
        }
        l1->slot = &t->slot[b];
        l1->gen = *(volatile __u32 *) &lt->close_gen[b];
        return l1->slot->fd1 == (__u32) fd + 1 && l1->slot->gen == l1->gen;
}

/* Remember a verdict decided after fd_l1_find() (with the generation read there, before deciding). */
static __always_inline void fd_l1_fill(const struct fd_l1 *l1, int fd, __u64 sock) {
        if (!l1->slot)
                return;
        *l1->slot = (struct fd_l1_slot) { .sock = sock, .fd1 = (__u32) fd + 1, .gen = l1->gen };
}

/* An fd-freeing syscall of the current thread starts: fd + 1, or -1 for any number (close_range). */
static __always_inline void fd_freeing_begin(__s32 fd1) {
        struct task_fds *t = bpf_task_storage_get(&task_fds, bpf_get_current_task_btf(), NULL, 0);

        if (t)
                t->freeing = fd1;
}

/*
 * It returned: the numbers are free now, the verdicts decided on them before
 * are stale. A process none of whose threads has storage has no verdicts
 * (fd_l1_find() creates the leader's before it fills a slot); a thread
 * without storage of its own did not note its fd: every bucket goes.
 */
static __always_inline void fd_freeing_end(void) {
        struct task_struct *task = bpf_get_current_task_btf();
        struct task_fds *t = bpf_task_storage_get(&task_fds, task, NULL, 0), *lt;
        __s32 fd1 = 0;

        if (t) {
                fd1 = t->freeing;
                t->freeing = 0;
        }
        lt = task->group_leader == task ? t : bpf_task_storage_get(&task_fds, task->group_leader, NULL, 0);
        if (!lt)
                return;
        if (fd1 > 0) {
                __sync_fetch_and_add(&lt->close_gen[(fd1 - 1) & (FD_L1_SLOTS - 1)], 1);
                return;
        }
        for (int i = 0; i < FD_L1_SLOTS; i++)
                __sync_fetch_and_add(&lt->close_gen[i], 1);
}

/*
 * The TCP socket behind op's fd, 0 if it is none: one lookup when the
 * verdict is known, a walk of the fd table on first sight.
 */
static __always_inline __u64 fd_sock(const struct ht_op *op) {
        struct fd_key k = { .tgid = op->pid_tgid >> 32, .fd = op->fd };
        struct fd_verdict *v, now;
        struct file *file;
        __u64 sock;
        int kind;

        if (op->fd < 0)
                return 0;
        v = bpf_map_lookup_elem(&fd_cache, &k);
        if (v) {
                fd_cache_stamp(&now);
                if (v->start_time == now.start_time && v->exec_id == now.exec_id)
                        return v->kind == FD_TCP ? v->sock : 0;
        }
        file = fd_to_file(op->fd);
        kind = file_kind(file, &sock);
        fd_cache_set(k.tgid, op->fd, file, kind, sock);
        return sock;
}

/*
 * The connection map of op's source, keyed by socket. Each source needs
 * its own view of a socket: the syscall source sees a TLS socket's
 * ciphertext and marks it not traced, a TLS source would see its plaintext.
 * Every helper here reaches the map through this, so a second source brings
 * its map (and a case) here and reuses the rest.
 */
static __always_inline void *conns_of(const struct ht_op *op) {
        if (op->source == HT_SOURCE_TLS)
                return &tls_conns;
        return &conns;
}

static __always_inline __u64 next_conn_id(void) {
        __u32 zero = 0;
        __u64 *seq = bpf_map_lookup_elem(&conn_id_seq, &zero);

        if (!seq)
                return 0;
        return __sync_fetch_and_add(seq, 1) + 1;
}

/* The connection is excluded from now on: user space finishes it if it knew it. */
static __always_inline void conn_exclude(struct ht_conn *c, const struct ht_op *op) {
        if (c->flags & HT_CONN_ANNOUNCED)
                emit_close(c, op, HT_CLOSE_FILTERED);
        else
                lose_unreported(c);
        c->flags = (c->flags & ~HT_CONN_ANNOUNCED) | HT_CONN_FILTERED;
        c->stash_len = 0;
        count(HT_CNT_FILTERED_CONNS, 1);
}

/*
 * Is c traced under the active filter? Decided once per connection and
 * generation: with no filter, or no change since the decision, this is a
 * compare and a flag test. The process and cgroup the filter looks at are
 * those of the operation that decides (for a shared socket: whichever
 * process used it first under this generation).
 */
static __always_inline bool conn_filter(struct ht_conn *c, const struct ht_op *op) {
        __u32 gen = filter_gen;
        bool traced = !(c->flags & HT_CONN_FILTERED);

        if (c->filter_gen == gen)
                return traced;
        c->filter_gen = gen;
        if (filter_pass(c, op->pid_tgid >> 32, gen) == traced)
                return traced;
        if (traced) {
                conn_exclude(c, op);
                return false;
        }
        /*
         * Included again. Its bytes went by unseen meanwhile: classify it
         * afresh from the next message start, as a new connection for user
         * space (it finished the old one).
         */
        c->flags &= ~(HT_CONN_FILTERED | HT_CONN_SEEN_START | HT_CONN_SYNC_INGRESS | HT_CONN_SYNC_EGRESS);
        if (ht_protocol_traced(c->protocol))
                c->protocol = HT_PROTO_UNKNOWN;
        c->probes = 0;
        c->tail[0] = c->tail[1] = HT_TAIL_UNKNOWN;
        c->lost[0] = c->lost[1] = 0;
        c->id = next_conn_id();
        return true;
}

/*
 * Track the TCP socket sock in op's source's map, replacing whatever entry
 * it had (a destruction we did not see: its address is a new socket's).
 * seen_start: created by accept/connect, so we see its bytes from the first.
 */
static __always_inline struct ht_conn *conn_new(const struct ht_op *op, __u64 sock, __u8 role, bool seen_start) {
        struct ht_conn_key key = { .sock = sock };
        struct ht_conn c = {}, *old;

        old = bpf_map_lookup_elem(conns_of(op), &key);
        if (old && (old->flags & HT_CONN_ANNOUNCED))
                emit_close(old, op, HT_CLOSE_REUSED);
        else if (old)
                lose_unreported(old);

        conn_fill_addrs(&c, sock);
        c.id = next_conn_id();
        c.sock = sock ^ sock_salt;
        c.role = role;
        c.flags = HT_CONN_SOCK_OK | (seen_start ? HT_CONN_SEEN_START : 0);
        c.protocol = HT_PROTO_UNKNOWN;
        c.filter_gen = filter_gen;
        if (!filter_pass(&c, op->pid_tgid >> 32, c.filter_gen)) {
                c.flags |= HT_CONN_FILTERED;
                count(HT_CNT_FILTERED_CONNS, 1);
        }
        if (bpf_map_update_elem(conns_of(op), &key, &c, BPF_ANY) < 0) {
                count(HT_CNT_CONN_MAP_FULL, 1);
                return NULL;
        }
        return bpf_map_lookup_elem(conns_of(op), &key);
}

/*
 * accept()/connect() made op's fd a socket we see from its first byte: set
 * the fd's verdict and, for TCP, start a connection of op's source.
 */
static __always_inline void conn_create(const struct ht_op *op, __u8 role) {
        struct file *file = fd_to_file(op->fd);
        __u64 sock;
        int kind = file_kind(file, &sock);

        fd_cache_set(op->pid_tgid >> 32, op->fd, file, kind, sock);
        if (sock)
                conn_new(op, sock, role, true);
}

/* The tracked state of socket sock (op's fd's), starting it (mid-stream) on first sight. */
static __always_inline struct ht_conn *conn_of_fd_sock(const struct ht_op *op, __u64 sock) {
        struct ht_conn_key key = { .sock = sock };
        struct ht_conn *c = bpf_map_lookup_elem(conns_of(op), &key);

        if (c)
                return c;
        return conn_new(op, sock, HT_ROLE_UNKNOWN, false);
}

/* The tracked state of op's socket, starting it (mid-stream) on first sight; NULL if op's fd is no TCP socket. */
static __always_inline struct ht_conn *conn_get(const struct ht_op *op) {
        __u64 sock = fd_sock(op);

        if (!sock)
                return NULL;
        return conn_of_fd_sock(op, sock);
}

/*
 * conn_get() for the syscall source, through this thread's verdicts first;
 * also NULL for a socket already found not worth tracing (after telling the
 * TLS tie about it: a TLS socket is one of those). Only the syscall
 * source's programs use the verdicts: the TLS source's return program is
 * at the verifier's limit as it is.
 */
static __always_inline struct ht_conn *conn_get_syscall(const struct ht_op *op) {
        struct ht_conn *c;
        struct fd_l1 l1;
        __u64 sock;

        if (op->fd < 0)
                return NULL;
        if (fd_l1_find(op->fd, &l1)) {
                if (l1.slot->flags & FD_L1_NOT_WANTED) {
                        tls_tie_fd(op->fd, op->direction);
                        return NULL;
                }
                sock = l1.slot->sock;
        } else {
                sock = fd_sock(op);
                fd_l1_fill(&l1, op->fd, sock);
        }
        if (!sock)
                return NULL;
        c = conn_of_fd_sock(op, sock);
        /* HT_PROTO_OTHER is final while the fd names this socket. */
        if (c && c->protocol == HT_PROTO_OTHER && l1.slot)
                l1.slot->flags |= FD_L1_NOT_WANTED;
        return c;
}

/*
 * The start of an operation's bytes on c (op_bytes of them, the first
 * first_len readable at first, in user memory): classify the connection on
 * them if it is not yet, announce it, and send ahead the bytes kept while it
 * was being classified. True when the caller is to emit the operation's
 * bytes; false when they are not traced, or lost (counted) because the
 * announcement did not fit.
 */
static __always_inline bool conn_data_begin(struct ht_conn *c, const struct ht_op *op, __u64 first,
                                            __u64 first_len, __u64 op_bytes) {
        __u32 prefix = 0;

        if (!protocol_infer(c, first, first_len, first_len == op_bytes, op->direction, &prefix))
                return false;
        if (!announce(c, op)) {
                /* the kept bytes, then the operation's: counted with the message start they may hold */
                if (prefix > 0)
                        lose(c, op->direction, (__u64) c->stash, true, prefix, true);
                lose(c, op->direction, first, false, op_bytes, prefix == 0);
                /* The message start that decided is lost: user space must find one itself. */
                c->flags &= ~(HT_CONN_SYNC_INGRESS | HT_CONN_SYNC_EGRESS);
                return false;
        }
        if (prefix > 0)
                /* Bytes of earlier operations kept while the connection was being classified. */
                emit_data_from(c, op, (__u64) c->stash, true, prefix, prefix, HT_DATA_SEGMENT_START,
                               c->stash_ns);
        return true;
}

/* The tracked state of op's socket if there is one; never classifies, never walks the fd table. */
static __always_inline struct ht_conn *conn_lookup(const struct ht_op *op) {
        struct fd_key k = { .tgid = op->pid_tgid >> 32, .fd = op->fd };
        struct fd_verdict *v = bpf_map_lookup_elem(&fd_cache, &k);
        struct ht_conn_key key;

        if (!v || v->kind != FD_TCP)
                return NULL;
        key.sock = v->sock;
        return bpf_map_lookup_elem(conns_of(op), &key);
}

/* The tracked state of socket sock in op's source's map, if any. */
static __always_inline struct ht_conn *conn_of_sock(const struct ht_op *op, __u64 sock) {
        struct ht_conn_key key = { .sock = sock };

        return bpf_map_lookup_elem(conns_of(op), &key);
}

/*
 * End source's view of socket sock (closed for good, or destroyed): user
 * space finishes it, told what was lost since its last record; the requests
 * lost with a connection user space never heard of, or whose close record
 * was lost too, are counted here. Not seen: an entry the LRU map evicts.
 */
static __always_inline void conn_end(__u64 sock, const struct ht_op *op, __u32 reason) {
        struct ht_conn_key key = { .sock = sock };
        struct ht_conn *c = bpf_map_lookup_elem(conns_of(op), &key);

        if (!c)
                return;
        if (c->flags & HT_CONN_ANNOUNCED)
                emit_close(c, op, reason);
        else
                lose_unreported(c);
        bpf_map_delete_elem(conns_of(op), &key);
}
