/*
 * smp-tlb: TLB shootdowns.  Worker threads pinned to the other CPUs use
 * pages while the main thread (CPU 0) changes their mappings; every
 * change is followed by a handshake, after which no worker may use the
 * old translation.
 *
 * - remap: the main thread replaces one of RM_PAGES pages with a new one
 *   holding a higher generation number (by mremap MREMAP_FIXED of a page
 *   filled elsewhere, by munmap + mmap MAP_FIXED, or by mmap MAP_FIXED
 *   over it), publishing the page's state in a sequence word (odd while
 *   it replaces).  Readers read every page all the time; a read between
 *   two equal even loads of the sequence must see exactly the published
 *   generation, any read at least the generation of its first load: a
 *   stale translation shows an older generation, or a fault.  Every
 *   round waits until each reader swept all pages after the new state.
 * - mprotect: writers store to their word of a page while the main thread
 *   makes it read-only.  Once a writer acquired "protected", each of its
 *   next MP_K stores must fault (SEGV_ACCERR at the word); when the page
 *   is writable again, each of the next MP_K stores must succeed.  The
 *   page must not change between mprotect's return and the writers'
 *   acknowledgement; stores before the handshake may fault only while
 *   the protection is changing.
 * - copy: a thread copies 128 KiB with rep movsb or rep movsl while the
 *   main thread unmaps the upper half of its destination or source.  The
 *   copy completes or faults; a fault must be SEGV_MAPERR (qemu-i386:
 *   or SEGV_ACCERR, see cp_check) in the unmapped half, at the address in EDI (destination) or ESI (source), with ECX,
 *   ESI and EDI telling the same progress, and the bytes copied before
 *   it right (the whole copy when it completed and they can be seen).
 *
 * Which stores fault before a handshake, and whether a copy completes,
 * depends on timing: the output only holds what must be the same.
 * Without a second CPU the threads run unpinned.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "qftest.h"
#include "qfsmp.h"

#define PAGE 4096
#define PAGE_WORDS (PAGE / 4)
#define NW 3                /* worker threads */

#define RM_PAGES 8
#define RM_ROUNDS 50        /* per way of replacing */

#define MP_ROUNDS 60
#define MP_K 4

#define CP_PAGES 32
#define CP_ROUNDS 160


static void start_threads(pthread_t *thr, int n, void *(*fn)(void *))
{
    int i;

    for (i = 0; i < n; i++) {
        if (pthread_create(&thr[i], NULL, fn, (void *)(intptr_t)i) != 0) {
            printf("FAIL: pthread_create\n");
            exit(2);
        }
    }
}

static void join_threads(pthread_t *thr, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        pthread_join(thr[i], NULL);
    }
}

/* ---- faults, per thread ---- */

static __thread sigjmp_buf fault_jmp;
static __thread volatile int probing;
static __thread volatile int fault_code;
static __thread void *volatile fault_addr;
static __thread volatile uint32_t fault_edi, fault_esi, fault_ecx;

static void segv_handler(int sig, siginfo_t *si, void *ucv)
{
    static const char msg[] = "FAIL: unexpected SIGSEGV\n";
    ucontext_t *uc = ucv;

    (void)sig;
    if (!probing) {
        if (write(1, msg, sizeof(msg) - 1) < 0) {
            _exit(3);
        }
        _exit(3);
    }
    probing = 0;
    fault_code = si->si_code;
    fault_addr = si->si_addr;
    fault_edi = uc->uc_mcontext.gregs[REG_EDI];
    fault_esi = uc->uc_mcontext.gregs[REG_ESI];
    fault_ecx = uc->uc_mcontext.gregs[REG_ECX];
    siglongjmp(fault_jmp, 1);
}

static void catch_segv(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = segv_handler;
    /* no mask to restore after siglongjmp: sigsetjmp(, 0) is enough */
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0) {
        printf("FAIL: sigaction\n");
        exit(2);
    }
}

/* Load or store the word at p; 0, or the si_code of its SIGSEGV. */
static __attribute__((noinline)) int probe(volatile uint32_t *p, int store,
                                           uint32_t *val)
{
    fault_code = 0;
    fault_addr = NULL;
    if (sigsetjmp(fault_jmp, 0) == 0) {
        probing = 1;
        if (store) {
            *p = *val;
        } else {
            *val = *p;
        }
        probing = 0;
        return 0;
    }
    return fault_addr == (void *)p ? fault_code : -1;
}

