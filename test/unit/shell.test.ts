import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSupervisor, type Supervisor } from '../../src/supervisor/shell.js';
import type { CoreConfig } from '../../src/supervisor/core.js';
import { SIG } from '../../src/libc/signals.js';
import { exitedStatus, signaledStatus, WNOHANG } from '../../src/libc/types.js';
import { FakeLibc, type FakeProcess } from '../helpers/fake-libc.js';
import { installFakeClock, type FakeClock } from '../helpers/fake-clock.js';
import { recordingLogger, type RecordingLogger } from './support.js';

let clock: FakeClock;
beforeEach(() => {
  clock = installFakeClock();
});
afterEach(() => {
  clock.uninstall();
});

interface Harness {
  libc: FakeLibc;
  logger: RecordingLogger;
  child: FakeProcess;
  sup: Supervisor;
  exits: number[];
  /** The kill calls since start, as [pid, sig]. */
  kills(): [number, number][];
}

/** A supervisor over one spawned main child (in a group of its own), like runInit leaves it. */
function start(over: Partial<CoreConfig> = {}, onSignal?: FakeProcess['onSignal'], verbosity = 4): Harness {
  const libc = new FakeLibc();
  const pid = (libc.spawn({ argv: [Buffer.from('app')], newProcessGroup: true, foregroundTty: false, passFds: [0, 1, 2] }) as { value: number }).value;
  const child = libc.processes.get(pid)!;
  child.onSignal = onSignal;
  libc.calls.length = 0;
  const logger = recordingLogger(verbosity);
  const exits: number[] = [];
  const config: CoreConfig = { childPid: pid, graceMs: null, expectedCodes: new Set(), warnOnReap: false, ...over };
  const sup = startSupervisor(config, { libc, logger, now: () => clock.now(), exit: (code) => void exits.push(code) });
  return { libc, logger, child, sup, exits, kills: () => libc.callsOf('kill') as [number, number][] };
}

describe('reap loop', () => {
  it('drains thousands of zombies in one SIGCHLD', () => {
    const h = start({ warnOnReap: true });
    const orphans = Array.from({ length: 5000 }, () => h.libc.addProcess(1));
    for (const p of orphans) h.libc.exit(p.pid, exitedStatus(0));
    h.sup.onSignal(SIG.CHLD);
    expect(h.libc.pendingZombies()).toBe(0);
    expect(orphans.every((p) => p.state === 'reaped')).toBe(true);
    // 5000 reaps, then one call that finds nothing left ([0, 0]).
    expect(h.libc.callsOf('waitpid')).toHaveLength(5001);
    expect(h.libc.callsOf('waitpid').every(([pid, opts]) => pid === -1 && opts === WNOHANG)).toBe(true);
    expect(h.logger.messages('warn')).toHaveLength(5000);
    expect(h.logger.messages('warn')[0]).toBe(`Reaped zombie process with pid=${orphans[0].pid}`);
    expect(h.exits).toEqual([]);
    expect(h.sup.state.done).toBe(false);
  });

  it('exits once with the main child\'s code when it is in the middle of a batch', () => {
    const h = start();
    const before = Array.from({ length: 1000 }, () => h.libc.addProcess(1));
    for (const p of before) h.libc.exit(p.pid, exitedStatus(0));
    h.libc.exit(h.child.pid, exitedStatus(42));
    const after = Array.from({ length: 1000 }, () => h.libc.addProcess(1));
    for (const p of after) h.libc.exit(p.pid, exitedStatus(0));
    h.sup.onSignal(SIG.CHLD);
    expect(h.exits).toEqual([42]);
    expect(before.every((p) => p.state === 'reaped')).toBe(true);
    expect(h.sup.state.done).toBe(true);
    // Nothing more happens: more SIGCHLDs, signals and time bring no second exit and no kill.
    h.sup.onSignal(SIG.CHLD);
    h.sup.onSignal(SIG.TERM);
    clock.advance(60_000);
    expect(h.exits).toEqual([42]);
    expect(h.kills()).toEqual([]);
  });

  it('retries waitpid on EINTR', () => {
    const h = start();
    h.libc.exit(h.child.pid, exitedStatus(3));
    h.libc.failNext('waitpid', 'EINTR', 3);
    h.sup.onSignal(SIG.CHLD);
    expect(h.exits).toEqual([3]);
    expect(h.logger.messages('warn')).toEqual([]);
  });

  it('logs an unexpected waitpid error and goes on supervising', () => {
    const h = start();
    h.libc.exit(h.child.pid, exitedStatus(5));
    h.libc.failNext('waitpid', 'EINVAL');
    expect(() => h.sup.onSignal(SIG.CHLD)).not.toThrow();
    expect(h.logger.messages('warn')).toEqual(['waitpid failed: EINVAL']);
    expect(h.exits).toEqual([]);
    // The next SIGCHLD reaps as usual.
    h.sup.onSignal(SIG.CHLD);
    expect(h.exits).toEqual([5]);
  });

  it('ECHILD and "nothing to reap" end the pass quietly', () => {
    const h = start();
    h.sup.onSignal(SIG.CHLD); // main child still running: [0, 0]
    h.libc.failNext('waitpid', 'ECHILD');
    h.sup.onSignal(SIG.CHLD);
    expect(h.logger.messages('warn')).toEqual([]);
    expect(h.logger.messages('trace')).toEqual(['No child to reap', 'No child to wait']);
    expect(h.exits).toEqual([]);
  });

  it('reap() works without a signal (a SIGCHLD that came before the supervisor)', () => {
    const h = start();
    h.libc.exit(h.child.pid, signaledStatus(SIG.SEGV, true));
    h.sup.reap();
    expect(h.exits).toEqual([128 + SIG.SEGV]);
  });
});

