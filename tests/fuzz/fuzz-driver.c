/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stand-in for libFuzzer's main when not building with -fsanitize=fuzzer:
 * runs LLVMFuzzerTestOneInput once on every file named on the command line
 * or found in a named directory, so seed corpora stay regression tests.
 */

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
        FILE *f = fopen(path, "re");
        uint8_t *buf = NULL;
        long n;

        if (!f) {
                fprintf(stderr, "Failed to open %s: %m\n", path);
                return -errno;
        }
        if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) < 0) {
                fclose(f);
                return -EIO;
        }
        buf = malloc(n > 0 ? (size_t) n : 1);
        if (!buf || fread(buf, 1, (size_t) n, f) != (size_t) n) {
                free(buf);
                fclose(f);
                return -EIO;
        }
        fclose(f);
        (void) LLVMFuzzerTestOneInput(buf, (size_t) n);
        free(buf);
        return 0;
}

int main(int argc, char *argv[]) {
        unsigned ran = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;
                DIR *d;
                struct dirent *de;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "Failed to stat %s: %m\n", argv[i]);
                        return EXIT_FAILURE;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (run_file(argv[i]) < 0)
                                return EXIT_FAILURE;
                        ran++;
                        continue;
                }
                d = opendir(argv[i]);
                if (!d)
                        return EXIT_FAILURE;
                while ((de = readdir(d))) {
                        char p[4096];

                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(p, sizeof(p), "%s/%s", argv[i], de->d_name);
                        if (run_file(p) < 0) {
                                closedir(d);
                                return EXIT_FAILURE;
                        }
                        ran++;
                }
                closedir(d);
        }
        printf("%u inputs ran\n", ran);
        return ran > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
