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
 *   4. Join the cgroup (write 0 to each cgroup.procs), then unshare the
 *      cgroup namespace, so its root is the workload's cgroup.
 *   5. Spawn the program and supervise it with the init's own shell and core
 *      (forwarding, grace, 128+N), then report its raw wait status to the
 *      launcher before exiting.
 *
 * Why the init joins the cgroup itself (option "a"): the program inherits the
 * cgroup at fork, so it is inside before its first instruction, with no race
 * and no helper. The alternative (the program blocked on a FIFO open in a
 * posix_spawn file action while another thread moves it) cannot give the
 * program a cgroup namespace rooted at its own cgroup: that namespace must be
 * created by a task already inside, and Node cannot fork one. The costs, and
 * how they are handled:
 *   - the init's threads count against pids.max: the init adds its own task
 *     count to pids.max and reports it, so --pids N still means N tasks for the
 *     program, and the report subtracts it from the peak;
 *   - its ~8 MB of private memory counts against the memory limit (hence
 *     --memory >= 16m); it sets its oom_score_adj to -1000 once the program
 *     runs, so the OOM killer picks the program, never the init.
 */
import fs from 'node:fs';
import { createContainerLibc } from '../libc/container.js';
import { createLibc } from '../libc/libc.js';
import { CLONE, MS, createNsLibc } from '../libc/ns.js';
import { SIG, forwardableSignals } from '../libc/signals.js';
import type { Result } from '../libc/types.js';
import { createLogger } from '../log/log.js';
import { execFailureCode } from '../supervisor/core.js';
import { startSupervisor } from '../supervisor/shell.js';
import { listenToSignals } from '../supervisor/signal-source.js';
import { applyRootfs, readCgroupMounts } from './rootfs/apply.js';
import type { Op } from './rootfs/plan.js';
import type { ProcessSpec } from './process.js';
import { startWorkload } from './workload.js';

export const INIT_MODE = '__run-init';

export interface InitPlan {
  argv: string[];
  hostname: string | null;
  privateMounts: boolean;
  mountProc: boolean;
  loopbackUp: boolean;
  cgroupNamespace: boolean;
  /** cgroup.procs files to write 0 into */
  procsFiles: string[];
  /** pids.max to raise by the init's own task count */
  pidsMax: { file: string; limit: number } | null;
  /** write end of the status pipe (inherited) */
  statusFd: number;
  graceMs: number;
  verbosity: number;
  /** A root filesystem to build and pivot into (see rootfs/plan.ts). */
  container?: { ops: Op[]; root: string };
  /** The workload's process (user, env, cwd, rlimits, hardening); absent: as the init's own. */
  process?: ProcessSpec;
}

/** Lines the init writes to the launcher on the status pipe (JSON, one per line). */
export type InitMessage =
  | { kind: 'ready'; initTasks: number }
  | { kind: 'status'; status: number }
  | { kind: 'exec-error'; code: string; exitCode: number }
  | { kind: 'error'; message: string }
  /** A mount point the init had to create in the root filesystem (host path), to remove afterwards. */
  | { kind: 'created'; path: string };

