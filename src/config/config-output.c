/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writers derived from the settings table: the commented default file
 * (--generate-config, conf/http-tracer.yaml), docs/configuration.md, and the
 * merged result with sources (--cat-config). Because all three come from
 * config_settings[], they cannot disagree with what the loader accepts.
 */

#define _GNU_SOURCE 1  /* asprintf */

#include <inttypes.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "config/configuration.h"

static const char *const level_names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

/* True when s can be written as a plain YAML scalar in flow and block context without changing meaning. */
static bool yaml_plain_ok(const char *s) {
        static const char *const reserved[] = { "null", "Null", "NULL", "~", "true", "false", "yes", "no",
                                                "on", "off", "True", "False", "Yes", "No", "On", "Off" };
        if (!*s || strchr("-?:,[]{}#&*!|>'\"%@` ", s[0]))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (strcmp(s, reserved[i]) == 0)
                        return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f || strchr(",[]{}#", *p) || (*p == ':' && (p[1] == ' ' || !p[1])))
                        return false;
        return s[strlen(s) - 1] != ' ';
}

static void put_scalar(FILE *f, const char *s, bool yaml) {
        if (!yaml || yaml_plain_ok(s)) {
                fputs(s, f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(f, "\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\x%02x", *p);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

static void put_element(FILE *f, ConfigType t, const void *e, bool yaml) {
        char buf[128];

        switch (t) {
        case CONFIG_STRINGS:
                put_scalar(f, *(char *const *) e, yaml);
                break;
        case CONFIG_PIDS:
                fprintf(f, "%" PRIu32, *(const uint32_t *) e);
                break;
        case CONFIG_PORTS: {
                const PortRange *p = e;
                if (p->first == p->last)
                        fprintf(f, "%u", p->first);
                else
                        fprintf(f, "%u-%u", p->first, p->last);
                break;
        }
        case CONFIG_CIDRS: {
                const Cidr *c = e;
                if (format_cidr(c, buf, sizeof(buf)) < 0)
                        break;
                /* A host prefix reads better as the address alone; parse_cidr accepts both. */
                if (c->prefixlen == (c->family == AF_INET ? 32 : 128))
                        *strrchr(buf, '/') = 0;
                put_scalar(f, buf, yaml);
                break;
        }
        case CONFIG_STATUSES: {
                const StatusRange *s = e;
                if (s->first % 100 == 0 && s->last == s->first + 99)
                        fprintf(f, "%uxx", s->first / 100);
                else if (s->first == s->last)
                        fprintf(f, "%u", s->first);
                else
                        fprintf(f, "%u-%u", s->first, s->last);
                break;
        }
        case CONFIG_SAMPLING_RULES: {
                const SamplingRule *r = e;
                (void) format_decimal(r->rate, buf, sizeof(buf));
                if (yaml) {
                        fputs("{path: ", f);
                        put_scalar(f, r->path, true);
                        fprintf(f, ", rate: %s}", buf);
                } else
                        fprintf(f, "%s=%s", r->path, buf);
                break;
        }
        default:
                break;
        }
}

/* Writes the value of s in c: YAML flow form (yaml) or the environment's text form. */
static void put_value(FILE *f, const Config *c, const ConfigSetting *s, bool yaml) {
        const void *v = config_field(c, s);
        char buf[64];

        switch (s->type) {
        case CONFIG_BOOL:
                fputs(*(const bool *) v ? "yes" : "no", f);
                return;
        case CONFIG_UINT:
                fprintf(f, "%" PRIu64, *(const uint64_t *) v);
                return;
        case CONFIG_SIZE:
                (void) format_size(*(const uint64_t *) v, buf, sizeof(buf));
                fputs(buf, f);
                return;
        case CONFIG_DURATION:
                (void) format_duration_ns(*(const uint64_t *) v, buf, sizeof(buf));
                fputs(buf, f);
                return;
        case CONFIG_FRACTION:
                (void) format_decimal(*(const double *) v, buf, sizeof(buf));
                fputs(buf, f);
                return;
        case CONFIG_LEVEL: {
                int l = *(const int *) v;
                fputs(l >= 0 && l < (int) ELEMENTSOF(level_names) ? level_names[l] : "?", f);
                return;
        }
        case CONFIG_STRING:
                put_scalar(f, *(char *const *) v ?: "", yaml);
                return;
        case CONFIG_FLAGS: {
                unsigned bits = *(const unsigned *) v;
                bool first = true;

                if (yaml)
                        fputc('[', f);
                if (bits == 0 && strcmp(s->names[0], "journal") == 0)
                        fputs("none", f);
                for (size_t i = 0; s->names[i]; i++)
                        if (bits & (1u << i)) {
                                fprintf(f, "%s%s", first ? "" : yaml ? ", " : ",", s->names[i]);
                                first = false;
                        }
                if (yaml)
                        fputc(']', f);
                return;
        }
        default: {
                const StringList *l = v;  /* every list shares this layout */
                size_t sz = config_type_elem_size(s->type);

                if (yaml)
                        fputc('[', f);
                for (size_t i = 0; i < l->n; i++) {
                        if (i > 0)
                                fputs(yaml ? ", " : ",", f);
                        put_element(f, s->type, (const uint8_t *) l->items + i * sz, yaml);
                }
                if (yaml)
                        fputc(']', f);
                return;
        }
        }
}

int config_format_value(const Config *c, const ConfigSetting *s, char **ret) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);

        if (!f)
                return -ENOMEM;
        put_value(f, c, s, false);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

/* What values a setting takes, for humans. */
static void put_values_help(FILE *f, const ConfigSetting *s) {
        char lo[32], hi[32];

        switch (s->type) {
        case CONFIG_BOOL:
                fputs("yes or no", f);
                break;
        case CONFIG_UINT:
                fprintf(f, "a number, %" PRIu64 " to %" PRIu64, s->min, s->max);
                break;
        case CONFIG_SIZE:
                (void) format_size(s->min, lo, sizeof(lo));
                (void) format_size(s->max, hi, sizeof(hi));
                fprintf(f, "a size in bytes (K, M, G suffixes), %s to %s%s", lo, hi,
                        s->flags & CONFIG_POWER_OF_TWO ? ", a power of two" : "");
                break;
        case CONFIG_DURATION:
                (void) format_duration_ns(s->min, lo, sizeof(lo));
                (void) format_duration_ns(s->max, hi, sizeof(hi));
                fprintf(f, "a duration (ms, s, min, h), %s to %s", lo, hi);
                break;
        case CONFIG_FRACTION:
                fputs("0 to 1, or a percentage", f);
                break;
        case CONFIG_LEVEL:
                fputs("emerg, alert, crit, err, warning, notice, info, debug, or 0 to 7", f);
                break;
        case CONFIG_STRING:
                fputs(s->check == CHECK_ABSOLUTE_PATH ? "an absolute path, or empty" :
                      s->check == CHECK_MASK ? "1 to 64 printable characters" :
                      s->check == CHECK_SYSLOG_TARGET ? "/PATH, unix:/PATH, udp://HOST[:PORT], tcp://HOST[:PORT] (port 514 by default)" :
                      s->check == CHECK_SYSLOG_FORMAT ? "auto, rfc5424 or rfc3164" :
                      s->check == CHECK_SYSLOG_FACILITY ? "kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, local0 to local7, or 0 to 23" :
                      s->check == CHECK_SYSLOG_SEVERITY ? "entry, emerg, alert, crit, err, warning, notice, info, debug, or 0 to 7" :
                      "a string", f);
                break;
        case CONFIG_FLAGS:
                fputs("a list of: ", f);
                for (size_t i = 0; s->names[i]; i++)
                        fprintf(f, "%s%s", i ? ", " : "", s->names[i]);
                if (strcmp(s->names[0], "journal") == 0)
                        fputs("; or none", f);
                break;
        case CONFIG_STRINGS: {
                static const char *const what[] = {
                        [CHECK_NONE] = "strings",
                        [CHECK_COMM] = "process names of at most 15 characters",
                        [CHECK_EXE] = "absolute path globs",
                        [CHECK_UNIT] = "unit names (.service, .scope, .slice, .socket, .mount, .swap)",
                        [CHECK_CGROUP] = "absolute cgroup paths",
                        [CHECK_METHOD] = "HTTP methods",
                        [CHECK_PATH_PATTERN] = "path prefixes or globs",
                        [CHECK_HEADER_NAME] = "header names",
                        [CHECK_QUERY_NAME] = "parameter names",
                        [CHECK_ABSOLUTE_PATH] = "absolute paths",
                        [CHECK_MASK] = "strings",
                        [CHECK_DURATION] = "durations (5ms, 2500ms, 1s)",
                        [CHECK_ROUTE_TEMPLATE] = "route templates (/api/users/*, /static/**)",
                };
                fprintf(f, "a list of %s", s->check < ELEMENTSOF(what) && what[s->check] ? what[s->check] : "strings");
                break;
        }
        case CONFIG_PIDS:
                fputs("a list of process IDs", f);
                break;
        case CONFIG_PORTS:
                fputs("a list of ports (1 to 65535) or ranges (8000-8100)", f);
                break;
        case CONFIG_CIDRS:
                fputs("a list of IPv4/IPv6 addresses or CIDR prefixes", f);
                break;
        case CONFIG_STATUSES:
                fputs("a list of classes (5xx), codes (404) or ranges (500-504)", f);
                break;
        case CONFIG_SAMPLING_RULES:
                fputs("a list of {path: PATTERN, rate: FRACTION}", f);
                break;
        default:
                break;
        }
}

/* Length of the section part of a key ("filter.include" in "filter.include.pids"). */
static size_t section_len(const char *key) {
        const char *dot = strrchr(key, '.');
        return dot ? (size_t) (dot - key) : 0;
}

static unsigned count_sections(const char *key) {
        unsigned k = 0;
        for (const char *p = key; *p; p++)
                k += *p == '.';
        return k;
}

/* Number of leading section components key and prev share ("filter.include.x" and "filter.exclude.y": 1). */
static unsigned common_sections(const char *prev, const char *key) {
        size_t n = section_len(key), pn = section_len(prev);
        unsigned k = 0;
        size_t i = 0;

        for (;;) {
                size_t a = strcspn(key + i, "."), b = strcspn(prev + i, ".");
                if (i + a > n || i + b > pn || a != b || strncmp(key + i, prev + i, a) != 0)
                        return k;
                k++;
                i += a + 1;
        }
}

/*
 * Opens the sections of key that prev (the key written before, or NULL) did
 * not share, as nested YAML mappings. Returns the indentation depth of key.
 */
static unsigned open_sections(FILE *f, const char *prev, const char *key) {
        size_t n = section_len(key), i = 0;
        unsigned k = prev ? common_sections(prev, key) : 0, depth = 0;

        if (prev && k < count_sections(key))
                fputc('\n', f);  /* a blank line before a new section */
        while (i < n) {
                size_t len = strcspn(key + i, ".");
                if (depth >= k)
                        fprintf(f, "%*s%.*s:\n", (int) (2 * depth), "", (int) len, key + i);
                depth++;
                i += len + 1;
        }
        return depth;
}

int config_generate(FILE *f) {
        _cleanup_(config_freep) Config *c = NULL;
        const char *prev = NULL;
        int r;

        r = config_new_defaults(&c);
        if (r < 0)
                return r;

        fputs("# http-tracer configuration: every setting, its default, meaning and range.\n"
              "# Generated by `http-tracer --generate-config` from the table in the source;\n"
              "# docs/configuration.md says more.\n"
              "#\n"
              "# Every setting is commented out, so this file changes nothing. To change one,\n"
              "# remove the '#' in front of it and edit the value; leave the section lines\n"
              "# (log:, capture: ...) as they are, in a copy at /etc/http-tracer/http-tracer.yaml\n"
              "# (it hides the shipped one; installs never touch /etc). Or put only what you\n"
              "# change into a drop-in, e.g. /etc/http-tracer/http-tracer.yaml.d/50-local.yaml.\n"
              "#\n"
              "# Precedence, lowest first: built-in defaults; this file (or --config FILE);\n"
              "# drop-ins *.yaml in http-tracer.yaml.d/ under /usr/lib/http-tracer,\n"
              "# /usr/local/lib/http-tracer, /run/http-tracer and /etc/http-tracer, applied in\n"
              "# file-name order (the same name in /etc hides one in /run, and so on; a symlink\n"
              "# to /dev/null or an empty file masks); environment variables\n"
              "# HTTP_TRACER_<SECTION>_<KEY>; command-line options. A list replaces the one\n"
              "# before it; write `key+:` to append instead. `http-tracer --cat-config` shows\n"
              "# the result and where each value came from.\n", f);

        for (size_t i = 0; i < config_settings_n; i++) {
                const ConfigSetting *s = &config_settings[i];
                unsigned depth = open_sections(f, prev, s->key);
                int ind = (int) (2 * depth);

                fprintf(f, "%*s# %s\n%*s# Values: ", ind, "", s->description, ind, "");
                put_values_help(f, s);
                fputs(".", f);
                if (s->flags & CONFIG_RESTART)
                        fputs(" Changing it needs a restart.", f);
                fprintf(f, "\n%*s#%s: ", ind, "", s->key + section_len(s->key) + 1);
                put_value(f, c, s, true);
                fputs("\n", f);
                if (i + 1 < config_settings_n &&
                    count_sections(config_settings[i + 1].key) == count_sections(s->key) &&
                    common_sections(s->key, config_settings[i + 1].key) == count_sections(s->key))
                        fputc('\n', f);  /* between keys of one section; open_sections() does it between sections */
                prev = s->key;
        }
        return fflush(f) == 0 ? 0 : -EIO;
}

static void put_md_cell(FILE *f, const char *s) {
        for (; *s; s++) {
                if (*s == '|')
                        fputs("\\|", f);
                else
                        fputc(*s, f);
        }
}

int config_generate_docs(FILE *f) {
        _cleanup_(config_freep) Config *c = NULL;
        int r;

        r = config_new_defaults(&c);
        if (r < 0)
                return r;

        fputs("# Configuration\n"
              "\n"
              "<!-- Generated from src/config/config-table.c by `ninja -C build update-config-files`; do not edit.\n"
              "     tests/unit/config/test-config.c fails when this file and the table disagree. -->\n"
              "\n"
              "http-tracer reads YAML. Keys are snake_case inside sections (`log:`, `capture:` ...);\n"
              "a dotted key such as `filter.include.units:` is the same as the nested form.\n"
              "\n"
              "## Where settings come from\n"
              "\n"
              "Lowest precedence first; each layer overrides only the keys it names:\n"
              "\n"
              "1. Built-in defaults (the tables below).\n"
              "2. The main file: the first `http-tracer.yaml` in `/etc/http-tracer/`, `/run/http-tracer/`,\n"
              "   `/usr/local/lib/http-tracer/`, `/usr/lib/http-tracer/` (the operator's copy in `/etc` hides\n"
              "   the shipped one under the prefix, which `meson install` writes; nothing is installed in\n"
              "   `/etc`), or the file given with `--config FILE` (which must exist). The shipped file lists\n"
              "   every setting commented out.\n"
              "3. Drop-ins: `*.yaml` in `http-tracer.yaml.d/` under `/usr/lib/http-tracer/`,\n"
              "   `/usr/local/lib/http-tracer/`, `/run/http-tracer/` and `/etc/http-tracer/`, with systemd's\n"
              "   rules: files from all four directories are applied in file-name order; a file with the same\n"
              "   name in an earlier directory of the list `/etc`, `/run`, `/usr/local/lib`, `/usr/lib` hides the\n"
              "   later ones; a symlink to `/dev/null` (or an empty file) of that name masks it. Use a numeric\n"
              "   prefix (`50-local.yaml`) to order them. Drop-ins apply with `--config FILE` too.\n"
              "4. Environment variables `HTTP_TRACER_<SECTION>_<KEY>` (upper case, dots as `_`), e.g.\n"
              "   `HTTP_TRACER_LOG_LEVEL=debug`; lists are comma-separated\n"
              "   (`HTTP_TRACER_FILTER_INCLUDE_LOCAL_PORTS=80,8000-8100`), sampling rules as `PATTERN=RATE`.\n"
              "   Unknown `HTTP_TRACER_` variables are reported as warnings and ignored; one variable with the\n"
              "   prefix is not a setting and is known (no warning): `HTTP_TRACER_JOURNAL_SOCKET=PATH`, the\n"
              "   journald socket the journal output sends to instead of `/run/systemd/journal/socket` (for\n"
              "   tests and experts: a private journald, a journald of another namespace).\n"
              "5. Command-line options (`section.key=value`, the same text form as the environment).\n"
              "\n"
              "A list replaces the list of the layers below. To add to it instead, write the key with a\n"
              "trailing `+`: `headers+: [X-Api-Key]` in YAML, `redaction.headers+=X-Api-Key` on the command\n"
              "line.\n"
              "\n"
              "`http-tracer --validate-config` checks the merged set and prints every problem as\n"
              "`FILE:LINE:COLUMN: message`; `http-tracer --cat-config` prints the merged result with the\n"
              "source of each value; `http-tracer --generate-config` prints the commented default file.\n"
              "\n"
              "SIGHUP reloads: a configuration with errors is refused as a whole and the running one kept.\n"
              "Settings marked *restart* only take effect when the daemon restarts; a reload that changes\n"
              "them says so in the log.\n"
              "\n"
              "## Filters\n"
              "\n"
              "Within one list any entry matches. For `filter.include`, every non-empty list must match\n"
              "(an empty list matches everything); for `filter.exclude`, a match in any list excludes.\n"
              "PIDs, units, cgroups, ports, addresses and roles are enforced in the kernel, so filtered\n"
              "traffic is never copied; process names, executables, methods, paths and statuses are applied\n"
              "by the daemon. A unit or cgroup includes its sub-cgroups. `addresses` is the peer's address.\n"
              "A path pattern without `*`, `?` or `[` is a prefix matched per segment (`/api` matches `/api`\n"
              "and `/api/users` but not `/apix`); otherwise it is a glob over the whole path, where `*` also\n"
              "matches `/`. The query string is never part of the path.\n"
              "\n"
              "Executables are named by the kernel when a connection is first seen (`OBJECT_EXE`), so a\n"
              "service running as another user (nginx's workers) and a client that has already exited are\n"
              "known too. The path is the executable file's (`/usr/bin/python3.11`, not the\n"
              "`/usr/bin/python3` symlink), within its mount. Only when the kernel could not name it whole\n"
              "(more than 5 components) is `/proc/PID/exe` read, which the capability-less daemon may not\n"
              "see for another user's process: such an executable is unknown, fails an `exes` include list\n"
              "and never matches an `exes` exclude list; the daemon warns once.\n"
              "Kernel filters are decided once per connection, when it is first seen, with the role\n"
              "checked when the first message tells it; an IPv4 peer of a dual-stack socket\n"
              "(`::ffff:a.b.c.d`) is matched as IPv4. A unit is found by name in the cgroup v2 tree (the\n"
              "shallowest match); one that does not exist yet matches nothing until it appears, and a\n"
              "restarted one is followed to its new cgroup, both within a second. PIDs are those of the\n"
              "daemon's PID namespace. On reload the kernel switches to the new filter at once and every\n"
              "connection is decided again on its next syscall: one being traced that is now excluded is\n"
              "finished (its completed exchanges are logged, a request still waiting for its response is\n"
              "logged without one) and nothing more of it is copied; one that becomes included is traced\n"
              "from its next request on.\n"
              "\n"
              "## Sampling and rate limit\n"
              "\n"
              "Filters apply first, then sampling (the first matching `sampling.rules` entry, else\n"
              "`sampling.rate`; 5xx responses are kept when `sampling.keep_errors` is on; parse errors are\n"
              "never sampled out), then the rate limit. Each exchange is counted once, under the first\n"
              "stage that drops it: `exchanges_filtered`, `exchanges_sampled_out` or `exchanges_rate_limited`\n"
              "in `http-tracer status --json` and in the statistics. Exchanges refused by the rate limit are\n"
              "reported every `rate_limit.summary_interval` in a summary entry (MESSAGE_ID\n"
              "`087dbf698cfc445a8defe71b8b00d0ef`, see journal-fields.md) whose `HTTP_TRACER_RATE_LIMITED`\n"
              "values add up exactly to the number refused; the last one is written when the daemon stops.\n"
              "A reload keeps the bucket's tokens and the counts not yet reported.\n"
              "\n"
              "## Redaction\n"
              "\n"
              "On by default. Values of the named headers are replaced by the mask; values of the named query\n"
              "parameters are replaced in the request target, and in Referer and Location values. Parameter\n"
              "names match case-insensitively after percent-decoding (`%74oken` is `token`), also as the base\n"
              "or a bracketed part of `token[]` / `user[password]`. Every repetition is masked. `;` separates\n"
              "parameters as well as `&`, and a masked value extends to the next `&`; a `?` inside the query\n"
              "or the fragment starts parameters again (`?next=/x?token=s`, `#/route?token=s`). Empty values\n"
              "stay empty. Values of headers (Cookie, Authorization ...) are masked whole.\n", f);

        size_t cur = SIZE_MAX;
        const char *cur_key = NULL;
        for (size_t i = 0; i < config_settings_n; i++) {
                const ConfigSetting *s = &config_settings[i];
                size_t n = section_len(s->key);
                _cleanup_(freep) char *env = NULL;

                if (!cur_key || n != cur || strncmp(s->key, cur_key, n) != 0) {
                        fprintf(f, "\n## `%.*s`\n\n", (int) n, s->key);
                        fputs("| Key | Default | Values | Meaning |\n|---|---|---|---|\n", f);
                        cur = n;
                        cur_key = s->key;
                }
                r = config_setting_env_name(s, &env);
                if (r < 0)
                        return r;
                fprintf(f, "| `%s`<br>`%s` | `", s->key + n + 1, env);
                {
                        _cleanup_(freep) char *v = NULL;
                        r = config_format_value(c, s, &v);
                        if (r < 0)
                                return r;
                        put_md_cell(f, v);
                }
                fputs("` | ", f);
                {
                        char *buf = NULL;
                        size_t len = 0;
                        FILE *m = open_memstream(&buf, &len);
                        if (!m)
                                return -ENOMEM;
                        put_values_help(m, s);
                        fclose(m);
                        put_md_cell(f, buf ?: "");
                        free(buf);
                }
                fputs(" | ", f);
                put_md_cell(f, s->description);
                if (s->flags & CONFIG_RESTART)
                        fputs(" *Restart.*", f);
                fputs(" |\n", f);
        }
        return fflush(f) == 0 ? 0 : -EIO;
}

int config_cat(const Config *c, FILE *f) {
        const char *prev = NULL;

        fputs("# Merged configuration; the comment after each value says where it came from.\n", f);
        if (c->files.n > 0) {
                fputs("# Files applied, in order:\n", f);
                for (size_t i = 0; i < c->files.n; i++)
                        fprintf(f, "#   %s\n", c->files.items[i]);
        } else
                fputs("# No configuration files were found.\n", f);
        if (c->masked.n > 0) {
                fputs("# Masked drop-ins:\n", f);
                for (size_t i = 0; i < c->masked.n; i++)
                        fprintf(f, "#   %s\n", c->masked.items[i]);
        }

        for (size_t i = 0; i < config_settings_n; i++) {
                const ConfigSetting *s = &config_settings[i];
                _cleanup_(freep) char *src = NULL;
                unsigned depth;
                int r;

                depth = open_sections(f, prev, s->key);
                r = config_source_format(&c->sources[i], &src);
                if (r < 0)
                        return r;
                fprintf(f, "%*s%s: ", (int) (2 * depth), "", s->key + section_len(s->key) + 1);
                put_value(f, c, s, true);
                fprintf(f, "  # %s\n", src);
                prev = s->key;
        }
        return fflush(f) == 0 ? 0 : -EIO;
}
