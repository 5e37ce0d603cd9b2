/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Route folding for the metrics; see route-fold.h for the rules. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "select/filter.h"
#include "select/route-fold.h"

/* A template segment: literal bytes, "*" (one segment) or, last, "**" (the rest). */
typedef enum SegmentKind {
        SEGMENT_LITERAL,
        SEGMENT_ONE,
        SEGMENT_REST,
} SegmentKind;

typedef struct Segment {
        SegmentKind kind;
        uint8_t start, len;           /* into Template.text: ROUTE_LEN_MAX < 256 */
} Segment;

typedef struct Template {
        char text[ROUTE_BUF_SIZE];
        /* A template of ROUTE_LEN_MAX bytes has at most ROUTE_LEN_MAX / 1 segments ("/" each). */
        Segment segments[ROUTE_LEN_MAX];
        size_t n_segments;
} Template;

struct RouteFold {
        Template *templates;
        size_t n;
};

static bool byte_safe(unsigned char c) {
        /* printable ASCII, but not what a label or a JSON string would have to escape */
        return c > 0x20 && c < 0x7f && c != '"' && c != '\\';
}

const char *route_template_check(const char *t) {
        size_t n;

        if (!t || t[0] != '/')
                return "a route template starts with '/'";
        n = strlen(t);
        if (n > ROUTE_LEN_MAX)
                return "a route template is at most 128 bytes";
        for (size_t i = 0; i < n; i++)
                if (!byte_safe((unsigned char) t[i]) || t[i] == '?' || t[i] == '#')
                        return "a route template is printable ASCII without blanks, '?', '#', '\"' or '\\'";
        for (const char *p = t + 1;;) {
                size_t k = strcspn(p, "/");

                if (memchr(p, '*', k) && !((k == 1 || k == 2) && p[0] == '*' && p[k - 1] == '*'))
                        return "'*' stands alone as a segment (\"/a/*/b\"), or '**' as the last one (\"/a/**\")";
                if (k == 2 && p[0] == '*' && p[1] == '*' && p[k] != 0)
                        return "'**' may only be the last segment";
                if (p[k] == 0)
                        break;
                p += k + 1;
        }
        return NULL;
}

int route_fold_register_config_checks(void) {
        static const ConfigConsumerCheck checks[] = {
                { CHECK_ROUTE_TEMPLATE, route_template_check },
                {}
        };
        return config_register_checks(checks);
}

static int template_parse(const char *t, Template *ret) {
        const char *p;

        if (route_template_check(t))
                return -EINVAL;
        *ret = (Template) {};
        strcpy(ret->text, t);
        p = ret->text + 1;
        for (;;) {
                size_t k = strcspn(p, "/");
                Segment *s = &ret->segments[ret->n_segments++];

                s->start = (uint8_t) (p - ret->text);
                s->len = (uint8_t) k;
                s->kind = k == 1 && p[0] == '*' ? SEGMENT_ONE :
                          k == 2 && p[0] == '*' && p[1] == '*' ? SEGMENT_REST : SEGMENT_LITERAL;
                if (p[k] == 0)
                        break;
                p += k + 1;
        }
        return 0;
}

int route_fold_new(char *const *templates, size_t n, RouteFold **ret) {
        _cleanup_(route_fold_freep) RouteFold *f = NULL;
        int r;

        if (!ret || (n > 0 && !templates))
                return -EINVAL;
        if (n > ROUTE_TEMPLATES_MAX)
                return -EINVAL;
        f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        if (n > 0) {
                f->templates = calloc(n, sizeof(Template));
                if (!f->templates)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                r = template_parse(templates[i], &f->templates[i]);
                if (r < 0)
                        return r;
        }
        f->n = n;
        *ret = TAKE_PTR(f);
        return 0;
}

RouteFold *route_fold_free(RouteFold *f) {
        if (!f)
                return NULL;
        free(f->templates);
        return mfree(f);
}

size_t route_fold_templates(const RouteFold *f) {
        return f ? f->n : 0;
}

/* The next segment of path[*pos..len) after its '/': [*ret_start, +*ret_len); false at the end. */
static bool next_segment(const char *path, size_t len, size_t *pos, size_t *ret_start, size_t *ret_len) {
        const char *slash;
        size_t i = *pos;

        if (i >= len || path[i] != '/')
                return false;
        i++;
        slash = memchr(path + i, '/', len - i);
        *ret_start = i;
        *ret_len = slash ? (size_t) (slash - (path + i)) : len - i;
        *pos = i + *ret_len;
        return true;
}

static bool template_match(const Template *t, const char *path, size_t len) {
        size_t pos = 0, start, n;

        for (size_t i = 0; i < t->n_segments; i++) {
                const Segment *s = &t->segments[i];

                if (s->kind == SEGMENT_REST)
                        return true;
                if (!next_segment(path, len, &pos, &start, &n))
                        return false;
                if (s->kind == SEGMENT_ONE ? n == 0 :
                    n != s->len || memcmp(path + start, t->text + s->start, n) != 0)
                        return false;
        }
        return pos == len;
}

