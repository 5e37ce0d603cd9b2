/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connection table: decoded calls in, protocol handlers fed. See conn.h.
 *
 * Connections are found, per source, by their id (every call names it) and
 * by their socket (ConnInfo.sock), so that an open for a socket we still
 * hold under another id (its end was not seen: kernel map eviction, a
 * re-announcement) finishes the old one first. An activity list ordered by last record gives the idle expiry
 * in O(expired) rather than a scan.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/hashmap.h"
#include "basic/macro.h"
#include "conn/conn.h"

const Limits limits_default = {
        /* Two heads in flight plus queued requests with their heads. */
        .conn_memory_max = 256 * 1024,
        /* Bounds the daemon's buffers whatever the traffic; 10k idle connections hold ~nothing. */
        .global_memory_max = 64u * 1024 * 1024,
        /* Matches the kernel's connection map. */
        .conns_max = CONN_TRACKED_DEFAULT,
        /* Long enough for slow backends and long polls; pending requests then become no-response entries. */
        .idle_timeout_ns = 300 * NSEC_PER_SEC,
};

typedef struct Conn Conn;
struct Conn {
        ConnInfo info;
        const ProtocolOps *ops;
        void *proto;
        size_t reserved;          /* its fixed cost, counted in ConnTable.budget (conn_fixed_cost()) */
        uint64_t last_ns;
        Conn *older, *newer;      /* activity list */
};

struct ConnTable {
        Limits limits;
        Stats *stats;
        ExchangeSink sink;
        MemBudget budget;
        void *protocol_limits[_CONN_PROTOCOL_MAX];  /* per protocol: its own caps, NULL until set */
        HashMap *by_id[_CONN_SOURCE_MAX];   /* per source: two views of one socket never collide */
        HashMap *by_sock[_CONN_SOURCE_MAX];  /* ConnInfo.sock (0: unknown, not indexed) */
        Conn *oldest, *newest;
        Conn *last;                         /* the last one a record named: most records name it again */
        ConnForgetFn forget;
        void *forget_userdata;
        uint64_t last_ts;
};


int conn_table_new(const Limits *limits, Stats *stats, const ExchangeSink *sink, ConnTable **ret) {
        ConnTable *t;

        if (!stats || !sink || !ret)
                return -EINVAL;

        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->limits = limits ? *limits : limits_default;
        t->stats = stats;
        t->sink = *sink;
        t->budget.max = t->limits.global_memory_max;
        t->budget.spare_max = MEM_SPARE_MAX;
        t->budget.spare_reused = &stats->spare_reused;   /* a cost, shown in status */
        /* The table and its empty maps count too: status shows budget.used, never more than the cap. */
        t->budget.used = sizeof(*t) + 2 * _CONN_SOURCE_MAX * hashmap_memory_empty();
        for (size_t i = 0; i < _CONN_SOURCE_MAX; i++) {
                t->by_id[i] = hashmap_new();
                t->by_sock[i] = hashmap_new();
                if (!t->by_id[i] || !t->by_sock[i]) {
                        conn_table_free(t);
                        return -ENOMEM;
                }
        }
        *ret = t;
        return 0;
}

void conn_table_set_forget(ConnTable *t, ConnForgetFn fn, void *userdata) {
        t->forget = fn;
        t->forget_userdata = userdata;
}

int conn_table_set_protocol_limits(ConnTable *t, const ProtocolOps *ops, const void *limits) {
        if (!t || !ops || !limits || (size_t) ops->id >= _CONN_PROTOCOL_MAX || ops->limits_size == 0)
                return -EINVAL;
        /* Allocated once and then overwritten in place: open handlers hold a pointer to it. */
        if (!t->protocol_limits[ops->id]) {
                t->protocol_limits[ops->id] = malloc(ops->limits_size);
                if (!t->protocol_limits[ops->id])
                        return -ENOMEM;
        }
        memcpy(t->protocol_limits[ops->id], limits, ops->limits_size);
        return 0;
}

void conn_table_set_limits(ConnTable *t, const Limits *limits) {
        t->limits = *limits;
        t->budget.max = limits->global_memory_max;
}

