/*
 * try-syscall: calls one system call by name, with harmless arguments, and prints exactly one
 * line:
 *
 *     NAME ret=R errno=E (ENAME)          e.g. "ptrace ret=-1 errno=1 (EPERM)"
 *                                         success: "getpid ret=2 errno=0 (OK)"
 *
 * and exits 0. A call the seccomp filter kills shows as the process dying by SIGSYS (no line).
 * It is the probe of the seccomp tests and only ever runs inside a sandbox; still, every
 * default is chosen so that a call that gets through does nothing (see `defaults` below).
 *
 *   try-syscall [--loop N] NAME [ARG...]      native ABI (x86_64 numbers on x86_64)
 *   try-syscall [--loop N] --int80 NAME [ARG...]  i386 ABI through `int $0x80`, i386 number
 *   try-syscall [--loop N] --x32 NAME [ARG...]    x32 number | __X32_SYSCALL_BIT
 *   try-syscall [--loop N] --clone3-newuser       clone3 with CLONE_NEWUSER (line: clone3-newuser)
 *   try-syscall [--loop N] --tiocsti-high         ioctl(0, 0xffffffff00005412, NULL)
 *                                                  (line: tiocsti-high)
 *
 * ARG: a number (decimal, 0x hex, 0 octal, may be negative) or s:TEXT (a pointer to TEXT).
 * Without ARGs every argument is 0 except for the calls in `defaults`. --loop N makes the call
 * N times (N >= 1) and prints the last result. A child made by a fork-like call (fork, vfork,
 * clone, clone3) exits at once, before it touches memory. Usage errors: a message on stderr,
 * exit 2.
 */
#include <errno.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "syscall_table.h"

static const struct timeval zero_timeval;
static const struct timespec zero_timespec;
static const char empty_string[1];

enum arg_kind { VALUE, ZERO_TIMEVAL, ZERO_TIMESPEC, EMPTY_STRING };

struct default_arg {
    const char *name;
    int index;
    enum arg_kind kind;
    long value;
};

/*
 * Calls that all-zero arguments would let do something if they got through. Everything else
 * fails harmlessly with zeros (EFAULT on a NULL pointer, EINVAL, ESRCH for pid 0, ...).
 */
static const struct default_arg defaults[] = {
    /* (0, 0) would set an empty name; a negative length is EINVAL after the permission check */
    {"sethostname", 1, VALUE, -1},
    {"setdomainname", 1, VALUE, -1},
    /* request 0 is PTRACE_TRACEME; PEEKUSER on pid 0 is ESRCH */
    {"ptrace", 0, VALUE, 3},
    /* op 0 is SECCOMP_SET_MODE_STRICT; GET_ACTION_AVAIL with NULL is EFAULT */
    {"seccomp", 0, VALUE, 2},
    /* acct(NULL) switches accounting off; "" is ENOENT */
    {"acct", 0, EMPTY_STRING, 0},
    /* nr_segments 0 would unload a kexec image; a foreign arch in flags is EINVAL */
    {"kexec_load", 3, VALUE, 0x10000},
    /* fd 0 would be read as a kernel / a module */
    {"kexec_file_load", 0, VALUE, -1},
    {"finit_module", 0, VALUE, -1},
    /* cmd 0 is IPC_RMID; IPC_STAT with NULL is EFAULT or EINVAL */
    {"shmctl", 1, VALUE, 2},
    {"msgctl", 1, VALUE, 2},
    {"semctl", 2, VALUE, 2},
    /* would wait for a message on queue 0 */
    {"msgrcv", 4, VALUE, 04000 /* IPC_NOWAIT */},
    /* would change stdin's file */
    {"fchmod", 0, VALUE, -1},
    {"fchown", 0, VALUE, -1},
    {"ftruncate", 0, VALUE, -1},
    {"utimensat", 0, VALUE, -1},
    {"futimesat", 0, VALUE, -1},
    /* a NULL timeout waits forever */
    {"select", 4, ZERO_TIMEVAL, 0},
    {"pselect6", 4, ZERO_TIMESPEC, 0},
    {"ppoll", 2, ZERO_TIMESPEC, 0},
};

static const char *const fork_like[] = {"fork", "vfork", "clone", "clone3"};

static bool is_fork_like(const char *name)
{
    for (size_t i = 0; i < sizeof fork_like / sizeof fork_like[0]; i++) {
        if (strcmp(name, fork_like[i]) == 0) {
            return true;
        }
    }
    return false;
}

static _Noreturn void usage(const char *problem)
{
    fprintf(stderr,
            "try-syscall: %s\n"
            "usage: try-syscall [--loop N] [--int80|--x32] NAME [ARG...]\n"
            "       try-syscall [--loop N] --clone3-newuser|--tiocsti-high\n"
            "ARG: a number (decimal, 0x hex, may be negative) or s:TEXT\n",
            problem);
    exit(2);
}

