/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HPACK decoding over libnghttp2's inflater. See hpack.h for the contract:
 * what the caps are and why decoding after a reset is still exact.
 */

#include <assert.h>
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include "basic/block-pool.h"
#include "basic/macro.h"
#include "protocols/http2/hpack.h"

/* First allocation of the scratch string buffer and field slots; both double up to their caps. */
#define HPACK_BYTES_INITIAL 512u
#define HPACK_SLOTS_INITIAL 16u

#define ALIGN_TO(n, a) (((n) + (a) - 1) / (a) * (a))

typedef struct Slot {
        size_t name_off, name_len;
        size_t value_off, value_len;
        bool never_indexed;
} Slot;

/* Prefix of each allocation the inflater makes: its size, for the counting allocator. */
typedef union MemHeader {
        size_t size;
        max_align_t align;
} MemHeader;

struct Http2Hpack {
        nghttp2_hd_inflater *inflater;  /* NULL after a failed reset */
        Http2HpackLimits limits;
        Http2HpackStats *stats;
        size_t table_size_max;          /* what http2_hpack_set_table_size_max() last set */

        nghttp2_mem mem;
        size_t mem_used;
        bool mem_refused;               /* the cap refused an allocation during this call */
        bool mem_capped;                /* limits.mem refused one during this call */
        const char *last_error;

        /* scratch for the block being decoded */
        char *bytes;
        size_t bytes_len, bytes_alloc;
        Slot *slots;
        size_t n_slots, slots_alloc;
        size_t pseudo_off[_HTTP2_PSEUDO_MAX], pseudo_len[_HTTP2_PSEUDO_MAX];
        bool has_pseudo[_HTTP2_PSEUDO_MAX];
        bool seen_regular;
        bool scratch_capped;            /* limits.mem refused scratch for this block: fields dropped */
};

static const char *const pseudo_names[_HTTP2_PSEUDO_MAX] = {
        [HTTP2_PSEUDO_METHOD]    = ":method",
        [HTTP2_PSEUDO_PATH]      = ":path",
        [HTTP2_PSEUDO_AUTHORITY] = ":authority",
        [HTTP2_PSEUDO_SCHEME]    = ":scheme",
        [HTTP2_PSEUDO_STATUS]    = ":status",
        [HTTP2_PSEUDO_PROTOCOL]  = ":protocol",
};

const char *http2_pseudo_to_string(Http2Pseudo p) {
        return p >= 0 && p < _HTTP2_PSEUDO_MAX ? pseudo_names[p] : NULL;
}

Http2HeaderList *http2_header_list_free(Http2HeaderList *l) {
        if (l)
                http2_memory_release(l->mem, l->charged);
        return mfree(l);
}

const Http2Field *http2_header_list_get(const Http2HeaderList *l, const char *name) {
        size_t n = strlen(name);

        for (size_t i = 0; i < l->n_fields; i++)
                if (l->fields[i].name_len == n && memcmp(l->fields[i].name, name, n) == 0)
                        return &l->fields[i];
        return NULL;
}

/*
 * ---- the counting allocator given to nghttp2 ----
 *
 * The inflater allocates and frees a buffer for about every name or value it
 * decodes (15 per exchange under h2load), so small blocks come from
 * basic/block-pool.h: glibc's malloc()/free() of them were 4,200 of the
 * 23,762 instructions of an HTTP/2 exchange on replay. A block is charged to
 * its connection while in use (the size asked for), never while pooled.
 */

static void *mem_malloc(size_t size, void *userdata) {
        Http2Hpack *h = userdata;
        MemHeader *m;

        if (size > SIZE_MAX - sizeof(MemHeader) ||
            h->mem_used + size + sizeof(MemHeader) > h->limits.memory_max) {
                h->mem_refused = true;
                return NULL;
        }
        if (!http2_memory_reserve(h->limits.mem, sizeof(MemHeader) + size)) {
                h->mem_capped = true;
                return NULL;
        }
        m = block_pool_alloc(sizeof(MemHeader) + size);
        if (!m) {
                http2_memory_release(h->limits.mem, sizeof(MemHeader) + size);
                return NULL;
        }
        m->size = size;
        h->mem_used += sizeof(MemHeader) + size;
        return m + 1;
}

