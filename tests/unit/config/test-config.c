/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Configuration: the table, the five layers and their precedence, drop-in
 * hiding and masking, the environment, every kind of diagnostic with its
 * exact line and column, --cat-config, reload diffs, and that the shipped
 * conf/http-tracer.yaml and docs/configuration.md match the table.
 */

#define _GNU_SOURCE 1

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "basic/strv.h"
#include "config/configuration.h"
#include "daemon/settings.h"
#include "output/journal-writer.h"      /* JOURNAL_SOCKET_ENV */

/* --- helpers ------------------------------------------------------------------------------- */

static char *root;

static void mkdir_p(const char *path) {
        char buf[4096];

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = buf + 1; *p; p++)
                if (*p == '/') {
                        *p = 0;
                        (void) mkdir(buf, 0755);
                        *p = '/';
                }
        (void) mkdir(buf, 0755);
}

/* Writes root/rel (creating directories); returns the full path (static until the next call). */
static const char *write_file(const char *rel, const char *content) {
        static char path[4096];
        char dir[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        snprintf(dir, sizeof(dir), "%s", path);
        *strrchr(dir, '/') = 0;
        mkdir_p(dir);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
        return path;
}

static void symlink_in_root(const char *target, const char *rel) {
        char path[4096], dir[4096];

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        snprintf(dir, sizeof(dir), "%s", path);
        *strrchr(dir, '/') = 0;
        mkdir_p(dir);
        assert_int_equal(symlink(target, path), 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p);
}

static int setup(void **state) {
        char t[] = "/tmp/test-config-XXXXXX";

        assert_non_null(mkdtemp(t));
        root = strdup(t);
        return 0;
}

static int teardown(void **state) {
        (void) nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(root);
        root = NULL;
        return 0;
}

/* Loads with the temp root; returns the config or NULL, diagnostics in *d. */
static Config *load(Diagnostics *d, char **env, char **overrides, int expect) {
        ConfigLoadOptions o = { .root = root, .environment = env, .overrides = overrides };
        Config *c = NULL;
        int r;

        r = config_load(&o, &c, d);
        if (r != expect)
                diagnostics_print(d, stderr);
        assert_int_equal(r, expect);
        return c;
}

/* The diagnostics, formatted, one per line. */
static char *diags_text(const Diagnostics *d) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);

        assert_non_null(f);
        diagnostics_print(d, f);
        fclose(f);
        return buf;
}

static const char *source_of(const Config *c, const char *key) {
        static char buf[4096];
        const ConfigSetting *s = config_setting_find(key);
        char *t;

        assert_non_null(s);
        assert_int_equal(config_source_format(&c->sources[s - config_settings], &t), 0);
        snprintf(buf, sizeof(buf), "%s", t);
        free(t);
        /* Strip the temp root so expectations are readable. */
        if (root && strncmp(buf, root, strlen(root)) == 0)
                memmove(buf, buf + strlen(root), strlen(buf) - strlen(root) + 1);
        return buf;
}

/* --- the table ----------------------------------------------------------------------------- */

static void test_table_defaults_valid(void **state) {
        Config *c = NULL;

        assert_int_equal(config_new_defaults(&c), 0);
        assert_int_equal(c->log.level, LOG_INFO);
        assert_int_equal(c->capture.payload_size, 16384);
        assert_int_equal(c->capture.ring_buffer_size, 2u << 20);
        assert_int_equal(c->capture.connections_max, 16384);
        assert_int_equal(c->limits.idle_timeout_ns, 300 * NSEC_PER_SEC);
        assert_true(c->sampling.keep_errors);
        assert_true(c->redaction.enabled);
        assert_int_equal(c->redaction.headers.n, 4);
        assert_string_equal(c->redaction.headers.items[3], "Set-Cookie");
        assert_int_equal(c->redaction.query_parameters.n, 15);
        assert_string_equal(c->redaction.mask, "***");
        assert_int_equal(c->output.types, CONFIG_OUTPUT_JOURNAL);
        assert_int_equal(c->fields.priority[PRIORITY_5XX], LOG_WARNING);
        for (size_t i = 0; i < config_settings_n; i++)
                assert_string_equal(source_of(c, config_settings[i].key), "default");
        config_free(c);
}

static void test_table_shape(void **state) {
        /* Environment names are unique, keys are snake_case, and each section is one run (the writers rely on it). */
        for (size_t i = 0; i < config_settings_n; i++) {
                char *a;
                const char *k = config_settings[i].key;

                for (const char *p = k; *p; p++)
                        assert_true((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '.');
                assert_non_null(config_settings[i].description);
                assert_int_equal(config_setting_env_name(&config_settings[i], &a), 0);
                for (size_t j = i + 1; j < config_settings_n; j++) {
                        char *b;
                        assert_int_equal(config_setting_env_name(&config_settings[j], &b), 0);
                        assert_string_not_equal(a, b);
                        free(b);

                        /* If j shares i's section, everything between does too. */
                        size_t n = strrchr(k, '.') - k;
                        if (strncmp(config_settings[j].key, k, n + 1) == 0)
                                for (size_t m = i + 1; m < j; m++)
                                        assert_int_equal(strncmp(config_settings[m].key, k, n + 1), 0);
                }
                free(a);
        }
}

static char *generate(int (*fn)(FILE *)) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);

        assert_non_null(f);
        assert_int_equal(fn(f), 0);
        fclose(f);
        return buf;
}

