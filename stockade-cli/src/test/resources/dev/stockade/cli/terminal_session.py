#!/usr/bin/python3
"""Drives `stockade run -- /bin/sh -i` (argv[1:]) on a pty of its own, as a user at a terminal
would: a line, a window resize, Ctrl-C on a long sleep, exit. Prints one JSON object with what it
saw; TerminalSessionTest asserts on it. Every wait has a deadline only to stop a hang."""
import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import termios
import time

WAIT_S = 60
transcript = bytearray()


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def read_until(master, needle, deadline_s=WAIT_S, resend=None):
    """Reads the master until `needle` appears after the current transcript position."""
    start = len(transcript)
    deadline = time.monotonic() + deadline_s
    last_resend = time.monotonic()
    while needle not in transcript[start:]:
        now = time.monotonic()
        if now >= deadline:
            return False
        if resend is not None and now - last_resend >= 5:
            resend()
            last_resend = now
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:
                return False
            if not data:
                return False
            transcript.extend(data)
    return True


def main():
    master, slave = os.openpty()
    set_size(slave, 24, 80)
    before = termios.tcgetattr(slave)

    def become_terminal_session():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    cli = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=slave, stderr=slave,
                           preexec_fn=become_terminal_session, close_fds=True)
    result = {}
    send = lambda text: os.write(master, text.encode())

    send("echo hi-$((1+1))\n")
    result["echo"] = read_until(master, b"hi-2")

    # The CLI's process group is the terminal's foreground group: the kernel signals it
    # SIGWINCH, and the helper passes the new size on to the sandbox's pty.
    set_size(master, 40, 120)
    send("stty size\n")
    result["sizeSeen"] = read_until(master, b"40 120")

    send("echo start-$((3+4)); sleep 1000\n")
    result["sleepStarted"] = read_until(master, b"start-7")
    time.sleep(0.5)  # not a measurement: only so that ^C is likely to find sleep running

    def interrupt():
        send("\x03")
        send("echo alive-$((4+5))\n")

    interrupt()
    result["interrupted"] = read_until(master, b"alive-9", resend=interrupt)

    send("exit 7\n")
    try:
        result["exitCode"] = cli.wait(timeout=WAIT_S)
    except subprocess.TimeoutExpired:
        cli.kill()
        result["exitCode"] = None
    # Whatever the CLI wrote last.
    while select.select([master], [], [], 0.2)[0]:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        transcript.extend(data)
    after = termios.tcgetattr(slave)
    result["termiosRestored"] = after == before
    result["termiosBefore"] = repr(before)
    result["termiosAfter"] = repr(after)
    result["transcript"] = transcript.decode("utf-8", "replace")
    print(json.dumps(result))


main()
