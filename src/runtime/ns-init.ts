/**
 * The init inside `tini-ts run`'s namespaces (PID 1 there). The launcher
 * starts this binary as `tini-ts __run-init CHANNEL ADDON` with new pid,
 * mount, uts, ipc and net namespaces in place and UV_THREADPOOL_SIZE=1 as
 * its whole environment; the plan comes over the channel.
 *
 * Set-up (any failure: one message to the launcher, exit 125):
 *   1. Join the cgroup (first: v1 moves the main thread alone through
 *      `tasks`, v2 the process through cgroup.procs, on the libuv pool while
 *      the main thread loads the C library); PR_SET_PDEATHSIG(SIGKILL).
 *   2. Mounts private, a /proc of the new pid namespace (only its PID 1 or
 *      descendants can mount that one), hostname (the launcher made the
 *      network namespace, lo up, and hands it over first: see spawn-init.ts).
 *   3. pids.max raised by the init's own tasks, the cgroup namespace (its
 *      root is the workload's cgroup), the root filesystem.
 *   4. With a workload process spec: the working directory, then the
 *      workload's credentials, capabilities, no_new_privs and seccomp filter
 *      on every thread of the init, Node's own included (on v1 each also
 *      joins the cgroup): Node's other threads never run the workload's
 *      code, but a workload allowed to ptrace could make them run its system
 *      calls. They take exactly what the workload's exec will leave it, so
 *      the init never outranks it. Without a spec (plain `run`, where the
 *      workload keeps root's full privileges) nothing changes.
 *
 * Then supervision: reads the process plan, listens to signals, tells the
 * launcher it is ready (signals sent to the launcher meanwhile were kept
 * there), spawns the program and supervises it with the init's own shell
 * and core (forwarding, grace, 128+N), then reports the raw wait status.
 * With --events, the plain init's event stream (pids as this pid namespace
 * numbers them) to the descriptor the launcher handed over.
 */
import fs from 'node:fs';
import { createContainerLibc, threadCalls, type ContainerLibc } from '../libc/container.js';
import { CLONE, MS, O, S_IFIFO } from '../libc/consts.js';
import { sysctlFile } from '../libc/sysctl.js';
import { loadKoffi, useAddonFd } from '../libc/koffi-native.js';
import { createLibc } from '../libc/libc.js';
import { createNsLibc, type NsLibc } from '../libc/ns.js';
import { SIG, forwardableSignals } from '../libc/signals.js';
import type { Libc, Result, SpawnRequest } from '../libc/types.js';
import { openEventDest } from '../events/destination.js';
import { createEventSink, type EventSink } from '../events/sink.js';
import { createLogger, type Logger } from '../log/log.js';
import { VERSION } from '../texts.js';
import { execFailureCode } from '../supervisor/core.js';
import { startSupervisor } from '../supervisor/shell.js';
import { listReachable } from '../supervisor/reach.js';
import { listenToSignals } from '../supervisor/signal-source.js';
import { signalPipeProbe, sizeSignalPipe } from '../supervisor/signal-pipe.js';
import { decodeBytes, encodeFrame, readFrameSync } from './channel.js';
import { render, within } from '../libc/error.js';
import { applyRootfs } from './rootfs/apply.js';
import { readCgroupMounts, type CgroupMountInfo } from './rootfs/cgroup-mounts.js';
import path from 'node:path';
import { INIT_TASKS, pidsMaxValue, type InitMessage, type LauncherMessage, type ProcessPlan, type SetupPlan } from './init-protocol.js';
import { dropPrivileges, gatedRlimits, limitChild, makeWorkdir, sharedRlimit, workloadRequest } from './workload.js';
import { quickExit } from './quick-exit.js';
import { createTerminalLibc } from '../libc/terminal.js';
import { bindConsole, connectConsole, makeTerminal, slaveAsStdio, stdioTerminal, type TerminalSetup } from './terminal.js';
import { resolveCredentials, type ProcessSpec } from './process.js';
import { runHooks } from './oci/hooks.js';

