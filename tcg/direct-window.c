/*
 * qemu-fast: guest memory in GS-based host windows (QEMU glue)
 *
 * Every (vCPU, MMU index) pair owns a 4 GiB window of host address space,
 * reserved PROT_NONE at start-up.  A direct TB reaches guest memory with
 * gs: addr32 accesses, GS base = the window of its MMU index.  A miss is
 * a SIGSEGV: the normal softmmu fill walks the guest page tables, RAM is
 * mapped from its RAM block's file descriptor and the access retries;
 * a guest fault is raised from the faulting instruction; anything that
 * cannot be direct is re-executed on the softmmu path.  The arithmetic
 * and the mmap calls live in direct-window-core.c, which needs no QEMU.
 *
 * Locking: a window's bookkeeping (which pages are mapped, which are
 * writable) is changed under the vCPU's TLB lock, like the softmmu TLB,
 * because dirty-bit resets come from other threads.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/timer.h"
#include "monitor/monitor.h"
#include "monitor/hmp-target.h"
#include "qapi/error.h"
#include "hw/core/cpu.h"
#include "exec/exec-all.h"
#include "exec/cpu-common.h"
#include "exec/ramblock.h"
#include "exec/ram_addr.h"
#include "exec/memory.h"
#include "tcg/tcg.h"
#include "system/system.h"
#include "accel/tcg/internal-common.h"
#include "accel/tcg/tb-internal.h"
#include "tcg/direct-window.h"
#include "tcg/direct-window-core.h"
#include "cpu.h"

/* Only x86-64 Linux hosts have what the fast mode needs. */
#if defined(__x86_64__) && defined(__linux__)
#define DW_HOST_SUPPORTED 1
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <asm/prctl.h>
#include <ucontext.h>
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

/* Above this many pages (4 MiB) a range flush resets the whole window. */
#define DW_RANGE_FLUSH_MAX  1024

/*
 * Longest run of pages one fault maps: a run is one mmap, but finding
 * it walks each page, so the walk cost is bounded too.
 */
#define DW_BATCH_MAX        64

#ifndef HWCAP2_FSGSBASE
#define HWCAP2_FSGSBASE (1 << 1)
#endif

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
    DW_SLOW__MAX
};

static const char *const dw_slow_names[DW_SLOW__MAX] = {
    "mmio", "notdirty", "rom", "watchpoint", "wrap", "nofd", "low", "other",
};

/*
 * Per vCPU.  The arrays are indexed by window: one per kernel slot and
 * DW_USER_WINDOWS for the user slot, each of those holding the pages of
 * one address space (CR3), so that a process switched back in finds its
 * pages still mapped (after a revalidation).
 */
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
     * dw_walk() summary of each mapped page when it was mapped (0: not
     * known), indexed by guest page; sparse, zero-filled on demand.
     */
    uint64_t *walk[DW_NB_WINDOWS];
    /*
     * Per 2 MiB region: DW_REGION_EMPTY while nothing was mapped there
     * since the window was emptied; else, if every page mapped there
     * belongs to one large page, the walk summary of the region's first
     * page under it; 0 otherwise.  A CR3 revalidation then walks such a
     * region once instead of page by page.
     */
    uint64_t *region_sum[DW_NB_WINDOWS];
    /* Where the window holds pages of large pages (see dw_flush_range) */
    struct dw_large *large[DW_NB_WINDOWS];
    uint8_t cur[DW_NB_SLOTS];           /* window serving each slot now */
    /* User windows: the CR3 each holds, and when it was last current. */
    uint64_t user_cr3[DW_USER_WINDOWS];
    uint64_t user_used[DW_USER_WINDOWS];
    uint64_t user_clock;
    bool in_cr3_flush;                  /* windows already revalidated */
    unsigned classic_slot;              /* fast=classic: who has the window */
} DWCpu;

static struct {
    uint64_t faults;
    uint64_t fills;
    uint64_t pages_mapped;
    uint64_t guest_faults;
    uint64_t resets;
    uint64_t page_unmaps;
    uint64_t downgrades;
    uint64_t gs_switches;
    uint64_t sticky_tbs;
    uint64_t cr3_writes;
    uint64_t user_hits;         /* CR3 writes that found their user window */
    uint64_t cr3_ns;            /* time spent revalidating on CR3 writes */
    uint64_t fill_ns;           /* time in the fault handler up to a retry */
    uint64_t unmap_ns;          /* time emptying windows and unmapping */
    uint64_t classic_switches;
    uint64_t pages_kept;
    uint64_t pages_dropped;
    uint64_t slow[DW_SLOW__MAX];
} dw_stats;

bool dw_enabled;
static TCGFastMode dw_mode;
/*
 * fast=classic: one window at host address 0 for every MMU index, no
 * segment base; host pages below dw_classic_min cannot be mapped.
 */
static bool dw_classic;
static uint64_t dw_classic_min;
static struct dw_layout dw_layout;
static uintptr_t dw_base;
static DWCpu *dw_cpus;
static unsigned dw_n_cpus;
static bool dw_have_fsgsbase;
static uint64_t dw_total_pages;     /* for the statistics only */
/*
 * Host mappings (VMAs) the windows may have made, an upper bound kept
 * per window below vm.max_map_count by the core's accounting: each mmap,
 * mprotect or PROT_NONE remap counts as a split, a reset as none left.
 */
static struct dw_acct dw_acct;
static struct sigaction dw_prev_segv;

/* Guest-physical TB start -> slow exits, and the TBs made non-direct. */
static QemuMutex dw_sticky_lock;
static GHashTable *dw_slow_count;
static GHashTable *dw_sticky;

/* GS base as this thread last set it, and as it was outside cpu_exec. */
static __thread uintptr_t dw_thread_gs;
static __thread uintptr_t dw_thread_saved_gs;
static __thread bool dw_thread_ready;

static const char *const dw_mode_names[] = {
    [TCG_FAST_OFF] = "off",
    [TCG_FAST_SEG] = "seg",
    [TCG_FAST_AUTO] = "auto",
    [TCG_FAST_CLASSIC] = "classic",
};

bool dw_parse_mode(const char *str, TCGFastMode *mode, Error **errp)
{
    for (int i = 0; i < ARRAY_SIZE(dw_mode_names); i++) {
        if (strcmp(str, dw_mode_names[i]) == 0) {
            *mode = i;
            return true;
        }
    }
    error_setg(errp, "invalid value '%s' for fast (expected off, seg, "
               "auto or classic)", str);
    return false;
}

TCGFastMode dw_default_mode(void)
{
    return DW_HOST_SUPPORTED ? TCG_FAST_SEG : TCG_FAST_OFF;
}

const char *dw_mode_name(TCGFastMode mode)
{
    return dw_mode_names[mode];
}

/* ------------------------------------------------------------------ */
/* GS base                                                             */
/* ------------------------------------------------------------------ */

static void dw_write_gs(uintptr_t value)
{
#if DW_HOST_SUPPORTED
    if (dw_have_fsgsbase) {
        asm volatile("wrgsbase %0" : : "r"(value) : "memory");
    } else {
        /* No user FSGSBASE: a syscall, so only when the value changes. */
        syscall(SYS_arch_prctl, ARCH_SET_GS, value);
    }
#endif
    dw_thread_gs = value;
    qatomic_inc(&dw_stats.gs_switches);
}

