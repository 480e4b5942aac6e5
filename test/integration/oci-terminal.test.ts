/**
 * Terminals of the OCI runtime (process.terminal with --console-socket), as
 * containerd's shim and conmon use them, beside runc on the same bundle: a
 * receiver (console_socket.py) listens on the socket, gets the pty's master
 * in one SCM_RIGHTS message, reads what the workload writes on its terminal
 * and types on it. The workload's view: its tty, the size from
 * process.consoleSize, a session of its own whose group is the terminal's
 * foreground one, ^C typed reaching it, /dev/console bound to the same
 * terminal; the init's stdio is the pty (create
 * returns with the caller's pipes at EOF); runc's errors for a terminal
 * without a socket and a socket without a terminal; exec --tty; a non-root
 * workload; nothing left behind.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELPERS } from '../helpers/proc.js';
import { unmet } from '../helpers/prereq.js';
import { canContainer, CONTAINER_NEEDS, editConfig } from './container-helpers.js';
import { besideRunc, hasRunc, placeCgroup, runtimeCall } from './oci-helpers.js';
import { BIN, waitFor } from './run-helpers.js';
const RECEIVER = path.join(HELPERS, 'console_socket.py');

interface Received {
  name: string | null;
  fds: number;
  cmsgs: number;
  is_chr: boolean;
  output: string;
  error: string | null;
}

/** What the workload prints about itself: its tty, its terminal's size, and its session/group/foreground ids from /proc. */
const SELF = 'tty; stty size; set -- $(cat /proc/$$/stat); echo "ids pid=$1 pgrp=$5 sid=$6 ttynr=$7 fg=$8"';

