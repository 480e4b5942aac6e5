import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DRAIN_POLL_MS,
  describeEnd,
  describeMemory,
  describeStatus,
  describeStop,
  execFailureCode,
  exitCodeFor,
  initialState,
  signalHandling,
  step,
  TIMEOUT_GRACE_MS,
  STAGE_SHARE,
  type Action,
  type CoreConfig,
  type Fact,
  type State,
  type TimerKind,
} from '../../src/supervisor/core.js';
import { forwardableSignals, SIG, SIGRTMAX } from '../../src/libc/signals.js';
import { exitedStatus, signaledStatus } from '../../src/libc/types.js';

const CHILD = 100;

function config(over: Partial<CoreConfig> = {}): CoreConfig {
  return { childPid: CHILD, graceMs: null, expectedCodes: new Set(), warnOnReap: false, ...over };
}

/** Feeds facts in order; returns the final state and every action, per fact. */
function run(cfg: CoreConfig, facts: Fact[]): { state: State; steps: (readonly Action[])[] } {
  let state = initialState(cfg);
  const steps: (readonly Action[])[] = [];
  for (const f of facts) {
    const next = step(state, f);
    state = next.state;
    steps.push(next.actions);
  }
  return { state, steps };
}

const kinds = (actions: readonly Action[]) => actions.map((a) => a.kind);
const without = (actions: readonly Action[], kind: Action['kind']) => actions.filter((a) => a.kind !== kind);
const signal = (sig: number, now = 0): Fact => ({ kind: 'signal', sig, now });
const reaped = (pid: number, status: number, now = 0): Fact => ({ kind: 'reaped', pid, status, now });
const timer = (now: number, which: TimerKind = 'grace'): Fact => ({ kind: 'timer', which, now });
const checked = (alive: boolean, now: number): Fact => ({ kind: 'group-checked', alive, now });

describe('forwarding table', () => {
  it('forwards every forwardable signal to the process group, with the pid as fallback', () => {
    for (const sig of forwardableSignals()) {
      const { steps } = run(config(), [signal(sig)]);
      const forwards = steps[0].filter((a) => a.kind === 'forward');
      expect(forwards, `signal ${sig}`).toEqual([{ kind: 'forward', sig, pgid: CHILD, pid: CHILD, received: sig, cause: 'signal' }]);
    }
  });

  it('is tini\'s set: everything but CHLD, KILL, STOP, TTIN, TTOU, the kernel signals and 32/33', () => {
    const table = forwardableSignals();
    const excluded = [SIG.CHLD, SIG.KILL, SIG.STOP, SIG.TTIN, SIG.TTOU, SIG.FPE, SIG.ILL, SIG.SEGV, SIG.BUS, SIG.ABRT, SIG.TRAP, SIG.SYS, 32, 33];
    for (const sig of excluded) expect(table).not.toContain(sig);
    for (const sig of [SIG.HUP, SIG.INT, SIG.QUIT, SIG.USR1, SIG.USR2, SIG.PIPE, SIG.ALRM, SIG.TERM, SIG.CONT, SIG.TSTP, SIG.WINCH, 34, 50, SIGRTMAX]) {
      expect(table).toContain(sig);
    }
    expect(table).toHaveLength(64 - excluded.length);
    expect(new Set(table).size).toBe(table.length);
  });

  it('never forwards SIGCHLD and does nothing for it', () => {
    const { state, steps } = run(config({ graceMs: 1000 }), [signal(SIG.CHLD, 5)]);
    expect(steps[0]).toEqual([]);
    expect(state).toEqual(initialState(config({ graceMs: 1000 })));
  });

  it('forwards with nothing before it and no text to build (the latency-critical path)', () => {
    const { steps } = run(config(), [signal(SIG.USR1), signal(36)]);
    expect(steps[0]).toEqual([{ kind: 'forward', sig: SIG.USR1, pgid: CHILD, pid: CHILD, received: SIG.USR1, cause: 'signal' }]);
    expect(steps[1]).toEqual([{ kind: 'forward', sig: 36, pgid: CHILD, pid: CHILD, received: 36, cause: 'signal' }]);
  });
});

describe('grace timer', () => {
  it.each([SIG.TERM, SIG.INT])('starts on signal %i: deadline = now + grace', (sig) => {
    const { state, steps } = run(config({ graceMs: 5000 }), [signal(sig, 1234)]);
    expect(steps[0]).toContainEqual({ kind: 'arm-timer', which: 'grace', at: 6234 });
    expect(kinds(steps[0]).indexOf('forward')).toBeLessThan(kinds(steps[0]).indexOf('arm-timer'));
    expect(state.deadline).toBe(6234);
  });

  it('does not start on any other signal', () => {
    for (const sig of forwardableSignals().filter((s) => s !== SIG.TERM && s !== SIG.INT)) {
      const { state, steps } = run(config({ graceMs: 5000 }), [signal(sig, 10)]);
      expect(kinds(steps[0]), `signal ${sig}`).not.toContain('arm-timer');
      expect(state.deadline).toBeNull();
    }
  });

  it('starts only once: a later SIGTERM or SIGINT is forwarded but keeps the first deadline', () => {
    const { state, steps } = run(config({ graceMs: 5000 }), [signal(SIG.TERM, 0), signal(SIG.INT, 100), signal(SIG.TERM, 200)]);
    expect(kinds(steps[0])).toContain('arm-timer');
    for (const s of steps.slice(1)) {
      expect(kinds(s)).toContain('forward');
      expect(kinds(s)).not.toContain('arm-timer');
    }
    expect(state.deadline).toBe(5000);
  });

  it('never starts without a grace period', () => {
    const { state, steps } = run(config({ graceMs: null }), [signal(SIG.TERM, 0), signal(SIG.INT, 1)]);
    expect(steps.flat().filter((a) => a.kind === 'arm-timer')).toEqual([]);
    expect(state.deadline).toBeNull();
  });

  it('a grace of 0 escalates at the time of the signal', () => {
    const { steps } = run(config({ graceMs: 0 }), [signal(SIG.TERM, 50), timer(50)]);
    expect(steps[0]).toContainEqual({ kind: 'arm-timer', which: 'grace', at: 50 });
    expect(kinds(steps[1])).toContain('escalate');
  });
});

