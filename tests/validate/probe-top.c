/*
 * Probe the top of a 32-bit address space from an i386 Linux program:
 * map the last page below 4 GiB, read and write its last bytes, then
 * make accesses that cross or wrap 4 GiB and report what happened
 * (the value read, or the signal and its address).  The output must be
 * the same under every qemu-i386 (upstream and qemu-fast).
 *
 * Build: gcc -m32 -static -O1 -msse2 -o probe-top probe-top.c
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define TOP_PAGE  0xfffff000u
#define LOW_PAGE  0x00010000u

static sigjmp_buf probe_env;
static volatile uintptr_t fault_addr;
static volatile int fault_sig;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    fault_sig = sig;
    fault_addr = (uintptr_t)si->si_addr;
    siglongjmp(probe_env, 1);
}

static void report(const char *name, int faulted, uint64_t value)
{
    if (faulted) {
        printf("%-28s signal %d at 0x%08lx\n", name, fault_sig,
               (unsigned long)fault_addr);
    } else {
        printf("%-28s ok 0x%016llx\n", name, (unsigned long long)value);
    }
}

/* Each probe runs between sigsetjmp and a fault or its return. */
#define PROBE(name, expr)                                   \
    do {                                                    \
        uint64_t v_ = 0;                                    \
        int f_ = sigsetjmp(probe_env, 1);                   \
        if (!f_) {                                          \
            v_ = (expr);                                    \
        }                                                   \
        report(name, f_, v_);                               \
    } while (0)

static uint32_t load32(uint32_t addr)
{
    return *(volatile uint32_t *)(uintptr_t)addr;
}

static uint16_t load16(uint32_t addr)
{
    return *(volatile uint16_t *)(uintptr_t)addr;
}

static uint64_t store32(uint32_t addr, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)addr = v;
    return load32(addr);
}

/* movq through an SSE register: one 8-byte guest access. */
static uint64_t load64_sse(uint32_t addr)
{
    uint64_t v;

    asm volatile("movq (%1), %%xmm0\n\tmovq %%xmm0, %0"
                 : "=m"(v) : "r"(addr) : "xmm0", "memory");
    return v;
}

/* movdqu: one 16-byte guest access; returns the xor of its halves. */
static uint64_t load128_sse(uint32_t addr)
{
    uint64_t v[2];

    asm volatile("movdqu (%1), %%xmm0\n\tmovdqu %%xmm0, %0"
                 : "=m"(v) : "r"(addr) : "xmm0", "memory");
    return v[0] ^ v[1];
}

/* Base + displacement wraps in the guest's 32-bit address arithmetic. */
static uint64_t load_wrapped_disp(uint32_t base)
{
    uint32_t v;

    asm volatile("movl 0x20000(%1), %0" : "=r"(v) : "r"(base) : "memory");
    return v;
}

static uint64_t xchg_top(uint32_t addr, uint32_t v)
{
    asm volatile("xchgl %0, (%1)" : "+r"(v) : "r"(addr) : "memory");
    return v;
}

static uint64_t lock_add_top(uint32_t addr)
{
    asm volatile("lock addl $1, (%0)" : : "r"(addr) : "memory");
    return load32(addr);
}

static uint64_t rep_movsb_cross(uint32_t src)
{
    char buf[16];
    uint32_t d = (uint32_t)(uintptr_t)buf, s = src, n = sizeof(buf);
    uint64_t v;

    asm volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    memcpy(&v, buf, sizeof(v));
    return v;
}

int main(void)
{
    struct sigaction sa;
    void *top, *low;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);

    /* Before mapping anything there: faults at the top. */
    PROBE("load32 0xfffffff0 unmapped", load32(0xfffffff0u));

    top = mmap((void *)(uintptr_t)TOP_PAGE, 4096, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("mmap top page: %s\n", top == MAP_FAILED ? "failed" : "mapped");
    low = mmap((void *)(uintptr_t)LOW_PAGE, 4096, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("mmap low page: %s\n", low == MAP_FAILED ? "failed" : "mapped");
    if (top == MAP_FAILED || low == MAP_FAILED) {
        /* A native i386 process cannot map there: nothing to compare. */
        return 0;
    }
    for (unsigned i = 0; i < 4096; i++) {
        ((volatile uint8_t *)top)[i] = (uint8_t)(i * 7 + 1);
        ((volatile uint8_t *)low)[i] = (uint8_t)(i * 13 + 5);
    }

    /* Inside the last page. */
    PROBE("load32 0xfffffffc", load32(0xfffffffcu));
    PROBE("store32 0xfffffffc", store32(0xfffffffcu, 0xa5a55a5au));
    PROBE("load16 0xfffffffe", load16(0xfffffffeu));
    PROBE("load8 0xffffffff", *(volatile uint8_t *)0xffffffffu);
    PROBE("movq 0xfffffff8", load64_sse(0xfffffff8u));
    PROBE("movdqu 0xfffffff0", load128_sse(0xfffffff0u));
    PROBE("xchg 0xfffffffc", xchg_top(0xfffffffcu, 0x12345678u));
    PROBE("lock add 0xfffffffc", lock_add_top(0xfffffffcu));

    /* Guest address arithmetic that wraps: base + 0x20000. */
    PROBE("disp wraps to 0x10000", load_wrapped_disp(0xffff0000u));
    PROBE("disp wraps to 0x1ff00", load_wrapped_disp(0xffffff00u));

    /* Accesses that cross 4 GiB. */
    PROBE("load32 0xfffffffe cross", load32(0xfffffffeu));
    PROBE("load16 0xffffffff cross", load16(0xffffffffu));
    PROBE("store32 0xfffffffd cross", store32(0xfffffffdu, 0x01020304u));
    PROBE("movq 0xfffffffc cross", load64_sse(0xfffffffcu));
    PROBE("movdqu 0xfffffff8 cross", load128_sse(0xfffffff8u));
    PROBE("rep movsb 0xfffffff8 cross", rep_movsb_cross(0xfffffff8u));

    /* The top page is still intact after the faults. */
    PROBE("load32 0xfffffff0 again", load32(0xfffffff0u));
    PROBE("load32 0x10000 again", load32(LOW_PAGE));
    printf("done\n");
    return 0;
}
