/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of the streams counted lost by their ids (src/protocols/http2/stream-ids.c). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "protocols/http2/stream-ids.h"

/* A gap between streams 5 and 11: 7 and 9 were opened in it. */
static void test_gap(void **state) {
        Http2StreamIds ids;

        http2_stream_ids_init(&ids, 1, true);
        assert_int_equal(http2_stream_ids_seen(&ids, 1), 0);
        assert_int_equal(http2_stream_ids_seen(&ids, 3), 0);
        assert_int_equal(http2_stream_ids_seen(&ids, 5), 0);
        http2_stream_ids_gap(&ids);
        assert_int_equal(http2_stream_ids_seen(&ids, 11), 2);
        assert_true(http2_stream_ids_counted(&ids, 7));
        assert_true(http2_stream_ids_counted(&ids, 9));
        assert_false(http2_stream_ids_counted(&ids, 5));
        assert_false(http2_stream_ids_counted(&ids, 11));
        /* the same stream again (trailers, a response), or an older one: nothing */
        http2_stream_ids_gap(&ids);
        assert_int_equal(http2_stream_ids_seen(&ids, 11), 0);
        assert_int_equal(http2_stream_ids_seen(&ids, 3), 0);
        /* the gap is still pending: the next stream right after: none lost */
        assert_int_equal(http2_stream_ids_seen(&ids, 13), 0);
        assert_true(http2_stream_ids_counted(&ids, 9));
}

/* Ids skipped without a gap are never counted. */
static void test_no_gap(void **state) {
        Http2StreamIds ids;

        http2_stream_ids_init(&ids, 1, true);
        assert_int_equal(http2_stream_ids_seen(&ids, 1), 0);
        assert_int_equal(http2_stream_ids_seen(&ids, 11), 0);
        assert_int_equal(http2_stream_ids_seen(&ids, 101), 0);
        assert_false(http2_stream_ids_counted(&ids, 7));
}

/* Joined mid-stream: the streams before the first seen are a past we never saw. */
static void test_joined(void **state) {
        Http2StreamIds ids;

        http2_stream_ids_init(&ids, 1, false);
        http2_stream_ids_gap(&ids);
        assert_int_equal(http2_stream_ids_seen(&ids, 41), 0);
        assert_false(http2_stream_ids_counted(&ids, 39));
        http2_stream_ids_gap(&ids);
        assert_int_equal(http2_stream_ids_seen(&ids, 45), 1);
        assert_true(http2_stream_ids_counted(&ids, 43));
}

/* Seen from the start: the streams before the first seen were lost when bytes were. */
static void test_from_start(void **state) {
        Http2StreamIds ids;

        http2_stream_ids_init(&ids, 1, true);
        http2_stream_ids_gap(&ids);
        assert_int_equal(http2_stream_ids_seen(&ids, 5), 2);
        assert_true(http2_stream_ids_counted(&ids, 1));
        assert_true(http2_stream_ids_counted(&ids, 3));

        http2_stream_ids_init(&ids, 1, true);
        assert_int_equal(http2_stream_ids_seen(&ids, 1), 0);
        http2_stream_ids_init(&ids, 1, true);
        http2_stream_ids_gap(&ids);
        assert_int_equal(http2_stream_ids_seen(&ids, 1), 0);
}

/* Pushes: even ids from 2. */
static void test_pushes(void **state) {
        Http2StreamIds ids;

        http2_stream_ids_init(&ids, 0, true);
        http2_stream_ids_gap(&ids);
        assert_int_equal(http2_stream_ids_seen(&ids, 2), 0);
        assert_int_equal(http2_stream_ids_seen(&ids, 4), 0);
        http2_stream_ids_gap(&ids);
        assert_int_equal(http2_stream_ids_seen(&ids, 10), 2);
        assert_true(http2_stream_ids_counted(&ids, 6));
        assert_true(http2_stream_ids_counted(&ids, 8));

        http2_stream_ids_init(&ids, 0, true);
        http2_stream_ids_gap(&ids);
        assert_int_equal(http2_stream_ids_seen(&ids, 6), 2);
}

/*
 * Counted by responses alone (their requests lost): each range stays counted
 * while HTTP2_STREAM_IDS_RANGES newer ones are kept.
 */
static void test_ranges(void **state) {
        Http2StreamIds ids;
        uint32_t id = 1;

        http2_stream_ids_init(&ids, 1, true);
        assert_int_equal(http2_stream_ids_seen(&ids, id), 0);
        for (unsigned i = 0; i < HTTP2_STREAM_IDS_RANGES; i++) {
                http2_stream_ids_gap(&ids);
                id += 4;
                assert_int_equal(http2_stream_ids_seen(&ids, id), 1);
        }
        for (unsigned i = 0; i < HTTP2_STREAM_IDS_RANGES; i++) {
                assert_true(http2_stream_ids_counted(&ids, 3 + 4 * i));
                assert_false(http2_stream_ids_counted(&ids, 5 + 4 * i));
        }
        /* one more: the oldest range is forgotten */
        http2_stream_ids_gap(&ids);
        id += 4;
        assert_int_equal(http2_stream_ids_seen(&ids, id), 1);
        assert_false(http2_stream_ids_counted(&ids, 3));
        assert_true(http2_stream_ids_counted(&ids, 7));
        assert_true(http2_stream_ids_counted(&ids, id - 2));
}

/* Ids near the top of the space. */
static void test_large_ids(void **state) {
        Http2StreamIds ids;

        http2_stream_ids_init(&ids, 1, false);
        assert_int_equal(http2_stream_ids_seen(&ids, 1), 0);
        http2_stream_ids_gap(&ids);
        assert_int_equal(http2_stream_ids_seen(&ids, 0x7fffffff), 0x3ffffffe);
        assert_int_equal(http2_stream_ids_seen(&ids, 0x7fffffff), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_gap),
                cmocka_unit_test(test_no_gap),
                cmocka_unit_test(test_joined),
                cmocka_unit_test(test_from_start),
                cmocka_unit_test(test_pushes),
                cmocka_unit_test(test_ranges),
                cmocka_unit_test(test_large_ids),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