describe('forwarding', () => {
  it('sends each signal to the child\'s group', () => {
    const h = start();
    const member = h.libc.addProcess(h.child.pid);
    h.sup.onSignal(SIG.HUP);
    h.sup.onSignal(SIG.WINCH);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.HUP], [-h.child.pid, SIG.WINCH]]);
    expect(h.child.received).toEqual([SIG.HUP, SIG.WINCH]);
    expect(member.received).toEqual([SIG.HUP, SIG.WINCH]);
  });

  it('falls back to the pid when the group is gone (ESRCH) but the child is not reaped', () => {
    const h = start();
    h.child.pgid = 4242; // the child moved to another group
    h.sup.onSignal(SIG.USR1);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.USR1], [h.child.pid, SIG.USR1]]);
    expect(h.child.received).toEqual([SIG.USR1]);
    expect(h.logger.messages('warn')).toEqual([]);
  });

  it('says the child was dead when both group and pid are gone', () => {
    const h = start();
    h.libc.failNext('kill', 'ESRCH', 2);
    h.sup.onSignal(SIG.USR2);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.USR2], [h.child.pid, SIG.USR2]]);
    expect(h.logger.messages('debug')).toContain('Child was dead when forwarding signal');
    expect(h.logger.messages('warn')).toEqual([]);
  });

  it('logs EPERM from kill and does not throw', () => {
    const h = start();
    h.libc.failAlways('kill', 'EPERM');
    expect(() => h.sup.onSignal(SIG.TERM)).not.toThrow();
    expect(h.logger.messages('warn')).toEqual([`kill(-${h.child.pid}, 15) failed: EPERM`]);
  });

  it('logs EPERM from the pid fallback', () => {
    const h = start();
    h.libc.failNext('kill', 'ESRCH').failNext('kill', 'EPERM');
    h.sup.onSignal(SIG.QUIT);
    expect(h.logger.messages('warn')).toEqual([`kill(${h.child.pid}, 3) failed: EPERM`]);
  });

  it('does not fall back to the pid once the main child is reaped (the pid may be reused)', () => {
    const h = start({ graceMs: 1000 }, (sig) => (sig === SIG.TERM ? exitedStatus(0) : undefined));
    const member = h.libc.addProcess(h.child.pid); // keeps the group alive while draining
    h.sup.onSignal(SIG.TERM);
    h.sup.onSignal(SIG.CHLD);
    member.pgid = 9999; // the group empties without the member exiting
    h.libc.calls.length = 0;
    h.sup.onSignal(SIG.HUP);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.HUP]]);
  });
});

