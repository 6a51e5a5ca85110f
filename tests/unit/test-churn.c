/*
 * Unit tests of the core that finds code whose fills die young
 * (tcg/direct-window-churn.c)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "direct-window-churn.h"

#define KEY_A   0x1234000ull
#define KEY_B   0x5678040ull

static struct dw_churn_ring ring;
static struct dw_churn_scores scores;

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

/* Code churns at DW_CHURN_MIN young deaths, once, when 3/4 of its fills. */
static void test_scores_threshold(void)
{
    reset();
    for (unsigned i = 0; i < DW_CHURN_MIN; i++) {
        dw_churn_count_fill(&scores, KEY_A);
    }
    for (unsigned i = 1; i < DW_CHURN_MIN; i++) {
        CHECK(!dw_churn_count_young(&scores, KEY_A));
        CHECK(!dw_churn_churns(&scores, KEY_A));
    }
    CHECK(dw_churn_count_young(&scores, KEY_A));
    CHECK(dw_churn_churns(&scores, KEY_A));
    CHECK(!dw_churn_count_young(&scores, KEY_A));   /* reported once */
    CHECK(!dw_churn_churns(&scores, KEY_B));
}

/* Code whose fills mostly live (a loop filling an array) stays direct. */
static void test_scores_long_lived(void)
{
    reset();
    for (unsigned i = 0; i < 4 * DW_CHURN_MIN; i++) {
        dw_churn_count_fill(&scores, KEY_A);
    }
    for (unsigned i = 0; i < 2 * DW_CHURN_MIN; i++) {
        CHECK(!dw_churn_count_young(&scores, KEY_A));
    }
    CHECK(!dw_churn_churns(&scores, KEY_A));
    /* 3/4 exactly: 48 of 64 */
    for (unsigned i = 2 * DW_CHURN_MIN; i < 3 * DW_CHURN_MIN - 1; i++) {
        CHECK(!dw_churn_count_young(&scores, KEY_A));
    }
    CHECK(dw_churn_count_young(&scores, KEY_A));
}

/* A death whose fill was forgotten still counts. */
static void test_scores_death_without_fill(void)
{
    reset();
    for (unsigned i = 1; i < DW_CHURN_MIN; i++) {
        CHECK(!dw_churn_count_young(&scores, KEY_B));
    }
    CHECK(dw_churn_count_young(&scores, KEY_B));
}

/* Many keys: the table starts again rather than overflow, and works. */
static void test_scores_full(void)
{
    reset();
    for (unsigned i = 1; i < DW_CHURN_MIN; i++) {
        dw_churn_count_young(&scores, KEY_A);
    }
    for (uint64_t k = 0; k < 10 * DW_CHURN_KEYS; k++) {
        dw_churn_count_fill(&scores, 0x100000 + k * 64);
        CHECK(scores.used < DW_CHURN_KEYS);
    }
    /* KEY_A's score went with a restart: one more is not enough */
    CHECK(!dw_churn_count_young(&scores, KEY_A));
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
    run_test("scores: churns at the minimum, reported once",
             test_scores_threshold);
    run_test("scores: code whose fills live stays direct",
             test_scores_long_lived);
    run_test("scores: a death without its fill counts",
             test_scores_death_without_fill);
    run_test("scores: a full table starts again", test_scores_full);
    return tap_done();
}
