/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * RFC 5424 / RFC 3164 formatting: header, structured data and MSG of a real
 * formatted exchange; hostile values (']', '"', '\', newlines, non-UTF-8,
 * 64 KiB) checked by an independent RFC 5424 reader (tests/syslog-check.h);
 * size bounds; octet-counting frames; the settings' parsers.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "../../syslog-check.h"
#include "basic/macro.h"
#include "output/fields.h"
#include "output/syslog-format.h"

/* 2009-02-13T23:31:30.123456Z */
#define T0 UINT64_C(1234567890123456)

static SyslogChecked checked;
static char buf[SYSLOG_MESSAGE_MAX];

static FormatField str(const char *name, const char *value) {
        return (FormatField) { .name = name, .value = value, .len = strlen(value), .type = FORMAT_STRING };
}

static SyslogFormatOptions opts5424(void) {
        return (SyslogFormatOptions) {
                .format = SYSLOG_FORMAT_RFC5424, .facility = 3, .severity = SYSLOG_SEVERITY_ENTRY,
                .hostname = "web1", .procid = 4242, .message_max = 8192,
        };
}

static const char *format(const SyslogFormatOptions *o, const FormatField *f, size_t n, bool *truncated) {
        ssize_t k = syslog_format_message(buf, sizeof(buf) - 1, o, T0, f, n, truncated);

        assert_true(k > 0);
        assert_true((size_t) k <= o->message_max);
        buf[k] = 0;
        return buf;
}

static void test_exchange(void **state) {
        static FormatEntry e;
        ConnInfo conn = {
                .id = 3, .tgid = 812, .role = CONN_ROLE_SERVER, .family = AF_INET,
                .local_port = 80, .remote_port = 50432, .comm = "nginx",
                .local_addr = { 127, 0, 0, 1 }, .remote_addr = { 10, 0, 0, 7 },
        };
        HttpMessage req = { .kind = HTTP_MESSAGE_REQUEST, .method = "GET", .target = "/a?b=1", .version = 11 };
        HttpMessage resp = { .kind = HTTP_MESSAGE_RESPONSE, .status = 503, .version = 11, .body_bytes = 19 };
        Exchange x = { .kind = EXCHANGE_COMPLETE, .conn = &conn, .request = &req, .response = &resp,
                       .duration_ns = 1500000 };
        SyslogFormatOptions o = opts5424();
        bool truncated = true;
        const char *m;

        assert_int_equal(format_exchange(&e, &x, NULL, NULL), 0);
        m = format(&o, e.fields, e.n_fields, &truncated);
        assert_false(truncated);
        /* daemon (3) * 8 + warning (4, the entry's PRIORITY for a 5xx) */
        assert_true(strncmp(m, "<28>1 2009-02-13T23:31:30.123456Z web1 http-tracer 4242 exchange [http@32473 ", 76) == 0);
        assert_true(syslog_check_rfc5424(m, strlen(m), &checked));
        assert_int_equal(checked.pri, 28);
        assert_string_equal(checked.msgid, "exchange");
        assert_string_equal(checked.sd_id, SYSLOG_SD_ID);
        assert_string_equal(syslog_check_param(&checked, "method"), "GET");
        assert_string_equal(syslog_check_param(&checked, "target"), "/a?b=1");
        assert_string_equal(syslog_check_param(&checked, "path"), "/a");
        assert_string_equal(syslog_check_param(&checked, "status"), "503");
        assert_string_equal(syslog_check_param(&checked, "duration_usec"), "1500");
        assert_string_equal(syslog_check_param(&checked, "client_addr"), "10.0.0.7");
        assert_string_equal(syslog_check_param(&checked, "server_port"), "80");
        assert_string_equal(syslog_check_param(&checked, "pid"), "812");
        assert_string_equal(syslog_check_param(&checked, "message_id"), FORMAT_MESSAGE_ID_COMPLETE);
        assert_null(syslog_check_param(&checked, "message"));
        assert_null(syslog_check_param(&checked, "priority"));
        assert_null(syslog_check_param(&checked, "syslog_identifier"));
        /* Every other field is a parameter, with the journal's value. */
        assert_int_equal(checked.n_params, e.n_fields - 3);
        assert_int_equal(checked.msg_len, strlen(format_entry_get(&e, "MESSAGE")));
        assert_memory_equal(checked.msg, format_entry_get(&e, "MESSAGE"), checked.msg_len);

        /* Fixed severity, local7, no hostname or pid: NILVALUEs. */
        o.severity = 6, o.facility = 23, o.hostname = NULL, o.procid = 0;
        m = format(&o, e.fields, e.n_fields, NULL);
        assert_true(strncmp(m, "<190>1 2009-02-13T23:31:30.123456Z - http-tracer - exchange [", 61) == 0);
        /* A hostname that is not PRINTUSASCII is not sent broken. */
        o.hostname = "bad host";
        m = format(&o, e.fields, e.n_fields, NULL);
        assert_true(strncmp(m, "<190>1 2009-02-13T23:31:30.123456Z - http-tracer", 48) == 0);
}

