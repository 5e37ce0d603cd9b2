/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the in-kernel protocol inference (bpf/lib/infer.h), compiled as plain C. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bpf/lib/infer.h"

static int infer(const char *s, unsigned n) {
        return ht_infer_protocol((const unsigned char *) s, n);
}

static int infer_str(const char *s) {
        size_t n = strlen(s);
        return infer(s, n > 16 ? 16 : (unsigned) n);
}

static void test_requests(void **state) {
        static const char *const ok[] = {
                "GET / HTTP/1.1\r\n", "HEAD /x HTTP/1.1", "POST /api HTTP/1.1", "PUT /a HTTP/1.1",
                "DELETE /a HTTP/1.1", "OPTIONS * HTTP/1.1", "CONNECT a:443 HTTP/1.1", "PATCH /p HTTP/1.1",
                "TRACE / HTTP/1.1", "PROPFIND / HTTP/1.1", "MKCOL /d HTTP/1.1", "COPY /a HTTP/1.1",
                "MOVE /a HTTP/1.1", "LOCK /a HTTP/1.1", "UNLOCK /a HTTP/1.1", "PROPPATCH /a HTTP/1.1",
        };
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
                assert_int_equal(infer_str(ok[i]), HT_INFER_REQUEST);
}

static void test_responses(void **state) {
        assert_int_equal(infer_str("HTTP/1.1 200 OK\r\n"), HT_INFER_RESPONSE);
        assert_int_equal(infer_str("HTTP/1.0 404 Not"), HT_INFER_RESPONSE);
        assert_int_equal(infer_str("PRI * HTTP/2.0\r\n"), HT_INFER_HTTP2);
}

/* An HTTP/2 server's SETTINGS sent before the client's preface (gRPC's chttp2, as strace shows it). */
static void test_h2_server_settings(void **state) {
        /* grpc-python 1.51: 4 settings, the first INITIAL_WINDOW_SIZE (4) */
        assert_int_equal(infer("\0\0\x18\x04\0\0\0\0\0\0\x04\0\x3f\xff\xff\0", 16), HT_INFER_HTTP2_SETTINGS);
        /* an empty SETTINGS, alone in its write */
        assert_int_equal(infer("\0\0\0\x04\0\0\0\0\0", 9), HT_INFER_HTTP2_SETTINGS);
        /* not SETTINGS: an ACK, a stream id, a length that is no multiple of 6, an undefined first id, too short */
        assert_int_equal(infer("\0\0\0\x04\x01\0\0\0\0", 9), HT_INFER_UNKNOWN);
        assert_int_equal(infer("\0\0\x06\x04\0\0\0\0\x01\0\x03\0\0\0\x64", 15), HT_INFER_UNKNOWN);
        assert_int_equal(infer("\0\0\x07\x04\0\0\0\0\0\0\x03\0\0\0\x64", 15), HT_INFER_UNKNOWN);
        assert_int_equal(infer("\0\0\x06\x04\0\0\0\0\0\0\x0a\0\0\0\x64", 15), HT_INFER_UNKNOWN);
        assert_int_equal(infer("\0\0\x06\x04\0\0\0\0\0\0", 10), HT_INFER_UNKNOWN);
        assert_int_equal(infer("\0\0\0\x04\0\0\0\0", 8), HT_INFER_UNKNOWN);
        /* a huge SETTINGS is no server's first */
        assert_int_equal(infer("\0\x01\x02\x04\0\0\0\0\0\0\x03\0\0\0\x64", 15), HT_INFER_UNKNOWN);
}