static long lookup(const struct syscall_entry *table, const char *name)
{
    for (size_t i = 0; table[i].name != NULL; i++) {
        if (strcmp(table[i].name, name) == 0) {
            return table[i].nr;
        }
    }
    return -1;
}

static long parse_number(const char *text)
{
    char *end = NULL;
    errno = 0;
    long value;
    if (text[0] == '-') {
        value = strtol(text, &end, 0);
    } else {
        value = (long)strtoul(text, &end, 0);
    }
    if (errno != 0 || end == text || *end != '\0') {
        fprintf(stderr, "try-syscall: not a number: %s\n", text);
        exit(2);
    }
    return value;
}

static long default_value(enum arg_kind kind, long value)
{
    switch (kind) {
    case ZERO_TIMEVAL: return (long)(uintptr_t)&zero_timeval;
    case ZERO_TIMESPEC: return (long)(uintptr_t)&zero_timespec;
    case EMPTY_STRING: return (long)(uintptr_t)empty_string;
    case VALUE: break;
    }
    return value;
}

static void fill_args(const char *name, char **given, int count, long args[6])
{
    memset(args, 0, 6 * sizeof args[0]);
    if (count > 6) {
        usage("at most 6 arguments");
    }
    if (count == 0) {
        for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
            if (strcmp(defaults[i].name, name) == 0) {
                args[defaults[i].index] = default_value(defaults[i].kind, defaults[i].value);
            }
        }
        return;
    }
    for (int i = 0; i < count; i++) {
        if (strncmp(given[i], "s:", 2) == 0) {
            args[i] = (long)(uintptr_t)(given[i] + 2);
        } else {
            args[i] = parse_number(given[i]);
        }
    }
}

#if defined(__x86_64__)
/* The raw instruction, not glibc's syscall(): a fork-like call's child must exit before it
 * returns into C (a vfork or CLONE_VM child shares this stack). */
static long call_native(long nr, const long a[6], bool fork_like_call)
{
    register long r10 __asm__("r10") = a[3];
    register long r8 __asm__("r8") = a[4];
    register long r9 __asm__("r9") = a[5];
    long ret;
    if (fork_like_call) {
        __asm__ volatile("syscall\n\t"
                         "test %%rax, %%rax\n\t"
                         "jnz 1f\n\t"
                         "mov %[exit_nr], %%eax\n\t"
                         "xor %%edi, %%edi\n\t"
                         "syscall\n"
                         "1:"
                         : "=a"(ret)
                         : "a"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8),
                           "r"(r9), [exit_nr] "i"(SYS_exit)
                         : "rcx", "r11", "memory");
    } else {
        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "a"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8),
                           "r"(r9)
                         : "rcx", "r11", "memory");
    }
    return ret;
}

/* i386 ABI: number in eax, arguments in ebx, ecx, edx, esi, edi, ebp (32 bits each). rbp is
 * saved in r13 rather than pushed: a push would overwrite the red zone. */
static long call_int80(long nr, const long a[6])
{
    register long r12 __asm__("r12") = a[5];
    long ret;
    __asm__ volatile("mov %%rbp, %%r13\n\t"
                     "mov %%r12, %%rbp\n\t"
                     "int $0x80\n\t"
                     "mov %%r13, %%rbp"
                     : "=a"(ret)
                     : "a"(nr), "b"(a[0]), "c"(a[1]), "d"(a[2]), "S"(a[3]), "D"(a[4]), "r"(r12)
                     : "r8", "r9", "r10", "r11", "r13", "memory");
    return (long)(int)ret;
}

#define X32_SYSCALL_BIT 0x40000000L
#else
static long call_native(long nr, const long a[6], bool fork_like_call)
{
    long ret = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
    if (fork_like_call && ret == 0) {
        _exit(0);
    }
    return ret < 0 ? -errno : ret;
}
#endif

enum mode { NATIVE, INT80, X32, CLONE3_NEWUSER, TIOCSTI_HIGH };

struct call {
    enum mode mode;
    const char *label;
    long nr;
    long args[6];
    bool fork_like;
    long loops;
    struct clone_args clone3_args;
};

static long make_call(struct call *c)
{
#if defined(__x86_64__)
    if (c->mode == INT80) {
        return call_int80(c->nr, c->args);
    }
#endif
    return call_native(c->nr, c->args, c->fork_like);
}

/* Effective capabilities of this process, from capget (no libcap in a static probe). */
static bool has_effective_cap(int cap)
{
    struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &header, data) < 0) {
        return true; /* unknown: assume the worst */
    }
    return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

static void on_alarm(int sig)
{
    (void)sig;
}

