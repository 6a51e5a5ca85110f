/*
 * qemu-fast direct windows: tracking the guest's page tables
 *
 * A window keeps its mappings across address-space switches, so a
 * mapping must go as soon as the guest changes a table entry it was
 * derived from.  Every guest RAM page a mapping's walk read is registered
 * here with its uses (struct dw_table_use: which window range its entries
 * translate).  Stores to such a page are seen wherever they come from:
 * direct stores fault (the windows map table pages read-only), softmmu
 * stores take the notdirty path (patch 0020 keeps TLB_NOTDIRTY on the
 * windows' MMU indexes for them), and DMA reports its writes (the same
 * patch, in physmem).  A store queues the invalidation of the pages it may
 * have changed for the vCPU owning the window; the vCPU applies its queue
 * at its next TLB flush (CR3 write, INVLPG, shootdown), which is when the
 * architecture lets a stale translation go.
 *
 * This file owns the registry, the "is this RAM page a table" bitmap and
 * the queues.  It knows nothing of the paging format: the target says what
 * each use is (target/i386/tcg/system/direct-window-fill.c).
 *
 * Locking: dw_track_lock protects the registry; each vCPU's queue has its
 * own spinlock (stores come from any thread).  Window bookkeeping is only
 * changed by the owning vCPU, under its TLB lock.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bitmap.h"
#include "qemu/thread.h"
#include "qemu/rcu.h"
#include "hw/core/cpu.h"
#include "exec/ram_addr.h"
#include "exec/memory.h"
#include "hw/core/direct-window-ram.h"
#include "tcg/direct-window-internal.h"
#include "tcg/direct-window-rmap.h"

/*
 * One use of a table page by one window of one vCPU.  @stores counts the
 * stores to the page while the window was not current, since a walk last
 * went through it.
 */
typedef struct DWTableUser {
    struct dw_table_use use;
    uint32_t gen;           /* the window's generation when registered */
    uint16_t vcpu;
    uint16_t stores;
    uint8_t win;
} DWTableUser;

/*
 * Invalidations queued for a vCPU beyond this many: empty the window
 * instead (a fork or an exit rewrites whole tables).
 */
#define DW_PENDING_MAX  1024

/* Queued invalidations a new one may be merged into, newest first. */
#define DW_PENDING_MERGE 8

static QemuMutex dw_track_lock;
/* RAM page (ram_addr_t) -> GArray of DWTableUser; under dw_track_lock */
static GHashTable *dw_tables;
/* A bit per RAM page: registered as a table; read without the lock */
static unsigned long *dw_tracked;
static uint64_t dw_tracked_pages;

void dw_track_init(void)
{
    qemu_mutex_init(&dw_track_lock);
    dw_tables = g_hash_table_new_full(NULL, NULL, NULL,
                                      (GDestroyNotify)g_array_unref);
}

/* Size the bitmap to the RAM the machine has; called once it exists. */
void dw_track_ram_ready(void)
{
    dw_tracked_pages = DIV_ROUND_UP(dw_ram_end(), TARGET_PAGE_SIZE);
    dw_tracked = bitmap_new(dw_tracked_pages);
}

bool dw_ram_tracked(uint64_t ram_addr)
{
    uint64_t page = ram_addr >> TARGET_PAGE_BITS;

    return dw_tracked && page < dw_tracked_pages &&
           test_bit(page, dw_tracked);
}

bool dw_tlb_store_tracked(int mmu_idx, uint64_t ram_addr)
{
    return dw_enabled && dw_mmu_idx_to_slot(mmu_idx) >= 0 &&
           dw_ram_tracked(ram_addr);
}

uint16_t dw_window_idxmap(void)
{
    uint16_t map = 0;

    for (unsigned s = 0; s < DW_NB_SLOTS; s++) {
        map |= 1 << dw_slot_to_mmu_idx(s);
    }
    return map;
}

static bool dw_table_use_equal(const struct dw_table_use *a,
                               const struct dw_table_use *b)
{
    return a->off == b->off && a->n_entries == b->n_entries &&
           a->entry_shift == b->entry_shift &&
           a->span_shift == b->span_shift && a->vbase == b->vbase;
}

