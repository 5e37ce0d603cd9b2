/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for the uint64 -> pointer hash map, checked against a plain array model. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "basic/hashmap.h"

static void test_basic(void **state) {
        HashMap *h = hashmap_new();
        int a = 1, b = 2;

        assert_non_null(h);
        assert_int_equal(hashmap_put(h, 7, &a), 0);
        assert_int_equal(hashmap_put(h, 7, &b), -EEXIST);
        assert_int_equal(hashmap_put(h, 8, NULL), -EINVAL);
        assert_ptr_equal(hashmap_get(h, 7), &a);
        assert_null(hashmap_get(h, 8));
        assert_int_equal(hashmap_size(h), 1);
        assert_ptr_equal(hashmap_remove(h, 7), &a);
        assert_null(hashmap_remove(h, 7));
        assert_int_equal(hashmap_size(h), 0);
        hashmap_free(h);
}

/* Random puts and removes, grow and shrink, compared with a model after every step. */
static void test_model(void **state) {
        enum { KEYS = 4096, STEPS = 200000 };
        static char present[KEYS];
        HashMap *h = hashmap_new();
        size_t n = 0;
        unsigned seed = 12345;

        assert_non_null(h);
        for (int i = 0; i < STEPS; i++) {
                uint64_t k;
                seed = seed * 1103515245u + 12345u;
                k = (seed >> 8) % KEYS;
                /* Clustered keys: sequential ids and tgid<<32|fd pairs. */
                uint64_t key = (i & 1) ? k + (1u << 20) : ((uint64_t) (k % 64) << 32 | (k / 64));

                if (present[k] & (1 << (i & 1))) {
                        assert_ptr_equal(hashmap_remove(h, key), &present[k]);
                        present[k] &= ~(1 << (i & 1));
                        n--;
                } else {
                        assert_null(hashmap_get(h, key));
                        assert_int_equal(hashmap_put(h, key, &present[k]), 0);
                        present[k] |= 1 << (i & 1);
                        n++;
                }
                assert_int_equal(hashmap_size(h), n);
        }
        for (uint64_t k = 0; k < KEYS; k++) {
                assert_true(!!(present[k] & 2) == (hashmap_get(h, k + (1u << 20)) != NULL));
                assert_true(!!(present[k] & 1) == (hashmap_get(h, (k % 64) << 32 | (k / 64)) != NULL));
        }
        hashmap_free(h);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_basic),
                cmocka_unit_test(test_model),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
