/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* User-space filters and the compiled kernel filter (with its reference matcher). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "capture/kernel-filter.h"
#include "select/filter.h"
#include "bpf/abi.h"

static Config *config_with(const char *yaml) {
        Diagnostics d = {};
        Config *c;

        assert_int_equal(config_new_defaults(&c), 0);
        if (config_apply_yaml(c, "test.yaml", yaml, strlen(yaml), &d) < 0 || d.n > 0) {
                diagnostics_print(&d, stderr);
                fail();
        }
        diagnostics_done(&d);
        return c;
}

static void test_paths(void **state) {
        const char *p;
        size_t n;

        /* The one path function (HTTP_PATH uses it too): RFC 9112 §3.2 forms. */
        static const struct { const char *target, *path; } tt[] = {
                { "/a/b?x=1#f", "/a/b" },
                { "/", "/" },
                { "/?q", "/" },
                { "/a#f?g", "/a" },
                { "http://h:80/x/y?q", "/x/y" },
                { "HTTPS://h/x", "/x" },
                { "http://h", "/" },            /* empty path of an absolute URI is "/" (RFC 9110 §4.2.3) */
                { "http://h?q=1", "/" },
                { "http://h#f", "/" },
                { "svn+ssh.x-1://h/r", "/r" },  /* any RFC 3986 scheme */
                { "*", NULL },                  /* asterisk-form */
                { "example.com:443", NULL },    /* authority-form */
                { "1http://h/x", NULL },        /* not a scheme */
                { "http:/x", NULL },
                { "x", NULL },
                { "", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(tt); i++) {
                size_t len = strlen(tt[i].target);

                p = NULL;
                n = 99;
                if (!tt[i].path) {
                        assert_false(filter_target_path(tt[i].target, len, &p, &n));
                        assert_null(p);                 /* untouched on false */
                        continue;
                }
                assert_true(filter_target_path(tt[i].target, len, &p, &n));
                assert_int_equal(n, strlen(tt[i].path));
                assert_memory_equal(p, tt[i].path, n);
        }
        /* Only len bytes are read: a target need not be NUL-terminated. */
        assert_true(filter_target_path("/ab?c", 2, &p, &n));
        assert_int_equal(n, 2);
        assert_true(filter_target_path("http://h/x", 8, &p, &n));
        assert_int_equal(n, 1);
        assert_memory_equal(p, "/", 1);

        assert_true(filter_path_match("/api", "/api", 4));
        assert_true(filter_path_match("/api", "/api/v1", 7));
        assert_false(filter_path_match("/api", "/apix", 5));
        assert_false(filter_path_match("/api", "/ap", 3));
        assert_true(filter_path_match("/api/", "/api/v1", 7));
        assert_true(filter_path_match("/", "/anything", 9));
        assert_true(filter_path_match("/api/*/users", "/api/v1/users", 13));
        assert_true(filter_path_match("/api/*", "/api/v1/users", 13));   /* '*' crosses '/' */
        assert_false(filter_path_match("/api/*/users", "/api/v1/users/1", 15));
        assert_true(filter_path_match("*.php", "/x/y.php", 8));
        assert_true(filter_path_match("/v[12]/x", "/v2/x", 5));
}

static void test_process(void **state) {
        Config *c = config_with("filter:\n"
                                "  include:\n    comms: [nginx, curl]\n    exes: [\"/usr/sbin/*\", /usr/bin/curl]\n"
                                "  exclude:\n    exes: [/usr/sbin/sshd]\n");

        assert_true(filter_match_process(c, "nginx", "/usr/sbin/nginx"));
        assert_true(filter_match_process(c, "curl", "/usr/bin/curl"));
        assert_false(filter_match_process(c, "nginx", "/opt/nginx"));        /* exe include fails */
        assert_false(filter_match_process(c, "wget", "/usr/bin/curl"));      /* comm include fails */
        assert_false(filter_match_process(c, "nginx", "/usr/sbin/sshd"));    /* excluded */
        assert_false(filter_match_process(c, "nginx", NULL));                /* unknown exe fails an include */
        config_free(c);

        c = config_with("filter:\n  exclude:\n    comms: [sshd]\n    exes: [/bin/*]\n");
        assert_true(filter_match_process(c, "nginx", NULL));                 /* unknown does not hit an exclude */
        assert_false(filter_match_process(c, "sshd", NULL));
        assert_false(filter_match_process(c, "x", "/bin/x"));
        assert_true(filter_match_process(c, NULL, NULL));
        config_free(c);
}

static void test_exchange(void **state) {
        Config *c = config_with("filter:\n"
                                "  include:\n    methods: [GET, POST]\n    paths: [/api, \"/static/*.js\"]\n"
                                "  exclude:\n    paths: [/api/health]\n    statuses: [404, 3xx]\n");

        assert_true(filter_match_exchange(c, "GET", "/api/users?id=1", 200));
        assert_true(filter_match_exchange(c, "POST", "/static/a/b.js", 500));
        assert_false(filter_match_exchange(c, "PUT", "/api/users", 200));
        assert_false(filter_match_exchange(c, "get", "/api/users", 200));    /* methods are case-sensitive */
        assert_false(filter_match_exchange(c, "GET", "/apix", 200));
        assert_false(filter_match_exchange(c, "GET", "/api/health", 200));
        assert_false(filter_match_exchange(c, "GET", "/api/x", 404));
        assert_false(filter_match_exchange(c, "GET", "/api/x", 302));
        assert_true(filter_match_exchange(c, "GET", "/api/x", 0));          /* no response: status exclude misses */
        assert_false(filter_match_exchange(c, NULL, NULL, 200));             /* no request: include fails */
        config_free(c);

        c = config_with("filter:\n  include:\n    statuses: [5xx]\n");
        assert_true(filter_match_exchange(c, "GET", "/", 503));
        assert_false(filter_match_exchange(c, "GET", "/", 200));
        assert_false(filter_match_exchange(c, "GET", "/", 0));
        config_free(c);

        /* Paths as HTTP_PATH shows them: "http://h" is "/", "*" and CONNECT's target have none. */
        c = config_with("filter:\n  include:\n    paths: [\"/\"]\n");
        assert_true(filter_match_exchange(c, "GET", "http://h", 200));
        assert_true(filter_match_exchange(c, "GET", "http://h/x?y", 200));
        assert_false(filter_match_exchange(c, "OPTIONS", "*", 200));          /* no path fails an include */
        assert_false(filter_match_exchange(c, "CONNECT", "h:443", 200));
        config_free(c);
        c = config_with("filter:\n  exclude:\n    paths: [\"*\"]\n");
        assert_false(filter_match_exchange(c, "GET", "http://h", 200));
        assert_true(filter_match_exchange(c, "OPTIONS", "*", 200));           /* and misses an exclude */
        config_free(c);

        c = config_with("");
        assert_true(filter_match_exchange(c, NULL, NULL, 0));
        config_free(c);
}

static KernelFilterConn conn4(uint32_t pid, uint16_t lport, uint16_t rport, const char *addr, uint8_t role) {
        KernelFilterConn k = { .tgid = pid, .local_port = lport, .remote_port = rport, .family = AF_INET, .role = role };
        assert_int_equal(inet_pton(AF_INET, addr, k.remote_addr), 1);
        return k;
}

static void test_kernel_compile(void **state) {
        Config *c = config_with("filter:\n"
                                "  include:\n"
                                "    pids: [30, 10, 20, 10]\n"
                                "    units: [nginx.service]\n"
                                "    cgroups: [/system.slice/app.service]\n"
                                "    local_ports: [80, 8000-8002]\n"
                                "    addresses: [10.0.0.0/8, \"fd00::/8\"]\n"
                                "    roles: [server]\n"
                                "  exclude:\n"
                                "    pids: [20, 40]\n"
                                "    remote_ports: [22]\n"
                                "    addresses: [10.1.0.0/16]\n");
        KernelFilter *f;

        assert_int_equal(kernel_filter_compile(c, &f), 0);
        assert_int_equal(f->include_active, KFILTER_DIM_PID | KFILTER_DIM_CGROUP | KFILTER_DIM_LOCAL_PORT |
                                            KFILTER_DIM_ADDRESS | KFILTER_DIM_ROLE);
        assert_int_equal(f->n_pids, 4);
        assert_int_equal(f->pids[0].pid, 10);
        assert_int_equal(f->pids[0].flags, KFILTER_FLAG_INCLUDE);
        assert_int_equal(f->pids[1].pid, 20);
        assert_int_equal(f->pids[1].flags, KFILTER_FLAG_INCLUDE | KFILTER_FLAG_EXCLUDE);
        assert_int_equal(f->pids[3].pid, 40);
        assert_int_equal(f->pids[3].flags, KFILTER_FLAG_EXCLUDE);
        assert_int_equal(f->n_cgroups, 2);
        assert_string_equal(f->cgroups[0].unit, "nginx.service");
        assert_null(f->cgroups[0].path);
        assert_string_equal(f->cgroups[1].path, "/system.slice/app.service");
        assert_true(kernel_filter_port_test(f->local_ports[KFILTER_INCLUDE], 80));
        assert_true(kernel_filter_port_test(f->local_ports[KFILTER_INCLUDE], 8002));
        assert_false(kernel_filter_port_test(f->local_ports[KFILTER_INCLUDE], 8003));
        assert_false(kernel_filter_port_test(f->local_ports[KFILTER_INCLUDE], 81));
        assert_true(kernel_filter_port_test(f->remote_ports[KFILTER_EXCLUDE], 22));
        assert_int_equal(f->n_addr4[KFILTER_INCLUDE], 1);
        assert_int_equal(f->addr4[KFILTER_INCLUDE][0].prefixlen, 8);
        assert_int_equal(f->addr4[KFILTER_INCLUDE][0].addr[0], 10);
        assert_int_equal(f->n_addr6[KFILTER_INCLUDE], 1);
        assert_int_equal(f->addr6[KFILTER_INCLUDE][0].addr[0], 0xfd);
        assert_int_equal(f->n_addr4[KFILTER_EXCLUDE], 1);
        assert_int_equal(f->roles[KFILTER_INCLUDE], 1u << HT_ROLE_SERVER);

        /* The daemon resolves cgroups; unresolved ones match nothing. */
        uint64_t cg[] = { 1, 555 };
        KernelFilterConn k = conn4(10, 80, 5555, "10.2.3.4", HT_ROLE_SERVER);
        k.cgroup_ids = cg;
        k.n_cgroup_ids = 2;
        assert_false(kernel_filter_match(f, &k));
        f->cgroups[1].id = 555;
        assert_true(kernel_filter_match(f, &k));

        KernelFilterConn t;
        t = k, t.tgid = 11;                  assert_false(kernel_filter_match(f, &t));
        t = k, t.tgid = 20;                  assert_false(kernel_filter_match(f, &t));   /* excluded wins */
        t = k, t.local_port = 81;            assert_false(kernel_filter_match(f, &t));
        t = k, t.local_port = 8001;          assert_true(kernel_filter_match(f, &t));
        t = k, t.remote_port = 22;           assert_false(kernel_filter_match(f, &t));
        t = k, t.role = HT_ROLE_CLIENT;      assert_false(kernel_filter_match(f, &t));
        t = k, t.n_cgroup_ids = 1;           assert_false(kernel_filter_match(f, &t));
        t = conn4(10, 80, 5555, "10.1.2.3", HT_ROLE_SERVER), t.cgroup_ids = cg, t.n_cgroup_ids = 2;
        assert_false(kernel_filter_match(f, &t));                                          /* 10.1/16 excluded */
        t = conn4(10, 80, 5555, "11.0.0.1", HT_ROLE_SERVER), t.cgroup_ids = cg, t.n_cgroup_ids = 2;
        assert_false(kernel_filter_match(f, &t));
        t = k, t.family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, "fd12::1", t.remote_addr), 1);
        assert_true(kernel_filter_match(f, &t));
        kernel_filter_free(f);
        config_free(c);
}

