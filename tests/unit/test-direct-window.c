/*
 * Unit tests for the QEMU-free window core: tcg/direct-window-core.c and
 * tcg/direct-window-acct.c (TAP output)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#define _GNU_SOURCE

#include "direct-window-core.h"
#include "direct-window-acct.h"
#include "direct-window-rmap.h"
#include "tap.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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

/* ------------------------------------------------------------------ */
/* Layout                                                             */
/* ------------------------------------------------------------------ */


static void test_layout_init(void)
{
    struct dw_layout l;

    CHECK_EQ(dw_layout_init(&l, 4, 0, DW_PAGE_SIZE), 0);
    CHECK_EQ(l.n_vcpus, 4);
    CHECK_EQ(l.guard_size, 64 * 1024);
    /*
     * 4 GiB + 64 KiB rounds to 8 GiB; 24 windows of 8 GiB round up to a
     * 256 GiB block.
     */
    CHECK_EQ(DW_NB_WINDOWS, 24);
    CHECK_EQ(l.window_shift, 33);
    CHECK_EQ(l.window_stride, 8 * GiB);
    CHECK_EQ(l.block_shift, 38);
    CHECK_EQ(l.block_stride, 256 * GiB);
    CHECK_EQ(l.total_size, 1024 * GiB);

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

    /* 256 x 256 GiB is exactly the 64 TiB cap; one more vCPU is not. */
    CHECK_EQ(dw_layout_init(&l, 256, 0, DW_PAGE_SIZE), 0);
    CHECK_EQ(l.total_size, 1ULL << 46);
    CHECK_EQ(dw_layout_init(&l, 257, 0, DW_PAGE_SIZE), -ENOMEM);
    CHECK_EQ(dw_layout_init(&l, ~0u, 0, DW_PAGE_SIZE), -ENOMEM);
}