static void test_generated_file_is_defaults(void **state) {
        /* The generated file is valid and, being all comments, changes nothing. */
        char *text = generate(config_generate);
        Diagnostics d = {};
        Config *c = NULL, *def = NULL;

        write_file("etc/http-tracer/http-tracer.yaml", text);
        c = load(&d, NULL, NULL, 0);
        assert_int_equal(d.n, 0);
        assert_int_equal(config_new_defaults(&def), 0);
        assert_int_equal(config_diff(def, c, NULL, NULL), 0);

        /* Every key is in it, commented, with its default. */
        for (size_t i = 0; i < config_settings_n; i++) {
                const char *k = strrchr(config_settings[i].key, '.') + 1;
                char needle[128];
                snprintf(needle, sizeof(needle), "#%s: ", k);
                assert_non_null(strstr(text, needle));
        }

        /* Uncommenting every key gives a valid file with the same values. */
        char *un = calloc(1, strlen(text) + 1), *q = un;
        for (const char *p = text; *p; ) {
                const char *e = strchrnul(p, '\n');
                size_t ind = strspn(p, " ");
                /* "  #key: value" -> "  key: value"; description lines ("  # ...") stay. */
                bool key = ind > 0 && p[ind] == '#' && p[ind + 1] != ' ';
                memcpy(q, p, ind);
                q += ind;
                memcpy(q, p + ind + key, (size_t) (e - p) - ind - key);
                q += (e - p) - ind - key;
                if (*e)
                        *q++ = '\n';
                p = *e ? e + 1 : e;
        }
        write_file("etc/http-tracer/http-tracer.yaml", un);
        config_free(c);
        diagnostics_done(&d);
        c = load(&d, NULL, NULL, 0);
        assert_int_equal(d.n, 0);
        assert_int_equal(config_diff(def, c, NULL, NULL), 0);
        assert_int_equal(strncmp(source_of(c, "redaction.mask"), "/etc/http-tracer/http-tracer.yaml:", 34), 0);

        free(un);
        free(text);
        config_free(c);
        config_free(def);
        diagnostics_done(&d);
}

static char *read_all(const char *path) {
        FILE *f = fopen(path, "re");
        char *buf;
        long n;

        if (!f)
                return NULL;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = calloc(1, n + 1);
        assert_int_equal(fread(buf, 1, n, f), (size_t) n);
        fclose(f);
        return buf;
}

static void test_shipped_files_match_table(void **state) {
        const char *src = getenv("HT_SOURCE_ROOT");
        char path[4096];
        char *want, *have;

        if (!src)
                skip();
        snprintf(path, sizeof(path), "%s/conf/http-tracer.yaml", src);
        want = generate(config_generate);
        have = read_all(path);
        if (!have || strcmp(want, have) != 0)
                fail_msg("%s differs from the settings table: run `ninja -C build update-config-files`", path);
        free(want);
        free(have);

        snprintf(path, sizeof(path), "%s/docs/configuration.md", src);
        want = generate(config_generate_docs);
        have = read_all(path);
        if (!have || strcmp(want, have) != 0)
                fail_msg("%s differs from the settings table: run `ninja -C build update-config-files`", path);
        free(want);
        free(have);
}

static void test_examples_valid(void **state) {
        const char *src = getenv("HT_SOURCE_ROOT");
        static const char *const examples[] = { "only-nginx-unit.yaml", "redact-more.yaml", "sample-10-percent.yaml",
                                                  "syslog-rsyslog-tcp.yaml", "json-file.yaml" };

        if (!src)
                skip();
        for (size_t i = 0; i < ELEMENTSOF(examples); i++) {
                char path[4096];
                char *text;
                Diagnostics d = {};
                Config *c;

                snprintf(path, sizeof(path), "%s/conf/examples/%s", src, examples[i]);
                text = read_all(path);
                assert_non_null(text);
                assert_int_equal(config_new_defaults(&c), 0);
                if (config_apply_yaml(c, path, text, strlen(text), &d) < 0 || d.n > 0) {
                        diagnostics_print(&d, stderr);
                        fail_msg("%s is not valid", path);
                }
                config_free(c);
                free(text);
                diagnostics_done(&d);
        }
}

/* --- layers -------------------------------------------------------------------------------- */

