/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests for the connection layer and the records decoder in front of
 * it: synthetic kernel records (built the way the BPF programs build them)
 * through capture/records.c, conn.c and the real HTTP/1 handler, checking
 * exchanges, lifetimes, caps and counters; and the source seam called
 * directly, as a second source would.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "capture/records.h"
#include "conn/conn.h"
#include "protocols/http1/counters.h"
#include "protocols/http1/parser.h"
#include "protocols/http1/protocol.h"
#include "protocols/http2/counters.h"
#include "protocols/http2/protocol.h"
#include "protocols/registry.h"
#include "bpf/abi.h"  /* it builds ring-buffer records */

typedef struct Captured {
        ExchangeKind kind;
        ExchangeEndReason reason;
        char method[16];
        char target[64];
        unsigned status;
        uint64_t duration_ns;
        uint64_t conn_id;
        unsigned req_flags, resp_flags;
} Captured;

typedef struct Fixture {
        Stats stats;
        ConnTable *t;
        Captured got[64];
        size_t n;
        unsigned forgets, reannounces;
        uint8_t buf[70000];
} Fixture;

static int sink(void *userdata, const Exchange *x) {
        Fixture *f = userdata;
        Captured *c;

        assert_true(f->n < 64);
        c = &f->got[f->n++];
        memset(c, 0, sizeof(*c));
        c->kind = x->kind;
        c->reason = x->reason;
        c->duration_ns = x->duration_ns;
        c->conn_id = x->conn->id;
        if (x->request) {
                strncpy(c->method, x->request->method, sizeof(c->method) - 1);
                strncpy(c->target, x->request->target, sizeof(c->target) - 1);
                c->req_flags = x->request->flags;
        }
        if (x->response) {
                c->status = x->response->status;
                c->resp_flags = x->response->flags;
        }
        return 0;
}

static void forget(void *userdata, const ConnInfo *info, bool reannounce) {
        Fixture *f = userdata;

        f->forgets++;
        if (reannounce)
                f->reannounces++;
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        ExchangeSink s = { .emit = sink, .userdata = f };
        Limits l = limits_default;

        l.conns_max = 4;
        l.idle_timeout_ns = 10 * NSEC_PER_SEC;
        assert_int_equal(conn_table_new(&l, &f->stats, &s, &f->t), 0);
        conn_table_set_forget(f->t, forget, f);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        conn_table_free(f->t);
        free(f);
        return 0;
}

static void header(struct ht_event_header *h, uint16_t type, uint32_t size, uint64_t id,
                   uint32_t tgid, int fd, uint64_t ts) {
        *h = (struct ht_event_header) {
                .type = type, .size = size, .timestamp_ns = ts, .conn_id = id,
                .tgid = tgid, .tid = tgid, .fd = fd,
        };
}

static void open_conn(Fixture *f, uint64_t id, uint32_t tgid, int fd, uint8_t role, uint64_t ts) {
        struct ht_conn_open_event ev = {};

        header(&ev.hdr, HT_EVENT_CONN_OPEN, sizeof(ev), id, tgid, fd, ts);
        ev.sock = (uint64_t) tgid << 32 | (uint32_t) fd;   /* here, one socket per (tgid, fd) */
        ev.family = 2;
        ev.local_port = 80;
        ev.remote_port = 40000;
        ev.role = role;
        ev.protocol = HT_PROTO_HTTP1;
        ev.flags = HT_CONN_SEEN_START;
        memcpy(ev.comm, "nginx", 6);
        assert_int_equal(records_dispatch(f->t, &f->stats, &ev, sizeof(ev)), 0);
}

/* A data record: captured bytes from s, plus gap more bytes not captured, after lost bytes lost. */
static void data(Fixture *f, uint64_t id, uint32_t tgid, int fd, uint8_t dir, const char *s,
                 uint32_t gap, uint64_t lost, uint64_t ts) {
        struct ht_data_event ev = {};
        size_t n = s ? strlen(s) : 0;

        header(&ev.hdr, HT_EVENT_DATA, sizeof(ev) + n, id, tgid, fd, ts);
        ev.syscall_bytes = n + gap;
        ev.lost_before = lost;
        ev.length = n + gap;
        ev.captured = n;
        ev.direction = dir;
        ev.flags = HT_DATA_SEGMENT_START;
        memcpy(f->buf, &ev, sizeof(ev));
        if (n)
                memcpy(f->buf + sizeof(ev), s, n);
        assert_int_equal(records_dispatch(f->t, &f->stats, f->buf, sizeof(ev) + n), 0);
}

