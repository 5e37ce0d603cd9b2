/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The contract between the BPF programs (bpf/http-tracer.bpf.c) and user
 * space: the records written to the ring buffer, the connection map that both
 * sides read and write, and the drop counters. Also the record format of
 * --record files, which are these same records behind a small header.
 *
 * Rules: fixed-width types only, explicit padding, no pointers that user
 * space would dereference, every size limit named here with its reason. Any
 * change to a record's layout bumps HT_ABI_VERSION (recordings carry it).
 */
#pragma once

#ifdef __BPF__
/* vmlinux.h provides the __u8 ... __u64 types in the BPF build. */
#else
#include <linux/types.h>
#endif

#define HT_ABI_VERSION 4   /* 2: TLS source; 3: lost message starts, identity in CONN_OPEN; 4: connections keyed by socket (ht_conn_open_event.sock, HT_CLOSE_DESTROYED) */

/* Length of a task's comm, as in the kernel's TASK_COMM_LEN. */
#define HT_COMM_LEN 16

/*
 * The executable's path as CONN_OPEN carries it: the names of its dentry and
 * of its parents, from the file up, each cut to HT_EXE_PART_LEN - 1 bytes.
 * /usr/sbin/nginx takes 4 (the root's name is sent empty); deeper paths keep
 * only their last components (exe_complete 0).
 */
#define HT_EXE_PARTS 6
#define HT_EXE_PART_LEN 32

/*
 * Largest payload one data record may carry: a record (header included)
 * fits the largest ring buffer slot of lib/emit.bpf.h, 32 KiB.
 */
#define HT_PAYLOAD_CAP 32512u

/* Default per-record payload ("N"): covers request/response heads up to 16 KiB. */
#define HT_PAYLOAD_DEFAULT 16384u

/*
 * iovecs captured one by one for readv/writev/recvmsg/sendmsg: all of them,
 * as the kernel refuses more than UIO_MAXIOV (1024) in one call. The walk is
 * a bpf_loop() (sources/syscalls.bpf.h), whose step the verifier checks
 * once whatever this bound, so it costs nothing at load. A smaller bound
 * (it was 32) cut writes that batch: node's http2 server writes 20 streams'
 * frames in one writev() of 61 iovecs, and the bytes past the bound, one gap
 * across many frames, made the HTTP/2 frame parser lose sync. Bytes not
 * walked (an unreadable iovec array) are reported as a gap of known length.
 */
#define HT_IOV_CAP 1024u

/*
 * Records one buffer or iovec of an HTTP/2 connection may take, payload_max
 * bytes each (sources/syscalls.bpf.h, emit_segment()), so that no gap spans
 * frame headers: 4096 of the default 16 KiB cover 64 MiB, more than a socket
 * call moves at once. What is left past them is a gap of known length.
 */
#define HT_SEGMENT_CHUNKS 4096u

/*
 * A connection seen mid-stream (opened before the daemon started, or its
 * first bytes lost) is re-examined on each data syscall until its bytes look
 * like an HTTP message start, for at most this many syscalls of
 * HT_INFER_BYTES or more; after that it is marked as not HTTP and costs
 * nothing more. Shorter syscalls are examined without counting (their
 * bytes are kept while they could begin a message: lib/protocol.bpf.h), so
 * a reader of one byte per read() is recognised at its next message.
 */
#define HT_MIDSTREAM_PROBES 64u

/* Bytes of a buffer the in-kernel protocol inference looks at. */
#define HT_INFER_BYTES 16u

enum ht_event_type {
        HT_EVENT_CONN_OPEN  = 1, /* struct ht_conn_open_event: an HTTP connection was recognised */
        HT_EVENT_DATA       = 2, /* struct ht_data_event: bytes (and/or a gap) on a connection */
        HT_EVENT_CONN_CLOSE = 3, /* struct ht_conn_close_event */
        HT_EVENT_PROC_EXIT  = 4, /* struct ht_event_header only: a process with HTTP connections exited */
};

