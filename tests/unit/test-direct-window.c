/*
 * Unit tests for tcg/direct-window-core.c (TAP output)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE

#include "direct-window-core.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Tiny TAP harness                                                   */
/* ------------------------------------------------------------------ */

static unsigned t_count;
static unsigned t_failed;
static bool t_ok;

#define CHECK(cond)                                                     \
    do {                                                                \
        if (!(cond)) {                                                  \
            t_ok = false;                                               \
            printf("#   %s:%d: CHECK(%s) failed\n",                     \
                   __FILE__, __LINE__, #cond);                          \
        }                                                               \
    } while (0)

#define CHECK_EQ(a, b)                                                  \
    do {                                                                \
        unsigned long long a_ = (unsigned long long)(a);                \
        unsigned long long b_ = (unsigned long long)(b);                \
        if (a_ != b_) {                                                 \
            t_ok = false;                                               \
            printf("#   %s:%d: %s == %s failed: 0x%llx != 0x%llx\n",    \
                   __FILE__, __LINE__, #a, #b, a_, b_);                 \
        }                                                               \
    } while (0)

static void run_test(const char *name, void (*fn)(void))
{
    t_ok = true;
    fn();
    t_count++;
    if (!t_ok) {
        t_failed++;
    }
    printf("%s %u - %s\n", t_ok ? "ok" : "not ok", t_count, name);
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

#define GiB (1ULL << 30)
#define PG  DW_PAGE_SIZE

/* An arbitrary, non-zero reservation base for pure arithmetic tests. */
#define FAKE_BASE ((uintptr_t)0x100000000000ULL)

static struct dw_layout layout_for(unsigned n_vcpus)
{
    struct dw_layout l;
    int ret = dw_layout_init(&l, n_vcpus, 0, DW_PAGE_SIZE);

    CHECK_EQ(ret, 0);
    return l;
}

/* A mappable, accessed, dirty, writable supervisor RAM page. */
static struct dw_page ram_page(int fd, uint64_t offset)
{
    struct dw_page pg = {
        .present = true, .writable = true, .user = false,
        .accessed = true, .dirty = true,
        .is_ram = true, .readonly = false, .dirty_all = true,
        .is_code = false, .force_slow = false,
        .fd = fd, .offset = offset,
    };
    return pg;
}

static void check_run(const struct dw_run *r, uint32_t vaddr,
                      uint32_t n_pages, int fd, uint64_t offset,
                      enum dw_prot prot)
{
    CHECK_EQ(r->vaddr, vaddr);
    CHECK_EQ(r->n_pages, n_pages);
    CHECK_EQ(r->fd, fd);
    CHECK_EQ(r->offset, offset);
    CHECK_EQ(r->prot, prot);
}

/* ------------------------------------------------------------------ */
/* Layout                                                             */
/* ------------------------------------------------------------------ */

static void test_slot_map(void)
{
    unsigned idx, slot;

    CHECK_EQ(dw_mmu_idx_to_slot(1), 0);
    CHECK_EQ(dw_mmu_idx_to_slot(3), 1);
    CHECK_EQ(dw_mmu_idx_to_slot(5), 2);
    for (idx = 0; idx < 16; idx++) {
        if (idx != 1 && idx != 3 && idx != 5) {
            CHECK_EQ(dw_mmu_idx_to_slot(idx), -1);
        }
    }
    CHECK_EQ(dw_mmu_idx_to_slot(~0u), -1);
    for (slot = 0; slot < DW_NB_SLOTS; slot++) {
        CHECK_EQ(dw_mmu_idx_to_slot(dw_slot_to_mmu_idx(slot)), slot);
        CHECK_EQ(dw_window_slot(slot), slot);
    }
    /* User windows: the user slot's own, then those past the slots. */
    CHECK_EQ(dw_user_window(0), DW_USER_SLOT);
    for (idx = 1; idx < DW_USER_WINDOWS; idx++) {
        CHECK_EQ(dw_user_window(idx), DW_NB_SLOTS + idx - 1);
        CHECK_EQ(dw_window_slot(dw_user_window(idx)), DW_USER_SLOT);
    }
    CHECK_EQ(dw_user_window(DW_USER_WINDOWS - 1), DW_NB_WINDOWS - 1);
}

static void test_layout_init(void)
{
    struct dw_layout l;

    CHECK_EQ(dw_layout_init(&l, 4, 0, DW_PAGE_SIZE), 0);
    CHECK_EQ(l.n_vcpus, 4);
    CHECK_EQ(l.guard_size, 64 * 1024);
    /* 4 GiB + 64 KiB rounds to 8 GiB; 8 windows of 8 GiB are 64 GiB. */
    CHECK_EQ(l.window_shift, 33);
    CHECK_EQ(l.window_stride, 8 * GiB);
    CHECK_EQ(l.block_shift, 36);
    CHECK_EQ(l.block_stride, 64 * GiB);
    CHECK_EQ(l.total_size, 256 * GiB);

    /* A tiny guard is rounded up to one page. */
    CHECK_EQ(dw_layout_init(&l, 1, 1, DW_PAGE_SIZE), 0);
    CHECK_EQ(l.guard_size, PG);
    CHECK_EQ(l.window_shift, 33);

    /* A 4 GiB guard still fits an 8 GiB stride; one byte more does not. */
    CHECK_EQ(dw_layout_init(&l, 1, 4 * GiB, DW_PAGE_SIZE), 0);
    CHECK_EQ(l.window_shift, 33);
    CHECK_EQ(dw_layout_init(&l, 1, 4 * GiB + 1, DW_PAGE_SIZE), -EINVAL);

    CHECK_EQ(dw_layout_init(&l, 0, 0, DW_PAGE_SIZE), -EINVAL);
    CHECK_EQ(dw_layout_init(&l, 1, 0, 16384), -EINVAL);

    /* 1024 x 64 GiB is exactly the 64 TiB cap; one more vCPU is not. */
    CHECK_EQ(dw_layout_init(&l, 1024, 0, DW_PAGE_SIZE), 0);
    CHECK_EQ(l.total_size, 1ULL << 46);
    CHECK_EQ(dw_layout_init(&l, 1025, 0, DW_PAGE_SIZE), -ENOMEM);
    CHECK_EQ(dw_layout_init(&l, ~0u, 0, DW_PAGE_SIZE), -ENOMEM);
}

static void test_window_base_extremes(void)
{
    struct dw_layout l = layout_for(4);
    uintptr_t b = FAKE_BASE;

    CHECK_EQ(dw_block_base(&l, b, 0), b);
    CHECK_EQ(dw_block_base(&l, b, 3), b + 3 * 64 * GiB);
    CHECK_EQ(dw_window_base(&l, b, 0, 0), b);
    CHECK_EQ(dw_window_base(&l, b, 0, 2), b + 16 * GiB);
    CHECK_EQ(dw_window_base(&l, b, 2, 1), b + 128 * GiB + 8 * GiB);
    CHECK_EQ(dw_window_base(&l, b, 2, 7), b + 128 * GiB + 56 * GiB);

    CHECK_EQ(dw_host_addr(&l, b, 0, 0, 0), b);
    CHECK_EQ(dw_host_addr(&l, b, 0, 0, 0xFFFFF000u), b + 0xFFFFF000ULL);
    CHECK_EQ(dw_host_addr(&l, b, 0, 0, 0xFFFFFFFFu), b + 0xFFFFFFFFULL);
    CHECK_EQ(dw_host_addr(&l, b, 3, 2, 0), b + 192 * GiB + 16 * GiB);
    CHECK_EQ(dw_host_addr(&l, b, 3, 2, 0xFFFFF000u),
             b + 192 * GiB + 16 * GiB + 0xFFFFF000ULL);
    CHECK_EQ(dw_host_addr(&l, b, 3, 2, 0xFFFFFFFFu),
             b + 192 * GiB + 16 * GiB + 0xFFFFFFFFULL);
    /* The last byte of the last window stays inside the reservation. */
    CHECK(dw_host_addr(&l, b, 3, DW_NB_WINDOWS - 1, 0xFFFFFFFFu) +
          l.guard_size < b + l.total_size);
}

static void test_classify_window(void)
{
    static const uint32_t vaddrs[] = { 0, 1, 0x1000, 0x7FFFFFFF,
                                       0xFFFFF000u, 0xFFFFFFFFu };
    struct dw_layout l = layout_for(4);
    unsigned vcpu, slot, i, v, s;
    uint32_t va;
    bool guard;

    for (v = 0; v < 4; v++) {
        for (s = 0; s < DW_NB_WINDOWS; s++) {
            for (i = 0; i < sizeof(vaddrs) / sizeof(vaddrs[0]); i++) {
                uintptr_t h = dw_host_addr(&l, FAKE_BASE, v, s, vaddrs[i]);

                vcpu = slot = 99;
                va = 0x12345;
                guard = true;
                CHECK(dw_classify_addr(&l, FAKE_BASE, h, &vcpu, &slot,
                                       &va, &guard));
                CHECK_EQ(vcpu, v);
                CHECK_EQ(slot, s);
                CHECK_EQ(va, vaddrs[i]);
                CHECK(!guard);
            }
        }
    }
}

static void test_classify_guard(void)
{
    struct dw_layout l = layout_for(2);
    uintptr_t w = dw_window_base(&l, FAKE_BASE, 1, 2);
    unsigned vcpu = 99, slot = 99;
    uint32_t va = 0x12345;
    bool guard = false;

    /* First guard byte: where an access crossing 0xFFFFFFFF continues. */
    CHECK(dw_classify_addr(&l, FAKE_BASE, w + 4 * GiB, &vcpu, &slot,
                           &va, &guard));
    CHECK_EQ(vcpu, 1);
    CHECK_EQ(slot, 2);
    CHECK_EQ(va, 0);
    CHECK(guard);

    guard = false;
    CHECK(dw_classify_addr(&l, FAKE_BASE, w + 4 * GiB + l.guard_size - 1,
                           &vcpu, &slot, &va, &guard));
    CHECK_EQ(va, l.guard_size - 1);
    CHECK(guard);

    /* Guard of window 0 of vCPU 0 too. */
    guard = false;
    CHECK(dw_classify_addr(&l, FAKE_BASE, FAKE_BASE + 4 * GiB + 7,
                           &vcpu, &slot, &va, &guard));
    CHECK_EQ(vcpu, 0);
    CHECK_EQ(slot, 0);
    CHECK_EQ(va, 7);
    CHECK(guard);
}

static void test_classify_outside(void)
{
    struct dw_layout l = layout_for(2);
    uintptr_t w = dw_window_base(&l, FAKE_BASE, 1, 2);
    unsigned vcpu = 99, slot = 98;
    uint32_t va = 0x12345;
    bool guard = true;

    /* Just past the guard: padding, not reachable by the guest. */
    CHECK(!dw_classify_addr(&l, FAKE_BASE, w + 4 * GiB + l.guard_size,
                            &vcpu, &slot, &va, &guard));
    /* The padding after the last window of a block. */
    CHECK(!dw_classify_addr(&l, FAKE_BASE,
                            dw_window_base(&l, FAKE_BASE, 0,
                                           DW_NB_WINDOWS - 1) +
                            4 * GiB + l.guard_size,
                            &vcpu, &slot, &va, &guard));
    CHECK(!dw_classify_addr(&l, FAKE_BASE, FAKE_BASE + 64 * GiB - 1,
                            &vcpu, &slot, &va, &guard));
    /* Below the block. */
    CHECK(!dw_classify_addr(&l, FAKE_BASE, FAKE_BASE - 1,
                            &vcpu, &slot, &va, &guard));
    CHECK(!dw_classify_addr(&l, FAKE_BASE, 0, &vcpu, &slot, &va, &guard));
    /* Above it. */
    CHECK(!dw_classify_addr(&l, FAKE_BASE, FAKE_BASE + l.total_size,
                            &vcpu, &slot, &va, &guard));
    CHECK(!dw_classify_addr(&l, FAKE_BASE, UINTPTR_MAX,
                            &vcpu, &slot, &va, &guard));
    /* Outputs are untouched on a miss. */
    CHECK_EQ(vcpu, 99);
    CHECK_EQ(slot, 98);
    CHECK_EQ(va, 0x12345);
    CHECK(guard);
}

/* ------------------------------------------------------------------ */
/* Protection                                                         */
/* ------------------------------------------------------------------ */

static void test_access_for_slot(void)
{
    struct dw_access a;

    a = dw_access_for_slot(0, true);
    CHECK(!a.user && a.smap && a.wp);
    a = dw_access_for_slot(1, false);
    CHECK(a.user && !a.smap && !a.wp);
    a = dw_access_for_slot(2, true);
    CHECK(!a.user && !a.smap && a.wp);
}

static void test_prot_basic(void)
{
    struct dw_access kn = dw_access_for_slot(2, true);
    struct dw_page pg;

    pg = ram_page(3, 0);
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_RW);

    /* Each reason to keep writes trapping. */
    pg = ram_page(3, 0);
    pg.dirty = false;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_READ);
    pg = ram_page(3, 0);
    pg.writable = false;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_READ);
    pg = ram_page(3, 0);
    pg.dirty_all = false;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_READ);
    pg = ram_page(3, 0);
    pg.is_code = true;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_READ);
    pg = ram_page(3, 0);
    pg.readonly = true;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_READ);

    /* Each reason not to map at all. */
    pg = ram_page(3, 0);
    pg.present = false;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_NONE);
    pg = ram_page(3, 0);
    pg.accessed = false;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_NONE);
    pg = ram_page(3, 0);
    pg.is_ram = false;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_NONE);
    pg = ram_page(-1, 0);
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_NONE);
    pg = ram_page(3, 0);
    pg.force_slow = true;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_NONE);
    /* ROM that is not RAM-backed (romd in I/O mode) is MMIO. */
    pg = ram_page(3, 0);
    pg.is_ram = false;
    pg.readonly = true;
    CHECK_EQ(dw_page_prot(&pg, &kn), DW_PROT_NONE);
}