static inline void dw_set_gs(uintptr_t value)
{
    if (value != dw_thread_gs) {
        dw_write_gs(value);
    }
}

void dw_cpu_exec_enter(CPUState *cpu)
{
    if (!dw_enabled || dw_classic || dw_thread_ready) {
        return;
    }
    unsigned long gs = 0;

#if DW_HOST_SUPPORTED
    syscall(SYS_arch_prctl, ARCH_GET_GS, &gs);
#endif
    dw_thread_saved_gs = dw_thread_gs = gs;
    dw_thread_ready = true;
}

void dw_cpu_exec_exit(CPUState *cpu)
{
    if (dw_enabled && dw_thread_ready) {
        dw_set_gs(dw_thread_saved_gs);
    }
}

static void dw_empty_window(CPUState *cpu, unsigned win);

/*
 * fast=classic has one window for all MMU indexes: a TB of another
 * index (a privilege change) empties it, as qemu-fast did in 2004.
 */
static void dw_classic_switch(CPUState *cpu, unsigned slot)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];

    qemu_spin_lock(&cpu->neg.tlb.c.lock);
    dw_empty_window(cpu, c->classic_slot);
    c->classic_slot = slot;
    qemu_spin_unlock(&cpu->neg.tlb.c.lock);
    qatomic_inc(&dw_stats.classic_switches);
}

void dw_enter_tb(CPUState *cpu, uint8_t slot1)
{
    DWCpu *c;

    if (!slot1) {
        return;
    }
    c = &dw_cpus[cpu->cpu_index];
    if (dw_classic) {
        if (c->classic_slot != slot1 - 1) {
            dw_classic_switch(cpu, slot1 - 1);
        }
        return;
    }
    dw_set_gs(c->gs[c->cur[slot1 - 1]]);
}

bool dw_unseparated(void)
{
    return dw_classic;
}

static bool dw_is_sticky(uint64_t phys_pc)
{
    bool sticky;

    qemu_mutex_lock(&dw_sticky_lock);
    sticky = g_hash_table_contains(dw_sticky, GSIZE_TO_POINTER(phys_pc));
    qemu_mutex_unlock(&dw_sticky_lock);
    return sticky;
}

int dw_tb_mmu_idx(CPUState *cpu, uint32_t cflags, uint64_t phys_pc)
{
    int mmu_idx;

    if (!dw_enabled || (cflags & CF_NO_DIRECT) || dw_is_sticky(phys_pc)) {
        return -1;
    }
    mmu_idx = cpu_mmu_index(cpu, false);
    return dw_mmu_idx_to_slot(mmu_idx) < 0 ? -1 : mmu_idx;
}

uint8_t dw_tb_slot(int mmu_idx)
{
    return mmu_idx < 0 ? 0 : dw_mmu_idx_to_slot(mmu_idx) + 1;
}

/* ------------------------------------------------------------------ */
/* Window bookkeeping (TLB lock held)                                  */
/* ------------------------------------------------------------------ */

static void dw_forget_all(DWCpu *c, unsigned win)
{
    bitmap_zero(c->mapped[win], DW_GUEST_PAGES);
    bitmap_zero(c->mapped_words[win], DW_MAPPED_WORDS);
    qatomic_sub(&dw_total_pages, c->n_mapped[win]);
    c->n_mapped[win] = 0;
    g_hash_table_remove_all(c->writable[win]);
    memset(c->region_sum[win], 0xff, DW_REGIONS * sizeof(uint64_t));
    dw_large_clear_all(c->large[win]);
}

/*
 * Canaries (QEMU_FAST_CANARY=1): a read-write page right after every
 * window's guard and one right before every window, filled with a
 * pattern, checked on every window reset and at exit.  A stray write of
 * the emulator on behalf of the guest just past or before a window (a
 * wrong window, a wrong guard size, a 33-bit address) changes one of
 * them; the check then ends the process with status 125.
 * QEMU_FAST_CANARY_CORRUPT=1 damages one on purpose, to show that the
 * check fails.
 */
static bool dw_canary_on;

static bool dw_canary_verify_one(uintptr_t page, unsigned vcpu,
                                 unsigned win, const char *where)
{
    size_t bad;

    if (!page) {
        return true;
    }
    bad = dw_canary_check((const void *)page, DW_PAGE_SIZE);
    if (bad) {
        fprintf(stderr, "qemu-fast: canary %s window %u of vCPU %u "
                "changed: host %p, byte %zu\n", where, win, vcpu,
                (void *)page, bad - 1);
        return false;
    }
    return true;
}

static void dw_canary_verify(bool at_exit)
{
    bool ok = true;

    if (!dw_canary_on) {
        return;
    }
    for (unsigned v = 0; v < dw_n_cpus; v++) {
        for (unsigned w = 0; w < DW_NB_WINDOWS; w++) {
            ok &= dw_canary_verify_one(
                dw_canary_after(&dw_layout, dw_base, v, w), v, w, "after");
            ok &= dw_canary_verify_one(
                dw_canary_before(&dw_layout, dw_base, v, w), v, w,
                "before");
        }
    }
    if (!ok) {
        fflush(NULL);
        _exit(125);
    }
    if (at_exit) {
        fprintf(stderr, "qemu-fast: canaries intact: %u windows\n",
                dw_n_cpus * DW_NB_WINDOWS);
    }
}

static void dw_canary_exit(void)
{
    dw_canary_verify(true);
}

static bool dw_canary_setup(Error **errp)
{
    const char *env = getenv("QEMU_FAST_CANARY");
    int ret = 0;

    if (!env || strcmp(env, "1") || dw_classic) {
        return true;
    }
    for (unsigned v = 0; v < dw_n_cpus && ret == 0; v++) {
        for (unsigned w = 0; w < DW_NB_WINDOWS && ret == 0; w++) {
            uintptr_t before = dw_canary_before(&dw_layout, dw_base, v, w);

            ret = dw_canary_place(&dw_layout,
                                  dw_canary_after(&dw_layout, dw_base, v, w));
            if (ret == 0 && before) {
                ret = dw_canary_place(&dw_layout, before);
            }
        }
    }
    if (ret < 0) {
        error_setg(errp, "QEMU_FAST_CANARY: cannot map the canaries: %s",
                   strerror(-ret));
        return false;
    }
    env = getenv("QEMU_FAST_CANARY_CORRUPT");
    if (env && !strcmp(env, "1")) {
        /* test only: the byte a stray 1-byte store past window 0 hits */
        *(volatile uint8_t *)dw_canary_after(&dw_layout, dw_base, 0, 0) ^= 1;
    }
    dw_canary_on = true;
    atexit(dw_canary_exit);
    return true;
}

static void dw_empty_window(CPUState *cpu, unsigned win)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    int64_t start;

    if (c->n_mapped[win] == 0) {
        return;
    }
    start = get_clock();
    if (dw_classic) {
        dw_classic_reset(dw_classic_min);
    } else {
        dw_reset_window(&dw_layout, dw_base, cpu->cpu_index, win);
        dw_canary_verify(false);
    }
    qatomic_add(&dw_stats.unmap_ns, get_clock() - start);
    dw_forget_all(c, win);
    dw_acct_note_reset(&dw_acct, dw_window_index(cpu->cpu_index, win));
    qatomic_inc(&dw_stats.resets);
}

