// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel side of http-tracer: syscall tracepoints on the socket read/write
 * families, accept, connect, close and process exit. For each TCP socket the
 * first bytes decide whether it speaks HTTP/1.x; only HTTP connections send
 * payload to user space, through one ring buffer whose wakeups are batched.
 *
 * Flow per data syscall: sys_enter_* looks the (tgid, fd) up in the
 * connection map (classifying unknown fds through the fd table with CO-RE)
 * and stashes the arguments; sys_exit_* knows the byte count, infers the
 * protocol if still unknown, announces the connection once, and emits data
 * records — one per iovec for vectored I/O, each carrying up to payload_max
 * bytes and the rest as a gap of known length.
 *
 * Nothing is lost silently: a record that does not fit in the ring buffer is
 * counted per CPU, and its bytes are reported to user space as lost_before
 * on the next record of the same direction.
 */

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

#include "trace-api.h"
#include "infer.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET       2
#define AF_INET6      10
#define SOCK_STREAM   1
#define IPPROTO_TCP   6
#define S_IFMT        00170000
#define S_IFSOCK      0140000
#define EINPROGRESS   115

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
const volatile __u64 wakeup_bytes = 1u << 20;  /* wake user space when this much is pending; 0 = every record */

/*
 * The kernel filter's active generation and each slot's summary (see
 * trace-api.h). In .bss, which user space has mmap()ed: it fills the maps
 * and filter_config of the slot not in use, then stores filter_gen last.
 * Generation 0: no filter, nothing is looked up.
 */
volatile __u32 filter_gen = 0;
struct ht_filter_config filter_config[2] = {};

/* ---- maps (sizes: see trace-api.h, resized by user space before load) ---- */

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

/* Arguments of a syscall in flight, from its enter to its exit, per thread. */
struct syscall_args {
        __u64 buf;          /* buffer, or the iovec array for vectored calls */
        __u64 iovcnt;       /* 0 for plain buffers */
        __s32 fd;
        __u8 syscall;       /* enum ht_syscall, or ARGS_CONNECT */
        __u8 direction;
        __u8 active;        /* set at enter, cleared at exit */
        __u8 _pad;
};
#define ARGS_CONNECT 100

/*
 * Task-local storage: the slot lives in the thread's task_struct, so saving
 * and finding the arguments costs a pointer walk rather than a hash update
 * and delete per syscall (an LRU hash update was the biggest single cost of
 * the enter programs). It is freed with the thread, so a thread killed
 * inside a syscall leaves nothing behind.
 */
struct {
        __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
        __uint(map_flags, BPF_F_NO_PREALLOC);
        __type(key, int);
        __type(value, struct syscall_args);
} args_map SEC(".maps");

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

/* Scratch space to assemble a data record before bpf_ringbuf_output() (32 KiB per-CPU limit). */
struct data_scratch {
        struct ht_data_event ev;
        __u8 data[HT_PAYLOAD_CAP];
};

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, 1);
        __type(key, __u32);
        __type(value, struct data_scratch);
} scratch SEC(".maps");

/* ---- helpers ---- */

/* Keep the compiler from dropping a bounds check the verifier needs to see. */
#ifndef barrier_var
#define barrier_var(v) asm volatile("" : "+r"(v))
#endif

static __always_inline void count(__u32 idx, __u64 n) {
        __u64 *v = bpf_map_lookup_elem(&counters, &idx);

        if (v)
                *v += n;
}

static __always_inline __u64 rb_flags(void) {
        if (wakeup_bytes == 0)
                return 0;
        if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
                return BPF_RB_FORCE_WAKEUP;
        return BPF_RB_NO_WAKEUP;
}

/*
 * The current task's tgid << 32 | tid, in the daemon's PID namespace; false
 * for a task outside it (or in a namespace nested below it): its syscalls
 * are not traced.
 */
static __always_inline bool task_ids(__u64 *ret) {
        struct bpf_pidns_info ns;

        if (pidns_ino == 0) {
                *ret = bpf_get_current_pid_tgid();
                return true;
        }
        if (bpf_get_ns_current_pid_tgid(pidns_dev, pidns_ino, &ns, sizeof(ns)) < 0)
                return false;
        *ret = (__u64) ns.tgid << 32 | ns.pid;
        return true;
}

