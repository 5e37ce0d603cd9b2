/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Output front end (output.h): one formatter, a fan-out over up to one
 * sink of each kind. The formatted entry lives in the Output itself, so an
 * exchange costs no allocation on its way out unless a sink has to queue
 * it. Each sink counts into a Stats of its own (the writers keep a gauge,
 * entries_queued, that several sinks could not share); their changes are
 * added to the caller's Stats as deltas, so resetting those counters keeps
 * working.
 */

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "basic/log.h"
#include "config/configuration.h"
#include "output/fields.h"
#include "output/journal-writer.h"
#include "output/json-writer.h"
#include "output/output.h"

typedef struct Sink {
        OutputKind kind;
        Stats stats;             /* this sink's counters */
        Stats folded;            /* the part of them already added to Output.stats */
        OutputSinkStats base;    /* their values at the last output_stats_reset() */
        char target[300];
        JournalWriter *journal;
        JsonWriter *json;
        SyslogWriter *syslog;
} Sink;

struct Output {
        Stats *stats;
        Stats own_stats;
        Sink sinks[OUTPUT_SINKS_MAX];
        size_t n_sinks;
        OutputSinkStats sink_stats[OUTPUT_SINKS_MAX];
        FormatEntry entry;       /* reused for every exchange */
        const FormatOptions *format;   /* not owned; NULL: the formatter's defaults */
};

static const char *const output_kind_table[_OUTPUT_KIND_MAX] = {
        [OUTPUT_JOURNAL] = "journal",
        [OUTPUT_JSON]    = "json",
        [OUTPUT_SYSLOG]  = "syslog",
        [OUTPUT_NONE]    = "none",
};

const char *output_kind_to_string(OutputKind k) {
        if ((unsigned) k >= ELEMENTSOF(output_kind_table))
                return NULL;
        return output_kind_table[k];
}

OutputKind output_kind_from_string(const char *s) {
        if (!s)
                return _OUTPUT_KIND_INVALID;
        for (size_t i = 0; i < ELEMENTSOF(output_kind_table); i++)
                if (strcmp(s, output_kind_table[i]) == 0)
                        return (OutputKind) i;
        return _OUTPUT_KIND_INVALID;
}

OutputOptions output_options_single(OutputKind kind) {
        return (OutputOptions) {
                .sinks = kind == OUTPUT_NONE || (unsigned) kind >= _OUTPUT_KIND_MAX ? 0 : OUTPUT_SINK(kind),
        };
}

static const char *check_syslog_target(const char *v) {
        SyslogTarget t;
        const char *why = NULL;

        return syslog_target_parse(v, &t, &why) < 0 ? why : NULL;
}

static const char *check_syslog_format(const char *v) {
        return syslog_format_from_string(v) < 0 ? "expected auto, rfc5424 or rfc3164" : NULL;
}

static const char *check_syslog_facility(const char *v) {
        return syslog_facility_from_string(v) < 0 ?
                "expected a facility (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, "
                "ftp, local0 to local7) or 0 to 23" : NULL;
}

static const char *check_syslog_severity(const char *v) {
        return syslog_severity_from_string(v) == -EINVAL ?
                "expected entry, a level (emerg, alert, crit, err, warning, notice, info, debug) or 0 to 7" : NULL;
}

int output_register_config_checks(void) {
        static const ConfigConsumerCheck checks[] = {
                { CHECK_SYSLOG_TARGET,   check_syslog_target   },
                { CHECK_SYSLOG_FORMAT,   check_syslog_format   },
                { CHECK_SYSLOG_FACILITY, check_syslog_facility },
                { CHECK_SYSLOG_SEVERITY, check_syslog_severity },
                {}
        };
        return config_register_checks(checks);
}

int output_options_from_config(const Config *c, OutputOptions *ret) {
        OutputOptions o = {};
        int r;

        if (!c || !ret)
                return -EINVAL;
        if (c->output.types & CONFIG_OUTPUT_JOURNAL)
                o.sinks |= OUTPUT_SINK(OUTPUT_JOURNAL);
        if (c->output.types & CONFIG_OUTPUT_JSON)
                o.sinks |= OUTPUT_SINK(OUTPUT_JSON);
        if (c->output.types & CONFIG_OUTPUT_SYSLOG)
                o.sinks |= OUTPUT_SINK(OUTPUT_SYSLOG);
        o.json_path = c->output.json_path && c->output.json_path[0] ? c->output.json_path : NULL;

        r = syslog_target_parse(c->output.syslog.target, &o.syslog.target, NULL);
        if (r < 0)
                return r;
        o.syslog.format = syslog_format_from_string(c->output.syslog.format);
        o.syslog.facility = syslog_facility_from_string(c->output.syslog.facility);
        o.syslog.severity = syslog_severity_from_string(c->output.syslog.severity);
        if (o.syslog.format < 0 || o.syslog.facility < 0 ||
            (o.syslog.severity < 0 && o.syslog.severity != SYSLOG_SEVERITY_ENTRY))
                return -EINVAL;
        o.syslog.message_max = (size_t) c->output.syslog.message_max;
        o.syslog.queue_max = (size_t) c->output.syslog.queue_size;

        *ret = o;
        return 0;
}

