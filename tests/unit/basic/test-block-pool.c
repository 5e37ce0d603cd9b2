/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * basic/block-pool: blocks usable at their whole size and aligned, recycled
 * within their class only, the pool bounded per class, large blocks never
 * pooled. Sanitizer builds have no pool (every block afresh): there the
 * recycling checks see nothing waiting and check only that.
 */

#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "basic/block-pool.h"

static bool pool_on(void) {
        void *p = block_pool_alloc(10);
        size_t before = block_pool_waiting();
        bool on;

        block_pool_free(p, 10);
        on = block_pool_waiting() == before + 1;
        p = block_pool_alloc(10);       /* take it back: the tests start from what was there */
        block_pool_free(p, 10);
        return on;
}

static void test_usable_and_aligned(void **state) {
        static const size_t sizes[] = { 1, 8, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513, 4096 };

        (void) state;
        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                uint8_t *p = block_pool_alloc(sizes[i]);

                assert_non_null(p);
                assert_int_equal((uintptr_t) p % alignof(max_align_t), 0);
                memset(p, 0xa5, sizes[i]);      /* the whole size is ours (ASan would say otherwise) */
                block_pool_free(p, sizes[i]);
        }
        block_pool_free(NULL, 10);
}

static void test_classes(void **state) {
        (void) state;
        assert_true(block_pool_pooled(1));
        assert_true(block_pool_pooled(512));
        assert_false(block_pool_pooled(513));
        assert_true(block_pool_same_class(1, 64));
        assert_false(block_pool_same_class(64, 65));
        assert_true(block_pool_same_class(65, 128));
        assert_true(block_pool_same_class(257, 512));
        assert_false(block_pool_same_class(512, 513));
        assert_true(block_pool_same_class(513, 100000));       /* both unpooled: realloc() territory */
}

static void test_recycled_within_class(void **state) {
        void *a, *b;

        (void) state;
        if (!pool_on()) {
                /* sanitizer build: nothing waits, ever */
                a = block_pool_alloc(100);
                block_pool_free(a, 100);
                assert_int_equal(block_pool_waiting(), 0);
                skip();
        }
        a = block_pool_alloc(100);
        block_pool_free(a, 100);
        b = block_pool_alloc(70);       /* same class (65..128): the same block */
        assert_ptr_equal(a, b);
        block_pool_free(b, 70);
        b = block_pool_alloc(200);      /* another class: not that block */
        assert_ptr_not_equal(a, b);
        block_pool_free(b, 200);
}

static void test_bounded(void **state) {
        void *p[200];
        size_t before;

        (void) state;
        for (size_t i = 0; i < 200; i++)
                assert_non_null(p[i] = block_pool_alloc(300));
        before = block_pool_waiting();
        for (size_t i = 0; i < 200; i++)
                block_pool_free(p[i], 300);
        /* one class holds at most 64 however many come back; the rest went to free() */
        assert_true(block_pool_waiting() - before <= 64);
        if (pool_on())
                assert_true(block_pool_waiting() - before > 0);

        /* a large block never waits */
        before = block_pool_waiting();
        block_pool_free(block_pool_alloc(4096), 4096);
        assert_int_equal(block_pool_waiting(), before);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_usable_and_aligned),
                cmocka_unit_test(test_classes),
                cmocka_unit_test(test_recycled_within_class),
                cmocka_unit_test(test_bounded),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
