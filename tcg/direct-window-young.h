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
 * return) take the slow path too, up to DW_YOUNG_PAGE_SLOW per page and
 * DW_YOUNG_SLOW_BUDGET per address space; past either, the page is
 * filled as before.  A fill there does more than map the page: it
 * tracks the new process's page tables, so the kernel's later stores
 * to them take the notdirty path and queue invalidations, and the exit
 * unmaps what was filled, while a slow exit whose TB is made already
 * costs 1.1 us with its signal.  A page the kernel keeps touching (a
 * forked shell's stack, a buffer read into over and over) is worth its
 * fill: without the page limit, Debian's fork/exec loop ran 6% slower.
 * 32 rather than 16: exec writes some 25 words onto a new stack, and
 * the bench's fork+exec+exit ran 3% faster with 32, Debian's loops the
 * same.
 */
#define DW_YOUNG_PAGE_SLOW   32
#define DW_YOUNG_SLOW_BUDGET 256

/* Pages whose slow exits are counted, per vCPU (a power of 2). */
#define DW_YOUNG_PAGES       64

/* The slow exits of a young space's page (dw_young::pages). */
struct dw_young_page {
    uint32_t page;
    uint32_t space;         /* dw_young::space[win] when counted */
    uint16_t win;
    uint16_t count;
};

/*
 * Per vCPU, per window: the time at which window @win's address space
 * grows up; DW_YOUNG_UNBORN until its user code first runs (the clock
 * starts then), 0 once it has grown up or if it never was young; what
 * is left of its slow-path budget for the kernel's accesses, and which
 * space it holds.  @n_windows entries each; @pages counts the slow exits
 * of the pages of every window's space.
 */
struct dw_young {
    int64_t *until;
    uint16_t *slow_left;    /* the budget of each window's address space */
    uint32_t *space;        /* bumped when a window gets a new space */
    unsigned n_windows;
    struct dw_young_page pages[DW_YOUNG_PAGES];
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
 * May a kernel access to user page @page of the address space whose user
 * window is @win take the slow path?  Only while that space is young or
 * not yet entered, spaces are young for a @span (ns) at all, and within
 * the page's and the space's budgets, which this takes from.
 */
bool dw_young_take_slow(struct dw_young *y, unsigned win, uint32_t page,
                        int64_t span);

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
