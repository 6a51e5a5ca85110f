/*
 * Reproducer (linux-user, also system mode) of an upstream QEMU 10.0 bug
 * found by tests/fuzz/run --seed 1 (case 806): after "rcrb $imm, mem"
 * a fault raised before the flags are recomputed sees an EFLAGS image with
 * garbage high bits (IOPL, VM, ...).  build/qemu-i386 aborts on
 * translate.c "assertion failed: (IOPL(dc) == iopl)"; natively it prints
 * the signal frame eflags.  gcc -m32 -static -O1 rcr-eflags-user.c
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <signal.h>
#include <ucontext.h>
#include <stdlib.h>
static void h(int s, siginfo_t *si, void *uc_)
{
    ucontext_t *uc = uc_;
    printf("eflags in signal frame: %08x\n", (unsigned)uc->uc_mcontext.gregs[REG_EFL]);
    exit(0);
}
int main(void)
{
    struct sigaction sa = { .sa_sigaction = h, .sa_flags = SA_SIGINFO };
    sigaction(SIGSEGV, &sa, 0);
    static unsigned int m = 0x12345678;
    static unsigned char b = 0x5a;
    asm volatile("shldl %%cl, %%ebx, %0\n\t"
                 "rcrb $38, %1\n\t"
                 "setge (%%edx)\n\t"
                 : "+m"(m), "+m"(b) : "b"(0xc1536da2), "c"(0xdfebf166), "d"(0) : "cc", "memory");
    return 0;
}
