/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Output front end (output.h): one formatter, one of three sinks. The
 * formatted entry lives in the Output itself, so an exchange costs no
 * allocation on its way out unless the sink has to queue it.
 */

#include <stdio.h>
#include <string.h>

#include "format.h"
#include "journal-writer.h"
#include "json-writer.h"
#include "log.h"
#include "output.h"

struct Output {
        OutputKind kind;
        Stats *stats;
        Stats own_stats;
        JournalWriter *journal;
        JsonWriter *json;
        FormatEntry entry;      /* reused for every exchange */
        const FormatOptions *format;   /* not owned; NULL: the formatter's defaults */
};

static const char *const output_kind_table[_OUTPUT_KIND_MAX] = {
        [OUTPUT_JOURNAL] = "journal",
        [OUTPUT_JSON]    = "json",
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

int output_new(OutputKind kind, sd_event *event, Stats *stats, Output **ret) {
        _cleanup_(output_freep) Output *o = NULL;
        int r;

        if (!ret || (unsigned) kind >= _OUTPUT_KIND_MAX)
                return -EINVAL;

        o = calloc(1, sizeof(*o));
        if (!o)
                return -ENOMEM;
        o->kind = kind;
        o->stats = stats ?: &o->own_stats;

        switch (kind) {
        case OUTPUT_JOURNAL:
                r = journal_writer_new(NULL, event, o->stats, &o->journal);
                /* A socket file nobody listens on is what a journald that died
                 * leaves behind: for the caller it is the same "not running". */
                if (r == -ECONNREFUSED) {
                        log_debug_errno(r, "Journal socket exists but nobody listens: %m");
                        r = -ENOENT;
                }
                if (r < 0)
                        return r;
                break;
        case OUTPUT_JSON:
                r = json_writer_new(STDOUT_FILENO, event, o->stats, &o->json);
                if (r < 0)
                        return r;
                break;
        default:
                break;
        }

        *ret = TAKE_PTR(o);
        return 0;
}

Output *output_free(Output *o) {
        if (!o)
                return NULL;

        journal_writer_free(o->journal);
        json_writer_free(o->json);
        return mfree(o);
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
        if (o->kind == OUTPUT_NONE) {
                o->stats->entries_written++;
                return 0;
        }

        r = format_exchange(&o->entry, x, o->format, o->stats);
        if (r < 0) {
                o->stats->output_errors++;
                o->stats->entries_dropped++;
                return r;
        }

        if (o->kind == OUTPUT_JOURNAL)
                return journal_writer_send(o->journal, o->entry.fields, o->entry.n_fields);
        return json_writer_write(o->json, o->entry.fields, o->entry.n_fields);
}

int output_flush(Output *o, uint64_t timeout_usec) {
        if (!o)
                return 0;
        if (o->journal)
                return journal_writer_flush(o->journal, timeout_usec);
        if (o->json)
                return json_writer_flush(o->json, timeout_usec);
        return 0;
}

size_t output_queued(const Output *o) {
        if (!o)
                return 0;
        return journal_writer_queued(o->journal) + json_writer_queued(o->json);
}
