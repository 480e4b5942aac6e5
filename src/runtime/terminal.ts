/**
 * An OCI process's terminal (process.terminal with --console-socket), as
 * runc makes it: the caller's console socket is connected on the host (its
 * path is a host path), the pseudo-terminal is opened inside the container
 * (its /dev/ptmx, i.e. the container's own devpts instance), the window size
 * set, and the master sent over the socket in one message carrying one
 * descriptor and the name "/dev/ptmx" (what runc's SendFd puts in the
 * payload); the socket and the master are then closed here. The workload
 * gets the slave as its stdio and controlling terminal when it is spawned
 * (see SpawnRequest.terminal).
 */
import fs from 'node:fs';
import type { NsLibc } from '../libc/ns.js';
import type { TerminalLibc } from '../libc/terminal.js';
import { MS, O } from '../libc/consts.js';


/** What OCI create asks for: the caller's console socket (a host path) and process.consoleSize. */
export interface ConsoleRequest {
  path: string;
  /** process.consoleSize; null: left at 0x0. */
  size: { rows: number; cols: number } | null;
}

/** The init's terminal set-up: the console socket connected by the launcher (an inherited descriptor), or null: the init connects to `path` itself, before pivot_root (an init spawned early). */
export interface TerminalSetup extends ConsoleRequest {
  socket: number | null;
}

/** runc's checkTerminal, in its words (engines and users see them). */
export function terminalProblem(terminal: boolean, consoleSocket: string | null, detach: boolean): string | null {
  if (detach && terminal && consoleSocket === null) return 'cannot allocate tty if runc will detach without setting console socket';
  if ((!detach || !terminal) && consoleSocket !== null) return 'cannot use console socket if runc will not detach or allocate tty';
  return null;
}

/** The console socket, connected from the host's tree; the descriptor, or an error text. */
export function connectConsole(path: string, tl: TerminalLibc): number | string {
  const r = tl.connectUnix(path);
  return r.ok ? r.value : consoleError(path, r.code);
}

/** runc's words for a console socket that cannot be reached (engines and users see them). */
export function consoleError(path: string, code: string): string {
  return `cannot connect to the console socket ${path}: ${code}`;
}

/** Makes the pty in the caller's /dev and hands its master over; the slave's path, or an error text. */
export function makeTerminal(setup: { socket: number; size: ConsoleRequest['size'] }, tl: TerminalLibc): { slave: string } | { error: string } {
  const pty = tl.openPty();
  if (!pty.ok) {
    closeQuietly(setup.socket);
    return { error: `making the terminal: ${pty.call} failed: ${pty.code}` };
  }
  const { master, slave } = pty.value;
  try {
    if (setup.size) {
      const r = tl.setWindowSize(master, setup.size.rows, setup.size.cols);
      if (!r.ok) return { error: `setting the terminal's size: ${r.call} failed: ${r.code}` };
    }
    const sent = tl.sendFd(setup.socket, master, '/dev/ptmx');
    if (!sent.ok) return { error: `sending the terminal to the console socket: ${sent.call} failed: ${sent.code}` };
    return { slave };
  } finally {
    closeQuietly(master);
    closeQuietly(setup.socket);
  }
}

/**
 * The init's own stdin, stdout and stderr become the slave (O_NOCTTY: it is
 * the workload's controlling terminal, never the init's), so that nothing
 * that outlives create keeps the caller's stdio: containerd waits for EOF on
 * them. The slave goes to the workload's user, as a login's terminal does
 * (a non-root workload could not open it otherwise).
 */
export function slaveAsStdio(slave: string, owner: { uid: number; gid: number } | null, tl: TerminalLibc): string | null {
  let fd: number;
  try {
    fd = fs.openSync(slave, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  } catch (e) {
    return `opening the terminal ${slave}: ${(e as NodeJS.ErrnoException).code}`;
  }
  try {
    if (owner && owner.uid !== 0) fs.fchownSync(fd, owner.uid, -1);
    for (const to of [0, 1, 2]) {
      const r = tl.dup2(fd, to);
      if (!r.ok) return `${r.call} failed: ${r.code}`;
    }
    return null;
  } catch (e) {
    return `giving the terminal ${slave} to the workload's user: ${(e as NodeJS.ErrnoException).code}`;
  } finally {
    closeQuietly(fd);
  }
}

/**
 * runc binds the terminal over /dev/console as well: programs that write to
 * the console reach the same terminal. The mount is the container's (its own
 * mount namespace); the target is created when missing (the container's
 * /dev), opened without following a link and bound through its descriptor,
 * as every other mount target (a link the image planted is refused).
 */
export function bindConsole(slave: string, ns: Pick<NsLibc, 'mount'>): string | null {
  const { O_WRONLY, O_CREAT, O_EXCL, O_NOCTTY, O_NOFOLLOW } = fs.constants;
  let fd: number | null = null;
  try {
    try {
      fs.closeSync(fs.openSync('/dev/console', O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY, 0o666));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    fd = fs.openSync('/dev/console', O.PATH | O_NOFOLLOW);
    const st = fs.fstatSync(fd);
    if (!st.isFile() && !st.isCharacterDevice()) return '/dev/console in the container is neither a file nor a device: the terminal cannot be bound over it';
    const r = ns.mount(slave, `/proc/self/fd/${fd}`, null, MS.BIND, null);
    return r.ok ? null : `binding the terminal over /dev/console: ${r.code}`;
  } catch (e) {
    return `making /dev/console for the terminal: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  } finally {
    if (fd !== null) closeQuietly(fd);
  }
}

/**
 * How the workload opens the terminal the init holds as its stdio (see
 * slaveAsStdio): through /proc/self/fd/1, which is exactly that file, not a
 * name in /dev/pts (fd 1, as posix_spawn closes fd 0 before opening into it).
 * An error text when there is none, or its master was closed already (the
 * receiver hung up: the devpts entry is gone and opening the slave fails).
 */
export function stdioTerminal(): { path: string } | { error: string } {
  let p: string;
  try {
    p = fs.readlinkSync('/proc/self/fd/1');
  } catch (e) {
    return { error: `the workload's terminal: /proc/self/fd/1: ${(e as NodeJS.ErrnoException).code}` };
  }
  if (/^\/dev\/pts\/[0-9]+ \(deleted\)$/.test(p)) return { error: 'the terminal was closed (its master, sent to the console socket, is closed) before the program started' };
  if (!/^\/dev\/pts\/[0-9]+$/.test(p)) return { error: `the workload's terminal is not on the init's stdout (${p})` };
  return { path: '/proc/self/fd/1' };
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // already closed
  }
}
