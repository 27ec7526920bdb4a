/*
 * stk_probe: runs inside the sandbox for the C tests and prints exact results ("ok",
 * "errno=N", values), so the tests assert on numbers instead of on what coreutils print.
 * Statically linked and never sanitized: it must start in any sandbox the tests build
 * (read-only root, tight rlimits, seccomp filters).
 *
 *   stk_probe <command> [args...]      (see the table at the end of the file)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int result(int rc)
{
    if (rc < 0) {
        printf("errno=%d\n", errno);
    } else {
        printf("ok\n");
    }
    return 0;
}

static void sleep_forever(void)
{
    for (;;) {
        pause();
    }
}

static int cmd_exit(char **a) { return atoi(a[0]); }

static int cmd_kill_self(char **a)
{
    int sig = atoi(a[0]);
    signal(sig, SIG_DFL);
    kill(getpid(), sig);
    sleep_forever();
    return 1;
}

static int cmd_segv(char **a)
{
    (void)a;
    /* The address comes from a string so the compiler cannot turn the store into a trap. */
    volatile int *p = (volatile int *)(uintptr_t)strtoul("0", NULL, 10);
    *p = 1;
    return 1;
}

static int cmd_stdio(char **a)
{
    fputs(a[0], stdout);
    fputs(a[1], stderr);
    return 0;
}

static int cmd_cat(char **a)
{
    (void)a;
    char buf[4096];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) {
        if (write(1, buf, (size_t)n) != n) {
            return 1;
        }
    }
    return n < 0 ? 1 : 0;
}

static int cmd_ids(char **a)
{
    (void)a;
    printf("uid=%u gid=%u euid=%u egid=%u groups=%d\n", getuid(), getgid(), geteuid(),
           getegid(), getgroups(0, NULL));
    return 0;
}

static int cmd_file(char **a)
{
    int fd = open(a[0], O_RDONLY);
    if (fd < 0) {
        return result(-1);
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        fwrite(buf, 1, (size_t)n, stdout);
    }
    close(fd);
    return 0;
}

/* CapInh..CapAmb, NoNewPrivs, Seccomp lines of /proc/self/status. */
static int cmd_status(char **a)
{
    (void)a;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return result(-1);
    }
    char line[512];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "Cap", 3) == 0 || strncmp(line, "NoNewPrivs:", 11) == 0 ||
            strncmp(line, "Seccomp:", 8) == 0) {
            fputs(line, stdout);
        }
    }
    fclose(f);
    return 0;
}

