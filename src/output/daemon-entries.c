/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's own entries, beside the traffic's: the periodic statistics,
 * the warning that records or entries were dropped, and the rate limit's
 * summary. Same builder and escaping as the exchange entries (entry.h);
 * their fields are in docs/journal-fields.md, their ids in the catalog.
 */

#include <inttypes.h>
#include <stdio.h>
#include <syslog.h>

#include "basic/macro.h"
#include "conn/stats.h"               /* STATISTICS_ROWS, KERNEL_COUNTER_* */
#include "output/daemon-entries.h"
#include "protocols/registry.h"       /* the protocols' own counters, named by them */

static int entry_add_common(FormatEntry *e, const char *message_id, int priority) {
        TRY(entry_addf(e, "PRIORITY", FORMAT_NUMBER, "%d", priority));
        TRY(entry_add_str(e, "MESSAGE_ID", message_id));
        return entry_add_str(e, "SYSLOG_IDENTIFIER", FORMAT_SYSLOG_IDENTIFIER);
}

/* A field named <prefix><SUFFIX> (upper-cased, as a header's); the name lives in the entry's storage. */
static int entry_add_named_u64(FormatEntry *e, const char *prefix, const char *suffix, uint64_t v) {
        char name[FORMAT_FIELD_NAME_MAX + 1];
        EntryBuilder b;

        if (format_header_field_name(name, prefix, suffix) < 0)
                return -EINVAL;
        b = entry_builder_start(e, strlen(name));
        entry_builder_puts(&b, name);
        if (b.overflow)
                return -ENOBUFS;
        e->used += b.len + 1;
        return entry_add_u64(e, b.buf, v);
}

/* A field named HTTP_TRACER_OUTPUT_<OUTPUT>_<WHAT>. */
static int entry_add_output_u64(FormatEntry *e, const char *output, const char *what, uint64_t v) {
        char suffix[FORMAT_FIELD_NAME_MAX + 1];

        snprintf(suffix, sizeof(suffix), "%s_%s", output, what);
        return entry_add_named_u64(e, "HTTP_TRACER_OUTPUT_", suffix, v);
}

/*
 * Every row of the Statistics: line (STATISTICS_ROWS, the same table), then
 * the protocols' own counters as HTTP_TRACER_<NAME>, as on the line.
 */
static int entry_add_statistics_rows(FormatEntry *e, const Stats *s, const uint64_t k[static _KERNEL_COUNTER_MAX]) {
        const char *name;
        uint64_t v;

#define X(key, field, value) TRY(entry_add_u64(e, "HTTP_TRACER_" #field, (uint64_t) (value)));
        STATISTICS_ROWS(X)
#undef X
        for (size_t i = 0; (name = protocol_registry_counter(s, i, &v)); i++)
                TRY(entry_add_named_u64(e, "HTTP_TRACER_", name, v));
        return 0;
}

static void builder_size(EntryBuilder *b, uint64_t bytes) {
        if (bytes < 1024 * 1024)
                entry_builder_printf(b, "%" PRIu64 " KiB", (bytes + 1023) / 1024);
        else
                entry_builder_printf(b, "%" PRIu64 ".%" PRIu64 " MiB", bytes / (1024 * 1024),
                               bytes % (1024 * 1024) * 10 / (1024 * 1024));
}

int format_statistics(FormatEntry *e, const FormatStatistics *s) {
        static const uint64_t no_kernel[_KERNEL_COUNTER_MAX];
        const Stats *st;
        const uint64_t *k;
        uint64_t exchanges, logged, ringbuf, dropped;
        size_t n_outputs;
        char dur[FORMAT_DURATION_MAX];
        EntryBuilder b;

        if (!e || !s || !s->stats)
                return -EINVAL;
        st = s->stats;
        entry_reset(e);

        k = s->kernel ?: no_kernel;
        exchanges = statistics_exchanges(st);
        logged = statistics_logged(st);
        ringbuf = k[KERNEL_COUNTER_RINGBUF_DROPS];
        dropped = statistics_dropped(st, k);
        n_outputs = s->outputs ? MIN(s->n_outputs, (size_t) FORMAT_STATISTICS_OUTPUTS_MAX) : 0;

        b = entry_builder_start(e, FORMAT_MESSAGE_MAX);
        entry_builder_printf(&b, "Statistics: %" PRIu64 " exchanges, %" PRIu64 " logged (%" PRIu64 " filtered, %" PRIu64
                       " sampled out, %" PRIu64 " rate-limited), %" PRIu64 " without response, %" PRIu64
                       " uncorrelated, %" PRIu64 " parse errors; %" PRIu64 " dropped (%" PRIu64 " in the kernel, %"
                       PRIu64 " exchange entries); %" PRIu64 " connections, ",
                       exchanges, logged, st->exchanges_filtered, st->exchanges_sampled_out,
                       st->exchanges_rate_limited, st->exchanges_no_response, st->exchanges_uncorrelated,
                       st->parse_errors, dropped, ringbuf, st->entries_dropped, s->connections_tracked);
        builder_size(&b, s->memory_bytes);
        entry_builder_puts(&b, " buffered");
        if (s->interval_usec > 0)
                entry_builder_printf(&b, "; every %s", format_duration(dur, s->interval_usec * NSEC_PER_USEC));
        entry_builder_puts(&b, ".");
        TRY(entry_builder_commit(e, &b, "MESSAGE", FORMAT_STRING));
        TRY(entry_add_common(e, FORMAT_MESSAGE_ID_STATISTICS, LOG_INFO));

        TRY(entry_add_statistics_rows(e, st, k));
        for (size_t i = 0; i < n_outputs; i++) {
                const FormatOutputStats *o = &s->outputs[i];

                if (!o->name || !*o->name)
                        return -EINVAL;
                TRY(entry_add_output_u64(e, o->name, "WRITTEN", o->written));
                TRY(entry_add_output_u64(e, o->name, "DROPPED", o->dropped));
                TRY(entry_add_output_u64(e, o->name, "QUEUED", o->queued));
        }
        TRY(entry_add_u64(e, "HTTP_TRACER_CONNECTIONS", s->connections_tracked));
        TRY(entry_add_u64(e, "HTTP_TRACER_MEMORY_BYTES", s->memory_bytes));
        TRY(entry_add_u64(e, "HTTP_TRACER_INTERVAL_USEC", s->interval_usec));
        return 0;
}

