/*
 * qemu-fast direct windows: control-register writes (i386)
 *
 * Owns what writes to CR3, CR0 and CR4 mean for the windows.  Each window
 * holds one address space, keyed by its root (the page directory or PDPT
 * CR3 points to), and stays right for it because every page table its
 * mappings came through is tracked (tcg/direct-window-track.c): stores
 * to them queue invalidations that the vCPU applies at each flush.  So:
 *
 * - a CR3 write applies the queue and makes current, per slot, the
 *   window of the new root; a root no window holds gets, in a kernel
 *   slot, an orphan (a window whose page directory was written while it
 *   was not current: its process most likely exited), keeping its kernel
 *   half (dw_adopt); else an empty window; else the least recently used,
 *   adopted in a kernel slot, emptied in the user slot.  No page is
 *   walked: the cost does not grow with what the address space maps,
 *   and the two roots that page-table isolation switches between on
 *   every system call each keep their windows;
 * - a CR4.PGE toggle (how Linux flushes global pages) only applies the
 *   queue, as does a CR0.WP 1->0 change; CR0.WP 0->1 empties the kernel
 *   windows only if they hold writable mappings of read-only pages;
 * - anything else that changes how the walk reads the tables (paging,
 *   PAE, PSE, SMAP...) empties every window, through the TLB flush.
 *
 * It decides nothing about what a fault maps.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "qemu/rcu.h"
#include "qemu/timer.h"
#include "exec/cputlb.h"
#include "exec/exec-all.h"
#include "cpu.h"
#include "tcg/direct-window-internal.h"
#include "direct-window-ptw.h"

/*
 * The TB flags of user code, which the user code of a new address space
 * is looked up without direct accesses by (tcg/direct-window-young.h):
 * CPL 3, the user MMU index's.
 */
const uint32_t dw_user_tb_flags_mask = HF_CPL_MASK;
const uint32_t dw_user_tb_flags = 3;

/* The window of @slot holding @root, or -1. */
static int dw_find_root(DWCpu *c, unsigned slot, uint64_t root)
{
    for (unsigned k = 0; k < DW_ROOT_WINDOWS; k++) {
        unsigned w = dw_slot_window(slot, k);

        if (c->root[w] == root) {
            return w;
        }
    }
    return -1;
}

/* Is window @w an orphan: pages kept, no address space (dw_orphan_window)? */
static bool dw_is_orphan(DWCpu *c, unsigned w)
{
    return c->root[w] == DW_ROOT_NONE && c->n_mapped[w];
}

/*
 * The PDE of the address space @p for 2 MiB region @reg, read through
 * @r; @pdpte: its PDPTEs (PAE).  0 when its GiB has no directory.
 */
static uint64_t dw_root_pde(DWPteReader *r, const struct dw_paging *p,
                            const uint64_t *pdpte, uint32_t reg)
{
    uint64_t addr = ((1ULL << p->phys_bits) - 1) & ~0xfffULL;

    r->n_path = 0;
    if (p->pae) {
        if (!(pdpte[reg >> 9] & PG_PRESENT_MASK)) {
            return 0;
        }
        return dw_read_pte(r, ((pdpte[reg >> 9] & addr) + (reg & 511) * 8) &
                              p->a20_mask, true);
    }
    return dw_read_pte(r, ((p->cr3 & ~0xfffULL) + (reg >> 1) * 4) &
                          p->a20_mask, false);
}

/*
 * The RAM page of the directory GiB @i of the address space @p goes
 * through (PAE), or of its page directory (2-level, @i 0), in *@page;
 * false when there is none or it is not RAM.
 */
static bool dw_root_dir(DWPteReader *r, const struct dw_paging *p,
                        const uint64_t *pdpte, unsigned i, uint64_t *page)
{
    if (p->pae && !(pdpte[i] & PG_PRESENT_MASK)) {
        return false;
    }
    dw_root_pde(r, p, pdpte, i << 9);
    *page = r->path_ram[0] & TARGET_PAGE_MASK;
    return r->path_ram[0] != (uint64_t)-1;
}

/*
 * How many pages of window @w the address space @p would keep if it
 * adopted it (dw_adopt): those of each region whose recorded PDE is
 * @p's too.  @pde caches @p's PDEs across the windows compared, @known
 * says which are read.  A region is 2 MiB, so its pages are counted
 * from the bitmap in place (a region starts on a word boundary).
 */
