/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The service table; see service-table.h. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/hashmap.h"
#include "config/configuration.h"
#include "output/service-table.h"

_Static_assert(SERVICE_BOUNDS_MAX == CONFIG_METRICS_BUCKETS_MAX, "metrics.buckets is checked at load");
_Static_assert(CONN_COMM_LEN == 2 * sizeof(uint64_t), "the row cache keys on the comm as two words");

/*
 * Connections map to rows through a direct-mapped cache keyed by what
 * decides the row (cgroup, role, comm), so that an exchange costs no unit
 * lookup and no string comparison of the unit; a collision costs one
 * lookup. 1024 slots: more processes than a host runs HTTP in.
 */
#define ROW_CACHE_SLOTS 1024u

typedef struct RowSlot {
        uint64_t cgroup_id;
        ServiceRow *row;              /* NULL: empty */
        uint8_t role;
        bool folded;                  /* row is a SERVICE_OTHER row */
        char comm[CONN_COMM_LEN];     /* the comm's bytes as the connection holds them, compared whole */
} RowSlot;

/*
 * Requests map to routes through a second direct-mapped cache, keyed by
 * (row, target): route_fold(), the route's hash and its search cost ~370
 * instructions per exchange (issue 14, bench section 4), a slot's check a
 * hash of the target's ends and one compare. A repeated target (a health
 * check, an API's endpoints, a static file) is the common case; a miss
 * costs the check and a copy. Only targets up to ROUTE_CACHE_TARGET bytes,
 * and only routes found or made: the "other" fallback is never cached, so
 * routes_folded goes on counting. The fold is fixed between
 * service_table_set_routes() calls, which empty the cache, and routes are
 * never removed, so a hit is what route_of() would answer. 128 slots
 * (9 KiB): more routes than a service has hot.
 */
#define ROUTE_CACHE_SLOTS 128u
#define ROUTE_CACHE_TARGET 48u

typedef struct RouteSlot {
        const ServiceRow *row;        /* NULL: empty */
        ServiceRoute *route;
        size_t len;
        char target[ROUTE_CACHE_TARGET];
} RouteSlot;

struct ServiceTable {
        ServiceTableOptions opts;
        const RouteFold *fold;

        ServiceRow **rows;
        size_t n_rows;                /* rows of services; the SERVICE_OTHER rows are not counted */
        size_t n_all, allocated;      /* all rows, SERVICE_OTHER ones included */
        HashMap *by_key;              /* hash of (unit, role) -> row */
        RowSlot *cache;               /* ROW_CACHE_SLOTS */
        RouteSlot *route_cache;       /* ROUTE_CACHE_SLOTS */

        uint64_t services_folded;
        uint64_t oom;
        size_t memory;
};

static const char *const method_names[_SERVICE_METHOD_MAX] = {
        [SERVICE_METHOD_GET] = "GET",
        [SERVICE_METHOD_HEAD] = "HEAD",
        [SERVICE_METHOD_POST] = "POST",
        [SERVICE_METHOD_PUT] = "PUT",
        [SERVICE_METHOD_DELETE] = "DELETE",
        [SERVICE_METHOD_PATCH] = "PATCH",
        [SERVICE_METHOD_OPTIONS] = "OPTIONS",
        [SERVICE_METHOD_CONNECT] = "CONNECT",
        [SERVICE_METHOD_TRACE] = "TRACE",
        [SERVICE_METHOD_OTHER] = "OTHER",
};

static const char *const status_names[_SERVICE_STATUS_MAX] = {
        [SERVICE_STATUS_1XX] = "1xx",
        [SERVICE_STATUS_2XX] = "2xx",
        [SERVICE_STATUS_3XX] = "3xx",
        [SERVICE_STATUS_4XX] = "4xx",
        [SERVICE_STATUS_5XX] = "5xx",
        [SERVICE_STATUS_OTHER] = "other",
        [SERVICE_STATUS_NONE] = "none",
};

const char *service_method_name(ServiceMethod m) {
        return (unsigned) m < _SERVICE_METHOD_MAX ? method_names[m] : NULL;
}

const char *service_status_name(ServiceStatus s) {
        return (unsigned) s < _SERVICE_STATUS_MAX ? status_names[s] : NULL;
}

/* Inline in service_table_add(), once per exchange; the exported names call them. */
static inline ServiceMethod method_of(const char *method) {
        /* Most requests are GETs: without a call. */
        if (method && method[0] == 'G' && method[1] == 'E' && method[2] == 'T' && method[3] == 0)
                return SERVICE_METHOD_GET;
        /* Methods are case-sensitive (RFC 9110 §9.1): "get" is another method. */
        for (unsigned i = 0; method && i < SERVICE_METHOD_OTHER; i++)
                if (strcmp(method, method_names[i]) == 0)
                        return (ServiceMethod) i;
        return SERVICE_METHOD_OTHER;
}

