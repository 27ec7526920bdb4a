/*
 * namespace-cost: what the kernel alone charges for a sandbox's namespaces on this machine,
 * the floor under every cold spawn (benchmarks/run.sh runs it; docs/benchmarks.md shows it).
 *
 *     namespace-cost ROUNDS
 *
 * Three ways to start /bin/true and wait for it, ROUNDS times each, interleaved: a plain
 * fork; a clone into new user, mount, pid, ipc, uts and cgroup namespaces (what a sandbox with
 * the host's network has); the same with a network namespace too. Each time is clone to reaped,
 * so it holds the namespaces' creation and their teardown at the child's exit, as a spawn pays
 * them. Prints one JSON object with the median of each, in microseconds:
 *
 *     {"rounds": 400, "forkUs": 830, "namespacesUs": 1076, "withNetworkUs": 1951}
 *
 * Works unprivileged (the user namespace comes first). Errors: a message on stderr, exit 1;
 * usage errors exit 2.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_ROUNDS 100000
#define CHILD_STACK (64 * 1024)

enum way { WAY_FORK, WAY_NAMESPACES, WAY_WITH_NETWORK, WAY_COUNT };

static const char *const way_names[WAY_COUNT] = {"forkUs", "namespacesUs", "withNetworkUs"};

static const int way_flags[WAY_COUNT] = {
    0,
    CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP,
    CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP |
        CLONE_NEWNET,
};

static _Alignas(16) char child_stack[CHILD_STACK];

/* In the child: nothing but the exec, as a sandbox's command does last. */
static int run_true(void *unused)
{
    (void)unused;
    char *const argv[] = {"/bin/true", NULL};
    execv(argv[0], argv);
    _exit(127);
}

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* One start of /bin/true the given way, clone to reaped: its time in microseconds, or -1. */
static double start_once(enum way way)
{
    double begin = now_us();
    pid_t pid = clone(run_true, child_stack + CHILD_STACK, way_flags[way] | SIGCHLD, NULL);
    if (pid < 0) {
        fprintf(stderr, "namespace-cost: clone for %s: %s\n", way_names[way], strerror(errno));
        return -1;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "namespace-cost: waitpid: %s\n", strerror(errno));
            return -1;
        }
    }
    double elapsed = now_us() - begin;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "namespace-cost: /bin/true (%s) ended with status %d\n",
                way_names[way], status);
        return -1;
    }
    return elapsed;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    char *end = NULL;
    long rounds = argc == 2 ? strtol(argv[1], &end, 10) : 0;
    if (argc != 2 || *end != '\0' || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: namespace-cost ROUNDS (1 to %d)\n", MAX_ROUNDS);
        return 2;
    }
    double *times[WAY_COUNT];
    for (int way = 0; way < WAY_COUNT; way++) {
        times[way] = calloc((size_t)rounds, sizeof(double));
        if (times[way] == NULL) {
            fprintf(stderr, "namespace-cost: out of memory\n");
            return 1;
        }
    }
    /* Interleaved, so that a slower moment of the machine falls on every way alike. */
    for (long r = 0; r < rounds; r++) {
        for (int way = 0; way < WAY_COUNT; way++) {
            times[way][r] = start_once((enum way)way);
            if (times[way][r] < 0) {
                return 1;
            }
        }
    }
    printf("{\"rounds\": %ld", rounds);
    for (int way = 0; way < WAY_COUNT; way++) {
        qsort(times[way], (size_t)rounds, sizeof(double), compare_doubles);
        printf(", \"%s\": %.0f", way_names[way], times[way][rounds / 2]);
        free(times[way]);
    }
    printf("}\n");
    return 0;
}
