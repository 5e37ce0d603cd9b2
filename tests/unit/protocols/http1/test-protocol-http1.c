/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of HTTP/1.x correlation (src/protocols/http1/protocol.c) through
 * protocol_http1_ops, as the connection layer drives it: bytes and gaps
 * per direction, then finish, with a sink that records every exchange.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "conn/protocol.h"
#include "protocols/http1/counters.h"
#include "protocols/http1/parser.h"
#include "protocols/http1/protocol.h"

#define X_MAX 64

typedef struct Rec {
        ExchangeKind kind;
        char method[16], target[64];
        unsigned status;
        uint64_t req_body, resp_body, duration;
        unsigned req_flags, resp_flags;
        ExchangeEndReason reason;
        char error[64];
        uint8_t error_direction;
        uint64_t error_offset;
        char excerpt[65];
} Rec;

typedef struct Fixture {
        ConnInfo conn;
        Limits limits;
        Http1Limits h1;
        MemBudget budget;
        Stats stats;
        ExchangeSink sink;
        ProtocolContext ctx;
        void *h;
        Rec x[X_MAX];
        size_t n;
        uint64_t now;
        char log[16384];
        size_t log_len;
} Fixture;

static int sink_emit(void *userdata, const Exchange *x) {
        Fixture *f = userdata;
        Rec *r;
        int k;

        assert_true(f->n < X_MAX);
        assert_ptr_equal(x->conn, &f->conn);
        r = &f->x[f->n++];
        *r = (Rec) { .kind = x->kind, .reason = x->reason, .duration = x->duration_ns };
        if (x->request) {
                assert_int_equal(x->request->kind, HTTP_MESSAGE_REQUEST);
                snprintf(r->method, sizeof(r->method), "%s", x->request->method);
                snprintf(r->target, sizeof(r->target), "%s", x->request->target);
                r->req_body = x->request->body_bytes;
                r->req_flags = x->request->flags;
        }
        if (x->response) {
                assert_int_equal(x->response->kind, HTTP_MESSAGE_RESPONSE);
                r->status = x->response->status;
                r->resp_body = x->response->body_bytes;
                r->resp_flags = x->response->flags;
        }
        switch (x->kind) {
        case EXCHANGE_COMPLETE:
                assert_non_null(x->request);
                assert_non_null(x->response);
                break;
        case EXCHANGE_NO_RESPONSE:
                assert_non_null(x->request);
                assert_null(x->response);
                break;
        case EXCHANGE_UNCORRELATED:
                assert_null(x->request);
                assert_non_null(x->response);
                break;
        case EXCHANGE_PARSE_ERROR:
                assert_null(x->request);
                assert_null(x->response);
                assert_non_null(x->error);
                assert_true(x->excerpt_len <= 64);
                snprintf(r->error, sizeof(r->error), "%s", x->error);
                memcpy(r->excerpt, x->excerpt, x->excerpt_len);
                r->error_direction = x->error_direction;
                r->error_offset = x->error_offset;
                break;
        default:
                fail();
        }

        k = snprintf(f->log + f->log_len, sizeof(f->log) - f->log_len,
                     "%s %s %s %u rq=%" PRIu64 "/%#x rs=%" PRIu64 "/%#x d=%" PRIu64 " %s %s@%u:%" PRIu64 "\n",
                     exchange_kind_to_string(r->kind), r->method, r->target, r->status, r->req_body,
                     r->req_flags, r->resp_body, r->resp_flags, r->duration,
                     exchange_end_reason_to_string(r->reason), r->error, r->error_direction, r->error_offset);
        assert_true(k > 0 && (size_t) k < sizeof(f->log) - f->log_len);
        f->log_len += k;
        return 0;
}

static Fixture *fixture_new(uint8_t role) {
        Fixture *f = calloc(1, sizeof(Fixture));

        assert_non_null(f);
        f->conn = (ConnInfo) { .id = 1, .role = role, .flags = CONN_SEEN_START, .protocol = CONN_PROTOCOL_HTTP1 };
        f->h1 = (Http1Limits) {
                .head_max = 8192,
                .fields_max = 32,
                .pipeline_max = 8,
        };
        f->limits = (Limits) {
                .conn_memory_max = 1 << 20,
                .global_memory_max = 64 << 20,
        };
        f->budget.max = 64 << 20;
        f->sink = (ExchangeSink) { .emit = sink_emit, .userdata = f };
        f->ctx = (ProtocolContext) {
                .conn = &f->conn,
                .sink = &f->sink,
                .stats = &f->stats,
                .budget = &f->budget,
                .limits = &f->limits,
                .protocol_limits = &f->h1,
        };
        f->now = 1000;
        return f;
}