enum ht_role {
        HT_ROLE_UNKNOWN = 0,
        HT_ROLE_SERVER  = 1, /* the traced process reads requests and writes responses */
        HT_ROLE_CLIENT  = 2, /* the traced process writes requests and reads responses */
};

enum ht_protocol {
        HT_PROTO_UNKNOWN = 0, /* not classified yet */
        HT_PROTO_HTTP1   = 1,
        HT_PROTO_HTTP2   = 2, /* recognised by its client preface (h2c prior knowledge, h2 in TLS) */
        HT_PROTO_OTHER   = 3, /* TLS, ssh, databases...: ignored, costs one map lookup per syscall */
};

enum ht_source {
        HT_SOURCE_SYSCALL = 0, /* plaintext seen at the socket syscalls */
        HT_SOURCE_TLS     = 1, /* plaintext from TLS library uprobes (bpf/sources/openssl.bpf.h) */
};

enum ht_direction {
        HT_DIR_INGRESS = 0, /* read/received by the traced process */
        HT_DIR_EGRESS  = 1, /* written/sent by the traced process */
};

enum ht_syscall {
        HT_SYS_READ = 1,
        HT_SYS_READV,
        HT_SYS_RECVFROM,
        HT_SYS_RECVMSG,
        HT_SYS_WRITE,
        HT_SYS_WRITEV,
        HT_SYS_SENDTO,
        HT_SYS_SENDMSG,
        HT_SYS_SENDFILE,
        HT_SYS_SPLICE,     /* splice() to or from the socket: a gap of known length, like sendfile */
};

/*
 * The TLS source's operations, in ht_data_event.syscall beside enum
 * ht_syscall: a data record's kind says which source produced it (data
 * records carry no source field). Plaintext handed to / returned by
 * SSL_write(_ex) / SSL_read(_ex).
 */
enum ht_tls_op {
        HT_TLS_READ  = 64,
        HT_TLS_WRITE = 65,
};

/*
 * TLS library files the TLS source attaches to at once: ht_conn_open_event
 * .tls_library is an index into user space's list of them (1-based; 0 = not
 * TLS). Distinct files (libssl.so.3, libssl.so.1.1, copies inside
 * containers, node binaries); past this they are not attached (logged).
 */
#define HT_TLS_LIBRARIES_MAX 64u

/* ht_data_event.flags */
enum {
        HT_DATA_SEGMENT_START = 1 << 0, /* first record of a syscall's bytes */
        HT_DATA_SENDFILE      = 1 << 1, /* bytes moved by sendfile() or splice(): never captured, a gap */
        HT_DATA_FAULT         = 1 << 2, /* reading the user buffer failed: the bytes are a gap */
};

/* ht_conn_open_event.flags and struct ht_conn.flags */
enum {
        HT_CONN_SEEN_START = 1 << 0, /* accept()/connect() was seen: we have the stream from byte 0 */
        HT_CONN_ANNOUNCED  = 1 << 1, /* kernel only: CONN_OPEN reached the ring buffer */
        HT_CONN_SOCK_OK    = 1 << 2, /* kernel only: verified TCP over IPv4/IPv6 */
        HT_CONN_FILTERED   = 1 << 3, /* kernel only: excluded by the filter of generation filter_gen */
        /*
         * Seen mid-stream, but classified on a message start in this
         * direction: its first data record after CONN_OPEN begins a message
         * (the other direction may be mid-message).
         */
        HT_CONN_SYNC_INGRESS = 1 << 4,
        HT_CONN_SYNC_EGRESS  = 1 << 5,
};

enum ht_close_reason {
        HT_CLOSE_SYSCALL  = 1, /* close() */
        HT_CLOSE_REUSED   = 2, /* the fd now refers to another file (dup2, close_range...) */
        HT_CLOSE_FILTERED = 3, /* still open, but a new filter excludes it: nothing more will come */
        /*
         * The socket was destroyed without a close() we saw drop its last
         * reference (process exit, exec, dup2 over the fd, a close racing
         * another thread). Sent from the TCP stack, not from a syscall: the
         * header's tgid/tid are 0 and fd is -1. User space may already have
         * finished the connection (process exit): not an orphan then.
         */
        HT_CLOSE_DESTROYED = 4,
};