static void close_conn(Fixture *f, uint64_t id, uint32_t tgid, int fd, uint64_t ts) {
        struct ht_conn_close_event ev = {};

        header(&ev.hdr, HT_EVENT_CONN_CLOSE, sizeof(ev), id, tgid, fd, ts);
        ev.reason = HT_CLOSE_SYSCALL;
        assert_int_equal(records_dispatch(f->t, &f->stats, &ev, sizeof(ev)), 0);
}

#define REQ(path) "GET " path " HTTP/1.1\r\nHost: h\r\n\r\n"
#define RESP200 "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"

static void test_server_exchange(void **state) {
        Fixture *f = *state;

        open_conn(f, 1, 100, 5, HT_ROLE_SERVER, 1000);
        data(f, 1, 100, 5, HT_DIR_INGRESS, REQ("/a"), 0, 0, 2000);
        data(f, 1, 100, 5, HT_DIR_EGRESS, RESP200, 0, 0, 5000);
        assert_int_equal(f->n, 1);
        assert_int_equal(f->got[0].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->got[0].method, "GET");
        assert_string_equal(f->got[0].target, "/a");
        assert_int_equal(f->got[0].status, 200);
        assert_int_equal(f->got[0].duration_ns, 3000);
        close_conn(f, 1, 100, 5, 6000);
        assert_int_equal(f->n, 1);
        assert_int_equal(conn_table_size(f->t), 0);
        assert_int_equal(f->stats.conns_opened, 1);
        assert_int_equal(f->stats.conns_closed, 1);
}

static void test_client_role_and_close_pending(void **state) {
        Fixture *f = *state;

        open_conn(f, 2, 200, 3, HT_ROLE_CLIENT, 1000);
        data(f, 2, 200, 3, HT_DIR_EGRESS, REQ("/c1"), 0, 0, 1000);
        data(f, 2, 200, 3, HT_DIR_INGRESS, RESP200, 0, 0, 1500);
        data(f, 2, 200, 3, HT_DIR_EGRESS, REQ("/c2"), 0, 0, 2000);
        close_conn(f, 2, 200, 3, 3000);
        assert_int_equal(f->n, 2);
        assert_int_equal(f->got[0].kind, EXCHANGE_COMPLETE);
        assert_int_equal(f->got[1].kind, EXCHANGE_NO_RESPONSE);
        assert_int_equal(f->got[1].reason, EXCHANGE_END_CLOSED);
        assert_string_equal(f->got[1].target, "/c2");
}

static void test_lost_bytes_become_gaps(void **state) {
        Fixture *f = *state;

        open_conn(f, 3, 300, 7, HT_ROLE_SERVER, 1000);
        data(f, 3, 300, 7, HT_DIR_INGRESS, REQ("/big"), 0, 0, 2000);
        /* Head captured, 100000 body bytes not captured (over N), then the next response's head after 10 lost bytes... */
        data(f, 3, 300, 7, HT_DIR_EGRESS, "HTTP/1.1 200 OK\r\nContent-Length: 100010\r\n\r\n", 100000, 0, 3000);
        /* ...the last 10 body bytes were lost in the kernel (ring full): lost_before on the next record. */
        data(f, 3, 300, 7, HT_DIR_INGRESS, REQ("/next"), 0, 0, 4000);
        data(f, 3, 300, 7, HT_DIR_EGRESS, RESP200, 0, 10, 5000);
        assert_int_equal(f->n, 2);
        assert_int_equal(f->got[0].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->got[0].target, "/big");
        assert_true(f->got[0].resp_flags & HTTP_MESSAGE_GAP);
        assert_int_equal(f->got[1].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->got[1].target, "/next");
        assert_int_equal(f->stats.bytes_lost, 10);
        assert_int_equal(f->stats.bytes_gap, 100000);
}

