/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of HTTP/2 streams -> exchanges (src/protocols/http2/protocol.c,
 * stream.c) through protocol_http2_ops, as the connection layer drives it.
 * The bytes are a real conversation between libnghttp2's client and server
 * sessions (http2-peers.h): interleaved streams, request bodies, padding,
 * trailers, resets.
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
#include "output/entry.h"
#include "output/fields.h"
#include "protocols/http2/counters.h"
#include "protocols/http2/frame.h"
#include "protocols/http1/protocol.h"
#include "protocols/http2/protocol.h"
#include "http2-peers.h"

#define X_MAX 64

typedef struct Rec {
        ExchangeKind kind;
        uint32_t stream_id;
        char method[16], target[64], host[64], grpc_status[8];
        /* as the outputs format it */
        char f_version[8], f_priority[4], f_grpc_status[8], f_grpc_message[32], f_stream_id[12], f_reset[24];
        unsigned status, version;
        uint64_t req_body, resp_body, duration;
        unsigned req_flags, resp_flags;
        ExchangeEndReason reason;
        bool reset;
        uint32_t error;
} Rec;

typedef struct Fixture {
        ConnInfo conn;
        Limits limits;
        Stats stats;
        ExchangeSink sink;
        ProtocolContext ctx;
        void *h;
        Rec x[X_MAX];
        size_t n;
} Fixture;

static void copy_header(const HttpMessage *m, const char *name, char *buf, size_t size) {
        const HttpHeaderField *h = m ? http_message_header(m, name) : NULL;

        if (h)
                snprintf(buf, size, "%s", h->value);
}

static void copy_field(const FormatEntry *e, const char *name, char *buf, size_t size) {
        const char *v = format_entry_get(e, name);

        snprintf(buf, size, "%s", v ?: "");
}

static int sink_emit(void *userdata, const Exchange *x) {
        static FormatEntry e;
        Fixture *f = userdata;
        Rec *r;

        assert_true(f->n < X_MAX);
        r = &f->x[f->n++];
        *r = (Rec) {
                .kind = x->kind,
                .stream_id = x->stream_id,
                .reason = x->reason,
                .reset = x->stream_reset,
                .error = x->stream_error,
                .duration = x->duration_ns,
        };
        if (x->request) {
                snprintf(r->method, sizeof(r->method), "%s", x->request->method ?: "");
                snprintf(r->target, sizeof(r->target), "%s", x->request->target ?: "");
                copy_header(x->request, "host", r->host, sizeof(r->host));
                r->req_body = x->request->body_bytes;
                r->req_flags = x->request->flags;
                r->version = x->request->version;
        }
        if (x->response) {
                r->status = x->response->status;
                r->resp_body = x->response->body_bytes;
                r->resp_flags = x->response->flags;
                copy_header(x->response, "grpc-status", r->grpc_status, sizeof(r->grpc_status));
        }
        assert_int_equal(format_exchange(&e, x, NULL, &f->stats), 0);
        copy_field(&e, "HTTP_VERSION", r->f_version, sizeof(r->f_version));
        copy_field(&e, "PRIORITY", r->f_priority, sizeof(r->f_priority));
        copy_field(&e, "GRPC_STATUS", r->f_grpc_status, sizeof(r->f_grpc_status));
        copy_field(&e, "GRPC_MESSAGE", r->f_grpc_message, sizeof(r->f_grpc_message));
        copy_field(&e, "HTTP_STREAM_ID", r->f_stream_id, sizeof(r->f_stream_id));
        copy_field(&e, "HTTP2_RESET_ERROR", r->f_reset, sizeof(r->f_reset));
        return 0;
}