struct ht_event_header {
        __u16 type;          /* enum ht_event_type */
        __u16 _pad0;
        __u32 size;          /* bytes of the whole record, header and payload included */
        __u64 timestamp_ns;  /* CLOCK_MONOTONIC, bpf_ktime_get_ns() at the syscall's exit */
        __u64 conn_id;       /* unique for the daemon's life; 0 in PROC_EXIT */
        __u32 tgid;
        __u32 tid;
        __s32 fd;
        __u32 _pad1;
};

struct ht_conn_open_event {
        struct ht_event_header hdr;
        __u16 family;            /* AF_INET or AF_INET6 */
        __u16 local_port;        /* host byte order */
        __u16 remote_port;       /* host byte order */
        __u8 role;               /* enum ht_role */
        __u8 protocol;           /* enum ht_protocol */
        __u8 local_addr[16];     /* network order; IPv4 in the first 4 bytes */
        __u8 remote_addr[16];
        __u8 flags;              /* HT_CONN_SEEN_START, HT_CONN_SYNC_INGRESS, HT_CONN_SYNC_EGRESS */
        __u8 source;             /* enum ht_source */
        __u8 tls_library;        /* HT_SOURCE_TLS: 1 + index of the library file (attach cookie); else 0 */
        __u8 exe_complete;       /* exe_parts reach the root of the executable's mount */
        __u8 _pad[4];
        char comm[HT_COMM_LEN];  /* of the thread that made the syscall */
        __u64 cgroup_id;         /* cgroup v2 id of that thread (the cgroup directory's inode number) */
        __u64 exe_ino;           /* inode number of the executable */
        /*
         * The socket's identity, the same for every fd and process that
         * reaches it (dup2'ed to 0 and 1, inherited by a child): the key of
         * the connection map, masked with sock_salt (a load-time setting
         * user space chose) so that no kernel address reaches a record or a
         * recording. One connection, one id, whatever fd carries its bytes.
         */
        __u64 sock;
        char exe_parts[HT_EXE_PARTS][HT_EXE_PART_LEN]; /* see HT_EXE_PARTS; NUL-terminated */
};

struct ht_data_event {
        struct ht_event_header hdr;
        __u64 syscall_bytes;     /* the syscall's full return value */
        __u64 lost_before;       /* bytes of this direction lost just before this record (ring full) */
        __u64 lost_other;        /* bytes of the other direction lost before this record, not yet reported */
        __u32 length;            /* bytes this record stands for: captured + gap */
        __u32 captured;          /* payload bytes that follow (<= length, <= payload setting) */
        /*
         * By direction (enum ht_direction): message starts in the records of
         * lost_before/lost_other, i.e. lost records whose first bytes look
         * like a request or status line (bpf/lib/infer.h). Saturates.
         */
        __u16 lost_starts[2];
        __u8 direction;          /* enum ht_direction */
        __u8 syscall;            /* enum ht_syscall */
        __u8 flags;              /* HT_DATA_* */
        __u8 _pad[1];
        __u8 data[];             /* captured bytes; length - captured more were not captured */
};

struct ht_conn_close_event {
        struct ht_event_header hdr;
        __u32 reason;            /* enum ht_close_reason */
        __u8 source;             /* enum ht_source: whose view of the socket is closed */
        __u8 _pad[3];
        __u64 lost[2];           /* by direction: bytes lost since the last delivered record, not yet reported */
        __u16 lost_starts[2];    /* by direction: message starts in them (as in ht_data_event) */
        __u32 _pad2;
};

/*
 * Key and value of the connection map, read and written by both sides. A
 * connection is the socket itself (its struct sock, which lives until the
 * TCP stack destroys it: tracepoint tcp/tcp_destroy_sock removes the entry),
 * not an fd: every fd of every process that reaches the socket finds the
 * same entry through the fd cache (struct ht_fd_key, lib/conn.bpf.h).
 * User space computes the key as ht_conn_open_event.sock ^ sock_salt.
 */
struct ht_conn_key {
        __u64 sock;              /* struct sock * */
};