/* Is @u's window still the one it was registered for? */
static bool dw_user_live(const DWTableUser *u)
{
    return u->vcpu < dw_n_cpus &&
           qatomic_read(&dw_cpus[u->vcpu].gen[u->win]) == u->gen;
}

/*
 * Is @u an upper-level use by a window that serves no address space (an
 * orphan, dw_orphan_window)?  Nothing the orphan keeps depends on it: a
 * root that adopts the window tracks its own upper tables before it
 * compares their entries (dw_adopt).  Such a use would keep a freed page
 * directory tracked once it holds ordinary data.  An orphan's leaf uses
 * stay: the pages it keeps came through those tables.
 */
static bool dw_user_orphaned(const DWTableUser *u)
{
    return u->use.span_shift > TARGET_PAGE_BITS &&
           qatomic_read(&dw_cpus[u->vcpu].root[u->win]) == DW_ROOT_NONE;
}

/*
 * Merge [first, first + n) into a queued invalidation of the same window
 * that it overlaps or touches (stores to consecutive PTEs), if one of
 * the newest is.
 */
static bool dw_queue_merge(GArray *q, unsigned win, uint32_t gen,
                           uint32_t first, uint32_t n, uint64_t table)
{
    for (guint k = 0; k < MIN(q->len, DW_PENDING_MERGE); k++) {
        DWInval *inv = &g_array_index(q, DWInval, q->len - 1 - k);
        uint64_t end = (uint64_t)first + n;
        uint64_t inv_end = (uint64_t)inv->first + inv->n;

        if (inv->win == win && inv->gen == gen && inv->table == table &&
            !inv->flooded && first <= inv_end &&
            end >= inv->first) {
            inv->first = MIN(first, inv->first);
            inv->n = MAX(end, inv_end) - inv->first;
            return true;
        }
    }
    return false;
}

/*
 * Queue pages [first, first + n) of window @win (generation @gen), for
 * a store to the upper-level table at RAM page @table, or (DW_NO_TABLE)
 * another reason.
 */
static void dw_queue(DWCpu *c, unsigned win, uint32_t gen, uint32_t first,
                     uint32_t n, uint64_t table, bool flooded)
{
    qemu_spin_lock(&c->pending_lock);
    if (!flooded && dw_queue_merge(c->pending, win, gen, first, n, table)) {
        /* merged */
    } else if (c->pending->len >= DW_PENDING_MAX) {
        c->pending_all[win] = true;
    } else {
        DWInval inv = {
            .win = win, .gen = gen, .first = first, .n = n, .table = table,
            .flooded = flooded,
        };

        g_array_append_val(c->pending, inv);
    }
    qatomic_set(&c->pending_any, true);
    qemu_spin_unlock(&c->pending_lock);
}

/*
 * Does window @win of the vCPU running this thread map nothing in
 * [first, first + n)?  Then a store to the entries translating that
 * range changed nothing it holds (a PTE going from not present to
 * present, the common case of a page fault) and needs no invalidation.
 * Only the vCPU's own thread may ask: nobody else maps into its windows.
 */
static bool dw_own_range_unmapped(unsigned vcpu, unsigned win,
                                  uint32_t first, uint32_t n)
{
    DWCpu *c;

    if (!current_cpu || current_cpu->cpu_index != vcpu) {
        return false;
    }
    c = &dw_cpus[vcpu];
    return dw_next_mapped(c, win, first, first + n) >=
           (uint64_t)first + n;
}

void dw_queue_invalidation(CPUState *cpu, unsigned win, uint32_t first,
                           uint32_t n)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];

    dw_queue(c, win, c->gen[win], first, n, DW_NO_TABLE, false);
}

/*
 * Table page @page has no use left (@users is its list): nothing derived
 * from it any more, so stores to it go fast again.  dw_track_lock held.
 */
static void dw_table_forget_if_unused(uint64_t page, GArray *users)
{
    if (users->len == 0) {
        clear_bit(page >> TARGET_PAGE_BITS, dw_tracked);
        g_hash_table_remove(dw_tables, GSIZE_TO_POINTER(page));
    }
}