static int sink_open(Sink *s, const OutputOptions *o, sd_event *event) {
        int r;

        switch (s->kind) {
        case OUTPUT_JOURNAL:
                snprintf(s->target, sizeof(s->target), "%s", getenv(JOURNAL_SOCKET_ENV) ?: JOURNAL_SOCKET_PATH);
                r = journal_writer_new(NULL, event, &s->stats, &s->journal);
                /* A socket file nobody listens on is what a journald that died
                 * leaves behind: for the caller it is the same "not running". */
                if (r == -ECONNREFUSED) {
                        log_debug_errno(r, "Journal socket exists but nobody listens: %m");
                        r = -ENOENT;
                }
                return r;
        case OUTPUT_JSON:
                snprintf(s->target, sizeof(s->target), "%s", o->json_path ?: "stdout");
                if (o->json_path)
                        return json_writer_new_path(o->json_path, event, &s->stats, &s->json);
                return json_writer_new(STDOUT_FILENO, event, &s->stats, &s->json);
        case OUTPUT_SYSLOG: {
                const SyslogTarget *t = &o->syslog.target;

                if (t->transport == SYSLOG_TRANSPORT_UNIX)
                        snprintf(s->target, sizeof(s->target), "unix:%s", t->path);
                else
                        snprintf(s->target, sizeof(s->target), "%s://%s%s%s:%u",
                                 t->transport == SYSLOG_TRANSPORT_TCP ? "tcp" : "udp", strchr(t->host, ':') ? "[" : "",
                                 t->host, strchr(t->host, ':') ? "]" : "", t->port);
                return syslog_writer_new(&o->syslog, event, &s->stats, &s->syslog);
        }
        default:
                return -EINVAL;
        }
}