static void fixture_start(Fixture *f) {
        assert_int_equal(protocol_http1_ops.new(&f->ctx, &f->h), 0);
}

static Fixture *fixture_free(Fixture *f) {
        if (!f)
                return NULL;
        protocol_http1_ops.free(f->h);
        /* everything reserved went back */
        assert_int_equal(f->budget.used, 0);
        return mfree(f);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Fixture *, fixture_free);

static Fixture *start(uint8_t role) {
        Fixture *f = fixture_new(role);
        fixture_start(f);
        return f;
}

static void data_n(Fixture *f, uint8_t dir, const void *s, size_t n) {
        f->now += 1000;
        assert_int_equal(protocol_http1_ops.data(f->h, dir, s, n, f->now, 42, true), 0);
}

static void data(Fixture *f, uint8_t dir, const char *s) {
        data_n(f, dir, s, strlen(s));
}

static void gap(Fixture *f, uint8_t dir, uint64_t n) {
        f->now += 1000;
        assert_int_equal(protocol_http1_ops.gap(f->h, dir, n, f->now), 0);
}

static void finish(Fixture *f, ExchangeEndReason reason) {
        f->now += 1000;
        assert_int_equal(protocol_http1_ops.finish(f->h, f->now, reason), 0);
        assert_false(protocol_http1_ops.pending(f->h));
        assert_int_equal(protocol_http1_ops.memory(f->h), 0);
}

#define IN CONN_DIR_INGRESS
#define OUT CONN_DIR_EGRESS

static void test_keep_alive_server(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

        data(f, IN, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");             /* t=2000 */
        assert_true(protocol_http1_ops.pending(f->h));
        assert_true(protocol_http1_ops.memory(f->h) > 0);
        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");  /* t=3000 */
        assert_int_equal(f->n, 0);
        data(f, OUT, "abc");                                            /* t=4000 */
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[0].method, "GET");
        assert_string_equal(f->x[0].target, "/a");
        assert_int_equal(f->x[0].status, 200);
        assert_int_equal(f->x[0].resp_body, 3);
        assert_int_equal(f->x[0].duration, 2000);
        assert_false(protocol_http1_ops.pending(f->h));
        assert_int_equal(protocol_http1_ops.memory(f->h), 0);

        data(f, IN, "POST /b HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody");
        data(f, OUT, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
        assert_int_equal(f->n, 2);
        assert_string_equal(f->x[1].target, "/b");
        assert_int_equal(f->x[1].req_body, 4);
        assert_int_equal(f->x[1].status, 201);
        assert_int_equal(f->x[1].duration, 1000);

        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 2);
        assert_int_equal(f->stats.messages_requests, 2);
        assert_int_equal(f->stats.messages_responses, 2);
        assert_int_equal(f->stats.exchanges_complete, 2);
}

static void test_client_role(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_CLIENT);

        data(f, OUT, "GET /c HTTP/1.1\r\n\r\n");
        data(f, IN, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[0].target, "/c");
}

static void test_pipelining(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

        data(f, IN, "GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\nPOST /3 HTTP/1.1\r\nContent-Length: 2\r\n\r\nxx"
                    "GET /4 HTTP/1.1\r\n\r\n");
        assert_int_equal(f->n, 0);
        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1"
                     "HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"   /* HEAD: no body */
                     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
                     "HTTP/1.1 304 Not Modified\r\n\r\n");
        assert_int_equal(f->n, 4);
        for (size_t i = 0; i < 4; i++) {
                char t[8];
                snprintf(t, sizeof(t), "/%zu", i + 1);
                assert_int_equal(f->x[i].kind, EXCHANGE_COMPLETE);
                assert_string_equal(f->x[i].target, t);
        }
        assert_string_equal(f->x[1].method, "HEAD");
        assert_int_equal(f->x[1].resp_body, 0);
        assert_int_equal(f->x[2].req_body, 2);
        assert_int_equal(f->x[2].resp_body, 3);
        assert_int_equal(f->x[2].resp_flags, HTTP_MESSAGE_CHUNKED);
        assert_int_equal(f->x[3].status, 304);
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->stats.exchanges_complete, 4);
}

static void test_100_continue(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

        data(f, IN, "PUT /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        data(f, OUT, "HTTP/1.1 100 Continue\r\n\r\n");
        assert_int_equal(f->n, 0);
        data(f, IN, "hello");
        data(f, OUT, "HTTP/1.1 204 No Content\r\n\r\n");
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].kind, EXCHANGE_COMPLETE);
        assert_int_equal(f->x[0].status, 204);
        assert_int_equal(f->x[0].req_body, 5);
        assert_int_equal(f->x[0].duration, 3000);
        assert_int_equal(http1_counters(&f->stats)[HTTP1_COUNTER_MESSAGES_INTERIM], 1);
        assert_int_equal(f->stats.messages_responses, 1);
        finish(f, EXCHANGE_END_CLOSED);
}