/*
 * Does a store to the upper-level table at RAM page @table (DW_NO_TABLE:
 * none) end the address space of window @win?  Only one to a window that
 * is not current, when the window's root no longer reaches that table
 * (or is it): the process it served has most likely exited, and its page
 * directory goes back to the free list.  A kernel window is orphaned
 * (dw_orphan_window): the kernel half it holds is what the next new
 * address space adopts (dw_adopt compares every region's recorded entry
 * with the adopter's).  A user window is emptied: keeping it would keep
 * that page tracked (nothing is left mapped to queue a drop for) once it
 * holds data.  The drain applies this; a store by the window's own vCPU
 * applies it at once (dw_ram_written).
 */
static bool dw_inval_ends_window(CPUState *cpu, unsigned win,
                                 uint64_t table, bool flooded)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];

    return table != DW_NO_TABLE && c->cur[dw_window_slot(win)] != win &&
           c->root[win] != DW_ROOT_NONE && c->root[win] != DW_ROOT_FLAT &&
           (flooded || !dw_root_holds_table(cpu, c->root[win], table));
}

/* Is the window of use @u switched out on its vCPU? */
static bool dw_user_switched_out(const DWTableUser *u)
{
    return dw_cpus[u->vcpu].cur[dw_window_slot(u->win)] != u->win;
}

/*
 * A store to @page while @u's window is switched out: past DW_TABLE_FLOOD
 * of them, queue the end of the use (the whole window's address space
 * for an upper-level table, the range it translates for a leaf one).
 * True if it did; the caller removes @u.
 */
static bool dw_table_flooded(uint64_t page, DWTableUser *u)
{
    bool upper = u->use.span_shift > TARGET_PAGE_BITS;
    uint32_t first, n;

    if (!dw_table_store_floods(&u->stores, dw_user_switched_out(u),
                               DW_TABLE_FLOOD) ||
        !dw_table_write_pages(&u->use, 0, TARGET_PAGE_SIZE, &first, &n)) {
        return false;
    }
    dw_queue(&dw_cpus[u->vcpu], u->win, u->gen, first, n,
             upper ? page : DW_NO_TABLE, upper);
    qatomic_inc(&dw_stats.table_floods);
    return true;
}

/*
 * The store [off, off + len) to table @page: queue what it changes.
 * True when it queued a store to an upper-level table of a window of
 * the vCPU running this thread that is not its current one, which may
 * end that window's address space (dw_inval_ends_window).
 */
static bool dw_table_written(uint64_t page, GArray *users, unsigned off,
                             unsigned len, const uint8_t *before)
{
    bool ends_own = false;

    for (guint i = 0; i < users->len; ) {
        DWTableUser *u = &g_array_index(users, DWTableUser, i);
        bool upper = u->use.span_shift > TARGET_PAGE_BITS;
        uint32_t first, n;

        if (!dw_user_live(u) || dw_user_orphaned(u)) {
            g_array_remove_index_fast(users, i);
            continue;
        }
        if (dw_table_flooded(page, u)) {
            ends_own |= upper && current_cpu &&
                        current_cpu->cpu_index == u->vcpu;
            g_array_remove_index_fast(users, i);
            continue;
        }
        /*
         * A directory entry filled in where there was none (a process
         * growing into a new 4 MiB) derived nothing and frees no table:
         * queued, it would drop at the next flush everything mapped
         * through it since, which a process that flushes rarely (one
         * that only computes) had just filled.  Only for a window
         * current on its vCPU: a store to another window's directory may
         * be its reuse as data (dw_inval_ends_window).
         */
        if (upper && before &&
            !dw_user_switched_out(u) &&
            dw_table_write_was_absent(&u->use, before, off, len)) {
            i++;
            continue;
        }
        /*
         * A store to an upper-level table is queued even where nothing is
         * mapped: the leaf tables below it (or, for a window not current,
         * the table itself) may be on their way to the free list, and
         * must stop being tracked before the page is reused as data, or
         * every store to it would fault for good.
         */
        if (dw_table_write_pages(&u->use, off, len, &first, &n) &&
            (upper || !dw_own_range_unmapped(u->vcpu, u->win, first, n))) {
            dw_queue(&dw_cpus[u->vcpu], u->win, u->gen, first, n,
                     upper ? page : DW_NO_TABLE, false);
            qatomic_inc(&dw_stats.table_invals);
            ends_own |= upper && current_cpu &&
                        current_cpu->cpu_index == u->vcpu &&
                        dw_inval_ends_window(current_cpu, u->win, page,
                                             false);
        }
        i++;
    }
    dw_table_forget_if_unused(page, users);
    return ends_own;
}

