/**
 * Signal storms: a burst of queued real-time signals (sigqueue, far more than
 * the 4,096 messages of a default pipe) sent to the init, whose child blocks
 * every signal and takes them one by one (sigburst.c `hold`), so the child's
 * count is exactly what the init forwarded. Compared with Debian's tini in
 * the same test: tini-ts must deliver at least as many, and every one the
 * kernel accepted. Standard signals in a storm coalesce in the kernel; every
 * one the init receives must still be forwarded.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BIN, cleanup, compiledHelper, requireBinary, startInit, tempDir, TINI, waitFor, type Mode, type RunningInit,
} from '../helpers/proc.js';

beforeAll(() => {
  requireBinary();
  if (!fs.existsSync(TINI)) throw new Error(`${TINI} is missing: install Debian's tini (test/setup/install-deps.sh)`);
});
afterEach(cleanup);

/** The holder writes its counts on this signal (sigburst.c MARKER). */
const MARKER = 64;
const BURST_SIGNALS = [34, 35, 50];

/** RLIMIT_SIGPENDING as this process (and so the init and its child) has it. */
function sigpendingLimit(): number {
  const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max pending signals'));
  const soft = line?.split(/\s{2,}/)[1];
  return soft === 'unlimited' ? Infinity : Number(soft);
}

/**
 * N signals: well above 4,096, at least 10,000, and with room left under
 * RLIMIT_SIGPENDING (the user's queued signals, the init's and the child's together).
 */
function burstSize(): number {
  const n = Math.min(20_000, Math.floor(sigpendingLimit() * 0.4));
  if (n < 10_000) throw new Error(`RLIMIT_SIGPENDING ${sigpendingLimit()} is too low for a burst of 10,000 signals: raise it (ulimit -i)`);
  return n;
}

interface Send {
  sent: number;
  eagain: number;
}

