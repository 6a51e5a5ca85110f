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

bool dw_is_sticky(uint64_t phys_pc)
{
    bool sticky;

    qemu_mutex_lock(&dw_sticky_lock);
    sticky = g_hash_table_contains(dw_sticky, GSIZE_TO_POINTER(phys_pc));
    qemu_mutex_unlock(&dw_sticky_lock);
    return sticky;
}

#if DW_HOST_SUPPORTED

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
        if (g_hash_table_size(dw_sticky) >= DW_STICKY_MAX) {
            g_hash_table_remove_all(dw_sticky);
            qatomic_inc(&dw_stats.sticky_resets);
        }
        g_hash_table_remove(dw_slow_count, key);
        g_hash_table_add(dw_sticky, key);
        qatomic_inc(&dw_stats.sticky_tbs);
    }
    qemu_mutex_unlock(&dw_sticky_lock);
    if (tb) {
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
     * The softmmu fill.  For a store it also marks a clean page dirty,
     * invalidating the TBs on it exactly as a softmmu store would.
     */
    flags = probe_access_full(env, vaddr, 1, type, mmu_idx, true,
                              &host, &full, ra);
    if (flags & TLB_INVALID_MASK) {
        DWCpu *c = &dw_cpus[cpu->cpu_index];

        /* Not accessible: fill again, raising the guest's page fault. */
        qatomic_inc(&dw_stats.guest_faults);
        c->prefill_slot1 = dw_window_slot(win) + 1;
        dw_gs_forget();
        c->prefill_win = win;
        c->prefill_vaddr = vaddr;
        probe_access_full(env, vaddr, 1, type, mmu_idx, false,
                          &host, &full, ra);
        return;
    }
    if (flags || !host) {
        dw_slow(cpu, ra, dw_slow_cause(flags));
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
