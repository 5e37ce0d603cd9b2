/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket, end to end: a real server on a real socket in a
 * temporary directory, driven by a real sd-event loop, and clients in
 * forked children (the client call blocks; a child can also change its
 * uid, which is the only honest way to test the SO_PEERCRED check).
 */

#define _GNU_SOURCE 1   /* pipe2(), setresuid() */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/json-value.h"
#include "basic/macro.h"
#include "daemon/control-client.h"
#include "daemon/control.h"
#include "daemon/control-services.h"
#include "daemon/metrics.h"
#include "protocols/http1/counters.h"

typedef struct Fixture {
        char dir[64];
        char path[128];
        sd_event *event;
        ControlServer *server;

        Stats stats;
        uint64_t kernel[_KERNEL_COUNTER_MAX];
        unsigned n_reloads, n_resets;
        Metrics *metrics;
        int reload_result;
        const char *reload_errors[4];
} Fixture;

static int cb_status(void *userdata, ControlStatus *ret) {
        Fixture *f = ASSERT_PTR(userdata);
        static const char *const sources[] = { "/etc/http-tracer/http-tracer.conf", "/run/x \"quoted\".conf", NULL };

        *ret = (ControlStatus) {
                .version = "9.9.9",
                .uptime_usec = 3723 * USEC_PER_SEC,
                .config_sources = sources,
                .programs_attached = 24,
                .stats = &f->stats,
                .kernel = f->kernel,
                .connections_tracked = 7,
                .memory_bytes = 3 << 20,
                .bpf_map_bytes = 9 << 20,
        };
        return 0;
}

static int cb_reload(void *userdata, const ControlPeer *peer, char ***ret_errors) {
        Fixture *f = ASSERT_PTR(userdata);
        char **l;
        size_t n = 0;

        f->n_reloads++;
        if (f->reload_result >= 0)
                return 0;
        l = calloc(ELEMENTSOF(f->reload_errors) + 1, sizeof(char *));
        assert_non_null(l);
        for (size_t i = 0; i < ELEMENTSOF(f->reload_errors) && f->reload_errors[i]; i++)
                l[n++] = strdup(f->reload_errors[i]);
        *ret_errors = l;
        return f->reload_result;
}

static int cb_stats_reset(void *userdata, const ControlPeer *peer) {
        Fixture *f = ASSERT_PTR(userdata);

        f->n_resets++;
        f->stats = (Stats) {};
        return 0;
}

static void cb_services(void *userdata, const ControlStatus *st, JsonBuild *b) {
        Fixture *f = ASSERT_PTR(userdata);

        control_services_build(b, st, f->metrics);
}

static const ControlCallbacks callbacks = {
        .status = cb_status,
        .reload = cb_reload,
        .stats_reset = cb_stats_reset,
        .services = cb_services,
};

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        strcpy(f->dir, "/tmp/test-control-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        /* Traversable, so that a child under another uid can reach a socket made world-writable. */
        assert_int_equal(chmod(f->dir, 0755), 0);
        snprintf(f->path, sizeof(f->path), "%s/control", f->dir);
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(control_server_new(f->event, &callbacks, f, f->path, &f->server), 0);
        assert_false(control_server_activated(f->server));
        f->stats.exchanges_complete = 1200;
        f->stats.exchanges_filtered = 31;
        f->stats.exchanges_sampled_out = 32;
        f->stats.exchanges_rate_limited = 33;
        f->stats.exchanges_no_response = 30;
        f->stats.exchanges_uncorrelated = 4;
        f->stats.entries_dropped = 2;
        http1_counters(&f->stats)[HTTP1_COUNTER_DESYNCS] = 6;
        http1_counters(&f->stats)[HTTP1_COUNTER_HEAD_OVERFLOWS] = 8;
        f->kernel[KERNEL_COUNTER_RINGBUF_DROPS] = 3;
        f->kernel[KERNEL_COUNTER_RECORDS] = UINT64_C(18446744073709551615);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        struct stat st;

        control_server_free(f->server);
        metrics_free(f->metrics);
        /* The socket we made is gone with the server. */
        assert_int_equal(lstat(f->path, &st), -1);
        sd_event_unref(f->event);
        assert_int_equal(rmdir(f->dir), 0);
        free(f);
        return 0;
}

