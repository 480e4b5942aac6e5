/**
 * The init's event stream (schema v1, see events.schema.json and EVENTS.md):
 * one JSON object per line, written with one non-blocking write(2) each.
 *
 * Writing never blocks or breaks supervision:
 *   - the destination is reopened through /proc/self/fd/N (or opened by path)
 *     with O_NONBLOCK on a file description of the init's own, so a full pipe
 *     gives EAGAIN (the event is dropped and counted), never a stuck init, and
 *     no description the child shares (fds 0-2) is ever made non-blocking;
 *   - every line is at most PIPE_BUF (4096) bytes, so a pipe write is atomic:
 *     a line is either written whole or not at all;
 *   - EPIPE (the reader went away) stops the stream. The init listens to
 *     SIGPIPE in order to forward it, so the write also raised a SIGPIPE on the
 *     init itself: takeSelfSigpipe() lets the shell swallow that one;
 *   - any other error drops the event and is counted too.
 * The `exit` event carries the number of events dropped.
 */
import fs from 'node:fs';
import { signalName } from '../libc/signals.js';
import { decodeWaitStatus, type WaitStatus } from '../libc/types.js';

export const EVENTS_SCHEMA_VERSION = 1;
/** PIPE_BUF on Linux: writes up to this size to a pipe are atomic. */
export const MAX_LINE_BYTES = 4096;

/** How long after an EPIPE a SIGPIPE is taken to be the init's own. */
const SELF_SIGPIPE_WINDOW_MS = 2000;

export type SignalHandling = 'forward' | 'reap' | 'suppressed' | 'ignored' | 'delayed';
/** Why a signal was sent: as received, rewritten by --map, after --stop-delay, or by --timeout. */
export type ForwardCause = 'signal' | 'mapped' | 'stop-delay' | 'timeout';
export type ForwardTarget = 'group' | 'pid';

export interface StartInfo {
  pid: number;
  pid1: boolean;
  subreaper: boolean;
  version: string;
  options: {
    grace_ms: number | null;
    expected_codes: number[];
    verbosity: number;
    warn_on_reap: boolean;
    parent_death_signal: number | null;
    subreaper: boolean;
    /** --map, as received signo -> sent signo or null (dropped); absent where there is no such option (run). */
    signal_map?: Record<string, number | null>;
    stop_delay_ms?: number | null;
    timeout_ms?: number | null;
    stop_scope?: 'group' | 'all';
    exit_on_stop?: number | null;
    pre_stop?: string | null;
    /** --user as given (USER or USER:GROUP). */
    user?: string | null;
  };
}

/** The exit event's `stop`. */
export interface ExitStop {
  cause: 'signal' | 'timeout';
  received: number | null;
  sig: number;
  afterMs: number;
  killed: boolean;
  /** --stop-scope; absent: group. */
  scope?: 'group' | 'all';
  /** --stop-scope all: the processes SIGKILLed at the deadline. */
  left?: readonly { pid: number; comm: string }[];
}

/** How many processes a stop-stage event, or the exit event's stop.left, lists (the count says how many in all). */
const STAGE_LIST_MAX = 50;

export interface LeftProcess {
  pid: number;
  ppid: number;
  comm: string;
  state: string;
}

