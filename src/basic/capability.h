/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Giving up privileges once the programs are attached. The kernel checks
 * CAP_BPF/CAP_PERFMON when a program is loaded, a map created or a
 * tracepoint attached, not when an attached program fires or an fd we
 * already hold is used: so after start-up the daemon needs no capability
 * at all, and holding none limits what a bug in the code that parses
 * hostile traffic could be turned into.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/**
 * capability_drop_all() - drop every capability, for good
 * @ret_bounding_dropped: set to whether the bounding set was emptied too;
 *                        may be NULL
 *
 * Empties the effective, permitted, inheritable and ambient sets, so no
 * capability can be raised again. The bounding set is emptied as well when
 * the process may (it needs CAP_SETPCAP, which the service unit does not
 * grant): it only matters for programs we would execute, and the daemon
 * executes none.
 *
 * Return: 0, or negative errno when the capability sets could not be
 * changed (then nothing was dropped: the caller should treat that as fatal,
 * since it promised to run without privileges).
 */
int capability_drop_all(bool *ret_bounding_dropped);

/**
 * capability_drop_all_but() - drop every capability except those of keep
 * @keep: bit N set for capability N to keep (in the effective, permitted and
 *        bounding sets), if it is held now; the others go as in
 *        capability_drop_all()
 * @ret_bounding_dropped: as for capability_drop_all()
 *
 * For a daemon that must still attach after start-up (the TLS source
 * following new libraries keeps CAP_SYS_ADMIN and CAP_SYS_PTRACE).
 *
 * Return: 0, or negative errno as capability_drop_all().
 */
int capability_drop_all_but(uint64_t keep, bool *ret_bounding_dropped);

/*
 * What the TLS source needs to attach after start-up: uprobes need
 * CAP_SYS_ADMIN, reading other processes' /proc/PID/maps and
 * /proc/PID/root CAP_SYS_PTRACE (bits as in linux/capability.h).
 */
#define CAPABILITIES_TLS_FOLLOW ((UINT64_C(1) << 21 /* CAP_SYS_ADMIN */) | (UINT64_C(1) << 19 /* CAP_SYS_PTRACE */))

/**
 * capability_get_effective() - the calling thread's effective capabilities
 * @ret: bit N set for capability N (as CapEff in /proc/self/status)
 *
 * Return: 0 or negative errno.
 */
int capability_get_effective(uint64_t *ret);
