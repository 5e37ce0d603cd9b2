/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket server; see control.h and docs/control-protocol.md.
 *
 * Each client is a small state machine driven by its fd's readiness: read
 * until a newline, answer, write the answer out, read the next line. While
 * an answer is pending the client's input is not read, so a client that
 * sends requests without reading the answers only ever costs one answer.
 * Nothing here logs: failures are answered to the client or returned.
 */

#define _GNU_SOURCE 1   /* accept4(), struct ucred */

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "basic/capability.h"
#include "basic/json-build.h"
#include "basic/json-value.h"
#include "basic/strv.h"
#include "capture/source.h"
#include "daemon/control.h"
#include "output/output.h"
#include "protocols/registry.h"

/* Pending connections the kernel queues for us; beyond, connect() waits. */
#define CONTROL_BACKLOG 16
/* Connections taken per wakeup, so a flood of connects cannot starve the ring buffer. */
#define CONTROL_ACCEPT_BATCH 16
/* Requests answered for one client per wakeup, so one client cannot monopolise the loop. */
#define CONTROL_REQUESTS_PER_WAKEUP 8
/* After accept() runs out of fds or memory, wait this long before trying again. */
#define CONTROL_ACCEPT_RETRY_USEC (250 * 1000)

typedef struct ControlClient ControlClient;

struct ControlServer {
        sd_event *event;
        ControlCallbacks cb;
        void *userdata;

        int fd;
        char *path;                       /* set when we bound it: unlinked on free */
        bool activated;
        sd_event_source *listen_source;
        sd_event_source *retry_timer;

        ControlClient *clients;
        unsigned n_clients;
};

struct ControlClient {
        ControlServer *server;
        ControlClient *prev, *next;

        int fd;
        ControlPeer peer;
        sd_event_source *io_source;
        sd_event_source *timer_source;

        char in[CONTROL_REQUEST_MAX];
        size_t in_len;
        bool eof;                         /* the client has sent everything */
        bool close_after_write;           /* answer, then hang up */

        char *out;
        size_t out_len, out_done;
};

static const char *const kernel_counter_names[_KERNEL_COUNTER_MAX] = {
#define X(id, name, doc) [KERNEL_COUNTER_##id] = #name,
        KERNEL_COUNTERS(X)
#undef X
};

const char *control_kernel_counter_name(unsigned i) {
        return i < _KERNEL_COUNTER_MAX ? kernel_counter_names[i] : NULL;
}

static const struct {
        const char *name;
        size_t offset;
} stat_fields[] = {
#define X(f) { #f, offsetof(Stats, f) },
        STATS_COUNTERS(X)
#undef X
};
_Static_assert(offsetof(Stats, protocols) == ELEMENTSOF(stat_fields) * sizeof(uint64_t),
               "Stats is STATS_COUNTERS, then the protocols' own counters");

static ControlClient *client_free(ControlClient *c) {
        ControlServer *s;

        if (!c)
                return NULL;
        s = c->server;
        if (c->prev)
                c->prev->next = c->next;
        else
                s->clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_clients--;

        sd_event_source_disable_unref(c->io_source);
        sd_event_source_disable_unref(c->timer_source);
        safe_close(c->fd);
        free(c->out);
        free(c);
        return NULL;
}

/* ---- answers ---- */

static void begin_answer(JsonBuild *b, const char *command, bool ok) {
        json_build_init(b, CONTROL_RESPONSE_MAX);
        json_build_object_begin(b, NULL);
        json_build_u64(b, "version", CONTROL_PROTOCOL_VERSION);
        json_build_bool(b, "ok", ok);
        if (command)
                json_build_string(b, "command", command);
}

static int finish_answer(JsonBuild *b, ControlClient *c) {
        json_build_object_end(b);
        free(c->out);
        c->out = NULL;
        c->out_len = c->out_done = 0;
        return json_build_finish(b, true, &c->out, &c->out_len);
}

/*
 * An error answer. If even this does not fit (it always should), the
 * client gets nothing and is closed.
 */
