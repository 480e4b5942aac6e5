import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  DRAIN_POLL_MS,
  describeStatus,
  execFailureCode,
  exitCodeFor,
  initialState,
  step,
  type Action,
  type CoreConfig,
  type Fact,
  type State,
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
const timer = (now: number): Fact => ({ kind: 'timer', now });
const checked = (alive: boolean, now: number): Fact => ({ kind: 'group-checked', alive, now });

describe('forwarding table', () => {
  it('forwards every forwardable signal to the process group, with the pid as fallback', () => {
    for (const sig of forwardableSignals()) {
      const { steps } = run(config(), [signal(sig)]);
      const forwards = steps[0].filter((a) => a.kind === 'forward');
      expect(forwards, `signal ${sig}`).toEqual([{ kind: 'forward', sig, pgid: CHILD, pid: CHILD }]);
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
    expect(steps[0]).toEqual([{ kind: 'forward', sig: SIG.USR1, pgid: CHILD, pid: CHILD }]);
    expect(steps[1]).toEqual([{ kind: 'forward', sig: 36, pgid: CHILD, pid: CHILD }]);
  });
});

describe('grace timer', () => {
  it.each([SIG.TERM, SIG.INT])('starts on signal %i: deadline = now + grace', (sig) => {
    const { state, steps } = run(config({ graceMs: 5000 }), [signal(sig, 1234)]);
    expect(steps[0]).toContainEqual({ kind: 'arm-timer', at: 6234 });
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
    expect(steps[0]).toContainEqual({ kind: 'arm-timer', at: 50 });
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
    expect(steps[1]).toEqual([{ kind: 'arm-timer', at: 1000 }]);
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
    expect(steps[2]).toContainEqual({ kind: 'exit', code: 137, reason: 'child-signaled', status: signaledStatus(SIG.KILL) });
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
    expect(steps[3]).toEqual([{ kind: 'exit', code: 0, reason: 'child-exited', status: exitedStatus(0) }]);
    expect(state.done).toBe(true);
  });

  it('SIGKILLs the group if it is still alive at the deadline, then exits with the main child\'s code', () => {
    const { state, steps } = run(cfg, [...start, checked(true, 1000)]);
    expect(kinds(steps[2])).toEqual(['escalate', 'exit']);
    expect(steps[2][1]).toMatchObject({ kind: 'exit', code: 0 });
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