export function runNsInit(args: string[]): void {
  const plan = JSON.parse(args[0]) as InitPlan;
  const send = (m: InitMessage): boolean => {
    try {
      fs.writeSync(plan.statusFd, JSON.stringify(m) + '\n');
      return true;
    } catch {
      return false; // the launcher is gone (EPIPE; Node ignores SIGPIPE)
    }
  };
  const ns = createNsLibc();
  const libc = createLibc();
  const logger = createLogger(plan.verbosity, libc.getpid());
  const fatal = (message: string): never => {
    // The launcher reports it (one line); say it here only if it cannot.
    if (!send({ kind: 'error', message })) logger.log('fatal', message);
    process.exit(125);
  };
  const must = (r: Result<unknown>, what = ''): void => {
    if (!r.ok) fatal(`${what}${r.call} failed: ${r.code}`);
  };

  // Start the libuv thread pool now (uv creates its threads on first use):
  // threads inherit the creating thread's credentials and seccomp filter, and
  // the pool must keep root's (see workload.ts), and count in initTasks.
  if (plan.process) fs.access('/', () => {});
  must(ns.setCloexec(plan.statusFd)); // the program must not hold the launcher's pipe
  must(ns.setParentDeathSignal(SIG.KILL));
  libc.setProcessName('tini-ts');

  if (plan.privateMounts) must(ns.mount(null, '/', null, MS.REC | MS.PRIVATE, null), 'making mounts private: ');
  if (plan.mountProc) must(ns.mount('proc', '/proc', 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, null), 'mounting /proc: ');
  if (plan.hostname !== null) must(ns.sethostname(plan.hostname));
  if (plan.loopbackUp) must(ns.interfaceUp('lo'), 'bringing up lo: ');

  for (const f of plan.procsFiles) {
    try {
      fs.writeFileSync(f, '0');
    } catch (e) {
      fatal(`cannot join the cgroup through ${f}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  const container = plan.container;
  // The host's view of our cgroups, for the container's /sys/fs/cgroup (before a cgroup namespace hides it).
  const cgroupMounts = container ? readCgroupMounts() : [];
  const initTasks = taskCount();
  if (plan.pidsMax) {
    try {
      fs.writeFileSync(plan.pidsMax.file, String(plan.pidsMax.limit + initTasks));
    } catch (e) {
      fatal(`cannot set ${plan.pidsMax.file}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  if (plan.cgroupNamespace) must(ns.unshare(CLONE.NEWCGROUP), 'cgroup namespace: ');
  const cl = container || plan.process ? createContainerLibc() : null;
  const created = (p: string) => {
    try {
      if (container && fs.lstatSync(p).dev === fs.statSync(container.root).dev) send({ kind: 'created', path: p });
    } catch {
      // gone already
    }
  };
  if (container) {
    const e = applyRootfs(container.ops, { ns, cl: cl!, root: container.root, cgroups: cgroupMounts, created });
    if (e) fatal(`setting up the root filesystem: ${e}`);
  }
  // PDEATHSIG was set above; if the launcher died before that, nobody reads
  // the pipe any more: give up now rather than run an unsupervised program.
  if (!send({ kind: 'ready', initTasks })) process.exit(125);
  // Not PID 1 (--share pid): become a subreaper, so orphans still come here.
  if (libc.getpid() !== 1) must(libc.setChildSubreaper());

  // From here on, as the plain init does (src/init.ts).
  must(libc.ignoreSignal(SIG.TTIN));
  must(libc.ignoreSignal(SIG.TTOU));
  let onSignal: (sig: number) => void = () => {};
  listenToSignals([...forwardableSignals(), SIG.CHLD], (sig) => onSignal(sig));
  must(libc.unblockSignals([...forwardableSignals(), SIG.CHLD]));

  let childPid: number;
  if (plan.process) {
    const rootDev = fs.statSync('/').dev;
    const w = startWorkload(plan.process, plan.argv, cl!, (p) => {
      if (container && fs.lstatSync(p).dev === rootDev) send({ kind: 'created', path: container.root + p });
    });
    if (w.kind === 'error') fatal(w.message);
    if (w.kind === 'exec-error') execFailed(w.code);
    childPid = (w as { pid: number }).pid;
  } else {
    const r = libc.spawn({ argv: plan.argv.map((a) => Buffer.from(a)), newProcessGroup: true, foregroundTty: false, passFds: [0, 1, 2] });
    if (!r.ok) execFailed(r.code);
    childPid = (r as { value: number }).value;
  }
  function execFailed(code: string): never {
    const exitCode = execFailureCode(code, new Set());
    logger.log('fatal', `exec ${plan.argv[0]} failed: ${code}`);
    send({ kind: 'exec-error', code, exitCode });
    process.exit(exitCode);
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
      now: () => performance.now(),
      exit: (code) => {
        if (sup.state.mainStatus !== null) send({ kind: 'status', status: sup.state.mainStatus });
        process.exit(code);
      },
    },
  );
  onSignal = (sig) => sup.onSignal(sig);
}

/** Threads of this process (they all count as tasks in pids.current). */
function taskCount(): number {
  try {
    return fs.readdirSync('/proc/self/task').length;
  } catch {
    return 0;
  }
}

/** Parse the init's status lines. */
export function parseInitMessages(text: string): InitMessage[] {
  const out: InitMessage[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as InitMessage);
    } catch {
      // a torn line from a dying init: ignore
    }
  }
  return out;
}
