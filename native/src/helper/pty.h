/*
 * The caller's terminal. When any of the command's stdio fds is a terminal, the command gets a
 * pty of its own instead (its slave on each of those fds, its controlling terminal), and the
 * monitor relays bytes between the caller's terminal and the pty's master, forwards window
 * size changes, and puts the caller's terminal back as it found it when the sandbox ends. So
 * nothing the command does to its terminal (TIOCSETD, TIOCEXCL, TCXONC, TCSETS, TIOCSWINSZ,
 * TCFLSH...) reaches the caller's, and the damage cannot outlive the sandbox.
 *
 * stk_pty_monitor_* run in the monitor; stk_pty_command_attach in the command's process
 * (async-signal-safe).
 */
#ifndef STK_PTY_H
#define STK_PTY_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <termios.h>

#include "error.h"
#include "output.h"

#define STK_PTY_BUFFER 4096

struct stk_pty {
    unsigned int tty_fds; /* bit n: the caller's fd n (0-2) is a terminal; 0 = no pty */
    int master;           /* non-blocking; -1 when there is no pty (any more) */
    int slave;            /* until the clone; the command's copy becomes its stdio */
    int out;              /* the caller's terminal for the command's output, -1 when gone */
    bool out_owned;       /* out is our own (non-blocking) open of the terminal */
    bool input;           /* stdin is a terminal: relayed, and raw while the command runs */
    bool raw;             /* the caller's terminal is in raw mode: restore saved */
    bool master_eof;      /* EIO/EOF: no copy of the slave is left */
    int size_source;      /* the caller's terminal fd the window size is read from */
    /* The output bound's budget (output.h) when the spec has one, else NULL: what the master
     * gives is counted, and what comes past the bound is dropped. */
    struct stk_output_budget *budget;
    struct termios saved;
    char in_buf[STK_PTY_BUFFER], out_buf[STK_PTY_BUFFER];
    size_t in_len, out_len;
    size_t in_pos, out_pos;
};

/* Which of fds 0-2 are terminals: three isatty calls, nothing else when none is. */
void stk_pty_monitor_detect(struct stk_pty *p);

/* With a terminal among fds 0-2: opens the pty, copies the caller's termios and window size
 * onto it and makes the caller's terminal raw (when stdin is one). Step "pty". */
int stk_pty_monitor_open(struct stk_pty *p, struct stk_error *err);

/* After the clone: the monitor drops its copy of the slave, so the master reads EIO once the
 * sandbox's last copy is closed. */
void stk_pty_monitor_close_slave(struct stk_pty *p);

/* The poll slots of the relay (fds[0]: caller's stdin, fds[1]: master, fds[2]: caller's
 * terminal for output); unused slots get fd -1. */
void stk_pty_monitor_poll_fds(const struct stk_pty *p, struct pollfd fds[3]);
void stk_pty_monitor_relay(struct stk_pty *p, const struct pollfd fds[3]);

/* SIGWINCH: the caller's window size onto the pty (the kernel signals the command). */
void stk_pty_monitor_resize(const struct stk_pty *p);

/* After the sandbox ended: what the command wrote is relayed until the master reads EOF/EIO
 * (every copy of the slave is closed) or nothing comes for a while (a process outside a pid
 * namespace may keep the slave open). */
void stk_pty_monitor_drain(struct stk_pty *p);

/* The caller's termios back and every fd closed; safe to call more than once. */
void stk_pty_monitor_restore(struct stk_pty *p);

/* In the command's process after setsid: the slave on every fd that was a terminal, and the
 * controlling terminal. Step "pty". */
int stk_pty_command_attach(unsigned int tty_fds, int slave, struct stk_error *err);

#endif