static uint32_t dw_adopt_keeps(DWCpu *c, unsigned w, DWPteReader *r,
                               const struct dw_paging *p,
                               const uint64_t *pdpte, uint64_t *pde,
                               unsigned long *known)
{
    uint32_t kept = 0;
    uint64_t page = 0;

    while ((page = dw_next_mapped(c, w, page, DW_GUEST_PAGES)) <
           DW_GUEST_PAGES) {
        uint32_t reg = page >> DW_REGION_BITS;
        uint32_t first = reg << DW_REGION_BITS;

        if (!test_bit(reg, known)) {
            pde[reg] = dw_root_pde(r, p, pdpte, reg);
            set_bit(reg, known);
        }
        if (c->region_upper[w][reg] && pde[reg] == c->region_upper[w][reg]) {
            kept += bitmap_count_one(&c->mapped[w][BIT_WORD(first)],
                                     1u << DW_REGION_BITS);
        }
        page = first + (1u << DW_REGION_BITS);
    }
    return kept;
}

/*
 * What adopting window @w is worth to the new root: the pages it keeps,
 * less half of those it drops, which another new root might have kept.
 * With page-table isolation a kernel slot holds windows of both roots of
 * each process, and the user root's kernel half is nearly empty: handing
 * a full kernel half to a user root drops thousands of pages that the
 * next kernel root then faults back in.
 */
static int64_t dw_adopt_value(DWCpu *c, unsigned w, uint32_t kept)
{
    return (int64_t)kept - (int64_t)(c->n_mapped[w] - kept) / 2;
}

/*
 * The window of @slot to give the new root of @p, and (*@adopt) whether
 * to adopt it (dw_adopt) rather than empty it.  In a kernel slot, first
 * the orphan worth most to the new root (dw_adopt_value; the least
 * recently used among equals): every process maps the kernel half the
 * same and an orphan holds it for nobody (a fork+exec+exit costs three
 * new roots, and the window of an exited process is orphaned when its
 * page directory is reused).  Then an empty window.  Then, in a kernel
 * slot, the live window worth most to the new root too, the least
 * recently used among equals, adopted if that is worth anything.  Taking
 * the smallest instead handed a kernel root the nearly empty window of
 * an isolation user root, and with more processes alive than windows
 * (a shell pipeline) every kernel root refilled its kernel half at each
 * switch; the owner of a full window gets the kernel half back by
 * adopting in turn.  In the user slot, the least recently used window.
 * A live window is never taken while an empty one is left: with
 * page-table isolation every process has two roots, and taking another
 * process's window makes it refault or take one back at its next
 * switch.
 */
static unsigned dw_pick_victim(CPUState *cpu, unsigned slot,
                               const struct dw_paging *p, bool *adopt)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    int orphan = -1, empty = -1, lru = -1, live = -1;
    int64_t best = 0, live_value = 0;
    uint64_t pdpte[4] = { 0 };
    g_autofree uint64_t *pde = NULL;
    g_autofree unsigned long *known = NULL;
    DWPteReader r;

    if (slot != DW_USER_SLOT) {
        pde = g_new(uint64_t, DW_REGIONS);
        known = bitmap_new(DW_REGIONS);
    }
    WITH_RCU_READ_LOCK_GUARD() {
        dw_pte_reader_init(&r, cpu);
        if (p->pae) {
            dw_read_pdptes(&r, p, pdpte);
        }
        for (unsigned k = 0; k < DW_ROOT_WINDOWS; k++) {
            unsigned w = dw_slot_window(slot, k);
            int64_t value;

            if (w == c->cur[slot]) {
                continue;
            }
            if (!c->n_mapped[w] && c->root[w] == DW_ROOT_NONE) {
                if (empty < 0) {
                    empty = w;
                }
                continue;
            }
            if (slot == DW_USER_SLOT) {
                if (lru < 0 || c->used[w] < c->used[lru]) {
                    lru = w;
                }
                continue;
            }
            value = dw_adopt_value(c, w, dw_adopt_keeps(c, w, &r, p, pdpte,
                                                        pde, known));
            if (dw_is_orphan(c, w) && value > 0 &&
                (orphan < 0 || value > best ||
                 (value == best && c->used[w] < c->used[orphan]))) {
                orphan = w;
                best = value;
            }
            if (live < 0 || value > live_value ||
                (value == live_value && c->used[w] < c->used[live])) {
                live = w;
                live_value = value;
            }
        }
    }
    *adopt = false;
    if (orphan >= 0) {
        *adopt = true;
        return orphan;
    }
    if (empty >= 0) {
        return empty;
    }
    if (live >= 0) {
        *adopt = live_value > 0;
        return live;
    }
    return lru >= 0 ? lru : c->cur[slot];
}

