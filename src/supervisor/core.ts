/**
 * The supervisor's decisions, as a pure state machine: a fact comes in
 * (a signal arrived, a process was reaped, the grace deadline passed), the
 * new state and a list of actions come out. No I/O and no clock: the shell
 * passes `now` in and carries the actions out, and unit tests drive this with
 * a fake clock.
 */
import { decodeWaitStatus, type WaitStatus } from '../libc/types.js';
import { SIG, signalName } from '../libc/signals.js';

export interface CoreConfig {
  /** The main child's pid; it leads its own process group (pgid = pid). */
  childPid: number;
  graceMs: number | null;
  expectedCodes: ReadonlySet<number>;
  warnOnReap: boolean;
}

export type ExitReason = 'child-exited' | 'child-signaled' | 'exec-failed';

export interface State {
  readonly config: CoreConfig;
  /** When the group will be SIGKILLed, if a shutdown signal started the grace timer. */
  readonly deadline: number | null;
  readonly escalated: boolean;
  /** The main child's raw wait status once it has been reaped. */
  readonly mainStatus: WaitStatus | null;
  /** Exiting: no more facts are acted on. */
  readonly done: boolean;
}

export type Fact =
  | { kind: 'signal'; sig: number; now: number }
  | { kind: 'reaped'; pid: number; status: WaitStatus; now: number }
  /** After a reap pass that saw the main child: is anything left in its process group? */
  | { kind: 'group-checked'; alive: boolean; now: number }
  | { kind: 'timer'; now: number };

export type { LogLevel } from '../log/log.js';
import type { LogLevel } from '../log/log.js';

export type Action =
  /** kill(-pgid, sig), falling back to the pid if the group is gone. */
  | { kind: 'forward'; sig: number; pgid: number; pid: number }
  | { kind: 'escalate'; pgid: number; pid: number }
  | { kind: 'arm-timer'; at: number }
  /** Check whether the main child's process group still has members, then report group-checked. */
  | { kind: 'check-group'; pgid: number; pollMs: number }
  | { kind: 'exit'; code: number; reason: ExitReason; status: WaitStatus }
  | { kind: 'log'; level: LogLevel; message: string };

export type Step = { state: State; actions: readonly Action[] };

/** Shared by the steps that do nothing (most reaps of orphans). */
const NO_ACTIONS: readonly Action[] = Object.freeze([]);

/** Signals after which, once forwarded, the group gets the grace period to exit. */
const SHUTDOWN_SIGNALS: ReadonlySet<number> = new Set([SIG.TERM, SIG.INT]);

/** How often to look at the group while it drains after the main child exited. */
export const DRAIN_POLL_MS = 20;

export function initialState(config: CoreConfig): State {
  return { config, deadline: null, escalated: false, mainStatus: null, done: false };
}

/**
 * The init's exit code for the main child's wait status: the exit code, or
 * 128+N for a death by signal N (as sh reports it), then `-e` codes become 0.
 */
export function exitCodeFor(status: WaitStatus, expected: ReadonlySet<number>): number {
  const d = decodeWaitStatus(status);
  const code = d.kind === 'exited' ? d.code : d.kind === 'signaled' ? (128 + d.signal) % 256 : 1;
  return expected.has(code) ? 0 : code;
}

/** Exit code when the program could not be started: 127 not found, 126 not executable, else 1. */
export function execFailureCode(errnoCode: string, expected: ReadonlySet<number>): number {
  const code = errnoCode === 'ENOENT' || errnoCode === 'ENOTDIR' ? 127 : errnoCode === 'EACCES' || errnoCode === 'EISDIR' || errnoCode === 'ENOEXEC' || errnoCode === 'EPERM' ? 126 : 1;
  return expected.has(code) ? 0 : code;
}