/* HEADERS frames that begin a request or a response, for connections joined mid-stream. */
static void test_h2_headers(void **state) {
        /* nghttp2: HEADERS END_STREAM|END_HEADERS stream 1, :method GET (0x82) :path / (0x84)... */
        assert_int_equal(infer("\0\0\x1d\x01\x05\0\0\0\x01\x82\x84\x86\x41\x8a\x08\x9d", 16), HT_INFER_HTTP2_REQUEST);
        /* gRPC: END_HEADERS only, stream 7, :method POST (0x83) */
        assert_int_equal(infer("\0\0\x40\x01\x04\0\0\0\x07\x83\x86\x44\x8d\x62\x31\x2a", 16), HT_INFER_HTTP2_REQUEST);
        /* a response: :status 200 (0x88) on stream 3 */
        assert_int_equal(infer("\0\0\x12\x01\x04\0\0\0\x03\x88\x5f\x8b\x1d\x75\xd0\x62", 16), HT_INFER_HTTP2_RESPONSE);
        /* PRIORITY flag: 5 bytes before the block; :status 404 (0x8d) */
        assert_int_equal(infer("\0\0\x12\x01\x24\0\0\0\x05\0\0\0\0\x0f\x8d\x5f", 16), HT_INFER_HTTP2_RESPONSE);
        /* not: no END_HEADERS, an even stream, trailers (a literal first), DATA, an unknown flag, too short */
        assert_int_equal(infer("\0\0\x12\x01\x00\0\0\0\x03\x88\x5f\x8b\x1d\x75\xd0\x62", 16), HT_INFER_UNKNOWN);
        assert_int_equal(infer("\0\0\x12\x01\x04\0\0\0\x02\x88\x5f\x8b\x1d\x75\xd0\x62", 16), HT_INFER_UNKNOWN);
        assert_int_equal(infer("\0\0\x12\x01\x05\0\0\0\x03\x40\x8b\x9a\xca\xc8\xb2\x12", 16), HT_INFER_UNKNOWN);
        assert_int_equal(infer("\0\0\x12\x00\x04\0\0\0\x03\x88\x5f\x8b\x1d\x75\xd0\x62", 16), HT_INFER_UNKNOWN);
        assert_int_equal(infer("\0\0\x12\x01\x44\0\0\0\x03\x88\x5f\x8b\x1d\x75\xd0\x62", 16), HT_INFER_UNKNOWN);
        assert_int_equal(infer("\0\0\x12\x01\x04\0\0\0\x03", 9), HT_INFER_UNKNOWN);
        /* PRIORITY and PADDED: the block starts at byte 15, the last of the 16 looked at */
        assert_int_equal(infer("\0\0\x12\x01\x2c\0\0\0\x05\x01\0\0\0\0\x0f\x88", 16), HT_INFER_HTTP2_RESPONSE);
        assert_int_equal(infer("\0\0\x12\x01\x2c\0\0\0\x05\x01\0\0\0\0\x0f", 15), HT_INFER_UNKNOWN);
}

/* Control frames sent ahead of a HEADERS in one write (gRPC, nghttp2), looked past mid-stream. */
static void test_h2_control_len(void **state) {
        const unsigned char *b;
#define CTL(s) ht_infer_h2_control_len((const unsigned char *) (s), sizeof(s) - 1)
        /* gRPC's client: WINDOW_UPDATE on stream 0, then on a stream; PING and its ACK */
        assert_int_equal(CTL("\0\0\x04\x08\0\0\0\0\0\0\0\0\x05"), 13);
        assert_int_equal(CTL("\0\0\x04\x08\0\0\0\0\x03\0\0\0\x05"), 13);
        assert_int_equal(CTL("\0\0\x08\x06\0\0\0\0\0\0\0\0\0\0\0\0\0"), 17);
        assert_int_equal(CTL("\0\0\x08\x06\x01\0\0\0\0\0\0\0\0\0\0\0\0"), 17);
        /* SETTINGS ACK, RST_STREAM, PRIORITY */
        assert_int_equal(CTL("\0\0\0\x04\x01\0\0\0\0"), 9);
        assert_int_equal(CTL("\0\0\x04\x03\0\0\0\0\x03\0\0\0\x08"), 13);
        assert_int_equal(CTL("\0\0\x05\x02\0\0\0\0\x03\0\0\0\x01\x0f"), 14);
        /* not: a SETTINGS with entries, a PING on a stream, a long WINDOW_UPDATE, a flagged one,
         * the reserved bit, an RST_STREAM on stream 0, HEADERS, DATA, too short, text */
        assert_int_equal(CTL("\0\0\x06\x04\0\0\0\0\0\0\x03\0\0\0\x64"), 0);
        assert_int_equal(CTL("\0\0\x08\x06\0\0\0\0\x01\0\0\0\0\0\0\0\0"), 0);
        assert_int_equal(CTL("\0\0\x05\x08\0\0\0\0\0\0\0\0\x05\0"), 0);
        assert_int_equal(CTL("\0\0\x04\x08\x01\0\0\0\0\0\0\0\x05"), 0);
        assert_int_equal(CTL("\0\0\x04\x08\0\x80\0\0\0\0\0\0\x05"), 0);
        assert_int_equal(CTL("\0\0\x04\x03\0\0\0\0\0\0\0\0\x08"), 0);
        assert_int_equal(CTL("\0\0\x1d\x01\x05\0\0\0\x01\x82\x84\x86\x41\x8a\x08\x9d"), 0);
        assert_int_equal(CTL("\0\0\x04\x00\0\0\0\0\x01" "abcd"), 0);
        assert_int_equal(CTL("\0\0\x04\x08\0\0\0\0"), 0);
        assert_int_equal(CTL("GET / HTTP/1.1\r\n"), 0);
#undef CTL
        /* what the kernel does with them: gRPC's WINDOW_UPDATE + PING, then a call's HEADERS */
        b = (const unsigned char *) "\0\0\x04\x08\0\0\0\0\0\0\0\0\x05"
                                    "\0\0\x08\x06\0\0\0\0\0\0\0\0\0\0\0\0\x2a"
                                    "\0\0\x09\x01\x04\0\0\0\x05\x83\x86\xc5\xc4\xc3";
        assert_int_equal(ht_infer_protocol(b, 16), HT_INFER_UNKNOWN);
        assert_int_equal(ht_infer_h2_control_len(b, 16), 13);
        assert_int_equal(ht_infer_h2_control_len(b + 13, 16), 17);
        assert_int_equal(ht_infer_h2_headers(b + 30, 15), HT_INFER_HTTP2_REQUEST);
}

