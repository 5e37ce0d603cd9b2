/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * User-space counters. One struct for the whole pipeline so that status,
 * statistics entries and tests read the same numbers. Every place that gives
 * something up (a byte, a message, an entry) increments one of these.
 */
#pragma once

#include <stdint.h>

typedef struct Stats {
        /* events from the ring buffer (or a replay) */
        uint64_t records;                 /* records received */
        uint64_t records_invalid;         /* records too short or of an unknown type: ignored */
        uint64_t records_orphan;          /* data for a connection we never saw opened */
        uint64_t bytes_captured;          /* payload bytes received */
        uint64_t bytes_gap;               /* bytes reported as not captured */
        uint64_t bytes_lost;              /* bytes lost in the kernel (ring buffer full) */

        /* connections */
        uint64_t conns_opened;
        uint64_t conns_closed;
        uint64_t conns_active;
        uint64_t conns_refused;           /* over the connection cap: not tracked */
        uint64_t conns_expired;           /* idle, state freed */

        /* HTTP */
        uint64_t messages_requests;
        uint64_t messages_responses;
        uint64_t messages_interim;        /* 1xx other than 101 */
        uint64_t exchanges_complete;
        uint64_t exchanges_no_response;
        uint64_t exchanges_uncorrelated;
        uint64_t parse_errors;
        uint64_t desyncs;                 /* streams that lost message framing after a gap */
        uint64_t head_overflows;          /* heads over the size or field limit */
        uint64_t pipeline_overflows;      /* requests given up: too many waiting on a connection */
        uint64_t memory_refused;          /* bytes refused by the per-connection or global cap */

        /* selection (selector.h): each exchange gets one verdict; these are not logged */
        uint64_t exchanges_filtered;      /* excluded by a user-space filter */
        uint64_t exchanges_sampled_out;
        uint64_t exchanges_rate_limited;  /* refused by the rate limit: reported in summary entries */

        /* outputs */
        uint64_t entries_written;         /* entries accepted by the sink (journald socket, stdout...) */
        uint64_t entries_queued;          /* currently waiting in the output queue */
        uint64_t entries_dropped;         /* given up: queue full, sink gone */
        uint64_t output_errors;           /* send/write failures */
        uint64_t fields_truncated;        /* values cut to their length limit */
        uint64_t fields_dropped;          /* header fields not logged: over FORMAT_HEADER_FIELDS_MAX per entry */
} Stats;
