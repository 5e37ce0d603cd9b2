/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel half of the filters: compiled from the configuration into the
 * arrays and bitmaps that bpf-object.c copies into the BPF maps; see
 * kernel-filter.h. It lives in capture/ because its roles are the kernel's
 * (bit 1 << role of struct ht_conn).
 */

#define _GNU_SOURCE 1  /* asprintf */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "capture/kernel-filter.h"
#include "bpf/abi.h"

KernelFilter *kernel_filter_free(KernelFilter *f) {
        if (!f)
                return NULL;
        free(f->pids);
        for (size_t i = 0; i < f->n_cgroups; i++) {
                free(f->cgroups[i].unit);
                free(f->cgroups[i].path);
        }
        free(f->cgroups);
        for (int h = 0; h < 2; h++) {
                free(f->addr4[h]);
                free(f->addr6[h]);
        }
        return mfree(f);
}

static int pid_cmp(const void *a, const void *b) {
        const KernelFilterPid *x = a, *y = b;
        return (x->pid > y->pid) - (x->pid < y->pid);
}

static int add_pids(KernelFilter *f, const PidList *l, uint8_t flag) {
        KernelFilterPid *p;

        if (l->n == 0)
                return 0;
        p = realloc(f->pids, (f->n_pids + l->n) * sizeof(KernelFilterPid));
        if (!p)
                return -ENOMEM;
        f->pids = p;
        for (size_t i = 0; i < l->n; i++)
                f->pids[f->n_pids++] = (KernelFilterPid) { .pid = l->items[i], .flags = flag };
        return 0;
}

/* Sorts and merges duplicates (a PID both included and excluded carries both flags). */
static void pids_normalize(KernelFilter *f) {
        size_t k = 0;

        if (f->n_pids == 0)
                return;
        qsort(f->pids, f->n_pids, sizeof(KernelFilterPid), pid_cmp);
        for (size_t i = 1; i < f->n_pids; i++) {
                if (f->pids[i].pid == f->pids[k].pid)
                        f->pids[k].flags |= f->pids[i].flags;
                else
                        f->pids[++k] = f->pids[i];
        }
        f->n_pids = k + 1;
}

static int add_cgroups(KernelFilter *f, const StringList *l, bool units, uint8_t flag) {
        KernelFilterCgroup *c;

        if (l->n == 0)
                return 0;
        c = realloc(f->cgroups, (f->n_cgroups + l->n) * sizeof(KernelFilterCgroup));
        if (!c)
                return -ENOMEM;
        f->cgroups = c;
        for (size_t i = 0; i < l->n; i++) {
                char *s = strdup(l->items[i]);
                if (!s)
                        return -ENOMEM;
                f->cgroups[f->n_cgroups++] = (KernelFilterCgroup) {
                        .unit = units ? s : NULL,
                        .path = units ? NULL : s,
                        .flags = flag,
                };
        }
        return 0;
}

static void set_ports(uint64_t bits[KFILTER_PORT_WORDS], const PortRangeList *l) {
        for (size_t i = 0; i < l->n; i++)
                for (unsigned p = l->items[i].first; p <= l->items[i].last; p++)
                        bits[p / 64] |= UINT64_C(1) << (p % 64);
}

static int add_prefixes(KernelFilter *f, const CidrList *l, int half) {
        size_t n4 = 0, n6 = 0;

        for (size_t i = 0; i < l->n; i++) {
                if (l->items[i].family == AF_INET)
                        n4++;
                else
                        n6++;
        }
        f->addr4[half] = calloc(n4 + 1, sizeof(KernelFilterPrefix));
        f->addr6[half] = calloc(n6 + 1, sizeof(KernelFilterPrefix));
        if (!f->addr4[half] || !f->addr6[half])
                return -ENOMEM;
        for (size_t i = 0; i < l->n; i++) {
                const Cidr *c = &l->items[i];
                KernelFilterPrefix *p = c->family == AF_INET ? &f->addr4[half][f->n_addr4[half]++]
                                                             : &f->addr6[half][f->n_addr6[half]++];
                p->prefixlen = c->prefixlen;
                memcpy(p->addr, c->addr, sizeof(p->addr));
        }
        return 0;
}

static uint8_t role_bits(unsigned roles) {
        return (uint8_t) (((roles & FILTER_ROLE_SERVER) ? 1u << HT_ROLE_SERVER : 0) |
                          ((roles & FILTER_ROLE_CLIENT) ? 1u << HT_ROLE_CLIENT : 0));
}

