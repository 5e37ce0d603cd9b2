/* SPDX-License-Identifier: LGPL-2.1-or-later */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "output/cgroup-unit.h"

#define UNIT_NAME_MAX 256

typedef struct CacheEntry {
        uint64_t id;
        bool found;
        char unit[UNIT_NAME_MAX];
} CacheEntry;

static CacheEntry cache[CGROUP_UNIT_CACHE];
static size_t cache_next;

static bool has_suffix(const char *s, size_t n, const char *suffix) {
        size_t k = strlen(suffix);

        return n > k && memcmp(s + n - k, suffix, k) == 0;
}

int cgroup_path_unit(const char *path, char *buf, size_t size) {
        static const char *const kinds[] = { ".service", ".scope", ".socket", ".mount", ".swap" };

        if (!path || !buf || size == 0)
                return -EINVAL;
        for (const char *p = path; *p;) {
                size_t n;

                p += strspn(p, "/");
                n = strcspn(p, "/");
                if (n == 0)
                        break;
                if (!has_suffix(p, n, ".slice")) {
                        for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
                                if (has_suffix(p, n, kinds[i])) {
                                        if (n >= size)
                                                return -ENAMETOOLONG;
                                        memcpy(buf, p, n);
                                        buf[n] = 0;
                                        return 0;
                                }
                        return -ENOENT;
                }
                p += n;
        }
        return -ENOENT;
}

static const char *default_root(void) {
        static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
        struct statfs fs;

        for (size_t i = 0; i < 2; i++)
                if (statfs(roots[i], &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
                        return roots[i];
        return NULL;
}

/* nftw() has no user data: the walk's state, for one walk at a time (the daemon has one thread). */
static uint64_t walk_id;
static size_t walk_root_len;
static char walk_found[4096];

static int walk_visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) ftw;
        if (type != FTW_D || (uint64_t) st->st_ino != walk_id)
                return 0;
        snprintf(walk_found, sizeof(walk_found), "%s", path + walk_root_len);
        return 1;
}

int cgroup_unit_lookup(const char *root, uint64_t id, char *buf, size_t size) {
        CacheEntry *e;
        int r;

        if (!buf || size == 0)
                return -EINVAL;
        if (id == 0)
                return -ENOENT;
        for (size_t i = 0; i < CGROUP_UNIT_CACHE; i++)
                if (cache[i].id == id) {
                        if (!cache[i].found)
                                return -ENOENT;
                        if (strlen(cache[i].unit) >= size)
                                return -ENAMETOOLONG;
                        strcpy(buf, cache[i].unit);
                        return 0;
                }

        e = &cache[cache_next];
        cache_next = (cache_next + 1) % CGROUP_UNIT_CACHE;
        *e = (CacheEntry) { .id = id };

        root = root ?: default_root();
        if (!root)
                return -ENOENT;
        walk_id = id;
        walk_root_len = strlen(root);
        walk_found[0] = 0;
        /* FTW_PHYS: no symlinks; 16 fds at most; a cgroup that vanishes meanwhile is skipped */
        if (nftw(root, walk_visit, 16, FTW_PHYS | FTW_MOUNT) != 1)
                return -ENOENT;
        r = cgroup_path_unit(walk_found, e->unit, sizeof(e->unit));
        if (r < 0)
                return -ENOENT;
        e->found = true;
        if (strlen(e->unit) >= size)
                return -ENAMETOOLONG;
        strcpy(buf, e->unit);
        return 0;
}

void cgroup_unit_cache_clear(void) {
        memset(cache, 0, sizeof(cache));
        cache_next = 0;
}