static void test_kernel_empty_matches_all(void **state) {
        Config *c = config_with("");
        KernelFilter *f;
        KernelFilterConn k = conn4(1, 1, 1, "1.2.3.4", HT_ROLE_UNKNOWN);

        assert_int_equal(kernel_filter_compile(c, &f), 0);
        assert_int_equal(f->include_active, 0);
        assert_true(kernel_filter_match(f, &k));
        kernel_filter_free(f);
        config_free(c);
}

static void test_cgroup_id(void **state) {
        struct stat st;
        uint64_t id;

        assert_int_equal(filter_cgroup_id("/nonexistent-root", "/x", &id), -ENOENT);
        if (stat("/sys/fs/cgroup", &st) < 0)
                skip();
        assert_int_equal(filter_cgroup_id(NULL, "/", &id), 0);
        assert_int_equal(id, (uint64_t) st.st_ino);
}

static void test_kernel_v4mapped(void **state) {
        Config *c = config_with("filter:\n  exclude:\n    addresses: [127.0.0.2/32]\n");
        KernelFilter *f;
        KernelFilterConn k = { .family = AF_INET6, .role = HT_ROLE_SERVER };

        assert_int_equal(kernel_filter_compile(c, &f), 0);
        /* An IPv4 peer of a dual-stack socket is matched as IPv4. */
        assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.2", k.remote_addr), 1);
        assert_false(kernel_filter_match(f, &k));
        assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", k.remote_addr), 1);
        assert_true(kernel_filter_match(f, &k));
        assert_int_equal(inet_pton(AF_INET6, "::1", k.remote_addr), 1);
        assert_true(kernel_filter_match(f, &k));
        kernel_filter_free(f);
        config_free(c);
}