/* ---- running clients in children ---- */

typedef void (*ChildFn)(Fixture *f, const void *arg, FILE *out);

typedef struct Collect {
        char buf[4 * 1024 * 1024];     /* a services answer can be large (test_services) */
        size_t len;
        bool done;
} Collect;

/*
 * sd_event_exit() ends an event loop for good (a later sd_event_loop()
 * fails with -ESTALE), and each test runs the loop several times: iterate
 * with sd_event_run() until a flag is set instead.
 */
static void run_until(sd_event *e, const bool *done) {
        while (!*done)
                assert_true(sd_event_run(e, UINT64_MAX) >= 0);
}

static int on_child_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Collect *c = ASSERT_PTR(userdata);
        ssize_t n = read(fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);

        if (n <= 0) {
                c->done = true;
                return sd_event_source_set_enabled(s, SD_EVENT_OFF);
        }
        c->len += (size_t) n;
        return 0;
}

static int on_test_deadline(sd_event_source *s, uint64_t usec, void *userdata) {
        fail_msg("the child did not finish in time");
        return 0;
}

/* Run fn in a child as @uid while the server runs here; return what it printed. */
static char *run_child(Fixture *f, uid_t uid, ChildFn fn, const void *arg) {
        static Collect c;
        sd_event_source *io = NULL, *deadline = NULL;
        int p[2], status;
        pid_t pid;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                FILE *out;

                close(p[0]);
                if (uid != 0 && (setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0))
                        _exit(2);
                out = fdopen(p[1], "w");
                fn(f, arg, out);
                fclose(out);
                _exit(0);
        }
        close(p[1]);
        c.len = 0;
        c.done = false;
        assert_int_equal(sd_event_add_io(f->event, &io, p[0], EPOLLIN, on_child_output, &c), 0);
        assert_int_equal(sd_event_add_time_relative(f->event, &deadline, CLOCK_MONOTONIC,
                                                    30 * USEC_PER_SEC, 0, on_test_deadline, NULL), 0);
        run_until(f->event, &c.done);
        sd_event_source_disable_unref(io);
        sd_event_source_disable_unref(deadline);
        close(p[0]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        c.buf[c.len] = 0;
        return c.buf;
}

static const char *strempty_or(const char *s) {
        return s ?: "";
}

/* Child: one control_client_call(); prints "<return value>\n<answer>". */
static void child_call(Fixture *f, const void *arg, FILE *out) {
        char *resp = NULL;
        int r;

        r = control_client_call(f->path, arg, 5 * USEC_PER_SEC, &resp);
        fprintf(out, "%d\n%s", r, strempty_or(resp));
        free(resp);
}

/* Child: raw bytes in, every byte out until the server closes or 5 s pass. */
static void child_raw(Fixture *f, const void *arg, FILE *out) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct timeval tv = { .tv_sec = 5 };
        const char *data = arg;
        char buf[4096];
        ssize_t n;
        int fd;

        strcpy(sa.sun_path, f->path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                fprintf(out, "connect failed: %m");
                return;
        }
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (send(fd, data, strlen(data), MSG_NOSIGNAL) < 0) {
                fprintf(out, "send failed: %m");
                return;
        }
        while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
                fwrite(buf, 1, (size_t) n, out);
        fprintf(out, "<%s>", n == 0 ? "eof" : "error");
        close(fd);
}

