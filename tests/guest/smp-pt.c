/*
 * smp-pt: page tables shared by the threads of a process on several CPUs.
 *
 * - pte: NW reader threads on the other CPUs sweep PT_PAGES pages all
 *   the time, spread over two 4 MiB-aligned chunks (each page-table page
 *   maps several of them), while the main thread changes one page or a
 *   chunk per round: new data by plain stores, MADV_DONTNEED (zeros),
 *   mprotect PROT_NONE and back, munmap of the page or of the whole chunk
 *   (which frees its page tables), mmap MAP_FIXED.  The state is
 *   published in a sequence word (odd while it changes); a sweep between
 *   two equal even loads must see exactly the published state: the
 *   data, zeros after MADV_DONTNEED, SEGV_ACCERR or SEGV_MAPERR at the
 *   address.  Each round waits until every reader made such a sweep.
 * - cow: two threads on different CPUs store a counter, each into its
 *   own COW_WORDS words of one page, while the main thread forks: both
 *   break the copy-on-write of the page at once.  The child sees a
 *   prefix of each thread's stores, unchanged after the threads made two
 *   more passes over their words in the parent, and its own stores stay
 *   its own; the parent then stops the threads and every word must hold
 *   the last value its thread stored there (no store lost in a copy).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qftest.h"
#include "qfsmp.h"
#include "../lib/fullio.h"

#define PAGE 4096
#define PAGE_WORDS (PAGE / 4)
#define CHUNK (4u << 20)
#define NW 3

#define PT_PAGES 8          /* 4 in each of 2 chunks */
#define PT_ROUNDS 160

#define COW_WORDS 64
#define COW_FORKS 40


/* ---- faults, per thread ---- */

static __thread sigjmp_buf fault_jmp;
static __thread volatile int probing;
static __thread volatile int fault_code;
static __thread void *volatile fault_addr;

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
    static const char msg[] = "FAIL: unexpected SIGSEGV\n";

    (void)sig;
    (void)uc;
    if (!probing) {
        if (write(1, msg, sizeof(msg) - 1) < 0) {
            _exit(3);
        }
        _exit(3);
    }
    probing = 0;
    fault_code = si->si_code;
    fault_addr = si->si_addr;
    siglongjmp(fault_jmp, 1);
}

/* Load the word at p: 0, the si_code of its SIGSEGV, -1 elsewhere. */
static __attribute__((noinline)) int probe(volatile uint32_t *p,
                                           uint32_t *val)
{
    fault_code = 0;
    fault_addr = NULL;
    if (sigsetjmp(fault_jmp, 0) == 0) {
        probing = 1;
        *val = *p;
        probing = 0;
        return 0;
    }
    return fault_addr == (void *)p ? fault_code : -1;
}

/* ---- pte ---- */

enum { PT_RW, PT_NONE, PT_GONE };

static uint8_t *pt_base;                /* two chunks */
static uint32_t pt_seq, pt_stop;
static uint32_t pt_kind[PT_PAGES], pt_gen[PT_PAGES];
static uint32_t pt_ack[NW][16];
static uint32_t pt_bad[NW][16];

static const uint32_t pt_offs[4] = { 0, 1, 517, 1023 };   /* in a chunk */

static uint8_t *pt_page(uint32_t k)
{
    return pt_base + (k / 4) * CHUNK + pt_offs[k % 4] * PAGE;
}

static uint32_t pt_word(uint32_t k, uint32_t g, uint32_t w)
{
    return g ? (k + 1) << 28 | g << 10 | w : 0;
}

static void pt_fill(uint32_t k, uint32_t g)
{
    volatile uint32_t *p = (uint32_t *)pt_page(k);
    uint32_t w;

    for (w = 0; w < PAGE_WORDS; w++) {
        p[w] = pt_word(k, g, w);
    }
    pt_gen[k] = g;
}

