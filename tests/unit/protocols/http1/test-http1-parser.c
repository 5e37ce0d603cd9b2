/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of the HTTP/1.x parser (src/protocols/http1/parser.c). Every data-only
 * input is also fed split at every byte offset and byte by byte, and must
 * produce exactly the same events: message boundaries come from the bytes,
 * never from the chunking.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "protocols/http1/parser.h"

#define REC_LOG_MAX 65536
#define REC_MSGS_MAX 64

typedef struct Rec {
        char log[REC_LOG_MAX];
        size_t len;
        Http1Message *msgs[REC_MSGS_MAX];
        size_t n_msgs;
        const char *errors[REC_MSGS_MAX];
        uint64_t error_offsets[REC_MSGS_MAX];
        size_t n_errors;
        unsigned n_desyncs;
        int head_answer;              /* what ->head answers for responses */
        bool keep;                    /* keep messages for assertions */
        Http1Memory mem;              /* kept messages point here: must outlive them */
} Rec;

static void rec_printf(Rec *r, const char *fmt, ...) _printf_(2, 3);
static void rec_printf(Rec *r, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(r->log + r->len, sizeof(r->log) - r->len, fmt, ap);
        va_end(ap);
        assert_true(n >= 0 && (size_t) n < sizeof(r->log) - r->len);
        r->len += n;
}

static int on_head(Http1Parser *p, Http1Message *m, void *userdata) {
        Rec *r = userdata;

        rec_printf(r, "HEAD %s %u\n", m->m.kind == HTTP_MESSAGE_REQUEST ? m->m.method : "resp", m->m.status);
        return m->m.kind == HTTP_MESSAGE_RESPONSE ? r->head_answer : 0;
}

static int on_message(Http1Parser *p, Http1Message *m, void *userdata) {
        Rec *r = userdata;

        rec_printf(r, "MSG %s %s %s v%u s%u '%s' hb=%" PRIu64 " bb=%" PRIu64 " wb=%" PRIu64 " gb=%" PRIu64
                   " fl=%#x first=%" PRIu64 " last=%" PRIu64 " tid=%u n=%zu",
                   m->m.kind == HTTP_MESSAGE_REQUEST ? "req" : "resp", m->m.method, m->m.target,
                   m->m.version, m->m.status, m->m.reason, m->m.head_bytes, m->m.body_bytes,
                   m->m.wire_bytes, m->m.gap_bytes, m->m.flags, m->m.first_ns, m->m.last_ns, m->m.tid,
                   m->m.n_headers);
        for (size_t i = 0; i < m->m.n_headers; i++) {
                assert_int_equal(strlen(m->m.headers[i].name), m->m.headers[i].name_len);
                assert_int_equal(strlen(m->m.headers[i].value), m->m.headers[i].value_len);
                rec_printf(r, " [%s=%s]", m->m.headers[i].name, m->m.headers[i].value);
        }
        rec_printf(r, "\n");

        if (r->keep && r->n_msgs < REC_MSGS_MAX)
                r->msgs[r->n_msgs++] = m;
        else
                http1_message_free(m);
        return 0;
}

static int on_error(Http1Parser *p, const Http1Error *e, void *userdata) {
        Rec *r = userdata;

        assert_non_null(e->error);
        assert_true(e->excerpt_len <= HTTP1_EXCERPT_MAX);
        assert_true(e->excerpt_len >= 1);
        /* only the first byte: how much follows depends on the chunking */
        rec_printf(r, "ERR %s @%" PRIu64 " '%c'\n", e->error, e->offset,
                   e->excerpt[0] >= ' ' && e->excerpt[0] < 0x7f ? e->excerpt[0] : '?');
        if (r->n_errors < REC_MSGS_MAX) {
                r->errors[r->n_errors] = e->error;
                r->error_offsets[r->n_errors++] = e->offset;
        }
        return 0;
}

static int on_desync(Http1Parser *p, void *userdata) {
        Rec *r = userdata;

        r->n_desyncs++;
        rec_printf(r, "DESYNC\n");
        return 0;
}

static int on_kind(Http1Parser *p, Http1Kind kind, void *userdata) {
        Rec *r = userdata;

        rec_printf(r, "KIND %d\n", kind);
        return 0;
}

static const Http1ParserCallbacks callbacks = {
        .kind = on_kind,
        .head = on_head,
        .message = on_message,
        .error = on_error,
        .desync = on_desync,
};

static const Http1Limits default_limits = {
        .head_max = 16384,
        .fields_max = 64,
        .pipeline_max = 16,
};

/* The per-connection memory cap the parser's Http1Memory gets here (the connection layer's Limits in the daemon). */
#define CONN_MEMORY_MAX (1u << 20)

static Rec *rec_free(Rec *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_msgs; i++)
                http1_message_free(r->msgs[i]);
        return mfree(r);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(Rec *, rec_free);

/* Feeds input split into pieces of at most `step` bytes, or at `split` when step is 0. */
static Rec *run_split(Http1Kind kind, const char *input, size_t len, const Http1Limits *limits, int head_answer,
                      size_t split, size_t step, bool keep, Stats *stats) {
        Http1Parser *p = NULL;
        Rec *r = calloc(1, sizeof(Rec));

        assert_non_null(r);
        r->mem.max = CONN_MEMORY_MAX;
        r->head_answer = head_answer;
        r->keep = keep;
        assert_int_equal(http1_parser_new(kind, limits, &r->mem, stats, &callbacks, r, true, &p), 0);

        if (step > 0)
                for (size_t o = 0; o < len; o += step)
                        assert_int_equal(http1_parser_feed(p, (const uint8_t *) input + o, MIN(step, len - o),
                                                           1000, 7, o == 0), 0);
        else {
                assert_int_equal(http1_parser_feed(p, (const uint8_t *) input, split, 1000, 7, true), 0);
                assert_int_equal(http1_parser_feed(p, (const uint8_t *) input + split, len - split, 1000, 7,
                                                   false), 0);
        }
        assert_int_equal(http1_parser_finish(p, 2000), 0);
        assert_false(http1_parser_busy(p));
        http1_parser_free(p);

        /* everything the parser held went back: only kept messages remain */
        {
                size_t held = 0;
                for (size_t i = 0; i < r->n_msgs; i++)
                        held += r->msgs[i]->reserved;
                assert_int_equal(r->mem.used, held);
        }
        return r;
}

/*
 * Parses input in one feed, then split at every offset and byte by byte,
 * asserting identical logs. Returns the one-feed result with messages kept.
 */
static Rec *parse_full(Http1Kind kind, const char *input, size_t len, const Http1Limits *limits, int head_answer,
                       Stats *stats) {
        Rec *ref = run_split(kind, input, len, limits, head_answer, len, 0, true, stats);

        for (size_t i = 0; i <= len; i++) {
                _cleanup_(rec_freep) Rec *r = run_split(kind, input, len, limits, head_answer, i, 0, false, NULL);
                if (strcmp(ref->log, r->log) != 0) {
                        print_error("split at %zu differs:\n--- one feed\n%s--- split\n%s", i, ref->log, r->log);
                        fail();
                }
        }
        for (size_t step = 1; step <= 3; step++) {
                _cleanup_(rec_freep) Rec *r = run_split(kind, input, len, limits, head_answer, 0, step, false, NULL);
                if (strcmp(ref->log, r->log) != 0) {
                        print_error("steps of %zu differ:\n--- one feed\n%s--- split\n%s", step, ref->log, r->log);
                        fail();
                }
        }
        return ref;
}

static Rec *parse(Http1Kind kind, const char *input) {
        return parse_full(kind, input, strlen(input), &default_limits, 0, NULL);
}

static const char *header(const Http1Message *m, const char *name) {
        const HttpHeaderField *f = http_message_header(&m->m, name);
        return f ? f->value : NULL;
}

