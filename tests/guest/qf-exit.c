/*
 * qf-exit: report a result to the host through QEMU's isa-debug-exit
 * device (-device isa-debug-exit,iobase=0xf4,iosize=0x04).  Writing the
 * byte V to the port makes QEMU exit with status (V << 1) | 1.
 *
 *   qf-exit [VALUE [PORT]]     VALUE defaults to 0, PORT to 0xf4
 *
 * The console is drained first so that no output is lost.  QEMU acts on
 * the write asynchronously (the vCPU may run on for a moment), so qf-exit
 * then waits a few seconds; if the machine is still running after that,
 * the device is missing: qf-exit returns 1 and the caller can fall back to
 * powering off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <termios.h>
#include <unistd.h>

#define WAIT_SECONDS 5

int main(int argc, char **argv)
{
    unsigned long value = 0, port = 0xf4;
    char *end;

    if (argc > 3 || (argc > 1 && argv[1][0] == '-')) {
        fprintf(stderr, "usage: qf-exit [VALUE [PORT]]\n");
        return 2;
    }
    if (argc > 1) {
        value = strtoul(argv[1], &end, 0);
        if (*end || value > 0xff) {
            fprintf(stderr, "qf-exit: bad value '%s'\n", argv[1]);
            return 2;
        }
    }
    if (argc > 2) {
        port = strtoul(argv[2], &end, 0);
        if (*end || port > 0x3ff) {
            fprintf(stderr, "qf-exit: bad port '%s'\n", argv[2]);
            return 2;
        }
    }

    fflush(stdout);
    tcdrain(STDOUT_FILENO);
    tcdrain(STDERR_FILENO);
    if (ioperm(port, 1, 1) != 0) {
        perror("qf-exit: ioperm");
        return 1;
    }
    outb(value, port);

    sleep(WAIT_SECONDS);
    /* Still running: the device is not there. */
    fprintf(stderr, "qf-exit: no isa-debug-exit device at port %#lx\n", port);
    return 1;
}
