/**
 * The init inside `tini-ts run`'s namespaces: the launcher re-executes its
 * own binary in the hidden mode `__run-init PLAN-JSON`, with the new pid,
 * mount, uts, ipc and net namespaces already in place (it is PID 1 there).
 *
 * Set-up, in order (any failure: one line on the status pipe, exit 125):
 *   1. PR_SET_PDEATHSIG(SIGKILL): if the launcher dies, so does the init,
 *      and with it (PID 1 of the namespace) every process inside.
 *   2. Mounts private, then a /proc of the new pid namespace (only the
 *      namespace's PID 1 or its descendants can mount that one).
 *   3. Hostname; loopback up (ioctl SIOCSIFFLAGS, no `ip` needed).
 *   4. Join the cgroup (first thing, see runNsInit: v1 moves the main thread
 *      alone through `tasks`, v2 the process through cgroup.procs), then
 *      unshare the cgroup namespace, so its root is the workload's cgroup.
 *   5. Spawn the program and supervise it with the init's own shell and core
 *      (forwarding, grace, 128+N), then report its raw wait status to the
 *      launcher before exiting. With --events, the same event stream as the
 *      plain init's (start, spawn, signal, forward, reap, grace, escalate,
 *      exit; pids as this pid namespace numbers them), written to the
 *      descriptor the launcher handed over (reopened here before anything
 *      is mounted, see openEvents).
 *
 * Why the init joins the cgroup itself (option "a"): the program inherits the
 * cgroup at fork, so it is inside before its first instruction, with no race
 * and no helper. The alternative (the program blocked on a FIFO open in a
 * posix_spawn file action while another thread moves it) cannot give the
 * program a cgroup namespace rooted at its own cgroup: that namespace must be
 * created by a task already inside, and Node cannot fork one. The costs, and
 * how they are handled:
 *   - the init's tasks in the cgroup (v1: its main thread; v2: all its
 *     threads) count against pids.max: the init adds that count (pids.current
 *     once joined) to pids.max and reports it, so --pids N still means N tasks
 *     for the program, and the report subtracts it from the peak;
 *   - its ~8 MB of private memory counts against the memory limit (hence
 *     --memory >= 16m); it sets its oom_score_adj to -1000 once the program
 *     runs, so the OOM killer picks the program, never the init.
 */
import fs from 'node:fs';
import { createContainerLibc } from '../libc/container.js';
import { createLibc } from '../libc/libc.js';
import { CLONE, MS, createNsLibc, type NsLibc } from '../libc/ns.js';
import { SIG, forwardableSignals } from '../libc/signals.js';
import type { Libc, Result } from '../libc/types.js';
import { openEventDest } from '../events/destination.js';
import { createEventSink, type EventSink } from '../events/sink.js';
import { createLogger, type Logger } from '../log/log.js';
import { VERSION } from '../texts.js';
import { execFailureCode } from '../supervisor/core.js';
import { startSupervisor } from '../supervisor/shell.js';
import { listenToSignals } from '../supervisor/signal-source.js';
import { applyRootfs, readCgroupMounts } from './rootfs/apply.js';
import type { InitMessage, InitPlan } from './init-protocol.js';
import { startWorkload } from './workload.js';
import { quickExit } from './quick-exit.js';

export { INIT_MODE, parseInitMessages, type InitMessage, type InitPlan } from './init-protocol.js';

