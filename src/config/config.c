/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading the configuration: parsing values of each kind, applying YAML
 * trees, the environment and command-line assignments on top of the
 * defaults, and checking the result. See config.h for the layers; the table
 * is in config-table.c, the writers (--generate-config, docs, --cat-config)
 * in config-output.c.
 *
 * Every problem becomes a diagnostic and loading carries on, so that one run
 * of --validate-config shows all of them. A value that fails to parse leaves
 * the previous layer's value in place.
 */

#define _GNU_SOURCE 1  /* asprintf */

#include <ctype.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "basic/log.h"
#include "basic/strv.h"
#include "config/conf-files.h"
#include "config/configuration.h"
#include "config/yaml-tree.h"

/* Where a value was written, for diagnostics and sources. */
typedef struct Where {
        const char *origin;
        unsigned line;
        unsigned column;
} Where;

/* The common layout of every *List type in config.h. */
typedef struct AnyList {
        void *items;
        size_t n;
} AnyList;

/* The value of one setting while it is being parsed, before it replaces the old one. */
typedef union ConfigValue {
        bool b;
        uint64_t u;
        double d;
        int level;
        char *str;
        unsigned flags;
        AnyList list;
} ConfigValue;

void *config_field(const Config *c, const ConfigSetting *s) {
        return (uint8_t *) c + s->offset;
}

static size_t setting_index(const ConfigSetting *s) {
        return (size_t) (s - config_settings);
}

static bool type_is_list(ConfigType t) {
        return t == CONFIG_STRINGS || t == CONFIG_PIDS || t == CONFIG_PORTS || t == CONFIG_CIDRS ||
               t == CONFIG_STATUSES || t == CONFIG_SAMPLING_RULES;
}

/* Bytes of one element of a list-valued setting; 0 for scalar types. */
size_t config_type_elem_size(ConfigType t) {
        switch (t) {
        case CONFIG_STRINGS:
                return sizeof(char *);
        case CONFIG_PIDS:
                return sizeof(uint32_t);
        case CONFIG_PORTS:
                return sizeof(PortRange);
        case CONFIG_CIDRS:
                return sizeof(Cidr);
        case CONFIG_STATUSES:
                return sizeof(StatusRange);
        case CONFIG_SAMPLING_RULES:
                return sizeof(SamplingRule);
        default:
                return 0;
        }
}

static void elem_free(ConfigType t, void *e) {
        if (t == CONFIG_STRINGS)
                free(*(char **) e);
        else if (t == CONFIG_SAMPLING_RULES)
                free(((SamplingRule *) e)->path);
}

static void list_clear(ConfigType t, AnyList *l) {
        size_t sz = config_type_elem_size(t);

        for (size_t i = 0; i < l->n; i++)
                elem_free(t, (uint8_t *) l->items + i * sz);
        free(l->items);
        *l = (AnyList) {};
}

/* Moves *elem into the list (on failure the caller still owns it). */
static int list_push(ConfigType t, AnyList *l, const void *elem) {
        size_t sz = config_type_elem_size(t);
        void *items;

        if (l->n >= CONFIG_LIST_MAX)
                return -E2BIG;
        items = realloc(l->items, (l->n + 1) * sz);
        if (!items)
                return -ENOMEM;
        l->items = items;
        memcpy((uint8_t *) items + l->n * sz, elem, sz);
        l->n++;
        return 0;
}

static void value_done(const ConfigSetting *s, ConfigValue *v) {
        if (type_is_list(s->type))
                list_clear(s->type, &v->list);
        else if (s->type == CONFIG_STRING)
                v->str = mfree(v->str);
}

/* Replaces (or, append, extends) the field with v, which is consumed. */
static int value_store(Config *c, const ConfigSetting *s, ConfigValue *v, bool append) {
        void *f = config_field(c, s);

        switch (s->type) {
        case CONFIG_BOOL:
                *(bool *) f = v->b;
                break;
        case CONFIG_UINT:
        case CONFIG_SIZE:
        case CONFIG_DURATION:
                *(uint64_t *) f = v->u;
                break;
        case CONFIG_FRACTION:
                *(double *) f = v->d;
                break;
        case CONFIG_LEVEL:
                *(int *) f = v->level;
                break;
        case CONFIG_STRING:
                free(*(char **) f);
                *(char **) f = TAKE_PTR(v->str);
                break;
        case CONFIG_FLAGS:
                *(unsigned *) f = append ? *(unsigned *) f | v->flags : v->flags;
                break;
        default: {
                AnyList *l = f;

                if (!append) {
                        list_clear(s->type, l);
                        *l = v->list;
                        v->list = (AnyList) {};
                        break;
                }
                size_t sz = config_type_elem_size(s->type);
                if (l->n + v->list.n > CONFIG_LIST_MAX)
                        return -E2BIG;
                void *items = realloc(l->items, (l->n + v->list.n) * sz ?: 1);
                if (!items)
                        return -ENOMEM;
                l->items = items;
                if (v->list.n > 0)
                        memcpy((uint8_t *) items + l->n * sz, v->list.items, v->list.n * sz);
                l->n += v->list.n;
                free(v->list.items);
                v->list = (AnyList) {};
                break;
        }
        }
        return 0;
}

static int set_source(Config *c, const ConfigSetting *s, const Where *w, bool append) {
        ConfigSource *src = &c->sources[setting_index(s)];
        char *o = strdup(w->origin);

        if (!o)
                return -ENOMEM;
        free(src->origin);
        *src = (ConfigSource) { .origin = o, .line = w->line, .column = w->column, .appended = append };
        return 0;
}

