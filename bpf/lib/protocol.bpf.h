/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which protocol a connection speaks, decided in the kernel from its first
 * bytes (the pure inference is infer.h), and the one gate that says whose
 * bytes go to user space: ht_protocol_traced(). A connection that is not
 * traced costs one map lookup per operation from then on.
 */
#pragma once

#include "maps.bpf.h"
#include "filter.bpf.h"
#include "infer.h"

/*
 * protocol_infer() bounds stash offsets with a mask, and appends up to
 * HT_INFER_BYTES at an offset below HT_INFER_BYTES into the stash.
 */
_Static_assert((HT_INFER_BYTES & (HT_INFER_BYTES - 1)) == 0, "HT_INFER_BYTES must be a power of two");
_Static_assert(sizeof(((struct ht_conn *) 0)->stash) >= 2 * HT_INFER_BYTES, "ht_conn.stash too small");
_Static_assert(HT_INFER_BYTES <= 255, "ht_conn.stash_len is a __u8");

/*
 * The protocols user space parses: their connections are announced and
 * their bytes sent. Every "is this connection's traffic wanted" test asks
 * this; a protocol that user space learns to parse is added here (and
 * mapped in protocol_of() below), nowhere else.
 */
static __always_inline bool ht_protocol_traced(__u8 protocol) {
        return protocol == HT_PROTO_HTTP1 || protocol == HT_PROTO_HTTP2;
}

/* Is the connection still worth an operation: traced, or not classified yet? */
static __always_inline bool ht_protocol_wanted(__u8 protocol) {
        return protocol == HT_PROTO_UNKNOWN || ht_protocol_traced(protocol);
}

/*
 * The protocol an inference result names, HT_PROTO_UNKNOWN if it names none.
 * An HTTP/2 server's SETTINGS names HTTP/2 only at the connection's first
 * byte (from_start): mid-stream any frame header may look like it; a
 * request's or response's HEADERS only mid-stream.
 */
static __always_inline __u8 protocol_of(int r, bool from_start) {
        switch (r) {
        case HT_INFER_REQUEST:
        case HT_INFER_RESPONSE:
                return HT_PROTO_HTTP1;
        case HT_INFER_HTTP2:
                return HT_PROTO_HTTP2;
        case HT_INFER_HTTP2_SETTINGS:
                return from_start ? HT_PROTO_HTTP2 : HT_PROTO_UNKNOWN;
        case HT_INFER_HTTP2_REQUEST:
        case HT_INFER_HTTP2_RESPONSE:
                /* mid-stream only: from the start, the preface or a SETTINGS comes first */
                return from_start ? HT_PROTO_UNKNOWN : HT_PROTO_HTTP2;
        default:
                return HT_PROTO_UNKNOWN;
        }
}

/*
 * How an operation's bytes ended, for the next one in its direction
 * (ht_conn.tail). last: its last byte if known (have_last), else read from
 * user memory; an operation known only by its first iovec leaves the tail
 * unknown.
 */
static __always_inline void midstream_tail(struct ht_conn *c, __u64 first, __u64 avail, bool whole, __u8 dir,
                                           unsigned char last, bool have_last) {
        __u8 t = HT_TAIL_UNKNOWN;

        if (whole && avail > 0) {
                if (have_last || bpf_probe_read_user(&last, 1, (const void *) (first + avail - 1)) == 0)
                        t = last == '\n' ? HT_TAIL_EOL : HT_TAIL_OTHER;
        }
        c->tail[dir & 1] = t;
}

/*
 * Control frames looked past for a HEADERS frame mid-stream: gRPC flushes at
 * most a WINDOW_UPDATE and a PING (or PING ACK) ahead of a call's HEADERS; a
 * third leaves room for a SETTINGS ACK. Each costs one read of
 * HT_INFER_BYTES, and only for operations that begin with such a frame.
 */
#define HT_H2_CONTROL_SKIP_MAX 3

/* The bytes ht_infer_h2_behind_control() looks at: a type of known size for a global function's argument. */
struct ht_infer_window {
        unsigned char b[HT_INFER_BYTES];
};

