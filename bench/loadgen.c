/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ht-bench-loadgen: the load generator bench/run needs and wrk lacks.
 *
 *   rate mode: GET PATH at a fixed rate over C keep-alive connections for D seconds,
 *              open loop: request i is due at start + i/RATE, and its latency is
 *              measured from that moment (not from when a connection was free), so a
 *              stalled server shows up as latency instead of a quietly lower rate
 *              (the "coordinated omission" wrk2 corrects).
 *   idle mode: open N keep-alive connections, one request each, then hold them
 *              open until SIGTERM/SIGINT or EOF on stdin, then close them all.
 *
 * Prints one line of key=value results on stdout. A benchmark tool, not part of the
 * daemon: it talks only to the server bench/run starts, whose responses it checks
 * (status line, Content-Length) enough to count them; anything else is an error.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* A response head larger than this is an error: bench/run serves small static files. */
#define HEAD_MAX 8192
/* Timer granularity of the open loop: due requests are sent in batches this often. */
#define TICK_NSEC 100000ULL
/* How long to wait for outstanding responses after the run ends. */
#define DRAIN_NSEC 3000000000ULL
/* Latency samples kept (the rest are counted, not sampled): 40k req/s for 250 s. */
#define SAMPLES_MAX 10000000U

typedef struct Conn {
        int fd;
        bool connected;
        bool busy;
        uint64_t due_ns;        /* intended send time of the request in flight */
        size_t have;            /* bytes in head[] */
        uint64_t body_left;     /* body bytes still to skip */
        bool in_body;
        char head[HEAD_MAX];
} Conn;

static const char *arg_host = "127.0.0.1";
static int arg_port;
static const char *arg_path = "/";
static double arg_rate;
static double arg_duration = 10;
static unsigned arg_connections = 50;
static unsigned arg_idle;

static volatile sig_atomic_t stop_requested;

static struct {
        uint64_t issued, completed, errors, late, bytes;
        uint32_t *samples;      /* latency in microseconds */
        size_t n_samples;
} st;

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static void on_signal(int sig) {
        stop_requested = 1;
}

static int raise_nofile(unsigned need) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        if (rl.rlim_cur >= need + 64)
                return 0;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        return rl.rlim_cur >= need + 64 ? 0 : -EMFILE;
}

static int conn_open(Conn *c, int ep, const struct sockaddr_in *sa) {
        struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = c };
        int one = 1;

        c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return -errno;
        (void) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(c->fd, (const struct sockaddr *) sa, sizeof(*sa)) < 0 && errno != EINPROGRESS)
                return -errno;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0)
                return -errno;
        return 0;
}

static int conn_send(Conn *c, const char *req, size_t len, uint64_t due) {
        ssize_t n = send(c->fd, req, len, MSG_NOSIGNAL);

        /* A small request into an empty socket buffer goes out whole or not at all. */
        if (n != (ssize_t) len)
                return n < 0 ? -errno : -EIO;
        c->busy = true;
        c->due_ns = due;
        st.issued++;
        return 0;
}

static void record_latency(uint64_t due, uint64_t now) {
        uint64_t us = now > due ? (now - due) / 1000 : 0;

        if (st.n_samples < SAMPLES_MAX)
                st.samples[st.n_samples++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t) us;
}

/* Parses what arrived; returns responses completed (>= 0) or -EBADMSG. */
static int conn_parse(Conn *c, const char *buf, size_t len) {
        int done = 0;

        while (len > 0) {
                if (c->in_body) {
                        size_t k = len < c->body_left ? len : (size_t) c->body_left;

                        c->body_left -= k;
                        buf += k;
                        len -= k;
                        if (c->body_left == 0) {
                                c->in_body = false;
                                done++;
                        }
                        continue;
                }

                size_t k = len < HEAD_MAX - c->have ? len : HEAD_MAX - c->have;
                memcpy(c->head + c->have, buf, k);
                size_t old = c->have;
                c->have += k;

                char *end = memmem(c->head, c->have, "\r\n\r\n", 4);
                if (!end) {
                        if (c->have == HEAD_MAX)
                                return -EBADMSG;
                        return done;
                }
                size_t head_len = (size_t) (end - c->head) + 4;
                if (c->have < 12 || memcmp(c->head, "HTTP/1.", 7) != 0 || c->head[9] != '2')
                        return -EBADMSG;

                uint64_t clen = 0;
                for (char *p = c->head; p && p < end; p = memchr(p, '\n', (size_t) (end - p))) {
                        if (*p == '\n')
                                p++;
                        if (strncasecmp(p, "Content-Length:", 15) == 0) {
                                clen = strtoull(p + 15, NULL, 10);
                                break;
                        }
                }
                /* Consume only the head bytes of this chunk; the rest is body or the next response. */
                size_t used = head_len - old;
                buf += used;
                len -= used;
                c->have = 0;
                c->body_left = clen;
                c->in_body = clen > 0;
                if (clen == 0)
                        done++;
        }
        return done;
}

