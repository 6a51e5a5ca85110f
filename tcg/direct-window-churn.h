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
 * its key.  A key is suspect once DW_CHURN_MIN of its fills died young
 * in one address space (a window and its generation), and at least 3/4
 * of its fills there: code that fills long-lived pages too (a memset of
 * a large buffer, a loop that populates an array) keeps its direct
 * accesses.  One address space, because code that runs once in each
 * short-lived process (the dynamic loader, libc's start-up) sees its
 * fills die with the process, a few per process: made non-direct it ran
 * a fork/exec loop 4-15% slower, where a loop that maps, touches and
 * unmaps buffers in one process ran 1.8x faster.
 *
 * Young deaths alone also pick hot code: a compressor's inner loop that
 * misses on each new page of a buffer the program frees soon after runs
 * thousands of times on each page, and made non-direct it ran 12-15%
 * slower.  So a suspect key's code is translated again, still direct,
 * counting its executions (dw_churn_exec_counter).  It is judged once it
 * has been counted for DW_CHURN_COUNT_NS and DW_CHURN_MIN more of its
 * fills died young: it churns if it ran fewer than DW_CHURN_EXECS times
 * per page it filled meanwhile, and is hot (direct, never suspect again
 * until the scores are reset) otherwise.  Pages, not fills: one fill
 * maps a run of up to 64 present pages, and code that reads each page
 * of a buffer once runs 26 times per fill of such runs; every page of
 * them is unmapped again when it dies.  Code that filled
 * DW_CHURN_EARLY_PAGES pages that way is found to churn without the
 * wait; a hot verdict always waits.  A fill costs a host signal, an
 * mmap and later an munmap, some 4-5 us here; a softmmu access costs a
 * few ns more than a direct one, so code that runs a few hundred times
 * per page it fills is better off direct.  The time matters: a process
 * that exits drops its last fills at once, and those died young too;
 * counted over a few such deaths, hot code looked cold.
 *
 * The scores are forgotten now and then (dw_churn_scores_reset): code
 * that stopped churning (a shared library routine, now on long-lived
 * buffers) comes back direct, and churns again, after 2 * DW_CHURN_MIN
 * young deaths and DW_CHURN_COUNT_NS of counting, if it did not.
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

/* Young deaths before a key is suspect, and the share of its fills. */
#define DW_CHURN_MIN        16

/* Executions per page filled below which suspect code churns. */
#define DW_CHURN_EXECS      16

/* How long suspect code is counted before it is judged. */
#define DW_CHURN_COUNT_NS   (50 * 1000 * 1000)

/*
 * Pages filled, counted, after which code that ran fewer than
 * DW_CHURN_EXECS times per page churns at once, without waiting
 * DW_CHURN_COUNT_NS: a loop that maps, touches and unmaps buffers fills
 * this many in a millisecond, and each 50 ms of waiting cost it
 * thousands of fills.
 */
#define DW_CHURN_EARLY_PAGES 64

/*
 * Execution counters, handed out until the scores are reset: a counter
 * is never given to other code while a TB may still add to it.  The
 * counters themselves are the caller's (one per vCPU, reached from the
 * CPU state, so that translated code touches no other host memory).
 */
#define DW_CHURN_COUNTERS   64

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

enum dw_churn_state {
    DW_CHURN_NONE,          /* direct */
    DW_CHURN_SUSPECT,       /* direct, executions counted */
    DW_CHURN_CHURNS,        /* made without direct accesses */
    DW_CHURN_HOT,           /* direct: fills die young but serve a lot */
};

/*
 * While @counting, TBs of the key add their executions to counter
 * @counter, since @count_since, when the key had @fills_at_count fills
 * of @pages_at_count pages and @young_at_count young deaths.
 */
struct dw_churn_score {
    uint64_t key;
    uint32_t fills;
    uint32_t young;
    uint32_t pages;         /* what its fills mapped */
    uint32_t fills_at_count;
    uint32_t pages_at_count;
    uint32_t young_at_count;
    int64_t count_since;
    uint64_t space;         /* where @fills and @young were counted */
    bool used;
    bool counting;
    uint8_t counter;
    uint8_t state;          /* enum dw_churn_state */
};

/*
 * Open addressing over DW_CHURN_KEYS entries.  @counters_used survives a
 * reset for a full table, as the counting TBs do; a new epoch
 * (dw_churn_scores_reset) starts it again.
 */
struct dw_churn_scores {
    struct dw_churn_score s[DW_CHURN_KEYS];
    unsigned used;
    unsigned counters_used;
};

/* Executions counter @counter had, all vCPUs; @opaque is the caller's. */
typedef uint64_t DWChurnExecsFn(unsigned counter, void *opaque);

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

/*
 * Code @key filled a page in address space @space (see
 * dw_churn_space()), mapping @pages pages with it (a run).
 */
void dw_churn_count_fill(struct dw_churn_scores *t, uint64_t key,
                         uint64_t space, uint32_t pages);

/*
 * A page code @key filled in address space @space died young, at @now
 * (ns).  Returns @key's state when that changed it, else DW_CHURN_NONE.
 * A state other than NONE stays until the scores are reset.
 */
enum dw_churn_state dw_churn_count_young(struct dw_churn_scores *t,
                                         uint64_t key, uint64_t space,
                                         int64_t now, DWChurnExecsFn *execs,
                                         void *opaque);

/* The address space of window @win at generation @gen. */
static inline uint64_t dw_churn_space(unsigned win, uint32_t gen)
{
    return (uint64_t)win << 32 | gen;
}

/* Code @key's state. */
enum dw_churn_state dw_churn_state(const struct dw_churn_scores *t,
                                   uint64_t key);

/* Does code @key churn? */
bool dw_churn_churns(const struct dw_churn_scores *t, uint64_t key);

/*
 * Code @key is being translated at @now: the counter its executions must
 * add to (the code is suspect), or -1.  Counting starts with the first;
 * a counter handed out for the first time since the reset (@fresh) must
 * be zeroed by the caller first.
 */
int dw_churn_exec_counter(struct dw_churn_scores *t, uint64_t key,
                          int64_t now, bool *fresh);

/*
 * Is a suspect @key's code still to be translated with a counter, and is
 * there one left for it?
 */
bool dw_churn_wants_count(const struct dw_churn_scores *t, uint64_t key);

#endif /* DIRECT_WINDOW_CHURN_H */