export function runNsInit(args: string[]): void {
  const plan = JSON.parse(args[0]) as InitPlan;
  let ns: NsLibc | null = null;
  // The init buffers nothing: it leaves with _exit (see quick-exit.ts).
  const exit = (code: number): never => quickExit(ns, code);
  const send = (m: InitMessage): boolean => writeStatus(plan.statusFd, JSON.stringify(m) + '\n', ns);
  const logger = createLogger(plan.verbosity, process.pid);
  const fatal = (message: string): never => {
    // The launcher reports it (one line); say it here only if it cannot.
    if (!send({ kind: 'error', message })) logger.log('fatal', message);
    return exit(125);
  };
  const must = (r: Result<unknown>, what = ''): void => {
    if (!r.ok) fatal(`${what}${r.call} failed: ${r.code}`);
  };

  // Join the cgroup first. The libuv pool is started before (uv creates its
  // threads on first use): threads inherit the creating thread's credentials,
  // seccomp filter and (v1) cgroups, and the pool must keep root's (see
  // workload.ts) and stay out of the program's limits.
  fs.access('/', () => {});
  const joinFds: number[] = [];
  for (const f of plan.procsFiles) {
    try {
      joinFds.push(fs.openSync(f, 'w'));
    } catch (e) {
      fatal(`cannot join the cgroup through ${f}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  const joinErrors: (string | null)[] = joinFds.map(() => null);
  let pending = joinFds.length;
  if (plan.mainThreadOnly) {
    // v1 `tasks`: this (main) thread alone, synchronously and at once.
    joinFds.forEach((fd, i) => {
      try {
        fs.writeSync(fd, '0');
      } catch (e) {
        joinErrors[i] = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      }
      fs.closeSync(fd);
    });
    pending = 0;
  } else {
    // v2 cgroup.procs moves the whole process, and the kernel first waits for
    // an RCU grace period (milliseconds): on the pool, while the main thread
    // loads the C library and sets up the namespaces.
    joinFds.forEach((fd, i) =>
      fs.write(fd, '0', (e) => {
        fs.close(fd, () => {});
        if (e) joinErrors[i] = e.code ?? e.message;
        if (--pending === 0) afterJoin();
      }),
    );
  }

  ns = createNsLibc();
  const libc = createLibc();
  must(ns.setCloexec(plan.statusFd)); // the program must not hold the launcher's pipe
  must(ns.setParentDeathSignal(SIG.KILL));
  libc.setProcessName('tini-ts');
  // Before /proc or the root changes: the descriptor is reopened through /proc/self/fd.
  const events = plan.eventsFd === null ? undefined : openEvents(plan.eventsFd, libc, logger);

  if (plan.privateMounts) must(ns.mount(null, '/', null, MS.REC | MS.PRIVATE, null), 'making mounts private: ');
  if (plan.mountProc) must(ns.mount('proc', '/proc', 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, null), 'mounting /proc: ');
  if (plan.hostname !== null) must(ns.sethostname(plan.hostname));
  if (plan.loopbackUp) must(ns.interfaceUp('lo'), 'bringing up lo: ');
  if (pending === 0) afterJoin();

  function afterJoin(): void {
    const bad = joinErrors.findIndex((e) => e !== null);
    if (bad >= 0) fatal(`cannot join the cgroup through ${plan.procsFiles[bad]}: ${joinErrors[bad]}`);
    supervise(plan, ns!, libc, logger, events, { send, fatal, must, exit });
  }
}

interface InitTools {
  send(m: InitMessage): boolean;
  fatal(message: string): never;
  must(r: Result<unknown>, what?: string): void;
  exit(code: number): never;
}

/** Once in the cgroup: its limits, the cgroup namespace, the root filesystem, then the program. */
function supervise(plan: InitPlan, ns: NsLibc, libc: Libc, logger: Logger, events: EventSink | undefined, { send, fatal, must, exit }: InitTools): void {
  const container = plan.container;
  // The host's view of our cgroups, for the container's /sys/fs/cgroup (before a cgroup namespace hides it).
  const cgroupMounts = container ? readCgroupMounts() : [];
  const initTasks = initTaskCount(plan.pidsCurrent);
  if (plan.pidsMax) {
    try {
      fs.writeFileSync(plan.pidsMax.file, String(plan.pidsMax.limit + initTasks));
    } catch (e) {
      fatal(`cannot set ${plan.pidsMax.file}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  if (plan.cgroupNamespace) must(ns.unshare(CLONE.NEWCGROUP), 'cgroup namespace: ');
  const cl = container || plan.process ? createContainerLibc() : null;
  if (container) {
    const e = applyRootfs(container.ops, { ns, cl: cl!, root: container.root, cgroups: cgroupMounts });
    if (e) fatal(`setting up the root filesystem: ${e}`);
  }
  // PDEATHSIG was set above; if the launcher died before that, nobody reads
  // the pipe any more: give up now rather than run an unsupervised program.
  if (!send({ kind: 'ready', initTasks })) exit(125);
  // Not PID 1 (--share pid): become a subreaper, so orphans still come here.
  if (libc.getpid() !== 1) must(libc.setChildSubreaper());

  // From here on, as the plain init does (src/init.ts).
  must(libc.ignoreSignal(SIG.TTIN));
  must(libc.ignoreSignal(SIG.TTOU));
  let onSignal: (sig: number) => void = () => {};
  listenToSignals([...forwardableSignals(), SIG.CHLD], (sig) => onSignal(sig));
  must(libc.unblockSignals([...forwardableSignals(), SIG.CHLD]));

  if (events) {
    const sub = libc.isChildSubreaper();
    const pid = libc.getpid();
    events.start({
      pid,
      pid1: pid === 1,
      subreaper: sub.ok && sub.value,
      version: VERSION,
      options: { grace_ms: plan.graceMs, expected_codes: [], verbosity: plan.verbosity, warn_on_reap: false, parent_death_signal: SIG.KILL, subreaper: pid !== 1 },
    });
  }

  let childPid: number;
  if (plan.process) {
    const w = startWorkload(plan.process, plan.argv, cl!, (req) => libc.spawn(req));
    if (w.kind === 'error') fatal(w.message);
    if (w.kind === 'exec-error') execFailed(w.code);
    childPid = (w as { pid: number }).pid;
  } else {
    const r = libc.spawn({ argv: plan.argv.map((a) => Buffer.from(a)), newProcessGroup: true, foregroundTty: false, passFds: [0, 1, 2] });
    if (!r.ok) execFailed(r.code);
    childPid = (r as { value: number }).value;
  }
  events?.spawn(childPid, childPid, plan.argv.map((a) => Buffer.from(a)), false);
  function execFailed(code: string): never {
    const exitCode = execFailureCode(code, new Set());
    logger.log('fatal', `exec ${plan.argv[0]} failed: ${code}`);
    events?.exit(exitCode, 'exec-failed', code);
    send({ kind: 'exec-error', code, exitCode });
    return exit(exitCode);
  }
  const unprotected = () => logger.log('debug', 'could not protect the init from the OOM killer');
  if (plan.process) {
    // Asynchronously: the libuv pool's threads keep root's credentials, which
    // lowering oom_score_adj needs once the main thread has the workload's.
    fs.writeFile('/proc/self/oom_score_adj', '-1000', (e) => e && logger.log('debug', `could not protect the init from the OOM killer: ${e.code}`));
  } else {
    try {
      fs.writeFileSync('/proc/self/oom_score_adj', '-1000');
    } catch {
      unprotected();
    }
  }
  const sup = startSupervisor(
    { childPid, graceMs: plan.graceMs, expectedCodes: new Set(), warnOnReap: false },
    {
      libc,
      logger,
      events,
      now: () => Number(process.hrtime.bigint()) / 1e6,
      exit: (code) => {
        if (sup.state.mainStatus !== null) send({ kind: 'status', status: sup.state.mainStatus });
        exit(code);
      },
    },
  );
  onSignal = (sig) => sup.onSignal(sig);
}

/**
 * The event stream on the descriptor the launcher handed over, as the plain
 * init opens `fd:N` (a new non-blocking description of the init's own; N
 * itself closed). One that cannot be used is a warning: supervision matters
 * more than its record.
 */
function openEvents(fd: number, libc: Libc, logger: Logger): EventSink | undefined {
  try {
    return createEventSink(openEventDest({ kind: 'fd', fd }, libc), { deferMs: 1 });
  } catch (e) {
    logger.log('warn', `--events: ${(e as Error).message}: no events will be written`);
    return undefined;
  }
}

/** The init's tasks in the cgroup (pids.current, as nothing else is there yet); else all its threads. */
function initTaskCount(pidsCurrent: string | null): number {
  try {
    if (pidsCurrent !== null) {
      const n = Number(fs.readFileSync(pidsCurrent, 'utf8').trim());
      if (Number.isInteger(n) && n > 0) return n;
    }
  } catch {
    // no pids controller: count the threads
  }
  try {
    return fs.readdirSync('/proc/self/task').length;
  } catch {
    return 0;
  }
}

/**
 * Writes one status line to the launcher. Before the C library is loaded with
 * write(2) (Node ignores SIGPIPE until the init listens to it); afterwards
 * with send(MSG_NOSIGNAL) on the status socket: once the init listens to
 * SIGPIPE to forward it, a write to a launcher that is gone must fail with
 * EPIPE and never raise a SIGPIPE of the init's own making. False if the
 * launcher cannot be told.
 */
export function writeStatus(fd: number, text: string, ns: Pick<NsLibc, 'sendNoSignal'> | null): boolean {
  const data = Buffer.from(text);
  for (let off = 0; off < data.length; ) {
    if (ns) {
      const r = ns.sendNoSignal(fd, data.subarray(off));
      if (!r.ok) {
        if (r.code === 'EINTR') continue;
        return false;
      }
      off += r.value;
    } else {
      try {
        off += fs.writeSync(fd, data, off);
      } catch {
        return false; // the launcher is gone (EPIPE)
      }
    }
  }
  return true;
}
