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
#include "exec/ram_addr.h"
#include "tcg/direct-window-internal.h"

uint64_t dw_total_pages;

/*
 * Page @page of window @win is no longer mapped writable, nor read-only
 * by a dirty reset.
 */
static void dw_forget_rw(DWCpu *c, unsigned win, uint32_t page)
{
    gpointer host;
    GSList *l, *n;

    g_hash_table_remove(c->ro_was_rw[win], GUINT_TO_POINTER(page));
    if (!g_hash_table_steal_extended(c->writable[win], GUINT_TO_POINTER(page),
                                     NULL, &host)) {
        return;
    }
    l = g_hash_table_lookup(c->rw_host[win], host);
    n = g_slist_remove(l, GUINT_TO_POINTER(page));
    if (n != l) {
        g_hash_table_steal(c->rw_host[win], host);
        if (n) {
            g_hash_table_insert(c->rw_host[win], host, n);
        }
    }
}

/* Page @page of window @win is mapped writable onto host page @host. */
static void dw_note_rw(DWCpu *c, unsigned win, uint32_t page, uintptr_t host)
{
    GSList *l = g_hash_table_lookup(c->rw_host[win], (void *)host);

    g_hash_table_insert(c->writable[win], GUINT_TO_POINTER(page),
                        (void *)host);
    g_hash_table_steal(c->rw_host[win], (void *)host);
    g_hash_table_insert(c->rw_host[win], (void *)host,
                        g_slist_prepend(l, GUINT_TO_POINTER(page)));
}

/*
 * Forget everything window @win held: its pages, its address space, and
 * (by a new generation) the table uses and queued invalidations made for
 * it.
 */
void dw_forget_all(DWCpu *c, unsigned win)
{
    /* 128 KiB: a window with no page has no bit set (n_mapped counts them) */
    if (c->n_mapped[win]) {
        bitmap_zero(c->mapped[win], DW_GUEST_PAGES);
    }
    bitmap_zero(c->mapped_words[win], DW_MAPPED_WORDS);
    qatomic_sub(&dw_total_pages, c->n_mapped[win]);
    c->n_mapped[win] = 0;
    g_hash_table_remove_all(c->writable[win]);
    g_hash_table_remove_all(c->rw_host[win]);
    g_hash_table_remove_all(c->ro_was_rw[win]);
    dw_large_clear_all(c->large[win]);
    c->root[win] = DW_ROOT_NONE;
    c->wp_relaxed[win] = false;
    memset(c->region_pt[win], 0, DW_REGIONS * sizeof(uint64_t));
    memset(c->region_upper[win], 0, DW_REGIONS * sizeof(uint64_t));
    memset(c->upper_key[win], 0, sizeof(c->upper_key[win]));
    memset(c->upper_table[win], 0, sizeof(c->upper_table[win]));
    qatomic_set(&c->gen[win], c->gen[win] + 1);
}

/*
 * A window that cannot be emptied would keep serving pages the guest has
 * unmapped, and a range of it left unreserved could come to hold host
 * memory: stop before guest code runs again.  This runs in the SIGSEGV
 * handler too.
 */
static G_NORETURN void dw_reset_failed(unsigned vcpu, unsigned win,
                                       int err)
{
    fprintf(stderr, "qemu-fast: cannot empty direct window %u of vCPU %u: "
            "%s; stopping, as the guest's memory would no longer be "
            "separated.  Raise vm.max_map_count (sysctl) or run "
            "-accel tcg,fast=off\n", win, vcpu, strerror(-err));
    fflush(NULL);
    _exit(1);
}

/* Give all of window @win back to the reservation. */
static void dw_reset_mappings(CPUState *cpu, unsigned win)
{
    int64_t start = get_clock();
    int ret;

    if (dw_classic) {
        ret = dw_classic_reset(dw_classic_min);
    } else {
        ret = dw_reset_window(&dw_layout, dw_base, cpu->cpu_index, win);
        dw_canary_verify(false);
    }
    if (ret < 0) {
        dw_reset_failed(cpu->cpu_index, win, ret);
    }
    if (ret > 0) {
        qatomic_inc(&dw_stats.over_limit_resets);
    }
    qatomic_add(&dw_stats.unmap_ns, get_clock() - start);
    dw_acct_note_reset(&dw_acct, dw_window_index(cpu->cpu_index, win));
    qatomic_inc(&dw_stats.resets);
}

