/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Comparing two configurations, setting by setting: what a reload changes,
 * and which of those changes need a restart (CONFIG_RESTART).
 */

#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "config/config-value.h"

static bool elem_equal(ConfigType t, const void *a, const void *b) {
        switch (t) {
        case CONFIG_STRINGS:
                return strcmp(*(char *const *) a, *(char *const *) b) == 0;
        case CONFIG_PIDS:
                return *(const uint32_t *) a == *(const uint32_t *) b;
        case CONFIG_PORTS:
        case CONFIG_STATUSES:
                return memcmp(a, b, sizeof(PortRange)) == 0;
        case CONFIG_CIDRS: {
                const Cidr *x = a, *y = b;
                return x->family == y->family && x->prefixlen == y->prefixlen &&
                       memcmp(x->addr, y->addr, sizeof(x->addr)) == 0;
        }
        case CONFIG_SAMPLING_RULES: {
                const SamplingRule *x = a, *y = b;
                return x->rate == y->rate && strcmp(x->path, y->path) == 0;
        }
        default:
                return false;
        }
}

static bool setting_equal(const ConfigSetting *s, const Config *a, const Config *b) {
        const void *x = config_field(a, s), *y = config_field(b, s);

        switch (s->type) {
        case CONFIG_BOOL:
                return *(const bool *) x == *(const bool *) y;
        case CONFIG_UINT:
        case CONFIG_SIZE:
        case CONFIG_DURATION:
                return *(const uint64_t *) x == *(const uint64_t *) y;
        case CONFIG_FRACTION:
                return *(const double *) x == *(const double *) y;
        case CONFIG_LEVEL:
                return *(const int *) x == *(const int *) y;
        case CONFIG_STRING:
                return strcmp(*(char *const *) x ?: "", *(char *const *) y ?: "") == 0;
        case CONFIG_FLAGS:
                return *(const unsigned *) x == *(const unsigned *) y;
        default: {
                const AnyList *l = x, *m = y;
                size_t sz = config_type_elem_size(s->type);

                if (l->n != m->n)
                        return false;
                for (size_t i = 0; i < l->n; i++)
                        if (!elem_equal(s->type, (const uint8_t *) l->items + i * sz, (const uint8_t *) m->items + i * sz))
                                return false;
                return true;
        }
        }
}

static int strv_copy_n(char *const *l, size_t n, char ***ret) {
        char **copy = calloc(n + 1, sizeof(char *));

        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!(copy[i] = strdup(l[i]))) {
                        strv_free(copy);
                        return -ENOMEM;
                }
        *ret = copy;
        return 0;
}

int config_diff(const Config *old, const Config *new, char ***ret_changed, char ***ret_restart) {
        const char *changed[config_settings_n + 1], *restart[config_settings_n + 1];
        char **a = NULL, **b = NULL;
        size_t n = 0, k = 0;

        for (size_t i = 0; i < config_settings_n; i++) {
                const ConfigSetting *s = &config_settings[i];

                if (setting_equal(s, old, new))
                        continue;
                changed[n++] = s->key;
                if (s->flags & CONFIG_RESTART)
                        restart[k++] = s->key;
        }
        if ((ret_changed && strv_copy_n((char *const *) changed, n, &a) < 0) ||
            (ret_restart && strv_copy_n((char *const *) restart, k, &b) < 0)) {
                strv_free(a);
                return -ENOMEM;
        }
        if (ret_changed)
                *ret_changed = a;
        if (ret_restart)
                *ret_restart = b;
        return (int) n;
}
