/*
 * Unit tests of the core that keeps new address spaces' user code on the
 * softmmu for a while (tcg/direct-window-young.c)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <string.h>

#include "tap.h"
#include "direct-window-young.h"

#define N_WINDOWS   6
#define MS          1000000ll
#define SPAN        (10 * MS)

static int64_t until[N_WINDOWS];
static uint16_t slow_left[N_WINDOWS];
static uint32_t space[N_WINDOWS];
static struct dw_young y;

static void reset(void)
{
    memset(until, 0, sizeof(until));
    memset(slow_left, 0, sizeof(slow_left));
    memset(space, 0, sizeof(space));
    memset(&y, 0, sizeof(y));
    y.until = until;
    y.slow_left = slow_left;
    y.space = space;
    y.n_windows = N_WINDOWS;
}

static void test_not_young_by_default(void)
{
    reset();
    for (unsigned w = 0; w < N_WINDOWS; w++) {
        CHECK(!dw_young_is(&y, w));
        CHECK(!dw_young_pending(&y, w));
        CHECK_EQ(dw_young_enter(&y, w, 5 * MS, SPAN), DW_YOUNG_ADULT);
    }
}

/* The clock starts at the first user entry, not when the window is given. */
static void test_clock_starts_at_entry(void)
{
    reset();
    dw_young_new_space(&y, 2);
    CHECK(!dw_young_is(&y, 2));
    CHECK(dw_young_pending(&y, 2));

    CHECK_EQ(dw_young_enter(&y, 2, 100 * MS, SPAN), DW_YOUNG_BORN);
    CHECK(dw_young_is(&y, 2));
    /* 100 ms after the window was handed out, but 9 ms after the entry */
    CHECK_EQ(dw_young_enter(&y, 2, 109 * MS, SPAN), DW_YOUNG_STILL);
    CHECK(dw_young_is(&y, 2));
}

static void test_grows_up_for_good(void)
{
    reset();
    dw_young_new_space(&y, 1);
    CHECK_EQ(dw_young_enter(&y, 1, 50 * MS, SPAN), DW_YOUNG_BORN);
    CHECK_EQ(dw_young_enter(&y, 1, 60 * MS, SPAN), DW_YOUNG_GREW);
    CHECK(!dw_young_is(&y, 1));
    CHECK(!dw_young_pending(&y, 1));
    /* later entries, even with a clock that went back, change nothing */
    CHECK_EQ(dw_young_enter(&y, 1, 51 * MS, SPAN), DW_YOUNG_ADULT);
    CHECK(!dw_young_is(&y, 1));
}

/* A window handed to another address space starts over. */
static void test_new_space_starts_over(void)
{
    reset();
    dw_young_new_space(&y, 3);
    CHECK_EQ(dw_young_enter(&y, 3, 1 * MS, SPAN), DW_YOUNG_BORN);
    CHECK_EQ(dw_young_enter(&y, 3, 20 * MS, SPAN), DW_YOUNG_GREW);
    dw_young_new_space(&y, 3);
    CHECK(!dw_young_is(&y, 3));
    CHECK_EQ(dw_young_enter(&y, 3, 30 * MS, SPAN), DW_YOUNG_BORN);
    CHECK_EQ(dw_young_enter(&y, 3, 39 * MS, SPAN), DW_YOUNG_STILL);
    CHECK_EQ(dw_young_enter(&y, 3, 40 * MS, SPAN), DW_YOUNG_GREW);
}

/* Windows are independent: one growing up leaves another young. */
static void test_windows_independent(void)
{
    reset();
    dw_young_new_space(&y, 0);
    dw_young_new_space(&y, 4);
    CHECK_EQ(dw_young_enter(&y, 0, 0 * MS + 1, SPAN), DW_YOUNG_BORN);
    CHECK_EQ(dw_young_enter(&y, 4, 8 * MS, SPAN), DW_YOUNG_BORN);
    CHECK_EQ(dw_young_enter(&y, 0, 12 * MS, SPAN), DW_YOUNG_GREW);
    CHECK(dw_young_is(&y, 4));
    CHECK_EQ(dw_young_enter(&y, 4, 12 * MS, SPAN), DW_YOUNG_STILL);
    CHECK(!dw_young_pending(&y, 0));
    CHECK(!dw_young_pending(&y, 5));
}

/* A window that is never entered in user mode never counts as young. */
static void test_unentered_window(void)
{
    reset();
    dw_young_new_space(&y, 5);
    dw_young_new_space(&y, 5);
    CHECK(!dw_young_is(&y, 5));
    CHECK(dw_young_pending(&y, 5));
}

/* No span, or no clock, means no youth; bad windows are ignored. */
static void test_degenerate(void)
{
    reset();
    dw_young_new_space(&y, 1);
    CHECK_EQ(dw_young_enter(&y, 1, 5 * MS, 0), DW_YOUNG_ADULT);
    CHECK(!dw_young_pending(&y, 1));
    dw_young_new_space(&y, 1);
    CHECK_EQ(dw_young_enter(&y, 1, 0, SPAN), DW_YOUNG_ADULT);
    CHECK(!dw_young_pending(&y, 1));

    dw_young_new_space(&y, N_WINDOWS);
    CHECK_EQ(dw_young_enter(&y, N_WINDOWS, 5 * MS, SPAN), DW_YOUNG_ADULT);
    for (unsigned w = 0; w < N_WINDOWS; w++) {
        CHECK(!dw_young_pending(&y, w));
    }
}

