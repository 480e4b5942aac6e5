/**
 * The supervisor's thin shell: wires signals, the SIGCHLD-driven reap loop
 * and timers to the pure core, and carries the core's actions out through
 * libc. From here on the child runs, so nothing may throw out of this module:
 * every failure becomes a log line and supervision goes on.
 */
import fs from 'node:fs';
import { WEXITED, WNOHANG, WNOWAIT, type Libc } from '../libc/types.js';
import { SIG, signalName } from '../libc/signals.js';
import { describeEnd, describeMemory, initialState, signalHandling, step, type Action, type CoreConfig, type Fact, type MemoryInfo, type ProcRef, type State } from './core.js';
import type { Logger } from '../log/log.js';
import type { EventSink } from '../events/sink.js';

/** How much of the --pre-stop command's output the event keeps (a line is at most 4096 bytes). */
const PRE_STOP_OUTPUT_MAX = 1024;

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // nothing to do
  }
}

export interface ShellDeps {
  libc: Libc;
  logger: Logger;
  /** Monotonic milliseconds. */
  now(): number;
  exit(code: number): void;
  /** The event stream (--events); absent when off, and then nothing below pays for it. */
  events?: EventSink;
  /** Writes the termination message (--termination-log); never throws. */
  terminationLog?(message: string): void;
  /**
   * --stop-scope all: the processes the init can reach, not zombies (see
   * reach.ts); null when /proc cannot say. Absent: null.
   */
  reachable?(): ProcRef[] | null;
  /** The init's memory cgroup (OOM kills since start, peak), read at exit; absent or null: unknown. */
  memory?: { read(): MemoryInfo | null } | null;
}

export interface Supervisor {
  /** Feed a received signal (SIGCHLD triggers a reap pass). */
  onSignal(sig: number): void;
  /** Reap everything that has exited, without blocking. */
  reap(): void;
  readonly state: State;
}

