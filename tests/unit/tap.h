/*
 * A tiny TAP harness for the unit tests of qemu-fast's QEMU-free code
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QEMU_FAST_UNIT_TAP_H
#define QEMU_FAST_UNIT_TAP_H

#include <stdbool.h>
#include <stdio.h>

static unsigned t_count;
static unsigned t_failed;
static bool t_ok;

#define CHECK(cond)                                                     \
    do {                                                                \
        if (!(cond)) {                                                  \
            t_ok = false;                                               \
            printf("#   %s:%d: CHECK(%s) failed\n",                     \
                   __FILE__, __LINE__, #cond);                          \
        }                                                               \
    } while (0)

#define CHECK_EQ(a, b)                                                  \
    do {                                                                \
        unsigned long long a_ = (unsigned long long)(a);                \
        unsigned long long b_ = (unsigned long long)(b);                \
        if (a_ != b_) {                                                 \
            t_ok = false;                                               \
            printf("#   %s:%d: %s == %s failed: 0x%llx != 0x%llx\n",    \
                   __FILE__, __LINE__, #a, #b, a_, b_);                 \
        }                                                               \
    } while (0)

static void run_test(const char *name, void (*fn)(void))
{
    t_ok = true;
    fn();
    t_count++;
    if (!t_ok) {
        t_failed++;
    }
    printf("%s %u - %s\n", t_ok ? "ok" : "not ok", t_count, name);
    fflush(stdout);
}


/* The plan line and the exit status, at the end of main(). */
static int tap_done(void)
{
    printf("1..%u\n", t_count);
    return t_failed ? 1 : 0;
}

#endif /* QEMU_FAST_UNIT_TAP_H */
