/*
 * qemu-fast direct windows: host canaries (QEMU_FAST_CANARY=1)
 *
 * Places the canary pages of tcg/direct-window-canary-core.c around
 * every window at set-up and checks them on every window reset and at
 * exit.  Test-only machinery that ships in the binary users run, so that
 * what is tested is what runs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "tcg/direct-window-internal.h"
#include "tcg/direct-window-canary-core.h"

/*
 * Canaries (QEMU_FAST_CANARY=1): a read-write page right after every
 * window's guard and one right before every window, filled with a
 * pattern, checked on every window reset and at exit.  A stray write of
 * the emulator on behalf of the guest just past or before a window (a
 * wrong window, a wrong guard size, a 33-bit address) changes one of
 * them; the check then ends the process with status 125.
 * QEMU_FAST_CANARY_CORRUPT=1 damages one on purpose, to show that the
 * check fails.
 */
static bool dw_canary_on;

static bool dw_canary_verify_one(uintptr_t page, unsigned vcpu,
                                 unsigned win, const char *where)
{
    size_t bad;

    if (!page) {
        return true;
    }
    bad = dw_canary_check((const void *)page, DW_PAGE_SIZE);
    if (bad) {
        fprintf(stderr, "qemu-fast: canary %s window %u of vCPU %u "
                "changed: host %p, byte %zu\n", where, win, vcpu,
                (void *)page, bad - 1);
        return false;
    }
    return true;
}

void dw_canary_verify(bool at_exit)
{
    bool ok = true;

    if (!dw_canary_on) {
        return;
    }
    for (unsigned v = 0; v < dw_n_cpus; v++) {
        for (unsigned w = 0; w < DW_NB_WINDOWS; w++) {
            ok &= dw_canary_verify_one(
                dw_canary_after(&dw_layout, dw_base, v, w), v, w, "after");
            ok &= dw_canary_verify_one(
                dw_canary_before(&dw_layout, dw_base, v, w), v, w,
                "before");
        }
    }
    if (!ok) {
        fflush(NULL);
        _exit(125);
    }
    if (at_exit) {
        fprintf(stderr, "qemu-fast: canaries intact: %u windows\n",
                dw_n_cpus * DW_NB_WINDOWS);
    }
}

static void dw_canary_exit(void)
{
    dw_canary_verify(true);
}

bool dw_canary_setup(Error **errp)
{
    const char *env = getenv("QEMU_FAST_CANARY");
    int ret = 0;

    if (!env || strcmp(env, "1") || dw_classic) {
        return true;
    }
    for (unsigned v = 0; v < dw_n_cpus && ret == 0; v++) {
        for (unsigned w = 0; w < DW_NB_WINDOWS && ret == 0; w++) {
            uintptr_t before = dw_canary_before(&dw_layout, dw_base, v, w);

            ret = dw_canary_place(&dw_layout,
                                  dw_canary_after(&dw_layout, dw_base, v, w));
            if (ret == 0 && before) {
                ret = dw_canary_place(&dw_layout, before);
            }
        }
    }
    if (ret < 0) {
        error_setg(errp, "QEMU_FAST_CANARY: cannot map the canaries: %s",
                   strerror(-ret));
        return false;
    }
    env = getenv("QEMU_FAST_CANARY_CORRUPT");
    if (env && !strcmp(env, "1")) {
        /* test only: the byte a stray 1-byte store past window 0 hits */
        *(volatile uint8_t *)dw_canary_after(&dw_layout, dw_base, 0, 0) ^= 1;
    }
    dw_canary_on = true;
    atexit(dw_canary_exit);
    return true;
}