/*
 * Stores to [@ram_addr, @ram_addr + @len); @before_store when the RAM
 * still holds what they overwrite.
 */
static bool dw_ram_store(uint64_t ram_addr, uint64_t len, bool before_store)
{
    uint64_t page = ram_addr & TARGET_PAGE_MASK;
    uint64_t end = ram_addr + len;
    bool any = false, ends_own = false;

    if (!dw_tracked || len == 0) {
        return false;
    }
    for (; page < end; page += TARGET_PAGE_SIZE) {
        uint64_t lo = MAX(ram_addr, page);
        uint64_t hi = MIN(end, page + TARGET_PAGE_SIZE);
        GArray *users;

        if (!dw_ram_tracked(page)) {
            continue;
        }
        any = true;
        qatomic_inc(&dw_stats.table_writes);
        qemu_mutex_lock(&dw_track_lock);
        users = g_hash_table_lookup(dw_tables, GSIZE_TO_POINTER(page));
        if (users) {
            WITH_RCU_READ_LOCK_GUARD() {
                const uint8_t *before = before_store ?
                                        qemu_map_ram_ptr(NULL, page) : NULL;

                ends_own |= dw_table_written(page, users, lo - page,
                                             hi - lo, before);
            }
        }
        qemu_mutex_unlock(&dw_track_lock);
    }
    /*
     * A page directory of an exited process being reused: end its
     * windows now rather than at the next flush, which untracks the page
     * (dw_orphan_window): clearing or filling it is a thousand stores,
     * each of which would take this path until then.  Applying a queued
     * invalidation early is always allowed.
     */
    if (ends_own) {
        dw_drain_invalidations(current_cpu);
    }
    return any;
}

bool dw_ram_written(uint64_t ram_addr, uint64_t len)
{
    return dw_ram_store(ram_addr, len, false);
}

bool dw_ram_will_write(uint64_t ram_addr, uint64_t len)
{
    return dw_ram_store(ram_addr, len, true);
}

bool dw_track_table(CPUState *cpu, unsigned win, uint64_t ram_page,
                    const struct dw_table_use *use)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    DWTableUser nu = {
        .use = *use, .gen = c->gen[win], .vcpu = cpu->cpu_index, .win = win,
    };
    uint64_t page = ram_page >> TARGET_PAGE_BITS;
    bool fresh = false;
    GArray *users;

    if (!dw_tracked || page >= dw_tracked_pages ||
        !dw_table_use_valid(use)) {
        return false;
    }
    qemu_mutex_lock(&dw_track_lock);
    users = g_hash_table_lookup(dw_tables, GSIZE_TO_POINTER(ram_page));
    if (!users) {
        users = g_array_new(false, false, sizeof(DWTableUser));
        g_hash_table_insert(dw_tables, GSIZE_TO_POINTER(ram_page), users);
        fresh = true;
    }
    for (guint i = 0; i < users->len; ) {
        DWTableUser *u = &g_array_index(users, DWTableUser, i);

        if (u->vcpu == nu.vcpu && u->win == win && u->gen == nu.gen &&
            dw_table_use_equal(&u->use, use)) {
            /* a walk went through it: it is a table of the window's */
            u->stores = 0;
            qemu_mutex_unlock(&dw_track_lock);
            return true;
        }
        /* Drop uses of emptied windows, or a shared table's list grows. */
        if (!dw_user_live(u)) {
            g_array_remove_index_fast(users, i);
        } else {
            i++;
        }
    }
    g_array_append_val(users, nu);
    if (fresh) {
        set_bit(page, dw_tracked);
        qatomic_inc(&dw_stats.tables);
    }
    qemu_mutex_unlock(&dw_track_lock);
    if (fresh) {
        /*
         * From now on stores to the page must be seen: writable window
         * mappings of it go read-only and softmmu TLB entries get
         * TLB_NOTDIRTY, in every vCPU.
         */
        tlb_reset_dirty_range_all(ram_page, TARGET_PAGE_SIZE);
    }
    return true;
}

