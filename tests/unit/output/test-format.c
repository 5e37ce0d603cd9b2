/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal entry contract: every field for each kind of exchange, the
 * address and role rules, and what hostile values turn into.
 */

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "config/configuration.h"
#include "output/daemon-entries.h"
#include "output/excerpt.h"
#include "output/fields.h"
#include "basic/macro.h"
#include "read-source.h"
#include "select/redact.h"

/* ---- the documented MESSAGE_IDs ------------------------------------------ */

/*
 * The MESSAGE_ID that docs/journal-fields.md gives the kind whose table cell
 * starts with @kind (a row "| `<32 hex>` | <kind>..."). The ids are a public
 * contract, so entries are held to the doc, never to the code's own
 * FORMAT_MESSAGE_ID_* constants: a test comparing the code with itself
 * cannot see the code change a published id.
 */
static const char *doc_message_id(const char *kind) {
        static char ids[16][33];
        static unsigned n_ids;
        _cleanup_(freep) char *doc = read_source("docs/journal-fields.md");
        const char *found = NULL;

        for (const char *line = doc; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                const char *id = line + 3;

                if (strncmp(line, "| `", 3) != 0 || strspn(id, "0123456789abcdef") != 32 ||
                    strncmp(id + 32, "` | ", 4) != 0 || strncmp(id + 36, kind, strlen(kind)) != 0)
                        continue;
                if (found)
                        fail_msg("docs/journal-fields.md has two MESSAGE_ID rows for '%s'", kind);
                found = id;
        }
        if (!found)
                fail_msg("docs/journal-fields.md documents no MESSAGE_ID for '%s'", kind);
        assert_true(n_ids < ELEMENTSOF(ids));
        memcpy(ids[n_ids], found, 32);
        ids[n_ids][32] = 0;
        return ids[n_ids++];
}

#define DOC_ID_COMPLETE      doc_message_id("complete exchange")
#define DOC_ID_NO_RESPONSE   doc_message_id("no response")
#define DOC_ID_UNCORRELATED  doc_message_id("uncorrelated response")
#define DOC_ID_PARSE_ERROR   doc_message_id("parse error")
#define DOC_ID_STATISTICS    doc_message_id("periodic statistics")
#define DOC_ID_DROPS         doc_message_id("records or entries were dropped")
#define DOC_ID_RATE_LIMITED  doc_message_id("exchanges the rate limit refused")

/* ---- fixtures ------------------------------------------------------------ */

typedef struct Fixture {
        ConnInfo conn;
        HttpHeaderField req_headers[32];
        HttpHeaderField resp_headers[8];
        HttpMessage req;
        HttpMessage resp;
        Exchange x;
        Stats stats;
        FormatOptions *opts;          /* NULL: the defaults */
        Redactor *redactor;           /* opts borrows it */
        FormatEntry e;
} Fixture;

static void set_v4(uint8_t a[16], const char *s) {
        memset(a, 0, 16);
        assert_int_equal(inet_pton(AF_INET, s, a), 1);
}

static void set_v6(uint8_t a[16], const char *s) {
        assert_int_equal(inet_pton(AF_INET6, s, a), 1);
}

static void add_header(Fixture *f, const char *name, const char *value) {
        assert_true(f->req.n_headers < ELEMENTSOF(f->req_headers));
        f->req_headers[f->req.n_headers++] = (HttpHeaderField) {
                .name = name, .value = value, .name_len = strlen(name), .value_len = strlen(value),
        };
}

static void add_resp_header(Fixture *f, const char *name, const char *value) {
        assert_true(f->resp.n_headers < ELEMENTSOF(f->resp_headers));
        f->resp_headers[f->resp.n_headers++] = (HttpHeaderField) {
                .name = name, .value = value, .name_len = strlen(name), .value_len = strlen(value),
        };
}

/* Options from the built-in defaults plus "section.key=value" assignments, as the daemon builds them. */
static void use_config(Fixture *f, const char *const *assignments) {
        _cleanup_(config_freep) Config *c = NULL;
        Diagnostics d = {};

        assert_int_equal(config_new_defaults(&c), 0);
        for (const char *const *a = assignments; a && *a; a++)
                if (config_apply_assignment(c, *a, "test", &d) < 0) {
                        for (size_t i = 0; i < d.n; i++)
                                print_error("%s\n", d.items[i].message);
                        fail_msg("assignment %s refused", *a);
                }
        diagnostics_done(&d);
        format_options_free(f->opts);
        f->opts = NULL;
        f->redactor = redactor_free(f->redactor);
        assert_int_equal(redactor_new_from_config(c, &f->redactor), 0);
        assert_int_equal(format_options_new_from_config(c, f->redactor, &f->opts), 0);
}

/* nginx[812] serving 127.0.0.1:80 to 127.0.0.1:50432: GET /index.html?x=1 → 200 in 1.2 ms. */
static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(Fixture));

        assert_non_null(f);
        f->conn = (ConnInfo) {
                .id = 42, .tgid = 812, .fd = 7,
                .role = CONN_ROLE_SERVER, .protocol = CONN_PROTOCOL_HTTP1,
                .family = AF_INET, .local_port = 80, .remote_port = 50432,
        };
        set_v4(f->conn.local_addr, "127.0.0.1");
        set_v4(f->conn.remote_addr, "127.0.0.1");
        strcpy(f->conn.comm, "nginx");
        strcpy(f->conn.exe, "/usr/sbin/nginx");

        f->req = (HttpMessage) {
                .kind = HTTP_MESSAGE_REQUEST, .method = strdup("GET"), .target = strdup("/index.html?x=1#frag"),
                .version = 11, .headers = f->req_headers,
        };
        add_header(f, "Host", "example.com");
        add_header(f, "User-Agent", "curl/7.88.1");
        f->resp = (HttpMessage) {
                .kind = HTTP_MESSAGE_RESPONSE, .version = 11, .status = 200, .reason = strdup("OK"),
                .body_bytes = 612, .headers = f->resp_headers,
        };
        f->x = (Exchange) {
                .kind = EXCHANGE_COMPLETE, .conn = &f->conn, .request = &f->req, .response = &f->resp,
                .duration_ns = 1234567,
        };
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        format_options_free(f->opts);
        redactor_free(f->redactor);
        free(f->req.method);
        free(f->req.target);
        free(f->resp.reason);
        free(f);
        return 0;
}

static void set_target(Fixture *f, const char *t) {
        free(f->req.target);
        f->req.target = strdup(t);
}

static const char *get(Fixture *f, const char *name) {
        return format_entry_get(&f->e, name);
}

static void format_ok(Fixture *f) {
        assert_int_equal(format_exchange(&f->e, &f->x, f->opts, &f->stats), 0);
}

/* Every value: valid UTF-8, printable, no newline; names as journald wants them. */
static void assert_entry_clean(const FormatEntry *e) {
        for (size_t i = 0; i < e->n_fields; i++) {
                const FormatField *fl = &e->fields[i];

                assert_int_equal(strlen(fl->value), fl->len);
                for (const char *n = fl->name; *n; n++)
                        assert_true((*n >= 'A' && *n <= 'Z') || (*n >= '0' && *n <= '9') || *n == '_');
                assert_true(fl->name[0] != '_');
                for (size_t j = 0; j < fl->len; j++) {
                        unsigned char c = fl->value[j];
                        assert_true(c >= 0x20 && c != 0x7f);
                }
                /* Each name once. */
                for (size_t j = 0; j < i; j++)
                        assert_string_not_equal(e->fields[j].name, fl->name);
                if (fl->type == FORMAT_NUMBER)
                        assert_int_equal(strspn(fl->value, "0123456789"), fl->len);
        }
}

/* ---- each kind ----------------------------------------------------------- */

static void test_complete(void **state) {
        Fixture *f = *state;

        format_ok(f);
        assert_entry_clean(&f->e);
        assert_string_equal(get(f, "MESSAGE"),
                            "GET /index.html?x=1#frag → 200 in 1.2 ms (nginx[812] 127.0.0.1:50432 → 127.0.0.1:80)");
        assert_string_equal(get(f, "MESSAGE_ID"), DOC_ID_COMPLETE);
        assert_string_equal(get(f, "PRIORITY"), "6");
        assert_string_equal(get(f, "SYSLOG_IDENTIFIER"), "http-tracer");
        assert_string_equal(get(f, "PROCESS_PID"), "812");
        /* the identity the kernel captured; never OBJECT_PID (journald would add OBJECT_CMDLINE) */
        assert_string_equal(get(f, "OBJECT_COMM"), "nginx");
        assert_string_equal(get(f, "OBJECT_EXE"), "/usr/sbin/nginx");
        assert_null(get(f, "OBJECT_PID"));
        assert_null(get(f, "OBJECT_SYSTEMD_UNIT"));    /* cgroup id 0: unknown */
        assert_string_equal(get(f, "HTTP_ROLE"), "server");
        assert_string_equal(get(f, "HTTP_METHOD"), "GET");
        assert_string_equal(get(f, "HTTP_TARGET"), "/index.html?x=1#frag");
        assert_string_equal(get(f, "HTTP_PATH"), "/index.html");
        assert_string_equal(get(f, "HTTP_VERSION"), "1.1");
        assert_string_equal(get(f, "HTTP_STATUS"), "200");
        assert_string_equal(get(f, "HTTP_HOST"), "example.com");
        assert_string_equal(get(f, "HTTP_USER_AGENT"), "curl/7.88.1");
        assert_null(get(f, "HTTP_REQUEST_BODY_BYTES"));
        assert_string_equal(get(f, "HTTP_RESPONSE_BODY_BYTES"), "612");
        assert_string_equal(get(f, "HTTP_DURATION_USEC"), "1234");
        assert_string_equal(get(f, "CLIENT_ADDR"), "127.0.0.1");
        assert_string_equal(get(f, "CLIENT_PORT"), "50432");
        assert_string_equal(get(f, "SERVER_ADDR"), "127.0.0.1");
        assert_string_equal(get(f, "SERVER_PORT"), "80");
        assert_string_equal(get(f, "HTTP_CONNECTION_ID"), "42");
        assert_null(get(f, "HTTP_STREAM_ID"));
        assert_null(get(f, "TRACE_ID"));
        assert_null(get(f, "SPAN_ID"));
        assert_null(get(f, "HTTP_FLAGS"));
        assert_null(get(f, "HTTP_NO_RESPONSE_REASON"));
        assert_null(get(f, "HTTP_PARSE_ERROR"));
        assert_int_equal(f->e.n_fields, 22);
        assert_int_equal(f->stats.fields_truncated, 0);
}