static void test_simple_get(void **state) {
        static const char in[] = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n"
                                 "User-Agent:   curl/7.88  \r\nAccept: */*\r\n\r\n";
        _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_REQUEST, in);
        const HttpMessage *m;

        assert_int_equal(r->n_msgs, 1);
        m = &r->msgs[0]->m;
        assert_int_equal(m->kind, HTTP_MESSAGE_REQUEST);
        assert_string_equal(m->method, "GET");
        assert_string_equal(m->target, "/index.html?q=1");
        assert_int_equal(m->version, 11);
        assert_int_equal(m->n_headers, 3);
        assert_string_equal(m->headers[0].name, "Host");
        assert_string_equal(m->headers[0].value, "example.com");
        assert_string_equal(header(r->msgs[0], "user-agent"), "curl/7.88");
        assert_int_equal(m->head_bytes, strlen(in));
        assert_int_equal(m->wire_bytes, strlen(in));
        assert_int_equal(m->body_bytes, 0);
        assert_int_equal(m->flags, 0);
        assert_int_equal(m->tid, 7);
        assert_int_equal(r->msgs[0]->method_id, HTTP1_METHOD_OTHER);
        assert_int_equal(r->n_errors, 0);
}

static void test_pipelined_requests(void **state) {
        static const char in[] =
                "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"
                "HEAD /c HTTP/1.1\r\nHost: x\r\n\r\n"
                "PUT /d HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
        _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_REQUEST, in);

        assert_int_equal(r->n_msgs, 4);
        assert_string_equal(r->msgs[0]->m.method, "GET");
        assert_string_equal(r->msgs[1]->m.method, "POST");
        assert_string_equal(r->msgs[1]->m.target, "/b");
        assert_int_equal(r->msgs[1]->m.body_bytes, 11);
        assert_int_equal(r->msgs[1]->m.wire_bytes, r->msgs[1]->m.head_bytes + 11);
        assert_string_equal(r->msgs[2]->m.method, "HEAD");
        assert_int_equal(r->msgs[2]->method_id, HTTP1_METHOD_HEAD);
        assert_string_equal(r->msgs[3]->m.method, "PUT");
        assert_int_equal(r->msgs[3]->m.body_bytes, 0);
        assert_int_equal(r->msgs[0]->m.wire_bytes + r->msgs[1]->m.wire_bytes + r->msgs[2]->m.wire_bytes +
                         r->msgs[3]->m.wire_bytes, strlen(in));
}

static void test_keep_alive_responses(void **state) {
        static const char in[] =
                "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"
                "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found";
        _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_RESPONSE, in);

        assert_int_equal(r->n_msgs, 2);
        assert_int_equal(r->msgs[0]->m.kind, HTTP_MESSAGE_RESPONSE);
        assert_int_equal(r->msgs[0]->m.status, 200);
        assert_string_equal(r->msgs[0]->m.reason, "OK");
        assert_int_equal(r->msgs[0]->m.body_bytes, 5);
        assert_int_equal(r->msgs[1]->m.status, 404);
        assert_string_equal(r->msgs[1]->m.reason, "Not Found");
        assert_int_equal(r->msgs[1]->m.body_bytes, 9);
        assert_int_equal(r->msgs[1]->m.flags, 0);
}

static void test_chunked(void **state) {
        static const char in[] =
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5;name=value;other=\"q\"\r\nhello\r\n"
                "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
                "HTTP/1.1 204 No Content\r\n\r\n";
        _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_RESPONSE, in);

        assert_int_equal(r->n_msgs, 2);
        assert_int_equal(r->msgs[0]->m.body_bytes, 5 + 26);
        assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_CHUNKED);
        assert_int_equal(r->msgs[0]->m.wire_bytes, strlen(in) - strlen("HTTP/1.1 204 No Content\r\n\r\n"));
        assert_int_equal(r->msgs[1]->m.status, 204);
}

static void test_chunked_binary(void **state) {
        /* gzip-like payload: NULs, CRLFs and high bytes inside chunk data; bare LF after the chunk */
        static const char in[] =
                "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                "a\r\n\x1f\x8b\x08\0\r\n\n\xff\xfe\0\r\n"
                "3\n\r\n0\n"
                "0\r\n\r\n";
        _cleanup_(rec_freep) Rec *r = parse_full(HTTP1_KIND_RESPONSE, in, sizeof(in) - 1, &default_limits, 0, NULL);

        assert_int_equal(r->n_msgs, 1);
        assert_int_equal(r->msgs[0]->m.body_bytes, 13);
        assert_true(r->msgs[0]->m.flags & HTTP_MESSAGE_CHUNKED);
        assert_int_equal(r->msgs[0]->m.wire_bytes, sizeof(in) - 1);
        assert_int_equal(r->n_errors, 0);
}

static void test_chunked_overrides_content_length(void **state) {
        static const char in[] =
                "POST /up HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
                "4\r\nabcd\r\n0\r\n\r\n"
                "GET /next HTTP/1.1\r\n\r\n";
        _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_REQUEST, in);

        assert_int_equal(r->n_msgs, 2);
        assert_int_equal(r->msgs[0]->m.body_bytes, 4);
        assert_true(r->msgs[0]->m.flags & HTTP_MESSAGE_CHUNKED);
        assert_string_equal(r->msgs[1]->m.target, "/next");
}

static void test_close_delimited(void **state) {
        static const char in[] = "HTTP/1.0 200 OK\r\nServer: SimpleHTTP/0.6\r\n\r\n<html>body</html>\n";
        _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_RESPONSE, in);

        assert_int_equal(r->n_msgs, 1);
        assert_int_equal(r->msgs[0]->m.version, 10);
        assert_int_equal(r->msgs[0]->m.body_bytes, 18);
        assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_CLOSE_DELIMITED | HTTP_MESSAGE_CONNECTION_CLOSE);
        /* last byte came with the feed at 1000, not with the finish at 2000 */
        assert_int_equal(r->msgs[0]->m.last_ns, 1000);
}

static void test_te_not_chunked(void **state) {
        _cleanup_(rec_freep) Rec *r1 = NULL, *r2 = NULL;

        r1 = parse(HTTP1_KIND_RESPONSE, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabcdef");
        assert_int_equal(r1->n_msgs, 1);
        assert_int_equal(r1->msgs[0]->m.body_bytes, 6);
        assert_true(r1->msgs[0]->m.flags & HTTP_MESSAGE_CLOSE_DELIMITED);

        r2 = parse(HTTP1_KIND_REQUEST, "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nxx");
        assert_int_equal(r2->n_errors, 1);
        assert_string_equal(r2->errors[0], "Transfer-Encoding without chunked in request");
        assert_int_equal(r2->n_msgs, 1);
        assert_true(r2->msgs[0]->m.flags & HTTP_MESSAGE_TRUNCATED);
}

static void test_head_response(void **state) {
        static const char in[] =
                "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n"
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        _cleanup_(rec_freep) Rec *r = parse_full(HTTP1_KIND_RESPONSE, in, strlen(in), &default_limits,
                                                 HTTP1_BODY_NONE, NULL);

        assert_int_equal(r->n_msgs, 2);
        assert_int_equal(r->msgs[0]->m.body_bytes, 0);
        assert_int_equal(r->msgs[0]->m.flags, 0);
        assert_int_equal(r->msgs[1]->m.body_bytes, 0);
        assert_int_equal(r->n_errors, 0);
}

static void test_interim_and_bodyless(void **state) {
        static const char in[] =
                "HTTP/1.1 100 Continue\r\n\r\n"
                "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
                "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n"
                "HTTP/1.1 304 Not Modified\r\nContent-Length: 5000\r\nETag: \"x\"\r\n\r\n"
                "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n";
        _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_RESPONSE, in);

        assert_int_equal(r->n_msgs, 6);
        assert_int_equal(r->msgs[0]->m.status, 100);
        assert_string_equal(r->msgs[0]->m.reason, "Continue");
        assert_int_equal(r->msgs[1]->m.status, 103);
        assert_int_equal(r->msgs[2]->m.status, 200);
        assert_int_equal(r->msgs[2]->m.body_bytes, 2);
        assert_int_equal(r->msgs[3]->m.status, 204);
        assert_int_equal(r->msgs[3]->m.body_bytes, 0);
        assert_int_equal(r->msgs[4]->m.status, 304);
        assert_int_equal(r->msgs[4]->m.body_bytes, 0);
        assert_int_equal(r->msgs[5]->m.status, 200);
        assert_string_equal(r->msgs[5]->m.reason, "");
        assert_int_equal(r->n_errors, 0);
}

