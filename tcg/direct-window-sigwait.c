/*
 * qemu-fast direct windows: the main loop's signals, taken by a thread
 *
 * Upstream's main loop polls a signalfd for SIGIO, SIGALRM and SIGBUS.
 * A thread that polls a signalfd waits on its process's signalfd wait
 * queue, and the kernel wakes that queue for every signal sent to any
 * thread of the process, whatever the signalfd's mask (signalfd_notify()
 * in kernel/signal.c).  Direct windows take a SIGSEGV for every miss, so
 * each miss also woke the main loop's thread: an interprocessor interrupt
 * and a context switch inside the faulting thread's signal delivery,
 * about 7.6 us per signal on a 2-vCPU KVM guest against 1 us without.
 *
 * A thread blocked in sigwaitinfo() is only woken for the signals it
 * waits for.  So the main loop's signals are taken by such a thread and
 * passed on through a pipe, in the signalfd's record format, which is all
 * the main loop reads (util/main-loop.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/thread.h"
#include "tcg/direct-window.h"

#ifdef CONFIG_LINUX

typedef struct DWSigwait {
    sigset_t mask;
    int fd;                 /* write end of the pipe */
} DWSigwait;

/* The fields that sigaction_invoke() hands on to a SA_SIGINFO handler. */
static void dw_sigwait_record(const siginfo_t *si,
                              struct qemu_signalfd_siginfo *rec)
{
    memset(rec, 0, sizeof(*rec));
    rec->ssi_signo = si->si_signo;
    rec->ssi_errno = si->si_errno;
    rec->ssi_code = si->si_code;
    if (si->si_code <= 0) {
        rec->ssi_pid = si->si_pid;
        rec->ssi_uid = si->si_uid;
    } else if (si->si_signo == SIGBUS) {
        /* A machine-check report (BUS_MCEERR_*): where. */
        rec->ssi_addr = (uintptr_t)si->si_addr;
    }
}

static void *dw_sigwait_thread(void *opaque)
{
    DWSigwait *w = opaque;
    struct qemu_signalfd_siginfo rec;
    siginfo_t si;

    for (;;) {
        if (sigwaitinfo(&w->mask, &si) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return NULL;
        }
        dw_sigwait_record(&si, &rec);
        if (qemu_write_full(w->fd, &rec, sizeof(rec)) != sizeof(rec)) {
            return NULL;
        }
    }
}

int dw_signal_pipe(const sigset_t *mask)
{
    DWSigwait *w;
    QemuThread thread;
    int fds[2];

    if (!g_unix_open_pipe(fds, FD_CLOEXEC, NULL)) {
        return -1;
    }
    w = g_new0(DWSigwait, 1);
    w->mask = *mask;
    w->fd = fds[1];
    /* qemu_thread_create() starts it with the signals of @mask blocked. */
    qemu_thread_create(&thread, "fast-signals", dw_sigwait_thread, w,
                       QEMU_THREAD_DETACHED);
    return fds[0];
}

#else

int dw_signal_pipe(const sigset_t *mask)
{
    errno = ENOSYS;
    return -1;
}

#endif
