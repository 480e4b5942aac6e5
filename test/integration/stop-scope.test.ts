/**
 * --stop-scope all with real process trees, as PID 1 of a fresh pid
 * namespace and as a subreaper: daemons that double-forked out of the main
 * child's group and session get the stop signal (stage 2), are given the
 * grace period to stop, and only one that stays is SIGKILLed, at the
 * deadline; the init exits only once they are gone. Beside tini, which never
 * signals them (as PID 1 its exit SIGKILLs them with the namespace).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readEvents, type Ev } from '../helpers/events.js';
import { cleanup, HELPERS, isDead, isRunning, requireBinary, ROOT, SIG, startInit, tempDir, TINI, track, waitFor, type Mode, type Ref } from '../helpers/proc.js';

const DAEMON = path.join(HELPERS, 'daemon.py');

beforeAll(() => requireBinary());
afterEach(cleanup);

/**
 * The main program: starts the daemons (each double-forks into a session of
 * its own and is re-parented to the init), then exits 0 on SIGTERM.
 */
function tree(dir: string, daemons: [string, string][]): string[] {
  const starts = daemons.map(([name, mode]) => `python3 ${DAEMON} "$1" ${name} ${mode}`).join(' && ');
  return ['sh', '-c', `${starts} && trap 'exit 0' TERM && : > "$1/ready" && while :; do sleep 0.05; done`, 'tree', dir];
}

const has = (dir: string, file: string) => fs.existsSync(path.join(dir, file));
const monoOf = (dir: string, file: string) => BigInt(fs.readFileSync(path.join(dir, file), 'utf8'));

/** Starts an init over the tree, waits until it is ready; returns the daemons' host refs (tracked for cleanup). */
async function startTree(mode: Mode, flags: string[], daemons: [string, string][], bin?: string) {
  const dir = tempDir();
  const init = startInit({ mode, bin, flags, prog: tree(dir, daemons) });
  await waitFor(() => has(dir, 'ready'), 'the tree to be ready', { timeoutMs: 20_000, detail: () => init.stderr() });
  const initPid = await init.pid();
  const refs = new Map<string, Ref>();
  // The daemons' host pids: the init's children named after them (re-parented to it).
  for (const [name] of daemons) {
    const pid = await waitFor(
      () =>
        fs.readFileSync(`/proc/${initPid}/task/${initPid}/children`, 'utf8').split(' ').filter(Boolean).map(Number).find((c) => {
          try {
            return fs.readFileSync(`/proc/${c}/comm`, 'utf8').trim() === name;
          } catch {
            return false;
          }
        }),
      `${name} to be re-parented to the init`,
    );
    refs.set(name, track(pid)!);
  }
  return { dir, init, refs };
}

describe.each<Mode>(['pid1', 'sub'])('--stop-scope all (%s)', (mode) => {
  it('a slow daemon stops gracefully after its SIGTERM; one that stays is SIGKILLed only at the deadline, and named', async () => {
    const evDir = tempDir();
    const ev = path.join(evDir, 'events');
    const term = path.join(evDir, 'termination-log');
    const { dir, init, refs } = await startTree(mode, ['--stop-scope', 'all', '--grace', '4', '--events', ev, '--termination-log', term], [
      ['slowd', 'slow:600'],
      ['stubd', 'stubborn'],
    ]);
    await init.signal(SIG.TERM);
    expect(await init.exitCode(20_000)).toBe(0);
    // Both got SIGTERM; the slow one finished its stop, the stubborn one was killed.
    expect(has(dir, 'slowd.term') && has(dir, 'slowd.graceful')).toBe(true);
    expect(has(dir, 'stubd.term')).toBe(true);
    expect(isDead(refs.get('slowd')!) && isDead(refs.get('stubd')!)).toBe(true);

    const evs = readEvents(ev);
    const stages = evs.filter((e) => e.event === 'stop-stage');
    expect(stages.map((e) => [e.stage, e.reason, e.signo])).toEqual([
      ['others', 'main-exited', SIG.TERM],
      ['kill', 'deadline', SIG.KILL],
    ]);
    expect(stages[0].procs.map((p: Ev) => p.comm).sort()).toEqual(['slowd', 'stubd']);
    expect(stages[0].procs.every((p: Ev) => p.result === 'ok')).toBe(true);
    expect(stages[1].procs.map((p: Ev) => p.comm)).toEqual(['stubd']);
    // The slow daemon was done before the deadline's SIGKILL (one clock: CLOCK_MONOTONIC).
    expect(monoOf(dir, 'slowd.graceful')).toBeLessThan(BigInt(stages[1].mono_ns));
    // The deadline is the grace period after the forward, not earlier: the grace event announces it
    // (taken when the init decided to forward; the forward event's own stamp comes a little later).
    const forward = evs.find((e) => e.event === 'forward')!;
    const grace = evs.find((e) => e.event === 'grace')!;
    expect(grace).toMatchObject({ grace_ms: 4000 });
    expect(BigInt(grace.deadline_mono_ns)).toBeGreaterThan(BigInt(forward.mono_ns) + 3_900_000_000n);
    expect(BigInt(stages[1].mono_ns)).toBeGreaterThanOrEqual(BigInt(grace.deadline_mono_ns));
    const exit = evs.at(-1)!;
    const stubdPid = stages[1].procs[0].pid;
    expect(exit).toMatchObject({ event: 'exit', code: 0, stop: { sigkill: true, scope: 'all', left: [{ pid: stubdPid, comm: 'stubd' }], left_count: 1 } });
    const line = `SIGKILL needed: yes (left at the deadline: ${stubdPid} stubd)`;
    expect(init.stderr()).toContain(line);
    expect(fs.readFileSync(term, 'utf8')).toContain(`${line}; the program exited with status 0`);
  });

  it('the init waits for a daemon still stopping after the main child exited, and needs no SIGKILL', async () => {
    const evDir = tempDir();
    const ev = path.join(evDir, 'events');
    const { dir, init, refs } = await startTree(mode, ['--stop-scope', 'all', '--grace', '10', '--events', ev], [['slowd', 'slow:800']]);
    await init.signal(SIG.TERM);
    expect(await init.exitCode(20_000)).toBe(0);
    expect(has(dir, 'slowd.graceful')).toBe(true);
    expect(isDead(refs.get('slowd')!)).toBe(true);
    const evs = readEvents(ev);
    const exit = evs.at(-1)!;
    expect(BigInt(exit.mono_ns)).toBeGreaterThan(monoOf(dir, 'slowd.graceful'));
    expect(exit.stop).toMatchObject({ sigkill: false, scope: 'all', left: [], left_count: 0 });
    expect(evs.filter((e) => e.event === 'escalate' || (e.event === 'stop-stage' && e.stage === 'kill'))).toEqual([]);
    expect(init.stderr()).toMatch(/SIGKILL needed: no\n/);
  });
});