/* Child: send the lines, then half-close so the server ends after answering. */
static void child_raw_shut(Fixture *f, const void *arg, FILE *out) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *data = arg;
        char buf[4096];
        ssize_t n;
        int fd;

        strcpy(sa.sun_path, f->path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                fprintf(out, "connect failed: %m");
                return;
        }
        if (send(fd, data, strlen(data), MSG_NOSIGNAL) < 0 || shutdown(fd, SHUT_WR) < 0) {
                fprintf(out, "send failed: %m");
                return;
        }
        while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
                fwrite(buf, 1, (size_t) n, out);
        close(fd);
}

/* Split "<r>\n<answer>" from child_call(). */
static const char *call_result(const char *output, int *ret_r) {
        char *nl = strchr(output, '\n');

        assert_non_null(nl);
        *ret_r = atoi(output);
        return nl + 1;
}

static JsonValue *parse(const char *line) {
        JsonValue *v = NULL;

        assert_int_equal(json_parse(line, strlen(line), &v), 0);
        return v;
}

/* ---- tests ---- */

static void test_status_round_trip(void **state) {
        Fixture *f = *state;
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        _cleanup_(freep) char *req = NULL, *human = NULL;
        const JsonValue *st, *sources;
        const char *resp;
        uint64_t u;
        size_t len = 0;
        FILE *mem;
        int r;

        assert_int_equal(control_request_line("status", &req), 0);
        assert_string_equal(req, "{\"version\":1,\"command\":\"status\"}\n");

        resp = call_result(run_child(f, 0, child_call, req), &r);
        assert_int_equal(r, 0);
        assert_int_equal(control_response_check(resp, NULL), 0);

        v = parse(resp);
        assert_int_equal(json_value_u64(json_object_get(v, "version"), &u), 0);
        assert_int_equal(u, 1);
        st = json_object_get(v, "status");
        assert_non_null(st);
        assert_string_equal(json_value_string(json_object_get(st, "version")), "9.9.9");
        assert_int_equal(json_value_u64(json_object_get(st, "pid"), &u), 0);
        assert_int_equal(u, (uint64_t) getpid());
        assert_int_equal(json_value_u64(json_object_get(json_object_get(st, "counters"), "exchanges_complete"), &u), 0);
        assert_int_equal(u, 1200);
        assert_int_equal(json_value_u64(json_object_get(json_object_get(st, "counters"), "exchanges_sampled_out"), &u), 0);
        assert_int_equal(u, 32);
        /* A protocol's own counters sit beside the shared ones, under the names they always had. */
        assert_int_equal(json_value_u64(json_object_get(json_object_get(st, "counters"), "desyncs"), &u), 0);
        assert_int_equal(u, 6);
        assert_int_equal(json_value_u64(json_object_get(json_object_get(st, "counters"), "pipeline_overflows"), &u), 0);
        assert_int_equal(u, 0);
        /* Counters are exact up to UINT64_MAX: no double in the way. */
        assert_int_equal(json_value_u64(json_object_get(json_object_get(st, "kernel"), "records"), &u), 0);
        assert_true(u == UINT64_MAX);
        sources = json_object_get(st, "config_sources");
        assert_non_null(sources);
        assert_int_equal(sources->n, 2);
        assert_string_equal(json_value_string(sources->items[1]), "/run/x \"quoted\".conf");
        assert_non_null(json_object_get(st, "capabilities_effective"));

        mem = open_memstream(&human, &len);
        assert_int_equal(control_status_print(mem, resp, false), 0);
        fclose(mem);
        assert_non_null(strstr(human, "Tracing: 1234 exchanges, 5 dropped, 7 connections"));
        assert_non_null(strstr(human, "for 1h 2min 3s"));
        assert_non_null(strstr(human, "24 BPF programs attached"));
        assert_non_null(strstr(human, "Config: /etc/http-tracer/http-tracer.conf\n"));
        assert_non_null(strstr(human, "9.0 MiB in BPF maps"));
        assert_non_null(strstr(human, "Not logged: 31 filtered, 32 sampled out, 33 rate-limited (rate-limited ones are in summary entries)\n"));

        free(human);
        human = NULL;
        mem = open_memstream(&human, &len);
        assert_int_equal(control_status_print(mem, resp, true), 0);
        fclose(mem);
        assert_string_equal(human + strlen(human) - 1, "\n");
}