/*
 * Remove the uses of @ram_page by window @win of @cpu: the leaf ones
 * (4 KiB entries) whose whole range lies in guest pages [first, first +
 * n), or (!@leaf) the upper ones.  True when one was removed.
 */
static bool dw_untrack_matching(CPUState *cpu, unsigned win,
                                uint64_t ram_page, bool leaf, uint32_t first,
                                uint32_t n)
{
    bool removed = false;
    GArray *users;

    qemu_mutex_lock(&dw_track_lock);
    users = g_hash_table_lookup(dw_tables, GSIZE_TO_POINTER(ram_page));
    if (users) {
        for (guint i = 0; i < users->len; ) {
            DWTableUser *u = &g_array_index(users, DWTableUser, i);
            uint64_t lo = u->use.vbase >> TARGET_PAGE_BITS;
            uint64_t hi = lo + u->use.n_entries;
            bool is_leaf = u->use.span_shift == TARGET_PAGE_BITS;

            if (u->vcpu == cpu->cpu_index && u->win == win &&
                is_leaf == leaf &&
                (!leaf || (first <= lo && hi <= (uint64_t)first + n))) {
                g_array_remove_index_fast(users, i);
                removed = true;
            } else {
                i++;
            }
        }
        dw_table_forget_if_unused(ram_page, users);
    }
    qemu_mutex_unlock(&dw_track_lock);
    return removed;
}

void dw_untrack_upper(CPUState *cpu, unsigned win, uint64_t ram_page)
{
    dw_untrack_matching(cpu, win, ram_page, false, 0, 0);
}

bool dw_untrack_leaf(CPUState *cpu, unsigned win, uint64_t ram_page,
                     uint32_t first, uint32_t n)
{
    return dw_untrack_matching(cpu, win, ram_page, true, first, n);
}

/*
 * Nothing of window @win is mapped in [first, first + n) any more: the
 * leaf tables of the 2 MiB regions wholly inside it, if their whole
 * range is in it too, no longer translate anything of the window and
 * need not be tracked for it.
 */
void dw_untrack_regions(CPUState *cpu, unsigned win, uint32_t first,
                        uint32_t n)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    uint64_t r = DIV_ROUND_UP(first, 1u << DW_REGION_BITS);
    uint64_t end = ((uint64_t)first + n) >> DW_REGION_BITS;

    for (; r < end; r++) {
        /*
         * Only a table whose whole range was dropped: a 2-level table
         * also translates the neighbouring region, which may still be
         * mapped from it.
         */
        if (c->region_pt[win][r] &&
            dw_untrack_leaf(cpu, win, c->region_pt[win][r], first, n)) {
            c->region_pt[win][r] = 0;
            c->region_upper[win][r] = 0;
        }
    }
}

/* Unmap pages [first, first + n) of window @win and what tracks them. */
static void dw_drop_range(CPUState *cpu, unsigned win, uint32_t first,
                          uint32_t n)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];

    if (c->n_mapped[win]) {
        dw_churn_note_drop(cpu, win, first, n);
        dw_unmap_pages(cpu, win, first, n);
        qatomic_add(&dw_stats.table_pages_dropped, n);
    }
    dw_untrack_regions(cpu, win, first, n);
}