static void activity_unlink(ConnTable *t, Conn *c) {
        if (c->older)
                c->older->newer = c->newer;
        else if (t->oldest == c)
                t->oldest = c->newer;
        if (c->newer)
                c->newer->older = c->older;
        else if (t->newest == c)
                t->newest = c->older;
        c->older = c->newer = NULL;
}

static void activity_touch(ConnTable *t, Conn *c, uint64_t ts) {
        if (ts > c->last_ns)
                c->last_ns = ts;
        if (t->newest == c)
                return;
        activity_unlink(t, c);
        c->older = t->newest;
        if (t->newest)
                t->newest->newer = c;
        t->newest = c;
        if (!t->oldest)
                t->oldest = c;
}

/*
 * What one connection costs whatever its traffic: its Conn, its share of
 * the two maps that find it (at their worst load) and the protocol's state.
 * Counted against limits.global_memory_max when it opens, so that
 * per-connection structures are inside the cap like the buffers: 10k idle
 * connections cannot hold more than the cap says (a connection that does
 * not fit is refused and counted, conns_refused, as over conns_max).
 */
static size_t conn_fixed_cost(const ProtocolOps *ops) {
        return sizeof(Conn) + 2 * hashmap_memory_per_item_max() + ops->state_size;
}

/* Finish the protocol state (emitting what is pending) and free the connection. */
static void conn_drop(ConnTable *t, Conn *c, uint64_t ts, ExchangeEndReason reason) {
        if (c->proto) {
                (void) c->ops->finish(c->proto, ts, reason);
                c->proto = c->ops->free(c->proto);
        }
        (void) hashmap_remove(t->by_id[c->info.source], c->info.id);
        if (c->info.sock != 0 && hashmap_get(t->by_sock[c->info.source], c->info.sock) == c)
                (void) hashmap_remove(t->by_sock[c->info.source], c->info.sock);
        activity_unlink(t, c);
        if (t->last == c)
                t->last = NULL;
        t->stats->conns_closed++;
        if (t->stats->conns_active > 0)
                t->stats->conns_active--;
        mem_budget_release(&t->budget, c->reserved);
        free(c);
}

ConnTable *conn_table_free(ConnTable *t) {
        if (!t)
                return NULL;
        /* Without emitting: callers that want entries call conn_table_finish_all() first. */
        while (t->oldest) {
                Conn *c = t->oldest;

                activity_unlink(t, c);
                if (c->proto)
                        c->proto = c->ops->free(c->proto);
                mem_budget_release(&t->budget, c->reserved);
                free(c);
        }
        for (size_t i = 0; i < _CONN_SOURCE_MAX; i++) {
                hashmap_free(t->by_id[i]);
                hashmap_free(t->by_sock[i]);
        }
        for (size_t i = 0; i < _CONN_PROTOCOL_MAX; i++)
                free(t->protocol_limits[i]);
        mem_budget_spare_free(&t->budget);
        free(t);
        return NULL;
}

static inline Conn *conn_find(const ConnTable *t, uint8_t source, uint64_t id) {
        return source < _CONN_SOURCE_MAX ? hashmap_get(t->by_id[source], id) : NULL;
}

bool conn_table_has(const ConnTable *t, ConnSource source, uint64_t id) {
        return t && conn_find(t, source, id);
}

