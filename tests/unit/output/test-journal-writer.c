/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal writer against a real unix datagram socket standing in for
 * journald: exact bytes on the wire, back-pressure (EAGAIN -> queue -> bound
 * -> drops, then draining from an sd-event loop), memfd for big entries,
 * journald going away and coming back, flush, and the blocking replay mode.
 */

#define _GNU_SOURCE 1   /* F_GET_SEALS */

#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "output/fields.h"
#include "output/journal-writer.h"
#include "basic/macro.h"

typedef struct Fixture {
        char dir[64];
        char path[128];
        int receiver;
        sd_event *event;
        Stats stats;
} Fixture;

static int receiver_bind(Fixture *f) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        strcpy(sa.sun_path, f->path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        return fd;
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));

        assert_non_null(f);
        strcpy(f->dir, "/tmp/test-journal-writer-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof(f->path), "%s/socket", f->dir);
        f->receiver = receiver_bind(f);
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(setenv(JOURNAL_SOCKET_ENV, f->path, 1), 0);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        safe_close(f->receiver);
        (void) unlink(f->path);
        (void) rmdir(f->dir);
        sd_event_unref(f->event);
        unsetenv(JOURNAL_SOCKET_ENV);
        free(f);
        return 0;
}

static FormatField field(const char *name, const char *value) {
        return (FormatField) { .name = name, .value = value, .len = strlen(value) };
}

/* Next datagram, or -EAGAIN when none is waiting. */
static ssize_t receive(Fixture *f, void *buf, size_t size) {
        ssize_t n = recv(f->receiver, buf, size, MSG_DONTWAIT);

        return n < 0 ? -errno : n;
}

static int send_numbered(JournalWriter *w, unsigned i) {
        char msg[32];
        FormatField fl[2];

        snprintf(msg, sizeof(msg), "entry %u", i);
        fl[0] = field("MESSAGE", msg);
        fl[1] = field("SYSLOG_IDENTIFIER", "http-tracer");
        return journal_writer_send(w, fl, 2, ENTRY_EXCHANGE);
}

/* The number in "MESSAGE=entry N\n..." */
static unsigned received_number(const char *buf, ssize_t n) {
        unsigned k;

        assert_true(n > 0);
        assert_int_equal(sscanf(buf, "MESSAGE=entry %u\n", &k), 1);
        return k;
}

static uint64_t mono_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * USEC_PER_SEC + ts.tv_nsec / 1000;
}

/*
 * A generous bound for "until it happens": reached only when the writer is
 * broken, never because the machine is busy.
 */
#define DEADLINE_USEC (60 * USEC_PER_SEC)

/* Run the loop until at most @queued entries wait, failing after DEADLINE_USEC. */
static void run_loop_until_queued(Fixture *f, JournalWriter *w, size_t queued) {
        uint64_t deadline = mono_usec() + DEADLINE_USEC;

        while (journal_writer_queued(w) > queued) {
                if (mono_usec() > deadline)
                        fail_msg("%zu entries still queued after %llu s, expected at most %zu",
                                 journal_writer_queued(w), (unsigned long long) (DEADLINE_USEC / USEC_PER_SEC),
                                 queued);
                assert_true(sd_event_run(f->event, 50000) >= 0);
        }
}

/* Run the loop for @usec whatever happens: for "nothing moves meanwhile" checks. */
static void run_loop_for(Fixture *f, uint64_t usec) {
        uint64_t end = mono_usec() + usec;

        while (mono_usec() < end)
                assert_true(sd_event_run(f->event, 50000) >= 0);
}

/* ---- tests --------------------------------------------------------------- */

