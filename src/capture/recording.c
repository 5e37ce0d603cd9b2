/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Recording and replaying ring-buffer records; see recording.h. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "basic/macro.h"
#include "capture/recording.h"

struct Recorder {
        FILE *f;
        int error;
};

int recorder_open(const char *path, uint32_t payload_max, Recorder **ret) {
        struct ht_record_file_header h = {
                .abi_version = HT_ABI_VERSION,
                .header_size = sizeof(h),
                .monotonic_ns = now_nsec(CLOCK_MONOTONIC),
                .realtime_ns = now_nsec(CLOCK_REALTIME),
                .payload_max = payload_max,
        };
        Recorder *r;

        memcpy(h.magic, HT_RECORD_MAGIC, sizeof(h.magic));

        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->f = fopen(path, "we");
        if (!r->f) {
                int e = -errno;
                free(r);
                return e;
        }
        if (fwrite(&h, sizeof(h), 1, r->f) != 1) {
                int e = -errno ?: -EIO;
                fclose(r->f);
                free(r);
                return e;
        }
        *ret = r;
        return 0;
}

int recorder_write(Recorder *r, const void *data, size_t size) {
        uint32_t len = (uint32_t) size;

        if (!r || r->error)
                return 0;
        if (size > RECORD_MAX_SIZE)
                /* Cannot happen with our BPF object's records (<= 32 KiB): stop rather than skip one silently. */
                return (r->error = -EFBIG);
        if (fwrite(&len, sizeof(len), 1, r->f) != 1 || fwrite(data, 1, size, r->f) != size) {
                r->error = errno > 0 ? -errno : -EIO;
                return r->error;
        }
        return 0;
}

int recorder_close(Recorder *r) {
        int e;

        if (!r)
                return 0;
        e = r->error;
        if (fclose(r->f) != 0 && e == 0)
                e = errno > 0 ? -errno : -EIO;
        free(r);
        return e;
}

/*
 * Bytes read from a recording at a time. Records are consumed straight from
 * this buffer: two fread() calls per record (length, then body) cost more
 * than the parser spends on a typical record.
 */
#define REPLAY_CHUNK (1024u * 1024)

/* Fills buf[have..) from f; returns the new fill level, or -errno on a read error. */
static ssize_t replay_fill(FILE *f, uint8_t *buf, size_t have, size_t size) {
        size_t k = fread(buf + have, 1, size - have, f);

        if (k == 0 && ferror(f))
                return -EIO;
        return (ssize_t) (have + k);
}

int replay_file(const char *path, struct ht_record_file_header *ret_header, ReplayFn fn, void *userdata) {
        /*
         * Records are 8-byte aligned in the ring buffer; in the file only the length prefix is
         * (4 bytes), and records are handed over where they lie: their reader copies, doesn't
         * cast (records_dispatch()). Copying each one to an aligned buffer first cost the replay
         * ~130 instructions per exchange that the live daemon never spends.
         */
        _cleanup_(freep) uint8_t *buf = NULL;
        size_t size = REPLAY_CHUNK + RECORD_MAX_SIZE + sizeof(uint32_t), pos = 0, have = 0;
        struct ht_record_file_header h;
        FILE *f;
        int n = 0, r = 0;

        f = fopen(path, "re");
        if (!f)
                return -errno;

        if (fread(&h, sizeof(h), 1, f) != 1 ||
            memcmp(h.magic, HT_RECORD_MAGIC, sizeof(h.magic)) != 0 ||
            h.abi_version != HT_ABI_VERSION ||
            h.header_size != sizeof(h)) {
                fclose(f);
                return -EBADMSG;
        }

        buf = malloc(size);
        if (!buf) {
                fclose(f);
                return -ENOMEM;
        }

        for (;;) {
                const uint8_t *data;
                uint32_t len;

                /* Keep at least one whole record (or the rest of the file) ahead of pos. */
                if (have - pos < sizeof(len) + RECORD_MAX_SIZE && !feof(f)) {
                        ssize_t k;

                        memmove(buf, buf + pos, have - pos);
                        have -= pos;
                        pos = 0;
                        k = replay_fill(f, buf, have, size);
                        if (k < 0) {
                                r = (int) k;
                                break;
                        }
                        have = (size_t) k;
                }
                if (have - pos < sizeof(len)) {
                        if (have != pos)
                                r = -EBADMSG;   /* a partial length prefix */
                        break;
                }
                memcpy(&len, buf + pos, sizeof(len));
                if (len > RECORD_MAX_SIZE || have - pos - sizeof(len) < len) {
                        r = -EBADMSG;
                        break;
                }
                data = buf + pos + sizeof(len);
                pos += sizeof(len) + len;

                r = fn(userdata, data, len);
                if (r < 0)
                        break;
                n++;
        }
        fclose(f);
        if (r < 0)
                return r;
        if (ret_header)
                *ret_header = h;
        return n;
}
