/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The syslog sink against real sockets: a unix datagram receiver that is
 * absent, then present, then full; UDP; TCP with octet-counting frames, a
 * receiver that closes the connection and one that is away for a while
 * (reconnect, queue, nothing lost, nothing blocks), and a queue bound that
 * turns into counted drops.
 */

#define _GNU_SOURCE 1   /* accept4() */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <cmocka.h>

#include "../../syslog-check.h"
#include "basic/macro.h"
#include "output/syslog-writer.h"

static SyslogChecked checked;

static FormatField fields[] = {
        { .name = "MESSAGE", .value = "GET / -> 200", .len = 12 },
        { .name = "PRIORITY", .value = "6", .len = 1 },
        { .name = "HTTP_STATUS", .value = "200", .len = 3, .type = FORMAT_NUMBER },
        { .name = "HTTP_TARGET", .value = NULL, .len = 0 },
};

/* Entries carry their sequence number in the target, to check order and completeness. */
static int send_seq(SyslogWriter *w, unsigned i) {
        static char target[32];

        snprintf(target, sizeof(target), "/seq/%u", i);
        fields[3].value = target;
        fields[3].len = strlen(target);
        return syslog_writer_send(w, fields, ELEMENTSOF(fields), ENTRY_EXCHANGE);
}

static unsigned seq_of(const char *msg, size_t n) {
        assert_true(syslog_check_rfc5424(msg, n, &checked));
        const char *t = syslog_check_param(&checked, "target");
        assert_non_null(t);
        return (unsigned) strtoul(t + 5, NULL, 10);
}

static uint64_t mono_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Run the loop for @ms whatever happens: for "nothing changes meanwhile" checks. */
static void run_loop(sd_event *e, unsigned ms) {
        uint64_t end = mono_usec() + ms * 1000ull;

        while (mono_usec() < end)
                assert_true(sd_event_run(e, 10 * 1000) >= 0);
}

/*
 * A generous bound for "until it happens" (a reconnect backoff is well under
 * a few seconds): reached only when the writer is broken, never because the
 * machine is busy.
 */
#define DEADLINE_USEC (60 * USEC_PER_SEC)