static int answer_error(ControlClient *c, const char *command, const char *error, const char *message) {
        JsonBuild b;

        begin_answer(&b, command, false);
        json_build_string(&b, "error", error);
        json_build_string(&b, "message", message);
        return finish_answer(&b, c);
}

/*
 * Paths the TLS part of status lists, per list, and their length: a path
 * comes from another process's maps, so its size is bounded here (16 x 2 x
 * 1 KiB, even escaped 6 bytes a byte, stays under CONTROL_RESPONSE_MAX).
 */
#define TLS_STATUS_PATHS_MAX 16u
#define TLS_STATUS_PATH_MAX 1024u

static void build_tls_path(JsonBuild *b, const char *key, const char *path) {
        json_build_string(b, key, strlen(path) < TLS_STATUS_PATH_MAX ? path : "(path over 1 KiB)");
}

/* The TLS source: library files attached, files without the symbols, processes using TLS it cannot see. */
static void build_tls_status(JsonBuild *b, const CaptureTlsStatus *t) {
        json_build_object_begin(b, "tls");
        json_build_bool(b, "enabled", t && t->enabled);
        json_build_u64(b, "libraries_attached", t ? t->n_libraries : 0);
        json_build_array_begin(b, "libraries");
        for (unsigned i = 0; t && i < t->n_libraries && i < TLS_STATUS_PATHS_MAX; i++) {
                json_build_object_begin(b, NULL);
                build_tls_path(b, "path", t->libraries[i]);
                json_build_u64(b, "probes", t->probes[i]);
                json_build_object_end(b);
        }
        json_build_array_end(b);
        json_build_u64(b, "files_without_symbols", t ? t->n_without_symbols : 0);
        json_build_array_begin(b, "without_symbols");
        for (unsigned i = 0; t && i < t->n_without_symbols && i < TLS_STATUS_PATHS_MAX; i++)
                build_tls_path(b, NULL, t->without_symbols[i]);
        json_build_array_end(b);
        json_build_u64(b, "processes_scanned", t ? t->processes_scanned : 0);
        json_build_object_begin(b, "unseen_processes");
        for (unsigned k = 0; t && k < CAPTURE_TLS_UNSEEN_MAX; k++)
                json_build_u64(b, capture_tls_unseen_name(k), t->unseen[k]);
        json_build_object_end(b);
        json_build_object_end(b);
}

static void build_status(JsonBuild *b, ControlServer *s, const ControlStatus *st) {
        uint64_t caps = 0;
        bool have_caps = capability_get_effective(&caps) >= 0;

        json_build_object_begin(b, "status");
        json_build_string(b, "version", st->version);
        json_build_u64(b, "pid", (uint64_t) getpid());
        json_build_string(b, "state", st->state ?: "running");
        json_build_u64(b, "uptime_usec", st->uptime_usec);
        json_build_bool(b, "socket_activated", s->activated);
        if (have_caps)
                json_build_u64(b, "capabilities_effective", caps);
        else
                json_build_null(b, "capabilities_effective");

        json_build_array_begin(b, "config_sources");
        if (st->config_sources)
                for (const char *const *p = st->config_sources; *p; p++)
                        json_build_string(b, NULL, *p);
        json_build_array_end(b);

        json_build_u64(b, "programs_attached", st->programs_attached);
        json_build_u64(b, "connections_tracked", st->connections_tracked);
        json_build_u64(b, "memory_bytes", st->memory_bytes);
        json_build_u64(b, "bpf_map_bytes", st->bpf_map_bytes);

        json_build_object_begin(b, "counters");
        if (st->stats) {
                const char *name;
                uint64_t v;

                for (size_t i = 0; i < ELEMENTSOF(stat_fields); i++) {
                        memcpy(&v, (const char *) st->stats + stat_fields[i].offset, sizeof(v));
                        json_build_u64(b, stat_fields[i].name, v);
                }
                for (size_t i = 0; (name = protocol_registry_counter(st->stats, i, &v)); i++)
                        json_build_u64(b, name, v);
        }
        json_build_object_end(b);

        /* One object per output sink, in the order they are configured. */
        json_build_array_begin(b, "outputs");
        for (size_t i = 0; st->outputs && i < st->n_outputs; i++) {
                const OutputSinkStats *o = &st->outputs[i];

                json_build_object_begin(b, NULL);
                json_build_string(b, "name", o->name);
                json_build_string(b, "target", o->target);
                json_build_u64(b, "written", o->written);
                json_build_u64(b, "dropped", o->dropped);
                json_build_u64(b, "daemon_written", o->daemon_written);
                json_build_u64(b, "daemon_dropped", o->daemon_dropped);
                json_build_u64(b, "errors", o->errors);
                json_build_u64(b, "queued", o->queued);
                json_build_u64(b, "reconnects", o->reconnects);
                json_build_u64(b, "truncated", o->truncated);
                json_build_object_end(b);
        }
        json_build_array_end(b);

        {
                /* The TLS source's own account (capture/source.h), as of now. */
                CaptureTlsStatus tls;

                capture_tls_status(&tls);
                build_tls_status(b, &tls);
        }

        json_build_object_begin(b, "kernel");
        if (st->kernel)
                for (unsigned i = 0; i < _KERNEL_COUNTER_MAX; i++)
                        json_build_u64(b, kernel_counter_names[i], st->kernel[i]);
        json_build_object_end(b);

        json_build_object_end(b);
}

