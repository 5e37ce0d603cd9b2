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

#include "journal-writer.h"
#include "macro.h"
#include "output.h"

static ConnInfo conn = {
        .id = 3, .tgid = 812, .role = HT_ROLE_SERVER, .family = AF_INET,
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

        assert_int_equal(output_new(OUTPUT_NONE, NULL, &stats, &o), 0);
        assert_int_equal(output_exchange(o, &exchange), 0);
        assert_int_equal(stats.entries_written, 1);
        assert_int_equal(output_queued(o), 0);
        assert_int_equal(output_flush(o, 0), 0);
        assert_int_equal(output_new(_OUTPUT_KIND_MAX, NULL, &stats, &o), -EINVAL);
}

static void test_journal(void **state) {
        _cleanup_(output_freep) Output *o = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char dir[] = "/tmp/test-output-XXXXXX", buf[4096];
        Stats stats = {};
        int fd;
        ssize_t n;

        assert_non_null(mkdtemp(dir));
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/socket", dir);
        assert_int_equal(setenv(JOURNAL_SOCKET_ENV, sa.sun_path, 1), 0);
        assert_int_equal(sd_event_new(&event), 0);

        /* journald not running: -ENOENT, whether the socket is missing or stale. */
        assert_int_equal(output_new(OUTPUT_JOURNAL, event, &stats, &o), -ENOENT);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        safe_close(fd);
        assert_int_equal(output_new(OUTPUT_JOURNAL, event, &stats, &o), -ENOENT);
        unlink(sa.sun_path);

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(output_new(OUTPUT_JOURNAL, event, &stats, &o), 0);
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

        assert_int_equal(output_new(OUTPUT_JSON, NULL, &stats, &o), 0);
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kind_strings),
                cmocka_unit_test(test_none),
                cmocka_unit_test(test_journal),
                cmocka_unit_test(test_json_stdout),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
