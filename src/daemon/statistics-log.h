/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's "Statistics:" line on stderr (at exit, after a replay): the
 * rows of STATISTICS_ROWS (conn/stats.h), as the statistics entries
 * (docs/journal-fields.md), with the meanings of the status answer
 * (docs/control-protocol.md). "exchanges" is every exchange the protocols
 * finished: complete + no_response + uncorrelated, as HTTP_TRACER_EXCHANGES
 * and the status line's "Tracing: N exchanges".
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "conn/stats.h"

/* sd_notify's STATUS= line: "Tracing: N exchanges, N dropped, N connections". */
void statistics_status(const Stats *s, const uint64_t kernel[static _KERNEL_COUNTER_MAX], size_t conns,
                       char *buf, size_t size);

void statistics_log(const Stats *s, const uint64_t kernel[static _KERNEL_COUNTER_MAX]);
