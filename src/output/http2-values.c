/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HTTP/2 and gRPC values for the entries; see http2-values.h. */

#include <inttypes.h>
#include <stdio.h>

#include "basic/macro.h"
#include "output/http2-values.h"

int format_grpc_status(const HttpMessage *resp) {
        const HttpHeaderField *h = resp && resp->version == 20 ? http_message_header(resp, "grpc-status") : NULL;
        int v = 0;

        if (!h || h->value_len == 0 || h->value_len > 3)
                return -1;
        for (size_t i = 0; i < h->value_len; i++) {
                if (h->value[i] < '0' || h->value[i] > '9')
                        return -1;
                v = v * 10 + (h->value[i] - '0');
        }
        return v;
}

PriorityClass format_grpc_class(int code) {
        switch (code) {
        case 0:                                 /* OK */
                return PRIORITY_GRPC_OK;
        case 1: case 3: case 5: case 6: case 7: /* CANCELLED INVALID_ARGUMENT NOT_FOUND ALREADY_EXISTS PERMISSION_DENIED */
        case 8: case 9: case 10: case 11:       /* RESOURCE_EXHAUSTED FAILED_PRECONDITION ABORTED OUT_OF_RANGE */
        case 12: case 16:                       /* UNIMPLEMENTED UNAUTHENTICATED */
                return PRIORITY_GRPC_CLIENT_ERROR;
        default:                                /* UNKNOWN DEADLINE_EXCEEDED INTERNAL UNAVAILABLE DATA_LOSS, unknown codes */
                return PRIORITY_GRPC_SERVER_ERROR;
        }
}

static const char *const http2_error_names[] = {
        "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
        "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR",
        "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED",
};

const char *format_http2_error(char buf[static 16], uint32_t code) {
        if (code < ELEMENTSOF(http2_error_names))
                return http2_error_names[code];
        snprintf(buf, 16, "0x%" PRIx32, code);
        return buf;
}
