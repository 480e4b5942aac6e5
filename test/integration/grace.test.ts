/**
 * --grace SECONDS: after a forwarded SIGTERM/SIGINT the group has that long
 * to exit, then it is SIGKILLed. Other signals do not start the timer. A
 * child that exits in time ends the init at once with its own status; if
 * the rest of its group is still draining, the init waits for it (up to the
 * deadline) before exiting.
 *
 * Mostly run as a subreaper that is not PID 1, where leftover processes
 * would survive the init and can be looked at.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, cleanup, isDead, isRunning, Recorder, requireBinary, SIG, sleep, startInit, track, waitFor, type Mode } from '../helpers/proc.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

async function started(mode: Mode, flags: string[], rec: Recorder, opts: Parameters<Recorder['argv']>[0], env?: Record<string, string>) {
  const init = startInit({ mode, flags, prog: rec.argv(opts), env });
  await rec.ready(10_000, () => init.stderr());
  const child = await init.mainChild();
  const grandPid = opts?.grandchild ? await waitFor(() => childrenOf(child)[0], 'the grandchild') : undefined;
  // Tracked: if the init fails to kill them, cleanup does.
  const childRef = track(child)!;
  const grandRef = grandPid ? track(grandPid) : undefined;
  return { init, childRef, grandRef };
}

describe.each<Mode>(['sub', 'pid1'])('--grace escalation (%s)', (mode) => {
  it('child and grandchild catch SIGTERM and stay: SIGKILL to the group after the grace period, exit 137', async () => {
    const rec = new Recorder();
    const { init, childRef, grandRef } = await started(mode, ['--grace', '1'], rec, { grandchild: true });
    const t0 = performance.now();
    await init.signal(SIG.TERM);
    await rec.waitSignal('main', SIG.TERM);
    await rec.waitSignal('grand', SIG.TERM);
    expect(await init.exitCode(10_000)).toBe(137);
    const elapsed = init.proc.exited!.at - t0;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(5_000);
    await waitFor(() => isDead(childRef) && isDead(grandRef!), 'child and grandchild to be gone', { timeoutMs: 5_000 });
    expect(rec.has('release')).toBe(false); // nobody let them go: they were killed
  });
});

describe('--grace', () => {
  it('SIGINT starts it too, and TINI_GRACE sets it', async () => {
    const rec = new Recorder();
    const { init, grandRef } = await started('sub', [], rec, { grandchild: true }, { TINI_GRACE: '0.5' });
    const t0 = performance.now();
    await init.signal(SIG.INT);
    expect(await init.exitCode(10_000)).toBe(137);
    expect(init.proc.exited!.at - t0).toBeGreaterThanOrEqual(400);
    await waitFor(() => isDead(grandRef!), 'the grandchild to be gone', { timeoutMs: 5_000 });
  });

  it('is not started by other signals (SIGUSR1, SIGUSR2)', async () => {
    const rec = new Recorder();
    const { init, childRef, grandRef } = await started('sub', ['--grace', '0.3'], rec, { grandchild: true });
    await init.signal(SIG.USR1);
    await init.signal(SIG.USR2);
    for (const s of [SIG.USR1, SIG.USR2]) {
      await rec.waitSignal('main', s);
      await rec.waitSignal('grand', s);
    }
    // Well past the grace period: everyone is still there.
    await sleep(1_200);
    expect(init.proc.exited).toBeUndefined();
    expect(isRunning(childRef)).toBe(true);
    expect(isRunning(grandRef!)).toBe(true);
    rec.release();
    expect(await init.exitCode()).toBe(0);
  });

  it('a child that exits on SIGTERM ends the init at once with its own status', async () => {
    const rec = new Recorder();
    const { init } = await started('sub', ['--grace', '5'], rec, { exitOn: [SIG.TERM, 7] });
    const t0 = performance.now();
    await init.signal(SIG.TERM);
    expect(await init.exitCode(10_000)).toBe(7);
    expect(init.proc.exited!.at - t0).toBeLessThan(2_000);
  });

  it('drain: the main child dies of SIGTERM, a grandchild in its group takes 0.3 s more; the init waits for it', async () => {
    const rec = new Recorder();
    const { init, grandRef } = await started('sub', ['--grace', '10'], rec, {
      grandchild: true,
      exitOn: [SIG.TERM, 'die'],
      grandLinger: [SIG.TERM, 300],
    });
    const t0 = performance.now();
    await init.signal(SIG.TERM);
    const code = await init.exitCode(10_000);
    // Checked at once: the grandchild finished by itself before the init exited.
    const grandFinished = rec.has('grand.exit');
    expect(code).toBe(143);
    expect(grandFinished).toBe(true);
    const elapsed = init.proc.exited!.at - t0;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(5_000);
    await waitFor(() => isDead(grandRef!), 'the grandchild to be gone');
  });

  it('drain: a grandchild that stays after SIGTERM is SIGKILLed at the deadline; the init exits with the main child\'s status', async () => {
    const rec = new Recorder();
    const { init, childRef, grandRef } = await started('sub', ['--grace', '1'], rec, { grandchild: true, exitOn: [SIG.TERM, 'die'] });
    const t0 = performance.now();
    await init.signal(SIG.TERM);
    await rec.waitSignal('grand', SIG.TERM);
    // The main child is gone well before the deadline; the init stays, and so does the grandchild.
    await waitFor(() => isDead(childRef), 'the main child to die of SIGTERM');
    expect(init.proc.exited).toBeUndefined();
    expect(isRunning(grandRef!)).toBe(true);
    const code = await init.exitCode(10_000);
    expect(code).toBe(143);
    const elapsed = init.proc.exited!.at - t0;
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(5_000);
    expect(rec.has('grand.exit')).toBe(false);
    await waitFor(() => isDead(grandRef!), 'the grandchild to be killed', { timeoutMs: 5_000 });
  });
});
