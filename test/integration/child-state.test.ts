/**
 * What the child starts with: an empty signal mask and default dispositions
 * (even when the init itself was started with signals blocked and ignored),
 * blocking stdio, no descriptor of the init but 0/1/2, and its environment
 * and argv byte for byte as the init got them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN, cleanup, fdFlags, fixture, launch, launchWith, linkInto, O_NONBLOCK, openFds, procStatus, readStat, Recorder,
  requireBinary, SIG, sigsetOf, sleep, startInit, tempDir, TINI, UNSHARE_PID1, waitFor, childrenOf, type Launched, type Mode,
} from '../helpers/proc.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

/** argv that starts `init [flags] -- prog` in a mode, for exec_with (no PATH lookup there). */
function initArgv(mode: Mode, prog: (string | Buffer)[], bin = BIN, flags: string[] = []): (string | Buffer)[] {
  if (mode === 'pid1') return ['/usr/bin/unshare', ...UNSHARE_PID1.slice(1), bin, ...flags, '--', ...prog];
  return [bin, '-s', ...flags, '--', ...prog];
}

/** The main child (leader of its own group) under whatever `launched` started. */
async function mainChildUnder(launched: Launched, mode: Mode): Promise<number> {
  const init = mode === 'pid1' ? await waitFor(() => childrenOf(launched.pid)[0], 'unshare to fork the init') : launched.pid;
  return waitFor(() => childrenOf(init).find((c) => readStat(c)?.pgrp === c), 'the main child', {
    detail: () => launched.stderr(),
  });
}

const BLOCK = [SIG.HUP, SIG.USR1, SIG.USR2, SIG.TERM, SIG.CHLD, 36, 50];
const IGNORE = [SIG.INT, SIG.QUIT, SIG.PIPE, SIG.TSTP, 40, 45];