/* A protocol with streams names the exchange's stream; HTTP/1 (stream 0) never does. */
static void test_stream_id(void **state) {
        Fixture *f = *state;

        f->x.stream_id = 7;
        format_ok(f);
        assert_string_equal(get(f, "HTTP_STREAM_ID"), "7");
        assert_string_equal(get(f, "HTTP_CONNECTION_ID"), "42");
}

static void test_no_response(void **state) {
        Fixture *f = *state;

        f->x.kind = EXCHANGE_NO_RESPONSE;
        f->x.reason = EXCHANGE_END_CLOSED;
        f->req.body_bytes = 17;
        set_target(f, "/x");
        format_ok(f);
        assert_entry_clean(&f->e);
        assert_string_equal(get(f, "MESSAGE"), "GET /x → no response (closed) (nginx[812] 127.0.0.1:50432 → 127.0.0.1:80)");
        assert_string_equal(get(f, "MESSAGE_ID"), DOC_ID_NO_RESPONSE);
        assert_string_equal(get(f, "PRIORITY"), "5");
        assert_string_equal(get(f, "HTTP_NO_RESPONSE_REASON"), "closed");
        assert_string_equal(get(f, "HTTP_REQUEST_BODY_BYTES"), "17");
        assert_string_equal(get(f, "HTTP_VERSION"), "1.1");
        /* The response pointer is ignored for this kind even if set. */
        assert_null(get(f, "HTTP_STATUS"));
        assert_null(get(f, "HTTP_RESPONSE_BODY_BYTES"));
        assert_null(get(f, "HTTP_DURATION_USEC"));
}

static void test_uncorrelated(void **state) {
        Fixture *f = *state;

        f->x.kind = EXCHANGE_UNCORRELATED;
        f->x.request = NULL;
        f->resp.version = 10;
        format_ok(f);
        assert_entry_clean(&f->e);
        assert_string_equal(get(f, "MESSAGE"), "→ 200 (request not seen) (nginx[812] 127.0.0.1:50432 → 127.0.0.1:80)");
        assert_string_equal(get(f, "MESSAGE_ID"), DOC_ID_UNCORRELATED);
        assert_string_equal(get(f, "PRIORITY"), "6");
        assert_string_equal(get(f, "HTTP_STATUS"), "200");
        assert_string_equal(get(f, "HTTP_VERSION"), "1.0");
        assert_null(get(f, "HTTP_METHOD"));
        assert_null(get(f, "HTTP_TARGET"));
        assert_null(get(f, "HTTP_HOST"));
        assert_null(get(f, "HTTP_DURATION_USEC"));
}

/* Issue 15 #4, #5: a request past limits.pipeline_max (head not kept); a response head cut before its end. */
static void test_heads_not_kept(void **state) {
        Fixture *f = *state;

        f->req.method[0] = f->req.target[0] = '\0';
        f->req.n_headers = 0;
        f->req.flags = HTTP_MESSAGE_PIPELINE_OVERFLOW;
        format_ok(f);
        assert_entry_clean(&f->e);
        assert_string_equal(get(f, "MESSAGE"),
                            "(request not kept) → 200 in 1.2 ms (nginx[812] 127.0.0.1:50432 → 127.0.0.1:80)");
        assert_string_equal(get(f, "HTTP_FLAGS"), "pipeline-overflow");
        assert_null(get(f, "HTTP_METHOD"));
        assert_null(get(f, "HTTP_TARGET"));
        assert_null(get(f, "HTTP_PATH"));
        assert_string_equal(get(f, "HTTP_RESPONSE_BODY_BYTES"), "612");

        f->resp.flags = HTTP_MESSAGE_GAP | HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_HEAD_TRUNCATED | HTTP_MESSAGE_HEAD_CUT;
        format_ok(f);
        assert_string_equal(get(f, "HTTP_FLAGS"), "gap,truncated,head-truncated,pipeline-overflow");
        /* where the body starts is unknown: no size claimed */
        assert_null(get(f, "HTTP_RESPONSE_BODY_BYTES"));
        assert_string_equal(get(f, "HTTP_STATUS"), "200");
}

/* A request the parser rejected, paired with its answer: said so, with what was sane of its line. */
static void test_request_invalid(void **state) {
        Fixture *f = *state;

        f->req.n_headers = 0;
        f->req.version = 0;
        f->req.flags = HTTP_MESSAGE_REQUEST_INVALID | HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_HEAD_CUT;
        f->resp.status = 400;
        format_ok(f);
        assert_entry_clean(&f->e);
        assert_string_equal(get(f, "HTTP_FLAGS"), "truncated,request-invalid");
        assert_string_equal(get(f, "HTTP_METHOD"), "GET");
        assert_null(get(f, "HTTP_VERSION"));

        f->req.method[0] = f->req.target[0] = '\0';
        format_ok(f);
        assert_string_equal(get(f, "MESSAGE"),
                            "(invalid request) → 400 in 1.2 ms (nginx[812] 127.0.0.1:50432 → 127.0.0.1:80)");
        assert_null(get(f, "HTTP_METHOD"));
        assert_null(get(f, "HTTP_TARGET"));
}

static void test_parse_error(void **state) {
        Fixture *f = *state;
        static const uint8_t excerpt[] = "zz\r\nHTTP/1.1 200";

        f->x = (Exchange) {
                .kind = EXCHANGE_PARSE_ERROR, .conn = &f->conn,
                .error_direction = CONN_DIR_EGRESS, .error = "invalid chunk size", .error_offset = 1234,
                .excerpt = excerpt, .excerpt_len = sizeof(excerpt) - 1,
        };
        format_ok(f);
        assert_entry_clean(&f->e);
        assert_string_equal(get(f, "MESSAGE"),
                            "parse error in response stream: invalid chunk size at byte 1234 "
                            "(nginx[812] 127.0.0.1:50432 → 127.0.0.1:80)");
        assert_string_equal(get(f, "MESSAGE_ID"), DOC_ID_PARSE_ERROR);
        assert_string_equal(get(f, "PRIORITY"), "4");
        assert_string_equal(get(f, "HTTP_PARSE_ERROR"), "invalid chunk size");
        assert_string_equal(get(f, "HTTP_PARSE_ERROR_DIRECTION"), "response");
        assert_string_equal(get(f, "HTTP_PARSE_ERROR_OFFSET"), "1234");
        assert_string_equal(get(f, "HTTP_PARSE_ERROR_EXCERPT"), "zz\\x0d\\x0aHTTP/1.1 200");
        assert_null(get(f, "HTTP_STATUS"));
        assert_null(get(f, "HTTP_METHOD"));

        /* A client reads responses: ingress is the response stream there. */
        f->conn.role = CONN_ROLE_CLIENT;
        f->x.error_direction = CONN_DIR_INGRESS;
        format_ok(f);
        assert_string_equal(get(f, "HTTP_PARSE_ERROR_DIRECTION"), "response");
        f->x.error_direction = CONN_DIR_EGRESS;
        format_ok(f);
        assert_string_equal(get(f, "HTTP_PARSE_ERROR_DIRECTION"), "request");
}

static void test_invalid(void **state) {
        Fixture *f = *state;
        Exchange x = f->x;

        assert_int_equal(format_exchange(&f->e, NULL, NULL, NULL), -EINVAL);
        x.conn = NULL;
        assert_int_equal(format_exchange(&f->e, &x, NULL, NULL), -EINVAL);
        x = f->x;
        x.response = NULL;
        assert_int_equal(format_exchange(&f->e, &x, NULL, NULL), -EINVAL);
        x = f->x;
        x.kind = EXCHANGE_UNCORRELATED;
        x.response = NULL;
        assert_int_equal(format_exchange(&f->e, &x, NULL, NULL), -EINVAL);
        x.kind = _EXCHANGE_KIND_MAX;
        assert_int_equal(format_exchange(&f->e, &x, NULL, NULL), -EINVAL);
}