static uint8_t *map_anon(uint8_t *at, size_t pages)
{
    uint8_t *p = mmap(at, pages * PAGE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED : 0),
                      -1, 0);

    if (p == MAP_FAILED || (at && p != at)) {
        printf("FAIL: mmap of %zu pages: %s\n", pages, strerror(errno));
        exit(2);
    }
    return p;
}

/* ---- remap ---- */

enum { RM_MREMAP, RM_MUNMAP, RM_OVER };

static uint8_t *rm_base;
static int rm_way;
static uint32_t rm_seq[RM_PAGES];       /* 2 * generation, odd: changing */
static uint32_t rm_round, rm_stop;
static uint32_t rm_ack[NW][16];         /* a cache line each */
static uint32_t rm_bad[NW][16];

/* Word w of page k in generation g (g < 2^18): never 0. */
static uint32_t rm_word(uint32_t k, uint32_t g, uint32_t w)
{
    return (k + 1) << 28 | g << 10 | w;
}

static void rm_fill(uint8_t *page, uint32_t k, uint32_t g)
{
    volatile uint32_t *p = (uint32_t *)page;
    uint32_t w;

    for (w = 0; w < PAGE_WORDS; w++) {
        p[w] = rm_word(k, g, w);
    }
}

/* Is a read of word w of page k between sequence loads s1, s2 right? */
static int rm_read_ok(uint32_t k, uint32_t w, uint32_t s1, uint32_t s2,
                      int fault, uint32_t v)
{
    int changing = (s1 & 1) || s2 != s1;

    if (fault || v == 0) {
        /* only a page unmapped or new and not yet filled */
        return changing && rm_way != RM_MREMAP && fault >= 0;
    }
    if (v >> 28 != k + 1 || (v & (PAGE_WORDS - 1)) != w) {
        return 0;
    }
    if (((v >> 10) & 0x3ffff) < s1 / 2) {
        return 0;       /* older than what was published: stale */
    }
    return changing || ((v >> 10) & 0x3ffff) == s1 / 2;
}

static void *rm_reader(void *arg)
{
    int i = (intptr_t)arg;
    uint32_t r, k, s1, s2, v, w = i * 331;
    volatile uint32_t *p;
    int fault;

    pin_worker(i);
    for (;;) {
        r = load_acq(&rm_round);
        if (load_acq(&rm_stop)) {
            break;
        }
        for (k = 0; k < RM_PAGES; k++) {
            w = (w + 97) & (PAGE_WORDS - 1);
            p = (uint32_t *)(rm_base + k * PAGE) + w;
            s1 = load_acq(&rm_seq[k]);
            v = 0;
            fault = probe(p, 0, &v);
            __atomic_thread_fence(__ATOMIC_ACQUIRE);
            s2 = load_acq(&rm_seq[k]);
            if (!rm_read_ok(k, w, s1, s2, fault, v)) {
                if (rm_bad[i][0]++ == 0) {
                    printf("FAIL: remap: reader %d, page %u word %u: read "
                           "%08x (fault %d) with sequence %u..%u\n", i, k, w,
                           v, fault, s1, s2);
                }
            }
        }
        store_rel(&rm_ack[i][0], r);
        if (ncpus < NW + 1) {
            sched_yield();      /* let the readers on this CPU take turns */
        }
    }
    return NULL;
}

static void rm_replace(uint32_t k, uint32_t g)
{
    uint8_t *page = rm_base + k * PAGE, *tmp;

    store_rel(&rm_seq[k], rm_seq[k] + 1);
    switch (rm_way) {
    case RM_MREMAP:
        tmp = map_anon(NULL, 1);
        rm_fill(tmp, k, g);
        if (mremap(tmp, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, page) !=
            page) {
            printf("FAIL: mremap: %s\n", strerror(errno));
            exit(2);
        }
        break;
    case RM_MUNMAP:
        if (munmap(page, PAGE) != 0) {
            printf("FAIL: munmap: %s\n", strerror(errno));
            exit(2);
        }
        map_anon(page, 1);
        rm_fill(page, k, g);
        break;
    case RM_OVER:
        map_anon(page, 1);
        rm_fill(page, k, g);
        break;
    }
    store_rel(&rm_seq[k], 2 * g);
}

