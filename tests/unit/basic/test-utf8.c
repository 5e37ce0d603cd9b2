/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * basic/utf8.h: the one UTF-8 rule the entry's escaping and the JSON and
 * syslog encoders share. Every scalar value round-trips; every ill-formed
 * form of RFC 3629 §3 (overlong, surrogate, above U+10FFFF, stray or missing
 * continuation) is refused.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "basic/utf8.h"

/* Reference encoder (RFC 3629 §3), independent of the decoder under test. */
static size_t encode(uint32_t cp, uint8_t out[4]) {
        if (cp < 0x800) {
                out[0] = 0xc0 | (cp >> 6);
                out[1] = 0x80 | (cp & 0x3f);
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = 0xe0 | (cp >> 12);
                out[1] = 0x80 | ((cp >> 6) & 0x3f);
                out[2] = 0x80 | (cp & 0x3f);
                return 3;
        }
        out[0] = 0xf0 | (cp >> 18);
        out[1] = 0x80 | ((cp >> 12) & 0x3f);
        out[2] = 0x80 | ((cp >> 6) & 0x3f);
        out[3] = 0x80 | (cp & 0x3f);
        return 4;
}

static void test_every_scalar_value(void **state) {
        for (uint32_t cp = 0x80; cp <= 0x10ffff; cp++) {
                uint8_t b[4];
                uint32_t got = 0;
                size_t n;

                if (cp >= 0xd800 && cp <= 0xdfff)
                        continue;
                n = encode(cp, b);
                if (utf8_decode(b, n, &got) != n || got != cp)
                        fail_msg("U+%04X: expected a %zu-byte sequence decoding to itself", cp, n);
                assert_int_equal(utf8_sequence_len(b, n), n);
                /* Cut anywhere, it is no sequence. */
                for (size_t k = 0; k < n; k++)
                        assert_int_equal(utf8_decode(b, k, NULL), 0);
        }
}

static void test_ill_formed(void **state) {
        static const struct { const char *bytes; size_t n; } bad[] = {
                { "a", 1 },                     /* ASCII is not a multi-byte sequence */
                { "\x80", 1 },                  /* stray continuation */
                { "\xbf\xbf", 2 },
                { "\xc0\x80", 2 },              /* overlong NUL */
                { "\xc1\xbf", 2 },              /* overlong U+007F */
                { "\xe0\x9f\xbf", 3 },          /* overlong U+07FF */
                { "\xed\xa0\x80", 3 },          /* surrogate U+D800 */
                { "\xed\xbf\xbf", 3 },          /* surrogate U+DFFF */
                { "\xf0\x8f\xbf\xbf", 4 },      /* overlong U+FFFF */
                { "\xf4\x90\x80\x80", 4 },      /* U+110000 */
                { "\xf5\x80\x80\x80", 4 },
                { "\xff", 1 },
                { "\xc3\x28", 2 },              /* continuation missing */
                { "\xe2\x82\x28", 3 },
                { "\xf0\x9f\x98\x28", 4 },
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint32_t cp = 0x12345;

                if (utf8_decode((const uint8_t *) bad[i].bytes, bad[i].n, &cp) != 0)
                        fail_msg("bad[%zu]: expected 0, got a sequence", i);
                assert_int_equal(cp, 0x12345);         /* untouched on failure */
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_scalar_value),
                cmocka_unit_test(test_ill_formed),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
