/*
 * ras: returns that do not go where the matching call said they would,
 * for the fast mode's return-address stack (tcg/direct-window-ras.c).
 * Each case runs many times, so that the return's prediction is made and
 * linked before the case breaks it:
 *
 * - recursion deeper than the stack's 16 entries;
 * - a callee that rewrites its return address, every time or every
 *   other time;
 * - a callee that rewrites the instruction at its return address;
 * - a callee that maps another page under its return address;
 * - longjmp out of nested calls;
 * - a call whose callee forks, so that two processes return from it.
 */
#include <setjmp.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qftest.h"

#define PAGE 4096
#define ROUNDS 2000

/* Depth-first sum over a call tree deeper than the return stack. */
static __attribute__((noinline)) uint32_t deep(uint32_t depth, uint32_t x)
{
    if (depth == 0) {
        return x * 2654435761u;
    }
    return deep(depth - 1, x + depth) ^ (depth * 40503u);
}

static uint32_t check_deep(uint32_t h)
{
    uint32_t i, want = 0, got = 0;

    /* The same sum without calls: deep(d, x) = f(x + d(d+1)/2) ^ ... */
    for (i = 0; i < ROUNDS; i++) {
        uint32_t d = 20 + i % 40, x = i, v, k;

        v = x;
        for (k = d; k > 0; k--) {
            v += k;
        }
        v *= 2654435761u;
        for (k = 1; k <= d; k++) {
            v ^= k * 40503u;
        }
        want ^= v;
        got ^= deep(d, x);
    }
    QF_CHECK(got == want, "deep calls: %08x, want %08x", got, want);
    return qf_hash_u32(h, got);
}

/*
 * redirect_call(n): calls a callee that returns straight to "alt" when
 * n is odd (it rewrites its return address), to the instruction after
 * the call otherwise.  Returns 1 for the normal path, 2 for alt.
 */
uint32_t redirect_call(uint32_t n);
__asm__(".text\n"
        ".globl redirect_call\n"
        "redirect_call:\n"
        "    movl 4(%esp), %ecx\n"
        "    call 1f\n"
        "    movl $1, %eax\n"
        "    ret\n"
        "2:  movl $2, %eax\n"
        "    ret\n"
        "1:  testl $1, %ecx\n"
        "    jz 3f\n"
        "    movl $2b, (%esp)\n"
        "3:  ret\n");

static uint32_t check_redirect(uint32_t h)
{
    uint32_t i, bad = 0;

    for (i = 0; i < ROUNDS; i++) {
        /* always the normal path, then always alt, then alternating */
        uint32_t n = i < ROUNDS / 3 ? 0 : i < 2 * ROUNDS / 3 ? 1 : i;
        uint32_t v = redirect_call(n);

        bad += v != (n & 1 ? 2u : 1u);
        h = qf_hash_u32(h, v);
    }
    QF_CHECK(bad == 0, "rewritten return addresses: %u wrong returns", bad);
    return h;
}

/*
 * At @p: "call g; R: mov $imm, %eax; ret; g: <g_body>", with g's body
 * given; returns the address of R's immediate.
 */
static uint8_t *emit_caller(uint8_t *p, uint32_t imm, const uint8_t *g_body,
                            size_t g_len)
{
    qf_put8(p, 0xe8);               /* call g (rel32: past the 6 + 1 below) */
    qf_put32(p + 1, 5 + 1);
    qf_put8(p + 5, 0xb8);           /* R: mov $imm, %eax */
    qf_put32(p + 6, imm);
    qf_put8(p + 10, 0xc3);          /* ret */
    memcpy(p + 11, g_body, g_len);  /* g */
    return p + 6;
}

/* Nonzero: g changes what its return goes back to (else it just returns). */
static volatile uint32_t change;

/*
 * At @g: "cmpl $0, change; je 1f; <body>; 1: ret", @body_len bytes of
 * body at @g + 9; returns the length.
 */
static size_t emit_if_change(uint8_t *g, size_t body_len)
{
    volatile uint32_t *flag = &change;

    g[0] = 0x83;                    /* cmpl $0, change */
    g[1] = 0x3d;
    memcpy(g + 2, &flag, 4);
    g[6] = 0x00;
    g[7] = 0x74;                    /* je 1f */
    g[8] = (uint8_t)body_len;
    g[9 + body_len] = 0xc3;         /* 1: ret */
    return 10 + body_len;
}

/*
 * Calls @fn twice per round: once with g changing nothing, so that the
 * return is linked, then once with g changing the return's target before
 * returning.  @want(v, changed) is what each call must return.
 */
static uint32_t call_pairs(uint32_t h, uint32_t rounds, uint8_t *fn,
                           uint32_t (*want)(uint32_t round, int changed),
                           uint32_t *bad)
{
    uint32_t i;
    int c;

    for (i = 0; i < rounds; i++) {
        for (c = 0; c < 2; c++) {
            uint32_t v;

            change = c;
            v = ((uint32_t (*)(void))fn)();
            *bad += v != want(i, c);
            h = qf_hash_u32(h, v);
        }
    }
    change = 0;
    return h;
}

/* The call of round i that changes the code returns 1000 + i + 1. */
static uint32_t smc_want(uint32_t i, int changed)
{
    return 1000 + i + changed;
}

