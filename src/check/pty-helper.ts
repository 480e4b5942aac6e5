/**
 * A small python3 program that runs a command as the session leader of a new
 * pseudo-terminal (pty.fork: setsid + controlling terminal on fds 0-2), keeps
 * draining the terminal's output, and types ^C on it (writes \x03 to the
 * master: the line discipline sends SIGINT to the terminal's foreground
 * process group) each time it reads `c` on its stdin. It exits with the
 * command's status and prints the tail of the terminal's output.
 * Shipped as text: the single executable carries no separate files.
 */
export const PTY_HELPER = String.raw`
import os, pty, select, sys
pid, fd = pty.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    finally:
        os._exit(127)
out = b''
stdin_open = True
status = None
while status is None:
    fds = [fd] + ([0] if stdin_open else [])
    r, _, _ = select.select(fds, [], [], 0.1)
    if fd in r:
        try:
            b = os.read(fd, 65536)
        except OSError:
            b = b''
        out = (out + b)[-4096:]
    if 0 in r:
        cmd = os.read(0, 64)
        if not cmd:
            stdin_open = False
        for c in cmd:
            if c == ord('c'):
                os.write(fd, b'\x03')
    w, st = os.waitpid(pid, os.WNOHANG)
    if w:
        status = st
sys.stdout.buffer.write(out)
sys.exit(os.waitstatus_to_exitcode(status) & 0xff if hasattr(os, 'waitstatus_to_exitcode') else 1)
`;
