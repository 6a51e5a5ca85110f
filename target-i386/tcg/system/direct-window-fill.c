/*
 * qemu-fast direct windows: what a fault maps (i386)
 *
 * The softmmu fill has resolved a faulting direct access to guest RAM.
 * This file decides how the window maps it: read-write only when the
 * guest may write it now without a fault or a change of its PTE and
 * every dirty-log client has it dirty; together with the neighbours
 * under the same guest page table that map the next guest-physical pages
 * of the same RAM with the same rights (one mmap for the run); and it
 * records each page's walk summary, which the CR3 path compares later.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "exec/exec-all.h"
#include "exec/memory.h"
#include "exec/ramblock.h"
#include "exec/ram_addr.h"
#include "cpu.h"
#include "hw/core/direct-window-ram.h"
#include "tcg/direct-window-internal.h"
#include "direct-window-prot.h"
#include "direct-window-ptw.h"

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
    pg.readonly = dw_ram_readonly(mr);
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

/*
 * Do the page tables as they are now allow the mapping the fill asked
 * for (@writable or read-only) of a page with walk summary @sum?  The
 * softmmu fill may come from a TLB entry older than the last store to a
 * table, which the CPU may use until the next flush: a mapping made from
 * it must not outlive that flush, as a tracked one would.
 */
static bool dw_walk_allows(CPUState *cpu, unsigned win, DWPteReader *r,
                           uint64_t sum, RAMBlock *rb, ram_addr_t offset,
                           bool writable)
{
    CPUX86State *env = cpu_env(cpu);
    struct dw_access acc = dw_access_for_slot(dw_window_slot(win),
                                              env->cr[0] & CR0_WP_MASK);
    enum dw_prot prot;

    if (!sum) {
        return false;
    }
    prot = dw_neighbour_prot(r, sum, &acc, rb, offset);
    return prot == DW_PROT_RW || (prot == DW_PROT_READ && !writable);
}

/*
 * Record for window @win what the tracked walk of @vaddr went through:
 * the PDPTE (PAE), the PDE and its table, the leaf table.
 */
static void dw_note_walk(CPUState *cpu, unsigned win,
                         const struct dw_paging *p, const DWPteReader *r,
                         uint32_t vaddr, bool large, unsigned levels)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    uint32_t region = vaddr >> (DW_REGION_BITS + TARGET_PAGE_BITS);
    unsigned pde = p->pae ? 1 : 0;
    /* A 2-level PDE covers 4 MiB: both 2 MiB regions. */
    uint32_t sibling = p->pae ? region : region ^ 1;

    if (p->pae) {
        c->upper_key[win][vaddr >> 30] = r->path_val[0];
    }
    c->upper_table[win][p->pae ? vaddr >> 30 : 0] =
        r->path_ram[pde] & TARGET_PAGE_MASK;
    c->region_upper[win][region] = r->path_val[pde];
    c->region_upper[win][sibling] = r->path_val[pde];
    if (!large) {
        uint64_t pt = r->path_ram[levels - 1] & TARGET_PAGE_MASK;
        uint64_t old = c->region_pt[win][region];

        /*
         * The region's entry points to another table now: the old one's
         * use for it goes (what it mapped is dropped at the next flush,
         * queued by the store to the entry), or it stays tracked after
         * it is freed and becomes data.
         */
        if (old && old != pt) {
            dw_untrack_leaf(cpu, win, old,
                            MIN(region, sibling) << DW_REGION_BITS,
                            (p->pae ? 1 : 2) << DW_REGION_BITS);
        }
        c->region_pt[win][region] = pt;
        c->region_pt[win][sibling] = pt;
    }
}

/*
 * Track the tables the walk of @vaddr read (left in @r's path by
 * dw_walk_for_map()) for window @win: a store to any of them must drop
 * what this fill maps.  The PAE PDPT is not tracked: the CPU loads the
 * PDPTEs at CR3 writes only, so they are recorded here and compared
 * there (direct-window-cr.c); it is also a 32-byte object that shares
 * its page with other data.  False when a table cannot be tracked (not
 * RAM, say): then the mapping may only live until the next flush.
 */
static bool dw_track_walk(CPUState *cpu, unsigned win,
                          const struct dw_paging *p, const DWPteReader *r,
                          uint32_t vaddr, bool large)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    struct dw_table_use use[DW_WALK_MAX_LEVELS];
    unsigned levels, first;

    /* The PAE PDPT (use[0]) is recorded below, not tracked. */
    use[p->pae ? 1 : 0] = dw_upper_use(p, vaddr);
    use[p->pae ? 2 : 1] = dw_leaf_use(p, vaddr);
    first = p->pae ? 1 : 0;
    levels = first + (large ? 1 : 2);
    if (r->n_path < levels) {
        return false;
    }
    /*
     * The PDPTE changed since the window recorded it, without a CR3
     * write: the window may still hold pages of the old one, which the
     * next CR3 write drops.  Until then this mapping is not kept either.
     */
    if (p->pae && c->upper_key[win][vaddr >> 30] &&
        c->upper_key[win][vaddr >> 30] != r->path_val[0]) {
        return false;
    }
    for (unsigned i = first; i < levels; i++) {
        if (r->path_ram[i] == (uint64_t)-1 ||
            !dw_track_table(cpu, win, r->path_ram[i] & TARGET_PAGE_MASK,
                            &use[i])) {
            return false;
        }
    }
    dw_note_walk(cpu, win, p, r, vaddr, large, levels);
    return true;
}

