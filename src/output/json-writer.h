/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Entries as JSON lines: one object per entry per line, with the journal's
 * field names (entry.h), numbers as JSON numbers. Written without blocking
 * the event loop when the output can block (pipe, terminal, socket): lines
 * wait in a bounded buffer until the fd is writable; what does not fit is
 * dropped and counted. Regular files are written directly.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "basic/macro.h"
#include "conn/stats.h"
#include "output/entry-kinds.h"
#include "output/entry.h"

/*
 * Lines buffered while the reader (jq, a pager, a log shipper) is slower
 * than the traffic: ~4000 typical entries, a few seconds of a busy server.
 * Beyond it entries are dropped rather than memory grown.
 */
#define JSON_BUFFER_MAX (4u * 1024u * 1024u)

typedef struct JsonWriter JsonWriter;

/**
 * json_writer_new() - write JSON lines to an fd
 * @fd: where to write (normally STDOUT_FILENO); not closed by the writer
 * @event: event loop to wait for writability in; NULL for plain blocking
 *         writes (replay: nothing else needs the thread)
 * @stats: counters (entries_written, entries_queued, entries_dropped,
 *         output_errors); may be NULL
 * @ret: the new writer
 *
 * With an event loop, a pipe, FIFO or terminal that is not already
 * non-blocking is reopened through /proc/self/fd with O_NONBLOCK (a new
 * open file description: the flags of the one shared with the parent are
 * left alone); a socket is written with MSG_DONTWAIT; a regular file or
 * block device is written directly. If the reopen fails, writes block.
 *
 * Return: 0 on success, negative errno (-EBADF for a bad fd).
 */
int json_writer_new(int fd, sd_event *event, Stats *stats, JsonWriter **ret);

/**
 * json_writer_new_path() - append JSON lines to a file
 * @path: absolute path; created with mode 0640 if missing
 * @event, @stats, @ret: as for json_writer_new()
 *
 * Opened with O_APPEND. A file that ends in a partial line (left by a crash)
 * has that line removed first, and a write that fails after part of a line
 * went out (full disk) is cut back to the last whole line: the file only
 * ever holds whole lines.
 *
 * Return: 0, or negative errno from open().
 */
int json_writer_new_path(const char *path, sd_event *event, Stats *stats, JsonWriter **ret);

/**
 * json_writer_reopen() - reopen the file after it was rotated (SIGUSR1)
 * @w: the writer
 *
 * What is buffered is written to the old file first; then the path is
 * opened again (logrotate has renamed the old one away). On failure the
 * old file is kept and an output error counted. A writer of an fd
 * (stdout) has nothing to reopen.
 *
 * Return: 0, or negative errno from open().
 */
int json_writer_reopen(JsonWriter *w);

JsonWriter *json_writer_free(JsonWriter *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(JsonWriter *, json_writer_free);

/**
 * json_writer_write() - write one entry as one line
 * @w: the writer
 * @fields: the entry's fields
 * @n_fields: how many
 * @kind: an exchange or the daemon's own entry: counted apart (entry-kinds.h)
 *
 * Return: 0 when written or buffered; -ENOBUFS when dropped (buffer full;
 * counted); other negative errno when writing failed (counted as an output
 * error, and the buffered lines as dropped).
 */
int json_writer_write(JsonWriter *w, const FormatField *fields, size_t n_fields, EntryKind kind);

/**
 * json_writer_flush() - write out the buffer before exiting
 * @w: the writer
 * @timeout_usec: how long to wait for the reader in total
 *
 * Return: 0 when the buffer was emptied, -ETIMEDOUT when lines were dropped.
 */
int json_writer_flush(JsonWriter *w, uint64_t timeout_usec);

/* Lines in the buffer (a line partly written counts until its end is). */
size_t json_writer_queued(const JsonWriter *w);

/**
 * json_format_line() - one entry as a JSON object and a newline
 * @buf: output
 * @size: its size; json_line_size_max() is always enough
 * @fields: the entry's fields
 * @n_fields: how many
 *
 * Return: the length written (no NUL is added), or -ENOBUFS if @size is short.
 */
ssize_t json_format_line(char *buf, size_t size, const FormatField *fields, size_t n_fields);

/* Upper bound of json_format_line()'s output for these fields. */
size_t json_line_size_max(const FormatField *fields, size_t n_fields);