static void fixture_init(Fixture *f, ConnRole role, bool seen_start) {
        memset(f, 0, sizeof(*f));
        f->conn = (ConnInfo) {
                .id = 1,
                .role = role,
                .protocol = CONN_PROTOCOL_HTTP2,
                .flags = seen_start ? CONN_SEEN_START : 0,
        };
        f->limits = (Limits) { .conn_memory_max = 1 << 20, .global_memory_max = 1 << 24, .conns_max = 16 };
        f->sink = (ExchangeSink) { .emit = sink_emit, .userdata = f };
        f->ctx = (ProtocolContext) {
                .conn = &f->conn,
                .sink = &f->sink,
                .stats = &f->stats,
                .limits = &f->limits,
        };
        assert_int_equal(protocol_http2_ops.new(&f->ctx, &f->h), 0);
}

static void fixture_done(Fixture *f) {
        protocol_http2_ops.free(f->h);
}

/*
 * Feeds the conversation, each side's bytes in chunks of step: all of the
 * client's first (a server only answers what it has read, so its bytes never
 * come before the request they answer).
 */
static void feed(Fixture *f, const Peers *p, size_t step) {
        uint8_t c2s = f->conn.role == CONN_ROLE_CLIENT ? CONN_DIR_EGRESS : CONN_DIR_INGRESS;
        uint64_t ts = 1000;

        for (size_t i = 0; i < p->c2s_len; i += step)
                assert_int_equal(protocol_http2_ops.data(f->h, c2s, p->c2s + i, MIN(step, p->c2s_len - i), ts++, 7,
                                                         true), 0);
        for (size_t j = 0; j < p->s2c_len; j += step)
                assert_int_equal(protocol_http2_ops.data(f->h, !c2s, p->s2c + j, MIN(step, p->s2c_len - j), ts++, 7,
                                                         true), 0);
}

static const Rec *find(const Fixture *f, const char *target) {
        for (size_t i = 0; i < f->n; i++)
                if (strcmp(f->x[i].target, target) == 0)
                        return &f->x[i];
        fail_msg("no exchange for %s", target);
        return NULL;
}

static void make_conversation(Peers *p, unsigned pad_to) {
        peers_init(p, pad_to);
        peers_request(p, "GET", "/index.html", NULL, NULL, 0, (PeersResponse) { .status = "200", .body_len = 1234 });
        peers_request(p, "POST", "/upload", "content-type", "text/plain", 40000,
                      (PeersResponse) { .status = "201", .body_len = 10 });
        peers_request(p, "GET", "/missing", NULL, NULL, 0, (PeersResponse) { .status = "404", .body_len = 0 });
        peers_request(p, "POST", "/pkg.Svc/Call", "content-type", "application/grpc", 5,
                      (PeersResponse) { .status = "200", .body_len = 7, .trailer_status = "14" });
        peers_run(p);
        assert_int_equal(p->n_requests_done, 4);
}

static void check_conversation(const Fixture *f) {
        const Rec *r;

        assert_int_equal(f->n, 4);
        for (size_t i = 0; i < f->n; i++) {
                assert_int_equal(f->x[i].kind, EXCHANGE_COMPLETE);
                assert_int_equal(f->x[i].version, 20);
                assert_string_equal(f->x[i].host, "example.test");
                assert_false(f->x[i].reset);
                assert_int_equal(f->x[i].req_flags & (HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_HEADERS_INCOMPLETE), 0);
        }
        r = find(f, "/index.html");
        assert_string_equal(r->method, "GET");
        assert_int_equal(r->stream_id, 1);
        assert_int_equal(r->status, 200);
        assert_int_equal(r->resp_body, 1234);
        assert_int_equal(r->req_body, 0);
        assert_true(r->duration > 0);
        r = find(f, "/upload");
        assert_string_equal(r->method, "POST");
        assert_int_equal(r->stream_id, 3);
        assert_int_equal(r->status, 201);
        assert_int_equal(r->req_body, 40000);
        assert_int_equal(r->resp_body, 10);
        r = find(f, "/missing");
        assert_int_equal(r->stream_id, 5);
        assert_int_equal(r->status, 404);
        assert_int_equal(r->resp_body, 0);
        r = find(f, "/pkg.Svc/Call");
        assert_int_equal(r->stream_id, 7);
        assert_int_equal(r->status, 200);
        assert_int_equal(r->req_body, 5);
        assert_int_equal(r->resp_body, 7);
        assert_string_equal(r->grpc_status, "14");
        /* the entry: gRPC's status from the trailers decides PRIORITY (UNAVAILABLE: warning), not HTTP's 200 */
        assert_string_equal(r->f_version, "2");
        assert_string_equal(r->f_stream_id, "7");
        assert_string_equal(r->f_grpc_status, "14");
        assert_string_equal(r->f_grpc_message, "from trailers");
        assert_string_equal(r->f_priority, "4");
        r = find(f, "/index.html");
        assert_string_equal(r->f_grpc_status, "");
        assert_string_equal(r->f_priority, "6");
        assert_string_equal(find(f, "/missing")->f_priority, "5");
}