/* A data record after lost records of both directions: their bytes and the message starts in them. */
static void data_after_loss(Fixture *f, uint64_t id, uint8_t dir, const char *s, uint64_t lost,
                            uint64_t lost_other, uint16_t starts_ingress, uint16_t starts_egress, uint64_t ts) {
        struct ht_data_event ev = {};
        size_t n = strlen(s);

        header(&ev.hdr, HT_EVENT_DATA, sizeof(ev) + n, id, 300, 7, ts);
        ev.syscall_bytes = ev.length = ev.captured = n;
        ev.lost_before = lost;
        ev.lost_other = lost_other;
        ev.lost_starts[HT_DIR_INGRESS] = starts_ingress;
        ev.lost_starts[HT_DIR_EGRESS] = starts_egress;
        ev.direction = dir;
        ev.flags = HT_DATA_SEGMENT_START;
        memcpy(f->buf, &ev, sizeof(ev));
        memcpy(f->buf + sizeof(ev), s, n);
        assert_int_equal(records_dispatch(f->t, &f->stats, f->buf, sizeof(ev) + n), 0);
}

/*
 * Lost records with counted message starts keep every response paired with
 * its own request, and every exchange is either an entry or counted:
 * 5 served = 4 entries (each touched one flagged lost) + 1 exchanges_lost.
 */
static void test_lost_starts_pair_exactly(void **state) {
        Fixture *f = *state;
        size_t req = strlen(REQ("/2")), resp = strlen(RESP200);

        open_conn(f, 6, 300, 7, HT_ROLE_SERVER, 1000);
        data(f, 6, 300, 7, HT_DIR_INGRESS, REQ("/1"), 0, 0, 2000);
        /* lost: the response to /1, then the request /2; its response arrives */
        data_after_loss(f, 6, HT_DIR_EGRESS, RESP200, resp, req, 1, 1, 3000);
        assert_int_equal(f->n, 2);
        assert_int_equal(f->got[0].kind, EXCHANGE_NO_RESPONSE);
        assert_int_equal(f->got[0].reason, EXCHANGE_END_LOST);
        assert_string_equal(f->got[0].target, "/1");
        assert_true(f->got[0].req_flags & HTTP_MESSAGE_LOST);
        assert_int_equal(f->got[1].kind, EXCHANGE_UNCORRELATED);
        assert_true(f->got[1].resp_flags & HTTP_MESSAGE_LOST);
        /* lost: request /3 and its response; /4 and its response arrive */
        data_after_loss(f, 6, HT_DIR_INGRESS, REQ("/4"), req, resp, 1, 1, 4000);
        data(f, 6, 300, 7, HT_DIR_EGRESS, RESP200, 0, 0, 5000);
        assert_int_equal(f->n, 3);
        assert_int_equal(f->got[2].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->got[2].target, "/4");
        assert_false((f->got[2].req_flags | f->got[2].resp_flags) & HTTP_MESSAGE_LOST);
        assert_int_equal(f->stats.exchanges_lost, 1);
        /* /5 arrives, its response is lost, and the close carries the loss */
        data(f, 6, 300, 7, HT_DIR_INGRESS, REQ("/5"), 0, 0, 6000);
        {
                struct ht_conn_close_event ev = {};

                header(&ev.hdr, HT_EVENT_CONN_CLOSE, sizeof(ev), 6, 300, 7, 7000);
                ev.reason = HT_CLOSE_SYSCALL;
                ev.lost[HT_DIR_EGRESS] = resp;
                ev.lost_starts[HT_DIR_EGRESS] = 1;
                assert_int_equal(records_dispatch(f->t, &f->stats, &ev, sizeof(ev)), 0);
        }
        assert_int_equal(f->n, 4);
        assert_int_equal(f->got[3].kind, EXCHANGE_NO_RESPONSE);
        assert_int_equal(f->got[3].reason, EXCHANGE_END_LOST);
        assert_string_equal(f->got[3].target, "/5");
        assert_int_equal(f->stats.exchanges_lost, 1);
        assert_int_equal(f->stats.messages_lost, 5);
        assert_int_equal(f->stats.bytes_lost, 3 * resp + 2 * req);
}

static void test_fd_reuse_and_orphans(void **state) {
        Fixture *f = *state;

        open_conn(f, 4, 400, 9, HT_ROLE_SERVER, 1000);
        data(f, 4, 400, 9, HT_DIR_INGRESS, REQ("/old"), 0, 0, 2000);
        /* Same tgid/fd, new id: its close was not seen. The old pending request is reported. */
        open_conn(f, 5, 400, 9, HT_ROLE_SERVER, 3000);
        assert_int_equal(f->n, 1);
        assert_int_equal(f->got[0].kind, EXCHANGE_NO_RESPONSE);
        assert_int_equal(conn_table_size(f->t), 1);

        /* Data and close for ids we never saw opened are counted, not crashed on. */
        data(f, 99, 400, 9, HT_DIR_INGRESS, REQ("/x"), 0, 0, 4000);
        close_conn(f, 98, 400, 9, 4000);
        assert_int_equal(f->stats.records_orphan, 2);
}