static void test_upgrade_101(void **state) {
        static const char in[] =
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                "\x81\x05hello\x88\x00 GET / HTTP/1.1\r\n\r\n";
        _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_RESPONSE, in);

        assert_int_equal(r->n_msgs, 1);
        assert_int_equal(r->msgs[0]->m.status, 101);
        assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_UPGRADE);
        assert_int_equal(r->n_errors, 0);
}

static void test_connect_tunnel(void **state) {
        static const char rsp[] = "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x02\x00\x01";
        static const char req[] = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
                                  "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
        _cleanup_(rec_freep) Rec *r1 = NULL, *r2 = NULL;

        r1 = parse_full(HTTP1_KIND_RESPONSE, rsp, sizeof(rsp) - 1, &default_limits, HTTP1_BODY_TUNNEL, NULL);
        assert_int_equal(r1->n_msgs, 1);
        assert_int_equal(r1->msgs[0]->m.flags, HTTP_MESSAGE_UPGRADE);
        assert_int_equal(r1->n_errors, 0);

        /* the client's TLS bytes right after CONNECT are not a parse error */
        r2 = parse_full(HTTP1_KIND_REQUEST, req, sizeof(req) - 1, &default_limits, 0, NULL);
        assert_int_equal(r2->n_msgs, 1);
        assert_string_equal(r2->msgs[0]->m.method, "CONNECT");
        assert_string_equal(r2->msgs[0]->m.target, "example.com:443");
        assert_int_equal(r2->msgs[0]->method_id, HTTP1_METHOD_CONNECT);
        assert_int_equal(r2->n_errors, 0);
}

static void test_http10_and_connection(void **state) {
        static const char in[] =
                "GET / HTTP/1.0\r\n\r\n"
                "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"
                "GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n"
                "GET / HTTP/1.1\r\nConnection: upgrade\r\n\r\n";
        _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_REQUEST, in);

        assert_int_equal(r->n_msgs, 4);
        assert_int_equal(r->msgs[0]->m.version, 10);
        assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_CONNECTION_CLOSE);
        assert_int_equal(r->msgs[1]->m.flags, 0);
        assert_int_equal(r->msgs[2]->m.flags, HTTP_MESSAGE_CONNECTION_CLOSE);
        assert_int_equal(r->msgs[3]->m.flags, 0);
}

static void test_bare_lf_and_leading_crlf(void **state) {
        static const char in[] =
                "\r\n\r\nGET /lf HTTP/1.1\nHost: a\nContent-Length: 3\n\nabc"
                "\nPOST /mixed HTTP/1.1\r\nContent-Length: 1\n\r\nZ";
        _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_REQUEST, in);

        assert_int_equal(r->n_msgs, 2);
        assert_string_equal(r->msgs[0]->m.target, "/lf");
        assert_string_equal(header(r->msgs[0], "Host"), "a");
        assert_int_equal(r->msgs[0]->m.body_bytes, 3);
        assert_int_equal(r->msgs[0]->m.head_bytes, strlen("GET /lf HTTP/1.1\nHost: a\nContent-Length: 3\n\n"));
        assert_string_equal(r->msgs[1]->m.target, "/mixed");
        assert_int_equal(r->msgs[1]->m.body_bytes, 1);
}

static void test_obs_fold(void **state) {
        _cleanup_(rec_freep) Rec *r1 = NULL, *r2 = NULL, *r3 = NULL;

        r1 = parse(HTTP1_KIND_REQUEST, "GET / HTTP/1.1\r\nX-Long: first\r\n  second \r\n\tthird\r\nHost: h\r\n\r\n");
        assert_int_equal(r1->n_msgs, 1);
        assert_int_equal(r1->msgs[0]->m.n_headers, 2);
        /* each obs-fold became spaces (RFC 9112 §5.2) */
        assert_string_equal(header(r1->msgs[0], "X-Long"), "first    second    third");
        assert_string_equal(header(r1->msgs[0], "host"), "h");

        r2 = parse(HTTP1_KIND_REQUEST, "GET / HTTP/1.1\r\n folded\r\n\r\n");
        assert_int_equal(r2->n_errors, 1);
        assert_string_equal(r2->errors[0], "obs-fold without a preceding field");
        assert_int_equal(r2->error_offsets[0], 16);

        r3 = parse(HTTP1_KIND_REQUEST, "POST / HTTP/1.1\r\nContent-Length:\r\n 5\r\n\r\nhello");
        assert_int_equal(r3->n_errors, 1);
}

static void test_bare_cr_and_nul(void **state) {
        static const char nul[] = "GET / HTTP/1.1\r\nA: 1\r\nB: x\0y\r\n\r\n";
        _cleanup_(rec_freep) Rec *r1 = NULL, *r2 = NULL;

        /* a bare CR inside a value is kept (RFC 9112 §2.2), the line still ends at LF */
        r1 = parse(HTTP1_KIND_REQUEST, "GET / HTTP/1.1\r\nX-A: a\rb\r\nContent-Length: 1\r\n\r\nZ");
        assert_int_equal(r1->n_errors, 0);
        assert_int_equal(r1->n_msgs, 1);
        assert_string_equal(header(r1->msgs[0], "X-A"), "a\rb");
        assert_int_equal(r1->msgs[0]->m.body_bytes, 1);

        /* NUL is refused, at the line that holds it; the fields before it are kept */
        r2 = parse_full(HTTP1_KIND_REQUEST, nul, sizeof(nul) - 1, &default_limits, 0, NULL);
        assert_int_equal(r2->n_errors, 1);
        assert_string_equal(r2->errors[0], "invalid character in header field value");
        assert_int_equal(r2->error_offsets[0], 22);
        assert_int_equal(r2->n_msgs, 1);
        assert_int_equal(r2->msgs[0]->m.n_headers, 1);
        assert_string_equal(header(r2->msgs[0], "A"), "1");
}