/* Which steps leave the user code on the softmmu. */
static void test_step_is_young(void)
{
    CHECK(!dw_young_step_is_young(DW_YOUNG_ADULT));
    CHECK(dw_young_step_is_young(DW_YOUNG_BORN));
    CHECK(dw_young_step_is_young(DW_YOUNG_STILL));
    CHECK(!dw_young_step_is_young(DW_YOUNG_GREW));
}

/* A page no earlier call used, so that only the space's budget counts. */
static uint32_t next_page(void)
{
    static uint32_t page;

    return ++page;
}

/* Spend window @w's whole budget; false if it ran out early. */
static bool spend_budget(unsigned w)
{
    for (unsigned i = 0; i < DW_YOUNG_SLOW_BUDGET; i++) {
        if (!dw_young_take_slow(&y, w, next_page(), SPAN)) {
            return false;
        }
    }
    return true;
}

/*
 * The kernel's accesses to a new space's user pages go slow while it is
 * not yet entered or young, DW_YOUNG_SLOW_BUDGET of them, then fill.
 */
static void test_kernel_slow_budget(void)
{
    reset();
    CHECK(!dw_young_take_slow(&y, 1, next_page(), SPAN));
    dw_young_new_space(&y, 1);
    CHECK(spend_budget(1));
    CHECK(!dw_young_take_slow(&y, 1, next_page(), SPAN));
    CHECK(dw_young_pending(&y, 1));

    /* a new space gets a new budget, and it lasts while young */
    dw_young_new_space(&y, 1);
    CHECK_EQ(dw_young_enter(&y, 1, 1 * MS, SPAN), DW_YOUNG_BORN);
    CHECK(dw_young_take_slow(&y, 1, next_page(), SPAN));
    CHECK_EQ(dw_young_enter(&y, 1, 5 * MS, SPAN), DW_YOUNG_STILL);
    CHECK(dw_young_take_slow(&y, 1, next_page(), SPAN));
}

/* A grown-up space, or one never young, fills at once. */
static void test_kernel_slow_only_young(void)
{
    reset();
    dw_young_new_space(&y, 2);
    CHECK_EQ(dw_young_enter(&y, 2, 1 * MS, SPAN), DW_YOUNG_BORN);
    CHECK_EQ(dw_young_enter(&y, 2, 20 * MS, SPAN), DW_YOUNG_GREW);
    CHECK(!dw_young_take_slow(&y, 2, next_page(), SPAN));
    CHECK_EQ(slow_left[2], DW_YOUNG_SLOW_BUDGET);

    dw_young_new_space(&y, 3);
    CHECK_EQ(dw_young_enter(&y, 3, 1 * MS, 0), DW_YOUNG_ADULT);
    CHECK(!dw_young_take_slow(&y, 3, next_page(), SPAN));

    /* windows keep budgets of their own; bad windows have none */
    dw_young_new_space(&y, 4);
    dw_young_new_space(&y, 5);
    CHECK(spend_budget(4));
    CHECK(!dw_young_take_slow(&y, 4, next_page(), SPAN));
    CHECK(dw_young_take_slow(&y, 5, next_page(), SPAN));
    dw_young_new_space(&y, N_WINDOWS);
    CHECK(!dw_young_take_slow(&y, N_WINDOWS, next_page(), SPAN));

    /* fast-young-ms=0: no space is young, not even before its entry */
    dw_young_new_space(&y, 0);
    CHECK(!dw_young_take_slow(&y, 0, next_page(), 0));
    CHECK(dw_young_take_slow(&y, 0, next_page(), SPAN));
}

/*
 * A page the kernel keeps touching is filled after DW_YOUNG_PAGE_SLOW
 * slow exits; other pages, and the same page of the next space, go on.
 */
static void test_kernel_slow_per_page(void)
{
    reset();
    dw_young_new_space(&y, 1);
    for (unsigned i = 0; i < DW_YOUNG_PAGE_SLOW; i++) {
        CHECK(dw_young_take_slow(&y, 1, 0x8048, SPAN));
    }
    CHECK(!dw_young_take_slow(&y, 1, 0x8048, SPAN));
    CHECK(dw_young_take_slow(&y, 1, 0x8049, SPAN));
    CHECK_EQ(slow_left[1], DW_YOUNG_SLOW_BUDGET - DW_YOUNG_PAGE_SLOW - 1);
    /* the same page number in another window's space has its own count */
    dw_young_new_space(&y, 2);
    CHECK(dw_young_take_slow(&y, 2, 0x8048, SPAN));
    /* and in the window's next space */
    dw_young_new_space(&y, 1);
    CHECK(dw_young_take_slow(&y, 1, 0x8048, SPAN));
}

int main(void)
{
    run_test("windows are not young unless handed to a new address space",
             test_not_young_by_default);
    run_test("the clock starts at the first user entry",
             test_clock_starts_at_entry);
    run_test("an address space grows up once, for good",
             test_grows_up_for_good);
    run_test("a window handed to a new address space starts over",
             test_new_space_starts_over);
    run_test("windows grow up independently", test_windows_independent);
    run_test("a window never entered in user mode is not born",
             test_unentered_window);
    run_test("no span, no clock, or a bad window: never young",
             test_degenerate);
    run_test("born and still young run softmmu; adult and grown direct",
             test_step_is_young);
    run_test("a new space's kernel accesses go slow within a budget",
             test_kernel_slow_budget);
    run_test("only a space not yet grown up sends kernel accesses slow",
             test_kernel_slow_only_young);
    run_test("a page the kernel keeps touching is filled",
             test_kernel_slow_per_page);
    return tap_done();
}