void dw_empty_window(CPUState *cpu, unsigned win)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];

    if (c->n_mapped[win]) {
        dw_reset_mappings(cpu, win);
    }
    dw_forget_all(c, win);
}

/*
 * A flush of a whole MMU index that is not a CR3 write, or a CR0/CR4
 * write that keeps the windows (CR0 and CR4 writes, A20, the memory
 * map...), may change what every address space maps: empty every window
 * of the slot.
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
    for (unsigned k = 0; k < DW_ROOT_WINDOWS; k++) {
        dw_empty_window(cpu, dw_slot_window(slot, k));
    }
}

uint32_t dw_next_mapped(const DWCpu *c, unsigned win, uint32_t page,
                        uint32_t end)
{
    while (page < end) {
        unsigned long w = find_next_bit(c->mapped_words[win],
                                        BIT_WORD(end - 1) + 1,
                                        BIT_WORD(page));
        unsigned long bits;

        if (w > BIT_WORD(end - 1)) {
            return end;
        }
        if (w > BIT_WORD(page)) {
            page = w * BITS_PER_LONG;
        }
        bits = c->mapped[win][w] & (~0UL << (page % BITS_PER_LONG));
        if (bits) {
            page = w * BITS_PER_LONG + ctzl(bits);
            return MIN(page, end);
        }
        page = (w + 1) * BITS_PER_LONG;
    }
    return end;
}

/*
 * Unmapping or write-protecting part of a run splits its host mapping,
 * which the kernel refuses at vm.max_map_count.  The page must not stay
 * as it was: empty the whole window instead, which needs no split.  It
 * keeps its address space, as after the cap's resets.  A downgrade runs
 * in whichever thread cleans the RAM, with the window's TLB lock held:
 * a fill of the owner under way notices the new generation and retries.
 */
static void dw_empty_window_for_split(CPUState *cpu, unsigned win)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    uint64_t root = c->root[win];

    qatomic_inc(&dw_stats.split_failures);
    dw_reset_mappings(cpu, win);
    dw_forget_all(c, win);
    c->root[win] = root;
}

/*
 * Unmap [first, first + n) of one window: one mmap per mapped run.  The
 * range may be a whole GiB (a PAE PDPTE changed) with little mapped:
 * skip from run to run.
 */
void dw_unmap_pages(CPUState *cpu, unsigned win, uint32_t first,
                    uint32_t n)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    uint32_t end = first + n, run = 0, start = 0;
    bool failed = false;

    for (uint32_t p = first; p <= end; p++) {
        bool hit;

        if (!run) {
            p = dw_next_mapped(c, win, p, end);
        }
        hit = p < end && test_bit(p, c->mapped[win]);
        if (hit) {
            if (!run) {
                start = p;
            }
            run++;
            clear_bit(p, c->mapped[win]);
            dw_forget_rw(c, win, p);
            continue;
        }
        if (run) {
            int64_t t0 = get_clock();
            /* Never remap anything but this window's own pages. */
            g_assert(start + run <= DW_GUEST_PAGES);

            failed |= dw_unmap_range((void *)(c->gs[win] +
                                              ((uintptr_t)start <<
                                               TARGET_PAGE_BITS)),
                                     (size_t)run << TARGET_PAGE_BITS) < 0;
            qatomic_add(&dw_stats.unmap_ns, get_clock() - t0);
            dw_acct_note_ops(&dw_acct,
                             dw_window_index(cpu->cpu_index, win), 1);
            c->n_mapped[win] -= run;
            qatomic_sub(&dw_total_pages, run);
            qatomic_add(&dw_stats.page_unmaps, run);
            run = 0;
        }
    }
    if (failed) {
        dw_empty_window_for_split(cpu, win);
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

    if (!dw_enabled || len == 0) {
        return;
    }
    dw_jmp_forget_pages(cpu, addr, len);
    if (slot < 0) {
        return;
    }
    /* A flush is when stores to page tables take effect. */
    dw_drain_invalidations_locked(cpu);
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
    dw_churn_note_drop(cpu, win, first, last - first + 1);
    dw_unmap_pages(cpu, win, first, last - first + 1);
}

/*
 * Make page @page of window @win read-only; the caller forgets it.
 * False when the window had to be emptied instead: the caller's list of
 * its writable pages is stale then.
 */