static void test_content_length_rules(void **state) {
        _cleanup_(rec_freep) Rec *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL;

        r1 = parse(HTTP1_KIND_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc"
                                        "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nab");
        assert_int_equal(r1->n_msgs, 2);
        assert_int_equal(r1->msgs[0]->m.body_bytes, 3);
        assert_int_equal(r1->msgs[1]->m.body_bytes, 2);
        assert_int_equal(r1->n_errors, 0);

        r2 = parse(HTTP1_KIND_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 4\r\n\r\nabcd");
        assert_int_equal(r2->n_errors, 1);
        assert_string_equal(r2->errors[0], "conflicting Content-Length");
        assert_int_equal(r2->error_offsets[0], strlen("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"));
        assert_int_equal(r2->n_msgs, 1);
        assert_int_equal(r2->msgs[0]->m.flags, HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_HEAD_TRUNCATED | HTTP_MESSAGE_HEAD_CUT);
        assert_int_equal(r2->msgs[0]->m.status, 200);

        r3 = parse(HTTP1_KIND_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n");
        assert_int_equal(r3->n_errors, 1);
        assert_string_equal(r3->errors[0], "invalid Content-Length");

        r4 = parse(HTTP1_KIND_RESPONSE, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n");
        assert_int_equal(r4->n_errors, 1);
        assert_string_equal(r4->errors[0], "invalid Content-Length");
}

static void test_malformed_start_lines(void **state) {
        static const struct {
                Http1Kind kind;
                const char *in;
                const char *error;
        } cases[] = {
                { HTTP1_KIND_REQUEST,  "GET /\r\n\r\n",                       "missing HTTP version in request line" },
                { HTTP1_KIND_REQUEST,  "GET  / HTTP/1.1\r\n\r\n",             "invalid request target" },
                { HTTP1_KIND_REQUEST,  "G(T / HTTP/1.1\r\n\r\n",              "invalid method" },
                { HTTP1_KIND_REQUEST,  "GET / HTTP/2.0\r\n\r\n",              "unsupported HTTP version" },
                { HTTP1_KIND_REQUEST,  "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",    "unsupported HTTP version" },
                { HTTP1_KIND_REQUEST,  "GET /a\x01 HTTP/1.1\r\n\r\n",         "invalid request target" },
                { HTTP1_KIND_REQUEST,  "GET / HTTP/1.1x\r\n\r\n",             "invalid request line" },
                { HTTP1_KIND_REQUEST,  "HTTP/1.1 200 OK\r\n\r\n",             "expected a request line" },
                { HTTP1_KIND_REQUEST,  "\x16\x03\x01\x00\xa5\x01\x00",        "invalid request line" },
                { HTTP1_KIND_RESPONSE, "GET / HTTP/1.1\r\n\r\n",              "expected a status line" },
                { HTTP1_KIND_RESPONSE, "HTTP/1.1 2000 OK\r\n\r\n",            "invalid status line" },
                { HTTP1_KIND_RESPONSE, "HTTP/1.1 20 OK\r\n\r\n",              "invalid status line" },
                { HTTP1_KIND_RESPONSE, "HTTP/1.1 099 Low\r\n\r\n",            "invalid status code" },
                { HTTP1_KIND_RESPONSE, "HTTP/3.0 200 OK\r\n\r\n",             "unsupported HTTP version" },
                { HTTP1_KIND_RESPONSE, "HTTP/1.1 200 O\rK\r\n\r\n",           "invalid character in reason phrase" },
                { HTTP1_KIND_RESPONSE, "{\"json\": true}\n",                  "invalid status line" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(rec_freep) Rec *r = parse(cases[i].kind, cases[i].in);

                if (r->n_errors != 1 || strcmp(r->errors[0], cases[i].error) != 0)
                        fail_msg("case %zu: got %s", i, r->log);
                assert_int_equal(r->error_offsets[0], 0);
                assert_int_equal(r->n_msgs, 0);
                assert_int_equal(r->n_desyncs, 1);
        }
}

static void test_malformed_fields(void **state) {
        static const struct {
                const char *in;
                const char *error;
        } cases[] = {
                { "GET / HTTP/1.1\r\nHost : x\r\n\r\n",            "invalid header field name" },
                { "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",       "invalid header field line" },
                { "GET / HTTP/1.1\r\n: empty\r\n\r\n",             "invalid header field name" },
                { "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n",           "invalid character in header field value" },
                { "GET / HTTP/1.1\r\nX\x80Y: 1\r\n\r\n",           "invalid header field name" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len = strlen(cases[i].in);
                _cleanup_(rec_freep) Rec *r = NULL;

                if (i == 3)
                        len = sizeof("GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n") - 1;
                r = parse_full(HTTP1_KIND_REQUEST, cases[i].in, len, &default_limits, 0, NULL);
                if (r->n_errors != 1 || strcmp(r->errors[0], cases[i].error) != 0)
                        fail_msg("case %zu: got %s", i, r->log);
                assert_int_equal(r->error_offsets[0], 16);
                /* the request line was fine: the request is still reported, cut */
                assert_int_equal(r->n_msgs, 1);
                assert_string_equal(r->msgs[0]->m.method, "GET");
                assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_HEAD_TRUNCATED | HTTP_MESSAGE_HEAD_CUT);
        }
}

static void test_malformed_chunks(void **state) {
        static const struct {
                const char *in;
                const char *error;
                uint64_t offset;
        } cases[] = {
                { "zz\r\n",                       "invalid chunk size",            0 },
                { "5x\r\nhello\r\n0\r\n\r\n",     "invalid chunk size",            1 },
                { "\r\n",                         "invalid chunk size",            0 },
                { "FFFFFFFFFFFFFFFFFF\r\n",        "chunk size overflow",           15 },
                { "5\r\nhelloXX0\r\n\r\n",        "missing CRLF after chunk data", 8 },
                { "5\r\nhello\rX",                "missing CRLF after chunk data", 9 },
                { "5\rX",                         "invalid chunk size",            2 },
        };
        static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char in[256];
                _cleanup_(rec_freep) Rec *r = NULL;

                snprintf(in, sizeof(in), "%s%s", head, cases[i].in);
                r = parse(HTTP1_KIND_RESPONSE, in);
                if (r->n_errors != 1 || strcmp(r->errors[0], cases[i].error) != 0)
                        fail_msg("case %zu: got %s", i, r->log);
                assert_int_equal(r->error_offsets[0], strlen(head) + cases[i].offset);
                assert_int_equal(r->n_msgs, 1);
                assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_CHUNKED);
        }
}

static void test_chunk_ext_too_long(void **state) {
        size_t n = 5000;
        _cleanup_(freep) char *in = malloc(n + 100);
        _cleanup_(rec_freep) Rec *r = NULL;
        int k = snprintf(in, 100, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;");

        memset(in + k, 'e', n);
        in[k + n] = '\0';
        r = run_split(HTTP1_KIND_RESPONSE, in, strlen(in), &default_limits, 0, strlen(in), 0, true, NULL);
        assert_int_equal(r->n_errors, 1);
        assert_string_equal(r->errors[0], "chunk extension too long");
}

static void test_head_max_stays_in_sync(void **state) {
        Http1Limits lim = default_limits;
        Stats stats = {};
        static const char in[] =
                "POST /upload HTTP/1.1\r\nHost: h\r\nX-Big: 0123456789012345678901234567890123456789\r\n"
                "X-More: yes\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbody"
                "GET /after HTTP/1.1\r\nHost: h\r\n\r\n";
        _cleanup_(rec_freep) Rec *r = NULL;

        lim.head_max = 48;
        r = parse_full(HTTP1_KIND_REQUEST, in, strlen(in), &lim, 0, &stats);
        assert_int_equal(r->n_errors, 0);
        assert_int_equal(r->n_msgs, 2);
        assert_string_equal(r->msgs[0]->m.method, "POST");
        assert_string_equal(r->msgs[0]->m.target, "/upload");
        assert_int_equal(r->msgs[0]->m.n_headers, 1);
        assert_string_equal(r->msgs[0]->m.headers[0].value, "h");
        assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_HEAD_TRUNCATED | HTTP_MESSAGE_CONNECTION_CLOSE);
        /* the Content-Length past the cap was still honoured */
        assert_int_equal(r->msgs[0]->m.body_bytes, 4);
        assert_int_equal(r->msgs[1]->m.flags, 0);
        assert_string_equal(r->msgs[1]->m.target, "/after");
        assert_int_equal(http1_counters(&stats)[HTTP1_COUNTER_HEAD_OVERFLOWS], 1);
}

static void test_start_line_over_head_max(void **state) {
        Http1Limits lim = default_limits;
        Stats stats = {};
        char in[1024];
        _cleanup_(rec_freep) Rec *r = NULL;
        int k = snprintf(in, sizeof(in), "GET /");

        memset(in + k, 'a', 600);
        snprintf(in + k + 600, sizeof(in) - k - 600, " HTTP/1.1\r\nContent-Length: 2\r\n\r\nxyGET /b HTTP/1.1\r\n\r\n");
        lim.head_max = 32;
        r = parse_full(HTTP1_KIND_REQUEST, in, strlen(in), &lim, 0, &stats);
        assert_int_equal(r->n_errors, 0);
        assert_int_equal(r->n_msgs, 2);
        /* not stored, but framing known: the body is skipped and the next request found */
        assert_string_equal(r->msgs[0]->m.method, "");
        assert_true(r->msgs[0]->m.flags & HTTP_MESSAGE_HEAD_TRUNCATED);
        assert_int_equal(r->msgs[0]->m.body_bytes, 2);
        assert_string_equal(r->msgs[1]->m.target, "/b");
}

static void test_fields_max(void **state) {
        Http1Limits lim = default_limits;
        Stats stats = {};
        static const char in[] = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 3\r\nD: 4\r\n\r\nabc"
                                 "HTTP/1.1 200 OK\r\nA: 1\r\n\r\n";
        _cleanup_(rec_freep) Rec *r = NULL;

        lim.fields_max = 2;
        r = parse_full(HTTP1_KIND_RESPONSE, in, strlen(in), &lim, 0, &stats);
        assert_int_equal(r->n_msgs, 2);
        assert_int_equal(r->msgs[0]->m.n_headers, 2);
        assert_string_equal(r->msgs[0]->m.headers[1].name, "B");
        assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_HEAD_TRUNCATED);
        assert_int_equal(r->msgs[0]->m.body_bytes, 3);
        assert_int_equal(r->msgs[1]->m.n_headers, 1);
        assert_int_equal(r->msgs[1]->m.flags, HTTP_MESSAGE_CLOSE_DELIMITED);
        assert_int_equal(http1_counters(&stats)[HTTP1_COUNTER_HEAD_OVERFLOWS], 1);
}

static void test_memory_refused(void **state) {
        static const char in[] = "GET /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nxy"
                                 "GET /b HTTP/1.1\r\n\r\n";
        MemBudget budget = { .max = 64 };
        Http1Memory mem = { .max = 1 << 20, .budget = &budget };
        Stats stats = {};
        Http1Parser *p = NULL;
        Rec *r = calloc(1, sizeof(Rec));

        r->keep = true;
        assert_int_equal(http1_parser_new(HTTP1_KIND_REQUEST, &default_limits, &mem, &stats, &callbacks, r,
                                          true, &p), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) in, strlen(in), 5, 1, true), 0);
        assert_int_equal(r->n_errors, 0);
        assert_int_equal(r->n_msgs, 2);
        assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_MEMORY_CAPPED | HTTP_MESSAGE_HEAD_TRUNCATED);
        assert_int_equal(r->msgs[0]->m.body_bytes, 2);
        assert_int_equal(r->msgs[0]->method_id, HTTP1_METHOD_OTHER);
        assert_true(stats.memory_refused >= 64);
        assert_int_equal(http1_counters(&stats)[HTTP1_COUNTER_HEAD_OVERFLOWS], 0);
        http1_parser_free(p);
        rec_free(r);
        assert_int_equal(mem.used, 0);
        assert_int_equal(budget.used, 0);
}

