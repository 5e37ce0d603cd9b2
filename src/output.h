/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where exchanges go. Every output formats through the same formatter
 * (format.h), is non-blocking toward the event loop and bounded: a slow or
 * absent receiver costs counted drops, never a stall or unbounded memory.
 */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "exchange.h"
#include "macro.h"
#include "stats.h"

typedef enum OutputKind {
        OUTPUT_JOURNAL,      /* journald's native protocol on our own non-blocking socket */
        OUTPUT_JSON,         /* one JSON object per line on stdout */
        OUTPUT_NONE,         /* format nothing, send nothing (benchmarks) */
        _OUTPUT_KIND_MAX,
        _OUTPUT_KIND_INVALID = -EINVAL,
} OutputKind;

typedef struct Output Output;

const char *output_kind_to_string(OutputKind k);
OutputKind output_kind_from_string(const char *s);

/*
 * Create an output. event may be NULL (replay into a blocking sink is then
 * allowed to wait). For OUTPUT_JOURNAL returns -ENOENT when journald's
 * socket is absent, so the caller can say so plainly.
 */
int output_new(OutputKind kind, sd_event *event, Stats *stats, Output **ret);
Output *output_free(Output *o);
DEFINE_TRIVIAL_CLEANUP_FUNC(Output *, output_free);

/*
 * Optional fields and priorities (format.h) for the exchanges formatted from
 * now on; not owned: it must stay valid until replaced or the output freed.
 * NULL: the formatter's defaults.
 */
struct FormatOptions;
void output_set_format(Output *o, const struct FormatOptions *format);

/* Format and send (or queue) one exchange. Never blocks. */
int output_exchange(Output *o, const Exchange *x);

/* Try to deliver what is queued, waiting at most timeout_usec; what remains is counted as dropped. */
int output_flush(Output *o, uint64_t timeout_usec);

/* Entries waiting in the output's queue. */
size_t output_queued(const Output *o);
