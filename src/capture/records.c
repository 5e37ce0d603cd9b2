/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The records decoder: the one place in user space where the kernel's words
 * (trace-api.h) meet the connection layer's (conn/conn-info.h, conn/stats.h).
 * The connection layer's enums are its own; these assertions keep each value
 * equal to the ABI's, so that decoding is a copy and a change on either side
 * fails the build here rather than mislabelling traffic.
 */

#include "conn/conn-info.h"
#include "conn/stats.h"
#include "trace-api.h"

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
               SAME(CONN_CLOSE_FILTERED, HT_CLOSE_FILTERED), "ConnCloseReason and enum ht_close_reason differ");
_Static_assert(SAME(CONN_SEEN_START, HT_CONN_SEEN_START), "CONN_SEEN_START and HT_CONN_SEEN_START differ");
_Static_assert(CONN_COMM_LEN == HT_COMM_LEN, "CONN_COMM_LEN and HT_COMM_LEN differ");
_Static_assert(CONN_TRACKED_DEFAULT == HT_MAP_CONNS_DEFAULT, "user space would refuse connections the kernel tracks");

/* The kernel counters: same names, same order, same number. */
#define X(id, name, doc) _Static_assert(SAME(KERNEL_COUNTER_##id, HT_CNT_##id), "KERNEL_COUNTER_" #id " and HT_CNT_" #id " differ");
KERNEL_COUNTERS(X)
#undef X
_Static_assert(SAME(_KERNEL_COUNTER_MAX, _HT_CNT_MAX), "conn/stats.h's KERNEL_COUNTERS and enum ht_counter differ in length");