int conn_table_open(ConnTable *t, const ConnInfo *info, const ProtocolOps *ops) {
        ProtocolContext ctx;
        Conn *c, *old;
        size_t cost;
        int r;

        if (!t || !info || info->source >= _CONN_SOURCE_MAX)
                return -EINVAL;
        if (info->opened_ns > t->last_ts)
                t->last_ts = info->opened_ns;

        old = conn_find(t, info->source, info->id);
        if (old)
                /* Re-announced after we expired it, or a duplicate: start afresh. */
                conn_drop(t, old, info->opened_ns, EXCHANGE_END_CLOSED);
        old = info->sock != 0 ? hashmap_get(t->by_sock[info->source], info->sock) : NULL;
        if (old) {
                /* Same socket, new connection: the old one's end was not seen (its kernel entry evicted). */
                t->stats->conns_reopened++;
                conn_drop(t, old, info->opened_ns, EXCHANGE_END_CLOSED);
        }

        if (!ops)
                return -EPROTONOSUPPORT;
        if (conn_table_size(t) >= t->limits.conns_max) {
                t->stats->conns_refused++;
                return 0;
        }
        cost = conn_fixed_cost(ops);
        if (!mem_budget_reserve(&t->budget, cost)) {
                t->stats->conns_refused++;
                t->stats->memory_refused += cost;
                return 0;
        }

        c = calloc(1, sizeof(*c));
        if (!c) {
                mem_budget_release(&t->budget, cost);
                return -ENOMEM;
        }
        c->reserved = cost;
        c->info = *info;
        c->info.comm[CONN_COMM_LEN] = 0;
        c->ops = ops;

        ctx = (ProtocolContext) {
                .conn = &c->info,
                .sink = &t->sink,
                .stats = t->stats,
                .budget = &t->budget,
                .limits = &t->limits,
                .protocol_limits = (size_t) ops->id < _CONN_PROTOCOL_MAX && t->protocol_limits[ops->id] ?
                                   t->protocol_limits[ops->id] : ops->limits_default,
        };
        r = c->ops->new(&ctx, &c->proto);
        if (r < 0) {
                mem_budget_release(&t->budget, cost);
                free(c);
                return r;
        }

        r = hashmap_put(t->by_id[c->info.source], c->info.id, c);
        if (r >= 0 && c->info.sock != 0) {
                r = hashmap_put(t->by_sock[c->info.source], c->info.sock, c);
                if (r < 0)
                        (void) hashmap_remove(t->by_id[c->info.source], c->info.id);
        }
        if (r < 0) {
                c->ops->free(c->proto);
                mem_budget_release(&t->budget, cost);
                free(c);
                return r;
        }
        activity_touch(t, c, info->opened_ns);
        t->stats->conns_opened++;
        t->stats->conns_active++;
        return 0;
}

/* The connection (source, id), touched at ts; NULL if there is none. */
static inline Conn *conn_touch(ConnTable *t, ConnSource source, uint64_t id, uint64_t ts) {
        Conn *c;

        if (!t)
                return NULL;
        if (ts > t->last_ts)
                t->last_ts = ts;
        c = t->last;
        if (!c || c->info.id != id || c->info.source != source) {
                c = conn_find(t, source, id);
                if (!c)
                        return NULL;
                t->last = c;
        }
        activity_touch(t, c, ts);
        return c;
}

int conn_table_data(ConnTable *t, ConnSource source, uint64_t id, ConnDirection direction,
                    const uint8_t *buf, size_t n, uint64_t ts_ns, uint32_t tid, bool segment_start) {
        Conn *c = conn_touch(t, source, id, ts_ns);

        if (!c)
                return -ENOENT;
        if (n == 0)
                return 0;
        return c->ops->data(c->proto, direction & 1, buf, n, ts_ns, tid, segment_start);
}

int conn_table_gap(ConnTable *t, ConnSource source, uint64_t id, ConnDirection direction, uint64_t n,
                   uint64_t ts_ns) {
        Conn *c = conn_touch(t, source, id, ts_ns);

        if (!c)
                return -ENOENT;
        if (n == 0)
                return 0;
        return c->ops->gap(c->proto, direction & 1, n, ts_ns);
}

/* Lost records before ts: the protocol's own accounting, or else gaps (the request direction first). */
static int conn_loss(Conn *c, const ConnLoss *l, uint64_t ts) {
        int r;

        if (c->ops->loss)
                return c->ops->loss(c->proto, l, ts);
        for (int d = 0; d < 2; d++) {
                int dir = c->info.role == CONN_ROLE_CLIENT ? !d : d;

                if (l->bytes[dir] == 0)
                        continue;
                r = c->ops->gap(c->proto, dir, l->bytes[dir], ts);
                if (r < 0)
                        return r;
        }
        return 0;
}