static void test_exact_bytes(void **state) {
        Fixture *f = *state;
        _cleanup_(journal_writer_freep) JournalWriter *w = NULL;
        static const char expected[] =
                "MESSAGE=GET / \xe2\x86\x92 404\n"
                "PRIORITY=5\n"
                "HTTP_STATUS=404\n"
                "EMPTY=\n"
                "BINARY\n\x05\0\0\0\0\0\0\0a\nb\0c\n";
        FormatField fl[] = {
                field("MESSAGE", "GET / \xe2\x86\x92 404"),
                field("PRIORITY", "5"),
                field("HTTP_STATUS", "404"),
                field("EMPTY", ""),
                { .name = "BINARY", .value = "a\nb\0c", .len = 5 },
        };
        char buf[512];
        ssize_t n;

        /* NULL path: the environment override (set by setup) is used. */
        assert_int_equal(journal_writer_new(NULL, f->event, &f->stats, &w), 0);
        assert_int_equal(journal_writer_send(w, fl, ELEMENTSOF(fl), ENTRY_EXCHANGE), 0);

        n = receive(f, buf, sizeof(buf));
        assert_int_equal(n, sizeof(expected) - 1);
        assert_memory_equal(buf, expected, n);
        assert_int_equal(f->stats.entries_written, 1);
        assert_int_equal(f->stats.entries_queued, 0);
        assert_int_equal(f->stats.output_errors, 0);
        assert_int_equal(receive(f, buf, sizeof(buf)), -EAGAIN);
}

static void test_formatted_entry(void **state) {
        Fixture *f = *state;
        _cleanup_(journal_writer_freep) JournalWriter *w = NULL;
        ConnInfo c = { .id = 1, .tgid = 812, .role = CONN_ROLE_SERVER, .family = AF_INET,
                       .local_port = 80, .remote_port = 50432, .comm = "nginx",
                       .local_addr = { 127, 0, 0, 1 }, .remote_addr = { 127, 0, 0, 1 } };
        HttpMessage req = { .kind = HTTP_MESSAGE_REQUEST, .method = "GET", .target = "/a\nHTTP_STATUS=200", .version = 11 };
        HttpMessage resp = { .kind = HTTP_MESSAGE_RESPONSE, .status = 404, .version = 11 };
        Exchange x = { .kind = EXCHANGE_COMPLETE, .conn = &c, .request = &req, .response = &resp, .duration_ns = 5000 };
        static FormatEntry e;
        char buf[4096];
        ssize_t n;

        assert_int_equal(format_exchange(&e, &x, NULL, &f->stats), 0);
        assert_int_equal(journal_writer_new(f->path, f->event, &f->stats, &w), 0);
        assert_int_equal(journal_writer_send(w, e.fields, e.n_fields, ENTRY_EXCHANGE), 0);
        n = receive(f, buf, sizeof(buf) - 1);
        assert_true(n > 0);
        buf[n] = 0;
        /* Plain NAME=value lines only; the injected status stays inside the target. */
        assert_non_null(strstr(buf, "\nHTTP_STATUS=404\n"));
        assert_null(strstr(buf, "\nHTTP_STATUS=200\n"));
        assert_non_null(strstr(buf, "\nHTTP_TARGET=/a\\x0aHTTP_STATUS=200\n"));
        size_t lines = 0;
        for (ssize_t i = 0; i < n; i++)
                lines += buf[i] == '\n';
        assert_int_equal(lines, e.n_fields);
}

static void test_new_errors(void **state) {
        Fixture *f = *state;
        JournalWriter *w = NULL;
        char missing[160];

        snprintf(missing, sizeof(missing), "%s/nonexistent", f->dir);
        assert_int_equal(journal_writer_new(missing, f->event, NULL, &w), -ENOENT);
        assert_null(w);

        /* A socket file nobody listens on: journald died without cleaning up. */
        f->receiver = safe_close(f->receiver);
        assert_int_equal(journal_writer_new(f->path, f->event, NULL, &w), -ECONNREFUSED);
        assert_null(w);
}

