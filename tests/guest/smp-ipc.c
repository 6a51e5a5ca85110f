/*
 * smp-ipc: futexes, pipes and signals between threads and processes on
 * different CPUs (the parent or main thread on CPU 0, the other side on
 * CPU 1, the ring on every CPU; unpinned with one CPU).
 *
 * - pipe: PIPE_ROUNDS round trips between two processes, messages of 1
 *   to 16 words whose every word is checked on both sides;
 * - futex: FUTEX_ROUNDS round trips between two threads that sleep in
 *   FUTEX_WAIT and wake each other with FUTEX_WAKE, a payload each way;
 * - ring: RING_THREADS threads pass a token RING_LAPS times around,
 *   each sleeping on its own futex word: every thread sees the token
 *   values that are its own, in order;
 * - thread signals: SIG_THREAD signals sent with pthread_sigqueue to a
 *   thread spinning in user code; each is handled on that thread, with
 *   the value sent, before the next is sent;
 * - process signals: SIG_PROC signals to a spinning child, by kill and
 *   sigqueue in turn: the handler checks si_code, the sender or value,
 *   and acknowledges it over a pipe;
 * - queue: RT_ROUNDS times RT_QUEUE real-time signals queued to a child
 *   that blocks them; sigwaitinfo must return them all, in order.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qftest.h"
#include "qfsmp.h"
#include "../lib/fullio.h"

#define PIPE_ROUNDS 2000
#define FUTEX_ROUNDS 3000
#define RING_THREADS 4
#define RING_LAPS 400
#define SIG_THREAD 1000
#define SIG_PROC 600
#define RT_ROUNDS 10
#define RT_QUEUE 24


static uint32_t mix(uint32_t a, uint32_t b)
{
    return (a * 2654435761u ^ b * 0x9e3779b9u) + 0x7f4a7c15u;
}

/* ---- pipe ---- */

static int pipe_child(int in, int out)
{
    uint32_t buf[17], i, j, len;
    int bad = 0;

    pin(1);
    for (i = 0; i < PIPE_ROUNDS; i++) {
        len = 1 + i % 16;
        if (read_full(in, buf, len * 4) != 0) {
            return 10;
        }
        for (j = 0; j < len; j++) {
            bad += buf[j] != mix(i, j);
            buf[j] = mix(buf[j], 0x1234) ^ j;
        }
        if (write_full(out, buf, len * 4) != 0) {
            return 11;
        }
    }
    /* end of file after the last message */
    return bad ? 12 : read(in, buf, 4) == 0 ? 0 : 13;
}

/*
 * Fork a child that runs @fn(read end, write end) over two pipes and
 * exits with its value; the parent keeps to_child[1] and to_parent[0].
 * Returns the child's pid, or -1 (reported) when the pipes fail.
 */
static pid_t fork_piped(int (*fn)(int, int), int to_child[2],
                        int to_parent[2])
{
    pid_t pid;

    if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
        qf_fail("pipe");
        return -1;
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        close(to_child[1]);
        close(to_parent[0]);
        _exit(fn(to_child[0], to_parent[1]));
    }
    close(to_child[0]);
    close(to_parent[1]);
    return pid;
}

static uint32_t test_pipe(uint32_t h)
{
    int to_child[2], to_parent[2], status, bad = 0;
    uint32_t buf[17], i, j, len, hash = QF_HASH_INIT;
    pid_t pid;

    pid = fork_piped(pipe_child, to_child, to_parent);
    if (pid < 0) {
        return h;
    }
    for (i = 0; i < PIPE_ROUNDS; i++) {
        len = 1 + i % 16;
        for (j = 0; j < len; j++) {
            buf[j] = mix(i, j);
        }
        if (write_full(to_child[1], buf, len * 4) != 0 ||
            read_full(to_parent[0], buf, len * 4) != 0) {
            qf_fail("pipe: round %u: the child stopped answering", i);
            break;
        }
        for (j = 0; j < len; j++) {
            bad += buf[j] != (mix(mix(i, j), 0x1234) ^ j);
        }
        hash = qf_hash(hash, buf, len * 4);
    }
    close(to_child[1]);
    close(to_parent[0]);
    waitpid(pid, &status, 0);
    QF_CHECK(bad == 0, "pipe: %d wrong words in the replies", bad);
    QF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "pipe: child status %#x", status);
    printf("pipe: %d round trips, replies %08x\n", PIPE_ROUNDS, hash);
    return qf_hash_u32(h, hash);
}

