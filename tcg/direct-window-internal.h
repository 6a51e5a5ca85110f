/*
 * qemu-fast direct windows: state shared by the glue (QEMU)
 *
 * The glue is split by concern: GS on TB entry and exit
 * (direct-window-gs.c), the record of what each window maps and the
 * flushes that reach it (direct-window-map.c), the SIGSEGV path
 * (direct-window-fault.c), host canaries (direct-window-canary.c),
 * set-up and refusals (direct-window-setup.c) and the counters
 * (direct-window-stats.c).  The target decides what a fault maps and
 * keeps windows right across address-space switches
 * (target/i386/tcg/system/direct-window-{fill,cr3,ptw}.c); the RAM side
 * is hw/core/direct-window-ram.c.  Only those files include this header;
 * upstream files include tcg/direct-window.h.
 *
 * Locking: a window's bookkeeping (which pages are mapped, which are
 * writable) is changed under the vCPU's TLB lock, like the softmmu TLB,
 * because dirty-bit resets come from other threads.  Only the vCPU's own
 * thread maps into or empties its windows.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef TCG_DIRECT_WINDOW_INTERNAL_H
#define TCG_DIRECT_WINDOW_INTERNAL_H

#include "exec/cpu-common.h"
#include "exec/exec-all.h"
#include "tcg/direct-window.h"
#include "tcg/direct-window-acct.h"
#include "tcg/direct-window-core.h"
#include "tcg/direct-window-churn.h"
#include "tcg/direct-window-young.h"
#include "tcg/direct-window-xlink-core.h"

/* Only x86-64 Linux hosts have what the fast mode needs. */
#if defined(__x86_64__) && defined(__linux__)
#define DW_HOST_SUPPORTED 1
#else
#define DW_HOST_SUPPORTED 0
#endif

#define DW_GUEST_PAGES  (1u << (DW_WINDOW_BITS - TARGET_PAGE_BITS))
#define DW_MAPPED_WORDS BITS_TO_LONGS(DW_GUEST_PAGES)
#define DW_REGION_BITS  9           /* pages per region: 2 MiB */
#define DW_REGIONS      (DW_GUEST_PAGES >> DW_REGION_BITS)
#define DW_REGION_WORDS ((1u << DW_REGION_BITS) / BITS_PER_LONG)
#define DW_REGION_EMPTY UINT64_MAX

/*
 * A TB whose accesses left the direct path this many times (MMIO, stores
 * to pages holding code) is made again without direct accesses: one
 * softmmu access is far cheaper than a fault and a re-execution.
 */
#define DW_STICKY_AFTER     4
#define DW_STICKY_MAX       8192
/* Code pages whose globalness a vCPU remembers (direct-window-jmp.c) */
#define DW_JMP_PAGES        64
/* Non-global jump-cache entries a CR3 write empties one by one */
#define DW_JMP_FRESH_MAX    512

/* Above this many pages (4 MiB) a range flush resets the whole window. */
#define DW_RANGE_FLUSH_MAX  1024

/*
 * Longest run of pages one fault maps: a run is one mmap, but finding
 * it walks each page, so the walk cost is bounded too.
 */
#define DW_BATCH_MAX        64

/* Why an access left the direct path; indexes dw_stats.slow[]. */
enum {
    DW_SLOW_MMIO,
    DW_SLOW_NOTDIRTY,       /* code page or dirty logging */
    DW_SLOW_ROM,
    DW_SLOW_WATCH,
    DW_SLOW_WRAP,           /* access straddling 4 GiB, into the guard */
    DW_SLOW_NOFD,           /* RAM without a file descriptor */
    DW_SLOW_LOW,            /* fast=classic: below vm.mmap_min_addr */
    DW_SLOW_OTHER,
    DW_SLOW_CHURN,          /* code whose fills die young */
    DW_SLOW_YOUNG,          /* the kernel, at a young space's user page */
    DW_SLOW__MAX
};