/* status, and services: the service table beside the same health counters (cb.services) */
static int do_status(ControlClient *c, const char *command) {
        ControlServer *s = c->server;
        bool services = strcmp(command, "services") == 0;
        ControlStatus st = {};
        JsonBuild b;
        int r;

        r = s->cb.status && (!services || s->cb.services) ? s->cb.status(s->userdata, &st) : -EOPNOTSUPP;
        if (r < 0) {
                char msg[128];

                snprintf(msg, sizeof(msg), "Collecting the %s failed: %s", command, strerror(-r));
                return answer_error(c, command, "failed", msg);
        }
        begin_answer(&b, command, true);
        if (services) {
                b.max = CONTROL_SERVICES_RESPONSE_MAX;
                s->cb.services(s->userdata, &st, &b);
        } else
                build_status(&b, s, &st);
        return finish_answer(&b, c);
}

static int do_reload(ControlClient *c) {
        ControlServer *s = c->server;
        char **errors = NULL;
        char msg[128];
        JsonBuild b;
        size_t n = 0;
        int r;

        if (!s->cb.reload)
                return answer_error(c, "reload", "not-supported", "This daemon cannot reload.");

        r = s->cb.reload(s->userdata, &c->peer, &errors);
        if (r >= 0) {
                strv_free(errors);
                begin_answer(&b, "reload", true);
                return finish_answer(&b, c);
        }

        snprintf(msg, sizeof(msg), "Reload failed, the previous configuration stays in effect: %s",
                 strerror(-r));
        begin_answer(&b, "reload", false);
        json_build_string(&b, "error", "reload-failed");
        json_build_string(&b, "message", msg);
        json_build_array_begin(&b, "errors");
        for (char **p = errors; p && *p; p++, n++) {
                char e[CONTROL_ERROR_LEN_MAX];

                if (n == CONTROL_ERRORS_MAX)
                        continue;
                /* Bounded, so that one long message cannot push the answer over its cap. */
                snprintf(e, sizeof(e), "%s", *p);
                json_build_string(&b, NULL, e);
        }
        if (n > CONTROL_ERRORS_MAX) {
                char more[64];

                snprintf(more, sizeof(more), "(%zu more errors)", n - CONTROL_ERRORS_MAX);
                json_build_string(&b, NULL, more);
        }
        json_build_array_end(&b);
        strv_free(errors);
        return finish_answer(&b, c);
}

static int do_stats_reset(ControlClient *c) {
        ControlServer *s = c->server;
        JsonBuild b;
        int r;

        if (!s->cb.stats_reset)
                return answer_error(c, "stats-reset", "not-supported", "This daemon cannot reset its counters.");
        r = s->cb.stats_reset(s->userdata, &c->peer);
        if (r < 0) {
                char msg[128];

                snprintf(msg, sizeof(msg), "Resetting the counters failed: %s", strerror(-r));
                return answer_error(c, "stats-reset", "failed", msg);
        }
        begin_answer(&b, "stats-reset", true);
        return finish_answer(&b, c);
}