static void test_kernel_summary(void **state) {
        Config *c;
        KernelFilter *f;
        char *s;

        c = config_with("");
        assert_int_equal(kernel_filter_compile(c, &f), 0);
        assert_true(kernel_filter_is_empty(f));
        assert_int_equal(kernel_filter_exclude_active(f), 0);
        assert_int_equal(kernel_filter_describe(f, &s), 0);
        assert_null(s);
        kernel_filter_free(f);
        config_free(c);
        assert_true(kernel_filter_is_empty(NULL));

        c = config_with("filter:\n  include:\n    units: [a.service]\n    local_ports: [80]\n"
                        "  exclude:\n    pids: [1]\n    remote_ports: [22]\n    addresses: [\"::1/128\"]\n"
                        "    roles: [client]\n");
        assert_int_equal(kernel_filter_compile(c, &f), 0);
        assert_false(kernel_filter_is_empty(f));
        assert_int_equal(kernel_filter_exclude_active(f),
                         KFILTER_DIM_PID | KFILTER_DIM_REMOTE_PORT | KFILTER_DIM_ADDRESS | KFILTER_DIM_ROLE);
        assert_int_equal(kernel_filter_describe(f, &s), 0);
        assert_string_equal(s, "include units/cgroups, local ports; exclude pids, remote ports, peer addresses, roles");
        free(s);
        kernel_filter_free(f);
        config_free(c);

        /* Only an exclude list: not empty, and nothing is included by force. */
        c = config_with("filter:\n  exclude:\n    cgroups: [/x.slice]\n");
        assert_int_equal(kernel_filter_compile(c, &f), 0);
        assert_false(kernel_filter_is_empty(f));
        assert_int_equal(f->include_active, 0);
        assert_int_equal(kernel_filter_exclude_active(f), KFILTER_DIM_CGROUP);
        kernel_filter_free(f);
        config_free(c);
}