/* ---- priority, flags ----------------------------------------------------- */

static void test_priority(void **state) {
        Fixture *f = *state;
        static const struct { unsigned status; const char *prio; } t[] = {
                { 101, "6" }, { 200, "6" }, { 304, "6" }, { 399, "6" },
                { 400, "5" }, { 404, "5" }, { 499, "5" },
                { 500, "4" }, { 503, "4" }, { 599, "4" }, { 600, "6" },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                f->resp.status = t[i].status;
                format_ok(f);
                assert_string_equal(get(f, "PRIORITY"), t[i].prio);
        }
        f->x.kind = EXCHANGE_UNCORRELATED;
        f->resp.status = 502;
        format_ok(f);
        assert_string_equal(get(f, "PRIORITY"), "4");
}

static void test_flags(void **state) {
        Fixture *f = *state;

        f->req.flags = HTTP_MESSAGE_CHUNKED | HTTP_MESSAGE_CONNECTION_CLOSE;
        format_ok(f);
        assert_null(get(f, "HTTP_FLAGS"));   /* plain framing is not news */

        f->req.flags = HTTP_MESSAGE_GAP;
        f->resp.flags = HTTP_MESSAGE_TRUNCATED | HTTP_MESSAGE_UPGRADE;
        f->conn.source = CONN_SOURCE_TLS;
        format_ok(f);
        assert_string_equal(get(f, "HTTP_FLAGS"), "gap,truncated,upgrade,tls");

        /* Every flag at once is longer than a number: found by fuzzing. */
        f->req.flags = 0xff;
        free(f->req.method);
        f->req.method = malloc(FORMAT_VALUE_MAX + 100);
        assert_non_null(f->req.method);
        memset(f->req.method, 'M', FORMAT_VALUE_MAX + 99);
        f->req.method[FORMAT_VALUE_MAX + 99] = 0;
        format_ok(f);
        assert_string_equal(get(f, "HTTP_FLAGS"), "gap,truncated,head-truncated,memory-capped,upgrade,tls,fields-truncated");
}

static void test_version(void **state) {
        Fixture *f = *state;

        f->req.version = 10;
        format_ok(f);
        assert_string_equal(get(f, "HTTP_VERSION"), "1.0");
        f->req.version = 0;       /* unknown: omitted rather than "0.0" */
        format_ok(f);
        assert_null(get(f, "HTTP_VERSION"));
}

/* ---- addresses and roles ------------------------------------------------- */

static void test_ipv6(void **state) {
        Fixture *f = *state;

        f->conn.family = AF_INET6;
        set_v6(f->conn.local_addr, "2001:db8::1");
        set_v6(f->conn.remote_addr, "fe80::2");
        format_ok(f);
        assert_string_equal(get(f, "SERVER_ADDR"), "2001:db8::1");
        assert_string_equal(get(f, "CLIENT_ADDR"), "fe80::2");
        assert_non_null(strstr(get(f, "MESSAGE"), "(nginx[812] [fe80::2]:50432 → [2001:db8::1]:80)"));
}

static void test_v4_mapped(void **state) {
        Fixture *f = *state;

        f->conn.family = AF_INET6;
        set_v6(f->conn.local_addr, "::ffff:10.0.0.1");
        set_v6(f->conn.remote_addr, "::ffff:192.168.1.20");
        format_ok(f);
        assert_string_equal(get(f, "SERVER_ADDR"), "10.0.0.1");
        assert_string_equal(get(f, "CLIENT_ADDR"), "192.168.1.20");
        assert_non_null(strstr(get(f, "MESSAGE"), "(nginx[812] 192.168.1.20:50432 → 10.0.0.1:80)"));
}

static void test_client_role(void **state) {
        Fixture *f = *state;

        /* curl on 10.0.0.5:40000 talking to 93.184.216.34:80 */
        f->conn.role = CONN_ROLE_CLIENT;
        strcpy(f->conn.comm, "curl");
        f->conn.tgid = 999;
        set_v4(f->conn.local_addr, "10.0.0.5");
        f->conn.local_port = 40000;
        set_v4(f->conn.remote_addr, "93.184.216.34");
        f->conn.remote_port = 80;
        format_ok(f);
        assert_string_equal(get(f, "HTTP_ROLE"), "client");
        assert_string_equal(get(f, "CLIENT_ADDR"), "10.0.0.5");
        assert_string_equal(get(f, "CLIENT_PORT"), "40000");
        assert_string_equal(get(f, "SERVER_ADDR"), "93.184.216.34");
        assert_string_equal(get(f, "SERVER_PORT"), "80");
        assert_string_equal(get(f, "PROCESS_PID"), "999");
        assert_non_null(strstr(get(f, "MESSAGE"), "(curl[999] 10.0.0.5:40000 → 93.184.216.34:80)"));

        f->conn.role = CONN_ROLE_UNKNOWN;
        format_ok(f);
        assert_string_equal(get(f, "HTTP_ROLE"), "unknown");
        assert_string_equal(get(f, "SERVER_ADDR"), "10.0.0.5");
}

static void test_unknown_family(void **state) {
        Fixture *f = *state;

        f->conn.family = 0;
        format_ok(f);
        assert_entry_clean(&f->e);
        assert_null(get(f, "CLIENT_ADDR"));
        assert_null(get(f, "SERVER_PORT"));
        assert_non_null(strstr(get(f, "MESSAGE"), "(nginx[812] ? → ?)"));
}

/* ---- targets ------------------------------------------------------------- */

static void test_paths(void **state) {
        Fixture *f = *state;
        static const struct { const char *target, *path; } t[] = {
                { "/", "/" },
                { "/a/b?c=d", "/a/b" },
                { "/a#f?g", "/a" },
                { "/?q", "/" },
                { "http://example.com/p/q?x", "/p/q" },
                { "HTTPS://example.com", "/" },
                { "http://example.com?x", "/" },
                { "http://example.com#f", "/" },
                { "ftp://example.com/a;type=i", "/a;type=i" },   /* absolute-form is any absolute-URI */
                { "http:/x", NULL },
                { "example.com:443", NULL },   /* CONNECT */
                { "*", NULL },                 /* OPTIONS * */
                { "", NULL },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                set_target(f, t[i].target);
                format_ok(f);
                if (t[i].target[0])
                        assert_string_equal(get(f, "HTTP_TARGET"), t[i].target);
                else    /* a target not kept (memory cap, past pipeline_max): absent */
                        assert_null(get(f, "HTTP_TARGET"));
                if (t[i].path)
                        assert_string_equal(get(f, "HTTP_PATH"), t[i].path);
                else
                        assert_null(get(f, "HTTP_PATH"));
        }

        /* Host from an absolute-form target when no Host header was sent. */
        f->req.n_headers = 0;
        set_target(f, "http://proxy.example:8080/x");
        format_ok(f);
        assert_string_equal(get(f, "HTTP_HOST"), "proxy.example:8080");
        assert_null(get(f, "HTTP_USER_AGENT"));
        set_target(f, "/x");
        format_ok(f);
        assert_null(get(f, "HTTP_HOST"));
}

/* ---- traceparent --------------------------------------------------------- */