/*
 * Mid-stream: the first HT_INFER_BYTES of the operation's bytes at first
 * (avail readable there) are in w and name no protocol. If they begin with
 * HTTP/2 control frames (ht_infer_h2_control_len()), look behind them, within
 * the readable bytes, for a HEADERS frame that begins a request or response.
 * Returns HT_INFER_HTTP2_REQUEST/_RESPONSE or HT_INFER_UNKNOWN; w is
 * clobbered. A global function, verified once rather than in each of the
 * programs that classify connections (inlined, its loop of reads took them
 * past the verifier's limit).
 */
__attribute__((noinline)) int ht_infer_h2_behind_control(struct ht_infer_window *w, __u64 first, __u64 avail) {
        __u64 off = 0;

        if (!w)
                return HT_INFER_UNKNOWN;
        for (int i = 0; i < HT_H2_CONTROL_SKIP_MAX; i++) {
                unsigned k = ht_infer_h2_control_len(w->b, HT_INFER_BYTES);
                __u64 n;
                int r;

                if (k == 0)
                        return HT_INFER_UNKNOWN;
                off += k;
                /* a HEADERS frame header and the first byte of its block */
                if (off + 10 > avail)
                        return HT_INFER_UNKNOWN;
                n = avail - off < HT_INFER_BYTES ? avail - off : HT_INFER_BYTES;
                barrier_var(n);
                if (n > HT_INFER_BYTES)
                        return HT_INFER_UNKNOWN;
                __builtin_memset(w->b, 0, HT_INFER_BYTES);
                if (bpf_probe_read_user(w->b, n, (const void *) (first + off)) < 0) {
                        count(HT_CNT_READ_FAULTS, 1);
                        return HT_INFER_UNKNOWN;
                }
                r = ht_infer_h2_headers(w->b, n);
                if (r != 0)
                        return r;
        }
        return HT_INFER_UNKNOWN;
}

/*
 * Classify a connection from the first bytes of an operation (first, avail
 * of them readable there, in user memory); true if it is traced now.
 * *ret_prefix is set to the number of stashed bytes from earlier operations
 * that must be sent ahead of this operation's bytes.
 *
 * Bytes too few to decide are kept in the connection's stash and decided
 * on with the next operation's: from the connection's first byte always;
 * mid-stream (a connection seen first after its start) while they could
 * still begin a message start (ht_infer_partial()) and follow a line end
 * (ht_conn.tail), so that a reader of one byte per read() is recognised at
 * its next message after a line end. whole: [first, first + avail) are all
 * the operation's bytes (not only its first iovec's): its last byte says
 * how the next operation's bytes may begin. Mid-stream, an
 * operation of HT_INFER_BYTES or more that begins no message counts one
 * probe of HT_MIDSTREAM_PROBES; shorter ones cost one small read each and
 * count nothing.
 */