int kernel_filter_compile(const Config *c, KernelFilter **ret) {
        _cleanup_(kernel_filter_freep) KernelFilter *f = NULL;
        const FilterSet *sets[2] = { &c->filter.include, &c->filter.exclude };
        static const uint8_t flags[2] = { KFILTER_FLAG_INCLUDE, KFILTER_FLAG_EXCLUDE };
        int r;

        f = calloc(1, sizeof(KernelFilter));
        if (!f)
                return -ENOMEM;
        for (int h = 0; h < 2; h++) {
                const FilterSet *s = sets[h];

                r = add_pids(f, &s->pids, flags[h]);
                if (r < 0)
                        return r;
                r = add_cgroups(f, &s->units, true, flags[h]);
                if (r < 0)
                        return r;
                r = add_cgroups(f, &s->cgroups, false, flags[h]);
                if (r < 0)
                        return r;
                set_ports(f->local_ports[h], &s->local_ports);
                set_ports(f->remote_ports[h], &s->remote_ports);
                r = add_prefixes(f, &s->addresses, h);
                if (r < 0)
                        return r;
                f->roles[h] = role_bits(s->roles);
        }
        pids_normalize(f);

        const FilterSet *in = sets[KFILTER_INCLUDE];
        f->include_active = (in->pids.n ? KFILTER_DIM_PID : 0) |
                            (in->units.n || in->cgroups.n ? KFILTER_DIM_CGROUP : 0) |
                            (in->local_ports.n ? KFILTER_DIM_LOCAL_PORT : 0) |
                            (in->remote_ports.n ? KFILTER_DIM_REMOTE_PORT : 0) |
                            (in->addresses.n ? KFILTER_DIM_ADDRESS : 0) |
                            (in->roles ? KFILTER_DIM_ROLE : 0);
        *ret = TAKE_PTR(f);
        return 0;
}

static bool prefix_match(const KernelFilterPrefix *p, size_t n, int family, const uint8_t *addr) {
        for (size_t i = 0; i < n; i++) {
                Cidr c = { .family = family, .prefixlen = (uint8_t) p[i].prefixlen };
                memcpy(c.addr, p[i].addr, sizeof(c.addr));
                if (cidr_contains(&c, family, addr))
                        return true;
        }
        return false;
}

static bool pid_has(const KernelFilter *f, uint32_t pid, uint8_t flag) {
        KernelFilterPid key = { .pid = pid };
        const KernelFilterPid *p = f->n_pids ? bsearch(&key, f->pids, f->n_pids, sizeof(key), pid_cmp) : NULL;
        return p && (p->flags & flag);
}

static bool cgroup_has(const KernelFilter *f, const KernelFilterConn *conn, uint8_t flag) {
        for (size_t i = 0; i < f->n_cgroups; i++) {
                if (!(f->cgroups[i].flags & flag) || f->cgroups[i].id == 0)
                        continue;
                for (size_t j = 0; j < conn->n_cgroup_ids; j++)
                        if (conn->cgroup_ids[j] == f->cgroups[i].id)
                                return true;
        }
        return false;
}

static bool addr_is_v4mapped(const uint8_t a[static 16]) {
        static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
        return memcmp(a, prefix, sizeof(prefix)) == 0;
}