static void prepare(struct call *c, int argc, char **argv)
{
    int i = 1;
    c->loops = 1;
    c->mode = NATIVE;
    if (i < argc && strcmp(argv[i], "--loop") == 0) {
        if (i + 1 >= argc) {
            usage("--loop needs a count");
        }
        c->loops = parse_number(argv[i + 1]);
        if (c->loops < 1) {
            usage("--loop count must be at least 1");
        }
        i += 2;
    }
    if (i < argc && strcmp(argv[i], "--int80") == 0) {
        c->mode = INT80;
        i++;
    } else if (i < argc && strcmp(argv[i], "--x32") == 0) {
        c->mode = X32;
        i++;
    } else if (i < argc && strcmp(argv[i], "--clone3-newuser") == 0) {
        c->mode = CLONE3_NEWUSER;
        i++;
    } else if (i < argc && strcmp(argv[i], "--tiocsti-high") == 0) {
        c->mode = TIOCSTI_HIGH;
        i++;
    }
#if !defined(__x86_64__)
    if (c->mode == INT80 || c->mode == X32 || c->mode == TIOCSTI_HIGH) {
        usage("--int80, --x32 and --tiocsti-high exist on x86_64 only");
    }
#endif
    if (c->mode == CLONE3_NEWUSER || c->mode == TIOCSTI_HIGH) {
        if (i != argc) {
            usage("this mode takes no NAME or ARGs");
        }
        memset(c->args, 0, sizeof c->args);
        if (c->mode == CLONE3_NEWUSER) {
            c->label = "clone3-newuser";
            c->nr = SYS_clone3;
            c->fork_like = true;
            memset(&c->clone3_args, 0, sizeof c->clone3_args);
            c->clone3_args.flags = CLONE_NEWUSER;
            c->clone3_args.exit_signal = SIGCHLD;
            c->args[0] = (long)(uintptr_t)&c->clone3_args;
            c->args[1] = (long)sizeof c->clone3_args;
        } else {
            /* The kernel truncates the request to 32 bits: this is TIOCSTI. Arg NULL: if it
             * got through it could not push a byte (EFAULT, or ENOTTY on a non-terminal). */
            c->label = "tiocsti-high";
            c->nr = SYS_ioctl;
            c->args[1] = (long)0xffffffff00005412UL;
        }
        return;
    }
    if (i >= argc) {
        usage("no syscall NAME");
    }
    const char *name = argv[i++];
    c->label = name;
    const struct syscall_entry *table = native_table;
    if (c->mode == INT80) {
        table = i386_table;
    } else if (c->mode == X32) {
        table = x32_table;
    }
    c->nr = lookup(table, name);
    /* Calls newer than the headers: the kernel's numbers (native/tables/). */
    if (c->nr < 0 && table == native_table) {
        c->nr = lookup(newer_native_table, name);
    }
    if (c->nr < 0) {
        fprintf(stderr, "try-syscall: no syscall named %s in the %s table\n", name,
                c->mode == INT80 ? "i386" : c->mode == X32 ? "x32" : "native");
        exit(2);
    }
#if defined(__x86_64__)
    if (c->mode == X32) {
        c->nr |= X32_SYSCALL_BIT;
    }
#endif
    c->fork_like = c->mode != INT80 && is_fork_like(name);
    fill_args(name, argv + i, argc - i, c->args);
    /* vhangup has no argument to make harmless: with CAP_SYS_TTY_CONFIG it would hang up
     * this terminal. In a sandbox there are no capabilities and it fails with EPERM. */
    if (strcmp(name, "vhangup") == 0 && has_effective_cap(CAP_SYS_TTY_CONFIG)) {
        fprintf(stderr, "try-syscall: refusing vhangup with CAP_SYS_TTY_CONFIG (run it in a "
                        "sandbox)\n");
        exit(2);
    }
    /* pause returns only for a signal: a no-op SIGALRM handler ends it with EINTR. */
    if (strcmp(name, "pause") == 0 && c->mode == NATIVE) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        alarm(1);
    }
}

int main(int argc, char **argv)
{
    struct call c;
    memset(&c, 0, sizeof c);
    prepare(&c, argc, argv);
    long ret = 0;
    for (long i = 0; i < c.loops; i++) {
        ret = make_call(&c);
        if (c.fork_like && ret > 0) {
            waitpid((pid_t)ret, NULL, __WALL);
        }
    }
    int err = 0;
    if (ret < 0 && ret >= -4095) {
        err = (int)-ret;
        ret = -1;
    }
    const char *ename = err == 0 ? "OK" : strerrorname_np(err);
    printf("%s ret=%ld errno=%d (%s)\n", c.label, ret, err, ename != NULL ? ename : "?");
    fflush(stdout);
    return 0;
}
