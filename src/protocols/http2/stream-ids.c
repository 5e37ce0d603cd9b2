/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "protocols/http2/stream-ids.h"

void http2_stream_ids_init(Http2StreamIds *ids, unsigned parity, bool from_start) {
        *ids = (Http2StreamIds) {
                /* the id before the first one a peer may use: 1 for the client, 2 for pushes */
                .last = from_start ? (parity & 1 ? -1 : 0) : INT64_MIN,
        };
}

uint32_t http2_stream_ids_seen(Http2StreamIds *ids, uint32_t id) {
        uint32_t n = 0;

        if (ids->last != INT64_MIN && (int64_t) id <= ids->last)
                return 0;       /* a stream seen before, or below one seen: nothing new */
        if (ids->last != INT64_MIN && ids->gap && ((int64_t) id - ids->last) % 2 == 0) {
                n = (uint32_t) (((int64_t) id - ids->last) / 2 - 1);
                if (n > 0) {
                        ids->counted[ids->next].lo = ids->last;
                        ids->counted[ids->next].hi = id;
                        ids->next = (ids->next + 1) % HTTP2_STREAM_IDS_RANGES;
                }
        }
        ids->last = id;
        ids->gap = false;
        return n;
}

bool http2_stream_ids_counted(const Http2StreamIds *ids, uint32_t id) {
        for (unsigned i = 0; i < HTTP2_STREAM_IDS_RANGES; i++)
                if ((int64_t) id > ids->counted[i].lo && (int64_t) id < ids->counted[i].hi)
                        return true;
        return false;
}
