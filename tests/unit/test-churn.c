/*
 * Unit tests of the core that finds code whose fills die young
 * (tcg/direct-window-churn.c)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "direct-window-churn.h"

#define KEY_A   0x1234000ull
#define KEY_B   0x5678040ull

static struct dw_churn_ring ring;
static struct dw_churn_scores scores;

/* The caller's counters: what translated code would add to. */
static uint32_t counters[DW_CHURN_COUNTERS];

static uint64_t test_execs(unsigned counter, void *opaque)
{
    assert(counter < DW_CHURN_COUNTERS && opaque == counters);
    return counters[counter];
}

static enum dw_churn_state young(uint64_t key, uint64_t space, int64_t now)
{
    return dw_churn_count_young(&scores, key, space, now, test_execs,
                                counters);
}

/* @key's counter, zeroed when fresh, as the caller does; NULL for none. */
static uint32_t *counter_of(uint64_t key, int64_t now)
{
    bool fresh;
    int c = dw_churn_exec_counter(&scores, key, now, &fresh);

    if (c < 0) {
        assert(!fresh);
        return NULL;
    }
    assert(c < DW_CHURN_COUNTERS);
    if (fresh) {
        counters[c] = 0;
    }
    return &counters[c];
}

/* The address space most tests fill in. */
#define SPACE   dw_churn_space(3, 7)

/* fill_and_die(): a judgment before the last death */
#define JUDGED_EARLY ((enum dw_churn_state)-1)


static void reset(void)
{
    dw_churn_ring_init(&ring);
    dw_churn_scores_reset(&scores);
}

/* A drop finds exactly the fills of its window, generation and range. */
static void test_ring_drop_range(void)
{
    uint64_t keys[DW_CHURN_RING];

    reset();
    dw_churn_ring_note(&ring, 3, 7, 100, KEY_A);
    dw_churn_ring_note(&ring, 3, 7, 101, KEY_B);
    dw_churn_ring_note(&ring, 4, 7, 100, KEY_A);    /* other window */
    dw_churn_ring_note(&ring, 3, 8, 102, KEY_A);    /* other generation */
    dw_churn_ring_note(&ring, 3, 7, 99, KEY_B);     /* below the range */
    dw_churn_ring_note(&ring, 3, 7, 110, KEY_B);    /* above it */

    CHECK_EQ(dw_churn_ring_drop(&ring, 3, 7, 100, 10, keys, 8), 2);
    CHECK(keys[0] == KEY_A || keys[1] == KEY_A);
    CHECK(keys[0] == KEY_B || keys[1] == KEY_B);
    /* each fill is charged once */
    CHECK_EQ(dw_churn_ring_drop(&ring, 3, 7, 100, 10, keys, 8), 0);
    CHECK_EQ(dw_churn_ring_drop(&ring, 3, 7, 99, 12, keys, 8), 2);
    CHECK_EQ(dw_churn_ring_drop(&ring, 4, 7, 0, 0xffffffffu, keys, 8), 1);
    CHECK_EQ(dw_churn_ring_drop(&ring, 3, 8, 102, 1, keys, 8), 1);
    CHECK_EQ(ring.n_live, 0);
}

/* Pages below @first must not wrap into the range. */
static void test_ring_drop_no_wrap(void)
{
    uint64_t keys[4];

    reset();
    dw_churn_ring_note(&ring, 0, 0, 5, KEY_A);
    CHECK_EQ(dw_churn_ring_drop(&ring, 0, 0, 6, 0xfffffff0u, keys, 4), 0);
    CHECK_EQ(dw_churn_ring_drop(&ring, 0, 0, 0xfffff000u, 0x1000, keys, 4),
             0);
    CHECK_EQ(dw_churn_ring_drop(&ring, 0, 0, 5, 1, keys, 4), 1);
}

