/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* BPF object lifecycle and ring buffer draining; see bpf-tracer.h. */

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpf-tracer.h"
#include "http-tracer.skel.h"
#include "log.h"
#include "macro.h"

const BpfTracerOptions bpf_tracer_options_default = {
        .payload_max = HT_PAYLOAD_DEFAULT,
        .ringbuf_size = HT_RINGBUF_DEFAULT,
        .conns_max = HT_MAP_CONNS_DEFAULT,
        /*
         * Wake the reader when 1/8 of the ring is pending; otherwise the drain
         * timer collects records. A wakeup per record costs a saturated nginx
         * 55 % of its throughput on this class of machine (ENVIRONMENT.md).
         */
        .wakeup_bytes = HT_RINGBUF_DEFAULT / 8,
};

struct BpfTracer {
        struct http_tracer_bpf *skel;
        struct ring_buffer *rb;
        BpfRecordFn fn;
        void *userdata;
        struct bpf_link *links[32];   /* one per program; the object has 24 */
        unsigned attached;
        int ncpus;
};

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap) {
        char buf[1024];
        size_t n;

        /* libbpf's messages (verifier logs included) are for --log-level debug. */
        if (log_get_max_level() < LOG_DEBUG)
                return 0;
        vsnprintf(buf, sizeof(buf), fmt, ap);
        n = strlen(buf);
        if (n > 0 && buf[n - 1] == '\n')
                buf[n - 1] = 0;
        log_debug("libbpf: %s", buf);
        return 0;
}

/* The same choice libbpf makes: debugfs's tracing dir if present, else tracefs. */
static const char *tracing_dir(void) {
        if (access("/sys/kernel/debug/tracing", F_OK) == 0)
                return "/sys/kernel/debug/tracing";
        return "/sys/kernel/tracing";
}

static int check_kernel(void) {
        char p[256];

        if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
                if (errno == EACCES)
                        return log_error_errno(errno, "Cannot read /sys/kernel/btf/vmlinux: %m. Run http-tracer as root.");
                return log_error_errno(EOPNOTSUPP,
                                       "This kernel has no BTF (/sys/kernel/btf/vmlinux is missing); "
                                       "http-tracer needs a kernel built with CONFIG_DEBUG_INFO_BTF=y.");
        }

        snprintf(p, sizeof(p), "%s/events/syscalls/sys_enter_read/id", tracing_dir());
        if (access(p, F_OK) < 0) {
                if (errno == EACCES)
                        return log_error_errno(errno, "Cannot access %s: %m. Run http-tracer as root "
                                               "(or with CAP_DAC_READ_SEARCH).", p);
                if (access("/sys/kernel/tracing/events", F_OK) < 0)
                        return log_error_errno(ENOENT,
                                               "tracefs is not mounted (no /sys/kernel/tracing/events). "
                                               "Mount it with 'mount -t tracefs nodev /sys/kernel/tracing' and start again.");
                return log_error_errno(EOPNOTSUPP,
                                       "The kernel has no syscall tracepoints (%s is missing); "
                                       "http-tracer needs CONFIG_FTRACE_SYSCALLS=y.", p);
        }
        return 0;
}

static int ringbuf_cb(void *ctx, void *data, size_t size) {
        BpfTracer *t = ctx;

        (void) t->fn(t->userdata, data, size);
        /* Never stop the drain on one bad record: the callee counts its own failures. */
        return 0;
}

static int explain_load_error(int r) {
        if (r == -EPERM || r == -EACCES)
                return log_error_errno(r, "Loading BPF programs was refused (%m). Run http-tracer as root, "
                                       "or with CAP_BPF and CAP_PERFMON (plus CAP_DAC_READ_SEARCH when not uid 0).");
        return log_error_errno(r, "Failed to load BPF programs: %m. Run with --log-level debug for the verifier's log.");
}

