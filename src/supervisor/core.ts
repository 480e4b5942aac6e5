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
  /**
   * --stop-scope: `group` (default, tini's reach) stops the main child's
   * process group; `all` also stops every other process the init can reach,
   * in stages (see step()).
   */
  stopScope?: StopScope;
  /** --exit-on-stop: the exit code when the program ended by the stop signal the init forwarded. */
  exitOnStop?: number | null;
  /**
   * --pre-stop: a command run (by the shell, through /bin/sh -c) on the first
   * received stop signal, before it goes on; bounded by the grace period.
   * passFds: the descriptors it may inherit (those the program got);
   * credentials: --user's, as the program's.
   */
  preStop?: { command: string; passFds: number[]; credentials?: { uid: number; gid: number; groups: number[] } } | null;
}

export type StopScope = 'group' | 'all';

/** A process the init can reach (PID 1: its namespace; a subreaper: its descendants), from /proc. */
export interface ProcRef {
  pid: number;
  pgid: number;
  comm: string;
}

/**
 * Why the shell lists the reachable processes: to send the stop to the
 * others (stage 2), to see whether any is left (drain), or to SIGKILL the
 * rest (the deadline).
 */
export type ScanPurpose = 'others' | 'drain' | 'kill';

/** Why a signal was sent to the group. */
export type ForwardCause = 'signal' | 'mapped' | 'stop-delay' | 'timeout';

/** The init's timers: the grace deadline, the end of a stop delay, the maximum run time. */
export type TimerKind = 'grace' | 'stop-delay' | 'timeout' | 'stage' | 'pre-stop';

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
  /**
   * --stop-scope all: `group` while only the main child's group has the stop
   * signal (until `stageAt` or the main child's exit), then `others`.
   */
  readonly stage: 'group' | 'others' | null;
  readonly stageAt: number | null;
  /** --stop-scope all: the processes still there at the deadline (they got SIGKILL). */
  readonly left: readonly ProcRef[] | null;
  /** A received stop signal held back while --pre-stop runs (until it ends, or `at`). */
  readonly heldByPreStop: { sig: number; received: number; receivedAt: number; cause: ForwardCause; at: number } | null;
  /** The --pre-stop command's pid while it runs. */
  readonly preStopPid: number | null;
  /** When --pre-stop's time is up (it is then killed, and a stop it holds goes on). */
  readonly preStopAt: number | null;
  /** --pre-stop runs once. */
  readonly preStopRan: boolean;
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
  /** The answer to a `scan`: the reachable processes that are not zombies, or null when /proc cannot say. */
  | { kind: 'scanned'; purpose: ScanPurpose; procs: readonly ProcRef[] | null; now: number }
  | { kind: 'timer'; which: TimerKind; now: number }
  /** The --pre-stop command runs (pid), or could not be started (null). */
  | { kind: 'pre-stop-started'; pid: number | null; now: number };

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
  /** List the reachable processes after delayMs, then report `scanned` (always a step's last action). */
  | { kind: 'scan'; purpose: ScanPurpose; delayMs: number }
  /** --stop-scope all: kill(pid, sig) for each of procs (stage 2, or SIGKILL at the deadline). */
  | { kind: 'signal-others'; sig: number; procs: readonly ProcRef[]; stage: 'others' | 'kill'; reason: 'main-exited' | 'share-elapsed' | 'deadline' }
  /** Start the --pre-stop command, then report pre-stop-started (always a step's last action). */
  | { kind: 'pre-stop'; command: string; boundMs: number }
  /** SIGKILL to the --pre-stop command's group (it ran past its bound, or the init exits). */
  | { kind: 'kill-pre-stop'; pid: number }
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

/**
 * --stop-scope all: the share of the grace period the main child's group has
 * alone before everyone else gets the stop signal too. Half: the main
 * program gets time to stop its own helpers in its own order, and the rest
 * still get at least half of the grace period of their own.
 */