static void test_prot_privilege(void)
{
    struct dw_access ksmap = dw_access_for_slot(0, true);
    struct dw_access user = dw_access_for_slot(1, true);
    struct dw_access knosmap = dw_access_for_slot(2, true);
    struct dw_access knowp = dw_access_for_slot(2, false);
    struct dw_access userwp0 = dw_access_for_slot(1, false);
    struct dw_page sup = ram_page(3, 0);
    struct dw_page usr = ram_page(3, 0);

    usr.user = true;
    CHECK_EQ(dw_page_prot(&sup, &user), DW_PROT_NONE);
    CHECK_EQ(dw_page_prot(&usr, &user), DW_PROT_RW);
    CHECK_EQ(dw_page_prot(&sup, &ksmap), DW_PROT_RW);
    CHECK_EQ(dw_page_prot(&usr, &ksmap), DW_PROT_NONE);
    CHECK_EQ(dw_page_prot(&usr, &knosmap), DW_PROT_RW);

    /* Read-only PTE: CR0.WP=0 lets the supervisor write, never user. */
    sup.writable = false;
    usr.writable = false;
    CHECK_EQ(dw_page_prot(&sup, &knosmap), DW_PROT_READ);
    CHECK_EQ(dw_page_prot(&sup, &knowp), DW_PROT_RW);
    CHECK_EQ(dw_page_prot(&usr, &userwp0), DW_PROT_READ);
    /* ...but still not before D is set. */
    sup.dirty = false;
    CHECK_EQ(dw_page_prot(&sup, &knowp), DW_PROT_READ);

    CHECK_EQ(dw_prot_to_mmap(DW_PROT_NONE), PROT_NONE);
    CHECK_EQ(dw_prot_to_mmap(DW_PROT_READ), PROT_READ);
    CHECK_EQ(dw_prot_to_mmap(DW_PROT_RW), PROT_READ | PROT_WRITE);
}

