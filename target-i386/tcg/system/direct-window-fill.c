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

/* Note page @page of window @win as mapped with walk summary @walk. */
static void dw_note_walk(DWCpu *c, unsigned win, uint32_t page,
                         uint64_t walk)
{
    c->walk[win][page] = walk;
    dw_note_region(&c->region_sum[win][page >> DW_REGION_BITS], page, walk);
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
    uint32_t page = vaddr >> TARGET_PAGE_BITS, first, n;
    uint64_t walk[DW_BATCH_MAX];
    uintptr_t host_page = (uintptr_t)host & TARGET_PAGE_MASK;
    struct dw_paging p;
    DWPteReader r;
    ram_addr_t offset;
    RAMBlock *rb;
    bool writable;
    int ret;

    rb = qemu_ram_block_from_host(host, true, &offset);
    if (!dw_ram_mappable(rb)) {
        return DW_SLOW_NOFD;
    }
    writable = (full->prot & PAGE_WRITE) && !(full->prot & PAGE_WRITE_INV)
               && !dw_ram_readonly(rb->mr)
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

            dw_note_mapped(c, win, first + i, writable ? rw : 0,
                           full->lg_page_size > TARGET_PAGE_BITS ||
                           (walk[i] & DW_WALK_LARGE));
            dw_note_walk(c, win, first + i, walk[i]);
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