static void test_precedence_all_layers(void **state) {
        /* Keys A..E are set by ever more layers; each must come from the highest one that sets it. */
        char *env[] = { "HTTP_TRACER_STATS_INTERVAL=30s", "HTTP_TRACER_LIMITS_PIPELINE_MAX=9", "PATH=/bin", NULL };
        char *overrides[] = { "limits.pipeline_max=10", NULL };
        Diagnostics d = {};
        Config *c;

        write_file("etc/http-tracer/http-tracer.yaml",
                   "log:\n"
                   "  level: notice\n"
                   "capture:\n"
                   "  payload_size: 4096\n"
                   "stats:\n"
                   "  interval: 1min\n"
                   "limits:\n"
                   "  pipeline_max: 7\n"
                   "  fields_max: 100\n");
        write_file("usr/lib/http-tracer/http-tracer.yaml.d/10-vendor.yaml",
                   "capture:\n  payload_size: 8KiB\nlimits:\n  pipeline_max: 8\n  fields_max: 200\n");
        write_file("etc/http-tracer/http-tracer.yaml.d/20-admin.yaml", "limits:\n  fields_max: 300\n");

        c = load(&d, env, overrides, 0);
        assert_int_equal(d.n, 0);
        assert_int_equal(c->log.level, LOG_NOTICE);
        assert_string_equal(source_of(c, "log.level"), "/etc/http-tracer/http-tracer.yaml:2:3");
        assert_int_equal(c->capture.payload_size, 8192);
        assert_string_equal(source_of(c, "capture.payload_size"),
                            "/usr/lib/http-tracer/http-tracer.yaml.d/10-vendor.yaml:2:3");
        assert_int_equal(c->limits.fields_max, 300);
        assert_string_equal(source_of(c, "limits.fields_max"), "/etc/http-tracer/http-tracer.yaml.d/20-admin.yaml:2:3");
        assert_int_equal(c->stats.interval_ns, 30 * NSEC_PER_SEC);
        assert_string_equal(source_of(c, "stats.interval"), "environment HTTP_TRACER_STATS_INTERVAL");
        assert_int_equal(c->limits.pipeline_max, 10);
        assert_string_equal(source_of(c, "limits.pipeline_max"), "command line");
        assert_string_equal(source_of(c, "limits.head_max"), "default");

        /* The files list is in application order. */
        assert_int_equal(c->files.n, 3);
        assert_non_null(strstr(c->files.items[0], "/etc/http-tracer/http-tracer.yaml"));
        assert_non_null(strstr(c->files.items[1], "10-vendor.yaml"));
        assert_non_null(strstr(c->files.items[2], "20-admin.yaml"));
        config_free(c);
        diagnostics_done(&d);
}

static void test_config_option_replaces_main_file(void **state) {
        ConfigLoadOptions o = { .root = root };
        Diagnostics d = {};
        Config *c = NULL;
        char other[4096];

        write_file("etc/http-tracer/http-tracer.yaml", "log:\n  level: debug\n");
        snprintf(other, sizeof(other), "%s", write_file("elsewhere.yaml", "log:\n  level: err\n"));
        write_file("run/http-tracer/http-tracer.yaml.d/50-x.yaml", "limits:\n  fields_max: 99\n");
        o.config_file = other;
        assert_int_equal(config_load(&o, &c, &d), 0);
        assert_int_equal(c->log.level, LOG_ERR);
        assert_int_equal(c->limits.fields_max, 99);   /* drop-ins still apply */
        config_free(c);

        /* A named file must exist. */
        o.config_file = "/nonexistent/http-tracer.yaml";
        c = NULL;
        assert_int_equal(config_load(&o, &c, &d), -EINVAL);
        assert_null(c);
        assert_string_equal(d.items[d.n - 1].origin, "/nonexistent/http-tracer.yaml");
        diagnostics_done(&d);
}

/* The shipped main file lives under the prefix; the operator's copy in /etc hides it (systemd's model). */
static void test_main_file_shipped_and_operator(void **state) {
        Diagnostics d = {};
        Config *c;

        write_file("usr/lib/http-tracer/http-tracer.yaml", "log:\n  level: err\n");
        write_file("usr/local/lib/http-tracer/http-tracer.yaml", "log:\n  level: warning\n");
        c = load(&d, NULL, NULL, 0);
        assert_int_equal(c->log.level, LOG_WARNING);      /* /usr/local/lib before /usr/lib */
        config_free(c);

        write_file("etc/http-tracer/http-tracer.yaml", "log:\n  level: debug\n");
        c = load(&d, NULL, NULL, 0);
        assert_int_equal(c->log.level, LOG_DEBUG);        /* the operator's file, and only it */
        assert_int_equal(c->files.n, 1);
        config_free(c);
        diagnostics_done(&d);
}

