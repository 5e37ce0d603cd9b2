/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Any bytes as two functions' first bytes (split at the first byte's
 * value): the targets stay within the bound, each is one that a 5-byte
 * e8/e9 at some position inside the scanned bytes names, and the common
 * target, if any, is in both lists.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "capture/tls-entry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint64_t a[TLS_ENTRY_TARGETS_MAX], b[TLS_ENTRY_TARGETS_MAX], c;
        size_t split, na, nb;
        bool in_a = false, in_b = false;

        if (size < 1)
                return 0;
        split = data[0] < size - 1 ? data[0] : size - 1;
        data++, size--;
        na = tls_entry_targets(data, split, 0x400000, a, TLS_ENTRY_TARGETS_MAX);
        nb = tls_entry_targets(data + split, size - split, 0x500000, b, TLS_ENTRY_TARGETS_MAX);
        if (na > TLS_ENTRY_TARGETS_MAX || nb > TLS_ENTRY_TARGETS_MAX)
                abort();
        for (size_t i = 0; i < na; i++) {
                bool named = false;

                for (size_t p = 0; p + 5 <= split && p + 5 <= TLS_ENTRY_SCAN && !named; p++) {
                        int32_t rel;

                        memcpy(&rel, data + p + 1, sizeof(rel));
                        named = (data[p] == 0xe8 || data[p] == 0xe9) && a[i] == 0x400000 + p + 5 + (int64_t) rel;
                }
                if (!named)
                        abort();
        }
        c = tls_entry_common(a, na, b, nb);
        for (size_t i = 0; i < na; i++)
                in_a |= a[i] == c;
        for (size_t i = 0; i < nb; i++)
                in_b |= b[i] == c;
        if (c != 0 && !(in_a && in_b))
                abort();
        (void) tls_entry_emulated(data, size);
        return 0;
}