/*
 * A flush of a whole MMU index that is not a CR3 write (CR0, CR4, A20,
 * the memory map...) may change what every address space maps: empty
 * all the user windows, not only the current one.
 */
void dw_flush_mmuidx(CPUState *cpu, int mmu_idx)
{
    int slot = dw_mmu_idx_to_slot(mmu_idx);
    DWCpu *c;

    if (!dw_enabled || slot < 0) {
        return;
    }
    c = &dw_cpus[cpu->cpu_index];
    if (c->in_cr3_flush) {
        return;
    }
    if (slot == DW_USER_SLOT && !dw_classic) {
        for (unsigned k = 0; k < DW_USER_WINDOWS; k++) {
            dw_empty_window(cpu, dw_user_window(k));
            c->user_cr3[k] = -1;
        }
        return;
    }
    dw_empty_window(cpu, c->cur[slot]);
}

/* Unmap [first, first + n) of one window: one mmap per mapped run. */
static void dw_unmap_pages(CPUState *cpu, unsigned win,
                           uint32_t first, uint32_t n)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    uint32_t end = first + n, run = 0, start = 0;

    for (uint32_t p = first; p <= end; p++) {
        bool hit = p < end && test_bit(p, c->mapped[win]);

        if (hit) {
            if (!run) {
                start = p;
            }
            run++;
            clear_bit(p, c->mapped[win]);
            g_hash_table_remove(c->writable[win], GUINT_TO_POINTER(p));
            continue;
        }
        if (run) {
            int64_t t0 = get_clock();
            /* Never remap anything but this window's own pages. */
            g_assert(start + run <= DW_GUEST_PAGES);

            dw_unmap_range((void *)(c->gs[win] +
                                    ((uintptr_t)start << TARGET_PAGE_BITS)),
                           (size_t)run << TARGET_PAGE_BITS);
            qatomic_add(&dw_stats.unmap_ns, get_clock() - t0);
            dw_acct_note_ops(&dw_acct,
                             dw_window_index(cpu->cpu_index, win), 1);
            c->n_mapped[win] -= run;
            qatomic_sub(&dw_total_pages, run);
            qatomic_add(&dw_stats.page_unmaps, run);
            run = 0;
        }
    }
}

/*
 * Page and range flushes (INVLPG, shootdowns) concern the current
 * address space; parked user windows are walked again when their CR3
 * comes back, which catches any change of their page tables.
 *
 * A flush that touches a large page drops all of it, as the CPU does.
 * The softmmu cannot tell us when: it records one large-page region per
 * MMU index and forgets it on its next full flush, after which an INVLPG
 * inside another large page looks like a 4 KiB one to it.
 */
void dw_flush_range(CPUState *cpu, int mmu_idx, vaddr addr, vaddr len)
{
    int slot = dw_mmu_idx_to_slot(mmu_idx);
    uint32_t first, last;
    unsigned win;

    if (!dw_enabled || slot < 0 || len == 0) {
        return;
    }
    win = dw_cpus[cpu->cpu_index].cur[slot];
    if (dw_cpus[cpu->cpu_index].n_mapped[win] == 0) {
        return;
    }
    first = (addr & 0xffffffffu) >> TARGET_PAGE_BITS;
    last = ((addr + len - 1) & 0xffffffffu) >> TARGET_PAGE_BITS;
    if (len > (vaddr)DW_RANGE_FLUSH_MAX << TARGET_PAGE_BITS || last < first) {
        dw_empty_window(cpu, win);
        return;
    }
    dw_large_widen(dw_cpus[cpu->cpu_index].large[win], &first, &last);
    dw_unmap_pages(cpu, win, first, last - first + 1);
}

