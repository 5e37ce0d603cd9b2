/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journald's native protocol on our own SOCK_DGRAM|SOCK_NONBLOCK socket.
 *
 * Fast path: one sendmsg() of an iovec built over the fields, no copy.
 * Slow paths, all bounded:
 *   EAGAIN (journald alive, receive queue full) -> copy into the queue and
 *     wait for EPOLLOUT; the kernel wakes connected datagram senders when the
 *     peer's queue drains.
 *   ENOENT/ECONNREFUSED/ENOTCONN (journald gone or restarting) -> queue and
 *     reconnect from a timer with bounded exponential backoff.
 *   EMSGSIZE/ENOBUFS, or an entry above JOURNAL_DATAGRAM_MAX -> the entry
 *     goes in a sealed memfd passed with SCM_RIGHTS, as sd-journal does.
 * The queue is capped in entries and bytes; beyond it entries are dropped
 * and counted.
 */

#define _GNU_SOURCE 1   /* memfd_create(), F_ADD_SEALS */

#include <endian.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>

#include "basic/log.h"
#include "output/journal-writer.h"

/*
 * Send buffer we ask for: the kernel charges queued datagrams to the
 * sender, so this is how much can sit in journald's receive queue on our
 * behalf (the same 8 MiB sd-journal asks for). SO_SNDBUFFORCE needs
 * CAP_NET_ADMIN; without it SO_SNDBUF is capped by net.core.wmem_max.
 */
#define JOURNAL_SNDBUF_SIZE (8u * 1024u * 1024u)

/*
 * Entries above this go by memfd without trying a datagram first. A large
 * datagram holds that much of the send buffer until journald reads it
 * (with the default wmem_max, ~200 KiB, it would not fit at all); a memfd
 * costs journald one mmap. Our formatter's entries stay far below it.
 */
#define JOURNAL_DATAGRAM_MAX (256u * 1024u)

/* Reconnect attempts while journald is away: quick at first, then every 5 s at most. */
#define JOURNAL_RECONNECT_MIN_USEC (50u * 1000u)
#define JOURNAL_RECONNECT_MAX_USEC (5u * USEC_PER_SEC)

/* Queued entries sent per EPOLLOUT callback, so one long backlog cannot
 * keep the event loop from the ring buffer. The source stays enabled. */
#define JOURNAL_DRAIN_BATCH 256u

/* Per field at most: NAME, '\n' or '=', le64 length, value, '\n'. */
#define IOV_PER_FIELD 5u

typedef struct QueueEntry {
        struct QueueEntry *next;
        size_t size;
        uint8_t data[];         /* the serialized entry, exactly as sent */
} QueueEntry;

struct JournalWriter {
        int fd;
        struct sockaddr_un sa;
        socklen_t sa_len;
        bool connected;
        bool was_connected;             /* a later successful connect() is a reconnect */
        uint64_t reconnects;

        sd_event *event;
        sd_event_source *io_source;     /* EPOLLOUT: enabled only while the queue waits on it */
        sd_event_source *retry_source;  /* reconnect timer, one-shot */
        uint64_t backoff_usec;

        QueueEntry *head, *tail;
        size_t n_queued;
        size_t queued_bytes;
        size_t max_entries;
        size_t max_bytes;

        uint64_t block_timeout_usec;
        bool block_gave_up;             /* no event loop: last entry timed out, don't wait again */

        Stats *stats;
        Stats own_stats;                /* when the caller passed none */
        EntryKinds kinds;               /* which queued entries are the daemon's own */
};

static const char newline = '\n';
static const char equals = '=';