export function describeStatus(status: WaitStatus): string {
  const d = decodeWaitStatus(status);
  if (d.kind === 'exited') return `exited with status ${d.code}`;
  if (d.kind === 'signaled') return `was killed by ${signalName(d.signal)}${d.core ? ' (core dumped)' : ''}`;
  return `changed state (raw status ${d.raw})`;
}

function exitAction(state: State, status: WaitStatus): Action {
  const d = decodeWaitStatus(status);
  return {
    kind: 'exit',
    code: exitCodeFor(status, state.config.expectedCodes),
    reason: d.kind === 'signaled' ? 'child-signaled' : 'child-exited',
    status,
  };
}

export function step(state: State, fact: Fact): Step {
  if (state.done) return { state, actions: NO_ACTIONS };
  const { config } = state;
  const pgid = config.childPid;
  switch (fact.kind) {
    case 'signal': {
      if (fact.sig === SIG.CHLD) return { state, actions: NO_ACTIONS }; // reaping is the shell's loop
      // The forward comes first and carries no text: it is the latency-critical
      // path (the shell writes tini's DEBUG line only when it is enabled).
      const actions: Action[] = [{ kind: 'forward', sig: fact.sig, pgid, pid: config.childPid }];
      if (config.graceMs !== null && state.deadline === null && !state.escalated && SHUTDOWN_SIGNALS.has(fact.sig)) {
        const at = fact.now + config.graceMs;
        actions.push(
          { kind: 'log', level: 'info', message: `${signalName(fact.sig)} forwarded: the group has ${config.graceMs / 1000}s to exit` },
          { kind: 'arm-timer', at },
        );
        return { state: { ...state, deadline: at }, actions };
      }
      return { state, actions };
    }
    case 'reaped': {
      if (fact.pid !== config.childPid) {
        if (!config.warnOnReap) return { state, actions: NO_ACTIONS };
        const actions: Action[] = [{ kind: 'log', level: 'warn', message: `Reaped zombie process with pid=${fact.pid}` }];
        return { state, actions };
      }
      const s: State = { ...state, mainStatus: fact.status };
      const log: Action = { kind: 'log', level: 'info', message: `Main child ${describeStatus(fact.status)}` };
      // During a graceful shutdown the rest of the group may still be draining:
      // it keeps its grace period. Otherwise exit at once, as tini does.
      if (state.deadline !== null && !state.escalated) {
        return { state: s, actions: [log, { kind: 'check-group', pgid, pollMs: DRAIN_POLL_MS }] };
      }
      return { state: { ...s, done: true }, actions: [log, exitAction(s, fact.status)] };
    }
    case 'group-checked': {
      if (state.mainStatus === null) return { state, actions: NO_ACTIONS };
      if (fact.alive && state.deadline !== null && fact.now < state.deadline && !state.escalated) {
        return { state, actions: [{ kind: 'check-group', pgid, pollMs: DRAIN_POLL_MS }] };
      }
      const actions: Action[] = [];
      if (fact.alive) actions.push({ kind: 'escalate', pgid, pid: config.childPid });
      actions.push(exitAction(state, state.mainStatus));
      return { state: { ...state, done: true }, actions };
    }
    case 'timer': {
      if (state.deadline === null || state.escalated) return { state, actions: NO_ACTIONS };
      // Node's timers count whole milliseconds from the loop's cached time, so
      // one may fire a little before the clock reaches the deadline: wait again.
      if (fact.now < state.deadline) return { state, actions: [{ kind: 'arm-timer', at: state.deadline }] };
      const s: State = { ...state, escalated: true };
      const actions: Action[] = [
        { kind: 'log', level: 'warn', message: `Grace period of ${config.graceMs! / 1000}s over: sending SIGKILL to the process group` },
        { kind: 'escalate', pgid, pid: config.childPid },
      ];
      if (state.mainStatus !== null) {
        actions.push(exitAction(s, state.mainStatus));
        return { state: { ...s, done: true }, actions };
      }
      return { state: s, actions };
    }
  }
}