describe('grace timer', () => {
  const ignoresTerm: FakeProcess['onSignal'] = () => undefined;

  it('SIGKILLs the group at the deadline, not before, then exits 137 once', () => {
    const h = start({ graceMs: 1000 }, ignoresTerm);
    const member = h.libc.addProcess(h.child.pid, ignoresTerm);
    h.sup.onSignal(SIG.TERM);
    clock.advance(999);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.TERM]]);
    clock.advance(1);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.TERM], [-h.child.pid, SIG.KILL]]);
    expect(h.child.state).toBe('zombie');
    expect(member.state).toBe('zombie');
    expect(h.logger.messages('warn')).toEqual(['Grace period of 1s over: sending SIGKILL to the process group']);
    h.sup.onSignal(SIG.CHLD);
    expect(h.exits).toEqual([137]);
    clock.advance(10_000);
    h.sup.onSignal(SIG.CHLD);
    expect(h.exits).toEqual([137]);
  });

  it('escalates even when the timer runs before the clock reaches the deadline', () => {
    const h = start({ graceMs: 1000 }, ignoresTerm);
    h.sup.onSignal(SIG.TERM);
    // Node times a timer from the loop's cached, whole-millisecond time, so it
    // can run while performance.now() is still short of the deadline.
    clock.lagMs = 1;
    clock.advance(1000);
    expect(h.kills()).not.toContainEqual([-h.child.pid, SIG.KILL]);
    clock.advance(5);
    expect(h.kills()).toContainEqual([-h.child.pid, SIG.KILL]);
  });

  it('no SIGKILL when the whole group exits during the grace period', () => {
    const h = start({ graceMs: 1000 }, (sig) => (sig === SIG.TERM ? exitedStatus(0) : undefined));
    h.sup.onSignal(SIG.TERM);
    h.sup.onSignal(SIG.CHLD);
    expect(h.exits).toEqual([0]);
    clock.advance(5000);
    expect(h.kills().filter(([, sig]) => sig !== 0)).toEqual([[-h.child.pid, SIG.TERM]]);
    expect(h.exits).toEqual([0]);
  });

  it('waits for the rest of the group after the main child exits, and exits when it is empty', () => {
    const h = start({ graceMs: 1000 }, (sig) => (sig === SIG.TERM ? exitedStatus(7) : undefined));
    const worker = h.libc.addProcess(h.child.pid, ignoresTerm); // finishes its work first
    h.sup.onSignal(SIG.TERM);
    h.sup.onSignal(SIG.CHLD);
    expect(h.child.state).toBe('reaped');
    expect(h.exits).toEqual([]);
    clock.advance(300);
    expect(h.exits).toEqual([]);
    h.libc.exit(worker.pid, exitedStatus(0));
    h.sup.onSignal(SIG.CHLD);
    clock.advance(50);
    expect(h.exits).toEqual([7]);
    expect(h.kills()).not.toContainEqual([-h.child.pid, SIG.KILL]);
    clock.advance(5000);
    expect(h.exits).toEqual([7]);
  });

  it('SIGKILLs what is left of the group at the deadline, and exits with the main child\'s code', () => {
    const h = start({ graceMs: 1000 }, (sig) => (sig === SIG.TERM ? exitedStatus(7) : undefined));
    const stubborn = h.libc.addProcess(h.child.pid, ignoresTerm);
    h.sup.onSignal(SIG.TERM);
    clock.advance(100);
    h.sup.onSignal(SIG.CHLD);
    clock.advance(899);
    expect(h.exits).toEqual([]);
    expect(stubborn.received).toEqual([SIG.TERM]);
    clock.advance(21);
    expect(stubborn.received).toEqual([SIG.TERM, SIG.KILL]);
    expect(h.exits).toEqual([7]);
    clock.advance(5000);
    expect(h.exits).toEqual([7]);
  });

  it('other signals start no timer', () => {
    const h = start({ graceMs: 1000 }, ignoresTerm);
    h.sup.onSignal(SIG.USR1);
    h.sup.onSignal(SIG.HUP);
    clock.advance(10_000);
    expect(h.kills().map(([, sig]) => sig)).toEqual([SIG.USR1, SIG.HUP]);
  });

  it('stops keeping the event loop alive once it exits', () => {
    const h = start();
    expect(clock.pendingTimers()).toBe(1);
    h.libc.exit(h.child.pid, exitedStatus(0));
    h.sup.onSignal(SIG.CHLD);
    expect(h.exits).toEqual([0]);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe("tini's DEBUG lines", () => {
  it('names each forwarded signal and each reaped child at debug', () => {
    const h = start();
    h.sup.onSignal(SIG.USR1);
    h.sup.onSignal(36);
    const orphan = h.libc.addProcess(1);
    h.libc.exit(orphan.pid, exitedStatus(0));
    h.sup.onSignal(SIG.CHLD);
    expect(h.logger.messages('debug')).toEqual(expect.arrayContaining([
      "Passing signal: 'SIGUSR1'", "Passing signal: 'SIGRTMIN+2'", `Reaped child with pid: '${orphan.pid}'`,
    ]));
  });

  it('writes none below verbosity 3', () => {
    const h = start({}, undefined, 2);
    h.sup.onSignal(SIG.USR1);
    const orphan = h.libc.addProcess(1);
    h.libc.exit(orphan.pid, exitedStatus(0));
    h.sup.onSignal(SIG.CHLD);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.USR1]]);
    expect(h.logger.messages('debug')).toEqual([]);
  });
});