/* ------------------------------------------------------------------ */
/* Run batching                                                       */
/* ------------------------------------------------------------------ */

static void test_batch_empty(void)
{
    struct dw_access acc = dw_access_for_slot(2, true);
    struct dw_page pg[4];
    struct dw_run runs[4];
    unsigned i;

    CHECK_EQ(dw_batch_runs(NULL, 0, 0x1000, &acc, runs, 4), 0);
    for (i = 0; i < 4; i++) {
        pg[i] = ram_page(3, i * PG);
        pg[i].present = false;
    }
    CHECK_EQ(dw_batch_runs(pg, 4, 0x1000, &acc, runs, 4), 0);
    /* No room for runs. */
    pg[0].present = true;
    CHECK_EQ(dw_batch_runs(pg, 4, 0x1000, &acc, runs, 0), 0);
    /* Misaligned start. */
    CHECK_EQ(dw_batch_runs(pg, 4, 0x1001, &acc, runs, 4), 0);
}

static void test_batch_contiguous(void)
{
    struct dw_access acc = dw_access_for_slot(2, true);
    struct dw_page pg[16];
    struct dw_run runs[4];
    unsigned i;

    for (i = 0; i < 16; i++) {
        pg[i] = ram_page(5, 0x40000 + i * PG);
    }
    CHECK_EQ(dw_batch_runs(pg, 16, 0x8000, &acc, runs, 4), 1);
    check_run(&runs[0], 0x8000, 16, 5, 0x40000, DW_PROT_RW);

    CHECK_EQ(dw_batch_runs(pg, 1, 0, &acc, runs, 4), 1);
    check_run(&runs[0], 0, 1, 5, 0x40000, DW_PROT_RW);
}

static void test_batch_phys_break(void)
{
    struct dw_access acc = dw_access_for_slot(2, true);
    struct dw_page pg[6];
    struct dw_run runs[8];
    unsigned i;

    for (i = 0; i < 6; i++) {
        pg[i] = ram_page(5, 0x10000 + i * PG);
    }
    /* Pages 0-2 contiguous, 3 jumps, 4 contiguous with 3, 5 goes back. */
    pg[3].offset = 0x90000;
    pg[4].offset = 0x91000;
    pg[5].offset = 0x15000 - PG;
    CHECK_EQ(dw_batch_runs(pg, 6, 0x400000, &acc, runs, 8), 3);
    check_run(&runs[0], 0x400000, 3, 5, 0x10000, DW_PROT_RW);
    check_run(&runs[1], 0x403000, 2, 5, 0x90000, DW_PROT_RW);
    check_run(&runs[2], 0x405000, 1, 5, 0x14000, DW_PROT_RW);

    /* Same offsets but another RAM block's file. */
    for (i = 0; i < 6; i++) {
        pg[i] = ram_page(5, 0x10000 + i * PG);
    }
    pg[2].fd = 6;
    pg[3].fd = 6;
    CHECK_EQ(dw_batch_runs(pg, 6, 0x400000, &acc, runs, 8), 3);
    check_run(&runs[0], 0x400000, 2, 5, 0x10000, DW_PROT_RW);
    check_run(&runs[1], 0x402000, 2, 6, 0x12000, DW_PROT_RW);
    check_run(&runs[2], 0x404000, 2, 5, 0x14000, DW_PROT_RW);
}