struct ht_conn {
        __u64 id;
        __u64 sock;              /* = the key, masked with sock_salt: ht_conn_open_event.sock */
        __u64 lost[2];           /* per direction: bytes lost since the last delivered record */
        __u32 lost_starts[2];    /* per direction: message starts in those lost records */
        __u16 family;
        __u16 local_port;
        __u16 remote_port;
        __u8 role;
        __u8 protocol;
        __u8 flags;
        __u8 probes;             /* mid-stream inference attempts so far */
        __u8 stash_len;          /* bytes in stash */
        __u8 stash_dir;          /* their direction */
        __u32 filter_gen;        /* kernel only: filter generation the HT_CONN_FILTERED decision was made under */
        __u8 local_addr[16];
        __u8 remote_addr[16];
        /*
         * A connection seen from its first byte whose first syscalls carry
         * too few bytes to classify ("G", "ET /"...) keeps them here until
         * HT_INFER_BYTES have arrived; they are then sent ahead of the bytes
         * that decided. Twice HT_INFER_BYTES so the verifier can bound an
         * append at any offset below HT_INFER_BYTES.
         */
        __u8 stash[HT_INFER_BYTES * 2];
        __u64 stash_ns;          /* when the first stashed byte arrived: the message's start */
        /*
         * Mid-stream and not classified yet, per direction: how the last
         * operation's bytes ended (enum ht_tail). A short operation may
         * begin a message only after a line end: with one byte per read(),
         * every byte begins a read, and "HTTP/1.1" in a request line must
         * not pass for a response.
         */
        __u8 tail[2];
        __u8 _pad2[6];
};

enum ht_tail {
        HT_TAIL_UNKNOWN = 0,     /* nothing seen yet: any operation may begin a message */
        HT_TAIL_EOL     = 1,     /* ended with '\n' */
        HT_TAIL_OTHER   = 2,
};

/* Indexes of the per-CPU counter array; user space sums over CPUs. */
enum ht_counter {
        HT_CNT_RINGBUF_DROPS = 0,   /* records that did not fit in the ring buffer */
        HT_CNT_RINGBUF_DROP_BYTES,  /* payload bytes those records stood for */
        HT_CNT_CONN_MAP_FULL,       /* connections not tracked: connection map full */
        HT_CNT_ARGS_MAP_FULL,       /* syscalls not traced: no task storage for their arguments */
        HT_CNT_RECORDS,             /* records delivered */
        HT_CNT_CAPTURED_BYTES,      /* payload bytes delivered */
        HT_CNT_GAP_BYTES,           /* bytes reported as gaps (over N, sendfile, an unreadable iovec array) */
        HT_CNT_READ_FAULTS,         /* user buffers that could not be read */
        HT_CNT_CONNS_HTTP,          /* connections classified as HTTP/1 */
        HT_CNT_CONNS_OTHER,         /* connections classified as not HTTP */
        HT_CNT_IOV_TRUNCATED,       /* vectored syscalls whose iovecs were not all walked (unreadable array) */
        HT_CNT_FILTERED_CONNS,      /* connections the filter excluded (each time a decision excluded one) */
        HT_CNT_FILTERED_SYSCALLS,   /* data syscalls on excluded connections: nothing copied */
        HT_CNT_OTHER_PIDNS,         /* socket syscalls of tasks outside the daemon's PID namespace: not traced */
        HT_CNT_TLS_UNTIED,          /* TLS plaintext chunks not tied to a socket (no fd known for the SSL*): not traced */
        HT_CNT_TLS_TIED_BY_READ,    /* SSL*s of memory-BIO libraries (node) tied to the socket their thread last read */
        HT_CNT_LOST_STARTS,         /* message starts (request or status lines) in records that did not fit */
        HT_CNT_TLS_CONNS_EVICTED,   /* TLS views evicted from tls_conns (LRU) while their SSL* still spoke */
        HT_CNT_CLOSES_LOST,         /* CONN_CLOSE records that did not fit: the loss they carried stays unattached */
        HT_CNT_IO_URING_SOCKETS,    /* TCP sockets seen driven through io_uring: their bytes are not traced */
        HT_CNT_EXCHANGES_LOST_UNSEEN, /* request starts lost with their whole connection: no delivered record carried them */
        _HT_CNT_MAX,
};