describe.each<Mode>(['pid1', 'sub'])('child state (%s)', (mode) => {
  it('SigBlk and SigIgn are empty although the init was started with signals blocked and ignored', async () => {
    const rec = new Recorder();
    const p = launchWith({ argv: initArgv(mode, rec.argv({ none: true })), block: BLOCK, ignore: IGNORE });
    await rec.ready(10_000, () => p.stderr());
    const child = await mainChildUnder(p, mode);
    const st = procStatus(child);
    expect({ SigBlk: sigsetOf(st.SigBlk), SigIgn: sigsetOf(st.SigIgn), SigCgt: sigsetOf(st.SigCgt) }).toEqual({
      SigBlk: [],
      SigIgn: [],
      SigCgt: [],
    });
    rec.release();
    expect(await p.exitCode()).toBe(0);
  });

  it('the dirty start is real: tini, which hands its start-up state on, passes those signals to its child', async () => {
    const rec = new Recorder();
    const p = launchWith({ argv: initArgv(mode, rec.argv({ none: true }), TINI), block: BLOCK, ignore: IGNORE });
    await rec.ready(10_000, () => p.stderr());
    const st = procStatus(await mainChildUnder(p, mode));
    expect(sigsetOf(st.SigBlk)).toEqual(BLOCK);
    expect(sigsetOf(st.SigIgn)).toEqual(IGNORE);
    rec.release();
    expect(await p.exitCode()).toBe(0);
  });

  it('started with SIGCHLD ignored and blocked, the init still reaps the child and reports its status', async () => {
    const p = launchWith({ argv: initArgv(mode, ['/bin/sh', '-c', 'exit 3']), ignore: [SIG.CHLD] });
    expect(await p.exitCode()).toBe(3);
    const q = launchWith({ argv: initArgv(mode, ['/bin/sh', '-c', 'exit 4']), block: [SIG.CHLD] });
    expect(await q.exitCode()).toBe(4);
  });

  it('fds 0, 1 and 2 of the child are not O_NONBLOCK (pipes, after a while)', async () => {
    const rec = new Recorder();
    const init = startInit({ mode, prog: rec.argv({ none: true }), stdin: 'pipe' });
    await rec.ready(10_000, () => init.stderr());
    const child = await init.mainChild();
    // The init has had time to set up everything it ever sets up.
    await sleep(400);
    const flags = [0, 1, 2].map((fd) => fdFlags(child, fd));
    expect(flags.map((f) => (f & O_NONBLOCK ? 'O_NONBLOCK' : 'blocking'))).toEqual(['blocking', 'blocking', 'blocking']);
    // They are the pipes (socket pairs, from Node) the init was given.
    expect(fs.readlinkSync(`/proc/${child}/fd/1`)).toMatch(/^socket:/);
    rec.release();
    expect(await init.exitCode()).toBe(0);
  });

  it('no descriptor of the init but 0, 1, 2 reaches the child (addon beside the binary, or extracted)', async () => {
    const alone = linkInto(BIN, tempDir('tini-ts-alone-'));
    for (const bin of [BIN, alone]) {
      const rec = new Recorder();
      const p = launchWith({ argv: initArgv(mode, rec.argv({ none: true }), bin) });
      await rec.ready(10_000, () => p.stderr());
      const child = await mainChildUnder(p, mode);
      expect(openFds(child), bin).toEqual([0, 1, 2]);
      rec.release();
      expect(await p.exitCode()).toBe(0);
    }
  });

  // tini passes every inherited descriptor on; tini-ts passes 0, 1 and 2 only
  // (Node marks the rest close-on-exec at start-up). Pinned here so that a
  // change is seen; see shared/research/sea-koffi.md section 6.
  it('descriptors the init inherited beyond 2 (fd 3, fd 40) are not passed to the child', async () => {
    const rec = new Recorder();
    const p = launchWith({ argv: initArgv(mode, rec.argv({ none: true })), fds: { 3: '/dev/null', 40: '/dev/null' } });
    await rec.ready(10_000, () => p.stderr());
    expect(openFds(await mainChildUnder(p, mode))).toEqual([0, 1, 2]);
    rec.release();
    expect(await p.exitCode()).toBe(0);
  });

  it('the environment reaches the child byte for byte (NODE_OPTIONS, non-UTF-8, empty, newlines, no "=", duplicates)', async () => {
    const env: (string | Buffer)[] = [
      'PATH=/usr/bin:/bin',
      'NODE_OPTIONS=--require /nonexistent.js',
      Buffer.from('BIN=\xff\xfe\x80end', 'latin1'),
      Buffer.from([0x4b, 0xc3, 0x28, 0x3d, 0x76]), // invalid UTF-8 in the name: "K\xc3(=v"
      'EMPTY=',
      'NL=line1\nline2\n',
      'UTF8=h\u00e9llo \u2713',
      'SPACES=  a  b  ',
      'NOEQUALS',
      'DUP=1',
      'DUP=2',
      '=leading-equals',
    ];
    const rec = new Recorder();
    const p = launchWith({ argv: initArgv(mode, rec.argv({ none: true })), env });
    await rec.ready(10_000, () => p.stderr());
    const child = await mainChildUnder(p, mode);
    const expected = Buffer.concat(env.map((e) => Buffer.concat([typeof e === 'string' ? Buffer.from(e) : e, Buffer.from([0])])));
    const actual = fs.readFileSync(`/proc/${child}/environ`);
    expect(actual.toString('hex')).toBe(expected.toString('hex'));
    rec.release();
    expect(await p.exitCode()).toBe(0);
  });

  it('argv with non-UTF-8 bytes, newlines, empty strings and option look-alikes reaches the child unchanged', async () => {
    const rec = new Recorder();
    // The program path itself is not UTF-8 either: a symlink to the fixture.
    const dir = tempDir();
    const prog = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xff, 0xfe]), Buffer.from('-fixture')]);
    fs.symlinkSync(fixture(), prog);
    const extra: (string | Buffer)[] = [
      Buffer.from([0xff, 0xfe, 0x80]),
      'a\nb',
      '',
      '-e',
      '--version',
      'h\u00e9llo',
      Buffer.from([0xc3, 0x28]),
      ' ',
    ];
    const argv: (string | Buffer)[] = [prog, ...rec.argv({ none: true }).slice(1), '--', ...extra];
    const p = launchWith({ argv: initArgv(mode, argv) });
    await rec.ready(10_000, () => p.stderr());
    const child = await mainChildUnder(p, mode);
    const expected = Buffer.concat(argv.map((a) => Buffer.concat([typeof a === 'string' ? Buffer.from(a) : a, Buffer.from([0])])));
    expect(fs.readFileSync(`/proc/${child}/cmdline`).toString('hex')).toBe(expected.toString('hex'));
    rec.release();
    expect(await p.exitCode()).toBe(0);
  });
});

describe('child state: plain launch', () => {
  it('stdio as the init got it when run plainly from a shell pipeline (fd flags and targets)', async () => {
    const rec = new Recorder();
    const p = launch('sh', ['-c', `${BIN} -s -- ${rec.argv({ none: true }).join(' ')} | cat`]);
    await rec.ready(10_000, () => p.stderr());
    const sh = p.pid;
    const init = await waitFor(() => childrenOf(sh).find((c) => fs.readlinkSync(`/proc/${c}/exe`) === path.resolve(BIN)), 'the init');
    const child = await waitFor(() => childrenOf(init)[0], 'the child');
    await sleep(400);
    for (const fd of [0, 1, 2]) expect(fdFlags(child, fd) & O_NONBLOCK, `fd ${fd}`).toBe(0);
    expect(fs.readlinkSync(`/proc/${child}/fd/1`)).toBe(fs.readlinkSync(`/proc/${init}/fd/1`));
    rec.release();
    expect(await p.exitCode()).toBe(0);
  });
});
