/**
 * Signal forwarding: every catchable signal the init gets (real-time ones
 * included) reaches the child's whole process group, a grandchild in that
 * group too; SIGCHLD is never forwarded; SIGUSR1 never starts Node's
 * inspector. Signals are sent one at a time and each is awaited in both
 * recorders, so standard signals cannot coalesce.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  childrenOf, cleanup, FORWARDED, listeningSockets, readStat, Recorder, requireBinary, SIG, sleep, startInit, type Mode,
} from '../helpers/proc.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

describe.each<Mode>(['pid1', 'sub'])('forwarding (%s)', (mode) => {
  it('every catchable signal, RT 34..64 included, reaches the child and a grandchild in its group, once each', async () => {
    const rec = new Recorder();
    const init = startInit({ mode, prog: rec.argv({ grandchild: true }) });
    await rec.ready(10_000, () => init.stderr());
    const initPid = await init.pid();
    const child = await init.mainChild();
    const grand = childrenOf(child)[0];
    expect(grand).toBeGreaterThan(0);
    expect(readStat(grand)!.pgrp).toBe(child);
    expect(readStat(initPid)!.pgrp).not.toBe(child);

    // The list covers the signals that matter most in practice (job control, resize, RT).
    for (const s of [SIG.TSTP, SIG.CONT, SIG.WINCH, SIG.USR1, 34, 40, 64]) expect(FORWARDED).toContain(s);

    for (const sig of FORWARDED) {
      process.kill(initPid, sig);
      await rec.waitSignal('main', sig, 1, 5_000);
      await rec.waitSignal('grand', sig, 1, 5_000);
    }
    // Exactly once each, nothing else (no SIGCHLD, no duplicate).
    expect(rec.log('main').slice().sort((a, b) => a - b)).toEqual([...FORWARDED]);
    expect(rec.log('grand').slice().sort((a, b) => a - b)).toEqual([...FORWARDED]);

    // The init kept working through all of it, and SIGUSR1 did not start an inspector.
    expect(listeningSockets(initPid)).toEqual([]);
    expect(init.stderr()).not.toMatch(/Debugger|inspector/i);
    rec.release();
    expect(await init.exitCode()).toBe(0);
    // Nothing but the line that says a stop signal (SIGTERM or SIGINT, sent in the loop) preceded the exit.
    expect(init.stderr()).toMatch(/^\[WARN  tini-ts \([0-9]+\)\] stopped by SIG(TERM|INT) after [0-9.]+s; SIGKILL needed: no\n$/);
  });

  it('SIGCHLD is not forwarded (a later signal is, and arrives alone)', async () => {
    const rec = new Recorder();
    const init = startInit({ mode, prog: rec.argv({ grandchild: true }) });
    await rec.ready(10_000, () => init.stderr());
    for (let i = 0; i < 3; i++) {
      await init.signal(SIG.CHLD);
      // A marker sent after SIGCHLD: the init handles its signals in order.
      await init.signal(SIG.USR2);
      await rec.waitSignal('main', SIG.USR2, i + 1);
      await rec.waitSignal('grand', SIG.USR2, i + 1);
    }
    // One more marker alone: anything the init still had in hand has arrived by then.
    await init.signal(SIG.USR2);
    await rec.waitSignal('main', SIG.USR2, 4);
    await rec.waitSignal('grand', SIG.USR2, 4);
    expect(rec.log('main')).toEqual([SIG.USR2, SIG.USR2, SIG.USR2, SIG.USR2]);
    expect(rec.log('grand')).toEqual([SIG.USR2, SIG.USR2, SIG.USR2, SIG.USR2]);
    rec.release();
    expect(await init.exitCode()).toBe(0);
  });

  it('SIGUSR1 as the very first signal, right after start, is forwarded and opens no inspector port', async () => {
    const rec = new Recorder();
    const init = startInit({ mode, prog: rec.argv({ grandchild: true }) });
    await rec.ready(10_000, () => init.stderr());
    const initPid = await init.pid();
    await init.signal(SIG.USR1);
    await rec.waitSignal('main', SIG.USR1);
    await rec.waitSignal('grand', SIG.USR1);
    // Node's inspector would be listening within a few ms; give it generous time to show up.
    await sleep(300);
    expect(listeningSockets(initPid)).toEqual([]);
    expect(init.stderr()).toBe('');
    rec.release();
    expect(await init.exitCode()).toBe(0);
  });
});