static bool dw_downgrade(CPUState *cpu, unsigned win, uint32_t page)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    int ret;

    ret = dw_protect_range((void *)(c->gs[win] + ((uintptr_t)page <<
                                                  TARGET_PAGE_BITS)),
                           TARGET_PAGE_SIZE, PROT_READ);
    if (ret < 0) {
        dw_empty_window_for_split(cpu, win);
        return false;
    }
    dw_acct_note_ops(&dw_acct, dw_window_index(cpu->cpu_index, win), 1);
    qatomic_inc(&dw_stats.downgrades);
    return true;
}

/* Page @page of window @win, onto host page @host, went read-only. */
static void dw_note_ro_was_rw(DWCpu *c, unsigned win, uint32_t page,
                              uintptr_t host)
{
    g_hash_table_insert(c->ro_was_rw[win], GUINT_TO_POINTER(page),
                        (void *)host);
}

bool dw_upgrade(CPUState *cpu, unsigned win, uint32_t page)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    uintptr_t host;
    ram_addr_t ram;
    bool done = false;
    int ret;

    qemu_spin_lock(&cpu->neg.tlb.c.lock);
    host = (uintptr_t)g_hash_table_lookup(c->ro_was_rw[win],
                                          GUINT_TO_POINTER(page));
    if (!host) {
        goto out;
    }
    /*
     * Writable on the conditions of a fill (dw_map_page).  A dirty reset
     * clears the dirty bit or marks the table before it takes this lock
     * to downgrade, so a writable page made here cannot escape it.
     */
    ram = qemu_ram_addr_from_host((void *)host);
    if (ram == RAM_ADDR_INVALID || cpu_physical_memory_is_clean(ram) ||
        dw_ram_tracked(ram)) {
        goto out;
    }
    ret = dw_protect_range((void *)(c->gs[win] + ((uintptr_t)page <<
                                                  TARGET_PAGE_BITS)),
                           TARGET_PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (ret < 0) {
        /* The retry fills again. */
        dw_empty_window_for_split(cpu, win);
        done = true;
        goto out;
    }
    dw_acct_note_ops(&dw_acct, dw_window_index(cpu->cpu_index, win), 1);
    g_hash_table_remove(c->ro_was_rw[win], GUINT_TO_POINTER(page));
    dw_note_rw(c, win, page, host);
    qatomic_inc(&dw_stats.upgrades);
    done = true;
out:
    qemu_spin_unlock(&cpu->neg.tlb.c.lock);
    return done;
}

/* Ranges up to this many pages are looked up page by page. */
#define DW_RESET_LOOKUP_MAX 16

/* Downgrade the writable pages of window @win onto host page @host. */
static void dw_reset_dirty_page(CPUState *cpu, unsigned win, uintptr_t host)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    GSList *l = g_hash_table_lookup(c->rw_host[win], (void *)host);

    if (!l) {
        return;
    }
    g_hash_table_steal(c->rw_host[win], (void *)host);
    for (GSList *e = l; e; e = e->next) {
        uint32_t page = GPOINTER_TO_UINT(e->data);

        if (!dw_downgrade(cpu, win, page)) {
            break;
        }
        g_hash_table_remove(c->writable[win], GUINT_TO_POINTER(page));
        dw_note_ro_was_rw(c, win, page, host);
    }
    g_slist_free(l);
}

/* A writable page found for a dirty reset, and its host page. */
typedef struct DWRwPage {
    uint32_t page;
    uintptr_t host;
} DWRwPage;

