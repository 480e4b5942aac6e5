/**
 * createContainer: a container made from its plan, up to the point where its
 * init is ready. In order: the namespaces to join opened, the init spawned in
 * new namespaces first (it takes as long to start as the launcher did, so its
 * start-up overlaps the rest), the cgroup checked, created and limited, the
 * root filesystem planned, the set-up and process frames sent; then the
 * init's `ready` (OCI: it waits at the start gate; `run`: it spawns the
 * workload). Any failure undoes everything and is one RunError; an init that
 * ends before it is ready is an `ended` outcome (the caller destroys and says why).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_ROOT, cgroupName, detectVersion, openCgroup, startTime, sweepStale } from '../cgroup/index.js';
import type { Cgroup, CgroupSetup, CgroupStats } from '../cgroup/types.js';
import { missingController as v1Missing, controllersFor as v1Controllers } from '../cgroup/v1/index.js';
import { missingController as v2Missing, controllersFor as v2Controllers } from '../cgroup/v2/index.js';
import type { RunOptions } from '../cli/run-options.js';
import { caught, failed, render, runError, type Outcome, type RunError } from '../libc/error.js';
import { createLibc } from '../libc/libc.js';
import { createNsLibc, type NsLibc } from '../libc/ns.js';
import { SIG } from '../libc/signals.js';
import { ok, type Libc, type WaitStatus } from '../libc/types.js';
import { createLogger, type Logger } from '../log/log.js';
import { encodeBytes } from '../runtime/channel.js';
import { INIT_TASKS, pidsMaxValue, type ProcessPlan, type SetupPlan } from '../runtime/init-protocol.js';
import { HOOK_KINDS, runHooks, type HookKind, type Hooks } from '../runtime/oci/hooks.js';
import { openEvents, openJoins, startInit, type Joins } from '../runtime/spawn-init.js';
import { readCgroupMounts } from '../runtime/rootfs/cgroup-mounts.js';
import { connectConsole, type TerminalSetup } from '../runtime/terminal.js';
import { createTerminalLibc } from '../libc/terminal.js';
import { rawArgs, splitNul } from '../util/cmdline.js';
import { nodeOs } from '../util/node-os.js';
import { Teardown } from './teardown.js';
import { InitLink } from './link.js';
import { claimEarly } from './early.js';
import { containerModule, hookStateOf, type ContainerPlan, type Say } from './plan.js';

/** A container whose init runs: what start, waitExit and destroy work on. */
export interface Container {
  plan: ContainerPlan;
  /** The plan's options as the host made them (the cgroup's limits as applied). */
  options: RunOptions;
  initPid: number;
  cgroup: Cgroup;
  cgroupName: string;
  hooks: Hooks;
  link: InitLink;
  teardown: Teardown;
  libc: Libc;
  ns: NsLibc;
  logger: Logger;
  /** pids.max as the set-up plan raised it by the init's tasks; null: no pids limit. */
  pidsMax: SetupPlan['pidsMax'];
  /** The init's own tasks in the cgroup (taken out of the pids figures). */
  initTasks: number;
  /** The highest pids.current seen while it ran (where the kernel keeps no peak). */
  sampledPeak: number | null;
  timedOut: boolean;
  /** The counters as the init reported the workload's status (read while the init ends: off the path to the exit). */
  finalStats?: CgroupStats | null;
  /** OCI create with an init spawned early: the start FIFO's path, which the init opens itself. */
  gateFifo: string | null;
  /** OCI process.terminal: the init's terminal set-up. */
  console: TerminalSetup | undefined;
  /** The network namespace made for the init after its spawn, until it is sent with the set-up frame. */
  netns: number | null;
  /** Stops the timers start() armed (--timeout, the backstop). */
  stopTimers(): void;
}

export type CreateOutcome =
  | { kind: 'created'; container: Container }
  /** The init ended before it was ready: its messages say why (destroy, then `ending`). */
  | { kind: 'ended'; container: Container; status: WaitStatus }
  /** Nothing is left. */
  | { kind: 'failed'; error: RunError };

