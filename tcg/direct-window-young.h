/*
 * qemu-fast direct windows: new address spaces start on the softmmu
 * (QEMU-free core)
 *
 * A user window starts empty for each address space it is given.  Each
 * page the new process touches then costs a host signal and an mmap
 * that makes a host mapping of its own, and the guest dropping it later
 * an munmap: some 5 us, where a softmmu TLB fill costs a few hundred ns.
 * A process that lives long pays that once per page and then runs its
 * memory accesses at host speed.  A short-lived one (a shell's child, a
 * compiler driver, /bin/true) exits before its windows pay back: in a
 * fork+exec+exit loop each process made some 30 user fills and ran 15%
 * slower with direct user code than with its user code on the softmmu.
 *
 * So the user code of a new address space is looked up and translated
 * without direct accesses (CF_NO_DIRECT, TBs of its own) for its first
 * DW_YOUNG_NS, and its user window stays empty meanwhile.  The clock
 * starts when the vCPU first enters the address space's user code, not
 * at the CR3 write that handed the window out: with page-table
 * isolation the kernel's root of each process gets a user window too,
 * which never runs user code.  The first user entry after that the
 * address space is grown up, for good: the user code it looks up from
 * then on is direct.  A process that stays loses at most that long of
 * direct accesses; one that exits sooner never made a user mapping.
 *
 * Wall time, not work done: what is avoided is a cost per page touched,
 * and a process that touches many pages early (a large memset at
 * start-up) goes direct as soon as the time is over.  10 ms: in a
 * fork+exec loop (processes of 2-3 ms) 10 and 20 ms did equally well
 * and 5 ms worse; a Debian package build, whose compilers live tens to
 * hundreds of ms, was 3-6% slower with 20 ms than with 5.  The kernel's
 * windows are never young: the kernel's pages serve every process.
 *
 * Only the vCPU's own thread reads or writes its record.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef DIRECT_WINDOW_YOUNG_H
#define DIRECT_WINDOW_YOUNG_H

#include <stdbool.h>
#include <stdint.h>

/*
 * How long a new address space's user code stays on the softmmu, unless
 * -accel tcg,fast-young-ms= says otherwise.
 */
#define DW_YOUNG_MS         10
#define DW_YOUNG_NS         ((int64_t)DW_YOUNG_MS * 1000 * 1000)

/* dw_young::until of a window handed out but not entered in user mode */
#define DW_YOUNG_UNBORN     INT64_MIN

/*
 * The kernel's accesses to the user pages of a new address space (the
 * arguments and auxiliary vector exec writes, what read() and fstat()
 * return) take the slow path too, up to this many per address space:
 * a fill there also tracks the new process's page tables, so each of
 * the kernel's later stores to them is seen and its invalidations
 * queued, and the process's exit unmaps what was filled.  A
 * fork+exec+exit made some 100 such accesses, 15 pages, and ran 7%
 * faster without the fills; the budget bounds what a process whose
 * kernel loops over its memory byte by byte (strncpy_from_user) pays
 * before its pages are filled as before.
 */
#define DW_YOUNG_SLOW_BUDGET 256

/*
 * Per vCPU, per window: the time at which window @win's address space
 * grows up; DW_YOUNG_UNBORN until its user code first runs (the clock
 * starts then), 0 once it has grown up or if it never was young; and
 * what is left of its slow-path budget for the kernel's accesses.
 * @n_windows entries each.
 */
struct dw_young {
    int64_t *until;
    uint16_t *slow_left;    /* the budget of each window's address space */
    unsigned n_windows;
};

/* What an entry into a window's user code did to its address space. */
enum dw_young_step {
    DW_YOUNG_ADULT,         /* not young, and was not: direct */
    DW_YOUNG_BORN,          /* its clock started: young */
    DW_YOUNG_STILL,         /* young, as it was */
    DW_YOUNG_GREW,          /* its time is over: direct from now on */
};

/* Does the user code of an address space after @step run softmmu only? */
static inline bool dw_young_step_is_young(enum dw_young_step step)
{
    return step == DW_YOUNG_BORN || step == DW_YOUNG_STILL;
}

/* User window @win was just handed to a new address space. */
void dw_young_new_space(struct dw_young *y, unsigned win);

/*
 * May a kernel access to a user page of the address space whose user
 * window is @win take the slow path?  Only while that space is young or
 * not yet entered, spaces are young for a @span (ns) at all, and within
 * its budget, which this takes from.
 */
bool dw_young_take_slow(struct dw_young *y, unsigned win, int64_t span);

/* Does window @win's user code run without direct accesses now? */
static inline bool dw_young_is(const struct dw_young *y, unsigned win)
{
    return y->until[win] > 0;
}

/* Is there anything for dw_young_enter to do (no clock read)? */
static inline bool dw_young_pending(const struct dw_young *y, unsigned win)
{
    return y->until[win] != 0;
}

/*
 * The vCPU enters window @win's user code at @now (ns): a new address
 * space's clock starts, a young one that is @span old grows up.
 */
enum dw_young_step dw_young_enter(struct dw_young *y, unsigned win,
                                  int64_t now, int64_t span);

#endif /* DIRECT_WINDOW_YOUNG_H */