describe('escalation', () => {
  it('sends SIGKILL to the group at the deadline, not before', () => {
    const cfg = config({ graceMs: 1000 });
    const before = run(cfg, [signal(SIG.TERM, 0), timer(999.9)]);
    expect(kinds(before.steps[1])).not.toContain('escalate');
    expect(before.state.escalated).toBe(false);

    const at = run(cfg, [signal(SIG.TERM, 0), timer(1000)]);
    expect(at.steps[1]).toContainEqual({ kind: 'escalate', pgid: CHILD, pid: CHILD });
    expect(at.steps[1]).toContainEqual({ kind: 'log', level: 'warn', message: 'Grace period of 1s over: sending SIGKILL to the process group' });
    expect(at.state.escalated).toBe(true);
    expect(at.state.done).toBe(false); // the main child has not been reaped yet
  });

  it('re-arms a timer that fired early (Node timers may), then escalates at the deadline', () => {
    const { steps } = run(config({ graceMs: 1000 }), [signal(SIG.TERM, 0), timer(999), timer(1000)]);
    expect(steps[1]).toEqual([{ kind: 'arm-timer', which: 'grace', at: 1000 }]);
    expect(kinds(steps[2])).toContain('escalate');
  });

  it('escalates once: later timers and signals do not re-arm or re-escalate', () => {
    const { steps } = run(config({ graceMs: 1000 }), [signal(SIG.TERM, 0), timer(1000), timer(2000), signal(SIG.TERM, 2100)]);
    expect(steps[2]).toEqual([]);
    expect(kinds(steps[3])).toEqual(['forward']);
  });

  it('a timer with no deadline does nothing', () => {
    const { steps } = run(config({ graceMs: 1000 }), [timer(5000)]);
    expect(steps[0]).toEqual([]);
  });

  it('after the escalation, the main child\'s death exits at once with 128+9', () => {
    const { state, steps } = run(config({ graceMs: 1000 }), [signal(SIG.TERM, 0), timer(1000), reaped(CHILD, signaledStatus(SIG.KILL), 1001)]);
    const stop = { cause: 'signal', received: SIG.TERM, sig: SIG.TERM, afterMs: 1001, killed: true, timeoutMs: null };
    expect(steps[2]).toContainEqual({ kind: 'exit', code: 137, reason: 'child-signaled', status: signaledStatus(SIG.KILL), stop });
    expect(steps[2]).toContainEqual({ kind: 'log', level: 'warn', message: 'stopped by SIGTERM after 1.0s; SIGKILL needed: yes' });
    expect(state.done).toBe(true);
  });
});

describe('exit codes', () => {
  it('the main child\'s exit code, for every code', () => {
    for (let code = 0; code <= 255; code++) {
      const { steps } = run(config(), [reaped(CHILD, exitedStatus(code))]);
      expect(steps[0]).toContainEqual({ kind: 'exit', code, reason: 'child-exited', status: exitedStatus(code) });
    }
  });

  it('128+N for a death by signal N, core dump or not', () => {
    for (let sig = 1; sig <= 64; sig++) {
      expect(exitCodeFor(signaledStatus(sig), new Set())).toBe(128 + sig);
      expect(exitCodeFor(signaledStatus(sig, true), new Set())).toBe(128 + sig);
    }
    const { steps } = run(config(), [reaped(CHILD, signaledStatus(SIG.TERM))]);
    expect(steps[0]).toContainEqual({ kind: 'exit', code: 143, reason: 'child-signaled', status: signaledStatus(SIG.TERM) });
  });

  it('keeps 128+N within a byte (modulo 256), up to the largest signal field', () => {
    // The status has 7 bits for the signal and 0x7f means "stopped": 126 is the largest death.
    expect(exitCodeFor(signaledStatus(126), new Set())).toBe(254);
    expect(exitCodeFor(signaledStatus(126, true), new Set([254]))).toBe(0);
  });

  it('a status that is neither exit nor death (stopped) gives 1', () => {
    expect(exitCodeFor(0x137f, new Set())).toBe(1);
  });

  it('-e turns the listed codes into 0, after the 128+N mapping, and leaves others alone', () => {
    const expected = new Set([143, 127, 3]);
    expect(exitCodeFor(signaledStatus(SIG.TERM), expected)).toBe(0);
    expect(exitCodeFor(exitedStatus(143), expected)).toBe(0);
    expect(exitCodeFor(exitedStatus(127), expected)).toBe(0);
    expect(exitCodeFor(exitedStatus(3), expected)).toBe(0);
    expect(exitCodeFor(exitedStatus(4), expected)).toBe(4);
    expect(exitCodeFor(signaledStatus(SIG.KILL), expected)).toBe(137);
    expect(exitCodeFor(exitedStatus(0), new Set([0]))).toBe(0);
    const { steps } = run(config({ expectedCodes: expected }), [reaped(CHILD, signaledStatus(SIG.TERM))]);
    expect(steps[0]).toContainEqual({ kind: 'exit', code: 0, reason: 'child-signaled', status: signaledStatus(SIG.TERM) });
  });

  it('exit codes are always 0..255', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.uniqueArray(fc.integer({ min: 0, max: 255 })), (status, codes) => {
        const code = exitCodeFor(status, new Set(codes));
        return Number.isInteger(code) && code >= 0 && code <= 255;
      }),
      { numRuns: 2000 },
    );
  });

  it('describes statuses for the log', () => {
    expect(describeStatus(exitedStatus(3))).toBe('exited with status 3');
    expect(describeStatus(signaledStatus(SIG.SEGV, true))).toBe('was killed by SIGSEGV (core dumped)');
    expect(describeStatus(signaledStatus(SIG.KILL))).toBe('was killed by SIGKILL');
  });
});