static void test_reload_ok(void **state) {
        Fixture *f = *state;
        const char *resp;
        int r;

        resp = call_result(run_child(f, 0, child_call, "{\"version\":1,\"command\":\"reload\"}"), &r);
        assert_int_equal(r, 0);
        assert_int_equal(control_response_check(resp, NULL), 0);
        assert_int_equal(f->n_reloads, 1);
}

static void test_reload_failure(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *msg = NULL;
        const char *resp;
        int r;

        f->reload_result = -EINVAL;
        f->reload_errors[0] = "/etc/http-tracer/http-tracer.conf:3: unknown key 'foo'";
        f->reload_errors[1] = "conf.d/x.conf: sample-rate must be 0..1";
        resp = call_result(run_child(f, 0, child_call, "{\"version\":1,\"command\":\"reload\"}\n"), &r);
        assert_int_equal(r, 0);
        assert_int_equal(control_response_check(resp, &msg), -EINVAL);
        assert_non_null(strstr(resp, "\"error\":\"reload-failed\""));
        assert_non_null(strstr(msg, "previous configuration stays in effect"));
        assert_non_null(strstr(msg, "\n  /etc/http-tracer/http-tracer.conf:3: unknown key 'foo'"));
        assert_non_null(strstr(msg, "\n  conf.d/x.conf: sample-rate must be 0..1"));
}

static void test_non_root_refused(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *msg = NULL;
        const char *out, *resp;
        int r;

        if (geteuid() != 0) {
                skip();
                return;
        }

        /* The socket is 0600: another uid cannot even connect. */
        out = run_child(f, 65534, child_call, "{\"version\":1,\"command\":\"status\"}");
        call_result(out, &r);
        assert_int_equal(r, -EACCES);

        /* Widened by mistake, the peer check still holds for reload and stats-reset... */
        assert_int_equal(chmod(f->path, 0666), 0);
        resp = call_result(run_child(f, 65534, child_call, "{\"version\":1,\"command\":\"reload\"}"), &r);
        assert_int_equal(r, 0);
        assert_int_equal(control_response_check(resp, &msg), -EPERM);
        assert_int_equal(f->n_reloads, 0);
        resp = call_result(run_child(f, 65534, child_call, "{\"version\":1,\"command\":\"stats-reset\"}"), &r);
        assert_int_equal(control_response_check(resp, NULL), -EPERM);
        assert_int_equal(f->n_resets, 0);
        /* ...while status is read-only and allowed. */
        resp = call_result(run_child(f, 65534, child_call, "{\"version\":1,\"command\":\"status\"}"), &r);
        assert_int_equal(control_response_check(resp, NULL), 0);
}

static void test_stats_reset(void **state) {
        Fixture *f = *state;
        const char *resp;
        int r;

        resp = call_result(run_child(f, 0, child_call, "{\"version\":1,\"command\":\"stats-reset\"}"), &r);
        assert_int_equal(control_response_check(resp, NULL), 0);
        assert_int_equal(f->n_resets, 1);
        assert_int_equal(f->stats.exchanges_complete, 0);
}

static int no_unit(void *userdata, const ConnInfo *c, char *buf, size_t size) {
        return -ENOENT;
}