static inline ServiceStatus status_of(unsigned status) {
        if (status < 100 || status > 599)
                return SERVICE_STATUS_OTHER;
        return (ServiceStatus) (status / 100 - 1);
}

ServiceMethod service_method_from_string(const char *method) {
        return method_of(method);
}

ServiceStatus service_status_from_code(unsigned status) {
        return status_of(status);
}

/* FNV-1a: the keys are our own labels (bounded, already folded), not raw peer bytes. */
static uint64_t hash_string(const char *s, uint64_t h) {
        for (; *s; s++)
                h = (h ^ (unsigned char) *s) * UINT64_C(0x100000001b3);
        return h;
}

#define HASH_SEED UINT64_C(0xcbf29ce484222325)

static uint64_t row_key(const char *unit, ConnRole role) {
        return hash_string(unit, HASH_SEED ^ role);
}

static int default_unit(void *userdata, const ConnInfo *c, char *buf, size_t size) {
        size_t n;
        int r;

        /* resolved once when the connection opened (capture/cgroup-unit.h), never per exchange */
        r = snprintf(buf, size, "%s", conn_info_unit(c) ?: "");
        if (r <= 0)
                return -ENOENT;
        if ((size_t) r >= size)
                return -ENAMETOOLONG;
        /* Scopes (login sessions, containers) come and go: their processes are named by comm. */
        n = strlen(buf);
        if (n < 8 || strcmp(buf + n - 8, ".service") != 0)
                return -ENOENT;
        return 0;
}

int service_table_new(const ServiceTableOptions *o, ServiceTable **ret) {
        _cleanup_(service_table_freep) ServiceTable *t = NULL;

        if (!o || !ret || o->services_max == 0 || o->routes_max == 0 || o->n_bounds == 0 ||
            o->n_bounds > SERVICE_BOUNDS_MAX)
                return -EINVAL;
        for (size_t i = 1; i < o->n_bounds; i++)
                if (o->bounds_usec[i] <= o->bounds_usec[i - 1])
                        return -EINVAL;
        t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->opts = *o;
        if (!t->opts.unit)
                t->opts.unit = default_unit;
        t->by_key = hashmap_new();
        t->cache = calloc(ROW_CACHE_SLOTS, sizeof(RowSlot));
        t->route_cache = calloc(ROUTE_CACHE_SLOTS, sizeof(RouteSlot));
        if (!t->by_key || !t->cache || !t->route_cache)
                return -ENOMEM;
        t->memory = sizeof(*t) + ROW_CACHE_SLOTS * sizeof(RowSlot) + ROUTE_CACHE_SLOTS * sizeof(RouteSlot);
        *ret = TAKE_PTR(t);
        return 0;
}

static ServiceRow *row_free(ServiceRow *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_routes; i++) {
                sparse_histogram_done(&r->routes[i]->latency);
                free(r->routes[i]);
        }
        free(r->routes);
        return mfree(r);
}

ServiceTable *service_table_free(ServiceTable *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_all; i++)
                row_free(t->rows[i]);
        free(t->rows);
        hashmap_free(t->by_key);
        free(t->cache);
        free(t->route_cache);
        return mfree(t);
}

void service_table_set_routes(ServiceTable *t, const RouteFold *f) {
        t->fold = f;
        /* a target may fold to another route now */
        memset(t->route_cache, 0, ROUTE_CACHE_SLOTS * sizeof(RouteSlot));
}

static ServiceRow *row_find(ServiceTable *t, const char *unit, ConnRole role) {
        ServiceRow *r = hashmap_get(t->by_key, row_key(unit, role));

        if (r && r->role == role && strcmp(r->unit, unit) == 0)
                return r;
        if (!r)
                return NULL;
        /* Two keys with one hash: look at every row (never seen; correct anyway). */
        for (size_t i = 0; i < t->n_all; i++)
                if (t->rows[i]->role == role && strcmp(t->rows[i]->unit, unit) == 0)
                        return t->rows[i];
        return NULL;
}

static ServiceRow *row_add(ServiceTable *t, const char *unit, ConnRole role) {
        _cleanup_(freep) ServiceRow *r = NULL;

        if (t->n_all == t->allocated) {
                size_t n = t->allocated ? t->allocated * 2 : 16;
                ServiceRow **rows = realloc(t->rows, n * sizeof(ServiceRow *));

                if (!rows)
                        return NULL;
                t->rows = rows;
                t->allocated = n;
                t->memory += (n - t->n_all) * sizeof(ServiceRow *);
        }
        r = calloc(1, sizeof(*r));
        if (!r)
                return NULL;
        snprintf(r->unit, sizeof(r->unit), "%s", unit);
        r->role = role;
        /* A hash taken by another key keeps its row; the new one is found by row_find()'s scan. */
        if (hashmap_put(t->by_key, row_key(r->unit, role), r) == -ENOMEM)
                return NULL;
        t->memory += sizeof(*r);
        t->rows[t->n_all++] = r;
        return TAKE_PTR(r);
}

