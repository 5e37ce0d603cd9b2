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
                cmocka_unit_test(test_not_http),
                cmocka_unit_test(test_short),
                cmocka_unit_test(test_partial),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