static uint32_t test_remap(uint32_t h)
{
    static const char *const names[] = {
        "mremap MREMAP_FIXED", "munmap + mmap MAP_FIXED", "mmap MAP_FIXED over"
    };
    pthread_t thr[NW];
    uint32_t k, g, hash = QF_HASH_INIT, bad = 0;
    int i;

    rm_base = map_anon(NULL, RM_PAGES);
    for (rm_way = RM_MREMAP; rm_way <= RM_OVER; rm_way++) {
        for (k = 0; k < RM_PAGES; k++) {
            rm_fill(rm_base + k * PAGE, k, 1);
            rm_seq[k] = 2;
        }
        rm_round = rm_stop = 0;
        memset(rm_ack, 0, sizeof(rm_ack));
        start_threads(thr, NW, rm_reader);
        for (g = 2; g < RM_ROUNDS + 2; g++) {
            k = (g * 5) % RM_PAGES;
            rm_replace(k, g);
            store_rel(&rm_round, g);
            for (i = 0; i < NW; i++) {
                WAIT_UNTIL(load_acq(&rm_ack[i][0]) == g);
            }
        }
        store_rel(&rm_stop, 1);
        join_threads(thr, NW);
        for (k = 0; k < RM_PAGES; k++) {
            hash = qf_hash(hash, rm_base + k * PAGE, PAGE);
            hash = qf_hash_u32(hash, rm_seq[k]);
        }
        for (i = 0; i < NW; i++) {
            bad += rm_bad[i][0];
            rm_bad[i][0] = 0;
        }
        printf("remap: %s: %d rounds of %d readers, pages %08x\n",
               names[rm_way], RM_ROUNDS, NW, hash);
    }
    QF_CHECK(bad == 0, "remap: %u stale or wrong reads", bad);
    munmap(rm_base, RM_PAGES * PAGE);
    return qf_hash_u32(h, hash);
}

/* ---- mprotect ---- */

/*
 * mp_state: 4r writable (round r's start), 4r+1 being protected, 4r+2
 * protected, 4r+3 being made writable; MP_STOP ends the writers.
 */
#define MP_STOP 0xffffffffu

static volatile uint32_t *mp_page;
static uint32_t mp_state;
static uint32_t mp_ack[NW][16];
static uint32_t mp_last[NW][16];        /* last value stored, at the ack */
static uint32_t mp_bad[NW][16];

static volatile uint32_t *mp_word(int i)
{
    return mp_page + 16 * i + 3;
}

static void mp_fail(int i, const char *what, uint32_t s, int code)
{
    if (mp_bad[i][0]++ == 0) {
        printf("FAIL: mprotect: writer %d, state %u: %s (si_code %d)\n", i,
               s, what, code);
    }
}

static void *mp_writer(void *arg)
{
    int i = (intptr_t)arg, n, code;
    uint32_t s, c = i << 24, acked = MP_STOP, last = 0;
    unsigned spins = 0;

    pin_worker(i);
    for (;;) {
        s = load_acq(&mp_state);
        if (s == MP_STOP) {
            break;
        }
        if ((s % 4 == 0 || s % 4 == 2) && s != acked) {
            /* after the handshake: every store must fault, or none */
            for (n = 0; n < MP_K; n++) {
                c++;
                code = probe(mp_word(i), 1, &c);
                if (s % 4 == 0 && code == 0) {
                    last = c;
                } else if (s % 4 == 0) {
                    mp_fail(i, "store to a writable page faulted", s, code);
                } else if (code != SEGV_ACCERR) {
                    mp_fail(i, code ? "wrong fault" :
                            "store to a read-only page succeeded", s, code);
                    if (code == 0) {
                        last = c;
                    }
                }
            }
            store_rel(&mp_last[i][0], last);
            store_rel(&mp_ack[i][0], s);
            acked = s;
        } else if (s % 4 == 0 || s % 4 == 2) {
            /* acknowledged: the main thread checks the word */
            relax(&spins);
        } else {
            /* while the protection changes: either, but the right fault */
            c++;
            code = probe(mp_word(i), 1, &c);
            if (code == 0) {
                last = c;
            } else if (code != SEGV_ACCERR) {
                mp_fail(i, "wrong fault while the protection changed", s,
                        code);
            }
            if (ncpus < 2) {
                sched_yield();
            }
        }
    }
    return NULL;
}

