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
  /** --map: a received signal -> the one sent instead, or null: not forwarded at all. */
  signalMap?: ReadonlyMap<number, number | null>;
  /** --stop-delay: how long a received stop signal waits before it is forwarded. */
  stopDelayMs?: number | null;
  /** --timeout: the longest the program may run before the init stops it. */
  timeoutMs?: number | null;
  /** false: no line of its own on how a stop went (`tini-ts run`'s launcher reports the end). */
  stopLine?: boolean;
}

/** Why a signal was sent to the group. */
export type ForwardCause = 'signal' | 'mapped' | 'stop-delay' | 'timeout';

/** The init's timers: the grace deadline, the end of a stop delay, the maximum run time. */
export type TimerKind = 'grace' | 'stop-delay' | 'timeout';

/** The first stop signal sent to the group: what asked for it, and when. */
export interface StopInfo {
  cause: 'signal' | 'timeout';
  /** The signal the init received (null for the timeout). */
  received: number | null;
  /** The signal sent to the group. */
  sig: number;
  /** When it was received, or the timeout fell due. */
  requestedAt: number;
  /** When it was sent. */
  sentAt: number;
}

export type ExitReason = 'child-exited' | 'child-signaled' | 'exec-failed';

export interface State {
  readonly config: CoreConfig;
  /** When the group will be SIGKILLed, if a shutdown signal started the grace timer. */
  readonly deadline: number | null;
  /** The grace period running (--grace, or the timeout's default). */
  readonly graceMs: number | null;
  /** A stop signal held back by --stop-delay: sent at `at`. */
  readonly pendingStop: { sig: number; received: number; receivedAt: number; at: number } | null;
  /** The first stop signal sent, once it is. */
  readonly stop: StopInfo | null;
  /** When --timeout falls due (set by the `started` fact). */
  readonly timeoutAt: number | null;
  readonly escalated: boolean;
  /** The main child's raw wait status once it has been reaped. */
  readonly mainStatus: WaitStatus | null;
  /** Exiting: no more facts are acted on. */
  readonly done: boolean;
}

export type Fact =
  /** The child runs: the clock of --timeout starts. */
  | { kind: 'started'; now: number }
  | { kind: 'signal'; sig: number; now: number }
  | { kind: 'reaped'; pid: number; status: WaitStatus; now: number }
  /** After a reap pass that saw the main child: is anything left in its process group? */
  | { kind: 'group-checked'; alive: boolean; now: number }
  | { kind: 'timer'; which: TimerKind; now: number };

export type { LogLevel } from '../log/log.js';
import type { LogLevel } from '../log/log.js';

export type Action =
  /** kill(-pgid, sig), falling back to the pid if the group is gone. */
  | { kind: 'forward'; sig: number; pgid: number; pid: number; received: number | null; cause: ForwardCause }
  | { kind: 'escalate'; pgid: number; pid: number }
  | { kind: 'arm-timer'; which: TimerKind; at: number }
  /** The grace period starts (for the event stream). */
  | { kind: 'grace'; sig: number; graceMs: number; at: number }
  /** A stop signal is held back by --stop-delay (for the event stream). */
  | { kind: 'stop-delay'; sig: number; received: number; delayMs: number; at: number }
  /** --timeout fell due (for the event stream). */
  | { kind: 'timeout'; timeoutMs: number; sig: number }
  /** Check whether the main child's process group still has members, then report group-checked. */
  | { kind: 'check-group'; pgid: number; pollMs: number }
  /** `stop`: present when the init had sent a stop signal (a received one, or --timeout's). */
  | { kind: 'exit'; code: number; reason: ExitReason; status: WaitStatus; stop?: StopSummary }
  | { kind: 'log'; level: LogLevel; message: string };

export type Step = { state: State; actions: readonly Action[] };

/** Shared by the steps that do nothing (most reaps of orphans). */
const NO_ACTIONS: readonly Action[] = Object.freeze([]);

/** Signals after which, once forwarded, the group gets the grace period to exit. */
const SHUTDOWN_SIGNALS: ReadonlySet<number> = new Set([SIG.TERM, SIG.INT]);

/** How often to look at the group while it drains after the main child exited. */
export const DRAIN_POLL_MS = 20;

/** The grace period after --timeout's SIGTERM when no --grace is given (docker stop's default). */
export const TIMEOUT_GRACE_MS = 10_000;

export function initialState(config: CoreConfig): State {
  return { config, deadline: null, graceMs: null, pendingStop: null, stop: null, timeoutAt: null, escalated: false, mainStatus: null, done: false };
}

/** The signal sent for a received one: --map's, null when it is dropped. */
export function mappedSignal(config: CoreConfig, sig: number): number | null {
  const m = config.signalMap?.get(sig);
  return m === undefined ? sig : m;
}