static void test_conversation_server(void **state) {
        Fixture f;
        Peers p;

        make_conversation(&p, 0);
        fixture_init(&f, CONN_ROLE_SERVER, true);
        feed(&f, &p, 1 << 20);
        assert_false(protocol_http2_ops.pending(f.h));
        check_conversation(&f);
        assert_int_equal(f.stats.exchanges_complete, 4);
        assert_int_equal(f.stats.parse_errors, 0);
        assert_int_equal(http2_counters(&f.stats)[HTTP2_COUNTER_HEADERS_INCOMPLETE], 0);
        fixture_done(&f);
        peers_done(&p);
}

/* The client's view, fed in small chunks (frames and header blocks split everywhere), padded frames. */
static void test_conversation_client_chunked_padded(void **state) {
        static const size_t steps[] = { 1, 2, 7, 100, 4096 };

        for (size_t k = 0; k < ELEMENTSOF(steps); k++) {
                Fixture f;
                Peers p;

                make_conversation(&p, 64);
                fixture_init(&f, CONN_ROLE_CLIENT, true);
                feed(&f, &p, steps[k]);
                check_conversation(&f);
                assert_false(protocol_http2_ops.pending(f.h));
                fixture_done(&f);
                peers_done(&p);
        }
}

/* A stream reset before its response: NO_RESPONSE/RESET with the code; the connection's other stream is whole. */
static void test_reset(void **state) {
        Fixture f;
        Peers p;
        int32_t id;

        peers_init(&p, 0);
        peers_request(&p, "GET", "/kept", NULL, NULL, 0, (PeersResponse) { .status = "200", .body_len = 3 });
        id = peers_request(&p, "POST", "/cancelled", NULL, NULL, 100000, (PeersResponse) { .status = "200" });
        /* let the request start, then cancel it mid-body */
        {
                const uint8_t *data;
                ssize_t n;

                while (p.c2s_len < 2000 && (n = nghttp2_session_mem_send(p.client, &data)) > 0) {
                        append(p.c2s, &p.c2s_len, data, (size_t) n);
                        assert_int_equal(nghttp2_session_mem_recv(p.server, data, (size_t) n), n);
                }
        }
        assert_int_equal(nghttp2_submit_rst_stream(p.client, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL), 0);
        peers_run(&p);

        fixture_init(&f, CONN_ROLE_SERVER, true);
        feed(&f, &p, 1 << 20);
        assert_int_equal(protocol_http2_ops.finish(f.h, 99999, EXCHANGE_END_CLOSED), 0);
        assert_int_equal(f.n, 2);
        assert_int_equal(find(&f, "/kept")->kind, EXCHANGE_COMPLETE);
        assert_int_equal(find(&f, "/cancelled")->kind, EXCHANGE_NO_RESPONSE);
        assert_int_equal(find(&f, "/cancelled")->reason, EXCHANGE_END_RESET);
        assert_true(find(&f, "/cancelled")->reset);
        assert_int_equal(find(&f, "/cancelled")->error, NGHTTP2_CANCEL);
        assert_string_equal(find(&f, "/cancelled")->f_reset, "CANCEL");
        assert_string_equal(find(&f, "/kept")->f_reset, "");
        assert_int_equal(find(&f, "/cancelled")->stream_id, id);
        assert_int_equal(http2_counters(&f.stats)[HTTP2_COUNTER_STREAMS_RESET], 1);
        fixture_done(&f);
        peers_done(&p);
}

