/*
 * qemu-fast direct windows: the SIGSEGV path
 *
 * A direct access that misses its window is a SIGSEGV.  This file owns
 * telling the guest's faults from the emulator's own (which go to the
 * handler installed before ours), the softmmu fill that resolves the
 * access (or raises the guest's page fault), handing the resolved page to
 * the target to map (dw_map_page), and re-executing on the softmmu path
 * what cannot be direct, with the TBs that keep doing so made again
 * without direct accesses ("sticky slow TBs").
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "hw/core/cpu.h"
#include "exec/cpu-common.h"
#include "tcg/tcg.h"
#include "accel/tcg/internal-common.h"
#include "accel/tcg/tb-internal.h"
#include "tcg/direct-window-internal.h"

#if DW_HOST_SUPPORTED
#include <ucontext.h>
#endif

static struct sigaction dw_prev_segv;

/* Guest-physical TB start -> slow exits, and the TBs made non-direct. */
static QemuMutex dw_sticky_lock;
static GHashTable *dw_slow_count;
static GHashTable *dw_sticky;

/*
 * Guest-physical starts of kernel code that reached a young address
 * space's user pages: their TBs leave for non-direct twins while the
 * current space is young (dw_tb_young_guard); under dw_sticky_lock.
 */
static GHashTable *dw_young_slow;

/*
 * Which code fills pages that die young (direct-window-churn.h), by
 * guest-physical TB start, and since when; under dw_sticky_lock.
 */
static struct dw_churn_scores dw_churn;
static int64_t dw_churn_since;

/* Scores are forgotten this often, so that code comes back direct. */
#define DW_CHURN_EPOCH_NS   (10 * NANOSECONDS_PER_SECOND)

/* No TB: a fill that no code key can be charged for. */
#define DW_NO_KEY           UINT64_MAX

bool dw_is_sticky(uint64_t phys_pc)
{
    bool sticky;

    qemu_mutex_lock(&dw_sticky_lock);
    sticky = g_hash_table_contains(dw_sticky, GSIZE_TO_POINTER(phys_pc)) ||
             dw_churn_churns(&dw_churn, phys_pc);
    qemu_mutex_unlock(&dw_sticky_lock);
    return sticky;
}

bool dw_is_young_slow(uint64_t phys_pc)
{
    bool slow;

    qemu_mutex_lock(&dw_sticky_lock);
    slow = g_hash_table_contains(dw_young_slow, GSIZE_TO_POINTER(phys_pc));
    qemu_mutex_unlock(&dw_sticky_lock);
    return slow;
}

void dw_churn_note_fill(CPUState *cpu, unsigned win, uint32_t page,
                        uint64_t key)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];

    if (key == DW_NO_KEY) {
        return;
    }
    dw_churn_ring_note(c->churn, win, c->gen[win], page, key);
    qemu_mutex_lock(&dw_sticky_lock);
    dw_churn_count_fill(&dw_churn, key, dw_churn_space(win, c->gen[win]),
                        MAX(c->fill_pages, 1));
    qemu_mutex_unlock(&dw_sticky_lock);
}

/*
 * The counters translated code adds to are in the CPU state (patch
 * 0028).  This file is built with every prefix of the series: before
 * that patch no TB counts, so no code is judged and none churns.
 */
#ifdef CPU_DW_EXEC_COUNTERS
QEMU_BUILD_BUG_ON(CPU_DW_EXEC_COUNTERS != DW_CHURN_COUNTERS);
#define DW_EXEC_COUNTERS_IN_CPU 1

static uint32_t *dw_exec_counter(CPUState *cpu, unsigned counter)
{
    return &cpu->neg.dw_exec_count[counter];
}
#else
#define DW_EXEC_COUNTERS_IN_CPU 0

static uint32_t *dw_exec_counter(CPUState *cpu, unsigned counter)
{
    g_assert_not_reached();
    return NULL;
}
#endif

/* Executions counted in @counter by every vCPU's TBs. */
static uint64_t dw_churn_execs(unsigned counter, void *opaque)
{
    uint64_t sum = 0;

    for (unsigned i = 0; i < dw_n_cpus; i++) {
        CPUState *cpu = qemu_get_cpu(i);

        if (cpu) {
            sum += qatomic_read(dw_exec_counter(cpu, counter));
        }
    }
    return sum;
}