/* The row of a connection: found, made, or (past services_max) the SERVICE_OTHER row. */
static ServiceRow *row_of(ServiceTable *t, const ConnInfo *c, bool *ret_folded) {
        static const char no_comm[CONN_COMM_LEN];
        char unit[SERVICE_UNIT_MAX + 1];
        const char *comm = c ? c->comm : no_comm;
        ConnRole role = c ? (ConnRole) c->role : CONN_ROLE_UNKNOWN;
        uint64_t cg = c ? c->cgroup_id : 0, k[2];
        RowSlot *slot;
        ServiceRow *r;
        bool folded = false;

        /* The comm's 16 bytes whole: a cheap key, and a miss (never a wrong hit) if bytes after its NUL differ. */
        memcpy(k, comm, sizeof(k));
        slot = &t->cache[((cg ^ k[0] * UINT64_C(0x9e3779b97f4a7c15) ^ k[1] * UINT64_C(0xc2b2ae3d27d4eb4f)) * 31 + role) %
                         ROW_CACHE_SLOTS];
        if (slot->row && slot->cgroup_id == cg && slot->role == role && memcmp(slot->comm, comm, sizeof(k)) == 0) {
                *ret_folded = slot->folded;
                return slot->row;
        }

        if (!c || t->opts.unit(t->opts.unit_userdata, c, unit, sizeof(unit)) < 0)
                snprintf(unit, sizeof(unit), "comm:%s", c ? c->comm : "");
        r = row_find(t, unit, role);
        if (!r) {
                if (t->n_rows < t->opts.services_max) {
                        r = row_add(t, unit, role);
                        if (r)
                                t->n_rows++;
                } else {
                        r = row_find(t, SERVICE_OTHER, role) ?: row_add(t, SERVICE_OTHER, role);
                        folded = true;
                }
                if (!r)
                        return NULL;
        }
        folded = folded || strcmp(r->unit, SERVICE_OTHER) == 0;
        *slot = (RowSlot) { .cgroup_id = cg, .row = r, .role = (uint8_t) role, .folded = folded };
        memcpy(slot->comm, comm, sizeof(k));
        *ret_folded = folded;
        return r;
}

static ServiceRoute *route_add(ServiceTable *t, ServiceRow *r, const char *route, uint64_t h) {
        ServiceRoute *x;

        if (r->n_routes == r->allocated) {
                size_t n = r->allocated ? r->allocated * 2 : 4;
                ServiceRoute **routes = realloc(r->routes, n * sizeof(ServiceRoute *));

                if (!routes)
                        return NULL;
                r->routes = routes;
                t->memory += (n - r->allocated) * sizeof(ServiceRoute *);
                r->allocated = n;
        }
        x = calloc(1, sizeof(*x));
        if (!x)
                return NULL;
        snprintf(x->route, sizeof(x->route), "%s", route);
        x->hash = h;
        t->memory += sizeof(*x);
        r->routes[r->n_routes++] = x;
        return x;
}

static ServiceRoute *route_find(ServiceRow *r, const char *route, uint64_t h) {
        for (size_t i = 0; i < r->n_routes; i++)
                if (r->routes[i]->hash == h && strcmp(r->routes[i]->route, route) == 0)
                        return r->routes[i];
        return NULL;
}

/* The slot of (row, target) in the route cache: the target's length and its first and last 8 bytes. */
static RouteSlot *route_slot(ServiceTable *t, const ServiceRow *r, const char *target, size_t len) {
        uint64_t a = 0, b = 0, h;

        /* A constant size where it can be (most targets): one load rather than a copy of len bytes. */
        if (len >= sizeof(a))
                memcpy(&a, target, sizeof(a));
        else
                memcpy(&a, target, len);
        if (len > sizeof(b))
                memcpy(&b, target + len - sizeof(b), sizeof(b));
        h = (a * UINT64_C(0x9e3779b97f4a7c15)) ^ (b * UINT64_C(0xc2b2ae3d27d4eb4f)) ^ (len << 7) ^
            (uint64_t) (uintptr_t) r;
        return &t->route_cache[(h ^ (h >> 29)) % ROUTE_CACHE_SLOTS];
}

