"""What pty_run.py and pty_drive.py share: a command started on a new
pseudo-terminal, as its session leader with the terminal as its controlling
tty (as a terminal emulator, or `docker run -t` for the init, starts it)."""
import fcntl
import os
import struct
import termios


def spawn_on_pty(argv, size=None):
    """Forks and execs argv on a new pty (ROWS, COLS when size is given); returns (pid, master)."""
    master, slave = os.openpty()
    if size is not None:
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    pid = os.fork()
    if pid == 0:
        os.close(master)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)
    os.close(slave)
    return pid, master


def exit_code(status):
    """A wait status as a shell gives it: the exit code, or 128+N for signal N."""
    code = os.waitstatus_to_exitcode(status)
    return code if code >= 0 else 128 - code