/* A queued invalidation: pages [first, first + n) of window @win. */
typedef struct DWInval {
    uint32_t first;
    uint32_t n;
    uint32_t gen;           /* dropped if the window was emptied since */
    uint8_t win;
    /* RAM page of the upper-level table whose store queued it, or: */
    uint64_t table;
    /*
     * That table was written over and over while the window was not
     * current (direct-window-track.c, DW_TABLE_FLOOD): end the window's
     * address space even if its root still reaches the table.
     */
    bool flooded;
} DWInval;

/*
 * Write flooding, as KVM's shadow MMU calls it: a table written this many
 * times while its window was switched out, with no walk through it in
 * between, is most likely no table of that address space any more: an
 * exited process's page directory or page table, cleared or filled as
 * the kernel reuses the page while the dead root still reaches it.  With
 * page-table isolation a fork+exec+exit made some 550 such stores, each
 * through the softmmu's notdirty path and the tracking lock.  The
 * window's use of the table goes instead: an upper-level table ends the
 * window's address space, as a table its root no longer reaches does
 * (dw_inval_ends_window), a leaf table drops the range it translates.
 * Always safe: a walk that needs the table again tracks it again.
 */
#define DW_TABLE_FLOOD  64

/* DWInval::table of an invalidation no upper-level store queued. */
#define DW_NO_TABLE     UINT64_MAX

/* A window that holds no address space yet; one for paging off. */
#define DW_ROOT_NONE    UINT64_MAX
#define DW_ROOT_FLAT    (UINT64_MAX - 1)

/*
 * Per vCPU.  The arrays are indexed by window: DW_ROOT_WINDOWS per slot,
 * each holding the mappings of one guest address space (its root, e.g.
 * CR3), so that an address space switched back in finds them in place.
 *
 * Invariant: every page mapped in a window was translated through guest
 * page-table pages that are tracked (direct-window-track.c) for that
 * window and generation, or has an invalidation queued.  So a window is
 * right for its root whenever the vCPU has applied its queue.
 */
/* One entry of the second-level jump cache: @pc's TB when made. */
typedef struct DWJmpL2Entry {
    vaddr pc;
    TranslationBlock *tb;
    uint32_t gen;           /* the vCPU's jmp_l2_gen when made */
    uint32_t space_gen;     /* its jmp_l2_space_gen, 0 for a global page */
    uint32_t page_gen;      /* its generation of @pc's page */
} DWJmpL2Entry;