describe('execFailureCode', () => {
  it.each([
    ['ENOENT', 127],
    ['ENOTDIR', 127],
    ['EACCES', 126],
    ['EPERM', 126],
    ['EISDIR', 126],
    ['ENOEXEC', 126],
    ['EIO', 1],
    ['E2BIG', 1],
    ['ENOMEM', 1],
  ])('%s -> %i', (errno, code) => {
    expect(execFailureCode(errno, new Set())).toBe(code);
  });

  it('-e applies to it too (tini -e 127 -- /nonexistent exits 0)', () => {
    expect(execFailureCode('ENOENT', new Set([127]))).toBe(0);
    expect(execFailureCode('EACCES', new Set([126]))).toBe(0);
    expect(execFailureCode('EIO', new Set([1]))).toBe(0);
    expect(execFailureCode('ENOENT', new Set([126]))).toBe(127);
  });
});

describe('main child exit', () => {
  it('exits at once when there is no shutdown in progress, even with a grace period configured', () => {
    const { state, steps } = run(config({ graceMs: 5000 }), [reaped(CHILD, exitedStatus(4), 10)]);
    expect(kinds(steps[0])).toEqual(['log', 'exit']);
    expect(steps[0][0]).toEqual({ kind: 'log', level: 'info', message: 'Main child exited with status 4' });
    expect(state.done).toBe(true);
    expect(state.mainStatus).toBe(exitedStatus(4));
  });
});

describe('drain during the grace period', () => {
  const cfg = config({ graceMs: 1000 });
  const start = [signal(SIG.TERM, 0), reaped(CHILD, exitedStatus(0), 100)];

  it('waits for the group when the main child exits during the grace period', () => {
    const { state, steps } = run(cfg, start);
    expect(steps[1]).toContainEqual({ kind: 'check-group', pgid: CHILD, pollMs: DRAIN_POLL_MS });
    expect(kinds(steps[1])).not.toContain('exit');
    expect(state.done).toBe(false);
  });

  it('keeps polling while the group is alive before the deadline', () => {
    const { state, steps } = run(cfg, [...start, checked(true, 120), checked(true, 999)]);
    expect(steps[2]).toEqual([{ kind: 'check-group', pgid: CHILD, pollMs: DRAIN_POLL_MS }]);
    expect(steps[3]).toEqual([{ kind: 'check-group', pgid: CHILD, pollMs: DRAIN_POLL_MS }]);
    expect(state.done).toBe(false);
  });

  it('exits with the main child\'s code, and no SIGKILL, once the group is empty', () => {
    const { state, steps } = run(cfg, [...start, checked(true, 120), checked(false, 140)]);
    const stop = { cause: 'signal', received: SIG.TERM, sig: SIG.TERM, afterMs: 140, killed: false, timeoutMs: null };
    expect(steps[3]).toEqual([
      { kind: 'log', level: 'warn', message: 'stopped by SIGTERM after 0.1s; SIGKILL needed: no' },
      { kind: 'exit', code: 0, reason: 'child-exited', status: exitedStatus(0), stop },
    ]);
    expect(state.done).toBe(true);
  });

  it('with stopLine false (tini-ts run, whose launcher reports the end), the same exit without a line of its own', () => {
    const { steps } = run({ ...cfg, stopLine: false }, [...start, checked(true, 120), checked(false, 140)]);
    expect(kinds(steps[3])).toEqual(['exit']);
  });

  it('SIGKILLs the group if it is still alive at the deadline, then exits with the main child\'s code', () => {
    const { state, steps } = run(cfg, [...start, checked(true, 1000)]);
    expect(kinds(steps[2])).toEqual(['escalate', 'log', 'exit']);
    expect(steps[2][2]).toMatchObject({ kind: 'exit', code: 0 });
    expect(state.done).toBe(true);
  });

  it('the grace timer at the deadline escalates and exits too', () => {
    const { state, steps } = run(cfg, [...start, checked(true, 120), timer(1000)]);
    expect(kinds(without(steps[3], 'log'))).toEqual(['escalate', 'exit']);
    expect(state.done).toBe(true);
  });

  it('ignores a group check before the main child is reaped', () => {
    const { steps } = run(cfg, [signal(SIG.TERM, 0), checked(false, 10)]);
    expect(steps[1]).toEqual([]);
  });
});

describe('after exit', () => {
  it('no fact produces an action once done', () => {
    const cfg = config({ graceMs: 1000, warnOnReap: true });
    const { state } = run(cfg, [reaped(CHILD, exitedStatus(1))]);
    expect(state.done).toBe(true);
    const facts: Fact[] = [signal(SIG.TERM, 5), signal(SIG.HUP, 5), reaped(CHILD, 0, 6), reaped(555, 0, 6), checked(true, 7), checked(false, 7), timer(5000)];
    for (const f of facts) {
      const next = step(state, f);
      expect(next.actions, f.kind).toEqual([]);
      expect(next.state).toBe(state);
    }
  });
});

describe('reaping other processes', () => {
  it('does nothing for an orphan, and warns only with -w', () => {
    const quiet = run(config(), [reaped(555, exitedStatus(0))]);
    expect(quiet.steps[0]).toEqual([]);
    const loud = run(config({ warnOnReap: true }), [reaped(555, exitedStatus(0))]);
    expect(loud.steps[0]).toContainEqual({ kind: 'log', level: 'warn', message: 'Reaped zombie process with pid=555' });
    expect(loud.state.done).toBe(false);
  });
});

const fwd = (sig: number, received: number | null, cause: string) => ({ kind: 'forward', sig, pgid: CHILD, pid: CHILD, received, cause });
const started = (now = 0): Fact => ({ kind: 'started', now });