/* task_ids() for the syscalls that may start tracing something: not the daemon, others counted. */
static __always_inline bool traced_task(__u64 *ret) {
        if (!task_ids(ret)) {
                count(HT_CNT_OTHER_PIDNS, 1);
                return false;
        }
        return (__u32) (*ret >> 32) != self_tgid;
}

/*
 * The file behind fd in the current task's table. Runs on every data
 * syscall: the walk to the table is direct loads through the BTF-typed task
 * pointer (faulting loads the verifier makes safe, no helper calls); only
 * the indexed slot needs bpf_probe_read_kernel().
 */
static __always_inline struct file *fd_to_file(int fd) {
        struct task_struct *task = bpf_get_current_task_btf();
        struct files_struct *files = task->files;
        struct fdtable *fdt;
        struct file **fdarr;
        struct file *f = NULL;

        if (!files || fd < 0)
                return NULL;
        fdt = files->fdt;
        if (!fdt || (unsigned int) fd >= fdt->max_fds)
                return NULL;
        fdarr = fdt->fd;
        if (bpf_probe_read_kernel(&f, sizeof(f), &fdarr[fd]) < 0)
                return NULL;
        return f;
}

enum sock_kind {
        SOCK_NOT_SOCKET = 0,
        SOCK_OTHER,        /* a socket, but not TCP over IPv4/IPv6 */
        SOCK_TCP,
};