static void test_early_response(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER), *g = start(CONN_ROLE_SERVER);

        /* 413 while the body is still coming: the exchange waits for the request's end */
        data(f, IN, "POST /big HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345");   /* t=2000 */
        data(f, OUT, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n"); /* t=3000 */
        assert_int_equal(f->n, 0);
        assert_true(protocol_http1_ops.pending(f->h));
        data(f, IN, "67890");
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].kind, EXCHANGE_COMPLETE);
        assert_int_equal(f->x[0].status, 413);
        assert_int_equal(f->x[0].req_body, 10);
        assert_int_equal(f->x[0].req_flags, 0);
        assert_int_equal(f->x[0].duration, 1000);
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->stats.exchanges_complete, 1);

        /* the client gives up sending: the request is reported cut, still paired */
        data(g, IN, "POST /big HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345");
        data(g, OUT, "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        finish(g, EXCHANGE_END_CLOSED);
        assert_int_equal(g->n, 1);
        assert_int_equal(g->x[0].kind, EXCHANGE_COMPLETE);
        assert_int_equal(g->x[0].req_body, 5);
        assert_int_equal(g->x[0].req_flags, HTTP_MESSAGE_TRUNCATED);
        assert_int_equal(g->x[0].resp_flags, HTTP_MESSAGE_CONNECTION_CLOSE);
}

static void test_upgrade(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

        data(f, IN, "GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
        data(f, OUT, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x02hi");
        data_n(f, IN, "\x81\x85\x01\x02\x03\x04xxxxx", 11);
        data(f, OUT, "HTTP/1.1 200 OK\r\n\r\n");      /* now websocket payload: ignored */
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].kind, EXCHANGE_COMPLETE);
        assert_int_equal(f->x[0].status, 101);
        assert_int_equal(f->x[0].resp_flags, HTTP_MESSAGE_UPGRADE);
        assert_int_equal(f->stats.parse_errors, 0);
}

static void test_connect(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_CLIENT);

        data(f, OUT, "CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n");
        data(f, IN, "HTTP/1.1 200 Connection established\r\n\r\n");
        data_n(f, OUT, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc", 9);
        data_n(f, IN, "\x16\x03\x03\x00\x7a\x02", 6);
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 1);
        assert_string_equal(f->x[0].method, "CONNECT");
        assert_int_equal(f->x[0].status, 200);
        assert_int_equal(f->x[0].resp_flags, HTTP_MESSAGE_UPGRADE);
        assert_int_equal(f->stats.parse_errors, 0);

        /* a refused CONNECT keeps the connection HTTP */
        {
                _cleanup_(fixture_freep) Fixture *g = start(CONN_ROLE_CLIENT);
                data(g, OUT, "CONNECT a:443 HTTP/1.1\r\n\r\n");
                data(g, IN, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno");
                data(g, OUT, "CONNECT a:443 HTTP/1.1\r\nProxy-Authorization: Basic eDp5\r\n\r\n");
                data(g, IN, "HTTP/1.1 200 OK\r\n\r\n");
                finish(g, EXCHANGE_END_CLOSED);
                assert_int_equal(g->n, 2);
                assert_int_equal(g->x[0].status, 407);
                assert_int_equal(g->x[0].resp_body, 2);
                assert_int_equal(g->x[1].status, 200);
        }
}

static void test_uncorrelated_and_no_response(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].kind, EXCHANGE_UNCORRELATED);
        assert_int_equal(f->x[0].status, 200);

        data(f, IN, "GET /x HTTP/1.1\r\n\r\nGET /y HTTP/1.1\r\n\r\n");
        finish(f, EXCHANGE_END_IDLE_TIMEOUT);
        assert_int_equal(f->n, 3);
        assert_int_equal(f->x[1].kind, EXCHANGE_NO_RESPONSE);
        assert_string_equal(f->x[1].target, "/x");
        assert_int_equal(f->x[1].reason, EXCHANGE_END_IDLE_TIMEOUT);
        assert_string_equal(f->x[2].target, "/y");
        assert_int_equal(f->stats.exchanges_uncorrelated, 1);
        assert_int_equal(f->stats.exchanges_no_response, 2);
}