function send(pid: number, n: number, sigs: number[]): Send {
  const r = spawnSync(compiledHelper('sigburst'), ['send', String(pid), String(n), ...sigs.map(String)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sigburst send failed: ${r.stderr}`);
  const m = /^sent (\d+) eagain (\d+)$/m.exec(r.stdout);
  if (!m) throw new Error(`sigburst send printed ${r.stdout}`);
  return { sent: Number(m[1]), eagain: Number(m[2]) };
}

function readCounts(dir: string): Map<number, number> {
  const counts = new Map<number, number>();
  let text = '';
  try {
    text = fs.readFileSync(`${dir}/counts`, 'utf8');
  } catch {
    return counts;
  }
  for (const line of text.split('\n').filter(Boolean)) {
    const [s, c] = line.split(' ').map(Number);
    counts.set(s, c);
  }
  return counts;
}

/**
 * Sends the marker until the child has received one more than before.
 * A marker queued after the burst reaches the child after every signal of
 * the burst (the kernel hands pending real-time signals over lowest number
 * first, and the init forwards in the order it takes them); calling this
 * twice also waits out a signal still in a handler of another of the init's
 * threads. A marker the init loses is sent again (then the burst lost some too).
 */
async function mark(initPid: number, dir: string, init: RunningInit): Promise<void> {
  const before = readCounts(dir).get(MARKER) ?? 0;
  for (let attempt = 0; ; attempt++) {
    if (send(initPid, 1, [MARKER]).sent !== 1) throw new Error('the marker was refused');
    try {
      await waitFor(() => (readCounts(dir).get(MARKER) ?? 0) > before, 'the child to receive the marker', { timeoutMs: 3_000, intervalMs: 20 });
      return;
    } catch (e) {
      if (attempt >= 20) throw new Error(`${(e as Error).message}: counts ${JSON.stringify([...readCounts(dir)])}; stderr ${init.stderr().slice(-500)}`);
    }
  }
}

interface StormResult {
  sent: number;
  refused: number;
  received: number;
  /** "Passing signal" debug lines of the init (tini on stdout, tini-ts on stderr). */
  forwarded: number;
  code: number;
}

async function storm(bin: string, mode: Mode, n: number): Promise<StormResult> {
  const dir = tempDir('tini-ts-storm-');
  const init = startInit({ mode, bin, flags: ['-vvv'], prog: [compiledHelper('sigburst'), 'hold', dir, '-t', '120'] });
  await waitFor(() => fs.existsSync(`${dir}/ready`), 'the child to be ready', { detail: () => init.stderr() });
  const initPid = await init.pid();
  const s = send(initPid, n, BURST_SIGNALS);
  await mark(initPid, dir, init);
  await mark(initPid, dir, init);
  const counts = readCounts(dir);
  fs.writeFileSync(`${dir}/release`, '');
  const code = await init.exitCode(60_000);
  const received = BURST_SIGNALS.reduce((sum, sig) => sum + (counts.get(sig) ?? 0), 0);
  // Every signal forwarded is one of the burst or a marker (SIGCHLD is never passed).
  const passing = (init.stdout() + init.stderr()).split('\n').filter((l) => l.includes('Passing signal')).length;
  return { sent: s.sent, refused: s.eagain, received, forwarded: passing - (counts.get(MARKER) ?? 0), code };
}

describe.each<Mode>(['sub', 'pid1'])('a burst of queued real-time signals (%s)', (mode) => {
  it('reaches the child whole, as with tini', async () => {
    const n = burstSize();
    const tini = await storm(TINI, mode, n);
    const ts = await storm(BIN, mode, n);
    // Sent / received by the child / forwarded by the init, for the record.
    console.log(`burst of ${n} (${mode}): tini sent ${tini.sent} refused ${tini.refused} received ${tini.received} forwarded ${tini.forwarded}; ` +
      `tini-ts sent ${ts.sent} refused ${ts.refused} received ${ts.received} forwarded ${ts.forwarded}`);
    for (const r of [tini, ts]) expect(r.code).toBe(0);
    // Far above the 4,096 a default pipe holds, the kernel refused none here:
    expect(ts.sent).toBe(n);
    // every signal the kernel accepted was forwarded once and reached the child.
    expect(ts.received).toBe(ts.sent);
    expect(ts.forwarded).toBe(ts.received);
    expect(ts.received).toBeGreaterThanOrEqual(tini.received);
  }, 240_000);
});

describe('a storm of standard signals', () => {
  it('every one the init receives is forwarded, and each kind reaches the child', async () => {
    const dir = tempDir('tini-ts-storm-');
    const events = `${dir}/events.jsonl`;
    const init = startInit({ mode: 'sub', flags: ['--events', events], prog: [compiledHelper('sigburst'), 'hold', dir, '-t', '120'] });
    await waitFor(() => fs.existsSync(`${dir}/ready`), 'the child to be ready', { detail: () => init.stderr() });
    const initPid = await init.pid();
    const standard = [1, 10, 12, 28, 15];
    // Real-time signals in between keep the init's threads busy, so standard ones pile up and merge.
    const s = send(initPid, 20_000, [...standard, 34, 35]);  // 2,857 of each
    expect(s.sent).toBe(20_000);
    await mark(initPid, dir, init);
    await mark(initPid, dir, init);
    const counts = readCounts(dir);
    fs.writeFileSync(`${dir}/release`, '');
    expect(await init.exitCode(60_000)).toBe(0);
    const lines = fs.readFileSync(events, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; signo?: number; result?: string });
    for (const sig of standard) {
      const received = lines.filter((e) => e.event === 'signal' && e.signo === sig).length;
      const forwarded = lines.filter((e) => e.event === 'forward' && e.signo === sig && e.result === 'ok').length;
      expect(received, `signal ${sig} received by the init`).toBeGreaterThan(0);
      expect(forwarded, `signal ${sig}: forwarded as often as received`).toBe(received);
      expect(counts.get(sig) ?? 0, `signal ${sig} at the child`).toBeGreaterThan(0);
      expect(counts.get(sig) ?? 0, `signal ${sig}: the child got no more than was forwarded`).toBeLessThanOrEqual(forwarded);
    }
    // The real-time ones in between all arrived (sigburst cycles through the list).
    const cycle = [...standard, 34, 35];
    for (const sig of [34, 35]) {
      const sentOf = Math.floor((20_000 - 1 - cycle.indexOf(sig)) / cycle.length) + 1;
      expect(counts.get(sig), `signal ${sig}`).toBe(sentOf);
    }
  }, 240_000);
});