static void test_window_base_extremes(void)
{
    struct dw_layout l = layout_for(4);
    uintptr_t b = FAKE_BASE;

    CHECK_EQ(dw_block_base(&l, b, 0), b);
    CHECK_EQ(dw_block_base(&l, b, 3), b + 3 * 256 * GiB);
    CHECK_EQ(dw_window_base(&l, b, 0, 0), b);
    CHECK_EQ(dw_window_base(&l, b, 0, 2), b + 16 * GiB);
    CHECK_EQ(dw_window_base(&l, b, 2, 1), b + 512 * GiB + 8 * GiB);
    CHECK_EQ(dw_window_base(&l, b, 2, 7), b + 512 * GiB + 56 * GiB);

    CHECK_EQ(dw_host_addr(&l, b, 0, 0, 0), b);
    CHECK_EQ(dw_host_addr(&l, b, 0, 0, 0xFFFFF000u), b + 0xFFFFF000ULL);
    CHECK_EQ(dw_host_addr(&l, b, 0, 0, 0xFFFFFFFFu), b + 0xFFFFFFFFULL);
    CHECK_EQ(dw_host_addr(&l, b, 3, 2, 0), b + 768 * GiB + 16 * GiB);
    CHECK_EQ(dw_host_addr(&l, b, 3, 2, 0xFFFFF000u),
             b + 768 * GiB + 16 * GiB + 0xFFFFF000ULL);
    CHECK_EQ(dw_host_addr(&l, b, 3, 2, 0xFFFFFFFFu),
             b + 768 * GiB + 16 * GiB + 0xFFFFFFFFULL);
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

static void test_fit_cap(void)
{
    const char *path = write_tmp("a\nb\nc\n");

    CHECK_EQ(dw_count_lines_from(path), 3);
    unlink(path);
    CHECK_EQ(dw_count_lines_from("/nonexistent"), 0);
    /* Plenty left: the usual margin is kept. */
    CHECK_EQ(dw_fit_cap(57338, 65530, 400), 65530 - 400 - 8192);
    CHECK_EQ(dw_fit_cap(1000, 65530, 400), 1000);
    /* vm.max_map_count=600 with 360 in use: half of the 240 left. */
    CHECK_EQ(dw_fit_cap(300, 600, 360), 120);
    CHECK_EQ(dw_fit_cap(300, 600, 600), 1);
    CHECK_EQ(dw_fit_cap(300, 600, 599), 1);
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

/*
 * A rebase on the real VMA count scales every window down in proportion,
 * keeps the victim, and never raises anything.
 */
static void test_acct_rebase(void)
{
    struct dw_acct a;

    CHECK_EQ(dw_acct_init(&a, 4, 100), 0);
    dw_acct_note_ops(&a, 0, 30);        /* 60 */
    dw_acct_note_ops(&a, 2, 20);        /* 40 */
    CHECK_EQ(dw_acct_total(&a), 100);
    CHECK_EQ(dw_acct_rebase(&a, 10), 10);
    CHECK_EQ(dw_acct_window(&a, 0), 6);
    CHECK_EQ(dw_acct_window(&a, 2), 4);
    CHECK_EQ(dw_acct_window(&a, 1), 0);
    CHECK_EQ(dw_acct_victim(&a), 0);
    /* a count above the estimate changes nothing */
    CHECK_EQ(dw_acct_rebase(&a, 50), 10);
    CHECK_EQ(dw_acct_window(&a, 0), 6);
    CHECK_EQ(dw_acct_rebase(&a, -1), 10);
    /* to zero: every window empty in the books */
    CHECK_EQ(dw_acct_rebase(&a, 0), 0);
    CHECK_EQ(dw_acct_window(&a, 2), 0);
    dw_acct_destroy(&a);
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

    /*
     * Above vm.max_map_count the reset goes through munmap: the window
     * faults again and its range stays reserved, not a hole.
     */
    CHECK_EQ(dw_map_run(l, b, 0, 2, &rw), 0);
    CHECK(probe_read(w + 0x3005, &val));
    CHECK_EQ(dw_rereserve_by_unmap((void *)w, DW_WINDOW_SIZE), 0);
    check_fault_at(b, l, w + 0x3005, 0, 2, 0x3005, false);
    CHECK(mmap((void *)w, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS |
               MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED);
    CHECK_EQ(errno, EEXIST);
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
    /* One vCPU: 256 GiB (NORESERVE: costs no memory). */
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

static void test_prot_to_mmap(void)
{
    CHECK_EQ(dw_prot_to_mmap(DW_PROT_NONE), PROT_NONE);
    CHECK_EQ(dw_prot_to_mmap(DW_PROT_READ), PROT_READ);
    CHECK_EQ(dw_prot_to_mmap(DW_PROT_RW), PROT_READ | PROT_WRITE);
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

/* ------------------------------------------------------------------ */
/* Page-table stores                                                  */
/* ------------------------------------------------------------------ */

static bool write_pages(const struct dw_table_use *u, unsigned off,
                        unsigned len, uint32_t *first, uint32_t *n)
{
    *first = *n = 0xdead;
    return dw_table_write_pages(u, off, len, first, n);
}

static void test_table_write_pages(void)
{
    /* A 2-level page table for the 4 MiB at 0xc0400000. */
    struct dw_table_use pt = { 0, 1024, 2, 12, 0xc0400000u };
    /* A PAE page directory for the 1 GiB at 0xc0000000. */
    struct dw_table_use pd = { 0, 512, 3, 21, 0xc0000000u };
    /* A PAE PDPT: 4 entries 0x40 bytes into its page. */
    struct dw_table_use pdpt = { 0x40, 4, 3, 30, 0 };
    uint32_t first, n;

    CHECK(dw_table_use_valid(&pt));
    CHECK(dw_table_use_valid(&pd));
    CHECK(dw_table_use_valid(&pdpt));

    /* One 4-byte PTE: one page. */
    CHECK(write_pages(&pt, 5 * 4, 4, &first, &n));
    CHECK_EQ(first, 0xc0405);
    CHECK_EQ(n, 1);
    /* A byte, and a store straddling two PTEs: the entries it touches. */
    CHECK(write_pages(&pt, 5 * 4 + 3, 1, &first, &n));
    CHECK_EQ(first, 0xc0405);
    CHECK_EQ(n, 1);
    CHECK(write_pages(&pt, 5 * 4 + 2, 4, &first, &n));
    CHECK_EQ(first, 0xc0405);
    CHECK_EQ(n, 2);
    /* The whole table (a DMA into it): its 4 MiB. */
    CHECK(write_pages(&pt, 0, 4096, &first, &n));
    CHECK_EQ(first, 0xc0400);
    CHECK_EQ(n, 1024);

    /* One half of an 8-byte PDE: its 2 MiB. */
    CHECK(write_pages(&pd, 511 * 8 + 4, 4, &first, &n));
    CHECK_EQ(first, 0xffe00);
    CHECK_EQ(n, 512);

    /* The PDPT: only its own 32 bytes of the page count. */
    CHECK(!write_pages(&pdpt, 0, 0x40, &first, &n));
    CHECK_EQ(first, 0xdead);
    CHECK(!write_pages(&pdpt, 0x60, 8, &first, &n));
    CHECK(write_pages(&pdpt, 0x58, 8, &first, &n));
    CHECK_EQ(first, 0xc0000);
    CHECK_EQ(n, 0x40000);
    CHECK(write_pages(&pdpt, 0x3c, 8, &first, &n));
    CHECK_EQ(first, 0);
    CHECK_EQ(n, 0x40000);
    CHECK(!write_pages(&pdpt, 0x40, 0, &first, &n));

    /* Uses that cannot be right. */
    CHECK(!dw_table_use_valid(&(struct dw_table_use){ 0, 1025, 2, 12, 0 }));
    CHECK(!dw_table_use_valid(&(struct dw_table_use){ 2, 4, 3, 30, 0 }));
    CHECK(!dw_table_use_valid(&(struct dw_table_use){ 0, 1024, 2, 12,
                                                      0x800 }));
    CHECK(!dw_table_use_valid(&(struct dw_table_use){ 0, 512, 3, 21,
                                                      0xe0000000u }));
    CHECK(!dw_table_use_valid(&(struct dw_table_use){ 0, 0, 2, 12, 0 }));
}

static void test_table_write_was_absent(void)
{
    /* A 2-level page directory, and a PAE one at 0x100 into its page. */
    struct dw_table_use pd = { 0, 1024, 2, 22, 0 };
    struct dw_table_use pae = { 0x100, 512, 3, 21, 0xc0000000u };
    uint8_t before[4096] = { 0 };

    /* Entry 5 present, entry 6 not (only bit 0 counts). */
    before[5 * 4] = 0x67;
    before[6 * 4] = 0x66;
    CHECK(dw_table_write_was_absent(&pd, before, 6 * 4, 4));
    CHECK(!dw_table_write_was_absent(&pd, before, 5 * 4, 4));
    /* A byte in an entry's middle, a store straddling both. */
    CHECK(!dw_table_write_was_absent(&pd, before, 5 * 4 + 2, 1));
    CHECK(!dw_table_write_was_absent(&pd, before, 5 * 4 + 2, 4));
    CHECK(dw_table_write_was_absent(&pd, before, 6 * 4 + 3, 1));
    /* The whole page: entry 5 was present. */
    CHECK(!dw_table_write_was_absent(&pd, before, 0, 4096));

    /* PAE: the present bit is in the low word of the 8-byte entry. */
    before[0x100 + 7 * 8] = 0x01;
    CHECK(!dw_table_write_was_absent(&pae, before, 0x100 + 7 * 8 + 4, 4));
    CHECK(dw_table_write_was_absent(&pae, before, 0x100 + 8 * 8, 8));
    /* Bytes outside the use's entries touch none of them. */
    CHECK(!dw_table_write_was_absent(&pae, before, 0, 0x100));
    CHECK(!dw_table_write_was_absent(&pd, before, 6 * 4, 0));
}

static void test_table_floods(void)
{
    uint16_t stores = 0;

    /* Stores while the window is current are its own: never a flood. */
    for (unsigned i = 0; i < 100; i++) {
        CHECK(!dw_table_store_floods(&stores, false, 4));
    }
    CHECK(stores == 0);
    CHECK(!dw_table_store_floods(&stores, true, 4));
    CHECK(!dw_table_store_floods(&stores, true, 4));
    CHECK(!dw_table_store_floods(&stores, false, 4));
    CHECK(!dw_table_store_floods(&stores, true, 4));
    CHECK(dw_table_store_floods(&stores, true, 4));
    /* Once: the use is removed then; a counter past it stays quiet. */
    CHECK(!dw_table_store_floods(&stores, true, 4));
    CHECK(stores == 4);
    /* A walk through the table starts the count again. */
    stores = 0;
    CHECK(!dw_table_store_floods(&stores, true, 2));
    CHECK(dw_table_store_floods(&stores, true, 2));
}

int main(void)
{
    run_test("layout sizes, strides and limits", test_layout_init);
    run_test("window base at vaddr 0/0xFFFFF000/0xFFFFFFFF",
             test_window_base_extremes);
    run_test("classify addresses inside windows", test_classify_window);
    run_test("classify addresses in the guard", test_classify_guard);
    run_test("classify padding, below and above", test_classify_outside);
    run_test("max_map_count parsing and cap", test_max_map_count);
    run_test("accounting: cap, victim, reset", test_acct_cap);
    run_test("accounting: rebase on the real VMA count", test_acct_rebase);
    run_test("accounting: the cap fitted to the VMAs in use", test_fit_cap);
    run_test("accounting: concurrent updates", test_acct_threads);
    run_test("host: reserve, memfd map, PROT_NONE unmap",
             test_host_reserve_map_unmap);
    run_test("host: errors are -errno", test_host_errors);
    run_test("window protection as mmap flags", test_prot_to_mmap);
    run_test("page-table stores: the pages they change",
             test_table_write_pages);
    run_test("write flooding: stores while switched out",
             test_table_floods);
    run_test("stores into entries that were not present",
             test_table_write_was_absent);
    run_test("classic: vm.mmap_min_addr", test_classic_min_addr);
    run_test("classic: classify addresses", test_classic_classify);
    run_test("classic: reserve at 0, map, reset", test_classic_reserve);
    run_test("large pages: INVLPG widens to the 4 MiB block",
             test_large_widen);

    return tap_done();
}
