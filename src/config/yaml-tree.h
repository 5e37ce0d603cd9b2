/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small tree built from libyaml's event stream, each node remembering its
 * line and column, so configuration problems can point at the exact spot.
 * Only what configuration needs: scalars, mappings, sequences; aliases and
 * multiple documents are refused. Depth and node count are capped so that
 * no input can exhaust memory or stack.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/diagnostics.h"

typedef enum YamlNodeType {
        YAML_NODE_SCALAR,
        YAML_NODE_MAPPING,
        YAML_NODE_SEQUENCE,
} YamlNodeType;

typedef struct YamlNode YamlNode;
struct YamlNode {
        YamlNodeType type;
        unsigned line;                /* 1-based */
        unsigned column;              /* 1-based */
        char *value;                  /* scalar: NUL-terminated (NUL bytes are refused) */
        bool plain;                   /* scalar: unquoted (only plain scalars can be null) */
        YamlNode **items;             /* mapping: key, value, key, value...; sequence: elements */
        size_t n_items;
};

/* Nesting deeper than this is refused: configuration needs four levels. */
#define YAML_TREE_DEPTH_MAX 32u
/* Nodes per document, far above any real configuration. */
#define YAML_TREE_NODES_MAX 65536u

/*
 * Parses one document. *ret is NULL for an empty stream. Returns -EINVAL
 * with diagnostics for syntax errors (nothing returned then).
 */
int yaml_tree_parse(const char *origin, const void *buf, size_t size, YamlNode **ret, Diagnostics *diags);
YamlNode *yaml_node_free(YamlNode *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(YamlNode *, yaml_node_free);

/* "", "~", "null" (plain): YAML's null. */
bool yaml_node_is_null(const YamlNode *n);
const char *yaml_node_type_name(const YamlNode *n);
