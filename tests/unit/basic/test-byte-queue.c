/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * basic/byte-queue: the bounded FIFO under the JSON and syslog writers.
 * FIFO order across reclaims and growth, the bound on queued bytes (not on
 * the buffer's history), and a refused reserve that leaves the data alone.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "basic/byte-queue.h"
#include "basic/macro.h"

static void push(ByteQueue *q, const char *s) {
        size_t n = strlen(s);

        assert_int_equal(byte_queue_reserve(q, n), 0);
        assert_true(q->allocated - q->tail >= n);
        memcpy(q->buf + q->tail, s, n);
        q->tail += n;
}

static void expect(const ByteQueue *q, const char *s) {
        assert_int_equal(byte_queue_used(q), strlen(s));
        assert_memory_equal(q->buf + q->head, s, strlen(s));
}

static void test_fifo(void **state) {
        ByteQueue q = BYTE_QUEUE_INIT(4, 16);

        assert_int_equal(byte_queue_used(&q), 0);
        push(&q, "abc");
        assert_int_equal(q.allocated, 4);              /* the first allocation */
        push(&q, "defgh");
        assert_int_equal(q.allocated, 8);              /* doubled to fit */
        expect(&q, "abcdefgh");

        byte_queue_consume(&q, 3);
        expect(&q, "defgh");
        push(&q, "ij");                                 /* reclaims the front, no growth needed */
        assert_int_equal(q.head, 0);
        assert_int_equal(q.allocated, 8);
        expect(&q, "defghij");

        push(&q, "klmnopqrs");                          /* 16: exactly the bound */
        assert_int_equal(q.allocated, 16);
        expect(&q, "defghijklmnopqrs");

        byte_queue_consume(&q, 100);                    /* at most what is queued */
        assert_int_equal(byte_queue_used(&q), 0);
        assert_int_equal(q.head, 0);
        assert_int_equal(q.tail, 0);
        byte_queue_done(&q);
        assert_null(q.buf);
        assert_int_equal(q.allocated, 0);
}

static void test_bound(void **state) {
        ByteQueue q = BYTE_QUEUE_INIT(8, 10);

        push(&q, "0123456");
        assert_int_equal(byte_queue_reserve(&q, 4), -ENOBUFS);   /* 7 + 4 > 10 */
        expect(&q, "0123456");                                     /* untouched */
        assert_int_equal(byte_queue_reserve(&q, 3), 0);
        assert_true(q.allocated <= 10);                             /* never above max */
        assert_int_equal(byte_queue_reserve(&q, SIZE_MAX), -ENOBUFS);  /* no overflow in the check */

        /* The bound is on what is queued: consumed bytes make room again. */
        byte_queue_consume(&q, 5);
        push(&q, "abcdefgh");
        expect(&q, "56abcdefgh");

        byte_queue_clear(&q);
        assert_int_equal(byte_queue_used(&q), 0);
        push(&q, "x");
        expect(&q, "x");
        byte_queue_done(&q);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fifo),
                cmocka_unit_test(test_bound),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