static void test_traceparent(void **state) {
        Fixture *f = *state;
        static const char *const invalid[] = {
                "",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",           /* no flags */
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",        /* upper case */
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",        /* zero trace id */
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",        /* zero span id */
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",        /* version ff */
                "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  /* 00 must end */
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
                "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
        };
        char trace[33], span[17];

        add_header(f, "TraceParent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        format_ok(f);
        assert_string_equal(get(f, "TRACE_ID"), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_string_equal(get(f, "SPAN_ID"), "00f067aa0ba902b7");

        /* A later version may carry more after a '-'. */
        assert_int_equal(format_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future",
                                            strlen("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-the-future"),
                                            trace, span), 0);

        for (size_t i = 0; i < ELEMENTSOF(invalid); i++) {
                strcpy(trace, "untouched");
                assert_int_equal(format_traceparent(invalid[i], strlen(invalid[i]), trace, span), -EINVAL);
                assert_string_equal(trace, "untouched");
                f->req_headers[f->req.n_headers - 1].value = invalid[i];
                f->req_headers[f->req.n_headers - 1].value_len = strlen(invalid[i]);
                format_ok(f);
                assert_null(get(f, "TRACE_ID"));
                assert_null(get(f, "SPAN_ID"));
        }

        /* Two traceparent headers: invalid, whatever they say. */
        f->req_headers[f->req.n_headers - 1].value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        f->req_headers[f->req.n_headers - 1].value_len = 55;
        add_header(f, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        format_ok(f);
        assert_null(get(f, "TRACE_ID"));
}

/* ---- durations ----------------------------------------------------------- */

static void test_duration(void **state) {
        static const struct { uint64_t ns; const char *s; } t[] = {
                { 0, "0 µs" },
                { 999, "0 µs" },
                { 850 * 1000, "850 µs" },
                { 999999, "999 µs" },
                { 1000000, "1.0 ms" },
                { 1234567, "1.2 ms" },
                { 1250000, "1.3 ms" },
                { 999949999, "999.9 ms" },
                { 999950000, "1.0 s" },
                { 3456000000, "3.5 s" },
                { UINT64_C(5400) * NSEC_PER_SEC, "5400.0 s" },
        };
        char buf[FORMAT_DURATION_MAX];

        for (size_t i = 0; i < ELEMENTSOF(t); i++)
                assert_string_equal(format_duration(buf, t[i].ns), t[i].s);
}

/* ---- hostile values ------------------------------------------------------ */

static const char *escape(const char *in, size_t n, size_t size, bool *truncated) {
        static char buf[1024];

        assert_true(size <= sizeof(buf));
        format_escape(buf, size, in, n, truncated);
        return buf;
}

static void test_escape(void **state) {
        bool t;

        assert_string_equal(escape("plain", 5, 64, &t), "plain");
        assert_false(t);
        assert_string_equal(escape("a\nb\rc\td", 7, 64, &t), "a\\x0ab\\x0dc\\x09d");
        assert_string_equal(escape("back\\slash \"q\"", 14, 64, &t), "back\\\\slash \"q\"");
        assert_string_equal(escape("\x7f\x01", 2, 64, &t), "\\x7f\\x01");
        assert_string_equal(escape("nul\0in", 6, 64, &t), "nul\\x00in");
        /* Valid UTF-8 passes: é, €, 😀 */
        assert_string_equal(escape("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, 64, &t), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
        /* Invalid: lone continuation, overlong '/', surrogate, > U+10FFFF, cut sequence. */
        assert_string_equal(escape("\x80", 1, 64, &t), "\\x80");
        assert_string_equal(escape("\xc0\xaf", 2, 64, &t), "\\xc0\\xaf");
        assert_string_equal(escape("\xed\xa0\x80", 3, 64, &t), "\\xed\\xa0\\x80");
        assert_string_equal(escape("\xf4\x90\x80\x80", 4, 64, &t), "\\xf4\\x90\\x80\\x80");
        assert_string_equal(escape("\xe2\x82", 2, 64, &t), "\\xe2\\x82");
        assert_string_equal(escape("\xff\xfe", 2, 64, &t), "\\xff\\xfe");
        /* Valid but unsafe: C1 NEL, U+2028, RLO */
        assert_string_equal(escape("\xc2\x85", 2, 64, &t), "\\xc2\\x85");
        assert_string_equal(escape("\xe2\x80\xa8", 3, 64, &t), "\\xe2\\x80\\xa8");
        assert_string_equal(escape("\xe2\x80\xae", 3, 64, &t), "\\xe2\\x80\\xae");
        assert_false(t);
}

static void test_escape_truncation(void **state) {
        bool t;

        /* Exactly fits: no ellipsis. */
        assert_string_equal(escape("abcdefgh", 8, 9, &t), "abcdefgh");
        assert_false(t);
        /* One over: cut with room for "…" (3 bytes) within 8. */
        assert_string_equal(escape("abcdefghi", 9, 9, &t), "abcde…");
        assert_true(t);
        /* Never split an escape: "ab" + "\x0a" would need 6; 8-3 = 5 leaves only "ab". */
        assert_string_equal(escape("ab\ncdefgh", 9, 9, &t), "ab…");
        assert_true(t);
        /* Never split a UTF-8 sequence: "a€" is 4 bytes, "aa€" 5, cut leaves "aa" */
        assert_string_equal(escape("aa\xe2\x82\xac" "bbbb", 9, 9, &t), "aa\xe2\x82\xac…");
        assert_string_equal(escape("aaa\xe2\x82\xac" "bbbb", 10, 9, &t), "aaa…");
        assert_string_equal(escape("\\\\\\\\\\", 5, 9, &t), "\\\\\\\\…");
        /* Too small for anything but nothing. */
        assert_string_equal(escape("abcdef", 6, 3, &t), "");
        assert_true(t);
}

static void test_hostile_fields(void **state) {
        Fixture *f = *state;
        const char *msg;

        set_target(f, "/a\nHTTP_STATUS=200\r\nMESSAGE=forged\"\\\xff");
        add_header(f, "X-Ignored", "whatever");
        f->req_headers[1].value = "evil\nPRIORITY=0";
        f->req_headers[1].value_len = strlen(f->req_headers[1].value);
        strcpy(f->conn.comm, "ev\x1b[31mil");
        format_ok(f);
        assert_entry_clean(&f->e);
        assert_string_equal(get(f, "HTTP_TARGET"), "/a\\x0aHTTP_STATUS=200\\x0d\\x0aMESSAGE=forged\"\\\\\\xff");
        assert_string_equal(get(f, "HTTP_PATH"), "/a\\x0aHTTP_STATUS=200\\x0d\\x0aMESSAGE=forged\"\\\\\\xff");
        assert_string_equal(get(f, "HTTP_USER_AGENT"), "evil\\x0aPRIORITY=0");
        assert_string_equal(get(f, "HTTP_STATUS"), "200");
        assert_string_equal(get(f, "PRIORITY"), "6");
        msg = get(f, "MESSAGE");
        assert_null(strchr(msg, '\n'));
        assert_non_null(strstr(msg, "(ev\\x1b[31mil[812] "));
}

static void test_overlong(void **state) {
        Fixture *f = *state;
        size_t n = 64 * 1024;
        _cleanup_(freep) char *big = malloc(n + 1), *ua = malloc(n + 1);
        const char *v;

        assert_non_null(big);
        assert_non_null(ua);
        big[0] = '/';
        memset(big + 1, 'a', n - 1);
        big[n] = 0;
        memset(ua, '\n', n);       /* each byte escapes to 4 */
        ua[n] = 0;
        set_target(f, big);
        f->req_headers[1].value = ua;
        f->req_headers[1].value_len = n;
        f->req.method = (free(f->req.method), strdup(big + 1));
        format_ok(f);
        assert_entry_clean(&f->e);

        v = get(f, "HTTP_TARGET");
        assert_int_equal(strlen(v), FORMAT_TARGET_MAX);
        assert_string_equal(v + FORMAT_TARGET_MAX - 3, "…");
        assert_int_equal(strlen(get(f, "HTTP_PATH")), FORMAT_TARGET_MAX);
        v = get(f, "HTTP_USER_AGENT");
        assert_true(strlen(v) <= FORMAT_VALUE_MAX);
        assert_int_equal(strlen(v), (FORMAT_VALUE_MAX - 3) / 4 * 4 + 3);
        assert_string_equal(v + strlen(v) - 3, "…");
        assert_int_equal(strlen(get(f, "HTTP_METHOD")), FORMAT_VALUE_MAX);
        assert_true(strlen(get(f, "MESSAGE")) <= FORMAT_MESSAGE_MAX);
        /* method, target, path, user agent */
        assert_int_equal(f->stats.fields_truncated, 4);
        assert_int_equal(f->e.n_truncated, 4);
        assert_string_equal(get(f, "HTTP_FLAGS"), "fields-truncated");
        assert_true(f->e.used <= sizeof(f->e.buf));
}

/* The entry is reused: nothing from the previous exchange may leak into the next. */
static void test_reuse(void **state) {
        Fixture *f = *state;

        add_header(f, "traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
        format_ok(f);
        assert_non_null(get(f, "TRACE_ID"));
        f->x.kind = EXCHANGE_UNCORRELATED;
        format_ok(f);
        assert_null(get(f, "TRACE_ID"));
        assert_null(get(f, "HTTP_METHOD"));
}

/* ---- optional fields (fields.*) ------------------------------------------ */

static void test_options_default(void **state) {
        Fixture *f = *state;

        /* The built-in defaults and the configuration's defaults are the same thing. */
        use_config(f, NULL);
        for (size_t i = 0; i < format_field_specs_n; i++)
                assert_true(format_field_enabled(f->opts, i) == format_field_enabled(&format_options_default, i));
        assert_int_equal(f->opts->fields_toggled, 0);
        assert_memory_equal(f->opts->priority, format_options_default.priority, sizeof(f->opts->priority));
        assert_int_equal(f->opts->n_request_headers, 0);
        assert_int_equal(f->opts->n_response_headers, 0);
        assert_non_null(f->opts->redactor);

        /* And they format exactly like no options at all. */
        add_header(f, "Referer", "http://example.com/?token=x");
        add_header(f, "Content-Type", "text/plain");
        format_ok(f);
        assert_int_equal(f->e.n_fields, 22);
        assert_null(get(f, "HTTP_REFERER"));
        assert_null(get(f, "HTTP_REQUEST_CONTENT_TYPE"));
}

static void test_toggles(void **state) {
        Fixture *f = *state;

        add_header(f, "Referer", "https://shop.example/cart?item=3&session=abc123#x");
        add_header(f, "Content-Type", "application/json");
        add_resp_header(f, "content-type", "text/html; charset=utf-8");
        f->req.body_bytes = 17;

        use_config(f, (const char *const[]) { "fields.user_agent=no", "fields.referer=yes",
                                              "fields.content_type=yes", "fields.body_sizes=no", NULL });
        format_ok(f);
        assert_entry_clean(&f->e);
        assert_null(get(f, "HTTP_USER_AGENT"));
        assert_string_equal(get(f, "HTTP_REFERER"), "https://shop.example/cart?item=3&session=***#x");
        assert_string_equal(get(f, "HTTP_REQUEST_CONTENT_TYPE"), "application/json");
        assert_string_equal(get(f, "HTTP_RESPONSE_CONTENT_TYPE"), "text/html; charset=utf-8");
        assert_null(get(f, "HTTP_REQUEST_BODY_BYTES"));
        assert_null(get(f, "HTTP_RESPONSE_BODY_BYTES"));

        use_config(f, (const char *const[]) { "fields.user_agent=yes", "fields.referer=no",
                                              "fields.content_type=no", "fields.body_sizes=yes", NULL });
        format_ok(f);
        assert_string_equal(get(f, "HTTP_USER_AGENT"), "curl/7.88.1");
        assert_null(get(f, "HTTP_REFERER"));
        assert_null(get(f, "HTTP_REQUEST_CONTENT_TYPE"));
        assert_null(get(f, "HTTP_RESPONSE_CONTENT_TYPE"));
        assert_string_equal(get(f, "HTTP_REQUEST_BODY_BYTES"), "17");
        assert_string_equal(get(f, "HTTP_RESPONSE_BODY_BYTES"), "612");

        /* The Referer's secrets are masked only while redaction is on. */
        use_config(f, (const char *const[]) { "fields.referer=yes", "redaction.enabled=no", NULL });
        format_ok(f);
        assert_string_equal(get(f, "HTTP_REFERER"), "https://shop.example/cart?item=3&session=abc123#x");

        /* A response-only field never appears without a response. */
        use_config(f, (const char *const[]) { "fields.content_type=yes", NULL });
        f->x.kind = EXCHANGE_NO_RESPONSE;
        format_ok(f);
        assert_string_equal(get(f, "HTTP_REQUEST_CONTENT_TYPE"), "application/json");
        assert_null(get(f, "HTTP_RESPONSE_CONTENT_TYPE"));
}

/* ---- the field table ---------------------------------------------------- */

static const FormatFieldSpec *spec_find(const char *name, size_t n) {
        for (size_t i = 0; i < format_field_specs_n; i++)
                if (strlen(format_field_specs[i].name) == n && strncmp(format_field_specs[i].name, name, n) == 0)
                        return &format_field_specs[i];
        return NULL;
}

/*
 * docs/journal-fields.md's "Fields" table and the field table, both ways:
 * every documented name is a row, every row is documented, and an optional
 * row's "when" cell names its setting and its default.
 */
static void test_field_table_documented(void **state) {
        _cleanup_(freep) char *doc = read_source("docs/journal-fields.md");
        bool seen[FORMAT_FIELD_SPECS_MAX] = {};
        char *start = strstr(doc, "\n## Fields\n"), *end;
        size_t n_rows = 0;

        if (!start)
                fail_msg("docs/journal-fields.md: expected a '## Fields' section, found none");
        end = strstr(start + 1, "\n## ");
        if (end)
                *end = 0;

        for (char *line = start + 1; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                char *nl = strchr(line, '\n'), *name_end, *when, *when_end, *p;

                if (strncmp(line, "| `", 3) != 0)
                        continue;
                if (nl)
                        *nl = 0;
                name_end = strstr(line + 2, " | ");
                assert_non_null(name_end);
                when = name_end + 3;
                when_end = strstr(when, " | ");
                assert_non_null(when_end);
                *name_end = *when_end = 0;
                n_rows++;

                for (p = line + 2; (p = strchr(p, '`')); ) {
                        char *q = strchr(p + 1, '`');
                        const FormatFieldSpec *f;
                        char want[128];

                        assert_non_null(q);
                        f = spec_find(p + 1, q - p - 1);
                        if (!f)
                                fail_msg("docs/journal-fields.md documents field %.*s, expected a row for it in "
                                         "format_field_specs (src/output/fields.c), found none", (int) (q - p - 1), p + 1);
                        seen[f - format_field_specs] = true;
                        if (f->kind == FORMAT_FIELD_OPTIONAL)
                                snprintf(want, sizeof(want), "`%s` (default %s)", f->setting, f->default_on ? "on" : "off");
                        else if (f->kind == FORMAT_FIELD_HEADERS)
                                snprintf(want, sizeof(want), "`%s`", f->setting);
                        else
                                want[0] = 0;
                        if (want[0] && !strstr(when, want))
                                fail_msg("docs/journal-fields.md: the 'when' cell of %s should say %s, got: %s",
                                         f->name, want, when);
                        p = q + 1;
                }
                if (nl)
                        *nl = '\n';
                *name_end = *when_end = ' ';
        }
        assert_true(n_rows > 10);
        for (size_t i = 0; i < format_field_specs_n; i++)
                if (!seen[i])
                        fail_msg("field %s is in format_field_specs but not documented in docs/journal-fields.md's "
                                 "Fields table", format_field_specs[i].name);
}

/* The table's rows against the settings table: each optional row's switch exists, with the same default. */
static void test_field_table_settings(void **state) {
        for (size_t i = 0; i < format_field_specs_n; i++) {
                const FormatFieldSpec *f = &format_field_specs[i];
                const ConfigSetting *s;

                assert_non_null(f->render);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(format_field_specs[j].name, f->name) == 0)
                                fail_msg("field %s has two rows in format_field_specs", f->name);
                if (f->kind == FORMAT_FIELD_FIXED) {
                        assert_null(f->setting);
                        continue;
                }
                s = config_setting_find(f->setting);
                if (!s)
                        fail_msg("field %s: setting %s is not in config-table.c", f->name, f->setting);
                if (f->kind == FORMAT_FIELD_HEADERS) {
                        assert_int_equal(s->type, CONFIG_STRINGS);
                        continue;
                }
                if (s->type != CONFIG_BOOL)
                        fail_msg("field %s: setting %s should be a boolean", f->name, f->setting);
                if (strcmp(s->default_value, f->default_on ? "yes" : "no") != 0)
                        fail_msg("field %s: default_on is %s but %s defaults to %s", f->name,
                                 f->default_on ? "on" : "off", f->setting, s->default_value);
        }

        /* And the other way: every boolean fields.* setting switches at least one row. */
        for (size_t i = 0; i < config_settings_n; i++) {
                const ConfigSetting *s = &config_settings[i];

                if (s->type != CONFIG_BOOL || strncmp(s->key, "fields.", 7) != 0)
                        continue;
                if (format_options_get_field(NULL, s->key) < 0)
                        fail_msg("setting %s switches no row of format_field_specs", s->key);
        }
}

/* Every optional row, switched by its setting through the configuration, appears and disappears. */
static void test_field_table_switches(void **state) {
        Fixture *f = *state;

        add_header(f, "Referer", "https://shop.example/cart");
        add_header(f, "Content-Type", "application/json");
        add_resp_header(f, "Content-Type", "text/html");
        f->req.body_bytes = 17;

        for (size_t i = 0; i < format_field_specs_n; i++) {
                const FormatFieldSpec *s = &format_field_specs[i];
                char on[128], off[128];

                if (s->kind != FORMAT_FIELD_OPTIONAL)
                        continue;
                snprintf(on, sizeof(on), "%s=yes", s->setting);
                snprintf(off, sizeof(off), "%s=no", s->setting);

                use_config(f, (const char *const[]) { on, NULL });
                assert_int_equal(format_options_get_field(f->opts, s->setting), 1);
                format_ok(f);
                if (!get(f, s->name))
                        fail_msg("%s on: expected field %s, got none", on, s->name);

                use_config(f, (const char *const[]) { off, NULL });
                assert_int_equal(format_options_get_field(f->opts, s->setting), 0);
                format_ok(f);
                if (get(f, s->name))
                        fail_msg("%s off: expected no field %s, got one", off, s->name);

                /* The same switch through the API. */
                assert_int_equal(format_options_set_field(f->opts, s->setting, true), 0);
                format_ok(f);
                assert_non_null(get(f, s->name));
        }
        assert_int_equal(format_options_set_field(f->opts, "fields.nonexistent", true), -ENOENT);
        assert_int_equal(format_options_get_field(NULL, "fields.request_headers"), -ENOENT);
}

static void test_field_names(void **state) {
        static const struct { const char *header, *field; int r; } t[] = {
                { "X-Request-Id", "HTTP_REQUEST_HEADER_X_REQUEST_ID", 0 },
                { "x-request-id", "HTTP_REQUEST_HEADER_X_REQUEST_ID", 0 },
                { "X_Already_Ok9", "HTTP_REQUEST_HEADER_X_ALREADY_OK9", 0 },
                { "1st", "HTTP_REQUEST_HEADER_1ST", 0 },
                { "a.b~c!d|e'f`g^h*i+j#k$l%m&", "HTTP_REQUEST_HEADER_A_B_C_D_E_F_G_H_I_J_K_L_M_", 0 },
                { "\xc3\xa9t\xc3\xa9", "HTTP_REQUEST_HEADER___T__", 0 },   /* each byte of é */
                { "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq", /* 20 + 43 = 63 */
                  "HTTP_REQUEST_HEADER_ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQ", 0 },
                { "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqr", /* exactly 64 */
                  "HTTP_REQUEST_HEADER_ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQR", 0 },
                { "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
                  "HTTP_REQUEST_HEADER_ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQR", 1 },
        };
        char buf[FORMAT_FIELD_NAME_MAX + 1];

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                assert_int_equal(format_header_field_name(buf, "HTTP_REQUEST_HEADER_", t[i].header), t[i].r);
                assert_string_equal(buf, t[i].field);
                assert_true(strlen(buf) <= FORMAT_FIELD_NAME_MAX);
        }
        assert_int_equal(format_header_field_name(buf, "HTTP_REQUEST_HEADER_", ""), -EINVAL);
        assert_int_equal(format_header_field_name(buf, "_BAD_", "x"), -EINVAL);
        assert_int_equal(format_header_field_name(buf, "9BAD_", "x"), -EINVAL);
}

static void test_request_response_headers(void **state) {
        Fixture *f = *state;

        add_header(f, "X-Request-ID", "abc-123");
        add_header(f, "X-Forwarded-For", "10.0.0.1");
        add_header(f, "x-forwarded-for", "10.0.0.2");   /* repeated: joined as HTTP allows */
        add_header(f, "X.Odd", "dot");
        add_header(f, "X-Odd", "dash");
        add_resp_header(f, "X-Cache", "HIT");
        add_resp_header(f, "Server", "nginx");

        use_config(f, (const char *const[]) {
                "fields.request_headers=X-Request-Id,X-Forwarded-For,X-Absent,X.Odd,X-Odd,x-request-id",
                "fields.response_headers=x-cache,X-Request-Id", NULL });
        /* x-request-id repeated and X.Odd/X-Odd colliding: one field each. */
        assert_int_equal(f->opts->n_request_headers, 4);
        assert_int_equal(f->opts->n_response_headers, 2);
        format_ok(f);
        assert_entry_clean(&f->e);
        assert_string_equal(get(f, "HTTP_REQUEST_HEADER_X_REQUEST_ID"), "abc-123");
        assert_string_equal(get(f, "HTTP_REQUEST_HEADER_X_FORWARDED_FOR"), "10.0.0.1, 10.0.0.2");
        assert_string_equal(get(f, "HTTP_REQUEST_HEADER_X_ODD"), "dot, dash");
        assert_null(get(f, "HTTP_REQUEST_HEADER_X_ABSENT"));
        assert_string_equal(get(f, "HTTP_RESPONSE_HEADER_X_CACHE"), "HIT");
        assert_null(get(f, "HTTP_RESPONSE_HEADER_X_REQUEST_ID"));   /* asked for, but not in the response */
        assert_null(get(f, "HTTP_RESPONSE_HEADER_SERVER"));          /* not asked for */
        assert_null(get(f, "HTTP_FLAGS"));

        /* An uncorrelated response has response headers only; a parse error none. */
        f->x.kind = EXCHANGE_UNCORRELATED;
        format_ok(f);
        assert_null(get(f, "HTTP_REQUEST_HEADER_X_REQUEST_ID"));
        assert_string_equal(get(f, "HTTP_RESPONSE_HEADER_X_CACHE"), "HIT");
        f->x.kind = EXCHANGE_PARSE_ERROR;
        format_ok(f);
        assert_null(get(f, "HTTP_RESPONSE_HEADER_X_CACHE"));
}

static void test_hostile_headers(void **state) {
        Fixture *f = *state;
        size_t n = 64 * 1024;
        _cleanup_(freep) char *big = malloc(n + 1);
        const char *v;

        assert_non_null(big);
        memset(big, 'v', n);
        big[n] = 0;
        add_header(f, "X-Evil", "a\nPRIORITY=0\r\nMESSAGE=forged \xff\xe2\x80\xae");
        add_header(f, "X-Big", big);
        add_header(f, "X-Big", "second");
        add_resp_header(f, "X-Evil", "\x1b[31mred");

        use_config(f, (const char *const[]) { "fields.request_headers=X-Evil,X-Big",
                                              "fields.response_headers=X-Evil", NULL });
        format_ok(f);
        assert_entry_clean(&f->e);
        assert_string_equal(get(f, "HTTP_REQUEST_HEADER_X_EVIL"),
                            "a\\x0aPRIORITY=0\\x0d\\x0aMESSAGE=forged \\xff\\xe2\\x80\\xae");
        assert_string_equal(get(f, "HTTP_RESPONSE_HEADER_X_EVIL"), "\\x1b[31mred");
        assert_string_equal(get(f, "PRIORITY"), "6");
        v = get(f, "HTTP_REQUEST_HEADER_X_BIG");
        assert_int_equal(strlen(v), FORMAT_VALUE_MAX);
        assert_string_equal(v + FORMAT_VALUE_MAX - 3, "…");
        assert_int_equal(f->stats.fields_truncated, 1);
        assert_string_equal(get(f, "HTTP_FLAGS"), "fields-truncated");
}

static void test_secret_headers(void **state) {
        Fixture *f = *state;

        add_header(f, "Authorization", "Bearer s3cr3t");
        add_header(f, "cookie", "session=s3cr3t");
        add_header(f, "Cookie", "other=s3cr3t");
        add_header(f, "X-Api-Key", "s3cr3t");
        add_resp_header(f, "Set-Cookie", "id=s3cr3t; HttpOnly");
        add_resp_header(f, "Location", "/next?token=s3cr3t&page=2");

        /* Asking for them does not reveal them. */
        use_config(f, (const char *const[]) {
                "fields.request_headers=Authorization,Cookie,X-Api-Key",
                "fields.response_headers=Set-Cookie,Location",
                "redaction.headers+=X-Api-Key", "redaction.mask=[hidden]", NULL });
        format_ok(f);
        assert_entry_clean(&f->e);
        assert_string_equal(get(f, "HTTP_REQUEST_HEADER_AUTHORIZATION"), "[hidden]");
        assert_string_equal(get(f, "HTTP_REQUEST_HEADER_COOKIE"), "[hidden], [hidden]");
        assert_string_equal(get(f, "HTTP_REQUEST_HEADER_X_API_KEY"), "[hidden]");
        assert_string_equal(get(f, "HTTP_RESPONSE_HEADER_SET_COOKIE"), "[hidden]");
        assert_string_equal(get(f, "HTTP_RESPONSE_HEADER_LOCATION"), "/next?token=[hidden]&page=2");
        for (size_t i = 0; i < f->e.n_fields; i++)
                assert_null(strstr(f->e.fields[i].value, "s3cr3t"));

        /* Redaction off: the operator asked for everything. */
        use_config(f, (const char *const[]) { "fields.request_headers=Authorization",
                                              "redaction.enabled=no", NULL });
        format_ok(f);
        assert_string_equal(get(f, "HTTP_REQUEST_HEADER_AUTHORIZATION"), "Bearer s3cr3t");

        /* Redacting User-Agent masks the built-in field too. */
        use_config(f, (const char *const[]) { "redaction.headers+=User-Agent", NULL });
        format_ok(f);
        assert_string_equal(get(f, "HTTP_USER_AGENT"), "***");
}

/* More asked-for headers than an entry may carry, every value at its limit: bounded, counted, fits. */
static void test_header_cap(void **state) {
        Fixture *f = *state;
        static char names[24][16];
        char assignment[1024] = "fields.request_headers=";
        _cleanup_(freep) char *big = malloc(4096 + 1), *target = malloc(64 * 1024 + 1);

        assert_non_null(big);
        assert_non_null(target);
        memset(big, 'x', 4096);
        big[4096] = 0;
        target[0] = '/';
        memset(target + 1, '\n', 64 * 1024 - 1);    /* escapes to 4 bytes each */
        target[64 * 1024] = 0;
        set_target(f, target);
        f->req.n_headers = 0;
        add_header(f, "Host", big);
        add_header(f, "User-Agent", big);
        add_header(f, "Referer", big);
        add_header(f, "Content-Type", big);
        for (size_t i = 0; i < 20; i++) {
                snprintf(names[i], sizeof(names[i]), "X-H%zu", i);
                add_header(f, names[i], big);
                strcat(assignment, names[i]);
                strcat(assignment, ",");
        }
        strcat(assignment, "X-Not-There");
        add_resp_header(f, "Content-Type", big);
        add_resp_header(f, "X-R", big);
        f->req.method = (free(f->req.method), strdup(big));
        strcpy(f->conn.comm, "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n");
        f->req.flags = 0xff;

        use_config(f, (const char *const[]) { assignment, "fields.response_headers=X-R",
                                              "fields.referer=yes", "fields.content_type=yes", NULL });
        assert_int_equal(f->opts->n_request_headers, 21);
        format_ok(f);
        assert_entry_clean(&f->e);
        assert_true(f->e.used <= sizeof(f->e.buf));
        assert_true(f->e.n_fields <= FORMAT_FIELDS_MAX);
        /* The first 16 present ones, in configuration order; 4 more request headers and X-R dropped. */
        assert_non_null(get(f, "HTTP_REQUEST_HEADER_X_H0"));
        assert_non_null(get(f, "HTTP_REQUEST_HEADER_X_H15"));
        assert_null(get(f, "HTTP_REQUEST_HEADER_X_H16"));
        assert_null(get(f, "HTTP_RESPONSE_HEADER_X_R"));
        assert_int_equal(f->e.n_dropped, 5);
        assert_int_equal(f->stats.fields_dropped, 5);
        assert_non_null(strstr(get(f, "HTTP_FLAGS"), "fields-truncated,fields-dropped"));
        print_message("every field at its limit: %zu fields, %zu of %zu bytes\n",
                      f->e.n_fields, f->e.used, sizeof(f->e.buf));
}

static void test_priority_mapping(void **state) {
        Fixture *f = *state;
        static const struct { unsigned status; const char *prio; } t[] = {
                { 101, "7" }, { 200, "1" }, { 302, "2" }, { 404, "3" }, { 503, "0" }, { 0, "1" }, { 600, "1" },
        };

        use_config(f, (const char *const[]) {
                "fields.priority.1xx=debug", "fields.priority.2xx=alert", "fields.priority.3xx=crit",
                "fields.priority.4xx=err", "fields.priority.5xx=emerg", "fields.priority.no_response=warning",
                "fields.priority.uncorrelated=notice", "fields.priority.parse_error=info", NULL });
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                f->resp.status = t[i].status;
                format_ok(f);
                assert_string_equal(get(f, "PRIORITY"), t[i].prio);
        }

        f->x.kind = EXCHANGE_NO_RESPONSE;
        format_ok(f);
        assert_string_equal(get(f, "PRIORITY"), "4");

        /* Uncorrelated: the more severe of its own priority (5) and its status's. */
        f->x.kind = EXCHANGE_UNCORRELATED;
        f->resp.status = 503;
        format_ok(f);
        assert_string_equal(get(f, "PRIORITY"), "0");
        f->resp.status = 101;
        format_ok(f);
        assert_string_equal(get(f, "PRIORITY"), "5");

        f->x.kind = EXCHANGE_PARSE_ERROR;
        format_ok(f);
        assert_string_equal(get(f, "PRIORITY"), "6");
}

/* The parse error excerpt is raw bytes of the stream: secrets in it are masked too. */
/* The masking on its own: line ends kept, a secret header's value masked, the length bound enforced. */
static void test_excerpt_mask(void **state) {
        _cleanup_(redactor_freep) Redactor *r = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        static const char in[] = "GET /?a=1&token=s3 HTTP/1.1\r\nCookie: x=y\r\nHost: h\r\n";
        uint8_t big[FORMAT_EXCERPT_MAX + 1] = {};
        char out[FORMAT_VALUE_MAX + 1];
        size_t len = 0;

        assert_int_equal(config_new_defaults(&c), 0);
        assert_int_equal(redactor_new_from_config(c, &r), 0);
        assert_int_equal(excerpt_mask(r, (const uint8_t *) in, strlen(in), out, sizeof(out), &len), 0);
        out[len] = 0;
        /* A line is read as a query: the secret's value runs to the line's end, version included. */
        assert_string_equal(out, "GET /?a=1&token=***\r\nCookie: ***\r\nHost: h\r\n");
        assert_int_equal(excerpt_mask(r, big, sizeof(big), out, sizeof(out), &len), -EINVAL);
}

static void test_excerpt_secrets(void **state) {
        Fixture *f = *state;
        static const struct { const char *excerpt, *masked; } t[] = {
                { "GET /a?token=XQZ1&x=1 HTTP/1.1\r\nAuthorization: Bearer XQZ2\r\n",
                  "GET /a?token=***&x=1 HTTP/1.1\\x0d\\x0aAuthorization: ***\\x0d\\x0a" },
                { "Cookie:sid=XQZ3\nX-Ok: fine\n",
                  "Cookie:***\\x0aX-Ok: fine\\x0a" },
                { "proxy-authorization \t: Basic WFFaNA==",
                  "proxy-authorization \\x09: ***" },
                { "user=bob&password=XQZ5&keep=1",
                  "user=bob&password=***&keep=1" },
                { "Referer: http://x/?api_key=XQZ6",
                  "Referer: http://x/?api_key=***" },
                { "Authorization:", "Authorization:" },      /* no value yet: nothing to hide */
                { "zz\r\nHTTP/1.1 200", "zz\\x0d\\x0aHTTP/1.1 200" },
                /* not at a line start nor after '&;?': these leaked before (issue 15 item 9) */
                { "ZZ token=XQZ7 HTTP/1.1\r\nX: {\"password\":\"XQZ8\"}",
                  "ZZ token=***\\x0d\\x0aX: {\"password\":\"***\"}" },
                { "a=1,sig=XQZ9\nb%20api_key=XQZA\nx Cookie: XQZB",
                  "a=1,sig=***\\x0ab%20api_key=***\\x0ax Cookie: ***" },
        };

        use_config(f, NULL);
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                f->x = (Exchange) {
                        .kind = EXCHANGE_PARSE_ERROR, .conn = &f->conn, .error = "invalid header line",
                        .excerpt = (const uint8_t *) t[i].excerpt, .excerpt_len = strlen(t[i].excerpt),
                };
                assert_true(strlen(t[i].excerpt) <= FORMAT_EXCERPT_MAX);
                format_ok(f);
                assert_entry_clean(&f->e);
                assert_string_equal(get(f, "HTTP_PARSE_ERROR_EXCERPT"), t[i].masked);
                assert_null(strstr(get(f, "HTTP_PARSE_ERROR_EXCERPT"), "XQZ"));
        }

        /* Proof the test can fail: without redaction the secrets are there. */
        use_config(f, (const char *const[]) { "redaction.enabled=no", NULL });
        f->x.excerpt = (const uint8_t *) t[0].excerpt;
        f->x.excerpt_len = strlen(t[0].excerpt);
        format_ok(f);
        assert_non_null(strstr(get(f, "HTTP_PARSE_ERROR_EXCERPT"), "XQZ1"));
        assert_non_null(strstr(get(f, "HTTP_PARSE_ERROR_EXCERPT"), "XQZ2"));

        /* Beyond the Exchange contract's 64 bytes: cut and counted. */
        f->x.excerpt = (const uint8_t *) "0123456789012345678901234567890123456789012345678901234567890123456789";
        f->x.excerpt_len = 70;
        f->stats.fields_truncated = 0;
        format_ok(f);
        assert_int_equal(strlen(get(f, "HTTP_PARSE_ERROR_EXCERPT")), FORMAT_EXCERPT_MAX);
        assert_int_equal(f->stats.fields_truncated, 1);
}

/* ---- the daemon's own entries -------------------------------------------- */

/* Every @FIELD@ of the catalog entry for id is a field of e. */
static void assert_catalog_fields_present(const FormatEntry *e, const char *id) {
        _cleanup_(freep) char *cat = read_source("src/catalog/http-tracer.catalog");
        char head[64];
        const char *p, *end;
        unsigned n = 0;

        snprintf(head, sizeof(head), "-- %s\n", id);
        p = strstr(cat, head);
        assert_non_null(p);
        end = strstr(p + 1, "\n-- ") ?: p + strlen(p);
        while ((p = memchr(p, '@', end - p)) && p < end) {
                const char *q = memchr(p + 1, '@', end - p - 1);
                char name[128];

                assert_non_null(q);
                assert_true((size_t) (q - p - 1) < sizeof(name));
                memcpy(name, p + 1, q - p - 1);
                name[q - p - 1] = 0;
                if (!format_entry_get(e, name))
                        fail_msg("catalog entry %s substitutes @%s@, which the entry lacks", id, name);
                n++;
                p = q + 1;
        }
        assert_true(n > 0);
}

static void test_statistics(void **state) {
        Stats st = {
                .records = 5000, .exchanges_complete = 900, .exchanges_no_response = 60,
                .exchanges_uncorrelated = 40, .exchanges_filtered = 100, .exchanges_sampled_out = 200,
                .exchanges_rate_limited = 50, .parse_errors = 3, .entries_dropped = 7, .entries_queued = 2,
                .daemon_entries_dropped = 5, .bytes_lost = 1234, .fields_truncated = 4, .fields_dropped = 1,
                .exchanges_lost = 9, .messages_lost = 13, .spare_reused = 33,
        };
        uint64_t kernel[_KERNEL_COUNTER_MAX] = {
                [KERNEL_COUNTER_RINGBUF_DROPS] = 11, [KERNEL_COUNTER_EXCHANGES_LOST_UNSEEN] = 4,
                [KERNEL_COUNTER_CLOSES_LOST] = 2,
        };
        FormatOutputStats outs[] = {
                { .name = "journal", .written = 640, .dropped = 7, .queued = 2 },
                { .name = "json", .written = 650 },
        };
        FormatStatistics s = {
                .stats = &st, .kernel = kernel, .outputs = outs, .n_outputs = ELEMENTSOF(outs),
                .connections_tracked = 12, .memory_bytes = 3 * 1024 * 1024 + 512 * 1024,
                .interval_usec = 300 * USEC_PER_SEC,
        };
        _cleanup_(freep) FormatEntry *e = calloc(1, sizeof(FormatEntry));

        assert_non_null(e);
        assert_int_equal(format_statistics(e, &s), 0);
        assert_entry_clean(e);
        assert_string_equal(format_entry_get(e, "MESSAGE"),
                            "Statistics: 1000 exchanges, 650 logged (100 filtered, 200 sampled out, 50 rate-limited), "
                            "60 without response, 40 uncorrelated, 3 parse errors; 18 dropped (11 in the kernel, "
                            "7 exchange entries); 12 connections, 3.5 MiB buffered; every 300.0 s.");
        /* the daemon's own entries apart: not in 'dropped', which speaks of exchanges and records */
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_ENTRIES_DROPPED"), "7");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_DAEMON_ENTRIES_DROPPED"), "5");
        assert_string_equal(format_entry_get(e, "MESSAGE_ID"), DOC_ID_STATISTICS);
        assert_string_equal(format_entry_get(e, "PRIORITY"), "6");
        assert_string_equal(format_entry_get(e, "SYSLOG_IDENTIFIER"), "http-tracer");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_RECORDS"), "5000");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_EXCHANGES"), "1000");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_LOGGED"), "650");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_FILTERED"), "100");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_SAMPLED_OUT"), "200");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_RATE_LIMITED"), "50");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_NO_RESPONSE"), "60");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_UNCORRELATED"), "40");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_PARSE_ERRORS"), "3");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_DROPPED"), "18");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_RINGBUF_DROPS"), "11");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_ENTRIES_DROPPED"), "7");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_ENTRIES_QUEUED"), "2");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_BYTES_LOST"), "1234");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_FIELDS_TRUNCATED"), "4");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_FIELDS_DROPPED"), "1");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_OUTPUT_JOURNAL_WRITTEN"), "640");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_OUTPUT_JOURNAL_DROPPED"), "7");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_OUTPUT_JOURNAL_QUEUED"), "2");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_OUTPUT_JSON_WRITTEN"), "650");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_OUTPUT_JSON_DROPPED"), "0");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_CONNECTIONS"), "12");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_MEMORY_BYTES"), "3670016");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_INTERVAL_USEC"), "300000000");
        /* every loss the Statistics: line has (one table, STATISTICS_ROWS), and the cost apart */
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_EXCHANGES_LOST"), "9");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_EXCHANGES_LOST_UNSEEN"), "4");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_MESSAGES_LOST"), "13");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_CLOSES_LOST"), "2");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_SPARE_REUSED"), "33");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_COMPLETE"), "900");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_DESYNCS"), "0");   /* a protocol's own */
#define X(key, field, value) assert_non_null(format_entry_get(e, "HTTP_TRACER_" #field));
        STATISTICS_ROWS(X)
