/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The drop warnings and reconnect notices, from the housekeeping timer and
 * at stop: what the kernel dropped (ring buffer full) and what each output
 * gave up since the previous warning, each said once, as a structured entry
 * (and on stderr where that is not the journal again). Moved out of
 * manager.c, which keeps only the loop.
 */
#pragma once

#include <stdint.h>

#include "conn/stats.h"
#include "output/entry.h"
#include "output/output.h"

typedef struct DropReport {
        uint64_t ringbuf;                                /* ring-buffer drops reported so far */
        uint64_t sink_dropped[OUTPUT_SINKS_MAX];         /* each output's exchange entries dropped, reported */
        uint64_t sink_daemon_dropped[OUTPUT_SINKS_MAX];  /* ... and its own entries dropped, reported */
        uint64_t sink_reconnects[OUTPUT_SINKS_MAX];      /* reconnections logged */
} DropReport;

/* Sends the entry just formatted in the FormatEntry (r: the formatter's result) to the outputs. */
typedef void (*DropReportEmit)(void *userdata, int r, const char *what);

/**
 * drop_report_run() - warn about what was dropped since the last call
 * @d: what was reported so far (since start or stats-reset)
 * @o: the outputs (their per-sink counters)
 * @kernel: the kernel's counters since start or stats-reset; NULL without a tracer
 * @e: where each warning entry is formatted
 * @emit: sends @e
 * @userdata: for @emit
 */
void drop_report_run(DropReport *d, Output *o, const uint64_t *kernel, FormatEntry *e, DropReportEmit emit,
                     void *userdata);

/* stats-reset: the counters it compares with start from zero again. */
static inline void drop_report_reset(DropReport *d) {
        *d = (DropReport) {};
}
