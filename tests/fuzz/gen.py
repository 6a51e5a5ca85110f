#!/usr/bin/env python3
"""Generate random i386 test cases for the differential fuzz harness.

usage: gen.py --seed S --first I --count N --out FILE.S --list FILE.lst

Writes the cases I .. I+N-1 of seed S as AT&T assembly for harness.c
(the table fz_cases and the code of every case) and a listing, one line
per instruction: "<case> <index> <text>" (index '-' for set-up lines).
Case I of seed S is the same whatever the batch it is generated in.

Every memory operand is aimed: the generator picks a linear address in
one of the test regions (near page boundaries, across the top of the
4 GiB space, through segments whose base makes base+offset wrap), then
a segment, base, index and displacement that reach it, and loads the
registers of the address right before the instruction.  Addresses that
could reach the harness (kernel image, page tables, MMIO with paging
off) are never generated, so a case can only change its own state.
The cases do not depend on tests/fuzz/run --paging: both paging
configurations of harness.c give them the same linear addresses with the
same rights (backed by other frames in pae-high).

Flags that an instruction leaves architecturally undefined are made
defined right after it: QEMU computes them from the lazy cc_op known at
translation time, so their value may change with where translation
blocks end (fast=seg ends a block wherever an access is re-executed on
the softmmu path), and both values are right.  After such an
instruction the generator emits, unlabelled,

    pushfl; andl $~UNDEFINED, (%esp); popfl

which keeps every defined flag (and pushfl reads the lazy flags in the
middle of a block, one more way to compute them), and clears the
undefined ones before anything can see them: a later fault's EFLAGS
image, LAHF, SETcc, CMOVcc, ADC or the end of the case.  The
instructions and their undefined flags (SDM vol. 2, count = the count
masked to 5 bits; a count in CL counts as any count):

    BT, BTS, BTR, BTC         OF SF AF PF
    SHL, SHR, SAR             count 0: none; 1: AF; else OF AF
    ROL, ROR, RCL, RCR        count 0 or 1: none; else OF
    SHLD, SHRD                count 0: none; 1: AF; else OF AF; above
                              the operand size: CF OF SF ZF AF PF
    MUL, IMUL                 SF ZF AF PF
    DIV, IDIV                 CF OF SF ZF AF PF
    AND, OR, XOR, TEST        AF: not cleared, QEMU computes it as 0
                              from CC_OP_LOGIC* on every path, and
                              clearing it would take the lazy state of
                              the most common instructions away from
                              the faults that follow them

The generator emits no BSF, BSR, AAA, AAS, AAM, AAD, DAA or DAS.  What
is lost is a fault that sees the lazy flags of an instruction of this
list directly; tests/fuzz/run also runs tests/fuzz/cases/*.S, whose
setcc-fault-eflags.S keeps the bug such a fault found (patch 0017: RCR,
then a SETcc whose store faults).
"""

import argparse
import random
import sys

M32 = 0xffffffff

ARENA = 0x00800000
REGS32 = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp']
REGS16 = ['ax', 'bx', 'cx', 'dx', 'si', 'di', 'bp']
REGS8 = ['al', 'bl', 'cl', 'dl', 'ah', 'bh', 'ch', 'dh']
SEGPFX = {'es': 0x26, 'cs': 0x2e, 'ss': 0x36, 'ds': 0x3e, 'fs': 0x64,
          'gs': 0x65}
CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np',
      'l', 'ge', 'le', 'g']

# flags, as in harness.c
F_PAGING, F_WP, F_RING3, F_INVLPG, F_BIG, F_BIG_RW, F_BIG_U = \
    1, 2, 4, 8, 16, 32, 64

# EFLAGS arithmetic flags
CF, PF, AF, ZF, SF, OF = 0x1, 0x4, 0x10, 0x40, 0x80, 0x800
ALL_FLAGS = CF | PF | AF | ZF | SF | OF