/** What the init's shell and init.ts report. Every method is total: it never throws. */
export interface EventSink {
  start(info: StartInfo): void;
  spawn(pid: number, pgid: number, argv: Buffer[], foregroundTty: boolean): void;
  signal(sig: number, handling: SignalHandling): void;
  /** `received`: the signal the init received that led to this one (null: the init's own, --timeout). */
  forward(sig: number, target: ForwardTarget, id: number, result: string, received?: number | null, cause?: ForwardCause): void;
  /** `comm` is the reaped process's command name when it was read before reaping. */
  reap(pid: number, status: WaitStatus, main: boolean, comm: string | null): void;
  /**
   * `remainingMs` reads the time left on the caller's clock: read just after
   * this clock, so that the deadline written is never later than the one the
   * caller's timer keeps (an event that read the two clocks further apart,
   * on a busy machine, announced a deadline after the SIGKILL it preceded).
   */
  grace(sig: number, graceMs: number, remainingMs: () => number): void;
  /** A received stop signal is held back (--stop-delay); `sig` is what will be sent. */
  stopDelay(received: number, sig: number, delayMs: number, remainingMs: () => number): void;
  /** --timeout fell due; `sig` is sent to the group. */
  timeout(timeoutMs: number, sig: number): void;
  escalate(target: ForwardTarget, id: number, result: string, mainReaped: boolean): void;
  /** --pre-stop: started (pid), failed to start (errno), or ended (status, output, killed at its bound). */
  preStop(info: { phase: 'started' | 'failed' | 'ended'; pid: number | null; errno: string | null; status: WaitStatus | null; output: string | null; killed: boolean }): void;
  /** --stop-scope all: `sig` sent to the processes outside the main child's group (`others`), or SIGKILL at the deadline (`kill`). */
  stopStage(stage: 'others' | 'kill', sig: number, reason: string, procs: readonly { pid: number; comm: string; result: string }[]): void;
  /** `stop`: how the stop went, when the init had sent one (--grace, --stop-delay, --timeout). */
  /** `memory`: the init's memory cgroup at exit (OOM kills since start, peak, limit), when readable. */
  exit(code: number, reason: string, errno?: string | null, stop?: ExitStop | null, memory?: { oomKills: number; peakBytes: number | null; limitBytes: number | null } | null): void;
  /** /proc/<pid>/comm, or null. Only called when events are on. */
  comm(pid: number): string | null;
  /** True (once) when a SIGPIPE just received was raised by the sink's own write. */
  takeSelfSigpipe(): boolean;
  /**
   * Writes a `signal` event held back so that the forward's kill(2) comes
   * before any write (the shell calls it once a signal has been handled).
   */
  flush(): void;
  readonly dropped: number;
  readonly written: number;
}

/** Where the lines go: one write per line; throws the write's error. */
export interface LineWriter {
  write(line: Buffer): number;
  close(): void;
}

export interface SinkOptions {
  /** Monotonic clock in ns (default process.hrtime.bigint). */
  monoNs?: () => bigint;
  /** Wall clock in ms (default Date.now). */
  wallMs?: () => number;
  /** Milliseconds, for the SIGPIPE window (default performance.now). */
  nowMs?: () => number;
  /** Root of procfs (tests). */
  proc?: string;
  /**
   * Write lines this many ms later, in one go, instead of at once (the
   * binary uses 1): the init then goes straight back to waiting after a
   * forward's kill(2), so the woken program gets the CPU first, and a burst
   * of reaps costs one pass of writes. The exit event drains everything.
   */
  deferMs?: number;
}

