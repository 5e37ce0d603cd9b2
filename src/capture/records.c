/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The records decoder; see records.h. The one place in user space where the
 * kernel's words (bpf/abi.h) meet the connection layer's (conn/conn-info.h,
 * conn/stats.h). The connection layer's enums are its own; the assertions
 * below keep each value equal to the ABI's, so that decoding is a copy and a
 * change on either side fails the build here rather than mislabelling traffic.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "capture/cgroup-unit.h"
#include "capture/records.h"
#include "capture/source.h"
#include "conn/conn-info.h"
#include "conn/stats.h"
#include "protocols/registry.h"
#include "bpf/abi.h"

#define SAME(a, b) ((long long) (a) == (long long) (b))

_Static_assert(SAME(CONN_ROLE_UNKNOWN, HT_ROLE_UNKNOWN) && SAME(CONN_ROLE_SERVER, HT_ROLE_SERVER) &&
               SAME(CONN_ROLE_CLIENT, HT_ROLE_CLIENT), "ConnRole and enum ht_role differ");
_Static_assert(SAME(CONN_PROTOCOL_UNKNOWN, HT_PROTO_UNKNOWN) && SAME(CONN_PROTOCOL_HTTP1, HT_PROTO_HTTP1) &&
               SAME(CONN_PROTOCOL_HTTP2, HT_PROTO_HTTP2) && SAME(CONN_PROTOCOL_OTHER, HT_PROTO_OTHER),
               "ConnProtocol and enum ht_protocol differ");
_Static_assert(SAME(CONN_SOURCE_SYSCALL, HT_SOURCE_SYSCALL) && SAME(CONN_SOURCE_TLS, HT_SOURCE_TLS),
               "ConnSource and enum ht_source differ");
_Static_assert(SAME(CONN_DIR_INGRESS, HT_DIR_INGRESS) && SAME(CONN_DIR_EGRESS, HT_DIR_EGRESS),
               "ConnDirection and enum ht_direction differ");
_Static_assert(SAME(CONN_CLOSE_SYSCALL, HT_CLOSE_SYSCALL) && SAME(CONN_CLOSE_REUSED, HT_CLOSE_REUSED) &&
               SAME(CONN_CLOSE_FILTERED, HT_CLOSE_FILTERED) && SAME(CONN_CLOSE_DESTROYED, HT_CLOSE_DESTROYED),
               "ConnCloseReason and enum ht_close_reason differ");
_Static_assert(SAME(CONN_SEEN_START, HT_CONN_SEEN_START) && SAME(CONN_SYNC_INGRESS, HT_CONN_SYNC_INGRESS) &&
               SAME(CONN_SYNC_EGRESS, HT_CONN_SYNC_EGRESS), "ConnInfo.flags and ht_conn_open_event.flags differ");
_Static_assert(CONN_COMM_LEN == HT_COMM_LEN, "CONN_COMM_LEN and HT_COMM_LEN differ");
_Static_assert(CONN_TRACKED_DEFAULT >= HT_MAP_CONNS_DEFAULT, "user space would refuse connections the kernel tracks");
/* The layout tests/integration/htlib.py's read_recording() parses; change both together. */
_Static_assert(offsetof(struct ht_data_event, direction) == 76 && offsetof(struct ht_data_event, data) == 80,
               "struct ht_data_event moved: update htlib.read_recording()");
_Static_assert(offsetof(struct ht_conn_open_event, local_addr) == 48, "struct ht_conn_open_event moved: update htlib.read_recording()");

/* The kernel counters: same names, same order, same number. */
#define X(id, name, doc) _Static_assert(SAME(KERNEL_COUNTER_##id, HT_CNT_##id), "KERNEL_COUNTER_" #id " and HT_CNT_" #id " differ");
KERNEL_COUNTERS(X)
#undef X
_Static_assert(SAME(_KERNEL_COUNTER_MAX, _HT_CNT_MAX), "conn/stats.h's KERNEL_COUNTERS and enum ht_counter differ in length");

/* Which source produced a data record, from the operation it names (data records have no source field). */
static ConnSource data_source(uint8_t operation) {
        return operation == HT_TLS_READ || operation == HT_TLS_WRITE ? CONN_SOURCE_TLS : CONN_SOURCE_SYSCALL;
}

_Static_assert(HT_EXE_PARTS * HT_EXE_PART_LEN + 4 <= CONN_EXE_LEN, "ConnInfo.exe cannot hold the kernel's exe_parts");

/* The kernel's exe_parts (from the file up) as a path: "/usr/sbin/nginx", or ".../x/y" when cut. */
static void exe_path(const struct ht_conn_open_event *ev, char *buf, size_t size) {
        size_t n = 0, k = 0;

        buf[0] = 0;
        while (k < HT_EXE_PARTS && memchr(ev->exe_parts[k], 0, HT_EXE_PART_LEN) && ev->exe_parts[k][0])
                k++;
        if (k == 0)
                return;
        if (!ev->exe_complete)
                n += snprintf(buf + n, size - n, "...");
        while (k-- > 0 && n < size)
                n += snprintf(buf + n, size - n, "/%s", ev->exe_parts[k]);
}

