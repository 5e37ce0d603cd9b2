/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes the files derived from the settings table: conf/http-tracer.yaml
 * (argument "yaml") or docs/configuration.md ("docs") to standard output.
 * Run through `ninja -C build update-config-files`; test-config checks that
 * the committed copies match.
 */

#include <stdio.h>
#include <string.h>

#include "config/configuration.h"

int main(int argc, char *argv[]) {
        int r;

        if (argc != 2 || (strcmp(argv[1], "yaml") != 0 && strcmp(argv[1], "docs") != 0)) {
                fprintf(stderr, "Usage: %s yaml|docs\n", argv[0]);
                return 2;
        }
        r = strcmp(argv[1], "yaml") == 0 ? config_generate(stdout) : config_generate_docs(stdout);
        if (r < 0) {
                fprintf(stderr, "Failed to generate: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
