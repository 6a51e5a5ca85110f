/*
 * Boot code of the attack kernels: a multiboot header, the entry point,
 * the exception stubs (vectors 0-31), the ring-3 entry and the int 0x80
 * gate that brings ring 3 back to ring 0.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

        .section .head, "ax"
        .align 4
        /* Multiboot v1 header with the a.out kludge: load addresses given. */
        .int 0x1BADB002
        .int 0x10000
        .int -(0x10000 + 0x1BADB002)
        .int __load_st          /* header_addr: the header is first */
        .int __load_st          /* load_addr */
        .int __load_en          /* load_end_addr */
        .int __bss_en           /* bss_end_addr */
        .int _start             /* entry_addr */

        .text
        .code32
        .globl _start
_start:
        mov $kstack_top, %esp
        cld
        call kmain
        /* kmain returns the exit code: 0 is an ACPI power-off. */
        test %eax, %eax
        jz 1f
        out %ax, $0xf4
1:      mov $0x604, %edx
        mov $0x2000, %eax
        out %ax, %dx
        hlt
        jmp 1b

        .globl __sys_outc
__sys_outc:
        mov 4(%esp), %eax
        out %al, $0xe9
        ret

/* Exception stubs: push a zero error code where the CPU pushes none. */
.macro STUB n, has_err
stub_\n:
.if \has_err == 0
        pushl $0
.endif
        pushl $\n
        jmp stub_common
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
        STUB 21, 1
        STUB 22, 0
        STUB 23, 0
        STUB 24, 0
        STUB 25, 0
        STUB 26, 0
        STUB 27, 0
        STUB 28, 0
        STUB 29, 1
        STUB 30, 1
        STUB 31, 0

stub_common:
        pushal
        push %ds
        push %es
        push %fs
        push %gs
        mov $0x10, %eax
        mov %eax, %ds
        mov %eax, %es
        mov %eax, %fs
        mov %eax, %gs
        cld
        push %esp
        call trap_handler
        add $4, %esp
        pop %gs
        pop %fs
        pop %es
        pop %ds
        popal
        add $8, %esp
        iret

        .section .rodata
        .globl stub_table
        .align 4
stub_table:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        .int stub_\n
        .endr
        .irp n, 16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .int stub_\n
        .endr

        .text
/*
 * void run_user(void (*fn)(unsigned), unsigned arg): call fn(arg) at CPL3
 * on the user stack; returns when fn returns (it ends with int $0x80).
 */
        .globl run_user
run_user:
        push %ebp
        push %ebx
        push %esi
        push %edi
        mov %esp, kern_saved_esp
        mov 20(%esp), %eax
        mov %eax, user_fn
        mov 24(%esp), %eax
        mov %eax, user_arg
        pushl $0x23             /* SS: user data */
        pushl $ustack_top
        pushl $0x2              /* EFLAGS: IF=0, IOPL=0 */
        pushl $0x1b             /* CS: user code */
        pushl $user_entry
        mov $0x23, %eax
        mov %eax, %ds
        mov %eax, %es
        mov %eax, %fs
        mov %eax, %gs
        iret

user_entry:
        pushl user_arg
        call *user_fn
        add $4, %esp
        int $0x80
        ud2

/* int $0x80 (DPL 3): drop the ring-3 context, return from run_user. */
        .globl syscall_stub
syscall_stub:
        mov $0x10, %eax
        mov %eax, %ds
        mov %eax, %es
        mov %eax, %fs
        mov %eax, %gs
        mov kern_saved_esp, %esp
        pop %edi
        pop %esi
        pop %ebx
        pop %ebp
        ret

        .bss
        .align 16
        .globl kstack_top, tstack_top, ustack_top
        .space 32768
kstack_top:
        .space 16384
tstack_top:
        .space 32768
ustack_top:
        .lcomm kern_saved_esp, 4
        .lcomm user_fn, 4
        .lcomm user_arg, 4