bool kernel_filter_match(const KernelFilter *f, const KernelFilterConn *in_conn) {
        KernelFilterConn mapped, *conn = (KernelFilterConn *) in_conn;
        bool has_cg_exclude = false;
        const KernelFilterPrefix *a[2];
        size_t n[2];

        if (in_conn->family == AF_INET6 && addr_is_v4mapped(in_conn->remote_addr)) {
                mapped = *in_conn;
                mapped.family = AF_INET;
                memset(mapped.remote_addr, 0, sizeof(mapped.remote_addr));
                memcpy(mapped.remote_addr, in_conn->remote_addr + 12, 4);
                conn = &mapped;
        }

        for (int h = 0; h < 2; h++) {
                a[h] = conn->family == AF_INET ? f->addr4[h] : f->addr6[h];
                n[h] = conn->family == AF_INET ? f->n_addr4[h] : f->n_addr6[h];
        }

        if ((f->include_active & KFILTER_DIM_PID) && !pid_has(f, conn->tgid, KFILTER_FLAG_INCLUDE))
                return false;
        if ((f->include_active & KFILTER_DIM_CGROUP) && !cgroup_has(f, conn, KFILTER_FLAG_INCLUDE))
                return false;
        if ((f->include_active & KFILTER_DIM_LOCAL_PORT) &&
            !kernel_filter_port_test(f->local_ports[KFILTER_INCLUDE], conn->local_port))
                return false;
        if ((f->include_active & KFILTER_DIM_REMOTE_PORT) &&
            !kernel_filter_port_test(f->remote_ports[KFILTER_INCLUDE], conn->remote_port))
                return false;
        if ((f->include_active & KFILTER_DIM_ADDRESS) &&
            !prefix_match(a[KFILTER_INCLUDE], n[KFILTER_INCLUDE], conn->family, conn->remote_addr))
                return false;
        if ((f->include_active & KFILTER_DIM_ROLE) && !(f->roles[KFILTER_INCLUDE] & (1u << conn->role)))
                return false;

        for (size_t i = 0; i < f->n_cgroups; i++)
                has_cg_exclude |= !!(f->cgroups[i].flags & KFILTER_FLAG_EXCLUDE);
        if (pid_has(f, conn->tgid, KFILTER_FLAG_EXCLUDE) ||
            (has_cg_exclude && cgroup_has(f, conn, KFILTER_FLAG_EXCLUDE)) ||
            kernel_filter_port_test(f->local_ports[KFILTER_EXCLUDE], conn->local_port) ||
            kernel_filter_port_test(f->remote_ports[KFILTER_EXCLUDE], conn->remote_port) ||
            prefix_match(a[KFILTER_EXCLUDE], n[KFILTER_EXCLUDE], conn->family, conn->remote_addr) ||
            (f->roles[KFILTER_EXCLUDE] & (1u << conn->role)))
                return false;
        return true;
}