typedef struct DWCpu {
    uintptr_t gs[DW_NB_WINDOWS];        /* window bases */
    unsigned long *mapped[DW_NB_WINDOWS]; /* guest pages mapped */
    /*
     * One bit per word of @mapped that may be non-zero, so that a walk
     * over the mapped pages skips the empty parts of the 4 GiB quickly.
     */
    unsigned long *mapped_words[DW_NB_WINDOWS];
    uint32_t n_mapped[DW_NB_WINDOWS];
    GHashTable *writable[DW_NB_WINDOWS]; /* vpage -> host page of RW pages */
    /*
     * host page -> GSList of the vpages mapped writable onto it, so that
     * one page becoming clean (a new page table) finds them at once.
     */
    GHashTable *rw_host[DW_NB_WINDOWS];
    /*
     * vpage -> host page of the pages a dirty reset made read-only (their
     * RAM became a page table, or code) and that are still mapped so: a
     * store there once the RAM is neither is made writable again
     * (dw_upgrade) without a fill.  The mapping, and so the translation
     * behind it, is the one that was writable: changing it unmaps it.
     */
    GHashTable *ro_was_rw[DW_NB_WINDOWS];
    /* Where the window holds pages of large pages (see dw_flush_range) */
    struct dw_large *large[DW_NB_WINDOWS];
    /*
     * The address space each window holds (DW_ROOT_NONE: none), when it
     * was last current, and its generation: bumped whenever the window
     * is emptied, so that stale table uses and queued invalidations are
     * recognised.  @gen is read by other threads.
     */
    uint64_t root[DW_NB_WINDOWS];
    uint64_t used[DW_NB_WINDOWS];
    uint32_t gen[DW_NB_WINDOWS];
    uint64_t clock;
    /* Mappings made while CR0.WP was 0 that WP=1 forbids */
    bool wp_relaxed[DW_NB_WINDOWS];
    /*
     * The RAM page of the leaf page table each 2 MiB region's pages came
     * through (0: none), so that its tracking ends when the entry above
     * it changes; and the target's record, per 1 GiB, of upper-level
     * entries that are checked at CR3 writes instead of tracked (i386:
     * PAE PDPTEs, which the CPU itself only loads then); 0: none.
     */
    uint64_t *region_pt[DW_NB_WINDOWS];
    uint64_t upper_key[DW_NB_WINDOWS][4];
    /*
     * What the target needs to hand a window to another address space
     * that shares part of it (i386: the kernel half of every process):
     * the upper-level entry each 2 MiB region came through (0: none),
     * and the RAM pages of the upper-level tables tracked for it.
     */
    uint64_t *region_upper[DW_NB_WINDOWS];
    uint64_t upper_table[DW_NB_WINDOWS][4];
    uint8_t cur[DW_NB_SLOTS];           /* window serving each slot now */
    bool in_cr3_flush;                  /* windows already switched */
    unsigned classic_slot;              /* fast=classic: who has the window */
    /* Invalidations queued by stores to tracked tables, from any thread */
    QemuSpin pending_lock;
    GArray *pending;                    /* DWInval */
    bool pending_all[DW_NB_WINDOWS];    /* too many: empty the window */
    bool pending_any;
    /*
     * The page whose miss last raised a guest page fault, to be filled
     * when its window is entered again (the guest returning to the
     * faulting instruction after its handler mapped the page), which
     * saves the host signal of that retry.  prefill_slot1 is its
     * window's slot plus one, 0 for none: TB entry compares it with the
     * TB's own.  Only this vCPU's thread.
     */
    uint8_t prefill_slot1;
    unsigned prefill_win;
    uint32_t prefill_vaddr;
    uint64_t prefill_key;               /* the code that missed */
    /* The last fills, to find code whose fills die young; own thread. */
    struct dw_churn_ring *churn;
    uint32_t fill_pages;                /* what the last fill mapped */
    /*
     * Which user windows hold an address space too new to be given
     * direct accesses (direct-window-young.h); own thread.
     */
    struct dw_young young;
    int64_t young_until[DW_NB_WINDOWS];
    uint16_t young_slow_left[DW_NB_WINDOWS];
    uint32_t young_space[DW_NB_WINDOWS];
    /*
     * The jump cache across CR3 writes (direct-window-jmp.c), only this
     * vCPU's thread.  @jmp_global: one bit per entry, set when the
     * entry's TB was found at a PC the guest maps with global pages;
     * meaningful only while the entry holds that TB.  @jmp_fresh: the
     * entries made non-global since the last flush, all of them while
     * @n_jmp_fresh <= DW_JMP_FRESH_MAX, and @jmp_tracked: a full flush
     * of ours came first, so no older entry is left unlisted.
     * @in_cr3_write: the TLB flush under way is a CR3 write's.
     */
    unsigned long *jmp_global;
    uint16_t jmp_fresh[DW_JMP_FRESH_MAX];
    unsigned n_jmp_fresh;
    bool jmp_tracked;
    bool in_cr3_write;
    /*
     * Whether code pages are global, as last walked, by virtual and
     * guest-physical page; good while @gen is @jmp_page_gen, which
     * every full TLB flush but a CR3 write's bumps.
     */
    struct {
        uint64_t page;
        uint64_t phys;
        uint32_t gen;
        bool global;
    } jmp_page[DW_JMP_PAGES];
    uint32_t jmp_page_gen;
    /*
     * The second-level jump cache (direct-window-jmp-l2.c), made on
     * first use; an entry is good while it carries @jmp_l2_gen, its
     * page's generation in @jmp_l2_page_gen, and @jmp_l2_space_gen too
     * unless its page is global (0).  Other threads only bump
     * @jmp_l2_gen.
     */
    DWJmpL2Entry *jmp_l2;
    uint32_t *jmp_l2_page_gen;
    uint32_t jmp_l2_gen;
    uint32_t jmp_l2_space_gen;
    uint64_t jmp_l2_hits;       /* misses the second level had */
    /*
     * Remembered cross-page jumps (direct-window-xlink.c): the pages that
     * entries under the global generation lead to, and how many jumps
     * found no good entry and how many of them made one.
     */
    DWXlinkFilter xlink_filter;
    uint64_t xlink_misses;
    uint64_t xlink_fills;
} DWCpu;

