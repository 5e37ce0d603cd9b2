/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One UTF-8 validity rule for everything that writes bytes from the traffic
 * (the entry's escaping, the JSON and syslog encoders): RFC 3629
 * well-formed sequences only (no overlongs, no surrogates, nothing above
 * U+10FFFF), so that every output keeps and replaces exactly the same bytes.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/**
 * utf8_decode() - decode the well-formed multi-byte sequence at @s
 * @s: the bytes
 * @n: how many may be read
 * @ret_cp: the code point; may be NULL; written only on success
 *
 * Return: the sequence's length (2-4), or 0 when @s does not start one
 * (ASCII, a stray continuation byte, an overlong form, a surrogate, a code
 * point above U+10FFFF, or a sequence cut by @n).
 */
static inline size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *ret_cp) {
        uint8_t lo = 0x80, hi = 0xbf;
        size_t len;
        uint32_t cp;

        if (n == 0)
                return 0;
        if (s[0] >= 0xc2 && s[0] <= 0xdf) {
                len = 2;
                cp = s[0] & 0x1f;
        } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
                len = 3;
                cp = s[0] & 0x0f;
                if (s[0] == 0xe0)
                        lo = 0xa0;      /* overlong */
                else if (s[0] == 0xed)
                        hi = 0x9f;      /* surrogates */
        } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
                len = 4;
                cp = s[0] & 0x07;
                if (s[0] == 0xf0)
                        lo = 0x90;      /* overlong */
                else if (s[0] == 0xf4)
                        hi = 0x8f;      /* above U+10FFFF */
        } else
                return 0;

        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if (ret_cp)
                *ret_cp = cp;
        return len;
}

/* Length of the well-formed multi-byte sequence at s (at most n bytes), or 0 if there is none. */
static inline size_t utf8_sequence_len(const uint8_t *s, size_t n) {
        return utf8_decode(s, n, NULL);
}
