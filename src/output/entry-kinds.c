/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Exchange entries and the daemon's own, counted apart as they leave a queue; see entry-kinds.h. */

#include <errno.h>

#include "output/entry-kinds.h"

bool entry_kinds_room(const EntryKinds *k, EntryKind kind) {
        return kind != ENTRY_DAEMON || k->n < ENTRY_KINDS_DAEMON_MAX;
}

int entry_kinds_push(EntryKinds *k, EntryKind kind) {
        if (!entry_kinds_room(k, kind))
                return -ENOBUFS;
        if (kind == ENTRY_DAEMON) {
                k->daemon[(k->first + k->n) % ENTRY_KINDS_DAEMON_MAX] = k->in;
                k->n++;
        }
        k->in++;
        return 0;
}

EntryKind entry_kinds_pop(EntryKinds *k) {
        EntryKind kind = ENTRY_EXCHANGE;

        if (k->n > 0 && k->daemon[k->first] == k->out) {
                kind = ENTRY_DAEMON;
                k->first = (k->first + 1) % ENTRY_KINDS_DAEMON_MAX;
                k->n--;
        }
        /* More pops than pushes would be a writer's bug; keep the numbers in step anyway. */
        if (k->out < k->in)
                k->out++;
        return kind;
}

void entry_kinds_count(Stats *s, EntryKind kind, bool delivered, uint64_t n) {
        if (kind == ENTRY_DAEMON) {
                if (delivered)
                        s->daemon_entries_written += n;
                else
                        s->daemon_entries_dropped += n;
        } else if (delivered)
                s->entries_written += n;
        else
                s->entries_dropped += n;
}

void entry_kinds_pop_count(EntryKinds *k, Stats *s, bool delivered, uint64_t n) {
        for (uint64_t i = 0; i < n; i++)
                entry_kinds_count(s, entry_kinds_pop(k), delivered, 1);
}
