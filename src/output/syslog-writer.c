/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The syslog sink (syslog-writer.h). Every message is queued as an
 * octet-counted frame ("LEN MSG", RFC 6587) in one linear buffer: TCP sends
 * the frames as they are, datagram transports send the MSG part of one
 * frame per datagram. The buffer holds whole frames only and keeps their
 * order, so a broken connection always resumes at a frame boundary.
 *
 *   buf: [ head ..sent.. | ..unsent.. tail )
 *   head: first frame not yet acknowledged (TCP) or sent (datagrams)
 *   sent: bytes after head already written to the TCP socket
 */

#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "basic/byte-queue.h"
#include "basic/log.h"
#include "output/syslog-writer.h"

/* Frames sent per writability wakeup at most, so a long backlog cannot starve the ring buffer. */
#define SYSLOG_SEND_BATCH 256u
/* Without an event loop (replay): how long one send may wait for the receiver. */
#define SYSLOG_BLOCKING_USEC (5 * USEC_PER_SEC)

struct SyslogWriter {
        SyslogWriterOptions opts;
        SyslogFormatOptions fmt;
        char hostname[SYSLOG_HOSTNAME_MAX + 1];
        char name[300];                 /* the target as text, for messages */

        struct sockaddr_storage addr;
        socklen_t addr_len;

        int fd;
        bool connected;
        bool connecting;                /* TCP connect() in progress */
        bool ever_connected;
        bool gave_up;                   /* no event loop: the last blocking wait timed out */
        bool loss_reported;             /* the current loss of the receiver was logged and counted */
        uint64_t backoff_usec;

        sd_event *event;
        sd_event_source *io_source;
        sd_event_source *retry_timer;   /* reconnects, and TCP acknowledgement checks */

        ByteQueue q;                    /* head: first frame not yet acknowledged (TCP) or sent */
        size_t sent;                    /* bytes after q.head already written to the TCP socket */
        size_t n_frames;

        uint64_t reconnects;
        uint64_t truncated;
        Stats *stats;
        Stats own_stats;
        EntryKinds kinds;               /* which queued frames are the daemon's own */
        EntryKind last_kind;            /* of the frame sent last (UDP: an ICMP error may speak of it) */

        char msg[SYSLOG_FRAME_PREFIX_MAX + SYSLOG_MESSAGE_MAX];
};

static bool is_tcp(const SyslogWriter *w) {
        return w->opts.target.transport == SYSLOG_TRANSPORT_TCP;
}

static void update_queued(SyslogWriter *w) {
        w->stats->entries_queued = w->n_frames;
}

/* Length of the frame at offset off (the buffer holds only frames we made). */
static size_t frame_at(const SyslogWriter *w, size_t off, size_t *ret_prefix) {
        size_t len = 0, i = off;

        while (w->q.buf[i] != ' ')
                len = len * 10 + (size_t) (w->q.buf[i++] - '0');
        if (ret_prefix)
                *ret_prefix = i + 1 - off;
        return i + 1 - off + len;
}

static void release_frame(SyslogWriter *w, size_t len, bool delivered) {
        w->q.head += len;
        w->sent = w->sent > len ? w->sent - len : 0;
        w->n_frames--;
        w->last_kind = entry_kinds_pop(&w->kinds);
        entry_kinds_count(w->stats, w->last_kind, delivered, 1);
        if (w->q.head == w->q.tail)
                w->q.head = w->q.tail = w->sent = 0;
        update_queued(w);
}

static void drop_all(SyslogWriter *w) {
        entry_kinds_pop_count(&w->kinds, w->stats, false, w->n_frames);
        w->n_frames = 0;
        w->q.head = w->q.tail = w->sent = 0;
        update_queued(w);
}