static void test_close_delimited_at_finish(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_CLIENT);

        data(f, OUT, "GET / HTTP/1.0\r\n\r\n");                     /* t=2000 */
        data(f, IN, "HTTP/1.0 200 OK\r\n\r\nsome ");                /* t=3000 */
        data(f, IN, "bytes");                                       /* t=4000 */
        assert_int_equal(f->n, 0);
        finish(f, EXCHANGE_END_CLOSED);                             /* t=5000 */
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].kind, EXCHANGE_COMPLETE);
        assert_int_equal(f->x[0].resp_body, 10);
        assert_int_equal(f->x[0].resp_flags, HTTP_MESSAGE_CLOSE_DELIMITED | HTTP_MESSAGE_CONNECTION_CLOSE);
        assert_int_equal(f->x[0].duration, 2000);
}

/*
 * Issue 15 #5: past limits.pipeline_max, requests are counted, not given up:
 * every response still pairs with its own request, HEAD framing included.
 */
static void test_pipeline_overflow(void **state) {
        static const char *const resp[] = {
                "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na",
                "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nbb",
                "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
                "HTTP/1.1 203 OK\r\nContent-Length: 3\r\n\r\nccc",
                "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",           /* to the HEAD: no body */
                "HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\ndddd",
                "HTTP/1.1 500 Oops\r\nContent-Length: 5\r\n\r\neeeee",
        };
        static const unsigned status[] = { 200, 201, 202, 203, 200, 404, 500 };
        static const uint64_t body[] = { 1, 2, 0, 3, 0, 4, 5 };
        _cleanup_(fixture_freep) Fixture *f = fixture_new(CONN_ROLE_SERVER);

        f->h1.pipeline_max = 3;
        fixture_start(f);
        data(f, IN, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n"
                    "GET /4 HTTP/1.1\r\n\r\nHEAD /5 HTTP/1.1\r\n\r\nGET /6 HTTP/1.1\r\n\r\nGET /7 HTTP/1.1\r\n\r\n");
        assert_int_equal(f->n, 0);
        assert_int_equal(http1_counters(&f->stats)[HTTP1_COUNTER_PIPELINE_OVERFLOWS], 4);
        assert_true(protocol_http1_ops.pending(f->h));

        for (size_t i = 0; i < ELEMENTSOF(resp); i++)
                data(f, OUT, resp[i]);
        assert_int_equal(f->n, 7);
        for (size_t i = 0; i < 7; i++) {
                assert_int_equal(f->x[i].kind, EXCHANGE_COMPLETE);
                assert_int_equal(f->x[i].status, status[i]);
                assert_int_equal(f->x[i].resp_body, body[i]);
                assert_int_equal(f->x[i].resp_flags, 0);
                /* the requests arrived in one send at t=1000 */
                assert_int_equal(f->x[i].duration, 1000 * (i + 1));
                if (i < 3) {
                        assert_string_equal(f->x[i].method, "GET");
                        assert_int_equal(f->x[i].target[1], '1' + (int) i);
                        assert_int_equal(f->x[i].req_flags, 0);
                } else {
                        assert_string_equal(f->x[i].method, "");
                        assert_string_equal(f->x[i].target, "");
                        assert_int_equal(f->x[i].req_flags, HTTP_MESSAGE_PIPELINE_OVERFLOW);
                }
        }
        assert_int_equal(f->stats.exchanges_uncorrelated, 0);
        assert_int_equal(f->stats.exchanges_no_response, 0);
        assert_int_equal(http1_counters(&f->stats)[HTTP1_COUNTER_DESYNCS], 0);
        assert_false(protocol_http1_ops.pending(f->h));

        /* the runs drained: requests are kept whole again; past the cap at a close, each is given up */
        data(f, IN, "GET /8 HTTP/1.1\r\n\r\nGET /9 HTTP/1.1\r\n\r\nGET /a HTTP/1.1\r\n\r\n"
                    "GET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n");
        assert_int_equal(http1_counters(&f->stats)[HTTP1_COUNTER_PIPELINE_OVERFLOWS], 6);
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 12);
        for (size_t i = 7; i < 12; i++) {
                assert_int_equal(f->x[i].kind, EXCHANGE_NO_RESPONSE);
                assert_int_equal(f->x[i].reason, EXCHANGE_END_CLOSED);
                assert_int_equal(f->x[i].req_flags, i < 10 ? 0 : HTTP_MESSAGE_PIPELINE_OVERFLOW);
        }
        assert_string_equal(f->x[9].target, "/a");
        assert_string_equal(f->x[10].target, "");
}

