/*
 * qemu-fast direct windows: code whose fills die young (QEMU-free core)
 *
 * A direct access that misses its window costs a host signal, and
 * mapping the page a host mmap that makes a mapping (VMA) of its own;
 * when the guest drops the translation, unmapping it costs more.  For a
 * page the guest keeps using that is paid once.  For a page whose
 * translation goes soon after (a short-lived process, a buffer mapped,
 * touched and unmapped at once) it is several times a softmmu TLB fill,
 * for nothing: such code is better translated without direct accesses.
 *
 * Which code that is, is learnt from its fills.  Each vCPU keeps a ring
 * of its last fills: window, generation, page, and the key of the code
 * that missed (the guest-physical start of its TB).  A fill whose page the
 * guest drops while it is still in the ring died young and is charged to
 * its key.  A key churns once DW_CHURN_MIN of its fills died young, and
 * at least 3/4 of them: code that fills long-lived pages too (a memset of
 * a large buffer, a loop that populates an array) keeps its direct
 * accesses.
 *
 * The scores are forgotten now and then (dw_churn_scores_reset): code
 * that stopped churning (a shared library routine, now on long-lived
 * buffers) comes back direct, and churns again after DW_CHURN_MIN young
 * deaths if it did not.
 *
 * The caller provides the locking: a ring is its vCPU's own; the scores
 * are shared.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef DIRECT_WINDOW_CHURN_H
#define DIRECT_WINDOW_CHURN_H

#include <stdbool.h>
#include <stdint.h>

/* Fills a vCPU remembers: a page dropped within these died young. */
#define DW_CHURN_RING       128

/* Young deaths before a key churns, and the share of its fills. */
#define DW_CHURN_MIN        16

/* Keys scored at once; when full, the scores start again. */
#define DW_CHURN_KEYS       1024

struct dw_churn_fill {
    uint64_t key;
    uint32_t page;
    uint32_t gen;
    uint16_t win;
    bool live;
};

/* A vCPU's last fills, oldest overwritten first. */
struct dw_churn_ring {
    struct dw_churn_fill fill[DW_CHURN_RING];
    unsigned next;
    unsigned n_live;
};

struct dw_churn_score {
    uint64_t key;
    uint32_t fills;
    uint32_t young;
    bool used;
    bool churns;
};

/* Open addressing over DW_CHURN_KEYS entries. */
struct dw_churn_scores {
    struct dw_churn_score s[DW_CHURN_KEYS];
    unsigned used;
};

void dw_churn_ring_init(struct dw_churn_ring *r);

/* Window @win (generation @gen) mapped @page for a miss of code @key. */
void dw_churn_ring_note(struct dw_churn_ring *r, unsigned win, uint32_t gen,
                        uint32_t page, uint64_t key);

/*
 * The guest dropped pages [@first, @first + @n) of window @win
 * (generation @gen).  Stores the keys of the ring's fills among them in
 * @keys (up to @max) and forgets those fills; returns how many.
 */
unsigned dw_churn_ring_drop(struct dw_churn_ring *r, unsigned win,
                            uint32_t gen, uint32_t first, uint32_t n,
                            uint64_t *keys, unsigned max);

void dw_churn_scores_reset(struct dw_churn_scores *t);

/* Code @key filled a page. */
void dw_churn_count_fill(struct dw_churn_scores *t, uint64_t key);

/*
 * A page code @key filled died young.  True when that makes @key churn
 * (once: it stays so until the scores are reset).
 */
bool dw_churn_count_young(struct dw_churn_scores *t, uint64_t key);

/* Does code @key churn? */
bool dw_churn_churns(const struct dw_churn_scores *t, uint64_t key);

#endif /* DIRECT_WINDOW_CHURN_H */