/*
 * A server's GOAWAY names the last stream it took: a request the client sent
 * before reading it, on a stream above that, is never answered, whether it
 * was open at the GOAWAY or arrived after it (nginx reloaded under h2load:
 * test-http2-push-goaway). Frames written out: HPACK literals and static
 * entries only.
 */
static void test_goaway(void **state) {
        static const uint8_t settings[] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 };
        /* HEADERS END_STREAM|END_HEADERS: :method GET, :scheme http, :path /, :authority a */
#define REQ(id) { 0, 0, 6, 1, 5, 0, 0, 0, id, 0x82, 0x86, 0x84, 0x01, 0x01, 'a' }
        static const uint8_t req1[] = REQ(1), req3[] = REQ(3), req5[] = REQ(5);
#undef REQ
        /* HEADERS :status 200, END_STREAM; then GOAWAY last stream 1, NO_ERROR */
        static const uint8_t resp1_goaway[] = { 0, 0, 1, 1, 5, 0, 0, 0, 1, 0x88,
                                                0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0 };
        Fixture f;

        fixture_init(&f, CONN_ROLE_SERVER, true);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_INGRESS, (const uint8_t *) HTTP2_PREFACE,
                                                 HTTP2_PREFACE_LEN, 1, 1, true), 0);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_INGRESS, settings, sizeof(settings), 2, 1, true), 0);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_EGRESS, settings, sizeof(settings), 3, 1, true), 0);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_INGRESS, req1, sizeof(req1), 4, 1, true), 0);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_INGRESS, req3, sizeof(req3), 5, 1, true), 0);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_EGRESS, resp1_goaway, sizeof(resp1_goaway), 6, 1, true), 0);
        /* stream 1 answered; stream 3, open at the GOAWAY, out at once */
        assert_int_equal(f.n, 2);
        assert_int_equal(f.x[0].kind, EXCHANGE_COMPLETE);
        assert_int_equal(f.x[0].stream_id, 1);
        assert_int_equal(f.x[1].kind, EXCHANGE_NO_RESPONSE);
        assert_int_equal(f.x[1].stream_id, 3);
        assert_int_equal(f.x[1].reason, EXCHANGE_END_GOAWAY);
        /* stream 5, sent before the client read the GOAWAY: never answered, for the same reason */
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_INGRESS, req5, sizeof(req5), 7, 1, true), 0);
        assert_int_equal(protocol_http2_ops.finish(f.h, 8, EXCHANGE_END_CLOSED), 0);
        assert_int_equal(f.n, 3);
        assert_int_equal(f.x[2].kind, EXCHANGE_NO_RESPONSE);
        assert_int_equal(f.x[2].stream_id, 5);
        assert_int_equal(f.x[2].reason, EXCHANGE_END_GOAWAY);
        assert_int_equal(http2_counters(&f.stats)[HTTP2_COUNTER_GOAWAYS], 1);
        fixture_done(&f);
}

