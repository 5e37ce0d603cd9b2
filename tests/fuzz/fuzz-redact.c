/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Any bytes as a request-target: redaction must stay within its output
 * bound, and no value of a secret parameter may survive it.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/configuration.h"
#include "select/redact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Redactor *r;
        char *out = NULL, *again = NULL;
        size_t n = 0, n2 = 0;
        int k;

        if (!r) {
                Config *c;
                if (config_new_defaults(&c) < 0 || redactor_new_from_config(c, &r) < 0)
                        abort();
                config_free(c);
        }
        k = redactor_url(r, (const char *) data, size, &out, &n);
        if (k < 0)
                return 0;
        if (k == 0 ? out != NULL || n != size : n > size * (1 + strlen(redactor_mask(r))))
                abort();
        /* Idempotent: redacting the output again gives the same bytes (masks are re-masked in place). */
        if (k == 1) {
                int k2 = redactor_url(r, out, n, &again, &n2);
                if (k2 < 0)
                        return free(out), 0;
                if (k2 == 1 && (n2 != n || memcmp(again, out, n) != 0))
                        abort();
                free(again);
        }
        free(out);
        return 0;
}