void dw_reset_dirty(CPUState *cpu, uintptr_t start, uint64_t len)
{
    DWCpu *c;

    if (!dw_enabled) {
        return;
    }
    c = &dw_cpus[cpu->cpu_index];
    for (unsigned win = 0; win < DW_NB_WINDOWS; win++) {
        GHashTableIter it;
        gpointer key, value;

        g_hash_table_iter_init(&it, c->writable[win]);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            uintptr_t host = (uintptr_t)value;
            uintptr_t page = GPOINTER_TO_UINT(key);

            if (host - start < len) {
                dw_protect_range((void *)(c->gs[win] +
                                          (page << TARGET_PAGE_BITS)),
                                 TARGET_PAGE_SIZE, PROT_READ);
                dw_acct_note_ops(&dw_acct,
                                 dw_window_index(cpu->cpu_index, win), 1);
                g_hash_table_iter_remove(&it);
                qatomic_inc(&dw_stats.downgrades);
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Keeping pages across CR3 writes                                     */
/* ------------------------------------------------------------------ */

/*
 * Reads page-table entries for dw_walk(), from RAM only: the walk is
 * speculative and must not have the side effects of an MMIO read, nor
 * take the BQL.  Anything that is not RAM reads as "not present".  A
 * revalidation walks thousands of pages under a few page tables, so the
 * host address of the last table page is remembered; the caller holds
 * the RCU read lock for as long as the reader lives.
 */
/* Table pages remembered: a walk alternates directory and table pages. */
#define DW_READER_WAYS  4

typedef struct DWPteReader {
    AddressSpace *as;
    MemTxAttrs attrs;
    unsigned next;                      /* way to replace next */
    hwaddr page[DW_READER_WAYS];        /* guest-physical page, or -1 */
    uint8_t *host[DW_READER_WAYS];      /* NULL: that page is not RAM */
} DWPteReader;

static void dw_pte_reader_init(DWPteReader *r, CPUState *cs)
{
    r->attrs = cpu_get_mem_attrs(cpu_env(cs));
    r->as = cpu_get_address_space(cs, cpu_asidx_from_attrs(cs, r->attrs));
    r->next = 0;
    for (unsigned i = 0; i < DW_READER_WAYS; i++) {
        r->page[i] = -1;
        r->host[i] = NULL;
    }
}

/* Host address of guest-physical table page @page, NULL if not RAM. */
static uint8_t *dw_pte_reader_page(DWPteReader *r, hwaddr page)
{
    hwaddr xlat, len = TARGET_PAGE_SIZE;
    MemoryRegion *mr;
    unsigned way;

    for (way = 0; way < DW_READER_WAYS; way++) {
        if (r->page[way] == page) {
            return r->host[way];
        }
    }
    way = r->next;
    r->next = (way + 1) % DW_READER_WAYS;
    mr = address_space_translate(r->as, page, &xlat, &len, false, r->attrs);
    r->page[way] = page;
    r->host[way] = NULL;
    if (memory_region_is_ram(mr) && len == TARGET_PAGE_SIZE) {
        r->host[way] = qemu_map_ram_ptr(mr->ram_block, xlat);
    }
    return r->host[way];
}

static uint64_t dw_read_pte(void *opaque, uint64_t pa, bool wide)
{
    uint8_t *host = dw_pte_reader_page(opaque, pa & TARGET_PAGE_MASK);

    if (!host) {
        return 0;
    }
    /* Entries are naturally aligned, so they never cross the page. */
    return wide ? ldq_le_p(host + (pa & ~TARGET_PAGE_MASK))
                : ldl_le_p(host + (pa & ~TARGET_PAGE_MASK));
}

/* A run of guest pages of one window. */
typedef struct DWRun {
    uint32_t first;
    uint32_t n;
} DWRun;

/* The guest's paging state, false when paging is off. */
static bool dw_paging_of(CPUState *cs, struct dw_paging *p)
{
    CPUX86State *env = cpu_env(cs);

    if (!(env->cr[0] & CR0_PG_MASK)) {
        return false;
    }
    p->cr3 = env->cr[3];
    p->a20_mask = (int64_t)env->a20_mask;
    p->phys_bits = X86_CPU(cs)->phys_bits;
    p->pae = env->cr[4] & CR4_PAE_MASK;
    p->pse = env->cr[4] & CR4_PSE_MASK;
    p->nxe = env->efer & MSR_EFER_NXE;
    return true;
}

/*
 * Walk summary to remember for a page just mapped at @vaddr onto guest-
 * physical @phys, or 0 when it cannot be trusted later: another vCPU
 * changed the entries since the fill.
 */
static uint64_t dw_walk_for_map(const struct dw_paging *p, DWPteReader *r,
                                uint32_t vaddr, hwaddr phys, bool writable)
{
    uint64_t sum = dw_walk(p, vaddr, dw_read_pte, r);

    if (DW_WALK_FRAME(sum) != (phys & TARGET_PAGE_MASK) ||
        (writable && !(sum & DW_WALK_D))) {
        return 0;
    }
    return sum;
}

/*
 * Walk every mapped page of @slot under the new CR3 and unmap those
 * whose translation changed.  Pages only change on this vCPU's thread,
 * so the walk needs no lock; the unmapping takes the TLB lock because
 * dirty-bit resets from other threads read the writable table.
 */
static void dw_revalidate_window(CPUState *cpu, unsigned win,
                               const struct dw_paging *p)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    unsigned long *mapped = c->mapped[win];
    unsigned long *words = c->mapped_words[win];
    g_autoptr(GArray) drop = g_array_new(false, false, sizeof(DWRun));
    uint32_t kept = 0, dropped = 0;
    unsigned long w, checked = -1;
    DWPteReader r;
    /* The last large page walked: its first guest page and summary. */
    uint64_t large_page = -1, large_sum = 0;
    unsigned large_bits = p->pae ? 9 : 10;

    if (c->n_mapped[win] == 0) {
        return;
    }
    rcu_read_lock();
    dw_pte_reader_init(&r, cpu);
    for (w = find_first_bit(words, DW_MAPPED_WORDS); w < DW_MAPPED_WORDS;
         w = find_next_bit(words, DW_MAPPED_WORDS, w + 1)) {
        unsigned long bits = mapped[w];
        unsigned long region = w / DW_REGION_WORDS;
        uint64_t rs = c->region_sum[win][region];

        if (!bits) {
            clear_bit(w, words);
            continue;
        }
        /*
         * A region whose pages all came from one large page: one walk
         * tells whether that large page is still the same.
         */
        if (region != checked && rs && rs != DW_REGION_EMPTY &&
            p->a20_mask == -1 &&
            dw_walk(p, region << (DW_REGION_BITS + TARGET_PAGE_BITS),
                    dw_read_pte, &r) == rs) {
            unsigned long end = (region + 1) * DW_REGION_WORDS;

            for (; w < end; w++) {
                kept += ctpopl(mapped[w]);
            }
            w = end - 1;
            continue;
        }
        checked = region;
        for (; bits; bits &= bits - 1) {
            unsigned long page = w * BITS_PER_LONG + ctzl(bits);
            uint64_t was = c->walk[win][page], now = 0;
            DWRun *run;

            if (was && page >> large_bits == large_page >> large_bits) {
                /* Same large page as the last walk: nothing to read. */
                now = large_sum + ((page - large_page) << TARGET_PAGE_BITS);
            } else if (was) {
                now = dw_walk(p, page << TARGET_PAGE_BITS, dw_read_pte, &r);
                if ((now & DW_WALK_LARGE) && p->a20_mask == -1) {
                    large_page = page;
                    large_sum = now;
                }
            }
            if (was && now == was) {
                kept++;
                continue;
            }
            dropped++;
            run = drop->len ? &g_array_index(drop, DWRun, drop->len - 1)
                            : NULL;
            if (run && run->first + run->n == page) {
                run->n++;
            } else {
                DWRun new_run = { page, 1 };

                g_array_append_val(drop, new_run);
            }
        }
    }
    rcu_read_unlock();
    qatomic_add(&dw_stats.pages_kept, kept);
    qatomic_add(&dw_stats.pages_dropped, dropped);

    qemu_spin_lock(&cpu->neg.tlb.c.lock);
    /*
     * Unmapping costs a syscall per run, a reset one syscall in all;
     * when little is kept, the reset is cheaper.
     */
    if (kept == 0 || drop->len > 4 * kept) {
        dw_empty_window(cpu, win);
    } else {
        for (guint i = 0; i < drop->len; i++) {
            DWRun *run = &g_array_index(drop, DWRun, i);

            dw_unmap_pages(cpu, win, run->first, run->n);
        }
    }
    qemu_spin_unlock(&cpu->neg.tlb.c.lock);
}

/*
 * Make the user window that last held address space @cr3 current; if
 * none did, the least recently used one, emptied.  Returns true when
 * the window held @cr3 (its pages are worth walking again).
 */
static bool dw_user_switch(CPUState *cpu, uint64_t cr3)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    unsigned k, pick = 0;
    bool hit = false;

    for (k = 0; k < DW_USER_WINDOWS; k++) {
        if (c->user_cr3[k] == cr3) {
            pick = k;
            hit = true;
            break;
        }
        if (c->user_used[k] < c->user_used[pick]) {
            pick = k;
        }
    }
    c->user_used[pick] = ++c->user_clock;
    c->cur[DW_USER_SLOT] = dw_user_window(pick);
    if (!hit) {
        qemu_spin_lock(&cpu->neg.tlb.c.lock);
        dw_empty_window(cpu, dw_user_window(pick));
        qemu_spin_unlock(&cpu->neg.tlb.c.lock);
        c->user_cr3[pick] = cr3;
    } else {
        qatomic_inc(&dw_stats.user_hits);
    }
    return hit;
}

void dw_tlb_flush_cr3(CPUState *cpu)
{
    DWCpu *c;
    struct dw_paging p;
    int64_t start;

    if (!dw_enabled || !dw_paging_of(cpu, &p)) {
        tlb_flush(cpu);
        return;
    }
    c = &dw_cpus[cpu->cpu_index];
    qatomic_inc(&dw_stats.cr3_writes);
    start = get_clock();
    for (unsigned slot = 0; slot < DW_NB_SLOTS; slot++) {
        /*
         * The outgoing address space keeps its user window as it is;
         * it is walked when it comes back.
         */
        if (slot == DW_USER_SLOT && !dw_classic &&
            !dw_user_switch(cpu, p.cr3)) {
            continue;
        }
        dw_revalidate_window(cpu, c->cur[slot], &p);
    }
    qatomic_add(&dw_stats.cr3_ns, get_clock() - start);
    c->in_cr3_flush = true;
    tlb_flush(cpu);
    c->in_cr3_flush = false;
}

/* ------------------------------------------------------------------ */
/* The fault path                                                      */
/* ------------------------------------------------------------------ */

#if DW_HOST_SUPPORTED

/*
 * Re-execute the faulting guest instruction alone on the softmmu path,
 * the way cpu_io_recompile does for I/O.
 */
/*
 * Count a slow exit of the TB holding @ra; past DW_STICKY_AFTER, remember
 * its start and invalidate it, so that it is made again non-direct.
 */
static void dw_note_slow_tb(uintptr_t ra)
{
    TranslationBlock *tb = tcg_tb_lookup(ra);
    gpointer key;
    unsigned n;

    if (!tb || tb_page_addr0(tb) == -1) {
        return;
    }
    key = GSIZE_TO_POINTER(tb_page_addr0(tb));
    qemu_mutex_lock(&dw_sticky_lock);
    n = GPOINTER_TO_UINT(g_hash_table_lookup(dw_slow_count, key)) + 1;
    if (n < DW_STICKY_AFTER) {
        g_hash_table_insert(dw_slow_count, key, GUINT_TO_POINTER(n));
        tb = NULL;
    } else if (g_hash_table_size(dw_sticky) < DW_STICKY_MAX) {
        g_hash_table_remove(dw_slow_count, key);
        g_hash_table_add(dw_sticky, key);
        qatomic_inc(&dw_stats.sticky_tbs);
    } else {
        tb = NULL;
    }
    qemu_mutex_unlock(&dw_sticky_lock);
    if (tb) {
        tb_phys_invalidate(tb, -1);
    }
}

static G_NORETURN void dw_slow(CPUState *cpu, uintptr_t ra,
                               const sigset_t *mask, int cause)
{
    qatomic_inc(&dw_stats.slow[cause]);
    sigprocmask(SIG_SETMASK, mask, NULL);
    if (cause == DW_SLOW_MMIO || cause == DW_SLOW_NOTDIRTY) {
        dw_note_slow_tb(ra);
    }
    cpu_restore_state(cpu, ra);
    cpu->cflags_next_tb = curr_cflags(cpu) | CF_NO_DIRECT | CF_NOIRQ | 1;
    cpu_loop_exit_noexc(cpu);
}

static int dw_slow_cause(int flags)
{
    if (flags & TLB_MMIO) {
        return DW_SLOW_MMIO;
    }
    /* No TLB_NOTDIRTY: probe_access_full has handled a clean page. */
    if (flags & TLB_DISCARD_WRITE) {
        return DW_SLOW_ROM;
    }
    if (flags & TLB_WATCHPOINT) {
        return DW_SLOW_WATCH;
    }
    return DW_SLOW_OTHER;
}

/*
 * Keep the host mappings below vm.max_map_count: at the cap, empty this
 * vCPU's window with the most of them (only the vCPU's own thread may
 * change its windows).
 */
static void dw_check_cap(CPUState *cpu)
{
    unsigned victim = 0;
    int64_t most = -1;

    if (dw_acct_total(&dw_acct) < dw_acct.max_mappings) {
        return;
    }
    for (unsigned win = 0; win < DW_NB_WINDOWS; win++) {
        int64_t n = dw_acct_window(&dw_acct,
                                   dw_window_index(cpu->cpu_index, win));

        if (n > most) {
            most = n;
            victim = win;
        }
    }
    dw_empty_window(cpu, victim);
}

/*
 * Protection of a neighbour of a faulting page, for the batching core:
 * its walk summary @sum plus the RAM behind its frame.  Only RAM of
 * @rb at @offset can join the run, which one mmap maps.
 */
static enum dw_prot dw_neighbour_prot(DWPteReader *r, uint64_t sum,
                                      const struct dw_access *acc,
                                      RAMBlock *rb, ram_addr_t offset)
{
    struct dw_page pg = {
        .present = sum & DW_WALK_VALID,
        .accessed = sum & DW_WALK_VALID,
        .writable = sum & DW_WALK_W,
        .user = sum & DW_WALK_U,
        .dirty = sum & DW_WALK_D,
        .fd = -1,
    };
    hwaddr xlat, len = TARGET_PAGE_SIZE;
    MemoryRegion *mr;

    if (!sum) {
        return DW_PROT_NONE;
    }
    mr = address_space_translate(r->as, DW_WALK_FRAME(sum), &xlat, &len,
                                 false, r->attrs);
    if (mr->ram_block != rb || xlat != offset ||
        !memory_region_is_ram(mr) || memory_region_is_ram_device(mr)) {
        return DW_PROT_NONE;
    }
    pg.is_ram = true;
    pg.readonly = mr->readonly || memory_region_is_rom(mr) ||
                  memory_region_is_romd(mr);
    pg.dirty_all = !cpu_physical_memory_is_clean(rb->offset + offset);
    pg.fd = rb->fd;
    return dw_page_prot(&pg, acc);
}

/*
 * Walk summary of the page @d pages away from the faulting @page (@d may
 * be negative) if it can join the faulting page's run: it maps the
 * guest-physical page @d pages away from the faulting one's (summary
 * @walk0), in the same RAM @rb (the faulting page is at @offset), with
 * the same protection @prot.  0 if it cannot.
 */
static uint64_t dw_neighbour_joins(const struct dw_paging *p, DWPteReader *r,
                                   const struct dw_access *acc,
                                   uint32_t page, int d, uint64_t walk0,
                                   enum dw_prot prot, RAMBlock *rb,
                                   ram_addr_t offset)
{
    int64_t delta = (int64_t)d << TARGET_PAGE_BITS;
    uint64_t sum;

    if ((int64_t)offset + delta < 0) {
        return 0;
    }
    sum = dw_walk(p, (page + d) << TARGET_PAGE_BITS, dw_read_pte, r);
    if (DW_WALK_FRAME(sum) != DW_WALK_FRAME(walk0) + delta ||
        dw_neighbour_prot(r, sum, acc, rb, offset + delta) != prot) {
        return 0;
    }
    return sum;
}

/*
 * Grow the run of the faulting page @page (protection @prot, RAM @rb at
 * @offset, walk summary walk[0]) by unmapped neighbours of the same guest
 * page table that map the next (or previous) guest-physical pages of the
 * same RAM with the same protection: the run still costs one mmap.  The
 * guest pages a CPU touches after a fault are rarely known, but the
 * kernel's direct mapping is contiguous, so its faults map many pages.
 * Returns the first page of the run; *n_pages and walk[] describe it.
 */
static uint32_t dw_grow_run(CPUState *cpu, const struct dw_paging *p,
                            DWPteReader *r, unsigned win, uint32_t page,
                            enum dw_prot prot, RAMBlock *rb,
                            ram_addr_t offset, uint64_t *walk,
                            uint32_t *n_pages)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    CPUX86State *env = cpu_env(cpu);
    struct dw_access acc = dw_access_for_slot(dw_window_slot(win),
                                              env->cr[0] & CR0_WP_MASK);
    /* Pages under one page table: 1024 (2-level) or 512 (PAE). */
    uint32_t table = p->pae ? 512 : 1024;
    uint32_t lo = page & ~(table - 1), hi = lo + table;
    uint32_t floor = dw_classic_min >> TARGET_PAGE_BITS;
    uint64_t before[DW_BATCH_MAX], after[DW_BATCH_MAX], sum;
    uint32_t n_before = 0, n_after = 0;

    *n_pages = 1;
    if (!walk[0]) {
        return page;
    }
    while (n_after + 1 < DW_BATCH_MAX && page + n_after + 1 < hi &&
           !test_bit(page + n_after + 1, c->mapped[win]) &&
           (sum = dw_neighbour_joins(p, r, &acc, page, n_after + 1, walk[0],
                                     prot, rb, offset))) {
        after[n_after++] = sum;
    }
    while (n_before + n_after + 1 < DW_BATCH_MAX &&
           page - n_before > MAX(lo, floor) &&
           !test_bit(page - n_before - 1, c->mapped[win]) &&
           (sum = dw_neighbour_joins(p, r, &acc, page,
                                     -(int)(n_before + 1), walk[0],
                                     prot, rb, offset))) {
        before[n_before++] = sum;
    }
    /* walk[] becomes the run in page order: before (reversed), fault, after */
    memmove(&walk[n_before], &walk[0], sizeof(walk[0]));
    for (uint32_t i = 0; i < n_before; i++) {
        walk[n_before - 1 - i] = before[i];
    }
    memcpy(&walk[n_before + 1], after, n_after * sizeof(walk[0]));
    *n_pages = n_before + 1 + n_after;
    return page - n_before;
}