/* Streams past streams_max are counted, not logged; the others are whole. */
static void test_streams_cap(void **state) {
        Http2ConnLimits l = http2_limits_default;
        Fixture f;
        Peers p;

        peers_init(&p, 0);
        for (int i = 0; i < 4; i++)
                peers_request(&p, "GET", "/s", NULL, NULL, 0, (PeersResponse) { .status = "200", .body_len = 1 });
        /* all four requests go out before any response */
        {
                const uint8_t *data;
                ssize_t n;

                while ((n = nghttp2_session_mem_send(p.client, &data)) > 0)
                        append(p.c2s, &p.c2s_len, data, (size_t) n);
                assert_int_equal(nghttp2_session_mem_recv(p.server, p.c2s, p.c2s_len), (ssize_t) p.c2s_len);
        }
        peers_run(&p);

        l.streams_max = 2;
        memset(&f, 0, sizeof(f));
        fixture_init(&f, CONN_ROLE_SERVER, true);
        protocol_http2_ops.free(f.h);
        f.ctx.protocol_limits = &l;
        assert_int_equal(protocol_http2_ops.new(&f.ctx, &f.h), 0);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_INGRESS, p.c2s, p.c2s_len, 1, 1, true), 0);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_EGRESS, p.s2c, p.s2c_len, 2, 1, true), 0);
        assert_int_equal(f.n, 2);
        assert_int_equal(http2_counters(&f.stats)[HTTP2_COUNTER_STREAMS_OVERFLOWS], 2);
        fixture_done(&f);
        peers_done(&p);
}

/*
 * Joined mid-stream: the first half of the conversation was never seen. The
 * streams whose frames are all in the second half still come out; header
 * blocks that refer to dynamic-table entries inserted in the first half
 * are flagged incomplete (and counted), never decoded to something wrong.
 */
static void test_joined_midstream(void **state) {
        Fixture f;
        Peers p;
        size_t c_at, s_at;

        peers_init(&p, 0);
        peers_request(&p, "GET", "/first", NULL, NULL, 0, (PeersResponse) { .status = "200", .body_len = 5 });
        peers_run(&p);
        c_at = p.c2s_len;
        s_at = p.s2c_len;
        peers_request(&p, "GET", "/second", NULL, NULL, 0, (PeersResponse) { .status = "404", .body_len = 3 });
        peers_run(&p);

        fixture_init(&f, CONN_ROLE_SERVER, false);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_INGRESS, p.c2s + c_at, p.c2s_len - c_at, 1, 1, true), 0);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_EGRESS, p.s2c + s_at, p.s2c_len - s_at, 2, 1, true), 0);
        assert_int_equal(f.n, 1);
        assert_int_equal(f.x[0].kind, EXCHANGE_COMPLETE);
        assert_int_equal(f.x[0].stream_id, 3);
        /* the status is a static-table entry: known even when the block is incomplete */
        assert_int_equal(f.x[0].status, 404);
        assert_int_equal(f.x[0].resp_body, 3);
        if (f.x[0].req_flags & HTTP_MESSAGE_HEADERS_INCOMPLETE)
                assert_true(http2_counters(&f.stats)[HTTP2_COUNTER_HEADERS_INCOMPLETE] > 0);
        else
                assert_string_equal(f.x[0].target, "/second");
        fixture_done(&f);
        peers_done(&p);
}

/*
 * h2c by Upgrade, through HTTP/1's handler (the connection was classified
 * HTTP/1 by its first request): the upgrading request becomes stream 1,
 * answered in HTTP/2 after the 101; the 101 is no entry; stream 3 follows.
 * The server's 101 and its first HTTP/2 bytes come in one read.
 */
