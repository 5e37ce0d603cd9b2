/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The systemd unit of the process that announced a connection, resolved
 * once when the connection opens and kept in it (ConnInfo.unit): entries
 * name the traced process's unit themselves (OBJECT_SYSTEMD_UNIT) instead
 * of letting journald look at /proc through OBJECT_PID, which also copies
 * the process's command line; the per-service metrics group by it.
 *
 * The kernel gives the thread's cgroup v2 id at connection time
 * (ConnInfo.cgroup_id, its directory's inode number in cgroup2). On a
 * cache miss the unit is read from /proc/TGID/cgroup, and taken only if
 * that path's inode is the id (the process may have moved, or a thread be
 * in a threaded sub-cgroup); a process that is gone already (a short curl)
 * is found by a walk of the cgroup tree that gives up after
 * CGROUP_UNIT_WALK_MAX directories. Each answer, unit or none, is cached by
 * id (ids are never reused while the system runs) in CGROUP_UNIT_CACHE
 * slots, and unit names are interned: at most CGROUP_UNIT_NAMES_MAX of
 * them, valid for the daemon's life, so a connection can point at its
 * unit's name. Every lookup path is counted (Stats.units_*). One thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "conn/stats.h"

/* Cgroup ids remembered: 4-way sets, the oldest of a set replaced. A host's cgroups with traffic fit. */
#define CGROUP_UNIT_CACHE 1024u
/* Distinct unit names kept (never freed: a connection points at its unit's name). ~40 B each. */
#define CGROUP_UNIT_NAMES_MAX 1024u
/* Directories one fallback walk visits at most: bounded time in the event loop (~1 ms). */
#define CGROUP_UNIT_WALK_MAX 4096u

/* The unit a cgroup path belongs to: its first component below the slices ("nginx.service"). */
int cgroup_path_unit(const char *path, char *buf, size_t size);

/**
 * cgroup_unit_resolve() - the unit of a connection's process, once
 * @root: the cgroup2 mount; NULL for /sys/fs/cgroup (or .../unified)
 * @proc: where /proc is; NULL for "/proc"
 * @id: the cgroup v2 id the kernel gave (0: unknown)
 * @tgid: the process that announced the connection (0: unknown)
 * @stats: counts units_resolved, units_walked, units_unknown; may be NULL
 *
 * Return: the unit's interned name ("nginx.service"), valid for the
 * daemon's life; NULL when the cgroup is not inside a unit, or not found.
 */
const char *cgroup_unit_resolve(const char *root, const char *proc, uint64_t id, uint32_t tgid, Stats *stats);

/* The same into buf, by id only (no process to ask): 0, or -ENOENT (remembered too), -ENAMETOOLONG. */
int cgroup_unit_lookup(const char *root, uint64_t id, char *buf, size_t size);

/* Tests: the walk's bound (0: CGROUP_UNIT_WALK_MAX again), so that a small tree shows it. */
void cgroup_unit_set_walk_max(size_t max);

/* Forget the cache and the names (tests; a root that changed). Pointers returned before become invalid. */
void cgroup_unit_cache_clear(void);
