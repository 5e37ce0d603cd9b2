/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A bounded recursive-descent JSON parser; see json-value.h. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/json-value.h"

typedef struct Parser {
        const char *p, *end;
} Parser;

JsonValue *json_value_free(JsonValue *v) {
        if (!v)
                return NULL;
        for (size_t i = 0; i < v->n; i++) {
                if (v->keys)
                        free(v->keys[i]);
                json_value_free(v->items[i]);
        }
        free(v->keys);
        free(v->items);
        free(v->string);
        free(v);
        return NULL;
}

static void skip_space(Parser *p) {
        while (p->p < p->end && (*p->p == ' ' || *p->p == '\t' || *p->p == '\n' || *p->p == '\r'))
                p->p++;
}

static int hex4(const char *s, unsigned *ret) {
        unsigned v = 0;

        for (int i = 0; i < 4; i++) {
                char c = s[i];

                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned) (c - 'A' + 10);
                else
                        return -EINVAL;
        }
        *ret = v;
        return 0;
}

static size_t utf8_encode(char *out, unsigned c) {
        if (c < 0x80) {
                out[0] = (char) c;
                return 1;
        }
        if (c < 0x800) {
                out[0] = (char) (0xc0 | (c >> 6));
                out[1] = (char) (0x80 | (c & 0x3f));
                return 2;
        }
        if (c < 0x10000) {
                out[0] = (char) (0xe0 | (c >> 12));
                out[1] = (char) (0x80 | ((c >> 6) & 0x3f));
                out[2] = (char) (0x80 | (c & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (c >> 18));
        out[1] = (char) (0x80 | ((c >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((c >> 6) & 0x3f));
        out[3] = (char) (0x80 | (c & 0x3f));
        return 4;
}

/* At the opening quote. The decoded string is never longer than its source. */
static int parse_string(Parser *p, char **ret) {
        const char *s = p->p + 1, *q;
        size_t len = 0;
        char *out;

        /* The decoded string is never longer than its source up to the closing quote:
         * size the copy by that, not by the rest of the document (quadratic on big answers). */
        for (q = s; q < p->end && *q != '"'; q++)
                if (*q == '\\' && q + 1 < p->end)
                        q++;
        out = malloc((size_t) (q - s) + 1);
        if (!out)
                return -ENOMEM;

        for (;;) {
                unsigned char c;

                if (s >= p->end)
                        goto invalid;
                c = (unsigned char) *s;
                if (c == '"')
                        break;
                if (c < 0x20)
                        goto invalid;
                if (c != '\\') {
                        out[len++] = (char) c;
                        s++;
                        continue;
                }
                if (++s >= p->end)
                        goto invalid;
                switch (*s) {
                case '"': case '\\': case '/':
                        out[len++] = *s++;
                        break;
                case 'b': out[len++] = '\b'; s++; break;
                case 'f': out[len++] = '\f'; s++; break;
                case 'n': out[len++] = '\n'; s++; break;
                case 'r': out[len++] = '\r'; s++; break;
                case 't': out[len++] = '\t'; s++; break;
                case 'u': {
                        unsigned u, lo;

                        if (p->end - s < 5 || hex4(s + 1, &u) < 0)
                                goto invalid;
                        s += 5;
                        if (u >= 0xd800 && u <= 0xdbff) {
                                /* A high surrogate must be followed by a low one. */
                                if (p->end - s < 6 || s[0] != '\\' || s[1] != 'u' || hex4(s + 2, &lo) < 0 ||
                                    lo < 0xdc00 || lo > 0xdfff)
                                        goto invalid;
                                s += 6;
                                u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
                        } else if (u >= 0xdc00 && u <= 0xdfff)
                                goto invalid;
                        if (u == 0)
                                goto invalid;
                        /* 6 escaped source bytes (12 for a pair) always cover the 1-4 bytes written. */
                        len += utf8_encode(out + len, u);
                        break;
                }
                default:
                        goto invalid;
                }
        }
        out[len] = 0;
        p->p = s + 1;
        *ret = out;
        return 0;

invalid:
        free(out);
        return -EINVAL;
}

static int parse_number(Parser *p, char **ret) {
        const char *s = p->p;
        char *text;

        if (s < p->end && *s == '-')
                s++;
        if (s >= p->end)
                return -EINVAL;
        if (*s == '0')
                s++;
        else if (*s >= '1' && *s <= '9')
                while (s < p->end && *s >= '0' && *s <= '9')
                        s++;
        else
                return -EINVAL;
        if (s < p->end && *s == '.') {
                s++;
                if (s >= p->end || *s < '0' || *s > '9')
                        return -EINVAL;
                while (s < p->end && *s >= '0' && *s <= '9')
                        s++;
        }
        if (s < p->end && (*s == 'e' || *s == 'E')) {
                s++;
                if (s < p->end && (*s == '+' || *s == '-'))
                        s++;
                if (s >= p->end || *s < '0' || *s > '9')
                        return -EINVAL;
                while (s < p->end && *s >= '0' && *s <= '9')
                        s++;
        }
        text = strndup(p->p, (size_t) (s - p->p));
        if (!text)
                return -ENOMEM;
        p->p = s;
        *ret = text;
        return 0;
}

static int parse_literal(Parser *p, const char *word) {
        size_t n = strlen(word);

        if ((size_t) (p->end - p->p) < n || memcmp(p->p, word, n) != 0)
                return -EINVAL;
        p->p += n;
        return 0;
}

static int push(JsonValue *v, char *key, JsonValue *item) {
        JsonValue **items;

        items = reallocarray(v->items, v->n + 1, sizeof(JsonValue *));
        if (!items)
                return -ENOMEM;
        v->items = items;
        if (v->type == JSON_OBJECT) {
                char **keys = reallocarray(v->keys, v->n + 1, sizeof(char *));

                if (!keys)
                        return -ENOMEM;
                v->keys = keys;
                v->keys[v->n] = key;
        }
        v->items[v->n++] = item;
        return 0;
}

static int parse_value(Parser *p, unsigned depth, JsonValue **ret);

static int parse_container(Parser *p, unsigned depth, JsonValue *v) {
        char close = v->type == JSON_OBJECT ? '}' : ']';
        int r;

        p->p++;
        skip_space(p);
        if (p->p < p->end && *p->p == close) {
                p->p++;
                return 0;
        }
        for (;;) {
                _cleanup_(json_value_freep) JsonValue *item = NULL;
                _cleanup_(freep) char *key = NULL;

                skip_space(p);
                if (v->type == JSON_OBJECT) {
                        if (p->p >= p->end || *p->p != '"')
                                return -EINVAL;
                        r = parse_string(p, &key);
                        if (r < 0)
                                return r;
                        skip_space(p);
                        if (p->p >= p->end || *p->p != ':')
                                return -EINVAL;
                        p->p++;
                }
                r = parse_value(p, depth + 1, &item);
                if (r < 0)
                        return r;
                r = push(v, key, item);
                if (r < 0)
                        return r;
                TAKE_PTR(key);
                TAKE_PTR(item);

                skip_space(p);
                if (p->p >= p->end)
                        return -EINVAL;
                if (*p->p == close) {
                        p->p++;
                        return 0;
                }
                if (*p->p != ',')
                        return -EINVAL;
                p->p++;
        }
}

static int parse_value(Parser *p, unsigned depth, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        int r;

        if (depth > JSON_PARSE_DEPTH_MAX)
                return -E2BIG;
        skip_space(p);
        if (p->p >= p->end)
                return -EINVAL;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;

        switch (*p->p) {
        case '{':
                v->type = JSON_OBJECT;
                r = parse_container(p, depth, v);
                break;
        case '[':
                v->type = JSON_ARRAY;
                r = parse_container(p, depth, v);
                break;
        case '"':
                v->type = JSON_STRING;
                r = parse_string(p, &v->string);
                break;
        case 't':
                v->type = JSON_BOOLEAN;
                v->boolean = true;
                r = parse_literal(p, "true");
                break;
        case 'f':
                v->type = JSON_BOOLEAN;
                r = parse_literal(p, "false");
                break;
        case 'n':
                v->type = JSON_NULL;
                r = parse_literal(p, "null");
                break;
        default:
                v->type = JSON_NUMBER;
                r = parse_number(p, &v->string);
                break;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int json_parse(const char *s, size_t n, JsonValue **ret) {
        _cleanup_(json_value_freep) JsonValue *v = NULL;
        Parser p = { .p = s, .end = s + n };
        int r;

        r = parse_value(&p, 0, &v);
        if (r < 0)
                return r;
        skip_space(&p);
        if (p.p != p.end)
                return -EINVAL;
        *ret = TAKE_PTR(v);
        return 0;
}

const JsonValue *json_object_get(const JsonValue *v, const char *key) {
        if (!v || v->type != JSON_OBJECT)
                return NULL;
        for (size_t i = v->n; i > 0; i--)
                if (strcmp(v->keys[i - 1], key) == 0)
                        return v->items[i - 1];
        return NULL;
}

const char *json_value_string(const JsonValue *v) {
        return v && v->type == JSON_STRING ? v->string : NULL;
}

int json_value_u64(const JsonValue *v, uint64_t *ret) {
        uint64_t x = 0;

        if (!v || v->type != JSON_NUMBER)
                return -EINVAL;
        for (const char *s = v->string; *s; s++) {
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                if (x > (UINT64_MAX - (uint64_t) (*s - '0')) / 10)
                        return -ERANGE;
                x = x * 10 + (uint64_t) (*s - '0');
        }
        *ret = x;
        return 0;
}