/* ---- futex ---- */

static long futex(uint32_t *addr, int op, uint32_t val)
{
    return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

/* Sleep until *addr == want. */
static void futex_wait_for(uint32_t *addr, uint32_t want)
{
    uint32_t v;

    while ((v = load_acq(addr)) != want) {
        if (futex(addr, FUTEX_WAIT_PRIVATE, v) != 0 && errno != EAGAIN &&
            errno != EINTR) {
            printf("FAIL: futex wait: %s\n", strerror(errno));
            exit(2);
        }
    }
}

static void futex_set(uint32_t *addr, uint32_t v)
{
    store_rel(addr, v);
    if (futex(addr, FUTEX_WAKE_PRIVATE, 1) < 0) {
        printf("FAIL: futex wake: %s\n", strerror(errno));
        exit(2);
    }
}

static uint32_t fx_word, fx_ping, fx_pong;
static int fx_bad;

static void *fx_thread(void *arg)
{
    uint32_t i;

    (void)arg;
    pin(1);
    for (i = 0; i < FUTEX_ROUNDS; i++) {
        futex_wait_for(&fx_word, 2 * i + 1);
        fx_bad += fx_ping != mix(i, 1);
        fx_pong = mix(fx_ping, 2);
        futex_set(&fx_word, 2 * i + 2);
    }
    return NULL;
}

static uint32_t test_futex(uint32_t h)
{
    pthread_t thr;
    uint32_t i, hash = QF_HASH_INIT;
    int bad = 0;

    pthread_create(&thr, NULL, fx_thread, NULL);
    for (i = 0; i < FUTEX_ROUNDS; i++) {
        fx_ping = mix(i, 1);
        futex_set(&fx_word, 2 * i + 1);
        futex_wait_for(&fx_word, 2 * i + 2);
        bad += fx_pong != mix(mix(i, 1), 2);
        hash = qf_hash_u32(hash, fx_pong);
    }
    pthread_join(thr, NULL);
    QF_CHECK(bad == 0 && fx_bad == 0, "futex: %d wrong replies, %d wrong "
             "messages", bad, fx_bad);
    printf("futex: %d round trips, replies %08x\n", FUTEX_ROUNDS, hash);
    return qf_hash_u32(h, hash);
}

/* ---- ring ---- */

static uint32_t ring_slot[RING_THREADS][16];
static uint32_t ring_hash[RING_THREADS];
static int ring_bad[RING_THREADS];

static void *ring_thread(void *arg)
{
    int t = (intptr_t)arg, next = (t + 1) % RING_THREADS;
    uint32_t lap, token, v, seen = 0, hash = QF_HASH_INIT;

    pin(t);
    for (lap = 0; lap < RING_LAPS; lap++) {
        token = lap * RING_THREADS + t + 1;
        /* sleep until the word changes: it must be our next token */
        while ((v = load_acq(&ring_slot[t][0])) == seen) {
            futex(&ring_slot[t][0], FUTEX_WAIT_PRIVATE, v);
        }
        seen = v;
        if (v != token && ring_bad[t]++ == 0) {
            printf("FAIL: ring: thread %d got token %u, want %u\n", t, v,
                   token);
        }
        hash = qf_hash_u32(hash, v);
        if (lap + 1 < RING_LAPS || next != 0) {
            futex_set(&ring_slot[next][0], token + 1);
        }
    }
    ring_hash[t] = hash;
    return NULL;
}

static uint32_t test_ring(uint32_t h)
{
    pthread_t thr[RING_THREADS];
    uint32_t hash = QF_HASH_INIT;
    int t;

    for (t = 1; t < RING_THREADS; t++) {
        pthread_create(&thr[t], NULL, ring_thread, (void *)(intptr_t)t);
    }
    futex_set(&ring_slot[0][0], 1);
    ring_thread((void *)0);
    pin(0);
    for (t = 1; t < RING_THREADS; t++) {
        pthread_join(thr[t], NULL);
    }
    for (t = 0; t < RING_THREADS; t++) {
        hash = qf_hash_u32(hash, ring_hash[t]);
        QF_CHECK(ring_bad[t] == 0, "ring: thread %d saw wrong tokens", t);
    }
    printf("ring: %d threads, %d laps, tokens %08x\n", RING_THREADS,
           RING_LAPS, hash);
    return qf_hash_u32(h, hash);
}

/* ---- thread signals ---- */

static pid_t st_tid;
static uint32_t st_count, st_stop;
static int st_bad;

static void st_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig != SIGUSR1 || gettid() != st_tid || si->si_code != SI_QUEUE ||
        (uint32_t)si->si_value.sival_int != mix(st_count + 1, 7)) {
        st_bad++;
    }
    store_rel(&st_count, st_count + 1);
}

