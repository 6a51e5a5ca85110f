/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * unitcost: host costs of the operations that the qemu-fast direct mode
 * pays, measured on the host itself (x86-64 Linux only).  Prints one JSON
 * object; every number is in microseconds, the median over many batches
 * of the per-operation time of a batch:
 *
 *   segv_mmap_us          a SIGSEGV on a fresh page of a 4 GiB PROT_NONE
 *                         reservation whose handler maps a memfd page there
 *                         (mmap MAP_SHARED|MAP_FIXED), and the access that
 *                         retries and succeeds
 *   mmap_us               that mmap alone, at the same sparse addresses
 *   segv_us               a bare SIGSEGV round trip: the handler only moves
 *                         the instruction pointer past the faulting store
 *   segv_us_derived       segv_mmap_us - mmap_us, derived, not measured; it
 *                         also holds the page fault that fills the PTE when
 *                         the access retries, so it exceeds segv_us
 *   mprotect_us           mprotect of one mapped page, alternating between
 *                         read-only and read-write
 *   reset_2000_us         one mmap(PROT_NONE, MAP_FIXED|MAP_NORESERVE|
 *                         MAP_PRIVATE|MAP_ANONYMOUS) over the whole 4 GiB
 *                         reservation holding 2000 sparse touched pages
 *   reset_us_per_page     reset_2000_us / 2000
 *   arch_prctl_set_gs_us  arch_prctl(ARCH_SET_GS), alternating two values
 *   fsgsbase              whether user-mode WRGSBASE is enabled
 *                         (AT_HWCAP2 bit 1)
 *   wrgsbase_us           WRGSBASE alternating two values, or null
 *
 * The pages mapped by the segv/mmap measurements are spread over the
 * reservation (page index i * 4099 mod 2^20) and are reset, untimed,
 * whenever 2000 of them are mapped.  The GS base is restored at the end.
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#if !defined(__x86_64__) || !defined(__linux__)
#error "unitcost measures x86-64 Linux host costs"
#endif

#define WINDOW_BYTES    (1ull << 32)
#define PAGE            4096ull
#define WINDOW_PAGES    (WINDOW_BYTES / PAGE)
#define PAGE_STRIDE     4099ull     /* odd: visits every page of the window */
#define RESET_PAGES     2000u       /* mapped pages before a reset */

/* batches x operations per batch for each measurement */
#define MAP_BATCHES     200
#define MAP_BATCH_OPS   50          /* divides RESET_PAGES */
#define SEGV_BATCHES    200
#define SEGV_BATCH_OPS  50
#define PROT_BATCHES    200
#define PROT_BATCH_OPS  100
#define RESET_REPS      25
#define GS_BATCHES      200
#define GS_BATCH_OPS    100
#define WRGS_BATCHES    200
#define WRGS_BATCH_OPS  1000

#define HWCAP2_FSGSBASE (1ul << 1)

/* The store the bare SIGSEGV handler skips: movb $1, (%rax) */
#define SKIP_INSN_LEN   3
static const uint8_t skip_insn[SKIP_INSN_LEN] = { 0xc6, 0x00, 0x01 };

enum segv_mode {
    SEGV_MAP,       /* map the memfd page at the fault address */
    SEGV_SKIP,      /* step over the faulting store */
};

static uint8_t *window;
static int memfd = -1;
static volatile sig_atomic_t segv_mode;
static uint64_t next_page;
static unsigned mapped_pages;
static double samples[1000];

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "unitcost: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Median of samples[0..n), sorts them. */
static double median(int n)
{
    qsort(samples, n, sizeof(samples[0]), compare_doubles);
    if (n % 2) {
        return samples[n / 2];
    }
    return (samples[n / 2 - 1] + samples[n / 2]) / 2;
}

static double batch_us(uint64_t start, uint64_t end, int ops)
{
    return (double)(end - start) / 1000.0 / ops;
}

/* A page of the window not used since the last reset. */
static uint8_t *fresh_page(void)
{
    uint64_t index = (next_page++ * PAGE_STRIDE) % WINDOW_PAGES;

    return window + index * PAGE;
}

static void map_page(uint8_t *addr)
{
    if (mmap(addr, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
             memfd, 0) == MAP_FAILED) {
        fail("mmap of the memfd page: %s", strerror(errno));
    }
}