/* A fill older than the ring is no longer young. */
static void test_ring_forgets_old(void)
{
    uint64_t keys[DW_CHURN_RING];

    reset();
    dw_churn_ring_note(&ring, 1, 0, 7, KEY_A);
    for (unsigned i = 0; i < DW_CHURN_RING; i++) {
        dw_churn_ring_note(&ring, 1, 0, 1000 + i, KEY_B);
    }
    CHECK_EQ(ring.n_live, DW_CHURN_RING);
    CHECK_EQ(dw_churn_ring_drop(&ring, 1, 0, 7, 1, keys, DW_CHURN_RING), 0);
    CHECK_EQ(dw_churn_ring_drop(&ring, 1, 0, 1000, DW_CHURN_RING, keys,
                                DW_CHURN_RING), DW_CHURN_RING);
    for (unsigned i = 0; i < DW_CHURN_RING; i++) {
        CHECK_EQ(keys[i], KEY_B);
    }
}

/* @max bounds what one drop returns; the rest stays for the next. */
static void test_ring_drop_max(void)
{
    uint64_t keys[4];

    reset();
    for (unsigned i = 0; i < 6; i++) {
        dw_churn_ring_note(&ring, 2, 1, i, KEY_A);
    }
    CHECK_EQ(dw_churn_ring_drop(&ring, 2, 1, 0, 6, keys, 4), 4);
    CHECK_EQ(dw_churn_ring_drop(&ring, 2, 1, 0, 6, keys, 4), 2);
}

/* Code is suspect at DW_CHURN_MIN young deaths, once, when 3/4 of them. */
static void test_scores_threshold(void)
{
    reset();
    for (unsigned i = 0; i < DW_CHURN_MIN; i++) {
        dw_churn_count_fill(&scores, KEY_A, SPACE, 1);
    }
    for (unsigned i = 1; i < DW_CHURN_MIN; i++) {
        CHECK_EQ(young(KEY_A, SPACE, 0), DW_CHURN_NONE);
        CHECK_EQ(dw_churn_state(&scores, KEY_A), DW_CHURN_NONE);
    }
    CHECK_EQ(young(KEY_A, SPACE, 0), DW_CHURN_SUSPECT);
    CHECK_EQ(dw_churn_state(&scores, KEY_A), DW_CHURN_SUSPECT);
    /* reported once, and suspect is still direct */
    CHECK_EQ(young(KEY_A, SPACE, 0), DW_CHURN_NONE);
    CHECK(!dw_churn_churns(&scores, KEY_A));
    CHECK_EQ(dw_churn_state(&scores, KEY_B), DW_CHURN_NONE);
    CHECK(counter_of(KEY_B, 0) == NULL);
}

/*
 * Code run once per short-lived process: its fills die a few at a time,
 * each time in another address space.  It never becomes suspect; the
 * same deaths in one address space make it so.
 */
static void test_scores_one_space(void)
{
    reset();
    for (uint32_t gen = 0; gen < 4 * DW_CHURN_MIN; gen++) {
        for (unsigned i = 0; i < 3; i++) {
            dw_churn_count_fill(&scores, KEY_A, dw_churn_space(3, gen), 1);
            CHECK_EQ(young(KEY_A,
                                          dw_churn_space(3, gen), 0),
                     DW_CHURN_NONE);
        }
    }
    /* another window is another space too */
    for (unsigned i = 0; i < DW_CHURN_MIN; i++) {
        unsigned win = i % 2;

        dw_churn_count_fill(&scores, KEY_A, dw_churn_space(win, 9), 1);
        CHECK_EQ(young(KEY_A,
                                      dw_churn_space(win, 9), 0),
                 DW_CHURN_NONE);
    }
    for (unsigned i = 1; i < DW_CHURN_MIN; i++) {
        dw_churn_count_fill(&scores, KEY_A, SPACE, 1);
        CHECK_EQ(young(KEY_A, SPACE, 0),
                 DW_CHURN_NONE);
    }
    dw_churn_count_fill(&scores, KEY_A, SPACE, 1);
    CHECK_EQ(young(KEY_A, SPACE, 0),
             DW_CHURN_SUSPECT);
}

/* Make KEY_A suspect at time 0 and count it from 1000 ns on. */
static uint32_t *make_suspect(void)
{
    uint32_t *count;

    reset();
    for (unsigned i = 0; i < DW_CHURN_MIN; i++) {
        dw_churn_count_fill(&scores, KEY_A, SPACE, 1);
        young(KEY_A, SPACE, 0);
    }
    CHECK_EQ(dw_churn_state(&scores, KEY_A), DW_CHURN_SUSPECT);
    CHECK(dw_churn_wants_count(&scores, KEY_A));
    count = counter_of(KEY_A, 1000);
    CHECK(count != NULL);
    CHECK(!dw_churn_wants_count(&scores, KEY_A));
    /* a second TB of the same code shares the counter */
    CHECK(counter_of(KEY_A, 5000) == count);
    return count;
}