static int cmd_create(char **a)
{
    int fd = open(a[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        close(fd);
    }
    return result(fd);
}

static int cmd_write(char **a)
{
    int fd = open(a[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return result(-1);
    }
    size_t len = strlen(a[1]);
    ssize_t n = write(fd, a[1], len);
    int saved = errno;
    close(fd);
    errno = saved;
    return result(n == (ssize_t)len ? 0 : -1);
}

/* Writes a[1] bytes of zeros to a[0]: "ok" or the errno of the first failing write. */
static int cmd_fill(char **a)
{
    int fd = open(a[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return result(-1);
    }
    static char zeros[65536];
    long long left = atoll(a[1]);
    while (left > 0) {
        size_t chunk = left > (long long)sizeof zeros ? sizeof zeros : (size_t)left;
        ssize_t n = write(fd, zeros, chunk);
        if (n < 0) {
            int saved = errno;
            close(fd);
            errno = saved;
            return result(-1);
        }
        left -= n;
    }
    close(fd);
    return result(0);
}

/* Allocates and touches N MiB, keeping it all; "ok" once every page is resident. */
static int cmd_alloc(char **a)
{
    long mib = atol(a[0]);
    for (long i = 0; i < mib; i++) {
        char *p = malloc(1 << 20);
        if (p == NULL) {
            return result(-1);
        }
        memset(p, 1, 1 << 20);
    }
    return result(0);
}

static int cmd_mkdir(char **a) { return result(mkdir(a[0], 0755)); }

static int cmd_rename(char **a) { return result(rename(a[0], a[1])); }

/* The link's content, or errno=N. */
static int cmd_readlink(char **a)
{
    char buf[4096];
    ssize_t n = readlink(a[0], buf, sizeof buf - 1);
    if (n < 0) {
        return result(-1);
    }
    buf[n] = '\0';
    printf("%s\n", buf);
    return 0;
}

/* lstat: "type=<d|f|l|o> mode=<octal permission bits> uid=N gid=N size=N", or errno=N. */
static int cmd_stat(char **a)
{
    struct stat st;
    if (lstat(a[0], &st) < 0) {
        return result(-1);
    }
    char type = S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'f' : S_ISLNK(st.st_mode) ? 'l' : 'o';
    printf("type=%c mode=%o uid=%u gid=%u size=%lld\n", type, (unsigned)(st.st_mode & 07777),
           (unsigned)st.st_uid, (unsigned)st.st_gid, (long long)st.st_size);
    return 0;
}

static int cmd_uname(char **a)
{
    (void)a;
    struct utsname u;
    if (uname(&u) < 0) {
        return result(-1);
    }
    printf("%s\n", u.nodename);
    return 0;
}

static int cmd_sethostname(char **a) { return result(sethostname(a[0], strlen(a[0]))); }

static int cmd_mount_tmpfs(char **a) { return result(mount("tmpfs", a[0], "tmpfs", 0, NULL)); }

static int numeric(const char *s)
{
    if (*s == '\0') {
        return 0;
    }
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9') {
            return 0;
        }
    }
    return 1;
}

static int compare_ints(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

/* Numeric entries of a directory, sorted, space-separated; skip = one fd number to omit. */
static int list_numbers(const char *path, int skip)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        return result(-1);
    }
    int values[4096];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 4096) {
        if (numeric(e->d_name) && atoi(e->d_name) != skip) {
            values[n++] = atoi(e->d_name);
        }
    }
    qsort(values, n, sizeof values[0], compare_ints);
    for (size_t i = 0; i < n; i++) {
        printf("%s%d", i == 0 ? "" : " ", values[i]);
    }
    printf("\n");
    closedir(d);
    return 0;
}

static int cmd_pids(char **a)
{
    (void)a;
    return list_numbers("/proc", -1);
}

static int cmd_fds(char **a)
{
    (void)a;
    /* opendir's own descriptor is the lowest free one: find it first to leave it out. */
    int probe = open("/dev/null", O_RDONLY);
    close(probe);
    return list_numbers("/proc/self/fd", probe);
}

static int cmd_pid(char **a)
{
    (void)a;
    printf("pid=%d ppid=%d\n", (int)getpid(), (int)getppid());
    return 0;
}

static int cmd_env(char **a)
{
    (void)a;
    for (char **e = environ; *e != NULL; e++) {
        printf("%s\n", *e);
    }
    return 0;
}

static int cmd_cwd(char **a)
{
    (void)a;
    char buf[4096];
    if (getcwd(buf, sizeof buf) == NULL) {
        return result(-1);
    }
    printf("%s\n", buf);
    return 0;
}

static int cmd_rlimit(char **a)
{
    struct rlimit l;
    if (getrlimit(atoi(a[0]), &l) < 0) {
        return result(-1);
    }
    printf("%llu %llu\n", (unsigned long long)l.rlim_cur, (unsigned long long)l.rlim_max);
    return 0;
}

/* Interface names (if_nameindex order) and whether lo is up. */
static int cmd_net(char **a)
{
    (void)a;
    struct if_nameindex *list = if_nameindex();
    if (list == NULL) {
        return result(-1);
    }
    for (struct if_nameindex *i = list; i->if_index != 0; i++) {
        printf("%s%s", i == list ? "" : " ", i->if_name);
    }
    if_freenameindex(list);
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
        printf(" lo-flags-errno=%d\n", errno);
        return 0;
    }
    printf(" lo=%s\n", (ifr.ifr_flags & IFF_UP) ? "up" : "down");
    close(s);
    return 0;
}

/* Which user namespace owns the network namespace: "own" when it is the one the probe runs in
 * (as a namespace made by the sandbox's pid 1 would be), "other" when it is not. */
