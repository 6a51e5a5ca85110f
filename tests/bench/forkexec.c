/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * forkexec: process creation, a loop of fork + execve of this program
 * with the argument "--child" (which exits at once), and waitpid in the
 * parent.  The program finds itself through /proc/self/exe, or argv[0]
 * when /proc is not there.  One untimed round checks that the exec works.
 *
 * ops = fork + exec + exit + wait iterations; checksum = the count and
 * the exit statuses.
 */
#include <limits.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define ITERATIONS  250u            /* processes at scale 1 */
#define CHILD_ARG   "--child"
#define EXEC_FAILED 127

static int run_child(const char *path)
{
    char *child_argv[] = { (char *)path, (char *)CHILD_ARG, NULL };
    char *child_envp[] = { NULL };
    int status;
    pid_t pid;

    pid = fork();
    if (pid < 0) {
        bench_fail("fork: %s", strerror(errno));
    }
    if (pid == 0) {
        execve(path, child_argv, child_envp);
        _exit(EXEC_FAILED);
    }
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            bench_fail("waitpid: %s", strerror(errno));
        }
    }
    return status;
}

int main(int argc, char **argv)
{
    uint64_t iterations, i, start, end, checksum;
    char self[PATH_MAX];
    const char *path;
    ssize_t len;
    int status;

    if (argc == 2 && strcmp(argv[1], CHILD_ARG) == 0) {
        return 0;
    }
    bench_init("forkexec", argc, argv);
    iterations = bench_count(ITERATIONS);

    len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (len > 0) {
        self[len] = '\0';
        path = self;
    } else {
        path = argv[0];
    }
    fflush(stdout);

    status = run_child(path);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        bench_fail("cannot run %s %s (status 0x%x)", path, CHILD_ARG, status);
    }

    checksum = bench_hash_u64(BENCH_HASH_INIT, iterations);
    start = bench_now_ns();
    for (i = 0; i < iterations; i++) {
        status = run_child(path);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            bench_fail("child %" PRIu64 " failed (status 0x%x)", i, status);
        }
        checksum = bench_hash_u64(checksum, (uint64_t)status);
    }
    end = bench_now_ns();

    return bench_result(start, end, iterations, "processes", checksum);
}