static void test_memory_growth_refused(void **state) {
        /* first reservation granted, growth refused by the per-connection cap */
        char in[4096];
        Http1Limits lim = default_limits;
        Http1Memory mem = { .max = 1500 };
        Stats stats = {};
        Http1Parser *p = NULL;
        Rec *r = calloc(1, sizeof(Rec));
        int k = snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\nX-Pad: ");

        memset(in + k, 'p', 2000);
        snprintf(in + k + 2000, sizeof(in) - k - 2000, "\r\nContent-Length: 1\r\n\r\n!HTTP/1.1 304 Not Modified\r\n\r\n");
        r->keep = true;
        assert_int_equal(http1_parser_new(HTTP1_KIND_RESPONSE, &lim, &mem, &stats, &callbacks, r, true, &p), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) in, strlen(in), 5, 1, true), 0);
        assert_int_equal(r->n_msgs, 2);
        assert_int_equal(r->msgs[0]->m.status, 200);
        assert_string_equal(r->msgs[0]->m.reason, "OK");
        assert_int_equal(r->msgs[0]->m.n_headers, 0);
        assert_int_equal(r->msgs[0]->m.body_bytes, 1);
        assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_MEMORY_CAPPED | HTTP_MESSAGE_HEAD_TRUNCATED);
        assert_int_equal(r->msgs[1]->m.status, 304);
        assert_true(stats.memory_refused > 0);
        http1_parser_free(p);
        rec_free(r);
        assert_int_equal(mem.used, 0);
}

static void test_gap_in_body(void **state) {
        static const char h[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
        Http1Parser *p = NULL;
        Stats stats = {};
        _cleanup_(rec_freep) Rec *r = calloc(1, sizeof(Rec));

        r->keep = true;
        assert_int_equal(http1_parser_new(HTTP1_KIND_RESPONSE, &default_limits, NULL, &stats, &callbacks, r,
                                          true, &p), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) h, strlen(h), 100, 3, true), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) "abc", 3, 110, 3, false), 0);
        assert_true(http1_parser_busy(p));
        assert_int_equal(http1_parser_gap(p, 5, 120), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) "ij", 2, 130, 3, false), 0);
        assert_int_equal(r->n_msgs, 1);
        assert_int_equal(r->msgs[0]->m.body_bytes, 10);
        assert_int_equal(r->msgs[0]->m.gap_bytes, 5);
        assert_int_equal(r->msgs[0]->m.wire_bytes, strlen(h) + 10);
        assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_GAP);
        assert_int_equal(r->msgs[0]->m.first_ns, 100);
        assert_int_equal(r->msgs[0]->m.last_ns, 130);

        /* a body sent with sendfile: the whole body is one gap, the next head follows in sync */
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) h, strlen(h), 200, 3, true), 0);
        assert_int_equal(http1_parser_gap(p, 10, 210), 0);
        assert_int_equal(r->n_msgs, 2);
        assert_int_equal(r->msgs[1]->m.last_ns, 210);
        assert_int_equal(r->msgs[1]->m.gap_bytes, 10);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) "HTTP/1.1 204 No\r\n\r\n", 19, 300, 3, false), 0);
        assert_int_equal(r->n_msgs, 3);
        assert_int_equal(r->msgs[2]->m.status, 204);
        assert_int_equal(http1_counters(&stats)[HTTP1_COUNTER_DESYNCS], 0);
        assert_int_equal(http1_parser_offset(p), 2 * strlen(h) + 10 + 10 + 19);
        http1_parser_free(p);
}

static void test_gap_in_head_resync(void **state) {
        static const char a[] = "GET /first HTTP/1.1\r\nHost: x\r\nX-Y";
        static const char next[] = "GET /second HTTP/1.1\r\nHost: x\r\n\r\n";
        Http1Parser *p = NULL;
        Stats stats = {};
        _cleanup_(rec_freep) Rec *r = calloc(1, sizeof(Rec));

        r->keep = true;
        assert_int_equal(http1_parser_new(HTTP1_KIND_REQUEST, &default_limits, NULL, &stats, &callbacks, r,
                                          true, &p), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) a, strlen(a), 100, 3, true), 0);
        assert_int_equal(http1_parser_gap(p, 50, 110), 0);
        assert_true(http1_parser_desynced(p));
        assert_int_equal(http1_counters(&stats)[HTTP1_COUNTER_DESYNCS], 1);
        assert_int_equal(r->n_msgs, 1);
        assert_string_equal(r->msgs[0]->m.target, "/first");
        assert_int_equal(r->msgs[0]->m.n_headers, 1);
        assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_HEAD_TRUNCATED | HTTP_MESSAGE_GAP | HTTP_MESSAGE_HEAD_CUT);
        assert_int_equal(r->msgs[0]->m.last_ns, 100);

        /* the rest of the lost head: not a segment start, ignored */
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) next, strlen(next), 120, 3, false), 0);
        /* a segment start in the middle of something else: ignored too */
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) "tail\r\n\r\n", 8, 125, 3, true), 0);
        assert_int_equal(r->n_msgs, 1);
        assert_int_equal(r->n_errors, 0);
        /* resync */
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) next, strlen(next), 130, 4, true), 0);
        assert_false(http1_parser_desynced(p));
        assert_int_equal(r->n_msgs, 2);
        assert_string_equal(r->msgs[1]->m.target, "/second");
        assert_int_equal(r->msgs[1]->m.flags, 0);
        assert_int_equal(r->msgs[1]->m.tid, 4);
        http1_parser_free(p);
}