/*
 * Window @win no longer serves an address space: no root, its upper
 * tables no longer tracked.  Each region whose upper-level entry was
 * recorded stays, with its leaf table still tracked: that entry and that
 * table are all its pages depend on, so they are right for any root
 * whose entry is the same (dw_adopt compares), and a store to the table
 * still drops what it changes.  Every process's kernel half is such
 * regions, mostly through the kernel's own leaf tables.  A dead process's
 * user regions are mostly gone already: its exit cleared their entries
 * while its window was current.
 */
static void dw_orphan_window(CPUState *cpu, unsigned win)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    /* pages one 2-level leaf table translates: two regions */
    const uint32_t table_span = 2u << DW_REGION_BITS;
    uint64_t page = 0;

    while ((page = dw_next_mapped(c, win, page, DW_GUEST_PAGES)) <
           DW_GUEST_PAGES) {
        uint32_t reg = page >> DW_REGION_BITS;
        uint32_t first = reg << DW_REGION_BITS;

        if (!c->region_upper[win][reg]) {
            dw_drop_range(cpu, win, first, 1u << DW_REGION_BITS);
        }
        page = first + (1u << DW_REGION_BITS);
    }
    /* A leaf table spanning two dropped regions: untrack it whole. */
    for (uint32_t first = 0; first < DW_GUEST_PAGES; first += table_span) {
        if (dw_next_mapped(c, win, first, first + table_span) >=
            first + table_span) {
            dw_untrack_regions(cpu, win, first, table_span);
        }
    }

    for (unsigned i = 0; i < ARRAY_SIZE(c->upper_table[win]); i++) {
        if (c->upper_table[win][i]) {
            dw_untrack_upper(cpu, win, c->upper_table[win][i]);
            c->upper_table[win][i] = 0;
        }
    }
    c->root[win] = DW_ROOT_NONE;
    qatomic_inc(&dw_stats.windows_orphaned);
}

void dw_drain_invalidations_locked(CPUState *cpu)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    g_autoptr(GArray) todo = NULL;
    bool all[DW_NB_WINDOWS];

    if (!qatomic_read(&c->pending_any)) {
        return;
    }
    qemu_spin_lock(&c->pending_lock);
    todo = c->pending;
    c->pending = g_array_new(false, false, sizeof(DWInval));
    memcpy(all, c->pending_all, sizeof(all));
    memset(c->pending_all, 0, sizeof(c->pending_all));
    qatomic_set(&c->pending_any, false);
    qemu_spin_unlock(&c->pending_lock);

    for (unsigned win = 0; win < DW_NB_WINDOWS; win++) {
        if (all[win]) {
            dw_empty_window(cpu, win);
        }
    }
    for (guint i = 0; i < todo->len; i++) {
        DWInval *inv = &g_array_index(todo, DWInval, i);

        /* A window emptied since the store has nothing of it left. */
        if (inv->gen != c->gen[inv->win]) {
            continue;
        }
        if (dw_inval_ends_window(cpu, inv->win, inv->table, inv->flooded)) {
            if (dw_window_slot(inv->win) == DW_USER_SLOT) {
                dw_empty_window(cpu, inv->win);
            } else {
                dw_orphan_window(cpu, inv->win);
            }
            continue;
        }
        if (c->root[inv->win] == DW_ROOT_NONE &&
            inv->table != DW_NO_TABLE) {
            /* an orphan's regions do not depend on that table any more */
            continue;
        }
        /* a leaf store drops what an orphan kept through that table */
        dw_drop_range(cpu, inv->win, inv->first, inv->n);
    }
    /*
     * A window of another address space that lost its last page (the
     * process exited) is forgotten, so that the tables it tracked stop
     * being tracked once next written.
     */
    for (unsigned win = 0; win < DW_NB_WINDOWS; win++) {
        if (c->n_mapped[win] == 0 && c->root[win] != DW_ROOT_NONE &&
            c->cur[dw_window_slot(win)] != win) {
            dw_forget_all(c, win);
        }
    }
}

void dw_drain_invalidations(CPUState *cpu)
{
    qemu_spin_lock(&cpu->neg.tlb.c.lock);
    dw_drain_invalidations_locked(cpu);
    qemu_spin_unlock(&cpu->neg.tlb.c.lock);
}