/*
 * Hand window @win, which holds another address space, to the one @p
 * translates: keep each 2 MiB region whose upper-level entry (PDE) is the
 * same under @p (the kernel half of every process is), whichever
 * directory holds it, and drop the rest.
 * The new root's upper tables are tracked before they are compared, so
 * that no store to them is missed; the old ones no longer are.  Only the
 * GiBs of @gibs (PAE; bit 0 covers all of a 2-level space) change.  False
 * when the new tables cannot be tracked: then the caller drops them.
 */
static bool dw_adopt_gibs(CPUState *cpu, unsigned win,
                          const struct dw_paging *p, unsigned gibs)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    uint64_t pdpte[4] = { 0 }, table[4] = { 0 };
    unsigned n_upper = p->pae ? 4 : 1;
    bool ok = true;
    DWPteReader r;

    WITH_RCU_READ_LOCK_GUARD() {
        dw_pte_reader_init(&r, cpu);
        if (p->pae) {
            dw_read_pdptes(&r, p, pdpte);
        }
        /*
         * Another directory may hold the same entries: with page-table
         * isolation every process has its own copy of the kernel's.  Its
         * entries are compared below.
         */
        for (unsigned i = 0; i < n_upper; i++) {
            uint64_t dir;

            if ((gibs & (1u << i)) && dw_root_dir(&r, p, pdpte, i, &dir)) {
                table[i] = dir;
            }
        }
    }
    for (unsigned i = 0; i < n_upper; i++) {
        struct dw_table_use use = dw_upper_use(p, i << 30);

        if ((gibs & (1u << i)) && table[i] &&
            !dw_track_table(cpu, win, table[i], &use)) {
            ok = false;
        }
    }
    if (!ok) {
        return false;
    }

    qemu_spin_lock(&cpu->neg.tlb.c.lock);
    for (unsigned i = 0; i < 4; i++) {
        if (!(gibs & (1u << i))) {
            continue;
        }
        if (c->upper_table[win][i] && c->upper_table[win][i] != table[i]) {
            dw_untrack_upper(cpu, win, c->upper_table[win][i]);
        }
        c->upper_table[win][i] = table[i];
    }
    WITH_RCU_READ_LOCK_GUARD() {
        uint32_t page = 0;

        dw_pte_reader_init(&r, cpu);
        /* From mapped region to mapped region: most of the 2048 are empty. */
        while ((page = dw_next_mapped(c, win, page, DW_GUEST_PAGES)) <
               DW_GUEST_PAGES) {
            uint32_t reg = page >> DW_REGION_BITS;
            uint32_t first = reg << DW_REGION_BITS;
            uint32_t end = first + (1u << DW_REGION_BITS);
            unsigned gib = p->pae ? reg >> 9 : 0;
            uint64_t now = 0;

            page = end;
            if (!(gibs & (1u << gib))) {
                /* on to the next GiB (PAE); 2-level has one "GiB", 0 */
                page = p->pae ? (gib + 1) << 18 : DW_GUEST_PAGES;
                continue;
            }
            /* a GiB whose directory is gone or is not RAM: drop */
            if (table[gib]) {
                now = dw_root_pde(&r, p, pdpte, reg);
            }
            if (!now || now != c->region_upper[win][reg]) {
                dw_unmap_pages(cpu, win, first, end - first);
                dw_untrack_regions(cpu, win, first, end - first);
            }
        }
    }
    if (p->pae) {
        for (unsigned i = 0; i < 4; i++) {
            if (gibs & (1u << i)) {
                c->upper_key[win][i] = table[i] ? pdpte[i] : 0;
            }
        }
    }
    qemu_spin_unlock(&cpu->neg.tlb.c.lock);
    return true;
}