static const char *const drop_reason_table[_FORMAT_DROP_REASON_MAX] = {
        [FORMAT_DROP_RING_BUFFER] = "ring-buffer-full",
        [FORMAT_DROP_OUTPUT_QUEUE] = "output-queue-full",
};

const char *format_drop_reason_to_string(FormatDropReason r) {
        if ((unsigned) r >= ELEMENTSOF(drop_reason_table))
                return NULL;
        return drop_reason_table[r];
}

int format_drops(FormatEntry *e, const FormatDrops *d) {
        EntryBuilder b;

        if (!e || !d || !format_drop_reason_to_string(d->reason))
                return -EINVAL;
        entry_reset(e);

        b = entry_builder_start(e, FORMAT_MESSAGE_MAX);
        if (d->reason == FORMAT_DROP_RING_BUFFER)
                entry_builder_printf(&b, "%" PRIu64 " records dropped in the kernel since the last report: the ring buffer "
                               "was full. Their bytes are reported as gaps; affected exchanges are flagged.",
                               d->dropped);
        else {
                entry_builder_printf(&b, "%" PRIu64 " exchange entries and %" PRIu64 " of the daemon's own entries "
                                     "dropped since the last report: the ", d->dropped, d->daemon_dropped);
                if (d->output)
                        entry_builder_escape(&b, d->output, strlen(d->output), FORMAT_VALUE_MAX);
                entry_builder_puts(&b, d->output ? " output" : "output");
                entry_builder_puts(&b, " did not keep up (queue full or receiver gone).");
        }
        TRY(entry_builder_commit(e, &b, "MESSAGE", FORMAT_STRING));
        TRY(entry_add_common(e, FORMAT_MESSAGE_ID_DROPS, LOG_WARNING));
        TRY(entry_add_u64(e, "HTTP_TRACER_DROPPED", d->dropped));
        TRY(entry_add_u64(e, "HTTP_TRACER_DROPPED_TOTAL", d->total));
        TRY(entry_add_str(e, "HTTP_TRACER_DROP_REASON", format_drop_reason_to_string(d->reason)));
        if (d->reason == FORMAT_DROP_OUTPUT_QUEUE)
                TRY(entry_add_u64(e, "HTTP_TRACER_DAEMON_ENTRIES_DROPPED", d->daemon_dropped));
        if (d->output)
                TRY(entry_add_escaped(e, "HTTP_TRACER_OUTPUT", d->output, strlen(d->output), FORMAT_VALUE_MAX, NULL));
        return 0;
}

bool format_statistics_due(uint64_t now_usec, uint64_t interval_usec, uint64_t *last_usec) {
        if (interval_usec == 0)
                return false;
        if (*last_usec == 0 || now_usec < *last_usec) {
                *last_usec = now_usec;
                return false;
        }
        if (now_usec - *last_usec < interval_usec)
                return false;
        *last_usec = now_usec;
        return true;
}

int format_rate_limit_summary(FormatEntry *e, uint64_t refused, uint64_t passed, uint64_t interval_ns,
                              uint64_t per_second, uint64_t burst) {
        char d[FORMAT_DURATION_MAX], msg[256];

        if (!e)
                return -EINVAL;
        e->n_fields = 0;
        e->used = 0;
        e->n_truncated = 0;

        snprintf(msg, sizeof(msg),
                 "Rate limit: %" PRIu64 " exchanges not logged in the last %s (%" PRIu64 " logged; limit %" PRIu64
                 "/s, burst %" PRIu64 ")",
                 refused, format_duration(d, interval_ns), passed, per_second, burst);
        TRY(entry_add_str(e, "MESSAGE", msg));
        TRY(entry_addf(e, "PRIORITY", FORMAT_NUMBER, "%d", LOG_NOTICE));
        TRY(entry_add_str(e, "MESSAGE_ID", FORMAT_MESSAGE_ID_RATE_LIMITED));
        TRY(entry_add_str(e, "SYSLOG_IDENTIFIER", FORMAT_SYSLOG_IDENTIFIER));
        TRY(entry_add_u64(e, "HTTP_TRACER_RATE_LIMITED", refused));
        TRY(entry_add_u64(e, "HTTP_TRACER_RATE_LIMIT_PASSED", passed));
        TRY(entry_add_u64(e, "HTTP_TRACER_INTERVAL_USEC", interval_ns / NSEC_PER_USEC));
        TRY(entry_add_u64(e, "HTTP_TRACER_RATE_LIMIT", per_second));
        TRY(entry_add_u64(e, "HTTP_TRACER_RATE_LIMIT_BURST", burst));
        return 0;
}
