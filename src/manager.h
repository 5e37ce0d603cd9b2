/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon: one sd-event loop around the BPF ring buffer (its epoll fd,
 * plus a drain timer that bounds the delay of batched wakeups), the
 * connection table, the output, signals, readiness and housekeeping. Also
 * the replay path, which runs the same pipeline from a recording.
 */
#pragma once

#include <stdint.h>

#include "bpf-tracer.h"
#include "output.h"
#include "protocol.h"
#include "stats.h"

typedef struct ManagerOptions {
        OutputKind output;
        const char *record_path;          /* NULL: no recording */
        BpfTracerOptions bpf;
        Limits limits;
        uint64_t drain_interval_usec;     /* upper bound on the delay before records are read */
        const struct Redactor *redactor;  /* masks secrets in every exchange before any output; NULL: none */
} ManagerOptions;

void manager_options_init(ManagerOptions *o);

typedef struct Manager Manager;

int manager_new(const ManagerOptions *o, Manager **ret);
Manager *manager_free(Manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

/* Trace the host until SIGTERM/SIGINT. Returns 0 on a clean stop. */
int manager_run(Manager *m);
/* Feed a recording through the pipeline. */
int manager_replay(Manager *m, const char *path);

const Stats *manager_stats(const Manager *m);
