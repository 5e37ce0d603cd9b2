/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading the configuration: applying YAML trees (keys, sections, typos,
 * duplicates), the environment and command-line assignments on top of the
 * defaults, and checking the result. See configuration.h for the layers;
 * one value is parsed in config-value.c, the table is in config-table.c,
 * the writers (--generate-config, docs, --cat-config) in config-output.c
 * and the comparison for reloads in config-diff.c.
 *
 * Every problem becomes a diagnostic and loading carries on, so that one run
 * of --validate-config shows all of them. A value that fails to parse leaves
 * the previous layer's value in place.
 */

#define _GNU_SOURCE 1  /* asprintf */

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/strv.h"
#include "config/conf-files.h"
#include "config/config-value.h"

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
                return config_error_at(d, w, "unknown key");
        if (!suggest(prefix, name, s, sizeof(s)))
                return prefix ? config_error_at(d, w, "unknown key '%s' in section '%s'", name, prefix)
                              : config_error_at(d, w, "unknown section '%s'", name);
        if (strchr(s, '.'))
                return config_error_at(d, w, "unknown key '%s'%s%s%s, did you mean '%s'?", name,
                                prefix ? " in section '" : "", prefix ?: "", prefix ? "'" : "", s);
        return prefix ? config_error_at(d, w, "unknown key '%s' in section '%s', did you mean '%s'?", name, prefix, s)
                      : config_error_at(d, w, "unknown section '%s', did you mean '%s'?", name, s);
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
                Where w = config_where_of(origin, refs[i].key);
                int r = config_error_at(d, &w, "duplicate key '%s' (first at line %u, column %u)", refs[i].key->value,
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
                Where kw = config_where_of(origin, k);
                _cleanup_(freep) char *name = NULL, *full = NULL;
                const ConfigSetting *s;
                bool append = false;
                size_t len;

                if (skip[i / 2])
                        continue;
                if (k->type != YAML_NODE_SCALAR || yaml_node_is_null(k)) {
                        r = config_error_at(d, &kw, "keys must be plain names, got %s", yaml_node_type_name(k));
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

                        if (append && !config_type_is_list(s->type) && s->type != CONFIG_FLAGS) {
                                r = config_error_at(d, &kw, "%s: only lists can be appended to with '+'", s->key);
                                goto next;
                        }
                        r = config_value_from_node(s, v, origin, d, &val);
                        if (r >= 0)
                                r = config_assign(c, s, &val, &kw, append, d);
                } else if (is_section(full)) {
                        Where vw = config_where_of(origin, v);

                        if (append)
                                r = config_error_at(d, &kw, "'%s' is a section; '+' applies to list keys only", full);
                        else if (yaml_node_is_null(v))
                                r = 0;  /* an empty section, as in the generated file */
                        else if (v->type != YAML_NODE_MAPPING)
                                r = config_error_at(d, &vw, "'%s' is a section: expected a mapping of keys, got %s", full,
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
                Where w = config_where_of(origin, root);
                return config_error_at(d, &w, "expected a mapping of sections (log:, capture:, filter: ...), got %s",
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
                return config_error_at(d, &w, "'%s' is not of the form section.key=value", assignment);
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
                                return config_error_at(d, &w, "unknown setting '%s', did you mean '%s'?", key, sug);
                }
                return config_error_at(d, &w, "unknown setting '%s'", key);
        }
        if (append && !config_type_is_list(s->type) && s->type != CONFIG_FLAGS)
                return config_error_at(d, &w, "%s: only lists can be appended to with '+='", s->key);
        r = config_value_from_text(s, eq + 1, &w, d, &v);
        if (r < 0)
                return r;
        return config_assign(c, s, &v, &w, append, d);
}

/* --- Layers ---------------------------------------------------------------------------------- */

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < config_settings_n; i++) {
                const ConfigSetting *s = &config_settings[i];
                void *f = config_field(c, s);

                if (config_type_is_list(s->type))
                        config_list_clear(s->type, f);
                else if (s->type == CONFIG_STRING)
                        free(*(char **) f);
                if (c->sources)
                        free(c->sources[i].origin);
        }
        free(c->sources);
        config_list_clear(CONFIG_STRINGS, (AnyList *) &c->files);
        config_list_clear(CONFIG_STRINGS, (AnyList *) &c->masked);
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

                r = config_value_from_text(s, s->default_value, &w, &d, &v);
                if (r >= 0)
                        r = config_assign(c, s, &v, &w, false, &d);
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
        r = config_list_push(CONFIG_STRINGS, (AnyList *) l, &copy);
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

/*
 * Our variables that are not settings: read where they are used, for tests
 * and experts (docs/configuration.md). Not warned about. Each name is also
 * defined beside its use; test-config checks the two agree.
 */