describe('--map', () => {
  const map = new Map<number, number | null>([[SIG.USR1, SIG.USR2], [SIG.HUP, null], [SIG.TERM, SIG.QUIT]]);

  it('rewrites a received signal before forwarding it, and says what was received', () => {
    const { steps } = run(config({ signalMap: map }), [signal(SIG.USR1)]);
    expect(steps[0]).toEqual([fwd(SIG.USR2, SIG.USR1, 'mapped')]);
  });

  it('drops a signal mapped to ignore: no action at all', () => {
    const { state, steps } = run(config({ signalMap: map, graceMs: 1000 }), [signal(SIG.HUP)]);
    expect(steps[0]).toEqual([]);
    expect(state.stop).toBeNull();
    expect(signalHandling(state, SIG.HUP)).toBe('ignored');
  });

  it('leaves signals that are not in the map alone', () => {
    const { steps } = run(config({ signalMap: map }), [signal(SIG.USR2), signal(SIG.WINCH)]);
    expect(steps).toEqual([[fwd(SIG.USR2, SIG.USR2, 'signal')], [fwd(SIG.WINCH, SIG.WINCH, 'signal')]]);
  });

  it('a received SIGTERM mapped to SIGQUIT is still the stop: the grace period starts', () => {
    const { state, steps } = run(config({ signalMap: map, graceMs: 1000 }), [signal(SIG.TERM, 10)]);
    expect(steps[0][0]).toEqual(fwd(SIG.QUIT, SIG.TERM, 'mapped'));
    expect(steps[0]).toContainEqual({ kind: 'grace', sig: SIG.QUIT, graceMs: 1000, at: 1010 });
    expect(state.stop).toEqual({ cause: 'signal', received: SIG.TERM, sig: SIG.QUIT, requestedAt: 10, sentAt: 10 });
  });

  it('a signal mapped to SIGTERM starts the grace period too', () => {
    const { state } = run(config({ signalMap: new Map([[SIG.USR1, SIG.TERM]]), graceMs: 1000 }), [signal(SIG.USR1, 5)]);
    expect(state.deadline).toBe(1005);
  });

  it('a SIGTERM mapped to ignore is no stop at all', () => {
    const { state, steps } = run(config({ signalMap: new Map([[SIG.TERM, null]]), graceMs: 1000, stopDelayMs: 500 }), [signal(SIG.TERM, 5)]);
    expect(steps[0]).toEqual([]);
    expect(state.deadline).toBeNull();
    expect(state.pendingStop).toBeNull();
  });
});

describe('--stop-delay', () => {
  const cfg = config({ stopDelayMs: 3000, graceMs: 1000 });

  it.each([SIG.TERM, SIG.INT])('holds signal %i back for the delay: nothing is forwarded, a timer is armed', (sig) => {
    const { state, steps } = run(cfg, [signal(sig, 100)]);
    expect(kinds(steps[0])).toEqual(['stop-delay', 'log', 'arm-timer']);
    expect(steps[0][0]).toEqual({ kind: 'stop-delay', sig, received: sig, delayMs: 3000, at: 3100 });
    expect(steps[0][2]).toEqual({ kind: 'arm-timer', which: 'stop-delay', at: 3100 });
    expect(state.deadline).toBeNull();
    expect(state.stop).toBeNull();
  });

  it('forwards at the end of the delay, and the grace period starts then', () => {
    const { state, steps } = run(cfg, [signal(SIG.TERM, 100), timer(3100, 'stop-delay')]);
    expect(steps[1][0]).toEqual(fwd(SIG.TERM, SIG.TERM, 'stop-delay'));
    expect(steps[1]).toContainEqual({ kind: 'arm-timer', which: 'grace', at: 4100 });
    expect(state.deadline).toBe(4100);
    expect(state.stop).toEqual({ cause: 'signal', received: SIG.TERM, sig: SIG.TERM, requestedAt: 100, sentAt: 3100 });
  });

  it('a timer that fires early waits again', () => {
    const { steps } = run(cfg, [signal(SIG.TERM, 100), timer(3099, 'stop-delay'), timer(3100, 'stop-delay')]);
    expect(steps[1]).toEqual([{ kind: 'arm-timer', which: 'stop-delay', at: 3100 }]);
    expect(steps[2][0]).toEqual(fwd(SIG.TERM, SIG.TERM, 'stop-delay'));
  });

  it('a second stop signal during the delay is forwarded at once; the delay\'s timer then does nothing', () => {
    const { state, steps } = run(cfg, [signal(SIG.TERM, 100), signal(SIG.INT, 500), timer(3100, 'stop-delay')]);
    expect(steps[1][0]).toEqual(fwd(SIG.INT, SIG.INT, 'signal'));
    expect(steps[1]).toContainEqual({ kind: 'arm-timer', which: 'grace', at: 1500 });
    expect(steps[2]).toEqual([]);
    expect(state.stop).toMatchObject({ requestedAt: 100, sentAt: 500 });
  });

  it('other signals are forwarded at once during the delay', () => {
    const { steps } = run(cfg, [signal(SIG.TERM, 100), signal(SIG.USR1, 200)]);
    expect(steps[1]).toEqual([fwd(SIG.USR1, SIG.USR1, 'signal')]);
  });

  it('applies once: a stop signal after the stop was forwarded goes at once', () => {
    const { steps } = run(cfg, [signal(SIG.TERM, 0), timer(3000, 'stop-delay'), signal(SIG.TERM, 3200)]);
    expect(steps[2]).toEqual([fwd(SIG.TERM, SIG.TERM, 'signal')]);
  });

  it('the main child exiting during the delay ends the init at once', () => {
    const { state, steps } = run(cfg, [signal(SIG.TERM, 0), reaped(CHILD, exitedStatus(0), 10), timer(3000, 'stop-delay')]);
    expect(kinds(steps[1])).toEqual(['log', 'exit']);
    expect(state.done).toBe(true);
    expect(steps[2]).toEqual([]);
  });

  it('reports the signal as delayed while it waits, forwarded for the second one', () => {
    const s0 = initialState(cfg);
    expect(signalHandling(s0, SIG.TERM)).toBe('delayed');
    expect(signalHandling(s0, SIG.USR1)).toBe('forward');
    expect(signalHandling(s0, SIG.CHLD)).toBe('reap');
    const s1 = step(s0, signal(SIG.TERM, 0)).state;
    expect(signalHandling(s1, SIG.TERM)).toBe('forward');
  });

  it('without a grace period, forwards after the delay and arms nothing else', () => {
    const { state, steps } = run(config({ stopDelayMs: 2000 }), [signal(SIG.TERM, 0), timer(2000, 'stop-delay')]);
    expect(steps[1]).toEqual([fwd(SIG.TERM, SIG.TERM, 'stop-delay')]);
    expect(state.deadline).toBeNull();
  });

  it('the mapped signal is what is held back and sent', () => {
    const { steps } = run(config({ stopDelayMs: 2000, signalMap: new Map([[SIG.TERM, SIG.QUIT]]) }), [signal(SIG.TERM, 0), timer(2000, 'stop-delay')]);
    expect(steps[0][0]).toEqual({ kind: 'stop-delay', sig: SIG.QUIT, received: SIG.TERM, delayMs: 2000, at: 2000 });
    expect(steps[1]).toEqual([fwd(SIG.QUIT, SIG.TERM, 'stop-delay')]);
  });
});