/* Hand all of window @win to the address space @p translates. */
static bool dw_adopt(CPUState *cpu, unsigned win, const struct dw_paging *p)
{
    return dw_adopt_gibs(cpu, win, p, 0xf);
}

bool dw_root_holds_table(CPUState *cpu, uint64_t root, uint64_t table)
{
    struct dw_paging p;
    uint64_t pdpte[4];
    DWPteReader r;
    bool held = false;

    /* A 2-level root is its page directory, the only upper table. */
    if (!dw_paging_of(cpu, &p) || !p.pae) {
        return false;
    }
    p.cr3 = root;
    WITH_RCU_READ_LOCK_GUARD() {
        dw_pte_reader_init(&r, cpu);
        dw_read_pdptes(&r, &p, pdpte);
        for (unsigned i = 0; i < 4 && !held; i++) {
            uint64_t dir;

            held = dw_root_dir(&r, &p, pdpte, i, &dir) && dir == table;
        }
    }
    return held;
}

/* Make the window of @root current for @slot, emptying one if needed. */
static void dw_switch_slot(CPUState *cpu, unsigned slot,
                           const struct dw_paging *p, uint64_t root)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];

    if (c->root[c->cur[slot]] != root) {
        int w = dw_find_root(c, slot, root);
        bool found = w >= 0;

        if (found) {
            qatomic_inc(&dw_stats.windows_found);
        } else {
            bool adopt;

            w = dw_pick_victim(cpu, slot, p, &adopt);
            /*
             * A kernel window of another process holds mostly what every
             * process maps the same: keep that for the new one.  The root
             * is set first: the tables dw_adopt tracks count as used only
             * by a window that has one (dw_user_orphaned).
             */
            c->root[w] = root;
            if (adopt && c->n_mapped[w] && dw_adopt(cpu, w, p)) {
                qatomic_inc(&dw_stats.windows_adopted);
            } else {
                qemu_spin_lock(&cpu->neg.tlb.c.lock);
                dw_empty_window(cpu, w);
                qemu_spin_unlock(&cpu->neg.tlb.c.lock);
                qatomic_inc(&dw_stats.windows_new);
            }
            c->root[w] = root;
        }
        c->cur[slot] = w;
        dw_young_switch(cpu, w, !found);
        dw_gs_forget();
    }
    c->used[c->cur[slot]] = ++c->clock;
}

/*
 * PAE: the CPU loads the four PDPTEs at a CR3 write, and the windows
 * record the ones their mappings came through instead of tracking stores
 * to the PDPT.  In the windows now current, each 1 GiB whose PDPTE is not
 * what it was keeps only the regions whose PDE is the same in the new
 * directory (dw_adopt_gibs), or is dropped.
 */
static void dw_check_pdptes(CPUState *cpu, const struct dw_paging *p)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    uint64_t pdpte[4];
    DWPteReader r;

    WITH_RCU_READ_LOCK_GUARD() {
        dw_pte_reader_init(&r, cpu);
        dw_read_pdptes(&r, p, pdpte);
    }
    for (unsigned slot = 0; slot < DW_NB_SLOTS; slot++) {
        unsigned win = dw_classic ? c->classic_slot : c->cur[slot];
        unsigned changed = 0;

        for (unsigned i = 0; i < 4; i++) {
            if (c->upper_key[win][i] && c->upper_key[win][i] != pdpte[i]) {
                changed |= 1u << i;
            }
        }
        /*
         * A root reused by a new process (its PDPT freed and allocated
         * again) has new directories, which often hold the same kernel
         * entries: keep the regions whose PDE is still the same.
         */
        if (!changed || (!dw_classic && dw_adopt_gibs(cpu, win, p, changed))) {
            continue;
        }
        qemu_spin_lock(&cpu->neg.tlb.c.lock);
        for (unsigned i = 0; i < 4; i++) {
            if (changed & (1u << i)) {
                dw_unmap_pages(cpu, win, i << 18, 1 << 18);
                c->upper_key[win][i] = 0;
            }
        }
        qemu_spin_unlock(&cpu->neg.tlb.c.lock);
    }
}