static void test_dropins_order_hiding_masking(void **state) {
        Diagnostics d = {};
        Config *c;

        /* Applied in file-name order across directories: 10 (/usr/lib) < 20 (/run) < 30 (/usr/local/lib). */
        write_file("usr/lib/http-tracer/http-tracer.yaml.d/10-a.yaml", "limits:\n  fields_max: 10\n  pipeline_max: 10\n");
        write_file("run/http-tracer/http-tracer.yaml.d/20-b.yaml", "limits:\n  fields_max: 20\n");
        write_file("usr/local/lib/http-tracer/http-tracer.yaml.d/30-c.yaml", "limits:\n  conns_max: 30\n");
        /* Same name: /etc hides /run hides /usr/local/lib hides /usr/lib. */
        write_file("usr/lib/http-tracer/http-tracer.yaml.d/40-same.yaml", "log:\n  level: emerg\n");
        write_file("usr/local/lib/http-tracer/http-tracer.yaml.d/40-same.yaml", "log:\n  level: alert\n");
        write_file("run/http-tracer/http-tracer.yaml.d/40-same.yaml", "log:\n  level: crit\n");
        /* Masked by a /dev/null symlink in /etc, and by an empty file in /run. */
        write_file("usr/lib/http-tracer/http-tracer.yaml.d/50-masked.yaml", "stats:\n  interval: 1h\n");
        symlink_in_root("/dev/null", "etc/http-tracer/http-tracer.yaml.d/50-masked.yaml");
        write_file("usr/lib/http-tracer/http-tracer.yaml.d/60-emptied.yaml", "stats:\n  interval: 2h\n");
        write_file("run/http-tracer/http-tracer.yaml.d/60-emptied.yaml", "");
        /* A dangling symlink is skipped and hides nothing. */
        write_file("usr/lib/http-tracer/http-tracer.yaml.d/70-dangling.yaml", "rate_limit:\n  per_second: 70\n");
        symlink_in_root("/nonexistent", "etc/http-tracer/http-tracer.yaml.d/70-dangling.yaml");
        /* Not ours: other suffixes, hidden files, directories. */
        write_file("etc/http-tracer/http-tracer.yaml.d/80-x.conf", "garbage: [\n");
        write_file("etc/http-tracer/http-tracer.yaml.d/.90-hidden.yaml", "garbage: [\n");
        {
                char dir[4096];
                snprintf(dir, sizeof(dir), "%s/etc/http-tracer/http-tracer.yaml.d/dir.yaml", root);
                mkdir_p(dir);
        }

        c = load(&d, NULL, NULL, 0);
        assert_int_equal(c->limits.fields_max, 20);
        assert_int_equal(c->limits.pipeline_max, 10);
        assert_int_equal(c->limits.conns_max, 30);
        assert_int_equal(c->log.level, LOG_CRIT);
        assert_string_equal(source_of(c, "log.level"), "/run/http-tracer/http-tracer.yaml.d/40-same.yaml:2:3");
        assert_int_equal(c->stats.interval_ns, 300 * NSEC_PER_SEC);
        assert_string_equal(source_of(c, "stats.interval"), "default");
        assert_int_equal(c->rate_limit.per_second, 70);
        assert_int_equal(c->masked.n, 2);
        assert_non_null(strstr(c->masked.items[0], "/etc/http-tracer/http-tracer.yaml.d/50-masked.yaml"));
        assert_non_null(strstr(c->masked.items[1], "/run/http-tracer/http-tracer.yaml.d/60-emptied.yaml"));
        config_free(c);
        diagnostics_done(&d);
}

static void test_dropin_sets_only_its_keys_and_lists(void **state) {
        Diagnostics d = {};
        Config *c;

        write_file("etc/http-tracer/http-tracer.yaml",
                   "redaction:\n  headers: [A, B]\n  query_parameters: [q]\nfilter:\n  include:\n    local_ports: [80]\n");
        /* A list replaces; "key+" appends; nested and dotted keys are the same. */
        write_file("etc/http-tracer/http-tracer.yaml.d/10.yaml",
                   "redaction:\n  headers: [C]\n  query_parameters+: [r, s]\nfilter.include.local_ports+: [443]\n");
        c = load(&d, NULL, NULL, 0);
        assert_int_equal(c->redaction.headers.n, 1);
        assert_string_equal(c->redaction.headers.items[0], "C");
        assert_int_equal(c->redaction.query_parameters.n, 3);
        assert_string_equal(c->redaction.query_parameters.items[2], "s");
        assert_string_equal(source_of(c, "redaction.query_parameters"),
                            "/etc/http-tracer/http-tracer.yaml.d/10.yaml:3:3 (appended)");
        assert_int_equal(c->filter.include.local_ports.n, 2);
        assert_int_equal(c->filter.include.local_ports.items[1].first, 443);
        assert_true(c->redaction.enabled);   /* untouched by both */
        config_free(c);
        diagnostics_done(&d);
}

static void test_environment(void **state) {
        char *env[] = {
                "HTTP_TRACER_LOG_LEVEL=debug",
                "HTTP_TRACER_FILTER_INCLUDE_LOCAL_PORTS= 80, 8000-8100 ,,443",
                "HTTP_TRACER_FILTER_INCLUDE_ADDRESSES=10.0.0.0/8,fd00::/8",
                "HTTP_TRACER_SAMPLING_RULES=/health=0,/api/*=10%",
                "HTTP_TRACER_OUTPUT_TYPES=journal,json",
                "HTTP_TRACER_REDACTION_ENABLED=no",
                "HTTP_TRACER_FIELDS_PRIORITY_5XX=err",
                "HTTP_TRACER_NOT_A_SETTING=1",
                JOURNAL_SOCKET_ENV "=/run/test/journal.sock",   /* known, not a setting: no warning */
                "HTTP_TRACERX=1",
                "OTHER=1",
                NULL,
        };
        Diagnostics d = {};
        Config *c;

        c = load(&d, env, NULL, 0);
        assert_int_equal(c->log.level, LOG_DEBUG);
        assert_int_equal(c->filter.include.local_ports.n, 3);
        assert_int_equal(c->filter.include.local_ports.items[1].first, 8000);
        assert_int_equal(c->filter.include.local_ports.items[1].last, 8100);
        assert_int_equal(c->filter.include.addresses.n, 2);
        assert_int_equal(c->filter.include.addresses.items[1].prefixlen, 8);
        assert_int_equal(c->sampling.rules.n, 2);
        assert_string_equal(c->sampling.rules.items[1].path, "/api/*");
        assert_true(c->sampling.rules.items[1].rate > 0.0999 && c->sampling.rules.items[1].rate < 0.1001);
        assert_int_equal(c->output.types, CONFIG_OUTPUT_JOURNAL | CONFIG_OUTPUT_JSON);
        assert_false(c->redaction.enabled);
        assert_int_equal(c->fields.priority[PRIORITY_5XX], LOG_ERR);
        /* The unknown one is a warning, not an error; the journal socket's variable is known. */
        assert_int_equal(d.n, 1);
        assert_int_equal(d.items[0].severity, DIAGNOSTIC_WARNING);
        assert_string_equal(d.items[0].origin, "environment HTTP_TRACER_NOT_A_SETTING");
        config_free(c);
        diagnostics_done(&d);

        char *bad[] = { "HTTP_TRACER_CAPTURE_RING_BUFFER_SIZE=3MiB", NULL };
        c = load(&d, bad, NULL, -EINVAL);
        char *t = diags_text(&d);
        assert_string_equal(t, "environment HTTP_TRACER_CAPTURE_RING_BUFFER_SIZE: "
                               "capture.ring_buffer_size: '3MiB' is not a power of two\n");
        free(t);
        diagnostics_done(&d);
}