#undef X
        assert_catalog_fields_present(e, DOC_ID_STATISTICS);

        /* The most fields any entry has: the rows, every protocol counter, FORMAT_STATISTICS_OUTPUTS_MAX outputs. */
        {
                static const char *const names[] = { "journal", "json", "syslog", "syslog2", "syslog3" };
                FormatOutputStats many[FORMAT_STATISTICS_OUTPUTS_MAX + 1];

                _Static_assert(ELEMENTSOF(names) >= ELEMENTSOF(many), "a name per output");
                for (size_t i = 0; i < ELEMENTSOF(many); i++)
                        many[i] = (FormatOutputStats) { .name = names[i] };
                s.outputs = many;
                s.n_outputs = ELEMENTSOF(many);
                assert_int_equal(format_statistics(e, &s), 0);
                assert_entry_clean(e);
                assert_true(e->n_fields <= FORMAT_FIELDS_MAX);
                s.outputs = outs;
                s.n_outputs = ELEMENTSOF(outs);
        }

        /* Unknown kernel counters, no outputs, more not-logged than seen (a reset in between): no underflow. */
        st = (Stats) { .exchanges_complete = 1, .exchanges_filtered = 5 };
        s = (FormatStatistics) { .stats = &st };
        assert_int_equal(format_statistics(e, &s), 0);
        assert_entry_clean(e);
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_LOGGED"), "0");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_RINGBUF_DROPS"), "0");
        assert_null(format_entry_get(e, "HTTP_TRACER_OUTPUT_JOURNAL_WRITTEN"));
        assert_null(strstr(format_entry_get(e, "MESSAGE"), "every"));
        assert_catalog_fields_present(e, DOC_ID_STATISTICS);

        assert_int_equal(format_statistics(e, &(FormatStatistics) {}), -EINVAL);
}