/*
 * Does a kernel access to the page with walk summary @sum, a user page,
 * take the slow path rather than a fill, the current address space
 * being young (direct-window-young.h)?  Takes from its budget if so.
 */
static bool dw_young_kernel_access(CPUState *cpu, unsigned win,
                                   uint32_t page, uint64_t sum)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];

    return dw_window_slot(win) != DW_USER_SLOT && (sum & DW_WALK_U) &&
           dw_young_take_slow(&c->young, c->cur[DW_USER_SLOT], page,
                              dw_young_ns);
}

/* mmap @n pages of @rb from @offset at guest page @first of @win. */
static int dw_map_run_at(CPUState *cpu, unsigned win, uint32_t first,
                         uint32_t n, bool writable, RAMBlock *rb,
                         ram_addr_t offset)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];

    return dw_map_range((void *)(c->gs[win] +
                                 ((uintptr_t)first << TARGET_PAGE_BITS)),
                        (size_t)n << TARGET_PAGE_BITS,
                        writable ? PROT_READ | PROT_WRITE : PROT_READ,
                        rb->fd, rb->fd_offset + offset);
}

/*
 * Map the guest page at @vaddr of window @win onto the RAM behind @host,
 * with the neighbours dw_grow_run() finds.
 * Writable only if the guest may write it now without a fault or a
 * change of its PTE, and every dirty-log client already has it dirty.
 * Returns -1 when the access can retry, else why it must go slow.
 */