static void *st_thread(void *arg)
{
    uint32_t x = 1;

    (void)arg;
    pin(1);
    st_tid = gettid();
    store_rel(&st_count, 0);
    while (!load_acq(&st_stop)) {
        /* user code, no system call: the signal must interrupt it */
        x = x * 1103515245u + 12345u;
        if (ncpus < 2 && x % 4096 == 0) {
            sched_yield();
        }
    }
    return (void *)(uintptr_t)(x & 1);
}

static uint32_t test_thread_signals(uint32_t h)
{
    struct sigaction sa;
    union sigval val;
    pthread_t thr;
    uint32_t i;
    int err = 0;

    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = st_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    st_count = 0xffffffffu;
    pthread_create(&thr, NULL, st_thread, NULL);
    WAIT_UNTIL(load_acq(&st_count) == 0);
    for (i = 1; i <= SIG_THREAD; i++) {
        val.sival_int = mix(i, 7);
        err = pthread_sigqueue(thr, SIGUSR1, val);
        if (err) {
            qf_fail("pthread_sigqueue: %s", strerror(err));
            break;
        }
        WAIT_UNTIL(load_acq(&st_count) == i);
    }
    store_rel(&st_stop, 1);
    pthread_join(thr, NULL);
    signal(SIGUSR1, SIG_DFL);
    QF_CHECK(st_bad == 0, "thread signals: %d handled wrong", st_bad);
    printf("thread signals: %d sent, %u handled on the spinning thread\n",
           SIG_THREAD, st_count);
    return qf_hash_u32(h, st_count);
}

/* ---- process signals ---- */

static volatile uint32_t ps_count;
static volatile int ps_bad;
static int ps_ack = -1;
static pid_t ps_parent;

static void ps_handler(int sig, siginfo_t *si, void *uc)
{
    uint32_t n = ps_count + 1;

    (void)uc;
    if (sig != SIGUSR2 || si->si_pid != ps_parent) {
        ps_bad++;
    } else if (n % 2) {
        ps_bad += si->si_code != SI_USER;
    } else {
        ps_bad += si->si_code != SI_QUEUE ||
                  (uint32_t)si->si_value.sival_int != mix(n, 3);
    }
    ps_count = n;
    if (write(ps_ack, &n, 4) != 4) {
        ps_bad++;
    }
}