static void mem_free(void *ptr, void *userdata) {
        Http2Hpack *h = userdata;
        MemHeader *m;

        if (!ptr)
                return;
        m = (MemHeader *) ptr - 1;
        h->mem_used -= sizeof(MemHeader) + m->size;
        http2_memory_release(h->limits.mem, sizeof(MemHeader) + m->size);
        block_pool_free(m, sizeof(MemHeader) + m->size);
}

static void *mem_calloc(size_t nmemb, size_t size, void *userdata) {
        void *p;

        if (size != 0 && nmemb > SIZE_MAX / size)
                return NULL;
        p = mem_malloc(nmemb * size, userdata);
        if (p)
                memset(p, 0, nmemb * size);
        return p;
}

static void *mem_realloc(void *ptr, size_t size, void *userdata) {
        Http2Hpack *h = userdata;
        MemHeader *m;
        void *p;
        size_t old;

        if (!ptr)
                return mem_malloc(size, userdata);
        m = (MemHeader *) ptr - 1;
        old = m->size;
        if (size > SIZE_MAX - sizeof(MemHeader) || (size > old && h->mem_used + (size - old) > h->limits.memory_max)) {
                h->mem_refused = true;
                return NULL;
        }
        if (block_pool_same_class(sizeof(MemHeader) + size, sizeof(MemHeader) + old)) {
                /* the same class: a pooled block already has the room; a large one is realloc()ed */
                bool pooled = block_pool_pooled(sizeof(MemHeader) + size);

                if (size > old && !http2_memory_reserve(h->limits.mem, size - old)) {
                        h->mem_capped = true;
                        return NULL;
                }
                if (!pooled) {
                        m = realloc(m, sizeof(MemHeader) + size);
                        if (!m) {
                                if (size > old)
                                        http2_memory_release(h->limits.mem, size - old);
                                return NULL;
                        }
                }
                if (size < old)
                        http2_memory_release(h->limits.mem, old - size);
                h->mem_used = h->mem_used - old + size;
                m->size = size;
                return m + 1;
        }
        /* across classes: a new block, the old one back to its pool */
        p = mem_malloc(size, userdata);
        if (!p)
                return NULL;
        memcpy(p, ptr, MIN(old, size));
        mem_free(ptr, userdata);
        return p;
}

/* ---- life ---- */

_Static_assert(sizeof(Http2Hpack) <= HTTP2_HPACK_STATE_SIZE, "HTTP2_HPACK_STATE_SIZE too small");

static int inflater_new(Http2Hpack *h) {
        nghttp2_hd_inflater *inf = NULL;
        int r;

        if (h->inflater) {
                nghttp2_hd_inflate_del(h->inflater);
                h->inflater = NULL;
        }
        h->mem_capped = false;
        r = nghttp2_hd_inflate_new2(&inf, &h->mem);
        if (r < 0)
                return h->mem_capped ? -ENOSPC : -ENOMEM;
        /* raising the limit asks nothing of the encoder (no size update is expected) */
        r = nghttp2_hd_inflate_change_table_size(inf, h->table_size_max);
        if (r < 0) {
                nghttp2_hd_inflate_del(inf);
                return h->mem_capped ? -ENOSPC : -ENOMEM;
        }
        h->inflater = inf;
        return 0;
}

