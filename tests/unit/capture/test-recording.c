/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for --record/--replay files: round trip, and rejection of damaged files. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/recording.h"

typedef struct Seen {
        unsigned n;
        size_t sizes[16];
        uint8_t first[16];
} Seen;

static int collect(void *userdata, const void *data, size_t size) {
        Seen *s = userdata;

        if (s->n < 16) {
                s->sizes[s->n] = size;
                s->first[s->n] = size > 0 ? *(const uint8_t *) data : 0;
        }
        s->n++;
        return 0;
}

static void tmpname(char *buf, size_t n) {
        snprintf(buf, n, "/tmp/test-recording-%d-XXXXXX", (int) getpid());
        int fd = mkstemp(buf);
        assert_true(fd >= 0);
        close(fd);
}

static void test_round_trip(void **state) {
        struct ht_record_file_header h;
        char path[64];
        Recorder *r;
        Seen seen = {};
        uint8_t big[RECORD_MAX_SIZE];

        tmpname(path, sizeof(path));
        memset(big, 0xab, sizeof(big));
        assert_int_equal(recorder_open(path, 1234, &r), 0);
        assert_int_equal(recorder_write(r, "\x01hello", 6), 0);
        assert_int_equal(recorder_write(r, "", 0), 0);
        assert_int_equal(recorder_write(r, big, sizeof(big)), 0);
        assert_int_equal(recorder_close(r), 0);

        assert_int_equal(replay_file(path, &h, collect, &seen), 3);
        assert_int_equal(h.payload_max, 1234);
        assert_int_equal(h.abi_version, HT_ABI_VERSION);
        assert_int_equal(seen.n, 3);
        assert_int_equal(seen.sizes[0], 6);
        assert_int_equal(seen.first[0], 1);
        assert_int_equal(seen.sizes[1], 0);
        assert_int_equal(seen.sizes[2], RECORD_MAX_SIZE);
        assert_int_equal(seen.first[2], 0xab);
        unlink(path);
}

static void test_damaged(void **state) {
        char path[64];
        Recorder *r;
        Seen seen = {};
        FILE *f;
        long size;

        tmpname(path, sizeof(path));
        assert_int_equal(recorder_open(path, 100, &r), 0);
        assert_int_equal(recorder_write(r, "abcdef", 6), 0);
        assert_int_equal(recorder_write(r, "ghijkl", 6), 0);
        assert_int_equal(recorder_close(r), 0);

        /* Cut the last record short: the first is delivered, then -EBADMSG. */
        f = fopen(path, "r+");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        size = ftell(f);
        fclose(f);
        assert_int_equal(truncate(path, size - 2), 0);
        assert_int_equal(replay_file(path, NULL, collect, &seen), -EBADMSG);
        assert_int_equal(seen.n, 1);

        /* A record claiming more than the maximum. */
        f = fopen(path, "r+");
        fseek(f, sizeof(struct ht_record_file_header), SEEK_SET);
        uint32_t huge = RECORD_MAX_SIZE + 1;
        fwrite(&huge, sizeof(huge), 1, f);
        fclose(f);
        seen.n = 0;
        assert_int_equal(replay_file(path, NULL, collect, &seen), -EBADMSG);
        assert_int_equal(seen.n, 0);

        /* Wrong magic. */
        f = fopen(path, "r+");
        fwrite("NOTATRACE", 8, 1, f);
        fclose(f);
        assert_int_equal(replay_file(path, NULL, collect, &seen), -EBADMSG);

        /* Empty file and missing file. */
        assert_int_equal(truncate(path, 0), 0);
        assert_int_equal(replay_file(path, NULL, collect, &seen), -EBADMSG);
        unlink(path);
        assert_int_equal(replay_file(path, NULL, collect, &seen), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_damaged),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
