/*
 * xlink: direct jumps to another page whose target changes meaning, for
 * the fast mode's remembered cross-page jumps (tcg/direct-window-xlink.c).
 * Each case runs a jump until it is remembered, then changes what its
 * target address holds or means, and runs it again:
 *
 * - the code at the target is rewritten (the TB found there invalidated);
 * - another page is moved under the target with mremap (a TLB flush);
 * - one caller page mapped at two addresses, whose next pages differ
 *   (one TB, two targets);
 * - a conditional jump with both ways on other pages;
 * - an indirect jump whose pointer moves between two pages, whose code
 *   is rewritten too;
 * - more jumps than the vCPU's table has entries, into one page that is
 *   then rewritten;
 * - fork, after which the child's copy of the target page is rewritten,
 *   and both processes take turns (CR3 writes).
 */
#define _GNU_SOURCE
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qftest.h"

#define PAGE 4096
#define ROUNDS 400

typedef uint32_t (*fn_t)(void);

/* At @p: "jmp @to" (rel32); returns the end. */
static uint8_t *emit_jmp(uint8_t *p, const uint8_t *to)
{
    qf_put8(p, 0xe9);
    qf_put32(p + 1, (uint32_t)(to - (p + 5)));
    return p + 5;
}

static uint8_t *map_code(size_t len)
{
    uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    return p == MAP_FAILED ? NULL : p;
}

/* Calls @fn twice, so that its jump is remembered and then used. */
static uint32_t call_warm(fn_t fn, uint32_t want, uint32_t *bad)
{
    uint32_t v = fn();

    *bad += v != want;
    v = fn();
    *bad += v != want;
    return v;
}

/* The target's code is rewritten after the jump was remembered. */
static uint32_t check_smc(uint32_t h)
{
    uint8_t *code = map_code(2 * PAGE);
    uint32_t i, bad = 0;

    if (!code) {
        qf_fail("mmap for the rewritten target");
        return h;
    }
    emit_jmp(code, code + PAGE);
    for (i = 0; i < ROUNDS; i++) {
        qf_emit_mov_ret(code + PAGE, 1000 + i);
        h = qf_hash_u32(h, call_warm((fn_t)code, 1000 + i, &bad));
    }
    QF_CHECK(bad == 0, "code rewritten at the target: %u stale", bad);
    munmap(code, 2 * PAGE);
    return h;
}

/* mremap moves one of two code pages under the target in turn. */
static uint32_t check_mremap(uint32_t h)
{
    uint8_t *code = map_code(2 * PAGE);
    uint8_t *spare[2], *target;
    uint32_t i, bad = 0;

    spare[0] = map_code(PAGE);
    spare[1] = map_code(PAGE);
    if (!code || !spare[0] || !spare[1]) {
        qf_fail("mmap for the moved pages");
        return h;
    }
    target = code + PAGE;
    emit_jmp(code, target);
    qf_emit_mov_ret(spare[0], 1);
    qf_emit_mov_ret(spare[1], 2);
    for (i = 0; i < ROUNDS; i++) {
        uint32_t k = i & 1;

        /* version k goes under the target, and back to its place */
        if (mremap(spare[k], PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
                   target) != target) {
            qf_fail("mremap under the target");
            break;
        }
        h = qf_hash_u32(h, call_warm((fn_t)code, 1 + k, &bad));
        if (mremap(target, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
                   spare[k]) != spare[k]) {
            qf_fail("mremap back");
            break;
        }
    }
    QF_CHECK(bad == 0, "another page moved under the target: %u stale",
             bad);
    munmap(code, 2 * PAGE);
    munmap(spare[0], PAGE);
    munmap(spare[1], PAGE);
    return h;
}

/*
 * One page of code mapped at two addresses, followed by different pages:
 * a TB found through either runs for both, its jump goes to two places.
 */
