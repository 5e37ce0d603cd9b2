/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* output/cgroup-unit.c: a cgroup path's unit, and the id lookup over a tree made here. */
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

#include "output/cgroup-unit.h"

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_unit),
                cmocka_unit_test(test_lookup_by_inode),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
