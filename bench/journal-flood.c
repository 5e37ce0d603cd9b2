/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ht-bench-journal-flood: journald's ceiling for entries like ours.
 *
 * Sends the fields given on the command line (FIELD=value, e.g. those of a real
 * http-tracer entry) with sd_journal_sendv() in a plain loop for D seconds and prints
 * how many went out. sd_journal_sendv() blocks while journald's socket queue is full,
 * so after the first fraction of a second the loop runs at the rate journald stores
 * entries: that rate is the sink's limit the daemon is measured against.
 */

#define _GNU_SOURCE 1   /* asprintf */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char *argv[]) {
        struct iovec *iov;
        double duration, start, elapsed;
        uint64_t sent = 0, failed = 0;
        int n;

        if (argc < 3 || (duration = strtod(argv[1], NULL)) <= 0) {
                fprintf(stderr, "usage: ht-bench-journal-flood SECONDS FIELD=value...\n");
                return 2;
        }
        n = argc - 2;
        iov = calloc((size_t) n, sizeof(*iov));
        if (!iov)
                return 1;
        for (int i = 0; i < n; i++) {
                if (!strchr(argv[i + 2], '=')) {
                        fprintf(stderr, "ht-bench-journal-flood: '%s' is not FIELD=value\n", argv[i + 2]);
                        return 2;
                }
                /* OBJECT_PID=self: this process, alive, so that journald does the /proc reads it does for
                 * a real entry's traced process (OBJECT_COMM, OBJECT_EXE, ...), not a failed lookup. */
                if (strcmp(argv[i + 2], "OBJECT_PID=self") == 0 &&
                    asprintf(&argv[i + 2], "OBJECT_PID=%d", (int) getpid()) < 0)
                        return 1;
                iov[i] = (struct iovec) { .iov_base = argv[i + 2], .iov_len = strlen(argv[i + 2]) };
        }

        start = now_s();
        do {
                /* Check the clock every 64 entries: cheap next to a sendmsg(). */
                for (int k = 0; k < 64; k++) {
                        int r = sd_journal_sendv(iov, n);
                        if (r < 0)
                                failed++;
                        else
                                sent++;
                }
        } while ((elapsed = now_s() - start) < duration);

        printf("sent=%" PRIu64 " failed=%" PRIu64 " duration=%.3f rate=%.1f fields=%d\n",
               sent, failed, elapsed, (double) sent / elapsed, n);
        free(iov);
        return failed > 0 && sent == 0 ? 1 : 0;
}
