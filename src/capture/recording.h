/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --record / --replay: the raw ring-buffer records in a file behind a
 * versioned header (struct ht_record_file_header), so that a capture from
 * a real load can be fed through the exact same user-space pipeline later,
 * without BPF or root: tests, fuzzing and benchmarks use it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "bpf/abi.h"

/* Largest record accepted from a file: a data record with a full payload, with room to spare. */
#define RECORD_MAX_SIZE (64u * 1024)

typedef struct Recorder Recorder;

int recorder_open(const char *path, uint32_t payload_max, Recorder **ret);
/* Buffered; a failed write is returned once and the recorder stops writing. */
int recorder_write(Recorder *r, const void *data, size_t size);
/* Flushes and closes; returns the first error seen, if any. */
int recorder_close(Recorder *r);

typedef int (*ReplayFn)(void *userdata, const void *data, size_t size);

/*
 * Read a recording and call fn for each record, in order. A record's data
 * is only 4-byte aligned (the file's length prefixes): fn copies, doesn't
 * cast, as it must for the ring buffer's records anyway. Returns the
 * number of records, or -EBADMSG on a bad header, a version we do not
 * read, or a truncated/oversized record (records before it were delivered).
 */
int replay_file(const char *path, struct ht_record_file_header *ret_header, ReplayFn fn, void *userdata);