/* Makes the whole window PROT_NONE and empty again. */
static void reset_window(void)
{
    if (mmap(window, WINDOW_BYTES, PROT_NONE,
             MAP_FIXED | MAP_NORESERVE | MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0) == MAP_FAILED) {
        fail("reset of the window: %s", strerror(errno));
    }
    mapped_pages = 0;
}

static void segv_handler(int sig, siginfo_t *si, void *ctx)
{
    uint8_t *addr = si->si_addr;
    ucontext_t *uc = ctx;

    (void)sig;
    if (addr >= window && addr < window + WINDOW_BYTES) {
        if (segv_mode == SEGV_MAP) {
            uintptr_t page = (uintptr_t)addr & ~(uintptr_t)(PAGE - 1);

            if (mmap((void *)page, PAGE, PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_FIXED, memfd, 0) != MAP_FAILED) {
                return;
            }
        } else {
            greg_t *rip = &uc->uc_mcontext.gregs[REG_RIP];

            if (memcmp((const void *)*rip, skip_insn, SKIP_INSN_LEN) == 0) {
                *rip += SKIP_INSN_LEN;
                return;
            }
        }
    }
    /* Not ours, or the mmap failed: die of it */
    if (write(2, "unitcost: unexpected SIGSEGV\n", 29) < 0) {
        /* nothing more to say */
    }
    signal(SIGSEGV, SIG_DFL);
}

/* One page made present by mapping it directly. */
static void op_map(uint8_t *page)
{
    map_page(page);
}

/* One page made present by a store that faults and is mapped there. */
static void op_fault(uint8_t *page)
{
    /* volatile: each store must be done, and fault */
    *(volatile uint8_t *)page = 1;
}

/* Median cost of @op on fresh pages, in batches of MAP_BATCH_OPS. */
static double measure_map_batches(void (*op)(uint8_t *page))
{
    int b, i;

    reset_window();
    segv_mode = SEGV_MAP;
    for (b = 0; b < MAP_BATCHES; b++) {
        uint8_t *pages[MAP_BATCH_OPS];
        uint64_t start, end;

        if (mapped_pages + MAP_BATCH_OPS > RESET_PAGES) {
            reset_window();
        }
        for (i = 0; i < MAP_BATCH_OPS; i++) {
            pages[i] = fresh_page();
        }
        start = now_ns();
        for (i = 0; i < MAP_BATCH_OPS; i++) {
            op(pages[i]);
        }
        end = now_ns();
        mapped_pages += MAP_BATCH_OPS;
        samples[b] = batch_us(start, end, MAP_BATCH_OPS);
    }
    return median(MAP_BATCHES);
}

static double measure_mmap(void)
{
    return measure_map_batches(op_map);
}

static double measure_segv_mmap(void)
{
    return measure_map_batches(op_fault);
}

static double measure_segv(void)
{
    uint8_t *addr;
    int b, i;

    reset_window();
    addr = fresh_page();
    segv_mode = SEGV_SKIP;
    for (b = 0; b < SEGV_BATCHES; b++) {
        uint64_t start, end;

        start = now_ns();
        for (i = 0; i < SEGV_BATCH_OPS; i++) {
            __asm__ __volatile__(".byte 0xc6, 0x00, 0x01"   /* movb $1,(%rax) */
                                 : : "a"(addr) : "memory");
        }
        end = now_ns();
        samples[b] = batch_us(start, end, SEGV_BATCH_OPS);
    }
    segv_mode = SEGV_MAP;
    return median(SEGV_BATCHES);
}

static double measure_mprotect(void)
{
    uint8_t *addr;
    int b, i;

    reset_window();
    addr = fresh_page();
    map_page(addr);
    addr[0] = 1;
    for (b = 0; b < PROT_BATCHES; b++) {
        uint64_t start, end;

        start = now_ns();
        for (i = 0; i < PROT_BATCH_OPS; i++) {
            int prot = i % 2 ? PROT_READ | PROT_WRITE : PROT_READ;

            if (mprotect(addr, PAGE, prot) != 0) {
                fail("mprotect: %s", strerror(errno));
            }
        }
        end = now_ns();
        samples[b] = batch_us(start, end, PROT_BATCH_OPS);
    }
    return median(PROT_BATCHES);
}