/* The services answer: the snapshot's members, and one far larger than any status still arrives whole. */
static void test_services(void **state) {
        Fixture *f = *state;
        MetricsOptions o = {
                .table = { .services_max = 64, .routes_max = 32, .bounds_usec = { 1000 }, .n_bounds = 1, .unit = no_unit },
        };
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        const JsonValue *services, *row;
        const char *resp;
        char target[64];
        uint64_t n;
        int r;

        assert_int_equal(metrics_new(&o, &f->metrics), 0);
        for (unsigned c = 0; c < 64; c++)
                for (unsigned k = 0; k < 40; k++)
                        for (unsigned d = 0; d < 20; d++) {
                                ConnInfo conn = { .role = CONN_ROLE_SERVER };
                                HttpMessage req = { .kind = HTTP_MESSAGE_REQUEST, .method = (char *) "GET", .target = target };
                                HttpMessage res = { .kind = HTTP_MESSAGE_RESPONSE, .status = 200 + k % 4 * 100 };
                                Exchange x = { .kind = EXCHANGE_COMPLETE, .conn = &conn, .request = &req, .response = &res,
                                               .duration_ns = (100 + d * 1000) * 1000 };

                                snprintf(conn.comm, sizeof(conn.comm), "c%u", c);
                                snprintf(target, sizeof(target), "/route%c%c/x", 'a' + k % 26, 'a' + k / 26);
                                metrics_feed(f->metrics, &x);
                        }

        resp = call_result(run_child(f, 0, child_call, "{\"version\":1,\"command\":\"services\"}"), &r);
        assert_int_equal(r, 0);
        assert_true(strlen(resp) > CONTROL_RESPONSE_MAX);
        assert_int_equal(control_response_check(resp, NULL), 0);
        assert_int_equal(json_parse(resp, strlen(resp), &v), 0);
        assert_int_equal(json_value_u64(json_object_get(v, "since_usec"), &n), 0);
        assert_true(n > 0);
        assert_non_null(json_object_get(json_object_get(v, "health"), "cpu_usec"));
        assert_string_equal(json_value_string(json_object_get(json_object_get(v, "histogram"), "scheme")), "log-linear");
        services = json_object_get(v, "services");
        assert_non_null(services);
        assert_int_equal(services->type, JSON_ARRAY);
        assert_int_equal(services->n, 64);
        row = services->items[0];
        assert_string_equal(json_value_string(json_object_get(row, "unit")), "comm:c0");
        assert_int_equal(json_value_u64(json_object_get(row, "requests"), &n), 0);
        assert_int_equal(n, 40 * 20);
        assert_int_equal(json_value_u64(json_object_get(row, "routes_folded"), &n), 0);
        assert_int_equal(n, 8 * 20);
        assert_int_equal(json_object_get(row, "routes")->n, 33);
}

static void test_oversized_request(void **state) {
        Fixture *f = *state;
        char *big = malloc(CONTROL_REQUEST_MAX + 1000 + 1);
        const char *out;

        memset(big, 'x', CONTROL_REQUEST_MAX + 1000);
        big[CONTROL_REQUEST_MAX + 1000] = 0;
        out = run_child(f, 0, child_raw, big);
        /* One error answer, then the server hangs up. */
        assert_non_null(strstr(out, "\"error\":\"request-too-large\""));
        assert_non_null(strstr(out, "}\n<"));
        assert_int_equal(strchr(out, '\n') - out + 1, strstr(out, "<") - out);
        free(big);
}

static void test_bad_requests(void **state) {
        Fixture *f = *state;
        const char *out;

        /* Three bad lines and a good one, pipelined: four answers in order. */
        out = run_child(f, 0, child_raw_shut,
                        "not json\n"
                        "{\"version\":2,\"command\":\"status\"}\n"
                        "{\"version\":1,\"command\":\"frobnicate\"}\n"
                        "{\"version\":1,\"command\":\"reload\"}");
        assert_non_null(strstr(out, "\"error\":\"invalid-request\""));
        assert_non_null(strstr(out, "\"error\":\"unsupported-version\""));
        assert_non_null(strstr(out, "\"supported_versions\":[1]"));
        assert_non_null(strstr(out, "\"error\":\"unknown-command\""));
        /* The last line had no newline: answered at end of input. */
        assert_non_null(strstr(out, "{\"version\":1,\"ok\":true,\"command\":\"reload\"}\n"));
        assert_true(strstr(out, "invalid-request") < strstr(out, "unsupported-version"));
        assert_true(strstr(out, "unsupported-version") < strstr(out, "unknown-command"));
        assert_int_equal(f->n_reloads, 1);
}