static void test_batch_prot_break(void)
{
    struct dw_access acc = dw_access_for_slot(2, true);
    struct dw_page pg[5];
    struct dw_run runs[8];
    unsigned i;

    for (i = 0; i < 5; i++) {
        pg[i] = ram_page(5, i * PG);
    }
    pg[2].dirty = false;            /* RW RW RO RW RW */
    CHECK_EQ(dw_batch_runs(pg, 5, 0, &acc, runs, 8), 3);
    check_run(&runs[0], 0, 2, 5, 0, DW_PROT_RW);
    check_run(&runs[1], 0x2000, 1, 5, 0x2000, DW_PROT_READ);
    check_run(&runs[2], 0x3000, 2, 5, 0x3000, DW_PROT_RW);

    pg[3].is_code = true;           /* RW RW RO RO RW */
    CHECK_EQ(dw_batch_runs(pg, 5, 0, &acc, runs, 8), 3);
    check_run(&runs[1], 0x2000, 2, 5, 0x2000, DW_PROT_READ);
    check_run(&runs[2], 0x4000, 1, 5, 0x4000, DW_PROT_RW);

    /* Limited to 2 runs: the rest is dropped, not merged. */
    CHECK_EQ(dw_batch_runs(pg, 5, 0, &acc, runs, 2), 2);
    check_run(&runs[1], 0x2000, 2, 5, 0x2000, DW_PROT_READ);
}

static void test_batch_not_present(void)
{
    struct dw_access acc = dw_access_for_slot(1, true);
    struct dw_page pg[7];
    struct dw_run runs[8];
    unsigned i;

    for (i = 0; i < 7; i++) {
        pg[i] = ram_page(5, i * PG);
        pg[i].user = true;
    }
    /* Holes that are physically contiguous must still split the run. */
    pg[1].present = false;
    pg[4].user = false;             /* not reachable from the user slot */
    pg[6].present = false;
    CHECK_EQ(dw_batch_runs(pg, 7, 0x10000, &acc, runs, 8), 3);
    check_run(&runs[0], 0x10000, 1, 5, 0, DW_PROT_RW);
    check_run(&runs[1], 0x12000, 2, 5, 0x2000, DW_PROT_RW);
    check_run(&runs[2], 0x15000, 1, 5, 0x5000, DW_PROT_RW);
}

static void test_batch_top_of_space(void)
{
    struct dw_access acc = dw_access_for_slot(2, true);
    struct dw_page pg[4];
    struct dw_run runs[4];
    unsigned i;

    for (i = 0; i < 4; i++) {
        pg[i] = ram_page(5, i * PG);
    }
    /* Only 0xFFFFE000 and 0xFFFFF000 exist; never run into the guard. */
    CHECK_EQ(dw_batch_runs(pg, 4, 0xFFFFE000u, &acc, runs, 4), 1);
    check_run(&runs[0], 0xFFFFE000u, 2, 5, 0, DW_PROT_RW);
    CHECK_EQ(dw_batch_runs(pg, 4, 0xFFFFF000u, &acc, runs, 4), 1);
    check_run(&runs[0], 0xFFFFF000u, 1, 5, 0, DW_PROT_RW);
}

/* ------------------------------------------------------------------ */
/* Accounting                                                         */
/* ------------------------------------------------------------------ */

static const char *write_tmp(const char *text)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/test-dw-XXXXXX");
    fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK_EQ(write(fd, text, strlen(text)), strlen(text));
        close(fd);
    }
    return path;
}

static uint64_t read_count_of(const char *text)
{
    const char *path = write_tmp(text);
    uint64_t v = dw_read_max_map_count_from(path);

    unlink(path);
    return v;
}

static void test_max_map_count(void)
{
    CHECK_EQ(read_count_of("262144\n"), 262144);
    CHECK_EQ(read_count_of("1000"), 1000);
    CHECK_EQ(read_count_of(""), DW_DEFAULT_MAX_MAP_COUNT);
    CHECK_EQ(read_count_of("abc\n"), DW_DEFAULT_MAX_MAP_COUNT);
    CHECK_EQ(read_count_of("12x\n"), DW_DEFAULT_MAX_MAP_COUNT);
    CHECK_EQ(read_count_of("0\n"), DW_DEFAULT_MAX_MAP_COUNT);
    CHECK_EQ(read_count_of("-5\n"), DW_DEFAULT_MAX_MAP_COUNT);
    CHECK_EQ(read_count_of("99999999999999999999999\n"),
             DW_DEFAULT_MAX_MAP_COUNT);
    CHECK_EQ(dw_read_max_map_count_from("/nonexistent/max_map_count"),
             DW_DEFAULT_MAX_MAP_COUNT);
    CHECK(dw_read_max_map_count() > 0);

    CHECK_EQ(dw_mapping_cap(65530), 65530 - DW_MAP_COUNT_MARGIN);
    CHECK_EQ(dw_mapping_cap(1000000), 1000000 - DW_MAP_COUNT_MARGIN);
    CHECK_EQ(dw_mapping_cap(10000), 5000);
    CHECK_EQ(dw_mapping_cap(1), 0);
}

static void test_acct_cap(void)
{
    struct dw_acct a;
    unsigned i;

    CHECK_EQ(dw_acct_init(&a, 0, 10), -EINVAL);
    CHECK_EQ(dw_acct_init(&a, 3, 0), -EINVAL);
    CHECK_EQ(dw_acct_init(&a, 6, 10), 0);

    CHECK_EQ(dw_window_index(0, 0), 0);
    CHECK_EQ(dw_window_index(1, 2), DW_NB_WINDOWS + 2);

    /* Each run costs DW_VMA_SPLIT_COST (2): the 5th reaches 10. */
    for (i = 0; i < 4; i++) {
        CHECK(!dw_acct_note_run(&a, i == 3 ? 5 : 1, 100));
    }
    CHECK_EQ(dw_acct_total(&a), 8);
    CHECK_EQ(dw_acct_window(&a, 1), 6);
    CHECK_EQ(dw_acct_window(&a, 5), 2);
    CHECK_EQ(dw_acct_victim(&a), 1);
    CHECK(dw_acct_note_run(&a, 5, 1));
    CHECK_EQ(dw_acct_total(&a), 10);

    /* Reset the biggest window: below the cap again. */
    dw_acct_note_reset(&a, dw_acct_victim(&a));
    CHECK_EQ(dw_acct_window(&a, 1), 0);
    CHECK_EQ(dw_acct_total(&a), 4);
    CHECK_EQ(dw_acct_victim(&a), 5);
    CHECK(!dw_acct_note_ops(&a, 0, 2));
    CHECK(dw_acct_note_ops(&a, 0, 1));
    CHECK_EQ(dw_acct_total(&a), 10);
    dw_acct_destroy(&a);
    CHECK(a.per_window == NULL);
}