int filter_cgroup_id(const char *cgroup_root, const char *path, uint64_t *ret) {
        _cleanup_(freep) char *p = NULL;
        struct stat st;

        if (asprintf(&p, "%s%s", cgroup_root ?: "/sys/fs/cgroup", path) < 0)
                return -ENOMEM;
        if (stat(p, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        *ret = (uint64_t) st.st_ino;
        return 0;
}

static bool ports_any(const uint64_t bits[KFILTER_PORT_WORDS]) {
        for (size_t i = 0; i < KFILTER_PORT_WORDS; i++)
                if (bits[i])
                        return true;
        return false;
}

uint32_t kernel_filter_exclude_active(const KernelFilter *f) {
        uint32_t d = 0;

        for (size_t i = 0; i < f->n_pids; i++)
                if (f->pids[i].flags & KFILTER_FLAG_EXCLUDE)
                        d |= KFILTER_DIM_PID;
        for (size_t i = 0; i < f->n_cgroups; i++)
                if (f->cgroups[i].flags & KFILTER_FLAG_EXCLUDE)
                        d |= KFILTER_DIM_CGROUP;
        if (ports_any(f->local_ports[KFILTER_EXCLUDE]))
                d |= KFILTER_DIM_LOCAL_PORT;
        if (ports_any(f->remote_ports[KFILTER_EXCLUDE]))
                d |= KFILTER_DIM_REMOTE_PORT;
        if (f->n_addr4[KFILTER_EXCLUDE] + f->n_addr6[KFILTER_EXCLUDE] > 0)
                d |= KFILTER_DIM_ADDRESS;
        if (f->roles[KFILTER_EXCLUDE])
                d |= KFILTER_DIM_ROLE;
        return d;
}

bool kernel_filter_is_empty(const KernelFilter *f) {
        return !f || (f->include_active == 0 && kernel_filter_exclude_active(f) == 0);
}

static void describe_dims(char *buf, size_t size, const char *what, uint32_t dims) {
        static const char *const names[] = {
                "pids", "units/cgroups", "local ports", "remote ports", "peer addresses", "roles",
        };
        size_t len = strlen(buf);
        bool first = true;

        if (dims == 0)
                return;
        len += (size_t) snprintf(buf + len, size - len, "%s%s ", len ? "; " : "", what);
        for (unsigned i = 0; i < ELEMENTSOF(names) && len < size; i++)
                if (dims & (1u << i)) {
                        len += (size_t) snprintf(buf + len, size - len, "%s%s", first ? "" : ", ", names[i]);
                        first = false;
                }
}

int kernel_filter_describe(const KernelFilter *f, char **ret) {
        char buf[256] = "";

        *ret = NULL;
        if (kernel_filter_is_empty(f))
                return 0;
        describe_dims(buf, sizeof(buf), "include", f->include_active);
        describe_dims(buf, sizeof(buf), "exclude", kernel_filter_exclude_active(f));
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

#define CGROUP2_SUPER_MAGIC_ 0x63677270

static bool is_cgroup2(const char *path) {
        struct statfs sfs;
        return statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC_;
}

int filter_cgroup_root(char **ret) {
        static const char *const known[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
        char line[4096];
        FILE *f;
        int r = -ENOENT;

        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (is_cgroup2(known[i])) {
                        *ret = strdup(known[i]);
                        return *ret ? 0 : -ENOMEM;
                }
        f = fopen("/proc/self/mounts", "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                char dev[256], dir[4096], type[64];

                /* Mount points with spaces are escaped (\040): such a one is skipped by is_cgroup2(). */
                if (sscanf(line, "%255s %4095s %63s", dev, dir, type) == 3 && strcmp(type, "cgroup2") == 0 &&
                    is_cgroup2(dir)) {
                        *ret = strdup(dir);
                        r = *ret ? 0 : -ENOMEM;
                        break;
                }
        }
        fclose(f);
        return r;
}

static int subdirs_filter(const struct dirent *d) {
        return d->d_type == DT_DIR && strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

typedef struct PathList {
        char **items;
        size_t n;
} PathList;

static void path_list_done(PathList *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i]);
        l->items = mfree(l->items);
        l->n = 0;
}

static int path_list_take(PathList *l, char *p) {
        char **a = realloc(l->items, (l->n + 1) * sizeof(char *));

        if (!a) {
                free(p);
                return -ENOMEM;
        }
        l->items = a;
        l->items[l->n++] = p;
        return 0;
}

/*
 * Breadth-first search below root for a directory called name; *ret_path is
 * "/a/b/name". Bounded by KFILTER_CGROUP_WALK_DEPTH and _DIRS: -ENOENT when
 * not found within them.
 */
static int cgroup_find(const char *root, const char *name, char **ret_path) {
        _cleanup_(path_list_done) PathList level = {}, next = {};
        unsigned visited = 0;
        int r;

        r = path_list_take(&level, strdup(""));
        if (r < 0)
                return r;
        for (unsigned depth = 0; depth < KFILTER_CGROUP_WALK_DEPTH && level.n > 0; depth++) {
                for (size_t i = 0; i < level.n; i++) {
                        _cleanup_(freep) char *dir = NULL;
                        struct dirent **ents = NULL;
                        int n;

                        if (++visited > KFILTER_CGROUP_WALK_DIRS)
                                return -ENOENT;
                        if (asprintf(&dir, "%s%s", root, level.items[i]) < 0)
                                return -ENOMEM;
                        n = scandir(dir, &ents, subdirs_filter, alphasort);
                        if (n < 0)
                                continue;   /* removed meanwhile, or unreadable: not there */
                        for (int j = 0; j < n; j++) {
                                char *p = NULL;

                                if (r == 0 && asprintf(&p, "%s/%s", level.items[i], ents[j]->d_name) < 0)
                                        r = -ENOMEM;
                                else if (r == 0 && strcmp(ents[j]->d_name, name) == 0) {
                                        *ret_path = p;
                                        r = 1;   /* found; the rest is only freed */
                                } else if (r == 0)
                                        r = path_list_take(&next, p);
                                free(ents[j]);
                        }
                        free(ents);
                        if (r != 0)
                                return r < 0 ? r : 0;
                }
                path_list_done(&level);
                level = next;
                next = (PathList) {};
        }
        return -ENOENT;
}

int kernel_filter_resolve(KernelFilter *f, const char *cgroup_root, bool *ret_changed) {
        const char *root = cgroup_root ?: "/sys/fs/cgroup";
        bool changed = false;
        int r;

        for (size_t i = 0; i < f->n_cgroups; i++) {
                KernelFilterCgroup *cg = &f->cgroups[i];
                uint64_t id = 0;

                /* Known path first: a restarted unit has the same path and a new id. */
                r = cg->path ? filter_cgroup_id(root, cg->path, &id) : -ENOENT;
                if (r < 0 && r != -ENOMEM && cg->unit) {
                        char *p = NULL;

                        cg->path = mfree(cg->path);
                        r = cgroup_find(root, cg->unit, &p);
                        if (r >= 0) {
                                cg->path = p;
                                r = filter_cgroup_id(root, p, &id);
                        }
                }
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        id = 0;
                changed = changed || id != cg->id;
                cg->id = id;
                cg->state = id != 0 ? KFILTER_CGROUP_FOUND : KFILTER_CGROUP_MISSING;
        }
        *ret_changed = changed;
        return 0;
}