static int handle_request(ControlClient *c, const char *line, size_t n) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        const char *command;
        uint64_t version;
        int r;

        r = json_parse(line, n, &v);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || v->type != JSON_OBJECT)
                return answer_error(c, NULL, "invalid-request", "The request is not a JSON object.");

        r = json_value_u64(json_object_get(v, "version"), &version);
        if (r < 0)
                return answer_error(c, NULL, "invalid-request", "The request has no protocol \"version\".");
        if (version != CONTROL_PROTOCOL_VERSION) {
                JsonBuild b;

                begin_answer(&b, NULL, false);
                json_build_string(&b, "error", "unsupported-version");
                json_build_string(&b, "message", "This daemon speaks protocol version 1 only.");
                json_build_array_begin(&b, "supported_versions");
                json_build_u64(&b, NULL, CONTROL_PROTOCOL_VERSION);
                json_build_array_end(&b);
                return finish_answer(&b, c);
        }

        command = json_value_string(json_object_get(v, "command"));
        if (!command)
                return answer_error(c, NULL, "invalid-request", "The request has no \"command\" string.");

        if (strcmp(command, "status") == 0 || strcmp(command, "services") == 0)
                return do_status(c, command);

        if (strcmp(command, "reload") == 0 || strcmp(command, "stats-reset") == 0) {
                /* The socket is root-only already; this holds if its mode is ever widened. */
                if (c->peer.uid != 0)
                        return answer_error(c, command, "permission-denied",
                                            "Only root may change the daemon's state.");
                return strcmp(command, "reload") == 0 ? do_reload(c) : do_stats_reset(c);
        }

        return answer_error(c, command, "unknown-command",
                            "Unknown command; known: status, services, reload, stats-reset.");
}

/* ---- client I/O ---- */

static int client_arm_timer(ControlClient *c) {
        int r;

        r = sd_event_source_set_time(c->timer_source, now_usec(CLOCK_MONOTONIC) + CONTROL_CLIENT_TIMEOUT_USEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(c->timer_source, SD_EVENT_ONESHOT);
}

static int client_flush(ControlClient *c) {
        while (c->out_done < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_done, c->out_len - c->out_done,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                c->out_done += (size_t) n;
        }
        c->out = mfree(c->out);
        c->out_len = c->out_done = 0;
        /* A complete answer: the client gets a fresh deadline for its next request. */
        return client_arm_timer(c);
}

static int client_read(ControlClient *c) {
        while (!c->eof && c->in_len < sizeof(c->in)) {
                ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, MSG_DONTWAIT);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                if (n == 0)
                        c->eof = true;
                c->in_len += (size_t) n;
        }
        return 0;
}

/* Answer the next complete request, if there is one and no answer is pending. */
static int client_process(ControlClient *c) {
        char *nl;
        size_t n;
        int r;

        if (c->out || c->close_after_write)
                return 0;

        nl = memchr(c->in, '\n', c->in_len);
        if (nl)
                n = (size_t) (nl - c->in);
        else if (c->in_len == sizeof(c->in)) {
                c->close_after_write = true;
                return answer_error(c, NULL, "request-too-large",
                                    "The request line is longer than 4096 bytes.");
        } else if (c->eof && c->in_len > 0)
                /* A last request without its newline (e.g. printf | socat): answer it anyway. */
                n = c->in_len;
        else
                return 0;

        r = handle_request(c, c->in, n);
        if (r < 0)
                return r;

        n = nl ? n + 1 : n;
        memmove(c->in, c->in + n, c->in_len - n);
        c->in_len -= n;
        return 0;
}

static bool request_pending(const ControlClient *c) {
        return memchr(c->in, '\n', c->in_len) || c->in_len == sizeof(c->in) || (c->eof && c->in_len > 0);
}

