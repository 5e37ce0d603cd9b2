/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who is running: the current task's ids in the daemon's PID namespace, and
 * the file behind one of its fds. Every source starts here.
 */
#pragma once

#include "maps.bpf.h"

/*
 * The current task's tgid << 32 | tid, in the daemon's PID namespace; false
 * for a task outside it (or in a namespace nested below it): its operations
 * are not traced.
 */
static __always_inline bool task_ids(__u64 *ret) {
        struct bpf_pidns_info ns;

        if (pidns_ino == 0) {
                *ret = bpf_get_current_pid_tgid();
                return true;
        }
        if (bpf_get_ns_current_pid_tgid(pidns_dev, pidns_ino, &ns, sizeof(ns)) < 0)
                return false;
        *ret = (__u64) ns.tgid << 32 | ns.pid;
        return true;
}

/* task_ids() for the operations that may start tracing something: not the daemon, others counted. */
static __always_inline bool traced_task(__u64 *ret) {
        if (!task_ids(ret)) {
                count(HT_CNT_OTHER_PIDNS, 1);
                return false;
        }
        return (__u32) (*ret >> 32) != self_tgid;
}

/*
 * The file behind fd in the current task's table. Runs on every data
 * syscall: the walk to the table is direct loads through the BTF-typed task
 * pointer (faulting loads the verifier makes safe, no helper calls); only
 * the indexed slot needs bpf_probe_read_kernel().
 */
static __always_inline struct file *fd_to_file(int fd) {
        struct task_struct *task = bpf_get_current_task_btf();
        struct files_struct *files = task->files;
        struct fdtable *fdt;
        struct file **fdarr;
        struct file *f = NULL;

        if (!files || fd < 0)
                return NULL;
        fdt = files->fdt;
        if (!fdt || (unsigned int) fd >= fdt->max_fds)
                return NULL;
        fdarr = fdt->fd;
        if (bpf_probe_read_kernel(&f, sizeof(f), &fdarr[fd]) < 0)
                return NULL;
        return f;
}

/* struct file before Linux 6.13 counted its references in f_count; since, f_ref holds references - 1. */
struct file___f_count {
        atomic_long_t f_count;
} __attribute__((preserve_access_index));

/*
 * Is the fd table's reference the only one on file (a close() of it ends
 * the file)? A concurrent syscall of another thread on the same fd holds a
 * reference for its duration: then false, and the end comes later without
 * a close() (the caller has another way to see it).
 */
static __always_inline bool file_last_ref(struct file *file) {
        if (!file)
                return false;
        if (bpf_core_field_exists(file->f_ref))
                return BPF_CORE_READ(file, f_ref.refcnt.counter) == 0;
        return BPF_CORE_READ((struct file___f_count *) file, f_count.counter) == 1;
}