static void test_command_line(void **state) {
        char *o[] = { "redaction.headers+=X-Api-Key", "output.types=none", "log.level=7", NULL };
        Diagnostics d = {};
        Config *c;

        c = load(&d, NULL, o, 0);
        assert_int_equal(c->redaction.headers.n, 5);
        assert_string_equal(c->redaction.headers.items[4], "X-Api-Key");
        assert_int_equal(c->output.types, 0);
        assert_int_equal(c->log.level, LOG_DEBUG);
        assert_string_equal(source_of(c, "redaction.headers"), "command line (appended)");
        config_free(c);

        char *bad[] = { "log.levl=debug", "nonsense", "log.level+=debug", "output.types=none,json", NULL };
        c = load(&d, NULL, bad, -EINVAL);
        char *t = diags_text(&d);
        assert_string_equal(t,
                            "command line: unknown setting 'log.levl', did you mean 'log.level'?\n"
                            "command line: 'nonsense' is not of the form section.key=value\n"
                            "command line: log.level: only lists can be appended to with '+='\n"
                            "command line: output.types: 'none' cannot be combined with other values\n");
        free(t);
        diagnostics_done(&d);
}

/* --- diagnostics --------------------------------------------------------------------------- */

typedef struct Case {
        const char *yaml;
        const char *expect;   /* all diagnostics, "LINE:COLUMN: message" each, without the file name */
} Case;

