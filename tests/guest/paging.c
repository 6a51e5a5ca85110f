/*
 * paging: allocate a few MiB with malloc and mmap, touch every page, read
 * it all back; check that fresh anonymous memory is zero; map, touch and
 * unmap small buffers many times over with the same code, then use that
 * code on a buffer that lives; catch faults on read-only, inaccessible
 * and unmapped pages with a SIGSEGV handler.
 */
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "qftest.h"

#define PAGE 4096
#define MALLOC_SIZE (4 << 20)
#define MMAP_SIZE (3 << 20)
#define CHURN_PAGES 32
#define CHURN_ROUNDS 200
#define LIVE_SIZE (1 << 20)

static sigjmp_buf fault_jmp;
static volatile int fault_code;
static void *volatile fault_addr;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    fault_code = sig == SIGSEGV ? si->si_code : -1;
    fault_addr = si->si_addr;
    siglongjmp(fault_jmp, 1);
}

static uint32_t page_value(size_t page, uint32_t salt)
{
    return (uint32_t)page * 2654435761u ^ salt;
}

/* Write one word at a varying offset of every page, then check them all. */
static uint32_t touch_pages(uint8_t *p, size_t size, uint32_t salt,
                            const char *what)
{
    size_t npages = size / PAGE, i;
    uint32_t h = QF_HASH_INIT;
    int bad = 0;

    for (i = 0; i < npages; i++) {
        uint32_t *w = (uint32_t *)(p + i * PAGE + (i * 68) % (PAGE - 4));

        *w = page_value(i, salt);
        p[i * PAGE + PAGE - 1] = (uint8_t)i;
    }
    for (i = 0; i < npages; i++) {
        uint32_t *w = (uint32_t *)(p + i * PAGE + (i * 68) % (PAGE - 4));

        if (*w != page_value(i, salt) || p[i * PAGE + PAGE - 1] != (uint8_t)i) {
            bad++;
        }
        h = qf_hash_u32(h, *w);
    }
    QF_CHECK(bad == 0, "%s: %d of %zu pages read back wrong", what, bad,
             npages);
    printf("%s: %zu pages, hash %08x\n", what, npages, h);
    return h;
}

/*
 * Write a word to every page of [p, p + size), check it and that the
 * rest of the page is still zero; the number of bad pages.
 */
static int fill_and_check(uint8_t *p, size_t size, uint32_t salt,
                          uint32_t *h)
{
    size_t npages = size / PAGE, i;
    int bad = 0;

    for (i = 0; i < npages; i++) {
        *(volatile uint32_t *)(p + i * PAGE + 8) = page_value(i, salt);
    }
    for (i = 0; i < npages; i++) {
        uint32_t v = *(volatile uint32_t *)(p + i * PAGE + 8);

        bad += v != page_value(i, salt) || p[i * PAGE] != 0 ||
               p[i * PAGE + PAGE - 1] != 0;
        *h = qf_hash_u32(*h, v);
    }
    return bad;
}

/*
 * Buffers mapped, touched once and unmapped, by the same code each time:
 * under fast=seg their fills die young, and that code goes to the softmmu
 * path (then back).  It must see the same memory either way, on
 * short-lived buffers and on one that lives.
 */
static uint32_t test_churn(uint32_t h)
{
    uint32_t hh = QF_HASH_INIT;
    int bad = 0, round;
    uint8_t *p;

    for (round = 0; round < CHURN_ROUNDS; round++) {
        p = mmap(NULL, CHURN_PAGES * PAGE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            qf_fail("mmap");
            return h;
        }
        bad += fill_and_check(p, CHURN_PAGES * PAGE, round, &hh);
        QF_CHECK(munmap(p, CHURN_PAGES * PAGE) == 0, "munmap");
    }
    p = mmap(NULL, LIVE_SIZE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        qf_fail("mmap");
        return h;
    }
    for (round = 0; round < 3; round++) {
        bad += fill_and_check(p, LIVE_SIZE, round == 2 ? 0 : 77, &hh);
    }
    QF_CHECK(munmap(p, LIVE_SIZE) == 0, "munmap");
    QF_CHECK(bad == 0, "churn: %d pages read back wrong", bad);
    printf("churn: %d x %d pages, then %d, hash %08x\n", CHURN_ROUNDS,
           CHURN_PAGES, LIVE_SIZE / PAGE, hh);
    return qf_hash_u32(h, hh);
}