static void test_gap_over_chunk_framing(void **state) {
        static const char h[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab";
        Http1Parser *p = NULL;
        Stats stats = {};
        _cleanup_(rec_freep) Rec *r = calloc(1, sizeof(Rec));

        r->keep = true;
        assert_int_equal(http1_parser_new(HTTP1_KIND_RESPONSE, &default_limits, NULL, &stats, &callbacks, r,
                                          true, &p), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) h, strlen(h), 100, 3, true), 0);
        /* 2 bytes finish the chunk: fine; the rest spans the CRLF and the next size line */
        assert_int_equal(http1_parser_gap(p, 2, 105), 0);
        assert_false(http1_parser_desynced(p));
        assert_int_equal(http1_parser_gap(p, 10, 110), 0);
        assert_true(http1_parser_desynced(p));
        assert_int_equal(r->n_msgs, 1);
        assert_int_equal(r->msgs[0]->m.body_bytes, 4);
        assert_int_equal(r->msgs[0]->m.gap_bytes, 2);
        assert_int_equal(r->msgs[0]->m.flags,
                         HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_GAP | HTTP_MESSAGE_CHUNKED);
        assert_int_equal(http1_counters(&stats)[HTTP1_COUNTER_DESYNCS], 1);
        http1_parser_free(p);
}

static void test_gap_between_messages(void **state) {
        Http1Parser *p = NULL;
        Stats stats = {};
        _cleanup_(rec_freep) Rec *r = calloc(1, sizeof(Rec));

        r->keep = true;
        assert_int_equal(http1_parser_new(HTTP1_KIND_RESPONSE, &default_limits, NULL, &stats, &callbacks, r,
                                          true, &p), 0);
        /* a gap that runs past the end of a body: the message completes, the rest loses sync */
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
                                           38, 1, 1, true), 0);
        assert_int_equal(http1_parser_gap(p, 100, 2), 0);
        assert_int_equal(r->n_msgs, 1);
        assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_GAP);
        assert_int_equal(r->msgs[0]->m.body_bytes, 3);
        assert_true(http1_parser_desynced(p));
        assert_int_equal(http1_counters(&stats)[HTTP1_COUNTER_DESYNCS], 1);
        http1_parser_free(p);
}

static void test_error_then_resync(void **state) {
        static const char in[] = "GET / HTTP/1.1\r\n\r\nBROKEN\x01line\r\n\r\nGET /x HTTP/1.1\r\n\r\n";
        static const char next[] = "GET /ok HTTP/1.1\r\nContent-Length: 1\r\n\r\n1";
        Http1Parser *p = NULL;
        _cleanup_(rec_freep) Rec *r = calloc(1, sizeof(Rec));

        r->keep = true;
        assert_int_equal(http1_parser_new(HTTP1_KIND_REQUEST, &default_limits, NULL, NULL, &callbacks, r,
                                          true, &p), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) in, strlen(in), 1, 1, true), 0);
        assert_int_equal(r->n_msgs, 1);
        assert_int_equal(r->n_errors, 1);
        assert_string_equal(r->errors[0], "invalid request line");
        assert_int_equal(r->error_offsets[0], 18);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) next, strlen(next), 2, 1, true), 0);
        assert_int_equal(r->n_msgs, 2);
        assert_string_equal(r->msgs[1]->m.target, "/ok");
        assert_int_equal(r->msgs[1]->m.body_bytes, 1);
        http1_parser_free(p);
}

static void test_timestamps(void **state) {
        Http1Parser *p = NULL;
        _cleanup_(rec_freep) Rec *r = calloc(1, sizeof(Rec));

        r->keep = true;
        assert_int_equal(http1_parser_new(HTTP1_KIND_REQUEST, &default_limits, NULL, NULL, &callbacks, r,
                                          true, &p), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) "GET / HTTP/1.1\r\nHo", 18, 1000, 11, true), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) "st: a\r\n", 7, 2000, 12, false), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) "\r\nGET /2 HTTP/1.1\r\n", 19, 3000, 13, false), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) "\r\n", 2, 4000, 14, false), 0);
        assert_int_equal(r->n_msgs, 2);
        assert_int_equal(r->msgs[0]->m.first_ns, 1000);
        assert_int_equal(r->msgs[0]->m.tid, 11);
        assert_int_equal(r->msgs[0]->m.last_ns, 3000);
        assert_int_equal(r->msgs[1]->m.first_ns, 3000);
        assert_int_equal(r->msgs[1]->m.tid, 13);
        assert_int_equal(r->msgs[1]->m.last_ns, 4000);
        http1_parser_free(p);
}

static void test_finish_truncates(void **state) {
        static const struct {
                const char *in;
                unsigned flags;
                uint64_t body;
        } cases[] = {
                { "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", HTTP_MESSAGE_TRUNCATED, 3 },
                { "POST / HTTP/1.1\r\nHost: a\r\nConte", HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_HEAD_TRUNCATED | HTTP_MESSAGE_HEAD_CUT, 0 },
                { "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
                  HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_CHUNKED, 3 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_REQUEST, cases[i].in);

                assert_int_equal(r->n_msgs, 1);
                assert_string_equal(r->msgs[0]->m.method, "POST");
                assert_int_equal(r->msgs[0]->m.flags, cases[i].flags);
                assert_int_equal(r->msgs[0]->m.body_bytes, cases[i].body);
        }
        /* a start line cut short by the end of the stream: the method and what came of the target */
        {
                _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_REQUEST, "GET /ab");
                assert_int_equal(r->n_msgs, 1);
                assert_int_equal(r->n_errors, 0);
                assert_string_equal(r->msgs[0]->m.method, "GET");
                assert_string_equal(r->msgs[0]->m.target, "/ab");
                assert_int_equal(r->msgs[0]->m.flags,
                                 HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_HEAD_TRUNCATED | HTTP_MESSAGE_HEAD_CUT);
        }
        /* ... but not before the method is whole: nothing to say */
        {
                _cleanup_(rec_freep) Rec *r = parse(HTTP1_KIND_REQUEST, "GET");
                assert_int_equal(r->n_msgs, 0);
                assert_int_equal(r->n_errors, 0);
        }
}

/* One message fed as `head`, then a gap of `gap` bytes (the capture cap's), then a resync. */
static Rec *run_cut(Http1Kind kind, const char *head, size_t len, uint64_t gap, const Http1Limits *limits,
                    Stats *stats) {
        Http1Parser *p = NULL;
        Rec *r = calloc(1, sizeof(Rec));
        const char *next = kind == HTTP1_KIND_RESPONSE ? "HTTP/1.1 204 No\r\n\r\n" : "GET /next HTTP/1.1\r\n\r\n";

        assert_non_null(r);
        r->keep = true;
        r->mem.max = CONN_MEMORY_MAX;
        assert_int_equal(http1_parser_new(kind, limits, &r->mem, stats, &callbacks, r, true, &p), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) head, len, 100, 7, true), 0);
        assert_int_equal(r->n_msgs, 0);
        assert_int_equal(http1_parser_gap(p, gap, 100), 0);
        assert_true(http1_parser_desynced(p));
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) next, strlen(next), 200, 7, true), 0);
        assert_false(http1_parser_desynced(p));
        assert_int_equal(r->n_msgs, 2);
        assert_int_equal(r->n_errors, 0);
        http1_parser_free(p);
        return r;
}

#define CUT_FLAGS (HTTP_MESSAGE_GAP | HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_HEAD_TRUNCATED | HTTP_MESSAGE_HEAD_CUT)

/*
 * Generated streams, every chunking: a few hundred mutations (a byte
 * replaced by, or a CR, LF, NUL, SP, HTAB, ':', DEL, ',' or '-' inserted,
 * or bytes deleted) of pipelined requests and responses, each parsed whole
 * (the one-pass head), split at every offset and in steps of 1-3 bytes
 * (the line-by-line head), under limits that reach the fast path's every
 * way out. Deterministic: a fixed xorshift seed.
 */