int bpf_tracer_new(const BpfTracerOptions *o, BpfRecordFn fn, void *userdata, BpfTracer **ret) {
        BpfTracer *t;
        struct bpf_program *prog;
        int r;

        if (!o)
                o = &bpf_tracer_options_default;
        if (o->payload_max > HT_PAYLOAD_CAP)
                return log_error_errno(EINVAL, "Payload size %u is over the maximum of %u bytes.",
                                       o->payload_max, HT_PAYLOAD_CAP);

        libbpf_set_print(libbpf_print);

        r = check_kernel();
        if (r < 0)
                return r;

        t = calloc(1, sizeof(*t));
        if (!t)
                return log_oom();
        t->fn = fn;
        t->userdata = userdata;
        t->ncpus = libbpf_num_possible_cpus();
        if (t->ncpus <= 0) {
                r = t->ncpus ?: -EIO;
                free(t);
                return log_error_errno(r, "Failed to count possible CPUs: %m");
        }

        t->skel = http_tracer_bpf__open();
        if (!t->skel) {
                r = negative_errno();
                free(t);
                return log_error_errno(r, "Failed to open the BPF object: %m");
        }

        t->skel->rodata->self_tgid = (uint32_t) getpid();
        t->skel->rodata->payload_max = o->payload_max;
        t->skel->rodata->wakeup_bytes = o->wakeup_bytes;
        r = bpf_map__set_max_entries(t->skel->maps.events, o->ringbuf_size);
        if (r >= 0)
                r = bpf_map__set_max_entries(t->skel->maps.conns, o->conns_max);
        if (r < 0) {
                bpf_tracer_free(t);
                return log_error_errno(r, "Failed to size BPF maps: %m");
        }

        r = http_tracer_bpf__load(t->skel);
        if (r < 0) {
                bpf_tracer_free(t);
                return explain_load_error(r);
        }

        /* Attach one by one so that an error names the tracepoint. */
        bpf_object__for_each_program(prog, t->skel->obj) {
                struct bpf_link *l = bpf_program__attach(prog);

                if (!l) {
                        r = negative_errno();
                        log_error_errno(r, "Failed to attach BPF program %s (%s): %m",
                                        bpf_program__name(prog), bpf_program__section_name(prog));
                        bpf_tracer_free(t);
                        return r == -EPERM || r == -EACCES ? explain_load_error(r) : r;
                }
                if (t->attached >= ELEMENTSOF(t->links)) {
                        bpf_link__destroy(l);
                        bpf_tracer_free(t);
                        return log_error_errno(E2BIG, "More BPF programs than link slots.");
                }
                t->links[t->attached++] = l;
        }

        t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), ringbuf_cb, t, NULL);
        if (!t->rb) {
                r = negative_errno();
                bpf_tracer_free(t);
                return log_error_errno(r, "Failed to set up the ring buffer: %m");
        }

        *ret = t;
        return 0;
}

BpfTracer *bpf_tracer_free(BpfTracer *t) {
        if (!t)
                return NULL;
        ring_buffer__free(t->rb);
        for (unsigned i = 0; i < t->attached; i++)
                bpf_link__destroy(t->links[i]);
        /* Destroying the skeleton closes every program, map and link fd: nothing stays loaded. */
        http_tracer_bpf__destroy(t->skel);
        free(t);
        return NULL;
}

int bpf_tracer_epoll_fd(BpfTracer *t) {
        return ring_buffer__epoll_fd(t->rb);
}

int bpf_tracer_consume(BpfTracer *t) {
        return ring_buffer__consume(t->rb);
}

int bpf_tracer_read_counters(BpfTracer *t, uint64_t ret[_HT_CNT_MAX]) {
        _cleanup_(freep) uint64_t *v = NULL;
        int fd = bpf_map__fd(t->skel->maps.counters);

        v = calloc(t->ncpus, sizeof(uint64_t));
        if (!v)
                return -ENOMEM;
        for (uint32_t i = 0; i < _HT_CNT_MAX; i++) {
                ret[i] = 0;
                if (bpf_map_lookup_elem(fd, &i, v) < 0)
                        return negative_errno();
                for (int c = 0; c < t->ncpus; c++)
                        ret[i] += v[c];
        }
        return 0;
}

unsigned bpf_tracer_programs_attached(const BpfTracer *t) {
        return t ? t->attached : 0;
}

uint64_t bpf_tracer_map_memory(const BpfTracer *t) {
        struct bpf_map *m;
        uint64_t sum = 0;

        if (!t)
                return 0;
        bpf_object__for_each_map(m, t->skel->obj) {
                uint64_t per = (uint64_t) bpf_map__key_size(m) + bpf_map__value_size(m);

                if (bpf_map__type(m) == BPF_MAP_TYPE_RINGBUF)
                        sum += bpf_map__max_entries(m);
                else if (bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_ARRAY)
                        sum += (uint64_t) bpf_map__value_size(m) * bpf_map__max_entries(m) * t->ncpus;
                else
                        sum += per * bpf_map__max_entries(m);
        }
        return sum;
}

void bpf_tracer_forget(BpfTracer *t, const ConnInfo *info, bool reannounce) {
        struct ht_conn_key key = { .tgid = info->tgid, .fd = info->fd };
        struct ht_conn c;
        int fd;

        if (!t)
                return;
        fd = bpf_map__fd(t->skel->maps.conns);
        if (bpf_map_lookup_elem(fd, &key, &c) < 0 || c.id != info->id)
                return;   /* already gone or replaced: nothing of ours to forget */
        if (!reannounce) {
                (void) bpf_map_delete_elem(fd, &key);
                return;
        }
        /* Classify again from the next message start, and send a fresh CONN_OPEN. */
        c.flags &= ~(HT_CONN_ANNOUNCED | HT_CONN_SEEN_START);
        c.protocol = HT_PROTO_UNKNOWN;
        c.probes = 0;
        c.lost[0] = c.lost[1] = 0;
        (void) bpf_map_update_elem(fd, &key, &c, BPF_EXIST);
}