/* Keep *@region_sum (see DWCpu) right for @page mapped with @walk. */
static void dw_note_region(uint64_t *region_sum, uint32_t page, uint64_t walk)
{
    uint64_t first = 0;

    if (walk & DW_WALK_LARGE) {
        first = walk - ((uint64_t)(page & ((1u << DW_REGION_BITS) - 1)) <<
                        TARGET_PAGE_BITS);
    }
    if (*region_sum == DW_REGION_EMPTY) {
        *region_sum = first;
    } else if (*region_sum != first) {
        *region_sum = 0;
    }
}

/*
 * Note page @page of window @win as mapped, by the TLB lock holder.
 * @large: it belongs to a run mapped for a fault in a large page.  The
 * walk summary alone cannot tell (it is 0 when unknown, e.g. writable
 * and not yet dirty), but the softmmu fill knows the page size; see
 * dw_flush_range().
 */
static void dw_note_mapped(DWCpu *c, unsigned win, uint32_t page,
                           uint64_t walk, uintptr_t host_rw, bool large)
{
    set_bit(BIT_WORD(page), c->mapped_words[win]);
    if (!test_and_set_bit(page, c->mapped[win])) {
        c->n_mapped[win]++;
        qatomic_inc(&dw_total_pages);
    }
    c->walk[win][page] = walk;
    if (large || (walk & DW_WALK_LARGE)) {
        dw_large_note(c->large[win], page);
    }
    dw_note_region(&c->region_sum[win][page >> DW_REGION_BITS], page, walk);
    if (host_rw) {
        g_hash_table_insert(c->writable[win], GUINT_TO_POINTER(page),
                            (void *)host_rw);
    } else {
        g_hash_table_remove(c->writable[win], GUINT_TO_POINTER(page));
    }
}