export const STAGE_SHARE = 0.5;

export function initialState(config: CoreConfig): State {
  return {
    config,
    deadline: null,
    graceMs: null,
    pendingStop: null,
    stop: null,
    timeoutAt: null,
    escalated: false,
    mainStatus: null,
    stage: null,
    stageAt: null,
    left: null,
    heldByPreStop: null,
    preStopPid: null,
    preStopAt: null,
    preStopRan: false,
    done: false,
  };
}

const scopeAll = (config: CoreConfig): boolean => config.stopScope === 'all';

/**
 * The grace period after a received stop signal: --grace, or under
 * --stop-scope all 10 s without it (a staged stop needs a deadline: the init
 * exits only once everyone is gone or the deadline passed).
 */
function stopGraceMs(config: CoreConfig): number | null {
  return config.graceMs ?? (scopeAll(config) ? TIMEOUT_GRACE_MS : null);
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
  if (isStop(sig, sent) && state.pendingStop === null && state.heldByPreStop === null && (delaysStop(state) || runsPreStop(state))) return 'delayed';
  return 'forward';
}

/** --pre-stop runs on the first stop signal received, before anything is forwarded. */
function runsPreStop(state: State): boolean {
  return !!state.config.preStop && !state.preStopRan && state.stop === null && !state.escalated && state.mainStatus === null && state.pendingStop === null;
}

/** After --pre-stop: the held stop goes on (through --stop-delay if there is one). */
function continueStop(state: State, now: number, before: Action[] = []): Step {
  const held = state.heldByPreStop;
  if (held === null) return { state, actions: before };
  const s: State = { ...state, heldByPreStop: null };
  const next = delaysStop(s) ? holdStop(s, held.sig, held.received, now) : sendStop(s, held.sig, held.received, held.cause, held.receivedAt, now, stopGraceMs(s.config));
  return { state: next.state, actions: [...before, ...next.actions] };
}

/** --stop-delay: hold a stop signal back. */
function holdStop(state: State, sent: number, received: number, now: number): Step {
  const delayMs = state.config.stopDelayMs!;
  const at = now + delayMs;
  return {
    state: { ...state, pendingStop: { sig: sent, received, receivedAt: now, at } },
    actions: [
      { kind: 'stop-delay', sig: sent, received, delayMs, at },
      { kind: 'log', level: 'info', message: `${signalName(received)} received: forwarding it in ${delayMs / 1000}s (--stop-delay)` },
      { kind: 'arm-timer', which: 'stop-delay', at },
    ],
  };
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
    if (scopeAll(config) && s.stage === null) {
      const stageAt = now + Math.round(graceMs * STAGE_SHARE);
      actions.push({ kind: 'arm-timer', which: 'stage', at: stageAt });
      s = { ...s, stage: 'group', stageAt };
    }
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
  /** --stop-scope; absent: group. */
  scope?: StopScope;
  /** --stop-scope all: the processes still there at the deadline, which got SIGKILL. */
  left?: readonly ProcRef[];
}

/** How many of the processes left are named in the stop line (the exit event lists more). */
const LEFT_IN_LINE = 10;

/** `12 sleep, 13 daemon, and 3 more` */
export function describeLeft(left: readonly ProcRef[]): string {
  const named = left.slice(0, LEFT_IN_LINE).map((p) => `${p.pid} ${p.comm}`).join(', ');
  return left.length > LEFT_IN_LINE ? `${named} and ${left.length - LEFT_IN_LINE} more` : named;
}

/** `stopped by SIGTERM after 1.2s; SIGKILL needed: no` */
export function describeStop(stop: StopSummary): string {
  const what =
    stop.cause === 'timeout'
      ? `the timeout of ${(stop.timeoutMs ?? 0) / 1000}s`
      : stop.received !== null && stop.received !== stop.sig
        ? `${signalName(stop.received)} (sent as ${signalName(stop.sig)})`
        : signalName(stop.sig);
  const killed = stop.killed ? (stop.left && stop.left.length > 0 ? `yes (left at the deadline: ${describeLeft(stop.left)})` : 'yes') : 'no';
  return `stopped by ${what} after ${(stop.afterMs / 1000).toFixed(1)}s; SIGKILL needed: ${killed}`;
}

