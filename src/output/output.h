/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where exchanges go: a fan-out over the configured sinks (journal, JSON
 * lines, syslog), several at once. Each exchange is formatted once
 * (fields.h), after redaction, and every sink consumes the same fields, so
 * field selection and redaction are identical everywhere. Every sink is
 * non-blocking toward the event loop and bounded: a slow or absent receiver
 * costs counted drops in that sink only, never a stall or unbounded memory.
 */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "basic/macro.h"
#include "conn/exchange.h"
#include "conn/stats.h"
#include "output/syslog-writer.h"

struct Config;

typedef enum OutputKind {
        OUTPUT_JOURNAL,      /* journald's native protocol on our own non-blocking socket */
        OUTPUT_JSON,         /* one JSON object per line on stdout or to a file */
        OUTPUT_SYSLOG,       /* RFC 5424/3164 to a unix socket, UDP or TCP */
        OUTPUT_NONE,         /* format nothing, send nothing (benchmarks) */
        _OUTPUT_KIND_MAX,
        _OUTPUT_KIND_INVALID = -EINVAL,
} OutputKind;

/* Bits of OutputOptions.sinks: one per kind; 0 is "none". */
#define OUTPUT_SINK(kind) (1u << (kind))
#define OUTPUT_SINKS_MAX 3u

typedef struct OutputOptions {
        unsigned sinks;              /* OUTPUT_SINK(OUTPUT_JOURNAL) | ...; 0: none */
        const char *json_path;       /* NULL or "": stdout. Only read by output_new() */
        SyslogWriterOptions syslog;  /* when OUTPUT_SINK(OUTPUT_SYSLOG) is set */
} OutputOptions;

/* Counters of one sink, for status and statistics. */
typedef struct OutputSinkStats {
        const char *name;            /* "journal", "json", "syslog" */
        const char *target;          /* socket path, file, "stdout", "udp://host:port" ... */
        uint64_t written;            /* exchange entries accepted by the receiver (TCP: acknowledged) */
        uint64_t dropped;            /* exchange entries given up: queue full, receiver gone at exit */
        uint64_t daemon_written;     /* the daemon's own entries (statistics, warnings, summaries) accepted */
        uint64_t daemon_dropped;     /* the daemon's own entries given up */
        uint64_t errors;             /* failed sends/writes, lost connections (a reconnect is not one) */
        uint64_t queued;             /* entries of either kind waiting now */
        uint64_t reconnects;         /* connections re-established (syslog, journal) */
        uint64_t truncated;          /* messages cut to the size bound (syslog) */
} OutputSinkStats;

typedef struct Output Output;

const char *output_kind_to_string(OutputKind k);
OutputKind output_kind_from_string(const char *s);

/*
 * The output configuration from the settings (output.types, output.json_path,
 * output.syslog.*). json_path points into c. Return: 0, or -EINVAL for a
 * value the configuration checks should have refused.
 */
int output_options_from_config(const struct Config *c, OutputOptions *ret);
/* Registers the checks of the output.syslog.* values with the configuration layer (config_register_checks()). */
int output_register_config_checks(void);

/* One sink, nothing else configured (tests, benchmarks). */
OutputOptions output_options_single(OutputKind kind);

/*
 * Create the output. event may be NULL (replay into a blocking sink is then
 * allowed to wait). Returns -ENOENT when the journal sink is configured and
 * journald's socket is absent, so the caller can say so plainly; a JSON file
 * that cannot be opened fails with open()'s error; a syslog receiver that is
 * not there yet is not an error (messages queue, the sink reconnects).
 */
int output_new(const OutputOptions *o, sd_event *event, Stats *stats, Output **ret);
Output *output_free(Output *o);
DEFINE_TRIVIAL_CLEANUP_FUNC(Output *, output_free);

/*
 * Optional fields and priorities (fields.h) for the exchanges formatted from
 * now on; not owned: it must stay valid until replaced or the output freed.
 * NULL: the formatter's defaults.
 */
struct FormatOptions;
void output_set_format(Output *o, const struct FormatOptions *format);

/*
 * Format and send (or queue) one exchange to every sink. Never blocks.
 * Return: 0, or the error of the last sink that failed (already counted).
 */
int output_exchange(Output *o, const Exchange *x);

/* Send (or queue) an entry formatted elsewhere: the daemon's own summaries. Never blocks. */
struct FormatEntry;
int output_entry(Output *o, const struct FormatEntry *e);

/* Try to deliver what is queued, waiting at most timeout_usec in all; what remains is counted as dropped. */
int output_flush(Output *o, uint64_t timeout_usec);

/* Entries waiting in the sinks' queues. */
size_t output_queued(const Output *o);

/* Reopen files (SIGUSR1, after logrotate renamed them). Return: 0, or the first error (the old file stays). */
int output_reopen(Output *o);

/*
 * The sinks' counters, current (this also folds them into the Stats given
 * to output_new(): entries_written/dropped/queued and output_errors are the
 * sums over all sinks). Return: the number of sinks; *ret valid until the
 * next call on o.
 */
size_t output_sinks(Output *o, const OutputSinkStats **ret);

/* stats-reset: each sink's cumulative counters (not queued) count from zero again in output_sinks(). */
void output_stats_reset(Output *o);

/* Names of the configured sinks ("journal+syslog", "none"), for messages. */
const char *output_describe(const Output *o, char *buf, size_t size);