/** Whether a received signal asks the program to stop: SIGTERM or SIGINT, received or sent. */
function isStop(received: number, sent: number): boolean {
  return SHUTDOWN_SIGNALS.has(received) || SHUTDOWN_SIGNALS.has(sent);
}

/**
 * What the init does with a received signal, for the `signal` event (taken
 * before the step that acts on it): reap, drop (--map), hold back
 * (--stop-delay) or forward.
 */
export function signalHandling(state: State, sig: number): 'reap' | 'ignored' | 'delayed' | 'forward' {
  if (sig === SIG.CHLD) return 'reap';
  const sent = mappedSignal(state.config, sig);
  if (sent === null) return 'ignored';
  if (isStop(sig, sent) && state.pendingStop === null && delaysStop(state)) return 'delayed';
  return 'forward';
}

function delaysStop(state: State): boolean {
  const d = state.config.stopDelayMs;
  return d !== undefined && d !== null && d > 0 && state.stop === null && !state.escalated && state.mainStatus === null;
}

/**
 * Sends a stop signal to the group now; the first one starts the grace
 * period (if there is one) and is recorded as the stop.
 */
function sendStop(state: State, sig: number, received: number | null, cause: ForwardCause, requestedAt: number, now: number, graceMs: number | null): Step {
  const { config } = state;
  const actions: Action[] = [{ kind: 'forward', sig, pgid: config.childPid, pid: config.childPid, received, cause }];
  let s: State = { ...state, pendingStop: null };
  if (s.stop === null) s = { ...s, stop: { cause: cause === 'timeout' ? 'timeout' : 'signal', received, sig, requestedAt, sentAt: now } };
  if (graceMs !== null && s.deadline === null && !s.escalated) {
    const at = now + graceMs;
    actions.push(
      { kind: 'log', level: 'info', message: `${signalName(sig)} forwarded: the group has ${graceMs / 1000}s to exit` },
      { kind: 'grace', sig, graceMs, at },
      { kind: 'arm-timer', which: 'grace', at },
    );
    s = { ...s, deadline: at, graceMs };
  }
  return { state: s, actions };
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

/** How a stop ended, for the last line on stderr, the termination log and the exit event. */
export interface StopSummary {
  cause: 'signal' | 'timeout';
  /** The signal received (null for the timeout). */
  received: number | null;
  /** The signal sent to the group. */
  sig: number;
  /** From the stop signal's arrival (or the timeout) to the exit. */
  afterMs: number;
  /** Whether the grace period ran out and the group got SIGKILL. */
  killed: boolean;
  timeoutMs: number | null;
}

/** `stopped by SIGTERM after 1.2s; SIGKILL needed: no` */
export function describeStop(stop: StopSummary): string {
  const what =
    stop.cause === 'timeout'
      ? `the timeout of ${(stop.timeoutMs ?? 0) / 1000}s`
      : stop.received !== null && stop.received !== stop.sig
        ? `${signalName(stop.received)} (sent as ${signalName(stop.sig)})`
        : signalName(stop.sig);
  return `stopped by ${what} after ${(stop.afterMs / 1000).toFixed(1)}s; SIGKILL needed: ${stop.killed ? 'yes' : 'no'}`;
}

/** The termination message: how the program ended, and the stop that ended it if one did. */
export function describeEnd(status: WaitStatus, stop: StopSummary | undefined): string {
  const how = describeStatus(status);
  return stop ? `${describeStop(stop)}; the program ${how}` : `the program ${how}`;
}

/** The exit, preceded (at warn, shown by default) by how the stop went when one was sent. */
function exitActions(state: State, status: WaitStatus, now: number): Action[] {
  const d = decodeWaitStatus(status);
  const exit = {
    kind: 'exit' as const,
    code: exitCodeFor(status, state.config.expectedCodes),
    reason: d.kind === 'signaled' ? ('child-signaled' as const) : ('child-exited' as const),
    status,
  };
  const st = state.stop;
  if (st === null) return [exit];
  const stop: StopSummary = {
    cause: st.cause,
    received: st.received,
    sig: st.sig,
    afterMs: Math.max(0, now - st.requestedAt),
    killed: state.escalated,
    timeoutMs: state.config.timeoutMs ?? null,
  };
  if (state.config.stopLine === false) return [{ ...exit, stop }];
  return [{ kind: 'log', level: 'warn', message: describeStop(stop) }, { ...exit, stop }];
}

export function step(state: State, fact: Fact): Step {
  if (state.done) return { state, actions: NO_ACTIONS };
  const { config } = state;
  const pgid = config.childPid;
  switch (fact.kind) {
    case 'started': {
      const t = config.timeoutMs;
      if (t === undefined || t === null || state.timeoutAt !== null) return { state, actions: NO_ACTIONS };
      const at = fact.now + t;
      return { state: { ...state, timeoutAt: at }, actions: [{ kind: 'arm-timer', which: 'timeout', at }] };
    }
    case 'signal': {
      if (fact.sig === SIG.CHLD) return { state, actions: NO_ACTIONS }; // reaping is the shell's loop
      const sent = mappedSignal(config, fact.sig);
      if (sent === null) return { state, actions: NO_ACTIONS }; // --map SIG:ignore
      const cause: ForwardCause = sent === fact.sig ? 'signal' : 'mapped';
      if (!isStop(fact.sig, sent)) {
        // The forward comes first and carries no text: it is the latency-critical
        // path (the shell writes tini's DEBUG line only when it is enabled).
        return { state, actions: [{ kind: 'forward', sig: sent, pgid, pid: config.childPid, received: fact.sig, cause }] };
      }
      const pending = state.pendingStop;
      if (pending !== null) {
        // A second stop signal during the delay: it is sent at once, in place
        // of the one held back (both ask for the same stop).
        return sendStop(state, sent, fact.sig, cause, pending.receivedAt, fact.now, config.graceMs);
      }
      if (delaysStop(state)) {
        const delayMs = config.stopDelayMs!;
        const at = fact.now + delayMs;
        return {
          state: { ...state, pendingStop: { sig: sent, received: fact.sig, receivedAt: fact.now, at } },
          actions: [
            { kind: 'stop-delay', sig: sent, received: fact.sig, delayMs, at },
            { kind: 'log', level: 'info', message: `${signalName(fact.sig)} received: forwarding it in ${delayMs / 1000}s (--stop-delay)` },
            { kind: 'arm-timer', which: 'stop-delay', at },
          ],
        };
      }
      return sendStop(state, sent, fact.sig, cause, fact.now, fact.now, config.graceMs);
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
      return { state: { ...s, done: true }, actions: [log, ...exitActions(s, fact.status, fact.now)] };
    }
    case 'group-checked': {
      if (state.mainStatus === null) return { state, actions: NO_ACTIONS };
      if (fact.alive && state.deadline !== null && fact.now < state.deadline && !state.escalated) {
        return { state, actions: [{ kind: 'check-group', pgid, pollMs: DRAIN_POLL_MS }] };
      }
      const actions: Action[] = [];
      if (fact.alive) actions.push({ kind: 'escalate', pgid, pid: config.childPid });
      actions.push(...exitActions(state, state.mainStatus, fact.now));
      return { state: { ...state, done: true }, actions };
    }
    case 'timer': {
      if (fact.which === 'stop-delay') {
        const p = state.pendingStop;
        if (p === null) return { state, actions: NO_ACTIONS };
        // Node's timers count whole milliseconds from the loop's cached time, so
        // one may fire a little before the clock reaches its time: wait again.
        if (fact.now < p.at) return { state, actions: [{ kind: 'arm-timer', which: 'stop-delay', at: p.at }] };
        return sendStop(state, p.sig, p.received, 'stop-delay', p.receivedAt, fact.now, config.graceMs);
      }
      if (fact.which === 'timeout') {
        if (state.timeoutAt === null || state.stop !== null || state.escalated) return { state, actions: NO_ACTIONS };
        if (fact.now < state.timeoutAt) return { state, actions: [{ kind: 'arm-timer', which: 'timeout', at: state.timeoutAt }] };
        // As if the init had received SIGTERM (its --map applies, but never drops it).
        const sig = mappedSignal(config, SIG.TERM) ?? SIG.TERM;
        const stopped = sendStop(state, sig, null, 'timeout', fact.now, fact.now, config.graceMs ?? TIMEOUT_GRACE_MS);
        const actions: Action[] = [
          { kind: 'timeout', timeoutMs: config.timeoutMs!, sig },
          { kind: 'log', level: 'warn', message: `Timeout of ${config.timeoutMs! / 1000}s reached: sending ${signalName(sig)} to the process group` },
          ...stopped.actions,
        ];
        return { state: stopped.state, actions };
      }
      if (state.deadline === null || state.escalated) return { state, actions: NO_ACTIONS };
      // Node's timers count whole milliseconds from the loop's cached time, so
      // one may fire a little before the clock reaches the deadline: wait again.
      if (fact.now < state.deadline) return { state, actions: [{ kind: 'arm-timer', which: 'grace', at: state.deadline }] };
      const s: State = { ...state, escalated: true };
      const actions: Action[] = [
        { kind: 'log', level: 'warn', message: `Grace period of ${state.graceMs! / 1000}s over: sending SIGKILL to the process group` },
        { kind: 'escalate', pgid, pid: config.childPid },
      ];
      if (state.mainStatus !== null) {
        actions.push(...exitActions(s, state.mainStatus, fact.now));
        return { state: { ...s, done: true }, actions };
      }
      return { state: s, actions };
    }
  }
}
