/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A connection's systemd unit, resolved once at open; see cgroup-unit.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "capture/cgroup-unit.h"

#define UNIT_NAME_MAX 256
#define CACHE_WAYS 4u

typedef struct CacheEntry {
        uint64_t id;              /* 0: empty */
        const char *unit;         /* interned; NULL: no unit */
} CacheEntry;

static CacheEntry cache[CGROUP_UNIT_CACHE];
static uint8_t cache_next[CGROUP_UNIT_CACHE / CACHE_WAYS];   /* per set: the way replaced next */
static char *names[CGROUP_UNIT_NAMES_MAX];
static size_t n_names;

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

/* The interned copy of name; NULL when CGROUP_UNIT_NAMES_MAX names are kept already (or no memory). */
static const char *intern(const char *name) {
        for (size_t i = 0; i < n_names; i++)
                if (strcmp(names[i], name) == 0)
                        return names[i];
        if (n_names >= CGROUP_UNIT_NAMES_MAX)
                return NULL;
        names[n_names] = strdup(name);
        return names[n_names] ? names[n_names++] : NULL;
}

static CacheEntry *cache_find(uint64_t id) {
        size_t set = (size_t) ((id * UINT64_C(0x9e3779b97f4a7c15)) >> 32) % (CGROUP_UNIT_CACHE / CACHE_WAYS);

        for (size_t w = 0; w < CACHE_WAYS; w++)
                if (cache[set * CACHE_WAYS + w].id == id)
                        return &cache[set * CACHE_WAYS + w];
        return NULL;
}

static void cache_put(uint64_t id, const char *unit) {
        size_t set = (size_t) ((id * UINT64_C(0x9e3779b97f4a7c15)) >> 32) % (CGROUP_UNIT_CACHE / CACHE_WAYS);
        CacheEntry *e = &cache[set * CACHE_WAYS + cache_next[set]];

        cache_next[set] = (cache_next[set] + 1) % CACHE_WAYS;
        *e = (CacheEntry) { .id = id, .unit = unit };
}

/* The cgroup2 path of a process ("/system.slice/nginx.service") from /proc/TGID/cgroup's "0::" line. */
static int proc_cgroup_path(const char *proc, uint32_t tgid, char *buf, size_t size) {
        char path[64], line[4096];
        FILE *f;
        int r = -ENOENT;

        snprintf(path, sizeof(path), "%s/%" PRIu32 "/cgroup", proc, tgid);
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = 0;
                        r = snprintf(buf, size, "%s", line + 3) < (int) size ? 0 : -ENAMETOOLONG;
                        break;
                }
        fclose(f);
        return r;
}

/* nftw() has no user data: the walk's state, for one walk at a time (the daemon has one thread). */
static uint64_t walk_id;
static size_t walk_root_len, walk_visited, walk_max = CGROUP_UNIT_WALK_MAX;
static char walk_found[4096];

static int walk_visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) ftw;
        if (type != FTW_D)
                return FTW_CONTINUE;
        if (++walk_visited > walk_max)
                return FTW_STOP;
        if ((uint64_t) st->st_ino != walk_id)
                return FTW_CONTINUE;
        snprintf(walk_found, sizeof(walk_found), "%s", path + walk_root_len);
        return FTW_STOP;
}

/* The path of cgroup id below root by a bounded walk: 0, -ENOENT, -E2BIG when it gave up. */
static int walk_path(const char *root, uint64_t id) {
        walk_id = id;
        walk_root_len = strlen(root);
        walk_visited = 0;
        walk_found[0] = 0;
        /* FTW_PHYS: no symlinks; 16 fds at most; a cgroup that vanishes meanwhile is skipped */
        (void) nftw(root, walk_visit, 16, FTW_PHYS | FTW_MOUNT | FTW_ACTIONRETVAL);
        if (walk_found[0])
                return 0;
        return walk_visited > walk_max ? -E2BIG : -ENOENT;
}

void cgroup_unit_set_walk_max(size_t max) {
        walk_max = max ?: CGROUP_UNIT_WALK_MAX;
}

const char *cgroup_unit_resolve(const char *root, const char *proc, uint64_t id, uint32_t tgid, Stats *stats) {
        char path[4096], full[4096 + 64], unit[UNIT_NAME_MAX];
        const char *found = NULL;
        CacheEntry *e;
        struct stat st;
        bool have_path = false;

        if (id == 0)
                return NULL;
        e = cache_find(id);
        if (e)
                return e->unit;

        root = root ?: default_root();
        proc = proc ?: "/proc";
        if (!root) {
                cache_put(id, NULL);
                return NULL;
        }
        /* The process says where it is; its directory's inode must be the id the kernel gave. */
        if (tgid > 0 && proc_cgroup_path(proc, tgid, path, sizeof(path)) >= 0 &&
            snprintf(full, sizeof(full), "%s%s", root, path) < (int) sizeof(full) &&
            stat(full, &st) >= 0 && (uint64_t) st.st_ino == id) {
                have_path = true;
                if (stats)
                        stats->units_resolved++;
        } else if (walk_path(root, id) >= 0) {
                /* gone already, moved, or a thread elsewhere: the tree, bounded */
                snprintf(path, sizeof(path), "%s", walk_found);
                have_path = true;
                if (stats)
                        stats->units_walked++;
        }
        if (have_path && cgroup_path_unit(path, unit, sizeof(unit)) >= 0)
                found = intern(unit);
        /* not found, the walk gave up, or no room for another name: the connection has no unit */
        if (stats && (!have_path || (!found && cgroup_path_unit(path, unit, sizeof(unit)) >= 0)))
                stats->units_unknown++;
        cache_put(id, found);
        return found;
}

int cgroup_unit_lookup(const char *root, uint64_t id, char *buf, size_t size) {
        const char *u;

        if (!buf || size == 0)
                return -EINVAL;
        u = cgroup_unit_resolve(root, NULL, id, 0, NULL);
        if (!u)
                return -ENOENT;
        if (strlen(u) >= size)
                return -ENAMETOOLONG;
        strcpy(buf, u);
        return 0;
}

void cgroup_unit_cache_clear(void) {
        memset(cache, 0, sizeof(cache));
        memset(cache_next, 0, sizeof(cache_next));
        for (size_t i = 0; i < n_names; i++)
                free(names[i]);
        n_names = 0;
}