/*
 * The callee increments the immediate of the instruction it returns to,
 * when asked to: after a call that did not, whose return linked the
 * code there, and whose call pushed it.
 */
static uint32_t check_smc(uint32_t h)
{
    uint8_t *code = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t g[16];
    uint8_t *imm;
    uint32_t bad = 0;

    if (code == MAP_FAILED) {
        qf_fail("mmap for the return site's code");
        return h;
    }
    /* g's body: incl imm (absolute) */
    imm = code + 6;
    g[9] = 0xff;
    g[10] = 0x05;
    memcpy(g + 11, &imm, 4);
    emit_caller(code, 1000, g, emit_if_change(g, 6));
    h = call_pairs(h, ROUNDS / 2, code, smc_want, &bad);
    QF_CHECK(bad == 0, "code rewritten at the return address: %u stale",
             bad);
    munmap(code, PAGE);
    return h;
}

/* The two versions of the remapped page, and where it is mapped. */
static uint8_t *remap_at;
static uint8_t remap_page[2][PAGE];
static uint32_t remap_next;

/*
 * Called from the generated code's g: puts the other version of the
 * page under it, at the same address; g's "ret" is at the same offset.
 */
static void __attribute__((used)) remap_under_caller(void)
{
    remap_next ^= 1;
    if (mmap(remap_at, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != remap_at) {
        qf_fail("mmap MAP_FIXED under the caller");
        return;
    }
    memcpy(remap_at, remap_page[remap_next], PAGE);
}

/* Version 0 returns 1, version 1 returns 2; round i starts in i % 2. */
static uint32_t remap_want(uint32_t i, int changed)
{
    return 1 + ((i + changed) & 1);
}

static uint32_t check_remap(uint32_t h)
{
    void (*fn)(void) = remap_under_caller;
    uint8_t g[17];
    uint32_t bad = 0;
    size_t len;

    remap_at = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (remap_at == MAP_FAILED) {
        qf_fail("mmap for the remapped page");
        return h;
    }
    /* g's body: mov $remap_under_caller, %eax; call *%eax */
    g[9] = 0xb8;
    memcpy(g + 10, &fn, 4);
    g[14] = 0xff;
    g[15] = 0xd0;
    len = emit_if_change(g, 7);
    emit_caller(remap_page[0], 1, g, len);
    emit_caller(remap_page[1], 2, g, len);
    memcpy(remap_at, remap_page[0], PAGE);
    remap_next = 0;
    h = call_pairs(h, ROUNDS / 8, remap_at, remap_want, &bad);
    QF_CHECK(bad == 0, "another page under the return address: %u stale",
             bad);
    munmap(remap_at, PAGE);
    return h;
}

static jmp_buf jump;
/* volatile: read after longjmp, set around it */
static volatile int jump_armed;

static __attribute__((noinline)) void nest_then_jump(uint32_t depth,
                                                     uint32_t v)
{
    if (depth == 0) {
        if (jump_armed) {
            longjmp(jump, (int)v);
        }
        return;
    }
    nest_then_jump(depth - 1, v);
    __asm__ volatile("" : : : "memory");
}

static __attribute__((noinline)) uint32_t leaf(uint32_t v)
{
    __asm__ volatile("" : : : "memory");
    return v * 3 + 1;
}

/* static: setjmp's caller keeps nothing in registers across longjmp */
static uint32_t jump_round, jump_bad, jump_hash;

static uint32_t check_longjmp(uint32_t h)
{
    jump_bad = 0;
    jump_hash = h;
    jump_armed = 1;
    for (jump_round = 1; jump_round <= ROUNDS / 4; jump_round++) {
        int r = setjmp(jump);

        if (r == 0) {
            nest_then_jump(1 + jump_round % 25, jump_round);
            qf_fail("longjmp returned normally");
        }
        jump_bad += (uint32_t)r != jump_round;
        /* returns after the longjmp must still be right */
        jump_bad += leaf(r) != (uint32_t)r * 3 + 1;
        jump_hash = qf_hash_u32(jump_hash, (uint32_t)r);
    }
    jump_armed = 0;
    QF_CHECK(jump_bad == 0, "longjmp out of nested calls: %u wrong",
             jump_bad);
    return jump_hash;
}

static __attribute__((noinline)) pid_t fork_in_callee(void)
{
    pid_t pid = fork();

    __asm__ volatile("" : : : "memory");
    return pid;
}

static uint32_t check_fork(uint32_t h)
{
    uint32_t i, bad = 0;

    for (i = 0; i < 20; i++) {
        int status;
        pid_t pid = fork_in_callee();

        if (pid == 0) {
            /* the child returns from the same call, and from more */
            _exit(leaf(i) == i * 3 + 1 ? 0 : 1);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid ||
            !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            bad++;
        }
        bad += leaf(i) != i * 3 + 1;
    }
    QF_CHECK(bad == 0, "returns on both sides of fork: %u wrong", bad);
    return qf_hash_u32(h, bad);
}

static const struct qf_check checks[] = {
    { check_deep, "deep calls" },
    { check_redirect, "rewritten return addresses" },
    { check_smc, "code rewritten at the return address" },
    { check_remap, "another page under the return address" },
    { check_longjmp, "longjmp" },
    { check_fork, "fork in a callee" },
};

int main(void)
{
    return qf_run_checks("ras", checks, sizeof(checks) / sizeof(checks[0]));
}
