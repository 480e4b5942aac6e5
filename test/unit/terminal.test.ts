/**
 * The OCI terminal's set-up with a fake TerminalLibc (every failure path:
 * the socket and the master are closed whatever happens, one line naming
 * the call), runc's checkTerminal texts, process.consoleSize in config.json,
 * and which bundle warning names process.terminal.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errnoName } from '../../src/libc/errno.js';
import type { TerminalLibc } from '../../src/libc/terminal.js';
import { ok, type Result } from '../../src/libc/types.js';
import { parseRunArgs } from '../../src/cli/run-options.js';
import { fromBundle } from '../../src/runtime/container.js';
import { parseConfig } from '../../src/runtime/oci/config.js';
import { connectConsole, makeTerminal, terminalProblem } from '../../src/runtime/terminal.js';

const failed = (call: string, errno: number) => ({ ok: false as const, call, errno, code: errnoName(errno) });

/** Real descriptors (of /dev/null) stand for the master and the socket, so that closing them can be checked. */
function fakeTerminal(fail: Partial<Record<'openPty' | 'setWindowSize' | 'sendFd' | 'connectUnix', number>> = {}) {
  const calls: string[] = [];
  const opened: number[] = [];
  const open = () => {
    const fd = fs.openSync('/dev/null', 'r');
    opened.push(fd);
    return fd;
  };
  const tl: TerminalLibc = {
    connectUnix(path): Result<number> {
      calls.push(`connect ${path}`);
      return fail.connectUnix ? failed(`connect(${path})`, fail.connectUnix) : ok(open());
    },
    openPty() {
      calls.push('openPty');
      return fail.openPty ? failed('open(/dev/ptmx)', fail.openPty) : ok({ master: open(), slave: '/dev/pts/3' });
    },
    setWindowSize(fd, rows, cols) {
      if (fd !== opened[1]) throw new Error('the size goes on the master');
      calls.push(`winsize ${rows}x${cols}`);
      return fail.setWindowSize ? failed('ioctl(TIOCSWINSZ)', fail.setWindowSize) : ok(undefined);
    },
    sendFd(sock, fd, name) {
      calls.push(`send ${name} fd=${fd === opened[1] ? 'master' : fd} sock=${sock === opened[0] ? 'socket' : sock}`);
      return fail.sendFd ? failed('sendmsg(SCM_RIGHTS)', fail.sendFd) : ok(undefined);
    },
    recvFd: () => {
      throw new Error('the console socket is only sent to');
    },
    dup2: () => ok(undefined),
  };
  const isOpen = (fd: number) => {
    try {
      fs.fstatSync(fd);
      return true;
    } catch {
      return false;
    }
  };
  return { tl, calls, opened, stillOpen: () => opened.filter(isOpen) };
}

describe('the OCI terminal', () => {
  it("says runc's words for a terminal without a socket and a socket without a terminal (create detaches; exec only with --detach)", () => {
    expect(terminalProblem(true, null, true)).toBe('cannot allocate tty if runc will detach without setting console socket');
    expect(terminalProblem(false, '/s', true)).toBe('cannot use console socket if runc will not detach or allocate tty');
    expect(terminalProblem(true, '/s', false)).toBe('cannot use console socket if runc will not detach or allocate tty');
    expect(terminalProblem(true, '/s', true)).toBeNull();
    expect(terminalProblem(false, null, true)).toBeNull();
    expect(terminalProblem(true, null, false)).toBeNull(); // runc would relay it itself: exec refuses that on its own
  });

  it('sends the master, named /dev/ptmx, after setting the size; closes the socket and the master', () => {
    const f = fakeTerminal();
    const socket = connectConsole('/run/x.sock', f.tl) as number;
    expect(makeTerminal({ socket, size: { rows: 24, cols: 80 } }, f.tl)).toEqual({ slave: '/dev/pts/3' });
    expect(f.calls).toEqual(['connect /run/x.sock', 'openPty', 'winsize 24x80', 'send /dev/ptmx fd=master sock=socket']);
    expect(f.stillOpen()).toEqual([]);
  });

  it('leaves the size alone without consoleSize', () => {
    const f = fakeTerminal();
    const socket = connectConsole('/s', f.tl) as number;
    makeTerminal({ socket, size: null }, f.tl);
    expect(f.calls.filter((c) => c.startsWith('winsize'))).toEqual([]);
  });

  it.each([
    ['openPty', 'making the terminal: open(/dev/ptmx) failed: ENOENT', 2],
    ['setWindowSize', "setting the terminal's size: ioctl(TIOCSWINSZ) failed: ENOTTY", 25],
    ['sendFd', 'sending the terminal to the console socket: sendmsg(SCM_RIGHTS) failed: EPIPE', 32],
  ] as const)('a failing %s is one line naming the call, and nothing stays open', (call, message, errno) => {
    const f = fakeTerminal({ [call]: errno });
    const socket = connectConsole('/s', f.tl) as number;
    expect(makeTerminal({ socket, size: { rows: 1, cols: 1 } }, f.tl)).toEqual({ error: message });
    expect(f.stillOpen()).toEqual([]);
  });

  it('a console socket that cannot be reached is one line with the errno', () => {
    const f = fakeTerminal({ connectUnix: 111 });
    expect(connectConsole('/tmp/nobody.sock', f.tl)).toBe('cannot connect to the console socket /tmp/nobody.sock: ECONNREFUSED');
  });
});

describe('process.consoleSize in config.json', () => {
  const withSize = (size: unknown) => parseConfig(JSON.stringify({ ociVersion: '1.0.2', process: { args: ['sh'], terminal: true, consoleSize: size }, root: { path: 'rootfs' } }), '/b');

  it('is read (height, width) and not reported as unsupported', () => {
    const r = withSize({ height: 33, width: 111 });
    if (!r.ok) throw new Error(r.error);
    expect(r.plan.process.consoleSize).toEqual({ height: 33, width: 111 });
    expect(r.unsupported.filter((u) => u.includes('consoleSize'))).toEqual([]);
  });

  it('is refused when it does not fit a winsize, in one line', () => {
    expect(withSize({ height: 70000, width: 1 })).toEqual({ ok: false, error: 'config.json: process.consoleSize.height: must be at most 65535' });
    expect(withSize({ height: -1, width: 1 })).toEqual({ ok: false, error: 'config.json: process.consoleSize.height: must be an integer >= 0' });
    expect(withSize('big')).toEqual({ ok: false, error: 'config.json: process.consoleSize: must be an object' });
  });
});

describe('process.terminal in a bundle', () => {
  it("is named in run --bundle's warning (its stdio is passed), not when OCI create makes the terminal", () => {
    const dir = fs.mkdtempSync('/tmp/tini-ts-unit-bundle-');
    try {
      fs.writeFileSync(`${dir}/config.json`, JSON.stringify({ ociVersion: '1.0.2', process: { args: ['sh'], terminal: true, consoleSize: { height: 2, width: 3 } }, root: { path: 'rootfs' }, linux: { namespaces: [{ type: 'mount' }] } }));
      const parsed = parseRunArgs(['--bundle', dir], { cpuCount: 2 });
      if (parsed.kind !== 'run') throw new Error('parse');
      const run = fromBundle(parsed.options, 2);
      const oci = fromBundle(parsed.options, 2, true);
      if (!run.ok || !oci.ok) throw new Error('fromBundle failed');
      expect(run.value.warning).toContain('process.terminal (no pseudo-terminal is made');
      expect(oci.value.warning).toBeNull();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