export function createEventSink(writer: LineWriter, opts: SinkOptions = {}): EventSink {
  const monoNs = opts.monoNs ?? (() => process.hrtime.bigint());
  const wallMs = opts.wallMs ?? (() => Date.now());
  const nowMs = opts.nowMs ?? (() => performance.now());
  const proc = opts.proc ?? '/proc';
  const deferMs = opts.deferMs;
  /** Events taken (with their times) but not built and written yet (with deferMs). */
  const queue: (() => void)[] = [];
  let drainTimer: ReturnType<typeof setTimeout> | null = null;
  let seq = 0;
  let dropped = 0;
  let written = 0;
  let broken = false;
  let epipeAt: number | null = null;
  /** A `signal` event taken (with its time) but not written yet. */
  let pending: { fields: Record<string, unknown>; mono: bigint; wall: number } | null = null;

  function flush(): void {
    if (pending === null) return;
    const p = pending;
    pending = null;
    emit('signal', p.fields, undefined, p.mono, p.wall);
  }

  function emit(event: string, fields: Record<string, unknown>, shrink?: (f: Record<string, unknown>) => void, mono?: bigint, wall?: number): void {
    if (pending !== null && mono === undefined) flush();
    const m = mono ?? monoNs();
    const w = wall ?? wallMs();
    if (deferMs === undefined) build(event, fields, shrink, m, w);
    else {
      queue.push(() => build(event, fields, shrink, m, w));
      drainTimer ??= setTimeout(drain, deferMs);
    }
  }

  function build(event: string, fields: Record<string, unknown>, shrink: ((f: Record<string, unknown>) => void) | undefined, mono: bigint, wall: number): void {
    const n = seq++;
    if (broken) {
      dropped++;
      return;
    }
    let line: Buffer;
    try {
      const head = `{"v":${EVENTS_SCHEMA_VERSION},"seq":${n},"event":"${event}","mono_ns":${mono},"time":"${new Date(wall).toISOString()}"`;
      let body = JSON.stringify(fields);
      if (body.includes('"@@')) body = body.replace(/"@@([0-9]+)@@"/g, '$1');
      line = Buffer.from(body === '{}' ? `${head}}\n` : `${head},${body.slice(1)}\n`);
      if (line.length > MAX_LINE_BYTES && shrink) {
        const f = { ...fields, truncated: true };
        shrink(f);
        line = Buffer.from(`${head},${JSON.stringify(f).slice(1)}\n`);
      }
      if (line.length > MAX_LINE_BYTES) {
        dropped++;
        return;
      }
    } catch {
      dropped++;
      return;
    }
    writeLine(line);
  }

  function drain(): void {
    if (drainTimer !== null) clearTimeout(drainTimer);
    drainTimer = null;
    for (const job of queue.splice(0)) job();
  }

  function writeLine(line: Buffer): void {
    if (broken) {
      dropped++;
      return;
    }
    try {
      const w = writer.write(line);
      if (w === line.length) written++;
      else dropped++; // a short write (a terminal): the rest of the line is lost
    } catch (e) {
      dropped++;
      const code = (e as NodeJS.ErrnoException)?.code;
      if (code === 'EPIPE') {
        broken = true;
        epipeAt = nowMs();
        try {
          writer.close();
        } catch {
          // nothing to do
        }
      }
    }
  }

  function statusFields(status: WaitStatus): Record<string, unknown> {
    const d = decodeWaitStatus(status);
    return {
      exit_code: d.kind === 'exited' ? d.code : null,
      signo: d.kind === 'signaled' ? d.signal : null,
      signal_name: d.kind === 'signaled' ? signalName(d.signal) : null,
      core_dumped: d.kind === 'signaled' ? d.core : false,
      status,
    };
  }

  function readComm(pid: number): string | null {
    try {
      return fs.readFileSync(`${proc}/${pid}/comm`, 'latin1').replace(/\n$/, '');
    } catch {
      return null;
    }
  }

  /** The init's descendants still there (alive or zombie), from /proc/<pid>/task/<tid>/children. */
  function leftDescendants(limit: number): { left: LeftProcess[]; count: number } {
    const left: LeftProcess[] = [];
    let count = 0;
    const seen = new Set<number>();
    const queue = [process.pid];
    while (queue.length > 0 && seen.size < 100_000) {
      const pid = queue.shift()!;
      let tids: string[] = [];
      try {
        tids = fs.readdirSync(`${proc}/${pid}/task`);
      } catch {
        continue;
      }
      for (const tid of tids) {
        let text = '';
        try {
          text = fs.readFileSync(`${proc}/${pid}/task/${tid}/children`, 'latin1');
        } catch {
          continue;
        }
        for (const c of text.split(' ')) {
          const child = Number(c);
          if (!Number.isInteger(child) || child <= 0 || seen.has(child)) continue;
          seen.add(child);
          count++;
          queue.push(child);
          if (left.length < limit) {
            const st = procStat(proc, child);
            left.push({ pid: child, ppid: pid, comm: st?.comm ?? readComm(child) ?? '', state: st?.state ?? '?' });
          }
        }
      }
    }
    return { left, count };
  }

  return {
    start(info) {
      emit('start', { ...info });
    },
    spawn(pid, pgid, argv, foregroundTty) {
      emit('spawn', { pid, pgid, argv: argv.map((a) => a.toString()), foreground_tty: foregroundTty }, (f) => {
        f.argv = argv.slice(0, 16).map((a) => a.toString().slice(0, 128));
        f.argc = argv.length;
      });
    },
    signal(sig, handling) {
      // Taken now, written at the next event or flush(): after the forward's kill(2).
      flush();
      pending = { fields: { signo: sig, name: signalName(sig), sender_pid: null, sender_uid: null, handling }, mono: monoNs(), wall: wallMs() };
    },
    flush,
    forward(sig, target, id, result, received = sig, cause = 'signal') {
      emit('forward', {
        signo: sig,
        name: signalName(sig),
        target,
        id,
        result,
        received_signo: received,
        received_name: received === null ? null : signalName(received),
        cause,
      });
    },
    reap(pid, status, main, comm) {
      emit('reap', { pid, main, comm, ...statusFields(status) });
    },
    grace(sig, graceMs, remainingMs) {
      const mono = monoNs();
      const deadline = mono + BigInt(Math.max(0, Math.round(remainingMs() * 1e6)));
      // deadline_mono_ns is written as a bare integer (no float rounding).
      emit('grace', { signo: sig, name: signalName(sig), grace_ms: graceMs, deadline_mono_ns: `@@${deadline}@@` });
    },
    stopDelay(received, sig, delayMs, remainingMs) {
      const mono = monoNs();
      const until = mono + BigInt(Math.max(0, Math.round(remainingMs() * 1e6)));
      emit('stop-delay', {
        received_signo: received,
        received_name: signalName(received),
        signo: sig,
        name: signalName(sig),
        delay_ms: delayMs,
        until_mono_ns: `@@${until}@@`,
      });
    },
    timeout(timeoutMs, sig) {
      emit('timeout', { timeout_ms: timeoutMs, signo: sig, name: signalName(sig) });
    },
    escalate(target, id, result, mainReaped) {
      emit('escalate', { signo: 9, name: 'SIGKILL', target, id, result, reason: 'grace-expired', main_reaped: mainReaped });
    },
    preStop(info) {
      const st = info.status === null ? { exit_code: null, signo: null, signal_name: null, core_dumped: false, status: null } : statusFields(info.status);
      emit('pre-stop', { phase: info.phase, pid: info.pid, errno: info.errno, ...st, output: info.output, killed: info.killed }, (f) => {
        f.output = typeof f.output === 'string' ? f.output.slice(0, 256) : null;
      });
    },
    stopStage(stage, sig, reason, procs) {
      const list = procs.slice(0, STAGE_LIST_MAX).map((p) => ({ pid: p.pid, comm: p.comm, result: p.result }));
      emit('stop-stage', { stage, signo: sig, name: signalName(sig), reason, procs: list, count: procs.length }, (f) => {
        f.procs = list.slice(0, 10).map((p) => ({ ...p, comm: p.comm.slice(0, 16) }));
      });
    },
    exit(code, reason, errno = null, stop = null, memory = null) {
      flush();
      drain();
      const { left, count } = leftDescendants(20);
      const stopFields =
        stop === null
          ? null
          : {
              cause: stop.cause,
              received_signo: stop.received,
              signo: stop.sig,
              name: signalName(stop.sig),
              after_ms: Math.round(stop.afterMs),
              sigkill: stop.killed,
              ...(stop.scope === undefined ? {} : { scope: stop.scope }),
              ...(stop.left === undefined
                ? {}
                : { left: stop.left.slice(0, STAGE_LIST_MAX).map((p) => ({ pid: p.pid, comm: p.comm })), left_count: stop.left.length }),
            };
      // The exit event's own write is not counted in `dropped`.
      const memoryFields = memory === null ? {} : { memory: { oom_kills: memory.oomKills, peak_bytes: memory.peakBytes, limit_bytes: memory.limitBytes } };
      emit('exit', { code, reason, errno, stop: stopFields, ...memoryFields, left, left_count: count, dropped }, (f) => {
        f.left = left.slice(0, 5);
        const st = f.stop as { left?: unknown[] } | null;
        if (st?.left) f.stop = { ...st, left: st.left.slice(0, 5) };
      });
      drain(); // the process ends right after (_exit)
    },
    comm: readComm,
    takeSelfSigpipe() {
      if (epipeAt === null) return false;
      const mine = nowMs() - epipeAt <= SELF_SIGPIPE_WINDOW_MS;
      epipeAt = null;
      return mine;
    },
    get dropped() {
      return dropped;
    },
    get written() {
      return written;
    },
  };
}

function procStat(proc: string, pid: number): { comm: string; state: string } | null {
  try {
    const s = fs.readFileSync(`${proc}/${pid}/stat`, 'latin1');
    const open = s.indexOf('(');
    const close = s.lastIndexOf(')');
    return { comm: s.slice(open + 1, close), state: s.slice(close + 2, close + 3) };
  } catch {
    return null;
  }
}