/* A hostile mix of methods past the cap: runs are bounded, pairing is kept. */
static void test_pipeline_overflow_runs_bounded(void **state) {
        _cleanup_(fixture_freep) Fixture *f = fixture_new(CONN_ROLE_SERVER);
        size_t used;

        f->h1.pipeline_max = 2;
        fixture_start(f);
        data(f, IN, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
        used = protocol_http1_ops.memory(f->h);
        for (int i = 0; i < 20; i++)
                data(f, IN, i % 2 ? "HEAD /h HTTP/1.1\r\n\r\n" : "GET /g HTTP/1.1\r\n\r\n");
        assert_int_equal(http1_counters(&f->stats)[HTTP1_COUNTER_PIPELINE_OVERFLOWS], 20);
        /* two runs of bare message structs beside the two whole requests */
        assert_true(protocol_http1_ops.memory(f->h) <= used + 2 * sizeof(Http1Message));
        for (int i = 0; i < 22; i++)
                data(f, OUT, "HTTP/1.1 204 No Content\r\n\r\n");
        assert_int_equal(f->n, 22);
        assert_int_equal(f->stats.exchanges_complete, 22);
        assert_int_equal(f->stats.exchanges_uncorrelated, 0);
        finish(f, EXCHANGE_END_CLOSED);
}

static void test_parse_error_then_recovery(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

        data(f, IN, "GET /ok HTTP/1.1\r\n\r\n");
        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        data(f, IN, "GET /bad HTTP/1.1\r\nBad Header: x\r\n\r\n");
        assert_int_equal(f->n, 2);
        assert_int_equal(f->x[1].kind, EXCHANGE_PARSE_ERROR);
        assert_string_equal(f->x[1].error, "invalid header field name");
        assert_int_equal(f->x[1].error_direction, IN);
        assert_int_equal(f->x[1].error_offset, 20 + 19);
        assert_string_equal(f->x[1].excerpt, "Bad Header: x\r\n\r\n");
        assert_int_equal(f->stats.parse_errors, 1);
        /* the request whose head was bad is still there, cut, and gets its 400 */
        data(f, OUT, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        assert_int_equal(f->n, 3);
        assert_int_equal(f->x[2].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[2].target, "/bad");
        assert_int_equal(f->x[2].req_flags, HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_HEAD_TRUNCATED | HTTP_MESSAGE_HEAD_CUT |
                                           HTTP_MESSAGE_REQUEST_INVALID);
        assert_int_equal(f->x[2].status, 400);

        data(f, IN, "GET /again HTTP/1.1\r\n\r\n");
        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_int_equal(f->n, 4);
        assert_int_equal(f->x[3].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[3].target, "/again");
        finish(f, EXCHANGE_END_CLOSED);
}

/* A request line the parser rejects: its stand-in pairs with the server's answer, in order. */
static void test_rejected_request_line(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

        data(f, IN, "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].kind, EXCHANGE_PARSE_ERROR);
        assert_int_equal(f->x[0].error_direction, IN);
        assert_true(protocol_http1_ops.pending(f->h));
        /* a valid request pipelined behind it, in a send of its own: the parser resyncs on it */
        data(f, IN, "GET /good HTTP/1.1\r\n\r\n");
        data(f, OUT, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assert_int_equal(f->n, 3);
        assert_int_equal(f->x[1].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[1].method, "GET");
        assert_string_equal(f->x[1].target, "/a");
        assert_int_equal(f->x[1].status, 400);
        assert_int_equal(f->x[1].req_flags,
                         HTTP_MESSAGE_REQUEST_INVALID | HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_HEAD_CUT);
        assert_int_equal(f->x[1].duration, 2000);
        assert_int_equal(f->x[2].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[2].target, "/good");
        assert_int_equal(f->x[2].req_flags, 0);
        assert_int_equal(f->x[2].status, 200);
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 3);
        assert_int_equal(f->stats.parse_errors, 1);
        assert_int_equal(f->stats.messages_requests, 2);
        assert_int_equal(f->stats.exchanges_complete, 2);
        assert_int_equal(f->stats.exchanges_uncorrelated, 0);
        assert_int_equal(http1_counters(&f->stats)[HTTP1_COUNTER_REQUESTS_INVALID], 1);
}

/*
 * The same, pipelined in one send: after the error the parser finds its way
 * back only at a send's start, so the valid request is not seen. The 400
 * still pairs with the rejected one; an answer to the unseen one (a lenient
 * server's) is uncorrelated, never given to the wrong request.
 */
static void test_rejected_request_line_one_send(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

        data(f, IN, "GET /a b HTTP/1.1\r\n\r\nGET /good HTTP/1.1\r\n\r\n");
        data(f, OUT, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 3);
        assert_int_equal(f->x[0].kind, EXCHANGE_PARSE_ERROR);
        assert_int_equal(f->x[1].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[1].target, "/a");
        assert_int_equal(f->x[1].status, 400);
        assert_int_equal(f->x[2].kind, EXCHANGE_UNCORRELATED);
        assert_int_equal(f->x[2].status, 200);
}

/* What is kept of a rejected line: a token and visible ASCII only; else nothing, said by the flag. */
static void test_rejected_request_line_contents(void **state) {
        static const struct {
                const char *line, *method, *target;
        } cases[] = {
                { "GET /version HTTP/9.x\r\n\r\n",            "GET",  "/version" },
                { "POST /t\x01x HTTP/1.1\r\n\r\n",            "POST", "/t" },
                { "GET /caf\xc3\xa9 HTTP/9.9\r\n\r\n",       "GET",  "/caf" },     /* UTF-8 is accepted; the version not */
                { "\x01\x02 not http\r\n\r\n",                "",     "" },
                { "G(T / HTTP/1.1\r\n\r\n",                     "",     "" },
                { "GET\t/ HTTP/1.1\r\n\r\n",                   "",     "" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

                data(f, IN, cases[i].line);
                assert_int_equal(f->n, 1);
                assert_int_equal(f->x[0].kind, EXCHANGE_PARSE_ERROR);
                data(f, OUT, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                finish(f, EXCHANGE_END_CLOSED);
                assert_int_equal(f->n, 2);
                assert_int_equal(f->x[1].kind, EXCHANGE_COMPLETE);
                assert_string_equal(f->x[1].method, cases[i].method);
                assert_string_equal(f->x[1].target, cases[i].target);
                assert_true(f->x[1].req_flags & HTTP_MESSAGE_REQUEST_INVALID);
                assert_int_equal(f->x[1].status, 400);
        }
}

/* A head rejected after its start line: the parser's truncated request is the one flagged. */
static void test_rejected_head(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

        data(f, IN, "POST /cl HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 10\r\n\r\nhello");
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].kind, EXCHANGE_PARSE_ERROR);
        data(f, OUT, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        assert_int_equal(f->n, 2);
        assert_string_equal(f->x[1].target, "/cl");
        assert_int_equal(f->x[1].status, 400);
        assert_true(f->x[1].req_flags & HTTP_MESSAGE_REQUEST_INVALID);
        assert_true(f->x[1].req_flags & HTTP_MESSAGE_TRUNCATED);
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 2);
        assert_int_equal(f->stats.messages_requests, 1);
        assert_int_equal(http1_counters(&f->stats)[HTTP1_COUNTER_REQUESTS_INVALID], 1);
}

/* A rejected request the server never answers ends like any other unanswered request. */
static void test_rejected_then_close(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

        data(f, IN, "GET /x HTTP/9.x\r\n\r\n");
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 2);
        assert_int_equal(f->x[0].kind, EXCHANGE_PARSE_ERROR);
        assert_int_equal(f->x[1].kind, EXCHANGE_NO_RESPONSE);
        assert_int_equal(f->x[1].reason, EXCHANGE_END_CLOSED);
        assert_string_equal(f->x[1].target, "/x");
        assert_true(f->x[1].req_flags & HTTP_MESSAGE_REQUEST_INVALID);
        assert_int_equal(f->stats.exchanges_no_response, 1);
}

/* The client's side: its own bad request line, the answer it reads, then its next request. */
static void test_rejected_client_role(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_CLIENT);

        data(f, OUT, "GET /a\x7f" "b HTTP/1.1\r\n\r\n");
        data(f, IN, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        data(f, OUT, "GET /next HTTP/1.1\r\n\r\n");
        data(f, IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 3);
        assert_int_equal(f->x[0].kind, EXCHANGE_PARSE_ERROR);
        assert_int_equal(f->x[0].error_direction, OUT);
        assert_int_equal(f->x[1].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[1].target, "/a");
        assert_int_equal(f->x[1].status, 400);
        assert_true(f->x[1].req_flags & HTTP_MESSAGE_REQUEST_INVALID);
        assert_int_equal(f->x[2].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[2].target, "/next");
        assert_int_equal(f->x[2].status, 200);
}

/* Rejected requests are requests for pipeline_max: past it they are counted and paired, not kept. */
static void test_rejected_past_pipeline_max(void **state) {
        _cleanup_(fixture_freep) Fixture *f = fixture_new(CONN_ROLE_SERVER);

        f->h1.pipeline_max = 1;
        fixture_start(f);
        data(f, IN, "GET /one HTTP/1.1\r\n\r\n");
        data(f, IN, "GET /two HTTP/9.9\r\n\r\n");
        data(f, IN, "GET /three HTTP/1.1\r\n\r\n");
        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        data(f, OUT, "HTTP/1.1 505 Version Not Supported\r\nContent-Length: 0\r\n\r\n");
        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 4);
        assert_int_equal(f->x[0].kind, EXCHANGE_PARSE_ERROR);
        assert_string_equal(f->x[1].target, "/one");
        assert_int_equal(f->x[2].status, 505);
        assert_int_equal(f->x[2].req_flags & (HTTP_MESSAGE_REQUEST_INVALID | HTTP_MESSAGE_PIPELINE_OVERFLOW),
                         HTTP_MESSAGE_REQUEST_INVALID | HTTP_MESSAGE_PIPELINE_OVERFLOW);
        assert_string_equal(f->x[2].target, "");
        assert_int_equal(f->x[3].status, 200);
        assert_true(f->x[3].req_flags & HTTP_MESSAGE_PIPELINE_OVERFLOW);
        assert_int_equal(f->stats.exchanges_complete, 3);
}

static void test_response_desync(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

        data(f, IN, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n");
        data(f, OUT, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n0123");
        gap(f, OUT, 100);
        assert_int_equal(http1_counters(&f->stats)[HTTP1_COUNTER_DESYNCS], 1);
        assert_int_equal(f->n, 2);
        assert_int_equal(f->x[0].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[0].target, "/1");
        assert_int_equal(f->x[0].resp_flags, HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_GAP | HTTP_MESSAGE_CHUNKED);
        assert_int_equal(f->x[1].kind, EXCHANGE_NO_RESPONSE);
        assert_string_equal(f->x[1].target, "/2");
        assert_int_equal(f->x[1].reason, EXCHANGE_END_DESYNC);

        /* a continuation of the lost response is ignored, the next response start resyncs */
        data(f, OUT, "ab\r\n0\r\n\r\n");
        data(f, IN, "GET /3 HTTP/1.1\r\n\r\n");
        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_int_equal(f->n, 3);
        assert_int_equal(f->x[2].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[2].target, "/3");
        assert_int_equal(f->stats.parse_errors, 0);
        finish(f, EXCHANGE_END_CLOSED);
}

static void test_body_gap_stays_in_sync(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);

        /* nginx: head by writev, body by sendfile (a gap) */
        data(f, IN, "GET /file HTTP/1.1\r\n\r\n");
        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 612\r\n\r\n");
        gap(f, OUT, 612);
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].resp_body, 612);
        assert_int_equal(f->x[0].resp_flags, HTTP_MESSAGE_GAP);
        assert_int_equal(f->x[0].duration, 2000);
        data(f, IN, "GET /file HTTP/1.1\r\n\r\n");
        data(f, OUT, "HTTP/1.1 304 Not Modified\r\n\r\n");
        assert_int_equal(f->n, 2);
        assert_int_equal(f->x[1].status, 304);
        assert_int_equal(http1_counters(&f->stats)[HTTP1_COUNTER_DESYNCS], 0);
        finish(f, EXCHANGE_END_CLOSED);
}