static void test_invalid_names(void **state) {
        Fixture *f = *state;
        _cleanup_(journal_writer_freep) JournalWriter *w = NULL;
        static const char *const bad[] = {
                "lower", "_TRUSTED", "1DIGIT", "HAS-DASH", "",
                "ABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",   /* 65 characters */
        };

        assert_int_equal(journal_writer_new(f->path, f->event, &f->stats, &w), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                FormatField fl = field(bad[i], "x");
                assert_int_equal(journal_writer_send(w, &fl, 1, ENTRY_EXCHANGE), -EINVAL);
        }
        /* 64 characters: the longest allowed */
        FormatField ok = field("ABBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", "x");
        assert_int_equal(journal_writer_send(w, &ok, 1, ENTRY_EXCHANGE), 0);
        assert_int_equal(f->stats.entries_written, 1);
}

static void test_backpressure(void **state) {
        Fixture *f = *state;
        _cleanup_(journal_writer_freep) JournalWriter *w = NULL;
        uint64_t direct, dropped;
        unsigned last = 0, got = 0;
        char buf[256];
        ssize_t n;

        assert_int_equal(journal_writer_new(f->path, f->event, &f->stats, &w), 0);
        journal_writer_set_limits(w, 5, 0, 0);

        /* Nobody reads: the receive queue (net.unix.max_dgram_qlen) fills, then ours, then drops. */
        for (unsigned i = 0; i < 40; i++) {
                int r = send_numbered(w, i);
                assert_true(r == 0 || r == -ENOBUFS);
        }
        direct = f->stats.entries_written;
        dropped = f->stats.entries_dropped;
        assert_true(direct > 0);
        assert_int_equal(journal_writer_queued(w), 5);
        assert_int_equal(f->stats.entries_queued, 5);
        assert_int_equal(direct + 5 + dropped, 40);
        assert_int_equal(f->stats.output_errors, 0);     /* back-pressure is not an error */

        /* Nothing moves until journald reads. */
        assert_true(sd_event_run(f->event, 100000) >= 0);
        assert_int_equal(journal_writer_queued(w), 5);

        /* The receiver reads: EPOLLOUT drains the queue, in order, after what went directly. */
        while ((n = receive(f, buf, sizeof(buf))) > 0) {
                unsigned k = received_number(buf, n);
                assert_true(got == 0 || k > last);
                assert_int_equal(k, got);     /* the direct ones: 0 .. direct-1 */
                last = k, got++;
        }
        assert_int_equal(got, direct);

        run_loop_until_queued(f, w, 0);
        assert_int_equal(journal_writer_queued(w), 0);
        assert_int_equal(f->stats.entries_queued, 0);
        assert_int_equal(f->stats.entries_written, direct + 5);

        /* The queued ones are the five that came right after the direct ones. */
        for (unsigned i = 0; i < 5; i++) {
                n = receive(f, buf, sizeof(buf));
                assert_int_equal(received_number(buf, n), direct + i);
        }
        assert_int_equal(receive(f, buf, sizeof(buf)), -EAGAIN);

        /* Queue empty: the next entry goes straight out again. */
        assert_int_equal(send_numbered(w, 100), 0);
        assert_int_equal(journal_writer_queued(w), 0);
        n = receive(f, buf, sizeof(buf));
        assert_int_equal(received_number(buf, n), 100);
}

static void test_queue_byte_bound(void **state) {
        Fixture *f = *state;
        _cleanup_(journal_writer_freep) JournalWriter *w = NULL;
        size_t queued;

        assert_int_equal(journal_writer_new(f->path, f->event, &f->stats, &w), 0);
        /* Entries are 46-47 bytes: room for two. */
        journal_writer_set_limits(w, 1000, 100, 0);
        for (unsigned i = 0; i < 40; i++)
                (void) send_numbered(w, i);
        queued = journal_writer_queued(w);
        assert_int_equal(queued, 2);
        assert_int_equal(f->stats.entries_written + queued + f->stats.entries_dropped, 40);
}