#define ACCT_THREADS    4
#define ACCT_ITERS      20000

static struct dw_acct acct_shared;

static void *acct_worker(void *opaque)
{
    unsigned id = (unsigned)(uintptr_t)opaque;
    unsigned i;

    for (i = 0; i < ACCT_ITERS; i++) {
        dw_acct_note_run(&acct_shared, (id + i) % 3, 1);
        /* Thread 0 plays the flusher, resetting windows meanwhile. */
        if (id == 0 && i % 64 == 0) {
            dw_acct_note_reset(&acct_shared, i % 3);
        }
    }
    return NULL;
}

static void test_acct_threads(void)
{
    pthread_t th[ACCT_THREADS];
    int64_t sum = 0;
    unsigned i;

    CHECK_EQ(dw_acct_init(&acct_shared, 3, 1000000000), 0);
    for (i = 0; i < ACCT_THREADS; i++) {
        CHECK_EQ(pthread_create(&th[i], NULL, acct_worker,
                                (void *)(uintptr_t)i), 0);
    }
    for (i = 0; i < ACCT_THREADS; i++) {
        pthread_join(th[i], NULL);
    }
    for (i = 0; i < 3; i++) {
        CHECK(dw_acct_window(&acct_shared, i) >= 0);
        sum += dw_acct_window(&acct_shared, i);
    }
    /* Whatever the interleaving, the total matches the windows. */
    CHECK_EQ(dw_acct_total(&acct_shared), sum);
    CHECK(sum > 0);
    CHECK(sum <= 2LL * ACCT_THREADS * ACCT_ITERS);

    /* Without resets nothing is lost. */
    for (i = 0; i < 3; i++) {
        dw_acct_note_reset(&acct_shared, i);
    }
    CHECK_EQ(dw_acct_total(&acct_shared), 0);
    for (i = 1; i < ACCT_THREADS; i++) {
        CHECK_EQ(pthread_create(&th[i], NULL, acct_worker,
                                (void *)(uintptr_t)i), 0);
    }
    for (i = 1; i < ACCT_THREADS; i++) {
        pthread_join(th[i], NULL);
    }
    CHECK_EQ(dw_acct_total(&acct_shared),
             2LL * (ACCT_THREADS - 1) * ACCT_ITERS);
    dw_acct_destroy(&acct_shared);
}

/* ------------------------------------------------------------------ */
/* Real reservation on the host                                       */
/* ------------------------------------------------------------------ */

static sigjmp_buf probe_env;
/* volatile: written by the signal handler, read after siglongjmp. */
static void *volatile probe_addr;

static void probe_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    probe_addr = si->si_addr;
    siglongjmp(probe_env, 1);
}

/* Read a byte; false (and probe_addr set) if the access faulted. */
static bool probe_read(uintptr_t addr, uint8_t *val)
{
    probe_addr = NULL;
    if (sigsetjmp(probe_env, 1)) {
        return false;
    }
    /* volatile: the access itself is the test; keep it. */
    *val = *(volatile uint8_t *)addr;
    return true;
}

static bool probe_write(uintptr_t addr, uint8_t val)
{
    probe_addr = NULL;
    if (sigsetjmp(probe_env, 1)) {
        return false;
    }
    /* volatile: the access itself is the test; keep it. */
    *(volatile uint8_t *)addr = val;
    return true;
}

static uint8_t pattern(unsigned page, unsigned byte)
{
    return (uint8_t)(page * 37 + byte + 1);
}

/* A memfd of @n pages, page p filled with pattern(p, i). */
static int make_ram(unsigned n)
{
    uint8_t buf[DW_PAGE_SIZE];
    unsigned p, i;
    int fd = memfd_create("test-dw-ram", MFD_CLOEXEC);

    CHECK(fd >= 0);
    if (fd < 0) {
        return -1;
    }
    for (p = 0; p < n; p++) {
        for (i = 0; i < DW_PAGE_SIZE; i++) {
            buf[i] = pattern(p, i);
        }
        CHECK_EQ(pwrite(fd, buf, DW_PAGE_SIZE, p * DW_PAGE_SIZE),
                 DW_PAGE_SIZE);
    }
    return fd;
}

static void check_fault_at(uintptr_t base, const struct dw_layout *l,
                           uintptr_t host, unsigned vcpu, unsigned slot,
                           uint32_t vaddr, bool in_guard)
{
    unsigned fv = 99, fs = 99;
    uint32_t fva = 0;
    bool fg = !in_guard;
    uint8_t val;

    CHECK(!probe_read(host, &val));
    CHECK_EQ((uintptr_t)probe_addr, host);
    CHECK(dw_classify_addr(l, base, (uintptr_t)probe_addr, &fv, &fs,
                           &fva, &fg));
    CHECK_EQ(fv, vcpu);
    CHECK_EQ(fs, slot);
    CHECK_EQ(fva, vaddr);
    CHECK_EQ(fg, in_guard);
}