/*
 * Map the guest page at @vaddr of window @win onto the RAM behind @host,
 * with the neighbours dw_grow_run() finds.
 * Writable only if the guest may write it now without a fault or a
 * change of its PTE, and every dirty-log client already has it dirty.
 * Returns -1 when the access can retry, else why it must go slow.
 */
static int dw_map_page(CPUState *cpu, unsigned win, uint32_t vaddr,
                       void *host, const CPUTLBEntryFull *full,
                       bool is_write)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    uint32_t page = vaddr >> TARGET_PAGE_BITS, first, n;
    uint64_t walk[DW_BATCH_MAX];
    uintptr_t host_page = (uintptr_t)host & TARGET_PAGE_MASK;
    struct dw_paging p;
    DWPteReader r;
    ram_addr_t offset;
    RAMBlock *rb;
    bool writable;
    int ret;

    /* A private file mapping (share=off) is not what the fd holds. */
    rb = qemu_ram_block_from_host(host, true, &offset);
    if (!rb || rb->fd < 0 || !qemu_ram_is_shared(rb)) {
        return DW_SLOW_NOFD;
    }
    writable = (full->prot & PAGE_WRITE) && !(full->prot & PAGE_WRITE_INV)
               && !rb->mr->readonly && !memory_region_is_rom(rb->mr)
               && !memory_region_is_romd(rb->mr)
               && !cpu_physical_memory_is_clean(rb->offset + offset);
    /* Paging off: nothing to remember, and no page table to batch. */
    walk[0] = 0;
    first = page;
    n = 1;
    if (dw_paging_of(cpu, &p)) {
        WITH_RCU_READ_LOCK_GUARD() {
            dw_pte_reader_init(&r, cpu);
            walk[0] = dw_walk_for_map(&p, &r, vaddr, full->phys_addr,
                                      writable);
            first = dw_grow_run(cpu, &p, &r, win, page,
                                writable ? DW_PROT_RW : DW_PROT_READ,
                                rb, offset, walk, &n);
        }
    }

    qemu_spin_lock(&cpu->neg.tlb.c.lock);
    dw_check_cap(cpu);
    ret = dw_map_range((void *)(c->gs[win] +
                                ((uintptr_t)first << TARGET_PAGE_BITS)),
                       (size_t)n << TARGET_PAGE_BITS,
                       writable ? PROT_READ | PROT_WRITE : PROT_READ, rb->fd,
                       rb->fd_offset + offset -
                       ((uint64_t)(page - first) << TARGET_PAGE_BITS));
    if (ret == 0) {
        dw_acct_note_ops(&dw_acct, dw_window_index(cpu->cpu_index, win), 1);
        /* The run's RAM starts (page - first) pages before @host. */
        uintptr_t run_host = host_page -
                             ((uintptr_t)(page - first) << TARGET_PAGE_BITS);

        for (uint32_t i = 0; i < n; i++) {
            uintptr_t rw = run_host + ((uintptr_t)i << TARGET_PAGE_BITS);

            dw_note_mapped(c, win, first + i, walk[i], writable ? rw : 0,
                           full->lg_page_size > TARGET_PAGE_BITS);
        }
        qatomic_add(&dw_stats.pages_mapped, n);
        qatomic_inc(&dw_stats.fills);
    }
    qemu_spin_unlock(&cpu->neg.tlb.c.lock);
    if (ret < 0) {
        return DW_SLOW_OTHER;
    }
    /*
     * A store to a page that stays clean (other TBs on it, or dirty
     * logging) goes through the softmmu, which tracks it.
     */
    if (is_write && !writable) {
        return DW_SLOW_NOTDIRTY;
    }
    return -1;
}

