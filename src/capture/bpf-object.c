/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* BPF object lifecycle and ring buffer draining; see bpf-object.h. */

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/capability.h>

#include "basic/capability.h"
#include "basic/log.h"
#include "basic/macro.h"
#include "capture/bpf-object.h"
#include "capture/source.h"
#include "config/configuration.h"
#include "http-tracer.skel.h"

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
        .tls = true,
};

/* The kernel's PID namespace inode of the initial namespace (PROC_PID_INIT_INO). */
#define PIDNS_INIT_INO UINT64_C(0xEFFFFFFC)

#define SAME(a, b) ((int) (a) == (int) (b))
_Static_assert(SAME(KFILTER_DIM_PID, HT_FILTER_DIM_PID) && SAME(KFILTER_DIM_CGROUP, HT_FILTER_DIM_CGROUP) &&
               SAME(KFILTER_DIM_LOCAL_PORT, HT_FILTER_DIM_LOCAL_PORT) &&
               SAME(KFILTER_DIM_REMOTE_PORT, HT_FILTER_DIM_REMOTE_PORT) &&
               SAME(KFILTER_DIM_ADDRESS, HT_FILTER_DIM_ADDRESS) && SAME(KFILTER_DIM_ROLE, HT_FILTER_DIM_ROLE),
               "filter.h and bpf/abi.h disagree on filter dimensions");
_Static_assert(SAME(KFILTER_FLAG_INCLUDE, HT_FILTER_INCLUDE) && SAME(KFILTER_FLAG_EXCLUDE, HT_FILTER_EXCLUDE),
               "filter.h and bpf/abi.h disagree on include/exclude flags");
_Static_assert(KFILTER_PORT_WORDS == HT_PORT_WORDS, "port bitmap sizes differ");
_Static_assert(CONFIG_PAYLOAD_SIZE_MAX == HT_PAYLOAD_CAP, "capture.payload_size's bound and the kernel's cap differ");

/* The data sources, attached in this order after load and detached in reverse. */
static const CaptureSource *const sources[] = {
        &capture_source_syscalls,
        &capture_source_openssl,
};

struct BpfTracer {
        struct http_tracer_bpf *skel;
        struct ring_buffer *rb;
        BpfRecordFn fn;
        void *userdata;
        void *source_state[ELEMENTSOF(sources)];
        int ncpus;
        uint32_t filter_seq;          /* generations handed out so far; the active one is in the BPF .bss */
        /* The ring buffer's consumer and producer positions, mapped read-only: how much waits (status, top). */
        void *rb_consumer, *rb_producer;
        /* Exchanges lost with connections user space forgot (bpf_tracer_forget()): part of exchanges_lost_unseen. */
        uint64_t unseen_forgotten;
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

/*
 * The capabilities the daemon lacks for what it is about to do, as
 * "CAP_A and CAP_B" in buf (empty when none is missing or the effective set
 * cannot be read). Reading root-only files needs CAP_DAC_READ_SEARCH (or
 * CAP_DAC_OVERRIDE) unless the uid is 0; loading and attaching need CAP_BPF
 * and CAP_PERFMON, for both of which CAP_SYS_ADMIN also does.
 */
static const char *missing_capabilities(bool files, bool bpf, char *buf, size_t size) {
        static const struct {
                int cap;
                const char *name;
        } caps[] = {
                { CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH" },
                { CAP_BPF, "CAP_BPF" },
                { CAP_PERFMON, "CAP_PERFMON" },
        };
        uint64_t eff;
        size_t len = 0;

        buf[0] = 0;
        if (capability_get_effective(&eff) < 0)
                return buf;
        for (size_t i = 0; i < ELEMENTSOF(caps); i++) {
                bool is_dac = caps[i].cap == CAP_DAC_READ_SEARCH;

                if (is_dac ? !files || geteuid() == 0 || (eff & (UINT64_C(1) << CAP_DAC_OVERRIDE)) : !bpf ||
                                     (eff & (UINT64_C(1) << CAP_SYS_ADMIN)))
                        continue;
                if (eff & (UINT64_C(1) << caps[i].cap))
                        continue;
                len += snprintf(buf + len, size - MIN(len, size), "%s%s", len ? " and " : "", caps[i].name);
        }
        return buf;
}

/* What to do about an EACCES/EPERM, naming what is missing, in buf. */
static const char *privilege_hint(char *buf, size_t size) {
        char missing[96];

        if (*missing_capabilities(true, true, missing, sizeof(missing)))
                snprintf(buf, size, "Run http-tracer as root, or grant what it lacks: %s", missing);
        else
                snprintf(buf, size, "Run http-tracer as root");
        return buf;
}

static int check_kernel(void) {
        struct btf *btf;
        char p[256], hint[160];
        int r, fd;

        /* Open, not access(): access() checks the real uid and ignores capabilities. */
        fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == EACCES || errno == EPERM)
                        return log_error_errno(errno, "Cannot read /sys/kernel/btf/vmlinux: %m. %s.",
                                               privilege_hint(hint, sizeof(hint)));
                return log_error_errno(EOPNOTSUPP,
                                       "This kernel has no BTF (/sys/kernel/btf/vmlinux is missing); "
                                       "http-tracer needs a kernel built with CONFIG_DEBUG_INFO_BTF=y.");
        }
        close(fd);
        /*
         * Readable is not enough: an empty or damaged file (seen in trimmed
         * containers) otherwise surfaces as "Failed to load BPF programs: No
         * such process" from the CO-RE relocations. Parse it once here, as
         * libbpf is about to.
         */
        btf = btf__parse("/sys/kernel/btf/vmlinux", NULL);
        if (!btf) {
                char why[128];

                r = -errno;
                (void) libbpf_strerror(r, why, sizeof(why));  /* libbpf's own codes (4000+) too */
                return log_error_errno(r <= -__LIBBPF_ERRNO__START ? -EBADMSG : r,
                                       "/sys/kernel/btf/vmlinux is not valid BTF (%s); http-tracer needs the running "
                                       "kernel's own BTF (CONFIG_DEBUG_INFO_BTF=y). Is something mounted over it?", why);
        }
        btf__free(btf);

