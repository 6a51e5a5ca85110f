# Hand-written cases for the fuzz harness (tests/fuzz/run --case FILE):
# blocks saved and loaded by helpers (FNSAVE, FXSAVE, FNSTENV) whose
# area crosses 0xffffffff and wraps to 0.  QEMU 10.0 aborts on
# access.c "access_ptr: Assertion 'addr >= ac->vaddr'" (patch 0015).
# Case 0, found by tests/fuzz/run --seed 1 (case 1420): paging off,
# fnsave at 0xffffffbc (BIOS ROM, then RAM page 0); case 1: fxsave at
# 0xffffff00; case 2: paging on, the top page mapping arena page 3 and
# page 0 arena page 9.
	.code32
	.text
fz_code_0:
.Lc0_0:	fnsave (%edi)
.Lc0_0e:
.Lc0_1:	frstor (%edi)
.Lc0_1e:
fz_end_0: int $0x30
fz_code_1:
.Lc1_0:	fxsave (%ebx)
.Lc1_0e:
.Lc1_1:	fxrstor (%ebx)
.Lc1_1e:
fz_end_1: int $0x30
fz_code_2:
.Lc2_0:	fldpi
.Lc2_0e:
.Lc2_1:	fnsave (%edi)
.Lc2_1e:
.Lc2_2:	frstor (%edi)
.Lc2_2e:
.Lc2_3:	fxsave (%ebx)
.Lc2_3e:
.Lc2_4:	fxrstor (%ebx)
.Lc2_4e:
.Lc2_5:	fnstenv (%esi)
.Lc2_5e:
.Lc2_6:	fldenv (%esi)
.Lc2_6e:
fz_end_2: int $0x30
	.section .rodata
	.align 4
fz_tab_0: .long .Lc0_0, .Lc0_0e, .Lc0_1, .Lc0_1e
fz_tab_1: .long .Lc1_0, .Lc1_0e, .Lc1_1, .Lc1_1e
fz_tab_2: .long .Lc2_0, .Lc2_0e, .Lc2_1, .Lc2_1e, .Lc2_2, .Lc2_2e, .Lc2_3, .Lc2_3e, .Lc2_4, .Lc2_4e, .Lc2_5, .Lc2_5e, .Lc2_6, .Lc2_6e
	.globl fz_cases
fz_cases:
	.long fz_code_0, fz_end_0, fz_tab_0, 2
	.long 0x0, 0x804000, 0x2
	.long 0,0,0,0,0,0xffffffbc,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	.long fz_code_1, fz_end_1, fz_tab_1, 2
	.long 0x0, 0x804000, 0x2
	.long 0,0xffffff00,0,0,0,0,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	.long fz_code_2, fz_end_2, fz_tab_2, 7
	.long 0x1, 0x804000, 0x2
	.long 0,0xffffff00,0,0,0xfffffff0,0xffffffbc,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0xc009,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0xc003
	.globl fz_ncases, fz_seed, fz_first
fz_ncases: .long 3
fz_seed: .long 0
fz_first: .long 0