static int cmd_netns_owner(char **a)
{
    (void)a;
    int net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int owner = net < 0 ? -1 : ioctl(net, NS_GET_USERNS);
    struct stat own, got;
    if (owner < 0 || fstat(owner, &got) < 0 || stat("/proc/self/ns/user", &own) < 0) {
        return result(-1);
    }
    printf("%s\n", got.st_ino == own.st_ino && got.st_dev == own.st_dev ? "own" : "other");
    return 0;
}

/* A TCP server and client on 127.0.0.1 inside: "ok" when "ping" made the round trip. */
static int cmd_loopback(char **a)
{
    (void)a;
    int srv = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = 0};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (srv < 0 || bind(srv, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(srv, 1) < 0 ||
        getsockname(srv, (struct sockaddr *)&addr, &len) < 0) {
        return result(-1);
    }
    int cli = socket(AF_INET, SOCK_STREAM, 0);
    if (cli < 0 || connect(cli, (struct sockaddr *)&addr, sizeof addr) < 0) {
        return result(-1);
    }
    int conn = accept(srv, NULL, NULL);
    char buf[8] = {0};
    if (conn < 0 || write(cli, "ping", 4) != 4 || read(conn, buf, 4) != 4) {
        return result(-1);
    }
    return result(strcmp(buf, "ping") == 0 ? 0 : -1);
}

static int cmd_connect(char **a)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(a[0]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return result(s < 0 ? -1 : connect(s, (struct sockaddr *)&addr, sizeof addr));
}

static int cmd_sleep(char **a)
{
    struct timespec t = {.tv_sec = atol(a[0]), .tv_nsec = 0};
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {
    }
    return 0;
}

static int cmd_ignore_term(char **a)
{
    (void)a;
    signal(SIGTERM, SIG_IGN);
    printf("ready\n");
    fflush(stdout);
    sleep_forever();
    return 0;
}

/* Parks a process whose argv carries a[0] (the tests look for it in the host's /proc), after
 * telling the daemonizing parent through fd a[1] that it runs. */
static int cmd_hold(char **a)
{
    int fd = atoi(a[1]);
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (write(fd, "x", 1) != 1) {
        return 1;
    }
    close(fd);
    sleep_forever();
    return 0;
}

/* Prints "ready" after a child in the same process group runs `hold MARKER`; then as in
 * daemonize: exits at stdin EOF (a[1] = "exit") or sleeps (a[1] = "sleep"). */
static int cmd_background(char **a, const char *self)
{
    int p[2];
    if (pipe(p) < 0) {
        return result(-1);
    }
    if (fork() == 0) {
        close(p[0]);
        char fd[16];
        snprintf(fd, sizeof fd, "%d", p[1]);
        execl(self, self, "hold", a[0], fd, (char *)NULL);
        _exit(1);
    }
    close(p[1]);
    char c;
    if (read(p[0], &c, 1) != 1) {
        return result(-1);
    }
    printf("ready\n");
    fflush(stdout);
    if (strcmp(a[1], "sleep") == 0) {
        sleep_forever();
    }
    char buf[64];
    while (read(0, buf, sizeof buf) > 0) {
    }
    return 0;
}

/* Double fork + setsid, the grandchild execs `hold MARKER`; then prints "ready" and either
 * exits once stdin reaches EOF (a[1] = "exit", so the test can look at the daemon first) or
 * sleeps (a[1] = "sleep"). */
static int cmd_daemonize(char **a, const char *self)
{
    int p[2];
    if (pipe(p) < 0) {
        return result(-1);
    }
    pid_t first = fork();
    if (first == 0) {
        setsid();
        if (fork() == 0) {
            close(p[0]);
            char fd[16];
            snprintf(fd, sizeof fd, "%d", p[1]);
            execl(self, self, "hold", a[0], fd, (char *)NULL);
            _exit(1);
        }
        _exit(0);
    }
    close(p[1]);
    waitpid(first, NULL, 0);
    char c;
    if (read(p[0], &c, 1) != 1) {
        return result(-1);
    }
    printf("ready\n");
    fflush(stdout);
    if (strcmp(a[1], "sleep") == 0) {
        sleep_forever();
    }
    char buf[64];
    while (read(0, buf, sizeof buf) > 0) {
    }
    return 0;
}