static double measure_reset(void)
{
    int r;
    unsigned i;

    for (r = 0; r < RESET_REPS; r++) {
        uint64_t start, end;

        for (i = 0; i < RESET_PAGES; i++) {
            uint8_t *addr = fresh_page();

            map_page(addr);
            *(volatile uint8_t *)addr = 1;  /* volatile: populate the PTE */
        }
        start = now_ns();
        reset_window();
        end = now_ns();
        samples[r] = batch_us(start, end, 1);
    }
    return median(RESET_REPS);
}

static long arch_prctl(int code, unsigned long arg)
{
    return syscall(SYS_arch_prctl, code, arg);
}

static double measure_arch_prctl(void)
{
    const unsigned long values[2] = { 0x10000000ul, 0x20000000ul };
    int b, i;

    for (b = 0; b < GS_BATCHES; b++) {
        uint64_t start, end;

        start = now_ns();
        for (i = 0; i < GS_BATCH_OPS; i++) {
            if (arch_prctl(ARCH_SET_GS, values[i & 1]) != 0) {
                fail("arch_prctl(ARCH_SET_GS): %s", strerror(errno));
            }
        }
        end = now_ns();
        samples[b] = batch_us(start, end, GS_BATCH_OPS);
    }
    return median(GS_BATCHES);
}

static double measure_wrgsbase(void)
{
    const unsigned long values[2] = { 0x10000000ul, 0x20000000ul };
    int b, i;

    for (b = 0; b < WRGS_BATCHES; b++) {
        uint64_t start, end;

        start = now_ns();
        for (i = 0; i < WRGS_BATCH_OPS; i++) {
            __asm__ __volatile__("wrgsbase %0" : : "r"(values[i & 1]));
        }
        end = now_ns();
        samples[b] = batch_us(start, end, WRGS_BATCH_OPS);
    }
    return median(WRGS_BATCHES);
}

int main(int argc, char **argv)
{
    double segv_mmap, map, segv, prot, reset, set_gs, wrgs = 0;
    unsigned long orig_gs;
    struct sigaction sa;
    int fsgsbase;

    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: unitcost  (no arguments; prints JSON)\n");
        return 2;
    }

    window = mmap(NULL, WINDOW_BYTES, PROT_NONE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (window == MAP_FAILED) {
        fail("cannot reserve 4 GiB: %s", strerror(errno));
    }
    memfd = memfd_create("unitcost", 0);
    if (memfd < 0 || ftruncate(memfd, PAGE) != 0) {
        fail("memfd: %s", strerror(errno));
    }

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0) {
        fail("sigaction: %s", strerror(errno));
    }

    /* warm up: first touch of the memfd page, code and stack */
    map_page(window);
    window[0] = 1;
    reset_window();

    map = measure_mmap();
    segv_mmap = measure_segv_mmap();
    segv = measure_segv();
    prot = measure_mprotect();
    reset_window();
    reset = measure_reset();

    if (arch_prctl(ARCH_GET_GS, (unsigned long)&orig_gs) != 0) {
        fail("arch_prctl(ARCH_GET_GS): %s", strerror(errno));
    }
    set_gs = measure_arch_prctl();
    fsgsbase = (getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE) != 0;
    if (fsgsbase) {
        wrgs = measure_wrgsbase();
    }
    if (arch_prctl(ARCH_SET_GS, orig_gs) != 0) {
        fail("cannot restore the GS base: %s", strerror(errno));
    }

    printf("{\"segv_mmap_us\": %.3f, \"segv_us\": %.3f, "
           "\"segv_us_derived\": %.3f, \"mmap_us\": %.3f, "
           "\"mprotect_us\": %.3f, \"reset_2000_us\": %.3f, "
           "\"reset_us_per_page\": %.4f, \"arch_prctl_set_gs_us\": %.3f, "
           "\"fsgsbase\": %s, ",
           segv_mmap, segv, segv_mmap - map, map, prot, reset,
           reset / RESET_PAGES, set_gs, fsgsbase ? "true" : "false");
    if (fsgsbase) {
        printf("\"wrgsbase_us\": %.5f}\n", wrgs);
    } else {
        printf("\"wrgsbase_us\": null}\n");
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