static const Case cases[] = {
        { "log:\n  levle: debug\n",
          "2:3: unknown key 'levle' in section 'log', did you mean 'level'?\n" },
        { "captur:\n  payload_size: 1\n",
          "1:1: unknown section 'captur', did you mean 'capture'?\n" },
        { "capture:\n  level: debug\n",
          "2:3: unknown key 'level' in section 'capture', did you mean 'log.level'?\n" },
        { "frobnicate: 1\n",
          "1:1: unknown section 'frobnicate'\n" },
        { "log:\n  level: [debug]\n",
          "2:10: log.level: expected a log level (emerg, alert, crit, err, warning, notice, info, debug), got a list\n" },
        { "log:\n  level: loud\n",
          "2:10: log.level: 'loud' is not a log level (emerg, alert, crit, err, warning, notice, info, debug)\n" },
        { "log: debug\n",
          "1:6: 'log' is a section: expected a mapping of keys, got a value\n" },
        { "capture:\n  payload_size: 40000\n",
          "2:17: capture.payload_size: '40000' is out of range: must be between 256 and 32512\n" },
        { "capture:\n  ring_buffer_size: 3MiB\n",
          "2:21: capture.ring_buffer_size: '3MiB' is not a power of two\n" },
        { "capture:\n  ring_buffer_size: 16 furlongs\n",
          "2:21: capture.ring_buffer_size: '16 furlongs' is not a size (16384, 64KiB, 16MiB)\n" },
        { "capture:\n  payload_size: 99999999999999999999\n",
          "2:17: capture.payload_size: '99999999999999999999' is too large\n" },
        { "limits:\n  idle_timeout: 5 minutes please\n",
          "2:17: limits.idle_timeout: '5 minutes please' is not a duration (250ms, 30s, 5min)\n" },
        { "capture:\n  wakeup_delay: 50ms\n",
          "2:17: capture.wakeup_delay: '50ms' is out of range: must be between 1ms and 10ms\n" },
        { "sampling:\n  rate: 1.5\n",
          "2:9: sampling.rate: '1.5' is out of range: must be between 0 and 1\n" },
        { "sampling:\n  keep_errors: maybe\n",
          "2:16: sampling.keep_errors: 'maybe' is not a boolean (use yes or no)\n" },
        { "filter:\n  include:\n    addresses: [10.0.0.1/8, \"::1\", bogus, 10.0.0.0/33]\n",
          "3:17: filter.include.addresses: '10.0.0.1/8' has host bits set past the prefix; did you mean '10.0.0.0/8'?\n"
          "3:36: filter.include.addresses: 'bogus' is not an IPv4 or IPv6 address or CIDR prefix\n"
          "3:43: filter.include.addresses: '10.0.0.0/33': prefix length too long for the address family\n" },
        { "filter:\n  include:\n    units:\n      - nginx\n      - foo@.service\n      - x.timer\n",
          "4:9: filter.include.units: 'nginx' is not a unit name, did you mean 'nginx.service'?\n"
          "5:9: filter.include.units: 'foo@.service': unit name is a template: name an instance, e.g. foo@1.service\n"
          "6:9: filter.include.units: 'x.timer': unit type has no processes to trace: expected .service, .socket, "
          ".scope, .slice, .mount or .swap\n" },
        { "filter:\n  exclude:\n    paths: [\"/api/[x\", api]\n    exes: [\"/usr/bin/\\\\\"]\n",
          "3:13: filter.exclude.paths: '/api/[x': unterminated '[' in pattern\n"
          "3:24: filter.exclude.paths: 'api': path patterns start with '/' (a prefix or glob) or '*'\n"
          "4:12: filter.exclude.exes: '/usr/bin/\\': pattern ends in a lone backslash\n" },
        { "filter:\n  include:\n    local_ports: [80, 8100-8000, 0, http]\n",
          "3:23: filter.include.local_ports: '8100-8000': ports are 1 to 65535, and a range goes from low to high\n"
          "3:34: filter.include.local_ports: '0': ports are 1 to 65535, and a range goes from low to high\n"
          "3:37: filter.include.local_ports: 'http' is not a port or port range (80, 8000-8100)\n" },
        { "filter:\n  include:\n    statuses: [5xx, 6xx, 404]\n    pids: [0, 1]\n    comms: [averyveryverylongname]\n",
          "3:21: filter.include.statuses: '6xx' is not a status class (5xx), code (404) or range (500-504) between 100 "
          "and 599\n"
          "4:12: filter.include.pids: '0' is not a process ID (1 to 4194304)\n"
          "5:13: filter.include.comms: 'averyveryverylongname': process names (comm) are at most 15 characters; the "
          "kernel truncates longer ones, so this would never match\n" },
        { "filter:\n  include:\n    roles: [server, peer]\n",
          "3:21: filter.include.roles: unknown value 'peer' (expected server, client)\n" },
        { "log:\n  level: debug\ncapture:\n  payload_size: 1KiB\nlog:\n  level: info\n",
          "5:1: duplicate key 'log' (first at line 1, column 1)\n" },
        { "redaction:\n  mask: \"\"\n  headers: [\"Bad Header\"]\n",
          "2:9: redaction.mask: '': must be 1 to 64 characters\n"
          "3:13: redaction.headers: 'Bad Header': not a valid HTTP token (letters, digits and !#$%&'*+-.^_`|~ only)\n" },
        { "log:\n  level+: debug\n",
          "2:3: log.level: only lists can be appended to with '+'\n" },
        { "sampling:\n  rules:\n    - {path: /x, rat: 1}\n    - path: /y\n      rate: 2\n    - /z\n",
          "3:7: sampling.rules: rule needs both path and rate\n"
          "3:18: sampling.rules: unknown key 'rat' in rule (expected path and rate)\n"
          "5:13: sampling.rules: rule rate must be a fraction between 0 and 1\n"
          "6:7: sampling.rules: expected a rule {path: PATTERN, rate: FRACTION}, got a value\n" },
        { "log:\n  level: debug\n  bad: [\n",
          "4:1: YAML syntax error: did not find expected node content while parsing a flow node\n" },
        { "log:\n\tlevel: debug\n",
          "2:1: YAML syntax error: found character that cannot start any token while scanning for the next token\n" },
        { "a: &x 1\nb: *x\n",
          "2:4: YAML aliases are not supported\n" },
        { "log: {level: debug}\n---\nlog: {level: info}\n",
          "2:1: only one YAML document per file is supported\n" },
        { "- log\n",
          "1:1: expected a mapping of sections (log:, capture:, filter: ...), got a list\n" },
        { "output:\n  types: [none, json]\n",
          "2:10: output.types: 'none' cannot be combined with other values\n" },
        { "output:\n  types: [syslog, json]\n  syslog:\n    target: udp://[::1\n    format: RFC5424\n"
          "    facility: local8\n    severity: loud\n    message_max: 1KiB\n    queue_size: 2GiB\n",
          "4:13: output.syslog.target: 'udp://[::1': missing ']' after an IPv6 address\n"
          "5:13: output.syslog.format: 'RFC5424': expected auto, rfc5424 or rfc3164\n"
          "6:15: output.syslog.facility: 'local8': expected a facility (kern, user, mail, daemon, auth, syslog, lpr, "
          "news, uucp, cron, authpriv, ftp, local0 to local7) or 0 to 23\n"
          "7:15: output.syslog.severity: 'loud': expected entry, a level (emerg, alert, crit, err, warning, notice, "
          "info, debug) or 0 to 7\n"
          "8:18: output.syslog.message_max: '1KiB' is out of range: must be between 2KiB and 60KiB\n"
          "9:17: output.syslog.queue_size: '2GiB' is out of range: must be between 64KiB and 1GiB\n" },
        { "output:\n  syslog:\n    target: tcp://logs:99999\n",
          "3:13: output.syslog.target: 'tcp://logs:99999': port must be a number from 1 to 65535\n" },
        { "limits:\n  head_max: 1MiB\n",
          "2:3: limits.head_max (1048576) is larger than limits.conn_memory_max (262144): no head could ever be held\n" },
        { "log:\n  level: \"\\0\"\n",
          "2:10: NUL character in value\n" },
        { "metrics:\n  buckets: [5ms, 500ns]\n",
          "2:18: metrics.buckets: '500ns': must be a duration of at least 1us (5ms, 2500ms, 1s)\n" },
        { "metrics:\n  buckets: [5ms, 1ms]\n",
          "2:3: metrics.buckets: 1ms is not above 5ms (bounds are ascending)\n" },
        { "metrics:\n  enabled: yes\n  textfile_directory: \"\"\n",
          "3:3: metrics.enabled needs metrics.textfile_directory\n" },
};

