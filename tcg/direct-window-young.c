/*
 * qemu-fast direct windows: new address spaces start on the softmmu
 * (QEMU-free core); see direct-window-young.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "direct-window-young.h"

void dw_young_new_space(struct dw_young *y, unsigned win)
{
    if (win < y->n_windows) {
        y->until[win] = DW_YOUNG_UNBORN;
        y->slow_left[win] = DW_YOUNG_SLOW_BUDGET;
        y->space[win]++;
    }
}

/* @page's counter for window @win's current space, made if need be. */
static struct dw_young_page *dw_young_page_of(struct dw_young *y,
                                              unsigned win, uint32_t page)
{
    struct dw_young_page *e =
        &y->pages[(page ^ (win * 0x9e37u)) & (DW_YOUNG_PAGES - 1)];

    if (e->page != page || e->win != win || e->space != y->space[win]) {
        e->page = page;
        e->win = win;
        e->space = y->space[win];
        e->count = 0;
    }
    return e;
}

bool dw_young_take_slow(struct dw_young *y, unsigned win, uint32_t page,
                        int64_t span)
{
    struct dw_young_page *e;

    if (span <= 0 || win >= y->n_windows || !dw_young_pending(y, win) ||
        !y->slow_left[win]) {
        return false;
    }
    e = dw_young_page_of(y, win, page);
    if (e->count >= DW_YOUNG_PAGE_SLOW) {
        return false;
    }
    e->count++;
    y->slow_left[win]--;
    return true;
}

enum dw_young_step dw_young_enter(struct dw_young *y, unsigned win,
                                  int64_t now, int64_t span)
{
    int64_t *until;

    if (win >= y->n_windows || !y->until[win]) {
        return DW_YOUNG_ADULT;
    }
    until = &y->until[win];
    if (*until == DW_YOUNG_UNBORN) {
        if (span <= 0 || now <= 0) {
            *until = 0;
            return DW_YOUNG_ADULT;
        }
        /*
         * The clock starts at the first user entry, not at the CR3 write
         * that made the window: with page-table isolation the kernel's
         * root gets user windows too, which never run user code.
         */
        *until = now + span;
        return DW_YOUNG_BORN;
    }
    if (now < *until) {
        return DW_YOUNG_STILL;
    }
    *until = 0;
    return DW_YOUNG_GREW;
}