/* Counters for -d fast and "info fast"; updated with qatomic_*(). */
typedef struct DWStats {
    uint64_t faults;
    uint64_t fills;
    uint64_t pages_mapped;
    uint64_t guest_faults;
    uint64_t resets;
    uint64_t page_unmaps;
    uint64_t downgrades;
    uint64_t upgrades;          /* made writable again without a fill */
    uint64_t gs_switches;
    uint64_t sticky_tbs;
    uint64_t sticky_resets;     /* times the sticky set was full */
    uint64_t cr3_writes;
    uint64_t windows_found;     /* slot switches to a window kept */
    uint64_t windows_new;       /* slot switches that emptied one for it */
    uint64_t windows_adopted;   /* ... that kept another's shared part */
    uint64_t cr3_ns;            /* time spent revalidating on CR3 writes */
    uint64_t fill_ns;           /* time in the fault handler up to a retry */
    uint64_t unmap_ns;          /* time emptying windows and unmapping */
    uint64_t classic_switches;
    uint64_t slow[DW_SLOW__MAX];
    uint64_t tables;            /* table pages that became tracked */
    uint64_t table_writes;      /* stores seen to tracked table pages */
    uint64_t table_invals;      /* invalidations they queued */
    uint64_t table_pages_dropped; /* window pages those unmapped */
    uint64_t table_floods;      /* uses given up to write flooding */
    uint64_t windows_orphaned;  /* kernel windows kept for adoption */
    uint64_t prefills;          /* pages filled on return from a #PF */
    uint64_t jmp_kept_flushes;  /* CR3 writes that kept global TBs */
    uint64_t jmp_walks;         /* code pages walked for their G bit */
    uint64_t recounts;          /* estimates rebased on /proc/self/maps */
    uint64_t split_failures;    /* windows emptied: a split was refused */
    uint64_t over_limit_resets; /* windows emptied by munmap, no mmap left */
    uint64_t churn_suspects;    /* code whose fills died young, counted */
    uint64_t churn_keys;        /* code found to fill pages that die young */
    uint64_t churn_hot;         /* ... that ran a lot per page filled */
    uint64_t churn_epochs;      /* times such code was made direct again */
    uint64_t young_kernel_tbs;  /* kernel TBs that check for youth */
    uint64_t young_born;        /* new address spaces' user code, softmmu */
    uint64_t young_grown;       /* ... that went direct later */
} DWStats;

extern DWStats dw_stats;

/* Set up by dw_setup(), constant afterwards. */
extern TCGFastMode dw_mode;
/*
 * fast=classic: one window at host address 0 for every MMU index, no
 * segment base; host pages below dw_classic_min cannot be mapped.
 */
extern bool dw_classic;
extern uint64_t dw_classic_min;
extern struct dw_layout dw_layout;
extern uintptr_t dw_base;
extern DWCpu *dw_cpus;
extern unsigned dw_n_cpus;
extern bool dw_have_fsgsbase;
/*
 * Host mappings (VMAs) the windows may have made, an upper bound kept
 * per window below vm.max_map_count by the core's accounting: each mmap,
 * mprotect or PROT_NONE remap counts as a split, a reset as none left.
 */
