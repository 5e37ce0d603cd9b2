/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Connection table: records in, protocol handlers fed. See conn.h.
 *
 * Connections are found by their id (every record carries it) and by
 * (tgid, fd), so that a CONN_OPEN for an fd we still hold under another id
 * (its close was not seen: fd reused, kernel map eviction) finishes the old
 * one first. An activity list ordered by last record gives the idle expiry
 * in O(expired) rather than a scan.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/hashmap.h"
#include "basic/macro.h"
#include "conn/conn.h"
#include "trace-api.h"  /* decodes records itself until capture/records.c does */

const Limits limits_default = {
        /* Heads beyond 64 KiB are rejected by common servers (nginx: 4 x 8 KiB large buffers). */
        .head_max = 64 * 1024,
        /* nginx and Apache refuse more than ~100 fields; keep a little more than that. */
        .fields_max = 128,
        /* Pipelining depth seen in practice is a handful; 64 bounds a hostile peer. */
        .pipeline_max = 64,
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
        uint64_t last_ns;
        Conn *older, *newer;      /* activity list */
};

struct ConnTable {
        Limits limits;
        Stats *stats;
        ExchangeSink sink;
        MemBudget budget;
        HashMap *by_id;
        HashMap *by_key;
        Conn *oldest, *newest;
        ConnForgetFn forget;
        void *forget_userdata;
        uint64_t last_ts;
};

static uint64_t conn_key(uint32_t tgid, int32_t fd) {
        return (uint64_t) tgid << 32 | (uint32_t) fd;
}

static const ProtocolOps *protocol_ops(uint8_t protocol) {
        switch (protocol) {
        case CONN_PROTOCOL_HTTP1:
                return &protocol_http1_ops;
        default:
                return NULL;
        }
}

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
        t->by_id = hashmap_new();
        t->by_key = hashmap_new();
        if (!t->by_id || !t->by_key) {
                conn_table_free(t);
                return -ENOMEM;
        }
        *ret = t;
        return 0;
}

void conn_table_set_forget(ConnTable *t, ConnForgetFn fn, void *userdata) {
        t->forget = fn;
        t->forget_userdata = userdata;
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

/* Finish the protocol state (emitting what is pending) and free the connection. */
static void conn_drop(ConnTable *t, Conn *c, uint64_t ts, ExchangeEndReason reason) {
        if (c->proto) {
                (void) c->ops->finish(c->proto, ts, reason);
                c->proto = c->ops->free(c->proto);
        }
        (void) hashmap_remove(t->by_id, c->info.id);
        if (hashmap_get(t->by_key, conn_key(c->info.tgid, c->info.fd)) == c)
                (void) hashmap_remove(t->by_key, conn_key(c->info.tgid, c->info.fd));
        activity_unlink(t, c);
        t->stats->conns_closed++;
        if (t->stats->conns_active > 0)
                t->stats->conns_active--;
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
                free(c);
        }
        hashmap_free(t->by_id);
        hashmap_free(t->by_key);
        free(t);
        return NULL;
}

static int handle_open(ConnTable *t, const struct ht_conn_open_event *ev) {
        ProtocolContext ctx;
        Conn *c, *old;
        int r;

        old = hashmap_get(t->by_id, ev->hdr.conn_id);
        if (old)
                /* Re-announced after we expired it, or a duplicate: start afresh. */
                conn_drop(t, old, ev->hdr.timestamp_ns, EXCHANGE_END_CLOSED);
        old = hashmap_get(t->by_key, conn_key(ev->hdr.tgid, ev->hdr.fd));
        if (old)
                /* Same fd, new connection: the old one's close was not seen. */
                conn_drop(t, old, ev->hdr.timestamp_ns, EXCHANGE_END_CLOSED);

        if (!protocol_ops(ev->protocol)) {
                t->stats->records_invalid++;
                return 0;
        }
        if (hashmap_size(t->by_id) >= t->limits.conns_max) {
                t->stats->conns_refused++;
                return 0;
        }

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->info = (ConnInfo) {
                .id = ev->hdr.conn_id,
                .tgid = ev->hdr.tgid,
                .fd = ev->hdr.fd,
                .role = ev->role,
                .protocol = ev->protocol,
                .source = ev->source,
                .flags = ev->flags,
                .family = ev->family,
                .local_port = ev->local_port,
                .remote_port = ev->remote_port,
                .opened_ns = ev->hdr.timestamp_ns,
        };
        memcpy(c->info.local_addr, ev->local_addr, sizeof(c->info.local_addr));
        memcpy(c->info.remote_addr, ev->remote_addr, sizeof(c->info.remote_addr));
        memcpy(c->info.comm, ev->comm, CONN_COMM_LEN);
        c->info.comm[CONN_COMM_LEN] = 0;
        c->ops = protocol_ops(ev->protocol);

        ctx = (ProtocolContext) {
                .conn = &c->info,
                .sink = &t->sink,
                .stats = t->stats,
                .budget = &t->budget,
                .limits = &t->limits,
        };
        r = c->ops->new(&ctx, &c->proto);
        if (r < 0) {
                free(c);
                return r;
        }

        r = hashmap_put(t->by_id, c->info.id, c);
        if (r >= 0) {
                r = hashmap_put(t->by_key, conn_key(c->info.tgid, c->info.fd), c);
                if (r < 0)
                        (void) hashmap_remove(t->by_id, c->info.id);
        }
        if (r < 0) {
                c->ops->free(c->proto);
                free(c);
                return r;
        }
        activity_touch(t, c, ev->hdr.timestamp_ns);
        t->stats->conns_opened++;
        t->stats->conns_active++;
        return 0;
}