static void test_many_pipelined(void **state) {
        Fixture *f = *state;
        char *lines = malloc(64 * 40 + 1);
        const char *out, *p;
        unsigned n = 0;

        lines[0] = 0;
        for (int i = 0; i < 64; i++)
                strcat(lines, "{\"version\":1,\"command\":\"status\"}\n");
        /* 64 status answers of ~1.5 KiB each: more than one wakeup's batch, more than the buffer. */
        out = run_child(f, 0, child_raw_shut, lines);
        for (p = out; (p = strstr(p, "\"ok\":true")); p++)
                n++;
        assert_int_equal(n, 64);
        free(lines);
}

static int on_quit(sd_event_source *s, uint64_t usec, void *userdata) {
        *(bool *) userdata = true;
        return 0;
}

static void run_loop_for(Fixture *f, uint64_t usec) {
        sd_event_source *t = NULL;
        bool done = false;

        assert_int_equal(sd_event_add_time_relative(f->event, &t, CLOCK_MONOTONIC, usec, 0, on_quit, &done), 0);
        run_until(f->event, &done);
        sd_event_source_disable_unref(t);
}

static void test_many_clients(void **state) {
        Fixture *f = *state;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fds[CONTROL_CLIENTS_MAX + 4];
        char buf[512];
        const char *resp;
        int r;

        strcpy(sa.sun_path, f->path);
        for (size_t i = 0; i < ELEMENTSOF(fds); i++) {
                fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                assert_true(fds[i] >= 0);
                assert_int_equal(connect(fds[i], (struct sockaddr *) &sa, sizeof(sa)), 0);
                /* Let the server accept, or the backlog (16) would refuse us. */
                run_loop_for(f, 5 * 1000);
        }
        run_loop_for(f, 100 * 1000);
        /* Silent clients hold their slots; the rest were told "busy" and closed. */
        assert_int_equal(control_server_clients(f->server), CONTROL_CLIENTS_MAX);
        for (size_t i = CONTROL_CLIENTS_MAX; i < ELEMENTSOF(fds); i++) {
                ssize_t n = recv(fds[i], buf, sizeof(buf) - 1, 0);

                assert_true(n > 0);
                buf[n] = 0;
                assert_non_null(strstr(buf, "\"error\":\"busy\""));
        }
        /* A request on a held slot is still answered... */
        assert_int_equal(send(fds[0], "{\"version\":1,\"command\":\"status\"}\n", 34, 0), 34);
        run_loop_for(f, 100 * 1000);
        assert_true(recv(fds[0], buf, sizeof(buf), 0) > 0);

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                close(fds[i]);
        run_loop_for(f, 100 * 1000);
        assert_int_equal(control_server_clients(f->server), 0);

        /* ...and once they are gone, a new client gets in. */
        resp = call_result(run_child(f, 0, child_call, "{\"version\":1,\"command\":\"status\"}"), &r);
        assert_int_equal(r, 0);
        assert_int_equal(control_response_check(resp, NULL), 0);
}