static int dispatch_open(ConnTable *t, Stats *stats, const struct ht_conn_open_event *ev) {
        ConnInfo info = {
                .id = ev->hdr.conn_id,
                .sock = ev->sock,
                .tgid = ev->hdr.tgid,
                .fd = ev->hdr.fd,
                .role = ev->role,
                .protocol = ev->protocol,
                .source = ev->source,
                .flags = ev->flags,
                .family = ev->family,
                .local_port = ev->local_port,
                .remote_port = ev->remote_port,
                .opened_ns = ev->hdr.timestamp_ns,
                .tls_library = ev->source == HT_SOURCE_TLS ? capture_tls_library(ev->tls_library) : NULL,
        };
        int r;

        if (ev->source >= _CONN_SOURCE_MAX) {
                stats->records_invalid++;
                return 0;
        }
        memcpy(info.local_addr, ev->local_addr, sizeof(info.local_addr));
        memcpy(info.remote_addr, ev->remote_addr, sizeof(info.remote_addr));
        memcpy(info.comm, ev->comm, CONN_COMM_LEN);
        info.comm[CONN_COMM_LEN] = 0;
        exe_path(ev, info.exe, sizeof(info.exe));
        info.cgroup_id = ev->cgroup_id;
        /* once per connection, and once per cgroup through the cache: never per exchange */
        info.unit = cgroup_unit_resolve(NULL, NULL, info.cgroup_id, info.tgid, stats);

        r = conn_table_open(t, &info, protocol_registry_find(ev->protocol));
        if (r == -EPROTONOSUPPORT) {
                stats->records_invalid++;
                return 0;
        }
        return r;
}

static int dispatch_data(ConnTable *t, Stats *stats, const struct ht_data_event *ev, const uint8_t *payload) {
        /* Bytes lost before this record, then its captured bytes, then what it stands for but did not carry. */
        ConnSegment seg = {
                .id = ev->hdr.conn_id,
                .lost_before = ev->lost_before,
                .lost_other = ev->lost_other,
                .lost_starts = { ev->lost_starts[0], ev->lost_starts[1] },
                .buf = payload,
                .n = ev->captured,
                .gap_after = (uint64_t) ev->length - ev->captured,
                .ts_ns = ev->hdr.timestamp_ns,
                .tid = ev->hdr.tid,
                .source = data_source(ev->syscall),
                .direction = ev->direction & 1,
                .segment_start = ev->flags & HT_DATA_SEGMENT_START,
        };
        int r;

        stats->bytes_captured += ev->captured;
        stats->bytes_gap += ev->length - ev->captured;
        stats->bytes_lost += ev->lost_before + ev->lost_other;

        r = conn_table_segment(t, &seg);
        if (r == -ENOENT) {
                stats->records_orphan++;
                return 0;
        }
        return r;
}

/* What was lost since the connection's last record, then the close. */
static int dispatch_close(ConnTable *t, Stats *stats, const struct ht_conn_close_event *ev) {
        ConnLoss loss = {
                .bytes = { ev->lost[0], ev->lost[1] },
                .starts = { ev->lost_starts[0], ev->lost_starts[1] },
        };
        int r;

        stats->bytes_lost += ev->lost[0] + ev->lost[1];
        r = conn_table_loss(t, ev->source, ev->hdr.conn_id, &loss, ev->hdr.timestamp_ns);
        if (r < 0 && r != -ENOENT)
                return r;
        /* A destruction may come after user space finished the connection (process exit): no orphan. */
        if (conn_table_close(t, ev->source, ev->hdr.conn_id, ev->hdr.timestamp_ns) == -ENOENT &&
            ev->reason != HT_CLOSE_DESTROYED)
                stats->records_orphan++;
        return 0;
}

int records_dispatch(ConnTable *t, Stats *stats, const void *data, size_t size) {
        struct ht_event_header h;

        if (!t || !stats || !data)
                return -EINVAL;

        stats->records++;
        /* Check sizes before reading; copy, don't cast: ring buffer records are only 8-byte aligned. */
        if (size < sizeof(h)) {
                stats->records_invalid++;
                return 0;
        }
        memcpy(&h, data, sizeof(h));

        /* Every record advances the table's clock: a data record through conn_table_segment(), which does it
         * anyway (one call per record fewer on the hot path), every other one here, before it is handled. */
        switch (h.type) {
        case HT_EVENT_CONN_OPEN: {
                struct ht_conn_open_event ev;

                conn_table_advance(t, h.timestamp_ns);
                if (size < sizeof(ev))
                        break;
                memcpy(&ev, data, sizeof(ev));
                return dispatch_open(t, stats, &ev);
        }
        case HT_EVENT_DATA: {
                struct ht_data_event ev;

                if (size < sizeof(ev))
                        break;
                memcpy(&ev, data, sizeof(ev));
                if (ev.captured > size - sizeof(ev) || ev.captured > ev.length)
                        break;
                return dispatch_data(t, stats, &ev, (const uint8_t *) data + sizeof(ev));
        }
        case HT_EVENT_CONN_CLOSE: {
                struct ht_conn_close_event ev;

                conn_table_advance(t, h.timestamp_ns);
                if (size < sizeof(ev))
                        break;
                memcpy(&ev, data, sizeof(ev));
                /* The syscall source's close() of a socket closes each source's view of it, one record each. */
                if (ev.source >= _CONN_SOURCE_MAX) {
                        stats->records_orphan++;
                        return 0;
                }
                return dispatch_close(t, stats, &ev);
        }
        case HT_EVENT_PROC_EXIT:
                conn_table_advance(t, h.timestamp_ns);
                conn_table_process_exit(t, h.tgid, h.timestamp_ns);
                return 0;
        }

        conn_table_advance(t, h.timestamp_ns);
        stats->records_invalid++;
        return 0;
}