int http2_hpack_new(const Http2HpackLimits *limits, Http2HpackStats *stats, Http2Hpack **ret) {
        _cleanup_(http2_hpack_freep) Http2Hpack *h = NULL;
        int r;

        assert(ret);

        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        if (limits)
                h->limits = *limits;
        if (h->limits.memory_max == 0)
                h->limits.memory_max = HTTP2_HPACK_MEMORY_MAX_DEFAULT;
        if (h->limits.fields_max == 0)
                h->limits.fields_max = HTTP2_HPACK_FIELDS_MAX_DEFAULT;
        if (h->limits.list_bytes_max == 0)
                h->limits.list_bytes_max = HTTP2_HPACK_LIST_BYTES_MAX_DEFAULT;
        h->stats = stats;
        h->table_size_max = HTTP2_HPACK_TABLE_SIZE_MAX;
        h->mem = (nghttp2_mem) {
                .mem_user_data = h,
                .malloc = mem_malloc,
                .free = mem_free,
                .calloc = mem_calloc,
                .realloc = mem_realloc,
        };

        r = inflater_new(h);
        if (r < 0 && r != -ENOSPC)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

Http2Hpack *http2_hpack_free(Http2Hpack *h) {
        if (!h)
                return NULL;
        if (h->inflater)
                nghttp2_hd_inflate_del(h->inflater);
        http2_memory_release(h->limits.mem, h->bytes_alloc + h->slots_alloc * sizeof(Slot));
        free(h->bytes);
        free(h->slots);
        return mfree(h);
}

int http2_hpack_reset(Http2Hpack *h) {
        int r;

        assert(h);
        if (h->stats)
                h->stats->resets++;
        r = inflater_new(h);
        /* refused by the memory caps: not an error, the next decode asks again (and says -ENOSPC) */
        return r == -ENOSPC ? 0 : r;
}

int http2_hpack_set_table_size_max(Http2Hpack *h, uint32_t size) {
        assert(h);
        h->table_size_max = MIN((size_t) size, (size_t) HTTP2_HPACK_TABLE_SIZE_MAX);
        if (!h->inflater)
                return -ENOMEM;
        return nghttp2_hd_inflate_change_table_size(h->inflater, h->table_size_max) < 0 ? -ENOMEM : 0;
}

const char *http2_hpack_last_error(const Http2Hpack *h) {
        return h->last_error;
}

size_t http2_hpack_memory(const Http2Hpack *h) {
        return h->mem_used + h->bytes_alloc + h->slots_alloc * sizeof(Slot);
}

size_t http2_hpack_table_size(const Http2Hpack *h) {
        return h->inflater ? nghttp2_hd_inflate_get_dynamic_table_size(h->inflater) : 0;
}

size_t http2_hpack_table_entries(const Http2Hpack *h) {
        /* nghttp2 counts the 61 static entries too */
        return h->inflater ? nghttp2_hd_inflate_get_num_table_entries(h->inflater) - 61 : 0;
}

/* ---- building a list ---- */

static void scratch_reset(Http2Hpack *h) {
        h->bytes_len = 0;
        h->n_slots = 0;
        memset(h->has_pseudo, 0, sizeof(h->has_pseudo));
        h->seen_regular = false;
        h->scratch_capped = false;
}

/* Copies s (and a NUL) into the scratch bytes; false when over list_bytes_max or out of memory. */
static bool scratch_put(Http2Hpack *h, const uint8_t *s, size_t n, size_t *ret_off) {
        size_t need;

        if (n >= h->limits.list_bytes_max - MIN(h->bytes_len, h->limits.list_bytes_max))
                return false;
        need = h->bytes_len + n + 1;
        if (need > h->bytes_alloc) {
                size_t want = MAX(h->bytes_alloc, (size_t) HPACK_BYTES_INITIAL);
                char *b;

                while (want < need)
                        want *= 2;
                want = MIN(want, h->limits.list_bytes_max);
                if (!http2_memory_reserve(h->limits.mem, want - h->bytes_alloc)) {
                        h->scratch_capped = true;
                        return false;
                }
                b = realloc(h->bytes, want);
                if (!b) {
                        http2_memory_release(h->limits.mem, want - h->bytes_alloc);
                        return false;
                }
                h->bytes = b;
                h->bytes_alloc = want;
        }
        memcpy(h->bytes + h->bytes_len, s, n);
        h->bytes[h->bytes_len + n] = 0;
        *ret_off = h->bytes_len;
        h->bytes_len += n + 1;
        return true;
}

static bool slot_add(Http2Hpack *h, const nghttp2_nv *nv) {
        size_t name_off, value_off, saved = h->bytes_len;

        if (h->n_slots >= h->limits.fields_max)
                return false;
        if (h->n_slots == h->slots_alloc) {
                size_t want = MIN(MAX(h->slots_alloc * 2, (size_t) HPACK_SLOTS_INITIAL), h->limits.fields_max);
                Slot *s;

                if (!http2_memory_reserve(h->limits.mem, (want - h->slots_alloc) * sizeof(Slot))) {
                        h->scratch_capped = true;
                        return false;
                }
                s = realloc(h->slots, want * sizeof(Slot));
                if (!s) {
                        http2_memory_release(h->limits.mem, (want - h->slots_alloc) * sizeof(Slot));
                        return false;
                }
                h->slots = s;
                h->slots_alloc = want;
        }
        if (!scratch_put(h, nv->name, nv->namelen, &name_off))
                return false;
        if (!scratch_put(h, nv->value, nv->valuelen, &value_off)) {
                h->bytes_len = saved;
                return false;
        }
        h->slots[h->n_slots++] = (Slot) {
                .name_off = name_off,
                .name_len = nv->namelen,
                .value_off = value_off,
                .value_len = nv->valuelen,
                .never_indexed = nv->flags & NGHTTP2_NV_FLAG_NO_INDEX,
        };
        return true;
}

/* name starts with ':'; one candidate per length and second letter, checked with one memcmp. */
static Http2Pseudo pseudo_from_name(const uint8_t *name, size_t len) {
        Http2Pseudo p;

        switch (len) {
        case 5:
                p = HTTP2_PSEUDO_PATH;
                break;
        case 7:
                p = name[1] == 'm' ? HTTP2_PSEUDO_METHOD : name[1] == 's' && name[2] == 'c' ? HTTP2_PSEUDO_SCHEME
                                                                                             : HTTP2_PSEUDO_STATUS;
                break;
        case 9:
                p = HTTP2_PSEUDO_PROTOCOL;
                break;
        case 10:
                p = HTTP2_PSEUDO_AUTHORITY;
                break;
        default:
                return _HTTP2_PSEUDO_MAX;
        }
        return memcmp(pseudo_names[p], name, len) == 0 ? p : _HTTP2_PSEUDO_MAX;
}

/*
 * Whether any byte is an ASCII upper-case letter, a word at a time: a byte
 * loop over every name of every block was 870 of an HTTP/2 exchange's
 * instructions on replay. Per byte y = b & 0x7f: y + 0x3f has its top bit set
 * iff y >= 'A', y + 0x25 iff y > 'Z', neither carries into the next byte, and
 * bytes >= 0x80 (whose low bits could look like a letter) are masked out.
 * Most names are under 8 bytes (":path", "date", "etag"): the last word, or
 * the two 4-byte halves of a shorter name, are read overlapping what was
 * already checked rather than byte by byte.
 */
static bool word_has_upper(uint64_t x) {
        uint64_t y = x & UINT64_C(0x7f7f7f7f7f7f7f7f);

        return (y + UINT64_C(0x3f3f3f3f3f3f3f3f)) & ~(y + UINT64_C(0x2525252525252525)) & ~x &
                UINT64_C(0x8080808080808080);
}

static bool has_upper(const uint8_t *s, size_t n) {
        uint64_t x;
        uint32_t a, b;

        if (n >= 8) {
                for (size_t i = 0; i + 8 < n; i += 8) {
                        memcpy(&x, s + i, sizeof(x));
                        if (word_has_upper(x))
                                return true;
                }
                memcpy(&x, s + n - 8, sizeof(x));
                return word_has_upper(x);
        }
        if (n >= 4) {
                memcpy(&a, s, sizeof(a));
                memcpy(&b, s + n - 4, sizeof(b));
                return word_has_upper((uint64_t) a << 32 | b);
        }
        for (size_t i = 0; i < n; i++)
                if (s[i] >= 'A' && s[i] <= 'Z')
                        return true;
        return false;
}

/* One decoded field: kept, split out or dropped. */
static void field(Http2Hpack *h, const nghttp2_nv *nv, unsigned *flags, size_t *n_dropped) {
        bool kept = true;

        if (h->stats)
                h->stats->fields++;
        if (has_upper(nv->name, nv->namelen))
                *flags |= HTTP2_HEADERS_NAME_UPPERCASE;

        if (nv->namelen > 0 && nv->name[0] == ':') {
                Http2Pseudo p = pseudo_from_name(nv->name, nv->namelen);

                if (h->seen_regular)
                        *flags |= HTTP2_HEADERS_PSEUDO_LATE;
                if (p == _HTTP2_PSEUDO_MAX)
                        *flags |= HTTP2_HEADERS_PSEUDO_UNKNOWN;
                else if (h->has_pseudo[p])
                        *flags |= HTTP2_HEADERS_PSEUDO_DUPLICATE;
                else if (scratch_put(h, nv->value, nv->valuelen, &h->pseudo_off[p])) {
                        h->has_pseudo[p] = true;
                        h->pseudo_len[p] = nv->valuelen;
                } else
                        kept = false;
        } else {
                h->seen_regular = true;
                kept = slot_add(h, nv);
        }

        if (!kept) {
                *flags |= HTTP2_HEADERS_FIELDS_DROPPED;
                (*n_dropped)++;
                if (h->stats)
                        h->stats->fields_dropped++;
        }
}

static unsigned parse_status(const char *s, size_t n) {
        if (n != 3 || s[0] < '1' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9')
                return 0;
        return (unsigned) (s[0] - '0') * 100 + (unsigned) (s[1] - '0') * 10 + (unsigned) (s[2] - '0');
}

static int list_build(Http2Hpack *h, unsigned flags, size_t n_dropped, uint64_t list_size,
                      Http2HeaderList **ret) {
        size_t fields_off = ALIGN_TO(sizeof(Http2HeaderList), alignof(Http2Field));
        size_t bytes_off = fields_off + h->n_slots * sizeof(Http2Field);
        Http2HeaderList *l;
        char *bytes;

        /* the block is decoded and the table exact: a refusal here costs the list only */
        if (!http2_memory_reserve(h->limits.mem, bytes_off + h->bytes_len)) {
                h->last_error = "connection memory cap reached";
                if (h->stats)
                        h->stats->memory_capped++;
                return -ENOSPC;
        }
        l = malloc(bytes_off + h->bytes_len);
        if (!l) {
                http2_memory_release(h->limits.mem, bytes_off + h->bytes_len);
                return -ENOMEM;
        }
        memset(l, 0, sizeof(*l));
        l->mem = h->limits.mem;
        l->charged = bytes_off + h->bytes_len;
        l->fields = (Http2Field *) ((char *) l + fields_off);
        bytes = (char *) l + bytes_off;
        if (h->bytes_len > 0)
                memcpy(bytes, h->bytes, h->bytes_len);

        for (Http2Pseudo p = 0; p < _HTTP2_PSEUDO_MAX; p++)
                if (h->has_pseudo[p]) {
                        l->pseudo[p] = bytes + h->pseudo_off[p];
                        l->pseudo_len[p] = h->pseudo_len[p];
                }
        for (size_t i = 0; i < h->n_slots; i++)
                l->fields[i] = (Http2Field) {
                        .name = bytes + h->slots[i].name_off,
                        .name_len = h->slots[i].name_len,
                        .value = bytes + h->slots[i].value_off,
                        .value_len = h->slots[i].value_len,
                        .never_indexed = h->slots[i].never_indexed,
                };
        l->n_fields = h->n_slots;
        if (l->pseudo[HTTP2_PSEUDO_STATUS]) {
                l->status = parse_status(l->pseudo[HTTP2_PSEUDO_STATUS], l->pseudo_len[HTTP2_PSEUDO_STATUS]);
                if (l->status == 0)
                        flags |= HTTP2_HEADERS_STATUS_INVALID;
        }
        l->n_dropped = n_dropped;
        l->flags = flags;
        l->list_size = list_size;
        *ret = l;
        return 0;
}

/* The inflater failed: report, count, and start over with an empty table. */
static int fail(Http2Hpack *h, int lib_error) {
        int r;

        if (h->mem_refused) {
                h->last_error = "HPACK decoder memory cap reached";
                r = -ENOBUFS;
                if (h->stats)
                        h->stats->memory_refused++;
        } else if (h->mem_capped) {
                h->last_error = "connection memory cap reached";
                r = -ENOSPC;
                if (h->stats)
                        h->stats->memory_capped++;
        } else if (lib_error == NGHTTP2_ERR_NOMEM) {
                h->last_error = nghttp2_strerror(lib_error);
                r = -ENOMEM;
        } else {
                h->last_error = nghttp2_strerror(lib_error);
                r = -EBADMSG;
        }
        if (h->stats)
                h->stats->errors++;
        (void) http2_hpack_reset(h);
        return r;
}

int http2_hpack_decode(Http2Hpack *h, const uint8_t *block, size_t len, Http2HeaderList **ret) {
        unsigned flags = 0;
        size_t n_dropped = 0;
        uint64_t list_size = 0;
        const uint8_t *in = block;
        size_t left = len;
        int r;

        assert(h);
        assert(block || len == 0);
        assert(ret);

        h->mem_refused = h->mem_capped = false;
        h->last_error = NULL;
        if (!h->inflater) {
                r = inflater_new(h);
                if (r == -ENOSPC) {
                        h->last_error = "connection memory cap reached";
                        if (h->stats) {
                                h->stats->memory_capped++;
                                h->stats->errors++;
                        }
                        return -ENOSPC;
                }
                if (r < 0)
                        return r;
        }
        scratch_reset(h);

        for (;;) {
                nghttp2_nv nv;
                int fl = 0;
                ssize_t n;

                n = nghttp2_hd_inflate_hd2(h->inflater, &nv, &fl, in, left, 1);
                if (n < 0)
                        return fail(h, (int) n);
                in += n;
                left -= (size_t) n;
                if (fl & NGHTTP2_HD_INFLATE_EMIT) {
                        list_size += nv.namelen + nv.valuelen + 32;
                        field(h, &nv, &flags, &n_dropped);
                }
                if (fl & NGHTTP2_HD_INFLATE_FINAL) {
                        nghttp2_hd_inflate_end_headers(h->inflater);
                        break;
                }
                if (!(fl & NGHTTP2_HD_INFLATE_EMIT) && left == 0)
                        /* in_final was set: nghttp2 reports a cut block itself; never loop */
                        return fail(h, NGHTTP2_ERR_HEADER_COMP);
        }
        if (left > 0)
                return fail(h, NGHTTP2_ERR_HEADER_COMP);

        if (h->scratch_capped)
                flags |= HTTP2_HEADERS_MEMORY_CAPPED;
        r = list_build(h, flags, n_dropped, list_size, ret);
        if (r < 0)
                return r;
        if (h->stats)
                h->stats->blocks++;
        return 0;
}

/* ---- reading a block without the dynamic table ---- */

/* The static table's pseudo-header entries (RFC 7541 Appendix A), index 1..14. */
static const struct {
        Http2Pseudo pseudo;
        const char *value;
} static_pseudo[15] = {
        [1]  = { HTTP2_PSEUDO_AUTHORITY, NULL },
        [2]  = { HTTP2_PSEUDO_METHOD, "GET" },
        [3]  = { HTTP2_PSEUDO_METHOD, "POST" },
        [4]  = { HTTP2_PSEUDO_PATH, "/" },
        [5]  = { HTTP2_PSEUDO_PATH, "/index.html" },
        [6]  = { HTTP2_PSEUDO_SCHEME, "http" },
        [7]  = { HTTP2_PSEUDO_SCHEME, "https" },
        [8]  = { HTTP2_PSEUDO_STATUS, "200" },
        [9]  = { HTTP2_PSEUDO_STATUS, "204" },
        [10] = { HTTP2_PSEUDO_STATUS, "206" },
        [11] = { HTTP2_PSEUDO_STATUS, "304" },
        [12] = { HTTP2_PSEUDO_STATUS, "400" },
        [13] = { HTTP2_PSEUDO_STATUS, "404" },
        [14] = { HTTP2_PSEUDO_STATUS, "500" },
};

/* An HPACK integer with an n-bit prefix (RFC 7541 §5.1); false when cut or over 2^28. */
static bool peek_int(const uint8_t *b, size_t len, size_t *pos, unsigned n, uint32_t *ret) {
        uint32_t mask = (1u << n) - 1, v;

        if (*pos >= len)
                return false;
        v = b[(*pos)++] & mask;
        if (v == mask)
                for (unsigned m = 0;; m += 7) {
                        if (*pos >= len || m > 21)
                                return false;
                        v += (uint32_t) (b[*pos] & 0x7f) << m;
                        if (!(b[(*pos)++] & 0x80))
                                break;
                }
        *ret = v;
        return true;
}

/* A string literal (§5.2): where its bytes are, and whether they are Huffman-coded. */
static bool peek_string(const uint8_t *b, size_t len, size_t *pos, const uint8_t **ret, uint32_t *ret_len,
                        bool *ret_huffman) {
        bool huffman;
        uint32_t n;

        if (*pos >= len)
                return false;
        huffman = b[*pos] & 0x80;
        if (!peek_int(b, len, pos, 7, &n) || n > len - *pos)
                return false;
        *ret = b + *pos;
        *ret_len = n;
        *ret_huffman = huffman;
        *pos += n;
        return true;
}

static void peek_found(Http2StaticPeek *r, Http2Pseudo p, const char *v, size_t n) {
        if (r->pseudo[p])
                return;   /* a duplicate: the decoder keeps the first one too */
        r->pseudo[p] = v;
        r->pseudo_len[p] = n;
        if (p == HTTP2_PSEUDO_STATUS)
                r->status = parse_status(v, n);
}

void http2_hpack_peek_static(const uint8_t *b, size_t len, Http2StaticPeek *ret) {
        size_t pos = 0;

        assert(ret);
        *ret = (Http2StaticPeek) {};

        while (pos < len) {
                uint8_t c = b[pos];
                const uint8_t *v, *name;
                uint32_t idx, n, name_len;
                bool huffman, name_huffman;

                if (c & 0x80) {                          /* indexed field (§6.1) */
                        if (!peek_int(b, len, &pos, 7, &idx))
                                return;
                        if (idx > 0 && idx < ELEMENTSOF(static_pseudo) && static_pseudo[idx].value)
                                peek_found(ret, static_pseudo[idx].pseudo, static_pseudo[idx].value,
                                           strlen(static_pseudo[idx].value));
                        continue;
                }
                if ((c & 0xe0) == 0x20) {                /* dynamic table size update (§6.3) */
                        if (!peek_int(b, len, &pos, 5, &idx))
                                return;
                        continue;
                }
                /* literal (§6.2): 01 incremental indexing, 0000 without, 0001 never indexed */
                if (!peek_int(b, len, &pos, (c & 0xc0) == 0x40 ? 6 : 4, &idx))
                        return;
                if (idx == 0 && !peek_string(b, len, &pos, &name, &name_len, &name_huffman))
                        return;
                if (!peek_string(b, len, &pos, &v, &n, &huffman))
                        return;
                if (idx > 0 && idx < ELEMENTSOF(static_pseudo) && !huffman)
                        peek_found(ret, static_pseudo[idx].pseudo, (const char *) v, n);
        }
}