def shift_undefined(op, count, width):
    """The flags that OP (a shift, rotate, SHLD or SHRD) of WIDTH bytes
    leaves undefined for COUNT (None: a count in CL, any value)."""
    if count is None:
        if op in ('shld', 'shrd') and width == 2:
            return ALL_FLAGS
        return OF | (0 if op in ('rol', 'ror', 'rcl', 'rcr') else AF)
    count &= 31
    if count == 0:
        return 0
    if op in ('rol', 'ror', 'rcl', 'rcr'):
        return 0 if count == 1 else OF
    if op in ('shld', 'shrd') and count > 8 * width:
        return ALL_FLAGS
    return AF if count == 1 else OF | AF


def forbidden(paging):
    """Linear ranges [lo, hi) that a case must never touch."""
    r = [(0x00080000, 0x007f0000)]         # kernel image, stacks, tables
    if paging:
        # the harness's windows: physical 0-4 MiB (2level paging), or
        # low memory, the arenas and the page tables (pae-high)
        r.append((0x01000000, 0x01400000))
    else:
        r.append((0xfe000000, 0xfffc0000))  # APIC, HPET, ... MMIO
    return r


class Case:
    def __init__(self, seed, index):
        self.r = random.Random(seed * 1000003 + index)
        self.index = index
        self.lines = []       # (label index or None, [asm lines], text)
        self.ninsn = 0
        r = self.r
        self.flags = 0
        if r.random() < 0.7:
            self.flags |= F_PAGING
        for f, p in ((F_WP, 0.5), (F_RING3, 0.3), (F_INVLPG, 0.5),
                     (F_BIG, 0.6), (F_BIG_RW, 0.7), (F_BIG_U, 0.7)):
            if r.random() < p:
                self.flags |= f
        self.paging = bool(self.flags & F_PAGING)
        self.bad = forbidden(self.paging)
        # a few arena pages per case, so that test pages alias each other
        hot = r.sample(range(32), r.randint(2, 8))
        self.pte = []
        for _ in range(48):
            t = 0
            if r.random() < 0.75:
                t = 0x8000 | r.choice(hot)
                if r.random() < 0.7:
                    t |= 0x4000
                if r.random() < 0.7:
                    t |= 0x2000
            self.pte.append(t)
        self.base = [self.seg_base() for _ in range(4)]
        self.sel = [r.choice([0, 1, 2, 3, 4, r.randint(1, 4)])
                    for _ in range(4)]
        self.esp = ARENA + r.randint(1, 31) * 4096 + r.randint(-64, 32)
        if r.random() < 0.85:
            self.esp &= ~3
        self.depth = 0        # pushes minus pops so far
        efl = 0x2
        for bit in (0, 2, 4, 6, 7, 11, 10):     # CF PF AF ZF SF OF DF
            if r.random() < 0.5:
                efl |= 1 << bit
        self.eflags = efl
        self.regs = [self.value() for _ in range(7)]
        self.regions = r.sample(self.region_names(), r.randint(2, 4))

    # -- values --------------------------------------------------------

    def value(self):
        r = self.r
        c = r.random()
        if c < 0.5:
            return r.getrandbits(32)
        if c < 0.7:
            return r.choice([0, 1, 2, M32, 0x80000000, 0x7fffffff, 0xffff,
                             0x8000, 0x80, 0x7f, 0xff])
        return r.randint(-300, 300) & M32

    def seg_base(self):
        r = self.r
        c = r.random()
        if c < 0.2:
            return 0
        if c < 0.5:
            return (0x100000000 - r.randint(1, 0x20000)) & M32
        if c < 0.7:
            return r.getrandbits(20) << 12
        return r.getrandbits(32)

    def seg_of(self, name):
        """Base of segment register NAME in this case."""
        if name in ('ss', 'cs'):
            return 0
        s = self.sel[['ds', 'es', 'fs', 'gs'].index(name)]
        return 0 if s == 0 else self.base[s - 1]

    # -- addresses -----------------------------------------------------

    def region_names(self):
        if self.paging:
            return ['low', 'mid', 'big', 'top', 'arena', 'wild']
        return ['low', 'arena', 'top', 'wild']

    def safe(self, lin, lo, hi):
        """True if [lin+lo, lin+hi) avoids the harness (mod 2^32)."""
        for off in range(lo, hi, 64):
            a = (lin + off) & M32
            for b, e in self.bad:
                if b <= a < e:
                    return False
        a = (lin + hi - 1) & M32
        for b, e in self.bad:
            if b <= a < e:
                return False
        return True

    def pick_linear(self, width, lo=0, hi=None):
        """A linear address for an access of WIDTH bytes, that may also
        touch [lin+lo, lin+hi) (string operations)."""
        r = self.r
        if hi is None:
            hi = width
        for _ in range(100):
            reg = r.choice(self.regions if r.random() < 0.85
                           else self.region_names())
            if reg == 'wild':
                if self.paging:
                    lin = r.getrandbits(32)
                else:
                    lin = r.randint(0x01400000, 0xfdffffff)
            else:
                start, pages = {'low': (0, 16), 'mid': (0x40000000, 16),
                                'big': (0x80000000, 32),
                                'top': (0xffff0000, 16),
                                'arena': (ARENA, 32)}[reg]
                page = r.randrange(pages)
                c = r.random()
                if c < 0.45:        # across or at the end of the page
                    off = 4096 - r.randint(1, width + 8)
                elif c < 0.6:       # at the start of the page
                    off = r.randint(0, 16)
                else:
                    off = r.randrange(4096)
                lin = (start + page * 4096 + off) & M32
            if self.safe(lin, min(lo, 0), max(hi, width)):
                return lin
        return ARENA + 0x10000

    def address(self, width, default_ok=True, lo=0, hi=None, align=None):
        """Return (setup lines, operand text, linear address)."""
        r = self.r
        lin = self.pick_linear(width, lo, hi)
        if align and r.random() < 0.8:
            lin &= ~(align - 1)
            if not self.safe(lin, lo, max(hi or width, width)):
                lin = ARENA + 0x10000
        form = r.random()
        seg = r.choice(['ds', 'es', 'fs', 'gs', 'ss', 'cs', None, None,
                        None])
        setup = []
        if form < 0.08 and self.depth < 8:
            # relative to the stack pointer: near the case's stack
            disp = r.randint(-128, 64)
            base_of = self.seg_of(seg) if seg else 0
            cur_esp = (self.esp - 4 * self.depth) & M32
            lin = (base_of + cur_esp + disp) & M32
            if not self.safe(lin, -16, 64):
                seg = None
                lin = (cur_esp + disp) & M32
            text = '%d(%%esp)' % disp
        elif form < 0.25:
            # absolute
            base_of = self.seg_of(seg or 'ds')
            off = (lin - base_of) & M32
            text = '0x%x' % off
        else:
            breg = r.choice(REGS32)
            dseg = 'ss' if breg == 'ebp' else 'ds'
            base_of = self.seg_of(seg or dseg)
            off = (lin - base_of) & M32
            parts = []
            if r.random() < 0.4:
                ireg = r.choice([x for x in REGS32 if x != breg])
                scale = r.choice([1, 2, 4, 8])
                iv = self.value()
                setup.append('movl $0x%x, %%%s' % (iv, ireg))
                off = (off - iv * scale) & M32
                idx = ',%%%s,%d' % (ireg, scale)
            else:
                idx = ''
            c = r.random()
            if c < 0.4:
                disp = 0
            elif c < 0.7:
                disp = r.randint(-128, 127)
            else:
                disp = r.getrandbits(32)
            bv = (off - disp) & M32
            setup.insert(0, 'movl $0x%x, %%%s' % (bv, breg))
            dtext = '' if disp == 0 and c < 0.4 else (
                '%d' % (disp - (1 << 32) if disp >= 0x80000000 else disp))
            text = '%s(%%%s%s)' % (dtext, breg, idx)
        if seg:
            text = '%%%s:%s' % (seg, text)
        return setup, text, lin

    # -- instructions --------------------------------------------------

    def emit(self, setup, insn, pre=()):
        """SETUP lines run unlabelled; INSN (list) is one labelled
        instruction (with PRE prefix bytes) that the harness skips when
        it faults."""
        for s in setup:
            self.lines.append((None, [s], s))
        asm = ['.byte 0x%02x' % p for p in pre] + insn
        text = ' '.join(['%s;' % {v: k for k, v in SEGPFX.items()}[p]
                         for p in pre] + insn)
        self.lines.append((self.ninsn, asm, text))
        self.ninsn += 1

    def undefined(self, mask):
        """The last instruction leaves the flags of MASK undefined: clear
        them, keep the others (see the top of the file)."""
        if mask:
            for s in ('pushfl', 'andl $0x%x, (%%esp)' % (~mask & M32),
                      'popfl'):
                self.lines.append((None, [s], s))

    def reg(self, w):
        r = self.r
        return '%' + r.choice({1: REGS8, 2: REGS16, 4: REGS32}[w])

    def gen_mem_insn(self):
        r = self.r
        w = r.choice([1, 2, 4, 4])
        sfx = {1: 'b', 2: 'w', 4: 'l'}[w]
        kind = r.choices(
            ['mov', 'alu', 'unary', 'shift', 'shd', 'bt', 'movx', 'cmov',
             'setcc', 'mul', 'xchg', 'cx8', 'push', 'pop', 'x87', 'sse',
             'mmx', 'string', 'xlat', 'bound', 'fx', 'misc'],
            [10, 10, 4, 4, 2, 3, 3, 2, 2, 3, 4, 3, 3, 3, 7, 8, 3, 7, 1,
             1, 2, 2])[0]
        if kind == 'mov':
            s, m, _ = self.address(w)
            c = r.random()
            if c < 0.4:
                self.emit(s, ['mov%s %s, %s' % (sfx, self.reg(w), m)])
            elif c < 0.8:
                self.emit(s, ['mov%s %s, %s' % (sfx, m, self.reg(w))])
            else:
                self.emit(s, ['mov%s $0x%x, %s' %
                              (sfx, self.value() & ((1 << 8 * w) - 1), m)])
        elif kind == 'alu':
            op = r.choice(['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor',
                           'cmp', 'test'])
            lock = 'lock ' if op not in ('cmp', 'test') and \
                r.random() < 0.2 else ''
            s, m, _ = self.address(w)
            c = r.random()
            if c < 0.4:
                self.emit(s, ['%s%s%s %s, %s' % (lock, op, sfx,
                                                  self.reg(w), m)])
            elif c < 0.7 and op != 'test':
                self.emit(s, ['%s%s %s, %s' % (op, sfx, m, self.reg(w))])
            else:
                self.emit(s, ['%s%s%s $0x%x, %s' %
                              (lock, op, sfx,
                               self.value() & ((1 << 8 * w) - 1), m)])
        elif kind == 'unary':
            op = r.choice(['inc', 'dec', 'neg', 'not'])
            lock = 'lock ' if r.random() < 0.2 else ''
            s, m, _ = self.address(w)
            self.emit(s, ['%s%s%s %s' % (lock, op, sfx, m)])
        elif kind == 'shift':
            op = r.choice(['shl', 'shr', 'sar', 'rol', 'ror', 'rcl', 'rcr'])
            s, m, _ = self.address(w)
            if r.random() < 0.5:
                cnt = r.randint(0, 40)
                self.emit(s, ['%s%s $%d, %s' % (op, sfx, cnt, m)])
            else:
                cnt = None
                self.emit(s, ['%s%s %%cl, %s' % (op, sfx, m)])
            self.undefined(shift_undefined(op, cnt, w))
        elif kind == 'shd':
            w = r.choice([2, 4])
            sfx = {2: 'w', 4: 'l'}[w]
            op = r.choice(['shld', 'shrd'])
            s, m, _ = self.address(w)
            cnt = r.randint(0, 31) if r.random() < 0.5 else None
            self.emit(s, ['%s%s %s, %s, %s' % (
                op, sfx, '%cl' if cnt is None else '$%d' % cnt,
                self.reg(w), m)])
            self.undefined(shift_undefined(op, cnt, w))
        elif kind == 'bt':
            w = r.choice([2, 4])
            sfx = {2: 'w', 4: 'l'}[w]
            op = r.choice(['bt', 'bts', 'btr', 'btc'])
            if r.random() < 0.5:
                s, m, _ = self.address(w)
                self.emit(s, ['%s%s $%d, %s' % (op, sfx, r.randint(0, 63),
                                                 m)])
                self.undefined(OF | SF | AF | PF)
            else:
                # a bit offset in a register reaches -16..+32 bytes away
                bit = r.randint(-128, 255)
                s, m, _ = self.address(w, lo=-20, hi=40)
                breg = r.choice(REGS32)
                regtext = '%' + (breg if w == 4 else breg[1:])
                if breg not in ''.join(s):
                    s = s + ['movl $0x%x, %%%s' % (bit & M32, breg)]
                    lock = 'lock ' if op != 'bt' and r.random() < 0.3 \
                        else ''
                    self.emit(s, ['%s%s%s %s, %s' % (lock, op, sfx,
                                                      regtext, m)])
                else:
                    self.emit(s, ['%s%s $%d, %s' % (op, sfx, bit & 63, m)])
                self.undefined(OF | SF | AF | PF)
        elif kind == 'movx':
            sw = r.choice([1, 2])
            s, m, _ = self.address(sw)
            op = r.choice(['movz', 'movs'])
            dw = 4 if sw == 2 else r.choice([2, 4])
            self.emit(s, ['%s%s%s %s, %s' % (op, {1: 'b', 2: 'w'}[sw],
                                              {2: 'w', 4: 'l'}[dw], m,
                                              self.reg(dw))])
        elif kind == 'cmov':
            w = r.choice([2, 4])
            s, m, _ = self.address(w)
            self.emit(s, ['cmov%s%s %s, %s' % (r.choice(CC),
                                                {2: 'w', 4: 'l'}[w], m,
                                                self.reg(w))])
        elif kind == 'setcc':
            s, m, _ = self.address(1)
            self.emit(s, ['set%s %s' % (r.choice(CC), m)])
        elif kind == 'mul':
            op = r.choice(['mul', 'imul', 'div', 'idiv', 'imul2'])
            s, m, _ = self.address(w)
            if op == 'imul2':
                w = r.choice([2, 4])
                s, m, _ = self.address(w)
                self.emit(s, ['imul%s %s, %s' % ({2: 'w', 4: 'l'}[w], m,
                                                  self.reg(w))])
            else:
                self.emit(s, ['%s%s %s' % (op, sfx, m)])
            self.undefined(ALL_FLAGS if op in ('div', 'idiv')
                           else SF | ZF | AF | PF)
        elif kind == 'xchg':
            op = r.choice(['xchg', 'xadd', 'cmpxchg'])
            lock = 'lock ' if op != 'xchg' and r.random() < 0.5 else ''
            s, m, _ = self.address(w)
            self.emit(s, ['%s%s%s %s, %s' % (lock, op, sfx, self.reg(w),
                                              m)])
        elif kind == 'cx8':
            s, m, _ = self.address(8, align=8 if r.random() < 0.3 else None)
            lock = 'lock ' if r.random() < 0.5 else ''
            self.emit(s, ['%scmpxchg8b %s' % (lock, m)])
        elif kind == 'push':
            if self.depth >= 40:
                return self.gen_other()
            w = r.choice([2, 4, 4])
            s, m, _ = self.address(w)
            self.emit(s, ['push%s %s' % ({2: 'w', 4: 'l'}[w], m)])
            self.depth += 1
        elif kind == 'pop':
            if self.depth <= -8:
                return self.gen_other()
            w = r.choice([2, 4, 4])
            s, m, _ = self.address(w)
            self.emit(s, ['pop%s %s' % ({2: 'w', 4: 'l'}[w], m)])
            self.depth -= 1
        elif kind == 'x87':
            op, fw = r.choice([
                ('flds', 4), ('fldl', 8), ('fldt', 10), ('fsts', 4),
                ('fstl', 8), ('fstps', 4), ('fstpl', 8), ('fstpt', 10),
                ('filds', 2), ('fildl', 4), ('fildll', 8), ('fists', 2),
                ('fistl', 4), ('fistps', 2), ('fistpl', 4),
                ('fistpll', 8), ('fadds', 4), ('faddl', 8), ('fmuls', 4),
                ('fdivl', 8), ('fcoms', 4), ('fcompl', 8), ('fbld', 10),
                ('fbstp', 10), ('fnstsw', 2), ('fnstcw', 2),
                ('fnstenv', 28), ('fldenv', 28), ('fnsave', 108),
                ('frstor', 108), ('fisttpl', 4), ('fiadds', 2)])
            s, m, _ = self.address(fw)
            self.emit(s, ['%s %s' % (op, m)])
        elif kind == 'sse':
            x = '%%xmm%d' % r.randrange(8)
            op, fw, al, d = r.choice([
                ('movdqu', 16, 0, 'ld'), ('movdqu', 16, 0, 'st'),
                ('movups', 16, 0, 'ld'), ('movupd', 16, 0, 'st'),
                ('movdqa', 16, 16, 'ld'), ('movaps', 16, 16, 'st'),
                ('movntdq', 16, 16, 'st'), ('lddqu', 16, 0, 'ld'),
                ('movq', 8, 0, 'ld'), ('movq', 8, 0, 'st'),
                ('movd', 4, 0, 'ld'), ('movd', 4, 0, 'st'),
                ('movss', 4, 0, 'ld'), ('movss', 4, 0, 'st'),
                ('movsd', 8, 0, 'ld'), ('movsd', 8, 0, 'st'),
                ('movlps', 8, 0, 'ld'), ('movhps', 8, 0, 'st'),
                ('movhpd', 8, 0, 'ld'), ('movlpd', 8, 0, 'st'),
                ('paddd', 16, 16, 'ld'), ('pxor', 16, 16, 'ld'),
                ('pcmpeqb', 16, 16, 'ld'), ('addps', 16, 16, 'ld'),
                ('addss', 4, 0, 'ld'), ('mulsd', 8, 0, 'ld'),
                ('comiss', 4, 0, 'ld'), ('cvtsi2sdl', 4, 0, 'ld'),
                ('pinsrw', 2, 0, 'ld'), ('pshufd', 16, 16, 'ld'),
                ('maskmovdqu', 16, 0, 'mask'), ('movnti', 4, 0, 'nti'),
                ('cvttss2si', 4, 0, 'toreg')])
            if d == 'mask':
                s, m, lin = self.address(16)
                # implicit DS:EDI
                off = (lin - self.seg_of('ds')) & M32
                s = ['movl $0x%x, %%edi' % off]
                self.emit(s, ['maskmovdqu %%xmm%d, %s' % (r.randrange(8),
                                                          x)])
                return
            s, m, _ = self.address(fw, align=al or None)
            if d == 'st':
                self.emit(s, ['%s %s, %s' % (op, x, m)])
            elif d == 'nti':
                self.emit(s, ['movnti %s, %s' % (self.reg(4), m)])
            elif d == 'toreg':
                self.emit(s, ['%s %s, %s' % (op, m, self.reg(4))])
            elif op in ('pinsrw', 'pshufd'):
                self.emit(s, ['%s $%d, %s, %s' % (op, r.randrange(8), m, x)])
            else:
                self.emit(s, ['%s %s, %s' % (op, m, x)])
        elif kind == 'mmx':
            mm = '%%mm%d' % r.randrange(8)
            op, fw, d = r.choice([('movq', 8, 'ld'), ('movq', 8, 'st'),
                                  ('movd', 4, 'ld'), ('movd', 4, 'st'),
                                  ('paddb', 8, 'ld'),
                                  ('punpcklbw', 4, 'ld')])
            s, m, _ = self.address(fw)
            if d == 'st':
                self.emit(s, ['%s %s, %s' % (op, mm, m)])
            else:
                self.emit(s, ['%s %s, %s' % (op, m, mm)])
        elif kind == 'string':
            self.gen_string()
        elif kind == 'xlat':
            s, m, lin = self.address(256)
            off = (lin - self.seg_of('ds')) & M32
            self.emit(['movl $0x%x, %%ebx' % off], ['xlat'])
        elif kind == 'bound':
            w = r.choice([2, 4])
            s, m, _ = self.address(2 * w)
            self.emit(s, ['bound%s %s, %s' % ({2: 'w', 4: 'l'}[w],
                                               self.reg(w), m)])
        elif kind == 'fx':
            op = r.choice(['fxsave', 'fxsave', 'fxrstor'])
            s, m, _ = self.address(512, align=16)
            self.emit(s, ['%s %s' % (op, m)])
        elif kind == 'misc':
            op = r.choice(['clflush', 'lea', 'prefetcht0', 'movbe'])
            if op == 'movbe':   # not on every CPU model: #UD is fine
                s, m, _ = self.address(4)
                self.emit(s, ['movbel %s, %s' % (m, self.reg(4))])
            elif op == 'lea':
                s, m, _ = self.address(1)
                self.emit(s, ['leal %s, %s' % (m.split(':')[-1],
                                               self.reg(4))])
            else:
                s, m, _ = self.address(1)
                self.emit(s, ['%s %s' % (op, m)])

    def gen_string(self):
        r = self.r
        w = r.choice([1, 2, 4])
        sfx = {1: 'b', 2: 'w', 4: 'l'}[w]
        op = r.choice(['movs', 'stos', 'lods', 'cmps', 'scas'])
        rep = r.choice(['', 'rep ', 'rep ']) if op in ('movs', 'stos',
                                                        'lods') else \
            r.choice(['', 'repe ', 'repne '])
        count = r.randint(0, 40) if rep else 1
        down = r.random() < 0.4
        span = count * w + w
        lo, hi = (-span, w) if down else (0, span)
        setup = ['std' if down else 'cld']
        if rep:
            setup.append('movl $%d, %%ecx' % count)
        pre = []
        if op in ('movs', 'lods', 'cmps'):
            lin = self.pick_linear(w, lo, hi)
            seg = r.choice(['ds', 'ds', 'es', 'fs', 'gs', 'ss', 'cs'])
            setup.append('movl $0x%x, %%esi' %
                         ((lin - self.seg_of(seg)) & M32))
            if seg != 'ds':
                pre.append(SEGPFX[seg])
        if op in ('movs', 'stos', 'cmps', 'scas'):
            lin = self.pick_linear(w, lo, hi)
            setup.append('movl $0x%x, %%edi' %
                         ((lin - self.seg_of('es')) & M32))
        if op in ('stos', 'scas') and r.random() < 0.5:
            setup.append('movl $0x%x, %%eax' % self.value())
        self.emit(setup, ['%s%s%s' % (rep, op, sfx)], pre)

    def gen_other(self):
        """An instruction without a memory operand."""
        r = self.r
        c = r.random()
        a, b = r.choice(REGS32), r.choice(REGS32)
        if c < 0.3:
            op = r.choice(['add', 'sub', 'xor', 'and', 'or', 'adc', 'sbb',
                           'cmp'])
            self.emit([], ['%sl $0x%x, %%%s' % (op, self.value(), a)])
        elif c < 0.5:
            op = r.choice(['add', 'sub', 'xor', 'imul', 'test', 'xchg'])
            self.emit([], ['%sl %%%s, %%%s' % (op, a, b)])
            if op == 'imul':
                self.undefined(SF | ZF | AF | PF)
        elif c < 0.6:
            self.emit([], ['%s %%%s' % (r.choice(['bswap', 'negl', 'notl',
                                                   'incl', 'decl']), a)])
        elif c < 0.7:
            self.emit([], [r.choice(['cmc', 'stc', 'clc', 'std', 'cld',
                                     'cwtl', 'cltd', 'sahf', 'lahf'])])
        elif c < 0.8 and self.depth < 40:
            self.emit([], ['pushl %%%s' % a])
            self.depth += 1
        elif c < 0.85 and self.depth > -8:
            self.emit([], ['popl %%%s' % a])
            self.depth -= 1
        elif c < 0.9:
            self.emit([], ['divl %%%s' % a])
            self.undefined(ALL_FLAGS)
        else:
            op = r.choice(['shl', 'shr', 'sar', 'rol', 'rcr'])
            cnt = r.randint(0, 31)
            self.emit([], ['%sl $%d, %%%s' % (op, cnt, a)])
            self.undefined(shift_undefined(op, cnt, 4))

    def generate(self):
        r = self.r
        for _ in range(r.randint(6, 18)):
            if r.random() < 0.8:
                self.gen_mem_insn()
            else:
                self.gen_other()

    # -- output --------------------------------------------------------

    def asm(self):
        n = self.index
        out = ['', '\t.text', 'fz_code_%d:' % n]
        for i, lines, _ in self.lines:
            if i is None:
                out += ['\t' + l for l in lines]
            else:
                out.append('.Lc%d_%d:' % (n, i))
                out += ['\t' + l for l in lines]
                out.append('.Lc%d_%de:' % (n, i))
        out.append('fz_end_%d:' % n)
        out.append('\tint $0x30')
        out.append('\t.section .rodata')
        out.append('\t.align 4')
        out.append('fz_tab_%d:' % n)
        for i in range(self.ninsn):
            out.append('\t.long .Lc%d_%d, .Lc%d_%de' % (n, i, n, i))
        return out

    def desc(self):
        n = self.index
        d = ['\t.long fz_code_%d, fz_end_%d, fz_tab_%d, %d' %
             (n, n, n, self.ninsn),
             '\t.long 0x%x, 0x%x, 0x%x' % (self.flags, self.esp,
                                           self.eflags),
             '\t.long ' + ', '.join('0x%x' % v for v in self.regs),
             '\t.long ' + ', '.join('%d' % v for v in self.sel),
             '\t.long ' + ', '.join('0x%x' % v for v in self.base),
             '\t.short ' + ', '.join('0x%x' % v for v in self.pte)]
        return d

    def listing(self):
        n = self.index
        regs = ' '.join('%s=%08x' % (k, v) for k, v in
                        zip(REGS32, self.regs))
        out = ['%d # flags=%x (%s) esp=%08x eflags=%08x %s' %
               (n, self.flags, ','.join(
                   name for bit, name in ((F_PAGING, 'paging'),
                                          (F_WP, 'wp'), (F_RING3, 'cpl3'),
                                          (F_INVLPG, 'invlpg'),
                                          (F_BIG, 'big'))
                   if self.flags & bit), self.esp, self.eflags, regs),
               '%d # ds/es/fs/gs=%s bases=%s' %
               (n, '/'.join('%d' % s for s in self.sel),
                ','.join('%08x' % b for b in self.base)),
               '%d # ptes(low,mid,top)=%s' %
               (n, ' '.join('%04x' % p for p in self.pte))]
        for i, _, text in self.lines:
            out.append('%d %s %s' % (n, '-' if i is None else i, text))
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seed', type=int, required=True)
    ap.add_argument('--first', type=int, default=0)
    ap.add_argument('--count', type=int, required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--list', required=True)
    a = ap.parse_args()
    if a.seed < 0 or a.seed > M32 or a.first < 0 or a.count < 1:
        sys.exit('gen.py: seed must be 0..2^32-1, first >= 0, count >= 1')
    cases = []
    for i in range(a.first, a.first + a.count):
        c = Case(a.seed, i)
        c.generate()
        cases.append(c)
    asm = ['# generated by tests/fuzz/gen.py --seed %d --first %d '
           '--count %d' % (a.seed, a.first, a.count), '\t.code32']
    for c in cases:
        asm += c.asm()
    asm += ['', '\t.section .rodata', '\t.align 4', '\t.globl fz_cases',
            'fz_cases:']
    for c in cases:
        asm += c.desc()
    asm += ['\t.globl fz_ncases, fz_seed, fz_first',
            'fz_ncases: .long %d' % a.count,
            'fz_seed: .long %d' % a.seed,
            'fz_first: .long %d' % a.first, '']
    with open(a.out, 'w') as f:
        f.write('\n'.join(asm))
    with open(a.list, 'w') as f:
        for c in cases:
            f.write('\n'.join(c.listing()) + '\n')


if __name__ == '__main__':
    main()