/* Everything a command can do to its terminal that outlives it, on fd 0; results on stderr
 * (which the terminal test keeps a pipe), since the terminal's output ends up stopped and its
 * line discipline n_null. */
static int cmd_tty_attack(char **a)
{
    (void)a;
    /* The flush first: on a pty it discards what the other side has not read yet. */
    int flushed = ioctl(0, TCFLSH, TCIOFLUSH);
    printf("hello\n");
    fflush(stdout);
    char line[256];
    int fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    snprintf(line, sizeof line, "tty=%d%d%d devtty=%s", isatty(0), isatty(1), isatty(2),
             fd >= 0 ? "ok" : "no");
    if (fd >= 0) {
        close(fd);
    }
    struct termios t;
    int rc = tcgetattr(0, &t);
    if (rc == 0) {
        t.c_lflag &= ~(tcflag_t)(ECHO | ICANON);
        t.c_cc[VINTR] = 'x';
        rc = tcsetattr(0, TCSANOW, &t);
    }
    struct winsize ws = {.ws_row = 3, .ws_col = 7};
    int ldisc = 27; /* N_NULL */
    int rcs[6] = {
        rc,
        ioctl(0, TIOCSWINSZ, &ws),
        ioctl(0, TIOCEXCL),
        flushed,
        ioctl(0, TCXONC, TCOOFF),
        ioctl(0, TIOCSETD, &ldisc),
    };
    static const char *const names[6] = {"tcsets", "winsz", "excl", "flush", "tcooff", "setd"};
    for (int i = 0; i < 6; i++) {
        size_t used = strlen(line);
        snprintf(line + used, sizeof line - used, " %s=%s", names[i], rcs[i] == 0 ? "ok" : "err");
    }
    fprintf(stderr, "%s\n", line);
    return 0;
}

struct command {
    const char *name;
    int args;
    int (*fn)(char **);
};

static const struct command commands[] = {
    {"exit", 1, cmd_exit},
    {"kill-self", 1, cmd_kill_self},
    {"segv", 0, cmd_segv},
    {"stdio", 2, cmd_stdio},
    {"cat", 0, cmd_cat},
    {"ids", 0, cmd_ids},
    {"file", 1, cmd_file},
    {"status", 0, cmd_status},
    {"create", 1, cmd_create},
    {"write", 2, cmd_write},
    {"fill", 2, cmd_fill},
    {"alloc", 1, cmd_alloc},
    {"mkdir", 1, cmd_mkdir},
    {"rename", 2, cmd_rename},
    {"readlink", 1, cmd_readlink},
    {"stat", 1, cmd_stat},
    {"uname", 0, cmd_uname},
    {"sethostname", 1, cmd_sethostname},
    {"mount-tmpfs", 1, cmd_mount_tmpfs},
    {"pids", 0, cmd_pids},
    {"fds", 0, cmd_fds},
    {"pid", 0, cmd_pid},
    {"env", 0, cmd_env},
    {"cwd", 0, cmd_cwd},
    {"rlimit", 1, cmd_rlimit},
    {"net", 0, cmd_net},
    {"loopback", 0, cmd_loopback},
    {"netns-owner", 0, cmd_netns_owner},
    {"connect", 1, cmd_connect},
    {"sleep", 1, cmd_sleep},
    {"ignore-term", 0, cmd_ignore_term},
    {"hold", 2, cmd_hold},
    {"tty-attack", 0, cmd_tty_attack},
};

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "daemonize") == 0 && argc == 4) {
        return cmd_daemonize(argv + 2, argv[0]);
    }
    if (argc >= 2 && strcmp(argv[1], "background") == 0 && argc == 4) {
        return cmd_background(argv + 2, argv[0]);
    }
    for (size_t i = 0; argc >= 2 && i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) == 0 && argc - 2 == commands[i].args) {
            int rc = commands[i].fn(argv + 2);
            fflush(stdout);
            return rc;
        }
    }
    fprintf(stderr, "stk_probe: unknown command or wrong argument count\n");
    return 2;
}