/* @n fills of KEY_A that die young at @now, each after @execs runs. */
static enum dw_churn_state fill_and_die(uint32_t *count, unsigned n,
                                        uint32_t execs, int64_t now)
{
    enum dw_churn_state st = DW_CHURN_NONE;

    for (unsigned i = 0; i < n; i++) {
        dw_churn_count_fill(&scores, KEY_A, SPACE, 1);
        *count += execs;
        st = young(KEY_A, SPACE, now);
        if (st != DW_CHURN_NONE && i + 1 < n) {
            return JUDGED_EARLY;
        }
    }
    return st;
}

/* Suspect code that runs little per page filled churns, judged once. */
static void test_scores_cold_churns(void)
{
    uint32_t *count = make_suspect();

    CHECK_EQ(fill_and_die(count, DW_CHURN_MIN, 2,
                          1000 + DW_CHURN_COUNT_NS), DW_CHURN_CHURNS);
    CHECK(dw_churn_churns(&scores, KEY_A));
    CHECK_EQ(young(KEY_A, SPACE, 1 << 30),
             DW_CHURN_NONE);
    CHECK(counter_of(KEY_A, 1 << 30) == NULL);
}

/* Suspect code that runs DW_CHURN_EXECS times per page filled is hot. */
static void test_scores_hot_stays_direct(void)
{
    uint32_t *count = make_suspect();

    CHECK_EQ(fill_and_die(count, DW_CHURN_MIN, DW_CHURN_EXECS,
                          1000 + DW_CHURN_COUNT_NS), DW_CHURN_HOT);
    CHECK(!dw_churn_churns(&scores, KEY_A));
    /* hot is for good, whatever dies */
    CHECK_EQ(fill_and_die(count, 4 * DW_CHURN_MIN, 0, 1 << 30),
             DW_CHURN_NONE);
    CHECK_EQ(dw_churn_state(&scores, KEY_A), DW_CHURN_HOT);
    /* one execution short of the bar churns */
    count = make_suspect();
    *count = (uint32_t)-1;          /* wraps: one run fewer */
    CHECK_EQ(fill_and_die(count, DW_CHURN_MIN, DW_CHURN_EXECS,
                          1000 + DW_CHURN_COUNT_NS), DW_CHURN_CHURNS);
}

/* Judged only after DW_CHURN_COUNT_NS of counting and enough deaths. */
static void test_scores_judged_when_counted(void)
{
    uint32_t *count;

    /* deaths before the counter exists are not judged */
    reset();
    for (unsigned i = 0; i < 5 * DW_CHURN_MIN; i++) {
        young(KEY_A, SPACE, 0);
    }
    CHECK_EQ(dw_churn_state(&scores, KEY_A), DW_CHURN_SUSPECT);

    count = make_suspect();
    CHECK_EQ(fill_and_die(count, DW_CHURN_EARLY_PAGES - 1, 0,
                          1000 + DW_CHURN_COUNT_NS - 1), DW_CHURN_NONE);
    CHECK_EQ(dw_churn_state(&scores, KEY_A), DW_CHURN_SUSPECT);
    CHECK_EQ(young(KEY_A, SPACE,
                                  1000 + DW_CHURN_COUNT_NS),
             DW_CHURN_CHURNS);

    count = make_suspect();
    CHECK_EQ(fill_and_die(count, DW_CHURN_MIN - 1, 0, 1 << 30),
             DW_CHURN_NONE);
    CHECK_EQ(fill_and_die(count, 1, 0, 1 << 30), DW_CHURN_CHURNS);
}

/*
 * DW_CHURN_EARLY_PAGES fills with fewer than DW_CHURN_EXECS runs each
 * churn before DW_CHURN_COUNT_NS; one run more per page waits, and so
 * does every hot verdict.
 */
