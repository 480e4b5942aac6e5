/**
 * Differential tests against Debian's tini (`tini -g`, since tini-ts always
 * signals the group) on the same scenarios, where tini-ts claims tini's
 * behaviour. Each comparison also checks the expected value itself, so two
 * inits that are wrong the same way still fail.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN, childrenOf, cleanup, FORWARDED, isRunning, readStat, Recorder, requireBinary, runInit, SIG, startInit, tempDir, TINI, track, waitFor,
  type Mode,
} from '../helpers/proc.js';

beforeAll(() => {
  requireBinary();
  if (!fs.existsSync(TINI)) throw new Error(`${TINI} is missing: install Debian's tini (test/setup/install-deps.sh)`);
});
afterEach(cleanup);

const INITS = [
  { name: 'tini', bin: TINI, flags: ['-g'] },
  { name: 'tini-ts', bin: BIN, flags: [] as string[] },
];

/**
 * Sends every signal 1..64 (but KILL, STOP and glibc's 32/33) to the init as
 * PID 1, each followed by a marker signal (64; 63 for 64 itself), waiting for
 * the marker in both recorders before the next one. A last marker round lets
 * anything still in flight arrive; then the logs say which signals reached the
 * child and the grandchild (the markers' own counts are corrected for).
 */
async function forwardedSet(bin: string, flags: string[]): Promise<{ main: number[]; grand: number[]; code: number }> {
  const rec = new Recorder();
  const init = startInit({ mode: 'pid1', bin, flags, prog: rec.argv({ grandchild: true }) });
  await rec.ready(10_000, () => init.stderr());
  const initPid = await init.pid();
  const markers = new Map<number, number>([[63, 0], [64, 0]]);
  const sent: number[] = [];
  const sendAndMark = async (s: number | null, marker: number) => {
    const seen = { main: rec.count('main', marker), grand: rec.count('grand', marker) };
    if (s !== null) process.kill(initPid, s);
    process.kill(initPid, marker);
    markers.set(marker, markers.get(marker)! + 1);
    // A marker the init does not forward would time out here: 63 and 64 must be forwarded.
    await rec.waitSignal('main', marker, seen.main + 1 + (s === marker ? 1 : 0));
    await rec.waitSignal('grand', marker, seen.grand + 1 + (s === marker ? 1 : 0));
  };
  for (let s = 1; s <= 64; s++) {
    if (s === SIG.KILL || s === SIG.STOP || s === 32 || s === 33) continue;
    sent.push(s);
    await sendAndMark(s, s === 64 ? 63 : 64);
  }
  await sendAndMark(null, 64);
  const got = (who: 'main' | 'grand') => sent.filter((s) => rec.count(who, s) - (markers.get(s) ?? 0) > 0);
  const result = { main: got('main'), grand: got('grand') };
  rec.release();
  const code = await init.exitCode();
  return { ...result, code };
}

