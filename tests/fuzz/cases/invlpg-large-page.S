# A hand-written pair of cases for the fuzz harness (tests/fuzz/run
# --case FILE): the first maps the 4 MiB page at 0x80000000 (flags
# paging|big|big_rw|big_u) and reads 0x8000e018; the second clears that
# PDE, and the harness invalidates with INVLPG: 0, ..., 0x80000000
# (flags paging|invlpg).  Its read of 0x8000e018 must take a #PF
# (error 0, CR2 0x8000e018).  Found by tests/fuzz/run --seed 1.
	.code32
	.text
fz_code_0:
	movl $0x8000e018, %ebx
.Lc0_0:	movl (%ebx), %eax
.Lc0_0e:
fz_end_0: int $0x30
fz_code_1:
	movl $0x8000e018, %ebx
.Lc1_0:	movl (%ebx), %eax
.Lc1_0e:
fz_end_1: int $0x30
	.section .rodata
	.align 4
fz_tab_0: .long .Lc0_0, .Lc0_0e
fz_tab_1: .long .Lc1_0, .Lc1_0e
	.globl fz_cases
fz_cases:
	.long fz_code_0, fz_end_0, fz_tab_0, 1
	.long 0x71, 0x804000, 0x2
	.long 0,0,0,0,0,0,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	.long fz_code_1, fz_end_1, fz_tab_1, 1
	.long 0x09, 0x804000, 0x2
	.long 0,0,0,0,0,0,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	.globl fz_ncases, fz_seed, fz_first
fz_ncases: .long 2
fz_seed: .long 0
fz_first: .long 0