static void dw_fault(CPUState *cpu, unsigned win, uint32_t vaddr,
                     bool in_guard, bool is_write, uintptr_t ra,
                     const sigset_t *mask)
{
    int mmu_idx = dw_slot_to_mmu_idx(dw_window_slot(win));
    MMUAccessType type = is_write ? MMU_DATA_STORE : MMU_DATA_LOAD;
    CPUArchState *env = cpu_env(cpu);
    CPUTLBEntryFull *full;
    void *host;
    int flags, cause;
    int64_t start = get_clock();

    qatomic_inc(&dw_stats.faults);
    if (in_guard) {
        dw_slow(cpu, ra, mask, DW_SLOW_WRAP);
    }
    if (vaddr < dw_classic_min) {
        dw_slow(cpu, ra, mask, DW_SLOW_LOW);
    }
    if (!QTAILQ_EMPTY(&cpu->watchpoints)) {
        dw_slow(cpu, ra, mask, DW_SLOW_WATCH);
    }

    /*
     * From here on we may longjmp out of the handler (a guest fault, or
     * a store to a page holding translated code that invalidates the
     * running TB), so unblock SIGSEGV first.
     */
    sigprocmask(SIG_SETMASK, mask, NULL);

    /*
     * The softmmu fill.  For a store it also marks a clean page dirty,
     * invalidating the TBs on it exactly as a softmmu store would.
     */
    flags = probe_access_full(env, vaddr, 1, type, mmu_idx, true,
                              &host, &full, ra);
    if (flags & TLB_INVALID_MASK) {
        /* Not accessible: fill again, raising the guest's page fault. */
        qatomic_inc(&dw_stats.guest_faults);
        probe_access_full(env, vaddr, 1, type, mmu_idx, false,
                          &host, &full, ra);
        return;
    }
    if (flags || !host) {
        dw_slow(cpu, ra, mask, dw_slow_cause(flags));
    }
    cause = dw_map_page(cpu, win, vaddr, host, full, is_write);
    if (cause >= 0) {
        dw_slow(cpu, ra, mask, cause);
    }
    qatomic_add(&dw_stats.fill_ns, get_clock() - start);
}

/* Not ours: do what would have happened without our handler. */
static void dw_chain_segv(int sig, siginfo_t *info, void *puc)
{
    if (dw_prev_segv.sa_flags & SA_SIGINFO) {
        dw_prev_segv.sa_sigaction(sig, info, puc);
    } else if (dw_prev_segv.sa_handler == SIG_DFL ||
               dw_prev_segv.sa_handler == SIG_IGN) {
        /* Returning re-runs the access, which now kills us with a core. */
        signal(sig, SIG_DFL);
    } else {
        dw_prev_segv.sa_handler(sig);
    }
}

/*
 * Is @host in the current window of one of @cpu's slots (or its guard)?
 * Which window, and where?  GS only ever holds a current window.
 */
static bool dw_classify(CPUState *cpu, uintptr_t host, unsigned *win,
                        uint32_t *vaddr, bool *in_guard)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    unsigned vcpu;

    if (dw_classic) {
        *win = c->classic_slot;
        return dw_classic_classify(host, dw_layout.guard_size, vaddr,
                                   in_guard);
    }
    return dw_classify_addr(&dw_layout, dw_base, host, &vcpu, win, vaddr,
                            in_guard) && vcpu == cpu->cpu_index &&
           c->cur[dw_window_slot(*win)] == *win;
}

static void dw_segv_handler(int sig, siginfo_t *info, void *puc)
{
    ucontext_t *uc = puc;
    uintptr_t pc = uc->uc_mcontext.gregs[REG_RIP];
    CPUState *cpu = current_cpu;
    unsigned win;
    uint32_t vaddr;
    bool in_guard;

    if (cpu && info->si_code > 0 &&
        in_code_gen_buffer((void *)(pc - tcg_splitwx_diff)) &&
        dw_classify(cpu, (uintptr_t)info->si_addr, &win, &vaddr,
                    &in_guard)) {
        bool is_write = uc->uc_mcontext.gregs[REG_ERR] & 2;

        /*
         * cpu_restore_state expects a return address inside the access,
         * as from GETPC(); the signal gives the access itself.
         */
        dw_fault(cpu, win, vaddr, in_guard, is_write, pc + GETPC_ADJ,
                 &uc->uc_sigmask);
        return;
    }
    dw_chain_segv(sig, info, puc);
}
#endif

/* ------------------------------------------------------------------ */
/* Set-up                                                              */
/* ------------------------------------------------------------------ */

static void dw_log_stats(void)
{
    g_autoptr(GString) buf = g_string_new(NULL);

#ifdef LOG_FAST
    if (qemu_loglevel_mask(LOG_FAST)) {
        dw_format_stats(buf);
        qemu_log("%s", buf->str);
    }
#endif
}

static bool dw_refuse(TCGFastMode mode, Error **errp, const char *why)
{
    if (mode == TCG_FAST_AUTO) {
        warn_report("fast=auto: %s; using the softmmu (fast=off)", why);
        return true;
    }
    error_setg(errp, "fast=%s: %s", dw_mode_name(mode), why);
    error_append_hint(errp, "Use -accel tcg,fast=off for the softmmu.\n");
    return false;
}

/*
 * Once the board has made its RAM: pages of huge-page RAM cannot be
 * mapped one by one, so refuse it (fast=auto turns the mode off, which
 * is still possible: no TB has been made yet).
 */
static void dw_check_ram(Notifier *n, void *unused)
{
    RAMBlock *rb;

    RCU_READ_LOCK_GUARD();
    RAMBLOCK_FOREACH(rb) {
        g_autofree char *why = NULL;

        if (qemu_ram_pagesize(rb) == qemu_real_host_page_size()) {
            continue;
        }
        why = g_strdup_printf("RAM block '%s' uses %zu KiB host pages "
                              "(hugetlb), the windows map 4 KiB pages",
                              qemu_ram_get_idstr(rb),
                              qemu_ram_pagesize(rb) >> 10);
        if (dw_mode == TCG_FAST_AUTO) {
            warn_report("fast=auto: %s; using the softmmu (fast=off)", why);
            dw_enabled = false;
            return;
        }
        error_report("fast=%s: %s", dw_mode_name(dw_mode), why);
        error_printf("Use -accel tcg,fast=off for the softmmu.\n");
        exit(1);
    }
}

static Notifier dw_ram_check = { .notify = dw_check_ram };