static void test_diagnostics_positions(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *path = write_file("etc/http-tracer/http-tracer.yaml", cases[i].yaml);
                char *prefixed = NULL, *text;
                size_t n = 0;
                FILE *f = open_memstream(&prefixed, &n);
                Diagnostics d = {};
                Config *c = NULL;
                ConfigLoadOptions o = { .root = root, .no_dropins = true };

                /* Each expected line gets the file name in front. */
                for (const char *p = cases[i].expect; *p; ) {
                        const char *e = strchr(p, '\n');
                        fprintf(f, "%s:%.*s\n", path, (int) (e - p), p);
                        p = e + 1;
                }
                fclose(f);

                assert_int_equal(config_load(&o, &c, &d), -EINVAL);
                assert_null(c);
                text = diags_text(&d);
                if (strcmp(text, prefixed) != 0)
                        fail_msg("case %zu:\n--- expected\n%s--- got\n%s", i, prefixed, text);
                free(text);
                free(prefixed);
                diagnostics_done(&d);
        }
}

static const char *fake_format_check(const char *v) {
        return strcmp(v, "fake") == 0 || strcmp(v, "auto") == 0 ? NULL : "not fake";
}

/* The configuration layer runs whatever check the consumer registered, with the value's position. */
static void test_consumer_checks(void **state) {
        static const ConfigConsumerCheck fake[] = { { CHECK_SYSLOG_FORMAT, fake_format_check }, {} };
        static const ConfigConsumerCheck own[] = { { CHECK_SYSLOG_FACILITY, fake_format_check },
                                                   { CHECK_MASK, fake_format_check }, {} };
        const char *ok, *bad;
        Diagnostics d = {};
        Config *c = NULL;
        char *text;

        assert_true(config_check_registered(CHECK_MASK));
        assert_false(config_check_registered(CHECK_SYSLOG_FORMAT));   /* nothing registered yet */
        /* A layer's own check cannot be replaced, and then nothing of the table is registered. */
        assert_int_equal(config_register_checks(own), -EINVAL);

        assert_int_equal(config_register_checks(fake), 0);
        assert_int_equal(config_new_defaults(&c), 0);
        ok = "output:\n  syslog:\n    format: fake\n";
        bad = "output:\n  syslog:\n    format: rfc5424\n    facility: user\n";
        assert_int_equal(config_apply_yaml(c, "f.yaml", ok, strlen(ok), &d), 0);
        assert_string_equal(c->output.syslog.format, "fake");
        assert_int_equal(config_apply_yaml(c, "f.yaml", bad, strlen(bad), &d), -EINVAL);
        assert_string_equal(c->output.syslog.format, "fake");
        text = diags_text(&d);
        assert_string_equal(text, "f.yaml:3:13: output.syslog.format: 'rfc5424': not fake\n");
        free(text);
        diagnostics_done(&d);
        config_free(c);

        /* What the daemon registers (settings_register_checks()) for every other test. */
        assert_int_equal(settings_register_checks(), 0);
        for (size_t i = 0; i < config_settings_n; i++)
                assert_true(config_check_registered(config_settings[i].check));
}

static void test_diagnostics_all_files_collected(void **state) {
        /* Problems in several files are all reported, each with its own file. */
        Diagnostics d = {};

        write_file("etc/http-tracer/http-tracer.yaml", "log:\n  level: loud\n");
        write_file("run/http-tracer/http-tracer.yaml.d/10.yaml", "capture:\n  payload_size: 1\n");
        write_file("usr/lib/http-tracer/http-tracer.yaml.d/20.yaml", "x: [\n");
        (void) load(&d, NULL, NULL, -EINVAL);
        assert_int_equal(d.n, 3);
        assert_non_null(strstr(d.items[0].origin, "/etc/http-tracer/http-tracer.yaml"));
        assert_non_null(strstr(d.items[1].origin, "/run/http-tracer/http-tracer.yaml.d/10.yaml"));
        assert_int_equal(d.items[1].line, 2);
        assert_int_equal(d.items[1].column, 17);
        assert_non_null(strstr(d.items[2].origin, "/usr/lib/http-tracer/http-tracer.yaml.d/20.yaml"));
        diagnostics_done(&d);
}