static void test_msgid_per_kind(void **state) {
        static const struct { const char *id, *msgid; } kinds[] = {
                { FORMAT_MESSAGE_ID_COMPLETE, "exchange" },
                { FORMAT_MESSAGE_ID_NO_RESPONSE, "no-response" },
                { FORMAT_MESSAGE_ID_UNCORRELATED, "uncorrelated" },
                { FORMAT_MESSAGE_ID_PARSE_ERROR, "parse-error" },
                { "0123456789abcdef0123456789abcdef", "-" },
        };
        SyslogFormatOptions o = opts5424();

        for (size_t i = 0; i < ELEMENTSOF(kinds); i++) {
                FormatField f[] = { str("MESSAGE", "m"), str("MESSAGE_ID", kinds[i].id) };
                const char *m = format(&o, f, ELEMENTSOF(f), NULL);

                assert_true(syslog_check_rfc5424(m, strlen(m), &checked));
                assert_string_equal(checked.msgid, kinds[i].msgid);
        }
}

static void test_hostile_values(void **state) {
        FormatField f[] = {
                str("MESSAGE", "line1\nline2 ] \" \\ end"),
                str("HTTP_TARGET", "/x] [other@1 a=\"b\"]\\\"\n\r\t\x7f"),
                str("HTTP_HOST", "caf\xc3\xa9 \xff\xfe \xc0\xaf \xed\xa0\x80"),
                str("HTTP_USER_AGENT", "\\x41 is text"),
        };
        SyslogFormatOptions o = opts5424();
        bool truncated = true;
        const char *m = format(&o, f, ELEMENTSOF(f), &truncated);

        assert_false(truncated);
        assert_null(strchr(m, '\n'));
        assert_null(strchr(m, '\r'));
        assert_true(syslog_check_rfc5424(m, strlen(m), &checked));
        assert_int_equal(checked.n_params, 3);
        /* Unescaped by an RFC 5424 reader: the special characters are back,
         * control characters and bad bytes are the text \xNN. */
        assert_string_equal(syslog_check_param(&checked, "target"), "/x] [other@1 a=\"b\"]\\\"\\x0a\\x0d\\x09\\x7f");
        assert_string_equal(syslog_check_param(&checked, "host"),
                            "caf\xc3\xa9 \\xff\\xfe \\xc0\\xaf \\xed\\xa0\\x80");
        assert_string_equal(syslog_check_param(&checked, "user_agent"), "\\x41 is text");
        assert_int_equal(checked.msg_len, strlen("line1\\x0aline2 ] \" \\ end"));
        assert_memory_equal(checked.msg, "line1\\x0aline2 ] \" \\ end", checked.msg_len);
        /* On the wire: exactly the three escapes RFC 5424 defines, and the backslash of \xNN. */
        assert_non_null(strstr(m, "target=\"/x\\] [other@1 a=\\\"b\\\"\\]\\\\\\\"\\\\x0a"));
}