static void test_not_http(void **state) {
        /* TLS ClientHello and application data, ssh banner */
        assert_int_equal(infer("\x16\x03\x01\x02\x00\x01\x00\x01", 8), HT_INFER_OTHER);
        assert_int_equal(infer("\x17\x03\x03\x00\x20xxxx", 9), HT_INFER_OTHER);
        assert_int_equal(infer_str("SSH-2.0-OpenSSH_9"), HT_INFER_OTHER);
        /* look-alikes that are not methods */
        assert_int_equal(infer_str("GETTER / HTTP/1.1"), HT_INFER_UNKNOWN);
        assert_int_equal(infer_str("POSTGRES"), HT_INFER_UNKNOWN);
        assert_int_equal(infer_str("get / HTTP/1.1"), HT_INFER_UNKNOWN);
        assert_int_equal(infer_str("HTTP/2 200"), HT_INFER_UNKNOWN);
        /* body bytes mid-stream */
        assert_int_equal(infer_str("{\"key\": \"value\"}"), HT_INFER_UNKNOWN);
        assert_int_equal(infer("\0\0\0\0\0\0", 6), HT_INFER_UNKNOWN);
}

/* Every proper prefix of every token is partial and undecided; the whole token decides. */
static void test_partial(void **state) {
        static const char *const tokens[] = {
                "GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS ", "CONNECT ", "PATCH ", "TRACE ",
                "PROPFIND ", "PROPPATCH ", "MKCOL ", "COPY ", "MOVE ", "LOCK ", "UNLOCK ", "HTTP/1.", "PRI * HTTP/2",
        };
        for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
                unsigned len = (unsigned) strlen(tokens[i]);

                for (unsigned k = 1; k < len; k++) {
                        assert_true(ht_infer_partial((const unsigned char *) tokens[i], k));
                        assert_int_equal(infer(tokens[i], k), HT_INFER_UNKNOWN);
                }
                assert_false(ht_infer_partial((const unsigned char *) tokens[i], len));
                assert_int_not_equal(infer(tokens[i], len), HT_INFER_UNKNOWN);
        }
        assert_false(ht_infer_partial((const unsigned char *) "X", 1));
        assert_false(ht_infer_partial((const unsigned char *) "GX", 2));
        assert_false(ht_infer_partial((const unsigned char *) "HTTP/2", 6));
        assert_false(ht_infer_partial((const unsigned char *) "get", 3));
        assert_false(ht_infer_partial((const unsigned char *) "", 0));
}

static void test_short(void **state) {
        /* Fewer bytes than the pattern: never a match, never a read past n. */
        assert_int_equal(infer("GET", 3), HT_INFER_UNKNOWN);
        assert_int_equal(infer("GET ", 4), HT_INFER_REQUEST);
        assert_int_equal(infer("HTTP/1", 6), HT_INFER_UNKNOWN);
        assert_int_equal(infer("DELETE", 6), HT_INFER_UNKNOWN);
        assert_int_equal(infer("", 0), HT_INFER_UNKNOWN);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_requests),
                cmocka_unit_test(test_responses),
                cmocka_unit_test(test_h2_server_settings),
                cmocka_unit_test(test_h2_headers),
                cmocka_unit_test(test_h2_control_len),
                cmocka_unit_test(test_not_http),
                cmocka_unit_test(test_short),
                cmocka_unit_test(test_partial),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