void dw_churn_note_drop(CPUState *cpu, unsigned win, uint32_t first,
                        uint32_t n)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];
    uint64_t keys[DW_CHURN_RING];
    unsigned found;
    uint64_t space;
    int64_t now;

    /* Only user windows' fills are in the ring (dw_fault scores no other). */
    if (dw_window_slot(win) != DW_USER_SLOT) {
        return;
    }
    found = dw_churn_ring_drop(c->churn, win, c->gen[win], first, n, keys,
                               ARRAY_SIZE(keys));
    if (!found) {
        return;
    }
    now = get_clock();
    space = dw_churn_space(win, c->gen[win]);
    qemu_mutex_lock(&dw_sticky_lock);
    for (unsigned i = 0; i < found; i++) {
        switch (dw_churn_count_young(&dw_churn, keys[i], space, now,
                                     dw_churn_execs, NULL)) {
        case DW_CHURN_SUSPECT:
            qatomic_inc(&dw_stats.churn_suspects);
            break;
        case DW_CHURN_CHURNS:
            qatomic_inc(&dw_stats.churn_keys);
            break;
        case DW_CHURN_HOT:
            qatomic_inc(&dw_stats.churn_hot);
            break;
        default:
            break;
        }
    }
    qemu_mutex_unlock(&dw_sticky_lock);
}

/*
 * Past an epoch, forget the scores and translate again the code that
 * churned, now with direct accesses: it may have moved on to pages that
 * live.  Code that still churns is found again after 2 * DW_CHURN_MIN
 * young deaths, a few fills' worth of time.  Counting TBs (suspect or
 * hot code) are made again too, so that no TB adds to an entry the
 * reset gives to other code.
 */
static void dw_churn_new_epoch(int64_t now)
{
    uint64_t keys[DW_CHURN_KEYS];
    unsigned n = 0;

    qemu_mutex_lock(&dw_sticky_lock);
    if (now - dw_churn_since < DW_CHURN_EPOCH_NS) {
        qemu_mutex_unlock(&dw_sticky_lock);
        return;
    }
    for (unsigned i = 0; i < DW_CHURN_KEYS; i++) {
        if (dw_churn.s[i].used && dw_churn.s[i].state != DW_CHURN_NONE) {
            keys[n++] = dw_churn.s[i].key;
        }
    }
    dw_churn_scores_reset(&dw_churn);
    dw_churn_since = now;
    qemu_mutex_unlock(&dw_sticky_lock);

    for (unsigned i = 0; i < n; i++) {
        tb_invalidate_phys_range(keys[i], keys[i]);
    }
    if (n) {
        qatomic_inc(&dw_stats.churn_epochs);
    }
}

/*
 * The guest-physical start of @tb, the key its fills are scored by; and
 * whether that code churns.  A TB made before it did is invalidated, so
 * that it is made again without direct accesses.
 */
static uint64_t dw_churn_check(TranslationBlock *tb, int64_t now,
                               bool *churns)
{
    uint64_t key;
    bool again;

    *churns = false;
    if (!tb || tb_page_addr0(tb) == -1) {
        return DW_NO_KEY;
    }
    if (now - qatomic_read(&dw_churn_since) >= DW_CHURN_EPOCH_NS) {
        dw_churn_new_epoch(now);
    }
    key = tb_page_addr0(tb);
    qemu_mutex_lock(&dw_sticky_lock);
    *churns = dw_churn_churns(&dw_churn, key);
    /* suspect code: made again to count its executions */
    again = *churns || (DW_EXEC_COUNTERS_IN_CPU &&
                        dw_churn_wants_count(&dw_churn, key));
    qemu_mutex_unlock(&dw_sticky_lock);
    if (again && !(tb_cflags(tb) & CF_INVALID)) {
        tb_phys_invalidate(tb, -1);
    }
    return key;
}

int dw_tb_exec_counter(uint64_t phys_pc, int direct_mmu_idx)
{
    bool fresh;
    int counter;

    /* Only user code is scored (dw_fault), and only direct TBs count. */
    if (direct_mmu_idx < 0 ||
        dw_mmu_idx_to_slot(direct_mmu_idx) != DW_USER_SLOT ||
        !qatomic_read(&dw_churn.used)) {
        return -1;
    }
    qemu_mutex_lock(&dw_sticky_lock);
    counter = dw_churn_exec_counter(&dw_churn, phys_pc, get_clock(), &fresh);
    if (fresh) {
        for (unsigned i = 0; i < dw_n_cpus; i++) {
            CPUState *cpu = qemu_get_cpu(i);

            if (cpu) {
                qatomic_set(dw_exec_counter(cpu, counter), 0);
            }
        }
    }
    qemu_mutex_unlock(&dw_sticky_lock);
    return counter;
}