export { INIT_MODE } from './init-protocol.js';

interface Tools {
  ns: NsLibc | null;
  send(m: InitMessage): boolean;
  fatal(message: string): never;
  must(r: Result<unknown>, what?: string): void;
  exit(code: number): never;
}

function tools(channel: number, verbosity: number): Tools {
  const t: Tools = {
    ns: null,
    // The init buffers nothing: it leaves with _exit (see quick-exit.ts).
    exit: (code) => quickExit(t.ns, code),
    send: (m) => sendMessage(channel, m, t.ns),
    fatal(message) {
      // The launcher reports it (one line); say it here only if it cannot.
      if (!t.send({ kind: 'error', message })) createLogger(verbosity, process.pid).log('fatal', message);
      return t.exit(125);
    },
    must(r, what = '') {
      if (!r.ok) t.fatal(`${what}${r.call} failed: ${r.code}`);
    },
  };
  return t;
}

/** The init's arguments: the channel and the FFI addon, as inherited descriptors. */
function descriptors(args: string[]): { channel: number; addon: number | null } {
  const channel = Number(args[0]);
  // "-": spawned at the binary's entry (build/entry-spawn.c), with no addon and no environment.
  const addon = args[1] === '-' ? null : Number(args[1]);
  if (!Number.isInteger(channel) || (addon !== null && !Number.isInteger(addon))) {
    fs.writeSync(2, 'tini-ts: this mode is started by `tini-ts run` only\n');
    process.exit(125);
  }
  if (addon !== null) useAddonFd(addon);
  // One pool thread at most, as the launcher's spawn says in the environment (libuv reads it when the pool starts).
  else process.env.UV_THREADPOOL_SIZE ??= '1';
  return { channel, addon };
}

type PlanOf<K extends LauncherMessage['kind']> = Extract<LauncherMessage, { kind: K }>['plan'];

function readMessage<K extends LauncherMessage['kind']>(channel: number, kind: K, t: Tools): PlanOf<K> {
  let m: LauncherMessage | null;
  try {
    m = readFrameSync(channel) as LauncherMessage | null;
  } catch (e) {
    return t.fatal(`reading the ${kind} plan from the launcher: ${(e as Error).message}`);
  }
  if (m === null) return t.exit(125); // the launcher is gone
  if (m.kind !== kind) return t.fatal(`expected the ${kind} plan from the launcher, got '${m.kind}'`);
  return m.plan as PlanOf<K>;
}

