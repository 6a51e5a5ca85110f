/*
 * Helpers of the SMP guest programs (smp-*.c): threads pinned to CPUs,
 * busy waits that also work on one CPU, and acquire/release words for
 * handshakes.  Each program sets ncpus (sysconf) before using them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QFSMP_H
#define QFSMP_H

#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* CPUs online; with fewer than two nothing is pinned. */
static int ncpus;

static void pin(int cpu)
{
    cpu_set_t set;

    if (ncpus >= 2) {
        CPU_ZERO(&set);
        CPU_SET(cpu % ncpus, &set);
        if (sched_setaffinity(0, sizeof(set), &set) != 0) {
            perror("sched_setaffinity");
            exit(2);
        }
    }
}

/* Worker i runs on CPU 1 + i modulo the others, the main thread on 0. */
static void pin_worker(int i)
{
    if (ncpus >= 2) {
        pin(1 + i % (ncpus - 1));
    }
}

/* One step of a busy wait; yields now and then (always on one CPU). */
static void relax(unsigned *spins)
{
    if (ncpus < 2 || ++*spins % 64 == 0) {
        sched_yield();
    } else {
        asm volatile("pause" ::: "memory");
    }
}

#define WAIT_UNTIL(cond) do {                   \
        unsigned spins_ = 0;                    \
        while (!(cond)) {                       \
            relax(&spins_);                     \
        }                                       \
    } while (0)

static uint32_t load_acq(const uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store_rel(uint32_t *p, uint32_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}

#endif /* QFSMP_H */
