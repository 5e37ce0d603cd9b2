/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One UTF-8 validity rule for the encoders of the outputs (JSON, syslog):
 * RFC 3629 well-formed sequences only (no overlongs, no surrogates, nothing
 * above U+10FFFF), so that every output replaces exactly the same bytes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed multi-byte sequence at s (at most n bytes), or 0 if there is none. */
static inline size_t utf8_sequence_len(const uint8_t *s, size_t n) {
        uint8_t lo = 0x80, hi = 0xbf;
        size_t len;

        if (n == 0)
                return 0;
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                len = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                len = 3;
                if (s[0] == 0xe0)
                        lo = 0xa0;
                else if (s[0] == 0xed)
                        hi = 0x9f;
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                len = 4;
                if (s[0] == 0xf0)
                        lo = 0x90;
                else if (s[0] == 0xf4)
                        hi = 0x8f;
        } else
                return 0;

        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++)
                if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
                        return 0;
        return len;
}
