/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel half of filter.include / filter.exclude (the user half and the
 * shared semantics are in select/filter.h): PIDs, cgroups (units resolve to
 * cgroups), ports, peer addresses and roles compiled into plain arrays and
 * bitmaps (KernelFilter) that the daemon copies into BPF maps, so filtered
 * traffic is never copied out of the kernel. kernel_filter_match() is the
 * reference semantics the BPF side must implement, used by tests and by the
 * daemon for connections it already holds when filters change.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/configuration.h"

/* KernelFilter index for include and exclude halves. */
enum {
        KFILTER_INCLUDE = 0,
        KFILTER_EXCLUDE = 1,
};

/* Bits of KernelFilter.include_active: which include lists are non-empty. */
enum {
        KFILTER_DIM_PID         = 1u << 0,
        KFILTER_DIM_CGROUP      = 1u << 1,
        KFILTER_DIM_LOCAL_PORT  = 1u << 2,
        KFILTER_DIM_REMOTE_PORT = 1u << 3,
        KFILTER_DIM_ADDRESS     = 1u << 4,
        KFILTER_DIM_ROLE        = 1u << 5,
};

/* Bits of a PID or cgroup entry's flags: in which half it appears (both is possible). */
enum {
        KFILTER_FLAG_INCLUDE = 1u << 0,
        KFILTER_FLAG_EXCLUDE = 1u << 1,
};

typedef struct KernelFilterPid {
        uint32_t pid;
        uint8_t flags;                /* KFILTER_FLAG_* */
} KernelFilterPid;

/* What kernel_filter_resolve() last found for an entry; for the daemon to log changes once. */
typedef enum KernelFilterCgroupState {
        KFILTER_CGROUP_UNRESOLVED = 0,  /* not looked up yet */
        KFILTER_CGROUP_FOUND,
        KFILTER_CGROUP_MISSING,         /* no such unit or directory (yet): matches nothing */
} KernelFilterCgroupState;

typedef struct KernelFilterCgroup {
        char *unit;                   /* set for filter.*.units: the daemon resolves it to path, then id */
        char *path;                   /* cgroup path relative to the hierarchy root; NULL until resolved */
        uint64_t id;                  /* cgroup id (inode of the directory); 0 until resolved, never matches */
        uint8_t flags;                /* KFILTER_FLAG_* */
        KernelFilterCgroupState state;    /* set by kernel_filter_resolve() */
        KernelFilterCgroupState reported; /* free for the caller: the state it last logged */
} KernelFilterCgroup;

/* An LPM trie key, as struct bpf_lpm_trie_key with 4 (IPv4) or 16 (IPv6) data bytes. */
typedef struct KernelFilterPrefix {
        uint32_t prefixlen;
        uint8_t addr[16];             /* network order; IPv4 in the first 4 bytes */
} KernelFilterPrefix;

#define KFILTER_PORT_WORDS (65536u / 64u)

typedef struct KernelFilter {
        uint32_t include_active;                       /* KFILTER_DIM_* */
        KernelFilterPid *pids;                         /* sorted by pid, unique */
        size_t n_pids;
        KernelFilterCgroup *cgroups;                   /* units first, then paths, in configuration order */
        size_t n_cgroups;
        uint64_t local_ports[2][KFILTER_PORT_WORDS];   /* [KFILTER_INCLUDE/EXCLUDE] bit p = port p */
        uint64_t remote_ports[2][KFILTER_PORT_WORDS];
        KernelFilterPrefix *addr4[2];                  /* for two LPM tries per family: include and exclude */
        size_t n_addr4[2];
        KernelFilterPrefix *addr6[2];
        size_t n_addr6[2];
        uint8_t roles[2];                              /* bit (1 << enum ht_role) */
} KernelFilter;

int kernel_filter_compile(const Config *c, KernelFilter **ret);
KernelFilter *kernel_filter_free(KernelFilter *f);
DEFINE_TRIVIAL_CLEANUP_FUNC(KernelFilter *, kernel_filter_free);

static inline bool kernel_filter_port_test(const uint64_t bits[KFILTER_PORT_WORDS], uint16_t port) {
        return (bits[port / 64] >> (port % 64)) & 1;
}

/* What the kernel knows about a connection when deciding whether to trace it. */
typedef struct KernelFilterConn {
        uint32_t tgid;
        const uint64_t *cgroup_ids;   /* the task's cgroup and its ancestors (any order) */
        size_t n_cgroup_ids;
        uint16_t local_port;
        uint16_t remote_port;
        int family;                   /* AF_INET, AF_INET6 */
        uint8_t remote_addr[16];
        uint8_t role;                 /* enum ht_role */
} KernelFilterConn;

/*
 * The reference semantics the BPF programs implement. A peer address that is
 * IPv4-mapped IPv6 (::ffff:a.b.c.d, the IPv4 peer of a dual-stack socket) is
 * matched as the IPv4 address.
 */
bool kernel_filter_match(const KernelFilter *f, const KernelFilterConn *conn);

/* KFILTER_DIM_* of the non-empty exclude lists (the include ones are f->include_active). */
uint32_t kernel_filter_exclude_active(const KernelFilter *f);

/* True when f names nothing at all: everything is traced and the kernel looks nothing up. */
bool kernel_filter_is_empty(const KernelFilter *f);

/*
 * What is filtered, for a log line: "include units/cgroups, local ports;
 * exclude peer addresses", or NULL for an empty filter (*ret NULL then).
 */
int kernel_filter_describe(const KernelFilter *f, char **ret);

/*
 * Where the cgroup v2 hierarchy is mounted (the one bpf_get_current_cgroup_id()
 * numbers): /sys/fs/cgroup on a unified system, /sys/fs/cgroup/unified on a
 * hybrid one, else the first cgroup2 mount in /proc/self/mounts. -ENOENT if
 * there is none. Not pure.
 */
int filter_cgroup_root(char **ret);

/*
 * Directories visited at most, and their depth below the root, when looking
 * for a unit's cgroup: units sit at depth 1-6 (system.slice/x.service,
 * user.slice/user-1000.slice/user@1000.service/app.slice/x.service, nested
 * containers deeper), and a host has hundreds of cgroups, not thousands.
 */
#define KFILTER_CGROUP_WALK_DEPTH 8u
#define KFILTER_CGROUP_WALK_DIRS  8192u

/*
 * Find the cgroup of every unit entry (a directory named like the unit under
 * cgroup_root, the shallowest one, ties broken by name) and the id of every
 * entry (the directory's inode). Called at start and every second: a unit
 * that does not exist yet gets id 0 (matches nothing) until it appears; a
 * restarted one gets its new id. *ret_changed says whether any id changed,
 * i.e. whether the kernel maps need the filter again. Not pure (reads the
 * cgroup file system), silent: entry states are in f->cgroups[].state.
 */
int kernel_filter_resolve(KernelFilter *f, const char *cgroup_root, bool *ret_changed);

/*
 * cgroup v2 id of a cgroup path: the inode number of its directory under
 * cgroup_root (normally /sys/fs/cgroup), which is what
 * bpf_get_current_cgroup_id() returns. Not pure: one stat().
 */
int filter_cgroup_id(const char *cgroup_root, const char *path, uint64_t *ret);