static uint64_t xorshift(uint64_t *x) {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        return *x;
}

static void test_generated_chunkings(void **state) {
        static const char *const requests[] = {
                "GET /small.html HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n",
                "POST /api/x?y=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello",
                "PUT /c HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\nX: y\r\n\r\n",
                "GET / HTTP/1.0\nHost: x\n\n",
                "GET /f HTTP/1.1\r\nA: 1\r\n  folded\r\nB:\t2 \r\n\r\n",
                "GET /u HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        };
        static const char *const responses[] = {
                "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 3\r\n"
                "Connection: keep-alive\r\nETag: \"x\"\r\nAccept-Ranges: bytes\r\n\r\nabc",
                "HTTP/1.1 204 No Content\r\n\r\n",
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
                "HTTP/1.0 200 OK\r\nContent-Length: 3, 3\r\nConnection: close\r\n\r\nabc",
                "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
                "HTTP/1.1 200 OK\r\nKeep-Alive: x\r\nConnection: Keep-Alive, close\r\nContent-Length: 0\r\n\r\n",
        };
        static const char specials[] = "\r\n\0 \t:\x7f,-";
        static const Http1Limits limits[] = {
                { .head_max = 16384, .fields_max = 64, .pipeline_max = 16 },
                { .head_max = 64, .fields_max = 8, .pipeline_max = 4 },
                { .head_max = 300, .fields_max = 2, .pipeline_max = 4 },
                { .head_max = 16384, .fields_max = 0, .pipeline_max = 4 },
        };
        uint64_t x = 0x9e3779b97f4a7c15;

        for (int i = 0; i < 160; i++) {
                bool response = i % 2;
                char in[800];
                size_t len = 0;
                int parts = 1 + xorshift(&x) % 3;

                for (int j = 0; j < parts; j++) {
                        const char *t = response ? responses[xorshift(&x) % ELEMENTSOF(responses)] :
                                                   requests[xorshift(&x) % ELEMENTSOF(requests)];
                        size_t start = len;

                        memcpy(in + len, t, strlen(t));
                        len += strlen(t);
                        for (int k = xorshift(&x) % 4; k > 0 && len > start; k--) {
                                size_t at = start + xorshift(&x) % (len - start);
                                char c = specials[xorshift(&x) % (sizeof(specials) - 1)];

                                switch (xorshift(&x) % 3) {
                                case 0:
                                        in[at] = c;
                                        break;
                                case 1:
                                        memmove(in + at + 1, in + at, len - at);
                                        in[at] = c;
                                        len++;
                                        break;
                                default: {
                                        size_t d = MIN((size_t) (1 + xorshift(&x) % 4), len - at);
                                        memmove(in + at, in + at + d, len - at - d);
                                        len -= d;
                                        break;
                                }
                                }
                        }
                }
                assert_true(len < sizeof(in));
                for (size_t l = 0; l < ELEMENTSOF(limits); l++) {
                        _cleanup_(rec_freep) Rec *r = parse_full(response ? HTTP1_KIND_RESPONSE : HTTP1_KIND_REQUEST,
                                                                 in, len, &limits[l], 0, NULL);
                }
        }
}

/* An endless trailer section fails at the first byte past the limit, whatever the chunking. */
static void test_trailer_too_long(void **state) {
        static const Http1Limits small = { .head_max = 64, .fields_max = 8, .pipeline_max = 4 };
        char in[600];
        int k;

        /* the limit is MAX(head_max, HTTP1_SCRATCH_MAX) = 256 bytes of trailer section */
        k = snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\nX: ");
        memset(in + k, 'a', 300);
        memcpy(in + k + 300, "\r\n\r\n", 5);
        {
                _cleanup_(rec_freep) Rec *r = parse_full(HTTP1_KIND_RESPONSE, in, k + 300 + 4, &small, 0, NULL);
                size_t trailer_start = strstr(in, "0\r\n") + 3 - in;

                assert_int_equal(r->n_errors, 1);
                assert_string_equal(r->errors[0], "trailer section too long");
                assert_int_equal(r->error_offsets[0], trailer_start + 256);
                assert_int_equal(r->n_msgs, 1);
                assert_int_equal(r->msgs[0]->m.wire_bytes, trailer_start + 256);
        }
}

static void test_start_line_cut_by_gap(void **state) {
        static const Http1Limits small = { .head_max = 64, .fields_max = 8, .pipeline_max = 4 };
        char line[20000];
        Stats stats = {};

        /* issue 15 #4: a 20,000-byte target, the first 16 KiB captured: method, target prefix, flags */
        memcpy(line, "GET /", 5);
        memset(line + 5, 'a', sizeof(line) - 5);
        {
                _cleanup_(rec_freep) Rec *r = run_cut(HTTP1_KIND_REQUEST, line, 16384, 20000 + 40 - 16384,
                                                      &http1_limits_default, &stats);

                assert_string_equal(r->msgs[0]->m.method, "GET");
                assert_int_equal(strlen(r->msgs[0]->m.target), 16384 - 4);
                assert_memory_equal(r->msgs[0]->m.target, line + 4, 16384 - 4);
                assert_int_equal(r->msgs[0]->m.flags, CUT_FLAGS);
                assert_int_equal(r->msgs[0]->m.version, 11);
                assert_int_equal(r->msgs[0]->m.head_bytes, 16384);
                assert_int_equal(r->msgs[0]->m.first_ns, 100);
                assert_string_equal(r->msgs[1]->m.target, "/next");
        }
        /* the line filled its allocation exactly: it grows by one byte for the NUL, nothing lost */
        {
                _cleanup_(rec_freep) Rec *r = run_cut(HTTP1_KIND_REQUEST, line, 64, 100, &small, &stats);

                assert_int_equal(strlen(r->msgs[0]->m.target), 60);
                assert_int_equal(r->msgs[0]->m.flags, CUT_FLAGS);
        }
        /* longer than head_max: the prefix kept is what the head's allocation holds */
        {
                _cleanup_(rec_freep) Rec *r = run_cut(HTTP1_KIND_REQUEST, line, 1000, 100, &small, &stats);

                assert_string_equal(r->msgs[0]->m.method, "GET");
                assert_true(strlen(r->msgs[0]->m.target) >= 32);
                assert_memory_equal(r->msgs[0]->m.target, line + 4, strlen(r->msgs[0]->m.target));
                assert_int_equal(r->msgs[0]->m.flags, CUT_FLAGS);
        }
        /* the target whole, the version cut */
        {
                _cleanup_(rec_freep) Rec *r = run_cut(HTTP1_KIND_REQUEST, "PUT /abc HTT", 12, 9, &small, &stats);

                assert_string_equal(r->msgs[0]->m.method, "PUT");
                assert_string_equal(r->msgs[0]->m.target, "/abc");
        }
        /* a status line cut in its reason phrase */
        {
                _cleanup_(rec_freep) Rec *r = run_cut(HTTP1_KIND_RESPONSE, "HTTP/1.1 404 Not F", 18, 50, &small,
                                                      &stats);

                assert_int_equal(r->msgs[0]->m.kind, HTTP_MESSAGE_RESPONSE);
                assert_int_equal(r->msgs[0]->m.status, 404);
                assert_int_equal(r->msgs[0]->m.flags, CUT_FLAGS);
                assert_int_equal(r->msgs[1]->m.status, 204);
        }
        /* too little to say anything: dropped, as before (the resync still works) */
        {
                Http1Parser *p = NULL;
                _cleanup_(rec_freep) Rec *r = calloc(1, sizeof(Rec));

                r->keep = true;
                assert_int_equal(http1_parser_new(HTTP1_KIND_RESPONSE, &small, NULL, NULL, &callbacks, r, true, &p), 0);
                assert_int_equal(http1_parser_feed(p, (const uint8_t *) "HTTP/1.1 2", 10, 1, 1, true), 0);
                assert_int_equal(http1_parser_gap(p, 10, 2), 0);
                assert_int_equal(r->n_msgs, 0);
                assert_int_equal(r->n_errors, 0);
                http1_parser_free(p);
        }
}

/* issue 15 #4: a response head over the capture size in one write: right status, no body size claimed */
static void test_response_head_cut_by_gap(void **state) {
        static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Big: aaaaaaaaaa";
        Stats stats = {};
        _cleanup_(rec_freep) Rec *r = run_cut(HTTP1_KIND_RESPONSE, head, strlen(head), 30000, &http1_limits_default,
                                              &stats);

        assert_int_equal(r->msgs[0]->m.status, 200);
        assert_string_equal(r->msgs[0]->m.reason, "OK");
        assert_int_equal(r->msgs[0]->m.n_headers, 1);
        assert_int_equal(r->msgs[0]->m.flags, CUT_FLAGS);
        assert_int_equal(r->msgs[0]->m.body_bytes, 0);
        assert_int_equal(http1_counters(&stats)[HTTP1_COUNTER_DESYNCS], 1);
}

static void test_kind_any(void **state) {
        _cleanup_(rec_freep) Rec *r1 = NULL, *r2 = NULL;

        r1 = parse(HTTP1_KIND_ANY, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\n\r\n");
        assert_int_equal(r1->n_msgs, 1);
        assert_int_equal(r1->msgs[0]->m.kind, HTTP_MESSAGE_RESPONSE);
        assert_int_equal(r1->n_errors, 1);
        assert_string_equal(r1->errors[0], "expected a status line");
        assert_non_null(strstr(r1->log, "KIND 2\n"));

        r2 = parse(HTTP1_KIND_ANY, "OPTIONS * HTTP/1.1\r\n\r\n");
        assert_int_equal(r2->n_msgs, 1);
        assert_string_equal(r2->msgs[0]->m.target, "*");
        assert_non_null(strstr(r2->log, "KIND 1\n"));
}

static void test_not_synced_at_start(void **state) {
        Http1Parser *p = NULL;
        _cleanup_(rec_freep) Rec *r = calloc(1, sizeof(Rec));
        static const char mid[] = "dy of something\r\n\r\n";
        static const char req[] = "DELETE /x HTTP/1.1\r\n\r\n";

        r->keep = true;
        assert_int_equal(http1_parser_new(HTTP1_KIND_REQUEST, &default_limits, NULL, NULL, &callbacks, r,
                                          false, &p), 0);
        assert_true(http1_parser_desynced(p));
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) mid, strlen(mid), 1, 1, true), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) req, strlen(req), 1, 1, true), 0);
        assert_int_equal(r->n_msgs, 1);
        assert_int_equal(r->n_errors, 0);
        assert_string_equal(r->msgs[0]->m.method, "DELETE");
        http1_parser_free(p);
}

