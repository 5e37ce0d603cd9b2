/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* capture/cgroup-unit.c: a cgroup path's unit, and the id lookup over a tree made here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/cgroup-unit.h"

static void test_path_unit(void **state) {
        char buf[64];

        (void) state;
        assert_int_equal(cgroup_path_unit("/system.slice/nginx.service", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "nginx.service");
        assert_int_equal(cgroup_path_unit("/system.slice/nginx.service/worker", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "nginx.service");
        assert_int_equal(cgroup_path_unit("/user.slice/user-0.slice/session-3.scope", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "session-3.scope");
        assert_int_equal(cgroup_path_unit("/", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(cgroup_path_unit("/system.slice", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(cgroup_path_unit("/process_api/3a08", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(cgroup_path_unit("/a.slice/x.service", buf, 5), -ENAMETOOLONG);
}

/* Any directory tree stands in for cgroup2: an id is a directory's inode number. */
static void test_lookup_by_inode(void **state) {
        char root[] = "/tmp/test-cgroup-unit-XXXXXX", path[256], buf[64];
        struct stat st;

        (void) state;
        assert_non_null(mkdtemp(root));
        snprintf(path, sizeof(path), "%s/a.slice", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/a.slice/web.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(stat(path, &st), 0);

        cgroup_unit_cache_clear();
        assert_int_equal(cgroup_unit_lookup(root, st.st_ino, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "web.service");
        /* cached: found again after the directory is gone */
        assert_int_equal(rmdir(path), 0);
        assert_int_equal(cgroup_unit_lookup(root, st.st_ino, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "web.service");
        /* an id nowhere in the tree, and id 0 */
        assert_int_equal(cgroup_unit_lookup(root, 1, buf, sizeof(buf)), -ENOENT);
        assert_int_equal(cgroup_unit_lookup(root, 0, buf, sizeof(buf)), -ENOENT);
        snprintf(path, sizeof(path), "%s/a.slice", root);
        assert_int_equal(rmdir(path), 0);
        assert_int_equal(rmdir(root), 0);
}

static void write_file(const char *path, const char *content) {
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        fputs(content, f);
        assert_int_equal(fclose(f), 0);
}

/*
 * Resolution at connection time: /proc/TGID/cgroup when its path's inode is
 * the id; else the bounded walk (the process is gone, or moved); each id
 * once, then from the cache; the name interned (the same pointer for every
 * connection of the unit); every path counted.
 */
static void test_resolve(void **state) {
        char root[] = "/tmp/test-cgroup-unit-XXXXXX", proc[] = "/tmp/test-cgroup-proc-XXXXXX", path[512];
        struct stat web, api, other;
        Stats s = {};
        const char *u, *u2;

        (void) state;
        assert_non_null(mkdtemp(root));
        assert_non_null(mkdtemp(proc));
        snprintf(path, sizeof(path), "%s/a.slice", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/a.slice/web.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(stat(path, &web), 0);
        snprintf(path, sizeof(path), "%s/a.slice/api.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(stat(path, &api), 0);
        snprintf(path, sizeof(path), "%s/a.slice/other", root);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(stat(path, &other), 0);
        /* process 42 says it is in web.service; process 43 says web.service but its thread's id is api's */
        snprintf(path, sizeof(path), "%s/42", proc);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/42/cgroup", proc);
        write_file(path, "1:name=systemd:/ignored.service\n0::/a.slice/web.service\n");
        snprintf(path, sizeof(path), "%s/43", proc);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/43/cgroup", proc);
        write_file(path, "0::/a.slice/web.service\n");

        cgroup_unit_cache_clear();
        u = cgroup_unit_resolve(root, proc, web.st_ino, 42, &s);
        assert_string_equal(u, "web.service");
        assert_int_equal(s.units_resolved, 1);
        assert_int_equal(s.units_walked, 0);
        /* cached: no second read, the same interned pointer */
        assert_ptr_equal(cgroup_unit_resolve(root, proc, web.st_ino, 42, &s), u);
        assert_int_equal(s.units_resolved, 1);
        /* /proc names another cgroup than the kernel's id: the walk finds api.service */
        u2 = cgroup_unit_resolve(root, proc, api.st_ino, 43, &s);
        assert_string_equal(u2, "api.service");
        assert_int_equal(s.units_walked, 1);
        /* gone already (no /proc entry): the walk, once, then cached */
        cgroup_unit_cache_clear();
        s = (Stats) {};
        assert_string_equal(cgroup_unit_resolve(root, proc, web.st_ino, 99, &s), "web.service");
        assert_int_equal(s.units_walked, 1);
        /* a cgroup that is no unit: NULL, not unknown; an id nowhere: unknown, once */
        assert_null(cgroup_unit_resolve(root, proc, other.st_ino, 99, &s));
        assert_int_equal(s.units_unknown, 0);
        assert_null(cgroup_unit_resolve(root, proc, 1, 99, &s));
        assert_null(cgroup_unit_resolve(root, proc, 1, 99, &s));
        assert_int_equal(s.units_unknown, 1);
        assert_null(cgroup_unit_resolve(root, proc, 0, 42, &s));

        /*
         * The walk is bounded (CGROUP_UNIT_WALK_MAX directories). Here 2: the root and one
         * more, while the unit lies three levels down: given up, counted unknown; with room,
         * the same walk finds it.
         */
        cgroup_unit_cache_clear();
        s = (Stats) {};
        snprintf(path, sizeof(path), "%s/a.slice/b.slice", root);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/a.slice/b.slice/zz.service", root);
        assert_int_equal(mkdir(path, 0755), 0);
        assert_int_equal(stat(path, &other), 0);
        cgroup_unit_set_walk_max(2);
        assert_null(cgroup_unit_resolve(root, proc, other.st_ino, 99, &s));
        assert_int_equal(s.units_unknown, 1);
        assert_int_equal(s.units_walked, 0);
        cgroup_unit_cache_clear();
        cgroup_unit_set_walk_max(0);
        assert_string_equal(cgroup_unit_resolve(root, proc, other.st_ino, 99, &s), "zz.service");
        assert_int_equal(s.units_walked, 1);

        cgroup_unit_cache_clear();
        snprintf(path, sizeof(path), "rm -rf '%s' '%s'", root, proc);
        assert_int_equal(system(path), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_unit),
                cmocka_unit_test(test_lookup_by_inode),
                cmocka_unit_test(test_resolve),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