export function createContainer(plan: ContainerPlan, say: Say, done: (outcome: CreateOutcome) => void): void {
  const refused = (error: RunError) => done({ kind: 'failed', error });
  const ns = createNsLibc();
  const libc = createLibc();
  const logger = createLogger(plan.options.verbosity, libc.getpid());
  const debug = say.debug ?? ((m: string) => logger.log('debug', m));
  for (const n of plan.notes) debug(n);
  if (ns.geteuid() !== 0) return refused(runError('must run as root (namespaces and cgroups need CAP_SYS_ADMIN); run it with sudo or as root'));
  const inputs = openInputs(plan, ns);
  if (!inputs.ok) return refused(inputs.error);
  const { joins, events } = inputs.value;
  const init = spawnEarly(plan, ns, libc, debug, joins, events);
  if (!init.ok) return refused(init.error);
  const { initPid, channel, link, gateFifo, console, netns } = init.value;
  logger.log('info', `init started with pid ${initPid}; its cgroup is prepared meanwhile`);
  // From here on every way out kills the init first (Teardown.run).
  const teardown = new Teardown(logger, (pid) => libc.waitpid(pid, 0));
  teardown.initPid = initPid;
  // The network namespace made for the init, until sendPlans hands it over.
  let unsent = netns;
  const fail = (error: RunError) => {
    if (unsent !== null) ns.close(unsent);
    teardown.run();
    refused(error);
  };

  const made = makeCgroup(plan, say, logger, teardown);
  if (!made.ok) return fail(made.error);
  const { options, cgroup, name, root } = made.value;
  let rootfsPlan: SetupPlan['container'];
  if (teardown.state) {
    const state = teardown.state.create(options.hostname ?? nodeOs().hostname(), options.namespaces.has('net'));
    if (!state.ok) return fail(state.error);
    rootfsPlan = state.value;
  }
  const c: Container = { plan, options, initPid, cgroup, cgroupName: name, hooks: plan.config?.hooks ?? {}, link, teardown, libc, ns, logger, pidsMax: null, initTasks: 0, sampledPeak: null, timedOut: false, gateFifo, console, netns, stopTimers: () => {} };
  link.attach(initPid, channel);
  const moved = moveInit(c);
  if (!moved.ok) return fail(moved.error);
  const processPlan = sendPlans(c, say, rootfsPlan, events?.fd ?? null);
  unsent = null;
  // What launchers that died left behind, swept while the init starts up
  // (the launcher has nothing else to do until the init reports).
  if (!plan.oci) sweepLeftovers(root, plan.options.cgroupParent, logger);
  awaitReady(c, processPlan, done);
}

/**
 * How the init joins its cgroup. A write to cgroup.procs (v2, or a hybrid
 * host's v2 tree) waits for an RCU grace period (10-15 ms). Where the tree
 * has no memory controller (a hybrid host's v2 tree), the launcher makes it,
 * with the init's pid, while the init's Node starts, before it sends the plan
 * (so the init's cgroup namespace, made after, has the container's cgroup as
 * its root). Where it has one, the init joins itself once Node has started:
 * a process moved earlier would charge Node's start-up to the container's
 * memory (v2 charges pages where they are allocated, and never moves them).
 * v1's `tasks` the init writes itself, per thread, at no such cost (see
 * ns-init.ts).
 */
function joinFiles(cgroup: Cgroup): { byLauncher: string[]; byInit: string[] } {
  const files = cgroup.version === 1 ? cgroup.dirs.map((d) => (fs.existsSync(`${d}/cgroup.type`) ? `${d}/cgroup.procs` : `${d}/tasks`)) : cgroup.procsFiles();
  const byLauncher = files.filter((f) => f.endsWith('/cgroup.procs') && !controllersOf(path.dirname(f)).includes('memory'));
  return { byLauncher, byInit: files.filter((f) => !byLauncher.includes(f)) };
}