extern struct dw_acct dw_acct;
/* Pages mapped in all windows, for the statistics only. */
extern uint64_t dw_total_pages;

/* direct-window-map.c, with the TLB lock held */
void dw_forget_all(DWCpu *c, unsigned win);
void dw_empty_window(CPUState *cpu, unsigned win);
/*
 * The first page of [@page, @end) mapped in window @win, else @end; the
 * per-word summary skips the empty stretches of the 4 GiB quickly.
 */
uint32_t dw_next_mapped(const DWCpu *c, unsigned win, uint32_t page,
                        uint32_t end);
void dw_unmap_pages(CPUState *cpu, unsigned win, uint32_t first,
                    uint32_t n);
void dw_note_mapped(DWCpu *c, unsigned win, uint32_t page,
                    uintptr_t host_rw, bool large);
/*
 * A store faulted on page @page of window @win: if a dirty reset made it
 * read-only and its RAM may be written directly again, make it writable.
 * True when the store can retry; only the vCPU's own thread.
 */
bool dw_upgrade(CPUState *cpu, unsigned win, uint32_t page);
/*
 * Host mappings a window being filled keeps at the cap, however few the
 * vCPU has elsewhere: more than one instruction's pages (dw_check_cap).
 */
#define DW_CAP_KEEP         16
/* Does window @win hold DW_CAP_KEEP mappings or more? */
bool dw_window_holds_many(CPUState *cpu, unsigned win);
void dw_check_cap(CPUState *cpu, unsigned win);
/* The kernel refused a fill's mmap with the windows emptied: say so once. */
void dw_warn_map_count(void);

/* direct-window-track.c */
void dw_track_init(void);
/* Is RAM page @ram_addr a tracked page table?  Lock-free. */
bool dw_ram_tracked(uint64_t ram_addr);
void dw_track_ram_ready(void);
void dw_queue_invalidation(CPUState *cpu, unsigned win, uint32_t first,
                           uint32_t n);
struct dw_table_use;
/*
 * Window @win of @cpu (in its current generation) depends on table page
 * @ram_page as @use says.  False when the page cannot be tracked.
 */
bool dw_track_table(CPUState *cpu, unsigned win, uint64_t ram_page,
                    const struct dw_table_use *use);
/*
 * Window @win of @cpu no longer depends on leaf table page @ram_page
 * where its whole range lies in guest pages [first, first + n).  True
 * when it did.
 */
bool dw_untrack_leaf(CPUState *cpu, unsigned win, uint64_t ram_page,
                     uint32_t first, uint32_t n);
/* Window @win of @cpu no longer depends on upper-level table @ram_page. */
void dw_untrack_upper(CPUState *cpu, unsigned win, uint64_t ram_page);
/* The regions wholly inside [first, first + n) changed their upper entry. */
void dw_untrack_regions(CPUState *cpu, unsigned win, uint32_t first,
                        uint32_t n);
/*
 * Apply @cpu's queued invalidations, on the vCPU's own thread, without
 * or (_locked) with its TLB lock held.
 */
void dw_drain_invalidations(CPUState *cpu);
void dw_drain_invalidations_locked(CPUState *cpu);

/* direct-window-canary.c */
bool dw_canary_setup(Error **errp);
void dw_canary_verify(bool at_exit);

/* direct-window-stats.c: the -d fast report, at exit */
void dw_log_stats(void);

/*
 * direct-window-gs.c: this thread's GS may no longer be its slot's
 * current window (a slot changed windows, a prefill waits), so the next
 * TB entry must look.  Only the vCPU's own thread.
 */
void dw_gs_forget(void);
/*
 * direct-window-gs.c: window @win of @cpu just became its slot's current
 * one, handed to a new address space (@new_space) or found holding it.
 * A new address space's user code starts on the softmmu
 * (direct-window-young.h).
 */
void dw_young_switch(CPUState *cpu, unsigned win, bool new_space);
extern int64_t dw_young_ns;

