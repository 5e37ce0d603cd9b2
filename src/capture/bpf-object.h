/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The BPF object (bpf/http-tracer.bpf.c): loading it, attaching its data
 * sources (source.h; the syscall tracepoints today), draining its ring
 * buffer into a callback, its counters, its connection and filter maps.
 * Checks what the kernel and our privileges allow first, so that a missing
 * feature gives one clear message saying what to do.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/kernel-filter.h"
#include "conn/conn-info.h"
#include "conn/stats.h"
#include "bpf/abi.h"

typedef struct BpfTracerOptions {
        uint32_t payload_max;      /* bytes captured per record, <= HT_PAYLOAD_CAP */
        uint32_t ringbuf_size;     /* power of two, >= page size */
        uint32_t conns_max;        /* kernel connection map entries */
        uint64_t wakeup_bytes;     /* pending bytes that wake user space; 0 = every record */
        bool tls;                  /* attach the TLS source (capture_source_openssl) */
        bool tls_follow;           /* tls, and rescan for library files that appear later */
        const KernelFilter *filter;/* applied after load, before attach; NULL: trace everything */
} BpfTracerOptions;

extern const BpfTracerOptions bpf_tracer_options_default;

typedef struct BpfTracer BpfTracer;
typedef int (*BpfRecordFn)(void *userdata, const void *data, size_t size);

/* Logs its own errors (once); the caller only exits. */
int bpf_tracer_new(const BpfTracerOptions *o, BpfRecordFn fn, void *userdata, BpfTracer **ret);
BpfTracer *bpf_tracer_free(BpfTracer *t);

int bpf_tracer_epoll_fd(BpfTracer *t);
/* Deliver every pending record to fn. Returns records consumed or negative errno. */
int bpf_tracer_consume(BpfTracer *t);
/* Sum of the per-CPU counters. */
int bpf_tracer_read_counters(BpfTracer *t, uint64_t ret[_KERNEL_COUNTER_MAX]);
unsigned bpf_tracer_programs_attached(const BpfTracer *t);
/*
 * One bounded step of following what appeared since start (the TLS source:
 * library files mapped by processes scanned in this step). Needs the
 * privileges of attaching (kept when o->tls_follow). Returns the number of
 * newly attached files, 0 when the sources follow nothing, or negative errno.
 */
int bpf_tracer_rescan(BpfTracer *t);
/* Bytes used by the BPF maps (from their definitions). */
uint64_t bpf_tracer_map_memory(const BpfTracer *t);
/* Bytes in the ring buffer written by the kernel and not yet read (0 if unknown). */
uint64_t bpf_tracer_ringbuf_used(const BpfTracer *t);
/*
 * Make f (NULL: none) the kernel filter, atomically: every connection is
 * decided again under it on its next syscall; one already reported to user
 * space that f excludes gets a CONN_CLOSE with HT_CLOSE_FILTERED. Uses only
 * map fds and memory mapped at load, so it works with no capabilities left.
 * On failure the running filter stays in force. Cgroup entries with id 0
 * (unresolved units) match nothing.
 */
int bpf_tracer_set_filter(BpfTracer *t, const KernelFilter *f);
/*
 * Forget a connection in the kernel map, or have it re-classified and
 * re-announced; the request starts it lost and no record reported are
 * counted in exchanges_lost_unseen (bpf_tracer_read_counters()), once.
 */
void bpf_tracer_forget(BpfTracer *t, const ConnInfo *info, bool reannounce);
/* Of a connection's unreported lost message starts, the requests: by role (HT_ROLE_*), else the larger. */
uint32_t bpf_tracer_unreported_requests(uint8_t role, uint32_t lost_starts_ingress, uint32_t lost_starts_egress);
