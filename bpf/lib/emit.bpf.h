/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The records user space receives: CONN_OPEN (announce()), DATA
 * (emit_data_from()), CONN_CLOSE and PROC_EXIT, written to the one ring
 * buffer with batched wakeups. Callable from any source: the caller
 * describes its operation in a struct ht_op, so what each record says (its
 * source, its kind of operation) is the caller's decision.
 *
 * Nothing is lost silently: a record that does not fit in the ring buffer is
 * counted per CPU, and a data record's bytes are carried to user space as
 * lost_before on the next record of the same direction (lost_other on the
 * other's), or on the close record; when no record of the connection gets
 * through, its lost requests are counted in the kernel (lose_unreported()).
 */
#pragma once

#include "identity.bpf.h"
#include "infer.h"
#include "maps.bpf.h"

/*
 * One operation of a source on a connection, as the records report it.
 * kind goes to ht_data_event.syscall (enum ht_syscall for the syscall
 * source, enum ht_tls_op for the TLS source); source and library go to
 * ht_conn_open_event when the operation is the one that announces the
 * connection, source to ht_conn_close_event.
 */
struct ht_op {
        __u64 pid_tgid;          /* tgid << 32 | tid, in the daemon's PID namespace (task_ids()) */
        __s32 fd;                /* -1 when the operation concerns no fd (process exit) */
        __u8 direction;          /* enum ht_direction */
        __u8 kind;               /* enum ht_syscall */
        __u8 source;             /* enum ht_source */
        __u8 library;            /* HT_SOURCE_TLS: 1 + index of the TLS library file; else 0 */
};

static __always_inline void fill_header(struct ht_event_header *h, __u16 type, __u32 size,
                                        __u64 conn_id, const struct ht_op *op) {
        h->type = type;
        h->_pad0 = 0;
        h->size = size;
        h->timestamp_ns = bpf_ktime_get_ns();
        h->conn_id = conn_id;
        h->tgid = op->pid_tgid >> 32;
        h->tid = (__u32) op->pid_tgid;
        h->fd = op->fd;
        h->_pad1 = 0;
}

/* A record of fixed size, counted as delivered or dropped. */
static __always_inline bool emit_record(void *ev, __u32 size) {
        if (bpf_ringbuf_output(&events, ev, size, rb_flags()) < 0) {
                count(HT_CNT_RINGBUF_DROPS, 1);
                return false;
        }
        count(HT_CNT_RECORDS, 1);
        return true;
}

/* A u32 count as a record's u16 field: saturating (user space then knows no more than "many"). */
static __always_inline __u16 starts16(__u32 n) {
        return n > 0xffff ? 0xffff : n;
}

/*
 * length bytes of direction dir that did not fit in the ring buffer: carried
 * to user space on the connection's next record. If the lost record began a
 * segment (segment_start) whose first bytes look like a request or status
 * line, it is also counted as a lost message start, so that user space can
 * count the exchanges the loss took and pair what follows correctly (a
 * message starting inside a segment, behind a pipelined one, is not seen
 * here). buf as for emit_data_from(); 0 for a pure gap.
 */
static __always_inline void lose(struct ht_conn *c, __u8 dir, __u64 buf, bool kernel_buf, __u32 length,
                                 bool segment_start) {
        unsigned char b[HT_INFER_BYTES] = {};
        __u32 n = length < HT_INFER_BYTES ? length : HT_INFER_BYTES;
        int kind;

        dir &= 1;
        __sync_fetch_and_add(&c->lost[dir], length);
        if (!buf || !segment_start || n < 4)
                return;
        if ((kernel_buf ? bpf_probe_read_kernel(b, sizeof(b), (const void *) buf)
                        : bpf_probe_read_user(b, sizeof(b), (const void *) buf)) < 0 &&
            (kernel_buf ? bpf_probe_read_kernel(b, 4, (const void *) buf)
                        : bpf_probe_read_user(b, 4, (const void *) buf)) < 0)
                return;
        kind = ht_infer_protocol(b, n);
        if (kind == HT_INFER_REQUEST || kind == HT_INFER_RESPONSE) {
                __sync_fetch_and_add(&c->lost_starts[dir], 1);
                count(HT_CNT_LOST_STARTS, 1);
        }
}

/*
 * c ends for user space with losses that no delivered record reported: it
 * was never announced, or its close record did not fit either. The bytes go
 * with it; each request start among them is an exchange that user space
 * will never hear of (its request, and whatever answered it, were lost in
 * the full ring), so it is counted here, where it is still known. The role
 * says which direction holds the requests; lose() counts a start only in
 * bytes that classified, and classifying tells the role, so an unknown role
 * with starts is a mid-stream guess at most: the larger direction then.
 * Cleared, so that nothing is reported or counted twice.
 */
static __always_inline void lose_unreported(struct ht_conn *c) {
        __u32 in = c->lost_starts[HT_DIR_INGRESS], out = c->lost_starts[HT_DIR_EGRESS];
        __u32 requests = c->role == HT_ROLE_SERVER ? in : c->role == HT_ROLE_CLIENT ? out : in > out ? in : out;

        if (requests)
                count(HT_CNT_EXCHANGES_LOST_UNSEEN, requests);
        c->lost[0] = c->lost[1] = 0;
        c->lost_starts[0] = c->lost_starts[1] = 0;
}

static __always_inline void emit_close(struct ht_conn *c, const struct ht_op *op, __u32 reason) {
        struct ht_conn_close_event ev = {};
        __u64 lost0 = c->lost[0], lost1 = c->lost[1];
        __u32 starts0 = c->lost_starts[0], starts1 = c->lost_starts[1];

        fill_header(&ev.hdr, HT_EVENT_CONN_CLOSE, sizeof(ev), c->id, op);
        ev.reason = reason;
        ev.source = op->source;
        /* what was lost since the last record, reported before the connection ends */
        ev.lost[0] = lost0;
        ev.lost[1] = lost1;
        ev.lost_starts[0] = starts16(starts0);
        ev.lost_starts[1] = starts16(starts1);
        if (!emit_record(&ev, sizeof(ev))) {
                count(HT_CNT_CLOSES_LOST, 1);
                lose_unreported(c);
                return;
        }
        /* Reported: an entry that stays (a filtered connection) must not report it again. */
        if (lost0)
                __sync_fetch_and_add(&c->lost[0], -lost0);
        if (lost1)
                __sync_fetch_and_add(&c->lost[1], -lost1);
        if (starts0)
                __sync_fetch_and_add(&c->lost_starts[0], -starts0);
        if (starts1)
                __sync_fetch_and_add(&c->lost_starts[1], -starts1);
}

/*
 * Send the CONN_OPEN record once per connection (and per re-inclusion by
 * the filter); false when it did not fit (the caller then counts the bytes
 * as lost).
 */
static __always_inline bool announce(struct ht_conn *c, const struct ht_op *op) {
        struct ht_conn_open_event *ev;
        __u32 tgid = op->pid_tgid >> 32;
        __u8 one = 1;
        __u64 rbf;

        if (c->flags & HT_CONN_ANNOUNCED)
                return true;

        /* Filled in place: with the executable's path it is too big for the BPF stack. */
        rbf = rb_flags();
        ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
        if (!ev) {
                count(HT_CNT_RINGBUF_DROPS, 1);
                return false;
        }
        __builtin_memset(ev, 0, sizeof(*ev));
        fill_header(&ev->hdr, HT_EVENT_CONN_OPEN, sizeof(*ev), c->id, op);
        ev->family = c->family;
        ev->local_port = c->local_port;
        ev->remote_port = c->remote_port;
        ev->role = c->role;
        ev->protocol = c->protocol;
        __builtin_memcpy(ev->local_addr, c->local_addr, 16);
        __builtin_memcpy(ev->remote_addr, c->remote_addr, 16);
        ev->flags = c->flags & (HT_CONN_SEEN_START | HT_CONN_SYNC_INGRESS | HT_CONN_SYNC_EGRESS);
        ev->source = op->source;
        ev->tls_library = op->library;
        ev->sock = c->sock;
        bpf_get_current_comm(ev->comm, sizeof(ev->comm));
        identity_fill(ev);
        bpf_ringbuf_submit(ev, rbf);
        count(HT_CNT_RECORDS, 1);

        c->flags |= HT_CONN_ANNOUNCED;
        bpf_map_update_elem(&http_procs, &tgid, &one, BPF_ANY);
        return true;
}

/*
 * Data records are written straight into the ring buffer: user (or kernel)
 * memory is read once, into the reserved record, instead of into a per-CPU
 * scratch value and then copied again by bpf_ringbuf_output(). The verifier
 * wants bpf_ringbuf_reserve()'s size as a constant, so a record takes the
 * smallest of these slots that holds it (steps of about 1.5x: at most a third
 * of a slot is padding, which user space never reads: it goes by
 * hdr.size and captured). bpf_ringbuf_reserve_dynptr() takes any size, but
 * filling a dynptr from user memory needs bpf_probe_read_user_dynptr()
 * (Linux 6.16) or a second copy.
 */
#define HT_DATA_SLOTS(X)                                                                              \
        X(128) X(192) X(256) X(384) X(512) X(768) X(1024) X(1536) X(2048) X(3072) X(4096) X(6144)     \
        X(8192) X(12288) X(16384) X(24576) X(32768)
_Static_assert(sizeof(struct ht_data_event) + HT_PAYLOAD_CAP <= 32768, "the largest slot must hold the largest record");

/* emit_data_from()'s arguments past the connection and the operation (a BPF function takes five). */
struct ht_emit_args {
        __u64 buf;
        __u64 op_bytes;
        __u64 ts;
        __u32 length;
        __u8 flags;
        __u8 kernel_buf;
        __u8 _pad[2];
};

/*
 * The body of emit_data_from(), a global (not inlined) function: the
 * verifier checks a global function once, on its own, instead of once per
 * call site and per path leading to it. Inlined, the 17 slot branches (and
 * the loss accounting after them) were walked again in every exit program
 * for every path of its caller: 942,589 instructions processed per exit
 * program, 10 of them, a 30-60 s load on a busy 2-core machine and a
 * hair's breadth from the verifier's 1M limit.
 */
__attribute__((noinline)) int ht_emit_data(struct ht_conn *c, const struct ht_op *op, const struct ht_emit_args *a) {
        struct ht_data_event *ev = NULL;
        __u32 cap = 0, got = 0, length;
        __u8 dir, flags;
        __u64 lost, lost_other, rbf, buf;
        __u32 starts, starts_other;
        bool kernel_buf;

        if (!c || !op || !a)
                return 0;
        buf = a->buf;
        length = a->length;
        flags = a->flags;
        kernel_buf = a->kernel_buf;
        dir = op->direction & 1;

        if (buf) {
                cap = length < payload_max ? length : payload_max;
                if (cap > HT_PAYLOAD_CAP)
                        cap = HT_PAYLOAD_CAP;
        }
        /* Flags before the reservation: the query must not count this record as pending. */
        rbf = rb_flags();
        barrier_var(cap);
        /*
         * Each slot its own branch, so that the verifier sees a constant
         * size for the reservation and a bound for the read that fits it.
         */
#define X(n)                                                                                          \
        if (cap <= (n) - sizeof(struct ht_data_event)) {                                              \
                ev = bpf_ringbuf_reserve(&events, (n), 0);                                            \
                if (ev && cap > 0) {                                                                  \
                        __u32 want = cap;                                                             \
                        barrier_var(want);                                                            \
                        if (want > (n) - sizeof(struct ht_data_event))                                \
                                want = (n) - sizeof(struct ht_data_event);                            \
                        if ((kernel_buf ? bpf_probe_read_kernel(ev->data, want, (const void *) buf)   \
                                        : bpf_probe_read_user(ev->data, want, (const void *) buf)) == 0) \
                                got = want;                                                           \
                }                                                                                     \
        } else
        HT_DATA_SLOTS(X)
                return 0;
#undef X

        if (!ev) {
                count(HT_CNT_RINGBUF_DROPS, 1);
                count(HT_CNT_RINGBUF_DROP_BYTES, length);
                lose(c, dir, buf, kernel_buf, length, flags & HT_DATA_SEGMENT_START);
                return 0;
        }
        if (got != cap) {
                flags |= HT_DATA_FAULT;
                count(HT_CNT_READ_FAULTS, 1);
        }

        /* Both directions' losses ride on any record: user space learns them in time order. */
        lost = c->lost[dir];
        lost_other = c->lost[!dir];
        starts = c->lost_starts[dir];
        starts_other = c->lost_starts[!dir];
        fill_header(&ev->hdr, HT_EVENT_DATA, sizeof(*ev) + got, c->id, op);
        if (a->ts)
                ev->hdr.timestamp_ns = a->ts;
        ev->syscall_bytes = a->op_bytes;
        ev->lost_before = lost;
        ev->lost_other = lost_other;
        ev->lost_starts[dir] = starts16(starts);
        ev->lost_starts[!dir] = starts16(starts_other);
        ev->length = length;
        ev->captured = got;
        ev->direction = dir;
        ev->syscall = op->kind;
        ev->flags = flags;
        ev->_pad[0] = 0;
        bpf_ringbuf_submit(ev, rbf);

        if (lost)
                __sync_fetch_and_add(&c->lost[dir], -lost);
        if (lost_other)
                __sync_fetch_and_add(&c->lost[!dir], -lost_other);
        if (starts)
                __sync_fetch_and_add(&c->lost_starts[dir], -starts);
        if (starts_other)
                __sync_fetch_and_add(&c->lost_starts[!dir], -starts_other);
        count(HT_CNT_RECORDS, 1);
        count(HT_CNT_CAPTURED_BYTES, got);
        if (length > got)
                count(HT_CNT_GAP_BYTES, length - got);
        return 0;
}

/*
 * One data record of op: up to payload_max bytes of buf, and (length -
 * captured) bytes of gap. buf == 0 means a pure gap (sendfile, splice, an
 * iovec that could not be read); kernel_buf says buf is kernel memory (the connection's stash).
 * op_bytes is the operation's whole byte count (ht_data_event.syscall_bytes);
 * ts, if not 0, replaces the record's timestamp.
 */
static __always_inline void emit_data_from(struct ht_conn *c, const struct ht_op *op, __u64 buf,
                                           bool kernel_buf, __u32 length, __u64 op_bytes,
                                           __u8 flags, __u64 ts) {
        struct ht_emit_args a = {
                .buf = buf, .op_bytes = op_bytes, .ts = ts, .length = length, .flags = flags,
                .kernel_buf = kernel_buf,
        };

        ht_emit_data(c, op, &a);
}

/* emit_data_from() a user buffer, stamped now. */
static __always_inline void emit_data(struct ht_conn *c, const struct ht_op *op, __u64 buf,
                                      __u32 length, __u64 op_bytes, __u8 flags) {
        emit_data_from(c, op, buf, false, length, op_bytes, flags, 0);
}

/* PROC_EXIT: the process of op (its thread group leader) is gone, with whatever it held. */
static __always_inline void emit_proc_exit(const struct ht_op *op) {
        struct ht_event_header ev = {};

        fill_header(&ev, HT_EVENT_PROC_EXIT, sizeof(ev), 0, op);
        emit_record(&ev, sizeof(ev));
}