describe.skipIf(unmet(canContainer && hasRunc, `${CONTAINER_NEEDS} and runc`))('OCI terminals (--console-socket), beside runc', () => {
  const oci = besideRunc(
    (config) => {
      config.process.terminal = true;
      config.process.consoleSize = { height: 33, width: 111 };
    },
    // A user for the non-root case.
    (f) => fs.appendFileSync(path.join(f.rootfs, 'etc/passwd'), 'app:x:1000:1000:app:/:/bin/sh\n'),
  );
  const { id, tini, both } = oci;

  /** A console socket with a receiver behind it; `done` gives what it received once the terminal's last slave closed. */
  const receiver = async (typeAfter?: { marker: string; hex: string } | 'hang-up') => {
    const sock = path.join(oci.f.dir, `console-${Math.random().toString(36).slice(2, 8)}.sock`);
    const out = `${sock}.json`;
    const p = spawn('python3', [RECEIVER, sock, out, ...(typeAfter === 'hang-up' ? ['--hang-up'] : typeAfter ? [typeAfter.marker, typeAfter.hex] : [])], { stdio: ['pipe', 'pipe', 'inherit'] });
    let said = '';
    p.stdout.on('data', (d) => (said += d));
    const exited = new Promise<void>((resolve) => p.on('exit', () => resolve()));
    expect(await waitFor(() => said.includes('ready'), 10_000), 'the receiver listens').toBe(true);
    return {
      sock,
      /** --hang-up: the receiver closes the master now. */
      hangUp: () => p.stdin.end('hang up\n'),
      done: async (): Promise<Received> => {
        await exited;
        return JSON.parse(fs.readFileSync(out, 'utf8')) as Received;
      },
    };
  };
  const lines = (r: Received) => r.output.replace(/\r/g, '').replace(/\^C/g, '').split('\n');
  const idsOf = (r: Received) => {
    const m = /ids pid=(\d+) pgrp=(\d+) sid=(\d+) ttynr=(\d+) fg=(-?\d+)/.exec(r.output);
    expect(m, r.output).not.toBeNull();
    const [pid, pgrp, sid, ttynr, fg] = m!.slice(1).map(Number);
    return { pid, pgrp, sid, ttynr, fg };
  };

  it('create sends the master (one message, one descriptor, named /dev/ptmx); the workload has the pty as its controlling terminal, in the foreground, at consoleSize, also as /dev/console; ^C reaches it', async () => {
    editConfig(oci.bundle, (c) => {
      c.process.user = { uid: 0, gid: 0 };
      c.process.args = ['sh', '-c', `trap "echo got-INT; exit 5" INT; ${SELF}; echo via-console >/dev/console; echo ready; while :; do sleep 1; done`];
    });
    const seen: Record<string, Received> = {};
    for (const [who, rt] of Object.entries(both)) {
      const c = id(`tty-${who}`);
      const r = await receiver({ marker: 'ready', hex: '03' });
      const cr = rt('create', '--bundle', oci.bundle, '--console-socket', r.sock, '--pid-file', path.join(oci.f.dir, `${c}.pid`), c);
      expect(cr.status, `${who}: ${cr.stderr}`).toBe(0);
      if (who === 'tini') {
        // The init keeps none of the caller's stdio: its 0, 1 and 2 are the container's pty.
        const init = Number(fs.readFileSync(path.join(oci.f.dir, `${c}.pid`), 'utf8'));
        for (const fd of [0, 1, 2]) expect(fs.readlinkSync(`/proc/${init}/fd/${fd}`), `init fd ${fd}`).toBe('/dev/pts/0');
      }
      expect(rt('start', c).status, who).toBe(0);
      seen[who] = await r.done();
      expect(await waitFor(() => JSON.parse(rt('state', c).stdout).status === 'stopped', 10_000), who).toBe(true);
      expect(rt('delete', c).status, who).toBe(0);
    }
    for (const [who, r] of Object.entries(seen)) {
      expect(r.error, who).toBeNull();
      expect({ name: r.name, fds: r.fds, cmsgs: r.cmsgs, chr: r.is_chr }, who).toEqual({ name: '/dev/ptmx', fds: 1, cmsgs: 1, chr: true });
      expect(lines(r), `${who}: ${r.output}`).toEqual(expect.arrayContaining(['/dev/pts/0', '33 111', 'via-console', 'ready', 'got-INT']));
      const i = idsOf(r);
      expect(i.sid, `${who}: a session of its own`).toBe(i.pid);
      expect(i.fg, `${who}: its group in the foreground`).toBe(i.pgrp);
      expect(i.ttynr, `${who}: a controlling terminal (136 is the pts major)`).toBe((136 << 8) | 0);
    }
    // The one difference: under tini-ts the workload is the init's child, not PID 1.
    expect(idsOf(seen.runc).pid).toBe(1);
    expect(idsOf(seen.tini).pid).not.toBe(1);
  });

  it('create returns with its stdout and stderr at EOF while the container waits (containerd reads them to the end)', async () => {
    editConfig(oci.bundle, (c) => (c.process.args = ['sh', '-c', 'echo on-the-terminal']));
    const c = id('eof');
    const r = await receiver();
    // Pipes, not files: spawnSync returns only once both reach EOF.
    placeCgroup(oci.bundle, 'tini', c);
    const log = path.join(oci.f.dir, 'eof.log');
    const cr = spawnSync(BIN, ['--root', oci.roots.tini, '--log', log, '--log-format', 'json', '--debug', 'create', '--bundle', oci.bundle, '--console-socket', r.sock, c], { encoding: 'utf8', timeout: 20_000 });
    expect(cr.error, 'create returned').toBeUndefined();
    expect({ status: cr.status, stdout: cr.stdout, stderr: cr.stderr }).toEqual({ status: 0, stdout: '', stderr: '' });
    // The init was spawned before create's checks, and connected the console socket itself.
    expect(fs.readFileSync(log, 'utf8')).toMatch(/the init was spawned before the options were read/);
    expect(JSON.parse(tini('state', c).stdout).status).toBe('created');
    expect(tini('start', c).status).toBe(0);
    const got = await r.done();
    expect(lines(got)).toContain('on-the-terminal');
    expect(await waitFor(() => JSON.parse(tini('state', c).stdout).status === 'stopped', 10_000)).toBe(true);
    expect(tini('delete', c).status).toBe(0);
  });

  it('a non-root workload starts (the start FIFO is writable past the umask) and gets the terminal too (it owns the slave; /dev/tty is its terminal)', async () => {
    try {
      // Without a terminal, beside runc, through a shim that waits for the container's process.
      editConfig(oci.bundle, (c) => {
        c.process.terminal = false;
        c.process.user = { uid: 1000, gid: 1000 };
        c.process.args = ['sh', '-c', '[ "$(id -u)" = 1000 ] && exit 7'];
      });
      for (const [who, bin, root] of [['tini', BIN, oci.roots.tini], ['runc', 'runc', oci.roots.runc]] as const) {
        const c = id('user-shim');
        placeCgroup(oci.bundle, who, c);
        const shim = spawnSync('python3', [path.join(HELPERS, 'oci_shim.py'), bin, root, oci.bundle, c], { encoding: 'utf8', timeout: 30_000 });
        expect(JSON.parse(shim.stdout), `${bin}: ${shim.stderr}`).toMatchObject({ create: 0, start: 0, status: 7 });
        expect(runtimeCall(who, oci.f.dir, root, ['delete', c]).status).toBe(0);
      }
      editConfig(oci.bundle, (c) => {
        c.process.terminal = true;
        c.process.args = ['sh', '-c', `${SELF}; id -u; echo via-dev-tty >/dev/tty`];
      });
      const c = id('user');
      const r = await receiver();
      expect(tini('create', '--bundle', oci.bundle, '--console-socket', r.sock, c).status).toBe(0);
      expect(tini('start', c).status).toBe(0);
      const got = await r.done();
      expect(got.error).toBeNull();
      expect(lines(got), got.output).toEqual(expect.arrayContaining(['/dev/pts/0', '33 111', '1000', 'via-dev-tty']));
      expect(await waitFor(() => JSON.parse(tini('state', c).stdout).status === 'stopped', 10_000)).toBe(true);
      expect(tini('delete', c).status).toBe(0);
    } finally {
      editConfig(oci.bundle, (cfg) => {
        cfg.process.terminal = true;
        cfg.process.user = { uid: 0, gid: 0 };
      });
    }
  });

  it("a terminal without a console socket, a socket without a terminal, a socket nobody listens on: runc's errors, nothing created", () => {
    editConfig(oci.bundle, (c) => (c.process.args = ['true']));
    const texts: Record<string, string[]> = { tini: [], runc: [] };
    const missing = path.join(oci.f.dir, 'nobody-listens.sock');
    for (const [who, rt] of Object.entries(both)) {
      const c = id(`bad-${who}`);
      const noSocket = rt('create', '--bundle', oci.bundle, c);
      expect(noSocket.status, who).not.toBe(0);
      texts[who].push(noSocket.stderr);
      editConfig(oci.bundle, (cfg) => (cfg.process.terminal = false));
      const noTerminal = rt('create', '--bundle', oci.bundle, '--console-socket', missing, c);
      editConfig(oci.bundle, (cfg) => (cfg.process.terminal = true));
      expect(noTerminal.status, who).not.toBe(0);
      texts[who].push(noTerminal.stderr);
      const nobody = rt('create', '--bundle', oci.bundle, '--console-socket', missing, c);
      expect(nobody.status, who).not.toBe(0);
      expect(rt('state', c).status, `${who}: nothing was created`).not.toBe(0);
    }
    for (const who of ['tini', 'runc']) {
      expect(texts[who][0], who).toContain('cannot allocate tty if runc will detach without setting console socket');
      expect(texts[who][1], who).toContain('cannot use console socket if runc will not detach or allocate tty');
    }
    expect(tini('create', '--bundle', oci.bundle, '--console-socket', missing, id('nobody')).stderr).toBe(`cannot connect to the console socket ${missing}: ENOENT\n`);
    // A socket file nobody listens on: the init (spawned before create's checks) finds it so, runc's text, nothing left.
    const stale = path.join(oci.f.dir, 'stale.sock');
    spawnSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', stale]);
    const refused = tini('create', '--bundle', oci.bundle, '--console-socket', stale, id('nobody-stale'));
    expect({ status: refused.status, stderr: refused.stderr }).toEqual({ status: 1, stderr: `cannot connect to the console socket ${stale}: ECONNREFUSED\n` });
    expect(fs.readdirSync(oci.roots.tini).filter((n) => /^(bad|nobody)-/.test(n))).toEqual([]);
  });

  it('a receiver that hangs up (closes the master) after create: the program cannot start on the dead terminal, the container stops, delete leaves nothing', async () => {
    editConfig(oci.bundle, (c) => (c.process.args = ['sh', '-c', 'echo never-seen']));
    const c = id('hangup');
    const r = await receiver('hang-up');
    expect(tini('create', '--bundle', oci.bundle, '--console-socket', r.sock, c).status).toBe(0);
    r.hangUp();
    const got = await r.done();
    expect({ fds: got.fds, output: got.output, error: got.error }).toEqual({ fds: 1, output: '', error: null });
    expect(tini('start', c).status).toBe(0);
    expect(await waitFor(() => JSON.parse(tini('state', c).stdout).status === 'stopped', 10_000)).toBe(true);
    expect(tini('delete', c).status).toBe(0);
    expect(fs.existsSync(path.join(oci.roots.tini, c))).toBe(false);
  });

  it('exec --tty --console-socket --detach: a pty of its own for the process (its size from process.json), ^C reaches it, a non-root user too; the errors as runc words them', async () => {
    editConfig(oci.bundle, (c) => {
      c.process.terminal = false;
      c.process.args = ['sleep', '60'];
    });
    const processJson = path.join(oci.f.dir, 'process.json');
    const seen: Record<string, Received> = {};
    const errs: Record<string, string[]> = { tini: [], runc: [] };
    try {
      for (const [who, rt] of Object.entries(both)) {
        const c = id(`exec-${who}`);
        expect(rt('create', '--bundle', oci.bundle, c).status, who).toBe(0);
        expect(rt('start', c).status, who).toBe(0);
        const config = JSON.parse(fs.readFileSync(path.join(oci.bundle, 'config.json'), 'utf8'));
        fs.writeFileSync(processJson, JSON.stringify({ ...config.process, terminal: true, consoleSize: { height: 21, width: 77 }, args: ['sh', '-c', `trap "echo got-INT; exit 6" INT; ${SELF}; echo ready; while :; do sleep 1; done`] }));
        const r = await receiver({ marker: 'ready', hex: '03' });
        const e = rt('exec', '--process', processJson, '--console-socket', r.sock, '--detach', '--pid-file', path.join(oci.f.dir, `${c}.exec.pid`), c);
        expect(e.status, `${who}: ${e.stderr}`).toBe(0);
        seen[who] = await r.done();
        // As a non-root user: the terminal is still its own to open.
        fs.writeFileSync(processJson, JSON.stringify({ ...config.process, terminal: true, user: { uid: 1000, gid: 1000 }, args: ['sh', '-c', 'id -u; tty'] }));
        const r2 = await receiver();
        const e2 = rt('exec', '--process', processJson, '--console-socket', r2.sock, '--detach', c);
        expect(e2.status, `${who}: ${e2.stderr}`).toBe(0);
        const asUser = await r2.done();
        expect(lines(asUser), `${who}: ${asUser.output}`).toEqual(expect.arrayContaining(['1000', '/dev/pts/0']));
        errs[who].push(rt('exec', '--console-socket', r.sock, '--detach', c, 'true').stderr);
        rt('kill', c, 'KILL');
        expect(await waitFor(() => JSON.parse(rt('state', c).stdout).status === 'stopped', 10_000), who).toBe(true);
        expect(rt('delete', c).status, who).toBe(0);
      }
    } finally {
      editConfig(oci.bundle, (c) => (c.process.terminal = true));
    }
    for (const [who, r] of Object.entries(seen)) {
      expect(r.error, who).toBeNull();
      expect({ name: r.name, fds: r.fds, cmsgs: r.cmsgs }, who).toEqual({ name: '/dev/ptmx', fds: 1, cmsgs: 1 });
      expect(lines(r), `${who}: ${r.output}`).toEqual(expect.arrayContaining(['/dev/pts/0', '21 77', 'got-INT']));
      const i = idsOf(r);
      expect(i.sid, who).toBe(i.pid);
      expect(i.fg, who).toBe(i.pgrp);
      expect(i.ttynr, who).toBe(136 << 8);
      expect(errs[who][0], who).toContain('cannot use console socket if runc will not detach or allocate tty');
    }
  });
});