/* Decide what file is and, for TCP, fill the addresses of c. */
static __always_inline int classify_file(struct file *file, struct ht_conn *c) {
        struct socket *sock;
        struct sock *sk;
        umode_t mode;
        __u16 family, proto;
        short type;

        if (!file)
                return SOCK_NOT_SOCKET;
        mode = BPF_CORE_READ(file, f_inode, i_mode);
        if ((mode & S_IFMT) != S_IFSOCK)
                return SOCK_NOT_SOCKET;

        sock = BPF_CORE_READ(file, private_data);
        if (!sock)
                return SOCK_OTHER;
        type = BPF_CORE_READ(sock, type);
        sk = BPF_CORE_READ(sock, sk);
        if (type != SOCK_STREAM || !sk)
                return SOCK_OTHER;
        family = BPF_CORE_READ(sk, __sk_common.skc_family);
        proto = BPF_CORE_READ(sk, sk_protocol);
        if ((family != AF_INET && family != AF_INET6) || proto != IPPROTO_TCP)
                return SOCK_OTHER;

        c->family = family;
        c->local_port = BPF_CORE_READ(sk, __sk_common.skc_num);
        c->remote_port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
        if (family == AF_INET) {
                __u32 l = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
                __u32 r = BPF_CORE_READ(sk, __sk_common.skc_daddr);

                __builtin_memcpy(c->local_addr, &l, 4);
                __builtin_memcpy(c->remote_addr, &r, 4);
        } else {
                BPF_CORE_READ_INTO(&c->local_addr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
                BPF_CORE_READ_INTO(&c->remote_addr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
        }
        return SOCK_TCP;
}

static __always_inline __u64 next_conn_id(void) {
        __u32 zero = 0;
        __u64 *seq = bpf_map_lookup_elem(&conn_id_seq, &zero);

        if (!seq)
                return 0;
        return __sync_fetch_and_add(seq, 1) + 1;
}

static __always_inline void fill_header(struct ht_event_header *h, __u16 type, __u32 size,
                                        __u64 conn_id, __u64 pid_tgid, int fd) {
        h->type = type;
        h->_pad0 = 0;
        h->size = size;
        h->timestamp_ns = bpf_ktime_get_ns();
        h->conn_id = conn_id;
        h->tgid = pid_tgid >> 32;
        h->tid = (__u32) pid_tgid;
        h->fd = fd;
        h->_pad1 = 0;
}

static __always_inline void emit_close(struct ht_conn *c, __u64 pid_tgid, int fd, __u32 reason) {
        struct ht_conn_close_event ev = {};

        fill_header(&ev.hdr, HT_EVENT_CONN_CLOSE, sizeof(ev), c->id, pid_tgid, fd);
        ev.reason = reason;
        if (bpf_ringbuf_output(&events, &ev, sizeof(ev), rb_flags()) < 0)
                count(HT_CNT_RINGBUF_DROPS, 1);
        else
                count(HT_CNT_RECORDS, 1);
}

/* ---- kernel filter: the semantics of kernel_filter_match() (src/filter.c) ---- */

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

/* The connection is excluded from now on: user space finishes it if it knew it. */
static __always_inline void conn_exclude(struct ht_conn *c, __u64 pid_tgid, int fd) {
        if (c->flags & HT_CONN_ANNOUNCED)
                emit_close(c, pid_tgid, fd, HT_CLOSE_FILTERED);
        c->flags = (c->flags & ~HT_CONN_ANNOUNCED) | HT_CONN_FILTERED;
        c->stash_len = 0;
        count(HT_CNT_FILTERED_CONNS, 1);
}

/*
 * Is c traced under the active filter? Decided once per connection and
 * generation: with no filter, or no change since the decision, this is a
 * compare and a flag test.
 */
static __always_inline bool conn_filter(struct ht_conn *c, __u64 pid_tgid, int fd) {
        __u32 gen = filter_gen;
        bool traced = !(c->flags & HT_CONN_FILTERED);

        if (c->filter_gen == gen)
                return traced;
        c->filter_gen = gen;
        if (filter_pass(c, pid_tgid >> 32, gen) == traced)
                return traced;
        if (traced) {
                conn_exclude(c, pid_tgid, fd);
                return false;
        }
        /*
         * Included again. Its bytes went by unseen meanwhile: classify it
         * afresh from the next message start, as a new connection for user
         * space (it finished the old one).
         */
        c->flags &= ~(HT_CONN_FILTERED | HT_CONN_SEEN_START);
        if (c->protocol == HT_PROTO_HTTP1)
                c->protocol = HT_PROTO_UNKNOWN;
        c->probes = 0;
        c->lost[0] = c->lost[1] = 0;
        c->id = next_conn_id();
        return true;
}

/*
 * Track a new TCP socket at (tgid, fd), replacing whatever was there.
 * seen_start: created by accept/connect, so we see its bytes from the first.
 */
static __always_inline struct ht_conn *conn_create(__u64 pid_tgid, int fd, struct file *file,
                                                   __u8 role, bool seen_start) {
        struct ht_conn_key key = { .tgid = pid_tgid >> 32, .fd = fd };
        struct ht_conn c = {}, *old;
        int kind;

        old = bpf_map_lookup_elem(&conns, &key);
        if (old && (old->flags & HT_CONN_ANNOUNCED))
                emit_close(old, pid_tgid, fd, HT_CLOSE_REUSED);

        kind = classify_file(file, &c);
        if (kind == SOCK_NOT_SOCKET) {
                if (old)
                        bpf_map_delete_elem(&conns, &key);
                return NULL;
        }

        c.id = next_conn_id();
        c.file = (__u64) file;
        c.role = role;
        if (kind == SOCK_TCP) {
                c.flags = HT_CONN_SOCK_OK | (seen_start ? HT_CONN_SEEN_START : 0);
                c.protocol = HT_PROTO_UNKNOWN;
                c.filter_gen = filter_gen;
                if (!filter_pass(&c, pid_tgid >> 32, c.filter_gen)) {
                        c.flags |= HT_CONN_FILTERED;
                        count(HT_CNT_FILTERED_CONNS, 1);
                }
        } else {
                /* Negative cache: unix sockets, UDP... cost one lookup from now on. */
                c.protocol = HT_PROTO_OTHER;
        }

        if (bpf_map_update_elem(&conns, &key, &c, BPF_ANY) < 0) {
                count(HT_CNT_CONN_MAP_FULL, 1);
                return NULL;
        }
        return bpf_map_lookup_elem(&conns, &key);
}

/* The tracked state of (tgid, fd), classifying the fd on first sight. */
static __always_inline struct ht_conn *conn_get(__u64 pid_tgid, int fd) {
        struct ht_conn_key key = { .tgid = pid_tgid >> 32, .fd = fd };
        struct ht_conn *c;
        struct file *file;

        c = bpf_map_lookup_elem(&conns, &key);
        file = fd_to_file(fd);
        if (c && c->file == (__u64) file)
                return c;

        /* Unknown, or the fd now names another file (dup2, close_range...): look again. */
        return conn_create(pid_tgid, fd, file, HT_ROLE_UNKNOWN, false);
}

/* The arguments saved at this thread's syscall enter, taken (cleared) for its exit. */
static __always_inline bool take_args(struct syscall_args *ret) {
        struct syscall_args *a;

        a = bpf_task_storage_get(&args_map, bpf_get_current_task_btf(), NULL, 0);
        if (!a || !a->active)
                return false;
        *ret = *a;
        a->active = 0;
        return true;
}

static __always_inline void save_args(__u64 pid_tgid, int fd, __u64 buf, __u64 iovcnt,
                                      __u8 sys, __u8 dir) {
        struct syscall_args *a;

        a = bpf_task_storage_get(&args_map, bpf_get_current_task_btf(), NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
        if (!a) {
                /* Out of memory, or the storage is busy (recursion): this syscall goes untraced. */
                count(HT_CNT_ARGS_MAP_FULL, 1);
                return;
        }
        *a = (struct syscall_args) {
                .buf = buf, .iovcnt = iovcnt, .fd = fd, .syscall = sys, .direction = dir, .active = 1,
        };
}

/* Enter of a data syscall: remember its arguments if the fd is (or may be) HTTP. */
static __always_inline void data_enter(int fd, __u64 buf, __u64 iovcnt, __u8 sys, __u8 dir) {
        __u64 pid_tgid;
        struct ht_conn *c;

        if (!traced_task(&pid_tgid))
                return;
        c = conn_get(pid_tgid, fd);
        if (!c || c->protocol == HT_PROTO_OTHER || c->protocol == HT_PROTO_HTTP2)
                return;
        if (!conn_filter(c, pid_tgid, fd)) {
                count(HT_CNT_FILTERED_SYSCALLS, 1);
                return;
        }
        save_args(pid_tgid, fd, buf, iovcnt, sys, dir);
}

/* Send the CONN_OPEN record; false when it did not fit (the caller then counts the bytes as lost). */
static __always_inline bool announce(struct ht_conn *c, __u64 pid_tgid, int fd) {
        struct ht_conn_open_event ev = {};
        __u32 tgid = pid_tgid >> 32;
        __u8 one = 1;

        if (c->flags & HT_CONN_ANNOUNCED)
                return true;

        fill_header(&ev.hdr, HT_EVENT_CONN_OPEN, sizeof(ev), c->id, pid_tgid, fd);
        ev.family = c->family;
        ev.local_port = c->local_port;
        ev.remote_port = c->remote_port;
        ev.role = c->role;
        ev.protocol = c->protocol;
        __builtin_memcpy(ev.local_addr, c->local_addr, 16);
        __builtin_memcpy(ev.remote_addr, c->remote_addr, 16);
        ev.flags = c->flags & HT_CONN_SEEN_START;
        ev.source = HT_SOURCE_SYSCALL;
        bpf_get_current_comm(ev.comm, sizeof(ev.comm));

        if (bpf_ringbuf_output(&events, &ev, sizeof(ev), rb_flags()) < 0) {
                count(HT_CNT_RINGBUF_DROPS, 1);
                return false;
        }
        count(HT_CNT_RECORDS, 1);
        c->flags |= HT_CONN_ANNOUNCED;
        bpf_map_update_elem(&http_procs, &tgid, &one, BPF_ANY);
        return true;
}

/*
 * One data record: up to payload_max bytes of buf, and (length - captured)
 * bytes of gap. buf == 0 means a pure gap (sendfile, iovecs past the cap).
 */
static __always_inline void emit_data_from(struct ht_conn *c, __u64 pid_tgid, int fd, __u8 dir, __u8 sys,
                                           __u64 buf, bool kernel_buf, __u32 length, __u64 syscall_bytes,
                                           __u8 flags, __u64 ts) {
        struct data_scratch *s;
        __u32 zero = 0, cap = 0;
        __u64 lost;

        s = bpf_map_lookup_elem(&scratch, &zero);
        if (!s)
                return;

        if (buf) {
                cap = length < payload_max ? length : payload_max;
                if (cap > HT_PAYLOAD_CAP)
                        cap = HT_PAYLOAD_CAP;
                barrier_var(cap);
                if (cap > 0 && (kernel_buf ? bpf_probe_read_kernel(s->data, cap, (const void *) buf)
                                           : bpf_probe_read_user(s->data, cap, (const void *) buf)) < 0) {
                        cap = 0;
                        flags |= HT_DATA_FAULT;
                        count(HT_CNT_READ_FAULTS, 1);
                }
        }
        barrier_var(cap);
        if (cap > HT_PAYLOAD_CAP)
                return;

        dir &= 1;
        lost = c->lost[dir];
        fill_header(&s->ev.hdr, HT_EVENT_DATA, sizeof(s->ev) + cap, c->id, pid_tgid, fd);
        if (ts)
                s->ev.hdr.timestamp_ns = ts;
        s->ev.syscall_bytes = syscall_bytes;
        s->ev.lost_before = lost;
        s->ev.length = length;
        s->ev.captured = cap;
        s->ev.direction = dir;
        s->ev.syscall = sys;
        s->ev.flags = flags;
        __builtin_memset(s->ev._pad, 0, sizeof(s->ev._pad));

        if (bpf_ringbuf_output(&events, s, sizeof(s->ev) + cap, rb_flags()) < 0) {
                count(HT_CNT_RINGBUF_DROPS, 1);
                count(HT_CNT_RINGBUF_DROP_BYTES, length);
                __sync_fetch_and_add(&c->lost[dir], length);
                return;
        }
        if (lost)
                __sync_fetch_and_add(&c->lost[dir], -lost);
        count(HT_CNT_RECORDS, 1);
        count(HT_CNT_CAPTURED_BYTES, cap);
        if (length > cap)
                count(HT_CNT_GAP_BYTES, length - cap);
}

static __always_inline void emit_data(struct ht_conn *c, __u64 pid_tgid, int fd, __u8 dir, __u8 sys,
                                      __u64 buf, __u32 length, __u64 syscall_bytes, __u8 flags) {
        emit_data_from(c, pid_tgid, fd, dir, sys, buf, false, length, syscall_bytes, flags, 0);
}

/*
 * Classify a connection from the first bytes of this syscall (first, avail
 * of them readable there); true if it is HTTP/1 now. *ret_prefix is set to
 * the number of stashed bytes from earlier syscalls that must be sent ahead
 * of this syscall's bytes.
 */
static __always_inline bool infer(struct ht_conn *c, __u64 first, __u64 avail, __u8 dir, __u32 *ret_prefix) {
        unsigned char b[HT_INFER_BYTES] = {};
        __u32 n = avail < HT_INFER_BYTES ? avail : HT_INFER_BYTES;
        __u32 prev = c->stash_len;
        bool from_start = c->flags & HT_CONN_SEEN_START;
        int r;

        *ret_prefix = 0;
        if (c->protocol == HT_PROTO_HTTP1)
                return true;
        if (c->protocol != HT_PROTO_UNKNOWN)
                return false;
        if (n == 0)
                return false;

        if (from_start && (prev > 0 || n < HT_INFER_BYTES)) {
                /* Too short to decide: keep the bytes and decide on more of them. */
                __u32 take;

                if (prev > 0 && c->stash_dir != dir)
                        goto not_http;   /* both sides spoke before a method: not HTTP/1 */
                take = HT_INFER_BYTES - prev;
                if (take > n)
                        take = n;
                prev &= HT_INFER_BYTES - 1;
                take &= HT_INFER_BYTES - 1;
                barrier_var(prev);
                barrier_var(take);
                if (take > 0 && bpf_probe_read_user(c->stash + prev, take, (const void *) first) < 0) {
                        count(HT_CNT_READ_FAULTS, 1);
                        return false;
                }
                if (prev == 0)
                        c->stash_ns = bpf_ktime_get_ns();
                c->stash_len = prev + take;
                c->stash_dir = dir;
                __builtin_memcpy(b, c->stash, HT_INFER_BYTES);
                n = prev + take;
        } else {
                barrier_var(n);
                if (n > HT_INFER_BYTES)
                        return false;
                if (bpf_probe_read_user(b, n, (const void *) first) < 0) {
                        count(HT_CNT_READ_FAULTS, 1);
                        return false;
                }
        }
        r = ht_infer_protocol(b, n);

        if (r == HT_INFER_REQUEST || r == HT_INFER_RESPONSE) {
                bool role_known = c->role != HT_ROLE_UNKNOWN;

                if (!role_known) {
                        bool request = r == HT_INFER_REQUEST;
                        bool ingress = dir == HT_DIR_INGRESS;

                        c->role = request == ingress ? HT_ROLE_SERVER : HT_ROLE_CLIENT;
                }
                c->protocol = HT_PROTO_HTTP1;
                *ret_prefix = prev;
                c->stash_len = 0;
                count(HT_CNT_CONNS_HTTP, 1);
                /* The role filter could not be applied before the first message told the role. */
                if (!role_known && c->filter_gen != 0 && !role_pass(&filter_config[c->filter_gen & 1], c->role)) {
                        c->flags |= HT_CONN_FILTERED;
                        count(HT_CNT_FILTERED_CONNS, 1);
                        return false;
                }
                return true;
        }
        if (r == HT_INFER_HTTP2) {
                c->protocol = HT_PROTO_HTTP2;
                c->stash_len = 0;
                count(HT_CNT_CONNS_OTHER, 1);
                return false;
        }
        /*
         * From the first byte, anything else is not HTTP once we have seen
         * HT_INFER_BYTES of it. Mid-stream, keep looking a while for a
         * message start.
         */
        if (r == HT_INFER_OTHER || (from_start && n >= HT_INFER_BYTES) ||
            (!from_start && ++c->probes >= HT_MIDSTREAM_PROBES))
                goto not_http;
        return false;

not_http:
        c->protocol = HT_PROTO_OTHER;
        c->stash_len = 0;
        count(HT_CNT_CONNS_OTHER, 1);
        return false;
}

struct iovec_user {
        __u64 base;
        __u64 len;
};

/*
 * State of a bpf_loop() walk over an iovec array. bpf_loop() has the
 * verifier check the step once instead of once per unrolled iteration:
 * with HT_IOV_CAP unrolled copies of emit_data() in nine exit programs,
 * loading took 2.7 s here; with bpf_loop() 0.8 s.
 */
struct iov_walk {
        struct ht_conn_key key;
        __u64 pid_tgid;
        __u64 iov;
        __u64 iovcnt;
        __u64 left;
        __u64 syscall_bytes;
        __u8 direction;
        __u8 syscall;
        __u8 flags;
};

static long iov_step(__u32 i, void *ctx) {
        struct iov_walk *w = ctx;
        struct iovec_user iv;
        struct ht_conn *c;
        __u64 seg;

        if (i >= w->iovcnt || w->left == 0)
                return 1;
        if (bpf_probe_read_user(&iv, sizeof(iv), (const void *) (w->iov + i * sizeof(iv))) < 0)
                return 1;
        seg = iv.len < w->left ? iv.len : w->left;
        if (seg == 0)
                return 0;
        c = bpf_map_lookup_elem(&conns, &w->key);
        if (!c)
                return 1;
        emit_data(c, w->pid_tgid, w->key.fd, w->direction, w->syscall, iv.base, seg, w->syscall_bytes, w->flags);
        w->flags = 0;
        w->left -= seg;
        return 0;
}

/* Exit of a data syscall that returned ret bytes. */
static __always_inline void data_exit(long ret) {
        __u64 pid_tgid;
        struct ht_conn_key key;
        struct syscall_args a;
        struct ht_conn *c;
        __u64 first, first_len;
        __u32 prefix = 0;

        /* Cheapest test first: most syscalls are on files and sockets that are not traced. */
        if (!take_args(&a) || ret <= 0)
                return;
        if (!task_ids(&pid_tgid))
                return;

        key.tgid = pid_tgid >> 32;
        key.fd = a.fd;
        c = bpf_map_lookup_elem(&conns, &key);
        /* Excluded by another thread between this syscall's enter and exit: nothing more goes out. */
        if (!c || (c->flags & HT_CONN_FILTERED))
                return;

        if (a.syscall == HT_SYS_SENDFILE) {
                if (c->protocol != HT_PROTO_HTTP1 || !announce(c, pid_tgid, a.fd)) {
                        if (c->protocol == HT_PROTO_HTTP1)
                                __sync_fetch_and_add(&c->lost[HT_DIR_EGRESS], ret);
                        return;
                }
                emit_data(c, pid_tgid, a.fd, HT_DIR_EGRESS, HT_SYS_SENDFILE, 0, ret, ret,
                          HT_DATA_SEGMENT_START | HT_DATA_SENDFILE);
                return;
        }

        /* The first bytes: the buffer itself, or the first iovec (never read past its end). */
        first = a.buf;
        first_len = ret;
        if (a.iovcnt) {
                struct iovec_user iv = {};

                if (bpf_probe_read_user(&iv, sizeof(iv), (const void *) a.buf) < 0) {
                        count(HT_CNT_READ_FAULTS, 1);
                        return;
                }
                first = iv.base;
                if (iv.len < first_len)
                        first_len = iv.len;
        }
        if (!infer(c, first, first_len, a.direction, &prefix))
                return;
        if (!announce(c, pid_tgid, a.fd)) {
                __sync_fetch_and_add(&c->lost[a.direction & 1], ret + prefix);
                return;
        }
        if (prefix > 0)
                /* Bytes of earlier syscalls kept while the connection was being classified. */
                emit_data_from(c, pid_tgid, a.fd, a.direction, a.syscall, (__u64) c->stash, true,
                               prefix, prefix, HT_DATA_SEGMENT_START, c->stash_ns);

        if (!a.iovcnt) {
                emit_data(c, pid_tgid, a.fd, a.direction, a.syscall, a.buf, ret, ret, HT_DATA_SEGMENT_START);
                return;
        }

        /* Vectored: a record per iovec, in order, until ret bytes are accounted for. */
        struct iov_walk w = {
                .key = key, .pid_tgid = pid_tgid, .iov = a.buf, .iovcnt = a.iovcnt,
                .left = ret, .syscall_bytes = ret, .direction = a.direction, .syscall = a.syscall,
                .flags = HT_DATA_SEGMENT_START,
        };
        bpf_loop(HT_IOV_CAP, iov_step, &w, 0);
        if (w.left > 0) {
                /* More iovecs than we walk (or an unreadable array): the rest is a gap of known size. */
                count(HT_CNT_IOV_TRUNCATED, 1);
                emit_data(c, pid_tgid, a.fd, a.direction, a.syscall, 0, w.left, ret, w.flags);
        }
}

/* ---- entry points: thin, all logic above ---- */

SEC("tracepoint/syscalls/sys_enter_read")
int ht_enter_read(struct trace_event_raw_sys_enter *ctx) {
        data_enter(ctx->args[0], ctx->args[1], 0, HT_SYS_READ, HT_DIR_INGRESS);
        return 0;
}

#define MSG_PEEK 2

SEC("tracepoint/syscalls/sys_enter_recvfrom")
int ht_enter_recvfrom(struct trace_event_raw_sys_enter *ctx) {
        /* Peeked bytes are read again later: counting them now would duplicate them. */
        if (ctx->args[3] & MSG_PEEK)
                return 0;
        data_enter(ctx->args[0], ctx->args[1], 0, HT_SYS_RECVFROM, HT_DIR_INGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_readv")
int ht_enter_readv(struct trace_event_raw_sys_enter *ctx) {
        if (ctx->args[2] > 0)
                data_enter(ctx->args[0], ctx->args[1], ctx->args[2], HT_SYS_READV, HT_DIR_INGRESS);
        return 0;
}

static __always_inline void msg_enter(struct trace_event_raw_sys_enter *ctx, __u8 sys, __u8 dir) {
        struct user_msghdr msg = {};

        if (bpf_probe_read_user(&msg, sizeof(msg), (const void *) ctx->args[1]) < 0)
                return;
        if (msg.msg_iovlen > 0)
                data_enter(ctx->args[0], (__u64) msg.msg_iov, msg.msg_iovlen, sys, dir);
}

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int ht_enter_recvmsg(struct trace_event_raw_sys_enter *ctx) {
        if (ctx->args[2] & MSG_PEEK)
                return 0;
        msg_enter(ctx, HT_SYS_RECVMSG, HT_DIR_INGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_write")
int ht_enter_write(struct trace_event_raw_sys_enter *ctx) {
        data_enter(ctx->args[0], ctx->args[1], 0, HT_SYS_WRITE, HT_DIR_EGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int ht_enter_sendto(struct trace_event_raw_sys_enter *ctx) {
        data_enter(ctx->args[0], ctx->args[1], 0, HT_SYS_SENDTO, HT_DIR_EGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int ht_enter_writev(struct trace_event_raw_sys_enter *ctx) {
        if (ctx->args[2] > 0)
                data_enter(ctx->args[0], ctx->args[1], ctx->args[2], HT_SYS_WRITEV, HT_DIR_EGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int ht_enter_sendmsg(struct trace_event_raw_sys_enter *ctx) {
        msg_enter(ctx, HT_SYS_SENDMSG, HT_DIR_EGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendfile64")
int ht_enter_sendfile(struct trace_event_raw_sys_enter *ctx) {
        struct ht_conn_key key = { .fd = ctx->args[0] };
        struct ht_conn *c;
        __u64 pid_tgid;

        if (!traced_task(&pid_tgid))
                return 0;
        key.tgid = pid_tgid >> 32;
        /* sendfile never starts a connection's classification: its bytes are invisible. */
        c = bpf_map_lookup_elem(&conns, &key);
        if (!c || c->protocol != HT_PROTO_HTTP1)
                return 0;
        if (!conn_filter(c, pid_tgid, key.fd)) {
                count(HT_CNT_FILTERED_SYSCALLS, 1);
                return 0;
        }
        save_args(pid_tgid, ctx->args[0], 0, 0, HT_SYS_SENDFILE, HT_DIR_EGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int ht_exit_read(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int ht_exit_recvfrom(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_readv")
int ht_exit_readv(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int ht_exit_recvmsg(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int ht_exit_write(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int ht_exit_sendto(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_writev")
int ht_exit_writev(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int ht_exit_sendmsg(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendfile64")
int ht_exit_sendfile(struct trace_event_raw_sys_exit *ctx) {
        data_exit(ctx->ret);
        return 0;
}

static __always_inline void accept_exit(long ret) {
        __u64 pid_tgid;

        if (ret < 0 || !traced_task(&pid_tgid))
                return;
        conn_create(pid_tgid, ret, fd_to_file(ret), HT_ROLE_SERVER, true);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int ht_exit_accept(struct trace_event_raw_sys_exit *ctx) {
        accept_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int ht_exit_accept4(struct trace_event_raw_sys_exit *ctx) {
        accept_exit(ctx->ret);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int ht_enter_connect(struct trace_event_raw_sys_enter *ctx) {
        __u64 pid_tgid;

        if (!traced_task(&pid_tgid))
                return 0;
        save_args(pid_tgid, ctx->args[0], 0, 0, ARGS_CONNECT, HT_DIR_EGRESS);
        return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int ht_exit_connect(struct trace_event_raw_sys_exit *ctx) {
        struct syscall_args a;
        __u64 pid_tgid;
        int fd;

        if (!take_args(&a) || a.syscall != ARGS_CONNECT || !task_ids(&pid_tgid))
                return 0;
        fd = a.fd;
        if (ctx->ret == 0 || ctx->ret == -EINPROGRESS)
                conn_create(pid_tgid, fd, fd_to_file(fd), HT_ROLE_CLIENT, true);
        return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int ht_enter_close(struct trace_event_raw_sys_enter *ctx) {
        struct ht_conn_key key = { .fd = ctx->args[0] };
        struct ht_conn *c;
        __u64 pid_tgid;

        if (!task_ids(&pid_tgid))
                return 0;
        key.tgid = pid_tgid >> 32;
        c = bpf_map_lookup_elem(&conns, &key);
        if (!c)
                return 0;
        if (c->flags & HT_CONN_ANNOUNCED)
                emit_close(c, pid_tgid, key.fd, HT_CLOSE_SYSCALL);
        bpf_map_delete_elem(&conns, &key);
        return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int ht_process_exit(void *ctx) {
        struct ht_event_header ev = {};
        __u64 pid_tgid;
        __u32 tgid;

        if (!task_ids(&pid_tgid))
                return 0;
        tgid = pid_tgid >> 32;
        /* The thread group leader's exit stands for the process. */
        if ((__u32) pid_tgid != tgid)
                return 0;
        if (!bpf_map_lookup_elem(&http_procs, &tgid))
                return 0;
        bpf_map_delete_elem(&http_procs, &tgid);

        fill_header(&ev, HT_EVENT_PROC_EXIT, sizeof(ev), 0, pid_tgid, -1);
        if (bpf_ringbuf_output(&events, &ev, sizeof(ev), rb_flags()) < 0)
                count(HT_CNT_RINGBUF_DROPS, 1);
        else
                count(HT_CNT_RECORDS, 1);
        return 0;
}