static void test_role_unknown(void **state) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_UNKNOWN), *g = start(CONN_ROLE_UNKNOWN);

        data(f, OUT, "GET /u HTTP/1.1\r\n\r\n");
        data(f, IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[0].target, "/u");

        /* the response side speaks first (we joined late): it still fixes the roles */
        data(g, IN, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        data(g, OUT, "GET /v HTTP/1.1\r\n\r\n");
        data(g, IN, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        data(g, IN, "GET /w HTTP/1.1\r\n\r\n");
        finish(g, EXCHANGE_END_CLOSED);
        assert_int_equal(g->n, 3);
        assert_int_equal(g->x[0].kind, EXCHANGE_UNCORRELATED);
        assert_int_equal(g->x[1].kind, EXCHANGE_COMPLETE);
        assert_int_equal(g->x[1].status, 404);
        assert_int_equal(g->x[2].kind, EXCHANGE_PARSE_ERROR);
        assert_string_equal(g->x[2].error, "expected a status line");
}

static void test_memory_refused(void **state) {
        _cleanup_(fixture_freep) Fixture *f = fixture_new(CONN_ROLE_SERVER);

        f->budget.max = 100;
        fixture_start(f);
        data(f, IN, "GET /a HTTP/1.1\r\nHost: h\r\n\r\n");
        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].kind, EXCHANGE_COMPLETE);
        assert_string_equal(f->x[0].method, "");
        assert_int_equal(f->x[0].req_flags, HTTP_MESSAGE_MEMORY_CAPPED | HTTP_MESSAGE_HEAD_TRUNCATED);
        assert_int_equal(f->x[0].status, 200);
        assert_int_equal(f->x[0].resp_body, 2);
        assert_true(f->stats.memory_refused > 0);
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->budget.used, 0);

        /* per-connection cap */
        {
                _cleanup_(fixture_freep) Fixture *g = fixture_new(CONN_ROLE_SERVER);

                g->limits.conn_memory_max = 300;
                fixture_start(g);
                data(g, IN, "GET /a HTTP/1.1\r\n\r\n");
                assert_true(protocol_http1_ops.memory(g->h) <= 300 + 2 * 256);
                data(g, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                assert_int_equal(g->n, 1);
                assert_true(g->stats.memory_refused > 0);
                finish(g, EXCHANGE_END_CLOSED);
        }
}