const char *const config_env_other[] = {
        "HTTP_TRACER_JOURNAL_SOCKET",   /* journald's socket (output/journal-writer.h, JOURNAL_SOCKET_ENV) */
        NULL,
};

static bool env_is_other(const char *name) {
        for (const char *const *o = config_env_other; *o; o++)
                if (strcmp(*o, name) == 0)
                        return true;
        return false;
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
                if (!s && env_is_other(name))
                        continue;
                if (!s) {
                        /* Others may share our prefix (a wrapper's own variables): warn, do not fail. */
                        r = diagnostics_warning(d, origin, 0, 0, "not a known setting, ignoring");
                        if (r < 0)
                                return r;
                        continue;
                }

                Where w = { .origin = origin };
                ConfigValue v = {};
                r = config_value_from_text(s, eq + 1, &w, d, &v);
                if (r >= 0)
                        r = config_assign(c, s, &v, &w, false, d);
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
        (s = config_setting_find(key), (Where) { .origin = c->sources[config_setting_index(s)].origin, \
                                                 .line = c->sources[config_setting_index(s)].line,    \
                                                 .column = c->sources[config_setting_index(s)].column })

        if (c->limits.head_max > c->limits.conn_memory_max) {
                Where w = SRC_WHERE("limits.head_max");
                ret = config_error_at(d, &w, "limits.head_max (%" PRIu64 ") is larger than limits.conn_memory_max (%" PRIu64
                               "): no head could ever be held", c->limits.head_max, c->limits.conn_memory_max);
        }
        if (c->limits.conn_memory_max > c->limits.global_memory_max) {
                Where w = SRC_WHERE("limits.conn_memory_max");
                ret = config_error_at(d, &w, "limits.conn_memory_max (%" PRIu64 ") is larger than limits.global_memory_max (%"
                               PRIu64 ")", c->limits.conn_memory_max, c->limits.global_memory_max);
        }
        if ((c->filter.include.roles & c->filter.exclude.roles) != 0) {
                Where w = SRC_WHERE("filter.exclude.roles");
                ret = config_error_at(d, &w, "filter.exclude.roles excludes a role that filter.include.roles includes");
        }
        if (c->rate_limit.per_second == 0 && c->rate_limit.burst > 0) {
                Where w = SRC_WHERE("rate_limit.burst");
                int r = diagnostics_warning(d, w.origin, w.line, w.column,
                                            "rate_limit.burst has no effect without rate_limit.per_second, ignoring");
                if (r < 0)
                        return r;
        }
        if (c->metrics.enabled && !c->metrics.textfile_directory[0]) {
                Where w = SRC_WHERE("metrics.textfile_directory");
                ret = config_error_at(d, &w, "metrics.enabled needs metrics.textfile_directory");
        }
        if (c->metrics.routes.n > CONFIG_METRICS_ROUTES_MAX) {
                Where w = SRC_WHERE("metrics.routes");
                ret = config_error_at(d, &w, "metrics.routes: %zu templates, at most %u", c->metrics.routes.n,
                                      CONFIG_METRICS_ROUTES_MAX);
        }
        if (c->metrics.buckets.n == 0 || c->metrics.buckets.n > CONFIG_METRICS_BUCKETS_MAX) {
                Where w = SRC_WHERE("metrics.buckets");
                ret = config_error_at(d, &w, "metrics.buckets: %zu bounds, expected 1 to %u", c->metrics.buckets.n,
                                      CONFIG_METRICS_BUCKETS_MAX);
        }
        for (size_t i = 1; i < c->metrics.buckets.n; i++) {
                uint64_t a = 0, b = 0;

                (void) parse_duration_ns(c->metrics.buckets.items[i - 1], &a);
                (void) parse_duration_ns(c->metrics.buckets.items[i], &b);
                if (b <= a) {
                        Where w = SRC_WHERE("metrics.buckets");
                        ret = config_error_at(d, &w, "metrics.buckets: %s is not above %s (bounds are ascending)",
                                              c->metrics.buckets.items[i], c->metrics.buckets.items[i - 1]);
                        break;
                }
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
        /* no file of the operator's: the first shipped one (the operator's /etc copy hides it) */
        for (const char *const *dir = dirs; !opts->config_file && main_file && *dir; dir++) {
                _cleanup_(freep) char *p = NULL, *f = NULL;

                p = path_join_root(opts->root, *dir);
                if (!p || asprintf(&f, "%s/%s", p, CONFIG_MAIN_NAME) < 0)
                        f = NULL;
                if (!f) {
                        main_file = mfree(main_file);
                        break;
                }
                if (access(f, F_OK) == 0) {
                        free(main_file);
                        main_file = TAKE_PTR(f);
                        break;
                }
        }
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

