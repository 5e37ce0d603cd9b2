/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The systemd unit of a cgroup v2 id, as the kernel gives it at connection
 * time (ConnInfo.cgroup_id): the daemon names the traced process's unit
 * itself (OBJECT_SYSTEMD_UNIT) instead of letting journald look at /proc
 * through OBJECT_PID, which also copies the process's command line.
 *
 * A cgroup's id is its directory's inode number in the cgroup2 file
 * system; an unknown id is found by one walk of the tree, and the answer
 * (unit or none) is cached: CGROUP_UNIT_CACHE ids, the oldest replaced.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CGROUP_UNIT_CACHE 256

/* The unit a cgroup path belongs to: its first component below the slices ("nginx.service"). */
int cgroup_path_unit(const char *path, char *buf, size_t size);

/*
 * The unit of cgroup id under root (NULL: the cgroup2 mount at
 * /sys/fs/cgroup or /sys/fs/cgroup/unified), into buf. 0 on success,
 * -ENOENT when the id or its unit is not found (remembered too).
 */
int cgroup_unit_lookup(const char *root, uint64_t id, char *buf, size_t size);

/* Forget the cache (tests; a root that changed). */
void cgroup_unit_cache_clear(void);