#if DW_HOST_SUPPORTED

/* The TB holding @ra, keyed (@key) by its guest-physical start, or NULL. */
static TranslationBlock *dw_keyed_tb(uintptr_t ra, gpointer *key)
{
    TranslationBlock *tb = tcg_tb_lookup(ra);

    if (!tb || tb_page_addr0(tb) == -1) {
        return NULL;
    }
    *key = GSIZE_TO_POINTER(tb_page_addr0(tb));
    return tb;
}

/*
 * Add @key to @set, emptying it first when it is full (counted in
 * @resets if not NULL); true if @key was not in it.  dw_sticky_lock held.
 */
static bool dw_key_set_add(GHashTable *set, gpointer key, uint64_t *resets)
{
    if (g_hash_table_size(set) >= DW_STICKY_MAX) {
        g_hash_table_remove_all(set);
        if (resets) {
            qatomic_inc(resets);
        }
    }
    return g_hash_table_add(set, key);
}

/*
 * Count a slow exit of the TB holding @ra; past DW_STICKY_AFTER, remember
 * its start and invalidate it, so that it is made again non-direct.
 */
static void dw_note_slow_tb(uintptr_t ra)
{
    gpointer key;
    TranslationBlock *tb = dw_keyed_tb(ra, &key);
    unsigned n;

    if (!tb) {
        return;
    }
    qemu_mutex_lock(&dw_sticky_lock);
    n = GPOINTER_TO_UINT(g_hash_table_lookup(dw_slow_count, key)) + 1;
    if (n < DW_STICKY_AFTER) {
        /* TBs that exited a few times long ago: let them start again */
        if (g_hash_table_size(dw_slow_count) >= DW_STICKY_MAX) {
            g_hash_table_remove_all(dw_slow_count);
        }
        g_hash_table_insert(dw_slow_count, key, GUINT_TO_POINTER(n));
        tb = NULL;
    } else {
        /*
         * Full: start again rather than stop.  Refusing left every later
         * slow exit a signal and a one-instruction TB forever (a kernel
         * that keeps zeroing freed page tables took 20 us per page); the
         * TBs made non-direct stay so until they are translated again,
         * and those that keep exiting come back after DW_STICKY_AFTER.
         */
        g_hash_table_remove(dw_slow_count, key);
        dw_key_set_add(dw_sticky, key, &dw_stats.sticky_resets);
        qatomic_inc(&dw_stats.sticky_tbs);
    }
    qemu_mutex_unlock(&dw_sticky_lock);
    if (tb) {
        tb_phys_invalidate(tb, -1);
    }
}

/*
 * The direct kernel TB holding @ra reached a young space's user page:
 * made again, it checks on entry whether the current space is young and
 * if so leaves for a non-direct twin, so that the next young spaces take
 * no signal there (a loop over a user string took one per iteration).
 * The direct code stays for grown-up spaces: it serves every system call
 * of long-lived processes, and the check costs them a load and a branch.
 */
static void dw_note_young_tb(uintptr_t ra)
{
    gpointer key;
    TranslationBlock *tb = dw_keyed_tb(ra, &key);
    bool added;

    if (!tb) {
        return;
    }
    qemu_mutex_lock(&dw_sticky_lock);
    added = dw_key_set_add(dw_young_slow, key, NULL);
    qemu_mutex_unlock(&dw_sticky_lock);
    if (added) {
        qatomic_inc(&dw_stats.young_kernel_tbs);
    }
    /*
     * Invalidate it even when its start was known: other TBs may start
     * there (other flags, made before the start was added), and only
     * the one that exited was invalidated then.  Without this check one
     * of them took a signal per iteration in every new process.
     */
    if (!tb->direct_young_guard) {
        tb_phys_invalidate(tb, -1);
    }
}

/*
 * Re-execute the faulting guest instruction alone on the softmmu path,
 * the way cpu_io_recompile does for I/O.
 */
