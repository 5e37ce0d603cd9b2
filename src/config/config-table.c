/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every setting, once. Defaults, --generate-config, docs/configuration.md,
 * environment variable names and validation ranges are all derived from this
 * table; tests/unit/config/test-config.c fails when the shipped files drift from it.
 *
 * Defaults are written in the same text form the environment uses and are
 * parsed by the same code as any other value, so a bad default is caught by
 * the tests rather than shipped.
 */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>

#include "config/configuration.h"

static const char *const role_names[] = { "server", "client", NULL };
static const char *const output_names[] = { "journal", "json", "syslog", NULL };

#define KIB UINT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

#define FILTER_SETTINGS(side, verb)                                                                     \
        { "filter." #side ".pids", CONFIG_PIDS, offsetof(Config, filter.side.pids), "",                \
          .description = "Process IDs (thread group IDs) to " verb "; enforced in the kernel." },      \
        { "filter." #side ".comms", CONFIG_STRINGS, offsetof(Config, filter.side.comms), "",           \
          .check = CHECK_COMM,                                                                           \
          .description = "Process names (comm, at most 15 characters, exact) to " verb "." },          \
        { "filter." #side ".exes", CONFIG_STRINGS, offsetof(Config, filter.side.exes), "",             \
          .check = CHECK_EXE,                                                                            \
          .description = "Executable paths (globs such as /usr/sbin/*) to " verb "." },                \
        { "filter." #side ".units", CONFIG_STRINGS, offsetof(Config, filter.side.units), "",           \
          .check = CHECK_UNIT,                                                                           \
          .description = "systemd units (nginx.service) whose processes, sub-cgroups included, to " verb "; enforced in the kernel." }, \
        { "filter." #side ".cgroups", CONFIG_STRINGS, offsetof(Config, filter.side.cgroups), "",       \
          .check = CHECK_CGROUP,                                                                         \
          .description = "cgroup v2 paths (/system.slice/nginx.service), sub-cgroups included, to " verb "; enforced in the kernel." }, \
        { "filter." #side ".local_ports", CONFIG_PORTS, offsetof(Config, filter.side.local_ports), "", \
          .description = "Local TCP ports or ranges (80, 8000-8100) to " verb "; enforced in the kernel." }, \
        { "filter." #side ".remote_ports", CONFIG_PORTS, offsetof(Config, filter.side.remote_ports), "", \
          .description = "Peer TCP ports or ranges to " verb "; enforced in the kernel." },            \
        { "filter." #side ".addresses", CONFIG_CIDRS, offsetof(Config, filter.side.addresses), "",     \
          .description = "Peer addresses as CIDR prefixes (10.0.0.0/8, fd00::/8) to " verb "; enforced in the kernel." }, \
        { "filter." #side ".roles", CONFIG_FLAGS, offsetof(Config, filter.side.roles), "",             \
          .names = role_names,                                                                           \
          .description = "Connection roles to " verb ": server (we accepted it) or client (we connected); enforced in the kernel." }, \
        { "filter." #side ".methods", CONFIG_STRINGS, offsetof(Config, filter.side.methods), "",       \
          .check = CHECK_METHOD,                                                                         \
          .description = "HTTP request methods (GET, POST) to " verb "." },                             \
        { "filter." #side ".paths", CONFIG_STRINGS, offsetof(Config, filter.side.paths), "",           \
          .check = CHECK_PATH_PATTERN,                                                                   \
          .description = "Request paths to " verb ": a prefix matched per segment (/api) or a glob (/api/*/users)." }, \
        { "filter." #side ".statuses", CONFIG_STATUSES, offsetof(Config, filter.side.statuses), "",    \
          .description = "Response statuses to " verb ": classes (5xx), codes (404) or ranges (500-504)." }

#define PRIORITY_SETTING(name, idx, def, what)                                                          \
        { "fields.priority." name, CONFIG_LEVEL, offsetof(Config, fields.priority[idx]), def,          \
          .description = "Journal PRIORITY of " what "." }