int conn_table_loss(ConnTable *t, ConnSource source, uint64_t id, const ConnLoss *loss, uint64_t ts_ns) {
        Conn *c = conn_touch(t, source, id, ts_ns);

        if (!c)
                return -ENOENT;
        if (!loss || !conn_loss_any(loss))
                return 0;
        return conn_loss(c, loss, ts_ns);
}

int conn_table_segment(ConnTable *t, const ConnSegment *s) {
        Conn *c = conn_touch(t, s->source, s->id, s->ts_ns);
        ConnDirection direction = s->direction & 1;
        int r;

        if (!c)
                return -ENOENT;
        if (s->lost_before > 0 || s->lost_other > 0 || s->lost_starts[0] || s->lost_starts[1]) {
                ConnLoss l = { .starts = { s->lost_starts[0], s->lost_starts[1] } };

                l.bytes[direction] = s->lost_before;
                l.bytes[!direction] = s->lost_other;
                r = conn_loss(c, &l, s->ts_ns);
                if (r < 0)
                        return r;
        }
        if (s->n > 0) {
                r = c->ops->data(c->proto, direction, s->buf, s->n, s->ts_ns, s->tid, s->segment_start);
                if (r < 0)
                        return r;
        }
        if (s->gap_after > 0)
                return c->ops->gap(c->proto, direction, s->gap_after, s->ts_ns);
        return 0;
}

int conn_table_close(ConnTable *t, ConnSource source, uint64_t id, uint64_t ts_ns) {
        Conn *c = conn_touch(t, source, id, ts_ns);

        if (!c)
                return -ENOENT;
        conn_drop(t, c, ts_ns, EXCHANGE_END_CLOSED);
        return 0;
}

void conn_table_process_exit(ConnTable *t, uint32_t tgid, uint64_t ts_ns) {
        if (!t)
                return;
        if (ts_ns > t->last_ts)
                t->last_ts = ts_ns;
        /* O(connections); exits of processes that held HTTP connections are comparatively rare. */
        for (Conn *c = t->oldest, *next; c; c = next) {
                next = c->newer;
                if (c->info.tgid != tgid)
                        continue;
                if (t->forget)
                        t->forget(t->forget_userdata, &c->info, false);
                conn_drop(t, c, ts_ns, EXCHANGE_END_PROCESS_EXIT);
        }
}

void conn_table_advance(ConnTable *t, uint64_t ts_ns) {
        if (t && ts_ns > t->last_ts)
                t->last_ts = ts_ns;
}

void conn_table_expire(ConnTable *t, uint64_t now_ns) {
        while (t->oldest) {
                Conn *c = t->oldest;
                bool pending;

                if (now_ns < t->limits.idle_timeout_ns || c->last_ns > now_ns - t->limits.idle_timeout_ns)
                        break;

                pending = c->proto && c->ops->pending(c->proto);
                if (t->forget)
                        t->forget(t->forget_userdata, &c->info, true);
                t->stats->conns_expired++;
                conn_drop(t, c, now_ns, pending ? EXCHANGE_END_IDLE_TIMEOUT : EXCHANGE_END_CLOSED);
        }
}

void conn_table_finish_all(ConnTable *t, uint64_t now_ns, ExchangeEndReason reason) {
        while (t->oldest)
                conn_drop(t, t->oldest, now_ns, reason);
}

size_t conn_table_size(const ConnTable *t) {
        size_t n = 0;

        for (size_t i = 0; t && i < _CONN_SOURCE_MAX; i++)
                n += hashmap_size(t->by_id[i]);
        return n;
}

/*
 * What is counted against limits.global_memory_max: the table, each
 * connection's fixed cost, HTTP/1's buffers and messages, HTTP/2's frame
 * buffers, HPACK inflaters, header lists and streams
 * (protocols/http2/memory.h). Never more than the cap, except what must
 * exist to pair a message and is charged without asking while the cap is
 * reached: HTTP/1 message structs, an HTTP/2 stream's struct and its three
 * short copies (:method, :path, :authority). O(1).
 */
size_t conn_table_memory(const ConnTable *t) {
        return t ? t->budget.used : 0;
}

uint64_t conn_table_last_timestamp(const ConnTable *t) {
        return t ? t->last_ts : 0;
}