static void test_big_values(void **state) {
        static char big[64 * 1024 + 1];
        SyslogFormatOptions o = opts5424();
        FormatField f[4];
        bool truncated = false;
        const char *m;

        /* 64 KiB of ']' (each doubles when escaped) and of a 3-byte character. */
        memset(big, ']', sizeof(big) - 1);
        f[0] = str("MESSAGE", big);
        f[1] = str("HTTP_TARGET", big);
        f[2] = str("HTTP_STATUS", "200");
        f[3] = str("HTTP_METHOD", "GET");

        for (size_t max = SYSLOG_MESSAGE_MIN; max <= SYSLOG_MESSAGE_MAX; max *= 2) {
                o.message_max = max;
                m = format(&o, f, ELEMENTSOF(f), &truncated);
                assert_true(truncated);
                assert_true(strlen(m) <= max);
                assert_true(syslog_check_rfc5424(m, strlen(m), &checked));
                /* Short values survive whole; the long ones end in "…" and are all ']'. */
                assert_string_equal(syslog_check_param(&checked, "status"), "200");
                assert_string_equal(syslog_check_param(&checked, "method"), "GET");
                const char *t = syslog_check_param(&checked, "target");
                assert_non_null(t);
                assert_true(strlen(t) > 8);
                assert_string_equal(t + strlen(t) - 3, "\xe2\x80\xa6");
                assert_int_equal(strspn(t, "]"), strlen(t) - 3);
        }

        /* Multi-byte characters are never cut in the middle. */
        for (size_t i = 0; i + 3 <= sizeof(big) - 1; i += 3)
                memcpy(big + i, "\xe2\x86\x92", 3);
        big[(sizeof(big) - 1) / 3 * 3] = 0;
        f[1] = str("HTTP_TARGET", big);
        o.message_max = SYSLOG_MESSAGE_MIN;
        m = format(&o, f, ELEMENTSOF(f), &truncated);
        assert_true(syslog_check_rfc5424(m, strlen(m), &checked));

        /* Many fields that cannot all fit 2 KiB: some are left out, the message stays valid. */
        static char names[40][40];
        FormatField many[40];
        memset(big, 'v', 200);
        big[200] = 0;
        for (size_t i = 0; i < ELEMENTSOF(many); i++) {
                snprintf(names[i], sizeof(names[i]), "HTTP_REQUEST_HEADER_X_%02zu", i);
                many[i] = str(names[i], big);
        }
        m = format(&o, many, ELEMENTSOF(many), &truncated);
        assert_true(truncated);
        assert_true(syslog_check_rfc5424(m, strlen(m), &checked));
        assert_true(checked.n_params > 10);
        assert_true(checked.n_params < ELEMENTSOF(many));
}

static void test_sd_names(void **state) {
        FormatField f[] = {
                str("PROCESS_PID", "1"),
                str("HTTP_REQUEST_HEADER_X_VERY_LONG_HEADER_NAME_BEYOND_32", "dropped"),
                str("HTTP_REQUEST_HEADER_X_API_KEY", "k"),
                str("TRACE_ID", "t"),
                str("HTTP_", "x"),
                str("lower-case", "dropped"),
        };
        SyslogFormatOptions o = opts5424();
        const char *m = format(&o, f, ELEMENTSOF(f), NULL);

        assert_true(syslog_check_rfc5424(m, strlen(m), &checked));
        assert_int_equal(checked.n_params, 4);
        assert_string_equal(syslog_check_param(&checked, "pid"), "1");
        assert_string_equal(syslog_check_param(&checked, "request_header_x_api_key"), "k");
        assert_string_equal(syslog_check_param(&checked, "trace_id"), "t");
        assert_string_equal(syslog_check_param(&checked, "http_"), "x");
        /* No fields at all: an empty element, still valid. */
        m = format(&o, NULL, 0, NULL);
        assert_string_equal(m, "<30>1 2009-02-13T23:31:30.123456Z web1 http-tracer 4242 - [http@32473]");
        assert_true(syslog_check_rfc5424(m, strlen(m), &checked));
}

