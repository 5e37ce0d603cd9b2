/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Entries to a syslog receiver: a unix datagram socket, UDP, or TCP with
 * RFC 6587 octet-counting framing. Never blocks the event loop: sockets are
 * non-blocking, messages wait in a bounded queue while the receiver is slow
 * or away, what does not fit is dropped and counted, and a lost connection
 * is re-established from an sd-event timer with bounded exponential backoff.
 *
 * TCP: a frame stays in the queue until the peer's kernel has acknowledged
 * it (SIOCOUTQ), so frames in flight when the connection breaks are sent
 * again on the next one rather than lost silently. What the receiving
 * daemon had acknowledged but not yet read when it died is lost without a
 * trace: plain TCP syslog cannot know (RELP exists for that).
 * UDP: a datagram refused with ICMP port unreachable surfaces as
 * ECONNREFUSED on a later send and is counted as dropped; other UDP losses
 * are invisible to the sender.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "basic/macro.h"
#include "conn/stats.h"
#include "output/entry-kinds.h"
#include "output/entry.h"
#include "output/syslog-format.h"

/* First reconnect attempt after a loss, doubling up to the maximum. */
#define SYSLOG_RECONNECT_MIN_USEC (100 * UINT64_C(1000))
#define SYSLOG_RECONNECT_MAX_USEC (5 * USEC_PER_SEC)
/* How often unacknowledged TCP frames are checked for their acknowledgement. */
#define SYSLOG_ACK_CHECK_USEC (50 * UINT64_C(1000))
/* Queue bounds accepted by syslog_writer_new(). */
#define SYSLOG_QUEUE_MIN (64u * 1024u)
#define SYSLOG_QUEUE_MAX (1024u * 1024u * 1024u)

typedef struct SyslogWriterOptions {
        SyslogTarget target;
        SyslogFormat format;          /* AUTO: RFC 3164 on a unix socket, RFC 5424 on the network */
        int facility;                 /* 0..23 */
        int severity;                 /* 0..7 or SYSLOG_SEVERITY_ENTRY */
        size_t message_max;           /* SYSLOG_MESSAGE_MIN..SYSLOG_MESSAGE_MAX */
        size_t queue_max;             /* bytes of queued frames, SYSLOG_QUEUE_MIN..SYSLOG_QUEUE_MAX */
} SyslogWriterOptions;

typedef struct SyslogWriter SyslogWriter;

/**
 * syslog_writer_new() - start writing to a syslog receiver
 * @o: target and format
 * @event: event loop for writability, reconnects and acknowledgements;
 *         NULL: every send waits (up to 5 s, then only tries) instead (replay)
 * @stats: counters (entries_written, entries_queued, entries_dropped,
 *         output_errors); may be NULL
 * @ret: the writer
 *
 * A host name is resolved here, once. A receiver that is not there yet is
 * not an error: messages queue and the connection is retried.
 *
 * Return: 0, -EINVAL for bad options, -EADDRNOTAVAIL when the host name
 * does not resolve, other negative errno.
 */
int syslog_writer_new(const SyslogWriterOptions *o, sd_event *event, Stats *stats, SyslogWriter **ret);
SyslogWriter *syslog_writer_free(SyslogWriter *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(SyslogWriter *, syslog_writer_free);

/**
 * syslog_writer_send() - format one entry and send or queue it
 * @kind: an exchange or the daemon's own entry: counted apart (entry-kinds.h)
 *
 * Return: 0 when sent or queued; -ENOBUFS when dropped (queue full; counted).
 */
int syslog_writer_send(SyslogWriter *w, const FormatField *fields, size_t n_fields, EntryKind kind);

/* Deliver the queue (TCP: until acknowledged) for at most timeout_usec; the rest is dropped. */
int syslog_writer_flush(SyslogWriter *w, uint64_t timeout_usec);

/* Messages queued (TCP: including sent ones not yet acknowledged). */
size_t syslog_writer_queued(const SyslogWriter *w);
/* Connections re-established after a loss. */
uint64_t syslog_writer_reconnects(const SyslogWriter *w);
/* Messages whose values were cut to fit message_max. */
uint64_t syslog_writer_truncated(const SyslogWriter *w);
/* Whether the socket is connected now. */
bool syslog_writer_connected(const SyslogWriter *w);