static void host_round_trip(const struct dw_layout *l, uintptr_t b, int fd)
{
    struct dw_run ro = { 0xFFFFE000u, 2, fd, 1 * PG, DW_PROT_READ };
    struct dw_run rw = { 0x3000, 1, fd, 3 * PG, DW_PROT_RW };
    struct dw_run bad = { 0xFFFFF000u, 2, fd, 0, DW_PROT_READ };
    uintptr_t w = dw_window_base(l, b, 0, 2);
    uint8_t val = 0;

    /* Nothing is mapped yet. */
    check_fault_at(b, l, w, 0, 2, 0, false);

    /* Two pages at the very top of the window, file pages 1 and 2. */
    CHECK_EQ(dw_map_run(l, b, 0, 2, &ro), 0);
    CHECK(probe_read(w + 0xFFFFE000u, &val));
    CHECK_EQ(val, pattern(1, 0));
    CHECK(probe_read(w + 0xFFFFFFFFu, &val));
    CHECK_EQ(val, pattern(2, DW_PAGE_SIZE - 1));
    /* Read-only: a write faults, and says where. */
    CHECK(!probe_write(w + 0xFFFFE010u, 0));
    CHECK_EQ((uintptr_t)probe_addr, w + 0xFFFFE010u);
    /* One byte past the window: the guard. */
    check_fault_at(b, l, w + DW_WINDOW_SIZE, 0, 2, 0, true);
    /* Runs reaching into the guard are refused. */
    CHECK_EQ(dw_map_run(l, b, 0, 2, &bad), -EINVAL);
    check_fault_at(b, l, w + DW_WINDOW_SIZE, 0, 2, 0, true);

    /* Writes through a RW mapping reach the RAM file. */
    CHECK_EQ(dw_map_run(l, b, 0, 2, &rw), 0);
    CHECK(probe_write(w + 0x3005, 0xAB));
    CHECK_EQ(pread(fd, &val, 1, 3 * PG + 5), 1);
    CHECK_EQ(val, 0xAB);

    /* Downgrade to read-only, as tlb_reset_dirty would. */
    CHECK_EQ(dw_protect_range((void *)(w + 0x3000), PG, PROT_READ), 0);
    CHECK(!probe_write(w + 0x3005, 0xCD));
    CHECK(probe_read(w + 0x3005, &val));
    CHECK_EQ(val, 0xAB);

    /* Unmap one page by PROT_NONE remap: it faults, its neighbour not. */
    CHECK_EQ(dw_unmap_range((void *)(w + 0xFFFFE000u), PG), 0);
    check_fault_at(b, l, w + 0xFFFFE000u, 0, 2, 0xFFFFE000u, false);
    CHECK(probe_read(w + 0xFFFFF000u, &val));
    CHECK_EQ(val, pattern(2, 0));

    /* Another window of the same block is unaffected by all this. */
    check_fault_at(b, l, dw_window_base(l, b, 0, 1) + 0x3000, 0, 1,
                   0x3000, false);

    /* Reset the window: everything faults again. */
    CHECK_EQ(dw_reset_window(l, b, 0, 2), 0);
    check_fault_at(b, l, w + 0xFFFFF000u, 0, 2, 0xFFFFF000u, false);
    check_fault_at(b, l, w + 0x3005, 0, 2, 0x3005, false);
    CHECK_EQ(dw_reset_window(l, b, 1, 0), -EINVAL);
}

/* Run @fn with probe_handler catching SIGSEGV and SIGBUS. */
static void with_probe_handler(void (*fn)(void))
{
    struct sigaction sa, old_segv, old_bus;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = probe_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    fn();
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
}

static void host_reserve_map_unmap(void)
{
    /* One vCPU: 64 GiB (NORESERVE: costs no memory). */
    struct dw_layout l = layout_for(1);
    void *base = NULL;
    int fd, ret;

    ret = dw_reserve(l.total_size, &base);
    CHECK_EQ(ret, 0);
    fd = make_ram(4);
    if (ret || fd < 0) {
        return;
    }
    host_round_trip(&l, (uintptr_t)base, fd);
    close(fd);
    CHECK_EQ(dw_release(base, l.total_size), 0);
}

static void test_host_reserve_map_unmap(void)
{
    with_probe_handler(host_reserve_map_unmap);
}

static void test_host_errors(void)
{
    void *p = NULL;

    /* Errors come back as -errno, not -1. */
    CHECK_EQ(dw_reserve(0, &p), -EINVAL);
    CHECK_EQ(dw_map_range((void *)0x10000, PG, PROT_READ, -1, 0), -EBADF);
    CHECK_EQ(dw_unmap_range((void *)0x10001, PG), -EINVAL);
}

/* ------------------------------------------------------------------ */
/* i386 page walk                                                     */
/* ------------------------------------------------------------------ */

/* 64 KiB of fake guest-physical memory holding page tables. */
static uint8_t walk_mem[16 * PG];
static unsigned walk_reads;

static uint64_t walk_read(void *opaque, uint64_t pa, bool wide)
{
    uint64_t v = 0;

    (void)opaque;
    walk_reads++;
    if (pa + (wide ? 8 : 4) > sizeof(walk_mem)) {
        return 0;           /* outside RAM: reads as not present */
    }
    memcpy(&v, walk_mem + pa, wide ? 8 : 4);
    return v;
}

static void walk_put32(uint64_t pa, uint32_t v)
{
    memcpy(walk_mem + pa, &v, 4);
}

static void walk_put64(uint64_t pa, uint64_t v)
{
    memcpy(walk_mem + pa, &v, 8);
}

#define E_P   0x001u
#define E_W   0x002u
#define E_U   0x004u
#define E_A   0x020u
#define E_D   0x040u
#define E_PS  0x080u

static uint64_t walk32(const struct dw_paging *p, uint32_t vaddr)
{
    return dw_walk(p, vaddr, walk_read, NULL);
}

static void test_walk_legacy(void)
{
    struct dw_paging p = { .cr3 = 1 * PG, .a20_mask = ~0ULL,
                           .phys_bits = 36 };
    uint32_t va = 0x00403000;           /* PDE 1, PTE 3 */

    memset(walk_mem, 0, sizeof(walk_mem));
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_P | E_W | E_U | E_A);
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_P | E_W | E_U | E_A | E_D);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID | DW_WALK_W |
                             DW_WALK_U | DW_WALK_D);
    /* The offset inside the page does not matter. */
    CHECK_EQ(walk32(&p, va + 0xabc), walk32(&p, va));

    /* Rights are the AND over both levels. */
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_P | E_U | E_A);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID | DW_WALK_U |
                             DW_WALK_D);
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_P | E_W | E_A);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID | DW_WALK_W |
                             DW_WALK_D);

    /* Bit 7 of a 4 KiB PTE is PAT, not a large page. */
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_P | E_A | E_PS);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID);

    /* Clean leaf: no D in the summary, so a RW mapping is not kept. */
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_P | E_W | E_U | E_A);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID | DW_WALK_W);

    /* Not present or not accessed, at either level: unknown. */
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_W | E_U | E_A);
    CHECK_EQ(walk32(&p, va), 0);
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_P | E_W | E_U);
    CHECK_EQ(walk32(&p, va), 0);
    walk_put32(2 * PG + 3 * 4, 0x1234000 | E_P | E_A);
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_P | E_W | E_U);
    CHECK_EQ(walk32(&p, va), 0);
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_W | E_U | E_A);
    CHECK_EQ(walk32(&p, va), 0);

    /* Another CR3 sees another page directory. */
    walk_put32(1 * PG + 1 * 4, 2 * PG | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID);
    p.cr3 = 3 * PG;
    CHECK_EQ(walk32(&p, va), 0);
    walk_put32(3 * PG + 1 * 4, 2 * PG | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0x1234000 | DW_WALK_VALID);
}