bool dw_setup(TCGFastMode mode, unsigned max_cpus, Error **errp)
{
    struct sigaction sa = { 0 };
    void *base;
    int ret;

    dw_mode = mode;
    if (mode == TCG_FAST_OFF) {
        return true;
    }
    if (!DW_HOST_SUPPORTED) {
        return dw_refuse(mode, errp, "needs an x86-64 Linux host");
    }
    if (max_cpus == 0) {
        max_cpus = 1;
    }
    dw_classic = mode == TCG_FAST_CLASSIC;
    if (dw_classic && max_cpus > 1) {
        error_setg(errp, "fast=classic runs one vCPU only, not %u",
                   max_cpus);
        error_append_hint(errp, "Use -smp 1, or fast=seg for SMP.\n");
        return false;
    }
    ret = dw_layout_init(&dw_layout, max_cpus, 0,
                         qemu_real_host_page_size());
    if (ret < 0) {
        return dw_refuse(mode, errp, "too many vCPUs for the guest windows");
    }
    if (dw_classic) {
        dw_classic_min = dw_classic_min_addr_from("/proc/sys/vm/mmap_min_addr");
        ret = dw_classic_reserve(dw_classic_min, dw_layout.guard_size, &base);
        if (ret < 0) {
            error_setg(errp, "fast=classic: cannot reserve host addresses "
                       "[0x%" PRIx64 ", 4 GiB + guard) for the window: %s",
                       dw_classic_min, ret == -EEXIST ?
                       "something is mapped there already" : strerror(-ret));
            error_append_hint(errp, "Use fast=seg, which maps its windows "
                              "anywhere.\n");
            return false;
        }
        base = NULL;
    } else {
        ret = dw_reserve(dw_layout.total_size, &base);
    }
    if (ret < 0) {
        g_autofree char *why =
            g_strdup_printf("cannot reserve %" PRIu64 " GiB of address "
                            "space for the guest windows: %s (check "
                            "ulimit -v)", dw_layout.total_size >> 30,
                            strerror(-ret));
        return dw_refuse(mode, errp, why);
    }
    dw_base = (uintptr_t)base;

    qemu_mutex_init(&dw_sticky_lock);
    dw_slow_count = g_hash_table_new(NULL, NULL);
    dw_sticky = g_hash_table_new(NULL, NULL);

    dw_n_cpus = max_cpus;
    dw_cpus = g_new0(DWCpu, max_cpus);
    for (unsigned i = 0; i < max_cpus; i++) {
        for (unsigned s = 0; s < DW_NB_WINDOWS; s++) {
            /* classic: guest vaddr == host address in every slot */
            dw_cpus[i].gs[s] = dw_classic ? 0 :
                               dw_window_base(&dw_layout, dw_base, i, s);
            dw_cpus[i].mapped[s] = bitmap_new(DW_GUEST_PAGES);
            dw_cpus[i].mapped_words[s] = bitmap_new(DW_MAPPED_WORDS);
            dw_cpus[i].writable[s] = g_hash_table_new(NULL, NULL);
            dw_cpus[i].walk[s] = g_new0(uint64_t, DW_GUEST_PAGES);
            dw_cpus[i].region_sum[s] = g_new(uint64_t, DW_REGIONS);
            dw_cpus[i].large[s] = g_new0(struct dw_large, 1);
            memset(dw_cpus[i].region_sum[s], 0xff,
                   DW_REGIONS * sizeof(uint64_t));
        }
        for (unsigned s = 0; s < DW_NB_SLOTS; s++) {
            dw_cpus[i].cur[s] = s;
        }
        for (unsigned k = 0; k < DW_USER_WINDOWS; k++) {
            dw_cpus[i].user_cr3[k] = -1;
        }
    }
    if (!dw_canary_setup(errp)) {
        return false;
    }
    if (dw_acct_init(&dw_acct, max_cpus * DW_NB_WINDOWS,
                     dw_mapping_cap(dw_read_max_map_count())) < 0) {
        return dw_refuse(mode, errp, "vm.max_map_count leaves no room for "
                         "the guest windows");
    }
#if DW_HOST_SUPPORTED
    dw_have_fsgsbase = getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE;
    sa.sa_sigaction = dw_segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &dw_prev_segv) < 0) {
        return dw_refuse(mode, errp, "cannot install the SIGSEGV handler");
    }
#endif
    dw_enabled = true;
    qemu_add_machine_init_done_notifier(&dw_ram_check);
    atexit(dw_log_stats);
    return true;
}

void dw_format_stats(GString *buf)
{
    g_string_append_printf(buf, "fast mode: %s\n",
                           dw_enabled ? dw_mode_name(dw_mode) : "off");
    if (!dw_enabled) {
        return;
    }
    if (dw_classic) {
        g_string_append_printf(buf, "window: 1 at host address 0, mapped "
                               "from 0x%" PRIx64 ", emptied on %" PRIu64
                               " MMU index switches\n", dw_classic_min,
                               qatomic_read(&dw_stats.classic_switches));
    } else {
        g_string_append_printf(buf, "windows: %u (%u vCPUs x %u), %" PRIu64
                               " GiB reserved at %p\n",
                               dw_n_cpus * DW_NB_WINDOWS, dw_n_cpus,
                               DW_NB_WINDOWS, dw_layout.total_size >> 30,
                               (void *)dw_base);
    }
    g_string_append_printf(buf,
        "pages mapped now: %" PRIu64 ", host mappings at most %" PRId64
        " (cap %" PRId64 ")\n"
        "faults: %" PRIu64 ", fills: %" PRIu64 " (%" PRIu64 " pages, "
        "%" PRIu64 " of them batched), guest page faults: %" PRIu64 "\n"
        "window resets: %" PRIu64 ", pages unmapped: %" PRIu64
        ", RW->RO downgrades: %" PRIu64 "\n"
        "GS switches: %" PRIu64 " (%s)\n"
        "CR3 writes: %" PRIu64 ", pages kept: %" PRIu64 ", dropped: %"
        PRIu64 ", %" PRIu64 " us, user window found: %" PRIu64 "\n"
        "time in the fault handler for fills: %" PRIu64 " us, "
        "emptying and unmapping: %" PRIu64 " us\n",
        qatomic_read(&dw_total_pages), dw_acct_total(&dw_acct),
        dw_acct.max_mappings,
        qatomic_read(&dw_stats.faults),
        qatomic_read(&dw_stats.fills),
        qatomic_read(&dw_stats.pages_mapped),
        qatomic_read(&dw_stats.pages_mapped) - qatomic_read(&dw_stats.fills),
        qatomic_read(&dw_stats.guest_faults),
        qatomic_read(&dw_stats.resets),
        qatomic_read(&dw_stats.page_unmaps),
        qatomic_read(&dw_stats.downgrades),
        qatomic_read(&dw_stats.gs_switches),
        dw_have_fsgsbase ? "wrgsbase" : "arch_prctl",
        qatomic_read(&dw_stats.cr3_writes),
        qatomic_read(&dw_stats.pages_kept),
        qatomic_read(&dw_stats.pages_dropped),
        qatomic_read(&dw_stats.cr3_ns) / 1000,
        qatomic_read(&dw_stats.user_hits),
        qatomic_read(&dw_stats.fill_ns) / 1000,
        qatomic_read(&dw_stats.unmap_ns) / 1000);
    g_string_append_printf(buf, "TBs made non-direct after %d slow exits: %"
                           PRIu64 "\n", DW_STICKY_AFTER,
                           qatomic_read(&dw_stats.sticky_tbs));
    g_string_append(buf, "slow-path re-executions:");
    for (int i = 0; i < DW_SLOW__MAX; i++) {
        g_string_append_printf(buf, " %s %" PRIu64, dw_slow_names[i],
                               qatomic_read(&dw_stats.slow[i]));
    }
    g_string_append_c(buf, '\n');
}

/* "info fast" comes with -d fast (LOG_FAST) in the same patch. */
#ifdef LOG_FAST
void hmp_info_fast(Monitor *mon, const QDict *qdict)
{
    g_autoptr(GString) buf = g_string_new(NULL);

    dw_format_stats(buf);
    monitor_puts(mon, buf->str);
}
#endif