/*
 * One socket reached by two processes (a forked child serving what its
 * parent accepted, or fds 0 and 1 of an Accept=yes service): one id, so
 * their records meet in one connection. The destruction that follows a
 * process exit finds the connection gone: no orphan.
 */
static void test_shared_socket(void **state) {
        Fixture *f = *state;
        struct ht_conn_close_event ev = {};
        struct ht_event_header h;

        open_conn(f, 20, 700, 0, HT_ROLE_SERVER, 1000);
        data(f, 20, 700, 0, HT_DIR_INGRESS, REQ("/shared"), 0, 0, 2000);
        /* The response is written by another process, through another fd. */
        data(f, 20, 701, 1, HT_DIR_EGRESS, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0, 0, 3000);
        assert_int_equal(f->n, 1);
        assert_int_equal(f->got[0].kind, EXCHANGE_COMPLETE);

        header(&h, HT_EVENT_PROC_EXIT, sizeof(h), 0, 700, -1, 4000);
        assert_int_equal(records_dispatch(f->t, &f->stats, &h, sizeof(h)), 0);
        assert_int_equal(conn_table_size(f->t), 0);
        header(&ev.hdr, HT_EVENT_CONN_CLOSE, sizeof(ev), 20, 0, -1, 5000);
        ev.reason = HT_CLOSE_DESTROYED;
        assert_int_equal(records_dispatch(f->t, &f->stats, &ev, sizeof(ev)), 0);
        assert_int_equal(f->stats.records_orphan, 0);
        /* A close() record for a connection we do not know is still an orphan. */
        ev.reason = HT_CLOSE_SYSCALL;
        assert_int_equal(records_dispatch(f->t, &f->stats, &ev, sizeof(ev)), 0);
        assert_int_equal(f->stats.records_orphan, 1);
}

static void test_proc_exit(void **state) {
        Fixture *f = *state;
        struct ht_event_header h;

        open_conn(f, 6, 500, 3, HT_ROLE_SERVER, 1000);
        open_conn(f, 7, 500, 4, HT_ROLE_SERVER, 1000);
        open_conn(f, 8, 501, 3, HT_ROLE_SERVER, 1000);
        data(f, 6, 500, 3, HT_DIR_INGRESS, REQ("/p"), 0, 0, 2000);
        header(&h, HT_EVENT_PROC_EXIT, sizeof(h), 0, 500, -1, 3000);
        assert_int_equal(records_dispatch(f->t, &f->stats, &h, sizeof(h)), 0);
        assert_int_equal(conn_table_size(f->t), 1);
        assert_int_equal(f->forgets, 2);
        assert_int_equal(f->n, 1);
        assert_int_equal(f->got[0].kind, EXCHANGE_NO_RESPONSE);
        assert_int_equal(f->got[0].reason, EXCHANGE_END_PROCESS_EXIT);
}

static void test_idle_expiry(void **state) {
        Fixture *f = *state;

        open_conn(f, 10, 600, 3, HT_ROLE_SERVER, 1 * NSEC_PER_SEC);
        open_conn(f, 11, 600, 4, HT_ROLE_SERVER, 1 * NSEC_PER_SEC);
        data(f, 10, 600, 3, HT_DIR_INGRESS, REQ("/slow"), 0, 0, 2 * NSEC_PER_SEC);
        data(f, 11, 600, 4, HT_DIR_INGRESS, REQ("/fresh"), 0, 0, 9 * NSEC_PER_SEC);

        conn_table_expire(f->t, 11 * NSEC_PER_SEC);   /* conn 10 idle 9 s: kept */
        assert_int_equal(conn_table_size(f->t), 2);
        conn_table_expire(f->t, 13 * NSEC_PER_SEC);   /* conn 10 idle 11 s: expired */
        assert_int_equal(conn_table_size(f->t), 1);
        assert_int_equal(f->n, 1);
        assert_int_equal(f->got[0].kind, EXCHANGE_NO_RESPONSE);
        assert_int_equal(f->got[0].reason, EXCHANGE_END_IDLE_TIMEOUT);
        assert_string_equal(f->got[0].target, "/slow");
        assert_int_equal(f->reannounces, 1);
        assert_int_equal(f->stats.conns_expired, 1);

        /* The kernel re-announces it later under the same id: it starts afresh. */
        open_conn(f, 10, 600, 3, HT_ROLE_SERVER, 20 * NSEC_PER_SEC);
        data(f, 10, 600, 3, HT_DIR_EGRESS, RESP200, 0, 0, 21 * NSEC_PER_SEC);
        assert_int_equal(f->n, 2);
        assert_int_equal(f->got[1].kind, EXCHANGE_UNCORRELATED);
}