int config_source_format(const ConfigSource *src, char **ret) {
        char *s;
        int r;

        if (src->line > 0)
                r = asprintf(&s, "%s:%u:%u%s", src->origin, src->line, src->column, src->appended ? " (appended)" : "");
        else
                r = asprintf(&s, "%s%s", strna(src->origin), src->appended ? " (appended)" : "");
        if (r < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

/* --- Parsing one value --------------------------------------------------------------------- */

static int error_at(Diagnostics *d, const Where *w, const char *format, ...) _printf_(3, 4);
static int error_at(Diagnostics *d, const Where *w, const char *format, ...) {
        _cleanup_(freep) char *m = NULL;
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&m, format, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        r = diagnostics_error(d, w->origin, w->line, w->column, "%s", m);
        return r < 0 ? r : -EINVAL;
}

/* Registered by the modules that use the settings (config_register_checks()). */
static ConfigCheckFn consumer_checks[_CONFIG_CHECK_MAX];

int config_register_checks(const ConfigConsumerCheck *table) {
        for (const ConfigConsumerCheck *e = table; e->fn; e++)
                if (e->check < _CHECK_CONSUMER_FIRST || e->check >= _CONFIG_CHECK_MAX)
                        return -EINVAL;
        for (const ConfigConsumerCheck *e = table; e->fn; e++)
                consumer_checks[e->check] = e->fn;
        return 0;
}

bool config_check_registered(ConfigCheck check) {
        if (check < _CHECK_CONSUMER_FIRST)
                return true;
        return check < _CONFIG_CHECK_MAX && consumer_checks[check];
}

static const char *check_string(ConfigCheck check, const char *v) {
        switch (check) {
        case CHECK_COMM:
                return check_comm(v);
        case CHECK_EXE:
                if (v[0] != '/' && v[0] != '*')
                        return "executable patterns must be absolute paths (globs allowed)";
                return check_glob(v);
        case CHECK_UNIT:
                return check_unit_name(v);
        case CHECK_CGROUP:
                return check_cgroup_path(v);
        case CHECK_METHOD:
                return check_http_token(v);
        case CHECK_PATH_PATTERN:
                if (v[0] != '/' && v[0] != '*')
                        return "path patterns start with '/' (a prefix or glob) or '*'";
                for (const char *p = v; *p; p++)
                        if ((unsigned char) *p <= ' ' || *p == 0x7f)
                                return "whitespace or control character in path pattern";
                return check_glob(v);
        case CHECK_HEADER_NAME:
                return check_http_token(v);
        case CHECK_ABSOLUTE_PATH:
                if (*v && v[0] != '/')
                        return "must be an absolute path (or empty)";
                return NULL;
        case CHECK_MASK:
                if (!*v || strlen(v) > 64)
                        return "must be 1 to 64 characters";
                for (const char *p = v; *p; p++)
                        if ((unsigned char) *p < 0x20 || *p == 0x7f)
                                return "control character in mask";
                return NULL;
        case CHECK_NONE:
                return NULL;
        default:
                /* A consumer's check (configuration.h): its function, once registered. */
                return (unsigned) check < _CONFIG_CHECK_MAX && consumer_checks[check] ? consumer_checks[check](v) : NULL;
        }
}

static const char *type_noun(ConfigType t) {
        static const char *const names[_CONFIG_TYPE_MAX] = {
                [CONFIG_BOOL] = "a boolean (yes/no)",
                [CONFIG_UINT] = "a number",
                [CONFIG_SIZE] = "a size (16384, 64KiB, 16MiB)",
                [CONFIG_DURATION] = "a duration (250ms, 30s, 5min)",
                [CONFIG_FRACTION] = "a fraction between 0 and 1 (0.1 or 10%)",
                [CONFIG_LEVEL] = "a log level (emerg, alert, crit, err, warning, notice, info, debug)",
                [CONFIG_STRING] = "a string",
                [CONFIG_FLAGS] = "a list of names",
                [CONFIG_STRINGS] = "a list of strings",
                [CONFIG_PIDS] = "a list of process IDs",
                [CONFIG_PORTS] = "a list of ports or port ranges",
                [CONFIG_CIDRS] = "a list of CIDR prefixes",
                [CONFIG_STATUSES] = "a list of statuses (5xx, 404, 500-504)",
                [CONFIG_SAMPLING_RULES] = "a list of {path, rate} rules",
        };
        return names[t];
}

static int format_bound(const ConfigSetting *s, uint64_t v, char *buf, size_t size) {
        if (s->type == CONFIG_SIZE)
                return format_size(v, buf, size);
        if (s->type == CONFIG_DURATION)
                return format_duration_ns(v, buf, size);
        return snprintf(buf, size, "%" PRIu64, v) < (int) size ? 0 : -ENOBUFS;
}

static int check_range(const ConfigSetting *s, uint64_t v, const char *text, const Where *w, Diagnostics *d) {
        char lo[32], hi[32];

        if (v >= s->min && (s->max == 0 || v <= s->max)) {
                if ((s->flags & CONFIG_POWER_OF_TWO) && (v & (v - 1)) != 0)
                        return error_at(d, w, "%s: '%s' is not a power of two", s->key, text);
                return 0;
        }
        (void) format_bound(s, s->min, lo, sizeof(lo));
        if (s->max == 0)
                return error_at(d, w, "%s: '%s' is out of range: must be at least %s", s->key, text, lo);
        (void) format_bound(s, s->max, hi, sizeof(hi));
        return error_at(d, w, "%s: '%s' is out of range: must be between %s and %s", s->key, text, lo, hi);
}

static int parse_level(const char *text, int *ret) {
        int l;

        if (strlen(text) == 1 && text[0] >= '0' && text[0] <= '7')
                l = text[0] - '0';
        else
                l = log_level_from_string(text);
        if (l < 0)
                return l;
        *ret = l;
        return 0;
}

/* A scalar setting (not a list) from its text. */
static int parse_scalar(const ConfigSetting *s, const char *text, const Where *w, Diagnostics *d, ConfigValue *ret) {
        const char *why;
        int r;

        switch (s->type) {
        case CONFIG_BOOL:
                r = parse_boolean(text);
                if (r < 0)
                        return error_at(d, w, "%s: '%s' is not a boolean (use yes or no)", s->key, text);
                ret->b = r;
                return 0;
        case CONFIG_UINT:
        case CONFIG_SIZE:
        case CONFIG_DURATION: {
                uint64_t v;

                r = s->type == CONFIG_UINT ? parse_uint64(text, &v) :
                    s->type == CONFIG_SIZE ? parse_size(text, &v) : parse_duration_ns(text, &v);
                if (r == -ERANGE)
                        return error_at(d, w, "%s: '%s' is too large", s->key, text);
                if (r < 0)
                        return error_at(d, w, "%s: '%s' is not %s", s->key, text, type_noun(s->type));
                r = check_range(s, v, text, w, d);
                if (r < 0)
                        return r;
                ret->u = v;
                return 0;
        }
        case CONFIG_FRACTION:
                r = parse_fraction(text, &ret->d);
                if (r == -ERANGE)
                        return error_at(d, w, "%s: '%s' is out of range: must be between 0 and 1", s->key, text);
                if (r < 0)
                        return error_at(d, w, "%s: '%s' is not %s", s->key, text, type_noun(s->type));
                return 0;
        case CONFIG_LEVEL:
                if (parse_level(text, &ret->level) < 0)
                        return error_at(d, w, "%s: '%s' is not %s", s->key, text, type_noun(s->type));
                return 0;
        case CONFIG_STRING:
                why = check_string(s->check, text);
                if (why)
                        return error_at(d, w, "%s: '%s': %s", s->key, text, why);
                ret->str = strdup(text);
                return ret->str ? 0 : -ENOMEM;
        default:
                return -EINVAL;
        }
}

/* "name.service" in a static buffer, for a did-you-mean; "" when it would not fit. */
static const char *strjoina_service(const char *name) {
        static _Thread_local char buf[300];

        if (strlen(name) + sizeof(".service") > sizeof(buf))
                return "";
        snprintf(buf, sizeof(buf), "%s.service", name);
        return buf;
}

/* One element of a list setting (or one name of a flags setting) from its text, into elem. */
static int parse_element(const ConfigSetting *s, const char *text, const Where *w, Diagnostics *d, void *elem) {
        const char *why;
        int r;

        switch (s->type) {
        case CONFIG_FLAGS:
                if (strcmp(text, "none") == 0 && s->names && strcmp(s->names[0], "journal") == 0) {
                        *(unsigned *) elem = 0;
                        return 0;
                }
                for (size_t i = 0; s->names[i]; i++)
                        if (strcasecmp(text, s->names[i]) == 0) {
                                *(unsigned *) elem = 1u << i;
                                return 0;
                        }
                {
                        char list[128] = "";
                        for (size_t i = 0; s->names[i]; i++) {
                                strncat(list, i ? ", " : "", sizeof(list) - strlen(list) - 1);
                                strncat(list, s->names[i], sizeof(list) - strlen(list) - 1);
                        }
                        return error_at(d, w, "%s: unknown value '%s' (expected %s%s)", s->key, text, list,
                                        strcmp(s->names[0], "journal") == 0 ? " or none" : "");
                }
        case CONFIG_STRINGS:
                why = check_string(s->check, text);
                if (why && s->check == CHECK_UNIT && !strchr(text, '.') && !check_unit_name(strjoina_service(text)))
                        return error_at(d, w, "%s: '%s' is not a unit name, did you mean '%s.service'?", s->key, text, text);
                if (why)
                        return error_at(d, w, "%s: '%s': %s", s->key, text, why);
                *(char **) elem = strdup(text);
                return *(char **) elem ? 0 : -ENOMEM;
        case CONFIG_PIDS: {
                uint64_t v;

                /* 4194304 is PID_MAX_LIMIT, the largest pid_max the kernel allows. */
                if (parse_uint64(text, &v) < 0 || v < 1 || v > 4194304)
                        return error_at(d, w, "%s: '%s' is not a process ID (1 to 4194304)", s->key, text);
                *(uint32_t *) elem = (uint32_t) v;
                return 0;
        }
        case CONFIG_PORTS:
                r = parse_port_range(text, elem);
                if (r == -ERANGE)
                        return error_at(d, w, "%s: '%s': ports are 1 to 65535, and a range goes from low to high",
                                        s->key, text);
                if (r < 0)
                        return error_at(d, w, "%s: '%s' is not a port or port range (80, 8000-8100)", s->key, text);
                return 0;
        case CONFIG_CIDRS: {
                Cidr masked;
                char buf[64];

                r = parse_cidr(text, elem, &masked);
                if (r == -EADDRNOTAVAIL) {
                        (void) format_cidr(&masked, buf, sizeof(buf));
                        return error_at(d, w, "%s: '%s' has host bits set past the prefix; did you mean '%s'?",
                                        s->key, text, buf);
                }
                if (r == -ERANGE)
                        return error_at(d, w, "%s: '%s': prefix length too long for the address family", s->key, text);
                if (r < 0)
                        return error_at(d, w, "%s: '%s' is not an IPv4 or IPv6 address or CIDR prefix", s->key, text);
                return 0;
        }
        case CONFIG_STATUSES:
                r = parse_status_range(text, elem);
                if (r < 0)
                        return error_at(d, w, "%s: '%s' is not a status class (5xx), code (404) or range (500-504) "
                                        "between 100 and 599", s->key, text);
                return 0;
        case CONFIG_SAMPLING_RULES: {
                /* Text form (environment, command line): PATTERN=RATE */
                SamplingRule *rule = elem;
                const char *eq = strrchr(text, '=');
                _cleanup_(freep) char *path = NULL;

                if (!eq)
                        return error_at(d, w, "%s: '%s' is not a rule of the form PATTERN=RATE", s->key, text);
                path = strndup(text, (size_t) (eq - text));
                if (!path)
                        return -ENOMEM;
                why = check_string(CHECK_PATH_PATTERN, path);
                if (why)
                        return error_at(d, w, "%s: '%s': %s", s->key, path, why);
                r = parse_fraction(eq + 1, &rule->rate);
                if (r < 0)
                        return error_at(d, w, "%s: '%s' is not a fraction between 0 and 1", s->key, eq + 1);
                rule->path = TAKE_PTR(path);
                return 0;
        }
        default:
                return -EINVAL;
        }
}

/* Adds one parsed element to v (a list or flags being built). */
static int value_add_element(const ConfigSetting *s, ConfigValue *v, void *elem) {
        int r;

        if (s->type == CONFIG_FLAGS) {
                v->flags |= *(unsigned *) elem;
                return 0;
        }
        r = list_push(s->type, &v->list, elem);
        if (r < 0)
                elem_free(s->type, elem);
        return r;
}

/* Room for the largest list element. */
#define LIST_ELEM_MAX MAX(sizeof(SamplingRule), sizeof(Cidr))

/* Checks what can only be seen on the whole value. */
static int value_verify(const ConfigSetting *s, const ConfigValue *v, bool saw_none, const Where *w, Diagnostics *d) {
        if (s->type == CONFIG_FLAGS && saw_none && v->flags != 0)
                return error_at(d, w, "%s: 'none' cannot be combined with other values", s->key);
        return 0;
}

/*
 * One parsed list entry (parsed: what parsing it returned) into v. A bad
 * entry is remembered in *failed so that every problem is reported; only
 * running out of memory or entries stops the list. Negative: give up v.
 */
static int value_collect(const ConfigSetting *s, ConfigValue *v, int parsed, void *elem, const Where *w,
                         Diagnostics *d, bool *failed) {
        int r;

        if (parsed == -ENOMEM)
                return parsed;
        if (parsed < 0) {
                *failed = true;
                return 0;
        }
        r = value_add_element(s, v, elem);
        if (r == -E2BIG)
                return error_at(d, w, "%s: more than %u entries", s->key, CONFIG_LIST_MAX);
        return r;
}

/* The end of a list: checks on the whole value, then hand it over (or free it on any error). */
static int value_finish(const ConfigSetting *s, ConfigValue *v, bool failed, bool saw_none, const Where *w,
                        Diagnostics *d, ConfigValue *ret) {
        if (!failed && value_verify(s, v, saw_none, w, d) < 0)
                failed = true;
        if (failed) {
                value_done(s, v);
                return -EINVAL;
        }
        *ret = *v;
        return 0;
}

/* A setting from text: lists are comma-separated (environment, command line, defaults). */
static int value_from_text(const ConfigSetting *s, const char *text, const Where *w, Diagnostics *d, ConfigValue *ret) {
        ConfigValue v = {};
        bool failed = false, saw_none = false;
        int r;

        if (!type_is_list(s->type) && s->type != CONFIG_FLAGS)
                return parse_scalar(s, text, w, d, ret);

        for (const char *p = text; *p; ) {
                size_t n = strcspn(p, ",");
                _cleanup_(freep) char *item = NULL;
                uint8_t elem[LIST_ELEM_MAX] = {};

                /* Trim blanks around each item: "a, b" reads as two items. */
                const char *a = p, *b = p + n;
                while (a < b && isspace((unsigned char) *a))
                        a++;
                while (b > a && isspace((unsigned char) b[-1]))
                        b--;
                p += n + (p[n] == ',');
                if (a == b)
                        continue;
                item = strndup(a, (size_t) (b - a));
                if (!item) {
                        value_done(s, &v);
                        return -ENOMEM;
                }
                if (s->type == CONFIG_FLAGS && strcmp(item, "none") == 0)
                        saw_none = true;
                r = parse_element(s, item, w, d, elem);
                r = value_collect(s, &v, r, elem, w, d, &failed);
                if (r < 0) {
                        value_done(s, &v);
                        return r;
                }
        }
        return value_finish(s, &v, failed, saw_none, w, d, ret);
}

static Where where_of(const char *origin, const YamlNode *n) {
        return (Where) { .origin = origin, .line = n ? n->line : 0, .column = n ? n->column : 0 };
}

/* One sampling rule from a YAML mapping {path: PATTERN, rate: FRACTION}. */
static int sampling_rule_from_node(const ConfigSetting *s, const YamlNode *n, const char *origin, Diagnostics *d,
                                   SamplingRule *ret) {
        const YamlNode *path = NULL, *rate = NULL;
        Where w = where_of(origin, n);
        const char *why;
        bool failed = false;
        double v;

        if (n->type != YAML_NODE_MAPPING)
                return error_at(d, &w, "%s: expected a rule {path: PATTERN, rate: FRACTION}, got %s",
                                s->key, yaml_node_type_name(n));
        for (size_t i = 0; i + 1 < n->n_items; i += 2) {
                const YamlNode *k = n->items[i], *val = n->items[i + 1];
                Where kw = where_of(origin, k);
                const YamlNode **slot;

                if (k->type != YAML_NODE_SCALAR) {
                        (void) error_at(d, &kw, "%s: rule keys must be plain names", s->key);
                        failed = true;
                        continue;
                }
                slot = strcmp(k->value, "path") == 0 ? &path : strcmp(k->value, "rate") == 0 ? &rate : NULL;
                if (!slot) {
                        (void) error_at(d, &kw, "%s: unknown key '%s' in rule (expected path and rate)", s->key, k->value);
                        failed = true;
                        continue;
                }
                if (*slot) {
                        (void) error_at(d, &kw, "duplicate key '%s' (first at line %u, column %u)", k->value,
                                        (*slot)->line, (*slot)->column);
                        failed = true;
                        continue;
                }
                *slot = val;
        }
        if (!path || !rate) {
                (void) error_at(d, &w, "%s: rule needs both path and rate", s->key);
                return -EINVAL;
        }
        Where pw = where_of(origin, path), rw = where_of(origin, rate);
        if (path->type != YAML_NODE_SCALAR || yaml_node_is_null(path))
                return error_at(d, &pw, "%s: rule path must be a pattern", s->key);
        why = check_string(CHECK_PATH_PATTERN, path->value);
        if (why)
                return error_at(d, &pw, "%s: '%s': %s", s->key, path->value, why);
        if (rate->type != YAML_NODE_SCALAR || parse_fraction(rate->value, &v) < 0)
                return error_at(d, &rw, "%s: rule rate must be a fraction between 0 and 1", s->key);
        if (failed)
                return -EINVAL;
        ret->path = strdup(path->value);
        if (!ret->path)
                return -ENOMEM;
        ret->rate = v;
        return 0;
}

/* A setting from a YAML node: a scalar, or for lists a sequence (a lone scalar is a list of one). */
static int value_from_node(const ConfigSetting *s, const YamlNode *n, const char *origin, Diagnostics *d,
                           ConfigValue *ret) {
        Where w = where_of(origin, n);
        ConfigValue v = {};
        bool failed = false, saw_none = false;
        int r;

        if (!type_is_list(s->type) && s->type != CONFIG_FLAGS) {
                if (n->type != YAML_NODE_SCALAR)
                        return error_at(d, &w, "%s: expected %s, got %s", s->key, type_noun(s->type),
                                        yaml_node_type_name(n));
                if (yaml_node_is_null(n) && s->type != CONFIG_STRING)
                        return error_at(d, &w, "%s: missing value, expected %s", s->key, type_noun(s->type));
                return parse_scalar(s, yaml_node_is_null(n) ? "" : n->value, &w, d, ret);
        }

        if (yaml_node_is_null(n)) {
                *ret = v;   /* "key:" or "key: ~" is the empty list */
                return 0;
        }
        if (n->type == YAML_NODE_MAPPING && s->type != CONFIG_SAMPLING_RULES)
                return error_at(d, &w, "%s: expected %s, got a mapping", s->key, type_noun(s->type));

        const YamlNode *const *items = n->type == YAML_NODE_SEQUENCE ? (const YamlNode *const *) n->items : &n;
        size_t n_items = n->type == YAML_NODE_SEQUENCE ? n->n_items : 1;

        for (size_t i = 0; i < n_items; i++) {
                const YamlNode *e = items[i];
                Where ew = where_of(origin, e);
                uint8_t elem[LIST_ELEM_MAX] = {};

                if (s->type == CONFIG_SAMPLING_RULES)
                        r = sampling_rule_from_node(s, e, origin, d, (SamplingRule *) elem);
                else if (e->type != YAML_NODE_SCALAR || yaml_node_is_null(e))
                        r = error_at(d, &ew, "%s: list entries must be values, got %s", s->key, yaml_node_type_name(e));
                else {
                        if (s->type == CONFIG_FLAGS && strcmp(e->value, "none") == 0)
                                saw_none = true;
                        r = parse_element(s, e->value, &ew, d, elem);
                }
                r = value_collect(s, &v, r, elem, &ew, d, &failed);
                if (r < 0) {
                        value_done(s, &v);
                        return r;
                }
        }
        return value_finish(s, &v, failed, saw_none, &w, d, ret);
}

static int assign(Config *c, const ConfigSetting *s, ConfigValue *v, const Where *w, bool append, Diagnostics *d) {
        int r;

        r = value_store(c, s, v, append);
        if (r == -E2BIG) {
                value_done(s, v);
                return error_at(d, w, "%s: more than %u entries", s->key, CONFIG_LIST_MAX);
        }
        if (r < 0) {
                value_done(s, v);
                return r;
        }
        return set_source(c, s, w, append);
}

/* --- Keys ------------------------------------------------------------------------------------ */

/* True when some setting lives under "prefix." */
static bool is_section(const char *prefix) {
        size_t n = strlen(prefix);

        for (size_t i = 0; i < config_settings_n; i++)
                if (strncmp(config_settings[i].key, prefix, n) == 0 && config_settings[i].key[n] == '.')
                        return true;
        return false;
}

/*
 * The closest name one level below prefix (NULL: top level) to name, or a
 * setting elsewhere whose last component is name. Written to buf; false if
 * nothing is close enough to be a plausible typo.
 */
static bool suggest(const char *prefix, const char *name, char *buf, size_t size) {
        size_t pn = prefix ? strlen(prefix) + 1 : 0;
        unsigned best = UINT_MAX, cap = MAX(2u, (unsigned) strlen(name) / 3);

        for (size_t i = 0; i < config_settings_n; i++) {
                const char *k = config_settings[i].key;
                char cand[128];
                size_t n;
                unsigned dist;

                if (prefix && (strncmp(k, prefix, pn - 1) != 0 || k[pn - 1] != '.'))
                        continue;
                n = strcspn(k + pn, ".");
                if (n >= sizeof(cand))
                        continue;
                memcpy(cand, k + pn, n);
                cand[n] = 0;
                dist = edit_distance(name, cand, cap);
                if (dist <= cap && dist < best) {
                        best = dist;
                        snprintf(buf, size, "%s", cand);
                }
        }
        if (best != UINT_MAX)
                return true;

        /* A key put in the wrong section: "level" under capture means log.level. */
        for (size_t i = 0; i < config_settings_n; i++) {
                const char *k = config_settings[i].key, *last = strrchr(k, '.');
                if (last && strcmp(last + 1, name) == 0) {
                        snprintf(buf, size, "%s", k);
                        return true;
                }
        }
        return false;
}

static int unknown_key(const char *prefix, const char *name, const Where *w, Diagnostics *d) {
        char s[128];

        /* Past the cap nothing is kept: skip the search, which is the costly part on garbage. */
        if (d && d->n >= DIAGNOSTICS_MAX)
                return error_at(d, w, "unknown key");
        if (!suggest(prefix, name, s, sizeof(s)))
                return prefix ? error_at(d, w, "unknown key '%s' in section '%s'", name, prefix)
                              : error_at(d, w, "unknown section '%s'", name);
        if (strchr(s, '.'))
                return error_at(d, w, "unknown key '%s'%s%s%s, did you mean '%s'?", name,
                                prefix ? " in section '" : "", prefix ?: "", prefix ? "'" : "", s);
        return prefix ? error_at(d, w, "unknown key '%s' in section '%s', did you mean '%s'?", name, prefix, s)
                      : error_at(d, w, "unknown section '%s', did you mean '%s'?", name, s);
}

typedef struct KeyRef {
        const YamlNode *key;
        size_t index;
} KeyRef;

static int keyref_cmp(const void *a, const void *b) {
        const KeyRef *x = a, *y = b;
        int r = strcmp(x->key->value, y->key->value);
        return r != 0 ? r : (x->index > y->index) - (x->index < y->index);
}

/*
 * Reports keys that appear twice in one mapping (sorting, so a mapping of
 * thousands of keys stays cheap). Marks the later ones in skip[] so they
 * are not applied: which one would win is unclear, and the file is invalid.
 * Returns the number of duplicates.
 */
static int check_duplicates(const YamlNode *m, const char *origin, bool *skip, Diagnostics *d) {
        size_t n = m->n_items / 2, k = 0;
        _cleanup_(freep) KeyRef *refs = NULL;
        int dups = 0;

        if (n < 2)
                return 0;
        refs = calloc(n, sizeof(KeyRef));
        if (!refs)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (m->items[2 * i]->type == YAML_NODE_SCALAR)
                        refs[k++] = (KeyRef) { m->items[2 * i], i };
        qsort(refs, k, sizeof(KeyRef), keyref_cmp);
        for (size_t i = 1, first = 0; i < k; i++) {
                if (strcmp(refs[first].key->value, refs[i].key->value) != 0) {
                        first = i;
                        continue;
                }
                Where w = where_of(origin, refs[i].key);
                int r = error_at(d, &w, "duplicate key '%s' (first at line %u, column %u)", refs[i].key->value,
                                 refs[first].key->line, refs[first].key->column);
                if (r == -ENOMEM)
                        return r;
                skip[refs[i].index] = true;
                dups++;
        }
        return dups;
}

static int apply_mapping(Config *c, const YamlNode *m, const char *prefix, const char *origin, Diagnostics *d) {
        _cleanup_(freep) bool *skip = NULL;
        bool failed = false;
        int r;

        skip = calloc(m->n_items / 2 + 1, sizeof(bool));
        if (!skip)
                return -ENOMEM;
        r = check_duplicates(m, origin, skip, d);
        if (r < 0)
                return r;
        if (r > 0)
                failed = true;

        for (size_t i = 0; i + 1 < m->n_items; i += 2) {
                const YamlNode *k = m->items[i], *v = m->items[i + 1];
                Where kw = where_of(origin, k);
                _cleanup_(freep) char *name = NULL, *full = NULL;
                const ConfigSetting *s;
                bool append = false;
                size_t len;

                if (skip[i / 2])
                        continue;
                if (k->type != YAML_NODE_SCALAR || yaml_node_is_null(k)) {
                        r = error_at(d, &kw, "keys must be plain names, got %s", yaml_node_type_name(k));
                        goto next;
                }
                name = strdup(k->value);
                if (!name)
                        return -ENOMEM;
                len = strlen(name);
                /* "key+:" appends to a list instead of replacing it. */
                if (len > 1 && name[len - 1] == '+') {
                        append = true;
                        name[--len] = 0;
                }
                if (prefix ? asprintf(&full, "%s.%s", prefix, name) < 0 : !(full = strdup(name))) {
                        full = NULL;
                        return -ENOMEM;
                }

                s = config_setting_find(full);
                if (s) {
                        ConfigValue val = {};

                        if (append && !type_is_list(s->type) && s->type != CONFIG_FLAGS) {
                                r = error_at(d, &kw, "%s: only lists can be appended to with '+'", s->key);
                                goto next;
                        }
                        r = value_from_node(s, v, origin, d, &val);
                        if (r >= 0)
                                r = assign(c, s, &val, &kw, append, d);
                } else if (is_section(full)) {
                        Where vw = where_of(origin, v);

                        if (append)
                                r = error_at(d, &kw, "'%s' is a section; '+' applies to list keys only", full);
                        else if (yaml_node_is_null(v))
                                r = 0;  /* an empty section, as in the generated file */
                        else if (v->type != YAML_NODE_MAPPING)
                                r = error_at(d, &vw, "'%s' is a section: expected a mapping of keys, got %s", full,
                                             yaml_node_type_name(v));
                        else
                                r = apply_mapping(c, v, full, origin, d);
                } else
                        r = unknown_key(prefix, name, &kw, d);
        next:
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        failed = true;
        }
        return failed ? -EINVAL : 0;
}

/* Stable sort by position: at most DIAGNOSTICS_MAX entries, so insertion sort is plenty. */
static void diagnostics_sort_range(Diagnostic *items, size_t n) {
        for (size_t i = 1; i < n; i++) {
                Diagnostic t = items[i];
                size_t j = i;

                while (j > 0 && (items[j - 1].line > t.line ||
                                 (items[j - 1].line == t.line && items[j - 1].column > t.column))) {
                        items[j] = items[j - 1];
                        j--;
                }
                items[j] = t;
        }
}

int config_apply_yaml(Config *c, const char *origin, const void *buf, size_t size, Diagnostics *d) {
        _cleanup_(yaml_node_freep) YamlNode *root = NULL;
        size_t first = d ? d->n : 0;
        int r;

        r = yaml_tree_parse(origin, buf, size, &root, d);
        if (r < 0)
                return r;
        if (!root || yaml_node_is_null(root))
                return 0;
        if (root->type != YAML_NODE_MAPPING) {
                Where w = where_of(origin, root);
                return error_at(d, &w, "expected a mapping of sections (log:, capture:, filter: ...), got %s",
                                yaml_node_type_name(root));
        }
        r = apply_mapping(c, root, NULL, origin, d);
        /* Duplicates are found before the walk; report the file's problems top to bottom. */
        if (d && d->n > first + 1)
                diagnostics_sort_range(d->items + first, d->n - first);
        return r;
}

int config_apply_assignment(Config *c, const char *assignment, const char *origin, Diagnostics *d) {
        _cleanup_(freep) char *key = NULL;
        const char *eq = strchr(assignment, '=');
        Where w = { .origin = origin };
        const ConfigSetting *s;
        ConfigValue v = {};
        bool append = false;
        int r;

        if (!eq || eq == assignment)
                return error_at(d, &w, "'%s' is not of the form section.key=value", assignment);
        key = strndup(assignment, (size_t) (eq - assignment));
        if (!key)
                return -ENOMEM;
        size_t n = strlen(key);
        if (n > 1 && key[n - 1] == '+') {
                append = true;
                key[n - 1] = 0;
        }
        s = config_setting_find(key);
        if (!s) {
                char sug[128];
                if (d && d->n < DIAGNOSTICS_MAX && strlen(key) < 64) {
                        /* Compare with whole keys: there is no section context on a command line. */
                        unsigned best = UINT_MAX;
                        for (size_t i = 0; i < config_settings_n; i++) {
                                unsigned dist = edit_distance(key, config_settings[i].key, 3);
                                if (dist <= 3 && dist < best) {
                                        best = dist;
                                        snprintf(sug, sizeof(sug), "%s", config_settings[i].key);
                                }
                        }
                        if (best != UINT_MAX)
                                return error_at(d, &w, "unknown setting '%s', did you mean '%s'?", key, sug);
                }
                return error_at(d, &w, "unknown setting '%s'", key);
        }
        if (append && !type_is_list(s->type) && s->type != CONFIG_FLAGS)
                return error_at(d, &w, "%s: only lists can be appended to with '+='", s->key);
        r = value_from_text(s, eq + 1, &w, d, &v);
        if (r < 0)
                return r;
        return assign(c, s, &v, &w, append, d);
}

/* --- Layers ---------------------------------------------------------------------------------- */

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < config_settings_n; i++) {
                const ConfigSetting *s = &config_settings[i];
                void *f = config_field(c, s);

                if (type_is_list(s->type))
                        list_clear(s->type, f);
                else if (s->type == CONFIG_STRING)
                        free(*(char **) f);
                if (c->sources)
                        free(c->sources[i].origin);
        }
        free(c->sources);
        list_clear(CONFIG_STRINGS, (AnyList *) &c->files);
        list_clear(CONFIG_STRINGS, (AnyList *) &c->masked);
        return mfree(c);
}