/**
 * The termination message: how the program ended, the stop that ended it if
 * one did, and an OOM kill in the init's memory cgroup.
 */
export function describeEnd(status: WaitStatus, stop: StopSummary | undefined, memory?: MemoryInfo | null): string {
  const how = describeStatus(status);
  const end = stop ? `${describeStop(stop)}; the program ${how}` : `the program ${how}`;
  // Only when the OOM killer struck: then the peak and the limit say why (the exit event always has them).
  return memory && memory.oomKills > 0 ? `${end}; ${describeMemory(memory)}` : end;
}

/** The init's memory cgroup at exit (see memory.ts). */
export interface MemoryInfo {
  /** OOM kills in the cgroup since the init started. */
  oomKills: number;
  peakBytes: number | null;
  /** The cgroup's limit; null: none. */
  limitBytes: number | null;
}

const MiB = 1024 * 1024;
const size = (n: number) => (n >= 10 * 1024 * MiB ? `${(n / (1024 * MiB)).toFixed(1)} GiB` : `${(n / MiB).toFixed(1)} MiB`);

/** `the kernel OOM-killed 1 process in the cgroup (limit 128.0 MiB); peak memory 127.9 MiB` */
export function describeMemory(m: MemoryInfo): string {
  const limit = m.limitBytes === null ? '' : ` (limit ${size(m.limitBytes)})`;
  const oom = m.oomKills > 0 ? `the kernel OOM-killed ${m.oomKills} process${m.oomKills === 1 ? '' : 'es'} in the cgroup${limit}` : `no OOM kill${limit}`;
  return m.peakBytes === null ? oom : `${oom}; peak memory ${size(m.peakBytes)}`;
}


/**
 * --exit-on-stop: the program ended because of the stop signal the init
 * forwarded (a received one, not --timeout's): killed by it, or exited with
 * 128+N as the JVM does. A crash, another exit code or a death by SIGKILL
 * keeps its own code.
 */
function stoppedAsAsked(state: State, status: WaitStatus): boolean {
  const { exitOnStop } = state.config;
  const st = state.stop;
  if (exitOnStop === undefined || exitOnStop === null || st === null || st.cause !== 'signal') return false;
  const d = decodeWaitStatus(status);
  return (d.kind === 'signaled' && d.signal === st.sig) || (d.kind === 'exited' && d.code === 128 + st.sig);
}