static void test_scores_early_churn(void)
{
    uint32_t *count = make_suspect();

    CHECK_EQ(fill_and_die(count, DW_CHURN_EARLY_PAGES - 1, 1, 2000),
             DW_CHURN_NONE);
    CHECK_EQ(fill_and_die(count, 1, 1, 2000), DW_CHURN_CHURNS);
    CHECK(dw_churn_churns(&scores, KEY_A));

    count = make_suspect();
    CHECK_EQ(fill_and_die(count, 4 * DW_CHURN_EARLY_PAGES, DW_CHURN_EXECS,
                          2000), DW_CHURN_NONE);
    CHECK_EQ(dw_churn_state(&scores, KEY_A), DW_CHURN_SUSPECT);
    CHECK_EQ(young(KEY_A, SPACE, 1000 + DW_CHURN_COUNT_NS), DW_CHURN_HOT);

    /* deaths are still needed: fills that live are no verdict */
    count = make_suspect();
    for (unsigned i = 0; i < 2 * DW_CHURN_EARLY_PAGES; i++) {
        dw_churn_count_fill(&scores, KEY_A, SPACE, 1);
    }
    for (unsigned i = 1; i < DW_CHURN_MIN; i++) {
        CHECK_EQ(young(KEY_A, SPACE, 2000), DW_CHURN_NONE);
    }
    CHECK_EQ(young(KEY_A, SPACE, 2000), DW_CHURN_CHURNS);
}

/*
 * A fill maps a run: code that reads each page of a 26-page run once
 * runs 26 times per fill but once per page, and churns; code that runs
 * DW_CHURN_EXECS times per page of its runs is hot.
 */
static void test_scores_judged_per_page(void)
{
    uint32_t *count = make_suspect();

    for (unsigned i = 0; i < DW_CHURN_MIN; i++) {
        dw_churn_count_fill(&scores, KEY_A, SPACE, 26);
        *count += 26;
        CHECK_EQ(young(KEY_A, SPACE, 2000),
                 i + 1 < DW_CHURN_MIN ? DW_CHURN_NONE : DW_CHURN_CHURNS);
    }

    count = make_suspect();
    for (unsigned i = 0; i < DW_CHURN_MIN; i++) {
        dw_churn_count_fill(&scores, KEY_A, SPACE, 26);
        *count += 26 * DW_CHURN_EXECS;
        CHECK_EQ(young(KEY_A, SPACE, 2000), DW_CHURN_NONE);
    }
    CHECK_EQ(young(KEY_A, SPACE, 1000 + DW_CHURN_COUNT_NS), DW_CHURN_HOT);
}

/*
 * A process exits: the fills it made before counting die at once.  Code
 * that ran a lot per fill made while counted stays direct.
 */
static void test_scores_exit_burst(void)
{
    uint32_t *count = make_suspect();

    for (unsigned i = 0; i < 2; i++) {
        dw_churn_count_fill(&scores, KEY_A, SPACE, 1);
    }
    *count = 2 * DW_CHURN_EXECS;
    for (unsigned i = 1; i < DW_CHURN_MIN; i++) {
        CHECK_EQ(young(KEY_A, SPACE, 1 << 30),
                 DW_CHURN_NONE);
    }
    CHECK_EQ(young(KEY_A, SPACE, 1 << 30),
             DW_CHURN_HOT);
}

/*
 * Counters are handed out once per reset, even across a reset for a
 * full table; when none is left, suspect code is not made again.
 */
static void test_counters_run_out(void)
{
    uint64_t key;

    reset();
    for (unsigned k = 0; k <= DW_CHURN_COUNTERS; k++) {
        key = 0x200000 + k * 64;
        for (unsigned i = 0; i < DW_CHURN_MIN; i++) {
            young(key, SPACE, 0);
        }
        CHECK_EQ(dw_churn_state(&scores, key), DW_CHURN_SUSPECT);
        CHECK_EQ(dw_churn_wants_count(&scores, key),
                 k < DW_CHURN_COUNTERS);
        CHECK_EQ(counter_of(key, 0) != NULL, k < DW_CHURN_COUNTERS);
    }
    /* a reset for a full table keeps them taken */
    for (uint64_t k = 0; k < 2 * DW_CHURN_KEYS; k++) {
        dw_churn_count_fill(&scores, 0x900000 + k * 64, SPACE, 1);
    }
    for (unsigned i = 0; i < DW_CHURN_MIN; i++) {
        young(KEY_B, SPACE, 0);
    }
    CHECK(!dw_churn_wants_count(&scores, KEY_B));
    CHECK(counter_of(KEY_B, 0) == NULL);
    /* a new epoch hands them out again */
    dw_churn_scores_reset(&scores);
    for (unsigned i = 0; i < DW_CHURN_MIN; i++) {
        young(KEY_B, SPACE, 0);
    }
    CHECK(counter_of(KEY_B, 0) == &counters[0]);
}