static void test_upgrade(void **state) {
        static const char req[] = "GET /up HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                                  "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
        static const char resp101[] = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
        nghttp2_settings_entry iv[] = { { NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100 } };
        nghttp2_nv nva[] = { { (uint8_t *) ":status", (uint8_t *) "200", 7, 3, 0 } };
        uint8_t payload[64], buf[4096];
        MemBudget budget = { .max = SIZE_MAX / 2 };
        size_t c1, s1, n;
        ssize_t plen;
        Fixture f;
        Peers p;

        peers_init(&p, 0);
        plen = nghttp2_pack_settings_payload(payload, sizeof(payload), iv, 1);
        assert_true(plen > 0);
        assert_int_equal(nghttp2_session_upgrade2(p.client, payload, (size_t) plen, 0, NULL), 0);
        assert_int_equal(nghttp2_session_upgrade2(p.server, payload, (size_t) plen, 0, NULL), 0);
        p.responses[0] = (PeersResponse) { .status = "200", .body_len = 77 };
        {
                nghttp2_data_provider prd = { .read_callback = peers_response_body };

                assert_int_equal(nghttp2_submit_response(p.server, 1, nva, 1, &prd), 0);
        }
        peers_run(&p);
        c1 = p.c2s_len;
        s1 = p.s2c_len;
        peers_request(&p, "GET", "/after", NULL, NULL, 0, (PeersResponse) { .status = "404" });
        peers_run(&p);

        fixture_init(&f, CONN_ROLE_SERVER, true);
        protocol_http2_ops.free(f.h);
        f.conn.protocol = CONN_PROTOCOL_HTTP1;
        f.ctx.budget = &budget;
        assert_int_equal(protocol_http1_ops.new(&f.ctx, &f.h), 0);
        assert_int_equal(protocol_http1_ops.data(f.h, CONN_DIR_INGRESS, (const uint8_t *) req, strlen(req), 10, 1, true), 0);
        /* the 101 and the server's first HTTP/2 bytes in one read */
        n = strlen(resp101);
        assert_true(n + s1 <= sizeof(buf));
        memcpy(buf, resp101, n);
        memcpy(buf + n, p.s2c, s1);
        assert_int_equal(protocol_http1_ops.data(f.h, CONN_DIR_EGRESS, buf, n + s1, 20, 1, true), 0);
        assert_int_equal(protocol_http1_ops.data(f.h, CONN_DIR_INGRESS, p.c2s, p.c2s_len, 30, 1, true), 0);
        assert_int_equal(protocol_http1_ops.data(f.h, CONN_DIR_EGRESS, p.s2c + s1, p.s2c_len - s1, 40, 1, true), 0);
        assert_true(c1 > 0);
        assert_int_equal(f.stats.parse_errors, 0);
        assert_int_equal(f.n, 2);
        assert_int_equal(f.x[0].kind, EXCHANGE_COMPLETE);
        assert_int_equal(f.x[0].stream_id, 1);
        assert_string_equal(f.x[0].method, "GET");
        assert_string_equal(f.x[0].target, "/up");
        assert_string_equal(f.x[0].host, "example.test");
        assert_int_equal(f.x[0].status, 200);
        assert_int_equal(f.x[0].resp_body, 77);
        assert_true(f.x[0].req_flags & HTTP_MESSAGE_UPGRADE);
        assert_int_equal(f.x[0].duration, 20 - 10);
        assert_string_equal(f.x[0].f_version, "2");
        assert_int_equal(f.x[1].kind, EXCHANGE_COMPLETE);
        assert_int_equal(f.x[1].stream_id, 3);
        assert_string_equal(f.x[1].target, "/after");
        assert_int_equal(f.x[1].status, 404);
        assert_false(protocol_http1_ops.pending(f.h));
        /* HTTP/2's state, made by the upgrade, is in the budget (HTTP/1's fixed cost did not count it) */
        assert_true(budget.used >= protocol_http2_ops.state_size);
        protocol_http1_ops.free(f.h);
        assert_int_equal(budget.used, 0);
        peers_done(&p);
}

/*
 * Everything an HTTP/2 connection holds is charged to the global budget
 * and its own cap (memory.h): http2_memory() equals the budget's use at
 * every step, the budget returns to zero when the handler is freed, and
 * under caps too small for the conversation the refusals are counted
 * (memory_refused), every exchange still comes out, paired, with its
 * method, and those the caps cut are flagged memory-capped (a status
 * outside the static table, 201 here, may be lost with its block). Beyond a cap
 * only what is charged without asking: a stream's struct and a capped
 * pseudo-header's prefix (at most 4 streams here, 2 KiB each is ample).
 */
