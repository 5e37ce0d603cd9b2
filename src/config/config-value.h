/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the configuration layer: one setting's value from its text or its
 * YAML node, checked (type, range, the setting's ConfigCheck) and stored with
 * where it came from. config.c applies whole layers with these; nothing
 * outside src/config/ includes this header.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/configuration.h"
#include "config/diagnostics.h"
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

/* Index of s in config_settings[] (and in Config.sources). */
size_t config_setting_index(const ConfigSetting *s);
bool config_type_is_list(ConfigType t);
/* Frees every element and the array; the list is empty after. */
void config_list_clear(ConfigType t, AnyList *l);
/* Moves *elem into the list (on failure the caller still owns it); -E2BIG past CONFIG_LIST_MAX. */
int config_list_push(ConfigType t, AnyList *l, const void *elem);

/* Adds an error diagnostic at w. Returns -EINVAL, or -ENOMEM. */
int config_error_at(Diagnostics *d, const Where *w, const char *format, ...) _printf_(3, 4);
Where config_where_of(const char *origin, const YamlNode *n);

/*
 * The value of s from text (lists comma-separated: environment, command line,
 * defaults) or from a YAML node (a scalar; for lists a sequence, a lone
 * scalar being a list of one). Every problem is a diagnostic; -EINVAL then,
 * and nothing is returned.
 */
int config_value_from_text(const ConfigSetting *s, const char *text, const Where *w, Diagnostics *d, ConfigValue *ret);
int config_value_from_node(const ConfigSetting *s, const YamlNode *n, const char *origin, Diagnostics *d,
                           ConfigValue *ret);
/* Stores v (consumed, also on failure) as the value of s in c, from w; append extends a list. */
int config_assign(Config *c, const ConfigSetting *s, ConfigValue *v, const Where *w, bool append, Diagnostics *d);