        /* The id file libbpf reads to attach (mode 0440, root's): opened as libbpf will. */
        snprintf(p, sizeof(p), "%s/events/syscalls/sys_enter_read/id", tracing_dir());
        fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == EACCES || errno == EPERM)
                        return log_error_errno(errno, "Cannot open %s: %m. %s.", p,
                                               privilege_hint(hint, sizeof(hint)));
                if (access("/sys/kernel/tracing/events", F_OK) < 0)
                        return log_error_errno(ENOENT,
                                               "tracefs is not mounted (no /sys/kernel/tracing/events). "
                                               "Mount it with 'mount -t tracefs nodev /sys/kernel/tracing' and start again.");
                return log_error_errno(EOPNOTSUPP,
                                       "The kernel has no syscall tracepoints (%s is missing); "
                                       "http-tracer needs CONFIG_FTRACE_SYSCALLS=y.", p);
        }
        close(fd);
        return 0;
}

/*
 * Inside a PID namespace other than the initial one (a container), the
 * programs report and filter PIDs as this namespace numbers them, so that
 * PROCESS_PID means something to the journald next to us; see the BPF side.
 */
static int set_pidns(BpfTracer *t) {
        struct stat st;

        if (stat("/proc/self/ns/pid", &st) < 0)
                return log_error_errno(errno, "Failed to stat /proc/self/ns/pid: %m");
        if ((uint64_t) st.st_ino == PIDNS_INIT_INO)
                return 0;
        t->skel->rodata->pidns_dev = (uint64_t) st.st_dev;
        t->skel->rodata->pidns_ino = (uint64_t) st.st_ino;
        log_debug("Running in PID namespace %" PRIu64 ": tracing only its tasks, with its PIDs.", (uint64_t) st.st_ino);
        return 0;
}

static int ringbuf_cb(void *ctx, void *data, size_t size) {
        BpfTracer *t = ctx;
        uint32_t own;

        /* A data record sits in a slot of a fixed size (bpf/lib/emit.bpf.h): its header says how much
         * of it is the record, so that recordings and the decoder see the record and not the padding. */
        if (size >= sizeof(struct ht_event_header)) {
                memcpy(&own, (const uint8_t *) data + offsetof(struct ht_event_header, size), sizeof(own));
                if (own >= sizeof(struct ht_event_header) && own < size)
                        size = own;
        }
        (void) t->fn(t->userdata, data, size);
        /* Never stop the drain on one bad record: the callee counts its own failures. */
        return 0;
}

