/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's configuration: what can be set, the merged result of every
 * layer, and where each value came from.
 *
 * Layers, lowest to highest precedence: built-in defaults (config-table.c),
 * the main file, drop-ins (conf-files.h: systemd's conf.d rules), the
 * environment (HTTP_TRACER_<SECTION>_<KEY>) and command-line overrides
 * ("section.key=value"). Every setting is described once, in the table in
 * config-table.c; the defaults, --generate-config, docs/configuration.md and
 * the environment names are all derived from it.
 *
 * This module never logs: problems come back as Diagnostics.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "basic/macro.h"
#include "basic/parse-util.h"
#include "config/diagnostics.h"

/* Lists of values; all share the { items, n } layout, which config.c relies on. */
typedef struct StringList {
        char **items;
        size_t n;
} StringList;

typedef struct PidList {
        uint32_t *items;
        size_t n;
} PidList;

typedef struct PortRangeList {
        PortRange *items;
        size_t n;
} PortRangeList;

typedef struct CidrList {
        Cidr *items;
        size_t n;
} CidrList;

typedef struct StatusRangeList {
        StatusRange *items;
        size_t n;
} StatusRangeList;

typedef struct SamplingRule {
        char *path;                   /* path prefix or glob, as in filter paths */
        double rate;                  /* 0..1 */
} SamplingRule;

typedef struct SamplingRuleList {
        SamplingRule *items;
        size_t n;
} SamplingRuleList;

/* Bits of FilterSet.roles: bit (role - 1) for enum ht_role. */
enum {
        FILTER_ROLE_SERVER = 1u << 0,
        FILTER_ROLE_CLIENT = 1u << 1,
};

/* Bits of Config.output.types; none set means "none". */
enum {
        CONFIG_OUTPUT_JOURNAL = 1u << 0,
        CONFIG_OUTPUT_JSON    = 1u << 1,
        CONFIG_OUTPUT_SYSLOG  = 1u << 2,
};

/*
 * One side of the filter. Within a list any entry matches (OR); for include,
 * every non-empty list must match (AND); for exclude, a match in any list
 * excludes. See filter.h for how each is enforced.
 */
typedef struct FilterSet {
        PidList pids;
        StringList comms;             /* exact, <= 15 characters (the kernel's comm) */
        StringList exes;              /* absolute path globs */
        StringList units;             /* systemd unit names; the daemon resolves them to cgroups */
        StringList cgroups;           /* cgroup v2 paths relative to the hierarchy root */
        PortRangeList local_ports;
        PortRangeList remote_ports;
        CidrList addresses;           /* the peer's address */
        unsigned roles;               /* FILTER_ROLE_* */
        StringList methods;
        StringList paths;             /* prefix (segment-wise) or glob */
        StatusRangeList statuses;
} FilterSet;

/* Where a value came from: a file position, "environment NAME", "command line" or "default". */
typedef struct ConfigSource {
        char *origin;
        unsigned line;                /* 1-based; 0 when the origin has no lines */
        unsigned column;
        bool appended;                /* a list extended with key+ rather than replaced */
} ConfigSource;

/*
 * The largest capture.payload_size: the kernel's per-CPU scratch buffer
 * (HT_PAYLOAD_CAP in the kernel ABI, which only capture/ reads; it asserts
 * that the two agree).
 */
#define CONFIG_PAYLOAD_SIZE_MAX 32512u

/* Entries per list setting at most: bounds the kernel filter maps (filter.h) and our memory. */
#define CONFIG_LIST_MAX 4096u

/* metrics.routes entries at most (= ROUTE_TEMPLATES_MAX, select/route-fold.h, which asserts it). */
#define CONFIG_METRICS_ROUTES_MAX 256u
/* metrics.buckets entries at most: each is a series per route. */
#define CONFIG_METRICS_BUCKETS_MAX 32u

/* Index into Config.fields.priority: one entry per kind of traffic entry. */
typedef enum PriorityClass {
        PRIORITY_1XX,
        PRIORITY_2XX,
        PRIORITY_3XX,
        PRIORITY_4XX,
        PRIORITY_5XX,
        PRIORITY_NO_RESPONSE,
        PRIORITY_UNCORRELATED,
        PRIORITY_PARSE_ERROR,
        PRIORITY_GRPC_OK,             /* gRPC calls: by grpc-status, instead of by the HTTP status (always 200) */
        PRIORITY_GRPC_CLIENT_ERROR,   /* the caller's errors: CANCELLED, INVALID_ARGUMENT, NOT_FOUND... */
        PRIORITY_GRPC_SERVER_ERROR,   /* UNKNOWN, DEADLINE_EXCEEDED, INTERNAL, UNAVAILABLE, DATA_LOSS */
        _PRIORITY_CLASS_MAX,
} PriorityClass;

typedef struct Config {
        struct {
                int level;                    /* LOG_* */
        } log;
        struct {
                uint64_t payload_size;        /* bytes per record, <= CONFIG_PAYLOAD_SIZE_MAX */
                uint64_t ring_buffer_size;    /* bytes, a power of two */
                uint64_t connections_max;     /* kernel connection map entries */
                uint64_t wakeup_delay_ns;     /* longest a record waits in the ring buffer */
        } capture;
        struct {
                bool enabled;                 /* attach the TLS source (OpenSSL uprobes) at start */
                bool follow_new_libraries;    /* rescan for library files that appear later (keeps CAP_SYS_ADMIN) */
        } tls;
        struct {
                uint64_t head_max;
                uint64_t fields_max;
                uint64_t pipeline_max;
                uint64_t conn_memory_max;
                uint64_t global_memory_max;
                uint64_t conns_max;
                uint64_t idle_timeout_ns;
                /* HTTP/2's own (protocols/http2/limits.h) */
                uint64_t http2_streams_max;
                uint64_t http2_header_block_max;
                uint64_t http2_continuations_max;
                uint64_t http2_header_list_max;
                uint64_t http2_hpack_memory_max;
        } limits;
        struct {
                FilterSet include;
                FilterSet exclude;
        } filter;
        struct {
                double rate;
                SamplingRuleList rules;       /* first match wins */
                bool keep_errors;
        } sampling;
        struct {
                uint64_t per_second;          /* 0: no limit */
                uint64_t burst;               /* 0: same as per_second */
                uint64_t summary_interval_ns;
        } rate_limit;
        struct {
                bool enabled;
                StringList headers;
                StringList query_parameters;
                char *mask;
        } redaction;
        struct {
                StringList request_headers;
                StringList response_headers;
                bool user_agent;
                bool referer;
                bool content_type;
                bool body_sizes;
                int priority[_PRIORITY_CLASS_MAX];   /* LOG_* per PriorityClass */
        } fields;
        struct {
                unsigned types;               /* CONFIG_OUTPUT_* */
                char *json_path;
                struct {
                        char *target;         /* syslog_target_parse() */
                        char *format;         /* auto, rfc5424, rfc3164 */
                        char *facility;       /* name or 0-23 */
                        char *severity;       /* "entry", a level name or 0-7 */
                        uint64_t message_max; /* bytes */
                        uint64_t queue_size;  /* bytes */
                } syslog;
        } output;
        struct {
                uint64_t interval_ns;         /* 0: no periodic statistics */
        } stats;
        struct {
                bool enabled;                 /* write the node_exporter textfile */
                char *textfile_directory;
                uint64_t interval_ns;         /* how often the textfile is written */
                StringList routes;            /* route templates (select/route-fold.h), first match wins */
                StringList buckets;           /* histogram bounds: durations, ascending */
                uint64_t services_max;        /* (unit, role) rows */
                uint64_t routes_max;          /* heuristic routes per row */
        } metrics;

        /* Where each setting's value came from, indexed like config_settings[]. */
        ConfigSource *sources;
        /* Files that were read, in the order they were applied; and drop-ins that were masked. */
        StringList files;
        StringList masked;
} Config;

/* --- The table --------------------------------------------------------------------------- */

typedef enum ConfigType {
        CONFIG_BOOL,
        CONFIG_UINT,
        CONFIG_SIZE,
        CONFIG_DURATION,
        CONFIG_FRACTION,
        CONFIG_LEVEL,                 /* syslog level name or 0-7 */
        CONFIG_STRING,
        CONFIG_FLAGS,                 /* a set of names, stored as bits */
        CONFIG_STRINGS,
        CONFIG_PIDS,
        CONFIG_PORTS,
        CONFIG_CIDRS,
        CONFIG_STATUSES,
        CONFIG_SAMPLING_RULES,
        _CONFIG_TYPE_MAX,
} ConfigType;

/*
 * What a string, or each element of a list of strings, must look like. The
 * checks before _CHECK_CONSUMER_FIRST are the configuration layer's own.
 * The others belong to the module that uses the setting (what a syslog
 * target or a redacted parameter name may be is the output's and the
 * redactor's business, not this layer's): that module registers a function
 * for each with config_register_checks(). Until one is registered, values
 * pass unchecked at load; the consumer still refuses them when it is built.
 * The daemon registers them all before it loads anything (daemon/settings.c).
 */
typedef enum ConfigCheck {
        CHECK_NONE,
        CHECK_COMM,
        CHECK_EXE,
        CHECK_UNIT,
        CHECK_CGROUP,
        CHECK_METHOD,
        CHECK_PATH_PATTERN,
        CHECK_HEADER_NAME,
        CHECK_ABSOLUTE_PATH,
        CHECK_MASK,
        CHECK_DURATION,
        _CHECK_CONSUMER_FIRST,
        CHECK_QUERY_NAME = _CHECK_CONSUMER_FIRST,  /* select/redact.c */
        CHECK_SYSLOG_TARGET,                       /* output/output.c, and the three below */
        CHECK_SYSLOG_FORMAT,
        CHECK_SYSLOG_FACILITY,
        CHECK_SYSLOG_SEVERITY,
        CHECK_ROUTE_TEMPLATE,                      /* select/route-fold.c */
        _CONFIG_CHECK_MAX,
} ConfigCheck;

/*
 * A consumer's check of one value: NULL when it is acceptable, else why not
 * as static text, which ends the diagnostic "KEY: 'VALUE': WHY".
 */
typedef const char *(*ConfigCheckFn)(const char *value);

typedef struct ConfigConsumerCheck {
        ConfigCheck check;            /* one of _CHECK_CONSUMER_FIRST and after */
        ConfigCheckFn fn;
} ConfigConsumerCheck;

/*
 * Registers the checks of @table (ended by an entry whose fn is NULL) for
 * every later load, replacing an earlier function for the same check.
 * Returns 0, or -EINVAL (registering nothing) when an entry names a check
 * of the configuration layer's own.
 */
int config_register_checks(const ConfigConsumerCheck *table);
/* Whether a function is registered for @check (always true for the layer's own checks). */
bool config_check_registered(ConfigCheck check);

enum {
        CONFIG_RESTART      = 1u << 0,  /* a reload cannot apply it: the daemon must restart */
        CONFIG_POWER_OF_TWO = 1u << 1,
};

typedef struct ConfigSetting {
        const char *key;              /* "section.key", snake_case */
        ConfigType type;
        size_t offset;                /* into Config */
        const char *default_value;    /* in the text form the environment uses (lists comma-separated) */
        uint64_t min, max;            /* integer kinds; max 0 means no upper bound */
        unsigned flags;               /* CONFIG_RESTART, CONFIG_POWER_OF_TWO */
        ConfigCheck check;            /* what list elements / strings must look like */
        const char *const *names;     /* CONFIG_FLAGS: name of bit i, NULL-terminated */
        const char *description;      /* one line: what it does, for humans */
} ConfigSetting;

extern const ConfigSetting config_settings[];
extern const size_t config_settings_n;

const ConfigSetting *config_setting_find(const char *key);
/* "HTTP_TRACER_FILTER_INCLUDE_LOCAL_PORTS" for "filter.include.local_ports". */
int config_setting_env_name(const ConfigSetting *s, char **ret);

/* --- Loading ----------------------------------------------------------------------------- */

/* Directories searched for drop-ins, highest precedence first (systemd's order). */
#define CONFIG_DROPIN_DIRS "/etc/http-tracer", "/run/http-tracer", "/usr/local/lib/http-tracer", "/usr/lib/http-tracer"
/*
 * The main file: the first http-tracer.yaml found in CONFIG_DROPIN_DIRS, as
 * systemd does for its own files: the operator's copy in /etc hides the
 * shipped one under the prefix (meson installs it in PREFIX/lib/http-tracer,
 * never in /etc). CONFIG_MAIN_FILE is where the operator's goes.
 */
#define CONFIG_MAIN_NAME "http-tracer.yaml"
#define CONFIG_MAIN_FILE "/etc/http-tracer/" CONFIG_MAIN_NAME
#define CONFIG_DROPIN_DIR_NAME "http-tracer.yaml.d"
#define CONFIG_ENV_PREFIX "HTTP_TRACER_"
/* Variables with our prefix that are not settings (HTTP_TRACER_JOURNAL_SOCKET): known, not warned about. NULL-terminated. */
extern const char *const config_env_other[];
/* Largest configuration file read: far above any real one; bounds memory and time on garbage. */
#define CONFIG_FILE_SIZE_MAX (1024u * 1024u)

typedef struct ConfigLoadOptions {
        const char *root;             /* prefix for every standard path (tests); NULL or "/" for the real ones */
        const char *config_file;      /* --config FILE: replaces the main file (must exist); NULL for the default */
        bool no_dropins;              /* skip drop-ins */
        char *const *environment;     /* "NAME=value" strings (environ); NULL: no environment layer */
        char *const *overrides;       /* "section.key=value" from the command line, in order */
} ConfigLoadOptions;

/*
 * Reads every layer into a new Config. Returns 0 and the config when it is
 * valid; -EINVAL when any error was found (all of them are in diags, and
 * nothing is returned); other negative errno for failures unrelated to the
 * content (-ENOMEM). Warnings may be present either way.
 */
int config_load(const ConfigLoadOptions *opts, Config **ret, Diagnostics *diags);

/* Bytes of one element of a list-valued setting; 0 for scalar types. */
size_t config_type_elem_size(ConfigType t);

/* A config holding the built-in defaults only. */
int config_new_defaults(Config **ret);
Config *config_free(Config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(Config *, config_free);

/*
 * Applies one YAML document to c, as a file of the given name would be
 * (used by config_load and by the fuzzer). Returns -EINVAL when the text
 * had problems; what could be applied has been applied.
 */
int config_apply_yaml(Config *c, const char *origin, const void *buf, size_t size, Diagnostics *diags);

/* Applies "section.key=value" (or "section.key+=value" for lists), as from the given origin. */
int config_apply_assignment(Config *c, const char *assignment, const char *origin, Diagnostics *diags);

/* Checks that relate settings to each other (e.g. output json needs output.json_path). */
int config_verify(const Config *c, Diagnostics *diags);

/* --- Output ------------------------------------------------------------------------------ */

/* A complete, commented default file: every key, its default, meaning and range. */
int config_generate(FILE *f);
/* docs/configuration.md */
int config_generate_docs(FILE *f);
/* The merged result as YAML, each key followed by a comment naming its source. */
int config_cat(const Config *c, FILE *f);
/* The value of one setting in the text form of the environment (lists comma-separated). */
int config_format_value(const Config *c, const ConfigSetting *s, char **ret);
/* "FILE:LINE:COLUMN", "environment NAME", "command line" or "default". */
int config_source_format(const ConfigSource *src, char **ret);
/* Where setting s is stored in c. */
void *config_field(const Config *c, const ConfigSetting *s);

/* --- Use --------------------------------------------------------------------------------- */

/*
 * Compares two configs. Returns the number of settings that differ and, in
 * ret_changed / ret_restart (either may be NULL), NULL-terminated lists of
 * their keys: all changed keys, and those of them that need a restart.
 */
int config_diff(const Config *old, const Config *new, char ***ret_changed, char ***ret_restart);