static void test_diagnostics_bounded(void **state) {
        /* Thousands of bad keys: kept up to the cap, the rest counted. */
        char *buf = malloc(200000), *p = buf;
        Diagnostics d = {};
        Config *c;

        for (int i = 0; i < 5000; i++)
                p += sprintf(p, "k%d: 1\n", i);
        assert_int_equal(config_new_defaults(&c), 0);
        assert_int_equal(config_apply_yaml(c, "x.yaml", buf, (size_t) (p - buf), &d), -EINVAL);
        assert_int_equal(d.n, DIAGNOSTICS_MAX);
        assert_int_equal(d.n_errors, 5000);
        assert_int_equal(d.n_dropped, 5000 - DIAGNOSTICS_MAX);
        config_free(c);
        free(buf);
        diagnostics_done(&d);
}

static void test_empty_and_null(void **state) {
        static const char *const texts[] = { "", "\n# only a comment\n", "~\n", "log:\n", "log: ~\nfilter:\n  include:\n",
                                             "filter:\n  include:\n    pids:\n" };
        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                Diagnostics d = {};
                Config *c;

                assert_int_equal(config_new_defaults(&c), 0);
                assert_int_equal(config_apply_yaml(c, "x.yaml", texts[i], strlen(texts[i]), &d), 0);
                assert_int_equal(d.n, 0);
                config_free(c);
        }
}

/* --- output and use ------------------------------------------------------------------------ */

static void test_cat(void **state) {
        char *env[] = { "HTTP_TRACER_LOG_LEVEL=debug", NULL };
        Diagnostics d = {};
        char *buf = NULL;
        size_t n = 0;
        FILE *f;
        Config *c, *c2;

        write_file("etc/http-tracer/http-tracer.yaml", "redaction:\n  mask: \"[hidden]\"\n");
        symlink_in_root("/dev/null", "etc/http-tracer/http-tracer.yaml.d/x.yaml");
        c = load(&d, env, NULL, 0);
        f = open_memstream(&buf, &n);
        assert_int_equal(config_cat(c, f), 0);
        fclose(f);
        assert_non_null(strstr(buf, "log:\n  level: debug  # environment HTTP_TRACER_LOG_LEVEL\n"));
        assert_non_null(strstr(buf, "  mask: \"[hidden]\"  # "));
        if (!strstr(buf, "/etc/http-tracer/http-tracer.yaml:2:3\n"))
                fail_msg("%s", buf);
        assert_non_null(strstr(buf, "# Masked drop-ins:\n#   "));
        assert_non_null(strstr(buf, "  payload_size: 16KiB  # default\n"));

        /* The merged output reads back as the same configuration. */
        assert_int_equal(config_new_defaults(&c2), 0);
        assert_int_equal(config_apply_yaml(c2, "cat.yaml", buf, n, &d), 0);
        assert_int_equal(config_diff(c, c2, NULL, NULL), 0);
        config_free(c2);
        free(buf);
        config_free(c);
        diagnostics_done(&d);
}

static void test_diff_restart(void **state) {
        Config *a, *b;
        char **changed = NULL, **restart = NULL;
        Diagnostics d = {};

        assert_int_equal(config_new_defaults(&a), 0);
        assert_int_equal(config_new_defaults(&b), 0);
        assert_int_equal(config_diff(a, b, &changed, &restart), 0);
        assert_null(changed[0]);
        assert_null(restart[0]);
        strv_free(changed);
        strv_free(restart);

        assert_int_equal(config_apply_assignment(b, "capture.ring_buffer_size=32MiB", "test", &d), 0);
        assert_int_equal(config_apply_assignment(b, "log.level=debug", "test", &d), 0);
        assert_int_equal(config_apply_assignment(b, "filter.include.addresses=10.0.0.0/8", "test", &d), 0);
        assert_int_equal(config_diff(a, b, &changed, &restart), 3);
        assert_string_equal(changed[0], "log.level");
        assert_string_equal(changed[1], "capture.ring_buffer_size");
        assert_string_equal(changed[2], "filter.include.addresses");
        assert_null(changed[3]);
        assert_string_equal(restart[0], "capture.ring_buffer_size");
        assert_null(restart[1]);
        strv_free(changed);
        strv_free(restart);
        config_free(a);
        config_free(b);
        diagnostics_done(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_consumer_checks),
                cmocka_unit_test(test_table_defaults_valid),
                cmocka_unit_test(test_table_shape),
                cmocka_unit_test_setup_teardown(test_generated_file_is_defaults, setup, teardown),
                cmocka_unit_test(test_shipped_files_match_table),
                cmocka_unit_test(test_examples_valid),
                cmocka_unit_test_setup_teardown(test_precedence_all_layers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_config_option_replaces_main_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_main_file_shipped_and_operator, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dropins_order_hiding_masking, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dropin_sets_only_its_keys_and_lists, setup, teardown),
                cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
                cmocka_unit_test_setup_teardown(test_command_line, setup, teardown),
                cmocka_unit_test_setup_teardown(test_diagnostics_positions, setup, teardown),
                cmocka_unit_test_setup_teardown(test_diagnostics_all_files_collected, setup, teardown),
                cmocka_unit_test(test_diagnostics_bounded),
                cmocka_unit_test(test_empty_and_null),
                cmocka_unit_test_setup_teardown(test_cat, setup, teardown),
                cmocka_unit_test(test_diff_restart),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