static void test_memory_budget(void **state) {
        /* caps as fractions (1/8ths) of the ample run's peak; the first run sets that peak */
        static const struct {
                unsigned global, conn;   /* 0: no cap (conn) */
        } caps[] = {
                { 64, 0 }, { 0, 0 }, { 1, 0 }, { 2, 0 }, { 4, 0 }, { 6, 0 }, { 7, 0 },
                { 64, 1 }, { 64, 4 }, { 64, 7 },
        };
        size_t peak = 0;
        Peers p;

        make_conversation(&p, 0);
        for (size_t k = 0; k < ELEMENTSOF(caps); k++) {
                uint8_t c2s = CONN_DIR_INGRESS;
                MemBudget budget = { .max = k == 0 ? SIZE_MAX / 2 : peak * caps[k].global / 8 };
                size_t conn_max = k == 0 || caps[k].conn == 0 ? 0 : peak * caps[k].conn / 8, capped = 0;
                size_t max = MIN(budget.max, conn_max ?: SIZE_MAX);
                uint64_t ts = 1000;
                Fixture f;

                fixture_init(&f, CONN_ROLE_SERVER, true);
                protocol_http2_ops.free(f.h);
                f.limits.conn_memory_max = conn_max;
                f.ctx.budget = &budget;
                assert_int_equal(protocol_http2_ops.new(&f.ctx, &f.h), 0);

                /* the client's bytes, then the server's, 100 at a time */
                for (int d = 0; d < 2; d++) {
                        const uint8_t *b = d == 0 ? p.c2s : p.s2c;
                        size_t len = d == 0 ? p.c2s_len : p.s2c_len;

                        for (size_t i = 0; i < len; i += 100) {
                                assert_int_equal(protocol_http2_ops.data(f.h, d == 0 ? c2s : !c2s, b + i,
                                                                         MIN((size_t) 100, len - i), ts++, 7, true), 0);
                                assert_int_equal(protocol_http2_ops.memory(f.h), budget.used);
                                assert_true(budget.used <= max + 4 * 2048);
                                if (k == 0)
                                        peak = MAX(peak, budget.used);
                        }
                }
                assert_int_equal(f.n, 4);
                for (size_t i = 0; i < f.n; i++) {
                        assert_int_equal(f.x[i].kind, EXCHANGE_COMPLETE);
                        assert_true(strcmp(f.x[i].method, "GET") == 0 || strcmp(f.x[i].method, "POST") == 0);
                        capped += !!((f.x[i].req_flags | f.x[i].resp_flags) & HTTP_MESSAGE_MEMORY_CAPPED);
                }
                if (k == 0) {
                        check_conversation(&f);
                        assert_int_equal(f.stats.memory_refused, 0);
                        assert_true(peak > 0);
                } else {
                        assert_true(f.stats.memory_refused > 0);
                        assert_true(capped > 0);
                }
                assert_false(protocol_http2_ops.pending(f.h));
                fixture_done(&f);
                assert_int_equal(budget.used, 0);
        }
        peers_done(&p);
}

/*
 * Streams whose HEADERS were in lost bytes (stream-ids.h): three rounds of
 * requests, streams 1 3 5, then 7 9, then 11; the client's bytes of the
 * second round are a gap. mode 0: the server's bytes after all the client's
 * (7 and 9 counted lost, their responses make no entry); 1: the responses to
 * 7 and 9 come before request 11 (entries of their own, nothing lost); 2:
 * joined mid-stream at stream 7 with a gap after 9: nothing before 7 counted.
 */