static void test_client_gone_before_answer(void **state) {
        Fixture *f = *state;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        const char *resp;
        int fd, r;

        strcpy(sa.sun_path, f->path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(connect(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(send(fd, "{\"version\":1,\"command\":\"status\"}\n", 34, 0), 34);
        close(fd);
        /* No SIGPIPE, no stall: the server just forgets the client. */
        run_loop_for(f, 100 * 1000);
        assert_int_equal(control_server_clients(f->server), 0);
        resp = call_result(run_child(f, 0, child_call, "{\"version\":1,\"command\":\"status\"}"), &r);
        assert_int_equal(control_response_check(resp, NULL), 0);
}

/* ---- without the fixture ---- */

static void test_client_timeout(void **state) {
        char dir[] = "/tmp/test-control-XXXXXX", path[128];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char *resp = NULL;
        int fd;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/mute", dir);
        strcpy(sa.sun_path, path);
        /* A server that accepts into its backlog and never answers. */
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 4), 0);

        assert_int_equal(control_client_call(path, "{\"version\":1,\"command\":\"status\"}", 200 * 1000, &resp),
                         -ETIMEDOUT);
        assert_null(resp);

        close(fd);
        /* Nobody listening any more: the caller learns the daemon is not running. */
        assert_int_equal(control_client_call(path, "{\"version\":1,\"command\":\"status\"}", 200 * 1000, &resp),
                         -ECONNREFUSED);
        unlink(path);
        assert_int_equal(control_client_call(path, "{\"version\":1,\"command\":\"status\"}", 200 * 1000, &resp),
                         -ENOENT);
        rmdir(dir);
}

static void test_stale_and_live_socket(void **state) {
        char dir[] = "/tmp/test-control-XXXXXX", path[128];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        ControlServer *s1 = NULL, *s2 = NULL;
        sd_event *e = NULL;
        struct stat st;
        int fd;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/control", dir);
        strcpy(sa.sun_path, path);
        assert_int_equal(sd_event_new(&e), 0);

        /* A socket left by a crashed daemon: replaced. */
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        close(fd);
        assert_int_equal(control_server_new(e, &callbacks, NULL, path, &s1), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        /* A live daemon's socket: not ours to take. */
        assert_int_equal(control_server_new(e, &callbacks, NULL, path, &s2), -EADDRINUSE);
        s1 = control_server_free(s1);
        assert_int_equal(lstat(path, &st), -1);

        /* Not a socket at all: left alone. */
        fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(control_server_new(e, &callbacks, NULL, path, &s2), -EEXIST);
        unlink(path);

        sd_event_unref(e);
        rmdir(dir);
}

static void test_socket_activation(void **state) {
        char dir[] = "/tmp/test-control-XXXXXX", path[128];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int status;
        pid_t pid;

        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/activated", dir);
        strcpy(sa.sun_path, path);

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                ControlServer *s = NULL;
                sd_event *e = NULL;
                char pidstr[32];
                int fd;
                struct stat st;

                /* What systemd hands over: fd 3, named by FileDescriptorName=. */
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
                    dup2(fd, SD_LISTEN_FDS_START) < 0)
                        _exit(10);
                snprintf(pidstr, sizeof(pidstr), "%d", (int) getpid());
                setenv("LISTEN_PID", pidstr, 1);
                setenv("LISTEN_FDS", "1", 1);
                setenv("LISTEN_FDNAMES", CONTROL_FD_NAME, 1);
                if (sd_event_new(&e) < 0)
                        _exit(11);
                /* The path argument is ignored in favour of the passed socket. */
                if (control_server_new(e, &callbacks, NULL, "/nonexistent/dir/control", &s) < 0)
                        _exit(12);
                if (!control_server_activated(s))
                        _exit(13);
                control_server_free(s);
                /* systemd's socket stays where it is: the next client starts us again. */
                if (stat(path, &st) < 0)
                        _exit(14);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        unlink(path);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_status_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_services, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reload_ok, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reload_failure, setup, teardown),
                cmocka_unit_test_setup_teardown(test_non_root_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stats_reset, setup, teardown),
                cmocka_unit_test_setup_teardown(test_oversized_request, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_pipelined, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_clients, setup, teardown),
                cmocka_unit_test_setup_teardown(test_client_gone_before_answer, setup, teardown),
                cmocka_unit_test(test_client_timeout),
                cmocka_unit_test(test_stale_and_live_socket),
                cmocka_unit_test(test_socket_activation),
        };

        /* A client that hangs up must not kill the test (the server uses MSG_NOSIGNAL anyway). */
        signal(SIGPIPE, SIG_IGN);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
