/*
 * qemu-fast direct windows: what each window maps, and the flushes
 *
 * Every window keeps which of its guest pages are mapped, which are
 * writable (and onto which host RAM, for dirty-bit resets), and where it
 * holds pages of large guest pages.  This file owns that record and every
 * way pages leave a window: emptying it, unmapping a range (INVLPG,
 * shootdowns), flushing an MMU index, making writable pages read-only
 * when their RAM becomes clean, and staying below vm.max_map_count.
 * What to map, and the walk summaries kept per page, are the target's
 * (target/i386/tcg/system/direct-window-fill.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "qemu/timer.h"
#include "hw/core/cpu.h"
#include "tcg/direct-window-internal.h"

uint64_t dw_total_pages;

void dw_forget_all(DWCpu *c, unsigned win)
{
    bitmap_zero(c->mapped[win], DW_GUEST_PAGES);
    bitmap_zero(c->mapped_words[win], DW_MAPPED_WORDS);
    qatomic_sub(&dw_total_pages, c->n_mapped[win]);
    c->n_mapped[win] = 0;
    g_hash_table_remove_all(c->writable[win]);
    memset(c->region_sum[win], 0xff, DW_REGIONS * sizeof(uint64_t));
    dw_large_clear_all(c->large[win]);
}

void dw_empty_window(CPUState *cpu, unsigned win)
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
void dw_unmap_pages(CPUState *cpu, unsigned win, uint32_t first,
                    uint32_t n)
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

/*
 * Note page @page of window @win as mapped, by the TLB lock holder;
 * @host_rw: the host page of its RAM if it is mapped writable, else 0.
 * @large: it belongs to a run mapped for a fault in a large page (see
 * dw_flush_range()).
 */
void dw_note_mapped(DWCpu *c, unsigned win, uint32_t page,
                    uintptr_t host_rw, bool large)
{
    set_bit(BIT_WORD(page), c->mapped_words[win]);
    if (!test_and_set_bit(page, c->mapped[win])) {
        c->n_mapped[win]++;
        qatomic_inc(&dw_total_pages);
    }
    if (large) {
        dw_large_note(c->large[win], page);
    }
    if (host_rw) {
        g_hash_table_insert(c->writable[win], GUINT_TO_POINTER(page),
                            (void *)host_rw);
    } else {
        g_hash_table_remove(c->writable[win], GUINT_TO_POINTER(page));
    }
}

/*
 * Keep the host mappings below vm.max_map_count: at the cap, empty this
 * vCPU's window with the most of them (only the vCPU's own thread may
 * change its windows).
 */
void dw_check_cap(CPUState *cpu)
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
