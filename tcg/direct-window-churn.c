/*
 * qemu-fast direct windows: code whose fills die young (QEMU-free core)
 *
 * See direct-window-churn.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <string.h>

#include "direct-window-churn.h"

/* The scores start again past this many keys: probes stay short. */
#define DW_CHURN_KEYS_FULL  (DW_CHURN_KEYS * 3 / 4)

void dw_churn_ring_init(struct dw_churn_ring *r)
{
    memset(r, 0, sizeof(*r));
}

void dw_churn_ring_note(struct dw_churn_ring *r, unsigned win, uint32_t gen,
                        uint32_t page, uint64_t key)
{
    struct dw_churn_fill *f = &r->fill[r->next];

    r->n_live += !f->live;
    *f = (struct dw_churn_fill) {
        .key = key, .page = page, .gen = gen, .win = win, .live = true,
    };
    r->next = (r->next + 1) % DW_CHURN_RING;
}

unsigned dw_churn_ring_drop(struct dw_churn_ring *r, unsigned win,
                            uint32_t gen, uint32_t first, uint32_t n,
                            uint64_t *keys, unsigned max)
{
    unsigned found = 0;

    for (unsigned i = 0; r->n_live && i < DW_CHURN_RING && found < max;
         i++) {
        struct dw_churn_fill *f = &r->fill[i];

        /* page - first wraps for pages below the range */
        if (f->live && f->win == win && f->gen == gen &&
            f->page - first < n) {
            keys[found++] = f->key;
            f->live = false;
            r->n_live--;
        }
    }
    return found;
}

void dw_churn_scores_reset(struct dw_churn_scores *t)
{
    memset(t, 0, sizeof(*t));
}

static unsigned dw_churn_hash(uint64_t key)
{
    key ^= key >> 29;
    key *= 0xbf58476d1ce4e5b9ull;
    key ^= key >> 32;
    return key % DW_CHURN_KEYS;
}

/*
 * The index of @key's entry, or of the free one it would take; never
 * DW_CHURN_KEYS, as the table is never full (DW_CHURN_KEYS_FULL).
 */
static unsigned dw_churn_find(const struct dw_churn_scores *t, uint64_t key)
{
    unsigned i = dw_churn_hash(key);

    while (t->s[i].used && t->s[i].key != key) {
        i = (i + 1) % DW_CHURN_KEYS;
    }
    return i;
}

/* @key's entry, made if need be. */
static struct dw_churn_score *dw_churn_get(struct dw_churn_scores *t,
                                           uint64_t key)
{
    struct dw_churn_score *s = &t->s[dw_churn_find(t, key)];

    if (s->used) {
        return s;
    }
    if (t->used >= DW_CHURN_KEYS_FULL) {
        unsigned counters_used = t->counters_used;

        dw_churn_scores_reset(t);
        t->counters_used = counters_used;
        s = &t->s[dw_churn_find(t, key)];
    }
    *s = (struct dw_churn_score) { .key = key, .used = true };
    t->used++;
    return s;
}

/*
 * Before @s is suspect, only one address space's fills and deaths count:
 * another one starts them again.
 */
static void dw_churn_in_space(struct dw_churn_score *s, uint64_t space)
{
    if (s->state == DW_CHURN_NONE && s->space != space) {
        s->space = space;
        s->fills = 0;
        s->pages = 0;
        s->young = 0;
    }
}

void dw_churn_count_fill(struct dw_churn_scores *t, uint64_t key,
                         uint64_t space, uint32_t pages)
{
    struct dw_churn_score *s = dw_churn_get(t, key);

    dw_churn_in_space(s, space);

    if (s->fills < UINT32_MAX) {
        s->fills++;
    }
    s->pages = pages < UINT32_MAX - s->pages ? s->pages + pages : UINT32_MAX;
}

/* Has suspect @s been counted over enough deaths to be judged at all? */
static bool dw_churn_enough_deaths(const struct dw_churn_score *s)
{
    return s->counting && s->young - s->young_at_count >= DW_CHURN_MIN;
}