/* Read, answer, write as far as possible, then wait for what is missing. */
static int client_update(ControlClient *c) {
        uint32_t events;
        int r;

        for (unsigned i = 0;; i++) {
                r = client_read(c);
                if (r < 0)
                        return r;
                r = client_process(c);
                if (r < 0)
                        return r;
                if (c->out) {
                        r = client_flush(c);
                        if (r < 0)
                                return r;
                }

                if (c->out) {
                        events = EPOLLOUT;
                        break;
                }
                if (c->close_after_write || (c->eof && c->in_len == 0))
                        return -ECONNRESET;   /* done: the caller frees the client */
                if (!request_pending(c)) {
                        events = EPOLLIN;
                        break;
                }
                if (i + 1 >= CONTROL_REQUESTS_PER_WAKEUP) {
                        /*
                         * More requests are buffered. Yield to the rest of the
                         * loop; the socket is writable, so EPOLLOUT brings us
                         * back on the next iteration.
                         */
                        events = EPOLLOUT;
                        break;
                }
        }
        return sd_event_source_set_io_events(c->io_source, events);
}

static int on_client_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        ControlClient *c = ASSERT_PTR(userdata);

        if (client_update(c) < 0)
                client_free(c);
        return 0;
}

static int on_client_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        ControlClient *c = ASSERT_PTR(userdata);

        /* Too slow to ask or to read the answer: the slot goes to someone else. */
        client_free(c);
        return 0;
}

static void refuse_busy(int fd) {
        static const char busy[] =
                "{\"version\":1,\"ok\":false,\"error\":\"busy\",\"message\":\"Too many control clients, try again.\"}\n";

        /* Best effort: the line fits any socket buffer; never wait for it. */
        (void) send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
        safe_close(fd);
}

static int client_new(ControlServer *s, int fd) {
        _cleanup_(closep) int owned = fd;
        ControlClient *c;
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->server = s;
        c->fd = TAKE_FD(owned);
        c->peer = (ControlPeer) { .pid = cred.pid, .uid = cred.uid, .gid = cred.gid };
        c->next = s->clients;
        if (s->clients)
                s->clients->prev = c;
        s->clients = c;
        s->n_clients++;

        r = sd_event_add_io(s->event, &c->io_source, c->fd, EPOLLIN, on_client_io, c);
        if (r >= 0)
                r = sd_event_add_time(s->event, &c->timer_source, CLOCK_MONOTONIC,
                                      now_usec(CLOCK_MONOTONIC) + CONTROL_CLIENT_TIMEOUT_USEC, 100 * 1000,
                                      on_client_timeout, c);
        if (r < 0) {
                client_free(c);
                return r;
        }
        return 0;
}

static int on_retry(sd_event_source *source, uint64_t usec, void *userdata) {
        ControlServer *s = ASSERT_PTR(userdata);

        (void) sd_event_source_set_enabled(s->listen_source, SD_EVENT_ON);
        return 0;
}

static int on_listen(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        ControlServer *s = ASSERT_PTR(userdata);

        for (int i = 0; i < CONTROL_ACCEPT_BATCH; i++) {
                int cfd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (cfd < 0) {
                        if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                                return 0;
                        /*
                         * Out of fds or memory: the connection stays queued and
                         * the socket readable. Pause instead of spinning on it.
                         */
                        (void) sd_event_source_set_enabled(s->listen_source, SD_EVENT_OFF);
                        if (s->retry_timer) {
                                (void) sd_event_source_set_time(s->retry_timer, now_usec(CLOCK_MONOTONIC) + CONTROL_ACCEPT_RETRY_USEC);
                                (void) sd_event_source_set_enabled(s->retry_timer, SD_EVENT_ONESHOT);
                        } else
                                (void) sd_event_add_time(s->event, &s->retry_timer, CLOCK_MONOTONIC,
                                                         now_usec(CLOCK_MONOTONIC) + CONTROL_ACCEPT_RETRY_USEC, 0, on_retry, s);
                        return 0;
                }
                if (s->n_clients >= CONTROL_CLIENTS_MAX) {
                        refuse_busy(cfd);
                        continue;
                }
                /* A client we could not set up is dropped; the server carries on. */
                (void) client_new(s, cfd);
        }
        return 0;
}

/* ---- the listening socket ---- */