static int handle_data(ConnTable *t, const struct ht_data_event *ev, const uint8_t *payload) {
        Conn *c = hashmap_get(t->by_id, ev->hdr.conn_id);
        uint8_t dir = ev->direction & 1;
        uint64_t ts = ev->hdr.timestamp_ns;
        int r;

        t->stats->bytes_captured += ev->captured;
        t->stats->bytes_gap += ev->length - ev->captured;
        t->stats->bytes_lost += ev->lost_before;

        if (!c) {
                t->stats->records_orphan++;
                return 0;
        }
        activity_touch(t, c, ts);

        if (ev->lost_before > 0) {
                r = c->ops->gap(c->proto, dir, ev->lost_before, ts);
                if (r < 0)
                        return r;
        }
        if (ev->captured > 0) {
                r = c->ops->data(c->proto, dir, payload, ev->captured, ts, ev->hdr.tid,
                                 ev->flags & HT_DATA_SEGMENT_START);
                if (r < 0)
                        return r;
        }
        if (ev->length > ev->captured) {
                r = c->ops->gap(c->proto, dir, (uint64_t) ev->length - ev->captured, ts);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void handle_close(ConnTable *t, const struct ht_conn_close_event *ev) {
        Conn *c = hashmap_get(t->by_id, ev->hdr.conn_id);

        if (!c) {
                t->stats->records_orphan++;
                return;
        }
        conn_drop(t, c, ev->hdr.timestamp_ns, EXCHANGE_END_CLOSED);
}

static void handle_proc_exit(ConnTable *t, const struct ht_event_header *h) {
        /* O(connections); exits of processes that held HTTP connections are comparatively rare. */
        for (Conn *c = t->oldest, *next; c; c = next) {
                next = c->newer;
                if (c->info.tgid != h->tgid)
                        continue;
                if (t->forget)
                        t->forget(t->forget_userdata, &c->info, false);
                conn_drop(t, c, h->timestamp_ns, EXCHANGE_END_PROCESS_EXIT);
        }
}

int conn_table_handle_record(ConnTable *t, const void *data, size_t size) {
        struct ht_event_header h;

        if (!t || !data)
                return -EINVAL;

        t->stats->records++;
        /* Check sizes before reading; copy, don't cast: ring buffer records are only 8-byte aligned. */
        if (size < sizeof(h)) {
                t->stats->records_invalid++;
                return 0;
        }
        memcpy(&h, data, sizeof(h));
        if (h.timestamp_ns > t->last_ts)
                t->last_ts = h.timestamp_ns;

        switch (h.type) {
        case HT_EVENT_CONN_OPEN: {
                struct ht_conn_open_event ev;

                if (size < sizeof(ev))
                        break;
                memcpy(&ev, data, sizeof(ev));
                return handle_open(t, &ev);
        }
        case HT_EVENT_DATA: {
                struct ht_data_event ev;

                if (size < sizeof(ev))
                        break;
                memcpy(&ev, data, sizeof(ev));
                if (ev.captured > size - sizeof(ev) || ev.captured > ev.length)
                        break;
                return handle_data(t, &ev, (const uint8_t *) data + sizeof(ev));
        }
        case HT_EVENT_CONN_CLOSE: {
                struct ht_conn_close_event ev;

                if (size < sizeof(ev))
                        break;
                memcpy(&ev, data, sizeof(ev));
                handle_close(t, &ev);
                return 0;
        }
        case HT_EVENT_PROC_EXIT:
                handle_proc_exit(t, &h);
                return 0;
        }

        t->stats->records_invalid++;
        return 0;
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
        return t ? hashmap_size(t->by_id) : 0;
}

size_t conn_table_memory(const ConnTable *t) {
        size_t m;

        if (!t)
                return 0;
        m = sizeof(*t) + hashmap_memory(t->by_id) + hashmap_memory(t->by_key);
        for (const Conn *c = t->oldest; c; c = c->newer)
                m += sizeof(*c) + (c->proto ? c->ops->memory(c->proto) : 0);
        return m;
}

uint64_t conn_table_last_timestamp(const ConnTable *t) {
        return t ? t->last_ts : 0;
}