static int conn_read(Conn *c, uint64_t now) {
        char buf[65536];

        for (;;) {
                ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                if (n == 0)
                        return -ECONNRESET;
                st.bytes += (uint64_t) n;
                int r = conn_parse(c, buf, (size_t) n);
                if (r < 0)
                        return r;
                if (r > 0) {
                        if (!c->busy || r > 1)
                                return -EBADMSG; /* one request in flight per connection */
                        c->busy = false;
                        st.completed++;
                        record_latency(c->due_ns, now);
                }
                if ((size_t) n < sizeof(buf))
                        return 0;
        }
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
        return x < y ? -1 : x > y;
}

static uint32_t percentile(double p) {
        if (st.n_samples == 0)
                return 0;
        size_t i = (size_t) (p * (double) (st.n_samples - 1) + 0.5);
        return st.samples[i];
}

static int run(void) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) arg_port) };
        unsigned n = arg_idle > 0 ? arg_idle : arg_connections;
        struct epoll_event evs[256];
        char req[512];
        Conn *conns;
        int ep, tfd, r;

        if (inet_pton(AF_INET, arg_host, &sa.sin_addr) != 1)
                return -EINVAL;
        int req_len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: ht-bench-loadgen\r\n\r\n",
                               arg_path, arg_host, arg_port);
        if (req_len < 0 || (size_t) req_len >= sizeof(req))
                return -EINVAL;
        r = raise_nofile(n);
        if (r < 0)
                return r;
        conns = calloc(n, sizeof(Conn));
        st.samples = malloc(sizeof(uint32_t) * SAMPLES_MAX);
        if (!conns || !st.samples)
                return -ENOMEM;
        ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0)
                return -errno;
        for (unsigned i = 0; i < n; i++) {
                r = conn_open(&conns[i], ep, &sa);
                if (r < 0)
                        return r;
        }

        /* Idle mode: one request on each connection once connected, then hold. */
        if (arg_idle > 0) {
                unsigned ready = 0;
                uint64_t deadline = now_ns() + 60000000000ULL;

                while (ready < n && !stop_requested && now_ns() < deadline) {
                        int k = epoll_wait(ep, evs, 256, 100);
                        for (int i = 0; i < k; i++) {
                                Conn *c = evs[i].data.ptr;
                                if ((evs[i].events & EPOLLOUT) && !c->connected) {
                                        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
                                        c->connected = true;
                                        (void) epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                                        if (conn_send(c, req, (size_t) req_len, now_ns()) < 0)
                                                st.errors++;
                                } else if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                                        bool was_busy = c->busy;
                                        if (conn_read(c, now_ns()) < 0) {
                                                st.errors++;
                                                (void) epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                                        } else if (was_busy && !c->busy)
                                                ready++;
                                }
                        }
                }
                printf("ready=%u errors=%" PRIu64 "\n", ready, st.errors);
                fflush(stdout);
                /* Hold until told to close: a signal, or EOF on stdin. */
                while (!stop_requested) {
                        char b;
                        if (read(STDIN_FILENO, &b, 1) <= 0 && errno != EINTR)
                                break;
                }
                for (unsigned i = 0; i < n; i++)
                        close(conns[i].fd);
                printf("closed=%u\n", n);
                return 0;
        }

        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (tfd < 0)
                return -errno;
        struct itimerspec its = {
                .it_interval.tv_nsec = TICK_NSEC,
                .it_value.tv_nsec = TICK_NSEC,
        };
        if (timerfd_settime(tfd, 0, &its, NULL) < 0)
                return -errno;
        struct epoll_event tev = { .events = EPOLLIN, .data.ptr = NULL };
        if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev) < 0)
                return -errno;

        uint64_t start = now_ns(), end = start + (uint64_t) (arg_duration * 1e9);
        uint64_t total = (uint64_t) (arg_rate * arg_duration);
        unsigned next_free = 0;

        while (!stop_requested) {
                uint64_t now = now_ns();
                if (now >= end + DRAIN_NSEC)
                        break;
                if (now >= end && st.completed + st.errors >= st.issued)
                        break;

                int k = epoll_wait(ep, evs, 256, 10);
                now = now_ns();
                for (int i = 0; i < k; i++) {
                        Conn *c = evs[i].data.ptr;
                        if (!c) {
                                uint64_t ticks;
                                (void) read(tfd, &ticks, sizeof(ticks));
                                continue;
                        }
                        if ((evs[i].events & EPOLLOUT) && !c->connected) {
                                struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
                                c->connected = true;
                                (void) epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                        }
                        if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                                if (conn_read(c, now) < 0) {
                                        st.errors++;
                                        c->busy = true; /* never reuse a broken connection */
                                        (void) epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                                }
                        }
                }

                /* Send every request that is due, on free connections, round robin. */
                while (st.issued < total) {
                        uint64_t due = start + (uint64_t) ((double) st.issued * 1e9 / arg_rate);
                        if (due > now)
                                break;
                        Conn *c = NULL;
                        for (unsigned j = 0; j < n; j++) {
                                Conn *t = &conns[(next_free + j) % n];
                                if (t->connected && !t->busy) {
                                        c = t;
                                        next_free = (next_free + j + 1) % n;
                                        break;
                                }
                        }
                        if (!c) {
                                /* All connections busy: the request waits, and its wait counts as latency. */
                                st.late++;
                                break;
                        }
                        if (conn_send(c, req, (size_t) req_len, due) < 0) {
                                st.errors++;
                                c->busy = true;
                                st.issued++;
                        }
                }
        }
        double elapsed = (double) (now_ns() - start) / 1e9;

        qsort(st.samples, st.n_samples, sizeof(uint32_t), cmp_u32);
        printf("target_rate=%.0f duration=%.3f issued=%" PRIu64 " completed=%" PRIu64 " errors=%" PRIu64
               " late=%" PRIu64 " unsent=%" PRIu64 " achieved_rate=%.1f p50_us=%" PRIu32 " p99_us=%" PRIu32
               " max_us=%" PRIu32 " bytes=%" PRIu64 "\n",
               arg_rate, elapsed, st.issued, st.completed, st.errors, st.late, total - st.issued,
               (double) st.completed / (arg_duration > 0 ? arg_duration : 1), percentile(0.50),
               percentile(0.99), percentile(1.0), st.bytes);
        for (unsigned i = 0; i < n; i++)
                close(conns[i].fd);
        return 0;
}

