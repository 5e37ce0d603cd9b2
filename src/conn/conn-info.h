/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the connection layer knows about a connection, in its own words: the
 * enums and ConnInfo that protocols, selection and outputs read. Nothing
 * here knows about BPF. The values equal the kernel ABI's (bpf/abi.h) so
 * that the records decoder can copy them; src/capture/ is the one place that
 * checks this (_Static_assert), and the only place that may rely on it.
 */
#pragma once

#include <stdint.h>

/* Bytes of a task's comm, as the kernel's TASK_COMM_LEN (= HT_COMM_LEN); ConnInfo.comm adds a NUL. */
#define CONN_COMM_LEN 16
/* The executable's path as the kernel captured it (bpf/abi.h: HT_EXE_PARTS of HT_EXE_PART_LEN). */
#define CONN_EXE_LEN 200

/*
 * Connections tracked at once by default, in user space as in the kernel's
 * connection map (= HT_MAP_CONNS_DEFAULT): a connection the kernel tracks
 * should never be refused here for want of room.
 */
#define CONN_TRACKED_DEFAULT 65536u

typedef enum ConnRole {
        CONN_ROLE_UNKNOWN = 0,
        CONN_ROLE_SERVER  = 1,   /* the traced process reads requests and writes responses */
        CONN_ROLE_CLIENT  = 2,   /* the traced process writes requests and reads responses */
} ConnRole;

typedef enum ConnProtocol {
        CONN_PROTOCOL_UNKNOWN = 0,
        CONN_PROTOCOL_HTTP1   = 1,
        CONN_PROTOCOL_HTTP2   = 2,
        CONN_PROTOCOL_OTHER   = 3,
        _CONN_PROTOCOL_MAX,
} ConnProtocol;

/* Where a connection's bytes come from. */
typedef enum ConnSource {
        CONN_SOURCE_SYSCALL = 0, /* plaintext seen at the socket syscalls */
        CONN_SOURCE_TLS     = 1, /* plaintext from TLS library uprobes */
        _CONN_SOURCE_MAX,
} ConnSource;

typedef enum ConnDirection {
        CONN_DIR_INGRESS = 0,    /* read/received by the traced process */
        CONN_DIR_EGRESS  = 1,    /* written/sent by the traced process */
} ConnDirection;

typedef enum ConnCloseReason {
        CONN_CLOSE_SYSCALL  = 1, /* close() */
        CONN_CLOSE_REUSED   = 2, /* the fd now refers to another file */
        CONN_CLOSE_FILTERED = 3, /* still open, but a new filter excludes it */
        CONN_CLOSE_DESTROYED = 4, /* the socket was destroyed (its last fd went without a close() seen) */
} ConnCloseReason;

/* ConnInfo.flags */
enum {
        CONN_SEEN_START = 1 << 0, /* the connection was seen from its first byte (accept()/connect()) */
        /* Seen mid-stream, but this direction's first bytes begin a message (they classified it). */
        CONN_SYNC_INGRESS = 1 << 4,
        CONN_SYNC_EGRESS  = 1 << 5,
};

typedef struct ConnInfo {
        uint64_t id;                  /* unique for the daemon's life */
        uint64_t sock;                /* the socket's opaque identity: one per socket, whatever fds reach it */
        uint32_t tgid;                /* the process and fd that announced it (others may share the socket) */
        int32_t fd;
        uint8_t role;                 /* ConnRole */
        uint8_t protocol;             /* ConnProtocol */
        uint8_t source;               /* ConnSource */
        uint8_t flags;                /* CONN_SEEN_START, CONN_SYNC_* */
        uint16_t family;              /* AF_INET or AF_INET6 */
        uint16_t local_port;
        uint16_t remote_port;
        uint8_t local_addr[16];       /* network order; IPv4 in the first 4 bytes */
        uint8_t remote_addr[16];
        char comm[CONN_COMM_LEN + 1]; /* NUL-terminated */
        char exe[CONN_EXE_LEN];       /* the process's executable when the connection was announced:
                                       * "/usr/sbin/nginx", or ".../bin/x" when deeper than the kernel
                                       * names; "" if unknown. NUL-terminated */
        uint64_t cgroup_id;           /* cgroup v2 id of the thread that announced it; 0 if unknown */
        const char *unit;             /* its systemd unit ("nginx.service"), resolved once when the connection
                                       * opened (capture/cgroup-unit.h; interned, valid for the daemon's
                                       * life); NULL when none or unknown. Read it with conn_info_unit() */
        uint64_t opened_ns;           /* CLOCK_MONOTONIC of the connection's announcement */
        const char *tls_library;      /* CONN_SOURCE_TLS: the library file the plaintext came from
                                       * (static storage of the capture layer); NULL if unknown */
} ConnInfo;

/* The systemd unit of the process that announced the connection, or NULL (outside any unit, or unknown). */
static inline const char *conn_info_unit(const ConnInfo *c) {
        return c ? c->unit : (const char *) 0;
}
