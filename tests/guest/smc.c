/*
 * smc: self-modifying code.  Generate tiny i386 functions in memory, call
 * them, patch them (from C, from the generated code itself, across a page
 * boundary, with W^X mprotect toggling, and by redirecting a jump) and
 * check that every call runs the current bytes.
 */
#include <string.h>
#include <sys/mman.h>

#include "qftest.h"

#define PAGE 4096

typedef uint32_t (*fn_t)(uint32_t);

static uint8_t *code;

static uint32_t call(uint8_t *p, uint32_t arg)
{
    __builtin___clear_cache((char *)p, (char *)p + 64);
    return ((fn_t)p)(arg);
}

/* Patch the immediate from C between calls. */
static uint32_t test_patch(uint32_t h)
{
    uint32_t r1, r2, sum = 0;
    int i;

    qf_emit_mov_ret(code, 0x11111111);
    r1 = call(code, 0);
    qf_put32(code + 1, 0x22222222);
    r2 = call(code, 0);
    printf("patch: first %08x, second %08x\n", r1, r2);
    QF_CHECK(r1 == 0x11111111 && r2 == 0x22222222, "patched immediate");
    for (i = 0; i < 200; i++) {
        qf_put32(code + 1, i * 7919);
        sum += call(code, 0);
    }
    printf("patch loop: sum %08x\n", sum);
    QF_CHECK(sum == 7919u * 199 * 200 / 2, "patch loop sum");
    return qf_hash_u32(qf_hash_u32(qf_hash_u32(h, r1), r2), sum);
}

/*
 * The generated code stores its argument into the immediate of the very
 * next instruction, which must then see the new value:
 *     mov 4(%esp), %eax
 *     mov %eax, imm       (absolute address of the next immediate)
 *     mov $imm, %eax
 *     ret
 */
static uint32_t test_self_store(uint32_t h)
{
    uint8_t *p = code + 64;
    uint32_t r, sum = 0;
    int i, bad = 0;

    qf_put8(p, 0x8b);
    qf_put8(p + 1, 0x44);
    qf_put8(p + 2, 0x24);
    qf_put8(p + 3, 0x04);
    qf_put8(p + 4, 0xa3);
    qf_put32(p + 5, (uint32_t)(uintptr_t)(p + 10));
    qf_emit_mov_ret(p + 9, 0xdeadbeef);
    for (i = 1; i <= 100; i++) {
        r = call(p, i * 1000003u);
        if (r != i * 1000003u) {
            bad++;
        }
        sum += r;
    }
    printf("self store: sum %08x, %d stale\n", sum, bad);
    QF_CHECK(bad == 0, "self-modifying store ran stale code %d times", bad);
    return qf_hash_u32(h, sum);
}

/* An instruction whose immediate crosses into the next page. */
static uint32_t test_cross_page(uint32_t h)
{
    uint8_t *p = code + PAGE - 3;
    uint32_t r1, r2;

    qf_emit_mov_ret(p, 0xaabbccdd);
    r1 = call(p, 0);
    qf_put8(p + 4, 0x01);           /* high byte, in the second page */
    r2 = call(p, 0);
    printf("cross page: first %08x, second %08x\n", r1, r2);
    QF_CHECK(r1 == 0xaabbccdd && r2 == 0x01bbccdd, "cross-page patch");
    return qf_hash_u32(qf_hash_u32(h, r1), r2);
}

/* Redirect a jmp rel32 between two targets. */
static uint32_t test_jump(uint32_t h)
{
    uint8_t *jmp = code + 256, *a = code + 512, *b = code + 768;
    uint32_t sum = 0;
    int i;

    qf_emit_mov_ret(a, 3);
    qf_emit_mov_ret(b, 1000);
    qf_put8(jmp, 0xe9);
    for (i = 0; i < 100; i++) {
        uint8_t *target = (i % 3) ? a : b;

        qf_put32(jmp + 1, (uint32_t)(target - (jmp + 5)));
        sum += call(jmp, 0);
    }
    printf("jump: sum %u\n", sum);
    QF_CHECK(sum == 66 * 3 + 34 * 1000, "jump target sum %u", sum);
    return qf_hash_u32(h, sum);
}

/* Write while RW, call while RX, and toggle between them (W^X). */
static uint32_t test_wx(uint32_t h)
{
    uint8_t *p;
    uint32_t r1, r2;

    p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
             -1, 0);
    if (p == MAP_FAILED) {
        qf_fail("mmap RW");
        return h;
    }
    qf_emit_mov_ret(p, 0x5eed0001);
    QF_CHECK(mprotect(p, PAGE, PROT_READ | PROT_EXEC) == 0, "mprotect RX");
    r1 = call(p, 0);
    QF_CHECK(mprotect(p, PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect RW");
    qf_put32(p + 1, 0x5eed0002);
    QF_CHECK(mprotect(p, PAGE, PROT_READ | PROT_EXEC) == 0, "mprotect RX");
    r2 = call(p, 0);
    printf("w^x: first %08x, second %08x\n", r1, r2);
    QF_CHECK(r1 == 0x5eed0001 && r2 == 0x5eed0002, "W^X patch");
    munmap(p, PAGE);
    return qf_hash_u32(qf_hash_u32(h, r1), r2);
}

int main(void)
{
    uint32_t h = QF_HASH_INIT;

    code = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (code == MAP_FAILED) {
        qf_fail("mmap RWX");
        return qf_finish("smc", h);
    }
    memset(code, 0xcc, 2 * PAGE);   /* int3 everywhere else */
    h = test_patch(h);
    h = test_self_store(h);
    h = test_cross_page(h);
    h = test_jump(h);
    h = test_wx(h);
    return qf_finish("smc", h);
}