static int explain_load_error(int r) {
        char missing[96];

        if ((r == -EPERM || r == -EACCES) && *missing_capabilities(true, true, missing, sizeof(missing)))
                return log_error_errno(r, "Loading BPF programs was refused (%m): http-tracer lacks %s. "
                                       "It needs CAP_BPF and CAP_PERFMON (plus CAP_DAC_READ_SEARCH when not uid 0).",
                                       missing);
        if (r == -EPERM || r == -EACCES)
                return log_error_errno(r, "Loading BPF programs was refused (%m). Run http-tracer as root, "
                                       "or with CAP_BPF and CAP_PERFMON (plus CAP_DAC_READ_SEARCH when not uid 0).");
        return log_error_errno(r, "Failed to load BPF programs: %m. Run with --log-level debug for the verifier's log.");
}

/* Attach every source of sources[] that o enables; every program of the object must belong to one. */
static int attach_sources(BpfTracer *t, const BpfTracerOptions *o) {
        struct bpf_program *prog;
        int r;

        bpf_object__for_each_program(prog, t->skel->obj) {
                unsigned owners = 0;

                for (size_t i = 0; i < ELEMENTSOF(sources); i++)
                        owners += sources[i]->owns(prog);
                if (owners != 1)
                        return log_error_errno(EINVAL, "BPF program %s (%s) belongs to %u data sources, expected one.",
                                               bpf_program__name(prog), bpf_program__section_name(prog), owners);
        }
        for (size_t i = 0; i < ELEMENTSOF(sources); i++) {
                if (sources[i] == &capture_source_openssl && !o->tls) {
                        log_debug("Data source %s: disabled (tls.enabled=no).", sources[i]->name);
                        continue;
                }
                r = sources[i]->attach(t->skel->obj, &t->source_state[i]);
                if (r < 0)
                        return r;
                log_debug("Data source %s: %u programs attached.", sources[i]->name,
                          sources[i]->attached(t->source_state[i]));
        }
        return 0;
}

int bpf_tracer_new(const BpfTracerOptions *o, BpfRecordFn fn, void *userdata, BpfTracer **ret) {
        BpfTracer *t;
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
        r = set_pidns(t);
        if (r < 0) {
                bpf_tracer_free(t);
                return r;
        }
        /* Records name sockets by their kernel address masked with this; without it they would show the address. */
        if (getrandom((void *) &t->skel->rodata->sock_salt, sizeof(t->skel->rodata->sock_salt), 0) !=
            sizeof(t->skel->rodata->sock_salt)) {
                r = negative_errno();
                bpf_tracer_free(t);
                return log_error_errno(r, "Failed to choose the socket salt: %m");
        }
        t->skel->rodata->payload_max = o->payload_max;
        t->skel->rodata->wakeup_bytes = o->wakeup_bytes;
        r = bpf_map__set_max_entries(t->skel->maps.events, o->ringbuf_size);
        if (r >= 0)
                r = bpf_map__set_max_entries(t->skel->maps.conns, o->conns_max);
        if (r >= 0)
                r = bpf_map__set_max_entries(t->skel->maps.tls_conns,
                                             MAX(o->conns_max / (HT_MAP_CONNS_DEFAULT / HT_MAP_TLS_CONNS_DEFAULT), 64u));
        /* Ties outlive views (abi.h): HT_MAP_TLS_FDS_PER_CONN per view. */
        if (r >= 0)
                r = bpf_map__set_max_entries(t->skel->maps.tls_fds,
                                             HT_MAP_TLS_FDS_PER_CONN * bpf_map__max_entries(t->skel->maps.tls_conns));
        if (r < 0) {
                bpf_tracer_free(t);
                return log_error_errno(r, "Failed to size BPF maps: %m");
        }

        r = http_tracer_bpf__load(t->skel);
        if (r < 0) {
                bpf_tracer_free(t);
                return explain_load_error(r);
        }

        /* Before the first attach: no syscall may be traced under anything but the configured filter. */
        r = bpf_tracer_set_filter(t, o->filter);
        if (r < 0) {
                bpf_tracer_free(t);
                return log_error_errno(r, "Failed to install the kernel filter: %m");
        }

        r = attach_sources(t, o);
        if (r < 0) {
                bpf_tracer_free(t);
                return r == -EPERM || r == -EACCES ? explain_load_error(r) : r;
        }

        t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.events), ringbuf_cb, t, NULL);
        if (!t->rb) {
                r = negative_errno();
                bpf_tracer_free(t);
                return log_error_errno(r, "Failed to set up the ring buffer: %m");
        }

        /* The kernel's layout (BPF_MAP_TYPE_RINGBUF): consumer page, then producer page. Optional. */
        t->rb_consumer = mmap(NULL, (size_t) getpagesize(), PROT_READ, MAP_SHARED, bpf_map__fd(t->skel->maps.events), 0);
        t->rb_producer = mmap(NULL, (size_t) getpagesize(), PROT_READ, MAP_SHARED, bpf_map__fd(t->skel->maps.events),
                              getpagesize());
        *ret = t;
        return 0;
}

