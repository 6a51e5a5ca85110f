/*
 * Differential fuzz harness, assembly part: entering a generated case,
 * the end-of-case gate (int $0x30) and the exception stubs.
 *
 * A case starts with an iret built from a struct fz_start (see
 * harness.c), at CPL 0 on the case's own stack or at CPL 3 on its user
 * stack.  It ends with int $0x30, whose handler saves the registers and
 * returns from fz_run_case() on the harness stack.  Faults go to
 * fault_common, which calls fz_fault() to record and skip the
 * instruction, and returns to the case.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

        .text
        .code32

/* struct fz_start offsets */
#define S_EAX 0
#define S_EBX 4
#define S_ECX 8
#define S_EDX 12
#define S_ESI 16
#define S_EDI 20
#define S_EBP 24
#define S_ESP 28
#define S_EFL 32
#define S_EIP 36
#define S_CS 40
#define S_SS 44
#define S_DS 48
#define S_ES 52
#define S_FS 56
#define S_GS 60

/* void fz_run_case(struct fz_start *s) */
        .globl fz_run_case
fz_run_case:
        pushl %ebx
        pushl %esi
        pushl %edi
        pushl %ebp
        movl %esp, fz_harness_esp
        movl 20(%esp), %eax
        cmpl $0x08, S_CS(%eax)
        je 1f
        /* CPL 3: a full iret frame on the harness stack */
        pushl S_SS(%eax)
        pushl S_ESP(%eax)
        pushl S_EFL(%eax)
        pushl S_CS(%eax)
        pushl S_EIP(%eax)
        jmp 2f
1:      /* CPL 0: EIP, CS, EFLAGS just below the case's stack pointer */
        movl S_ESP(%eax), %ecx
        subl $12, %ecx
        movl S_EIP(%eax), %edx
        movl %edx, (%ecx)
        movl S_CS(%eax), %edx
        movl %edx, 4(%ecx)
        movl S_EFL(%eax), %edx
        movl %edx, 8(%ecx)
        movl %ecx, %esp
2:      /* from here on DS may have any base: read the struct through SS */
        movw %ss:S_DS(%eax), %ds
        movw %ss:S_ES(%eax), %es
        movw %ss:S_FS(%eax), %fs
        movw %ss:S_GS(%eax), %gs
        movl %ss:S_EBX(%eax), %ebx
        movl %ss:S_ECX(%eax), %ecx
        movl %ss:S_EDX(%eax), %edx
        movl %ss:S_ESI(%eax), %esi
        movl %ss:S_EDI(%eax), %edi
        movl %ss:S_EBP(%eax), %ebp
        movl %ss:S_EAX(%eax), %eax
        iret

/*
 * Below a vector and an error code: save the registers and segments of
 * the case as the C side's frame, switch to the harness data segments
 * and push the frame's address as the argument.
 */
.macro SAVE_FRAME
        pushal
        pushl %ds
        pushl %es
        pushl %fs
        pushl %gs
        movl $0x10, %eax
        movw %ax, %ds
        movw %ax, %es
        pushl %esp
.endm

/* int $0x30: the case is over. */
        .globl fz_case_end
fz_case_end:
        pushl $0
        pushl $0x30
        SAVE_FRAME
        call fz_end
        movl fz_harness_esp, %esp
        movl $0x10, %eax
        movw %ax, %fs
        movw %ax, %gs
        popl %ebp
        popl %edi
        popl %esi
        popl %ebx
        ret

fault_common:
        SAVE_FRAME
        call fz_fault
        addl $4, %esp
        popl %gs
        popl %fs
        popl %es
        popl %ds
        popal
        addl $8, %esp
        iret

/* Exception stubs: vectors with an error code do not push a zero. */
.macro STUB v, err
fz_stub_\v:
        .if \err == 0
        pushl $0
        .endif
        pushl $\v
        jmp fault_common
.endm
        STUB 0, 0
        STUB 1, 0
        STUB 2, 0
        STUB 3, 0
        STUB 4, 0
        STUB 5, 0
        STUB 6, 0
        STUB 7, 0
        STUB 8, 1
        STUB 9, 0
        STUB 10, 1
        STUB 11, 1
        STUB 12, 1
        STUB 13, 1
        STUB 14, 1
        STUB 15, 0
        STUB 16, 0
        STUB 17, 1
        STUB 18, 0
        STUB 19, 0
        STUB 20, 0
        STUB 21, 0
        STUB 22, 0
        STUB 23, 0
        STUB 24, 0
        STUB 25, 0
        STUB 26, 0
        STUB 27, 0
        STUB 28, 0
        STUB 29, 0
        STUB 30, 0
        STUB 31, 0

        .section .rodata
        .align 4
        .globl fz_stubs
fz_stubs:
        .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long fz_stub_\v
        .endr

        .bss
        .globl fz_harness_esp
fz_harness_esp:
        .long 0