/* Run the loop until cond holds; fail, saying which, after DEADLINE_USEC. */
#define RUN_UNTIL(e, cond)                                                                      \
        do {                                                                                    \
                uint64_t _deadline = mono_usec() + DEADLINE_USEC;                               \
                while (!(cond)) {                                                               \
                        if (mono_usec() > _deadline)                                            \
                                fail_msg("not true after %d s: %s", (int) (DEADLINE_USEC / USEC_PER_SEC), #cond); \
                        assert_true(sd_event_run((e), 10 * 1000) >= 0);                         \
                }                                                                               \
        } while (0)

static SyslogWriterOptions options(const char *target, SyslogFormat format) {
        SyslogWriterOptions o = {
                .format = format, .facility = 3, .severity = SYSLOG_SEVERITY_ENTRY,
                .message_max = 8192, .queue_max = SYSLOG_QUEUE_MIN,
        };
        assert_int_equal(syslog_target_parse(target, &o.target, NULL), 0);
        return o;
}

static void test_unix(void **state) {
        _cleanup_(syslog_writer_freep) SyslogWriter *w = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char dir[] = "/tmp/test-syslog-XXXXXX", target[128], buf[9000];
        SyslogWriterOptions o;
        Stats stats = {};
        ssize_t n;
        int fd;

        assert_non_null(mkdtemp(dir));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/log", dir);
        snprintf(target, sizeof(target), "unix:%s", sa.sun_path);
        assert_int_equal(sd_event_new(&e), 0);

        /* Nobody there yet: queued, not an error for the caller. */
        o = options(target, SYSLOG_FORMAT_AUTO);
        assert_int_equal(syslog_writer_new(&o, e, &stats, &w), 0);
        assert_false(syslog_writer_connected(w));
        assert_int_equal(send_seq(w, 0), 0);
        assert_int_equal(send_seq(w, 1), 0);
        assert_int_equal(syslog_writer_queued(w), 2);
        assert_int_equal(stats.entries_queued, 2);
        assert_int_equal(stats.output_errors, 1);   /* one per loss, not per retry */

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        RUN_UNTIL(e, syslog_writer_queued(w) == 0);
        assert_true(syslog_writer_connected(w));
        assert_int_equal(stats.entries_written, 2);
        assert_int_equal(syslog_writer_queued(w), 0);
        assert_int_equal(syslog_writer_reconnects(w), 0);   /* the first connection is not a reconnect */

        /* AUTO on a unix socket: RFC 3164 without host name, as /dev/log readers expect. */
        n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = 0;
        assert_non_null(strstr(buf, " http-tracer["));
        assert_true(strncmp(buf, "<30>", 4) == 0);
        assert_non_null(strstr(buf, "]: GET / -> 200"));

        /* The receiver restarts (a new socket at the same path): reconnect, nothing lost. */
        safe_close(fd);
        unlink(sa.sun_path);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(send_seq(w, 2), 0);
        RUN_UNTIL(e, stats.entries_written >= 3);
        assert_int_equal(stats.entries_written, 3);
        assert_int_equal(syslog_writer_reconnects(w), 1);
        n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_true(n > 0);

        /* A receiver that does not read: its queue fills, ours holds up to the bound, the rest is counted. */
        uint64_t before = stats.entries_written;
        unsigned sent = 0;
        for (unsigned i = 0; i < 5000; i++, sent++)
                if (send_seq(w, i) == -ENOBUFS)
                        break;
        assert_true(sent < 5000);
        assert_true(stats.entries_dropped >= 1);
        assert_true(syslog_writer_queued(w) > 0);
        /* Read everything: the queue drains in order, nothing else is lost. */
        unsigned got = 0;
        RUN_UNTIL(e, ({ while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
                                got++;
                        syslog_writer_queued(w) == 0; }));
        while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
                got++;
        assert_int_equal(syslog_writer_queued(w), 0);
        assert_int_equal(got, stats.entries_written - before + 0);
        assert_int_equal(stats.entries_written - before + stats.entries_dropped, sent + 1);

        safe_close(fd);
        unlink(sa.sun_path);
        rmdir(dir);
}

static int tcp_listener(uint16_t *port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(*port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        /* Non-blocking: accept4() is polled while the writer's loop runs. */
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

        assert_true(fd >= 0);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 4), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        *port = ntohs(sa.sin_port);
        return fd;
}

/*
 * Read octet-counted frames from a connection until @want of them have come
 * (failing after DEADLINE_USEC); stores their sequence numbers from
 * seqs[0], returns how many came (more than @want only if they came
 * together).
 */
static unsigned read_frames(sd_event *e, int fd, unsigned *seqs, unsigned max, unsigned want) {
        static char stream[1 << 20];
        size_t n = 0, off = 0, len;
        unsigned count = 0;
        uint64_t deadline = mono_usec() + DEADLINE_USEC;

        while (count < want) {
                ssize_t k;

                if (mono_usec() > deadline)
                        fail_msg("%u of %u frames after %d s", count, want, (int) (DEADLINE_USEC / USEC_PER_SEC));
                assert_true(sd_event_run(e, 10 * 1000) >= 0);
                k = recv(fd, stream + n, sizeof(stream) - n, MSG_DONTWAIT);
                if (k > 0)
                        n += (size_t) k;
                while (off < n && syslog_frame_parse(stream + off, n - off, &len) == 0 && off + len <= n) {
                        size_t prefix = strchr(stream + off, ' ') - (stream + off) + 1;

                        assert_true(count < max);
                        seqs[count++] = seq_of(stream + off + prefix, len - prefix);
                        off += len;
                }
                /* Keep only the partial frame: many frames pass through a bounded buffer. */
                memmove(stream, stream + off, n - off);
                n -= off;
                off = 0;
        }
        assert_int_equal(off, n);   /* whole frames only */
        return count;
}

static void test_tcp(void **state) {
        _cleanup_(syslog_writer_freep) SyslogWriter *w = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        static unsigned seqs[1 << 17];
        unsigned n;
        char target[64];
        uint16_t port = 0;
        Stats stats = {};
        int lfd, cfd;

        assert_int_equal(sd_event_new(&e), 0);
        lfd = tcp_listener(&port);
        snprintf(target, sizeof(target), "tcp://127.0.0.1:%u", port);
        SyslogWriterOptions o = options(target, SYSLOG_FORMAT_AUTO);
        assert_int_equal(syslog_writer_new(&o, e, &stats, &w), 0);
        for (unsigned i = 0; i < 10; i++)
                assert_int_equal(send_seq(w, i), 0);
        RUN_UNTIL(e, (cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0);
        n = read_frames(e, cfd, seqs, ELEMENTSOF(seqs), 10);
        assert_int_equal(n, 10);
        for (unsigned i = 0; i < n; i++)
                assert_int_equal(seqs[i], i);
        /* Written once the peer's kernel acknowledged them. */
        RUN_UNTIL(e, syslog_writer_queued(w) == 0);
        assert_int_equal(stats.entries_written, 10);
        assert_int_equal(syslog_writer_queued(w), 0);

        /* The receiver goes away entirely: the writer notices without sending, queues, retries. */
        safe_close(cfd);
        safe_close(lfd);
        RUN_UNTIL(e, !syslog_writer_connected(w));
        for (unsigned i = 10; i < 20; i++)
                assert_int_equal(send_seq(w, i), 0);
        run_loop(e, 300);
        assert_int_equal(syslog_writer_queued(w), 10);

        /* Back on the same port: reconnect with backoff, the queue follows in order. */
        lfd = tcp_listener(&port);
        RUN_UNTIL(e, (cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0);
        n = read_frames(e, cfd, seqs, ELEMENTSOF(seqs), 10);
        assert_int_equal(n, 10);
        for (unsigned i = 0; i < n; i++)
                assert_int_equal(seqs[i], 10 + i);
        RUN_UNTIL(e, syslog_writer_queued(w) == 0);
        assert_int_equal(syslog_writer_reconnects(w), 1);
        assert_int_equal(stats.entries_written, 20);
        assert_int_equal(stats.entries_dropped, 0);

        /* A receiver that stops reading: the queue bound turns into counted drops, no send blocks. */
        unsigned sent = 0;
        for (unsigned i = 0; i < 100000 && send_seq(w, 20 + i) == 0; i++)
                sent++;
        assert_true(sent < 100000);
        assert_int_equal(stats.entries_dropped, 1);
        n = read_frames(e, cfd, seqs, ELEMENTSOF(seqs), sent);
        /* Written (and out of the queue) once our kernel has the peer's acknowledgement. */
        RUN_UNTIL(e, syslog_writer_queued(w) == 0);
        assert_int_equal(n, sent);
        assert_int_equal(stats.entries_written, 20 + sent);
        assert_int_equal(syslog_writer_flush(w, 0), 0);

        safe_close(cfd);
        safe_close(lfd);
}

static void test_udp(void **state) {
        _cleanup_(syslog_writer_freep) SyslogWriter *w = NULL;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        char target[64], buf[9000];
        Stats stats = {};
        ssize_t n;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        snprintf(target, sizeof(target), "udp://127.0.0.1:%u", ntohs(sa.sin_port));
        SyslogWriterOptions o = options(target, SYSLOG_FORMAT_AUTO);
        /* No event loop (replay): sends are synchronous. */
        assert_int_equal(syslog_writer_new(&o, NULL, &stats, &w), 0);
        assert_int_equal(send_seq(w, 7), 0);
        assert_int_equal(stats.entries_written, 1);
        n = recv(fd, buf, sizeof(buf), 0);
        assert_true(n > 0);
        assert_int_equal(seq_of(buf, (size_t) n), 7);   /* AUTO on the network: RFC 5424 */
        assert_string_equal(checked.sd_id, "http@32473");

        /* Nobody listens any more: the ICMP error surfaces and is counted as a lost datagram. */
        safe_close(fd);
        for (unsigned i = 0; i < 3; i++)
                (void) send_seq(w, 8 + i);
        assert_true(stats.entries_dropped >= 1);
        assert_true(stats.output_errors >= 1);
}

static void test_bad(void **state) {
        SyslogWriter *w = NULL;
        SyslogWriterOptions o = options("udp://127.0.0.1", SYSLOG_FORMAT_RFC5424);

        o.queue_max = 1024;
        assert_int_equal(syslog_writer_new(&o, NULL, NULL, &w), -EINVAL);
        o = options("udp://no-such-host.invalid", SYSLOG_FORMAT_RFC5424);
        assert_int_equal(syslog_writer_new(&o, NULL, NULL, &w), -EADDRNOTAVAIL);
        assert_null(w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unix),
                cmocka_unit_test(test_tcp),
                cmocka_unit_test(test_udp),
                cmocka_unit_test(test_bad),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
