/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The kernel filter: whether a connection may be traced under one
 * generation of the filter. The reference semantics is kernel_filter_match()
 * in src/capture/kernel-filter.c; the maps and the generation word are
 * filled by user space (see abi.h). Pure lookups: deciding and
 * remembering the decision is the connection's business (conn.bpf.h).
 */
#pragma once

#include "maps.bpf.h"

/* UAPI macros, so not in vmlinux.h; user space compares ht_conn_open_event.family with libc's. */
#define AF_INET       2
#define AF_INET6      10

/* port_listed() masks the word index instead of a bounds check the verifier would have to trust. */
_Static_assert((HT_PORT_WORDS & (HT_PORT_WORDS - 1)) == 0, "HT_PORT_WORDS must be a power of two");

struct cgroup_walk {
        __u32 slot;
        __u8 flags;
};

static long cgroup_step(__u32 level, void *ctx) {
        struct cgroup_walk *w = ctx;
        struct ht_filter_cgroup_key k = { .slot = w->slot };
        __u8 *v;

        /* Level 0 is the root; past the task's own cgroup the helper returns 0. */
        k.id = bpf_get_current_ancestor_cgroup_id(level);
        if (k.id == 0)
                return 1;
        v = bpf_map_lookup_elem(&filter_cgroups, &k);
        if (v)
                w->flags |= *v;
        return 0;
}

/* HT_FILTER_INCLUDE/EXCLUDE of the entries naming the task's cgroup or one of its ancestors. */
static __always_inline __u8 cgroup_flags(__u32 slot) {
        struct cgroup_walk w = { .slot = slot };

        bpf_loop(HT_CGROUP_LEVELS, cgroup_step, &w, 0);
        return w.flags;
}

static __always_inline __u8 pid_flags(__u32 slot, __u32 tgid) {
        struct ht_filter_pid_key k = { .pid = tgid, .slot = slot };
        __u8 *v = bpf_map_lookup_elem(&filter_pids, &k);

        return v ? *v : 0;
}

/* dim: 0 local, 1 remote; half: 0 include, 1 exclude. */
static __always_inline bool port_listed(__u32 slot, __u32 dim, __u32 half, __u16 port) {
        __u32 idx = (slot * 2 + dim) * 2 + half;
        struct ht_port_bitmap *b = bpf_map_lookup_elem(&filter_ports, &idx);

        if (!b)
                return false;
        return (b->bits[(port >> 6) & (HT_PORT_WORDS - 1)] >> (port & 63)) & 1;
}

static __always_inline bool addr_listed(__u32 slot, __u32 half, const struct ht_conn *c) {
        struct ht_filter_addr_key k = {};
        bool v6 = c->family == AF_INET6;
        __u32 w[4];

        __builtin_memcpy(w, c->remote_addr, 16);
        if (v6 && w[0] == 0 && w[1] == 0 && w[2] == bpf_htonl(0xffff)) {
                /* An IPv4 peer of a dual-stack socket (::ffff:a.b.c.d) is matched as IPv4. */
                __builtin_memcpy(k.addr, c->remote_addr + 12, 4);
                v6 = false;
        } else
                __builtin_memcpy(k.addr, c->remote_addr, 16);
        k.tag = slot << 2 | half << 1 | v6;
        k.prefixlen = 8 + (v6 ? 128 : 32);
        return bpf_map_lookup_elem(&filter_addrs, &k) != NULL;
}

static __always_inline bool role_pass(const struct ht_filter_config *cfg, __u8 role) {
        __u8 bit = 1 << (role & 3);

        if (role == HT_ROLE_UNKNOWN)
                return true;   /* decided when the first message gives the role */
        if ((cfg->include & HT_FILTER_DIM_ROLE) && !(cfg->roles[0] & bit))
                return false;
        return !(cfg->roles[1] & bit);
}

/*
 * Whether generation gen of the filter lets the connection c of process
 * tgid be traced: every non-empty include list must match, no exclude list
 * may. A role not known yet passes here and is checked at classification.
 */
static __always_inline bool filter_pass(const struct ht_conn *c, __u32 tgid, __u32 gen) {
        __u32 slot = gen & 1;
        const struct ht_filter_config *cfg = &filter_config[slot];
        __u32 in = cfg->include, ex = cfg->exclude;
        __u8 f;

        if (gen == 0)
                return true;
        if ((in | ex) & HT_FILTER_DIM_PID) {
                f = pid_flags(slot, tgid);
                if (((in & HT_FILTER_DIM_PID) && !(f & HT_FILTER_INCLUDE)) || (f & HT_FILTER_EXCLUDE))
                        return false;
        }
        if ((in | ex) & HT_FILTER_DIM_CGROUP) {
                f = cgroup_flags(slot);
                if (((in & HT_FILTER_DIM_CGROUP) && !(f & HT_FILTER_INCLUDE)) || (f & HT_FILTER_EXCLUDE))
                        return false;
        }
        if ((in & HT_FILTER_DIM_LOCAL_PORT) && !port_listed(slot, 0, 0, c->local_port))
                return false;
        if ((ex & HT_FILTER_DIM_LOCAL_PORT) && port_listed(slot, 0, 1, c->local_port))
                return false;
        if ((in & HT_FILTER_DIM_REMOTE_PORT) && !port_listed(slot, 1, 0, c->remote_port))
                return false;
        if ((ex & HT_FILTER_DIM_REMOTE_PORT) && port_listed(slot, 1, 1, c->remote_port))
                return false;
        if ((in & HT_FILTER_DIM_ADDRESS) && !addr_listed(slot, 0, c))
                return false;
        if ((ex & HT_FILTER_DIM_ADDRESS) && addr_listed(slot, 1, c))
                return false;
        return role_pass(cfg, c->role);
}

