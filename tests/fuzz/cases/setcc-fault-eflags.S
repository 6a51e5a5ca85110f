# Hand-written cases for the fuzz harness (tests/fuzz/run --case FILE):
# SETcc to memory computes EFLAGS (cc_op moves to CC_OP_EFLAGS) before
# its store faults; QEMU 10.0 restores the cc_op recorded at the start of
# the instruction (patch 0017).  Case 0, found by tests/fuzz/run --seed 1
# (case 806): after "rcrb $38, mem" (CC_OP_ADCOX) the #PF frame gets
# EFLAGS with garbage high bits (VM, IOPL...), the harness's IRET enters
# vm86 mode and the guest hangs.  Case 1: ADD then SETGE, whose frame
# had wrong arithmetic flags.  Paging on, linear page 0 not present.
	.code32
	.text
fz_code_0:
	movl $0x12345e78, 118(%esi)
	movb $0x5a, 1168(%esi)
.Lc0_0:	shldl %cl, %ebx, 118(%esi)
.Lc0_0e:
.Lc0_1:	rcrb $38, 1168(%esi)
.Lc0_1e:
.Lc0_2:	setge (%edx)
.Lc0_2e:
fz_end_0: int $0x30
fz_code_1:
.Lc1_0:	addl %ebx, %eax
.Lc1_0e:
.Lc1_1:	setge (%edx)
.Lc1_1e:
fz_end_1: int $0x30
	.section .rodata
	.align 4
fz_tab_0: .long .Lc0_0, .Lc0_0e, .Lc0_1, .Lc0_1e, .Lc0_2, .Lc0_2e
fz_tab_1: .long .Lc1_0, .Lc1_0e, .Lc1_1, .Lc1_1e
	.globl fz_cases
fz_cases:
	.long fz_code_0, fz_end_0, fz_tab_0, 3
	.long 0x1, 0x804000, 0xc96
	.long 0,0xc1536da2,0xdfebf166,0,0x801000,0,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	.long fz_code_1, fz_end_1, fz_tab_1, 2
	.long 0x1, 0x804000, 0x2
	.long 0x7fffffff,0x1,0,0,0,0,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	.globl fz_ncases, fz_seed, fz_first
fz_ncases: .long 2
fz_seed: .long 0
fz_first: .long 0
