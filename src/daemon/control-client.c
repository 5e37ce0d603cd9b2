/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control socket client; see control-client.h. */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "basic/json-build.h"
#include "basic/json-value.h"
#include "basic/macro.h"
#include "daemon/control-client.h"
#include "daemon/control.h"

/* Wait for @events until @deadline; -ETIMEDOUT past it. */
static int wait_fd(int fd, short events, uint64_t deadline) {
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                int r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT32_MAX));
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r > 0)
                        return 0;
        }
}

int control_client_call(const char *path, const char *request_line, uint64_t timeout_usec,
                        char **ret_response) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) char *buf = NULL;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(request_line), total, done = 0, got = 0, allocated = 0;
        uint64_t deadline;
        int r;

        deadline = now_usec(CLOCK_MONOTONIC) + (timeout_usec ?: CONTROL_CLIENT_TIMEOUT_DEFAULT_USEC);
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;

        /*
         * A non-blocking connect() to an AF_UNIX socket fails with EAGAIN
         * (rather than EINPROGRESS) while the listener's backlog is full:
         * retry until the deadline, briefly sleeping in between.
         */
        for (;;) {
                if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0)
                        break;
                if (errno == EINPROGRESS) {
                        r = wait_fd(fd, POLLOUT, deadline);
                        if (r < 0)
                                return r;
                        break;
                }
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return -ETIMEDOUT;
                (void) poll(NULL, 0, 10);
        }

        /* The request, then a newline if the caller left it out. */
        total = len + (len == 0 || request_line[len - 1] != '\n');
        while (done < total) {
                const char *p = done < len ? request_line + done : "\n";
                size_t n = done < len ? len - done : 1;
                ssize_t k = send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return -errno;
                        r = wait_fd(fd, POLLOUT, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                done += (size_t) k;
        }

        for (;;) {
                char *nl;
                ssize_t k;

                if (allocated - got < 4096) {
                        char *q;

                        if (allocated > CONTROL_SERVICES_RESPONSE_MAX)
                                return -EBADMSG;
                        allocated = allocated ? allocated * 2 : 8192;
                        q = realloc(buf, allocated + 1);
                        if (!q)
                                return -ENOMEM;
                        buf = q;
                }
                k = recv(fd, buf + got, allocated - got, MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return -errno;
                        r = wait_fd(fd, POLLIN, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (k == 0)
                        return -EBADMSG;   /* closed before the end of the line */
                nl = memchr(buf + got, '\n', (size_t) k);
                got += (size_t) k;
                if (nl) {
                        *nl = 0;
                        *ret_response = TAKE_PTR(buf);
                        return 0;
                }
        }
}

int control_request_line(const char *command, char **ret) {
        JsonBuild b;

        json_build_init(&b, CONTROL_REQUEST_MAX - 1);
        json_build_object_begin(&b, NULL);
        json_build_u64(&b, "version", CONTROL_PROTOCOL_VERSION);
        json_build_string(&b, "command", command);
        json_build_object_end(&b);
        return json_build_finish(&b, true, ret, NULL);
}

static int error_to_errno(const char *error) {
        static const struct {
                const char *name;
                int error;
        } table[] = {
                { "permission-denied",   EPERM      },
                { "reload-failed",       EINVAL     },
                { "not-supported",       EOPNOTSUPP },
                { "unknown-command",     EOPNOTSUPP },
                { "unsupported-version", EPROTO     },
                { "invalid-request",     EPROTO     },
                { "request-too-large",   EPROTO     },
                { "busy",                EBUSY      },
        };

        for (size_t i = 0; error && i < ELEMENTSOF(table); i++)
                if (strcmp(error, table[i].name) == 0)
                        return -table[i].error;
        return -EIO;
}

int control_response_check(const char *response, char **ret_message) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        const JsonValue *ok, *errors;
        const char *message;
        char *m = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        r = json_parse(response, strlen(response), &v);
        if (r < 0)
                return -EBADMSG;
        ok = json_object_get(v, "ok");
        if (!ok || ok->type != JSON_BOOLEAN)
                return -EBADMSG;
        if (ok->boolean)
                return 0;

        r = error_to_errno(json_value_string(json_object_get(v, "error")));
        if (!ret_message)
                return r;

        f = open_memstream(&m, &len);
        if (!f)
                return -ENOMEM;
        message = json_value_string(json_object_get(v, "message"));
        fputs(message ?: "The daemon reported an unspecified error.", f);
        errors = json_object_get(v, "errors");
        if (errors && errors->type == JSON_ARRAY)
                for (size_t i = 0; i < errors->n; i++)
                        if (json_value_string(errors->items[i]))
                                fprintf(f, "\n  %s", errors->items[i]->string);
        if (fclose(f) != 0) {
                free(m);
                return -ENOMEM;
        }
        *ret_message = m;
        return r;
}

static uint64_t get_u64(const JsonValue *o, const char *key) {
        uint64_t v = 0;

        (void) json_value_u64(json_object_get(o, key), &v);
        return v;
}

static void format_timespan(char *buf, size_t size, uint64_t usec) {
        uint64_t s = usec / USEC_PER_SEC;

        if (s >= 86400)
                snprintf(buf, size, "%" PRIu64 "d %" PRIu64 "h %" PRIu64 "min",
                         s / 86400, s % 86400 / 3600, s % 3600 / 60);
        else if (s >= 3600)
                snprintf(buf, size, "%" PRIu64 "h %" PRIu64 "min %" PRIu64 "s", s / 3600, s % 3600 / 60, s % 60);
        else if (s >= 60)
                snprintf(buf, size, "%" PRIu64 "min %" PRIu64 "s", s / 60, s % 60);
        else
                snprintf(buf, size, "%" PRIu64 "s", s);
}

static void format_bytes(char *buf, size_t size, uint64_t b) {
        if (b >= (UINT64_C(1) << 30))
                snprintf(buf, size, "%.1f GiB", (double) b / (double) (UINT64_C(1) << 30));
        else if (b >= (UINT64_C(1) << 20))
                snprintf(buf, size, "%.1f MiB", (double) b / (double) (UINT64_C(1) << 20));
        else if (b >= 1024)
                snprintf(buf, size, "%.1f KiB", (double) b / 1024.0);
        else
                snprintf(buf, size, "%" PRIu64 " B", b);
}

/* The TLS source's lines: what is attached, what is not and why; nothing from a daemon without them. */
static void print_tls(FILE *f, const JsonValue *t) {
        const JsonValue *libs = json_object_get(t, "libraries"), *bad = json_object_get(t, "without_symbols"),
                        *unseen = json_object_get(t, "unseen_processes");
        const JsonValue *enabled = json_object_get(t, "enabled");
        uint64_t n_unseen = 0;

        if (!t || t->type != JSON_OBJECT)
                return;
        if (!enabled || enabled->type != JSON_BOOLEAN || !enabled->boolean) {
                fprintf(f, "        TLS: off (tls.enabled=no)\n");
                return;
        }
        fprintf(f, "        TLS: %" PRIu64 " library files attached", get_u64(t, "libraries_attached"));
        for (size_t i = 0; libs && libs->type == JSON_ARRAY && i < libs->n; i++)
                fprintf(f, "%s%s", i == 0 ? ": " : ", ", strna(json_value_string(json_object_get(libs->items[i], "path"))));
        fputc('\n', f);
        if (get_u64(t, "files_without_symbols") > 0) {
                fprintf(f, "             %" PRIu64 " without the SSL_* symbols", get_u64(t, "files_without_symbols"));
                for (size_t i = 0; bad && bad->type == JSON_ARRAY && i < bad->n; i++)
                        fprintf(f, "%s%s", i == 0 ? ": " : ", ", strna(json_value_string(bad->items[i])));
                fputc('\n', f);
        }
        fprintf(f, "             not seen (TLS http-tracer cannot read), processes of %" PRIu64 " scanned: ",
                get_u64(t, "processes_scanned"));
        for (size_t i = 0; unseen && unseen->type == JSON_OBJECT && i < unseen->n; i++) {
                uint64_t v = 0;

                (void) json_value_u64(unseen->items[i], &v);
                if (v == 0)
                        continue;
                fprintf(f, "%s%s %" PRIu64, n_unseen ? ", " : "", unseen->keys[i], v);
                n_unseen += v;
        }
        fprintf(f, "%s\n", n_unseen ? "" : "none");
}

int control_status_print(FILE *f, const char *response, bool json) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        const JsonValue *st, *c, *k, *sources, *caps, *outputs;
        char uptime[64], mem[32], maps[32];
        uint64_t exchanges, dropped;
        int r;

        r = json_parse(response, strlen(response), &v);
        if (r < 0)
                return -EBADMSG;
        st = json_object_get(v, "status");
        if (!st || st->type != JSON_OBJECT || control_response_check(response, NULL) < 0)
                return -EBADMSG;

        if (json) {
                /* The answer is one JSON line already; scripts get it unchanged. */
                fprintf(f, "%s\n", response);
                return 0;
        }

        c = json_object_get(st, "counters");
        k = json_object_get(st, "kernel");
        exchanges = get_u64(c, "exchanges_complete") + get_u64(c, "exchanges_no_response") +
                    get_u64(c, "exchanges_uncorrelated");
        /* The same sum as the unit's STATUS= line, so the two agree. */
        dropped = get_u64(k, "ringbuf_drops") + get_u64(c, "entries_dropped");
        format_timespan(uptime, sizeof(uptime), get_u64(st, "uptime_usec"));
        format_bytes(mem, sizeof(mem), get_u64(st, "memory_bytes"));
        format_bytes(maps, sizeof(maps), get_u64(st, "bpf_map_bytes"));

        fprintf(f, "http-tracer %s, %s for %s (PID %" PRIu64 "%s)\n",
                strna(json_value_string(json_object_get(st, "version"))),
                strna(json_value_string(json_object_get(st, "state"))), uptime, get_u64(st, "pid"),
                json_object_get(st, "socket_activated") && json_object_get(st, "socket_activated")->boolean ?
                ", socket-activated" : "");
        fprintf(f, "    Tracing: %" PRIu64 " exchanges, %" PRIu64 " dropped, %" PRIu64 " connections\n",
                exchanges, dropped, get_u64(st, "connections_tracked"));

        caps = json_object_get(st, "capabilities_effective");
        fprintf(f, "   Programs: %" PRIu64 " BPF programs attached; capabilities: ", get_u64(st, "programs_attached"));
        if (!caps || caps->type != JSON_NUMBER)
                fprintf(f, "unknown\n");
        else if (get_u64(st, "capabilities_effective") == 0)
                fprintf(f, "none\n");
        else
                fprintf(f, "0x%" PRIx64 " (not dropped)\n", get_u64(st, "capabilities_effective"));

        sources = json_object_get(st, "config_sources");
        if (!sources || sources->type != JSON_ARRAY || sources->n == 0)
                fprintf(f, "     Config: built-in defaults\n");
        else
                for (size_t i = 0; i < sources->n; i++)
                        fprintf(f, "%s%s\n", i == 0 ? "     Config: " : "             ",
                                strna(json_value_string(sources->items[i])));

        fprintf(f, "  Exchanges: %" PRIu64 " complete, %" PRIu64 " without response, %" PRIu64 " uncorrelated\n",
                get_u64(c, "exchanges_complete"), get_u64(c, "exchanges_no_response"),
                get_u64(c, "exchanges_uncorrelated"));
        fprintf(f, " Not logged: %" PRIu64 " filtered, %" PRIu64 " sampled out, %" PRIu64 " rate-limited "
                "(rate-limited ones are in summary entries)\n",
                get_u64(c, "exchanges_filtered"), get_u64(c, "exchanges_sampled_out"),
                get_u64(c, "exchanges_rate_limited"));
        fprintf(f, "     Errors: %" PRIu64 " parse errors, %" PRIu64 " desyncs, %" PRIu64 " oversized heads\n",
                get_u64(c, "parse_errors"), get_u64(c, "desyncs"), get_u64(c, "head_overflows"));
        fprintf(f, "     Kernel: %" PRIu64 " records, %" PRIu64 " ring buffer drops, %" PRIu64
                " connections not tracked (map full)\n",
                get_u64(k, "records"), get_u64(k, "ringbuf_drops"), get_u64(k, "conn_map_full"));
        outputs = json_object_get(st, "outputs");
        if (!outputs || outputs->type != JSON_ARRAY)
                /* A daemon from before per-output counters: the sums only. */
                fprintf(f, "    Journal: %" PRIu64 " written, %" PRIu64 " queued, %" PRIu64 " dropped, %" PRIu64 " errors\n",
                        get_u64(c, "entries_written"), get_u64(c, "entries_queued"), get_u64(c, "entries_dropped"),
                        get_u64(c, "output_errors"));
        else if (outputs->n == 0)
                fprintf(f, "     Output: none\n");
        else
                for (size_t i = 0; i < outputs->n; i++) {
                        const JsonValue *o = outputs->items[i];

                        fprintf(f, "%s%s %s: %" PRIu64 " written, %" PRIu64 " queued, %" PRIu64 " dropped, %" PRIu64
                                " errors", i == 0 ? "    Outputs: " : "             ",
                                strna(json_value_string(json_object_get(o, "name"))),
                                strna(json_value_string(json_object_get(o, "target"))), get_u64(o, "written"),
                                get_u64(o, "queued"), get_u64(o, "dropped"), get_u64(o, "errors"));
                        if (get_u64(o, "daemon_dropped") > 0)
                                fprintf(f, ", %" PRIu64 " of its own entries dropped", get_u64(o, "daemon_dropped"));
                        if (get_u64(o, "reconnects") > 0)
                                fprintf(f, ", %" PRIu64 " reconnects", get_u64(o, "reconnects"));
                        if (get_u64(o, "truncated") > 0)
                                fprintf(f, ", %" PRIu64 " truncated", get_u64(o, "truncated"));
                        fputc('\n', f);
                }
        print_tls(f, json_object_get(st, "tls"));
        fprintf(f, "     Memory: %s buffered, %s in BPF maps\n", mem, maps);
        return 0;
}