int output_new(const OutputOptions *opts, sd_event *event, Stats *stats, Output **ret) {
        _cleanup_(output_freep) Output *o = NULL;
        int r;

        if (!opts || !ret || (opts->sinks & ~(OUTPUT_SINK(OUTPUT_JOURNAL) | OUTPUT_SINK(OUTPUT_JSON) |
                                               OUTPUT_SINK(OUTPUT_SYSLOG))))
                return -EINVAL;

        o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->stats = stats ?: &o->own_stats;

        for (OutputKind k = 0; k < OUTPUT_NONE; k++) {
                Sink *s;

                if (!(opts->sinks & OUTPUT_SINK(k)))
                        continue;
                s = &o->sinks[o->n_sinks++];
                s->kind = k;
                r = sink_open(s, opts, event);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(o);
        return 0;
}

Output *output_free(Output *o) {
        if (!o)
                return NULL;

        for (size_t i = 0; i < o->n_sinks; i++) {
                journal_writer_free(o->sinks[i].journal);
                json_writer_free(o->sinks[i].json);
                syslog_writer_free(o->sinks[i].syslog);
        }
        return mfree(o);
}

/* Add what the sinks counted since the last call to the caller's Stats. */
static void fold_stats(Output *o) {
        uint64_t queued = 0;

        for (size_t i = 0; i < o->n_sinks; i++) {
                Sink *s = &o->sinks[i];

                o->stats->entries_written += s->stats.entries_written - s->folded.entries_written;
                o->stats->entries_dropped += s->stats.entries_dropped - s->folded.entries_dropped;
                o->stats->daemon_entries_written += s->stats.daemon_entries_written - s->folded.daemon_entries_written;
                o->stats->daemon_entries_dropped += s->stats.daemon_entries_dropped - s->folded.daemon_entries_dropped;
                o->stats->output_errors += s->stats.output_errors - s->folded.output_errors;
                s->folded = s->stats;
                queued += s->stats.entries_queued;
        }
        o->stats->entries_queued = queued;
}

/* One entry to every sink; each counts it by its kind (entry-kinds.h). */
static int sinks_send(Output *o, const FormatEntry *e, EntryKind kind) {
        int r, ret = 0;

        if (o->n_sinks == 0) {
                entry_kinds_count(o->stats, kind, true, 1);
                return 0;
        }
        for (size_t i = 0; i < o->n_sinks; i++) {
                Sink *s = &o->sinks[i];

                if (s->journal)
                        r = journal_writer_send(s->journal, e->fields, e->n_fields, kind);
                else if (s->json)
                        r = json_writer_write(s->json, e->fields, e->n_fields, kind);
                else
                        r = syslog_writer_send(s->syslog, e->fields, e->n_fields, kind);
                if (r < 0)
                        ret = r;
        }
        fold_stats(o);
        return ret;
}

void output_set_format(Output *o, const FormatOptions *format) {
        if (o)
                o->format = format;
}

int output_exchange(Output *o, const Exchange *x) {
        int r;

        if (!o || !x)
                return -EINVAL;

        /* Benchmarks: the cost of everything up to here, nothing of formatting or I/O. */
        if (o->n_sinks == 0) {
                o->stats->entries_written++;
                return 0;
        }

        /* The one formatting of the exchange: every sink gets these same fields. */
        r = format_exchange(&o->entry, x, o->format, o->stats);
        if (r < 0) {
                o->stats->output_errors++;
                o->stats->entries_dropped++;
                return r;
        }
        return sinks_send(o, &o->entry, ENTRY_EXCHANGE);
}

int output_entry(Output *o, const FormatEntry *e) {
        if (!o || !e)
                return -EINVAL;
        return sinks_send(o, e, ENTRY_DAEMON);
}

int output_flush(Output *o, uint64_t timeout_usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        int r, ret = 0;

        if (!o)
                return 0;
        /* One deadline for all: a dead receiver cannot make the others wait longer. */
        for (size_t i = 0; i < o->n_sinks; i++) {
                Sink *s = &o->sinks[i];
                uint64_t now = now_usec(CLOCK_MONOTONIC), left = deadline > now ? deadline - now : 0;

                if (s->journal)
                        r = journal_writer_flush(s->journal, left);
                else if (s->json)
                        r = json_writer_flush(s->json, left);
                else
                        r = syslog_writer_flush(s->syslog, left);
                if (r < 0)
                        ret = r;
        }
        fold_stats(o);
        return ret;
}

size_t output_queued(const Output *o) {
        size_t n = 0;

        for (size_t i = 0; o && i < o->n_sinks; i++)
                n += journal_writer_queued(o->sinks[i].journal) + json_writer_queued(o->sinks[i].json) +
                     syslog_writer_queued(o->sinks[i].syslog);
        return n;
}

int output_reopen(Output *o) {
        int r, ret = 0;

        for (size_t i = 0; o && i < o->n_sinks; i++) {
                if (!o->sinks[i].json)
                        continue;
                r = json_writer_reopen(o->sinks[i].json);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        if (o)
                fold_stats(o);
        return ret;
}

size_t output_sinks(Output *o, const OutputSinkStats **ret) {
        if (!o) {
                if (ret)
                        *ret = NULL;
                return 0;
        }
        fold_stats(o);
        for (size_t i = 0; i < o->n_sinks; i++) {
                const Sink *s = &o->sinks[i];

                o->sink_stats[i] = (OutputSinkStats) {
                        .name = output_kind_to_string(s->kind),
                        .target = s->target,
                        .written = s->stats.entries_written - s->base.written,
                        .dropped = s->stats.entries_dropped - s->base.dropped,
                        .daemon_written = s->stats.daemon_entries_written - s->base.daemon_written,
                        .daemon_dropped = s->stats.daemon_entries_dropped - s->base.daemon_dropped,
                        .errors = s->stats.output_errors - s->base.errors,
                        .queued = s->stats.entries_queued,
                        .reconnects = syslog_writer_reconnects(s->syslog) +
                                      journal_writer_reconnects(s->journal) - s->base.reconnects,
                        .truncated = syslog_writer_truncated(s->syslog) - s->base.truncated,
                };
        }
        if (ret)
                *ret = o->sink_stats;
        return o->n_sinks;
}

void output_stats_reset(Output *o) {
        if (!o)
                return;
        for (size_t i = 0; i < o->n_sinks; i++) {
                Sink *s = &o->sinks[i];

                s->base = (OutputSinkStats) {
                        .written = s->stats.entries_written,
                        .dropped = s->stats.entries_dropped,
                        .daemon_written = s->stats.daemon_entries_written,
                        .daemon_dropped = s->stats.daemon_entries_dropped,
                        .errors = s->stats.output_errors,
                        .reconnects = syslog_writer_reconnects(s->syslog) + journal_writer_reconnects(s->journal),
                        .truncated = syslog_writer_truncated(s->syslog),
                };
        }
}

const char *output_describe(const Output *o, char *buf, size_t size) {
        size_t n = 0;

        if (size == 0)
                return buf;
        buf[0] = 0;
        for (size_t i = 0; o && i < o->n_sinks; i++)
                n += (size_t) snprintf(buf + MIN(n, size - 1), size - MIN(n, size - 1), "%s%s", i ? "+" : "",
                                       output_kind_to_string(o->sinks[i].kind));
        if (!buf[0])
                snprintf(buf, size, "none");
        return buf;
}