static __always_inline bool protocol_infer(struct ht_conn *c, __u64 first, __u64 avail, bool whole,
                                           __u8 dir, __u32 *ret_prefix) {
        unsigned char b[HT_INFER_BYTES] = {};
        __u32 n = avail < HT_INFER_BYTES ? avail : HT_INFER_BYTES;
        __u32 prev = c->stash_len, mine;
        bool from_start = c->flags & HT_CONN_SEEN_START;
        __u8 protocol;
        int r;

        *ret_prefix = 0;
        if (ht_protocol_traced(c->protocol))
                return true;
        if (c->protocol != HT_PROTO_UNKNOWN)
                return false;
        if (n == 0)
                return false;

        if (prev > 0 && c->stash_dir != dir) {
                if (from_start)
                        goto not_traced;   /* both sides spoke before a method: not HTTP/1 */
                prev = 0;                  /* mid-stream: what the other side sent began no message */
        }
        if (!from_start && prev == 0 && n < HT_INFER_BYTES && c->tail[dir & 1] == HT_TAIL_OTHER) {
                /* Mid-stream, short, and not after a line end: no message start (see ht_conn.tail). */
                midstream_tail(c, first, avail, whole, dir, 0, 0);
                return false;
        }
        if (prev > 0 || n < HT_INFER_BYTES) {
                /* Too short to decide: keep the bytes and decide on more of them. */
                __u32 take = HT_INFER_BYTES - prev;

                if (take > n)
                        take = n;
                prev &= HT_INFER_BYTES - 1;
                take &= HT_INFER_BYTES - 1;
                barrier_var(prev);
                barrier_var(take);
                if (take > 0 && bpf_probe_read_user(c->stash + prev, take, (const void *) first) < 0) {
                        count(HT_CNT_READ_FAULTS, 1);
                        return false;
                }
                if (prev == 0)
                        c->stash_ns = bpf_ktime_get_ns();
                c->stash_len = prev + take;
                c->stash_dir = dir;
                __builtin_memcpy(b, c->stash, HT_INFER_BYTES);
                n = prev + take;
                mine = take;
        } else {
                mine = n;
                barrier_var(n);
                if (n > HT_INFER_BYTES)
                        return false;
                if (bpf_probe_read_user(b, n, (const void *) first) < 0) {
                        count(HT_CNT_READ_FAULTS, 1);
                        return false;
                }
        }
        r = ht_infer_protocol(b, n);
        if (!from_start && prev > 0 && r == HT_INFER_UNKNOWN && !(n < HT_INFER_BYTES && ht_infer_partial(b, n)) &&
            c->tail[dir & 1] != HT_TAIL_OTHER) {
                /* The bytes kept began no message after all; this operation's own may. */
                prev = 0;
                n = avail < HT_INFER_BYTES ? avail : HT_INFER_BYTES;
                barrier_var(n);
                if (n > HT_INFER_BYTES)
                        return false;
                if (bpf_probe_read_user(c->stash, n, (const void *) first) < 0) {
                        c->stash_len = 0;
                        count(HT_CNT_READ_FAULTS, 1);
                        return false;
                }
                c->stash_ns = bpf_ktime_get_ns();
                c->stash_len = n;
                __builtin_memcpy(b, c->stash, HT_INFER_BYTES);
                mine = n;
                r = ht_infer_protocol(b, n);
        }
        if (!from_start && prev == 0 && r == HT_INFER_UNKNOWN && n == HT_INFER_BYTES)
                /* b holds this operation's first bytes: HEADERS behind control frames sent with them */
                r = ht_infer_h2_behind_control((struct ht_infer_window *) b, first, avail);
        protocol = protocol_of(r, from_start);

        if (protocol != HT_PROTO_UNKNOWN) {
                bool role_known = c->role != HT_ROLE_UNKNOWN;

                c->protocol = protocol;
                c->stash_len = 0;
                if (!ht_protocol_traced(protocol)) {
                        count(HT_CNT_CONNS_OTHER, 1);
                        return false;
                }
                if (!role_known) {
                        /* The HTTP/2 preface, like a request, is the client's; a first SETTINGS, the server's. */
                        bool request = r == HT_INFER_REQUEST || r == HT_INFER_HTTP2 || r == HT_INFER_HTTP2_REQUEST;
                        bool ingress = dir == HT_DIR_INGRESS;

                        c->role = request == ingress ? HT_ROLE_SERVER : HT_ROLE_CLIENT;
                }
                *ret_prefix = prev;
                if (!from_start)
                        /* Decided on a message start: this direction's next record begins it. */
                        c->flags |= dir == HT_DIR_INGRESS ? HT_CONN_SYNC_INGRESS : HT_CONN_SYNC_EGRESS;
                count(HT_CNT_CONNS_HTTP, 1);
                /* The role filter could not be applied before the first message told the role. */
                if (!role_known && c->filter_gen != 0 && !role_pass(&filter_config[c->filter_gen & 1], c->role)) {
                        c->flags |= HT_CONN_FILTERED;
                        count(HT_CNT_FILTERED_CONNS, 1);
                        return false;
                }
                return true;
        }
        /*
         * From the first byte, anything else is not traced once we have seen
         * HT_INFER_BYTES of it. Mid-stream, keep looking a while for a
         * message start.
         */
        if (r == HT_INFER_OTHER || (from_start && n >= HT_INFER_BYTES))
                goto not_traced;
        if (from_start)
                return false;
        midstream_tail(c, first, avail, whole, dir, b[(n - 1) & (HT_INFER_BYTES - 1)], mine == avail);
        if (n < HT_INFER_BYTES && ht_infer_partial(b, n))
                return false;      /* kept in the stash: may begin a message with the next bytes */
        c->stash_len = 0;
        if (n >= HT_INFER_BYTES && ++c->probes >= HT_MIDSTREAM_PROBES)
                goto not_traced;
        return false;

not_traced:
        c->protocol = HT_PROTO_OTHER;
        c->stash_len = 0;
        count(HT_CNT_CONNS_OTHER, 1);
        return false;
}