/* Has suspect @s been counted long enough, over enough deaths? */
static bool dw_churn_counted(const struct dw_churn_score *s, int64_t now)
{
    return dw_churn_enough_deaths(s) &&
           now - s->count_since >= DW_CHURN_COUNT_NS;
}

/* Did counted @s run too little per page it filled to be direct? */
static enum dw_churn_state dw_churn_judge(const struct dw_churn_score *s,
                                          DWChurnExecsFn *execs,
                                          void *opaque)
{
    uint64_t pages = s->pages - s->pages_at_count;

    return execs(s->counter, opaque) < pages * DW_CHURN_EXECS ?
           DW_CHURN_CHURNS : DW_CHURN_HOT;
}

/*
 * Has suspect @s, counted for less than DW_CHURN_COUNT_NS, already
 * filled so many pages for so few runs that it churns whatever comes
 * next?  The wait guards hot code against a burst of deaths with few
 * fills counted (a process exiting); DW_CHURN_EARLY_PAGES pages filled
 * with fewer than DW_CHURN_EXECS runs each are no such burst.
 */
static bool dw_churn_clearly_churns(const struct dw_churn_score *s,
                                    DWChurnExecsFn *execs, void *opaque)
{
    return dw_churn_enough_deaths(s) &&
           s->pages - s->pages_at_count >= DW_CHURN_EARLY_PAGES &&
           dw_churn_judge(s, execs, opaque) == DW_CHURN_CHURNS;
}

enum dw_churn_state dw_churn_count_young(struct dw_churn_scores *t,
                                         uint64_t key, uint64_t space,
                                         int64_t now, DWChurnExecsFn *execs,
                                         void *opaque)
{
    struct dw_churn_score *s = dw_churn_get(t, key);

    dw_churn_in_space(s, space);
    if (s->young < UINT32_MAX) {
        s->young++;
    }
    switch (s->state) {
    case DW_CHURN_NONE:
        /*
         * A death whose fill the scores forgot counts as a fill too; not
         * once counting, where only the fills made meanwhile weigh.
         */
        if (s->fills < s->young) {
            s->fills = s->young;
        }
        if (s->young < DW_CHURN_MIN ||
            (uint64_t)s->young * 4 < (uint64_t)s->fills * 3) {
            return DW_CHURN_NONE;
        }
        s->state = DW_CHURN_SUSPECT;
        return s->state;
    case DW_CHURN_SUSPECT:
        if (dw_churn_counted(s, now)) {
            s->state = dw_churn_judge(s, execs, opaque);
        } else if (dw_churn_clearly_churns(s, execs, opaque)) {
            s->state = DW_CHURN_CHURNS;
        } else {
            return DW_CHURN_NONE;
        }
        return s->state;
    default:
        return DW_CHURN_NONE;
    }
}

enum dw_churn_state dw_churn_state(const struct dw_churn_scores *t,
                                   uint64_t key)
{
    const struct dw_churn_score *s = &t->s[dw_churn_find(t, key)];

    return s->used ? s->state : DW_CHURN_NONE;
}

bool dw_churn_churns(const struct dw_churn_scores *t, uint64_t key)
{
    return dw_churn_state(t, key) == DW_CHURN_CHURNS;
}

int dw_churn_exec_counter(struct dw_churn_scores *t, uint64_t key,
                          int64_t now, bool *fresh)
{
    struct dw_churn_score *s = &t->s[dw_churn_find(t, key)];

    *fresh = false;
    if (!s->used || s->state != DW_CHURN_SUSPECT) {
        return -1;
    }
    if (!s->counting) {
        if (t->counters_used >= DW_CHURN_COUNTERS) {
            return -1;
        }
        *fresh = true;
        s->counting = true;
        s->counter = t->counters_used++;
        s->fills_at_count = s->fills;
        s->pages_at_count = s->pages;
        s->young_at_count = s->young;
        s->count_since = now;
    }
    return s->counter;
}

bool dw_churn_wants_count(const struct dw_churn_scores *t, uint64_t key)
{
    const struct dw_churn_score *s = &t->s[dw_churn_find(t, key)];

    return s->used && s->state == DW_CHURN_SUSPECT && !s->counting &&
           t->counters_used < DW_CHURN_COUNTERS;
}

