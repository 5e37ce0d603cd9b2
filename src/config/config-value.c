/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing one value of each kind (config-value.h): numbers with their ranges,
 * sizes, durations, fractions, levels, strings and the lists, each checked
 * by its setting's ConfigCheck (the consumers' checks are registered here),
 * and storing it with its source. A value that fails leaves the previous
 * layer's value in place.
 */

#define _GNU_SOURCE 1  /* asprintf */

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/log.h"
#include "config/config-value.h"

void *config_field(const Config *c, const ConfigSetting *s) {
        return (uint8_t *) c + s->offset;
}

size_t config_setting_index(const ConfigSetting *s) {
        return (size_t) (s - config_settings);
}

bool config_type_is_list(ConfigType t) {
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

void config_list_clear(ConfigType t, AnyList *l) {
        size_t sz = config_type_elem_size(t);

        for (size_t i = 0; i < l->n; i++)
                elem_free(t, (uint8_t *) l->items + i * sz);
        free(l->items);
        *l = (AnyList) {};
}

/* Moves *elem into the list (on failure the caller still owns it). */
int config_list_push(ConfigType t, AnyList *l, const void *elem) {
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
        if (config_type_is_list(s->type))
                config_list_clear(s->type, &v->list);
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
                        config_list_clear(s->type, l);
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
        ConfigSource *src = &c->sources[config_setting_index(s)];
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

int config_error_at(Diagnostics *d, const Where *w, const char *format, ...) {
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
        case CHECK_DURATION: {
                uint64_t ns;

                /* The histogram counts microseconds. */
                if (parse_duration_ns(v, &ns) < 0 || ns < 1000)
                        return "must be a duration of at least 1us (5ms, 2500ms, 1s)";
                return NULL;
        }
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
                        return config_error_at(d, w, "%s: '%s' is not a power of two", s->key, text);
                return 0;
        }
        (void) format_bound(s, s->min, lo, sizeof(lo));
        if (s->max == 0)
                return config_error_at(d, w, "%s: '%s' is out of range: must be at least %s", s->key, text, lo);
        (void) format_bound(s, s->max, hi, sizeof(hi));
        return config_error_at(d, w, "%s: '%s' is out of range: must be between %s and %s", s->key, text, lo, hi);
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
                        return config_error_at(d, w, "%s: '%s' is not a boolean (use yes or no)", s->key, text);
                ret->b = r;
                return 0;
        case CONFIG_UINT:
        case CONFIG_SIZE:
        case CONFIG_DURATION: {
                uint64_t v;

                r = s->type == CONFIG_UINT ? parse_uint64(text, &v) :
                    s->type == CONFIG_SIZE ? parse_size(text, &v) : parse_duration_ns(text, &v);
                if (r == -ERANGE)
                        return config_error_at(d, w, "%s: '%s' is too large", s->key, text);
                if (r < 0)
                        return config_error_at(d, w, "%s: '%s' is not %s", s->key, text, type_noun(s->type));
                r = check_range(s, v, text, w, d);
                if (r < 0)
                        return r;
                ret->u = v;
                return 0;
        }
        case CONFIG_FRACTION:
                r = parse_fraction(text, &ret->d);
                if (r == -ERANGE)
                        return config_error_at(d, w, "%s: '%s' is out of range: must be between 0 and 1", s->key, text);
                if (r < 0)
                        return config_error_at(d, w, "%s: '%s' is not %s", s->key, text, type_noun(s->type));
                return 0;
        case CONFIG_LEVEL:
                if (parse_level(text, &ret->level) < 0)
                        return config_error_at(d, w, "%s: '%s' is not %s", s->key, text, type_noun(s->type));
                return 0;
        case CONFIG_STRING:
                why = check_string(s->check, text);
                if (why)
                        return config_error_at(d, w, "%s: '%s': %s", s->key, text, why);
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
                        return config_error_at(d, w, "%s: unknown value '%s' (expected %s%s)", s->key, text, list,
                                        strcmp(s->names[0], "journal") == 0 ? " or none" : "");
                }
        case CONFIG_STRINGS:
                why = check_string(s->check, text);
                if (why && s->check == CHECK_UNIT && !strchr(text, '.') && !check_unit_name(strjoina_service(text)))
                        return config_error_at(d, w, "%s: '%s' is not a unit name, did you mean '%s.service'?", s->key, text, text);
                if (why)
                        return config_error_at(d, w, "%s: '%s': %s", s->key, text, why);
                *(char **) elem = strdup(text);
                return *(char **) elem ? 0 : -ENOMEM;
        case CONFIG_PIDS: {
                uint64_t v;

                /* 4194304 is PID_MAX_LIMIT, the largest pid_max the kernel allows. */
                if (parse_uint64(text, &v) < 0 || v < 1 || v > 4194304)
                        return config_error_at(d, w, "%s: '%s' is not a process ID (1 to 4194304)", s->key, text);
                *(uint32_t *) elem = (uint32_t) v;
                return 0;
        }
        case CONFIG_PORTS:
                r = parse_port_range(text, elem);
                if (r == -ERANGE)
                        return config_error_at(d, w, "%s: '%s': ports are 1 to 65535, and a range goes from low to high",
                                        s->key, text);
                if (r < 0)
                        return config_error_at(d, w, "%s: '%s' is not a port or port range (80, 8000-8100)", s->key, text);
                return 0;
        case CONFIG_CIDRS: {
                Cidr masked;
                char buf[64];

                r = parse_cidr(text, elem, &masked);
                if (r == -EADDRNOTAVAIL) {
                        (void) format_cidr(&masked, buf, sizeof(buf));
                        return config_error_at(d, w, "%s: '%s' has host bits set past the prefix; did you mean '%s'?",
                                        s->key, text, buf);
                }
                if (r == -ERANGE)
                        return config_error_at(d, w, "%s: '%s': prefix length too long for the address family", s->key, text);
                if (r < 0)
                        return config_error_at(d, w, "%s: '%s' is not an IPv4 or IPv6 address or CIDR prefix", s->key, text);
                return 0;
        }
        case CONFIG_STATUSES:
                r = parse_status_range(text, elem);
                if (r < 0)
                        return config_error_at(d, w, "%s: '%s' is not a status class (5xx), code (404) or range (500-504) "
                                        "between 100 and 599", s->key, text);
                return 0;
        case CONFIG_SAMPLING_RULES: {
                /* Text form (environment, command line): PATTERN=RATE */
                SamplingRule *rule = elem;
                const char *eq = strrchr(text, '=');
                _cleanup_(freep) char *path = NULL;

                if (!eq)
                        return config_error_at(d, w, "%s: '%s' is not a rule of the form PATTERN=RATE", s->key, text);
                path = strndup(text, (size_t) (eq - text));
                if (!path)
                        return -ENOMEM;
                why = check_string(CHECK_PATH_PATTERN, path);
                if (why)
                        return config_error_at(d, w, "%s: '%s': %s", s->key, path, why);
                r = parse_fraction(eq + 1, &rule->rate);
                if (r < 0)
                        return config_error_at(d, w, "%s: '%s' is not a fraction between 0 and 1", s->key, eq + 1);
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
        r = config_list_push(s->type, &v->list, elem);
        if (r < 0)
                elem_free(s->type, elem);
        return r;
}

/* Room for the largest list element. */
#define LIST_ELEM_MAX MAX(sizeof(SamplingRule), sizeof(Cidr))

/* Checks what can only be seen on the whole value. */
static int value_verify(const ConfigSetting *s, const ConfigValue *v, bool saw_none, const Where *w, Diagnostics *d) {
        if (s->type == CONFIG_FLAGS && saw_none && v->flags != 0)
                return config_error_at(d, w, "%s: 'none' cannot be combined with other values", s->key);
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
                return config_error_at(d, w, "%s: more than %u entries", s->key, CONFIG_LIST_MAX);
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
int config_value_from_text(const ConfigSetting *s, const char *text, const Where *w, Diagnostics *d, ConfigValue *ret) {
        ConfigValue v = {};
        bool failed = false, saw_none = false;
        int r;

        if (!config_type_is_list(s->type) && s->type != CONFIG_FLAGS)
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

Where config_where_of(const char *origin, const YamlNode *n) {
        return (Where) { .origin = origin, .line = n ? n->line : 0, .column = n ? n->column : 0 };
}

/* One sampling rule from a YAML mapping {path: PATTERN, rate: FRACTION}. */
static int sampling_rule_from_node(const ConfigSetting *s, const YamlNode *n, const char *origin, Diagnostics *d,
                                   SamplingRule *ret) {
        const YamlNode *path = NULL, *rate = NULL;
        Where w = config_where_of(origin, n);
        const char *why;
        bool failed = false;
        double v;

        if (n->type != YAML_NODE_MAPPING)
                return config_error_at(d, &w, "%s: expected a rule {path: PATTERN, rate: FRACTION}, got %s",
                                s->key, yaml_node_type_name(n));
        for (size_t i = 0; i + 1 < n->n_items; i += 2) {
                const YamlNode *k = n->items[i], *val = n->items[i + 1];
                Where kw = config_where_of(origin, k);
                const YamlNode **slot;

                if (k->type != YAML_NODE_SCALAR) {
                        (void) config_error_at(d, &kw, "%s: rule keys must be plain names", s->key);
                        failed = true;
                        continue;
                }
                slot = strcmp(k->value, "path") == 0 ? &path : strcmp(k->value, "rate") == 0 ? &rate : NULL;
                if (!slot) {
                        (void) config_error_at(d, &kw, "%s: unknown key '%s' in rule (expected path and rate)", s->key, k->value);
                        failed = true;
                        continue;
                }
                if (*slot) {
                        (void) config_error_at(d, &kw, "duplicate key '%s' (first at line %u, column %u)", k->value,
                                        (*slot)->line, (*slot)->column);
                        failed = true;
                        continue;
                }
                *slot = val;
        }
        if (!path || !rate) {
                (void) config_error_at(d, &w, "%s: rule needs both path and rate", s->key);
                return -EINVAL;
        }
        Where pw = config_where_of(origin, path), rw = config_where_of(origin, rate);
        if (path->type != YAML_NODE_SCALAR || yaml_node_is_null(path))
                return config_error_at(d, &pw, "%s: rule path must be a pattern", s->key);
        why = check_string(CHECK_PATH_PATTERN, path->value);
        if (why)
                return config_error_at(d, &pw, "%s: '%s': %s", s->key, path->value, why);
        if (rate->type != YAML_NODE_SCALAR || parse_fraction(rate->value, &v) < 0)
                return config_error_at(d, &rw, "%s: rule rate must be a fraction between 0 and 1", s->key);
        if (failed)
                return -EINVAL;
        ret->path = strdup(path->value);
        if (!ret->path)
                return -ENOMEM;
        ret->rate = v;
        return 0;
}

/* A setting from a YAML node: a scalar, or for lists a sequence (a lone scalar is a list of one). */
int config_value_from_node(const ConfigSetting *s, const YamlNode *n, const char *origin, Diagnostics *d,
                           ConfigValue *ret) {
        Where w = config_where_of(origin, n);
        ConfigValue v = {};
        bool failed = false, saw_none = false;
        int r;

        if (!config_type_is_list(s->type) && s->type != CONFIG_FLAGS) {
                if (n->type != YAML_NODE_SCALAR)
                        return config_error_at(d, &w, "%s: expected %s, got %s", s->key, type_noun(s->type),
                                        yaml_node_type_name(n));
                if (yaml_node_is_null(n) && s->type != CONFIG_STRING)
                        return config_error_at(d, &w, "%s: missing value, expected %s", s->key, type_noun(s->type));
                return parse_scalar(s, yaml_node_is_null(n) ? "" : n->value, &w, d, ret);
        }

        if (yaml_node_is_null(n)) {
                *ret = v;   /* "key:" or "key: ~" is the empty list */
                return 0;
        }
        if (n->type == YAML_NODE_MAPPING && s->type != CONFIG_SAMPLING_RULES)
                return config_error_at(d, &w, "%s: expected %s, got a mapping", s->key, type_noun(s->type));

        const YamlNode *const *items = n->type == YAML_NODE_SEQUENCE ? (const YamlNode *const *) n->items : &n;
        size_t n_items = n->type == YAML_NODE_SEQUENCE ? n->n_items : 1;

        for (size_t i = 0; i < n_items; i++) {
                const YamlNode *e = items[i];
                Where ew = config_where_of(origin, e);
                uint8_t elem[LIST_ELEM_MAX] = {};

                if (s->type == CONFIG_SAMPLING_RULES)
                        r = sampling_rule_from_node(s, e, origin, d, (SamplingRule *) elem);
                else if (e->type != YAML_NODE_SCALAR || yaml_node_is_null(e))
                        r = config_error_at(d, &ew, "%s: list entries must be values, got %s", s->key, yaml_node_type_name(e));
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

int config_assign(Config *c, const ConfigSetting *s, ConfigValue *v, const Where *w, bool append, Diagnostics *d) {
        int r;

        r = value_store(c, s, v, append);
        if (r == -E2BIG) {
                value_done(s, v);
                return config_error_at(d, w, "%s: more than %u entries", s->key, CONFIG_LIST_MAX);
        }
        if (r < 0) {
                value_done(s, v);
                return r;
        }
        return set_source(c, s, w, append);
}