/** `__run-init CHANNEL ADDON [rootfs]` (the last word only chooses the code cache). */
export function runNsInit(args: string[]): void {
  const { channel, addon } = descriptors(args);
  let t = tools(channel, 1);
  // Spawned at the entry, this init starts beside the launcher, which is still
  // planning: the addon is loaded while the plan is made, not after it comes.
  if (addon === null) {
    try {
      loadKoffi();
    } catch (e) {
      t.fatal((e as Error).message); // one line, on the channel: the launcher says it
    }
  }
  const plan = readMessage(channel, 'setup', t);
  t = tools(channel, plan.verbosity);

  // Join the cgroup first (see the header). The libuv pool, which a join
  // through cgroup.procs runs on, is started here, before any join (with a
  // workload of its own, its thread joins the v1 cgroups with the others when
  // they take the workload's privileges). Only
  // v1 `tasks` to write: no pool (its threads cost the start-up, then the exit).
  if (plan.procsFiles.some((f) => !f.endsWith('/tasks'))) fs.access('/', () => {});
  const joinFds: number[] = [];
  for (const f of plan.procsFiles) {
    try {
      joinFds.push(fs.openSync(f, 'w'));
    } catch (e) {
      t.fatal(`cannot join the cgroup through ${f}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  const joinErrors: (string | null)[] = joinFds.map(() => null);
  let pending = 0;
  // v1 `tasks` files stay open: with a workload of its own, each thread of the init joins too (see setUp).
  const tasksFds: { fd: number; file: string }[] = [];
  joinFds.forEach((fd, i) => {
    if (plan.procsFiles[i].endsWith('/tasks')) {
      // v1 `tasks`: this thread alone, at once.
      try {
        fs.writeSync(fd, '0');
      } catch (e) {
        joinErrors[i] = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      }
      if (plan.process) tasksFds.push({ fd, file: plan.procsFiles[i] });
      else fs.closeSync(fd);
      return;
    }
    // cgroup.procs (v2, or a hybrid host's v2 tree) makes the kernel wait for an RCU grace period: on the pool.
    pending++;
    fs.write(fd, '0', (e) => {
      // Closed here: nothing may be left on the pool when the event loop is renewed (see setUp).
      fs.closeSync(fd);
      if (e) joinErrors[i] = e.code ?? e.message;
      if (--pending === 0) afterJoin();
    });
  });

  const ns = (t.ns = createNsLibc());
  const libc = createLibc();
  // The addon is loaded: nothing of the host's stays open in the init.
  if (addon !== null) fs.closeSync(addon);
  t.must(ns.setCloexec(channel));
  t.must(ns.setParentDeathSignal(SIG.KILL));
  libc.setProcessName('tini-ts');
  // Spawned in the launcher's network namespace: the container's comes next on the channel (see spawn-init.ts).
  if (plan.netnsFollows) {
    const netns = createTerminalLibc().recvFd(channel);
    if (!netns.ok) return t.fatal(`receiving the network namespace from the launcher: ${netns.call} failed: ${netns.code}`);
    const joined = ns.setns(netns.value, CLONE.NEWNET);
    ns.close(netns.value);
    t.must(joined, 'joining the network namespace: ');
  }
  if (plan.privateMounts) t.must(ns.mount(null, '/', null, MS.REC | MS.PRIVATE, null), 'making mounts private: ');
  if (plan.mountProc) t.must(ns.mount('proc', '/proc', 'proc', MS.NOSUID | MS.NODEV | MS.NOEXEC, null), 'mounting /proc: ');
  if (plan.hostname !== null) t.must(ns.sethostname(plan.hostname));
  // In the container's network and ipc namespaces (the launcher checked that the keys are namespaced).
  for (const [key, value] of Object.entries(plan.sysctl)) {
    try {
      fs.writeFileSync(sysctlFile(key), value);
    } catch (e) {
      t.fatal(`setting the sysctl ${key}=${value}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  if (pending === 0) afterJoin();

  function afterJoin(): void {
    const bad = joinErrors.findIndex((e) => e !== null);
    if (bad >= 0) t.fatal(`cannot join the cgroup through ${plan.procsFiles[bad]}: ${joinErrors[bad]}`);
    setUp(plan, channel, ns, libc, t, tasksFds);
  }
}

/** Once in the cgroup: its limits, the cgroup namespace, the root filesystem, the workload's privileges, then supervision. */
function setUp(plan: SetupPlan, channel: number, ns: NsLibc, libc: Libc, t: Tools, tasksFds: { fd: number; file: string }[]): void {
  const container = plan.container;
  // OCI create's console socket and start FIFO, while the host's tree is still here (an init spawned before create had them).
  if (plan.terminal && plan.terminal.socket === null) {
    const s = connectConsole(plan.terminal.path, createTerminalLibc());
    if (typeof s === 'string') t.fatal(s);
    plan.terminal.socket = s;
  }
  if (plan.startGateFifo !== undefined) {
    try {
      setupGateFd = fs.openSync(plan.startGateFifo, O.PATH);
    } catch (e) {
      t.fatal(`cannot open the start FIFO ${plan.startGateFifo}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  // The host's view of our cgroups, for the workload's /sys/fs/cgroup (before a cgroup namespace hides it).
  const ownCgroups = container || plan.privateMounts ? (plan.cgroupMounts ?? readCgroupMounts()) : [];
  if (plan.pidsMax) {
    try {
      fs.writeFileSync(plan.pidsMax.file, pidsMaxValue(plan.pidsMax.limit, INIT_TASKS));
    } catch (e) {
      t.fatal(`cannot set ${plan.pidsMax.file}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  if (plan.cgroupNamespace) t.must(ns.unshare(CLONE.NEWCGROUP), 'cgroup namespace: ');
  // Without a root filesystem the workload keeps the host's /sys: give it its own cgroups there, as a
  // container's, so that runtimes that size themselves from /sys/fs/cgroup (JVM, .NET, Go, Node) see the
  // limits. Not with --share cgroup: who keeps the host's cgroup namespace keeps its view of the tree.
  if (!container && plan.privateMounts && plan.cgroupNamespace) {
    const e = mountOwnCgroups(ns, ownCgroups);
    if (e) t.fatal(e);
  }
  const cl = container || plan.process ? createContainerLibc() : null;
  const gate = plan.process && gatedRlimits(plan.process.rlimits).length > 0 ? makeGate(cl!, t) : null;
  let hooksRan = false;
  const beforePivot = () => {
    if (!plan.hooks || hooksRan) return;
    hooksRan = true;
    if (!t.send({ kind: 'hooks' })) t.exit(125);
    const { state } = readMessage(channel, 'hooks-done', t);
    const ran = runHooks(libc, ns, 'createContainer', plan.hooks.createContainer, { ...state, pid: libc.getpid() });
    if (!ran.ok) t.fatal(render(ran.error));
  };
  if (container) {
    const r = applyRootfs(container.ops, { ns, cl: cl!, root: container.root, cgroups: ownCgroups, beforePivot });
    if (!r.ok) t.fatal(render(within(r.error, 'setting up the root filesystem')));
  }
  beforePivot(); // the launcher waits for it, pivot or not
  // In the container's /dev/pts, as runc does: after the root is in place, while still privileged.
  if (plan.terminal) {
    const e = setUpTerminal(plan.terminal, plan.process, ns);
    if (e) t.fatal(e);
  }
  if (!plan.process) {
    // The workload keeps root's privileges: on cgroup v1 only this (main) thread is in the cgroup.
    supervise(channel, libc, t, plan.mainThreadOnly);
    return;
  }
  const spec = plan.process;
  if (spec.cwd !== null) {
    const made = makeWorkdir(spec.cwd);
    if (!made.ok) t.fatal(render(made.error));
  }
  // The workload's OOM score: the init and the workload share it (lowering it needs the privileges still held here).
  if (spec.oomScoreAdj !== undefined && spec.oomScoreAdj !== null) {
    try {
      fs.writeFileSync('/proc/self/oom_score_adj', String(spec.oomScoreAdj));
    } catch (e) {
      t.fatal(`setting the OOM score adjustment ${spec.oomScoreAdj}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  // After the root filesystem and the working directory are made (their modes are runc's, whatever the mask).
  if (spec.umask !== undefined && spec.umask !== null) process.umask(spec.umask);
  // Every thread of the init (Node's own included) joins the v1 cgroups and takes the workload's privileges:
  // which threads there are, and that each took them, only the container's /proc tells.
  if (!fs.existsSync('/proc/self/task')) t.fatal("the container has no /proc: the init needs one to give each of its threads the workload's privileges (add a proc mount to config.json's mounts)");
  const first = tasksFds.map((j) => threadCalls.joinTasks(j.fd, j.file));
  const dropped = dropPrivileges(spec, cl!, { everyThread: true, first });
  if (!dropped.ok) t.fatal(render(dropped.error));
  for (const j of tasksFds) fs.closeSync(j.fd);
  // A seccomp filter may refuse the io_uring Node's event loop made at start-up: a new loop.
  if (spec.seccomp !== null) t.must(cl!.renewEventLoop(), 'renewing the event loop under the seccomp filter: ');
  // The credential change cleared the parent-death signal.
  t.must(ns.setParentDeathSignal(SIG.KILL));
  limitGateFd = gate;
  supervise(channel, libc, t);
}

/** The pty, its master to the console socket, the slave as the init's stdio (owned by the workload's user); an error text, or null. */
function setUpTerminal(setup: TerminalSetup, spec: ProcessSpec | undefined, ns: NsLibc): string | null {
  const tl = createTerminalLibc();
  if (setup.socket === null) return 'the console socket was not connected'; // connected at the set-up's start
  const made = makeTerminal({ socket: setup.socket, size: setup.size }, tl);
  if ('error' in made) return made.error;
  const consoleError = bindConsole(made.slave, ns);
  if (consoleError) return consoleError;
  let owner: { uid: number; gid: number } | null = null;
  if (spec) {
    const creds = resolveCredentials(spec, readOr('/etc/passwd'), readOr('/etc/group'));
    // A user that cannot be resolved fails a few steps later, in dropPrivileges, with its own message.
    if (typeof creds !== 'string') owner = creds;
  }
  return slaveAsStdio(made.slave, owner, tl);
}

/**
 * /sys/fs/cgroup of a run without a root filesystem (in its own mount
 * namespace): cgroup v2, the workload's cgroup bound over the whole tree;
 * v1, a tmpfs over the hierarchies, with the workload's cgroup of each
 * hierarchy tini-ts made one in bound at its usual place. Read-only.
 */
function mountOwnCgroups(ns: NsLibc, own: CgroupMountInfo[]): string | null {
  const bind = (source: string, target: string): string | null => {
    const b = ns.mount(source, target, null, MS.BIND, null);
    if (!b.ok) return `binding the workload's cgroup onto ${target}: ${b.code}`;
    const r = ns.mount(null, target, null, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, null);
    return r.ok ? null : `making ${target} read-only: ${r.code}`;
  };
  const v2 = own.find((m) => m.fstype === 'cgroup2' && m.mountPoint === '/sys/fs/cgroup');
  if (v2) return bind(v2.source, v2.mountPoint);
  const v1 = own.filter((m) => m.fstype === 'cgroup' && path.posix.dirname(m.mountPoint) === '/sys/fs/cgroup');
  if (v1.length === 0) return null;
  // The sources are reached through the host's tree: open them before the tmpfs hides it.
  const held: { fd: number; target: string }[] = [];
  try {
    for (const m of v1) held.push({ fd: fs.openSync(m.source, O.PATH), target: m.mountPoint });
    const t = ns.mount('tmpfs', '/sys/fs/cgroup', 'tmpfs', MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=755');
    if (!t.ok) return `mounting a tmpfs on /sys/fs/cgroup: ${t.code}`;
    for (const h of held) {
      fs.mkdirSync(h.target, { recursive: true });
      const e = bind(`/proc/self/fd/${h.fd}`, h.target);
      if (e) return e;
    }
    const r = ns.mount(null, '/sys/fs/cgroup', null, MS.REMOUNT | MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC, 'mode=755');
    return r.ok ? null : `making /sys/fs/cgroup read-only: ${r.code}`;
  } catch (e) {
    return `giving the workload its own /sys/fs/cgroup: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  } finally {
    for (const h of held) fs.closeSync(h.fd);
  }
}

/**
 * The workload's rlimit gate: a FIFO (an anonymous pipe would not do: opening
 * one through /proc never waits for a partner), unlinked at once and kept as
 * an O_PATH descriptor. The spawned child opens it for reading and waits
 * there, before exec, until the init has set its rlimits and
 * opens it for writing. Mode 0666: the stage and the workload may have
 * another uid than the one creating it; nothing but this descriptor reaches it.
 */
function makeGate(cl: ContainerLibc, t: Tools): number {
  let dir: string | null = null;
  try {
    dir = fs.mkdtempSync('/tmp/tini-ts-gate-');
    const fifo = `${dir}/gate`;
    t.must(cl.mknod(fifo, S_IFIFO | 0o666, 0, 0));
    fs.chmodSync(fifo, 0o666); // past the umask
    const fd = fs.openSync(fifo, O.PATH);
    fs.unlinkSync(fifo);
    return fd;
  } catch (e) {
    return t.fatal(`cannot make the workload's start gate: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** What supervision works with, from the plan to the workload's spawn. */
interface Stage {
  plan: ProcessPlan;
  libc: Libc;
  t: Tools;
  logger: Logger;
  events: EventSink | undefined;
  argv: Buffer[];
  req: SpawnRequest & { env: Buffer[] };
  signals: Signals;
}

interface Signals {
  /** Signals that came before the supervisor: passed on once it runs. */
  early: number[];
  /** Where a signal goes now (it changes as the stage moves on). */
  onSignal: (sig: number) => void;
}

/** Spawn the workload and supervise it, as the plain init does (src/init.ts). */
function supervise(channel: number, libc: Libc, t: Tools, mainThreadOnly = false): void {
  const s = prepare(readMessage(channel, 'process', t), libc, t);
  // PDEATHSIG is set: if the launcher died before, nobody reads the channel
  // any more; give up now rather than run an unsupervised program.
  if (!t.send({ kind: 'ready', initTasks: mainThreadOnly ? 1 : taskCount() })) t.exit(125);
  if (s.events) startEvents(s);
  const gate = setupGateFd ?? s.plan.startGate;
  if (gate === null) spawnWorkload(s);
  else awaitStart(s, gate);
}

/** Everything before `ready`: the init's own settings, its signals, the workload's request (the program looked up). */
function prepare(plan: ProcessPlan, libc: Libc, t: Tools): Stage {
  const logger = createLogger(plan.verbosity, libc.getpid());
  const events = plan.eventsFd === null ? undefined : openEvents(plan.eventsFd, libc, logger);
  // Not PID 1 (--share pid): become a subreaper, so orphans still come here;
  // and no pid namespace dies with the init, so a launcher that dies makes it
  // stop the workload (SIGTERM, forwarded, then SIGKILL after the grace
  // period) rather than vanish and leave it unsupervised.
  if (libc.getpid() !== 1) {
    t.must(libc.setChildSubreaper());
    if (plan.tiedToLauncher) t.must(t.ns!.setParentDeathSignal(SIG.TERM));
  }
  // OCI create: the launcher exits once the init is ready; the init is the container.
  if (!plan.tiedToLauncher) t.must(t.ns!.setParentDeathSignal(0));
  t.must(libc.ignoreSignal(SIG.TTIN));
  t.must(libc.ignoreSignal(SIG.TTOU));
  const argv = decodeBytes(plan.argv);
  const signals: Signals = { early: [], onSignal: () => {} };
  listenToSignals([...forwardableSignals(), SIG.CHLD], (sig) => signals.onSignal(sig));
  t.must(libc.unblockSignals([...forwardableSignals(), SIG.CHLD]));
  // The program is looked up before the init reports ready (an OCI create fails on a missing one, as runc's does).
  const w = workloadRequest({ argv, env: decodeBytes(plan.env), cwd: plan.cwd, programMustExist: plan.programMustExist, homeOf: plan.homeOf });
  if (!w.ok) return t.fatal(render(w.error));
  // OCI create --preserve-fds N: the caller's fds 3 .. 3+N-1, kept open by the init, pass to the workload.
  let req = { ...w.value, passFds: [0, 1, 2, ...Array.from({ length: plan.preserveFds ?? 0 }, (_, i) => 3 + i)] };
  if (plan.terminal) {
    const tty = stdioTerminal();
    if ('error' in tty) return t.fatal(tty.error);
    req = { ...req, terminal: tty.path };
  }
  // The gated spawn (see below) runs on the libuv pool: its thread is one of the init's tasks.
  if (gatedRlimits(plan.rlimits).length > 0) fs.access('/', () => {});
  return { plan, libc, t, logger, events, argv, req, signals };
}

function startEvents({ libc, plan, events }: Stage): void {
  const sub = libc.isChildSubreaper();
  const pid = libc.getpid();
  events!.start({
    pid,
    pid1: pid === 1,
    subreaper: sub.ok && sub.value,
    version: VERSION,
    options: { grace_ms: plan.graceMs, expected_codes: [], verbosity: plan.verbosity, warn_on_reap: false, parent_death_signal: pid === 1 ? SIG.KILL : SIG.TERM, subreaper: pid !== 1 },
  });
}

/**
 * OCI create: wait until `start` opens the FIFO for reading (the open runs
 * on the libuv pool, so signals keep coming in): SIGKILL ends the init as
 * it ends anything; a signal that would stop the workload ends the init
 * now, there being none yet (as runc's waiting init dies of it); others
 * wait for the workload.
 */
function awaitStart(s: Stage, gate: number): void {
  const { t, plan, libc } = s;
  s.signals.onSignal = (sig) => {
    if (STOPPING.has(sig)) t.exit(128 + sig);
    s.signals.early.push(sig);
  };
  fs.open(`/proc/self/fd/${gate}`, 'w', (e, fd) => {
    if (e) return t.fatal(`waiting for start: ${e.code}`);
    try {
      fs.writeSync(fd, '0');
      fs.closeSync(fd);
      fs.closeSync(gate);
    } catch (err) {
      return t.fatal(`waiting for start: ${(err as NodeJS.ErrnoException).code}`);
    }
    // startContainer hooks: in the container, after `start`, before the workload (as runc's init).
    const sc = plan.startContainer;
    const ran = sc ? runHooks(libc, (t.ns ??= createNsLibc()), 'startContainer', sc.hooks, { ...sc.state, pid: libc.getpid() }) : null;
    if (ran && !ran.ok) t.fatal(render(ran.error));
    spawnWorkload(s);
  });
}

function spawnWorkload(s: Stage): void {
  // The limits the init can share it takes on itself: the child inherits them.
  const shared = s.plan.rlimits.filter(sharedRlimit);
  if (shared.length > 0) {
    const limited = limitChild(0, shared, createContainerLibc());
    if (!limited.ok) return s.t.fatal(render(within(limited.error, "setting up the workload's process")));
  }
  const gated = gatedRlimits(s.plan.rlimits);
  if (gated.length === 0) started(s, s.libc.spawn(s.req));
  else gatedSpawn(s, gated);
}

/**
 * The workload's rlimits are its own (the init keeps its): the child waits
 * at a gate before exec while this thread sets them with prlimit(2). The
 * spawn runs on the libuv pool, as posix_spawn holds its calling thread
 * until the child has exec'd. Signals meanwhile wait in `early`.
 */
function gatedSpawn(s: Stage, rlimits: Stage['plan']['rlimits']): void {
  const { t, libc } = s;
  s.signals.onSignal = (sig) => s.signals.early.push(sig);
  const cl = createContainerLibc();
  if (limitGateFd === null) return t.fatal('no rlimit gate for the workload (the init had no workload process spec)');
  const gateRead = limitGateFd;
  let result: Result<number> | null = null;
  libc.spawnAsync!({ ...s.req, gate: gateRead }, (r) => {
    result = r;
  });
  const deadline = Date.now() + GATE_MS;
  let gateOpened = false;
  const onlyChild = (): number | null => {
    if (gateOpened) return null;
    for (const task of fs.readdirSync('/proc/self/task')) {
      const kids = readOr(`/proc/self/task/${task}/children`).trim();
      if (kids !== '') return Number(kids.split(' ')[0]);
    }
    return null;
  };
  const poll = () => {
    if (result) {
      t.ns!.close(gateRead);
      return started(s, result); // failed before the gate, or passed it
    }
    const child = onlyChild();
    if (child === null) {
      if (Date.now() > deadline) return t.fatal(`the workload's process did not reach its start within ${GATE_MS / 1000}s`);
      return void setImmediate(poll);
    }
    const limited = limitChild(child, rlimits, cl);
    if (!limited.ok) {
      libc.kill(child, SIG.KILL);
      t.fatal(render(within(limited.error, "setting up the workload's process")));
    }
    try {
      fs.closeSync(fs.openSync(`/proc/self/fd/${gateRead}`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    } catch (err) {
      // ENXIO: the child exists but has not reached its open yet.
      if ((err as NodeJS.ErrnoException).code === 'ENXIO' && Date.now() < deadline) return void setImmediate(poll);
      libc.kill(child, SIG.KILL);
      t.fatal(`opening the workload's start gate: ${(err as NodeJS.ErrnoException).code}`);
    }
    gateOpened = true;
    setImmediate(poll);
  };
  poll();
}

function started(s: Stage, r: Result<number>): void {
  const { t, plan, libc, logger, events, argv } = s;
  if (!r.ok) {
    const exitCode = execFailureCode(r.code, new Set());
    logger.log('fatal', `exec ${argv[0].toString()} failed: ${r.code}`);
    events?.exit(exitCode, 'exec-failed', r.code);
    t.send({ kind: 'exec-error', code: r.code, exitCode });
    t.exit(exitCode);
  }
  const childPid = (r as { value: number }).value;
  // From here on the child runs: nothing below may throw or exit on its own.
  t.send({ kind: 'spawned' });
  events?.spawn(childPid, childPid, argv, plan.terminal === true);
  const sup = startSupervisor(
    // The launcher's report says how it ended: no stop line of the init's own.
    {
      childPid,
      graceMs: plan.graceMs,
      expectedCodes: new Set(),
      warnOnReap: false,
      stopLine: false,
      signalMap: new Map(plan.stop?.signalMap ?? []),
      stopDelayMs: plan.stop?.stopDelayMs ?? null,
      stopScope: plan.stop?.stopScope ?? 'group',
      exitOnStop: plan.stop?.exitOnStop ?? null,
      // The container's /bin/sh, with the init's (the workload's) credentials and stdio.
      preStop: plan.stop?.preStop ? { command: plan.stop.preStop, passFds: [0, 1, 2] } : null,
    },
    {
      libc,
      logger,
      events,
      now: () => Number(process.hrtime.bigint()) / 1e6,
      reachable: () => listReachable(process.pid),
      exit: (code) => {
        if (sup.state.mainStatus !== null) t.send({ kind: 'status', status: sup.state.mainStatus, exitCode: code });
        t.exit(code);
      },
    },
  );
  s.signals.onSignal = (sig) => sup.onSignal(sig);
  for (const sig of s.signals.early.splice(0)) sup.onSignal(sig);
  // Room for every queued signal in libuv's pipe, as the plain init does (after the spawn: off its path).
  sizeSignalPipe(libc, logger, signalPipeProbe);
}

const GATE_MS = 10_000;
/** What a `docker stop`-like signal is: it ends an init still waiting for start. */
const STOPPING: ReadonlySet<number> = new Set([SIG.TERM, SIG.INT, SIG.HUP, SIG.QUIT]);
/** The rlimit gate set-up made (see makeGate); null without rlimits. */
let limitGateFd: number | null = null;
/** OCI create's start FIFO as the set-up opened it (SetupPlan.startGateFifo), or null. */
let setupGateFd: number | null = null;

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return '';
  }
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

/** The init's threads (what counts against pids.max besides the workload). */
function taskCount(): number {
  try {
    return fs.readdirSync('/proc/self/task').length;
  } catch {
    return INIT_TASKS;
  }
}


/**
 * Sends one message to the launcher. Before the C library is loaded with
 * write(2) (Node ignores SIGPIPE until the init listens to it); afterwards
 * with send(MSG_NOSIGNAL): once the init listens to SIGPIPE to forward it, a
 * write to a launcher that is gone must fail with EPIPE and never raise a
 * SIGPIPE of the init's own making. False if the launcher cannot be told.
 */
export function sendMessage(fd: number, m: InitMessage, ns: Pick<NsLibc, 'sendNoSignal'> | null): boolean {
  const data = encodeFrame(m);
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
