/*
 * qemu-fast direct windows: host canaries (QEMU-free core)
 *
 * See direct-window-canary-core.h.  Must not include QEMU headers.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "direct-window-canary-core.h"

#include <errno.h>
#include <sys/mman.h>

uintptr_t dw_canary_after(const struct dw_layout *l, uintptr_t base,
                          unsigned vcpu, unsigned win)
{
    return dw_window_base(l, base, vcpu, win) + DW_WINDOW_SIZE +
           l->guard_size;
}

uintptr_t dw_canary_before(const struct dw_layout *l, uintptr_t base,
                           unsigned vcpu, unsigned win)
{
    uintptr_t w = dw_window_base(l, base, vcpu, win);

    return w == base ? 0 : w - DW_PAGE_SIZE;
}

static uint64_t dw_canary_word(uintptr_t addr)
{
    return ((uint64_t)addr * 0x9e3779b97f4a7c15ULL) ^ 0xc4a2a27c4a2a27c4ULL;
}

void dw_canary_fill(void *p, size_t len)
{
    uint64_t *w = p;

    for (size_t i = 0; i < len / 8; i++) {
        w[i] = dw_canary_word((uintptr_t)&w[i]);
    }
}

size_t dw_canary_check(const void *p, size_t len)
{
    /* volatile: read the memory now, even where the compiler saw it filled */
    const volatile uint64_t *w = p;

    for (size_t i = 0; i < len / 8; i++) {
        if (w[i] != dw_canary_word((uintptr_t)&w[i])) {
            return i * 8 + 1;
        }
    }
    return 0;
}

int dw_canary_place(const struct dw_layout *l, uintptr_t page)
{
    void *p;

    /* The padding must hold the page after a guard and the one before. */
    if (l->window_stride - DW_WINDOW_SIZE - l->guard_size <
        2 * DW_PAGE_SIZE) {
        return -ENOSPC;
    }
    p = mmap((void *)page, DW_PAGE_SIZE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED) {
        return -errno;
    }
    dw_canary_fill(p, DW_PAGE_SIZE);
    return 0;
}
