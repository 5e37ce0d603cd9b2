/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* entry-kinds.c: exchange entries and the daemon's own, counted apart as they leave a queue. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "basic/macro.h"
#include "output/entry-kinds.h"

/* Interleaved kinds leave in order, each counted as what it was. */
static void test_fifo(void **state) {
        static const EntryKind in[] = { ENTRY_EXCHANGE, ENTRY_DAEMON, ENTRY_EXCHANGE, ENTRY_EXCHANGE,
                                        ENTRY_DAEMON, ENTRY_DAEMON, ENTRY_EXCHANGE };
        EntryKinds k = {};
        Stats s = {};

        for (size_t i = 0; i < 7; i++)
                assert_int_equal(entry_kinds_push(&k, in[i]), 0);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(entry_kinds_pop(&k), in[i]);
        /* the rest dropped at once (a receiver gone) */
        entry_kinds_pop_count(&k, &s, false, 4);
        assert_int_equal(s.entries_dropped, 2);
        assert_int_equal(s.daemon_entries_dropped, 2);
        assert_int_equal(s.entries_written + s.daemon_entries_written, 0);
        assert_int_equal(k.n, 0);
        assert_int_equal(k.in, k.out);
}

/* Many cycles through the ring: sequence numbers and the ring's wrap stay in step. */
static void test_wrap(void **state) {
        EntryKinds k = {};
        Stats s = {};
        uint64_t daemon = 0, exchange = 0;

        for (unsigned round = 0; round < 1000; round++) {
                for (unsigned i = 0; i < 5; i++) {
                        EntryKind kind = (round + i) % 3 == 0 ? ENTRY_DAEMON : ENTRY_EXCHANGE;

                        assert_int_equal(entry_kinds_push(&k, kind), 0);
                        kind == ENTRY_DAEMON ? daemon++ : exchange++;
                }
                /* a queue that drains unevenly: 4 or 6 leave, never more than are queued */
                entry_kinds_pop_count(&k, &s, true, MIN(round % 2 ? 6u : 4u, k.in - k.out));
        }
        entry_kinds_pop_count(&k, &s, true, k.in - k.out);
        assert_int_equal(s.daemon_entries_written, daemon);
        assert_int_equal(s.entries_written, exchange);
}

/* At most ENTRY_KINDS_DAEMON_MAX of the daemon's entries wait; exchanges are never refused here. */
static void test_bound(void **state) {
        EntryKinds k = {};

        for (unsigned i = 0; i < ENTRY_KINDS_DAEMON_MAX; i++)
                assert_int_equal(entry_kinds_push(&k, ENTRY_DAEMON), 0);
        assert_false(entry_kinds_room(&k, ENTRY_DAEMON));
        assert_int_equal(entry_kinds_push(&k, ENTRY_DAEMON), -ENOBUFS);
        assert_true(entry_kinds_room(&k, ENTRY_EXCHANGE));
        assert_int_equal(entry_kinds_push(&k, ENTRY_EXCHANGE), 0);
        assert_int_equal(entry_kinds_pop(&k), ENTRY_DAEMON);
        assert_true(entry_kinds_room(&k, ENTRY_DAEMON));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fifo),
                cmocka_unit_test(test_wrap),
                cmocka_unit_test(test_bound),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
