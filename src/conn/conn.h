/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The connection layer: turns the kernel's records (or a replay of them)
 * into per-connection byte streams and hands them to the protocol handler
 * named by the connection (HTTP/1 today). It owns connection lifetimes,
 * the idle timeout, and the caps on how many connections and how much
 * memory peers can make us hold. Pure: no BPF, no journald, no event loop;
 * the daemon tells it the time and what to do when a connection is dropped.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn/exchange.h"
#include "conn/protocol.h"
#include "conn/stats.h"

typedef struct ConnTable ConnTable;

/* Defaults for every cap, with their reasons in conn.c. */
extern const Limits limits_default;

/*
 * Called when user space gives up a connection the kernel still tracks
 * (idle expiry, process exit), so the kernel side can forget or re-announce
 * it. reannounce: the connection may still be alive; have the kernel
 * classify it again and send CONN_OPEN on its next message start.
 */
typedef void (*ConnForgetFn)(void *userdata, const ConnInfo *info, bool reannounce);

int conn_table_new(const Limits *limits, Stats *stats, const ExchangeSink *sink, ConnTable **ret);
ConnTable *conn_table_free(ConnTable *t);

void conn_table_set_forget(ConnTable *t, ConnForgetFn fn, void *userdata);
/* Replace the caps (reload). Existing connections keep their state. */
void conn_table_set_limits(ConnTable *t, const Limits *limits);

/*
 * One ring-buffer record. Sizes are checked before anything is read; bad
 * records are counted in stats and ignored (returns 0). Negative only on
 * an internal failure such as ENOMEM.
 */
int conn_table_handle_record(ConnTable *t, const void *data, size_t size);

/* Give up connections idle for limits->idle_timeout_ns at time now_ns (CLOCK_MONOTONIC). */
void conn_table_expire(ConnTable *t, uint64_t now_ns);

/* Finish and free every connection (shutdown, or end of a replay). */
void conn_table_finish_all(ConnTable *t, uint64_t now_ns, ExchangeEndReason reason);

size_t conn_table_size(const ConnTable *t);
size_t conn_table_memory(const ConnTable *t);
/* Timestamp of the newest record seen (replay uses it as "now"). */
uint64_t conn_table_last_timestamp(const ConnTable *t);