/* Code whose fills mostly live (a loop filling an array) stays direct. */
static void test_scores_long_lived(void)
{
    reset();
    for (unsigned i = 0; i < 4 * DW_CHURN_MIN; i++) {
        dw_churn_count_fill(&scores, KEY_A, SPACE, 1);
    }
    for (unsigned i = 0; i < 2 * DW_CHURN_MIN; i++) {
        CHECK(!young(KEY_A, SPACE, 0));
    }
    CHECK_EQ(dw_churn_state(&scores, KEY_A), DW_CHURN_NONE);
    /* 3/4 exactly: 48 of 64 */
    for (unsigned i = 2 * DW_CHURN_MIN; i < 3 * DW_CHURN_MIN - 1; i++) {
        CHECK(!young(KEY_A, SPACE, 0));
    }
    CHECK_EQ(young(KEY_A, SPACE, 0), DW_CHURN_SUSPECT);
}

/* A death whose fill was forgotten still counts. */
static void test_scores_death_without_fill(void)
{
    reset();
    for (unsigned i = 1; i < DW_CHURN_MIN; i++) {
        CHECK(!young(KEY_B, SPACE, 0));
    }
    CHECK_EQ(young(KEY_B, SPACE, 0), DW_CHURN_SUSPECT);
}

/* Many keys: the table starts again rather than overflow, and works. */
static void test_scores_full(void)
{
    reset();
    for (unsigned i = 1; i < DW_CHURN_MIN; i++) {
        young(KEY_A, SPACE, 0);
    }
    for (uint64_t k = 0; k < 10 * DW_CHURN_KEYS; k++) {
        dw_churn_count_fill(&scores, 0x100000 + k * 64, SPACE, 1);
        CHECK(scores.used < DW_CHURN_KEYS);
    }
    /* KEY_A's score went with a restart: one more is not enough */
    CHECK(!young(KEY_A, SPACE, 0));
    for (unsigned i = 0; i < DW_CHURN_KEYS; i++) {
        dw_churn_churns(&scores, (uint64_t)rand() << 6);
    }
    dw_churn_scores_reset(&scores);
    CHECK_EQ(scores.used, 0);
    CHECK(!dw_churn_churns(&scores, KEY_A));
}

int main(void)
{
    run_test("ring: a drop finds its window, generation and range",
             test_ring_drop_range);
    run_test("ring: pages below the range do not wrap into it",
             test_ring_drop_no_wrap);
    run_test("ring: fills older than the ring are not young",
             test_ring_forgets_old);
    run_test("ring: a drop returns at most max keys", test_ring_drop_max);
    run_test("scores: suspect at the minimum, reported once",
             test_scores_threshold);
    run_test("scores: suspect only from deaths in one address space",
             test_scores_one_space);
    run_test("scores: suspect code that runs little per page churns",
             test_scores_cold_churns);
    run_test("scores: suspect code that runs a lot per page is hot",
             test_scores_hot_stays_direct);
    run_test("scores: judged after counting long enough, over enough deaths",
             test_scores_judged_when_counted);
    run_test("scores: many fills with few runs churn without the wait",
             test_scores_early_churn);
    run_test("scores: runs per page, not per fill of a run",
             test_scores_judged_per_page);
    run_test("scores: deaths at an exit do not make hot code cold",
             test_scores_exit_burst);
    run_test("scores: counters run out until the next epoch",
             test_counters_run_out);
    run_test("scores: code whose fills live stays direct",
             test_scores_long_lived);
    run_test("scores: a death without its fill counts",
             test_scores_death_without_fill);
    run_test("scores: a full table starts again", test_scores_full);
    return tap_done();
}
