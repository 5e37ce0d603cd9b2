/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which entries in an output's queue are the daemon's own (statistics, drop
 * warnings, rate-limit summaries) and which are exchanges, so that each
 * kind is counted apart when it leaves the queue: entries_written and
 * entries_dropped are exchange entries only, daemon_entries_written and
 * daemon_entries_dropped the daemon's own (conn/stats.h). The served =
 * logged + counted equation is about exchanges; a dropped statistics entry
 * must not count as a dropped exchange.
 *
 * Entries leave a writer's queue in the order they entered it (sent, or
 * dropped from the front or all at once), so a sequence number per entry
 * and the sequence numbers of the few daemon entries queued are enough:
 * no per-entry storage in the writers' byte queues. Pure; no allocation.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "conn/stats.h"

typedef enum EntryKind {
        ENTRY_EXCHANGE,         /* one traced exchange */
        ENTRY_DAEMON,           /* the daemon's own: statistics, drop warnings, rate-limit summaries */
        _ENTRY_KIND_MAX,
} EntryKind;

/*
 * At most this many of the daemon's own entries wait in one writer's queue:
 * it writes about three a second at most (a statistics entry, a drop
 * warning per output), so 64 is 20 s of a receiver that takes nothing. One
 * more is dropped at once and counted (daemon_entries_dropped).
 */
#define ENTRY_KINDS_DAEMON_MAX 64u

typedef struct EntryKinds {
        uint64_t in;                                 /* sequence number of the next entry queued */
        uint64_t out;                                /* sequence number of the next entry to leave */
        uint64_t daemon[ENTRY_KINDS_DAEMON_MAX];     /* sequence numbers of daemon entries queued, oldest first */
        unsigned first, n;                           /* ring of daemon[] */
} EntryKinds;

/* Is there room to queue one more entry of this kind? (Always for exchanges.) */
bool entry_kinds_room(const EntryKinds *k, EntryKind kind);

/* Note one entry queued; the caller checked entry_kinds_room(). Return: 0, -ENOBUFS without room. */
int entry_kinds_push(EntryKinds *k, EntryKind kind);

/* The kind of the oldest queued entry, which leaves the queue now. */
EntryKind entry_kinds_pop(EntryKinds *k);

/* Count n entries of kind k as written (delivered) or dropped (given up) in s. */
void entry_kinds_count(Stats *s, EntryKind kind, bool delivered, uint64_t n);

/* Pop the n oldest queued entries and count each as written or dropped. */
void entry_kinds_pop_count(EntryKinds *k, Stats *s, bool delivered, uint64_t n);