int dw_map_page(CPUState *cpu, unsigned win, uint32_t vaddr, void *host,
                const CPUTLBEntryFull *full, bool is_write)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    CPUX86State *env = cpu_env(cpu);
    uint32_t page = vaddr >> TARGET_PAGE_BITS, first, n;
    uint64_t walk[DW_BATCH_MAX];
    uintptr_t host_page = (uintptr_t)host & TARGET_PAGE_MASK;
    struct dw_paging p;
    bool paging = dw_paging_of(cpu, &p);
    uint64_t root = paging ? dw_root_of(&p) : DW_ROOT_FLAT;
    bool tracked = !paging;
    bool young = false;
    uint32_t gen;
    DWPteReader r;
    ram_addr_t offset;
    RAMBlock *rb;
    bool writable;
    int ret;

    rb = qemu_ram_block_from_host(host, true, &offset);
    if (!dw_ram_mappable(rb)) {
        return DW_SLOW_NOFD;
    }
    /* A page table stays read-only: stores to it must be seen. */
    writable = (full->prot & PAGE_WRITE) && !(full->prot & PAGE_WRITE_INV)
               && !dw_ram_readonly(rb->mr)
               && !cpu_physical_memory_is_clean(rb->offset + offset)
               && !dw_ram_tracked(rb->offset + offset);

    qemu_spin_lock(&cpu->neg.tlb.c.lock);
    dw_check_cap(cpu, win);
    /* The window serves the current address space, or none yet. */
    if (c->root[win] != root) {
        dw_empty_window(cpu, win);
        c->root[win] = root;
    }
    gen = c->gen[win];
    qemu_spin_unlock(&cpu->neg.tlb.c.lock);

    /* Paging off: nothing to track, and no page table to batch. */
    walk[0] = 0;
    first = page;
    n = 1;
    if (paging) {
        WITH_RCU_READ_LOCK_GUARD() {
            dw_pte_reader_init(&r, cpu);
            walk[0] = dw_walk_for_map(&p, &r, vaddr, full->phys_addr,
                                      writable);
            young = dw_young_kernel_access(cpu, win, page, walk[0]);
            if (!young) {
                tracked = dw_walk_allows(cpu, win, &r, walk[0], rb, offset,
                                         writable) &&
                          dw_track_walk(cpu, win, &p, &r, vaddr,
                                        walk[0] & DW_WALK_LARGE);
                first = dw_grow_run(cpu, &p, &r, win, page,
                                    writable ? DW_PROT_RW : DW_PROT_READ,
                                    rb, offset, walk, &n);
            }
        }
    }
    if (young) {
        return DW_SLOW_YOUNG;
    }

    qemu_spin_lock(&cpu->neg.tlb.c.lock);
    /*
     * Another thread emptied the window meanwhile (a downgrade the
     * kernel refused at vm.max_map_count, dw_reset_dirty()): the table
     * uses just registered belong to its old generation, and a mapping
     * made now would not be dropped by stores to them.  The access
     * faults again.
     */
    if (c->gen[win] != gen) {
        qemu_spin_unlock(&cpu->neg.tlb.c.lock);
        return -1;
    }
    /*
     * A page of the run may have become a table since (another vCPU's
     * fill, or this one's if the page maps its own table): check again
     * now that a new table's downgrade cannot miss this mapping.
     */
    for (uint32_t i = 0; writable && i < n; i++) {
        if (dw_ram_tracked(rb->offset + offset +
                           ((uint64_t)i << TARGET_PAGE_BITS) -
                           ((uint64_t)(page - first) << TARGET_PAGE_BITS))) {
            writable = !dw_ram_tracked(rb->offset + offset);
            first = page;
            n = 1;
        }
    }
    ret = dw_map_run_at(cpu, win, first, n, writable, rb,
                        offset - ((uint64_t)(page - first) <<
                                  TARGET_PAGE_BITS));
    if (ret == -ENOMEM) {
        /*
         * Out of host mappings (vm.max_map_count) despite the cap: give
         * back those of every other window, then try once more.  @win
         * goes too only when it holds many (dw_check_cap): emptying it
         * for each fill would livelock an instruction that needs several
         * of its pages.  If that is still not enough, this access takes
         * the slow path.
         */
        bool all = dw_window_holds_many(cpu, win);

        for (unsigned w = 0; w < DW_NB_WINDOWS; w++) {
            if (w != win || all) {
                dw_empty_window(cpu, w);
            }
        }
        if (all) {
            /*
             * The tables tracked for @win went with it: keep this run
             * only until the next flush.
             */
            c->root[win] = root;
            tracked = false;
        }
        ret = dw_map_run_at(cpu, win, first, n, writable, rb,
                            offset - ((uint64_t)(page - first) <<
                                      TARGET_PAGE_BITS));
        if (ret == -ENOMEM) {
            dw_warn_map_count();
        }
    }
    if (ret == 0) {
        dw_acct_note_ops(&dw_acct, dw_window_index(cpu->cpu_index, win), 1);
        /* The run's RAM starts (page - first) pages before @host. */
        uintptr_t run_host = host_page -
                             ((uintptr_t)(page - first) << TARGET_PAGE_BITS);

        for (uint32_t i = 0; i < n; i++) {
            uintptr_t rw = run_host + ((uintptr_t)i << TARGET_PAGE_BITS);

            dw_note_mapped(c, win, first + i, writable ? rw : 0,
                           full->lg_page_size > TARGET_PAGE_BITS ||
                           (walk[i] & DW_WALK_LARGE));
        }
        if (writable && !(env->cr[0] & CR0_WP_MASK) &&
            dw_window_slot(win) != DW_USER_SLOT) {
            c->wp_relaxed[win] = true;
        }
        qatomic_add(&dw_stats.pages_mapped, n);
        qatomic_inc(&dw_stats.fills);
        c->fill_pages = n;
    }
    qemu_spin_unlock(&cpu->neg.tlb.c.lock);
    if (ret < 0) {
        return DW_SLOW_OTHER;
    }
    if (!tracked) {
        /* Untracked tables: the mapping lives until the next flush. */
        dw_queue_invalidation(cpu, win, first, n);
    }
    /*
     * A store to a page that stays clean (other TBs on it, dirty logging,
     * a page table) goes through the softmmu, which tracks it.
     */
    if (is_write && !writable) {
        return DW_SLOW_NOTDIRTY;
    }
    return -1;
}

/*
 * The guest enters window @win, of the slot whose miss at
 * c->prefill_vaddr raised its page fault.  When @win is that miss's
 * window, and the page is now present with Accessed set at every level
 * (as Linux makes a new PTE), the handler has most likely returned to
 * the faulting instruction: map the page now, saving the retry's host
 * signal.  Only then: a fill that set Accessed for an instruction the
 * handler skipped would differ from the softmmu.  A load's fill sets no
 * bit here; the mapping is writable only if the PTE already allows a
 * store without change.  Another window of the slot (another address
 * space) means the retry is not next.
 */
void dw_prefill(CPUState *cpu, unsigned win)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    int mmu_idx = dw_slot_to_mmu_idx(dw_window_slot(win));
    uint32_t vaddr = c->prefill_vaddr;
    CPUTLBEntryFull *full;
    struct dw_paging p;
    DWPteReader r;
    uint64_t sum = 0;
    void *host;
    int flags;

    c->prefill_slot1 = 0;
    if (win != c->prefill_win || !dw_paging_of(cpu, &p)) {
        return;
    }
    WITH_RCU_READ_LOCK_GUARD() {
        dw_pte_reader_init(&r, cpu);
        sum = dw_walk(&p, vaddr, dw_read_pte, &r);
    }
    if (!(sum & DW_WALK_VALID)) {
        return;
    }
    flags = probe_access_full(cpu_env(cpu), vaddr, 1, MMU_DATA_LOAD,
                              mmu_idx, true, &host, &full, 0);
    if (flags || !host) {
        return;
    }
    if (dw_map_page(cpu, win, vaddr, host, full, false) < 0) {
        dw_churn_note_fill(cpu, win, vaddr >> TARGET_PAGE_BITS,
                           c->prefill_key);
        qatomic_inc(&dw_stats.prefills);
    }
}