describe('stopping', () => {
  const ignoresTerm: FakeProcess['onSignal'] = () => undefined;

  it('--stop-delay: SIGTERM reaches the group only after the delay; the grace period counts from there', () => {
    const h = start({ stopDelayMs: 3000, graceMs: 1000 }, ignoresTerm);
    h.sup.onSignal(SIG.TERM);
    h.sup.onSignal(SIG.USR1);
    clock.advance(2999);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.USR1]]);
    clock.advance(1);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.USR1], [-h.child.pid, SIG.TERM]]);
    clock.advance(999);
    expect(h.kills()).not.toContainEqual([-h.child.pid, SIG.KILL]);
    clock.advance(1);
    expect(h.kills()).toContainEqual([-h.child.pid, SIG.KILL]);
    h.sup.onSignal(SIG.CHLD);
    expect(h.exits).toEqual([137]);
  });

  it('--stop-delay: a second SIGTERM forwards at once, and only once', () => {
    const h = start({ stopDelayMs: 3000 }, (sig) => (sig === SIG.TERM ? signaledStatus(SIG.TERM) : undefined));
    h.sup.onSignal(SIG.TERM);
    clock.advance(100);
    h.sup.onSignal(SIG.TERM);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.TERM]]);
    h.sup.onSignal(SIG.CHLD);
    expect(h.exits).toEqual([143]);
    clock.advance(10_000);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.TERM]]);
  });

  it('--timeout: SIGTERM at the time, SIGKILL after the grace period', () => {
    const h = start({ timeoutMs: 5000, graceMs: 2000 }, ignoresTerm);
    clock.advance(4999);
    expect(h.kills()).toEqual([]);
    clock.advance(1);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.TERM]]);
    expect(h.logger.messages('warn')).toEqual(['Timeout of 5s reached: sending SIGTERM to the process group']);
    clock.advance(2000);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.TERM], [-h.child.pid, SIG.KILL]]);
    h.sup.onSignal(SIG.CHLD);
    expect(h.exits).toEqual([137]);
  });

  it('--map: USR1 reaches the group as USR2, HUP not at all', () => {
    const h = start({ signalMap: new Map([[SIG.USR1, SIG.USR2], [SIG.HUP, null]]) });
    h.sup.onSignal(SIG.USR1);
    h.sup.onSignal(SIG.HUP);
    expect(h.kills()).toEqual([[-h.child.pid, SIG.USR2]]);
    expect(h.child.state).toBe('running');
  });
});
