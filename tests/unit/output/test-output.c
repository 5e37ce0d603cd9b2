/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The Output front end: kinds, "none", and one exchange through each real sink. */

#define _GNU_SOURCE 1   /* pipe2() */

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "output/journal-writer.h"
#include "output/output.h"

static ConnInfo conn = {
        .id = 3, .tgid = 812, .role = CONN_ROLE_SERVER, .family = AF_INET,
        .local_port = 80, .remote_port = 50432, .comm = "nginx",
        .local_addr = { 127, 0, 0, 1 }, .remote_addr = { 127, 0, 0, 1 },
};
static HttpMessage req = { .kind = HTTP_MESSAGE_REQUEST, .method = "GET", .target = "/missing", .version = 11 };
static HttpMessage resp = { .kind = HTTP_MESSAGE_RESPONSE, .status = 404, .version = 11, .body_bytes = 153 };
static const Exchange exchange = {
        .kind = EXCHANGE_COMPLETE, .conn = &conn, .request = &req, .response = &resp, .duration_ns = 250000,
};

static void test_kind_strings(void **state) {
        for (OutputKind k = 0; k < _OUTPUT_KIND_MAX; k++)
                assert_int_equal(output_kind_from_string(output_kind_to_string(k)), k);
        assert_string_equal(output_kind_to_string(OUTPUT_JOURNAL), "journal");
        assert_string_equal(output_kind_to_string(OUTPUT_JSON), "json");
        assert_string_equal(output_kind_to_string(OUTPUT_NONE), "none");
        assert_null(output_kind_to_string(_OUTPUT_KIND_MAX));
        assert_null(output_kind_to_string(_OUTPUT_KIND_INVALID));
        assert_int_equal(output_kind_from_string("JSON"), _OUTPUT_KIND_INVALID);
        assert_int_equal(output_kind_from_string(NULL), _OUTPUT_KIND_INVALID);
}

static void test_none(void **state) {
        _cleanup_(output_freep) Output *o = NULL;
        Stats stats = {};

        OutputOptions none = output_options_single(OUTPUT_NONE), bad = { .sinks = 1u << 7 };

        assert_int_equal(output_new(&none, NULL, &stats, &o), 0);
        assert_int_equal(output_exchange(o, &exchange), 0);
        assert_int_equal(stats.entries_written, 1);
        assert_int_equal(output_queued(o), 0);
        assert_int_equal(output_flush(o, 0), 0);
        assert_int_equal(output_sinks(o, NULL), 0);
        o = output_free(o);
        assert_int_equal(output_new(&bad, NULL, &stats, &o), -EINVAL);
}

static void test_journal(void **state) {
        _cleanup_(output_freep) Output *o = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char dir[] = "/tmp/test-output-XXXXXX", buf[4096];
        OutputOptions journal_only = output_options_single(OUTPUT_JOURNAL);
        Stats stats = {};
        int fd;
        ssize_t n;

        assert_non_null(mkdtemp(dir));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/socket", dir);
        assert_int_equal(setenv(JOURNAL_SOCKET_ENV, sa.sun_path, 1), 0);
        assert_int_equal(sd_event_new(&event), 0);

        /* journald not running: -ENOENT, whether the socket is missing or stale. */
        assert_int_equal(output_new(&journal_only, event, &stats, &o), -ENOENT);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        safe_close(fd);
        assert_int_equal(output_new(&journal_only, event, &stats, &o), -ENOENT);
        unlink(sa.sun_path);

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(output_new(&journal_only, event, &stats, &o), 0);
        assert_int_equal(output_exchange(o, &exchange), 0);
        assert_int_equal(stats.entries_written, 1);
        n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = 0;
        assert_true(strncmp(buf, "MESSAGE=GET /missing \xe2\x86\x92 404 in 250 \xc2\xb5s (nginx[812] ", 40) == 0);
        assert_non_null(strstr(buf, "\nHTTP_STATUS=404\n"));
        assert_int_equal(output_flush(o, 0), 0);

        o = output_free(o);
        safe_close(fd);
        unlink(sa.sun_path);
        rmdir(dir);
        unsetenv(JOURNAL_SOCKET_ENV);
}

static void test_json_stdout(void **state) {
        _cleanup_(output_freep) Output *o = NULL;
        Stats stats = {};
        char buf[4096];
        int p[2], saved;
        ssize_t n;

        /* Stand a pipe in for stdout while the output is created and used. */
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        saved = dup(STDOUT_FILENO);
        assert_true(saved >= 0);
        assert_int_equal(dup2(p[1], STDOUT_FILENO), STDOUT_FILENO);

        OutputOptions json_only = output_options_single(OUTPUT_JSON);

        assert_int_equal(output_new(&json_only, NULL, &stats, &o), 0);
        assert_int_equal(output_exchange(o, &exchange), 0);
        assert_int_equal(output_flush(o, 0), 0);
        o = output_free(o);

        assert_int_equal(dup2(saved, STDOUT_FILENO), STDOUT_FILENO);
        safe_close(saved);
        safe_close(p[1]);
        n = read(p[0], buf, sizeof(buf) - 1);
        safe_close(p[0]);
        assert_true(n > 0);
        buf[n] = 0;
        assert_true(strncmp(buf, "{\"MESSAGE\":\"GET /missing", 24) == 0);
        assert_non_null(strstr(buf, ",\"HTTP_STATUS\":404,"));
        assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
        assert_int_equal(stats.entries_written, 1);
}