describe('--stop-scope all, a main child slower than half the grace period (pid1)', () => {
  it('the others get SIGTERM once half the grace period has passed, before the main child is done', async () => {
    const dir = tempDir();
    const ev = path.join(dir, 'events');
    const init = startInit({
      mode: 'pid1',
      // Stage 2 at 3 s; the main child takes 4 s; the deadline is at 6 s: a second or more between each.
      flags: ['--stop-scope', 'all', '--grace', '6', '--events', ev],
      prog: ['sh', '-c', `python3 ${DAEMON} "$1" slowd slow:100 && trap 'sleep 4; exit 0' TERM && : > "$1/ready" && while :; do sleep 0.05; done`, 'tree', dir],
    });
    await waitFor(() => has(dir, 'ready'), 'the tree to be ready', { timeoutMs: 20_000, detail: () => init.stderr() });
    await init.signal(SIG.TERM);
    expect(await init.exitCode(20_000)).toBe(0);
    const evs = readEvents(ev);
    const forward = evs.find((e) => e.event === 'forward')!;
    const stage = evs.find((e) => e.event === 'stop-stage')!;
    expect(stage).toMatchObject({ stage: 'others', reason: 'share-elapsed', procs: [{ comm: 'slowd', result: 'ok' }] });
    // Half of the 6 s grace period, by CLOCK_MONOTONIC, before the daemon saw its SIGTERM.
    expect(monoOf(dir, 'slowd.term') - BigInt(forward.mono_ns)).toBeGreaterThanOrEqual(3_000_000_000n);
    expect(evs.at(-1)!.stop).toMatchObject({ sigkill: false, scope: 'all' });
  });
});

describe.each<Mode>(['pid1', 'sub'])('the same tree under tini, tini-ts and tini-ts --stop-scope all (%s)', (mode) => {
  /** Stops the tree and says whether the daemon got SIGTERM, and whether it is alive once the init has exited. */
  async function outcome(bin: string, flags: string[]) {
    const { dir, init, refs } = await startTree(mode, flags, [['slowd', 'slow:300']], bin);
    await init.signal(SIG.TERM);
    const code = await init.exitCode(20_000);
    const alive = isRunning(refs.get('slowd')!);
    return { code, term: has(dir, 'slowd.term'), graceful: has(dir, 'slowd.graceful'), alive };
  }

  it('tini and the default scope never signal the re-parented daemon; --stop-scope all stops it gracefully', async () => {
    // Without -g tini signals only its child; as PID 1 its exit SIGKILLs the namespace, as a subreaper the daemon stays.
    const untouched = { code: 0, term: false, graceful: false, alive: mode === 'sub' };
    expect(await outcome(TINI, [])).toEqual(untouched);
    expect(await outcome(path.join(ROOT, 'dist/tini-ts'), [])).toEqual(untouched);
    expect(await outcome(path.join(ROOT, 'dist/tini-ts'), ['--stop-scope', 'all', '--grace', '10'])).toEqual({ code: 0, term: true, graceful: true, alive: false });
  });
});

describe('--stop-scope, bad values', () => {
  it('one line naming the flag (or TINI_STOP_SCOPE), exit 1, nothing started', async () => {
    const dir = tempDir();
    const marker = path.join(dir, 'started');
    for (const [flags, env, name] of [
      [['--stop-scope', 'everyone'], {}, '--stop-scope'],
      [['--stop-scope'], {}, '--stop-scope'],
      [[], { TINI_STOP_SCOPE: 'ALL' }, 'TINI_STOP_SCOPE'],
    ] as [string[], Record<string, string>, string][]) {
      const init = startInit({ mode: 'sub', flags, env, prog: ['touch', marker] });
      expect(await init.exitCode()).toBe(1);
      expect(init.stderr()).toMatch(new RegExp(`^tini-ts: ${name}[ :][^\\n]+\\n$`));
    }
    expect(fs.existsSync(marker)).toBe(false);
  });
});
