/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON lines on stdout. The formatter has already made every value
 * printable UTF-8; this file only adds JSON's own escaping and the
 * non-blocking plumbing: a bounded buffer of whole lines, written when the
 * fd is writable. Lines are appended whole or not at all, and the buffer is
 * written strictly in order, so a reader never sees a line cut by another
 * (a partial write leaves the rest of the line at the buffer's head).
 */

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#include "basic/byte-queue.h"
#include "basic/log.h"
#include "basic/utf8.h"
#include "output/json-writer.h"

/* First allocation of the line buffer; it doubles up to JSON_BUFFER_MAX. */
#define JSON_BUFFER_INITIAL (64u * 1024u)

typedef enum JsonMode {
        JSON_MODE_DIRECT,       /* blocking write(): regular files, no event loop, or no way around it */
        JSON_MODE_NONBLOCK,     /* write() on a non-blocking fd */
        JSON_MODE_SOCKET,       /* send(MSG_DONTWAIT) */
} JsonMode;

struct JsonWriter {
        int fd;                 /* what we write to: the caller's fd or our reopened one */
        int own_fd;             /* the reopened fd, closed on free; -EBADF if none */
        JsonMode mode;
        bool regular;           /* a regular file: a cut line can be taken back (ftruncate) */
        char *path;             /* the file we opened (json_writer_new_path()), reopened on request */

        sd_event *event;
        sd_event_source *io_source;

        ByteQueue q;            /* head: first byte not yet written */
        size_t n_lines;         /* lines whose newline is not written yet */

        Stats *stats;
        Stats own_stats;
        EntryKinds kinds;       /* which buffered lines are the daemon's own */
};

/* ---- encoding ------------------------------------------------------------ */

/* Worst case per input byte: a control character, "\u00XX" (6 bytes). */
#define JSON_ESCAPE_MAX_RATIO 6u

static size_t json_escape(char *out, const char *value, size_t n) {
        static const char hex[] = "0123456789abcdef";
        const uint8_t *s = (const uint8_t *) value;
        size_t o = 0;

        for (size_t i = 0; i < n;) {
                uint8_t c = s[i];
                size_t k;

                if (c == '"' || c == '\\') {
                        out[o++] = '\\';
                        out[o++] = (char) c;
                        i++;
                } else if (c < 0x20 || c == 0x7f) {
                        memcpy(out + o, "\\u00", 4);
                        out[o + 4] = hex[c >> 4];
                        out[o + 5] = hex[c & 0xf];
                        o += 6;
                        i++;
                } else if (c < 0x80) {
                        out[o++] = (char) c;
                        i++;
                } else if ((k = utf8_sequence_len(s + i, n - i)) > 0) {
                        memcpy(out + o, s + i, k);
                        o += k;
                        i += k;
                } else {
                        /* JSON text must be UTF-8 (RFC 8259 §8.1). The formatter
                         * never produces this; if a value does, say so visibly. */
                        memcpy(out + o, "\\ufffd", 6);
                        o += 6;
                        i++;
                }
        }
        return o;
}

static bool is_json_number(const FormatField *f) {
        /* Digits only, no leading zero: the formatter's numbers. Anything else stays a string. */
        if (f->type != FORMAT_NUMBER || f->len == 0 || f->len > 20)
                return false;
        if (f->len > 1 && f->value[0] == '0')
                return false;
        for (size_t i = 0; i < f->len; i++)
                if (f->value[i] < '0' || f->value[i] > '9')
                        return false;
        return true;
}

size_t json_line_size_max(const FormatField *fields, size_t n_fields) {
        size_t size = 3;        /* "{", "}", "\n" */

        for (size_t i = 0; i < n_fields; i++)
                /* ,"NAME":"value" */
                size += 6 + strlen(fields[i].name) * JSON_ESCAPE_MAX_RATIO + fields[i].len * JSON_ESCAPE_MAX_RATIO;
        return size;
}

ssize_t json_format_line(char *buf, size_t size, const FormatField *fields, size_t n_fields) {
        size_t o = 0;

        if (size < json_line_size_max(fields, n_fields))
                return -ENOBUFS;

        buf[o++] = '{';
        for (size_t i = 0; i < n_fields; i++) {
                const FormatField *f = &fields[i];

                if (i > 0)
                        buf[o++] = ',';
                buf[o++] = '"';
                o += json_escape(buf + o, f->name, strlen(f->name));
                buf[o++] = '"';
                buf[o++] = ':';
                if (is_json_number(f)) {
                        memcpy(buf + o, f->value, f->len);
                        o += f->len;
                } else {
                        buf[o++] = '"';
                        o += json_escape(buf + o, f->value, f->len);
                        buf[o++] = '"';
                }
        }
        buf[o++] = '}';
        buf[o++] = '\n';
        return (ssize_t) o;
}

/* ---- writing ------------------------------------------------------------- */

static void stats_set_queued(JsonWriter *w) {
        w->stats->entries_queued = w->n_lines;
}

static ssize_t write_some(JsonWriter *w, const char *p, size_t n) {
        ssize_t k;

        do {
                if (w->mode == JSON_MODE_SOCKET)
                        k = send(w->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
                else
                        k = write(w->fd, p, n);
        } while (k < 0 && errno == EINTR);

        return k < 0 ? negative_errno() : k;
}

/* Count the lines whose end just went out. */
static void account_written(JsonWriter *w, size_t from, size_t to) {
        const char *p = w->q.buf + from, *end = w->q.buf + to;

        while (p < end && (p = memchr(p, '\n', end - p))) {
                w->n_lines--;
                entry_kinds_pop_count(&w->kinds, w->stats, true, 1);
                p++;
        }
}

static void drop_buffer(JsonWriter *w) {
        entry_kinds_pop_count(&w->kinds, w->stats, false, w->n_lines);
        w->n_lines = 0;
        w->q.head = w->q.tail = 0;
        stats_set_queued(w);
}

static int on_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/*
 * A write failed after part of a line went out (disk full, file size
 * limit): on a regular file, cut the file back to its last whole line, so
 * that readers never see half a JSON object.
 */
static void take_back_partial_line(JsonWriter *w) {
        size_t start = w->q.head;
        off_t end;

        while (start > 0 && w->q.buf[start - 1] != '\n')
                start--;
        if (!w->regular || start == w->q.head)
                return;
        end = lseek(w->fd, 0, SEEK_CUR);
        if (end < 0 || ftruncate(w->fd, end - (off_t) (w->q.head - start)) < 0)
                log_debug_errno(errno, "Failed to remove a partly written JSON line: %m");
}

static void update_io(JsonWriter *w) {
        bool want = w->q.head < w->q.tail;
        int r;

        /* After the loop ended (flush at exit) there is nothing to watch: not an error. */
        if (!w->event || w->mode == JSON_MODE_DIRECT || sd_event_get_state(w->event) == SD_EVENT_FINISHED)
                return;
        if (!w->io_source) {
                if (!want)
                        return;
                r = sd_event_add_io(w->event, &w->io_source, w->fd, EPOLLOUT, on_writable, w);
        } else
                r = sd_event_source_set_enabled(w->io_source, want ? SD_EVENT_ON : SD_EVENT_OFF);
        if (r < 0) {
                /* The buffer stays; the next entry tries to write again. */
                w->stats->output_errors++;
                log_debug_errno(r, "Failed to watch JSON output fd: %m");
        }
}

/*
 * Write as much of the buffer as the fd takes. Returns 0 when it is empty,
 * -EAGAIN when the fd is full, other negative errno on failure (the buffer
 * is then dropped and counted: the reader is most likely gone).
 */
static int write_buffer(JsonWriter *w) {
        while (w->q.head < w->q.tail) {
                ssize_t k = write_some(w, w->q.buf + w->q.head, w->q.tail - w->q.head);

                if (k == -EAGAIN)
                        break;
                if (k < 0) {
                        log_debug_errno((int) k, "Failed to write JSON output: %m");
                        w->stats->output_errors++;
                        take_back_partial_line(w);
                        drop_buffer(w);
                        update_io(w);
                        return (int) k;
                }
                account_written(w, w->q.head, w->q.head + k);
                w->q.head += k;
        }

        if (w->q.head == w->q.tail)
                w->q.head = w->q.tail = 0;
        stats_set_queued(w);
        update_io(w);
        return w->q.head < w->q.tail ? -EAGAIN : 0;
}

static int on_writable(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        JsonWriter *w = ASSERT_PTR(userdata);

        (void) write_buffer(w);
        return 0;
}

int json_writer_write(JsonWriter *w, const FormatField *fields, size_t n_fields, EntryKind kind) {
        size_t max;
        ssize_t n;
        bool was_empty;
        int r;

        if (!w || (!fields && n_fields > 0))
                return -EINVAL;

        /* Whole lines only: reserve the worst case, then encode in place. */
        max = json_line_size_max(fields, n_fields);
        if (!entry_kinds_room(&w->kinds, kind) || byte_queue_reserve(&w->q, max) < 0) {
                entry_kinds_count(w->stats, kind, false, 1);
                return -ENOBUFS;
        }
        n = json_format_line(w->q.buf + w->q.tail, w->q.allocated - w->q.tail, fields, n_fields);
        if (n < 0) {
                entry_kinds_count(w->stats, kind, false, 1);
                return (int) n;
        }
        (void) entry_kinds_push(&w->kinds, kind);
        was_empty = w->q.head == w->q.tail;
        w->q.tail += n;
        w->n_lines++;
        stats_set_queued(w);

        /* Something queued means we already wait for EPOLLOUT: don't try in
         * between (unless watching the fd failed: then every line tries). */
        if (!was_empty && w->mode != JSON_MODE_DIRECT && w->io_source)
                return 0;

        r = write_buffer(w);
        if (r == -EAGAIN)
                return 0;
        return r;
}

int json_writer_flush(JsonWriter *w, uint64_t timeout_usec) {
        uint64_t deadline;

        if (!w)
                return 0;

        deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        while (w->q.head < w->q.tail) {
                struct pollfd p = { .fd = w->fd, .events = POLLOUT };
                uint64_t now;

                if (write_buffer(w) != -EAGAIN)
                        break;
                now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline)
                        break;
                if (poll(&p, 1, (int) MIN((deadline - now + 999) / 1000, (uint64_t) INT32_MAX)) < 0 &&
                    errno != EINTR)
                        break;
        }

        if (w->n_lines > 0) {
                /* A reader that stalled mid-line sees that line cut: unavoidable without blocking. */
                drop_buffer(w);
                update_io(w);
                return -ETIMEDOUT;
        }
        return 0;
}

size_t json_writer_queued(const JsonWriter *w) {
        return w ? w->n_lines : 0;
}

int json_writer_new(int fd, sd_event *event, Stats *stats, JsonWriter **ret) {
        _cleanup_(json_writer_freep) JsonWriter *w = NULL;
        struct stat st;
        int flags;

        if (!ret)
                return -EINVAL;
        if (fd < 0 || fstat(fd, &st) < 0)
                return -EBADF;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->fd = fd;
        w->own_fd = -EBADF;
        w->q = BYTE_QUEUE_INIT(JSON_BUFFER_INITIAL, JSON_BUFFER_MAX);
        w->stats = stats ?: &w->own_stats;
        w->mode = JSON_MODE_DIRECT;
        w->regular = S_ISREG(st.st_mode);

        /* Regular files and block devices never wait for a reader; without a
         * loop there is nothing else to do than wait. */
        if (event && !S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
                flags = fcntl(fd, F_GETFL);
                if (S_ISSOCK(st.st_mode))
                        w->mode = JSON_MODE_SOCKET;
                else if (flags >= 0 && (flags & O_NONBLOCK))
                        w->mode = JSON_MODE_NONBLOCK;
                else {
                        char path[64];

                        /* Our own open file description of the same pipe or tty, so
                         * that O_NONBLOCK does not leak to the process that gave us
                         * stdout (a shell would find its terminal non-blocking). */
                        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                        w->own_fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                        if (w->own_fd >= 0) {
                                w->fd = w->own_fd;
                                w->mode = JSON_MODE_NONBLOCK;
                        } else
                                log_debug_errno(errno, "Cannot reopen fd %d non-blocking, writing JSON blocking: %m", fd);
                }
                w->event = sd_event_ref(event);
        }

        *ret = TAKE_PTR(w);
        return 0;
}

/* How far back a cut last line is looked for; far more than any line we write. */
#define JSON_REPAIR_WINDOW (1024 * 1024)

/*
 * A file that does not end in a newline ends in a line cut by a crash (or
 * by someone else): remove that partial line, so the next line starts on a
 * line of its own and every line stays one JSON object. Return: the number
 * of bytes removed.
 */
static int repair_tail(int fd, uint64_t *ret_removed) {
        _cleanup_(freep) char *buf = NULL;
        struct stat st;
        off_t from;
        ssize_t n;

        *ret_removed = 0;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || st.st_size == 0)
                return 0;
        from = st.st_size > JSON_REPAIR_WINDOW ? st.st_size - JSON_REPAIR_WINDOW : 0;
        buf = malloc(st.st_size - from);
        if (!buf)
                return -ENOMEM;
        n = pread(fd, buf, st.st_size - from, from);
        if (n < 0)
                return negative_errno();
        if (n == 0 || buf[n - 1] == '\n')
                return 0;
        for (ssize_t i = n - 1; i >= 0; i--)
                if (buf[i] == '\n' || (i == 0 && from == 0)) {
                        off_t keep = from + (buf[i] == '\n' ? i + 1 : 0);

                        if (ftruncate(fd, keep) < 0)
                                return negative_errno();
                        *ret_removed = (uint64_t) (st.st_size - keep);
                        return 0;
                }
        /* No line start within the window: end the stray text instead of guessing. */
        return write(fd, "\n", 1) == 1 ? 0 : negative_errno();
}