/*
 * The kernel filter (src/capture/kernel-filter.h: KernelFilter;
 * kernel_filter_match() is the reference semantics). Its maps hold two generations side by side, told
 * apart by a slot (generation & 1) in every key; user space fills the slot
 * not in use, then flips the active generation word (filter_gen, a global
 * of the BPF object) with one store. Generation 0 means no filter. A
 * connection remembers the generation of its decision and decides again
 * when the word changed, so a reload is atomic per connection and the
 * programs are never detached.
 */

/* Bits of ht_filter_config.include/.exclude: which lists are non-empty (= KFILTER_DIM_*). */
enum {
        HT_FILTER_DIM_PID         = 1 << 0,
        HT_FILTER_DIM_CGROUP      = 1 << 1,
        HT_FILTER_DIM_LOCAL_PORT  = 1 << 2,
        HT_FILTER_DIM_REMOTE_PORT = 1 << 3,
        HT_FILTER_DIM_ADDRESS     = 1 << 4,
        HT_FILTER_DIM_ROLE        = 1 << 5,
};

/* Values of the PID and cgroup maps: in which half the entry appears (= KFILTER_FLAG_*). */
enum {
        HT_FILTER_INCLUDE = 1 << 0,
        HT_FILTER_EXCLUDE = 1 << 1,
};

/* One generation's summary, in the BPF object's .bss (filter_config[slot]). */
struct ht_filter_config {
        __u32 include;           /* HT_FILTER_DIM_* of the non-empty include lists */
        __u32 exclude;           /* HT_FILTER_DIM_* of the non-empty exclude lists */
        __u8 roles[2];           /* [include, exclude]: bit (1 << enum ht_role) */
        __u8 _pad[6];
};

struct ht_filter_pid_key {
        __u32 pid;               /* thread group id in the daemon's PID namespace */
        __u32 slot;
};

struct ht_filter_cgroup_key {
        __u64 id;                /* cgroup v2 id (inode of its directory) */
        __u32 slot;
        __u32 _pad;
};

/*
 * Peer address prefixes of both families and both halves in one LPM trie:
 * the first data byte says slot, half and family, so prefixlen is 8 + the
 * address prefix length. IPv4 uses addr[0..3].
 */
struct ht_filter_addr_key {
        __u32 prefixlen;
        __u8 tag;                /* slot << 2 | half << 1 | (family == AF_INET6) */
        __u8 addr[16];
};

/* Port bitmaps: filter_ports[(slot * 2 + dim) * 2 + half], dim 0 = local, 1 = remote. */
#define HT_PORT_WORDS (65536u / 64u)
struct ht_port_bitmap {
        __u64 bits[HT_PORT_WORDS];  /* bit p of word p / 64 = port p */
};

/*
 * cgroup levels examined per decision (bpf_get_current_ancestor_cgroup_id
 * from the root down): units sit at depth 2 (system.slice/x.service) to ~6
 * (user sessions, containers); a task deeper than this matches only through
 * its ancestors up to this level.
 */
#define HT_CGROUP_LEVELS 16u

/*
 * Map sizes, each with its reason; the memory they add up to, map by map,
 * is budgeted in lib/maps.bpf.h (issue 14: at most 12 MiB at defaults).
 * User space may resize the ring buffer and the connection maps before load
 * (bpf_map__set_max_entries), from capture.ring_buffer_size and
 * capture.connections_max, whose defaults (config-table.c) are these.
 */
/*
 * TCP sockets tracked at once (HTTP or not: a socket found not to be HTTP
 * keeps its verdict here), LRU. Covers the 10,000 idle keep-alive
 * connections of bench/run's memory section with room to spare; past it the
 * least recently used socket is evicted, and if it speaks again it is
 * classified again from its next bytes (mid-stream). 192 B per entry.
 */