/* ---- the socket ---------------------------------------------------------- */

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static int on_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void arm_timer(SyslogWriter *w, uint64_t usec) {
        int r;

        /* After the loop ended (flush at exit) there is nothing to arm: not an error. */
        if (!w->event || sd_event_get_state(w->event) == SD_EVENT_FINISHED)
                return;
        if (!w->retry_timer)
                r = sd_event_add_time_relative(w->event, &w->retry_timer, CLOCK_MONOTONIC, usec, 10 * 1000,
                                               on_timer, w);
        else {
                r = sd_event_source_set_time_relative(w->retry_timer, usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(w->retry_timer, SD_EVENT_ONESHOT);
        }
        if (r < 0) {
                w->stats->output_errors++;
                log_debug_errno(r, "Failed to arm the syslog retry timer: %m");
        }
}

/* Watch for EPOLLOUT while something waits to be sent (or a connect completes), and for a closed peer. */
static void update_io(SyslogWriter *w) {
        uint32_t events = 0;
        int r;

        if (!w->event || w->fd < 0 || sd_event_get_state(w->event) == SD_EVENT_FINISHED)
                return;
        if (w->connecting || (w->connected && w->q.head + w->sent < w->q.tail))
                events |= EPOLLOUT;
        if (w->connected && is_tcp(w))
                events |= EPOLLIN | EPOLLRDHUP;   /* receivers never write: readable means closed */

        if (!w->io_source) {
                if (events == 0)
                        return;
                r = sd_event_add_io(w->event, &w->io_source, w->fd, events, on_io, w);
        } else {
                r = sd_event_source_set_io_events(w->io_source, events ?: EPOLLOUT);
                if (r >= 0)
                        r = sd_event_source_set_enabled(w->io_source, events ? SD_EVENT_ON : SD_EVENT_OFF);
        }
        if (r < 0) {
                w->stats->output_errors++;
                log_debug_errno(r, "Failed to watch the syslog socket: %m");
        }
}

/* TCP: frames the peer's kernel has acknowledged are delivered. */
static void release_acked(SyslogWriter *w) {
        int unacked = 0;
        size_t acked;

        if (!is_tcp(w) || w->sent == 0 || ioctl(w->fd, SIOCOUTQ, &unacked) < 0 || unacked < 0)
                return;
        acked = w->sent > (size_t) unacked ? w->sent - (size_t) unacked : 0;
        while (w->n_frames > 0) {
                size_t len = frame_at(w, w->q.head, NULL);

                if (len > acked)
                        break;
                acked -= len;
                release_frame(w, len, true);
        }
}

static void disconnect(SyslogWriter *w, int error) {
        if (w->fd >= 0) {
                release_acked(w);
                w->io_source = sd_event_source_disable_unref(w->io_source);
                w->fd = safe_close(w->fd);
        }
        if (!w->loss_reported) {
                /* Once per loss, not per retry. */
                w->loss_reported = true;
                w->stats->output_errors++;
                log_warning_errno(error, "Syslog receiver %s is unreachable (%m); queueing up to %zu bytes and "
                                  "reconnecting.", w->name, w->opts.queue_max);
        }
        w->connected = w->connecting = false;
        w->sent = 0;   /* unacknowledged frames go again on the next connection */
        arm_timer(w, w->backoff_usec);
        w->backoff_usec = MIN(w->backoff_usec * 2, SYSLOG_RECONNECT_MAX_USEC);
}

static void mark_connected(SyslogWriter *w) {
        w->connected = true;
        w->connecting = false;
        w->backoff_usec = SYSLOG_RECONNECT_MIN_USEC;
        w->loss_reported = false;
        if (w->ever_connected) {
                w->reconnects++;
                log_info("Syslog receiver %s is reachable again; %zu queued messages follow.", w->name, w->n_frames);
        }
        w->ever_connected = true;
}

static int try_connect(SyslogWriter *w) {
        int type = w->opts.target.transport == SYSLOG_TRANSPORT_TCP ? SOCK_STREAM : SOCK_DGRAM;
        int r;

        if (w->fd >= 0)
                return 0;
        w->fd = socket(w->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (w->fd < 0) {
                r = negative_errno();
                disconnect(w, r);
                return r;
        }
        if (connect(w->fd, (struct sockaddr *) &w->addr, w->addr_len) < 0) {
                r = negative_errno();
                if (r == -EINPROGRESS) {
                        w->connecting = true;
                        update_io(w);
                        return 0;
                }
                disconnect(w, r);
                return r;
        }
        mark_connected(w);
        update_io(w);
        return 0;
}

/* TCP connect() finished: see how. */
static int finish_connect(SyslogWriter *w) {
        int error = 0;
        socklen_t len = sizeof(error);

        if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                error = errno;
        if (error != 0) {
                disconnect(w, -error);
                return -error;
        }
        mark_connected(w);
        return 0;
}

/* ---- sending ------------------------------------------------------------- */

static ssize_t send_some(SyslogWriter *w, const char *p, size_t n) {
        ssize_t k;

        do
                k = send(w->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
        while (k < 0 && errno == EINTR);
        return k < 0 ? negative_errno() : k;
}

static bool connection_lost(int r) {
        return r == -ECONNREFUSED || r == -ENOTCONN || r == -ECONNRESET || r == -EPIPE || r == -ENOENT;
}

/* Datagrams: one frame's message per send. */
static int send_datagrams(SyslogWriter *w, unsigned budget) {
        bool retried = false;

        while (w->n_frames > 0 && budget-- > 0) {
                size_t prefix, len = frame_at(w, w->q.head, &prefix);
                ssize_t k = send_some(w, w->q.buf + w->q.head + prefix, len - prefix);

                if (k == -EAGAIN)
                        return -EAGAIN;
                if (k == -ECONNREFUSED && w->opts.target.transport == SYSLOG_TRANSPORT_UDP && !retried) {
                        /* ICMP port unreachable for an earlier datagram: that one is lost
                         * (counted written when it went: it moves to dropped). */
                        entry_kinds_count(w->stats, w->last_kind, true, -1);
                        entry_kinds_count(w->stats, w->last_kind, false, 1);
                        w->stats->output_errors++;
                        retried = true;
                        budget++;
                        continue;
                }
                if (connection_lost((int) k) && w->opts.target.transport == SYSLOG_TRANSPORT_UNIX) {
                        /* The receiver went away (or restarted with a new socket): reconnect, keep the frame. */
                        disconnect(w, (int) k);
                        return (int) k;
                }
                retried = false;
                if (k < 0) {
                        /* EMSGSIZE and the like: this message can never go; the next may. */
                        log_debug_errno((int) k, "Failed to send to syslog receiver %s: %m", w->name);
                        w->stats->output_errors++;
                        release_frame(w, len, false);
                        continue;
                }
                release_frame(w, len, true);
        }
        return w->n_frames > 0 ? -EAGAIN : 0;
}

static int send_stream(SyslogWriter *w) {
        while (w->q.head + w->sent < w->q.tail) {
                ssize_t k = send_some(w, w->q.buf + w->q.head + w->sent, w->q.tail - w->q.head - w->sent);

                if (k == -EAGAIN)
                        break;
                if (k < 0) {
                        disconnect(w, (int) k);
                        return (int) k;
                }
                w->sent += (size_t) k;
        }
        release_acked(w);
        if (w->sent > 0)
                arm_timer(w, SYSLOG_ACK_CHECK_USEC);
        return w->q.head + w->sent < w->q.tail ? -EAGAIN : 0;
}

/* Send what the socket takes now. 0: nothing left unsent; -EAGAIN: wait; other: disconnected. */
static int pump(SyslogWriter *w, unsigned budget) {
        int r;

        if (!w->connected)
                return w->connecting ? -EAGAIN : -ENOTCONN;
        r = is_tcp(w) ? send_stream(w) : send_datagrams(w, budget);
        update_io(w);
        return r;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        SyslogWriter *w = ASSERT_PTR(userdata);

        if (w->connecting) {
                if (finish_connect(w) < 0)
                        return 0;
        } else if (is_tcp(w) && (revents & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
                char discard[256];
                /* Receivers have nothing to say (RFC 6587): data is discarded, EOF is a lost connection. */
                ssize_t k = recv(w->fd, discard, sizeof(discard), MSG_DONTWAIT);

                if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
                        disconnect(w, k == 0 ? -ECONNRESET : -errno);
                        return 0;
                }
        }
        (void) pump(w, SYSLOG_SEND_BATCH);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        SyslogWriter *w = ASSERT_PTR(userdata);

        if (w->fd < 0) {
                if (try_connect(w) < 0)
                        return 0;
        } else if (w->connected && is_tcp(w)) {
                release_acked(w);
                if (w->sent > 0)
                        arm_timer(w, SYSLOG_ACK_CHECK_USEC);
        }
        (void) pump(w, SYSLOG_SEND_BATCH);
        return 0;
}

/* Wait with poll() until the queue is delivered or the deadline passes; then drop the rest. */
static int drain_until(SyslogWriter *w, uint64_t deadline) {
        for (;;) {
                struct pollfd p = { .fd = w->fd, .events = POLLOUT };
                uint64_t now;
                int r;

                if (w->fd < 0)
                        (void) try_connect(w);
                else if (w->connecting && poll(&p, 1, 0) > 0)
                        (void) finish_connect(w);
                r = pump(w, UINT32_MAX);
                if (r == 0 && w->n_frames == 0)
                        return 0;
                now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline)
                        break;
                /* Waiting for an acknowledgement or a reconnect has no fd event: short sleeps. */
                if (w->fd < 0 || r == 0)
                        p.fd = -1;
                (void) poll(&p, 1, (int) MIN((deadline - now + 999) / 1000, (uint64_t) (w->fd < 0 || r == 0 ? 10 : 1000)));
        }
        if (w->n_frames > 0) {
                drop_all(w);
                return -ETIMEDOUT;
        }
        return 0;
}

int syslog_writer_send(SyslogWriter *w, const FormatField *fields, size_t n_fields, EntryKind kind) {
        size_t prefix;
        ssize_t k;
        bool truncated = false, was_idle;
        int r;

        if (!w || (!fields && n_fields > 0))
                return -EINVAL;

        k = syslog_format_message(w->msg + SYSLOG_FRAME_PREFIX_MAX, sizeof(w->msg) - SYSLOG_FRAME_PREFIX_MAX,
                                  &w->fmt, now_usec(CLOCK_REALTIME), fields, n_fields, &truncated);
        if (k < 0) {
                entry_kinds_count(w->stats, kind, false, 1);
                w->stats->output_errors++;
                return (int) k;
        }
        if (truncated)
                w->truncated++;
        prefix = syslog_frame_prefix(w->msg, (size_t) k);
        /* Frames the peer acknowledged since the last check free their room first
         * (otherwise the queue would only drain at the pace of the ack timer). */
        if (w->q.tail + prefix + (size_t) k > w->q.allocated && w->connected)
                release_acked(w);
        if (!entry_kinds_room(&w->kinds, kind) || byte_queue_reserve(&w->q, prefix + (size_t) k) < 0) {
                entry_kinds_count(w->stats, kind, false, 1);
                return -ENOBUFS;
        }
        (void) entry_kinds_push(&w->kinds, kind);
        was_idle = w->q.head + w->sent == w->q.tail;
        memcpy(w->q.buf + w->q.tail, w->msg, prefix);
        memcpy(w->q.buf + w->q.tail + prefix, w->msg + SYSLOG_FRAME_PREFIX_MAX, (size_t) k);
        w->q.tail += prefix + (size_t) k;
        w->n_frames++;
        update_queued(w);

        if (!w->event) {
                r = drain_until(w, now_usec(CLOCK_MONOTONIC) + (w->gave_up ? 0 : SYSLOG_BLOCKING_USEC));
                w->gave_up = r < 0;
                return r < 0 ? -ENOBUFS : 0;
        }
        /* Something unsent already means we wait for EPOLLOUT (or a reconnect): keep the order. */
        if (was_idle)
                (void) pump(w, 1);
        return 0;
}

int syslog_writer_flush(SyslogWriter *w, uint64_t timeout_usec) {
        if (!w || w->n_frames == 0)
                return 0;
        return drain_until(w, now_usec(CLOCK_MONOTONIC) + timeout_usec);
}

size_t syslog_writer_queued(const SyslogWriter *w) {
        return w ? w->n_frames : 0;
}

uint64_t syslog_writer_reconnects(const SyslogWriter *w) {
        return w ? w->reconnects : 0;
}

uint64_t syslog_writer_truncated(const SyslogWriter *w) {
        return w ? w->truncated : 0;
}

bool syslog_writer_connected(const SyslogWriter *w) {
        return w && w->connected;
}

/* ---- setup --------------------------------------------------------------- */

static int resolve(SyslogWriter *w) {
        const SyslogTarget *t = &w->opts.target;
        struct addrinfo hints = {
                .ai_socktype = t->transport == SYSLOG_TRANSPORT_TCP ? SOCK_STREAM : SOCK_DGRAM,
                .ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG,
        }, *ai = NULL;
        char port[8];
        int r;

        if (t->transport == SYSLOG_TRANSPORT_UNIX) {
                struct sockaddr_un *sa = (struct sockaddr_un *) &w->addr;

                sa->sun_family = AF_UNIX;
                /* syslog_target_parse() bounds the path to sun_path with its NUL. */
                memcpy(sa->sun_path, t->path, MIN(strlen(t->path) + 1, sizeof(sa->sun_path)));
                w->addr_len = offsetof(struct sockaddr_un, sun_path) + strlen(sa->sun_path) + 1;
                snprintf(w->name, sizeof(w->name), "unix:%s", t->path);
                return 0;
        }

        snprintf(port, sizeof(port), "%u", t->port);
        snprintf(w->name, sizeof(w->name), "%s://%s%s%s:%u", t->transport == SYSLOG_TRANSPORT_TCP ? "tcp" : "udp",
                 strchr(t->host, ':') ? "[" : "", t->host, strchr(t->host, ':') ? "]" : "", t->port);
        /* Once, at start-up (this may block on DNS): a reconnect reuses the address. */
        r = getaddrinfo(t->host, port, &hints, &ai);
        if (r == EAI_NONAME || r == EAI_FAMILY) {
                hints.ai_flags &= ~AI_ADDRCONFIG;   /* loopback-only hosts: AI_ADDRCONFIG hides 127.0.0.1/::1 */
                r = getaddrinfo(t->host, port, &hints, &ai);
        }
        if (r != 0 || !ai || ai->ai_addrlen > sizeof(w->addr)) {
                if (ai)
                        freeaddrinfo(ai);
                return -EADDRNOTAVAIL;
        }
        memcpy(&w->addr, ai->ai_addr, ai->ai_addrlen);
        w->addr_len = ai->ai_addrlen;
        freeaddrinfo(ai);
        return 0;
}

int syslog_writer_new(const SyslogWriterOptions *o, sd_event *event, Stats *stats, SyslogWriter **ret) {
        _cleanup_(syslog_writer_freep) SyslogWriter *w = NULL;
        int r;

        if (!o || !ret || (unsigned) o->target.transport >= _SYSLOG_TRANSPORT_MAX ||
            o->message_max < SYSLOG_MESSAGE_MIN || o->message_max > SYSLOG_MESSAGE_MAX ||
            o->queue_max < SYSLOG_QUEUE_MIN || o->queue_max > SYSLOG_QUEUE_MAX ||
            o->queue_max < o->message_max + SYSLOG_FRAME_PREFIX_MAX)
                return -EINVAL;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->opts = *o;
        w->q = BYTE_QUEUE_INIT(SYSLOG_QUEUE_MIN, o->queue_max);
        w->fd = -EBADF;
        w->stats = stats ?: &w->own_stats;
        w->backoff_usec = SYSLOG_RECONNECT_MIN_USEC;
        if (event)
                w->event = sd_event_ref(event);

        if (w->opts.format == SYSLOG_FORMAT_AUTO)
                w->opts.format = o->target.transport == SYSLOG_TRANSPORT_UNIX ? SYSLOG_FORMAT_RFC3164 :
                                                                               SYSLOG_FORMAT_RFC5424;
        if (gethostname(w->hostname, sizeof(w->hostname) - 1) < 0)
                w->hostname[0] = 0;
        w->fmt = (SyslogFormatOptions) {
                .format = w->opts.format,
                .facility = o->facility,
                .severity = o->severity,
                /* RFC 3164 on a local socket carries no host name (glibc's syslog() sends none). */
                .hostname = w->hostname[0] && !(w->opts.format == SYSLOG_FORMAT_RFC3164 &&
                                                o->target.transport == SYSLOG_TRANSPORT_UNIX) ? w->hostname : NULL,
                .procid = (uint32_t) getpid(),
                .message_max = o->message_max,
        };
        /* Validate the options once, on an empty entry. */
        r = (int) syslog_format_message(w->msg, sizeof(w->msg), &w->fmt, 0, NULL, 0, NULL);
        if (r < 0)
                return r;

        r = resolve(w);
        if (r < 0)
                return r;
        (void) try_connect(w);   /* failure: queued and retried */

        *ret = TAKE_PTR(w);
        return 0;
}

SyslogWriter *syslog_writer_free(SyslogWriter *w) {
        if (!w)
                return NULL;
        drop_all(w);
        sd_event_source_disable_unref(w->io_source);
        sd_event_source_disable_unref(w->retry_timer);
        sd_event_unref(w->event);
        safe_close(w->fd);
        byte_queue_done(&w->q);
        return mfree(w);
}