static void test_looks_like_start(void **state) {
#define L(s, k) http1_looks_like_start((const uint8_t *) (s), strlen(s), (k))
        assert_true(L("GET / HTTP/1.1\r\n", HTTP1_KIND_REQUEST));
        assert_true(L("M-SEARCH * HTTP/1.1\n", HTTP1_KIND_ANY));
        assert_true(L("POST /very/long/target", HTTP1_KIND_REQUEST));
        assert_true(L("GET / HTT", HTTP1_KIND_REQUEST));
        assert_false(L("GET / HTTP/2.0\r\n", HTTP1_KIND_REQUEST));
        assert_false(L("GET /\r\n", HTTP1_KIND_REQUEST));
        assert_false(L("get / HTTP/1.1\r\n", HTTP1_KIND_REQUEST));
        assert_false(L("GET", HTTP1_KIND_REQUEST));
        assert_false(L("HTTP/1.1 200 OK\r\n", HTTP1_KIND_REQUEST));
        assert_true(L("HTTP/1.1 200 OK\r\n", HTTP1_KIND_RESPONSE));
        assert_true(L("HTTP/1.0 404\r\n", HTTP1_KIND_ANY));
        assert_true(L("HTTP/1.1 2", HTTP1_KIND_RESPONSE));
        assert_false(L("HTTP/1.1 2000\r\n", HTTP1_KIND_RESPONSE));
        assert_false(L("HTTP/2 200\r\n", HTTP1_KIND_RESPONSE));
        assert_false(L("HTT", HTTP1_KIND_RESPONSE));
        assert_false(L("GET / HTTP/1.1\r\n", HTTP1_KIND_RESPONSE));
        assert_false(L("{\"a\": 1}", HTTP1_KIND_ANY));
        assert_false(http1_looks_like_start(NULL, 0, HTTP1_KIND_ANY));
#undef L
}

static void test_stop(void **state) {
        Http1Parser *p = NULL;
        _cleanup_(rec_freep) Rec *r = calloc(1, sizeof(Rec));

        r->keep = true;
        assert_int_equal(http1_parser_new(HTTP1_KIND_REQUEST, &default_limits, NULL, NULL, &callbacks, r,
                                          true, &p), 0);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) "POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nab",
                                           40, 1, 1, true), 0);
        assert_non_null(http1_parser_body_message(p));
        assert_int_equal(http1_parser_stop(p, 5), 0);
        assert_true(http1_parser_stopped(p));
        assert_int_equal(r->n_msgs, 1);
        assert_int_equal(r->msgs[0]->m.flags, HTTP_MESSAGE_TRUNCATED);
        assert_int_equal(http1_parser_feed(p, (const uint8_t *) "garbage", 7, 1, 1, true), 0);
        assert_int_equal(r->n_errors, 0);
        http1_parser_free(p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_simple_get),
                cmocka_unit_test(test_pipelined_requests),
                cmocka_unit_test(test_keep_alive_responses),
                cmocka_unit_test(test_chunked),
                cmocka_unit_test(test_chunked_binary),
                cmocka_unit_test(test_chunked_overrides_content_length),
                cmocka_unit_test(test_close_delimited),
                cmocka_unit_test(test_te_not_chunked),
                cmocka_unit_test(test_head_response),
                cmocka_unit_test(test_interim_and_bodyless),
                cmocka_unit_test(test_upgrade_101),
                cmocka_unit_test(test_connect_tunnel),
                cmocka_unit_test(test_http10_and_connection),
                cmocka_unit_test(test_bare_lf_and_leading_crlf),
                cmocka_unit_test(test_obs_fold),
                cmocka_unit_test(test_bare_cr_and_nul),
                cmocka_unit_test(test_content_length_rules),
                cmocka_unit_test(test_malformed_start_lines),
                cmocka_unit_test(test_malformed_fields),
                cmocka_unit_test(test_malformed_chunks),
                cmocka_unit_test(test_chunk_ext_too_long),
                cmocka_unit_test(test_head_max_stays_in_sync),
                cmocka_unit_test(test_start_line_over_head_max),
                cmocka_unit_test(test_fields_max),
                cmocka_unit_test(test_memory_refused),
                cmocka_unit_test(test_memory_growth_refused),
                cmocka_unit_test(test_gap_in_body),
                cmocka_unit_test(test_gap_in_head_resync),
                cmocka_unit_test(test_gap_over_chunk_framing),
                cmocka_unit_test(test_gap_between_messages),
                cmocka_unit_test(test_error_then_resync),
                cmocka_unit_test(test_timestamps),
                cmocka_unit_test(test_finish_truncates),
                cmocka_unit_test(test_start_line_cut_by_gap),
                cmocka_unit_test(test_trailer_too_long),
                cmocka_unit_test(test_generated_chunkings),
                cmocka_unit_test(test_response_head_cut_by_gap),
                cmocka_unit_test(test_kind_any),
                cmocka_unit_test(test_not_synced_at_start),
                cmocka_unit_test(test_looks_like_start),
                cmocka_unit_test(test_stop),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
