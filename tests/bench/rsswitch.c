/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rsswitch: context switches between two processes that each keep
 * RSS_MIB MiB resident.  The parent and a forked child pass a 4-byte
 * token back and forth over two pipes; before passing it on, each reads
 * and rewrites one word of every page of its own buffer, so after every
 * switch the whole working set of the address space that comes back is
 * used again.  Both buffers lie at the same virtual addresses (mapped
 * before the fork, filled after it).
 *
 * Built once per size from this file: the Makefile gives RSS_MIB and
 * the workload name RSS_NAME, the size spelled out in letters
 * (rsswitchone, rsswitchsixteen, rsswitchsixtyfour, rsswitchtwofiftysix).
 *
 * ops = switches (two per round trip); checksum = the count, the size
 * and the words both processes read in the ping-pong.  Two more times
 * end the result line:
 *
 *   passes=  seconds that both processes spent in their passes during
 *            the ping-pong, each timing its own; (seconds - passes) / ops
 *            is the switch itself: the pipe, the scheduler, the address
 *            space switch.
 *   touch=   seconds of as many passes again (one per switch), over two
 *            buffers of the size as the ping-pong's were, by the parent
 *            alone after the child has exited, alternating between them
 *            with no switch.  (passes - touch) / ops is what a switch
 *            makes the next pass pay again: translations to refill, a
 *            window to map again, and the host's caches and TLB.
 *
 * The passes grow with the size under any emulator, and natively;
 * (seconds - touch) / ops, the switch and what it makes the next pass
 * pay, should not.  Two buffers, not one: the host's caches then hold as
 * much as during the ping-pong.  Run natively here, a switch at 256 MiB
 * still costs some 45-70 us more than at 1 MiB (about 1 us): a host
 * context switch costs more with a larger working set too.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "../lib/fullio.h"

#if !defined(RSS_MIB) || !defined(RSS_NAME)
#error "build with -DRSS_MIB=N -DRSS_NAME='\"name\"' (see the Makefile)"
#endif

/*
 * Round trips at scale 1: each is two switches (about 35 us each under
 * upstream QEMU's softmmu here) and two passes over RSS_MIB MiB (about
 * 28 us per MiB), so the count falls with the size: about 2 s for every
 * size (16000, 2086, 549 and 139 round trips for 1, 16, 64 and 256
 * MiB).  The passes alone after the ping-pong take less: with no switch
 * between them, the softmmu's TLB is not emptied between passes.
 */
#define ROUND_TRIPS     (144000u / (4u * RSS_MIB + 5u))

#define PAGE_WORDS      1024u       /* 32-bit words in a 4 KiB page */
#define PAGE_MULT       2654435761u /* the word of page i starts at i * this */
#define PARENT_SALT     0x9e3779b9u /* added to every word on each pass */
#define CHILD_SALT      0x7f4a7c15u

/* One process's buffer and where it is in its passes over it. */
struct resident {
    uint32_t *words;
    uint32_t pages;
    uint32_t salt;
    uint32_t pass;      /* passes done; the words hold pass * salt + i * PAGE_MULT */
    uint32_t acc;       /* sum of the words read */
    uint32_t bad;       /* nonzero once a word did not read back */
    uint64_t pass_ns;   /* time in the passes of timed_touch() */
};

/* What the child sends back at the end of the ping-pong. */
struct child_result {
    uint32_t acc;
    uint32_t bad;
    uint64_t pass_ns;
};

/*
 * Reads and rewrites one word of every page: the word must still hold
 * what the previous pass wrote.  The word moves within the page from
 * page to page, so that the pages do not all use the same cache sets.
 */
static void touch(struct resident *r)
{
    uint32_t want = r->pass * r->salt, next = want + r->salt;
    uint32_t acc = r->acc, bad = 0, i;
    volatile uint32_t *w = r->words;

    for (i = 0; i < r->pages; i++) {
        volatile uint32_t *p = w + (size_t)i * PAGE_WORDS + (i % 64u) * 16u;
        uint32_t v = *p;

        bad |= v ^ want;
        acc += v;
        *p = next;
        want += PAGE_MULT;
        next += PAGE_MULT;
    }
    r->acc = acc;
    r->bad |= bad;
    r->pass++;
}

/* A pass, timed: the ping-pong's passes, apart from its switches. */
static void timed_touch(struct resident *r)
{
    uint64_t start = bench_now_ns();

    touch(r);
    r->pass_ns += bench_now_ns() - start;
}

/* The first pass: writes every word of every page (the page faults). */
static void fill(struct resident *r)
{
    uint32_t i, j;

    for (i = 0; i < r->pages; i++) {
        for (j = 0; j < PAGE_WORDS; j++) {
            r->words[(size_t)i * PAGE_WORDS + j] = i * PAGE_MULT;
        }
    }
}

/*
 * The child: fills its buffer, says so, then answers every token after a
 * pass over its pages.  At end of file it sends its sum and whether a
 * word read back wrong.
 */
