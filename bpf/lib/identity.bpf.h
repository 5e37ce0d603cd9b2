/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who a connection belongs to, captured when it is announced (CONN_OPEN):
 * the executable's path components and the cgroup, read in the kernel so
 * that user space needs no access to /proc/PID of the traced process (which
 * a daemon without capabilities does not have for other users' processes)
 * and still knows them for a process that has already exited.
 *
 * bpf_d_path() is not allowed in tracepoint programs; instead the
 * executable's dentry and up to HT_EXE_PARTS - 1 parents are named, from
 * the file up. The walk stays within the executable's mount.
 */
#pragma once

#include "maps.bpf.h"

static __always_inline void identity_fill(struct ht_conn_open_event *ev) {
        struct task_struct *task = bpf_get_current_task_btf();
        struct dentry *d, *parent;
        struct file *exe;

        ev->cgroup_id = bpf_get_current_cgroup_id();
        exe = BPF_CORE_READ(task, mm, exe_file);
        if (!exe)
                return;
        d = BPF_CORE_READ(exe, f_path.dentry);
        ev->exe_ino = BPF_CORE_READ(d, d_inode, i_ino);
        for (int i = 0; i < HT_EXE_PARTS && d; i++) {
                const unsigned char *name = BPF_CORE_READ(d, d_name.name);

                if (bpf_probe_read_kernel_str(ev->exe_parts[i], sizeof(ev->exe_parts[i]), name) < 0)
                        break;
                parent = BPF_CORE_READ(d, d_parent);
                if (parent == d) {
                        /* the mount's root: its name is "/", the path is complete */
                        ev->exe_parts[i][0] = 0;
                        ev->exe_complete = 1;
                        break;
                }
                d = parent;
        }
}