static void test_conns_cap(void **state) {
        Fixture *f = *state;

        for (int i = 0; i < 6; i++)
                open_conn(f, 20 + i, 700, 10 + i, HT_ROLE_SERVER, 1000);
        assert_int_equal(conn_table_size(f->t), 4);
        assert_int_equal(f->stats.conns_refused, 2);
        data(f, 25, 700, 15, HT_DIR_INGRESS, REQ("/refused"), 0, 0, 2000);
        assert_int_equal(f->stats.records_orphan, 1);
        conn_table_finish_all(f->t, 3000, EXCHANGE_END_SHUTDOWN);
        assert_int_equal(conn_table_size(f->t), 0);
}

/* Per-connection structures count against limits.global_memory_max: the table never holds more. */
static void test_memory_cap_counts_connections(void **state) {
        Fixture *f = *state;
        Limits l = limits_default;
        size_t base, one, n;

        l.conns_max = 100000;
        l.global_memory_max = 64 * 1024;
        conn_table_set_limits(f->t, &l);
        base = conn_table_memory(f->t);
        assert_true(base > 0 && base < l.global_memory_max);
        open_conn(f, 1, 700, 3, HT_ROLE_SERVER, 1000);
        one = conn_table_memory(f->t) - base;
        /* at least its Conn and two HTTP/1 parsers */
        assert_true(one >= 2 * HTTP1_PARSER_SIZE);
        for (int i = 1; i < 1000; i++)
                open_conn(f, 1 + i, 700, 3 + i, HT_ROLE_SERVER, 1000);
        n = conn_table_size(f->t);
        assert_true(n > 10 && n < 1000);
        assert_int_equal(f->stats.conns_refused, 1000 - n);
        assert_true(f->stats.memory_refused >= (1000 - n) * one);
        assert_true(conn_table_memory(f->t) <= l.global_memory_max);
        assert_int_equal(conn_table_memory(f->t), base + n * one);
        /* closing gives it back: a new connection fits again */
        close_conn(f, 1, 700, 3, 2000);
        open_conn(f, 5000, 700, 5000, HT_ROLE_SERVER, 3000);
        assert_int_equal(conn_table_size(f->t), n);
        conn_table_finish_all(f->t, 4000, EXCHANGE_END_SHUTDOWN);
        assert_int_equal(conn_table_memory(f->t), base);
}

/* The spare blocks: off until turned on, one size, at most spare_max, never in used. */
static void test_mem_budget_spares(void **state) {
        uint64_t reused = 0;
        MemBudget off = { .max = 4096 }, b = { .max = 4096, .spare_max = 2, .spare_reused = &reused };
        void *p = malloc(64), *q = malloc(64), *r = malloc(64), *o = malloc(32);

        assert_false(mem_budget_spare_put(&off, p, 64));
        assert_null(mem_budget_spare_take(&off, 64));
        assert_null(mem_budget_spare_take(NULL, 64));

        assert_true(mem_budget_spare_put(&b, p, 64));
        assert_false(mem_budget_spare_put(&b, o, 32));      /* another size while one is kept */
        assert_true(mem_budget_spare_put(&b, q, 64));
        assert_false(mem_budget_spare_put(&b, r, 64));      /* the bound */
        assert_int_equal(mem_budget_spare_bytes(&b), 128);
        assert_int_equal(b.used, 0);
        assert_null(mem_budget_spare_take(&b, 32));
        assert_ptr_equal(mem_budget_spare_take(&b, 64), q);
        assert_int_equal(reused, 1);
        mem_budget_spare_free(&b);
        assert_int_equal(b.n_spare, 0);
        assert_null(mem_budget_spare_take(&b, 64));
        free(q);
        free(r);
        free(o);
}

