#include "pty.h"
#include "sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

void stk_pty_monitor_detect(struct stk_pty *p)
{
    p->tty_fds = 0;
    p->master = -1;
    p->slave = -1;
    p->out = -1;
    p->out_owned = false;
    p->input = false;
    p->raw = false;
    p->master_eof = false;
    p->budget = NULL;
    p->in_len = p->in_pos = p->out_len = p->out_pos = 0;
    for (int fd = 0; fd <= 2; fd++) {
        if (isatty(fd)) {
            p->tty_fds |= 1u << fd;
        }
    }
}

/* The caller's terminal shares its open file description with the JVM and everything else
 * started from the same shell: O_NONBLOCK on it would make their reads and writes fail with
 * EAGAIN. The output side gets a non-blocking open of its own, so a terminal that does not
 * drain (scroll lock, a stuck ssh) cannot stall the monitor's loop. Where the terminal
 * cannot be opened again (TIOCEXCL, no /proc) the inherited fd is written blocking. */
static void open_output(struct stk_pty *p)
{
    int fd = (p->tty_fds & 2u) != 0 ? 1 : (p->tty_fds & 4u) != 0 ? 2 : 0;
    char path[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int own = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (own >= 0 && isatty(own)) {
        p->out = own;
        p->out_owned = true;
        return;
    }
    if (own >= 0) {
        close(own);
    }
    p->out = fd;
    p->out_owned = false;
}

/* posix_openpt's steps on /dev/ptmx directly; TIOCGPTPEER opens the slave through the
 * master, without a lookup of /dev/pts/N that a racing process could redirect. */
static int open_pair(struct stk_pty *p, struct stk_error *err)
{
    p->master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (p->master < 0) {
        return stk_fail(err, STK_STEP_PTY, errno, "open /dev/ptmx");
    }
    int unlock = 0;
    if (ioctl(p->master, TIOCSPTLCK, &unlock) < 0) {
        return stk_fail(err, STK_STEP_PTY, errno, "TIOCSPTLCK");
    }
    p->slave = ioctl(p->master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (p->slave < 0) {
        return stk_fail(err, STK_STEP_PTY, errno, "TIOCGPTPEER");
    }
    return 0;
}

/* The command sees the caller's settings (erase character, echo, size) as if it ran on the
 * caller's terminal itself. */
static int copy_settings(struct stk_pty *p, struct stk_error *err)
{
    struct termios t;
    if (tcgetattr(p->size_source, &t) < 0) {
        return stk_fail(err, STK_STEP_PTY, errno, "tcgetattr of the caller's terminal");
    }
    if (tcsetattr(p->slave, TCSANOW, &t) < 0) {
        return stk_fail(err, STK_STEP_PTY, errno, "tcsetattr of the sandbox's terminal");
    }
    struct winsize ws;
    if (ioctl(p->size_source, TIOCGWINSZ, &ws) < 0) {
        return stk_fail(err, STK_STEP_PTY, errno, "TIOCGWINSZ of the caller's terminal");
    }
    if (ioctl(p->master, TIOCSWINSZ, &ws) < 0) {
        return stk_fail(err, STK_STEP_PTY, errno, "TIOCSWINSZ of the sandbox's terminal");
    }
    return 0;
}

/* Raw: every key, Ctrl-C and Ctrl-Z included, goes to the sandbox's pty, whose own line
 * discipline echoes, edits and turns them into signals for the command (as ssh and docker -t
 * do). */
static int make_raw(struct stk_pty *p, struct stk_error *err)
{
    if (tcgetattr(STDIN_FILENO, &p->saved) < 0) {
        return stk_fail(err, STK_STEP_PTY, errno, "tcgetattr of the caller's stdin");
    }
    struct termios raw = p->saved;
    cfmakeraw(&raw);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSADRAIN, &raw) < 0) {
        return stk_fail(err, STK_STEP_PTY, errno, "raw mode on the caller's stdin");
    }
    p->raw = true;
    return 0;
}

int stk_pty_monitor_open(struct stk_pty *p, struct stk_error *err)
{
    p->input = (p->tty_fds & 1u) != 0;
    p->size_source = (p->tty_fds & 1u) != 0 ? 0 : (p->tty_fds & 2u) != 0 ? 1 : 2;
    if (open_pair(p, err) < 0 || copy_settings(p, err) < 0) {
        return -1;
    }
    open_output(p);
    if (p->input && make_raw(p, err) < 0) {
        return -1;
    }
    return 0;
}

void stk_pty_monitor_close_slave(struct stk_pty *p)
{
    if (p->slave >= 0) {
        close(p->slave);
        p->slave = -1;
    }
}

void stk_pty_monitor_poll_fds(const struct stk_pty *p, struct pollfd fds[3])
{
    for (int i = 0; i < 3; i++) {
        fds[i].fd = -1;
        fds[i].events = 0;
        fds[i].revents = 0;
    }
    if (p->master < 0) {
        return;
    }
    if (p->input && p->in_len == 0) {
        fds[0].fd = STDIN_FILENO;
        fds[0].events = POLLIN;
    }
    /* The master is watched only for what can be done now: a hung-up master with output
     * still waiting for the caller would otherwise wake the loop for nothing. */
    short master_events = 0;
    if (!p->master_eof && p->out_len == 0) {
        master_events |= POLLIN;
    }
    if (p->in_len != 0) {
        master_events |= POLLOUT;
    }
    if (master_events != 0) {
        fds[1].fd = p->master;
        fds[1].events = master_events;
    }
    if (p->out_len != 0 && p->out >= 0) {
        fds[2].fd = p->out;
        fds[2].events = POLLOUT;
    }
}