static bool field_name_valid(const char *name) {
        size_t n = 0;

        /* journald silently drops entries' fields with other names. */
        if (!name || name[0] == '_' || (name[0] >= '0' && name[0] <= '9'))
                return false;
        for (const char *p = name; *p; p++, n++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return n > 0 && n <= 64;
}

/* journald gone (socket removed, or stale with nobody listening) or restarted
 * (our connected peer died): reconnecting is the cure. */
static bool errno_is_disconnect(int r) {
        return r == -ENOENT || r == -ECONNREFUSED || r == -ENOTCONN || r == -ECONNRESET || r == -EPIPE;
}

/* ---- serialization ------------------------------------------------------- */

/*
 * Fill iov (room for IOV_PER_FIELD per field) and lens (one per field, the
 * little-endian lengths of the binary-safe form). Returns the iovec count
 * and the total size.
 */
static int build_iovec(const FormatField *fields, size_t n_fields, struct iovec *iov, uint64_t *lens,
                       size_t *ret_n_iov, size_t *ret_size) {
        size_t k = 0, size = 0;

        for (size_t i = 0; i < n_fields; i++) {
                const FormatField *f = &fields[i];
                size_t nl = strlen(f->name ?: "");

                if (!field_name_valid(f->name) || (!f->value && f->len > 0))
                        return -EINVAL;

                iov[k++] = (struct iovec) { (void *) f->name, nl };
                if (f->len > 0 && memchr(f->value, '\n', f->len)) {
                        /* Binary-safe form: NAME\n<le64 length><bytes>\n */
                        lens[i] = htole64((uint64_t) f->len);
                        iov[k++] = (struct iovec) { (void *) &newline, 1 };
                        iov[k++] = (struct iovec) { &lens[i], sizeof(lens[i]) };
                        size += 1 + sizeof(lens[i]);
                } else {
                        iov[k++] = (struct iovec) { (void *) &equals, 1 };
                        size += 1;
                }
                iov[k++] = (struct iovec) { (void *) f->value, f->len };
                iov[k++] = (struct iovec) { (void *) &newline, 1 };
                size += nl + f->len + 1;
        }

        *ret_n_iov = k;
        *ret_size = size;
        return 0;
}

/* ---- sending ------------------------------------------------------------- */

static int write_all_iov(int fd, const struct iovec *iov, size_t n_iov) {
        for (size_t i = 0; i < n_iov; i++) {
                const uint8_t *p = iov[i].iov_base;
                size_t left = iov[i].iov_len;

                while (left > 0) {
                        ssize_t k = write(fd, p, left);

                        if (k < 0) {
                                if (errno == EINTR)
                                        continue;
                                return negative_errno();
                        }
                        p += k;
                        left -= k;
                }
        }
        return 0;
}

/*
 * The entry in a memfd, sealed so that journald can mmap it knowing we can
 * no longer change it, passed as the only content of a datagram.
 */
static int send_memfd(JournalWriter *w, const struct iovec *iov, size_t n_iov) {
        _cleanup_(closep) int mfd = -EBADF;
        union {
                struct cmsghdr cmsghdr;
                uint8_t buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct msghdr mh = {
                .msg_control = &control,
                .msg_controllen = sizeof(control),
        };
        struct cmsghdr *cmsg;
        int r;

        mfd = memfd_create("http-tracer-journal", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return negative_errno();

        r = write_all_iov(mfd, iov, n_iov);
        if (r < 0)
                return r;

        if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                return negative_errno();

        cmsg = CMSG_FIRSTHDR(&mh);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &mfd, sizeof(int));

        if (sendmsg(w->fd, &mh, MSG_NOSIGNAL) < 0)
                return negative_errno();
        return 0;
}

/* One attempt, never blocking. Returns 0 or the negative errno of the send. */
static int send_iov(JournalWriter *w, const struct iovec *iov, size_t n_iov, size_t size) {
        struct msghdr mh = {
                .msg_iov = (struct iovec *) iov,
                .msg_iovlen = n_iov,
        };

        if (!w->connected)
                return -ENOTCONN;

        if (size <= JOURNAL_DATAGRAM_MAX) {
                if (sendmsg(w->fd, &mh, MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno != EMSGSIZE && errno != ENOBUFS)
                        return negative_errno();
        }
        return send_memfd(w, iov, n_iov);
}

static int send_queue_entry(JournalWriter *w, const QueueEntry *q) {
        struct iovec iov = { (void *) q->data, q->size };

        return send_iov(w, &iov, 1, q->size);
}

/* ---- connection ---------------------------------------------------------- */

static int writer_connect(JournalWriter *w) {
        if (connect(w->fd, (const struct sockaddr *) &w->sa, w->sa_len) < 0)
                return negative_errno();
        if (w->was_connected)
                w->reconnects++;
        w->connected = w->was_connected = true;
        w->backoff_usec = 0;
        w->block_gave_up = false;
        return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata);
static int writer_drain(JournalWriter *w, size_t max);
static void writer_update_io(JournalWriter *w);

static void writer_schedule_retry(JournalWriter *w) {
        int r;

        /* After the loop ended (flush at exit) the flush reconnects itself: not an error. */
        if (!w->event || sd_event_get_state(w->event) == SD_EVENT_FINISHED)
                return;

        w->backoff_usec = w->backoff_usec == 0 ? JOURNAL_RECONNECT_MIN_USEC :
                MIN(w->backoff_usec * 2, (uint64_t) JOURNAL_RECONNECT_MAX_USEC);

        if (w->retry_source) {
                r = sd_event_source_set_time_relative(w->retry_source, w->backoff_usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(w->retry_source, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(w->event, &w->retry_source, CLOCK_MONOTONIC,
                                               w->backoff_usec, 0, on_retry, w);
        if (r < 0) {
                /* Then only a flush reconnects; meanwhile the queue fills to its
                 * bound and drops are counted: degraded, never stuck or unbounded. */
                w->stats->output_errors++;
                log_debug_errno(r, "Failed to arm journal reconnect timer: %m");
        }
}

static void writer_disconnected(JournalWriter *w, int error) {
        if (w->connected) {
                log_debug_errno(error, "Journal socket lost, will reconnect: %m");
                w->stats->output_errors++;
        }
        w->connected = false;
        writer_schedule_retry(w);
        writer_update_io(w);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        JournalWriter *w = ASSERT_PTR(userdata);
        int r;

        r = writer_connect(w);
        if (r < 0) {
                writer_schedule_retry(w);
                return 0;
        }
        log_debug("Reconnected to journal socket %s", w->sa.sun_path);
        (void) writer_drain(w, JOURNAL_DRAIN_BATCH);
        return 0;
}

/* ---- the queue ----------------------------------------------------------- */

static void stats_set_queued(JournalWriter *w) {
        w->stats->entries_queued = w->n_queued;
}

static int queue_push(JournalWriter *w, const struct iovec *iov, size_t n_iov, size_t size, EntryKind kind) {
        QueueEntry *q;
        uint8_t *p;

        if (w->n_queued >= w->max_entries || w->queued_bytes + size > w->max_bytes ||
            !entry_kinds_room(&w->kinds, kind)) {
                entry_kinds_count(w->stats, kind, false, 1);
                return -ENOBUFS;
        }

        q = malloc(offsetof(QueueEntry, data) + size);
        if (!q) {
                entry_kinds_count(w->stats, kind, false, 1);
                return -ENOBUFS;
        }
        (void) entry_kinds_push(&w->kinds, kind);
        q->next = NULL;
        q->size = size;
        p = q->data;
        for (size_t i = 0; i < n_iov; i++) {
                memcpy(p, iov[i].iov_base, iov[i].iov_len);
                p += iov[i].iov_len;
        }

        if (w->tail)
                w->tail->next = q;
        else
                w->head = q;
        w->tail = q;
        w->n_queued++;
        w->queued_bytes += size;
        stats_set_queued(w);
        return 0;
}

/* The oldest entry leaves the queue, counted as delivered or dropped. */
static void queue_pop(JournalWriter *w, bool delivered) {
        QueueEntry *q = w->head;

        entry_kinds_pop_count(&w->kinds, w->stats, delivered, 1);
        w->head = q->next;
        if (!w->head)
                w->tail = NULL;
        w->n_queued--;
        w->queued_bytes -= q->size;
        free(q);
        stats_set_queued(w);
}

/* Returns how many entries were dropped. */
static size_t queue_drop_all(JournalWriter *w) {
        size_t n = w->n_queued;

        while (w->head)
                queue_pop(w, false);
        return n;
}

static int on_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        JournalWriter *w = ASSERT_PTR(userdata);

        (void) writer_drain(w, JOURNAL_DRAIN_BATCH);
        return 0;
}

/* EPOLLOUT only while connected with something queued: otherwise a datagram
 * socket is always writable and the loop would spin. */
static void writer_update_io(JournalWriter *w) {
        bool want = w->connected && w->head;
        int r;

        /* After the loop ended (flush at exit) the flush sends synchronously; sd-event would
         * refuse with -ESTALE, which is not an output error (as in syslog-writer.c). */
        if (!w->event || sd_event_get_state(w->event) == SD_EVENT_FINISHED)
                return;

        if (!w->io_source) {
                if (!want)
                        return;
                r = sd_event_add_io(w->event, &w->io_source, w->fd, EPOLLOUT, on_writable, w);
                if (r < 0) {
                        w->stats->output_errors++;
                        log_debug_errno(r, "Failed to watch journal socket: %m");
                }
                return;
        }

        r = sd_event_source_set_enabled(w->io_source, want ? SD_EVENT_ON : SD_EVENT_OFF);
        if (r < 0) {
                w->stats->output_errors++;
                log_debug_errno(r, "Failed to toggle journal socket watch: %m");
        }
}

/*
 * Send queued entries in order until the queue is empty, journald pushes
 * back, the connection is lost, or max entries went. Returns 0, -EAGAIN,
 * or -ENOTCONN.
 */
static int writer_drain(JournalWriter *w, size_t max) {
        int r = 0;

        for (size_t i = 0; w->head && i < max; i++) {
                r = send_queue_entry(w, w->head);
                if (r >= 0) {
                        queue_pop(w, true);
                        continue;
                }
                if (r == -EAGAIN)
                        break;
                if (errno_is_disconnect(r)) {
                        writer_disconnected(w, r);
                        return -ENOTCONN;
                }
                /* This entry will never go: drop it, keep the rest moving. */
                log_debug_errno(r, "Failed to send queued journal entry, dropping: %m");
                w->stats->output_errors++;
                queue_pop(w, false);
                r = 0;
        }

        writer_update_io(w);
        return r == -EAGAIN ? -EAGAIN : 0;
}

/* ---- public -------------------------------------------------------------- */

int journal_writer_new(const char *path, sd_event *event, Stats *stats, JournalWriter **ret) {
        _cleanup_(journal_writer_freep) JournalWriter *w = NULL;
        int r, sz = JOURNAL_SNDBUF_SIZE;

        if (!ret)
                return -EINVAL;
        if (!path)
                path = getenv(JOURNAL_SOCKET_ENV);
        if (!path || !*path)
                path = JOURNAL_SOCKET_PATH;
        if (strlen(path) >= sizeof(((struct sockaddr_un *) NULL)->sun_path))
                return -EINVAL;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->fd = -EBADF;
        w->stats = stats ?: &w->own_stats;
        w->max_entries = JOURNAL_QUEUE_MAX_ENTRIES;
        w->max_bytes = JOURNAL_QUEUE_MAX_BYTES;
        w->block_timeout_usec = JOURNAL_BLOCK_TIMEOUT_USEC;
        w->sa.sun_family = AF_UNIX;
        strcpy(w->sa.sun_path, path);
        w->sa_len = offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
        if (event)
                w->event = sd_event_ref(event);

        w->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (w->fd < 0)
                return negative_errno();

        /* Best effort: a smaller buffer only means EAGAIN (and queueing) sooner. */
        if (setsockopt(w->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
                (void) setsockopt(w->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));

        r = writer_connect(w);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(w);
        return 0;
}

JournalWriter *journal_writer_free(JournalWriter *w) {
        if (!w)
                return NULL;

        /* Whatever was not flushed is lost: say so in the counters. */
        (void) queue_drop_all(w);
        sd_event_source_disable_unref(w->io_source);
        sd_event_source_disable_unref(w->retry_source);
        sd_event_unref(w->event);
        safe_close(w->fd);
        return mfree(w);
}

/* No event loop: wait for journald, bounded, rather than queue with nobody to drain. */
static int send_blocking(JournalWriter *w, const struct iovec *iov, size_t n_iov, size_t size) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + w->block_timeout_usec;

        for (;;) {
                uint64_t now, left_ms;
                int r;

                if (!w->connected) {
                        r = writer_connect(w);
                        if (r >= 0)
                                continue;       /* connected: send on the next turn */
                } else {
                        r = send_iov(w, iov, n_iov, size);
                        if (r >= 0) {
                                w->block_gave_up = false;
                                return 0;
                        }
                        if (errno_is_disconnect(r))
                                w->connected = false;
                }
                if (r != -EAGAIN && !errno_is_disconnect(r))
                        return r;

                now = now_usec(CLOCK_MONOTONIC);
                if (w->block_gave_up || now >= deadline) {
                        w->block_gave_up = true;
                        return -ETIMEDOUT;
                }
                left_ms = (deadline - now + 999) / 1000;

                if (w->connected) {
                        struct pollfd p = { .fd = w->fd, .events = POLLOUT };

                        if (poll(&p, 1, (int) MIN(left_ms, (uint64_t) INT32_MAX)) < 0 && errno != EINTR)
                                return negative_errno();
                } else
                        /* journald away: look again shortly, until the deadline */
                        (void) poll(NULL, 0, (int) MIN(left_ms, (uint64_t) JOURNAL_RECONNECT_MIN_USEC / 1000));
        }
}

int journal_writer_send(JournalWriter *w, const FormatField *fields, size_t n_fields, EntryKind kind) {
        struct iovec iov[FORMAT_FIELDS_MAX * IOV_PER_FIELD];
        uint64_t lens[FORMAT_FIELDS_MAX];
        size_t n_iov, size;
        int r;

        if (!w || (!fields && n_fields > 0))
                return -EINVAL;
        if (n_fields > FORMAT_FIELDS_MAX)
                return -E2BIG;

        r = build_iovec(fields, n_fields, iov, lens, &n_iov, &size);
        if (r < 0)
                return r;

        if (!w->event) {
                r = send_blocking(w, iov, n_iov, size);
                entry_kinds_count(w->stats, kind, r >= 0, 1);
                if (r >= 0)
                        return 0;
                log_debug_errno(r, "Failed to send journal entry, dropping: %m");
                w->stats->output_errors++;
                return r == -ETIMEDOUT ? -ENOBUFS : r;
        }

        /* Normally EPOLLOUT drains the queue; if watching the socket failed,
         * each new entry gives the queue a chance instead. */
        if (w->head && w->connected && !w->io_source)
                (void) writer_drain(w, JOURNAL_DRAIN_BATCH);

        /* Order: nothing overtakes what is already queued. */
        if (w->head || !w->connected)
                return queue_push(w, iov, n_iov, size, kind);

        r = send_iov(w, iov, n_iov, size);
        if (r >= 0) {
                entry_kinds_count(w->stats, kind, true, 1);
                return 0;
        }
        if (r == -EAGAIN) {
                r = queue_push(w, iov, n_iov, size, kind);
                writer_update_io(w);
                return r;
        }
        if (errno_is_disconnect(r)) {
                writer_disconnected(w, r);
                return queue_push(w, iov, n_iov, size, kind);
        }

        log_debug_errno(r, "Failed to send journal entry, dropping: %m");
        w->stats->output_errors++;
        entry_kinds_count(w->stats, kind, false, 1);
        return r;
}

int journal_writer_flush(JournalWriter *w, uint64_t timeout_usec) {
        uint64_t deadline;

        if (!w)
                return 0;

        deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        while (w->head) {
                uint64_t now;
                int r;

                if (!w->connected)
                        (void) writer_connect(w);
                r = w->connected ? writer_drain(w, SIZE_MAX) : -ENOTCONN;
                if (!w->head)
                        break;

                now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline)
                        break;

                if (r == -EAGAIN) {
                        struct pollfd p = { .fd = w->fd, .events = POLLOUT };
                        uint64_t left_ms = (deadline - now + 999) / 1000;

                        (void) poll(&p, 1, (int) MIN(left_ms, (uint64_t) INT32_MAX));
                } else
                        (void) poll(NULL, 0, (int) MIN((deadline - now + 999) / 1000,
                                                       (uint64_t) JOURNAL_RECONNECT_MIN_USEC / 1000));
        }

        if (queue_drop_all(w) > 0) {
                writer_update_io(w);
                return -ETIMEDOUT;
        }
        writer_update_io(w);
        return 0;
}

size_t journal_writer_queued(const JournalWriter *w) {
        return w ? w->n_queued : 0;
}

void journal_writer_set_limits(JournalWriter *w, size_t max_entries, size_t max_bytes, uint64_t block_timeout_usec) {
        if (!w)
                return;
        if (max_entries > 0)
                w->max_entries = max_entries;
        if (max_bytes > 0)
                w->max_bytes = max_bytes;
        if (block_timeout_usec > 0)
                w->block_timeout_usec = block_timeout_usec;
}

uint64_t journal_writer_reconnects(const JournalWriter *w) {
        return w ? w->reconnects : 0;
}