static void test_bad_records(void **state) {
        Fixture *f = *state;
        struct ht_data_event ev = {};
        uint8_t junk[8] = { 2, 0 };

        /* Too short for a header, unknown type, data claiming more payload than present. */
        assert_int_equal(records_dispatch(f->t, &f->stats, junk, 3), 0);
        header(&ev.hdr, 77, sizeof(ev), 1, 1, 1, 1);
        assert_int_equal(records_dispatch(f->t, &f->stats, &ev, sizeof(ev)), 0);
        header(&ev.hdr, HT_EVENT_DATA, sizeof(ev), 1, 1, 1, 1);
        ev.captured = 100;
        ev.length = 100;
        assert_int_equal(records_dispatch(f->t, &f->stats, &ev, sizeof(ev)), 0);
        ev.captured = 0;
        ev.length = 0;
        assert_int_equal(records_dispatch(f->t, &f->stats, &ev, sizeof(ev) - 1), 0);
        assert_int_equal(f->stats.records_invalid, 4);
        assert_int_equal(f->stats.records, 4);
}

/* A second source, called directly: the TLS view of a socket beside its syscall view, same id, fd and tgid. */
static void test_two_views_of_one_socket(void **state) {
        Fixture *f = *state;
        ConnInfo tls = {
                .id = 1, .tgid = 100, .fd = 5, .role = CONN_ROLE_SERVER, .protocol = CONN_PROTOCOL_HTTP1,
                .source = CONN_SOURCE_TLS, .flags = CONN_SEEN_START, .opened_ns = 1500,
        };
        const char *req = REQ("/tls"), *resp = RESP200;

        open_conn(f, 1, 100, 5, HT_ROLE_SERVER, 1000);
        assert_int_equal(conn_table_open(f->t, &tls, protocol_registry_find(tls.protocol)), 0);
        assert_int_equal(conn_table_size(f->t), 2);
        assert_true(conn_table_has(f->t, CONN_SOURCE_SYSCALL, 1));
        assert_true(conn_table_has(f->t, CONN_SOURCE_TLS, 1));

        /* The syscall view carries ciphertext in life; here, a request that never gets its response. */
        data(f, 1, 100, 5, HT_DIR_INGRESS, REQ("/syscall"), 0, 0, 2000);
        assert_int_equal(conn_table_data(f->t, CONN_SOURCE_TLS, 1, CONN_DIR_INGRESS, (const uint8_t *) req,
                                         strlen(req), 2500, 100, true), 0);
        assert_int_equal(conn_table_data(f->t, CONN_SOURCE_TLS, 1, CONN_DIR_EGRESS, (const uint8_t *) resp,
                                         strlen(resp), 4500, 100, true), 0);
        assert_int_equal(f->n, 1);
        assert_int_equal(f->got[0].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->got[0].target, "/tls");
        assert_int_equal(f->got[0].duration_ns, 2000);

        /* The socket's close record closes the syscall view only. */
        close_conn(f, 1, 100, 5, 6000);
        assert_int_equal(f->n, 2);
        assert_int_equal(f->got[1].kind, EXCHANGE_NO_RESPONSE);
        assert_string_equal(f->got[1].target, "/syscall");
        assert_false(conn_table_has(f->t, CONN_SOURCE_SYSCALL, 1));
        assert_true(conn_table_has(f->t, CONN_SOURCE_TLS, 1));
        assert_int_equal(conn_table_close(f->t, CONN_SOURCE_TLS, 1, 7000), 0);
        assert_int_equal(conn_table_close(f->t, CONN_SOURCE_TLS, 1, 7000), -ENOENT);
        assert_int_equal(conn_table_gap(f->t, CONN_SOURCE_TLS, 1, CONN_DIR_INGRESS, 10, 7000), -ENOENT);
        assert_int_equal(conn_table_segment(f->t, &(ConnSegment) {
                                 .source = CONN_SOURCE_TLS, .id = 1, .direction = CONN_DIR_INGRESS,
                                 .buf = (const uint8_t *) req, .n = strlen(req), .ts_ns = 7000, .tid = 100,
                                 .segment_start = true }), -ENOENT);
        assert_int_equal(conn_table_size(f->t), 0);
        assert_int_equal(conn_table_last_timestamp(f->t), 7000);
}

