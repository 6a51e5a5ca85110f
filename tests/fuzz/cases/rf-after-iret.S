# Hand-written cases for the fuzz harness (tests/fuzz/run --case FILE):
# EFLAGS.RF after the IRET of a fault handler (patch 0019).  The frame of
# a fault has RF=1; the processor clears it once the next instruction
# completes, so the INT $0x30 that ends the case must push RF=0.  QEMU
# 10.0 clears RF at the end of the translation block: fast=off pushes
# RF=1 (the access and the INT in one block), fast=seg RF=0 (it runs the
# access alone on the softmmu path, which ends its block).  Found by
# tests/fuzz/run --seed 1 (case 115: #BR from BOUND, then a DEC of the
# BIOS ROM).  Case 0: paging off, #UD, then an INC of the ROM (ignored).
# Case 1: CPL 3 with paging, #PF on the not-present page 0x40000000,
# then an INC of the BIOS at 0xf0000 (read-only, through the identity
# map of 0-4 MiB).
	.code32
	.text
fz_code_0:
.Lc0_0:	ud2
.Lc0_0e:
.Lc0_1:	incl 0xffffe000
.Lc0_1e:
fz_end_0: int $0x30
fz_code_1:
.Lc1_0:	movl 0x40000000, %eax
.Lc1_0e:
.Lc1_1:	incl 0x000f0000
.Lc1_1e:
fz_end_1: int $0x30
	.section .rodata
	.align 4
fz_tab_0: .long .Lc0_0, .Lc0_0e, .Lc0_1, .Lc0_1e
fz_tab_1: .long .Lc1_0, .Lc1_0e, .Lc1_1, .Lc1_1e
	.globl fz_cases
fz_cases:
	.long fz_code_0, fz_end_0, fz_tab_0, 2
	.long 0x0, 0x804000, 0x2
	.long 0,0,0,0,0,0,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	.long fz_code_1, fz_end_1, fz_tab_1, 2
	.long 0x5, 0x804000, 0x2
	.long 0,0,0,0,0,0,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	.globl fz_ncases, fz_seed, fz_first
fz_ncases: .long 2
fz_seed: .long 0
fz_first: .long 0
