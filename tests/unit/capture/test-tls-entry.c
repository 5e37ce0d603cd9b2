/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for capture/tls-entry.c: the internal read/write functions found from Debian 12's libssl.so.3 bytes. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "capture/tls-entry.h"

/* The first bytes of the exported functions of libssl.so.3 (OpenSSL 3.0.19, Debian 12), at their addresses. */
#define SSL_READ_AT 0x35430u
#define SSL_READ_EX_AT 0x354c0u
#define SSL_WRITE_AT 0x35980u
#define SSL_WRITE_EX_AT 0x35a10u
static const uint8_t ssl_read[] = {
        0x48, 0x83, 0xec, 0x18, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00,
        0x00, 0x48, 0x89, 0x44, 0x24, 0x08, 0x31, 0xc0, 0x85, 0xd2, 0x78, 0x2f,
        0x48, 0x89, 0xe1, 0x48, 0x63, 0xd2, 0xe8, 0x3d, 0xfe, 0xff, 0xff, 0x85,
        0xc0, 0x7e, 0x03, 0x8b, 0x04, 0x24, 0x48, 0x8b, 0x54, 0x24, 0x08, 0x64,
        0x48, 0x2b, 0x14, 0x25, 0x28, 0x00, 0x00, 0x00, 0x75, 0x44, 0x48, 0x83,
        0xc4, 0x18, 0x31, 0xd2,
};
static const uint8_t ssl_read_ex[] = {
        0x48, 0x83, 0xec, 0x08, 0xe8, 0xc7, 0xfd, 0xff, 0xff, 0x31, 0xd2, 0x85,
        0xc0, 0x0f, 0x48, 0xc2, 0x48, 0x83, 0xc4, 0x08, 0x31, 0xd2, 0x31, 0xc9,
        0x31, 0xf6, 0x31, 0xff, 0xc3, 0x0f, 0x1f, 0x00,
};
static const uint8_t ssl_write[] = {
        0x48, 0x83, 0xec, 0x18, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x28, 0x00, 0x00,
        0x00, 0x48, 0x89, 0x44, 0x24, 0x08, 0x31, 0xc0, 0x85, 0xd2, 0x78, 0x2f,
        0x48, 0x89, 0xe1, 0x48, 0x63, 0xd2, 0xe8, 0xfd, 0xfb, 0xff, 0xff, 0x85,
        0xc0, 0x7e, 0x03, 0x8b, 0x04, 0x24, 0x48, 0x8b, 0x54, 0x24, 0x08, 0x64,
        0x48, 0x2b, 0x14, 0x25, 0x28, 0x00, 0x00, 0x00, 0x75, 0x44, 0x48, 0x83,
        0xc4, 0x18, 0x31, 0xd2,
};
static const uint8_t ssl_write_ex[] = {
        0x48, 0x83, 0xec, 0x08, 0xe8, 0x87, 0xfb, 0xff, 0xff, 0x31, 0xd2, 0x85,
        0xc0, 0x0f, 0x48, 0xc2, 0x48, 0x83, 0xc4, 0x08, 0x31, 0xd2, 0x31, 0xc9,
        0x31, 0xf6, 0x31, 0xff, 0xc3, 0x0f, 0x1f, 0x00,
};

static void test_debian_libssl(void **state) {
        uint64_t a[TLS_ENTRY_TARGETS_MAX], b[TLS_ENTRY_TARGETS_MAX];
        size_t na, nb;

        /* SSL_read: `call ssl_read_internal` at +0x1e; SSL_read_ex: at +4. Both reach 0x35290. */
        na = tls_entry_targets(ssl_read, sizeof(ssl_read), SSL_READ_AT, a, TLS_ENTRY_TARGETS_MAX);
        nb = tls_entry_targets(ssl_read_ex, sizeof(ssl_read_ex), SSL_READ_EX_AT, b, TLS_ENTRY_TARGETS_MAX);
        assert_int_equal(na, 1);
        assert_int_equal(nb, 1);
        assert_int_equal(tls_entry_common(a, na, b, nb), 0x35290);
        na = tls_entry_targets(ssl_write, sizeof(ssl_write), SSL_WRITE_AT, a, TLS_ENTRY_TARGETS_MAX);
        nb = tls_entry_targets(ssl_write_ex, sizeof(ssl_write_ex), SSL_WRITE_EX_AT, b, TLS_ENTRY_TARGETS_MAX);
        assert_int_equal(tls_entry_common(a, na, b, nb), 0x355a0);
        /* Read and write do not agree: no common target. */
        na = tls_entry_targets(ssl_read, sizeof(ssl_read), SSL_READ_AT, a, TLS_ENTRY_TARGETS_MAX);
        assert_int_equal(tls_entry_common(a, na, b, nb), 0);
}

static void test_emulated(void **state) {
        static const uint8_t push_r13[] = { 0x41, 0x55 }, push_rbp[] = { 0x55 }, nop[] = { 0x90 };
        static const uint8_t push_r15_rex_w[] = { 0x49, 0x57 }, rex_alone[] = { 0x41 };

        assert_true(tls_entry_emulated(push_r13, sizeof(push_r13)));    /* ssl_read_internal */
        assert_true(tls_entry_emulated(push_rbp, sizeof(push_rbp)));    /* node's SSL_read */
        assert_true(tls_entry_emulated(nop, sizeof(nop)));
        assert_false(tls_entry_emulated(ssl_read, sizeof(ssl_read)));   /* sub $0x18,%rsp */
        assert_false(tls_entry_emulated(push_r15_rex_w, sizeof(push_r15_rex_w)));
        assert_false(tls_entry_emulated(rex_alone, sizeof(rex_alone)));
        assert_false(tls_entry_emulated(NULL, 0));
}

static void test_bounds(void **state) {
        /* A call whose rel32 would run past the end is not read; backward targets wrap as addresses do. */
        static const uint8_t tail[] = { 0x90, 0x90, 0xe8, 0x00, 0x00, 0x00 };
        static const uint8_t back[] = { 0xe9, 0xfb, 0xff, 0xff, 0xff };   /* jmp to itself */
        uint64_t a[TLS_ENTRY_TARGETS_MAX], b[2] = { 0x1000, 0x1000 };
        uint8_t many[TLS_ENTRY_SCAN * 2];

        assert_int_equal(tls_entry_targets(tail, sizeof(tail), 0x1000, a, TLS_ENTRY_TARGETS_MAX), 0);
        assert_int_equal(tls_entry_targets(back, sizeof(back), 0x1000, a, TLS_ENTRY_TARGETS_MAX), 1);
        assert_int_equal(a[0], 0x1000);
        /* Only the first TLS_ENTRY_SCAN bytes, at most max targets. */
        for (size_t i = 0; i < sizeof(many); i++)
                many[i] = 0xe8;
        assert_int_equal(tls_entry_targets(many, sizeof(many), 0, a, 3), 3);
        assert_int_equal(tls_entry_targets(many, sizeof(many), 0, a, TLS_ENTRY_TARGETS_MAX), TLS_ENTRY_TARGETS_MAX);
        /* One target twice in a, once in b: one candidate, not two. Two different common ones: ambiguous. */
        a[0] = 0x1000; a[1] = 0x1000;
        assert_int_equal(tls_entry_common(a, 2, b, 2), 0x1000);
        a[1] = 0x2000; b[1] = 0x2000;
        assert_int_equal(tls_entry_common(a, 2, b, 2), 0);
        assert_int_equal(tls_entry_common(a, 0, b, 2), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_debian_libssl),
                cmocka_unit_test(test_emulated),
                cmocka_unit_test(test_bounds),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
