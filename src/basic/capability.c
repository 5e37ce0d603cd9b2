/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Capability dropping with libcap-ng; see capability.h. libcap-ng rather
 * than raw capset(2): it handles the kernel's capability ABI versions, the
 * 64-bit split of the sets and the bounding/ambient sets for us.
 */

#include <cap-ng.h>
#include <errno.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/capability.h"
#include "basic/macro.h"

_Static_assert(CAPABILITIES_TLS_FOLLOW == ((UINT64_C(1) << CAP_SYS_ADMIN) | (UINT64_C(1) << CAP_SYS_PTRACE)),
               "CAPABILITIES_TLS_FOLLOW names the wrong bits");

/* Put the capabilities of mask back into libcap-ng's pending sets of type. */
static void keep_caps(uint64_t mask, int type) {
        for (unsigned cap = 0; cap < 64; cap++)
                if (mask & (UINT64_C(1) << cap))
                        (void) capng_update(CAPNG_ADD, (capng_type_t) type, cap);
}

int capability_drop_all(bool *ret_bounding_dropped) {
        return capability_drop_all_but(0, ret_bounding_dropped);
}

int capability_drop_all_but(uint64_t keep, bool *ret_bounding_dropped) {
        bool bounding = false;
        uint64_t eff = 0;

        /* Only what is held now can be kept. */
        if (keep != 0 && capability_get_effective(&eff) < 0)
                return -EPERM;
        keep &= eff;

        /*
         * Start from the process's real sets, so that "clear" below applies
         * to what we actually hold (capng_clear() alone would also do, but
         * reading first makes a failing capget visible here).
         */
        if (capng_get_caps_process() < 0)
                return -EPERM;

        capng_clear(CAPNG_SELECT_ALL);
        keep_caps(keep, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET);
        if (capng_apply(CAPNG_SELECT_ALL) == 0)
                bounding = true;
        else {
                /*
                 * Without CAP_SETPCAP the bounding set cannot shrink; the
                 * ambient set and the capability sets still can.
                 */
                capng_clear(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
                keep_caps(keep, CAPNG_EFFECTIVE | CAPNG_PERMITTED);
                if (capng_apply(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT) < 0) {
                        capng_clear(CAPNG_SELECT_CAPS);
                        keep_caps(keep, CAPNG_EFFECTIVE | CAPNG_PERMITTED);
                        if (capng_apply(CAPNG_SELECT_CAPS) < 0)
                                return -EPERM;
                }
        }

        if (ret_bounding_dropped)
                *ret_bounding_dropped = bounding;
        return 0;
}

int capability_get_effective(uint64_t *ret) {
        struct __user_cap_header_struct h = {
                .version = _LINUX_CAPABILITY_VERSION_3,
                .pid = 0,
        };
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

        /*
         * capget(2) directly: libcap-ng keeps one process-wide state, and a
         * status query must not disturb a drop in progress or vice versa.
         */
        if (syscall(SYS_capget, &h, d) < 0)
                return negative_errno();
        *ret = (uint64_t) d[1].effective << 32 | d[0].effective;
        return 0;
}
