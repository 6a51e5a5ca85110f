# Hand-written cases for the fuzz harness (tests/fuzz/run --case FILE):
# 10-byte FSTPT/FLDT whose first page holds 2 bytes (patch 0016).
# QEMU 10.0 accesses the 8-byte mantissa through the host pointer of
# the first page and the exponent at a NULL-based pointer when the
# second page has none: case 0 (end of the 64 MiB of RAM, paging off)
# crashes it with SIGSEGV.  Case 1: RAM then the VGA hole; case 2: the
# end of the BIOS ROM, wrapping to RAM page 0 (needs patch 0015 too);
# case 3: paging on, page 0xfffff000 -> arena page 3, page 0 -> 9,
# page 1 -> 12, so that the two pages of each field are not adjacent.
	.code32
	.text
fz_code_0:
.Lc0_0:	fldt (%edi)
.Lc0_0e:
fz_end_0: int $0x30
fz_code_1:
.Lc1_0:	fldpi
.Lc1_0e:
.Lc1_1:	fstpt (%edi)
.Lc1_1e:
.Lc1_2:	fldt (%edi)
.Lc1_2e:
fz_end_1: int $0x30
fz_code_2:
.Lc2_0:	fldt (%edi)
.Lc2_0e:
fz_end_2: int $0x30
fz_code_3:
.Lc3_0:	fldpi
.Lc3_0e:
.Lc3_1:	fstpt (%edi)
.Lc3_1e:
.Lc3_2:	fldt (%edi)
.Lc3_2e:
.Lc3_3:	fldl2t
.Lc3_3e:
.Lc3_4:	fstpt (%esi)
.Lc3_4e:
.Lc3_5:	fldt (%esi)
.Lc3_5e:
fz_end_3: int $0x30
	.section .rodata
	.align 4
fz_tab_0: .long .Lc0_0, .Lc0_0e
fz_tab_1: .long .Lc1_0, .Lc1_0e, .Lc1_1, .Lc1_1e, .Lc1_2, .Lc1_2e
fz_tab_2: .long .Lc2_0, .Lc2_0e
fz_tab_3: .long .Lc3_0, .Lc3_0e, .Lc3_1, .Lc3_1e, .Lc3_2, .Lc3_2e, .Lc3_3, .Lc3_3e, .Lc3_4, .Lc3_4e, .Lc3_5, .Lc3_5e
	.globl fz_cases
fz_cases:
	.long fz_code_0, fz_end_0, fz_tab_0, 1
	.long 0x0, 0x804000, 0x2
	.long 0,0,0,0,0,0x3fffffe,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	.long fz_code_1, fz_end_1, fz_tab_1, 3
	.long 0x0, 0x804000, 0x2
	.long 0,0,0,0,0,0x9fffe,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	.long fz_code_2, fz_end_2, fz_tab_2, 1
	.long 0x0, 0x804000, 0x2
	.long 0,0,0,0,0,0xfffffffe,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0
	.long fz_code_3, fz_end_3, fz_tab_3, 6
	.long 0x1, 0x804000, 0x2
	.long 0,0,0,0,0xffe,0xfffffffe,0
	.long 0,0,0,0
	.long 0,0,0,0
	.short 0xc009,0xc00c,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0xc003
	.globl fz_ncases, fz_seed, fz_first
fz_ncases: .long 4
fz_seed: .long 0
fz_first: .long 0
