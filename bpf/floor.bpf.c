// SPDX-License-Identifier: GPL-2.0-only
/*
 * The floor of bench/run: one program that only counts, attached by
 * bench/floor.c to every tracepoint http-tracer.bpf.o attaches to. What a
 * workload loses with it attached is the price of a syscall-tracepoint
 * design on this kernel (the tracepoint, the program's dispatch, one per-CPU
 * increment); whatever http-tracer costs above it is ours to cut.
 *
 * "tracepoint" without a target: libbpf does not auto-attach it, the loader
 * attaches it once per tracepoint it reads from http-tracer's object.
 */

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Calls of the program, summed over CPUs by the loader (a check that it ran). */
struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, __u64);
} hits SEC(".maps");

static __always_inline int hit(void) {
        __u32 zero = 0;
        __u64 *n = bpf_map_lookup_elem(&hits, &zero);

        if (n)
                (*n)++;
        return 0;
}

SEC("tracepoint")
int ht_floor(void *ctx) {
        return hit();
}

/*
 * The floor of the other design issue 14 asks to weigh: raw_tracepoint/sys_enter
 * and sys_exit, called for every syscall, with the program to switch on the
 * syscall number (which this one does not: it is the floor). Attached instead
 * of the syscalls/ tracepoints with ht-bench-floor --raw.
 */
SEC("raw_tracepoint")
int ht_floor_raw(void *ctx) {
        return hit();
}

char LICENSE[] SEC("license") = "GPL";