static void test_rate_limit_summary(void **state) {
        _cleanup_(freep) FormatEntry *e = calloc(1, sizeof(FormatEntry));

        assert_non_null(e);
        assert_int_equal(format_rate_limit_summary(e, 30, 100, 60 * NSEC_PER_SEC, 10, 20), 0);
        assert_entry_clean(e);
        assert_string_equal(format_entry_get(e, "MESSAGE_ID"), DOC_ID_RATE_LIMITED);
        assert_string_equal(format_entry_get(e, "PRIORITY"), "5");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_RATE_LIMITED"), "30");
}

static void test_drops(void **state) {
        _cleanup_(freep) FormatEntry *e = calloc(1, sizeof(FormatEntry));

        assert_non_null(e);
        assert_int_equal(format_drops(e, &(FormatDrops) { .reason = FORMAT_DROP_RING_BUFFER, .dropped = 12,
                                                          .total = 40 }), 0);
        assert_entry_clean(e);
        assert_string_equal(format_entry_get(e, "MESSAGE"),
                            "12 records dropped in the kernel since the last report: the ring buffer was full. "
                            "Their bytes are reported as gaps; affected exchanges are flagged.");
        assert_string_equal(format_entry_get(e, "MESSAGE_ID"), DOC_ID_DROPS);
        assert_string_equal(format_entry_get(e, "PRIORITY"), "4");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_DROPPED"), "12");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_DROPPED_TOTAL"), "40");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_DROP_REASON"), "ring-buffer-full");
        assert_null(format_entry_get(e, "HTTP_TRACER_OUTPUT"));
        assert_catalog_fields_present(e, DOC_ID_DROPS);

        assert_int_equal(format_drops(e, &(FormatDrops) { .reason = FORMAT_DROP_OUTPUT_QUEUE, .dropped = 3,
                                                          .total = 3, .daemon_dropped = 2,
                                                          .output = "journal" }), 0);
        assert_entry_clean(e);
        assert_string_equal(format_entry_get(e, "MESSAGE"),
                            "3 exchange entries and 2 of the daemon's own entries dropped since the last report: "
                            "the journal output did not keep up (queue full or receiver gone).");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_DROPPED"), "3");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_DAEMON_ENTRIES_DROPPED"), "2");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_DROP_REASON"), "output-queue-full");
        assert_string_equal(format_entry_get(e, "HTTP_TRACER_OUTPUT"), "journal");
        assert_catalog_fields_present(e, DOC_ID_DROPS);

        assert_int_equal(format_drops(e, &(FormatDrops) { .reason = _FORMAT_DROP_REASON_MAX }), -EINVAL);
        assert_null(format_drop_reason_to_string(_FORMAT_DROP_REASON_MAX));
}