static void help(void) {
        printf("ht-bench-loadgen --port PORT [--host ADDR] [--path PATH]\n"
               "                 (--rate REQ_PER_S [--duration S] [--connections N] | --idle N)\n");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help",        no_argument,       NULL, 'h' },
                { "host",        required_argument, NULL, 'H' },
                { "port",        required_argument, NULL, 'p' },
                { "path",        required_argument, NULL, 'P' },
                { "rate",        required_argument, NULL, 'r' },
                { "duration",    required_argument, NULL, 'd' },
                { "connections", required_argument, NULL, 'c' },
                { "idle",        required_argument, NULL, 'i' },
                {}
        };
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'H':
                        arg_host = optarg;
                        break;
                case 'p':
                        arg_port = atoi(optarg);
                        break;
                case 'P':
                        arg_path = optarg;
                        break;
                case 'r':
                        arg_rate = strtod(optarg, NULL);
                        break;
                case 'd':
                        arg_duration = strtod(optarg, NULL);
                        break;
                case 'c':
                        arg_connections = (unsigned) atoi(optarg);
                        break;
                case 'i':
                        arg_idle = (unsigned) atoi(optarg);
                        break;
                default:
                        return 2;
                }
        if (arg_port <= 0 || arg_port > 65535 || arg_connections == 0 || arg_duration <= 0 ||
            (arg_idle == 0 && arg_rate <= 0)) {
                fprintf(stderr, "ht-bench-loadgen: need --port and --rate (> 0) or --idle (> 0); see --help\n");
                return 2;
        }

        struct sigaction sa = { .sa_handler = on_signal };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        r = run();
        if (r < 0) {
                fprintf(stderr, "ht-bench-loadgen: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
