/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The TLS source's probe sites in machine code (tls-entry.h). */

#include <string.h>

#include "capture/tls-entry.h"

bool tls_entry_emulated(const uint8_t *code, size_t n) {
        if (n >= 1 && ((code[0] >= 0x50 && code[0] <= 0x57) || code[0] == 0x90))
                return true;   /* push %rax..%rdi (push %rbp: 0x55), nop */
        /* REX.B push %r8..%r15 */
        return n >= 2 && code[0] == 0x41 && code[1] >= 0x50 && code[1] <= 0x57;
}

size_t tls_entry_targets(const uint8_t *code, size_t n, uint64_t addr, uint64_t *ret, size_t max) {
        size_t k = 0;

        if (n > TLS_ENTRY_SCAN)
                n = TLS_ENTRY_SCAN;
        for (size_t i = 0; i + 5 <= n && k < max; i++) {
                int32_t rel;

                if (code[i] != 0xe8 && code[i] != 0xe9)
                        continue;
                memcpy(&rel, code + i + 1, sizeof(rel));   /* little-endian, as x86 */
                ret[k++] = addr + i + 5 + (int64_t) rel;
        }
        return k;
}

uint64_t tls_entry_common(const uint64_t *a, size_t na, const uint64_t *b, size_t nb) {
        uint64_t found = 0;

        for (size_t i = 0; i < na; i++) {
                bool in_b = false, seen = false;

                for (size_t j = 0; j < nb && !in_b; j++)
                        in_b = a[i] == b[j];
                for (size_t j = 0; j < i && !seen; j++)
                        seen = a[i] == a[j];
                if (!in_b || seen)
                        continue;
                if (found != 0)
                        return 0;   /* two candidates: ambiguous */
                found = a[i];
        }
        return found;
}
