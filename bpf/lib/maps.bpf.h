/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Everything of the BPF object that user space reaches by name through the
 * skeleton (src/capture/bpf-tracer.c): the load-time settings in .rodata, the
 * kernel filter's generation word in .bss, and the maps shared by every
 * source. A source's private state (the syscall source's in-flight
 * arguments) lives with the source.
 *
 * Map sizes, each with its reason beside its constant in abi.h, and the
 * memory each takes at defaults (bpftool's bytes_memlock, kernel 6.18, 2
 * CPUs; hash maps cost ~16 B per bucket even when not preallocated). The
 * budget (issue 14) is 12 MiB for the whole object: a map added or grown
 * takes its room from this table.
 *   map             entries                               memory
 *   events          HT_RINGBUF_DEFAULT 2 MiB               2.0 MiB  resized by user space (ringbuf_size)
 *   conns           HT_MAP_CONNS_DEFAULT 16384 x 192 B     3.0 MiB  resized by user space (conns_max)
 *   fd_cache        HT_MAP_FD_CACHE 16384 x ~100 B        1.6 MiB  (lib/conn.bpf.h)
 *   uring_socks     HT_MAP_IO_URING_SOCKS 1024 x ~100 B   0.1 MiB  (sources/syscalls.bpf.h)
 *   tls_conns       HT_MAP_TLS_CONNS_DEFAULT 4096 x 192 B  0.75 MiB resized with conns, 1/4 of it
 *   tls_fds         HT_MAP_TLS_FDS 8192 x 96 B             0.75 MiB 2 x tls_conns, resized with it (lib/tls-tie.bpf.h)
 *   http_procs      HT_MAP_HTTP_PROCS 4096 x 80 B          0.3 MiB
 *   filter_pids     HT_MAP_FILTER_PIDS, not preallocated    0.25 MiB (buckets)
 *   filter_cgroups  HT_MAP_FILTER_CGROUPS, not prealloc.    0.5 MiB  (buckets)
 *   filter_addrs    HT_MAP_FILTER_ADDRS, not preallocated   0 until used
 *   filter_ports    8 bitmaps: 2 slots x local/remote x include/exclude  64 KiB
 *   counters        _HT_CNT_MAX per CPU; conn_id_seq 1; .bss, .rodata    < 20 KiB
 *   args_map        task storage: one slot per thread (sources/syscalls.bpf.h), as threads trace
 *   tls_calls       task storage: one slot per thread that calls SSL_* (lib/tls-tie.bpf.h)
 *   task_fds        task storage: ~300 B per thread that makes a read/write family syscall,
 *                   its fd verdicts in front of fd_cache (lib/conn.bpf.h)
 *   total                                                  ~8.9 MiB, ~3.1 MiB left in the budget
 * (Data records used to be assembled in a per-CPU scratch value; they are
 * now written straight into the ring buffer: lib/emit.bpf.h.)
 */
#pragma once

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "abi.h"

/* Load-time settings, written by user space through the skeleton's rodata. */
const volatile __u32 self_tgid = 0;            /* the daemon: never traced (in its own PID namespace) */
/*
 * The daemon's PID namespace (nsfs device and inode of /proc/self/ns/pid);
 * 0 in the initial namespace, where every task is visible and
 * bpf_get_current_pid_tgid() already gives the right numbers. Otherwise
 * tgid/tid in records, the connection key and PID filters are numbers in
 * that namespace, and tasks outside it are not traced (counted).
 */
const volatile __u64 pidns_dev = 0;
const volatile __u64 pidns_ino = 0;
const volatile __u32 payload_max = HT_PAYLOAD_DEFAULT;
/* Random, chosen by user space: ht_conn.sock = struct sock * ^ sock_salt, so records carry no kernel address. */
const volatile __u64 sock_salt = 0;
const volatile __u64 wakeup_bytes = 1u << 20;  /* wake user space when this much is pending; 0 = every record */

/*
 * The kernel filter's active generation and each slot's summary (see
 * abi.h). In .bss, which user space has mmap()ed: it fills the maps
 * and filter_config of the slot not in use, then stores filter_gen last.
 * Generation 0: no filter, nothing is looked up.
 */
volatile __u32 filter_gen = 0;
struct ht_filter_config filter_config[2] = {};

struct {
        __uint(type, BPF_MAP_TYPE_RINGBUF);
        __uint(max_entries, HT_RINGBUF_DEFAULT);
} events SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, HT_MAP_CONNS_DEFAULT);
        __type(key, struct ht_conn_key);
        __type(value, struct ht_conn);
} conns SEC(".maps");

/*
 * The TLS source's view of the same sockets, same key: its plaintext is a
 * connection of its own (its own id), while the syscall source's view of
 * the socket sees ciphertext and stays not traced (HT_PROTO_OTHER).
 */
struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, HT_MAP_TLS_CONNS_DEFAULT);
        __type(key, struct ht_conn_key);
        __type(value, struct ht_conn);
} tls_conns SEC(".maps");

/* Processes holding announced HTTP connections: only their exits matter to user space. */
struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, HT_MAP_HTTP_PROCS);
        __type(key, __u32);
        __type(value, __u8);
} http_procs SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, _HT_CNT_MAX);
        __type(key, __u32);
        __type(value, __u64);
} counters SEC(".maps");

/* Next connection id; ids are unique for the life of this BPF object, i.e. of the daemon. */
struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, __u64);
} conn_id_seq SEC(".maps");

/* Filter lists, keyed by slot as well so that two generations live side by side. */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, HT_MAP_FILTER_PIDS);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, struct ht_filter_pid_key);
        __type(value, __u8);      /* HT_FILTER_INCLUDE | HT_FILTER_EXCLUDE */
} filter_pids SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, HT_MAP_FILTER_CGROUPS);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, struct ht_filter_cgroup_key);
        __type(value, __u8);
} filter_cgroups SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_LPM_TRIE);
        __uint(max_entries, HT_MAP_FILTER_ADDRS);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, struct ht_filter_addr_key);
        __type(value, __u8);
} filter_addrs SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __uint(max_entries, 8);   /* 2 slots x local/remote x include/exclude */
        __type(key, __u32);
        __type(value, struct ht_port_bitmap);
} filter_ports SEC(".maps");

/* Keep the compiler from dropping a bounds check the verifier needs to see. */
#ifndef barrier_var
#define barrier_var(v) asm volatile("" : "+r"(v))
#endif

static __always_inline void count(__u32 idx, __u64 n) {
        __u64 *v = bpf_map_lookup_elem(&counters, &idx);

        if (v)
                *v += n;
}

/* Wakeup flag for a ring buffer write: batched until wakeup_bytes are pending. */
static __always_inline __u64 rb_flags(void) {
        if (wakeup_bytes == 0)
                return 0;
        if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
                return BPF_RB_FORCE_WAKEUP;
        return BPF_RB_NO_WAKEUP;
}