static uint32_t check_alias(uint32_t h)
{
    int fd = memfd_create("xlink", 0);
    uint8_t *view[2];
    uint32_t i, k, bad = 0;
    uint8_t buf[PAGE];

    if (fd < 0 || ftruncate(fd, 3 * PAGE) != 0) {
        qf_fail("memfd for the aliased code");
        return h;
    }
    /* file page 0: jmp to the next page; 1 and 2: return 1 and 2 */
    memset(buf, 0xcc, sizeof(buf));
    emit_jmp(buf, buf + PAGE);
    if (pwrite(fd, buf, PAGE, 0) != PAGE) {
        qf_fail("write the aliased code");
    }
    for (k = 0; k < 2; k++) {
        qf_emit_mov_ret(buf, 1 + k);
        if (pwrite(fd, buf, PAGE, (1 + k) * PAGE) != PAGE) {
            qf_fail("write a target page");
        }
    }
    for (k = 0; k < 2; k++) {
        view[k] = map_code(2 * PAGE);
        if (!view[k] ||
            mmap(view[k], PAGE, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_FIXED,
                 fd, 0) != view[k] ||
            mmap(view[k] + PAGE, PAGE, PROT_READ | PROT_EXEC,
                 MAP_SHARED | MAP_FIXED, fd, (1 + k) * PAGE) !=
            view[k] + PAGE) {
            qf_fail("map the aliased code");
            return h;
        }
    }
    for (i = 0; i < ROUNDS; i++) {
        for (k = 0; k < 2; k++) {
            h = qf_hash_u32(h, call_warm((fn_t)view[k], 1 + k, &bad));
        }
    }
    QF_CHECK(bad == 0, "one caller at two addresses: %u wrong", bad);
    munmap(view[0], 2 * PAGE);
    munmap(view[1], 2 * PAGE);
    close(fd);
    return h;
}

/* volatile: the generated code reads it, the compiler must store it */
static volatile uint32_t taken;

/*
 * "cmpl $0, taken; je page 2" ends page 0, so that falling through goes
 * to page 1: both ways of the jump leave the page.
 */
static uint32_t check_jcc(uint32_t h)
{
    uint8_t *code = map_code(3 * PAGE);
    volatile uint32_t *flag = &taken;   /* volatile: as taken */
    uint8_t *p;
    uint32_t i, bad = 0;

    if (!code) {
        qf_fail("mmap for the conditional jump");
        return h;
    }
    p = code + PAGE - 13;
    qf_put8(p, 0x83);               /* cmpl $0, taken */
    qf_put8(p + 1, 0x3d);
    qf_put32(p + 2, (uint32_t)(uintptr_t)flag);
    qf_put8(p + 6, 0x00);
    qf_put8(p + 7, 0x0f);           /* je page 2 */
    qf_put8(p + 8, 0x84);
    qf_put32(p + 9, (uint32_t)(code + 2 * PAGE - (p + 13)));
    for (i = 0; i < ROUNDS; i++) {
        uint32_t t = (i / 3) & 1;

        if (i % 50 == 0) {
            qf_emit_mov_ret(code + PAGE, 10 + i);
            qf_emit_mov_ret(code + 2 * PAGE, 20 + i);
        }
        taken = !t;                 /* je jumps when it is 0 */
        h = qf_hash_u32(h, call_warm((fn_t)p, (t ? 20 : 10) + i / 50 * 50,
                                     &bad));
    }
    QF_CHECK(bad == 0, "a conditional jump out both ways: %u wrong", bad);
    munmap(code, 3 * PAGE);
    return h;
}

/* Where the indirect jump of check_indirect() goes; volatile: as taken */
static uint8_t *volatile indirect_to;

/*
 * "jmp *indirect_to" ends page 0; the pointer moves between pages 1 and
 * 2 every third round, whose code is rewritten every 50 rounds.
 */
static uint32_t check_indirect(uint32_t h)
{
    uint8_t *code = map_code(3 * PAGE);
    uint8_t *volatile *ptr = &indirect_to;  /* volatile: as taken */
    uint32_t i, bad = 0;

    if (!code) {
        qf_fail("mmap for the indirect jump");
        return h;
    }
    qf_put8(code, 0xff);            /* jmp *indirect_to */
    qf_put8(code + 1, 0x25);
    qf_put32(code + 2, (uint32_t)(uintptr_t)ptr);
    for (i = 0; i < ROUNDS; i++) {
        uint32_t k = (i / 3) & 1;

        if (i % 50 == 0) {
            qf_emit_mov_ret(code + PAGE, 30 + i);
            qf_emit_mov_ret(code + 2 * PAGE, 40 + i);
        }
        indirect_to = code + (1 + k) * PAGE;
        h = qf_hash_u32(h, call_warm((fn_t)code,
                                     (k ? 40 : 30) + i / 50 * 50, &bad));
    }
    QF_CHECK(bad == 0, "an indirect jump to other pages: %u wrong", bad);
    munmap(code, 3 * PAGE);
    return h;
}