static void test_walk_pse_a20(void)
{
    struct dw_paging p = { .cr3 = 1 * PG, .a20_mask = ~0ULL,
                           .phys_bits = 36, .pse = true };
    uint32_t va = 0xc0512000;           /* PDE 0x301 */

    memset(walk_mem, 0, sizeof(walk_mem));
    walk_put32(1 * PG + 0x301 * 4, 0x00400000 | E_PS | E_P | E_W | E_A |
                                   E_D);
    CHECK_EQ(walk32(&p, va), 0x00512000 | DW_WALK_VALID | DW_WALK_W |
                             DW_WALK_D | DW_WALK_LARGE);
    /* Its neighbours differ by the frame only. */
    CHECK_EQ(walk32(&p, va + 5 * PG), walk32(&p, va) + 5 * PG);
    /* PSE-36 or reserved bits: not kept. */
    walk_put32(1 * PG + 0x301 * 4, 0x00402000 | E_PS | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0);

    /* Without CR4.PSE the PS bit is ignored: the PDE points to a PT. */
    walk_put32(1 * PG + 0x301 * 4, 2 * PG | E_PS | E_P | E_A);
    walk_put32(2 * PG + 0x112 * 4, 0x00777000 | E_P | E_A);
    p.pse = false;
    CHECK_EQ(walk32(&p, va), 0x00777000 | DW_WALK_VALID);

    /* A20 off masks bit 20 of the table addresses and of the page. */
    p.a20_mask = ~(1ULL << 20);
    walk_put32(2 * PG + 0x112 * 4, 0x00177000 | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0x00077000 | DW_WALK_VALID);
}

static void test_walk_pae(void)
{
    struct dw_paging p = { .cr3 = 1 * PG + 0x20, .a20_mask = ~0ULL,
                           .phys_bits = 36, .pae = true };
    uint32_t va = 0xc0603000;   /* PDPTE 3, PDE 3, PTE 3 */
    uint64_t leaf = 0x923456000ULL | E_P | E_W | E_U | E_A | E_D;

    memset(walk_mem, 0, sizeof(walk_mem));
    walk_put64(1 * PG + 0x20 + 3 * 8, 2 * PG | E_P);
    walk_put64(2 * PG + 3 * 8, 3 * PG | E_P | E_W | E_U | E_A);
    walk_put64(3 * PG + 3 * 8, leaf);
    CHECK_EQ(walk32(&p, va), 0x923456000ULL | DW_WALK_VALID | DW_WALK_W |
                             DW_WALK_U | DW_WALK_D);

    /* NX is reserved without EFER.NXE and ignored (for data) with it. */
    walk_put64(3 * PG + 3 * 8, leaf | (1ULL << 63));
    CHECK_EQ(walk32(&p, va), 0);
    p.nxe = true;
    CHECK_EQ(walk32(&p, va), 0x923456000ULL | DW_WALK_VALID | DW_WALK_W |
                             DW_WALK_U | DW_WALK_D);

    /* Address bits past MAXPHYADDR are reserved. */
    walk_put64(3 * PG + 3 * 8, leaf | (1ULL << 40));
    CHECK_EQ(walk32(&p, va), 0);
    walk_put64(3 * PG + 3 * 8, leaf);

    /* PDPTE reserved bits (here R/W) and not present. */
    walk_put64(1 * PG + 0x20 + 3 * 8, 2 * PG | E_P | E_W);
    CHECK_EQ(walk32(&p, va), 0);
    walk_put64(1 * PG + 0x20 + 3 * 8, 2 * PG);
    CHECK_EQ(walk32(&p, va), 0);
    walk_put64(1 * PG + 0x20 + 3 * 8, 2 * PG | E_P);

    /* 2 MiB page. */
    walk_put64(2 * PG + 3 * 8, 0x40000000ULL | E_PS | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0x40003000ULL | DW_WALK_VALID | DW_WALK_LARGE);
    walk_put64(2 * PG + 3 * 8, 0x40002000ULL | E_PS | E_P | E_A);
    CHECK_EQ(walk32(&p, va), 0);
}

/*
 * Guest-physical memory for page tables above 4 GiB: walk_mem's pages
 * 2 and up exist only at 4 GiB + their offset, page 1 (the PDPT, which
 * CR3 keeps below 4 GiB) only at its own address.  A walk that narrowed
 * a table's address to 32 bits would read nothing.
 */
static uint64_t walk_read_high(void *opaque, uint64_t pa, bool wide)
{
    const uint64_t four_g = 1ULL << 32;

    if (pa >= four_g) {
        pa -= four_g;
        if (pa < 2 * PG) {
            return 0;
        }
    } else if (pa >= 2 * PG) {
        return 0;
    }
    return walk_read(opaque, pa, wide);
}

static void test_walk_pae_high_tables(void)
{
    const uint64_t four_g = 1ULL << 32;
    struct dw_paging p = { .cr3 = 1 * PG, .a20_mask = ~0ULL,
                           .phys_bits = 36, .pae = true };
    uint32_t va = 0x80403000;   /* PDPTE 2, PDE 2, PTE 3 */

    memset(walk_mem, 0, sizeof(walk_mem));
    walk_put64(1 * PG + 2 * 8, (four_g + 2 * PG) | E_P);
    walk_put64(2 * PG + 2 * 8, (four_g + 3 * PG) | E_P | E_W | E_A);
    walk_put64(3 * PG + 3 * 8, 0xb80005000ULL | E_P | E_W | E_A | E_D);
    CHECK_EQ(dw_walk(&p, va, walk_read_high, NULL),
             0xb80005000ULL | DW_WALK_VALID | DW_WALK_W | DW_WALK_D);

    /* A 2 MiB page above 4 GiB, from a directory above 4 GiB. */
    walk_put64(2 * PG + 2 * 8, 0x1c0200000ULL | E_PS | E_P | E_A);
    CHECK_EQ(dw_walk(&p, va, walk_read_high, NULL),
             0x1c0203000ULL | DW_WALK_VALID | DW_WALK_LARGE);

    /* The same tables seen 4 GiB lower are not there. */
    walk_put64(1 * PG + 2 * 8, 2 * PG | E_P);
    CHECK_EQ(dw_walk(&p, va, walk_read_high, NULL), 0);
}

/* ------------------------------------------------------------------ */
/* Classic layout                                                     */
/* ------------------------------------------------------------------ */

static uint64_t min_addr_of(const char *text)
{
    const char *path = write_tmp(text);
    uint64_t v = dw_classic_min_addr_from(path);

    unlink(path);
    return v;
}

static void test_classic_min_addr(void)
{
    CHECK_EQ(min_addr_of("65536\n"), 65536);
    CHECK_EQ(min_addr_of("0\n"), 0);            /* allowed here */
    CHECK_EQ(min_addr_of("4097\n"), 8192);      /* rounded up to a page */
    CHECK_EQ(min_addr_of("x\n"), DW_DEFAULT_MMAP_MIN_ADDR);
    CHECK_EQ(dw_classic_min_addr_from("/nonexistent"),
             DW_DEFAULT_MMAP_MIN_ADDR);
}