export function startSupervisor(config: CoreConfig, deps: ShellDeps): Supervisor {
  const { libc, logger, events } = deps;
  let state = initialState(config);
  // Signal handles are unref'd; this keeps the event loop (and the init) alive.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  let mainReaped = false;
  // tini's DEBUG lines are built only when they will be written: signals and
  // reaps are the hot paths.
  const debug = logger.enabled('debug');
  function dispatch(fact: Fact): void {
    try {
      const next = step(state, fact);
      state = next.state;
      for (const action of next.actions) perform(action);
    } catch (e) {
      logger.log('warn', `internal error, supervision continues: ${(e as Error)?.stack ?? e}`);
    }
  }

  /** kill(-pgid, sig); if the group is gone but the main child is not reaped yet, its pid. */
  function signalGroup(sig: number, pgid: number, pid: number, report?: (target: 'group' | 'pid', id: number, result: string) => void): void {
    const r = libc.kill(-pgid, sig);
    report?.('group', pgid, r.ok ? 'ok' : r.code);
    if (r.ok) return;
    if (r.code === 'ESRCH' && !mainReaped) {
      const r2 = libc.kill(pid, sig);
      report?.('pid', pid, r2.ok ? 'ok' : r2.code);
      if (r2.ok) return;
      if (r2.code === 'ESRCH') {
        logger.log('debug', 'Child was dead when forwarding signal');
        return;
      }
      logger.log('warn', `kill(${pid}, ${sig}) failed: ${r2.code}`);
      return;
    }
    if (r.code !== 'ESRCH') logger.log('warn', `kill(-${pgid}, ${sig}) failed: ${r.code}`);
  }

  function groupAlive(pgid: number): boolean {
    const r = libc.kill(-pgid, 0);
    return r.ok || r.code === 'EPERM';
  }

  function perform(a: Action): void {
    switch (a.kind) {
      case 'log':
        logger.log(a.level, a.message);
        return;
      case 'forward':
        signalGroup(a.sig, a.pgid, a.pid, events && ((t, id, res) => events.forward(a.sig, t, id, res, a.received, a.cause)));
        if (debug) logger.log('debug', `Passing signal: '${signalName(a.sig)}'`);
        return;
      case 'escalate':
        signalGroup(SIG.KILL, a.pgid, a.pid, events && ((t, id, res) => events.escalate(t, id, res, mainReaped)));
        return;
      case 'arm-timer': {
        const which = a.which;
        setTimeout(() => dispatch({ kind: 'timer', which, now: deps.now() }), Math.max(0, a.at - deps.now()));
        return;
      }
      case 'grace':
        events?.grace(a.sig, a.graceMs, () => a.at - deps.now());
        return;
      case 'stop-delay':
        events?.stopDelay(a.received, a.sig, a.delayMs, () => a.at - deps.now());
        return;
      case 'timeout':
        events?.timeout(a.timeoutMs, a.sig);
        return;
      case 'scan': {
        const purpose = a.purpose;
        const scan = () => {
          let procs: ProcRef[] | null = null;
          try {
            procs = deps.reachable?.() ?? null;
          } catch {
            procs = null;
          }
          dispatch({ kind: 'scanned', purpose, procs, now: deps.now() });
        };
        if (a.delayMs <= 0) scan();
        else setTimeout(scan, a.delayMs);
        return;
      }
      case 'signal-others': {
        const results: { pid: number; comm: string; result: string }[] = [];
        for (const p of a.procs) {
          const r = libc.kill(p.pid, a.sig);
          if (!r.ok && r.code !== 'ESRCH') logger.log('warn', `kill(${p.pid}, ${a.sig}) failed: ${r.code}`);
          results.push({ pid: p.pid, comm: p.comm, result: r.ok ? 'ok' : r.code });
        }
        events?.stopStage(a.stage, a.sig, a.reason, results);
        return;
      }
      case 'pre-stop':
        startPreStop(a.command);
        return;
      case 'kill-pre-stop': {
        if (preStop?.pid === a.pid) preStop.killed = true;
        const r = libc.kill(-a.pid, SIG.KILL);
        if (!r.ok && r.code !== 'ESRCH') logger.log('warn', `kill(-${a.pid}, SIGKILL) failed: ${r.code}`);
        return;
      }
      case 'check-group':
        if (!groupAlive(a.pgid)) dispatch({ kind: 'group-checked', alive: false, now: deps.now() });
        else setTimeout(() => dispatch({ kind: 'group-checked', alive: groupAlive(a.pgid), now: deps.now() }), a.pollMs);
        return;
      case 'exit':
        // A --pre-stop the init killed may not have been reaped yet: its event still says how far it got.
        if (preStop !== null) {
          const r = libc.waitpid(preStop.pid, WNOHANG);
          preStopEnded(r.ok && r.value[0] === preStop.pid ? r.value[1] : null);
        }
        {
          const memory = readMemory();
          // An OOM kill is said even without a stop: it is often why the program died (137).
          if (memory && memory.oomKills > 0 && config.stopLine !== false) logger.log('warn', describeMemory(memory));
          deps.terminationLog?.(describeEnd(a.status, a.stop, memory));
          events?.exit(a.code, a.reason, null, a.stop, memory);
        }
        clearInterval(keepAlive);
        deps.exit(a.code);
        return;
    }
  }

  function readMemory(): MemoryInfo | null {
    try {
      return deps.memory?.read() ?? null;
    } catch {
      return null;
    }
  }

  /** The --pre-stop command while it runs: its pid, where its output goes (with events on), whether the init killed it. */
  let preStop: { pid: number; out: number | null; killed: boolean } | null = null;

  /**
   * --pre-stop: /bin/sh -c COMMAND, in a process group of its own (so that
   * its bound kills whatever it started), with the program's descriptors;
   * with events on its stdout and stderr go to a memfd, read into the
   * `pre-stop` event when it ends (else to the init's, the container's log).
   */
  function startPreStop(command: string): void {
    let out: number | null = null;
    if (events && libc.memfd) {
      const m = libc.memfd('tini-ts-pre-stop');
      if (m.ok) out = m.value;
      else logger.log('debug', `${m.call} failed: ${m.code}: the --pre-stop output goes to stdout/stderr`);
    }
    const passFds = config.preStop?.passFds ?? [0, 1, 2];
    const r = libc.spawn({
      argv: [Buffer.from('/bin/sh'), Buffer.from('-c'), Buffer.from(command)],
      file: '/bin/sh',
      newProcessGroup: true,
      foregroundTty: false,
      passFds: out === null ? passFds : passFds.filter((fd) => fd === 0),
      redirect: out === null ? undefined : [{ from: out, to: 1 }, { from: out, to: 2 }],
      ...(config.preStop?.credentials && { credentials: config.preStop.credentials }),
    });
    if (!r.ok) {
      if (out !== null) closeQuietly(out);
      logger.log('warn', `--pre-stop: ${r.call} failed: ${r.code}`);
      events?.preStop({ phase: 'failed', pid: null, errno: r.code, status: null, output: null, killed: false });
      dispatch({ kind: 'pre-stop-started', pid: null, now: deps.now() });
      return;
    }
    preStop = { pid: r.value, out, killed: false };
    events?.preStop({ phase: 'started', pid: r.value, errno: null, status: null, output: null, killed: false });
    dispatch({ kind: 'pre-stop-started', pid: r.value, now: deps.now() });
  }

  /** The --pre-stop command was reaped (or, null, the init exits before it could be): its status and output in the event. */
  function preStopEnded(status: number | null): void {
    const p = preStop!;
    preStop = null;
    let output: string | null = null;
    if (p.out !== null) {
      try {
        const buf = Buffer.alloc(PRE_STOP_OUTPUT_MAX);
        output = buf.subarray(0, fs.readSync(p.out, buf, 0, buf.length, 0)).toString('utf8');
      } catch {
        output = null;
      }
      closeQuietly(p.out);
    }
    events?.preStop({ phase: 'ended', pid: p.pid, errno: null, status, output, killed: p.killed });
  }

  function reap(): void {
    for (;;) {
      // With events on, peek (WNOWAIT) at the next child to reap and read its
      // command name while /proc still has it; then reap that very child.
      let peeked = -1;
      let comm: string | null = null;
      if (events && libc.waitid) {
        const p = libc.waitid(WEXITED | WNOHANG | WNOWAIT);
        if (p.ok && p.value.pid > 0) {
          peeked = p.value.pid;
          comm = events.comm(peeked);
        }
      }
      const r = libc.waitpid(peeked > 0 ? peeked : -1, WNOHANG);
      if (!r.ok) {
        if (r.code === 'ECHILD') logger.log('trace', 'No child to wait');
        else if (r.code === 'EINTR') continue;
        else logger.log('warn', `waitpid failed: ${r.code}`);
        return;
      }
      const [pid, status] = r.value;
      if (pid === 0) {
        logger.log('trace', 'No child to reap');
        return;
      }
      if (pid === config.childPid) mainReaped = true;
      else if (pid === preStop?.pid) preStopEnded(status);
      if (debug) logger.log('debug', `Reaped child with pid: '${pid}'`);
      events?.reap(pid, status, pid === config.childPid, pid === peeked ? comm : null);
      dispatch({ kind: 'reaped', pid, status, now: deps.now() });
      if (state.done) return;
    }
  }

  dispatch({ kind: 'started', now: deps.now() });

  return {
    onSignal(sig) {
      if (events) {
        // A SIGPIPE raised by the event stream's own write must not reach the child.
        const self = sig === SIG.PIPE && events.takeSelfSigpipe();
        events.signal(sig, self ? 'suppressed' : signalHandling(state, sig));
        if (self) return;
      }
      if (sig === SIG.CHLD) {
        logger.log('debug', 'Received SIGCHLD');
        reap();
      } else dispatch({ kind: 'signal', sig, now: deps.now() });
      events?.flush();
    },
    reap,
    get state() {
      return state;
    },
  };
}