static G_NORETURN void dw_slow(CPUState *cpu, uintptr_t ra, int cause)
{
    qatomic_inc(&dw_stats.slow[cause]);
    if (cause == DW_SLOW_MMIO || cause == DW_SLOW_NOTDIRTY ||
        cause == DW_SLOW_NOFD) {
        dw_note_slow_tb(ra);
    } else if (cause == DW_SLOW_YOUNG) {
        dw_note_young_tb(ra);
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

static void dw_fault(CPUState *cpu, unsigned win, uint32_t vaddr,
                     bool in_guard, bool is_write, uintptr_t ra)
{
    int mmu_idx = dw_slot_to_mmu_idx(dw_window_slot(win));
    MMUAccessType type = is_write ? MMU_DATA_STORE : MMU_DATA_LOAD;
    CPUArchState *env = cpu_env(cpu);
    CPUTLBEntryFull *full;
    void *host;
    int flags, cause;
    int64_t start = get_clock();
    uint64_t key;
    bool churns;

    qatomic_inc(&dw_stats.faults);
    if (in_guard) {
        dw_slow(cpu, ra, DW_SLOW_WRAP);
    }
    if (vaddr < dw_classic_min) {
        dw_slow(cpu, ra, DW_SLOW_LOW);
    }
    if (!QTAILQ_EMPTY(&cpu->watchpoints)) {
        dw_slow(cpu, ra, DW_SLOW_WATCH);
    }
    /*
     * A store to a page that went read-only while its RAM was a page
     * table (an exited process's, reused as data): no walk needed.
     */
    if (is_write && dw_upgrade(cpu, win, vaddr >> TARGET_PAGE_BITS)) {
        return;
    }
    /*
     * Only user code is scored.  The kernel's serves every process: a
     * system-call path that reads the caller's stack fills that page once
     * per process, which dies young when processes are short-lived, but
     * serves every call of a long-lived one; made non-direct, it would
     * take a softmmu TLB miss after every flush (with page-table
     * isolation, every call).
     */
    key = DW_NO_KEY;
    churns = false;
    if (dw_window_slot(win) == DW_USER_SLOT) {
        key = dw_churn_check(tcg_tb_lookup(ra), start, &churns);
    }

    /*
     * The softmmu fill.  For a store it also marks a clean page dirty,
     * invalidating the TBs on it exactly as a softmmu store would.
     */
    flags = probe_access_full(env, vaddr, 1, type, mmu_idx, true,
                              &host, &full, ra);
    if (flags & TLB_INVALID_MASK) {
        DWCpu *c = &dw_cpus[cpu->cpu_index];

        /* Not accessible: fill again, raising the guest's page fault. */
        qatomic_inc(&dw_stats.guest_faults);
        /* Code that churns retries without direct accesses: no prefill. */
        if (!churns) {
            c->prefill_slot1 = dw_window_slot(win) + 1;
            dw_gs_forget();
            c->prefill_win = win;
            c->prefill_vaddr = vaddr;
            c->prefill_key = key;
        }
        probe_access_full(env, vaddr, 1, type, mmu_idx, false,
                          &host, &full, ra);
        return;
    }
    if (flags || !host) {
        dw_slow(cpu, ra, dw_slow_cause(flags));
    }
    if (churns) {
        dw_slow(cpu, ra, DW_SLOW_CHURN);
    }
    cause = dw_map_page(cpu, win, vaddr, host, full, is_write);
    if (cause == DW_SLOW_NOFD) {
        /* RAM added after start-up that the check there did not see. */
        warn_report_once("fast mode: guest RAM at 0x%" HWADDR_PRIx
                         " cannot be mapped into the windows; its "
                         "accesses take the softmmu path", full->phys_addr);
    }
    if (cause >= 0) {
        dw_slow(cpu, ra, cause);
    }
    dw_churn_note_fill(cpu, win, vaddr >> TARGET_PAGE_BITS, key);
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
        dw_fault(cpu, win, vaddr, in_guard, is_write, pc + GETPC_ADJ);
        return;
    }
    dw_chain_segv(sig, info, puc);
}

#endif

/* The sticky-TB tables and the SIGSEGV handler. */
bool dw_fault_init(Error **errp)
{
    qemu_mutex_init(&dw_sticky_lock);
    dw_slow_count = g_hash_table_new(NULL, NULL);
    dw_sticky = g_hash_table_new(NULL, NULL);
    dw_young_slow = g_hash_table_new(NULL, NULL);
    dw_churn_since = get_clock();
#if DW_HOST_SUPPORTED
    struct sigaction sa = { 0 };

    sa.sa_sigaction = dw_segv_handler;
    /*
     * SA_NODEFER: the handler may longjmp out (a guest fault, a slow
     * re-execution, a store that invalidates the running TB) without
     * restoring the signal mask, which a blocked SIGSEGV would need: a
     * system call on every fault.
     */
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &dw_prev_segv) < 0) {
        error_setg_errno(errp, errno, "cannot install the SIGSEGV handler");
        return false;
    }
#endif
    return true;
}