static void test_rfc3164(void **state) {
        FormatField f[] = {
                str("MESSAGE", "GET / \xe2\x86\x92 200\n[x] \xff"),
                str("PRIORITY", "5"),
                str("HTTP_STATUS", "200"),
        };
        SyslogFormatOptions o = opts5424();
        const char *m;

        o.format = SYSLOG_FORMAT_RFC3164;
        m = format(&o, f, ELEMENTSOF(f), NULL);
        assert_string_equal(m, "<29>Feb 13 23:31:30 web1 http-tracer[4242]: GET / \xe2\x86\x92 200\\x0a[x] \\xff");
        /* Local sockets: no hostname, like glibc's syslog(). Day padded with a space. */
        o.hostname = NULL;
        assert_int_equal(syslog_format_message(buf, sizeof(buf), &o, UINT64_C(1233446400) * USEC_PER_SEC, f,
                                               ELEMENTSOF(f), NULL) > 0, 1);
        assert_true(strncmp(buf, "<29>Feb  1 00:00:00 http-tracer[4242]: GET", 42) == 0);
}

static void test_bad_options(void **state) {
        SyslogFormatOptions o = opts5424();
        FormatField f = str("MESSAGE", "m");

        assert_int_equal(syslog_format_message(buf, 100, &o, T0, &f, 1, NULL), -ENOBUFS);
        o.message_max = SYSLOG_MESSAGE_MIN - 1;
        assert_int_equal(syslog_format_message(buf, sizeof(buf), &o, T0, &f, 1, NULL), -EINVAL);
        o = opts5424();
        o.facility = 24;
        assert_int_equal(syslog_format_message(buf, sizeof(buf), &o, T0, &f, 1, NULL), -EINVAL);
        o = opts5424();
        o.severity = 8;
        assert_int_equal(syslog_format_message(buf, sizeof(buf), &o, T0, &f, 1, NULL), -EINVAL);
        o = opts5424();
        o.format = SYSLOG_FORMAT_AUTO;
        assert_int_equal(syslog_format_message(buf, sizeof(buf), &o, T0, &f, 1, NULL), -EINVAL);
}

static void test_frames(void **state) {
        char p[SYSLOG_FRAME_PREFIX_MAX];
        size_t len;

        assert_int_equal(syslog_frame_prefix(p, 1), 2);
        assert_memory_equal(p, "1 ", 2);
        assert_int_equal(syslog_frame_prefix(p, SYSLOG_MESSAGE_MAX), 6);
        assert_memory_equal(p, "61440 ", 6);

        assert_int_equal(syslog_frame_parse("12 <13>1 - - - - -", 18, &len), 0);
        assert_int_equal(len, 15);
        assert_int_equal(syslog_frame_parse("123", 3, &len), -EAGAIN);
        assert_int_equal(syslog_frame_parse("", 0, &len), -EAGAIN);
        assert_int_equal(syslog_frame_parse(" 1", 2, &len), -EBADMSG);
        assert_int_equal(syslog_frame_parse("0 ", 2, &len), -EBADMSG);
        assert_int_equal(syslog_frame_parse("1x ", 3, &len), -EBADMSG);
        assert_int_equal(syslog_frame_parse("123456789 ", 10, &len), -EBADMSG);

        /* A stream of frames splits back into exactly the messages. */
        char stream[256];
        size_t n = 0, off = 0, count = 0;
        const char *msgs[] = { "<13>1 - - - - - a", "<13>1 - - - - - bb ] \"", "x" };
        for (size_t i = 0; i < ELEMENTSOF(msgs); i++) {
                n += syslog_frame_prefix(stream + n, strlen(msgs[i]));
                memcpy(stream + n, msgs[i], strlen(msgs[i]));
                n += strlen(msgs[i]);
        }
        while (off < n) {
                assert_int_equal(syslog_frame_parse(stream + off, n - off, &len), 0);
                assert_true(off + len <= n);
                assert_memory_equal(stream + off + len - strlen(msgs[count]), msgs[count], strlen(msgs[count]));
                off += len;
                count++;
        }
        assert_int_equal(count, ELEMENTSOF(msgs));
}

