/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libyaml events to a YamlNode tree; see yaml-tree.h. Built iteratively with
 * an explicit stack, so hostile nesting cannot overflow ours.
 */

#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config/yaml-tree.h"

YamlNode *yaml_node_free(YamlNode *n) {
        if (!n)
                return NULL;
        for (size_t i = 0; i < n->n_items; i++)
                yaml_node_free(n->items[i]);
        free(n->items);
        free(n->value);
        return mfree(n);
}

bool yaml_node_is_null(const YamlNode *n) {
        if (!n)
                return true;
        if (n->type != YAML_NODE_SCALAR || !n->plain)
                return false;
        return n->value[0] == 0 || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
               strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0;
}

const char *yaml_node_type_name(const YamlNode *n) {
        if (!n || yaml_node_is_null(n))
                return "nothing";
        switch (n->type) {
        case YAML_NODE_SCALAR:
                return "a value";
        case YAML_NODE_MAPPING:
                return "a mapping";
        case YAML_NODE_SEQUENCE:
                return "a list";
        }
        return "?";
}

static int node_append(YamlNode *parent, YamlNode *child) {
        YamlNode **items;

        /* Capacity is the next power of two: grow when full, so long sequences are not quadratic. */
        if ((parent->n_items & (parent->n_items - 1)) == 0) {
                size_t cap = parent->n_items ? parent->n_items * 2 : 1;
                items = realloc(parent->items, cap * sizeof(YamlNode *));
                if (!items)
                        return -ENOMEM;
                parent->items = items;
        }
        parent->items[parent->n_items++] = child;
        return 0;
}

/* libyaml reports reader errors by byte offset only. */
static void offset_to_position(const char *buf, size_t size, size_t offset, unsigned *line, unsigned *column) {
        unsigned l = 1, c = 1;

        for (size_t i = 0; i < offset && i < size; i++) {
                if (buf[i] == '\n') {
                        l++;
                        c = 1;
                } else
                        c++;
        }
        *line = l;
        *column = c;
}

int yaml_tree_parse(const char *origin, const void *buf, size_t size, YamlNode **ret, Diagnostics *diags) {
        _cleanup_(yaml_node_freep) YamlNode *root = NULL;
        YamlNode *stack[YAML_TREE_DEPTH_MAX];
        size_t depth = 0, nodes = 0;
        unsigned documents = 0;
        bool done = false, failed = false;
        yaml_parser_t parser;
        int r = 0;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, buf, size);

        while (!done) {
                yaml_event_t event;
                YamlNode *n = NULL;

                if (!yaml_parser_parse(&parser, &event)) {
                        unsigned line, column;

                        if (parser.error == YAML_MEMORY_ERROR) {
                                r = -ENOMEM;
                                break;
                        }
                        if (parser.error == YAML_READER_ERROR)
                                offset_to_position(buf, size, parser.problem_offset, &line, &column);
                        else {
                                line = (unsigned) parser.problem_mark.line + 1;
                                column = (unsigned) parser.problem_mark.column + 1;
                        }
                        if (parser.context)
                                r = diagnostics_error(diags, origin, line, column, "YAML syntax error: %s %s",
                                                      strna(parser.problem), parser.context);
                        else
                                r = diagnostics_error(diags, origin, line, column, "YAML syntax error: %s",
                                                      strna(parser.problem));
                        r = r < 0 ? r : -EINVAL;
                        break;
                }

                unsigned line = (unsigned) event.start_mark.line + 1, column = (unsigned) event.start_mark.column + 1;

                switch (event.type) {
                case YAML_STREAM_END_EVENT:
                        done = true;
                        break;
                case YAML_DOCUMENT_START_EVENT:
                        if (++documents > 1) {
                                r = diagnostics_error(diags, origin, line, column,
                                                      "only one YAML document per file is supported");
                                r = r < 0 ? r : -EINVAL;
                                done = true;
                        }
                        break;
                case YAML_ALIAS_EVENT:
                        /* Aliases let a few bytes expand without bound, and configuration has no use for them. */
                        r = diagnostics_error(diags, origin, line, column, "YAML aliases are not supported");
                        r = r < 0 ? r : -EINVAL;
                        done = true;
                        break;
                case YAML_SCALAR_EVENT:
                case YAML_SEQUENCE_START_EVENT:
                case YAML_MAPPING_START_EVENT:
                        if (++nodes > YAML_TREE_NODES_MAX) {
                                r = diagnostics_error(diags, origin, line, column,
                                                      "too many YAML nodes (more than %u)", YAML_TREE_NODES_MAX);
                                r = r < 0 ? r : -EINVAL;
                                done = true;
                                break;
                        }
                        n = calloc(1, sizeof(YamlNode));
                        if (!n) {
                                r = -ENOMEM;
                                done = true;
                                break;
                        }
                        n->line = line;
                        n->column = column;
                        if (event.type == YAML_SCALAR_EVENT) {
                                n->type = YAML_NODE_SCALAR;
                                n->plain = event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
                                if (memchr(event.data.scalar.value, 0, event.data.scalar.length)) {
                                        (void) diagnostics_error(diags, origin, line, column,
                                                                 "NUL character in value");
                                        failed = true;
                                }
                                n->value = strndup((const char *) event.data.scalar.value, event.data.scalar.length);
                                if (!n->value) {
                                        yaml_node_free(n);
                                        r = -ENOMEM;
                                        done = true;
                                        break;
                                }
                        } else
                                n->type = event.type == YAML_MAPPING_START_EVENT ? YAML_NODE_MAPPING : YAML_NODE_SEQUENCE;

                        if (depth > 0)
                                r = node_append(stack[depth - 1], n);
                        else if (!root)
                                root = n;
                        else {
                                /* libyaml never yields two roots in one document; be safe anyway. */
                                yaml_node_free(n);
                                n = NULL;
                        }
                        if (r < 0) {
                                yaml_node_free(n);
                                done = true;
                                break;
                        }
                        if (n && n->type != YAML_NODE_SCALAR) {
                                if (depth >= YAML_TREE_DEPTH_MAX) {
                                        r = diagnostics_error(diags, origin, line, column,
                                                              "YAML nested deeper than %u levels", YAML_TREE_DEPTH_MAX);
                                        r = r < 0 ? r : -EINVAL;
                                        done = true;
                                        break;
                                }
                                stack[depth++] = n;
                        }
                        break;
                case YAML_SEQUENCE_END_EVENT:
                case YAML_MAPPING_END_EVENT:
                        if (depth > 0)
                                depth--;
                        break;
                default:
                        break;
                }
                yaml_event_delete(&event);
        }

        yaml_parser_delete(&parser);
        if (r < 0)
                return r;
        if (failed)
                return -EINVAL;
        *ret = TAKE_PTR(root);
        return 0;
}
