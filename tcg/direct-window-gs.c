/*
 * qemu-fast direct windows: GS on translation-block entry and exit
 *
 * A direct TB reaches guest memory through GS, whose base is the window
 * of the TB's MMU index.  This file owns the choice of that window when
 * a TB is made (dw_tb_mmu_idx, dw_tb_slot), GS on entry to a TB and the
 * thread's own GS on leaving the execution loop, and fast=classic's
 * single window changing hands.  It never maps or walks anything.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/core/cpu.h"
#include "tcg/direct-window-internal.h"

#if DW_HOST_SUPPORTED
#include <sys/syscall.h>
#include <asm/prctl.h>
#endif

__thread uint8_t dw_gs_slot1;
bool *dw_young_user;
int64_t dw_young_ns = DW_YOUNG_NS;

/* GS base as this thread last set it, and as it was outside cpu_exec. */
static __thread uintptr_t dw_thread_gs;
static __thread uintptr_t dw_thread_saved_gs;
static __thread bool dw_thread_ready;

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

void dw_gs_forget(void)
{
    dw_gs_slot1 = 0;
}

void dw_cpu_exec_exit(CPUState *cpu)
{
    /* With one thread for every vCPU, the next may be another. */
    dw_gs_forget();
    if (dw_enabled && dw_thread_ready) {
        dw_set_gs(dw_thread_saved_gs);
    }
}

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

/*
 * How @cpu runs for user window @win's address space: its user code on
 * the softmmu while it is young; the kernel TBs that reached the user
 * pages of young spaces leave for their non-direct twins until it grows
 * up (and while it is unborn).
 */
static void dw_young_set_mode(CPUState *cpu, DWCpu *c, unsigned win)
{
    dw_young_user[cpu->cpu_index] = dw_young_is(&c->young, win);
    cpu->neg.dw_young_guard = dw_young_ns > 0 &&
                              dw_young_pending(&c->young, win);
}

/*
 * A new address space's user code runs on the softmmu for a while
 * (direct-window-young.h); the slot that serves it is entered now.
 */
static void dw_young_user_entry(CPUState *cpu, DWCpu *c)
{
    unsigned win = c->cur[DW_USER_SLOT];
    enum dw_young_step step;

    if (likely(!dw_young_pending(&c->young, win))) {
        return;
    }
    step = dw_young_enter(&c->young, win, get_clock(), dw_young_ns);
    dw_young_set_mode(cpu, c, win);
    if (step == DW_YOUNG_BORN) {
        qatomic_inc(&dw_stats.young_born);
    } else if (step == DW_YOUNG_GREW) {
        qatomic_inc(&dw_stats.young_grown);
    }
}

void dw_set_young_ms(uint32_t ms)
{
    dw_young_ns = (int64_t)ms * 1000000;
}

void dw_young_switch(CPUState *cpu, unsigned win, bool new_space)
{
    DWCpu *c = &dw_cpus[cpu->cpu_index];

    if (dw_window_slot(win) != DW_USER_SLOT) {
        return;
    }
    if (new_space) {
        dw_young_new_space(&c->young, win);
    }
    dw_young_set_mode(cpu, c, win);
}

void dw_enter_tb_slow(CPUState *cpu, uint8_t slot1)
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
    if (unlikely(c->prefill_slot1 == slot1)) {
        dw_prefill(cpu, c->cur[slot1 - 1]);
    }
    if (slot1 - 1 == DW_USER_SLOT) {
        dw_young_user_entry(cpu, c);
    }
    dw_set_gs(c->gs[c->cur[slot1 - 1]]);
    /* Right until the slot's window changes or a prefill waits. */
    if (!c->prefill_slot1) {
        dw_gs_slot1 = slot1;
    }
}

bool dw_unseparated(void)
{
    return dw_classic;
}

/* @cpu's current MMU index if it has windows, else -1. */
static int dw_cpu_window_mmu_idx(CPUState *cpu)
{
    int mmu_idx = cpu_mmu_index(cpu, false);

    return dw_mmu_idx_to_slot(mmu_idx) < 0 ? -1 : mmu_idx;
}

int dw_tb_mmu_idx(CPUState *cpu, uint32_t cflags, uint64_t phys_pc)
{
    if (!dw_enabled || (cflags & CF_NO_DIRECT) || dw_is_sticky(phys_pc)) {
        return -1;
    }
    return dw_cpu_window_mmu_idx(cpu);
}

bool dw_tb_young_guard(uint64_t phys_pc, int direct_mmu_idx)
{
    return direct_mmu_idx >= 0 &&
           dw_mmu_idx_to_slot(direct_mmu_idx) != DW_USER_SLOT &&
           dw_is_young_slow(phys_pc);
}

uint8_t dw_tb_slot(int mmu_idx)
{
    return mmu_idx < 0 ? 0 : dw_mmu_idx_to_slot(mmu_idx) + 1;
}

/*
 * TBs are chained only when they agree on GS.  A TB made without direct
 * accesses (code whose fills die young, a sticky one, a CF_NO_DIRECT
 * re-execution) had no window, so every jump between it and the direct
 * TBs around it left the chain for the execution loop and the jump
 * cache.  Giving it its MMU index's window costs nothing (GS is loaded
 * only on change) and keeps the invariant chaining relies on: whatever
 * TB runs, GS holds the current window of its MMU index.  fast=classic
 * keeps one window for all indexes and empties it on a change, so only
 * direct TBs switch it.
 */
uint8_t dw_tb_gs_slot(CPUState *cpu, int direct_mmu_idx)
{
    if (direct_mmu_idx >= 0) {
        return dw_tb_slot(direct_mmu_idx);
    }
    if (!dw_enabled || dw_classic) {
        return 0;
    }
    return dw_tb_slot(dw_cpu_window_mmu_idx(cpu));
}