describe('differential against tini -g', () => {
  it('the same set of forwarded signals, to the child and to its group', async () => {
    const results: Record<string, { main: number[]; grand: number[]; code: number }> = {};
    for (const i of INITS) results[i.name] = await forwardedSet(i.bin, i.flags);
    for (const i of INITS) {
      expect(results[i.name].code, i.name).toBe(0);
      expect(results[i.name].main, `${i.name}: child`).toEqual([...FORWARDED]);
      expect(results[i.name].grand, `${i.name}: grandchild`).toEqual([...FORWARDED]);
    }
    expect(results['tini-ts']).toEqual(results.tini);
  });

  /**
   * Pairs of signals sent back to back, the lower number first: tini takes
   * them with sigtimedwait (lowest pending first) and forwards them in that
   * order. Returns how many pairs the child saw the other way round.
   */
  async function reorderedPairs(bin: string, flags: string[], pairs: number): Promise<number> {
    const rec = new Recorder();
    const init = startInit({ mode: 'sub', bin, flags, prog: rec.argv({}) });
    await rec.ready(10_000, () => init.stderr());
    const initPid = await init.pid();
    const PAIRS: [number, number][] = [[SIG.HUP, SIG.TERM], [SIG.USR1, SIG.USR2], [SIG.INT, 40], [35, 50]];
    for (let i = 0; i < pairs; i++) {
      const [a, b] = PAIRS[i % PAIRS.length];
      process.kill(initPid, a);
      process.kill(initPid, b);
      await waitFor(() => rec.log('main').length >= 2 * (i + 1), `pair ${i} to arrive`, { detail: () => rec.log('main').join(',') });
    }
    const log = rec.log('main');
    let reordered = 0;
    for (let i = 0; i < pairs; i++) if (log[2 * i] !== PAIRS[i % PAIRS.length][0]) reordered++;
    rec.release();
    expect(await init.exitCode()).toBe(0);
    return reordered;
  }

  it('tini forwards two signals sent back to back in the order they came (the baseline for the next test)', async () => {
    expect(await reorderedPairs(TINI, ['-g'], 100)).toBe(0);
  });

  // BUG (tini-ts): signals that arrive back to back are forwarded out of order
  // in about a quarter of the pairs. The kernel hands the second signal to
  // another Node thread (the main thread already has one pending), each
  // thread's libuv handler writes to the signal pipe, and those writes race.
  // Repro: start `tini-ts -s -- <recorder>`, then `kill -HUP $P; kill -TERM $P`
  // 100 times: the recorder sees TERM before HUP ~25 times; tini: 0.
  it.fails('tini-ts forwards two signals sent back to back in the order they came, as tini does', async () => {
    expect(await reorderedPairs(BIN, [], 100)).toBe(0);
  });

  it('exec failures: 127 not found, 126 not executable; a script without #! runs with sh', async () => {
    const dir = tempDir();
    const script = path.join(dir, 'noshebang');
    fs.writeFileSync(script, 'exit 7\n', { mode: 0o755 });
    const cases: [string[], number][] = [
      [['/nonexistent/prog'], 127],
      [['no-such-command-tini-ts-it'], 127],
      [['/etc'], 126],
      [['/etc/passwd'], 126],
      [[script], 7],
    ];
    for (const [prog, expected] of cases) {
      for (const i of INITS) {
        const r = await runInit({ mode: 'sub', bin: i.bin, flags: i.flags, prog });
        expect(r.code, `${i.name} ${prog[0]}: ${r.stderr}`).toBe(expected);
        if (expected !== 7) expect(r.stderr, `${i.name} names the program`).toContain(prog[0]);
      }
    }
  });

  it('-e 127 applies to an exec failure in both', async () => {
    for (const i of INITS) {
      const r = await runInit({ mode: 'sub', bin: i.bin, flags: [...i.flags, '-e', '127'], prog: ['/nonexistent/prog'] });
      expect(r.code, i.name).toBe(0);
    }
  });

  it.each<Mode>(['pid1', 'sub'])('the child leads a new process group in the init\'s session (%s)', async (mode) => {
    const facts: Record<string, { childIsLeader: boolean; samePgrp: boolean; sameSid: boolean }> = {};
    for (const i of INITS) {
      const rec = new Recorder();
      const init = startInit({ mode, bin: i.bin, flags: i.flags, prog: rec.argv({}) });
      await rec.ready(10_000, () => init.stderr());
      const initStat = readStat(await init.pid())!;
      const child = await waitFor(() => childrenOf(initStat.pid)[0], 'the child');
      const childStat = readStat(child)!;
      facts[i.name] = {
        childIsLeader: childStat.pgrp === child,
        samePgrp: childStat.pgrp === initStat.pgrp,
        sameSid: childStat.session === initStat.session,
      };
      rec.release();
      expect(await init.exitCode()).toBe(0);
    }
    expect(facts['tini-ts']).toEqual({ childIsLeader: true, samePgrp: false, sameSid: true });
    expect(facts['tini-ts']).toEqual(facts.tini);
  });

  it('the not-PID-1 warning, only without a subreaper', async () => {
    for (const i of INITS) {
      const plain = await runInit({ mode: 'plain', bin: i.bin, flags: i.flags, prog: ['true'] });
      expect(plain.code).toBe(0);
      expect(plain.stderr, i.name).toContain("zombie reaping won't work");
      expect(plain.stderr, i.name).toMatch(/-s option or set the environment variable TINI_SUBREAPER/);
      for (const mode of ['sub', 'subenv'] as const) {
        const r = await runInit({ mode, bin: i.bin, flags: i.flags, prog: ['true'] });
        expect(r.stderr, `${i.name} ${mode}`).not.toContain("zombie reaping won't work");
      }
    }
  });

  it('the main child exits while a grandchild in its group runs on: the init exits at once with its status and leaves the grandchild alone', async () => {
    for (const i of INITS) {
      const rec = new Recorder();
      const init = startInit({ mode: 'sub', bin: i.bin, flags: i.flags, prog: rec.argv({ grandchild: true, exitOn: [SIG.USR1, 5] }) });
      await rec.ready(10_000, () => init.stderr());
      const child = await waitFor(() => childrenOf(init.proc.pid)[0], 'the child');
      const grand = track(await waitFor(() => childrenOf(child)[0], 'the grandchild'))!;
      const t0 = performance.now();
      await init.signal(SIG.USR1);
      expect(await init.exitCode(), i.name).toBe(5);
      expect(init.proc.exited!.at - t0, `${i.name} exits promptly`).toBeLessThan(2_000);
      await rec.waitSignal('grand', SIG.USR1);
      expect(isRunning(grand), `${i.name} leaves the grandchild running`).toBe(true);
      expect(rec.has('grand.exit')).toBe(false);
    }
  });

  it('-e 143 turns a SIGTERM death (forwarded by the init) into 0; without it, 143', async () => {
    for (const i of INITS) {
      for (const [flags, expected] of [[['-e', '143'], 0], [[], 143]] as const) {
        const rec = new Recorder();
        const init = startInit({ mode: 'pid1', bin: i.bin, flags: [...i.flags, ...flags], prog: rec.argv({ exitOn: [SIG.TERM, 'die'] }) });
        await rec.ready(10_000, () => init.stderr());
        await init.signal(SIG.TERM);
        expect(await init.exitCode(), `${i.name} ${flags.join(' ')}`).toBe(expected);
      }
    }
  });
});