/*
 * What each byte is, for classifying a segment in one pass (this runs for
 * every exchange): a segment's flags ANDed tell "all digits", "all hex"...,
 * ORed "has a digit"...
 */
enum {
        C_DIGIT = 1 << 0,
        C_ALPHA = 1 << 1,
        C_HEX   = 1 << 2,
        C_SAFE  = 1 << 3,             /* printable ASCII but '"' and '\\' (byte_safe()) */
        C_END   = 1 << 4,             /* ends the segment: '/'; or the path: '?', '#' */
        C_ALNUM = 1 << 5,             /* a digit or a letter */
};

static uint8_t char_class[256];

static void char_class_init(void) {
        if (char_class['/'])
                return;
        for (unsigned c = 0; c < 256; c++)
                char_class[c] = (uint8_t) ((c >= '0' && c <= '9' ? C_DIGIT | C_HEX : 0) |
                                           ((c | 0x20) >= 'a' && (c | 0x20) <= 'z' ? C_ALPHA : 0) |
                                           ((c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? C_HEX : 0) |
                                           (byte_safe((unsigned char) c) ? C_SAFE : 0) |
                                           (c == '/' || c == '?' || c == '#' ? C_END : 0) |
                                           ((c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ? C_ALNUM : 0));
}

static bool is_uuid(const char *s, size_t n) {
        if (n != 36)
                return false;
        for (size_t i = 0; i < n; i++)
                if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !(char_class[(unsigned char) s[i]] & C_HEX))
                        return false;
        return true;
}

/* Whether a segment of n bytes whose classes ANDed are all and ORed are any becomes "*". */
static bool segment_folds(const char *s, size_t n, unsigned all, unsigned any) {
        if (n == 0)
                return false;
        if (n > ROUTE_SEGMENT_MAX || !(all & C_SAFE))
                return true;
        if (all & C_DIGIT)                                                      /* 12345 */
                return true;
        if ((all & C_HEX) && n >= 8 && (any & C_DIGIT))                         /* 5f2b9c1e, a sha256 */
                return true;
        if ((all & C_ALNUM) && n >= 16 && (any & C_DIGIT) && (any & C_ALPHA))   /* aZ9kq3Lm0pQ8x7Yt */
                return true;
        return n == 36 && is_uuid(s, n);
}

/*
 * The heuristic over path[0..len) (a path: starts with '/'; a '?' or '#'
 * ends it too), in one pass: each segment is copied as it is classified,
 * and replaced by "*" when it folds. Room is always kept for a last
 * segment "**".
 */
static void fold_heuristic(const char *path, size_t len, char buf[static ROUTE_BUF_SIZE]) {
        const char *p = path, *end = path + len;
        size_t out = 0, depth = 0;

        while (p < end && *p == '/') {
                const char *seg = ++p;
                size_t start = out + 1, n;
                unsigned all = ~0u, any = 0;

                for (; p < end; p++) {
                        unsigned c = char_class[(unsigned char) *p];

                        if (c & C_END)
                                break;
                        all &= c;
                        any |= c;
                        if (start + (size_t) (p - seg) < ROUTE_LEN_MAX)
                                buf[start + (p - seg)] = *p;
                }
                n = (size_t) (p - seg);
                if (segment_folds(seg, n, all, any)) {
                        buf[start] = '*';
                        n = 1;
                }
                if (depth == ROUTE_SEGMENTS_MAX || out + 1 + n + 3 > ROUTE_LEN_MAX) {
                        memcpy(buf + out, "/**", 3);
                        out += 3;
                        break;
                }
                buf[out] = '/';
                out += 1 + n;
                depth++;
                if (p < end && *p != '/')
                        break;                  /* '?' or '#': the path ends */
        }
        if (out == 0)
                buf[out++] = '/';
        buf[out] = 0;
}

int route_fold_path(const RouteFold *f, const char *path, size_t len, char buf[static ROUTE_BUF_SIZE]) {
        char_class_init();
        for (size_t i = 0; f && i < f->n; i++)
                if (template_match(&f->templates[i], path, len)) {
                        strcpy(buf, f->templates[i].text);
                        return (int) i;
                }
        fold_heuristic(path, len, buf);
        return -1;
}

int route_fold(const RouteFold *f, const char *target, size_t len, char buf[static ROUTE_BUF_SIZE]) {
        const char *path;
        size_t n;

        /* Origin-form, without templates (the common case): the heuristic stops at '?' or '#' itself. */
        if (target && len > 0 && target[0] == '/' && route_fold_templates(f) == 0) {
                char_class_init();
                fold_heuristic(target, len, buf);
                return -1;
        }
        if (!target || !filter_target_path(target, len, &path, &n)) {
                strcpy(buf, "*");
                return -1;
        }
        return route_fold_path(f, path, n, buf);
}
