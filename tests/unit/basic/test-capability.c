/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The capability drop, for real: in a forked child running as root, create
 * a BPF map, drop everything, and check that the process holds nothing
 * while the map fd it already had still works (which is what lets the
 * daemon keep tracing) and a new map cannot be made.
 */

#include <bpf/bpf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/capability.h"

/* The hex value of "Cap<which>:" in /proc/self/status. */
static int read_cap_line(const char *which, uint64_t *ret) {
        char line[256], key[32];
        FILE *f = fopen("/proc/self/status", "re");
        int r = -ENOENT;

        if (!f)
                return -errno;
        snprintf(key, sizeof(key), "Cap%s:", which);
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, key, strlen(key)) == 0) {
                        *ret = strtoull(line + strlen(key), NULL, 16);
                        r = 0;
                        break;
                }
        fclose(f);
        return r;
}

/* Exit codes name the check that failed. */
static int child(void) {
        uint64_t eff = 1, prm = 1, amb = 1, got = 1, v = 0;
        uint32_t key = 0;
        bool bounding = false;
        int fd, fd2;

        fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cap_test", sizeof(uint32_t), sizeof(uint64_t), 1, NULL);
        if (fd < 0)
                return 77;   /* no BPF for us at all: nothing to test */

        if (capability_drop_all(&bounding) < 0)
                return 10;
        if (read_cap_line("Eff", &eff) < 0 || read_cap_line("Prm", &prm) < 0 || read_cap_line("Amb", &amb) < 0)
                return 11;
        if (eff != 0 || prm != 0 || amb != 0)
                return 12;
        if (capability_get_effective(&got) < 0 || got != 0)
                return 13;
        /* We ran as full root, CAP_SETPCAP included: the bounding set went too. */
        if (!bounding || read_cap_line("Bnd", &got) < 0 || got != 0)
                return 14;

        v = 0x1234;
        if (bpf_map_update_elem(fd, &key, &v, BPF_ANY) < 0)
                return 20;
        v = 0;
        if (bpf_map_lookup_elem(fd, &key, &v) < 0 || v != 0x1234)
                return 21;

        fd2 = bpf_map_create(BPF_MAP_TYPE_ARRAY, "cap_test2", sizeof(uint32_t), sizeof(uint64_t), 1, NULL);
        if (fd2 >= 0 || errno != EPERM)
                return 22;
        return 0;
}

static void test_drop_keeps_fds(void **state) {
        int status;
        pid_t pid;

        if (geteuid() != 0) {
                skip();
                return;
        }
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(child());
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77) {
                skip();
                return;
        }
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_get_effective(void **state) {
        uint64_t caps = 0, proc = 0;

        assert_int_equal(capability_get_effective(&caps), 0);
        assert_int_equal(read_cap_line("Eff", &proc), 0);
        assert_true(caps == proc);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_get_effective),
                cmocka_unit_test(test_drop_keeps_fds),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