/*
 * 3000 stubs "mov $k, %ecx; jmp common" on 8 pages, all jumping to one
 * function on the page after them: more jumps than a vCPU remembers.
 */
#define STUBS       3000
#define STUB_SIZE   10
static uint32_t check_many(uint32_t h)
{
    size_t len = 8 * PAGE;
    uint8_t *code = map_code(len + PAGE), *common = code + len;
    uint32_t pass, k, bad = 0;

    if (!code) {
        qf_fail("mmap for the stubs");
        return h;
    }
    for (k = 0; k < STUBS; k++) {
        uint8_t *s = code + k * STUB_SIZE;

        qf_put8(s, 0xb9);           /* mov $k, %ecx */
        qf_put32(s + 1, k);
        emit_jmp(s + 5, common);
    }
    for (pass = 0; pass < 4; pass++) {
        /* common: lea imm(%ecx), %eax; ret -- imm changes per pass */
        qf_put8(common, 0x8d);
        qf_put8(common + 1, 0x81);
        qf_put32(common + 2, pass * 100000);
        qf_put8(common + 6, 0xc3);
        for (k = 0; k < STUBS; k++) {
            fn_t fn = (fn_t)(code + k * STUB_SIZE);

            h = qf_hash_u32(h, call_warm(fn, pass * 100000 + k, &bad));
        }
    }
    QF_CHECK(bad == 0, "more jumps than the table holds: %u wrong", bad);
    munmap(code, len + PAGE);
    return h;
}

static void spin_ms(uint32_t ms)
{
    struct timespec a, b;

    clock_gettime(CLOCK_MONOTONIC, &a);
    do {
        clock_gettime(CLOCK_MONOTONIC, &b);
    } while ((b.tv_sec - a.tv_sec) * 1000 +
             (b.tv_nsec - a.tv_nsec) / 1000000 < (long)ms);
}

/*
 * After fork the child rewrites its copy of the target page; parent and
 * child then take turns over a pipe, each calling the same address.
 */
static uint32_t check_fork(uint32_t h)
{
    uint8_t *code = map_code(2 * PAGE);
    int to_child[2], to_parent[2], status;
    uint32_t i, bad = 0, child_bad = 0;
    char c = 0;
    pid_t pid;

    if (!code || pipe(to_child) != 0 || pipe(to_parent) != 0) {
        qf_fail("mmap or pipe for fork");
        return h;
    }
    emit_jmp(code, code + PAGE);
    qf_emit_mov_ret(code + PAGE, 1);
    call_warm((fn_t)code, 1, &bad);
    pid = fork();
    if (pid == 0) {
        qf_emit_mov_ret(code + PAGE, 2);
        /*
         * Past the time a new address space's user code spends on the
         * softmmu under fast=seg (-accel tcg,fast-young-ms, 10 ms), so
         * that both processes run the same translated jump.
         */
        spin_ms(50);
        for (i = 0; i < ROUNDS / 4; i++) {
            if (read(to_child[0], &c, 1) != 1) {
                _exit(2);
            }
            call_warm((fn_t)code, 2, &child_bad);
            if (write(to_parent[1], &c, 1) != 1) {
                _exit(2);
            }
        }
        _exit(child_bad ? 1 : 0);
    }
    for (i = 0; pid > 0 && i < ROUNDS / 4; i++) {
        call_warm((fn_t)code, 1, &bad);
        if (write(to_child[1], &c, 1) != 1 || read(to_parent[0], &c, 1) != 1) {
            bad++;
            break;
        }
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        bad++;
    }
    QF_CHECK(bad == 0, "the target rewritten in a forked child: %u wrong",
             bad);
    close(to_child[0]);
    close(to_child[1]);
    close(to_parent[0]);
    close(to_parent[1]);
    munmap(code, 2 * PAGE);
    return qf_hash_u32(h, bad);
}

static const struct qf_check checks[] = {
    { check_smc, "code rewritten at the target" },
    { check_mremap, "another page moved under the target" },
    { check_alias, "one caller at two addresses" },
    { check_jcc, "a conditional jump out both ways" },
    { check_indirect, "an indirect jump to other pages" },
    { check_many, "more jumps than the table holds" },
    { check_fork, "the target rewritten in a forked child" },
};

int main(void)
{
    return qf_run_checks("xlink", checks, sizeof(checks) / sizeof(checks[0]));
}