static uint32_t test_mprotect(uint32_t h)
{
    pthread_t thr[NW];
    uint32_t r, s, v1[NW], bad = 0, hash = QF_HASH_INIT;
    int i;

    mp_page = (uint32_t *)map_anon(NULL, 1);
    mp_state = 0;
    for (i = 0; i < NW; i++) {
        mp_ack[i][0] = MP_STOP;
    }
    start_threads(thr, NW, mp_writer);
    for (i = 0; i < NW; i++) {
        WAIT_UNTIL(load_acq(&mp_ack[i][0]) == 0);
    }
    for (r = 0; r < MP_ROUNDS; r++) {
        s = 4 * r;
        store_rel(&mp_state, s + 1);
        if (mprotect((void *)mp_page, PAGE, PROT_READ) != 0) {
            qf_fail("mprotect: %s", strerror(errno));
            break;
        }
        for (i = 0; i < NW; i++) {
            v1[i] = *mp_word(i);
        }
        store_rel(&mp_state, s + 2);
        for (i = 0; i < NW; i++) {
            WAIT_UNTIL(load_acq(&mp_ack[i][0]) == s + 2);
            if (*mp_word(i) != v1[i] || v1[i] != load_acq(&mp_last[i][0])) {
                if (bad++ == 0) {
                    qf_fail("mprotect: round %u, writer %d: word %08x, "
                            "%08x after mprotect returned, last store %08x",
                            r, i, *mp_word(i), v1[i], mp_last[i][0]);
                }
            }
        }
        store_rel(&mp_state, s + 3);
        if (mprotect((void *)mp_page, PAGE, PROT_READ | PROT_WRITE) != 0) {
            qf_fail("mprotect: %s", strerror(errno));
            break;
        }
        store_rel(&mp_state, s + 4);
        for (i = 0; i < NW; i++) {
            WAIT_UNTIL(load_acq(&mp_ack[i][0]) == s + 4);
            if (*mp_word(i) != load_acq(&mp_last[i][0])) {
                if (bad++ == 0) {
                    qf_fail("mprotect: round %u, writer %d: word %08x, last "
                            "store %08x", r, i, *mp_word(i), mp_last[i][0]);
                }
            }
        }
    }
    store_rel(&mp_state, MP_STOP);
    join_threads(thr, NW);
    for (i = 0; i < NW; i++) {
        bad += mp_bad[i][0];
        /* the writer's byte: its counter's top byte */
        hash = qf_hash_u32(hash, *mp_word(i) >> 24);
    }
    QF_CHECK(bad == 0, "mprotect: %u wrong stores or faults", bad);
    printf("mprotect: %d rounds, %d writers, %d stores faulted each after "
           "every protection, writers %08x\n", MP_ROUNDS, NW, MP_K, hash);
    munmap((void *)mp_page, PAGE);
    return qf_hash_u32(h, hash);
}

/* ---- copy ---- */

#define CP_BYTES (CP_PAGES * PAGE)
#define CP_HALF (CP_BYTES / 2)

static int user_emulator;      /* qemu-i386: see cp_check */
static uint8_t *cp_src, *cp_dst;
static int cp_variant;          /* bit 0: movsl; bit 1: unmap the source */
static uint32_t cp_go, cp_started, cp_done;
static int cp_faulted, cp_code;
static uint32_t cp_addr, cp_edi, cp_esi, cp_ecx;

static void *cp_copier(void *arg)
{
    volatile uint32_t r = 0;
    void *d, *s;
    uint32_t n;

    (void)arg;
    pin_worker(0);
    for (;;) {
        WAIT_UNTIL(load_acq(&cp_go) != r);
        r = load_acq(&cp_go);
        if (r == 0xffffffffu) {
            break;
        }
        d = cp_dst;
        s = cp_src;
        cp_faulted = 0;
        store_rel(&cp_started, r);
        if (sigsetjmp(fault_jmp, 0) == 0) {
            probing = 1;
            if (cp_variant & 1) {
                n = CP_BYTES / 4;
                asm volatile("cld; rep movsl"
                             : "+D"(d), "+S"(s), "+c"(n) : : "memory");
            } else {
                n = CP_BYTES;
                asm volatile("cld; rep movsb"
                             : "+D"(d), "+S"(s), "+c"(n) : : "memory");
            }
            probing = 0;
        } else {
            cp_faulted = 1;
            cp_code = fault_code;
            cp_addr = (uint32_t)(uintptr_t)fault_addr;
            cp_edi = fault_edi;
            cp_esi = fault_esi;
            cp_ecx = fault_ecx;
        }
        store_rel(&cp_done, r);
    }
    return NULL;
}

static uint32_t cp_word(uint32_t i)
{
    return i * 2654435761u ^ 0x5a5a1234u;
}

static void cp_fill_src(uint32_t from)
{
    uint32_t *w = (uint32_t *)cp_src, i;

    for (i = from / 4; i < CP_BYTES / 4; i++) {
        w[i] = cp_word(i);
    }
}