static void read_input(struct stk_pty *p)
{
    ssize_t n = read(STDIN_FILENO, p->in_buf, sizeof p->in_buf);
    if (n > 0) {
        p->in_len = (size_t)n;
        p->in_pos = 0;
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        p->input = false; /* the caller's terminal hung up: the command reads on until EOF */
    }
}

static void write_input(struct stk_pty *p)
{
    ssize_t n = write(p->master, p->in_buf + p->in_pos, p->in_len - p->in_pos);
    if (n > 0) {
        p->in_pos += (size_t)n;
    } else if (n < 0 && errno != EINTR && errno != EAGAIN) {
        p->in_pos = p->in_len; /* nobody in the sandbox reads any more */
    }
    if (p->in_pos == p->in_len) {
        p->in_len = 0;
        p->in_pos = 0;
    }
}

static void read_output(struct stk_pty *p)
{
    ssize_t n = read(p->master, p->out_buf, sizeof p->out_buf);
    if (n > 0) {
        p->out_len = p->budget != NULL ? stk_output_admit(p->budget, (size_t)n) : (size_t)n;
        p->out_pos = 0;
    } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        p->master_eof = true; /* EIO: every copy of the slave is closed */
    }
}

static void write_output(struct stk_pty *p)
{
    ssize_t n = -1;
    if (p->out >= 0) {
        n = write(p->out, p->out_buf + p->out_pos, p->out_len - p->out_pos);
    }
    if (n > 0) {
        p->out_pos += (size_t)n;
    } else if (p->out < 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        /* The caller's terminal is gone: output is dropped so the command never blocks. */
        p->out_pos = p->out_len;
    }
    if (p->out_pos == p->out_len) {
        p->out_len = 0;
        p->out_pos = 0;
    }
}

void stk_pty_monitor_relay(struct stk_pty *p, const struct pollfd fds[3])
{
    if (p->master < 0) {
        return;
    }
    if (fds[0].revents != 0 && p->in_len == 0) {
        read_input(p);
    }
    if (fds[1].revents != 0) {
        if (p->in_len != 0) {
            write_input(p);
        }
        if (p->out_len == 0 && !p->master_eof) {
            read_output(p);
        }
    }
    if (p->out_len != 0) {
        write_output(p); /* at once: the terminal usually has room */
    }
}

void stk_pty_monitor_resize(const struct stk_pty *p)
{
    struct winsize ws;
    if (p->master >= 0 && ioctl(p->size_source, TIOCGWINSZ, &ws) == 0) {
        ioctl(p->master, TIOCSWINSZ, &ws);
    }
}

void stk_pty_monitor_drain(struct stk_pty *p)
{
    if (p->master < 0) {
        return;
    }
    p->input = false;
    p->in_len = 0;
    /* Without a pid namespace a process the command left behind may hold the slave and write
     * a line now and then: the master is read for at most this long, however often data
     * comes, so that EXITED cannot be held back by the step. What was read still reaches the
     * caller. */
    uint64_t stop_reading = stk_now_ns() + STK_DRAIN_MS * 1000000ull;
    while (!p->master_eof || p->out_len != 0) {
        uint64_t now = stk_now_ns();
        if (now >= stop_reading) {
            p->master_eof = true;
            if (p->out_len == 0) {
                return;
            }
        }
        int wait_ms = p->master_eof ? STK_DRAIN_MS
                                    : stk_ms_until(stop_reading, now);
        struct pollfd fds[3];
        stk_pty_monitor_poll_fds(p, fds);
        int n = poll(fds, 3, wait_ms);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        stk_pty_monitor_relay(p, fds);
    }
}

void stk_pty_monitor_restore(struct stk_pty *p)
{
    if (p->raw) {
        tcsetattr(STDIN_FILENO, TCSADRAIN, &p->saved);
        p->raw = false;
    }
    stk_pty_monitor_close_slave(p);
    if (p->master >= 0) {
        close(p->master);
        p->master = -1;
    }
    if (p->out_owned && p->out >= 0) {
        close(p->out);
    }
    p->out = -1;
    p->out_owned = false;
}

int stk_pty_command_attach(unsigned int tty_fds, int slave, struct stk_error *err)
{
    for (int fd = 0; fd <= 2; fd++) {
        if ((tty_fds & (1u << fd)) != 0 && dup2(slave, fd) < 0) {
            return stk_fail(err, STK_STEP_PTY, errno, "dup2 of the sandbox's terminal");
        }
    }
    /* Job control, Ctrl-C from the pty's line discipline and /dev/tty need it. */
    if (ioctl(slave, TIOCSCTTY, 0) < 0) {
        return stk_fail(err, STK_STEP_PTY, errno, "TIOCSCTTY");
    }
    return 0;
}