static void test_statistics_due(void **state) {
        uint64_t last = 0;

        assert_false(format_statistics_due(1000, 0, &last));               /* off */
        assert_int_equal(last, 0);
        assert_false(format_statistics_due(1000, 500, &last));             /* starts the clock */
        assert_int_equal(last, 1000);
        assert_false(format_statistics_due(1499, 500, &last));
        assert_true(format_statistics_due(1500, 500, &last));
        assert_int_equal(last, 1500);
        assert_false(format_statistics_due(1600, 500, &last));
        assert_true(format_statistics_due(9000, 500, &last));              /* a stall: one, not fifteen */
        assert_false(format_statistics_due(9100, 500, &last));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_complete, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stream_id, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_response, setup, teardown),
                cmocka_unit_test_setup_teardown(test_uncorrelated, setup, teardown),
                cmocka_unit_test_setup_teardown(test_heads_not_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(test_request_invalid, setup, teardown),
                cmocka_unit_test_setup_teardown(test_parse_error, setup, teardown),
                cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
                cmocka_unit_test_setup_teardown(test_priority, setup, teardown),
                cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
                cmocka_unit_test_setup_teardown(test_version, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
                cmocka_unit_test_setup_teardown(test_v4_mapped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_role, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_family, setup, teardown),
                cmocka_unit_test_setup_teardown(test_paths, setup, teardown),
                cmocka_unit_test_setup_teardown(test_traceparent, setup, teardown),
                cmocka_unit_test(test_duration),
                cmocka_unit_test(test_escape),
                cmocka_unit_test(test_escape_truncation),
                cmocka_unit_test_setup_teardown(test_hostile_fields, setup, teardown),
                cmocka_unit_test_setup_teardown(test_overlong, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
                cmocka_unit_test_setup_teardown(test_options_default, setup, teardown),
                cmocka_unit_test_setup_teardown(test_toggles, setup, teardown),
                cmocka_unit_test(test_field_table_documented),
                cmocka_unit_test(test_field_table_settings),
                cmocka_unit_test_setup_teardown(test_field_table_switches, setup, teardown),
                cmocka_unit_test(test_field_names),
                cmocka_unit_test_setup_teardown(test_request_response_headers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_headers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_secret_headers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_header_cap, setup, teardown),
                cmocka_unit_test_setup_teardown(test_priority_mapping, setup, teardown),
                cmocka_unit_test(test_excerpt_mask),
                cmocka_unit_test_setup_teardown(test_excerpt_secrets, setup, teardown),
                cmocka_unit_test(test_statistics),
                cmocka_unit_test(test_drops),
                cmocka_unit_test(test_rate_limit_summary),
                cmocka_unit_test(test_statistics_due),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