static void test_not_seen_from_start(void **state) {
        _cleanup_(fixture_freep) Fixture *f = fixture_new(CONN_ROLE_SERVER);

        f->conn.flags = 0;
        fixture_start(f);
        data(f, OUT, "rest of an old body\r\n");
        data(f, IN, "GET /n HTTP/1.1\r\n\r\n");
        data(f, OUT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        finish(f, EXCHANGE_END_CLOSED);
        assert_int_equal(f->n, 1);
        assert_int_equal(f->x[0].kind, EXCHANGE_COMPLETE);
        assert_int_equal(f->stats.parse_errors, 0);
}

/* A whole conversation, each direction cut at every offset: same exchanges. */
static void run_conversation(const char *req, const char *resp, size_t split_req, size_t split_resp,
                             char *log, size_t log_size) {
        _cleanup_(fixture_freep) Fixture *f = start(CONN_ROLE_SERVER);
        size_t lq = strlen(req), ls = strlen(resp);

        assert_int_equal(protocol_http1_ops.data(f->h, IN, (const uint8_t *) req, split_req, 1, 1, true), 0);
        assert_int_equal(protocol_http1_ops.data(f->h, IN, (const uint8_t *) req + split_req, lq - split_req, 1, 1,
                                                 false), 0);
        assert_int_equal(protocol_http1_ops.data(f->h, OUT, (const uint8_t *) resp, split_resp, 2, 1, true), 0);
        assert_int_equal(protocol_http1_ops.data(f->h, OUT, (const uint8_t *) resp + split_resp, ls - split_resp,
                                                 2, 1, false), 0);
        finish(f, EXCHANGE_END_CLOSED);
        snprintf(log, log_size, "%s", f->log);
}

static void test_split_conversation(void **state) {
        static const char req[] =
                "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
                "POST /2 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\nab\r\n0\r\nT: 1\r\n\r\n"
                "HEAD /3 HTTP/1.1\r\n\r\n"
                "GET /4 HTTP/1.0\r\n\r\n";
        static const char resp[] =
                "HTTP/1.1 100 Continue\r\n\r\n"
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
                "HTTP/1.1 201 Created\nContent-Length: 0\n\n"
                "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"
                "HTTP/1.0 200 OK\r\n\r\nclose delimited";
        static char ref[16384], got[16384];

        run_conversation(req, resp, strlen(req), strlen(resp), ref, sizeof(ref));
        assert_non_null(strstr(ref, "complete HEAD /3 200 rq=0/0 rs=0/0"));
        assert_non_null(strstr(ref, "complete GET /4 200 rq=0/0x40 rs=15/0x60"));
        for (size_t i = 0; i <= strlen(req); i++) {
                run_conversation(req, resp, i, strlen(resp), got, sizeof(got));
                assert_string_equal(ref, got);
        }
        for (size_t i = 0; i <= strlen(resp); i++) {
                run_conversation(req, resp, strlen(req), i, got, sizeof(got));
                assert_string_equal(ref, got);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_keep_alive_server),
                cmocka_unit_test(test_client_role),
                cmocka_unit_test(test_pipelining),
                cmocka_unit_test(test_100_continue),
                cmocka_unit_test(test_early_response),
                cmocka_unit_test(test_upgrade),
                cmocka_unit_test(test_connect),
                cmocka_unit_test(test_uncorrelated_and_no_response),
                cmocka_unit_test(test_close_delimited_at_finish),
                cmocka_unit_test(test_pipeline_overflow),
                cmocka_unit_test(test_pipeline_overflow_runs_bounded),
                cmocka_unit_test(test_parse_error_then_recovery),
                cmocka_unit_test(test_rejected_request_line),
                cmocka_unit_test(test_rejected_request_line_contents),
                cmocka_unit_test(test_rejected_request_line_one_send),
                cmocka_unit_test(test_rejected_head),
                cmocka_unit_test(test_rejected_then_close),
                cmocka_unit_test(test_rejected_client_role),
                cmocka_unit_test(test_rejected_past_pipeline_max),
                cmocka_unit_test(test_response_desync),
                cmocka_unit_test(test_body_gap_stays_in_sync),
                cmocka_unit_test(test_role_unknown),
                cmocka_unit_test(test_memory_refused),
                cmocka_unit_test(test_not_seen_from_start),
                cmocka_unit_test(test_split_conversation),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