/* Do bytes [from, to) of the destination hold the source's? */
static int cp_dst_is(uint32_t from, uint32_t to)
{
    uint32_t i;

    for (i = from; i < to; i++) {
        if (cp_dst[i] != (uint8_t)(cp_word(i / 4) >> (8 * (i % 4)))) {
            return 0;
        }
    }
    return 1;
}

/* Check round r's copy; 0 when right. */
static int cp_check(uint32_t r)
{
    int src_gone = cp_variant & 2, size = cp_variant & 1 ? 4 : 1;
    uint32_t dst = (uint32_t)(uintptr_t)cp_dst;
    uint32_t src = (uint32_t)(uintptr_t)cp_src;
    uint32_t gone = (src_gone ? src : dst) + CP_HALF, done, i;

    if (!cp_faulted) {
        /* completed before the unmap: all that can still be seen */
        if (!cp_dst_is(0, src_gone ? CP_BYTES : CP_HALF)) {
            qf_fail("copy: round %u: completed copy differs", r);
            return 1;
        }
        return 0;
    }
    done = cp_edi - dst;
    /*
     * SEGV_MAPERR, as a kernel says.  qemu-i386 may say SEGV_ACCERR when
     * the fault races with the munmap: its munmap makes the host pages
     * PROT_NONE before it clears their guest flags, and its SIGSEGV
     * handler reads the flags without the mmap lock (QEMU 10.0 linux-user
     * race; only accepted there).
     */
    if ((cp_code != SEGV_MAPERR &&
         !(user_emulator && cp_code == SEGV_ACCERR)) || cp_addr < gone || cp_addr >= gone + CP_HALF ||
        cp_addr != (src_gone ? cp_esi : cp_edi) || cp_esi - src != done ||
        done % size != 0 || cp_ecx != (CP_BYTES - done) / size) {
        qf_fail("copy: round %u, variant %d: fault si_code %d at %08x, "
                "edi %08x (dst %08x) esi %08x (src %08x) ecx %08x", r,
                cp_variant, cp_code, cp_addr, cp_edi, dst, cp_esi, src,
                cp_ecx);
        return 1;
    }
    if (!cp_dst_is(0, src_gone ? done : CP_HALF)) {
        qf_fail("copy: round %u: bytes copied before the fault differ", r);
        return 1;
    }
    if (src_gone) {
        for (i = done; i < CP_BYTES; i++) {
            if (cp_dst[i] != 0) {
                qf_fail("copy: round %u: byte %u past the fault written", r,
                        i);
                return 1;
            }
        }
    }
    return 0;
}

static uint32_t test_copy(uint32_t h)
{
    pthread_t thr;
    uint32_t r;
    int bad = 0;

    cp_src = map_anon(NULL, CP_PAGES);
    cp_fill_src(0);
    start_threads(&thr, 1, cp_copier);
    for (r = 1; r <= CP_ROUNDS && bad < 3; r++) {
        cp_variant = r % 4;
        cp_dst = map_anon(NULL, CP_PAGES);
        store_rel(&cp_go, r);
        WAIT_UNTIL(load_acq(&cp_started) == r);
        if (munmap((cp_variant & 2 ? cp_src : cp_dst) + CP_HALF, CP_HALF)) {
            qf_fail("copy: munmap: %s", strerror(errno));
            break;
        }
        WAIT_UNTIL(load_acq(&cp_done) == r);
        bad += cp_check(r);
        if (cp_variant & 2) {
            map_anon(cp_src + CP_HALF, CP_PAGES / 2);
            cp_fill_src(CP_HALF);
            munmap(cp_dst, CP_BYTES);
        } else {
            munmap(cp_dst, CP_HALF);
        }
    }
    store_rel(&cp_go, 0xffffffffu);
    join_threads(&thr, 1);
    munmap(cp_src, CP_BYTES);
    printf("copy: %d rounds of rep movsb/movsl over %d KiB, unmapped under "
           "them: %s\n", CP_ROUNDS, CP_BYTES / 1024, bad ? "wrong" : "right");
    return qf_hash_u32(h, bad);
}

int main(void)
{
    uint32_t h = QF_HASH_INIT;

    ncpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* a kernel always has ptrace; qemu-i386 says ENOSYS */
    errno = 0;
    user_emulator = syscall(SYS_ptrace, PTRACE_PEEKUSER, getpid(), 0, 0) < 0 &&
                    errno == ENOSYS;
    setvbuf(stdout, NULL, _IOLBF, 0);
    catch_segv();
    pin(0);
    h = test_remap(h);
    h = test_mprotect(h);
    h = test_copy(h);
    return qf_finish("smp-tlb", h);
}