static uint32_t test_process_signals(uint32_t h)
{
    struct sigaction sa;
    int ack[2], status;
    uint32_t i, got, x = 1;
    union sigval val;
    pid_t pid;

    if (pipe(ack) != 0) {
        qf_fail("pipe");
        return h;
    }
    ps_parent = getpid();
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = ps_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        pin(1);
        close(ack[0]);
        ps_ack = ack[1];
        /* "ready" */
        got = 0;
        if (write(ps_ack, &got, 4) != 4) {
            _exit(20);
        }
        while (ps_count < SIG_PROC) {
            x = x * 1103515245u + 12345u;
            if (ncpus < 2 && x % 4096 == 0) {
                sched_yield();
            }
        }
        _exit(ps_bad ? 21 : (int)(x & 0));
    }
    close(ack[1]);
    signal(SIGUSR2, SIG_DFL);
    if (read_full(ack[0], &got, 4) != 0 || got != 0) {
        qf_fail("process signals: the child did not start");
    }
    for (i = 1; i <= SIG_PROC; i++) {
        if (i % 2) {
            kill(pid, SIGUSR2);
        } else {
            val.sival_int = mix(i, 3);
            sigqueue(pid, SIGUSR2, val);
        }
        if (read_full(ack[0], &got, 4) != 0 || got != i) {
            qf_fail("process signals: signal %u acknowledged as %u", i, got);
            break;
        }
    }
    close(ack[0]);
    waitpid(pid, &status, 0);
    QF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "process signals: child status %#x", status);
    printf("process signals: %d sent by kill and sigqueue, child exit %d\n",
           SIG_PROC, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return qf_hash_u32(h, status);
}

/* ---- queue ---- */

static int rt_child(int in, int out)
{
    sigset_t set;
    siginfo_t si;
    uint32_t r, j, msg;
    int sig = SIGRTMIN + 1, bad = 0;

    pin(1);
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (r = 0; r < RT_ROUNDS; r++) {
        msg = r;
        if (write_full(out, &msg, 4) != 0 || read_full(in, &msg, 4) != 0) {
            return 30;
        }
        for (j = 0; j < RT_QUEUE; j++) {
            if (sigwaitinfo(&set, &si) != sig || si.si_code != SI_QUEUE ||
                (uint32_t)si.si_value.sival_int != mix(r, j)) {
                bad++;
            }
        }
        if (sigpending(&set) != 0 || sigismember(&set, sig)) {
            bad++;
        }
        sigemptyset(&set);
        sigaddset(&set, sig);
    }
    return bad ? 31 : 0;
}

static uint32_t test_queue(uint32_t h)
{
    int to_child[2], to_parent[2], status;
    uint32_t r, j, msg;
    union sigval val;
    pid_t pid;

    pid = fork_piped(rt_child, to_child, to_parent);
    if (pid < 0) {
        return h;
    }
    for (r = 0; r < RT_ROUNDS; r++) {
        /* the child blocks the signal and waits */
        if (read_full(to_parent[0], &msg, 4) != 0 || msg != r) {
            qf_fail("queue: the child is not ready");
            break;
        }
        for (j = 0; j < RT_QUEUE; j++) {
            val.sival_int = mix(r, j);
            if (sigqueue(pid, SIGRTMIN + 1, val) != 0) {
                qf_fail("queue: sigqueue: %s", strerror(errno));
            }
        }
        if (write_full(to_child[1], &msg, 4) != 0) {
            qf_fail("queue: write");
            break;
        }
    }
    close(to_child[1]);
    close(to_parent[0]);
    waitpid(pid, &status, 0);
    QF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "queue: child status %#x", status);
    printf("queue: %d x %d queued real-time signals, child exit %d\n",
           RT_ROUNDS, RT_QUEUE, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return qf_hash_u32(h, status);
}

int main(void)
{
    uint32_t h = QF_HASH_INIT;

    ncpus = sysconf(_SC_NPROCESSORS_ONLN);
    signal(SIGPIPE, SIG_IGN);
    pin(0);
    h = test_pipe(h);
    h = test_futex(h);
    h = test_ring(h);
    h = test_thread_signals(h);
    h = test_process_signals(h);
    h = test_queue(h);
    return qf_finish("smp-ipc", h);
}