describe('--timeout', () => {
  it('arms its timer when the child starts', () => {
    const { state, steps } = run(config({ timeoutMs: 60_000 }), [started(5)]);
    expect(steps[0]).toEqual([{ kind: 'arm-timer', which: 'timeout', at: 60_005 }]);
    expect(state.timeoutAt).toBe(60_005);
    expect(run(config(), [started(5)]).steps[0]).toEqual([]);
  });

  it('at the time: SIGTERM to the group, the grace period, then SIGKILL at the deadline', () => {
    const { state, steps } = run(config({ timeoutMs: 5000, graceMs: 2000 }), [started(0), timer(5000, 'timeout'), timer(7000)]);
    expect(kinds(steps[1])).toEqual(['timeout', 'log', 'forward', 'log', 'grace', 'arm-timer']);
    expect(steps[1][0]).toEqual({ kind: 'timeout', timeoutMs: 5000, sig: SIG.TERM });
    expect(steps[1][2]).toEqual(fwd(SIG.TERM, null, 'timeout'));
    expect(steps[1][5]).toEqual({ kind: 'arm-timer', which: 'grace', at: 7000 });
    expect(kinds(steps[2])).toContain('escalate');
    expect(state.stop).toEqual({ cause: 'timeout', received: null, sig: SIG.TERM, requestedAt: 5000, sentAt: 5000 });
  });

  it(`without --grace, the group gets ${TIMEOUT_GRACE_MS / 1000}s after the timeout's SIGTERM`, () => {
    const { state } = run(config({ timeoutMs: 5000 }), [started(0), timer(5000, 'timeout')]);
    expect(state.deadline).toBe(5000 + TIMEOUT_GRACE_MS);
  });

  it('not before its time (a timer that fires early waits again)', () => {
    const { steps } = run(config({ timeoutMs: 5000 }), [started(0), timer(4999, 'timeout')]);
    expect(steps[1]).toEqual([{ kind: 'arm-timer', which: 'timeout', at: 5000 }]);
  });

  it('does nothing once a stop signal was forwarded', () => {
    const { steps } = run(config({ timeoutMs: 5000, graceMs: 10_000 }), [started(0), signal(SIG.TERM, 100), timer(5000, 'timeout')]);
    expect(steps[2]).toEqual([]);
  });

  it('cuts a stop delay short: the timeout\'s SIGTERM goes at once', () => {
    const { state, steps } = run(config({ timeoutMs: 5000, stopDelayMs: 10_000 }), [started(0), signal(SIG.TERM, 4000), timer(5000, 'timeout'), timer(14_000, 'stop-delay')]);
    expect(steps[2]).toContainEqual(fwd(SIG.TERM, null, 'timeout'));
    expect(state.pendingStop).toBeNull();
    expect(steps[3]).toEqual([]);
  });

  it('sends what --map makes of SIGTERM, and SIGTERM when it is mapped to ignore', () => {
    const quit = run(config({ timeoutMs: 5, signalMap: new Map([[SIG.TERM, SIG.QUIT]]) }), [started(0), timer(5, 'timeout')]);
    expect(quit.steps[1]).toContainEqual(fwd(SIG.QUIT, null, 'timeout'));
    const ignored = run(config({ timeoutMs: 5, signalMap: new Map([[SIG.TERM, null]]) }), [started(0), timer(5, 'timeout')]);
    expect(ignored.steps[1]).toContainEqual(fwd(SIG.TERM, null, 'timeout'));
  });

  it('the main child exiting first ends the init; the timer then does nothing', () => {
    const { steps } = run(config({ timeoutMs: 5000 }), [started(0), reaped(CHILD, exitedStatus(0), 10), timer(5000, 'timeout')]);
    expect(kinds(steps[1])).toEqual(['log', 'exit']);
    expect(steps[2]).toEqual([]);
  });
});

describe('why it ended', () => {
  it('no stop: the exit carries none and nothing more is logged', () => {
    const { steps } = run(config({ graceMs: 1000 }), [reaped(CHILD, exitedStatus(3), 10)]);
    expect(steps[0]).toEqual([
      { kind: 'log', level: 'info', message: 'Main child exited with status 3' },
      { kind: 'exit', code: 3, reason: 'child-exited', status: exitedStatus(3) },
    ]);
  });

  it('a stop: one warn line (shown at the default verbosity) before the exit, timed from the signal\'s arrival', () => {
    const { steps } = run(config({ stopDelayMs: 1000 }), [signal(SIG.TERM, 0), timer(1000, 'stop-delay'), reaped(CHILD, signaledStatus(SIG.TERM), 1234)]);
    expect(steps[2].slice(1)).toEqual([
      { kind: 'log', level: 'warn', message: 'stopped by SIGTERM after 1.2s; SIGKILL needed: no' },
      { kind: 'exit', code: 143, reason: 'child-signaled', status: signaledStatus(SIG.TERM), stop: { cause: 'signal', received: SIG.TERM, sig: SIG.TERM, afterMs: 1234, killed: false, timeoutMs: null } },
    ]);
  });

  it('says what a mapped stop was sent as, and names the timeout', () => {
    expect(describeStop({ cause: 'signal', received: SIG.TERM, sig: SIG.QUIT, afterMs: 50, killed: false, timeoutMs: null })).toBe('stopped by SIGTERM (sent as SIGQUIT) after 0.1s; SIGKILL needed: no');
    const { steps } = run(config({ timeoutMs: 60_000, graceMs: 500 }), [started(0), timer(60_000, 'timeout'), timer(60_500), reaped(CHILD, signaledStatus(SIG.KILL), 60_501)]);
    expect(steps[3]).toContainEqual({ kind: 'log', level: 'warn', message: 'stopped by the timeout of 60s after 0.5s; SIGKILL needed: yes' });
  });

  it('the termination message: the stop, then how the program ended', () => {
    const stop = { cause: 'signal' as const, received: SIG.TERM, sig: SIG.TERM, afterMs: 2000, killed: true, timeoutMs: null };
    expect(describeEnd(signaledStatus(SIG.KILL), stop)).toBe('stopped by SIGTERM after 2.0s; SIGKILL needed: yes; the program was killed by SIGKILL');
    expect(describeEnd(exitedStatus(3), undefined)).toBe('the program exited with status 3');
    expect(describeEnd(signaledStatus(SIG.SEGV, true), undefined)).toBe('the program was killed by SIGSEGV (core dumped)');
  });
});