/* The route of a request in row r: found, made, or (past the cap) "other". */
static ServiceRoute *route_of(ServiceTable *t, ServiceRow *r, const HttpMessage *req) {
        char route[ROUTE_BUF_SIZE];
        size_t len = req->target ? strlen(req->target) : 0;
        RouteSlot *slot = NULL;
        ServiceRoute *x;
        uint64_t h;
        int k;

        if (req->target && len <= ROUTE_CACHE_TARGET) {
                slot = route_slot(t, r, req->target, len);
                if (slot->row == r && slot->len == len && memcmp(slot->target, req->target, len) == 0)
                        return slot->route;
        }

        k = route_fold(t->fold, req->target, len, route);
        h = hash_string(route, HASH_SEED);
        x = route_find(r, route, h);
        /*
         * Templates are the operator's (at most ROUTE_TEMPLATES_MAX of them per
         * configuration); the heuristic's routes are the peers' and capped.
         */
        if (!x &&
            (k < 0 ? r->n_heuristic < t->opts.routes_max : r->n_routes < t->opts.routes_max + ROUTE_TEMPLATES_MAX)) {
                x = route_add(t, r, route, h);
                if (x && k < 0)
                        r->n_heuristic++;
                if (!x)
                        return NULL;
        }
        if (x) {
                if (slot) {
                        *slot = (RouteSlot) { .row = r, .route = x, .len = len };
                        memcpy(slot->target, req->target, len);
                }
                return x;
        }
        r->routes_folded++;
        h = hash_string(SERVICE_OTHER, HASH_SEED);
        return route_find(r, SERVICE_OTHER, h) ?: route_add(t, r, SERVICE_OTHER, h);
}

static size_t bound_index(const ServiceTable *t, uint64_t usec) {
        size_t i = 0;

        /* le: a duration equal to a bound is within it */
        while (i < t->opts.n_bounds && usec > t->opts.bounds_usec[i])
                i++;
        return i;
}

void service_table_add(ServiceTable *t, const Exchange *x) {
        const HttpMessage *req = x->request, *resp = x->response;
        ServiceCounters *c;
        ServiceRow *r;
        ServiceRoute *route;
        bool folded;
        size_t before;

        if (!req || (x->kind != EXCHANGE_COMPLETE && x->kind != EXCHANGE_NO_RESPONSE))
                return;
        r = row_of(t, x->conn, &folded);
        if (!r) {
                t->oom++;
                return;
        }
        t->services_folded += folded;
        route = route_of(t, r, req);
        if (!route) {
                t->oom++;
                return;
        }
        c = &route->c;
        c->requests[method_of(req->method)][resp ? status_of(resp->status) : SERVICE_STATUS_NONE]++;
        c->request_bytes += req->body_bytes;
        if (!resp)
                return;
        c->response_bytes += resp->body_bytes;
        if (x->kind == EXCHANGE_COMPLETE) {
                uint64_t usec = x->duration_ns / NSEC_PER_USEC;

                c->duration_count++;
                c->duration_usec_sum += usec;
                c->le[bound_index(t, usec)]++;
                before = sparse_histogram_memory(&route->latency);
                if (sparse_histogram_record(&route->latency, usec) < 0)
                        t->oom++;
                t->memory += sparse_histogram_memory(&route->latency) - before;
        }
}

size_t service_table_rows(const ServiceTable *t, ServiceRow *const **ret) {
        *ret = t->rows;
        return t->n_all;
}

const ServiceTableOptions *service_table_options(const ServiceTable *t) {
        return &t->opts;
}

uint64_t service_table_services_folded(const ServiceTable *t) {
        return t->services_folded;
}

uint64_t service_table_oom(const ServiceTable *t) {
        return t->oom;
}

size_t service_table_memory(const ServiceTable *t) {
        return t->memory + hashmap_memory(t->by_key);
}

uint64_t service_counters_requests(const ServiceCounters *c) {
        uint64_t n = 0;

        for (unsigned m = 0; m < _SERVICE_METHOD_MAX; m++)
                for (unsigned s = 0; s < _SERVICE_STATUS_MAX; s++)
                        n += c->requests[m][s];
        return n;
}

void service_row_totals(const ServiceRow *r, ServiceCounters *ret, Histogram *ret_latency) {
        *ret = (ServiceCounters) {};
        if (ret_latency)
                histogram_reset(ret_latency);
        for (size_t i = 0; i < r->n_routes; i++) {
                const ServiceCounters *c = &r->routes[i]->c;

                for (unsigned m = 0; m < _SERVICE_METHOD_MAX; m++)
                        for (unsigned s = 0; s < _SERVICE_STATUS_MAX; s++)
                                ret->requests[m][s] += c->requests[m][s];
                ret->request_bytes += c->request_bytes;
                ret->response_bytes += c->response_bytes;
                ret->duration_count += c->duration_count;
                ret->duration_usec_sum += c->duration_usec_sum;
                for (size_t k = 0; k <= SERVICE_BOUNDS_MAX; k++)
                        ret->le[k] += c->le[k];
                if (ret_latency) {
                        sparse_histogram_add_to(&r->routes[i]->latency, ret_latency);
                        ret_latency->sum += c->duration_usec_sum;
                }
        }
}
