/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A small open-addressing hash map from uint64_t keys to pointers, for the
 * connection table (by connection id, and by tgid/fd). Linear probing with
 * backward-shift deletion: no tombstones, so lookups stay short under churn.
 * Not thread-safe; all users live on the one event loop.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct HashMap HashMap;

HashMap *hashmap_new(void);
HashMap *hashmap_free(HashMap *h);

/* 0 on success, -EEXIST if the key is present, -ENOMEM. */
int hashmap_put(HashMap *h, uint64_t key, void *value);
void *hashmap_get(const HashMap *h, uint64_t key);
/* Returns the removed value, or NULL. */
void *hashmap_remove(HashMap *h, uint64_t key);
size_t hashmap_size(const HashMap *h);
/* Bytes allocated for the table itself. */
size_t hashmap_memory(const HashMap *h);
/* hashmap_memory() of an empty map. */
size_t hashmap_memory_empty(void);
/*
 * At most this many bytes of the table per item beyond an empty map's: it
 * grows at 70 % load and shrinks below 1/8, so it never holds more than 8
 * buckets per item (the connection table counts this against its cap).
 */
size_t hashmap_memory_per_item_max(void);