const scanned = (purpose: 'others' | 'drain' | 'kill', procs: { pid: number; pgid: number; comm: string }[] | null, now: number): Fact => ({ kind: 'scanned', purpose, procs, now });

describe('--stop-scope all', () => {
  const cfg = config({ graceMs: 1000, stopScope: 'all' });
  const daemon = { pid: 300, pgid: 300, comm: 'daemon' };
  const worker = { pid: 101, pgid: CHILD, comm: 'worker' };
  const main = { pid: CHILD, pgid: CHILD, comm: 'app' };

  it('stage 1: the stop goes to the main child\'s group only; the others\' turn is armed at half the grace period', () => {
    const { state, steps } = run(cfg, [signal(SIG.TERM, 0)]);
    expect(steps[0].filter((a) => a.kind === 'forward')).toEqual([fwd(SIG.TERM, SIG.TERM, 'signal')]);
    expect(steps[0]).toContainEqual({ kind: 'arm-timer', which: 'stage', at: 1000 * STAGE_SHARE });
    expect(steps[0]).toContainEqual({ kind: 'arm-timer', which: 'grace', at: 1000 });
    expect(state.stage).toBe('group');
  });

  it('stage 2 after the share of the grace period: the stop to every process outside the group, and the init keeps waiting', () => {
    const { state, steps } = run(cfg, [signal(SIG.TERM, 0), timer(499, 'stage'), timer(500, 'stage'), scanned('others', [main, worker, daemon], 500)]);
    expect(steps[1]).toEqual([{ kind: 'arm-timer', which: 'stage', at: 500 }]);
    expect(steps[2]).toEqual([{ kind: 'scan', purpose: 'others', delayMs: 0 }]);
    expect(without(steps[3], 'log')).toEqual([{ kind: 'signal-others', sig: SIG.TERM, procs: [daemon], stage: 'others', reason: 'share-elapsed' }]);
    expect(state.stage).toBe('others');
    expect(state.done).toBe(false);
  });

  it('stage 2 at once when the main child exits first; then the init waits until nobody is left, without SIGKILL', () => {
    const { state, steps } = run(cfg, [
      signal(SIG.TERM, 0),
      reaped(CHILD, signaledStatus(SIG.TERM), 100),
      scanned('others', [daemon], 100),
      scanned('drain', [daemon], 120),
      scanned('drain', [], 400),
      timer(500, 'stage'),
    ]);
    expect(steps[1].at(-1)).toEqual({ kind: 'scan', purpose: 'others', delayMs: 0 });
    expect(without(steps[2], 'log')).toEqual([
      { kind: 'signal-others', sig: SIG.TERM, procs: [daemon], stage: 'others', reason: 'main-exited' },
      { kind: 'scan', purpose: 'drain', delayMs: DRAIN_POLL_MS },
    ]);
    expect(steps[3]).toEqual([{ kind: 'scan', purpose: 'drain', delayMs: DRAIN_POLL_MS }]);
    expect(kinds(steps[4])).toEqual(['log', 'exit']);
    expect(steps[4][1]).toMatchObject({ code: 143, stop: { killed: false, scope: 'all', left: [] } });
    expect(steps[5]).toEqual([]);
    expect(state.done).toBe(true);
  });

  it('the main child exiting after stage 2 only starts the drain (nobody gets the stop twice)', () => {
    const { steps } = run(cfg, [signal(SIG.TERM, 0), timer(500, 'stage'), scanned('others', [main, daemon], 500), reaped(CHILD, exitedStatus(0), 600)]);
    expect(steps[3].at(-1)).toEqual({ kind: 'scan', purpose: 'drain', delayMs: 0 });
    const again = step(run(cfg, [signal(SIG.TERM, 0), timer(500, 'stage'), scanned('others', [main, daemon], 500), reaped(CHILD, exitedStatus(0), 600)]).state, scanned('drain', [daemon], 600));
    expect(kinds(again.actions)).toEqual(['scan']);
  });

  it('at the deadline: SIGKILL to the group and to everyone left, who are named in the stop line and the exit', () => {
    const { state, steps } = run(cfg, [
      signal(SIG.TERM, 0),
      reaped(CHILD, exitedStatus(0), 100),
      scanned('others', [worker, daemon], 100),
      scanned('drain', [worker, daemon], 1000),
    ]);
    expect(without(steps[3], 'log')).toEqual([
      { kind: 'signal-others', sig: SIG.KILL, procs: [daemon], stage: 'kill', reason: 'deadline' },
      { kind: 'escalate', pgid: CHILD, pid: CHILD },
      expect.objectContaining({ kind: 'exit', code: 0, stop: expect.objectContaining({ killed: true, scope: 'all', left: [worker, daemon] }) }),
    ]);
    expect(steps[3]).toContainEqual({ kind: 'log', level: 'warn', message: 'stopped by SIGTERM after 1.0s; SIGKILL needed: yes (left at the deadline: 101 worker, 300 daemon)' });
    expect(state.done).toBe(true);
  });

  it('the grace timer with the main child still running: SIGKILL to all, then the exit at its reap', () => {
    const { state, steps } = run(cfg, [signal(SIG.TERM, 0), timer(500, 'stage'), scanned('others', [main, daemon], 500), timer(1000), scanned('kill', [main, daemon], 1000), reaped(CHILD, signaledStatus(SIG.KILL), 1001)]);
    expect(steps[3]).toEqual([{ kind: 'scan', purpose: 'kill', delayMs: 0 }]);
    expect(without(steps[4], 'log')).toEqual([
      { kind: 'signal-others', sig: SIG.KILL, procs: [daemon], stage: 'kill', reason: 'deadline' },
      { kind: 'escalate', pgid: CHILD, pid: CHILD },
    ]);
    expect(steps[5].at(-1)).toMatchObject({ kind: 'exit', code: 137, stop: { killed: true, left: [main, daemon] } });
    expect(state.done).toBe(true);
  });

  it('the grace timer when everyone is gone already exits without SIGKILL', () => {
    const { steps } = run(cfg, [signal(SIG.TERM, 0), reaped(CHILD, exitedStatus(0), 100), scanned('others', [daemon], 100), timer(1000), scanned('kill', [], 1000)]);
    expect(kinds(steps[4])).toEqual(['log', 'exit']);
    expect(steps[4][1]).toMatchObject({ stop: { killed: false } });
  });

  it('without --grace the grace period is 10 s (a staged stop needs a deadline)', () => {
    const { state } = run(config({ stopScope: 'all' }), [signal(SIG.TERM, 0)]);
    expect(state.deadline).toBe(TIMEOUT_GRACE_MS);
    expect(state.stageAt).toBe(TIMEOUT_GRACE_MS * STAGE_SHARE);
  });

  it('when /proc cannot list the processes: a warning, and the group alone as under --stop-scope group', () => {
    const { state, steps } = run(cfg, [signal(SIG.TERM, 0), reaped(CHILD, exitedStatus(0), 100), scanned('others', null, 100), checked(false, 120)]);
    expect(kinds(steps[2])).toEqual(['log', 'check-group']);
    expect(kinds(steps[3])).toEqual(['log', 'exit']);
    expect(state.done).toBe(true);
  });

  it('group scope (the default) never scans: the drain is the group\'s', () => {
    const { steps } = run(config({ graceMs: 1000 }), [signal(SIG.TERM, 0), reaped(CHILD, exitedStatus(0), 100)]);
    expect(steps.flat().filter((a) => a.kind === 'scan' || (a.kind === 'arm-timer' && a.which === 'stage'))).toEqual([]);
  });

  it('no stop, no stages: the main child exiting ends the init at once, whoever is left', () => {
    const { steps } = run(cfg, [reaped(CHILD, exitedStatus(2), 5)]);
    expect(kinds(steps[0])).toEqual(['log', 'exit']);
  });
});