#define HT_MAP_CONNS_DEFAULT     16384u
/*
 * The TLS source's view of sockets (tls_conns) and its SSL* -> fd ties
 * (tls_fds): one each per live TLS session, a share of all TCP sockets
 * (HTTPS sessions are fewer than sockets: proxies' upstreams, databases and
 * HTTP/1 keep-alive pools are plaintext). tls_conns is resized with the
 * connection map, keeping this ratio. LRU: a view evicted while its
 * session still speaks is counted (HT_CNT_TLS_CONNS_EVICTED) and traced
 * again from its next message start; an evicted tie is learned again at the
 * session's next socket syscall (a chunk before that: HT_CNT_TLS_UNTIED).
 * tls_fds has twice the entries of tls_conns (resized with it): a tie must
 * outlive its view for the view's eviction to be seen (the tie remembers
 * it had one), and a tie costs half a view (~96 B).
 */
#define HT_MAP_TLS_CONNS_DEFAULT (HT_MAP_CONNS_DEFAULT / 4u)
#define HT_MAP_TLS_FDS_PER_CONN  2u
#define HT_MAP_TLS_FDS           (HT_MAP_TLS_FDS_PER_CONN * HT_MAP_TLS_CONNS_DEFAULT)
/*
 * Processes holding announced HTTP connections, so that only their exits
 * are reported: servers run tens to a few hundred workers (prefork apache:
 * up to MaxRequestWorkers, 256 by default). LRU: an evicted process's
 * connections end at their close or idle timeout instead.
 */
#define HT_MAP_HTTP_PROCS        4096u
/*
 * What the ring buffer must absorb is what the producers write while the
 * daemon is not reading: the drain interval (capture.wakeup_delay, 5 ms)
 * plus its scheduling delay on a busy host; a wakeup comes early when 1/8 of
 * the ring is pending. Measured (bench/run's saturation set-up on 2 busy
 * cores, wrk keep-alive and Connection: close, journal output and none,
 * 2026-12-02): no record lost with rings of 256 KiB and 512 KiB at
 * ~700 B per exchange (three records in their slots). 2 MiB is 8x that,
 * ~60 ms of a saturated nginx here; a host with longer stalls raises
 * capture.ring_buffer_size, and losses are counted (ringbuf_drops), never
 * silent.
 */
#define HT_RINGBUF_DEFAULT       (2u << 20)
/*
 * (process, fd) -> verdict cache in front of the connection map
 * (lib/conn.bpf.h): one entry per fd a process did a read/write family
 * syscall on (pipes, files, sockets), so a bystander's pipe costs one
 * lookup. LRU: an evicted entry costs one fd-table walk to decide again.
 * 16384 covers the fds in use by every process doing I/O on a busy host
 * (and the 10,000 idle connections of bench/run's memory section). ~100 B
 * per entry.
 */
#define HT_MAP_FD_CACHE          16384u
/* TCP sockets seen through io_uring, so each is counted once (HT_CNT_IO_URING_SOCKETS). LRU, ~100 B each. */
#define HT_MAP_IO_URING_SOCKS    1024u
/* Filter maps: two slots of CONFIG_LIST_MAX (4096) entries per list, include and exclude; not preallocated. */
#define HT_MAP_FILTER_PIDS       (2u * 2u * 4096u)
#define HT_MAP_FILTER_CGROUPS    (2u * 4u * 4096u)  /* units and cgroups, include and exclude */
#define HT_MAP_FILTER_ADDRS      (2u * 2u * 4096u)

/* --record file: this header, then each ring buffer record as a __u32 length + bytes. */
#define HT_RECORD_MAGIC "HTTRACE\0"
struct ht_record_file_header {
        char magic[8];           /* HT_RECORD_MAGIC */
        __u32 abi_version;       /* HT_ABI_VERSION */
        __u32 header_size;       /* sizeof(struct ht_record_file_header) */
        __u64 monotonic_ns;      /* CLOCK_MONOTONIC when recording started */
        __u64 realtime_ns;       /* CLOCK_REALTIME at the same moment */
        __u32 payload_max;       /* the per-record payload setting in use */
        __u32 _pad;
};
