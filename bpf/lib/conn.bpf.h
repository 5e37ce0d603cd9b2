/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Connection tracking, shared by every source: the entry of a (tgid, fd) in
 * its source's connection map (conns_of()), created on accept/connect or on
 * first sight of a data operation, classified as TCP over IPv4/IPv6 (with
 * its addresses) or not, and decided once per filter generation. A source
 * calls conn_get() before it touches a connection's bytes, and
 * conn_data_begin() before it emits them.
 */
#pragma once

#include "maps.bpf.h"
#include "task.bpf.h"
#include "filter.bpf.h"
#include "emit.bpf.h"
#include "protocol.bpf.h"

/* UAPI macros, so not in vmlinux.h (SOCK_STREAM and IPPROTO_TCP are enumerators there). */
#define S_IFMT        00170000
#define S_IFSOCK      0140000

enum sock_kind {
        SOCK_NOT_SOCKET = 0,
        SOCK_OTHER,        /* a socket, but not TCP over IPv4/IPv6 */
        SOCK_TCP,
};

/* Decide what file is and, for TCP, fill the addresses of c. */
static __always_inline int classify_file(struct file *file, struct ht_conn *c) {
        struct socket *sock;
        struct sock *sk;
        umode_t mode;
        __u16 family, proto;
        short type;

        if (!file)
                return SOCK_NOT_SOCKET;
        mode = BPF_CORE_READ(file, f_inode, i_mode);
        if ((mode & S_IFMT) != S_IFSOCK)
                return SOCK_NOT_SOCKET;

        sock = BPF_CORE_READ(file, private_data);
        if (!sock)
                return SOCK_OTHER;
        type = BPF_CORE_READ(sock, type);
        sk = BPF_CORE_READ(sock, sk);
        if (type != SOCK_STREAM || !sk)
                return SOCK_OTHER;
        family = BPF_CORE_READ(sk, __sk_common.skc_family);
        proto = BPF_CORE_READ(sk, sk_protocol);
        if ((family != AF_INET && family != AF_INET6) || proto != IPPROTO_TCP)
                return SOCK_OTHER;

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
        return SOCK_TCP;
}

/*
 * The connection map of op's source, keyed by (tgid, fd). Each source needs
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

static __always_inline struct ht_conn_key conn_key(const struct ht_op *op) {
        return (struct ht_conn_key) { .tgid = op->pid_tgid >> 32, .fd = op->fd };
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
        c->flags = (c->flags & ~HT_CONN_ANNOUNCED) | HT_CONN_FILTERED;
        c->stash_len = 0;
        count(HT_CNT_FILTERED_CONNS, 1);
}

/*
 * Is c traced under the active filter? Decided once per connection and
 * generation: with no filter, or no change since the decision, this is a
 * compare and a flag test.
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
        c->flags &= ~(HT_CONN_FILTERED | HT_CONN_SEEN_START);
        if (ht_protocol_traced(c->protocol))
                c->protocol = HT_PROTO_UNKNOWN;
        c->probes = 0;
        c->lost[0] = c->lost[1] = 0;
        c->id = next_conn_id();
        return true;
}

/*
 * Track a new TCP socket at (tgid, fd) of op, replacing whatever was there.
 * seen_start: created by accept/connect, so we see its bytes from the first.
 */
static __always_inline struct ht_conn *conn_create(const struct ht_op *op, struct file *file,
                                                   __u8 role, bool seen_start) {
        struct ht_conn_key key = conn_key(op);
        struct ht_conn c = {}, *old;
        int kind;

        old = bpf_map_lookup_elem(conns_of(op), &key);
        if (old && (old->flags & HT_CONN_ANNOUNCED))
                emit_close(old, op, HT_CLOSE_REUSED);

        kind = classify_file(file, &c);
        if (kind == SOCK_NOT_SOCKET) {
                if (old)
                        bpf_map_delete_elem(conns_of(op), &key);
                return NULL;
        }

        c.id = next_conn_id();
        c.file = (__u64) file;
        c.role = role;
        if (kind == SOCK_TCP) {
                c.flags = HT_CONN_SOCK_OK | (seen_start ? HT_CONN_SEEN_START : 0);
                c.protocol = HT_PROTO_UNKNOWN;
                c.filter_gen = filter_gen;
                if (!filter_pass(&c, op->pid_tgid >> 32, c.filter_gen)) {
                        c.flags |= HT_CONN_FILTERED;
                        count(HT_CNT_FILTERED_CONNS, 1);
                }
        } else {
                /* Negative cache: unix sockets, UDP... cost one lookup from now on. */
                c.protocol = HT_PROTO_OTHER;
        }

        if (bpf_map_update_elem(conns_of(op), &key, &c, BPF_ANY) < 0) {
                count(HT_CNT_CONN_MAP_FULL, 1);
                return NULL;
        }
        return bpf_map_lookup_elem(conns_of(op), &key);
}

/* The tracked state of op's (tgid, fd), classifying the fd on first sight. */
static __always_inline struct ht_conn *conn_get(const struct ht_op *op) {
        struct ht_conn_key key = conn_key(op);
        struct ht_conn *c;
        struct file *file;

        c = bpf_map_lookup_elem(conns_of(op), &key);
        file = fd_to_file(op->fd);
        if (c && c->file == (__u64) file)
                return c;

        /* Unknown, or the fd now names another file (dup2, close_range...): look again. */
        return conn_create(op, file, HT_ROLE_UNKNOWN, false);
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

        if (!protocol_infer(c, first, first_len, op->direction, &prefix))
                return false;
        if (!announce(c, op)) {
                /* the kept bytes, then the operation's: counted with the message start they may hold */
                if (prefix > 0)
                        lose(c, op->direction, (__u64) c->stash, true, prefix, true);
                lose(c, op->direction, first, false, op_bytes, prefix == 0);
                return false;
        }
        if (prefix > 0)
                /* Bytes of earlier operations kept while the connection was being classified. */
                emit_data_from(c, op, (__u64) c->stash, true, prefix, prefix, HT_DATA_SEGMENT_START,
                               c->stash_ns);
        return true;
}

/* The tracked state of op's (tgid, fd) if there is one; never classifies. */
static __always_inline struct ht_conn *conn_lookup(const struct ht_op *op) {
        struct ht_conn_key key = conn_key(op);

        return bpf_map_lookup_elem(conns_of(op), &key);
}

/* Stop tracking op's (tgid, fd): its fd was closed. */
static __always_inline void conn_delete(const struct ht_op *op) {
        struct ht_conn_key key = conn_key(op);

        bpf_map_delete_elem(conns_of(op), &key);
}