static int is_zero(const uint8_t *p, size_t size)
{
    size_t i;

    for (i = 0; i < size; i += sizeof(uint32_t)) {
        if (*(const uint32_t *)(p + i)) {
            return 0;
        }
    }
    return 1;
}

/*
 * Access @p (write when @write, else read).  Return the si_code of the
 * SIGSEGV it raised, or 0 when it did not fault.
 */
static int probe(uint8_t *p, int write)
{
    fault_code = 0;
    fault_addr = NULL;
    if (sigsetjmp(fault_jmp, 1) == 0) {
        if (write) {
            *(volatile uint8_t *)p = 0x42;
        } else {
            (void)*(volatile uint8_t *)p;
        }
        return 0;
    }
    QF_CHECK(fault_addr == p, "fault address is not the accessed one");
    return fault_code;
}

static const char *code_name(int code)
{
    switch (code) {
    case 0:
        return "no fault";
    case SEGV_MAPERR:
        return "SEGV_MAPERR";
    case SEGV_ACCERR:
        return "SEGV_ACCERR";
    default:
        return "other";
    }
}

static uint32_t test_faults(uint32_t h)
{
    struct sigaction sa;
    uint8_t *p;
    int code;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0) {
        qf_fail("sigaction");
        return h;
    }
    p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        qf_fail("mmap");
        return h;
    }
    memset(p, 0x5a, 4 * PAGE);

    /* Page 1 read-only: reads work, a write faults, the data stays. */
    QF_CHECK(mprotect(p + PAGE, PAGE, PROT_READ) == 0, "mprotect RO");
    code = probe(p + PAGE + 123, 0);
    printf("read of read-only page: %s\n", code_name(code));
    QF_CHECK(code == 0, "read of read-only page faulted");
    code = probe(p + PAGE + 123, 1);
    printf("write to read-only page: %s\n", code_name(code));
    QF_CHECK(code == SEGV_ACCERR, "write to read-only page: %d", code);
    QF_CHECK(p[PAGE + 123] == 0x5a, "read-only page was modified");
    h = qf_hash_u32(h, code);

    /* Page 2 inaccessible */
    QF_CHECK(mprotect(p + 2 * PAGE, PAGE, PROT_NONE) == 0, "mprotect NONE");
    code = probe(p + 2 * PAGE + 7, 0);
    printf("read of PROT_NONE page: %s\n", code_name(code));
    QF_CHECK(code == SEGV_ACCERR, "read of PROT_NONE page: %d", code);
    h = qf_hash_u32(h, code);

    /* Back to read-write: the write now succeeds */
    QF_CHECK(mprotect(p + PAGE, 2 * PAGE, PROT_READ | PROT_WRITE) == 0,
             "mprotect RW");
    code = probe(p + PAGE + 123, 1);
    printf("write after mprotect RW: %s\n", code_name(code));
    QF_CHECK(code == 0 && p[PAGE + 123] == 0x42, "write after mprotect RW");
    QF_CHECK(p[2 * PAGE + 7] == 0x5a, "PROT_NONE page lost its data");
    h = qf_hash_u32(h, code);

    /* Page 3 unmapped */
    QF_CHECK(munmap(p + 3 * PAGE, PAGE) == 0, "munmap");
    code = probe(p + 3 * PAGE, 1);
    printf("write to unmapped page: %s\n", code_name(code));
    QF_CHECK(code == SEGV_MAPERR, "write to unmapped page: %d", code);
    h = qf_hash_u32(h, code);

    munmap(p, 3 * PAGE);
    signal(SIGSEGV, SIG_DFL);
    return h;
}

int main(void)
{
    uint32_t h = QF_HASH_INIT;
    uint8_t *p;
    int round;

    p = malloc(MALLOC_SIZE);
    if (!p) {
        qf_fail("malloc");
        return qf_finish("paging", h);
    }
    h = qf_hash_u32(h, touch_pages(p, MALLOC_SIZE, 0x1234, "malloc"));
    free(p);

    for (round = 0; round < 2; round++) {
        p = mmap(NULL, MMAP_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            qf_fail("mmap");
            return qf_finish("paging", h);
        }
        QF_CHECK(is_zero(p, MMAP_SIZE), "fresh mmap is not zero");
        h = qf_hash_u32(h, touch_pages(p, MMAP_SIZE, round, "mmap"));
        QF_CHECK(munmap(p, MMAP_SIZE) == 0, "munmap");
    }

    h = test_churn(h);
    h = test_faults(h);
    return qf_finish("paging", h);
}