static void test_settings(void **state) {
        SyslogTarget t;
        const char *why = NULL;

        assert_int_equal(syslog_facility_from_string("daemon"), 3);
        assert_int_equal(syslog_facility_from_string("LOCAL7"), 23);
        assert_int_equal(syslog_facility_from_string("16"), 16);
        assert_int_equal(syslog_facility_from_string("24"), -EINVAL);
        assert_int_equal(syslog_facility_from_string("loc"), -EINVAL);
        assert_int_equal(syslog_facility_from_string(""), -EINVAL);
        assert_string_equal(syslog_facility_to_string(16), "local0");
        assert_null(syslog_facility_to_string(24));

        assert_int_equal(syslog_severity_from_string("entry"), SYSLOG_SEVERITY_ENTRY);
        assert_int_equal(syslog_severity_from_string("warning"), 4);
        assert_int_equal(syslog_severity_from_string("7"), 7);
        assert_int_equal(syslog_severity_from_string("8"), -EINVAL);

        for (SyslogFormat f = 0; f < _SYSLOG_FORMAT_MAX; f++)
                assert_int_equal(syslog_format_from_string(syslog_format_to_string(f)), f);
        assert_int_equal(syslog_format_from_string("RFC5424"), _SYSLOG_FORMAT_INVALID);

        assert_int_equal(syslog_target_parse("/dev/log", &t, &why), 0);
        assert_int_equal(t.transport, SYSLOG_TRANSPORT_UNIX);
        assert_string_equal(t.path, "/dev/log");
        assert_int_equal(syslog_target_parse("unix:/run/x.sock", &t, &why), 0);
        assert_string_equal(t.path, "/run/x.sock");
        assert_int_equal(syslog_target_parse("udp://127.0.0.1", &t, &why), 0);
        assert_int_equal(t.transport, SYSLOG_TRANSPORT_UDP);
        assert_string_equal(t.host, "127.0.0.1");
        assert_int_equal(t.port, 514);
        assert_int_equal(syslog_target_parse("tcp://[::1]:6514", &t, &why), 0);
        assert_int_equal(t.transport, SYSLOG_TRANSPORT_TCP);
        assert_string_equal(t.host, "::1");
        assert_int_equal(t.port, 6514);
        assert_int_equal(syslog_target_parse("tcp://logs.example.com:10514", &t, &why), 0);
        assert_string_equal(t.host, "logs.example.com");

        static const char *const bad[] = {
                "", "dev/log", "udp://", "udp://:514", "udp://h:0", "udp://h:65536", "udp://h:x", "tcp://::1:514",
                "tcp://[::1", "tcp://[::1]x", "tcp://a b", "http://h", "unix:relative",
                "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                why = NULL;
                assert_int_equal(syslog_target_parse(bad[i], &t, &why), -EINVAL);
                assert_non_null(why);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exchange),
                cmocka_unit_test(test_msgid_per_kind),
                cmocka_unit_test(test_hostile_values),
                cmocka_unit_test(test_big_values),
                cmocka_unit_test(test_sd_names),
                cmocka_unit_test(test_rfc3164),
                cmocka_unit_test(test_bad_options),
                cmocka_unit_test(test_frames),
                cmocka_unit_test(test_settings),
        };

        /* RFC 3164 stamps local time: make it deterministic. */
        setenv("TZ", "UTC", 1);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
