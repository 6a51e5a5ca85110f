/*
 * Whole-buffer read and write for the test programs (guest tests and
 * benchmarks), retrying short transfers and EINTR.  Returns 0, or -1 on
 * an error or end of file.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QF_TESTS_FULLIO_H
#define QF_TESTS_FULLIO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

static inline int read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = read(fd, p, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= n;
    }
    return 0;
}

static inline int write_full(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return -1;
        }
        p += n;
        len -= n;
    }
    return 0;
}

#endif /* QF_TESTS_FULLIO_H */
