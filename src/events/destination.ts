/**
 * Opens the event stream's destination (`--events DEST` / TINI_EVENTS):
 *   PATH   a file, opened O_WRONLY|O_APPEND|O_CREAT (created 0644);
 *   fd:N   an inherited descriptor N;
 *   -      the init's stderr (fd 2).
 *
 * A descriptor is reopened through /proc/self/fd/N with
 * O_WRONLY|O_APPEND|O_NONBLOCK: for a pipe or a FIFO this gives a new open
 * file description, so O_NONBLOCK never reaches the description the child
 * shares on fds 0-2. Then fd N itself (N > 2) is closed: the child never
 * inherits any descriptor of the stream (the reopened one is O_CLOEXEC, as
 * Node opens every file, and the spawn closes every fd above 2 anyway).
 *
 * A regular file on fd 1 or 2 is written through that fd as it is (a file
 * write does not block, and reopening would lose the shell's offset). A
 * socket (journald, a Node parent's stdio) cannot be reopened through
 * /proc: it is written with send(MSG_DONTWAIT | MSG_NOSIGNAL), which neither
 * blocks nor raises SIGPIPE and leaves the shared flags alone; fd N is kept
 * then (the spawn closes every fd above 2 in the child). Without that libc
 * call a socket is refused.
 */
import fs from 'node:fs';
import type { Libc } from '../libc/types.js';
import type { LineWriter } from './sink.js';

export type EventDest = { kind: 'path'; path: string } | { kind: 'fd'; fd: number };

/** Parses DEST; returns an error text for a malformed one. */
export function parseEventDest(text: string): EventDest | string {
  if (text === '') return 'an empty destination';
  if (text === '-') return { kind: 'fd', fd: 2 };
  if (text.startsWith('fd:')) {
    const n = text.slice(3);
    if (!/^[0-9]{1,7}$/.test(n)) return `not a file descriptor: '${text}'`;
    return { kind: 'fd', fd: Number(n) };
  }
  return { kind: 'path', path: text };
}

const { O_WRONLY, O_APPEND, O_CREAT, O_NONBLOCK } = fs.constants;

function fdWriter(fd: number, closeOnEnd: boolean): LineWriter {
  return {
    write: (line) => fs.writeSync(fd, line, 0, line.length),
    close: () => {
      if (closeOnEnd) fs.closeSync(fd);
    },
  };
}

/** Opens DEST; throws an Error with a one-line message if it cannot. */
export function openEventDest(dest: EventDest, libc?: Pick<Libc, 'sendNonBlocking'>): LineWriter {
  if (dest.kind === 'path') {
    // O_NONBLOCK: a FIFO without a reader fails (ENXIO) instead of hanging
    // the init, and a full one drops events instead of blocking.
    const fd = fs.openSync(dest.path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, 0o644);
    return fdWriter(fd, true);
  }
  const n = dest.fd;
  let st: fs.Stats;
  try {
    st = fs.fstatSync(n);
  } catch (e) {
    throw new Error(`fd ${n} is not open (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  if (st.isFile() && n <= 2) return fdWriter(n, false);
  if (st.isSocket()) {
    const send = libc?.sendNonBlocking;
    if (!send) throw new Error(`fd ${n} is a socket, which cannot be given a non-blocking description of its own`);
    return {
      write(line) {
        const r = send(n, line);
        if (r.ok) return r.value;
        throw Object.assign(new Error(`send: ${r.code}`), { code: r.code });
      },
      close() {},
    };
  }
  let fd: number;
  try {
    fd = fs.openSync(`/proc/self/fd/${n}`, O_WRONLY | O_APPEND | O_NONBLOCK);
  } catch (e) {
    throw new Error(`cannot reopen fd ${n} through /proc/self/fd (${(e as NodeJS.ErrnoException).code ?? e})`);
  }
  if (n > 2) {
    try {
      fs.closeSync(n);
    } catch {
      // already gone: fine
    }
  }
  return fdWriter(fd, true);
}
