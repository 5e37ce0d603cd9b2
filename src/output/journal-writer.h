/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Entries to journald over its native protocol
 * (https://systemd.io/JOURNAL_NATIVE_PROTOCOL/), on our own non-blocking
 * datagram socket. sd_journal_sendv() blocks without limit when journald is
 * alive but not reading; this writer never does. What journald cannot take
 * right now waits in a bounded queue drained from the event loop; what does
 * not fit in the queue is dropped and counted.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "basic/macro.h"
#include "conn/stats.h"
#include "output/entry-kinds.h"
#include "output/entry.h"

#define JOURNAL_SOCKET_PATH "/run/systemd/journal/socket"
/* Overrides the socket path (tests, journald in a container). */
#define JOURNAL_SOCKET_ENV  "HTTP_TRACER_JOURNAL_SOCKET"

/*
 * Queue bounds while journald is slow, stalled or restarting. 16384 entries
 * is about 0.4 s of journald's measured ceiling (~38k entries/s): a restart
 * or a short stall passes without loss, a long one costs counted drops
 * rather than memory. 16 MiB bounds the memory whatever the entry sizes
 * (a typical entry is ~1 KiB, the formatter's largest ~14 KiB).
 */
#define JOURNAL_QUEUE_MAX_ENTRIES 16384u
#define JOURNAL_QUEUE_MAX_BYTES   (16u * 1024u * 1024u)

/*
 * Without an event loop (replay) an entry may wait this long for journald
 * to take it, since nothing else needs the thread; after one such timeout
 * entries are tried once each until journald accepts one again.
 */
#define JOURNAL_BLOCK_TIMEOUT_USEC (5u * USEC_PER_SEC)

typedef struct JournalWriter JournalWriter;

/**
 * journal_writer_new() - open a writer to journald
 * @path: socket path; NULL for $HTTP_TRACER_JOURNAL_SOCKET or else
 *        /run/systemd/journal/socket
 * @event: event loop for draining the queue and reconnecting; NULL to wait
 *         (bounded by JOURNAL_BLOCK_TIMEOUT_USEC) in journal_writer_send()
 *         instead of queueing
 * @stats: counters (entries_written, entries_queued, entries_dropped,
 *         output_errors); may be NULL
 * @ret: the new writer
 *
 * Return: 0 on success; -ENOENT when the socket does not exist (journald
 * is not running); -ECONNREFUSED when it exists but nobody listens (a stale
 * socket: journald is not running either); other negative errno.
 */
int journal_writer_new(const char *path, sd_event *event, Stats *stats, JournalWriter **ret);

/* Connections to journald re-established after it went away or restarted (for status and the daemon's log). */
uint64_t journal_writer_reconnects(const JournalWriter *w);

JournalWriter *journal_writer_free(JournalWriter *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(JournalWriter *, journal_writer_free);

/**
 * journal_writer_send() - send one entry, or queue it
 * @w: the writer
 * @fields: the entry's fields; names must be valid journal field names
 * @n_fields: how many
 * @kind: an exchange or the daemon's own entry: counted apart (entry-kinds.h)
 *
 * Never blocks when the writer has an event loop. Values may hold any
 * byte: one with a newline is sent in the binary-safe form. An entry too
 * big for one datagram goes in a sealed memfd. Entries keep their order:
 * while anything is queued, new entries queue behind it.
 *
 * Return: 0 when the entry was sent or queued; -ENOBUFS when it was
 * dropped (queue full; already counted, no need to log each); -EINVAL for
 * an invalid field name; other negative errno when the send failed in a way
 * that retrying will not fix (counted as an output error and a drop).
 */
int journal_writer_send(JournalWriter *w, const FormatField *fields, size_t n_fields, EntryKind kind);

/**
 * journal_writer_flush() - deliver the queue before exiting
 * @w: the writer
 * @timeout_usec: how long to wait for journald in total
 *
 * Blocks (poll) up to @timeout_usec, reconnecting if needed; what is still
 * queued then is counted as dropped and freed.
 *
 * Return: 0 if the queue was emptied, -ETIMEDOUT if entries were dropped.
 */
int journal_writer_flush(JournalWriter *w, uint64_t timeout_usec);

/* Entries waiting in the queue. */
size_t journal_writer_queued(const JournalWriter *w);

/* Override the queue bounds and the blocking timeout (tests, configuration); 0 keeps a value. */
void journal_writer_set_limits(JournalWriter *w, size_t max_entries, size_t max_bytes, uint64_t block_timeout_usec);
