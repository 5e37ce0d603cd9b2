/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket: how `http-tracer status`, `http-tracer reload` (and
 * so `systemctl reload`) talk to the running daemon. JSON lines over an
 * AF_UNIX stream socket, one request line and one answer line per command,
 * versioned; docs/control-protocol.md is the contract.
 *
 * The server lives in the daemon's event loop and must never stall it: all
 * sockets are non-blocking, every client has a bounded request buffer, a
 * bounded answer and a deadline, and the number of clients is capped. The
 * daemon supplies the answers through callbacks.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "basic/json-build.h"
#include "basic/macro.h"
#include "conn/stats.h"

#define CONTROL_PROTOCOL_VERSION 1

/* Where the socket lives; http-tracer.socket listens here too. */
#define CONTROL_SOCKET_PATH "/run/http-tracer/control"
/* The fd name in http-tracer.socket (FileDescriptorName=). */
#define CONTROL_FD_NAME "control"

/*
 * A request is a short object ({"version":1,"command":"status"}); 4 KiB is
 * ample and bounds what a client can make us buffer.
 */
#define CONTROL_REQUEST_MAX 4096u
/*
 * An answer is a status (a few KiB) or a reload's error list, each message
 * itself bounded below; 256 KiB is far above both and bounds the memory a
 * client that never reads can pin.
 */
#define CONTROL_RESPONSE_MAX (256u * 1024u)
/*
 * The `services` answer lists up to services_max rows of routes_max +
 * templates + 1 routes, each with a sparse latency histogram: far more than
 * a status. 8 MiB holds the defaults' worst case (64 rows of 33 routes of a
 * few KiB) and bounds what a client that never reads pins; past it the
 * answer is an error.
 */
#define CONTROL_SERVICES_RESPONSE_MAX (8u * 1024u * 1024u)
/* Reload errors reported, and bytes of each, before the rest is summarised. */
#define CONTROL_ERRORS_MAX 64u
#define CONTROL_ERROR_LEN_MAX 1024u
/*
 * Concurrent clients. People and ExecReload use one at a time; 16 leaves
 * room for monitoring while bounding the fds and buffers a local flood costs.
 */
#define CONTROL_CLIENTS_MAX 16u
/* A client must send its request and read its answer within this. */
#define CONTROL_CLIENT_TIMEOUT_USEC (10 * USEC_PER_SEC)

/*
 * What `status` reports. The daemon fills it in its callback; pointers need
 * to stay valid only until the callback's caller has serialised it (during
 * the callback's caller, synchronously).
 */
typedef struct ControlStatus {
        const char *version;               /* PROJECT_VERSION */
        uint64_t uptime_usec;              /* since the daemon started */
        const char *state;                 /* "running", "reloading", ... */
        const char *const *config_sources; /* NULL-terminated paths; may be NULL */
        unsigned programs_attached;
        const Stats *stats;                /* may be NULL */
        const uint64_t *kernel;            /* _KERNEL_COUNTER_MAX counters from the BPF side; may be NULL */
        uint64_t connections_tracked;
        uint64_t memory_bytes;             /* bytes held for connections and queues */
        uint64_t bpf_map_bytes;            /* BPF map memory (from the map definitions) */
        uint64_t ringbuf_size_bytes;       /* the kernel-to-daemon ring buffer */
        uint64_t ringbuf_used_bytes;       /* of it, written by the kernel and not yet read */
        /* Per-output counters (output_sinks()); may be NULL/0. */
        const struct OutputSinkStats *outputs;
        size_t n_outputs;
} ControlStatus;

/* Who sent a request, from SO_PEERCRED at accept time. */
typedef struct ControlPeer {
        pid_t pid;
        uid_t uid;
        gid_t gid;
} ControlPeer;

typedef struct ControlCallbacks {
        /*
         * Fill @ret (zero-initialised by the caller). Return 0, or negative
         * errno to answer with an error.
         */
        int (*status)(void *userdata, ControlStatus *ret);
        /*
         * Re-read and apply the configuration, synchronously. Return 0 on
         * success; on failure negative errno, and optionally a NULL-terminated
         * array of malloc()ed messages in *ret_errors (one per problem, e.g.
         * "/etc/http-tracer/http-tracer.conf:3: unknown key 'foo'") that the
         * server frees. A failed reload must leave the old configuration
         * running. NULL: the command is refused as not supported.
         */
        int (*reload)(void *userdata, const ControlPeer *peer, char ***ret_errors);
        /* Zero the cumulative counters (not gauges). NULL: not supported. */
        int (*stats_reset)(void *userdata, const ControlPeer *peer);
        /*
         * Add the `services` snapshot's members to the open answer @b (daemon/
         * control-services.h), with the health counters @st from status. NULL:
         * not supported.
         */
        void (*services)(void *userdata, const ControlStatus *st, JsonBuild *b);
} ControlCallbacks;

typedef struct ControlServer ControlServer;

/**
 * control_server_new() - start answering on the control socket
 * @event: the daemon's event loop
 * @cb: the callbacks; copied
 * @userdata: passed to them
 * @path: where to bind when no socket was passed in; NULL for
 *        CONTROL_SOCKET_PATH (tests pass a temporary path)
 * @ret: the server
 *
 * Uses the listening socket passed by socket activation (the fd named
 * CONTROL_FD_NAME from sd_listen_fds_with_names(), or the only fd passed if
 * it has no name) when there is one. Otherwise creates the socket at @path
 * with mode 0600 (only root can connect), replacing a stale socket left by
 * a crashed daemon but refusing to replace one a live daemon answers on
 * (-EADDRINUSE), and removes it again in control_server_free(). The parent
 * directory must exist (RuntimeDirectory= creates /run/http-tracer).
 *
 * Return: 0, or negative errno.
 */
int control_server_new(sd_event *event, const ControlCallbacks *cb, void *userdata,
                       const char *path, ControlServer **ret);

/**
 * control_socket_owner() - is another daemon answering on the control socket?
 * @path: NULL for CONTROL_SOCKET_PATH
 * @ret_pid: the pid of the process listening there (0 if unknown); may be NULL
 *
 * One host, one tracer: a second daemon would trace everything again and
 * could not be reached. Checked before anything is loaded. A socket nobody
 * answers on (left by a daemon killed with SIGKILL) does not count: it is
 * replaced. Under socket activation systemd holds the socket for us: 0.
 *
 * Return: 1 when a live process listens there, 0 when not, negative errno.
 */
int control_socket_owner(const char *path, pid_t *ret_pid);

ControlServer *control_server_free(ControlServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ControlServer *, control_server_free);

/* Clients connected right now (for tests and status). */
unsigned control_server_clients(const ControlServer *s);
/* Whether the listening socket came from socket activation. */
bool control_server_activated(const ControlServer *s);

/* Names of the kernel counters in answers, indexed by KERNEL_COUNTER_*. */
const char *control_kernel_counter_name(unsigned i);