uint64_t bpf_tracer_ringbuf_used(const BpfTracer *t) {
        unsigned long cons, prod;

        if (!t || !t->rb_consumer || !t->rb_producer || t->rb_consumer == MAP_FAILED || t->rb_producer == MAP_FAILED)
                return 0;
        cons = __atomic_load_n((const unsigned long *) t->rb_consumer, __ATOMIC_ACQUIRE);
        prod = __atomic_load_n((const unsigned long *) t->rb_producer, __ATOMIC_ACQUIRE);
        return prod >= cons ? prod - cons : 0;
}

BpfTracer *bpf_tracer_free(BpfTracer *t) {
        if (!t)
                return NULL;
        if (t->rb_consumer && t->rb_consumer != MAP_FAILED)
                (void) munmap(t->rb_consumer, (size_t) getpagesize());
        if (t->rb_producer && t->rb_producer != MAP_FAILED)
                (void) munmap(t->rb_producer, (size_t) getpagesize());
        ring_buffer__free(t->rb);
        for (size_t i = ELEMENTSOF(sources); i > 0; i--)
                sources[i - 1]->detach(TAKE_PTR(t->source_state[i - 1]));
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

int bpf_tracer_read_counters(BpfTracer *t, uint64_t ret[_KERNEL_COUNTER_MAX]) {
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
        ret[KERNEL_COUNTER_EXCHANGES_LOST_UNSEEN] += t->unseen_forgotten;
        return 0;
}

unsigned bpf_tracer_programs_attached(const BpfTracer *t) {
        unsigned n = 0;

        for (size_t i = 0; t && i < ELEMENTSOF(sources); i++)
                n += sources[i]->attached(t->source_state[i]);
        return n;
}

int bpf_tracer_rescan(BpfTracer *t) {
        int n = 0;

        for (size_t i = 0; t && i < ELEMENTSOF(sources); i++) {
                int r;

                if (!sources[i]->rescan || !t->source_state[i])
                        continue;
                r = sources[i]->rescan(t->source_state[i], t->skel->obj);
                if (r < 0)
                        return r;
                n += r;
        }
        return n;
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

uint32_t bpf_tracer_unreported_requests(uint8_t role, uint32_t lost_starts_ingress, uint32_t lost_starts_egress) {
        /* As lose_unreported() in bpf/lib/emit.bpf.h: the role says which direction holds requests. */
        if (role == HT_ROLE_SERVER)
                return lost_starts_ingress;
        if (role == HT_ROLE_CLIENT)
                return lost_starts_egress;
        return MAX(lost_starts_ingress, lost_starts_egress);
}

/*
 * User space is done with a connection (its process exited, or it was idle
 * for limits.idle_timeout): its kernel entry is deleted, or kept to be
 * classified and announced again. Either way the losses no record reported
 * yet would reach no one, so they are ended as the kernel ends them
 * (lose_unreported()): the request starts among them are exchanges lost
 * unseen, counted here and added to the kernel's exchanges_lost_unseen by
 * bpf_tracer_read_counters(), and the entry keeps none of them. The read
 * and the write are two syscalls: a syscall of that connection in between
 * (none is expected from an exited process or an idle connection) could
 * add a loss that goes uncounted, or report one counted here.
 */
void bpf_tracer_forget(BpfTracer *t, const ConnInfo *info, bool reannounce) {
        struct ht_conn_key key = { .sock = t ? info->sock ^ t->skel->rodata->sock_salt : 0 };
        struct ht_conn c;
        int fd;

        /* Each source has its view of the socket in its own map. */
        if (!t)
                return;
        if (info->source == CONN_SOURCE_SYSCALL)
                fd = bpf_map__fd(t->skel->maps.conns);
        else if (info->source == CONN_SOURCE_TLS)
                fd = bpf_map__fd(t->skel->maps.tls_conns);
        else
                return;
        if (bpf_map_lookup_elem(fd, &key, &c) < 0 || c.id != info->id)
                return;   /* already gone or replaced: nothing of ours to forget */
        t->unseen_forgotten += bpf_tracer_unreported_requests(c.role, c.lost_starts[HT_DIR_INGRESS],
                                                              c.lost_starts[HT_DIR_EGRESS]);
        if (!reannounce) {
                (void) bpf_map_delete_elem(fd, &key);
                return;
        }
        /* Classify again from the next message start, and send a fresh CONN_OPEN. */
        c.flags &= ~(HT_CONN_ANNOUNCED | HT_CONN_SEEN_START | HT_CONN_SYNC_INGRESS | HT_CONN_SYNC_EGRESS);
        c.protocol = HT_PROTO_UNKNOWN;
        c.probes = 0;
        c.tail[0] = c.tail[1] = HT_TAIL_UNKNOWN;
        c.lost[0] = c.lost[1] = 0;
        c.lost_starts[0] = c.lost_starts[1] = 0;
        (void) bpf_map_update_elem(fd, &key, &c, BPF_EXIST);
}

/* Delete every key of a filter map that belongs to slot (slot_of() says which one a key is in). */
static int map_clear_slot(int fd, size_t key_size, uint32_t slot, uint32_t (*slot_of)(const void *key)) {
        _cleanup_(freep) uint8_t *keys = NULL;
        uint8_t cur[64], next[64];
        size_t n = 0, cap = 0;
        bool first = true;
        int r;

        assert(key_size <= sizeof(cur));
        for (;;) {
                r = bpf_map_get_next_key(fd, first ? NULL : cur, next);
                if (r < 0) {
                        r = negative_errno();
                        if (r == -ENOENT)
                                break;
                        return r;
                }
                first = false;
                memcpy(cur, next, key_size);
                if (slot_of(next) != slot)
                        continue;
                if (n == cap) {
                        uint8_t *k = realloc(keys, (cap = cap ? cap * 2 : 64) * key_size);
                        if (!k)
                                return -ENOMEM;
                        keys = k;
                }
                memcpy(keys + n++ * key_size, next, key_size);
        }
        /* Deleted after the walk: deleting under get_next_key() could restart it. */
        for (size_t i = 0; i < n; i++)
                if (bpf_map_delete_elem(fd, keys + i * key_size) < 0 && errno != ENOENT)
                        return negative_errno();
        return 0;
}

static uint32_t pid_key_slot(const void *k) {
        struct ht_filter_pid_key key;
        memcpy(&key, k, sizeof(key));
        return key.slot;
}

static uint32_t cgroup_key_slot(const void *k) {
        struct ht_filter_cgroup_key key;
        memcpy(&key, k, sizeof(key));
        return key.slot;
}

static uint32_t addr_key_slot(const void *k) {
        struct ht_filter_addr_key key;
        memcpy(&key, k, sizeof(key));
        return key.tag >> 2;
}

/* Add flags to the entry of key (an id listed as unit and path, or in both halves, carries both). */
static int map_or_flags(int fd, const void *key, uint8_t flags) {
        uint8_t v = 0;

        if (bpf_map_lookup_elem(fd, key, &v) < 0 && errno != ENOENT)
                return negative_errno();
        v |= flags;
        if (bpf_map_update_elem(fd, key, &v, BPF_ANY) < 0)
                return negative_errno();
        return 0;
}

static int fill_addrs(int fd, uint32_t slot, uint32_t half, bool v6, const KernelFilterPrefix *p, size_t n) {
        static const uint8_t one = 1;

        for (size_t i = 0; i < n; i++) {
                struct ht_filter_addr_key k = {
                        .prefixlen = 8 + p[i].prefixlen,
                        .tag = (uint8_t) (slot << 2 | half << 1 | (v6 ? 1 : 0)),
                };

                memcpy(k.addr, p[i].addr, v6 ? 16 : 4);
                if (bpf_map_update_elem(fd, &k, &one, BPF_ANY) < 0)
                        return negative_errno();
        }
        return 0;
}

/* Write f into the maps of slot (not the active one). */
static int fill_slot(BpfTracer *t, uint32_t slot, const KernelFilter *f) {
        int pids = bpf_map__fd(t->skel->maps.filter_pids);
        int cgroups = bpf_map__fd(t->skel->maps.filter_cgroups);
        int addrs = bpf_map__fd(t->skel->maps.filter_addrs);
        int ports = bpf_map__fd(t->skel->maps.filter_ports);
        static const struct ht_port_bitmap empty = {};
        int r;

        r = map_clear_slot(pids, sizeof(struct ht_filter_pid_key), slot, pid_key_slot);
        if (r >= 0)
                r = map_clear_slot(cgroups, sizeof(struct ht_filter_cgroup_key), slot, cgroup_key_slot);
        if (r >= 0)
                r = map_clear_slot(addrs, sizeof(struct ht_filter_addr_key), slot, addr_key_slot);
        if (r < 0)
                return r;

        for (uint32_t dim = 0; dim < 2; dim++)
                for (uint32_t half = 0; half < 2; half++) {
                        const uint64_t *bits = !f ? (const uint64_t *) empty.bits : dim == 0 ? f->local_ports[half] : f->remote_ports[half];
                        uint32_t idx = (slot * 2 + dim) * 2 + half;

                        /* The map value is exactly the bitmap: KFILTER_PORT_WORDS == HT_PORT_WORDS. */
                        if (bpf_map_update_elem(ports, &idx, bits, BPF_ANY) < 0)
                                return negative_errno();
                }
        if (!f)
                return 0;

        for (size_t i = 0; i < f->n_pids; i++) {
                struct ht_filter_pid_key k = { .pid = f->pids[i].pid, .slot = slot };

                r = map_or_flags(pids, &k, f->pids[i].flags);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < f->n_cgroups; i++) {
                struct ht_filter_cgroup_key k = { .id = f->cgroups[i].id, .slot = slot };

                if (k.id == 0)
                        continue;   /* not resolved (yet): matches nothing */
                r = map_or_flags(cgroups, &k, f->cgroups[i].flags);
                if (r < 0)
                        return r;
        }
        for (uint32_t half = 0; half < 2; half++) {
                r = fill_addrs(addrs, slot, half, false, f->addr4[half], f->n_addr4[half]);
                if (r >= 0)
                        r = fill_addrs(addrs, slot, half, true, f->addr6[half], f->n_addr6[half]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int bpf_tracer_set_filter(BpfTracer *t, const KernelFilter *f) {
        struct http_tracer_bpf__bss *bss;
        uint32_t seq, slot;
        bool none;
        int r;

        if (!t || !t->skel->bss)
                return -EINVAL;
        bss = t->skel->bss;
        none = !f || kernel_filter_is_empty(f);

        /*
         * Generation 0 is "no filter"; the next one uses the slot the active
         * generation does not. The slot written now was last active one
         * change ago: no program can still be reading it.
         */
        seq = t->filter_seq + 1;
        if (seq == 0)
                seq = 2;   /* wrapped: keep off 0, and off the slot of UINT32_MAX */
        slot = seq & 1;
        r = fill_slot(t, slot, none ? NULL : f);
        if (r < 0)
                return r;
        bss->filter_config[slot] = (struct ht_filter_config) {
                .include = none ? 0 : f->include_active,
                .exclude = none ? 0 : kernel_filter_exclude_active(f),
                .roles = { none ? 0 : f->roles[KFILTER_INCLUDE], none ? 0 : f->roles[KFILTER_EXCLUDE] },
        };
        t->filter_seq = seq;
        /* The flip: the maps are complete before any program can see the new generation. */
        __atomic_store_n(&bss->filter_gen, none ? 0 : seq, __ATOMIC_SEQ_CST);
        return 0;
}
