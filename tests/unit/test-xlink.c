/*
 * Unit tests of when a remembered cross-page jump is still good
 * (tcg/direct-window-xlink-core.c): against a model that forgets exactly
 * the entries each event must end, the core never keeps one of them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "direct-window-xlink-core.h"

#define N_ENTRIES   64
#define N_PAGES     512     /* pages the entries' TBs lie on */

/* The vCPU: its generations (in env in QEMU) and its filter. */
static uint64_t local, global;
static DWXlinkFilter filter;

/* An entry, and whether the model says it may still be used. */
struct entry {
    uint64_t gen;
    bool is_global;
    uint64_t page[2];       /* the TB's first and last page */
    bool alive;
};
static struct entry e[N_ENTRIES];

static void reset(void)
{
    local = global = 0;
    memset(&filter, 0, sizeof(filter));
    memset(e, 0, sizeof(e));
    dw_xlink_start(&local, &global);
}

static bool good(const struct entry *x)
{
    return dw_xlink_good(x->gen, local, global);
}

/* dw_xlink_fill(): an entry for a TB on @page (and @page2). */
static void fill(struct entry *x, bool is_global, uint64_t page,
                 uint64_t page2)
{
    x->is_global = is_global;
    x->page[0] = page;
    x->page[1] = page2;
    x->alive = true;
    if (is_global) {
        dw_xlink_filter_add(&filter, page);
        dw_xlink_filter_add(&filter, page2);
        x->gen = global;
    } else {
        x->gen = local;
    }
}

/* The events, as the glue turns them into bumps, and their model. */
static void cr3_write(void)
{
    dw_xlink_bump(&local);
    for (int i = 0; i < N_ENTRIES; i++) {
        if (!e[i].is_global) {
            e[i].alive = false;
        }
    }
}

static void full_flush(void)
{
    dw_xlink_bump(&local);
    dw_xlink_bump(&global);
    for (int i = 0; i < N_ENTRIES; i++) {
        e[i].alive = false;
    }
}

static void page_flush(uint64_t page)
{
    dw_xlink_bump(&local);
    if (dw_xlink_filter_flush(&filter, page)) {
        dw_xlink_bump(&global);
    }
    for (int i = 0; i < N_ENTRIES; i++) {
        if (!e[i].is_global || e[i].page[0] == page ||
            e[i].page[1] == page) {
            e[i].alive = false;
        }
    }
}

/* A page no global entry leads to, whose flush the filter lets by. */
static uint64_t unrelated_page(void)
{
    for (uint64_t p = 100000;; p++) {
        DWXlinkFilter copy = filter;

        if (!dw_xlink_filter_flush(&copy, p)) {
            return p;
        }
    }
}

static void test_never_filled_is_never_good(void)
{
    reset();
    CHECK(local & 1);
    CHECK(!(global & 1));
    CHECK(!dw_xlink_good(0, local, global));
    full_flush();
    cr3_write();
    CHECK(!dw_xlink_good(0, local, global));
}

static void test_bumps_before_start(void)
{
    /* Another vCPU invalidated a TB before this one ran anything. */
    local = global = 0;
    dw_xlink_bump(&local);
    dw_xlink_bump(&global);
    dw_xlink_start(&local, &global);
    CHECK(local & 1);
    CHECK(global != 0 && !(global & 1));
    CHECK(local != global);
}

static void test_cr3_keeps_global_only(void)
{
    reset();
    fill(&e[0], false, 1, 1);
    fill(&e[1], true, 2, 3);
    CHECK(good(&e[0]) && good(&e[1]));
    cr3_write();
    CHECK(!good(&e[0]));
    CHECK(good(&e[1]));
    cr3_write();
    CHECK(good(&e[1]));
}

static void test_page_flush(void)
{
    reset();
    fill(&e[0], true, 7, 7);
    fill(&e[1], true, 8, 9);
    fill(&e[2], false, 7, 7);
    page_flush(unrelated_page());
    CHECK(good(&e[0]) && good(&e[1]));
    CHECK(!good(&e[2]));
    /* The second page of a TB that spans two. */
    page_flush(9);
    CHECK(!good(&e[1]));
    CHECK(!good(&e[0]));    /* one generation: all global ones go */
    /* The filter was emptied with them: the next flush of 9 is free. */
    fill(&e[3], true, 20, 20);
    {
        DWXlinkFilter copy = filter;
        bool hits9 = dw_xlink_filter_flush(&copy, 9);
        bool hits20 = dw_xlink_filter_flush(&copy, 20);

        CHECK(hits20);
        (void)hits9;    /* 9 may share 20's bit; only 20's must hit */
    }
}

static void test_full_flush(void)
{
    reset();
    fill(&e[0], true, 1, 1);
    fill(&e[1], false, 2, 2);
    full_flush();
    CHECK(!good(&e[0]) && !good(&e[1]));
}

/*
 * Random events: the core may forget more than the model (a filter bit
 * shared by two pages), never less; and an entry made after the last
 * event stays good until the next.
 */
static void test_random_against_model(void)
{
    unsigned seed = 12345, kept_global = 0;

    reset();
    for (int step = 0; step < 200000; step++) {
        unsigned r = rand_r(&seed), i = r % N_ENTRIES;
        uint64_t page = (r >> 8) % N_PAGES;

        switch ((r >> 20) % 16) {
        case 0 ... 7:
            fill(&e[i], (r >> 24) & 1, page,
                 (r >> 25) & 1 ? page + 1 : page);
            CHECK(good(&e[i]));
            break;
        case 8 ... 11:
            cr3_write();
            break;
        case 12 ... 14:
            page_flush(page);
            break;
        default:
            if ((r >> 26) % 8 == 0) {
                full_flush();
            }
            break;
        }
        CHECK(local != global);
        for (int k = 0; k < N_ENTRIES; k++) {
            if (good(&e[k]) && !e[k].alive) {
                printf("#   step %d: entry %d good after the model "
                       "ended it\n", step, k);
                t_ok = false;
                return;
            }
            kept_global += good(&e[k]) && e[k].is_global;
        }
    }
    /* The filter lets most flushes of other pages by. */
    CHECK(kept_global > 0);
}

int main(void)
{
    run_test("an entry never filled is never good",
             test_never_filled_is_never_good);
    run_test("bumps before the start keep the generations apart",
             test_bumps_before_start);
    run_test("a CR3 write ends local entries only",
             test_cr3_keeps_global_only);
    run_test("a page flush ends global entries of that page",
             test_page_flush);
    run_test("a full flush ends every entry", test_full_flush);
    run_test("random events never leave an ended entry good",
             test_random_against_model);
    return tap_done();
}