/* The decoder: a CONN_OPEN no handler parses, or naming no known source, is an invalid record. */
static void test_open_records_not_traced(void **state) {
        Fixture *f = *state;
        struct ht_conn_open_event ev = {};

        open_conn(f, 1, 100, 5, HT_ROLE_SERVER, 1000);
        header(&ev.hdr, HT_EVENT_CONN_OPEN, sizeof(ev), 2, 100, 6, 2000);
        ev.protocol = HT_PROTO_OTHER;            /* classified by the kernel, no handler */
        assert_int_equal(records_dispatch(f->t, &f->stats, &ev, sizeof(ev)), 0);
        ev.protocol = HT_PROTO_HTTP1;
        ev.source = 7;
        assert_int_equal(records_dispatch(f->t, &f->stats, &ev, sizeof(ev)), 0);
        assert_int_equal(f->stats.records_invalid, 2);
        assert_int_equal(conn_table_size(f->t), 1);

        /* Data and close of an id never opened are orphans, not errors. */
        data(f, 2, 100, 6, HT_DIR_INGRESS, REQ("/h2"), 0, 0, 3000);
        close_conn(f, 2, 100, 6, 4000);
        assert_int_equal(f->stats.records_orphan, 2);
        assert_int_equal(f->stats.records_invalid, 2);
        assert_int_equal(conn_table_last_timestamp(f->t), 4000);
}

/* HTTP/1's own caps reach its handler through the table, and a reload replaces them in place. */
static void test_protocol_limits(void **state) {
        Fixture *f = *state;
        Http1Limits h1 = http1_limits_default;

        h1.head_max = 16;
        assert_int_equal(conn_table_set_protocol_limits(f->t, &protocol_http1_ops, &h1), 0);
        open_conn(f, 1, 100, 5, HT_ROLE_SERVER, 1000);
        data(f, 1, 100, 5, HT_DIR_INGRESS, REQ("/over-sixteen-bytes"), 0, 0, 2000);
        assert_int_equal(http1_counters(&f->stats)[HTTP1_COUNTER_HEAD_OVERFLOWS], 1);

        /* Reload: the open connection's handler sees the new caps. */
        h1.head_max = 4096;
        assert_int_equal(conn_table_set_protocol_limits(f->t, &protocol_http1_ops, &h1), 0);
        data(f, 1, 100, 5, HT_DIR_EGRESS, RESP200, 0, 0, 3000);
        data(f, 1, 100, 5, HT_DIR_INGRESS, REQ("/over-sixteen-bytes"), 0, 0, 4000);
        assert_int_equal(http1_counters(&f->stats)[HTTP1_COUNTER_HEAD_OVERFLOWS], 1);
}

/* Every row of the registry parses the protocol it is filed under. */
static void test_registry(void **state) {
        size_t n = 0;

        for (size_t i = 0; i < protocol_registry_size(); i++) {
                const ProtocolOps *ops = protocol_registry_find(i);

                if (!ops)
                        continue;
                assert_int_equal(ops->id, i);
                assert_non_null(ops->name);
                n++;
        }
        assert_int_equal(n, 2);
        assert_ptr_equal(protocol_registry_find(CONN_PROTOCOL_HTTP1), &protocol_http1_ops);
        assert_ptr_equal(protocol_registry_find(CONN_PROTOCOL_HTTP2), &protocol_http2_ops);
}

static const char *const shared_counter_names[] = {
#define X(name) #name,
        STATS_COUNTERS(X)
#undef X
};

/*
 * A protocol's own counters: they fit its row of Stats, no name is a shared
 * counter's (the control socket's "counters" object would hold it twice), and
 * the registry reports each name once, summed over the protocols.
 */