/* direct-window-fault.c */
bool dw_is_sticky(uint64_t phys_pc);

/* Do TBs of kernel code at @phys_pc check for young spaces? */
bool dw_is_young_slow(uint64_t phys_pc);
bool dw_fault_init(Error **errp);
/*
 * Window @win mapped @page (and the run of c->fill_pages pages around
 * it) for a miss of the code at guest-physical @key; the guest dropped
 * pages [@first, @first + @n) of window @win.  Only the vCPU's own
 * thread.
 */
void dw_churn_note_fill(CPUState *cpu, unsigned win, uint32_t page,
                        uint64_t key);
void dw_churn_note_drop(CPUState *cpu, unsigned win, uint32_t first,
                        uint32_t n);

/*
 * Provided by the target (target/i386/tcg/system/direct-window-fill.c):
 * map the guest page at @vaddr of window @win, which the softmmu fill
 * just resolved to @host (@full), for a read or a write (@is_write).
 * Returns -1 when the access can retry directly, else the DW_SLOW_*
 * reason it must take the softmmu path.
 */
int dw_map_page(CPUState *cpu, unsigned win, uint32_t vaddr, void *host,
                const CPUTLBEntryFull *full, bool is_write);

/*
 * Provided by the target too: does the address space @root still reach
 * the upper-level table at RAM page @table through its root?  A store to
 * such a table while its window is not current is then the kernel
 * changing a live address space (with page-table isolation a process's
 * two roots share their user tables), not the table of an exited process
 * being reused.  False when the root is that table itself (2-level).
 */
bool dw_root_holds_table(CPUState *cpu, uint64_t root, uint64_t table);

/*
 * Provided by the target too: window @win is about to be entered while
 * the page of a miss that raised a guest page fault waits to be filled.
 */
void dw_prefill(CPUState *cpu, unsigned win);

/*
 * Provided by the target too: does the guest map code page @page with
 * a global page that a CR3 write leaves in the TLB?  Then a TB found
 * there is right in every address space until the guest invalidates
 * that page or the global pages.
 */
bool dw_code_is_global(CPUState *cpu, vaddr page);

/*
 * direct-window-jmp.c: forget whether the code pages of [@addr, @addr +
 * @len) are global (a TLB flush of them; @len 0: of every page).
 */
void dw_jmp_forget_pages(CPUState *cpu, vaddr addr, vaddr len);
/* Is @tb, found at @pc, on pages the guest maps global? */
bool dw_jmp_tb_global(CPUState *cpu, DWCpu *c, vaddr pc,
                      const TranslationBlock *tb);
/*
 * May the TB being translated go on to another TB's code by itself, as
 * the return-address stack and the remembered cross-page jumps make it
 * do?  In seg mode, for 32-bit guests, when it may chain at all.
 */
bool dw_tb_may_jump_direct(void);
/*
 * Is @tb, which a lookup at @pc has just found, on pages the guest maps
 * global?  Mostly from the jump-cache entry that lookup left, without a
 * walk.
 */
bool dw_jmp_found_global(CPUState *cpu, vaddr pc, const TranslationBlock *tb);
/* direct-window-jmp-l2.c: a CR3 write kept the global TBs. */
void dw_jmp_l2_new_space(DWCpu *c);
/*
 * Remembered cross-page jumps (direct-window-xlink.c): forget them all
 * (@global) or those made for non-global pages, as the vCPU's
 * translations change; for a flush of page @page.
 */
void dw_xlink_flush(CPUState *cpu, bool global);
void dw_xlink_flush_page(CPUState *cpu, vaddr page);
/*
 * direct-window-stats.c: the sum over all vCPUs of the uint64_t counter
 * at byte @offset of DWCpu (one each vCPU keeps, not a shared atomic).
 */
uint64_t dw_cpus_sum(size_t offset);
#define DW_CPUS_SUM(field) dw_cpus_sum(offsetof(DWCpu, field))

#endif /* TCG_DIRECT_WINDOW_INTERNAL_H */