static void test_memfd(void **state) {
        Fixture *f = *state;
        _cleanup_(journal_writer_freep) JournalWriter *w = NULL;
        size_t big_len = 300 * 1024;
        _cleanup_(freep) char *big = malloc(big_len), *content = malloc(big_len + 64);
        union {
                struct cmsghdr h;
                uint8_t buf[CMSG_SPACE(sizeof(int))];
        } control;
        char data[16];
        struct iovec iov = { data, sizeof(data) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control) };
        struct cmsghdr *cmsg;
        _cleanup_(closep) int mfd = -EBADF;
        struct stat st;
        ssize_t n;
        int seals;

        assert_non_null(big);
        assert_non_null(content);
        for (size_t i = 0; i < big_len; i++)
                big[i] = 'a' + i % 26;
        FormatField fl[] = {
                field("MESSAGE", "big"),
                { .name = "BIG", .value = big, .len = big_len },
        };

        assert_int_equal(journal_writer_new(f->path, f->event, &f->stats, &w), 0);
        assert_int_equal(journal_writer_send(w, fl, ELEMENTSOF(fl), ENTRY_EXCHANGE), 0);
        assert_int_equal(f->stats.entries_written, 1);

        n = recvmsg(f->receiver, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        assert_int_equal(n, 0);                 /* no payload: all of it is in the fd */
        cmsg = CMSG_FIRSTHDR(&mh);
        assert_non_null(cmsg);
        assert_int_equal(cmsg->cmsg_level, SOL_SOCKET);
        assert_int_equal(cmsg->cmsg_type, SCM_RIGHTS);
        assert_int_equal(cmsg->cmsg_len, CMSG_LEN(sizeof(int)));
        memcpy(&mfd, CMSG_DATA(cmsg), sizeof(int));

        /* journald mmaps it only if it is sealed against changes. */
        seals = fcntl(mfd, F_GET_SEALS);
        assert_int_equal(seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL),
                         F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
        assert_int_equal(fstat(mfd, &st), 0);
        assert_int_equal(st.st_size, strlen("MESSAGE=big\nBIG=") + big_len + 1);
        assert_int_equal(pread(mfd, content, st.st_size, 0), st.st_size);
        assert_memory_equal(content, "MESSAGE=big\nBIG=", 16);
        assert_memory_equal(content + 16, big, big_len);
        assert_int_equal(content[st.st_size - 1], '\n');
}

static void test_reconnect(void **state) {
        Fixture *f = *state;
        _cleanup_(journal_writer_freep) JournalWriter *w = NULL;
        char buf[256];
        ssize_t n;

        assert_int_equal(journal_writer_new(f->path, f->event, &f->stats, &w), 0);
        assert_int_equal(send_numbered(w, 0), 0);
        assert_int_equal(journal_writer_reconnects(w), 0);      /* the first connection is not one */

        /* journald stops: its socket dies (ECONNREFUSED on our connected socket). */
        f->receiver = safe_close(f->receiver);
        assert_int_equal(send_numbered(w, 1), 0);
        assert_int_equal(journal_writer_queued(w), 1);
        assert_int_equal(f->stats.output_errors, 1);      /* losing the socket, once */

        /* ... and its socket file goes (ENOENT on reconnect). */
        assert_int_equal(unlink(f->path), 0);
        assert_int_equal(send_numbered(w, 2), 0);
        /* Nothing can reach it: a while of retries leaves both queued (a
         * longer while would not change that, a shorter one not break it). */
        run_loop_for(f, 300000);
        assert_int_equal(journal_writer_queued(w), 2);
        assert_int_equal(f->stats.entries_dropped, 0);

        /* journald is back: the retry timer reconnects and drains, in order. */
        f->receiver = receiver_bind(f);
        run_loop_until_queued(f, w, 0);
        assert_int_equal(journal_writer_queued(w), 0);
        assert_int_equal(f->stats.entries_written, 3);
        for (unsigned i = 1; i <= 2; i++) {
                n = receive(f, buf, sizeof(buf));
                assert_int_equal(received_number(buf, n), i);
        }

        /* Connected again: direct sends. */
        assert_int_equal(send_numbered(w, 3), 0);
        n = receive(f, buf, sizeof(buf));
        assert_int_equal(received_number(buf, n), 3);
        assert_int_equal(f->stats.output_errors, 1);
        /* counted: status shows it, the daemon logs it */
        assert_int_equal(journal_writer_reconnects(w), 1);
}