static void test_classic_classify(void)
{
    uint32_t va = 0;
    bool guard = true;

    CHECK(dw_classic_classify(0x1234, DW_GUARD_MIN, &va, &guard));
    CHECK_EQ(va, 0x1234);
    CHECK(!guard);
    CHECK(dw_classic_classify(0xFFFFFFFFu, DW_GUARD_MIN, &va, &guard));
    CHECK_EQ(va, 0xFFFFFFFFu);
    CHECK(!guard);
    /* Past 4 GiB: the guard, wrapping to the bottom of the space. */
    CHECK(dw_classic_classify(DW_WINDOW_SIZE + 5, DW_GUARD_MIN, &va, &guard));
    CHECK_EQ(va, 5);
    CHECK(guard);
    CHECK(!dw_classic_classify(DW_WINDOW_SIZE + DW_GUARD_MIN, DW_GUARD_MIN,
                               &va, &guard));
    CHECK(!dw_classic_classify(0x7f0000000000ULL, DW_GUARD_MIN, &va, &guard));
}

static void classic_reserve(void)
{
    uint64_t min = 1 << 20;
    void *base = NULL, *again = NULL;
    int fd = make_ram(2);
    uint8_t val = 0;

    CHECK_EQ(dw_classic_reserve(min + 1, DW_GUARD_MIN, &base), -EINVAL);
    CHECK_EQ(dw_classic_reserve(DW_WINDOW_SIZE, DW_GUARD_MIN, &base),
             -EINVAL);
    if (dw_classic_reserve(min, DW_GUARD_MIN, &base) != 0 || fd < 0) {
        CHECK(!"classic window reserved");
        return;
    }
    CHECK_EQ((uintptr_t)base, min);
    /* Something is there now: a second reservation is refused. */
    CHECK_EQ(dw_classic_reserve(min, DW_GUARD_MIN, &again), -EEXIST);

    /* Guest vaddr == host address. */
    CHECK_EQ(dw_map_range((void *)0x40000000, PG, PROT_READ, fd, PG), 0);
    CHECK(probe_read(0x40000000, &val));
    CHECK_EQ(val, pattern(1, 0));
    CHECK_EQ(dw_classic_reset(min), 0);
    CHECK(!probe_read(0x40000000, &val));

    CHECK_EQ(dw_release(base, DW_WINDOW_SIZE + DW_GUARD_MIN - min), 0);
    close(fd);
}

static void test_classic_reserve(void)
{
    with_probe_handler(classic_reserve);
}

/*
 * A flush inside a large page must drop the whole 4 MiB block, whether
 * or not the flushed page itself was mapped; blocks without large pages
 * keep the exact range.
 */
static void test_large_widen(void)
{
    static struct dw_large lg;
    uint32_t first, last;

    dw_large_clear_all(&lg);
    /* page 0x8000e of the 4 MiB page at 0x80000000 is mapped */
    dw_large_note(&lg, 0x8000e);
    first = last = 0x80000;
    CHECK(dw_large_widen(&lg, &first, &last));
    CHECK(first == 0x80000 && last == 0x803ff);
    /* the block is forgotten once flushed whole */
    first = last = 0x80000;
    CHECK(!dw_large_widen(&lg, &first, &last));
    CHECK(first == 0x80000 && last == 0x80000);

    /* a 4 KiB page elsewhere keeps its exact flush */
    first = last = 0x12345;
    CHECK(!dw_large_widen(&lg, &first, &last));
    CHECK(first == 0x12345 && last == 0x12345);

    /* a range with large pages at both ends widens both ends */
    dw_large_note(&lg, 0x00401);
    dw_large_note(&lg, 0x00bff);
    first = 0x00500;
    last = 0x00900;
    CHECK(dw_large_widen(&lg, &first, &last));
    CHECK(first == 0x00400 && last == 0x00bff);
    first = 0x00400;
    last = 0x00400;
    CHECK(!dw_large_widen(&lg, &first, &last));

    /* the last block of the 4 GiB space */
    dw_large_note(&lg, 0xfffff);
    first = last = 0xffc00;
    CHECK(dw_large_widen(&lg, &first, &last));
    CHECK(first == 0xffc00 && last == 0xfffff);
}

int main(void)
{
    run_test("mmu index <-> slot table", test_slot_map);
    run_test("layout sizes, strides and limits", test_layout_init);
    run_test("window base at vaddr 0/0xFFFFF000/0xFFFFFFFF",
             test_window_base_extremes);
    run_test("classify addresses inside windows", test_classify_window);
    run_test("classify addresses in the guard", test_classify_guard);
    run_test("classify padding, below and above", test_classify_outside);
    run_test("access context per slot", test_access_for_slot);
    run_test("protection: RAM, dirty, code, ROM, MMIO", test_prot_basic);
    run_test("protection: user, SMAP, CR0.WP", test_prot_privilege);
    run_test("batch: empty and nothing mappable", test_batch_empty);
    run_test("batch: all contiguous", test_batch_contiguous);
    run_test("batch: physical discontinuity", test_batch_phys_break);
    run_test("batch: protection change", test_batch_prot_break);
    run_test("batch: non-present holes", test_batch_not_present);
    run_test("batch: top of the guest space", test_batch_top_of_space);
    run_test("max_map_count parsing and cap", test_max_map_count);
    run_test("accounting: cap, victim, reset", test_acct_cap);
    run_test("accounting: concurrent updates", test_acct_threads);
    run_test("host: reserve, memfd map, PROT_NONE unmap",
             test_host_reserve_map_unmap);
    run_test("host: errors are -errno", test_host_errors);
    run_test("walk: 2-level, rights, A/D, CR3", test_walk_legacy);
    run_test("walk: PSE 4 MiB pages, A20", test_walk_pse_a20);
    run_test("walk: PAE, NX, reserved bits, 2 MiB", test_walk_pae);
    run_test("walk: PAE tables and frames above 4 GiB",
             test_walk_pae_high_tables);
    run_test("classic: vm.mmap_min_addr", test_classic_min_addr);
    run_test("classic: classify addresses", test_classic_classify);
    run_test("classic: reserve at 0, map, reset", test_classic_reserve);
    run_test("large pages: INVLPG widens to the 4 MiB block",
             test_large_widen);

    printf("1..%u\n", t_count);
    return t_failed ? 1 : 0;
}