/* fast=classic: one window for everything, emptied for another root. */
static void dw_switch_classic(CPUState *cpu, uint64_t root)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    unsigned win = c->classic_slot;

    if (c->root[win] != root) {
        qemu_spin_lock(&cpu->neg.tlb.c.lock);
        dw_empty_window(cpu, win);
        c->root[win] = root;
        qemu_spin_unlock(&cpu->neg.tlb.c.lock);
    }
}

/*
 * Flush the softmmu TLB, leaving the windows as they are; for a CR3
 * write (@cr3), the jump-cache entries of global pages too.
 */
static void dw_tlb_flush_keep(CPUState *cpu, bool cr3)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];

    c->in_cr3_flush = true;
    c->in_cr3_write = cr3;
    tlb_flush(cpu);
    c->in_cr3_write = false;
    c->in_cr3_flush = false;
}

bool dw_code_is_global(CPUState *cpu, vaddr page)
{
    struct dw_paging p;
    DWPteReader r;
    uint64_t sum;

    if (!(cpu_env(cpu)->cr[4] & CR4_PGE_MASK) || !dw_paging_of(cpu, &p)) {
        return false;
    }
    WITH_RCU_READ_LOCK_GUARD() {
        dw_pte_reader_init(&r, cpu);
        sum = dw_walk(&p, page, dw_read_pte, &r);
    }
    return (sum & DW_WALK_VALID) && (sum & DW_WALK_G);
}

void dw_tlb_flush_cr3(CPUState *cpu)
{
    struct dw_paging p;
    int64_t start;
    uint64_t root;

    if (!dw_enabled || !dw_paging_of(cpu, &p)) {
        tlb_flush(cpu);
        return;
    }
    qatomic_inc(&dw_stats.cr3_writes);
    start = get_clock();
    dw_drain_invalidations(cpu);
    root = dw_root_of(&p);
    if (dw_classic) {
        dw_switch_classic(cpu, root);
    } else {
        for (unsigned slot = 0; slot < DW_NB_SLOTS; slot++) {
            dw_switch_slot(cpu, slot, &p, root);
        }
    }
    if (p.pae) {
        dw_check_pdptes(cpu, &p);
    }
    qatomic_add(&dw_stats.cr3_ns, get_clock() - start);
    dw_tlb_flush_keep(cpu, true);
}

void dw_tlb_flush_cr0(CPUState *cpu, uint64_t old_cr0, uint64_t new_cr0)
{
    DWCpu *c;

    if (!dw_enabled || ((old_cr0 ^ new_cr0) & ~(uint64_t)CR0_WP_MASK)) {
        tlb_flush(cpu);
        return;
    }
    c = &dw_cpus[cpu->cpu_index];
    dw_drain_invalidations(cpu);
    if (new_cr0 & CR0_WP_MASK) {
        /* WP=0 let kernel windows write read-only pages; no longer. */
        qemu_spin_lock(&cpu->neg.tlb.c.lock);
        for (unsigned win = 0; win < DW_NB_WINDOWS; win++) {
            if (c->wp_relaxed[win]) {
                dw_empty_window(cpu, win);
            }
        }
        qemu_spin_unlock(&cpu->neg.tlb.c.lock);
    }
    dw_tlb_flush_keep(cpu, false);
}

void dw_tlb_flush_cr4(CPUState *cpu, uint64_t old_cr4, uint64_t new_cr4)
{
    /*
     * PGE decides which TLB entries survive a CR3 write; the windows
     * keep everything right anyway.  SMEP concerns instruction fetches,
     * which the windows never serve.
     */
    uint64_t keep = CR4_PGE_MASK | CR4_SMEP_MASK;

    struct dw_paging p;

    if (!dw_enabled || ((old_cr4 ^ new_cr4) & ~keep)) {
        tlb_flush(cpu);
        return;
    }
    dw_drain_invalidations(cpu);
    /* A PGE change loads the PDPTEs again, as a CR3 write does. */
    if (dw_paging_of(cpu, &p) && p.pae &&
        ((old_cr4 ^ new_cr4) & CR4_PGE_MASK)) {
        dw_check_pdptes(cpu, &p);
    }
    dw_tlb_flush_keep(cpu, false);
}