static void test_flush(void **state) {
        Fixture *f = *state;
        _cleanup_(journal_writer_freep) JournalWriter *w = NULL;
        uint64_t written;
        char buf[256];

        assert_int_equal(journal_writer_new(f->path, f->event, &f->stats, &w), 0);
        for (unsigned i = 0; i < 40; i++)
                assert_int_equal(send_numbered(w, i), 0);
        written = f->stats.entries_written;
        assert_int_equal(journal_writer_queued(w), 40 - written);

        /* Nobody reads: after the timeout the rest is dropped and counted. */
        assert_int_equal(journal_writer_flush(w, 100000), -ETIMEDOUT);
        assert_int_equal(journal_writer_queued(w), 0);
        assert_int_equal(f->stats.entries_dropped, 40 - written);
        assert_int_equal(f->stats.entries_queued, 0);
        while (receive(f, buf, sizeof(buf)) > 0)
                ;

        /* journald away, then back: flush reconnects and delivers. */
        f->receiver = safe_close(f->receiver);
        assert_int_equal(unlink(f->path), 0);
        for (unsigned i = 0; i < 3; i++)
                assert_int_equal(send_numbered(w, i), 0);
        assert_int_equal(journal_writer_queued(w), 3);
        f->receiver = receiver_bind(f);
        assert_int_equal(journal_writer_flush(w, DEADLINE_USEC), 0);
        for (unsigned i = 0; i < 3; i++) {
                ssize_t n = receive(f, buf, sizeof(buf));
                assert_int_equal(received_number(buf, n), i);
        }
}

static void waited_again(int sig) {
        static const char msg[] = "journal_writer_send() waited again for a stuck journald after giving up once\n";

        (void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
        _exit(EXIT_FAILURE);
}

static void test_blocking_mode(void **state) {
        Fixture *f = *state;
        _cleanup_(journal_writer_freep) JournalWriter *w = NULL;
        uint64_t written;
        char buf[256];
        unsigned i;
        int r;

        /* No event loop (replay): wait for journald, bounded, instead of queueing. */
        assert_int_equal(journal_writer_new(f->path, NULL, &f->stats, &w), 0);
        journal_writer_set_limits(w, 0, 0, 200000);

        for (i = 0; (r = send_numbered(w, i)) == 0; i++)
                assert_true(i < 10000);
        written = f->stats.entries_written;
        assert_int_equal(written, i);
        assert_int_equal(r, -ENOBUFS);
        assert_int_equal(f->stats.entries_dropped, 1);
        assert_int_equal(journal_writer_queued(w), 0);

        /* Having timed out once, it does not wait again while journald is
         * stuck. Not timed against a budget: the wait allowed is made an
         * hour long, so a writer that waited would never get here, and the
         * alarm (a minute, far from both) reports it instead of hanging. */
        journal_writer_set_limits(w, 0, 0, 3600 * USEC_PER_SEC);
        assert_int_equal(signal(SIGALRM, waited_again) == SIG_ERR, false);
        alarm(60);
        assert_int_equal(send_numbered(w, 9999), -ENOBUFS);
        alarm(0);
        assert_int_equal(f->stats.entries_dropped, 2);

        /* journald reads: sending works again. */
        assert_true(receive(f, buf, sizeof(buf)) > 0);
        assert_int_equal(send_numbered(w, 10000), 0);
        assert_int_equal(f->stats.entries_written, written + 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_exact_bytes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_formatted_entry, setup, teardown),
                cmocka_unit_test_setup_teardown(test_new_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_invalid_names, setup, teardown),
                cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_queue_byte_bound, setup, teardown),
                cmocka_unit_test_setup_teardown(test_memfd, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reconnect, setup, teardown),
                cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
                cmocka_unit_test_setup_teardown(test_blocking_mode, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
