/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The records decoder: the only user-space reader of the ring-buffer records
 * (bpf/abi.h). It checks each record's size before reading it, copies it
 * out (records are only 8-byte aligned), translates it into the connection
 * layer's words and calls the connection layer (conn/conn.h) with decoded
 * calls. Pure: no BPF, no event loop; the ring buffer and --replay both feed
 * it.
 */
#pragma once

#include <stddef.h>

#include "conn/conn.h"
#include "conn/stats.h"

/*
 * One record. Bad records (too short, unknown type, a length that does not
 * add up, a protocol no handler parses) are counted in stats->records_invalid
 * and ignored; records for connections not open in records_orphan. Returns 0
 * for those; negative only on an internal failure such as ENOMEM.
 */
int records_dispatch(ConnTable *t, Stats *stats, const void *data, size_t size);