const ConfigSetting config_settings[] = {
        { "log.level", CONFIG_LEVEL, offsetof(Config, log.level), "info",
          .description = "Level of the daemon's own messages (not traffic entries)." },

        /* The kernel's scratch buffer is the hard limit (CONFIG_PAYLOAD_SIZE_MAX); below 256 B not even a request line fits. */
        { "capture.payload_size", CONFIG_SIZE, offsetof(Config, capture.payload_size), "16KiB",
          256, CONFIG_PAYLOAD_SIZE_MAX, CONFIG_RESTART,
          .description = "Bytes of payload copied per record. HTTP/1: the rest of a syscall's buffer is counted as a gap (headers beyond it are lost); HTTP/2 (a connection the kernel classified as such): a longer buffer goes up as several records of this size, so frame headers are never skipped." },
        /* The BPF ring buffer must be a power of two and a multiple of the page size. Default = HT_RINGBUF_DEFAULT (bpf/abi.h: the measurement behind it). */
        { "capture.ring_buffer_size", CONFIG_SIZE, offsetof(Config, capture.ring_buffer_size), "2MiB",
          64 * KIB, 1 * GIB, CONFIG_RESTART | CONFIG_POWER_OF_TWO,
          .description = "Size of the kernel-to-daemon ring buffer; larger absorbs longer bursts." },
        /* Default = HT_MAP_CONNS_DEFAULT (bpf/abi.h: why this many). */
        { "capture.connections_max", CONFIG_UINT, offsetof(Config, capture.connections_max), "16384",
          1024, 4194304, CONFIG_RESTART,
          .description = "TCP connections the kernel tracks at once (LRU map: the oldest are evicted)." },
        /* Measured: a wakeup per record halves throughput; batching bounds the cost, this bounds the latency. */
        { "capture.wakeup_delay", CONFIG_DURATION, offsetof(Config, capture.wakeup_delay_ns), "5ms",
          1 * NSEC_PER_MSEC, 10 * NSEC_PER_MSEC, 0,
          .description = "Longest a record waits in the ring buffer before the daemon reads it (batched wakeups)." },
        /* Uprobes need CAP_SYS_ADMIN (docs/security.md); without it the source logs once and attaches nothing. */
        { "tls.enabled", CONFIG_BOOL, offsetof(Config, tls.enabled), "yes", 0, 0, CONFIG_RESTART,
          .description = "Trace HTTPS from OpenSSL's plaintext (uprobes on libssl files found at start; docs/tls.md)." },
        /* Off by default: following means keeping CAP_SYS_ADMIN and CAP_SYS_PTRACE after start (docs/security.md). */
        { "tls.follow_new_libraries", CONFIG_BOOL, offsetof(Config, tls.follow_new_libraries), "no", 0, 0, CONFIG_RESTART,
          .description = "Attach to TLS library files that appear after start (rescans processes' maps, bounded; keeps CAP_SYS_ADMIN)." },

        { "limits.head_max", CONFIG_SIZE, offsetof(Config, limits.head_max), "64KiB",
          1 * KIB, 16 * MIB, 0,
          .description = "Largest message head (start line and header fields) parsed." },
        { "limits.fields_max", CONFIG_UINT, offsetof(Config, limits.fields_max), "128",
          8, 65536, 0,
          .description = "Header fields kept per message; more are counted, not kept." },
        { "limits.pipeline_max", CONFIG_UINT, offsetof(Config, limits.pipeline_max), "64",
          1, 65536, 0,
          .description = "Requests kept whole while waiting for their responses on one connection; more are counted and paired, without their heads (flag pipeline-overflow)." },
        { "limits.conn_memory_max", CONFIG_SIZE, offsetof(Config, limits.conn_memory_max), "256KiB",
          4 * KIB, 1 * GIB, 0,
          .description = "Bytes one connection may hold in buffers and queued requests." },
        { "limits.global_memory_max", CONFIG_SIZE, offsetof(Config, limits.global_memory_max), "64MiB",
          1 * MIB, 64 * GIB, 0,
          .description = "Bytes all connections together may hold: their state and buffers (a connection that does not fit is not tracked, counted in conns_refused)." },
        { "limits.conns_max", CONFIG_UINT, offsetof(Config, limits.conns_max), "65536",
          16, 16777216, 0,
          .description = "Connections tracked in user space." },
        { "limits.idle_timeout", CONFIG_DURATION, offsetof(Config, limits.idle_timeout_ns), "5min",
          1 * NSEC_PER_SEC, 86400 * NSEC_PER_SEC, 0,
          .description = "A connection silent this long has its pending requests logged as without response." },
        /*
         * HTTP/2's caps (docs/http2.md): the defaults and their reasons are
         * protocols/http2/protocol.c's http2_limits_default, and
         * tests/unit/daemon/test-settings.c checks these strings against it.
         */
        { "limits.http2_streams_max", CONFIG_UINT, offsetof(Config, limits.http2_streams_max), "256",
          1, 65536, 0,
          .description = "HTTP/2 streams tracked at once per connection; a stream past it is counted (streams_overflows), not logged." },
        { "limits.http2_header_block_max", CONFIG_SIZE, offsetof(Config, limits.http2_header_block_max), "64KiB",
          1 * KIB, 16 * MIB, 0,
          .description = "Bytes of one HTTP/2 header block buffered across CONTINUATION frames; a larger block is counted (header_block_overflows) and not decoded (flag headers-incomplete)." },
        { "limits.http2_continuations_max", CONFIG_UINT, offsetof(Config, limits.http2_continuations_max), "32",
          1, 4096, 0,
          .description = "CONTINUATION frames in one HTTP/2 header block; more is a flood, counted (continuation_floods) and a protocol error." },
        { "limits.http2_header_list_max", CONFIG_SIZE, offsetof(Config, limits.http2_header_list_max), "16KiB",
          1 * KIB, 16 * MIB, 0,
          .description = "Bytes of decoded HTTP/2 header names and values kept per block; the rest is decoded, counted (header_fields_dropped), not kept (flag head-truncated)." },
        { "limits.http2_hpack_memory_max", CONFIG_SIZE, offsetof(Config, limits.http2_hpack_memory_max), "768KiB",
          16 * KIB, 64 * MIB, 0,
          .description = "Memory of one direction's HPACK decoder (its dynamic table and field buffers); a block needing more is counted (hpack_memory_refused) and not decoded." },

        FILTER_SETTINGS(include, "trace (empty: all)"),
        FILTER_SETTINGS(exclude, "never trace"),

        { "sampling.rate", CONFIG_FRACTION, offsetof(Config, sampling.rate), "1",
          .description = "Fraction of exchanges logged (0 to 1, or a percentage such as 10%)." },
        { "sampling.rules", CONFIG_SAMPLING_RULES, offsetof(Config, sampling.rules), "",
          .description = "Per-path rates: a list of {path: PATTERN, rate: FRACTION}; the first matching rule wins." },
        { "sampling.keep_errors", CONFIG_BOOL, offsetof(Config, sampling.keep_errors), "yes",
          .description = "Always log 5xx responses, whatever the sampling rate." },

        { "rate_limit.per_second", CONFIG_UINT, offsetof(Config, rate_limit.per_second), "0",
          0, 10000000, 0,
          .description = "Exchanges logged per second at most (token bucket); 0 means no limit." },
        { "rate_limit.burst", CONFIG_UINT, offsetof(Config, rate_limit.burst), "0",
          0, 100000000, 0,
          .description = "Exchanges that may be logged at once above the rate; 0 means the same as per_second." },
        { "rate_limit.summary_interval", CONFIG_DURATION, offsetof(Config, rate_limit.summary_interval_ns), "1min",
          1 * NSEC_PER_SEC, 86400 * NSEC_PER_SEC, 0,
          .description = "How often exchanges refused by the rate limit are reported, with exact counts." },

        { "redaction.enabled", CONFIG_BOOL, offsetof(Config, redaction.enabled), "yes",
          .description = "Mask the values of the headers and query parameters named below, in every output." },
        { "redaction.headers", CONFIG_STRINGS, offsetof(Config, redaction.headers),
          "Authorization,Proxy-Authorization,Cookie,Set-Cookie",
          .check = CHECK_HEADER_NAME,
          .description = "Header names (case-insensitive) whose values are masked." },
        { "redaction.query_parameters", CONFIG_STRINGS, offsetof(Config, redaction.query_parameters),
          "token,access_token,refresh_token,id_token,password,passwd,secret,client_secret,key,api_key,apikey,"
          "signature,sig,session,auth",
          .check = CHECK_QUERY_NAME,
          .description = "Query parameter names (case-insensitive, after percent-decoding) whose values are masked." },
        { "redaction.mask", CONFIG_STRING, offsetof(Config, redaction.mask), "***",
          .check = CHECK_MASK,
          .description = "What a masked value is replaced with (1 to 64 printable characters)." },

        { "fields.request_headers", CONFIG_STRINGS, offsetof(Config, fields.request_headers), "",
          .check = CHECK_HEADER_NAME,
          .description = "Request headers logged as HTTP_REQUEST_HEADER_<NAME> (upper case, - as _)." },
        { "fields.response_headers", CONFIG_STRINGS, offsetof(Config, fields.response_headers), "",
          .check = CHECK_HEADER_NAME,
          .description = "Response headers logged as HTTP_RESPONSE_HEADER_<NAME>." },
        { "fields.user_agent", CONFIG_BOOL, offsetof(Config, fields.user_agent), "yes",
          .description = "Log the request's User-Agent." },
        { "fields.referer", CONFIG_BOOL, offsetof(Config, fields.referer), "no",
          .description = "Log the request's Referer (its query is redacted like the target's)." },
        { "fields.content_type", CONFIG_BOOL, offsetof(Config, fields.content_type), "no",
          .description = "Log the Content-Type of request and response." },
        { "fields.body_sizes", CONFIG_BOOL, offsetof(Config, fields.body_sizes), "yes",
          .description = "Log request and response body sizes." },
        PRIORITY_SETTING("1xx", PRIORITY_1XX, "info", "exchanges with a 1xx response"),
        PRIORITY_SETTING("2xx", PRIORITY_2XX, "info", "exchanges with a 2xx response"),
        PRIORITY_SETTING("3xx", PRIORITY_3XX, "info", "exchanges with a 3xx response"),
        PRIORITY_SETTING("4xx", PRIORITY_4XX, "notice", "exchanges with a 4xx response"),
        PRIORITY_SETTING("5xx", PRIORITY_5XX, "warning", "exchanges with a 5xx response"),
        PRIORITY_SETTING("no_response", PRIORITY_NO_RESPONSE, "notice", "requests that got no response"),
        PRIORITY_SETTING("uncorrelated", PRIORITY_UNCORRELATED, "info", "responses whose request was not seen"),
        PRIORITY_SETTING("parse_error", PRIORITY_PARSE_ERROR, "warning", "bytes that are not valid HTTP"),
        PRIORITY_SETTING("grpc_ok", PRIORITY_GRPC_OK, "info", "gRPC calls with grpc-status 0 (OK)"),
        PRIORITY_SETTING("grpc_client_error", PRIORITY_GRPC_CLIENT_ERROR, "notice",
                         "gRPC calls failed by the caller's doing (CANCELLED, INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, "
                         "PERMISSION_DENIED, RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, "
                         "UNIMPLEMENTED, UNAUTHENTICATED)"),
        PRIORITY_SETTING("grpc_server_error", PRIORITY_GRPC_SERVER_ERROR, "warning",
                         "gRPC calls failed on the server's side (UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE, "
                         "DATA_LOSS)"),

        /* Outputs open sockets and files once, at start: every output.* key needs a restart. */
        { "output.types", CONFIG_FLAGS, offsetof(Config, output.types), "journal",
          .flags = CONFIG_RESTART, .names = output_names,
          .description = "Where exchanges go, several at once if listed: journal, json, syslog, or none." },
        { "output.json_path", CONFIG_STRING, offsetof(Config, output.json_path), "",
          .flags = CONFIG_RESTART, .check = CHECK_ABSOLUTE_PATH,
          .description = "File the json output appends to (reopened on SIGUSR1); empty means standard output." },
        /* /dev/log is journald's on a systemd host: it stores RFC 5424 unparsed, hence "auto" (docs/outputs.md). */
        { "output.syslog.target", CONFIG_STRING, offsetof(Config, output.syslog.target), "/dev/log",
          .flags = CONFIG_RESTART, .check = CHECK_SYSLOG_TARGET,
          .description = "Where the syslog output sends: a unix datagram socket path, udp://HOST[:PORT] or tcp://HOST[:PORT] (octet-counted frames)." },
        { "output.syslog.format", CONFIG_STRING, offsetof(Config, output.syslog.format), "auto",
          .flags = CONFIG_RESTART, .check = CHECK_SYSLOG_FORMAT,
          .description = "rfc5424 (structured data), rfc3164 (MESSAGE only, for old receivers), or auto: rfc3164 on a unix socket, rfc5424 on the network." },
        { "output.syslog.facility", CONFIG_STRING, offsetof(Config, output.syslog.facility), "daemon",
          .flags = CONFIG_RESTART, .check = CHECK_SYSLOG_FACILITY,
          .description = "Syslog facility of the messages." },
        { "output.syslog.severity", CONFIG_STRING, offsetof(Config, output.syslog.severity), "entry",
          .flags = CONFIG_RESTART, .check = CHECK_SYSLOG_SEVERITY,
          .description = "Syslog severity: entry (the entry's PRIORITY, see fields.priority) or one level for all." },
        /* 8 KiB is rsyslog's default maxMessageSize; RFC 5424 receivers must take 2 KiB; UDP ends below 64 KiB. */
        { "output.syslog.message_max", CONFIG_SIZE, offsetof(Config, output.syslog.message_max), "8KiB",
          2 * KIB, 60 * KIB, CONFIG_RESTART,
          .description = "Longest syslog message; longer entries have their values cut (with …) to fit." },
        /* Seconds of a busy server's traffic while the receiver restarts; beyond it messages are dropped and counted. */
        { "output.syslog.queue_size", CONFIG_SIZE, offsetof(Config, output.syslog.queue_size), "4MiB",
          64 * KIB, 1 * GIB, CONFIG_RESTART,
          .description = "Bytes of syslog messages held while the receiver is slow or away." },

        { "stats.interval", CONFIG_DURATION, offsetof(Config, stats.interval_ns), "5min",
          0, 86400 * NSEC_PER_SEC, 0,
          .description = "How often capture statistics (drops, gaps, counts) are logged; 0 turns them off." },

        /*
         * The service table (requests, errors, latency per unit, role and route) counts every
         * exchange the filters let through, whatever these say; they choose what is written
         * where, and the table's bounds. docs/metrics.md.
         */
        { "metrics.enabled", CONFIG_BOOL, offsetof(Config, metrics.enabled), "no",
          .description = "Write the RED metrics for node_exporter's textfile collector (http-tracer.prom in metrics.textfile_directory)." },
        /* Debian's prometheus-node-exporter reads this directory (its --collector.textfile.directory). */
        { "metrics.textfile_directory", CONFIG_STRING, offsetof(Config, metrics.textfile_directory),
          "/var/lib/prometheus/node-exporter", .check = CHECK_ABSOLUTE_PATH,
          .description = "Directory the metrics textfile is written to (atomically: a temporary file, then rename)." },
        /* node_exporter's and Prometheus's usual scrape interval. */
        { "metrics.interval", CONFIG_DURATION, offsetof(Config, metrics.interval_ns), "15s",
          1 * NSEC_PER_SEC, 3600 * NSEC_PER_SEC, 0,
          .description = "How often the metrics textfile is written." },
        { "metrics.routes", CONFIG_STRINGS, offsetof(Config, metrics.routes), "",
          .check = CHECK_ROUTE_TEMPLATE,
          .description = "Route templates such as /api/users/* (one segment) or /static/** (the rest), tried in order before the heuristic; at most 256." },
        /* Prometheus's default buckets (client libraries' DefBuckets). Bounds cannot change under running counters. */
        { "metrics.buckets", CONFIG_STRINGS, offsetof(Config, metrics.buckets),
          "5ms,10ms,25ms,50ms,100ms,250ms,500ms,1s,2500ms,5s,10s",
          .flags = CONFIG_RESTART, .check = CHECK_DURATION,
          .description = "Upper bounds (le) of the request duration histogram, ascending; at most 32." },
        /* Each row is a set of series; 64 services with both roles covers a host, and bounds hostile comm names. */
        { "metrics.services_max", CONFIG_UINT, offsetof(Config, metrics.services_max), "64",
          1, 4096, CONFIG_RESTART,
          .description = "Rows of (unit, role) counted; exchanges of further services are counted under unit \"other\"." },
        /* Per row: what stands between hostile paths and a label explosion. */
        { "metrics.routes_max", CONFIG_UINT, offsetof(Config, metrics.routes_max), "32",
          1, 1024, CONFIG_RESTART,
          .description = "Distinct routes per service from the heuristic (templates come on top); further ones are counted as route \"other\"." },
};

const size_t config_settings_n = ELEMENTSOF(config_settings);

const ConfigSetting *config_setting_find(const char *key) {
        if (!key)
                return NULL;
        for (size_t i = 0; i < config_settings_n; i++)
                if (strcmp(config_settings[i].key, key) == 0)
                        return &config_settings[i];
        return NULL;
}

int config_setting_env_name(const ConfigSetting *s, char **ret) {
        size_t n = strlen(CONFIG_ENV_PREFIX), k = strlen(s->key);
        char *e = malloc(n + k + 1);

        if (!e)
                return -ENOMEM;
        memcpy(e, CONFIG_ENV_PREFIX, n);
        for (size_t i = 0; i < k; i++)
                e[n + i] = s->key[i] == '.' ? '_' : (char) toupper((unsigned char) s->key[i]);
        e[n + k] = 0;
        *ret = e;
        return 0;
}
