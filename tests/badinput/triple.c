/*
 * A guest that triple-faults: an empty IDT, then an invalid opcode.  The
 * #UD cannot be delivered (#GP), neither can the #GP (#DF), nor the #DF:
 * the CPU shuts down, and with -no-reboot QEMU exits.  It must neither
 * hang nor crash, in every mode.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

static void outs(const char *s)
{
    while (*s) {
        asm volatile("outb %0, $0xe9" : : "a"(*s++));
    }
}

int main(void)
{
    struct { unsigned short limit; unsigned int base; }
        __attribute__((packed)) idtr = { 0, 0 };

    outs("triple: loading an empty IDT and faulting\n");
    asm volatile("lidt %0\n\tud2" : : "m"(idtr));
    outs("triple: still running after the fault\n");
    return 1;
}
