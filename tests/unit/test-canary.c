/*
 * Unit tests of the canary helpers of tcg/direct-window-canary-core.c (TAP).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "direct-window-canary-core.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static unsigned n, failed;

static void ok(int cond, const char *name)
{
    n++;
    failed += !cond;
    printf("%s %u - %s\n", cond ? "ok" : "not ok", n, name);
}

int main(void)
{
    static uint64_t page[DW_PAGE_SIZE / 8];
    static uint64_t other[DW_PAGE_SIZE / 8];
    struct dw_layout l;
    uintptr_t base = 0x100000000000ULL;
    void *res;

    dw_canary_fill(page, sizeof(page));
    ok(dw_canary_check(page, sizeof(page)) == 0, "a filled canary is intact");

    ((uint8_t *)page)[4095] ^= 0x80;
    ok(dw_canary_check(page, sizeof(page)) == 4088 + 1,
       "one flipped bit in the last byte is found, with its word");
    ((uint8_t *)page)[4095] ^= 0x80;

    page[0] = 0;
    ok(dw_canary_check(page, sizeof(page)) == 1, "a zeroed word is found");
    dw_canary_fill(page, sizeof(page));

    /* The pattern depends on the address: a copy elsewhere is not intact. */
    memcpy(other, page, sizeof(other));
    ok(dw_canary_check(other, sizeof(other)) != 0,
       "a canary copied to another address does not pass");

    ok(dw_layout_init(&l, 2, 0, DW_PAGE_SIZE) == 0, "layout for 2 vCPUs");
    ok(dw_canary_after(&l, base, 0, 0) ==
       base + DW_WINDOW_SIZE + l.guard_size,
       "the after-canary follows the guard of window 0");
    ok(dw_canary_before(&l, base, 0, 0) == 0,
       "the first window has no before-canary");
    ok(dw_canary_before(&l, base, 0, 1) ==
       dw_window_base(&l, base, 0, 1) - DW_PAGE_SIZE &&
       dw_canary_before(&l, base, 0, 1) >= dw_canary_after(&l, base, 0, 0) +
       DW_PAGE_SIZE,
       "the before-canary is the page below a window, past the previous "
       "after-canary");
    ok(dw_canary_before(&l, base, 1, 0) ==
       dw_window_base(&l, base, 1, 0) - DW_PAGE_SIZE,
       "the first window of vCPU 1 has a before-canary");

    /* A real reservation: place, intact, a stray store is detected. */
    if (dw_reserve(l.total_size, &res) == 0) {
        uintptr_t a = dw_canary_after(&l, (uintptr_t)res, 1, 3);
        uintptr_t b = dw_canary_before(&l, (uintptr_t)res, 1, 4);

        ok(dw_canary_place(&l, a) == 0 && dw_canary_place(&l, b) == 0 &&
           dw_canary_check((void *)a, DW_PAGE_SIZE) == 0 &&
           dw_canary_check((void *)b, DW_PAGE_SIZE) == 0,
           "canaries placed in a reservation are intact");
        /* the first byte past the guard, the last byte below window 4 */
        *(volatile uint8_t *)a = 0x5a;
        *(volatile uint8_t *)(b + DW_PAGE_SIZE - 1) ^= 1;
        ok(dw_canary_check((void *)a, DW_PAGE_SIZE) == 1 &&
           dw_canary_check((void *)b, DW_PAGE_SIZE) == DW_PAGE_SIZE - 8 + 1,
           "stray stores right after a guard and right before a window "
           "are detected");
        dw_release(res, l.total_size);
    } else {
        ok(0, "reserve the windows");
    }

    printf("1..%u\n", n);
    return failed ? 1 : 0;
}
