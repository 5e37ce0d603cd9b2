/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's own log: one line per message on stderr. Under systemd
 * stderr is a stream to journald, so lines carry a "<N>" priority prefix
 * there. Writes are non-blocking when stderr is a socket (a stalled journald
 * must not stall tracing) and rate limited by a token bucket; what the
 * limit or a full socket suppresses is counted and reported later.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "basic/log.h"

static int max_level = LOG_INFO;
static int stderr_is_journal = -1;

/* Burst of messages allowed per interval; errors are part of it. */
#define LOG_RATELIMIT_BURST 200
#define LOG_RATELIMIT_INTERVAL_NS (10 * NSEC_PER_SEC)

static struct {
        uint64_t begin_ns;
        unsigned count;
        unsigned long long suppressed;
} ratelimit;

void log_set_max_level(int level) {
        max_level = level;
}

int log_get_max_level(void) {
        return max_level;
}

int log_level_from_string(const char *s) {
        static const char *const names[] = {
                [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
                [LOG_ERR] = "err", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
                [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
        };

        if (!s)
                return -EINVAL;
        if (strcasecmp(s, "error") == 0)
                return LOG_ERR;
        if (strcasecmp(s, "warn") == 0)
                return LOG_WARNING;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcasecmp(s, names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

bool log_stderr_is_journal(void) {
        if (stderr_is_journal < 0) {
                /* systemd's rule: $JOURNAL_STREAM names stderr's device and inode when it is the journal. */
                const char *e = getenv("JOURNAL_STREAM");
                unsigned long long dev, ino;
                struct stat st;

                stderr_is_journal = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 &&
                                    fstat(STDERR_FILENO, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
        }
        return stderr_is_journal;
}

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * NSEC_PER_SEC + (uint64_t) ts.tv_nsec;
}

static bool ratelimit_pass(void) {
        uint64_t n = now_ns();

        if (ratelimit.begin_ns == 0 || n - ratelimit.begin_ns > LOG_RATELIMIT_INTERVAL_NS) {
                ratelimit.begin_ns = n;
                ratelimit.count = 0;
        }
        if (ratelimit.count >= LOG_RATELIMIT_BURST) {
                ratelimit.suppressed++;
                return false;
        }
        ratelimit.count++;
        return true;
}

static void write_line(const char *buf, size_t len) {
        ssize_t k;

        k = send(STDERR_FILENO, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (k < 0 && errno == ENOTSOCK)
                k = write(STDERR_FILENO, buf, len);
        if (k < 0 || (size_t) k < len)
                ratelimit.suppressed++;
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        char msg[2048], out[2200];
        int saved = errno, n;
        va_list ap;

        (void) file;
        (void) line;
        (void) func;

        if (error < 0)
                error = -error;

        if (level > max_level)
                goto finish;
        if (!ratelimit_pass())
                goto finish;

        (void) log_stderr_is_journal();

        /* %m prints the error we were given, not whatever errno happens to hold. */
        errno = error ?: saved;
        va_start(ap, format);
        (void) vsnprintf(msg, sizeof(msg), format, ap);
        va_end(ap);

        if (ratelimit.suppressed > 0) {
                char note[128];

                n = snprintf(note, sizeof(note), "%s%llu log messages suppressed (rate limit or full stderr).\n",
                             stderr_is_journal ? "<4>" : "", ratelimit.suppressed);
                ratelimit.suppressed = 0;
                write_line(note, (size_t) MIN(n, (int) sizeof(note) - 1));
        }

        if (stderr_is_journal)
                n = snprintf(out, sizeof(out), "<%d>%s\n", level, msg);
        else
                n = snprintf(out, sizeof(out), "%s\n", msg);
        if (n > 0)
                write_line(out, (size_t) MIN(n, (int) sizeof(out) - 1));

finish:
        errno = saved;
        return error > 0 ? -error : -EIO;
}