static void __attribute__((noreturn)) child(struct resident *r, int in,
                                            int out)
{
    struct child_result result;
    uint32_t token;

    fill(r);
    token = 0;
    if (write_full(out, &token, sizeof(token)) != 0) {
        _exit(1);
    }
    for (;;) {
        if (read_full(in, &token, sizeof(token)) != 0) {
            break;
        }
        timed_touch(r);
        token++;
        if (write_full(out, &token, sizeof(token)) != 0) {
            _exit(1);
        }
    }
    result.acc = r->acc;
    result.bad = r->bad;
    result.pass_ns = r->pass_ns;
    if (write_full(out, &result, sizeof(result)) != 0) {
        _exit(1);
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    uint64_t trips, i, start, end, touch_ns, checksum;
    int to_child[2], to_parent[2], status;
    struct resident r, alone, other;
    struct child_result result;
    struct bench_extra extra[2];
    uint32_t token;
    size_t len;
    pid_t pid;

    bench_init(RSS_NAME, argc, argv);
    trips = bench_count(ROUND_TRIPS);
    if (sysconf(_SC_PAGESIZE) != PAGE_WORDS * 4) {
        bench_fail("the page size is not 4 KiB");
    }
    len = (size_t)RSS_MIB << 20;
    memset(&r, 0, sizeof(r));
    r.pages = (uint32_t)(len / (PAGE_WORDS * 4));
    r.words = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (r.words == MAP_FAILED) {
        /* rsswitchtwofiftysix: scripts/bench boots it with -m 768M */
        bench_fail("mmap of %u MiB: %s (the guest needs twice that free)",
                   (unsigned)RSS_MIB, strerror(errno));
    }

    if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
        bench_fail("pipe: %s", strerror(errno));
    }
    fflush(stdout);
    pid = fork();
    if (pid < 0) {
        bench_fail("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        r.salt = CHILD_SALT;
        child(&r, to_child[0], to_parent[1]);
    }
    close(to_child[0]);
    close(to_parent[1]);
    r.salt = PARENT_SALT;
    fill(&r);
    /* Both buffers are resident once the child has filled its own. */
    if (read_full(to_parent[0], &token, sizeof(token)) != 0) {
        bench_fail("the child did not start");
    }

    start = bench_now_ns();
    for (i = 0; i < trips; i++) {
        timed_touch(&r);
        token = (uint32_t)i;
        if (write_full(to_child[1], &token, sizeof(token)) != 0) {
            bench_fail("write: %s", strerror(errno));
        }
        if (read_full(to_parent[0], &token, sizeof(token)) != 0) {
            bench_fail("read: the child does not answer");
        }
        if (token != (uint32_t)i + 1) {
            bench_fail("wrong token %u in round trip %" PRIu64, token, i);
        }
    }
    end = bench_now_ns();

    close(to_child[1]);
    if (read_full(to_parent[0], &result, sizeof(result)) != 0) {
        bench_fail("no result from the child");
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            bench_fail("waitpid: %s", strerror(errno));
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        bench_fail("child failed (status 0x%x)", status);
    }

    /*
     * The touching alone: as many passes as the ping-pong made, over as
     * much memory, in one address space.  The child's buffer is gone; a
     * second one of the parent's stands for it, and the passes alternate
     * between the two as the ping-pong's did between the processes, so
     * that the caches and TLBs of the host hold what they held then.
     * On a copy of the parent's state, so that these sums stay out of
     * the checksum; its words go on from where the ping-pong left them,
     * so every pass still checks what the previous one wrote.
     */
    alone = r;
    memset(&other, 0, sizeof(other));
    other.pages = r.pages;
    other.salt = CHILD_SALT;
    other.words = mmap(NULL, len, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (other.words == MAP_FAILED) {
        bench_fail("mmap of a second %u MiB: %s", (unsigned)RSS_MIB,
                   strerror(errno));
    }
    fill(&other);
    touch_ns = bench_now_ns();
    for (i = 0; i < trips; i++) {
        touch(&alone);
        touch(&other);
    }
    touch_ns = bench_now_ns() - touch_ns;

    if (r.bad || alone.bad || other.bad || result.bad) {
        bench_fail("a word did not read back what its process wrote "
                   "(%s)", r.bad ? "parent" : result.bad ? "child"
                   : "parent alone");
    }

    checksum = bench_hash_u64(BENCH_HASH_INIT, trips);
    checksum = bench_hash_u64(checksum, RSS_MIB);
    checksum = bench_hash_u64(checksum, r.acc);
    checksum = bench_hash_u64(checksum, result.acc);
    extra[0].key = "passes";
    extra[0].ns = r.pass_ns + result.pass_ns;
    extra[1].key = "touch";
    extra[1].ns = touch_ns;
    return bench_result_with(start, end, 2 * trips, "switches", checksum,
                             extra, 2);
}