static void mkdirs(const char *root, const char *rel) {
        char p[512];

        snprintf(p, sizeof(p), "%s%s", root, rel);
        for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
                *s = 0;
                (void) mkdir(p, 0755);
                *s = '/';
        }
        assert_int_equal(mkdir(p, 0755), 0);
}

static uint64_t inode_of(const char *root, const char *rel) {
        char p[512];
        struct stat st;

        snprintf(p, sizeof(p), "%s%s", root, rel);
        assert_int_equal(stat(p, &st), 0);
        return (uint64_t) st.st_ino;
}

/* A fake cgroup tree in a temporary directory: the walk only needs directories and inodes. */
static void test_kernel_resolve(void **state) {
        char root[] = "/tmp/test-filter-XXXXXX";
        Config *c = config_with("filter:\n  include:\n    units: [a.service, late.service]\n"
                                "    cgroups: [/x.slice/b.scope]\n  exclude:\n    units: [a.service]\n");
        KernelFilter *f;
        bool changed;
        char cmd[600], to[600];

        assert_non_null(mkdtemp(root));
        mkdirs(root, "/system.slice/z.service");
        mkdirs(root, "/system.slice/a.service");
        mkdirs(root, "/machine.slice/m.scope/payload/system.slice/a.service");   /* deeper: not chosen */
        mkdirs(root, "/x.slice/b.scope");

        assert_int_equal(kernel_filter_compile(c, &f), 0);
        assert_int_equal(f->n_cgroups, 4);
        assert_int_equal(kernel_filter_resolve(f, root, &changed), 0);
        assert_true(changed);
        assert_string_equal(f->cgroups[0].path, "/system.slice/a.service");
        assert_int_equal(f->cgroups[0].id, inode_of(root, "/system.slice/a.service"));
        assert_int_equal(f->cgroups[0].state, KFILTER_CGROUP_FOUND);
        assert_null(f->cgroups[1].path);                                   /* late.service: not there yet */
        assert_int_equal(f->cgroups[1].id, 0);
        assert_int_equal(f->cgroups[1].state, KFILTER_CGROUP_MISSING);
        assert_int_equal(f->cgroups[2].id, inode_of(root, "/x.slice/b.scope"));
        assert_int_equal(f->cgroups[3].id, f->cgroups[0].id);             /* the exclude entry of a.service */

        /* Nothing moved: no change, nothing to send to the kernel. */
        assert_int_equal(kernel_filter_resolve(f, root, &changed), 0);
        assert_false(changed);

        /* The unit appears, nested in a slice. */
        mkdirs(root, "/app.slice/late.service");
        assert_int_equal(kernel_filter_resolve(f, root, &changed), 0);
        assert_true(changed);
        assert_string_equal(f->cgroups[1].path, "/app.slice/late.service");
        assert_int_equal(f->cgroups[1].state, KFILTER_CGROUP_FOUND);

        /* Restarted: same path, a new directory (new inode, new id). */
        uint64_t old = f->cgroups[0].id;
        snprintf(cmd, sizeof(cmd), "%s/system.slice/a.service", root);
        snprintf(to, sizeof(to), "%s/old-a", root);
        assert_int_equal(rename(cmd, to), 0);
        mkdirs(root, "/system.slice/a.service");
        assert_int_equal(kernel_filter_resolve(f, root, &changed), 0);
        assert_true(changed);
        assert_int_not_equal(f->cgroups[0].id, old);
        assert_int_equal(f->cgroups[0].id, inode_of(root, "/system.slice/a.service"));

        /* Gone: matches nothing again. */
        snprintf(cmd, sizeof(cmd), "%s/app.slice/late.service", root);
        assert_int_equal(rmdir(cmd), 0);
        assert_int_equal(kernel_filter_resolve(f, root, &changed), 0);
        assert_true(changed);
        assert_int_equal(f->cgroups[1].id, 0);
        assert_int_equal(f->cgroups[1].state, KFILTER_CGROUP_MISSING);

        kernel_filter_free(f);
        config_free(c);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_paths),
                cmocka_unit_test(test_process),
                cmocka_unit_test(test_exchange),
                cmocka_unit_test(test_kernel_compile),
                cmocka_unit_test(test_kernel_empty_matches_all),
                cmocka_unit_test(test_cgroup_id),
                cmocka_unit_test(test_kernel_v4mapped),
                cmocka_unit_test(test_kernel_summary),
                cmocka_unit_test(test_kernel_resolve),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