static int take_activated_fd(void) {
        char **names = NULL;
        int n, fd = -EBADF;

        n = sd_listen_fds_with_names(false, &names);
        if (n <= 0)
                return n < 0 ? n : -ENOENT;

        for (int i = 0; i < n; i++) {
                int cand = SD_LISTEN_FDS_START + i;

                /* Unnamed ("unknown") fds are ours only if they are all there is. */
                if (fd < 0 && (strcmp(names[i], CONTROL_FD_NAME) == 0 ||
                               (n == 1 && strcmp(names[i], "unknown") == 0)) &&
                    sd_is_socket_unix(cand, SOCK_STREAM, 1, NULL, 0) > 0)
                        fd = cand;
        }
        for (int i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return fd >= 0 ? fd : -ENOENT;
}

static int bind_socket(const char *path, int *ret_fd) {
        _cleanup_(closep) int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct stat st;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;

        if (lstat(path, &st) == 0) {
                _cleanup_(closep) int probe = -EBADF;

                /* Never remove something that is not a socket. */
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                /* A daemon answering there is not ours to displace. */
                probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (probe < 0)
                        return -errno;
                if (connect(probe, (struct sockaddr *) &sa, sizeof(sa)) == 0 || errno == EAGAIN)
                        return -EADDRINUSE;
                if (unlink(path) < 0 && errno != ENOENT)
                        return -errno;
        }

        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        /*
         * connect() needs write permission on the socket file. bind() made it
         * per the umask (at most 0755 even under a lax one, so no one but root
         * could connect in between); now make it exactly root-only.
         */
        if (chmod(path, 0600) < 0 || listen(fd, CONTROL_BACKLOG) < 0) {
                int r = -errno;

                (void) unlink(path);
                return r;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int control_socket_owner(const char *path, pid_t *ret_pid) {
        _cleanup_(closep) int fd = -EBADF;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct ucred cred = {};
        socklen_t len = sizeof(cred);
        struct stat st;

        path = path ?: CONTROL_SOCKET_PATH;
        /* Under socket activation the listener is systemd, holding it for us. */
        if (sd_listen_fds(false) > 0)
                return 0;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
                return 0;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* Refused: a stale socket of a daemon that died (kill -9), which bind_socket() replaces. */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 && errno != EAGAIN)
                return 0;
        /* The listener's credentials, as of its listen(). */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                cred.pid = 0;
        if (ret_pid)
                *ret_pid = cred.pid;
        return 1;
}

int control_server_new(sd_event *event, const ControlCallbacks *cb, void *userdata,
                       const char *path, ControlServer **ret) {
        _cleanup_(control_server_freep) ControlServer *s = NULL;
        int fd, r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->fd = -EBADF;
        s->event = sd_event_ref(event);
        s->cb = *cb;
        s->userdata = userdata;

        fd = take_activated_fd();
        if (fd >= 0) {
                s->fd = fd;
                s->activated = true;
                /* systemd may pass it blocking; accept() must never wait. */
                r = fcntl(fd, F_GETFL);
                if (r < 0 || fcntl(fd, F_SETFL, r | O_NONBLOCK) < 0)
                        return -errno;
        } else {
                path = path ?: CONTROL_SOCKET_PATH;
                r = bind_socket(path, &s->fd);
                if (r < 0)
                        return r;
                s->path = strdup(path);
                if (!s->path) {
                        (void) unlink(path);
                        return -ENOMEM;
                }
        }

        r = sd_event_add_io(event, &s->listen_source, s->fd, EPOLLIN, on_listen, s);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

ControlServer *control_server_free(ControlServer *s) {
        if (!s)
                return NULL;
        while (s->clients)
                client_free(s->clients);
        sd_event_source_disable_unref(s->listen_source);
        sd_event_source_disable_unref(s->retry_timer);
        /*
         * An activated socket belongs to systemd (it keeps listening and
         * starts us again on the next connection); one we made, we remove.
         */
        if (s->path)
                (void) unlink(s->path);
        safe_close(s->fd);
        free(s->path);
        sd_event_unref(s->event);
        free(s);
        return NULL;
}

unsigned control_server_clients(const ControlServer *s) {
        return s->n_clients;
}

bool control_server_activated(const ControlServer *s) {
        return s->activated;
}
