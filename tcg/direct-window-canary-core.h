/*
 * qemu-fast direct windows: host canaries (QEMU-free core)
 *
 * Proof that nothing outside the windows is written on the guest's
 * behalf: pages placed in the padding right before each window and right
 * after each guard, filled with a pattern of their own addresses.  This
 * file owns where they lie and the pattern; tcg/direct-window-canary.c
 * decides when to check them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef DIRECT_WINDOW_CANARY_CORE_H
#define DIRECT_WINDOW_CANARY_CORE_H

#include "direct-window-core.h"

/*
 * With QEMU_FAST_CANARY=1 the glue maps one read-write host page right
 * after each window's guard and one right before each window (both in
 * the padding that guest code cannot reach), fills them with a pattern
 * that depends on the host address, and checks them on every window
 * reset and at exit.
 */

/* Host page right after the guard of window (@vcpu, @win). */
uintptr_t dw_canary_after(const struct dw_layout *l, uintptr_t base,
                          unsigned vcpu, unsigned win);

/*
 * Host page right before window (@vcpu, @win), in the padding of the
 * window below it; 0 for the first window, which has none.
 */
uintptr_t dw_canary_before(const struct dw_layout *l, uintptr_t base,
                           unsigned vcpu, unsigned win);

/* Fill [p, p + len) (8-byte aligned) with the pattern of its addresses. */
void dw_canary_fill(void *p, size_t len);

/*
 * Offset + 1 of the first 8-byte word of [p, p + len) that lost its
 * pattern, or 0 when the canary is intact.
 */
size_t dw_canary_check(const void *p, size_t len);

/*
 * Map one read-write page over reserved @page and fill it.  Returns 0,
 * -ENOSPC when the padding cannot hold canaries, or -errno.
 */
int dw_canary_place(const struct dw_layout *l, uintptr_t page);

#endif /* DIRECT_WINDOW_CANARY_CORE_H */