describe('--exit-on-stop', () => {
  const cfg = config({ graceMs: 1000, exitOnStop: 0 });
  const end = (facts: Fact[]) => run(cfg, facts).steps.flat().find((a) => a.kind === 'exit') as { code: number } | undefined;

  it('the program killed by the forwarded SIGTERM, or exiting 143 (the JVM), exits CODE', () => {
    expect(end([signal(SIG.TERM, 0), reaped(CHILD, signaledStatus(SIG.TERM), 5), checked(false, 6)])!.code).toBe(0);
    expect(end([signal(SIG.TERM, 0), reaped(CHILD, exitedStatus(143), 5), checked(false, 6)])!.code).toBe(0);
    expect(run(config({ exitOnStop: 7 }), [signal(SIG.INT, 0), reaped(CHILD, signaledStatus(SIG.INT), 5)]).steps[1].at(-1)).toMatchObject({ code: 7 });
  });

  it('follows --map: what counts is the signal sent', () => {
    const mapped = config({ exitOnStop: 0, signalMap: new Map([[SIG.TERM, SIG.QUIT]]) });
    expect(run(mapped, [signal(SIG.TERM, 0), reaped(CHILD, signaledStatus(SIG.QUIT), 5)]).steps[1].at(-1)).toMatchObject({ code: 0 });
    expect(run(mapped, [signal(SIG.TERM, 0), reaped(CHILD, signaledStatus(SIG.TERM), 5)]).steps[1].at(-1)).toMatchObject({ code: 143 });
  });

  it('a crash, another exit code or the grace period\'s SIGKILL keep their own code', () => {
    expect(end([signal(SIG.TERM, 0), reaped(CHILD, signaledStatus(SIG.SEGV, true), 5), checked(false, 6)])!.code).toBe(139);
    expect(end([signal(SIG.TERM, 0), reaped(CHILD, exitedStatus(1), 5), checked(false, 6)])!.code).toBe(1);
    expect(end([signal(SIG.TERM, 0), timer(1000), reaped(CHILD, signaledStatus(SIG.KILL), 1001)])!.code).toBe(137);
  });

  it('not without a stop, and not for --timeout\'s stop (a job that ran too long did not succeed)', () => {
    expect(end([reaped(CHILD, signaledStatus(SIG.TERM), 5)])!.code).toBe(143);
    const t = config({ exitOnStop: 0, timeoutMs: 100, graceMs: 1000 });
    expect(run(t, [started(0), timer(100, 'timeout'), reaped(CHILD, signaledStatus(SIG.TERM), 150), checked(false, 151)]).steps[3].at(-1)).toMatchObject({ code: 143 });
  });

  it('-e keeps tini\'s meaning beside it', () => {
    const both = config({ exitOnStop: 3, expectedCodes: new Set([143]) });
    expect(run(both, [reaped(CHILD, exitedStatus(143), 5)]).steps[0].at(-1)).toMatchObject({ code: 0 });
    expect(run(both, [signal(SIG.TERM, 0), reaped(CHILD, exitedStatus(143), 5)]).steps[1].at(-1)).toMatchObject({ code: 3 });
  });
});