/** The exit, preceded (at warn, shown by default) by how the stop went when one was sent. */
function exitActions(state: State, status: WaitStatus, now: number): Action[] {
  const d = decodeWaitStatus(status);
  const exit = {
    kind: 'exit' as const,
    code: stoppedAsAsked(state, status) ? state.config.exitOnStop! : exitCodeFor(status, state.config.expectedCodes),
    reason: d.kind === 'signaled' ? ('child-signaled' as const) : ('child-exited' as const),
    status,
  };
  const first: Action[] = state.preStopPid !== null ? [{ kind: 'kill-pre-stop', pid: state.preStopPid }] : [];
  const st = state.stop;
  if (st === null) return [...first, exit];
  const stop: StopSummary = {
    cause: st.cause,
    received: st.received,
    sig: st.sig,
    afterMs: Math.max(0, now - st.requestedAt),
    killed: state.escalated,
    timeoutMs: state.config.timeoutMs ?? null,
    ...(scopeAll(state.config) ? { scope: 'all' as const, left: state.left ?? [] } : {}),
  };
  if (state.config.stopLine === false) return [...first, { ...exit, stop }];
  return [...first, { kind: 'log', level: 'warn', message: describeStop(stop) }, { ...exit, stop }];
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
        return sendStop(state, sent, fact.sig, cause, pending.receivedAt, fact.now, stopGraceMs(config));
      }
      const held = state.heldByPreStop;
      if (held !== null) {
        // A second stop signal while --pre-stop runs: it goes at once (the command may go on until its bound).
        return sendStop({ ...state, heldByPreStop: null }, sent, fact.sig, cause, held.receivedAt, fact.now, stopGraceMs(config));
      }
      if (runsPreStop(state)) {
        const boundMs = stopGraceMs(config) ?? TIMEOUT_GRACE_MS;
        const at = fact.now + boundMs;
        return {
          state: { ...state, preStopRan: true, preStopAt: at, heldByPreStop: { sig: sent, received: fact.sig, receivedAt: fact.now, cause, at } },
          actions: [
            { kind: 'log', level: 'info', message: `${signalName(fact.sig)} received: running --pre-stop first (up to ${boundMs / 1000}s)` },
            { kind: 'arm-timer', which: 'pre-stop', at },
            { kind: 'pre-stop', command: config.preStop!.command, boundMs },
          ],
        };
      }
      if (delaysStop(state)) return holdStop(state, sent, fact.sig, fact.now);
      return sendStop(state, sent, fact.sig, cause, fact.now, fact.now, stopGraceMs(config));
    }
    case 'pre-stop-started': {
      if (fact.pid === null) {
        const log: Action = { kind: 'log', level: 'warn', message: '--pre-stop could not be started: the stop goes on' };
        return continueStop(state, fact.now, [log]);
      }
      // Still held: the command runs until it exits or its bound. Else (a second stop came first) it runs on its own.
      return { state: { ...state, preStopPid: fact.pid }, actions: NO_ACTIONS };
    }
    case 'reaped': {
      if (fact.pid === state.preStopPid && fact.pid !== config.childPid) {
        const log: Action = { kind: 'log', level: 'info', message: `--pre-stop ${describeStatus(fact.status)}` };
        return continueStop({ ...state, preStopPid: null }, fact.now, [log]);
      }
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
        // --stop-scope all: the main child's exit ends stage 1 early; then wait for everyone.
        if (scopeAll(config)) return { state: s, actions: [log, { kind: 'scan', purpose: state.stage === 'group' ? 'others' : 'drain', delayMs: 0 }] };
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
    case 'scanned':
      return scanned(state, fact.purpose, fact.procs, fact.now);
    case 'timer': {
      if (fact.which === 'pre-stop') {
        // Its bound holds even when a second stop signal already let the stop go on.
        const at = state.preStopAt;
        if (at === null || (state.heldByPreStop === null && state.preStopPid === null)) return { state, actions: NO_ACTIONS };
        if (fact.now < at) return { state, actions: [{ kind: 'arm-timer', which: 'pre-stop', at }] };
        const before: Action[] = [{ kind: 'log', level: 'warn', message: '--pre-stop ran out of time: killing it' }];
        if (state.preStopPid !== null) before.push({ kind: 'kill-pre-stop', pid: state.preStopPid });
        return continueStop({ ...state, preStopAt: null }, fact.now, before);
      }
      if (fact.which === 'stage') {
        if (state.stage !== 'group' || state.escalated || state.stageAt === null) return { state, actions: NO_ACTIONS };
        if (fact.now < state.stageAt) return { state, actions: [{ kind: 'arm-timer', which: 'stage', at: state.stageAt }] };
        return { state, actions: [{ kind: 'scan', purpose: 'others', delayMs: 0 }] };
      }
      if (fact.which === 'stop-delay') {
        const p = state.pendingStop;
        if (p === null) return { state, actions: NO_ACTIONS };
        // Node's timers count whole milliseconds from the loop's cached time, so
        // one may fire a little before the clock reaches its time: wait again.
        if (fact.now < p.at) return { state, actions: [{ kind: 'arm-timer', which: 'stop-delay', at: p.at }] };
        return sendStop(state, p.sig, p.received, 'stop-delay', p.receivedAt, fact.now, stopGraceMs(config));
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
      if (scopeAll(config)) return { state, actions: [{ kind: 'scan', purpose: 'kill', delayMs: 0 }] };
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

/**
 * --stop-scope all, once the shell has listed the reachable processes:
 *  - `others` (stage 2: the main child exited, or STAGE_SHARE of the grace
 *    period passed): the stop signal to every process outside the main
 *    child's group (the group has had it);
 *  - `drain` (the main child is gone): exit once nobody is left, SIGKILL
 *    everyone at the deadline, else look again;
 *  - `kill` (the deadline): SIGKILL to the group and to everyone listed,
 *    who are the ones `left`.
 * When /proc cannot say (null), the stop falls back to the group alone.
 */
function scanned(state: State, purpose: ScanPurpose, procs: readonly ProcRef[] | null, now: number): Step {
  const { config } = state;
  const pgid = config.childPid;
  if (state.escalated || state.stop === null) return { state, actions: NO_ACTIONS };
  if (procs === null) {
    const s: State = { ...state, stage: 'others' };
    const actions: Action[] = [{ kind: 'log', level: 'warn', message: 'cannot list the processes to stop (/proc): only the main process group gets the stop' }];
    if (purpose === 'kill') return escalateGroup(s, now, actions);
    if (s.mainStatus !== null) actions.push({ kind: 'check-group', pgid, pollMs: DRAIN_POLL_MS });
    return { state: s, actions };
  }
  if (state.mainStatus !== null && procs.length === 0) {
    return { state: { ...state, done: true }, actions: exitActions(state, state.mainStatus, now) };
  }
  if (purpose === 'kill' || (purpose === 'drain' && state.deadline !== null && now >= state.deadline && procs.length > 0)) {
    const s: State = { ...state, left: procs };
    const others = procs.filter((p) => p.pgid !== pgid);
    const actions: Action[] = [];
    if (procs.length > 0) {
      actions.push({ kind: 'log', level: 'warn', message: `Grace period of ${state.graceMs! / 1000}s over: sending SIGKILL to ${describeLeft(procs)}` });
      if (others.length > 0) actions.push({ kind: 'signal-others', sig: SIG.KILL, procs: others, stage: 'kill', reason: 'deadline' });
    }
    // kill(-pgid) only while the group has someone (or the main child is not reaped yet).
    return escalateGroup(s, now, actions, state.mainStatus === null || procs.length > others.length);
  }
  const actions: Action[] = [];
  let s = state;
  if (purpose === 'others' && state.stage === 'group') {
    s = { ...state, stage: 'others' };
    const others = procs.filter((p) => p.pgid !== pgid);
    if (others.length > 0) {
      const reason = state.mainStatus !== null ? 'main-exited' : 'share-elapsed';
      actions.push(
        { kind: 'log', level: 'info', message: `${signalName(state.stop.sig)} to the other processes (--stop-scope all): ${describeLeft(others)}` },
        { kind: 'signal-others', sig: state.stop.sig, procs: others, stage: 'others', reason },
      );
    }
  }
  if (s.mainStatus !== null) actions.push({ kind: 'scan', purpose: 'drain', delayMs: DRAIN_POLL_MS });
  return { state: s, actions };
}

/** SIGKILL to the main child's group (the grace period is over); exit if the main child is gone. */
function escalateGroup(state: State, now: number, before: Action[], group = true): Step {
  const s: State = { ...state, escalated: true };
  const pgid = state.config.childPid;
  const actions: Action[] = group ? [...before, { kind: 'escalate', pgid, pid: pgid }] : before;
  if (s.mainStatus === null) return { state: s, actions };
  return { state: { ...s, done: true }, actions: [...actions, ...exitActions(s, s.mainStatus, now)] };
}