static void *pt_reader(void *arg)
{
    int i = (intptr_t)arg, code[PT_PAGES];
    uint32_t s1, s2, k, w[PT_PAGES], v[PT_PAGES], kind[PT_PAGES];
    uint32_t gen[PT_PAGES], ww = i * 301, want;
    int want_code;

    pin_worker(i);
    while (!load_acq(&pt_stop)) {
        s1 = load_acq(&pt_seq);
        if (s1 & 1) {
            sched_yield();
            continue;
        }
        for (k = 0; k < PT_PAGES; k++) {
            kind[k] = pt_kind[k];
            gen[k] = pt_gen[k];
            ww = (ww + 97) & (PAGE_WORDS - 1);
            w[k] = ww;
            v[k] = 0;
            code[k] = probe((uint32_t *)pt_page(k) + ww, &v[k]);
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        s2 = load_acq(&pt_seq);
        if (s2 != s1) {
            continue;   /* the state changed during the sweep */
        }
        for (k = 0; k < PT_PAGES; k++) {
            want = kind[k] == PT_RW ? pt_word(k, gen[k], w[k]) : 0;
            want_code = kind[k] == PT_RW ? 0 :
                        kind[k] == PT_NONE ? SEGV_ACCERR : SEGV_MAPERR;
            if ((code[k] != want_code || v[k] != want) &&
                pt_bad[i][0]++ == 0) {
                printf("FAIL: pte: reader %d, sequence %u, page %u (state "
                       "%u, generation %u) word %u: read %08x, fault %d, "
                       "want %08x, fault %d\n", i, s1, k, kind[k], gen[k],
                       w[k], v[k], code[k], want, want_code);
            }
        }
        store_rel(&pt_ack[i][0], s1);
        if (ncpus < NW + 1) {
            sched_yield();      /* let the readers on this CPU take turns */
        }
    }
    return NULL;
}

static void pt_map(uint32_t k)
{
    if (mmap(pt_page(k), PAGE, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
        pt_page(k)) {
        printf("FAIL: pte: mmap: %s\n", strerror(errno));
        exit(2);
    }
    pt_kind[k] = PT_RW;
    pt_gen[k] = 0;
}

/* Round r's change; returns a letter for the hash. */
static int pt_change(uint32_t r)
{
    uint32_t k = (r * 3 + r / 8) % PT_PAGES, j;
    int rc = 0, op;

    switch (pt_kind[k]) {
    case PT_NONE:
        rc = mprotect(pt_page(k), PAGE, PROT_READ | PROT_WRITE);
        pt_kind[k] = PT_RW;
        op = 'p';
        break;
    case PT_GONE:
        pt_map(k);
        if (r % 2) {
            pt_fill(k, r);
        }
        op = 'm';
        break;
    default:
        /* w d n d w u, and every 16th round the whole chunk */
        switch (r % 16 == 13 ? 6 : r % 6) {
        case 0:
        case 4:
            pt_fill(k, r);
            op = 'w';
            break;
        case 1:
        case 3:
            rc = madvise(pt_page(k), PAGE, MADV_DONTNEED);
            pt_gen[k] = 0;
            op = 'd';
            break;
        case 2:
            rc = mprotect(pt_page(k), PAGE, PROT_NONE);
            pt_kind[k] = PT_NONE;
            op = 'n';
            break;
        case 5:
            rc = munmap(pt_page(k), PAGE);
            pt_kind[k] = PT_GONE;
            op = 'u';
            break;
        default:
            /* the whole chunk: its page tables go */
            rc = munmap(pt_base + (k / 4) * CHUNK, CHUNK);
            for (j = k / 4 * 4; j < k / 4 * 4 + 4; j++) {
                pt_kind[j] = PT_GONE;
            }
            op = 'c';
            break;
        }
    }
    if (rc != 0) {
        printf("FAIL: pte: round %u, change '%c': %s\n", r, op,
               strerror(errno));
        exit(2);
    }
    return op;
}

static uint32_t test_pte(uint32_t h)
{
    pthread_t thr[NW];
    uint32_t r, k, bad = 0, hash = QF_HASH_INIT, ops = QF_HASH_INIT;
    uint8_t *res;
    int i;

    /* the threads first: their stacks must not land in the chunks */
    pt_seq = 1;
    for (i = 0; i < NW; i++) {
        pthread_create(&thr[i], NULL, pt_reader, (void *)(intptr_t)i);
    }
    /* two 4 MiB-aligned chunks with nothing else in them */
    res = mmap(NULL, 3 * CHUNK, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
               0);
    if (res == MAP_FAILED) {
        printf("FAIL: pte: mmap\n");
        exit(2);
    }
    pt_base = (uint8_t *)(((uintptr_t)res + CHUNK - 1) & ~(uintptr_t)(CHUNK - 1));
    munmap(res, 3 * CHUNK);
    for (k = 0; k < PT_PAGES; k++) {
        pt_map(k);
        pt_fill(k, 1);
    }
    store_rel(&pt_seq, 2);
    for (r = 2; r < PT_ROUNDS + 2; r++) {
        for (i = 0; i < NW; i++) {
            WAIT_UNTIL(load_acq(&pt_ack[i][0]) == pt_seq);
        }
        store_rel(&pt_seq, pt_seq + 1);
        ops = qf_hash_u32(ops, pt_change(r));
        store_rel(&pt_seq, pt_seq + 1);
    }
    for (i = 0; i < NW; i++) {
        WAIT_UNTIL(load_acq(&pt_ack[i][0]) == pt_seq);
    }
    store_rel(&pt_stop, 1);
    for (i = 0; i < NW; i++) {
        pthread_join(thr[i], NULL);
        bad += pt_bad[i][0];
    }
    for (k = 0; k < PT_PAGES; k++) {
        hash = qf_hash_u32(hash, pt_kind[k]);
        hash = qf_hash_u32(hash, pt_gen[k]);
    }
    munmap(pt_base, 2 * CHUNK);
    QF_CHECK(bad == 0, "pte: %u wrong reads after a change", bad);
    printf("pte: %d changes (ops %08x) under %d readers, final states "
           "%08x\n", PT_ROUNDS, ops, NW, hash);
    return qf_hash_u32(qf_hash_u32(h, ops), hash);
}

/* ---- cow ---- */

static volatile uint32_t *cow_page;
static uint32_t cow_count[2][16];       /* the last value stored */
static uint32_t cow_go;                 /* odd: pause */
static uint32_t cow_paused[2][16];

static volatile uint32_t *cow_words(int i)
{
    return cow_page + i * (PAGE_WORDS / 2) + 8;
}

static void *cow_writer(void *arg)
{
    int i = (intptr_t)arg;
    volatile uint32_t *w = cow_words(i);
    uint32_t c = 0, g;

    pin_worker(i);
    for (;;) {
        g = load_acq(&cow_go);
        if (g == 0xffffffffu) {
            break;
        }
        if (g & 1) {
            if (load_acq(&cow_paused[i][0]) != g) {
                store_rel(&cow_count[i][0], c);
                store_rel(&cow_paused[i][0], g);
            }
            WAIT_UNTIL(load_acq(&cow_go) != g);
            continue;
        }
        c++;
        w[c % COW_WORDS] = c;
        store_rel(&cow_count[i][0], c);
        if (ncpus < 3 && c % 256 == 0) {
            sched_yield();
        }
    }
    return NULL;
}

/* Do thread i's words hold the stores up to m? 0 if so. */
static int cow_bad(int i, uint32_t m)
{
    volatile uint32_t *w = cow_words(i);
    uint32_t j, want;

    for (j = 0; j < COW_WORDS; j++) {
        want = m - (m - j) % COW_WORDS;
        if (want > m) {
            want = 0;
        }
        if (w[j] != want) {
            return 1;
        }
    }
    return 0;
}

/* The largest value in thread i's words. */
static uint32_t cow_max(int i)
{
    volatile uint32_t *w = cow_words(i);
    uint32_t j, m = 0;

    for (j = 0; j < COW_WORDS; j++) {
        if (w[j] > m) {
            m = w[j];
        }
    }
    return m;
}

static int cow_child(int in, int out)
{
    uint32_t snap[2][COW_WORDS], msg = 0, j;
    int i, bad = 0;

    for (i = 0; i < 2; i++) {
        bad |= cow_bad(i, cow_max(i));
        for (j = 0; j < COW_WORDS; j++) {
            snap[i][j] = cow_words(i)[j];
        }
    }
    if (write_full(out, &msg, 4) != 0 || read_full(in, &msg, 4) != 0) {
        return 20;
    }
    for (i = 0; i < 2; i++) {
        for (j = 0; j < COW_WORDS; j++) {
            bad |= (snap[i][j] != cow_words(i)[j]) << 1;
            cow_words(i)[j] = 0xdead0000u | j;
        }
    }
    for (i = 0; i < 2; i++) {
        for (j = 0; j < COW_WORDS; j++) {
            bad |= (cow_words(i)[j] != (0xdead0000u | j)) << 2;
        }
    }
    return bad ? 20 + bad : 0;
}

static uint32_t test_cow(uint32_t h)
{
    int to_child[2], to_parent[2], i, status, bad = 0;
    uint32_t f, g, seen[2], msg, hash = QF_HASH_INIT;
    pthread_t thr[2];
    pid_t pid;

    cow_page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (cow_page == MAP_FAILED) {
        qf_fail("cow: mmap");
        return h;
    }
    fflush(stdout);
    for (i = 0; i < 2; i++) {
        pthread_create(&thr[i], NULL, cow_writer, (void *)(intptr_t)i);
    }
    for (f = 0; f < COW_FORKS && bad < 3; f++) {
        /* let both threads store a while after the last pause */
        for (i = 0; i < 2; i++) {
            seen[i] = load_acq(&cow_count[i][0]);
        }
        for (i = 0; i < 2; i++) {
            WAIT_UNTIL(load_acq(&cow_count[i][0]) >= seen[i] + 8);
        }
        if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
            qf_fail("cow: pipe");
            break;
        }
        pid = fork();
        if (pid == 0) {
            close(to_child[1]);
            close(to_parent[0]);
            _exit(cow_child(to_child[0], to_parent[1]));
        }
        close(to_child[0]);
        close(to_parent[1]);
        if (read_full(to_parent[0], &msg, 4) != 0) {
            qf_fail("cow: fork %u: no snapshot from the child", f);
        }
        /* two more passes over their words in the parent */
        for (i = 0; i < 2; i++) {
            seen[i] = load_acq(&cow_count[i][0]);
        }
        for (i = 0; i < 2; i++) {
            WAIT_UNTIL(load_acq(&cow_count[i][0]) >= seen[i] +
                       2 * COW_WORDS);
        }
        if (write_full(to_child[1], &msg, 4) != 0) {
            qf_fail("cow: fork %u: write", f);
        }
        close(to_child[1]);
        close(to_parent[0]);
        waitpid(pid, &status, 0);
        /* pause the threads: no store lost, none of the child's */
        g = cow_go + 1;
        store_rel(&cow_go, g);
        for (i = 0; i < 2; i++) {
            WAIT_UNTIL(load_acq(&cow_paused[i][0]) == g);
            if (cow_bad(i, load_acq(&cow_count[i][0]))) {
                bad++;
                qf_fail("cow: fork %u: thread %d's words lost stores", f, i);
            }
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            bad++;
            qf_fail("cow: fork %u: child status %#x", f, status);
        }
        hash = qf_hash_u32(hash, status);
        store_rel(&cow_go, g + 1);
    }
    store_rel(&cow_go, 0xffffffffu);
    for (i = 0; i < 2; i++) {
        pthread_join(thr[i], NULL);
    }
    munmap((void *)cow_page, PAGE);
    printf("cow: %d forks under 2 storing threads, child statuses %08x\n",
           COW_FORKS, hash);
    return qf_hash_u32(h, hash);
}

int main(void)
{
    struct sigaction sa;
    uint32_t h = QF_HASH_INIT;

    ncpus = sysconf(_SC_NPROCESSORS_ONLN);
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    pin(0);
    h = test_pte(h);
    h = test_cow(h);
    return qf_finish("smp-pt", h);
}