/* Read-write: the tail is read back to find a cut last line. */
static int open_path(const char *path) {
        _cleanup_(closep) int fd = -EBADF;
        uint64_t removed;
        int r;

        fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0)
                return negative_errno();
        r = repair_tail(fd, &removed);
        if (r < 0)
                return r;
        if (removed > 0)
                log_warning("%s ended in a partly written line (a crash or a full disk); removed its %" PRIu64 " bytes.",
                            path, removed);
        return TAKE_FD(fd);
}

int json_writer_new_path(const char *path, sd_event *event, Stats *stats, JsonWriter **ret) {
        _cleanup_(json_writer_freep) JsonWriter *w = NULL;
        _cleanup_(closep) int fd = -EBADF;
        int r;

        if (!path || path[0] != '/' || !ret)
                return -EINVAL;
        fd = open_path(path);
        if (fd < 0)
                return fd;
        r = json_writer_new(fd, event, stats, &w);
        if (r < 0)
                return r;
        w->path = strdup(path);
        if (!w->path)
                return -ENOMEM;
        /* The writer may have reopened it non-blocking (a FIFO); ours stays open only if it did not. */
        if (w->own_fd < 0)
                w->own_fd = TAKE_FD(fd);
        *ret = TAKE_PTR(w);
        return 0;
}

int json_writer_reopen(JsonWriter *w) {
        _cleanup_(json_writer_freep) JsonWriter *n = NULL;
        int r;

        if (!w)
                return -EINVAL;
        if (!w->path)
                return 0;   /* stdout: nothing to reopen */

        /* Lines already buffered go to the old file: they were written before the rotation. */
        (void) json_writer_flush(w, 0);

        r = json_writer_new_path(w->path, w->event, w->stats, &n);
        if (r < 0) {
                w->stats->output_errors++;
                return r;   /* keep writing to the old file */
        }
        w->io_source = sd_event_source_disable_unref(w->io_source);
        safe_close(w->own_fd);
        w->fd = n->fd;
        w->own_fd = TAKE_FD(n->own_fd);
        w->mode = n->mode;
        w->regular = n->regular;
        return 0;
}

JsonWriter *json_writer_free(JsonWriter *w) {
        if (!w)
                return NULL;

        drop_buffer(w);
        sd_event_source_disable_unref(w->io_source);
        sd_event_unref(w->event);
        safe_close(w->own_fd);
        byte_queue_done(&w->q);
        free(w->path);
        return mfree(w);
}