void dw_reset_dirty(CPUState *cpu, uintptr_t start, uint64_t len)
{
    g_autoptr(GArray) pages = NULL;
    DWCpu *c;

    if (!dw_enabled) {
        return;
    }
    c = &dw_cpus[cpu->cpu_index];
    if (len <= DW_RESET_LOOKUP_MAX * TARGET_PAGE_SIZE) {
        for (unsigned win = 0; win < DW_NB_WINDOWS; win++) {
            uintptr_t host = start & TARGET_PAGE_MASK;

            for (; host < start + len; host += TARGET_PAGE_SIZE) {
                dw_reset_dirty_page(cpu, win, host);
            }
        }
        return;
    }
    pages = g_array_new(false, false, sizeof(DWRwPage));
    for (unsigned win = 0; win < DW_NB_WINDOWS; win++) {
        GHashTableIter it;
        gpointer key, value;

        g_array_set_size(pages, 0);
        g_hash_table_iter_init(&it, c->writable[win]);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            if ((uintptr_t)value - start < len) {
                DWRwPage rw = {
                    .page = GPOINTER_TO_UINT(key), .host = (uintptr_t)value,
                };

                g_array_append_val(pages, rw);
            }
        }
        for (guint i = 0; i < pages->len; i++) {
            uint32_t page = g_array_index(pages, DWRwPage, i).page;
            uintptr_t host = g_array_index(pages, DWRwPage, i).host;

            if (!dw_downgrade(cpu, win, page)) {
                break;
            }
            dw_forget_rw(c, win, page);
            dw_note_ro_was_rw(c, win, page, host);
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
    dw_forget_rw(c, win, page);
    if (host_rw) {
        dw_note_rw(c, win, page, host_rw);
    }
}

/* Is window @win of @c the current one of its slot? */
static bool dw_window_current(DWCpu *c, unsigned win)
{
    return c->cur[dw_window_slot(win)] == win;
}

void dw_warn_map_count(void)
{
    static bool warned;

    if (qatomic_xchg(&warned, true)) {
        return;
    }
    fprintf(stderr, "qemu-fast: vm.max_map_count (%" PRIu64 ") leaves the "
            "direct windows too few host mappings: guest accesses go "
            "through the softmmu, slowly.  Raise it (sysctl "
            "vm.max_map_count=1048576) or run -accel tcg,fast=off\n",
            dw_read_max_map_count());
}

/*
 * The estimate reached the cap: count what the kernel really holds, at
 * most every DW_RECOUNT_NS, and rebase the estimate when it is well
 * below the cap.  True when the caller need not empty anything (rebased,
 * or another thread is counting right now).  /proc/self/maps is read
 * with open and read only: this runs in the SIGSEGV handler too.
 */
#define DW_RECOUNT_NS   (50 * SCALE_MS)

static bool dw_recount(void)
{
    static int64_t last;
    static int busy;
    int64_t now, actual;

    if (qatomic_xchg(&busy, 1)) {
        return true;
    }
    now = get_clock();
    if (now - qatomic_read(&last) < DW_RECOUNT_NS) {
        qatomic_set(&busy, 0);
        return false;
    }
    qatomic_set(&last, now);
    actual = dw_count_lines_from("/proc/self/maps");
    qatomic_set(&busy, 0);
    if (actual <= 0 || actual >= dw_acct.max_mappings / 4 * 3) {
        return false;
    }
    dw_acct_rebase(&dw_acct, actual);
    qatomic_inc(&dw_stats.recounts);
    return true;
}

bool dw_window_holds_many(CPUState *cpu, unsigned win)
{
    return dw_acct_window(&dw_acct, dw_window_index(cpu->cpu_index, win)) >=
           DW_CAP_KEEP;
}

/*
 * Keep the host mappings below vm.max_map_count: at the cap, empty this
 * vCPU's window with the most of them (only the vCPU's own thread may
 * change its windows), preferring those of address spaces not running
 * now, and the window @win about to be filled last: emptying a current
 * one refaults its working set at once.
 *
 * @win is emptied only when it holds many (dw_window_holds_many()).  The
 * cap is shared by all vCPUs, and another one (an idle one) may hold all
 * of it: emptying @win for each fill would then livelock an instruction
 * whose pages it needs together (a string move, a push of a memory
 * operand), each fill dropping the page of the one before.  Going past
 * the estimate by a few is safe: the kernel's own limit is what counts,
 * and dw_map_page() meets that by going slow.
 */
void dw_check_cap(CPUState *cpu, unsigned win)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    unsigned victim = 0;
    int64_t most = -1;
    bool victim_current = true;

    if (dw_acct_total(&dw_acct) < dw_acct.max_mappings || dw_recount()) {
        return;
    }
    for (unsigned w = 0; w < DW_NB_WINDOWS; w++) {
        int64_t n = dw_acct_window(&dw_acct,
                                   dw_window_index(cpu->cpu_index, w));
        bool current = dw_window_current(c, w);

        if (n <= 0 || w == win) {
            continue;
        }
        if ((victim_current && !current) ||
            (current == victim_current && n > most)) {
            most = n;
            victim = w;
            victim_current = current;
        }
    }
    if (most >= 0) {
        dw_empty_window(cpu, victim);
    } else if (dw_window_holds_many(cpu, win)) {
        dw_empty_window(cpu, win);
    }
}