describe('--pre-stop', () => {
  const preStop = { command: 'curl -X POST localhost/drain', passFds: [0, 1, 2] };
  const cfg = config({ graceMs: 1000, preStop });
  const preStarted = (pid: number | null, now: number): Fact => ({ kind: 'pre-stop-started', pid, now });
  const PRE = 500;

  it('on the first stop signal: the command starts, bounded by the grace period; nothing is forwarded yet', () => {
    const s0 = initialState(cfg);
    expect(signalHandling(s0, SIG.TERM)).toBe('delayed');
    const { state, steps } = run(cfg, [signal(SIG.TERM, 0), preStarted(PRE, 1)]);
    expect(without(steps[0], 'log')).toEqual([
      { kind: 'arm-timer', which: 'pre-stop', at: 1000 },
      { kind: 'pre-stop', command: preStop.command, boundMs: 1000 },
    ]);
    expect(steps[1]).toEqual([]);
    expect(state.preStopPid).toBe(PRE);
    expect(state.stop).toBeNull();
  });

  it('when it ends, the stop signal is forwarded and the grace period starts then; the stop is timed from the signal', () => {
    const { state, steps } = run(cfg, [signal(SIG.TERM, 0), preStarted(PRE, 1), reaped(PRE, exitedStatus(0), 300), reaped(CHILD, signaledStatus(SIG.TERM), 400), checked(false, 401)]);
    expect(steps[2]).toContainEqual(fwd(SIG.TERM, SIG.TERM, 'signal'));
    expect(steps[2]).toContainEqual({ kind: 'arm-timer', which: 'grace', at: 1300 });
    expect(steps[2][0]).toEqual({ kind: 'log', level: 'info', message: '--pre-stop exited with status 0' });
    expect(steps[4].at(-1)).toMatchObject({ kind: 'exit', code: 143, stop: { afterMs: 401 } });
    expect(state.preStopPid).toBeNull();
  });

  it('at its bound it is killed and the stop goes on (a timer that fires early waits)', () => {
    const { steps } = run(cfg, [signal(SIG.TERM, 0), preStarted(PRE, 1), timer(999, 'pre-stop'), timer(1000, 'pre-stop')]);
    expect(steps[2]).toEqual([{ kind: 'arm-timer', which: 'pre-stop', at: 1000 }]);
    expect(kinds(without(steps[3], 'log'))).toEqual(['kill-pre-stop', 'forward', 'grace', 'arm-timer']);
    expect(steps[3]).toContainEqual({ kind: 'kill-pre-stop', pid: PRE });
  });

  it('a command that cannot be started: a warning, and the stop at once', () => {
    const { steps } = run(cfg, [signal(SIG.TERM, 0), preStarted(null, 1)]);
    expect(steps[1][0]).toMatchObject({ kind: 'log', level: 'warn' });
    expect(steps[1]).toContainEqual(fwd(SIG.TERM, SIG.TERM, 'signal'));
  });

  it('a second stop signal while it runs is forwarded at once; its end then changes nothing', () => {
    const { steps } = run(cfg, [signal(SIG.TERM, 0), preStarted(PRE, 1), signal(SIG.TERM, 50), reaped(PRE, exitedStatus(0), 300), timer(1000, 'pre-stop')]);
    expect(steps[2]).toContainEqual(fwd(SIG.TERM, SIG.TERM, 'signal'));
    expect(without(steps[3], 'log')).toEqual([]);
    expect(steps[4]).toEqual([]);
  });

  it('after a second stop signal, a command still running is killed at its bound all the same', () => {
    const { steps } = run(cfg, [signal(SIG.TERM, 0), preStarted(PRE, 1), signal(SIG.TERM, 50), timer(999, 'pre-stop'), timer(1000, 'pre-stop')]);
    expect(steps[3]).toEqual([{ kind: 'arm-timer', which: 'pre-stop', at: 1000 }]);
    expect(without(steps[4], 'log')).toEqual([{ kind: 'kill-pre-stop', pid: PRE }]);
  });

  it('then --stop-delay, then the forward', () => {
    const { steps } = run({ ...cfg, stopDelayMs: 2000 }, [signal(SIG.TERM, 0), preStarted(PRE, 1), reaped(PRE, exitedStatus(0), 300), timer(2300, 'stop-delay')]);
    expect(steps[2]).toContainEqual({ kind: 'arm-timer', which: 'stop-delay', at: 2300 });
    expect(steps[2].filter((a) => a.kind === 'forward')).toEqual([]);
    expect(steps[3]).toContainEqual(fwd(SIG.TERM, SIG.TERM, 'stop-delay'));
  });

  it('the program exiting meanwhile ends the init, and the command is killed first', () => {
    const { state, steps } = run(cfg, [signal(SIG.TERM, 0), preStarted(PRE, 1), reaped(CHILD, exitedStatus(0), 10)]);
    expect(kinds(steps[2])).toEqual(['log', 'kill-pre-stop', 'exit']);
    expect(state.done).toBe(true);
  });

  it('runs once: a later stop signal goes at once; other signals pass meanwhile; ignored without a stop', () => {
    const { steps } = run(cfg, [signal(SIG.USR1, 0), signal(SIG.TERM, 0), preStarted(PRE, 1), signal(SIG.USR2, 2), reaped(PRE, exitedStatus(0), 300), signal(SIG.INT, 400)]);
    expect(steps[0]).toEqual([fwd(SIG.USR1, SIG.USR1, 'signal')]);
    expect(steps[3]).toEqual([fwd(SIG.USR2, SIG.USR2, 'signal')]);
    expect(steps[5]).toEqual([fwd(SIG.INT, SIG.INT, 'signal')]);
    expect(steps.flat().filter((a) => a.kind === 'pre-stop')).toHaveLength(1);
  });

  it('without --grace its bound is 10 s', () => {
    const { steps } = run(config({ preStop }), [signal(SIG.TERM, 0)]);
    expect(steps[0]).toContainEqual({ kind: 'pre-stop', command: preStop.command, boundMs: TIMEOUT_GRACE_MS });
  });
});

describe('why it ended: memory', () => {
  it('the termination message adds the OOM kills, the limit and the peak only when the OOM killer struck', () => {
    const mem = { oomKills: 1, peakBytes: 134_217_728, limitBytes: 134_217_728 };
    expect(describeEnd(signaledStatus(SIG.KILL), undefined, mem)).toBe(
      'the program was killed by SIGKILL; the kernel OOM-killed 1 process in the cgroup (limit 128.0 MiB); peak memory 128.0 MiB',
    );
    expect(describeEnd(exitedStatus(0), undefined, { ...mem, oomKills: 0 })).toBe('the program exited with status 0');
    expect(describeMemory({ oomKills: 2, peakBytes: null, limitBytes: null })).toBe('the kernel OOM-killed 2 processes in the cgroup');
    expect(describeMemory({ oomKills: 0, peakBytes: 12 * 1024 ** 3, limitBytes: null })).toBe('no OOM kill; peak memory 12.0 GiB');
  });
});