function controllersOf(dir: string): string[] {
  try {
    return fs.readFileSync(path.join(dir, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  } catch {
    return ['memory']; // unknown: as if it had one
  }
}

function moveInit(c: Container): Outcome<void> {
  for (const f of joinFiles(c.cgroup).byLauncher) {
    try {
      fs.writeFileSync(f, String(c.initPid));
    } catch (e) {
      return failed(`cannot move the init into its cgroup through ${f}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  return ok(undefined);
}

/**
 * What is opened before anything is created: the namespaces to join (OCI
 * linux.namespaces[].path) and --events' destination (on the host: the init
 * inherits it as a descriptor, so a path names a host file even with --rootfs).
 */
function openInputs(plan: ContainerPlan, ns: NsLibc): Outcome<{ joins: Joins; events: { fd: number; opened: boolean } | null }> {
  const joins = openJoins(ns, plan.config?.joinNamespaces ?? []);
  if (!joins.ok) return joins;
  const events = plan.options.events === null ? null : openEvents(plan.options.events);
  if (events && !events.ok) {
    joins.value.forEach((j) => ns.close(j.fd));
    return events;
  }
  return ok({ joins: joins.value, events: events?.value ?? null });
}

/**
 * The set-up frame, and the process frame unless hooks at the pivot come
 * first (then it follows their outcome: awaitReady). Blocking sends: the
 * init reads the set-up frame at once; the process frame waits in the socket
 * until the init's set-up is done. A failure means the init is gone, which its
 * exit status says.
 */
function sendPlans(c: Container, say: Say, rootfs: SetupPlan['container'], eventsFd: number | null): ProcessPlan {
  const { plan, hooks, link } = c;
  const setup = setupPlan(c, rootfs);
  c.pidsMax = setup.pidsMax;
  const processPlan = processPlanOf(c, eventsFd);
  // Hooks at the pivot: prestart and createRuntime here, createContainer in the init.
  const pivotHooks = plan.oci !== undefined && ['prestart', 'createRuntime', 'createContainer'].some((k) => (hooks[k as HookKind] ?? []).length > 0);
  if (pivotHooks) setup.hooks = { createContainer: hooks.createContainer ?? [] };
  if (!plan.oci && HOOK_KINDS.some((k) => (hooks[k] ?? []).length > 0)) say.warn('config.json: hooks are run by the OCI create, start and delete, not by tini-ts run');
  c.logger.log('info', `the init's cgroup: ${c.cgroupName}`);
  link.send({ kind: 'setup', plan: setup });
  if (c.netns !== null) {
    // A failure means the init is gone: its exit status says why.
    link.sendFd(c.netns);
    c.ns.close(c.netns);
    c.netns = null;
  }
  if (!pivotHooks) link.send({ kind: 'process', plan: processPlan });
  return processPlan;
}

/**
 * Until the init is ready (OCI: at the start gate; `run`: spawning the
 * workload), or ends first. OCI hooks at the pivot: the init waits before
 * pivot_root, prestart and createRuntime run here, in the runtime's namespaces.
 */
function awaitReady(c: Container, processPlan: ProcessPlan, done: (outcome: CreateOutcome) => void): void {
  const { link, libc, ns, plan, hooks } = c;
  link.onMessage = (m) => {
    if (m.kind === 'ready') {
      c.initTasks = m.initTasks;
      // pids.max was raised by the expected count of the init's tasks: make it exact.
      if (c.pidsMax && c.initTasks !== INIT_TASKS) writeQuietly(c.pidsMax.file, pidsMaxValue(c.pidsMax.limit, c.initTasks), c.logger);
      done({ kind: 'created', container: c });
    } else if (m.kind === 'hooks' && plan.oci) {
      const state = hookStateOf(plan.oci, 'creating', c.initPid);
      const pre = runHooks(libc, ns, 'prestart', hooks.prestart, state);
      const ran = pre.ok ? runHooks(libc, ns, 'createRuntime', hooks.createRuntime, state) : pre;
      if (!ran.ok) {
        // The create fails with it once the init is gone.
        link.messages.push({ kind: 'error', message: render(ran.error) });
        libc.kill(c.initPid, SIG.KILL);
        return;
      }
      link.send({ kind: 'hooks-done', plan: { state } });
      link.send({ kind: 'process', plan: processPlan });
    }
  };
  link.onEnd = (status) => done({ kind: 'ended', container: c, status });
  link.reap(); // the init may already have ended
}

/**
 * The init, in new namespaces, started first. It waits for its set-up plan on
 * the channel meanwhile, and joins the cgroup itself once the plan says which
 * (ns-init.ts); until then nothing of the workload runs.
 */
function spawnEarly(plan: ContainerPlan, ns: NsLibc, libc: Libc, debug: (msg: string) => void, joins: Joins, events: { fd: number; opened: boolean } | null): Outcome<Spawned> {
  const { oci, options } = plan;
  // Orphans of the program (with --share pid) come to the launcher to be reaped.
  if (!options.namespaces.has('pid')) libc.setChildSubreaper();
  // Signals are listened to before the init exists (about 0.6 ms before the spawn): one sent
  // to the launcher as soon as the init is there is kept and passed on once the init runs,
  // never the launcher's death with a half-started init behind it. An init that ends
  // meanwhile is reaped once the channel is read (createContainer's last step).
  const link = new InitLink(libc, ns);
  const passed = [...(events !== null && events.fd > 2 ? [events.fd] : []), ...Array.from({ length: oci?.preserveFds ?? 0 }, (_, i) => 3 + i)];
  // An init spawned early (see early.ts) was given only the caller's descriptors
  // to preserve: OCI's start FIFO and console socket it opens and connects by
  // path, before pivot_root.
  const early = claimEarly({ namespaces: options.namespaces, fds: passed, joins: joins.size });
  // The early init's end, if it came already, is its status (not an orphan's).
  if (early) link.initPid = early.initPid;
  link.listen();
  if (early) {
    debug(`the init was spawned before the options were read (pid ${early.initPid})`);
    if (oci) ns.close(oci.startGate);
    return ok({ ...early, link, gateFifo: oci?.startGateFifo ?? null, console: oci?.terminal ? { ...oci.terminal, socket: null } : undefined });
  }
  let consoleFd: number | null = null;
  if (oci?.terminal) {
    const s = connectConsole(oci.terminal.path, createTerminalLibc());
    if (typeof s === 'string') return failed(s);
    consoleFd = s;
  }
  const started = startInit(ns, libc, options, plan.inContainer, joins, [...passed, ...(oci ? [oci.startGate] : []), ...(consoleFd !== null ? [consoleFd] : [])]);
  if (consoleFd !== null) ns.close(consoleFd); // the init sends the master over its copy
  if (events?.opened) ns.close(events.fd); // the init has its own copy
  if (!started.ok) return started;
  return ok({ ...started.value, link, gateFifo: null, console: oci?.terminal ? { ...oci.terminal, socket: consoleFd } : undefined });
}

/** The init as spawnEarly leaves it, and what it was handed of OCI create's (by path when spawned early). */
interface Spawned {
  initPid: number;
  channel: number;
  link: InitLink;
  /** The start FIFO's path, for an init spawned early (else it inherited create's descriptor). */
  gateFifo: string | null;
  /** process.terminal's set-up (the console socket inherited, or to be connected by the init). */
  console: TerminalSetup | undefined;
  /** The container's network namespace, to hand to the init with its set-up plan; null if it was spawned in it. */
  netns: number | null;
}

/**
 * The cgroup: the version and the controllers the limits need checked, the
 * device rules and (OCI) the hierarchies engines read added, then created and
 * limited. The options come back with the limits as applied.
 */
function makeCgroup(plan: ContainerPlan, say: Say, logger: Logger, teardown: Teardown): Outcome<{ options: RunOptions; cgroup: Cgroup; name: string; root: string }> {
  const { config, inContainer, oci } = plan;
  let { options } = plan;
  const root = options.cgroupRoot ?? DEFAULT_ROOT;
  const version = detectVersion(root);
  if (version === null) return failed(`no cgroup filesystem at ${root}; mount cgroup2 (or the v1 controllers) there or give --cgroup-root`);
  const cgroupSetup: CgroupSetup = {};
  if (config && inContainer && config.devices.length > 0) {
    // The device cgroup: cgroup v1's devices controller (v2 needs eBPF programs, not done here).
    if (version === 1 && fs.existsSync(`${root}/devices/cgroup.procs`)) cgroupSetup.devices = config.devices;
    else logger.log('info', `no cgroup v1 devices controller under ${root}: device rules not applied`);
  }
  if (version === 2 && options.limits.memory?.disableOOMKiller) {
    const { disableOOMKiller: _, ...memory } = options.limits.memory;
    options = { ...options, limits: { ...options.limits, memory } };
    say.warn('config.json: not supported, ignored: linux.resources.memory.disableOOMKiller (cgroup v2 has no switch for it)');
  }
  // OCI containers can be paused: the v1 freezer hierarchy is joined too (v2 freezes any cgroup).
  if (oci && version === 1 && fs.existsSync(`${root}/freezer/cgroup.procs`)) cgroupSetup.freezable = true;
  // And, as runc, the blkio and cpuset hierarchies (where mounted): engines read the container's block I/O there.
  if (oci && version === 1 && ['blkio', 'cpuset'].every((c) => fs.existsSync(`${root}/${c}/cgroup.procs`))) cgroupSetup.everyController = true;
  // And every other hierarchy (name=systemd, a hybrid host's v2 tree), as runc: engines and the
  // workload see the container's cgroup there. Not `tini-ts run`: it stays in its caller's unit.
  if (oci && version === 1) cgroupSetup.everyHierarchy = true;
  const missing = version === 2 ? v2Missing(root, v2Controllers(options.limits, cgroupSetup)) : v1Missing(root, v1Controllers(options.limits, cgroupSetup));
  if (missing) return failed(`the cgroup controller '${missing}' is not available under ${root} (cgroup v${version}); enable it or drop the option that needs it`);
  const name = oci?.cgroupName ?? cgroupName(process.pid, startTime('self'), randomHex(3));
  const cgroupParent = oci?.cgroupParent ?? options.cgroupParent;
  const cgroup = openCgroup(root, name, options.limits, cgroupSetup, version, cgroupParent);

  teardown.cgroup = cgroup;
  if (config && inContainer) teardown.state = new (containerModule().ContainerState)(name, config, cgroupParent, oci ? path.join(oci.stateDir, 'rootfs') : undefined);
  try {
    teardown.cgroupCreated = true; // partial creation is undone as well
    cgroup.create();
    cgroup.apply(options.limits);
  } catch (e) {
    return { ok: false, error: containerModule().resourceNamed(caught(e, 'cgroup set-up failed'), options.container.bundle !== null) };
  }
  return ok({ options, cgroup, name, root });
}

/** What the init's /sys/fs/cgroup will show, worked out here while its Node starts; null: it reads them itself. */
function cgroupMountsOf(cgroup: Cgroup): SetupPlan['cgroupMounts'] {
  try {
    return readCgroupMounts(cgroup.dirs);
  } catch {
    return null;
  }
}

/** What the init's privileged set-up does (see init-protocol.ts). */
function setupPlan(c: Container, rootfs: SetupPlan['container']): SetupPlan {
  const { options, cgroup } = c;
  return {
    hostname: options.hostname,
    privateMounts: options.namespaces.has('mount') && !rootfs,
    mountProc: options.namespaces.has('mount') && options.namespaces.has('pid') && !rootfs,
    netnsFollows: c.netns !== null,
    cgroupNamespace: options.namespaces.has('cgroup'),
    cgroupMounts: rootfs || options.namespaces.has('mount') ? cgroupMountsOf(cgroup) : null,
    // v1: `tasks` (the init's main thread alone); cgroup.procs where the launcher has not moved it (moveInit).
    procsFiles: joinFiles(cgroup).byInit,
    mainThreadOnly: cgroup.version === 1,
    pidsMax: options.limits.pids?.limit === undefined ? null : { file: `${pidsDir(cgroup)}/pids.max`, limit: options.limits.pids.limit },
    verbosity: options.verbosity,
    sysctl: c.plan.config?.sysctl ?? {},
    container: rootfs,
    process: c.plan.config?.process,
    terminal: c.console,
    ...(c.gateFifo !== null ? { startGateFifo: c.gateFifo } : {}),
    ...(c.plan.oci?.preserveFds ? { preserveFds: c.plan.oci.preserveFds } : {}),
  };
}

/** What the init's supervision does: the workload, its environment, the stop policy. */
function processPlanOf(c: Container, eventsFd: number | null): ProcessPlan {
  const { plan, options } = c;
  const { oci } = plan;
  const spec = plan.config?.process;
  const p: ProcessPlan = {
    // From the bundle, or the command line as the kernel passed it (bytes that are not UTF-8 kept).
    argv: encodeBytes(options.container.bundle !== null ? plan.argv.map((a) => Buffer.from(a)) : rawArgs(plan.argv, () => fs.readFileSync('/proc/self/cmdline'))),
    env: encodeBytes(spec?.env ? spec.env.map(rawBytesOf(plan.args)) : ownEnvironment()),
    cwd: spec?.cwd ?? null,
    // OCI create looks the program up before `start`, as runc does (engines map the error to 127).
    programMustExist: oci ? true : spec?.programMustExist ?? false,
    rlimits: spec?.rlimits ?? [],
    homeOf: spec ? spec.user : undefined,
    graceMs: options.graceMs,
    verbosity: options.verbosity,
    eventsFd,
    tiedToLauncher: !oci,
    startGate: c.gateFifo !== null ? null : oci?.startGate ?? null,
    terminal: oci?.terminal !== undefined,
    stop: { ...options.stop, signalMap: [...options.stop.signalMap] },
  };
  if (oci?.preserveFds) p.preserveFds = oci.preserveFds;
  if (oci && (c.hooks.startContainer ?? []).length > 0) p.startContainer = { hooks: c.hooks.startContainer!, state: hookStateOf(oci, 'created', 0) };
  return p;
}

/** Stale cgroups and container state directories of launchers that died (only those whose owner is gone). */
function sweepLeftovers(root: string, parent: string, logger: Logger): void {
  try {
    const swept = sweepStale(root, undefined, parent);
    for (const d of swept.removed) logger.log('info', `removed ${d}, left by a launcher that died`);
    for (const d of swept.busy) logger.log('warn', `${d} was left by a launcher that died and still has processes`);
  } catch (e) {
    logger.log('warn', `could not sweep stale cgroups: ${(e as Error).message}`);
  }
  try {
    const swept = containerModule().sweepStaleState(undefined, undefined, parent);
    for (const d of swept.removed) logger.log('info', `removed ${d}, left by a launcher that died`);
    for (const d of swept.kept) logger.log('warn', `${d} was left by a launcher that died and still has mounts; not removed`);
  } catch (e) {
    logger.log('warn', `could not sweep stale container state: ${(e as Error).message}`);
  }
}

/**
 * An --env value as the kernel passed it: the bytes of the argument it came
 * from (`-e K=V`, `--env K=V`, `--env=K=V`), so bytes that are not UTF-8
 * pass; anything else (a bundle's, an --env-file's) as UTF-8.
 */
function rawBytesOf(args: string[]): (e: string) => Buffer {
  const raw = new Map<string, Buffer>();
  rawArgs(args, () => fs.readFileSync('/proc/self/cmdline')).forEach((b, i) => {
    raw.set(args[i], b);
    for (const prefix of ['--env=', '-e=']) if (args[i].startsWith(prefix)) raw.set(args[i].slice(prefix.length), b.subarray(prefix.length));
  });
  return (e) => raw.get(e) ?? Buffer.from(e);
}

/** The launcher's own environment, byte for byte (the workload's when no process spec gives one). */
function ownEnvironment(): Buffer[] {
  try {
    return splitNul(fs.readFileSync('/proc/self/environ'));
  } catch {
    return Object.entries(process.env).map(([k, v]) => Buffer.from(`${k}=${v}`));
  }
}

export function writeQuietly(file: string, value: string, logger: Logger): void {
  try {
    fs.writeFileSync(file, value);
  } catch (e) {
    logger.log('debug', `cannot write ${value} to ${file}: ${(e as NodeJS.ErrnoException).code}`);
  }
}

/** The directory with the pids controller's files. */
function pidsDir(cgroup: Cgroup): string {
  return cgroup.version === 1 ? cgroup.dirs.find((d) => fs.existsSync(`${d}/pids.max`)) ?? cgroup.dirs[0] : cgroup.dirs[0];
}

/**
 * Random hex digits from /dev/urandom: node:crypto (and the streams it pulls
 * in) would cost the launcher ~8 ms of start-up for three bytes.
 */
function randomHex(bytes: number): string {
  const buf = Buffer.alloc(bytes);
  try {
    const fd = fs.openSync('/dev/urandom', 'r');
    try {
      fs.readSync(fd, buf, 0, bytes, null);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    for (let i = 0; i < bytes; i++) buf[i] = Math.floor(Math.random() * 256);
  }
  return buf.toString('hex');
}
