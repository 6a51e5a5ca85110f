/*
 * qemu-fast direct windows: address-space switches (i386)
 *
 * A CR3 write flushes the whole softmmu TLB, yet most of a window stays
 * right.  This file owns keeping it: every mapped page of the current
 * kernel windows is walked again under the new CR3 and kept when its
 * walk summary is unchanged; each user window holds one address space
 * (CR3), parked while other processes run and walked again when its CR3
 * comes back.  It decides nothing about what a fault maps.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "qemu/timer.h"
#include "exec/cputlb.h"
#include "exec/exec-all.h"
#include "cpu.h"
#include "tcg/direct-window-internal.h"
#include "direct-window-ptw.h"

/* A run of guest pages of one window. */
typedef struct DWRun {
    uint32_t first;
    uint32_t n;
} DWRun;

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