/* One line of a file, without its newline, or NULL. */
static char *read_file(const char *path) {
        static char buf[65536];
        FILE *f = fopen(path, "re");
        size_t n;

        if (!f)
                return NULL;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        return buf;
}

static int bind_dgram(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        return fd;
}

/*
 * Three sinks at once: every one gets the same exchange from the one
 * formatting (the target, as redacted upstream, is identical everywhere);
 * counters per sink, sums in Stats; a JSON file reopened after a rename.
 */
static void test_fanout(void **state) {
        _cleanup_(output_freep) Output *o = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        char dir[] = "/tmp/test-output-XXXXXX", journal[128], syslog_path[128], json[128], rotated[128], buf[9000];
        const OutputSinkStats *sinks;
        OutputOptions opts = {
                .sinks = OUTPUT_SINK(OUTPUT_JOURNAL) | OUTPUT_SINK(OUTPUT_JSON) | OUTPUT_SINK(OUTPUT_SYSLOG),
                .syslog = { .format = SYSLOG_FORMAT_RFC5424, .facility = 16, .severity = SYSLOG_SEVERITY_ENTRY,
                            .message_max = 4096, .queue_max = SYSLOG_QUEUE_MIN },
        };
        Stats stats = {};
        int jfd, sfd;
        ssize_t n;
        char *text;

        assert_non_null(mkdtemp(dir));
        snprintf(journal, sizeof(journal), "%s/journal", dir);
        snprintf(syslog_path, sizeof(syslog_path), "%s/syslog", dir);
        snprintf(json, sizeof(json), "%s/entries.json", dir);
        snprintf(rotated, sizeof(rotated), "%s/entries.json.1", dir);
        assert_int_equal(setenv(JOURNAL_SOCKET_ENV, journal, 1), 0);
        jfd = bind_dgram(journal);
        sfd = bind_dgram(syslog_path);
        opts.json_path = json;
        assert_int_equal(syslog_target_parse(syslog_path, &opts.syslog.target, NULL), 0);
        assert_int_equal(sd_event_new(&event), 0);

        assert_int_equal(output_new(&opts, event, &stats, &o), 0);
        assert_string_equal(output_describe(o, buf, sizeof(buf)), "journal+json+syslog");
        assert_int_equal(output_exchange(o, &exchange), 0);

        n = recv(jfd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = 0;
        assert_non_null(strstr(buf, "\nHTTP_TARGET=/missing\n"));
        n = recv(sfd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = 0;
        assert_true(strncmp(buf, "<133>1 ", 7) == 0);   /* local0, notice (a 404) */
        assert_non_null(strstr(buf, " target=\"/missing\" "));
        text = read_file(json);
        assert_non_null(text);
        assert_non_null(strstr(text, "\"HTTP_TARGET\":\"/missing\""));

        assert_int_equal(output_sinks(o, &sinks), 3);
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(sinks[i].written, 1);
                assert_int_equal(sinks[i].dropped, 0);
                assert_int_equal(sinks[i].queued, 0);
        }
        assert_string_equal(sinks[0].name, "journal");
        assert_string_equal(sinks[0].target, journal);
        assert_string_equal(sinks[1].name, "json");
        assert_string_equal(sinks[1].target, json);
        assert_string_equal(sinks[2].name, "syslog");
        assert_true(strncmp(sinks[2].target, "unix:/tmp/", 10) == 0);
        assert_int_equal(stats.entries_written, 3);

        /* logrotate: rename, then SIGUSR1 → output_reopen(): new lines go to a new file. */
        assert_int_equal(rename(json, rotated), 0);
        assert_int_equal(output_reopen(o), 0);
        assert_int_equal(output_exchange(o, &exchange), 0);
        assert_int_equal(output_exchange(o, &exchange), 0);
        text = read_file(rotated);
        assert_int_equal(strchr(text, '\n') - text + 1, (long) strlen(text));   /* one line */
        text = read_file(json);
        assert_non_null(text);
        assert_int_equal(strlen(text) > 0, 1);
        assert_non_null(strchr(strchr(text, '\n') + 1, '\n'));   /* two lines */

        /* The syslog receiver goes away: only that sink queues; the others carry on. */
        safe_close(sfd);
        unlink(syslog_path);
        assert_int_equal(output_exchange(o, &exchange), 0);
        assert_int_equal(output_sinks(o, &sinks), 3);
        assert_int_equal(sinks[0].written, 4);
        assert_int_equal(sinks[1].written, 4);
        assert_int_equal(sinks[2].written, 3);
        assert_int_equal(sinks[2].queued, 1);
        assert_int_equal(sinks[2].errors, 1);
        assert_int_equal(stats.entries_queued, 1);
        /* At exit what is still queued is dropped and counted, in that sink only. */
        assert_int_equal(output_flush(o, 0), -ETIMEDOUT);
        assert_int_equal(output_sinks(o, &sinks), 3);
        assert_int_equal(sinks[2].dropped, 1);
        assert_int_equal(sinks[0].dropped + sinks[1].dropped, 0);
        assert_int_equal(stats.entries_dropped, 1);
        assert_int_equal(stats.entries_written, 4 + 4 + 3);

        o = output_free(o);
        safe_close(jfd);
        unlink(journal);
        unlink(json);
        unlink(rotated);
        rmdir(dir);
        unsetenv(JOURNAL_SOCKET_ENV);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kind_strings),
                cmocka_unit_test(test_none),
                cmocka_unit_test(test_journal),
                cmocka_unit_test(test_json_stdout),
                cmocka_unit_test(test_fanout),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
