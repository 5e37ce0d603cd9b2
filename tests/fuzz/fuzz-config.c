/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Any bytes as a configuration file: the loader must neither crash nor hang
 * nor leak, and what it accepts must print (--cat-config) and read back.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/configuration.h"
#include "daemon/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Diagnostics d = {};
        Config *c = NULL;
        char *buf = NULL;
        size_t n = 0;
        FILE *f;

        if (size > CONFIG_FILE_SIZE_MAX)
                return 0;
        /* The consumers' checks too (syslog targets, parameter names), as the daemon loads. */
        if (settings_register_checks() < 0)
                abort();
        if (config_new_defaults(&c) < 0)
                abort();
        (void) config_apply_yaml(c, "fuzz.yaml", data, size, &d);
        (void) config_verify(c, &d);
        for (size_t i = 0; i < d.n; i++) {
                char *s;
                if (diagnostic_format(&d.items[i], &s) == 0)
                        free(s);
        }

        /* Whatever was applied is valid: its --cat-config output must load without errors. */
        f = open_memstream(&buf, &n);
        if (f) {
                Config *again = NULL;
                Diagnostics d2 = {};

                (void) config_cat(c, f);
                fclose(f);
                if (config_new_defaults(&again) < 0)
                        abort();
                if (config_apply_yaml(again, "cat.yaml", buf, n, &d2) < 0 || config_diff(c, again, NULL, NULL) != 0) {
                        fwrite(buf, 1, n, stderr);
                        diagnostics_print(&d2, stderr);
                        abort();
                }
                config_free(again);
                diagnostics_done(&d2);
                free(buf);
        }
        config_free(c);
        diagnostics_done(&d);
        return 0;
}