static void test_registry_counters(void **state) {
        Stats s = {};
        const char *name;
        uint64_t v;
        size_t i;

        for (size_t p = 0; p < protocol_registry_size(); p++) {
                const ProtocolOps *ops = protocol_registry_find(p);

                for (size_t j = 0; ops && j < ops->n_counters; j++) {
                        assert_true(ops->n_counters <= PROTOCOL_COUNTERS_MAX);
                        assert_non_null(ops->counter_names[j]);
                        for (size_t k = 0; k < ELEMENTSOF(shared_counter_names); k++)
                                assert_string_not_equal(ops->counter_names[j], shared_counter_names[k]);
                        for (size_t k = 0; k < j; k++)
                                assert_string_not_equal(ops->counter_names[j], ops->counter_names[k]);
                }
        }

        /* HTTP/1's, in its order, valued from its row; then HTTP/2's other names; a shared name is summed. */
        for (i = 0; i < _HTTP1_COUNTER_MAX; i++)
                http1_counters(&s)[i] = 100 + i;
        http2_counters(&s)[HTTP2_COUNTER_DESYNCS] = 7;
        http2_counters(&s)[HTTP2_COUNTER_GOAWAYS] = 9;
        s.protocols[CONN_PROTOCOL_OTHER][0] = 5;   /* no protocol counts there: not reported */
        for (i = 0; (name = protocol_registry_counter(&s, i, &v)); i++) {
                if (i < _HTTP1_COUNTER_MAX) {
                        assert_string_equal(name, protocol_http1_ops.counter_names[i]);
                        assert_int_equal(v, 100 + i + (i == HTTP1_COUNTER_DESYNCS ? 7 : 0));
                } else if (strcmp(name, "goaways") == 0)
                        assert_int_equal(v, 9);
                else
                        assert_int_equal(v, 0);
        }
        assert_int_equal(i, _HTTP1_COUNTER_MAX + _HTTP2_COUNTER_MAX - 2);   /* desyncs, messages_interim shared */
        assert_string_equal(protocol_registry_counter(&s, HTTP1_COUNTER_DESYNCS, NULL), "desyncs");
        assert_string_equal(protocol_registry_counter(&s, HTTP1_COUNTER_PIPELINE_OVERFLOWS, &v), "pipeline_overflows");
        assert_int_equal(v, 100 + HTTP1_COUNTER_PIPELINE_OVERFLOWS);
}

/* The protocols named for people (help text, start-up log): every row's title, joined. */
static void test_registry_describe(void **state) {
        char buf[128], tiny[5];
        size_t n = 0;

        for (size_t p = 0; p < protocol_registry_size(); p++) {
                const ProtocolOps *ops = protocol_registry_find(p);

                if (!ops)
                        continue;
                assert_non_null(ops->title);
                assert_non_null(strstr(protocol_registry_describe(buf, sizeof(buf)), ops->title));
                n++;
        }
        assert_int_equal(n, 2);
        assert_string_equal(protocol_registry_describe(buf, sizeof(buf)), "HTTP/1.x and HTTP/2");
        /* Cut to fit, never past the buffer. */
        assert_string_equal(protocol_registry_describe(tiny, sizeof(tiny)), "HTTP");
}

/* A protocol without a handler: the open is refused, and still ends what held its fd. */
static void test_open_without_handler(void **state) {
        Fixture *f = *state;
        ConnInfo h2 = { .id = 2, .sock = (uint64_t) 100 << 32 | 5, .tgid = 100, .fd = 5,
                        .protocol = CONN_PROTOCOL_OTHER, .opened_ns = 3000 };

        assert_null(protocol_registry_find(CONN_PROTOCOL_UNKNOWN));
        assert_null(protocol_registry_find(CONN_PROTOCOL_OTHER));
        assert_null(protocol_registry_find(200));
        open_conn(f, 1, 100, 5, HT_ROLE_SERVER, 1000);
        assert_int_equal(conn_table_open(f->t, &h2, protocol_registry_find(h2.protocol)), -EPROTONOSUPPORT);
        assert_int_equal(conn_table_size(f->t), 0);
        assert_int_equal(f->stats.conns_closed, 1);
        assert_int_equal(f->stats.records_invalid, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_server_exchange, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_role_and_close_pending, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lost_bytes_become_gaps, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lost_starts_pair_exactly, setup, teardown),
                cmocka_unit_test_setup_teardown(test_fd_reuse_and_orphans, setup, teardown),
                cmocka_unit_test_setup_teardown(test_proc_exit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shared_socket, setup, teardown),
                cmocka_unit_test_setup_teardown(test_idle_expiry, setup, teardown),
                cmocka_unit_test_setup_teardown(test_conns_cap, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_records, setup, teardown),
                cmocka_unit_test_setup_teardown(test_two_views_of_one_socket, setup, teardown),
                cmocka_unit_test_setup_teardown(test_open_without_handler, setup, teardown),
                cmocka_unit_test(test_registry),
                cmocka_unit_test(test_mem_budget_spares),
                cmocka_unit_test(test_registry_counters),
                cmocka_unit_test(test_registry_describe),
                cmocka_unit_test_setup_teardown(test_open_records_not_traced, setup, teardown),
                cmocka_unit_test_setup_teardown(test_protocol_limits, setup, teardown),
                cmocka_unit_test_setup_teardown(test_memory_cap_counts_connections, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