static void run_lost_streams(int mode) {
        size_t c[3], s[3];
        Fixture f;
        Peers p;

        peers_init(&p, 0);
        for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 3 - round; i++)
                        peers_request(&p, "GET", "/r", NULL, NULL, 0, (PeersResponse) { .status = "200", .body_len = 5 });
                peers_run(&p);
                c[round] = p.c2s_len;
                s[round] = p.s2c_len;
        }
        assert_int_equal(p.n_requests_done, 6);

        fixture_init(&f, CONN_ROLE_SERVER, mode != 2);
        if (mode == 2) {
                /* joined at 7: the client's bytes of the third round are lost */
                assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_INGRESS, p.c2s + c[0], c[1] - c[0], 1, 1, true), 0);
                assert_int_equal(protocol_http2_ops.gap(f.h, CONN_DIR_INGRESS, c[2] - c[1], 2), 0);
                assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_EGRESS, p.s2c + s[0], s[2] - s[0], 3, 1, true), 0);
                /* 11 has only its response: it opens the stream; nothing before 7 is counted */
                assert_int_equal(f.stats.exchanges_lost, 0);
                assert_int_equal(http2_counters(&f.stats)[HTTP2_COUNTER_STREAMS_LOST], 0);
                assert_int_equal(protocol_http2_ops.finish(f.h, 4, EXCHANGE_END_CLOSED), 0);
                assert_int_equal(f.n, 3);
                assert_int_equal(f.x[2].kind, EXCHANGE_UNCORRELATED);
                assert_int_equal(f.x[2].stream_id, 11);
                fixture_done(&f);
                peers_done(&p);
                return;
        }
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_INGRESS, p.c2s, c[0], 1, 1, true), 0);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_EGRESS, p.s2c, s[0], 2, 1, true), 0);
        assert_int_equal(protocol_http2_ops.gap(f.h, CONN_DIR_INGRESS, c[1] - c[0], 3), 0);
        if (mode == 1)
                assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_EGRESS, p.s2c + s[0], s[1] - s[0], 4, 1, true), 0);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_INGRESS, p.c2s + c[1], c[2] - c[1], 5, 1, true), 0);
        if (mode == 0)
                assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_EGRESS, p.s2c + s[0], s[1] - s[0], 6, 1, true), 0);
        assert_int_equal(protocol_http2_ops.data(f.h, CONN_DIR_EGRESS, p.s2c + s[1], s[2] - s[1], 7, 1, true), 0);
        assert_int_equal(protocol_http2_ops.finish(f.h, 8, EXCHANGE_END_CLOSED), 0);

        assert_int_equal(f.n, mode == 0 ? 4 : 6);
        assert_int_equal(f.stats.exchanges_lost, mode == 0 ? 2 : 0);
        assert_int_equal(http2_counters(&f.stats)[HTTP2_COUNTER_STREAMS_LOST], mode == 0 ? 2 : 0);
        for (size_t i = 0; i < f.n; i++) {
                uint32_t id = f.x[i].stream_id;

                assert_int_equal(f.x[i].kind, id == 7 || id == 9 ? EXCHANGE_UNCORRELATED : EXCHANGE_COMPLETE);
                assert_true(mode == 1 || (id != 7 && id != 9));
        }
        /* exchanges served = entries + exchanges_lost */
        assert_int_equal(f.n + f.stats.exchanges_lost, 6);
        fixture_done(&f);
        peers_done(&p);
}

static void test_lost_streams(void **state) {
        run_lost_streams(0);
}

static void test_lost_streams_answered(void **state) {
        run_lost_streams(1);
}

static void test_lost_streams_joined(void **state) {
        run_lost_streams(2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_conversation_server),
                cmocka_unit_test(test_conversation_client_chunked_padded),
                cmocka_unit_test(test_reset),
                cmocka_unit_test(test_goaway),
                cmocka_unit_test(test_streams_cap),
                cmocka_unit_test(test_joined_midstream),
                cmocka_unit_test(test_upgrade),
                cmocka_unit_test(test_memory_budget),
                cmocka_unit_test(test_lost_streams),
                cmocka_unit_test(test_lost_streams_answered),
                cmocka_unit_test(test_lost_streams_joined),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