int config_new_defaults(Config **ret) {
        _cleanup_(config_freep) Config *c = NULL;
        Diagnostics d = {};
        int r = 0;

        c = calloc(1, sizeof(Config));
        if (!c)
                return -ENOMEM;
        c->sources = calloc(config_settings_n, sizeof(ConfigSource));
        if (!c->sources)
                return -ENOMEM;
        for (size_t i = 0; i < config_settings_n && r >= 0; i++) {
                const ConfigSetting *s = &config_settings[i];
                Where w = { .origin = "default" };
                ConfigValue v = {};

                r = value_from_text(s, s->default_value, &w, &d, &v);
                if (r >= 0)
                        r = assign(c, s, &v, &w, false, &d);
        }
        diagnostics_done(&d);
        if (r < 0)
                return r;  /* a bad default in the table: the unit tests catch it */
        *ret = TAKE_PTR(c);
        return 0;
}

static int strings_add(StringList *l, const char *s) {
        char *copy = strdup(s);
        int r;

        if (!copy)
                return -ENOMEM;
        r = list_push(CONFIG_STRINGS, (AnyList *) l, &copy);
        if (r < 0)
                free(copy);
        return r;
}

/* Reads a whole file, bounded; -EFBIG past CONFIG_FILE_SIZE_MAX. */
static int read_file(const char *path, char **ret, size_t *ret_size) {
        _cleanup_(freep) char *buf = NULL;
        FILE *f;
        size_t n;

        f = fopen(path, "re");
        if (!f)
                return -errno;
        buf = malloc(CONFIG_FILE_SIZE_MAX + 1);
        if (!buf) {
                fclose(f);
                return -ENOMEM;
        }
        n = fread(buf, 1, CONFIG_FILE_SIZE_MAX + 1, f);
        if (ferror(f)) {
                fclose(f);
                return -EIO;
        }
        fclose(f);
        if (n > CONFIG_FILE_SIZE_MAX)
                return -EFBIG;
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

static int apply_file(Config *c, const char *path, bool must_exist, Diagnostics *d) {
        _cleanup_(freep) char *buf = NULL;
        size_t n = 0;
        int r;

        r = read_file(path, &buf, &n);
        if (r == -ENOENT && !must_exist)
                return 0;
        if (r == -EFBIG)
                return diagnostics_error(d, path, 0, 0, "file larger than %u bytes", CONFIG_FILE_SIZE_MAX) ?: -EINVAL;
        if (r < 0)
                return diagnostics_error(d, path, 0, 0, "cannot read file: %s", strerror(-r)) ?: -EINVAL;
        r = strings_add(&c->files, path);
        if (r < 0)
                return r;
        return config_apply_yaml(c, path, buf, n, d);
}

static int apply_environment(Config *c, char *const *env, Diagnostics *d) {
        size_t plen = strlen(CONFIG_ENV_PREFIX);
        int r, ret = 0;

        for (char *const *e = env; e && *e; e++) {
                const char *eq = strchr(*e, '=');
                const ConfigSetting *s = NULL;
                _cleanup_(freep) char *name = NULL, *origin = NULL;

                if (strncmp(*e, CONFIG_ENV_PREFIX, plen) != 0 || !eq)
                        continue;
                name = strndup(*e, (size_t) (eq - *e));
                if (!name || asprintf(&origin, "environment %s", name) < 0) {
                        origin = NULL;
                        return -ENOMEM;
                }
                for (size_t i = 0; i < config_settings_n && !s; i++) {
                        _cleanup_(freep) char *en = NULL;
                        r = config_setting_env_name(&config_settings[i], &en);
                        if (r < 0)
                                return r;
                        if (strcmp(en, name) == 0)
                                s = &config_settings[i];
                }
                if (!s) {
                        /* Others may share our prefix (a wrapper's own variables): warn, do not fail. */
                        r = diagnostics_warning(d, origin, 0, 0, "not a known setting, ignoring");
                        if (r < 0)
                                return r;
                        continue;
                }

                Where w = { .origin = origin };
                ConfigValue v = {};
                r = value_from_text(s, eq + 1, &w, d, &v);
                if (r >= 0)
                        r = assign(c, s, &v, &w, false, d);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        ret = -EINVAL;
        }
        return ret;
}

int config_verify(const Config *c, Diagnostics *d) {
        const ConfigSetting *s;
        int ret = 0;

#define SRC_WHERE(key) \
        (s = config_setting_find(key), (Where) { .origin = c->sources[setting_index(s)].origin, \
                                                 .line = c->sources[setting_index(s)].line,    \
                                                 .column = c->sources[setting_index(s)].column })

        if (c->limits.head_max > c->limits.conn_memory_max) {
                Where w = SRC_WHERE("limits.head_max");
                ret = error_at(d, &w, "limits.head_max (%" PRIu64 ") is larger than limits.conn_memory_max (%" PRIu64
                               "): no head could ever be held", c->limits.head_max, c->limits.conn_memory_max);
        }
        if (c->limits.conn_memory_max > c->limits.global_memory_max) {
                Where w = SRC_WHERE("limits.conn_memory_max");
                ret = error_at(d, &w, "limits.conn_memory_max (%" PRIu64 ") is larger than limits.global_memory_max (%"
                               PRIu64 ")", c->limits.conn_memory_max, c->limits.global_memory_max);
        }
        if ((c->filter.include.roles & c->filter.exclude.roles) != 0) {
                Where w = SRC_WHERE("filter.exclude.roles");
                ret = error_at(d, &w, "filter.exclude.roles excludes a role that filter.include.roles includes");
        }
        if (c->rate_limit.per_second == 0 && c->rate_limit.burst > 0) {
                Where w = SRC_WHERE("rate_limit.burst");
                int r = diagnostics_warning(d, w.origin, w.line, w.column,
                                            "rate_limit.burst has no effect without rate_limit.per_second, ignoring");
                if (r < 0)
                        return r;
        }
#undef SRC_WHERE
        return ret == -ENOMEM ? ret : ret < 0 ? -EINVAL : 0;
}

int config_load(const ConfigLoadOptions *opts, Config **ret, Diagnostics *d) {
        static const char *const dirs[] = { CONFIG_DROPIN_DIRS, NULL };
        static const ConfigLoadOptions no_opts = {};
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(freep) char *main_file = NULL;
        char **files = NULL, **masked = NULL;
        size_t errors_before = d ? d->n_errors : 0;
        Diagnostics local = {};
        int r;

        if (!opts)
                opts = &no_opts;
        if (!d)
                d = &local;  /* the caller only wants the verdict */

        r = config_new_defaults(&c);
        if (r < 0)
                goto finish;

        main_file = opts->config_file ? strdup(opts->config_file) : path_join_root(opts->root, CONFIG_MAIN_FILE);
        if (!main_file) {
                r = -ENOMEM;
                goto finish;
        }
        r = apply_file(c, main_file, !!opts->config_file, d);
        if (r == -ENOMEM)
                goto finish;

        if (!opts->no_dropins) {
                r = conf_files_list(opts->root, dirs, CONFIG_DROPIN_DIR_NAME, ".yaml", &files, &masked);
                if (r == -ENOMEM)
                        goto finish;
                if (r < 0)
                        (void) diagnostics_error(d, CONFIG_DROPIN_DIR_NAME, 0, 0,
                                                 "cannot list drop-in directories: %s", strerror(-r));
                for (char **f = files; f && *f; f++) {
                        r = apply_file(c, *f, true, d);
                        if (r == -ENOMEM)
                                goto finish;
                }
                for (char **m = masked; m && *m; m++) {
                        r = strings_add(&c->masked, *m);
                        if (r < 0)
                                goto finish;
                }
        }

        r = apply_environment(c, opts->environment, d);
        if (r == -ENOMEM)
                goto finish;

        for (char *const *o = opts->overrides; o && *o; o++) {
                r = config_apply_assignment(c, *o, "command line", d);
                if (r == -ENOMEM)
                        goto finish;
        }

        r = config_verify(c, d);
        if (r == -ENOMEM)
                goto finish;

        r = d->n_errors > errors_before ? -EINVAL : 0;
        if (r == 0)
                *ret = TAKE_PTR(c);
finish:
        strv_free(files);
        strv_free(masked);
        diagnostics_done(&local);
        return r;
}

/* --- Use --------------------------------------------------------------------------------------- */

static bool elem_equal(ConfigType t, const void *a, const void *b) {
        switch (t) {
        case CONFIG_STRINGS:
                return strcmp(*(char *const *) a, *(char *const *) b) == 0;
        case CONFIG_PIDS:
                return *(const uint32_t *) a == *(const uint32_t *) b;
        case CONFIG_PORTS:
        case CONFIG_STATUSES:
                return memcmp(a, b, sizeof(PortRange)) == 0;
        case CONFIG_CIDRS: {
                const Cidr *x = a, *y = b;
                return x->family == y->family && x->prefixlen == y->prefixlen &&
                       memcmp(x->addr, y->addr, sizeof(x->addr)) == 0;
        }
        case CONFIG_SAMPLING_RULES: {
                const SamplingRule *x = a, *y = b;
                return x->rate == y->rate && strcmp(x->path, y->path) == 0;
        }
        default:
                return false;
        }
}

static bool setting_equal(const ConfigSetting *s, const Config *a, const Config *b) {
        const void *x = config_field(a, s), *y = config_field(b, s);

        switch (s->type) {
        case CONFIG_BOOL:
                return *(const bool *) x == *(const bool *) y;
        case CONFIG_UINT:
        case CONFIG_SIZE:
        case CONFIG_DURATION:
                return *(const uint64_t *) x == *(const uint64_t *) y;
        case CONFIG_FRACTION:
                return *(const double *) x == *(const double *) y;
        case CONFIG_LEVEL:
                return *(const int *) x == *(const int *) y;
        case CONFIG_STRING:
                return strcmp(*(char *const *) x ?: "", *(char *const *) y ?: "") == 0;
        case CONFIG_FLAGS:
                return *(const unsigned *) x == *(const unsigned *) y;
        default: {
                const AnyList *l = x, *m = y;
                size_t sz = config_type_elem_size(s->type);

                if (l->n != m->n)
                        return false;
                for (size_t i = 0; i < l->n; i++)
                        if (!elem_equal(s->type, (const uint8_t *) l->items + i * sz, (const uint8_t *) m->items + i * sz))
                                return false;
                return true;
        }
        }
}

static int strv_copy_n(char *const *l, size_t n, char ***ret) {
        char **copy = calloc(n + 1, sizeof(char *));

        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(copy[i] = strdup(l[i]))) {
                        strv_free(copy);
                        return -ENOMEM;
                }
        *ret = copy;
        return 0;
}

int config_diff(const Config *old, const Config *new, char ***ret_changed, char ***ret_restart) {
        const char *changed[config_settings_n + 1], *restart[config_settings_n + 1];
        char **a = NULL, **b = NULL;
        size_t n = 0, k = 0;

        for (size_t i = 0; i < config_settings_n; i++) {
                const ConfigSetting *s = &config_settings[i];

                if (setting_equal(s, old, new))
                        continue;
                changed[n++] = s->key;
                if (s->flags & CONFIG_RESTART)
                        restart[k++] = s->key;
        }
        if ((ret_changed && strv_copy_n((char *const *) changed, n, &a) < 0) ||
            (ret_restart && strv_copy_n((char *const *) restart, k, &b) < 0)) {
                strv_free(a);
                return -ENOMEM;
        }
        if (ret_changed)
                *ret_changed = a;
        if (ret_restart)
                *ret_restart = b;
        return (int) n;
}
