/**
 * `tini-ts run`: the launcher. Reads as a table of contents:
 *   parse → root check → cgroup (sweep stale, create, limits) → namespaces +
 *   re-exec of this binary as the init inside → wait, forwarding signals and
 *   enforcing --timeout → stats → kill all, remove the cgroup → report.
 *
 * Everything that can fail before the program runs exits 125 after undoing
 * what was done (nothing is left: the cgroup is removed, the init killed).
 * Namespace hand-off (see shared/research/sea-koffi.md §8): only the calling
 * thread moves with unshare(2), and after unshare(CLONE_NEWPID) it can no
 * longer create threads, so the main thread unshares, posix_spawns the init,
 * then setns(2)s back to the namespaces saved from /proc/thread-self/ns.
 * The cgroup namespace is created by the init itself, after joining the
 * cgroup (see ns-init.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_ROOT, cgroupName, detectVersion, openCgroup, startTime, sweepStale } from '../cgroup/index.js';
import type { Cgroup, CgroupSetup } from '../cgroup/types.js';
import { missingController as v1Missing, controllersFor as v1Controllers } from '../cgroup/v1/index.js';
import { missingController as v2Missing, controllersFor as v2Controllers } from '../cgroup/v2/index.js';
import { EXIT_LAUNCHER, needsProcessSpec, parseRunArgs, type NamespaceName, type RunOptions } from '../cli/run-options.js';
import { caught, fromSys, render, type RunError } from '../libc/error.js';
import { createLibc } from '../libc/libc.js';
import { CLONE, SOCK_CLOEXEC } from '../libc/consts.js';
import { createNsLibc, type NsLibc } from '../libc/ns.js';
import { SIG, forwardableSignals } from '../libc/signals.js';
import { WNOHANG, type Libc, type WaitStatus } from '../libc/types.js';
import { parseEventDest } from '../events/destination.js';
import { createLogger, writeStderr, writeStdout, type Logger } from '../log/log.js';
import { listenToSignals } from '../supervisor/signal-source.js';
import { FrameReader, encodeBytes, encodeFrame } from './channel.js';
import { INIT_MODE, INIT_TASKS, pidsMaxValue, type InitMessage, type LauncherMessage, type ProcessPlan, type SetupPlan } from './init-protocol.js';
import { addonFd, isSea } from '../libc/koffi-native.js';
import { rawArgs, splitNul } from '../util/cmdline.js';
import { buildReport, formatReport } from './report.js';
import { reportPathProblem } from './host-paths.js';
import { quickExit } from './quick-exit.js';
import { SECCOMP_KILLED_INIT } from './hardening/texts.js';
import type { ContainerConfig } from './container.js';
import type { TerminalSetup } from './terminal.js';
import { HOOK_KINDS, runHooks, type HookKind, type HookState, type Hooks } from './oci/hooks.js';

/**
 * container.ts (OCI config, seccomp policies, root filesystem plans) is loaded
 * only when used: a plain `tini-ts run` needs it only after the init started.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const containerModule = () => require('./container.js') as typeof import('./container.js');
import { isContainer } from '../cli/run-options.js';

/** unshare(2) flag and /proc/self/ns name of each namespace the launcher creates (cgroup: the init does). */
const NS_TABLE: Record<Exclude<NamespaceName, 'cgroup'>, { flag: number; file: string }> = {
  pid: { flag: CLONE.NEWPID, file: 'pid' },
  mount: { flag: CLONE.NEWNS, file: 'mnt' },
  uts: { flag: CLONE.NEWUTS, file: 'uts' },
  ipc: { flag: CLONE.NEWIPC, file: 'ipc' },
  net: { flag: CLONE.NEWNET, file: 'net' },
};

/** How long after SIGKILLing everything to wait for the init before giving up on it. */
const BACKSTOP_MS = 2000;
const SAMPLE_MS = 50;

/**
 * How an OCI `create` uses the launcher (see commands/oci): the container is
 * set up exactly as `run --bundle` sets it up, with its own cgroup name, an
 * init that waits at the start gate and does not die with the launcher; once
 * the init is ready the launcher hands over and exits.
 */
export interface OciCreate {
  cgroupParent: string;
  cgroupName: string;
  /** The container's state directory (the root filesystem's state goes in it). */
  stateDir: string;
  /** O_PATH descriptor of the start FIFO the init waits on. */
  startGate: number;
  refuse(message: string): never;
  warn(message: string): void;
  debug?(message: string): void;
  /** process.terminal with --console-socket: the connected socket (inherited by the init) and the size. */
  terminal?: TerminalSetup;
  /** --preserve-fds N: the caller's fds 3 .. 3+N-1 go to the workload (through the init). */
  preserveFds: number;
  /** The state a hook reads on its stdin (runtime-spec state JSON). */
  hookState(pid: number, status: HookState['status']): HookState;
  /** The init is ready at the gate: record it (with the hooks start and delete run); returns the exit code. */
  ready(c: { initPid: number; cgroup: Cgroup; hooks: Hooks }): number;
}

export function runLauncher(args: string[], oci?: OciCreate): void {
  const parsed = parseRunArgs(args, { cpuCount: os.availableParallelism() });
  if (parsed.kind === 'exit') {
    if (oci && parsed.code !== 0) oci.refuse((parsed.stderr ?? '').trim());
    if (parsed.stdout) writeStdout(parsed.stdout);
    if (parsed.stderr) writeStderr(parsed.stderr);
    process.exit(parsed.code);
  }
  let { options, argv } = parsed;
  const started = nowMs();
  // The one place `run` (and OCI create, through oci.refuse) renders an error.
  const refuse: (error: string | RunError) => never = (error) => {
    const message = typeof error === 'string' ? error : render(error);
    if (oci) return oci.refuse(message);
    writeStderr(`tini-ts run: ${message}\n`);
    return process.exit(EXIT_LAUNCHER);
  };
  // An unusable --report is refused before anything is created (not after the workload ran).
  const badReport = options.reportFile === null ? null : reportPathProblem(options.reportFile);
  if (badReport) refuse(badReport);

  // --- the container: from the command line or an OCI bundle ---------------
  let config: ContainerConfig | null = null;
  let notes: string[] = [];
  if (options.container.bundle !== null) {
    const b = containerModule().fromBundle(options, os.availableParallelism(), oci?.terminal !== undefined);
    if (!b.ok) return refuse(b.error);
    if (b.value.warning) {
      if (oci) oci.warn(b.value.warning);
      else writeStderr(`tini-ts run: warning: ${b.value.warning}\n`);
    }
    ({ options, argv, debug: notes } = b.value);
    config = b.value.config;
  } else if (needsProcessSpec(options)) {
    const c = containerModule().fromCommandLine(options, process.env);
    if (!c.ok) return refuse(c.error);
    config = c.value;
  }
  const inContainer = config !== null && (options.container.bundle !== null || isContainer(options.container));
  if (config && inContainer) {
    const checked = containerModule().checkInputs(config);
    if (!checked.ok) refuse(checked.error);
  }

  const ns = createNsLibc();
  const libc = createLibc();
  const logger = createLogger(options.verbosity, libc.getpid());
  for (const n of notes) (oci?.debug ?? ((m: string) => logger.log('debug', m)))(n);
  if (ns.geteuid() !== 0) refuse('must run as root (namespaces and cgroups need CAP_SYS_ADMIN); run it with sudo or as root');
  // OCI linux.namespaces[].path: opened and checked before anything is created.
  const joins = openJoins(ns, config?.joinNamespaces ?? [], refuse);

  // --- the event stream: its destination, opened here on the host ---------
  // The init inherits it as a descriptor, so a path names a host file even
  // with --rootfs (and is checked before anything is created).
  const eventsFd = options.events === null ? null : openEvents(options.events, refuse);

  // --- the init, in new namespaces, started first --------------------------
  // It takes as long to start as this process did (a Node start-up): it is
  // spawned before the cgroup and the root filesystem are prepared, and waits
  // for its set-up plan on the channel meanwhile. It joins the cgroup itself
  // once the plan says which (ns-init.ts); until then nothing of the workload runs.
  // Orphans of the program (with --share pid) come to the launcher to be reaped.
  if (options.namespaces.has('pid') === false) libc.setChildSubreaper();

  // Signals are listened to before the init exists: one that arrives during
  // set-up is kept and passed on once the init runs.
  const early: number[] = [];
  let onSignal: (sig: number) => void = (sig) => {
    if (sig !== SIG.CHLD) early.push(sig);
  };
  listenToSignals([...forwardableSignals(), SIG.CHLD], (sig) => onSignal(sig));
  libc.unblockSignals([...forwardableSignals(), SIG.CHLD]);

  const preserved = Array.from({ length: oci?.preserveFds ?? 0 }, (_, i) => 3 + i);
  const { initPid, channel } = startInit(ns, libc, options, joins, refuse, [
    ...(eventsFd !== null && eventsFd.fd > 2 ? [eventsFd.fd] : []),
    ...(oci ? [oci.startGate] : []),
    ...(oci?.terminal ? [oci.terminal.socket] : []),
    ...preserved,
  ]);
  if (oci?.terminal) ns.close(oci.terminal.socket); // the init sends the master over its copy
  if (eventsFd?.opened) ns.close(eventsFd.fd); // the init has its own copy
  logger.log('info', `init started with pid ${initPid}; its cgroup is prepared meanwhile`);
  // From here on every way out kills the init first (Teardown.run).
  const teardown = new Teardown(logger, (pid) => libc.waitpid(pid, 0));
  teardown.initPid = initPid;
  const fail: (error: string | RunError) => never = (error) => {
    teardown.run();
    return refuse(error);
  };

  // --- cgroup: check, sweep, create, limit -------------------------------
  const root = options.cgroupRoot ?? DEFAULT_ROOT;
  const version = detectVersion(root);
  if (version === null) fail(`no cgroup filesystem at ${root}; mount cgroup2 (or the v1 controllers) there or give --cgroup-root`);
  const cgroupSetup: CgroupSetup = {};
  if (config && inContainer && config.devices.length > 0) {
    // The device cgroup: cgroup v1's devices controller (v2 needs eBPF programs, not done here).
    if (version === 1 && fs.existsSync(`${root}/devices/cgroup.procs`)) cgroupSetup.devices = config.devices;
    else logger.log('info', `no cgroup v1 devices controller under ${root}: device rules not applied`);
  }
  if (version === 2 && options.limits.memory?.disableOOMKiller) {
    const { disableOOMKiller: _, ...memory } = options.limits.memory;
    options = { ...options, limits: { ...options.limits, memory } };
    const w = 'config.json: not supported, ignored: linux.resources.memory.disableOOMKiller (cgroup v2 has no switch for it)';
    if (oci) oci.warn(w);
    else writeStderr(`tini-ts run: warning: ${w}\n`);
  }
  // OCI containers can be paused: the v1 freezer hierarchy is joined too (v2 freezes any cgroup).
  if (oci && version === 1 && fs.existsSync(`${root}/freezer/cgroup.procs`)) cgroupSetup.freezable = true;
  // And, as runc, the blkio and cpuset hierarchies (where mounted): engines read the container's block I/O there.
  if (oci && version === 1 && ['blkio', 'cpuset'].every((c) => fs.existsSync(`${root}/${c}/cgroup.procs`))) cgroupSetup.everyController = true;
  // And every other hierarchy (name=systemd, a hybrid host's v2 tree), as runc: engines and the
  // workload see the container's cgroup there. Not `tini-ts run`: it stays in its caller's unit.
  if (oci && version === 1) cgroupSetup.everyHierarchy = true;
  const missing = version === 2 ? v2Missing(root, v2Controllers(options.limits, cgroupSetup)) : v1Missing(root, v1Controllers(options.limits, cgroupSetup));
  if (missing) fail(`the cgroup controller '${missing}' is not available under ${root} (cgroup v${version}); enable it or drop the option that needs it`);
  const name = oci?.cgroupName ?? cgroupName(process.pid, startTime('self'), randomHex(3));
  const cgroupParent = oci?.cgroupParent ?? options.cgroupParent;
  const cgroup = openCgroup(root, name, options.limits, cgroupSetup, version!, cgroupParent);

  teardown.cgroup = cgroup;
  if (config && inContainer) teardown.state = new (containerModule().ContainerState)(name, config, cgroupParent, oci ? path.join(oci.stateDir, 'rootfs') : undefined);
  try {
    teardown.cgroupCreated = true; // partial creation is undone as well
    cgroup.create();
    cgroup.apply(options.limits);
  } catch (e) {
    fail(containerModule().resourceNamed(caught(e, 'cgroup set-up failed'), options.container.bundle !== null));
  }

  let rootfsPlan: SetupPlan['container'];
  if (teardown.state) {
    const made = teardown.state.create(options.hostname ?? os.hostname(), options.namespaces.has('net'));
    if (!made.ok) fail(made.error);
    rootfsPlan = made.value;
  }
  const setup: SetupPlan = {
    hostname: options.hostname,
    privateMounts: options.namespaces.has('mount') && !rootfsPlan,
    mountProc: options.namespaces.has('mount') && options.namespaces.has('pid') && !rootfsPlan,
    // A joined network namespace is someone else's (a pod's, Podman's): left as it is.
    loopbackUp: options.namespaces.has('net') && !joins.has('net'),
    cgroupNamespace: options.namespaces.has('cgroup'),
    // v1: `tasks` (the init's main thread alone); a hybrid host's v2 tree has none: cgroup.procs.
    procsFiles: cgroup.version === 1 ? cgroup.dirs.map((d) => (fs.existsSync(`${d}/cgroup.type`) ? `${d}/cgroup.procs` : `${d}/tasks`)) : cgroup.procsFiles(),
    mainThreadOnly: cgroup.version === 1,
    pidsMax: options.limits.pids?.limit === undefined ? null : { file: `${pidsDir(cgroup)}/pids.max`, limit: options.limits.pids.limit },
    verbosity: options.verbosity,
    sysctl: config?.sysctl ?? {},
    container: rootfsPlan,
    process: config?.process,
    terminal: oci?.terminal,
  };
  const hooks: Hooks = config?.hooks ?? {};
  // Hooks at the pivot: prestart and createRuntime here, createContainer in the init.
  const pivotHooks = oci !== undefined && ['prestart', 'createRuntime', 'createContainer'].some((k) => (hooks[k as HookKind] ?? []).length > 0);
  if (pivotHooks) setup.hooks = { createContainer: hooks.createContainer ?? [] };
  if (!oci && HOOK_KINDS.some((k) => (hooks[k] ?? []).length > 0)) writeStderr('tini-ts run: warning: config.json: hooks are run by the OCI create, start and delete, not by tini-ts run\n');
  const spec = config?.process;
  const processPlan: ProcessPlan = {
    // From the bundle, or the command line as the kernel passed it (bytes that are not UTF-8 kept).
    argv: encodeBytes(options.container.bundle !== null ? argv.map((a) => Buffer.from(a)) : rawArgs(argv, () => fs.readFileSync('/proc/self/cmdline'))),
    env: encodeBytes(spec?.env ? spec.env.map(rawBytesOf(args)) : ownEnvironment()),
    cwd: spec?.cwd ?? null,
    // OCI create looks the program up before `start`, as runc does (engines map the error to 127).
    programMustExist: oci ? true : spec?.programMustExist ?? false,
    rlimits: spec?.rlimits ?? [],
    homeOf: spec ? spec.user : undefined,
    graceMs: options.graceMs,
    verbosity: options.verbosity,
    eventsFd: eventsFd?.fd ?? null,
    tiedToLauncher: !oci,
    startGate: oci?.startGate ?? null,
    terminal: oci?.terminal !== undefined,
    stop: { ...options.stop, signalMap: [...options.stop.signalMap] },
  };
  if (preserved.length > 0) processPlan.preserveFds = setup.preserveFds = preserved.length;
  if (oci && (hooks.startContainer ?? []).length > 0) processPlan.startContainer = { hooks: hooks.startContainer!, state: oci.hookState(0, 'created') };
  logger.log('info', `the init's cgroup: ${name}`);
  // Blocking sends: the init reads the set-up frame at once; the process
  // frame waits in the socket for the supervising stage. A failure means the
  // init is gone, which its exit status says.
  sendAll(ns, channel, encodeFrame({ kind: 'setup', plan: setup } satisfies LauncherMessage));
  // With hooks at the pivot the process plan follows their outcome (see onMessage).
  if (!pivotHooks) sendAll(ns, channel, encodeFrame({ kind: 'process', plan: processPlan } satisfies LauncherMessage));

  // What launchers that died left behind, swept while the init starts up
  // (the launcher has nothing else to do until the init reports).
  if (!oci) sweepLeftovers(root, options.cgroupParent, logger);

  // --- wait ---------------------------------------------------------------
  const keepAlive = setInterval(() => {}, 2 ** 30);
  let sampledPeak: number | null = null;
  const sampler = setInterval(() => {
    const n = cgroup.pidsCurrent();
    if (n !== null && n > (sampledPeak ?? 0)) sampledPeak = n;
  }, SAMPLE_MS);
  let timedOut = false;
  let backstop: NodeJS.Timeout | undefined;
  // The init may hold a stop back (--stop-delay) and run --pre-stop (bounded by the grace period) before its own grace starts.
  const { stop: policy } = options;
  const stopAllowanceMs = (policy.stopDelayMs ?? 0) + (policy.preStop !== null ? options.graceMs : 0) + options.graceMs + BACKSTOP_MS;
  const armBackstop = () => {
    backstop ??= setTimeout(() => {
      logger.log('warn', 'the program outlived its grace period: killing everything in its cgroup');
      cgroup.killAll(BACKSTOP_MS);
    }, stopAllowanceMs);
  };
  // What the init makes of a signal (--map): a stop when SIGTERM or SIGINT is received or sent.
  const stopsProgram = (sig: number): boolean => {
    const sent = policy.signalMap.has(sig) ? policy.signalMap.get(sig)! : sig;
    return sent !== null && [SIG.TERM, SIG.INT].some((s) => s === sig || s === sent);
  };
  // Signals wait here until the init listens to them (an init that is still
  // starting would die of them), then are passed on in order.
  let ready = false;
  const stop = (sig: number) => {
    if (!ready) {
      early.push(sig);
      return;
    }
    libc.kill(initPid, sig);
    if (stopsProgram(sig) || timedOut) armBackstop();
  };
  if (options.timeoutMs !== null) {
    setTimeout(() => {
      logger.log('info', `timeout of ${options.timeoutMs! / 1000}s reached: stopping the program`);
      timedOut = true;
      stop(SIG.TERM);
    }, options.timeoutMs);
  }

  const messages: InitMessage[] = [];
  const reader = new FrameReader();
  let initTasks = 0;
  const onMessage = (m: InitMessage) => {
    messages.push(m);
    if (m.kind === 'ready') {
      initTasks = m.initTasks;
      // pids.max was raised by the expected count of the init's tasks: make it exact.
      if (setup.pidsMax && initTasks !== INIT_TASKS) writeQuietly(setup.pidsMax.file, pidsMaxValue(setup.pidsMax.limit, initTasks), logger);
      ready = true;
      if (oci) {
        // Handed over: the init waits at the start gate and outlives this process.
        const code = oci.ready({ initPid, cgroup, hooks });
        quickExit(ns, code);
      }
      for (const sig of early.splice(0)) stop(sig);
    } else if (m.kind === 'hooks' && oci) {
      // The init waits before pivot_root: prestart and createRuntime run here, in the runtime's namespaces.
      const state = oci.hookState(initPid, 'creating');
      const pre = runHooks(libc, ns, 'prestart', hooks.prestart, state);
      const ran = pre.ok ? runHooks(libc, ns, 'createRuntime', hooks.createRuntime, state) : pre;
      if (!ran.ok) {
        // The create fails with it once the init is gone (see finish).
        messages.push({ kind: 'error', message: render(ran.error) });
        libc.kill(initPid, SIG.KILL);
        return;
      }
      sendAll(ns, channel, encodeFrame({ kind: 'hooks-done', plan: { state } } satisfies LauncherMessage));
      sendAll(ns, channel, encodeFrame({ kind: 'process', plan: processPlan } satisfies LauncherMessage));
    } else if (m.kind === 'spawned') {
      // Not the OOM killer's choice while the workload runs. Set from here
      // (the init lacks CAP_SYS_RESOURCE) and only now: a value set before
      // the spawn would be inherited by the workload, with the right to lower
      // its own score that far.
      writeQuietly(`/proc/${initPid}/oom_score_adj`, '-1000', logger);
    }
  };
  let channelOpen = true;
  let initStatus: WaitStatus | null = null;
  const readChannel = () => {
    const buf = Buffer.alloc(65536);
    fs.read(channel, buf, 0, buf.length, null, (e, n) => {
      if (e || n === 0) {
        channelOpen = false;
        ns.close(channel);
        if (initStatus !== null) finish(initStatus);
        return;
      }
      for (const m of reader.push(buf.subarray(0, n))) onMessage(m as InitMessage);
      readChannel();
    });
  };
  readChannel();

  let finished = false;
  const finish = (status: WaitStatus) => {
    finished = true;
    clearInterval(keepAlive);
    clearInterval(sampler);
    if (backstop) clearTimeout(backstop);
    const last = <K extends InitMessage['kind']>(k: K) => messages.findLast((m) => m.kind === k) as Extract<InitMessage, { kind: K }> | undefined;
    const mainStatus = last('status');
    const execError = last('exec-error');
    const error = last('error');
    // Statistics before anything is killed or removed.
    let stats = null;
    try {
      stats = cgroup.stats();
    } catch (e) {
      logger.log('warn', `could not read the cgroup's counters: ${(e as Error).message}`);
    }
    if (stats && stats.pidsPeak !== null) stats.pidsPeak = Math.max(0, stats.pidsPeak - initTasks);
    const sampled = sampledPeak === null ? null : Math.max(0, sampledPeak - initTasks);
    teardown.initPid = null;
    const clean = teardown.run();
    // The workload can raise the init's OOM score and then run out of
    // memory: the init dies of SIGKILL with the counter up. That is the
    // container's OOM end, reported as such.
    const initOomKilled = !mainStatus && !execError && !error && (status & 0x7f) === SIG.KILL && (stats?.oomKills ?? 0) > 0;
    let failure = error?.message ?? null;
    if (!failure && !mainStatus && !execError && !initOomKilled) failure = `the init ended without reporting the program's status (init ${describeStatus(status)})${(status & 0x7f) === SIG.SYS && config?.process.seccomp ? `: ${SECCOMP_KILLED_INIT}` : ''}`;
    if (!failure && !clean) failure = 'could not remove the cgroup (see the warnings above)';
    const report = buildReport({
      status: mainStatus ? mainStatus.status : initOomKilled ? status : null,
      execError: execError ? { code: execError.code, exitCode: execError.exitCode } : null,
      error: failure,
      timedOut,
      wallMs: nowMs() - started,
      stats,
      sampledPidsPeak: sampled,
      limits: options.limits,
      cgroup: { version: cgroup.version, name },
      namespaces: [...options.namespaces],
    });
    if (oci) {
      // The init ended before it was ready: the create failed (everything is removed above).
      oci.refuse(failure ?? (execError ? `exec failed: ${execError.code}` : `the container's init ended before it was ready (init ${describeStatus(status)})`));
    }
    // The init's own code for the status (--exit-on-stop) is the container's.
    if (report.error === null && mainStatus?.exitCode !== undefined) report.exit_code = mainStatus.exitCode;
    if (initOomKilled) logger.log('warn', "the kernel's OOM killer chose the init (the workload raised its OOM score): the container ended");
    // -q hides the report, never the launcher's own failure.
    if (!options.quiet || report.error) writeStderr(formatReport(report));
    let code = report.exit_code;
    if (options.reportFile) {
      try {
        fs.writeFileSync(options.reportFile, JSON.stringify(report, null, 2) + '\n');
      } catch (e) {
        writeStderr(`tini-ts run: cannot write the report to ${options.reportFile}: ${(e as NodeJS.ErrnoException).code}\n`);
        code = EXIT_LAUNCHER;
      }
    }
    quickExit(ns, code); // everything is written (synchronously)
  };

  const reap = () => {
    for (;;) {
      const r = libc.waitpid(-1, WNOHANG);
      if (!r.ok) {
        if (r.code === 'EINTR') continue;
        return;
      }
      const [pid, status] = r.value;
      if (pid === 0) return;
      if (pid === initPid && initStatus === null) {
        initStatus = status;
        // Every message is in once the channel ends (the init held the only other end).
        if (!channelOpen && !finished) finish(status);
      }
    }
  };
  onSignal = (sig) => {
    if (finished) return;
    if (sig === SIG.CHLD) reap();
    else stop(sig);
  };
  reap(); // the init may already have ended
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

type Joins = Map<NamespaceName, { fd: number; path: string; field: string }>;

/**
 * The namespaces to join (OCI linux.namespaces[].path), opened; a path that
 * cannot be opened or is not a namespace of that type (the kernel says which
 * through NS_GET_NSTYPE) is refused, naming the field, before anything is created.
 */
function openJoins(ns: NsLibc, list: NonNullable<ContainerConfig['joinNamespaces']>, refuse: (message: string) => never): Joins {
  const joins: Joins = new Map();
  const typeName = (flag: number) => Object.values(NS_TABLE).find((t) => t.flag === flag)?.file ?? (flag === CLONE.NEWCGROUP ? 'cgroup' : flag === CLONE.NEWUSER ? 'user' : `0x${flag.toString(16)}`);
  for (const j of list) {
    if (j.name === 'cgroup') refuse(`config.json: ${j.field}: joining an existing cgroup namespace is not supported`);
    const { flag, file: kind } = NS_TABLE[j.name];
    let fd: number;
    try {
      fd = fs.openSync(j.path, fs.constants.O_RDONLY);
    } catch (e) {
      return refuse(`config.json: ${j.field}: cannot open ${j.path}: ${(e as NodeJS.ErrnoException).code}`);
    }
    const t = ns.nsType(fd);
    if (!t.ok || t.value !== flag) {
      fs.closeSync(fd);
      refuse(`config.json: ${j.field}: ${j.path} is not a namespace of type ${kind}${t.ok ? ` (it is of type ${typeName(t.value)})` : ''}`);
    }
    joins.set(j.name, { fd, path: j.path, field: j.field });
  }
  return joins;
}

/**
 * The channel (a blocking socket pair: the plan goes out framed, the init's
 * messages come back) and the init, spawned in its namespaces with the
 * channel, the FFI addon and FDS; the joined namespaces' descriptors closed.
 */
function startInit(ns: NsLibc, libc: Libc, options: RunOptions, joins: Joins, refuse: (error: string | RunError) => never, fds: number[]): { initPid: number; channel: number } {
  const pair = ns.socketpair(SOCK_CLOEXEC);
  if (!pair.ok) refuse(fromSys(pair, `socketpair failed: ${pair.code}`));
  const [channel, initEnd] = pair.value;
  let addon: number;
  try {
    addon = addonFd();
  } catch (e) {
    return refuse(`cannot hand the FFI addon to the init: ${(e as Error).message}`);
  }
  // The channel and the addon first: the init finds them as its first two.
  const spawned = spawnInNamespaces(ns, libc, options, joins, [initEnd, addon, ...fds]);
  ns.close(initEnd);
  for (const j of joins.values()) ns.close(j.fd);
  if (typeof spawned === 'string') {
    ns.close(channel);
    return refuse(spawned);
  }
  return { initPid: spawned, channel };
}

/** runc's order for joining: user first, mnt last (a joined user namespace would own the others). */
const JOIN_ORDER: (keyof typeof NS_TABLE)[] = ['ipc', 'uts', 'net', 'pid', 'mount'];

/**
 * Join the namespaces given by path and unshare the others in the main
 * thread, posix_spawn the init, setns back. Returns the pid or an error text.
 */
function spawnInNamespaces(ns: NsLibc, libc: Libc, options: RunOptions, joins: Joins, fds: number[]): number | string {
  const wanted = (Object.keys(NS_TABLE) as (keyof typeof NS_TABLE)[]).filter((n) => options.namespaces.has(n));
  const saved: { fd: number; flag: number; name: string }[] = [];
  const closeSaved = () => saved.forEach((s) => ns.close(s.fd));
  try {
    for (const n of wanted) {
      const fd = fs.openSync(`/proc/thread-self/ns/${NS_TABLE[n].file}`, 'r');
      saved.push({ fd, flag: NS_TABLE[n].flag, name: n });
    }
  } catch (e) {
    closeSaved();
    return `cannot open /proc/thread-self/ns: ${(e as NodeJS.ErrnoException).code}`;
  }
  const restore = () => {
    for (const s of saved) ns.setns(s.fd, s.flag);
  };
  for (const n of JOIN_ORDER) {
    const j = joins.get(n);
    if (!j || !wanted.includes(n)) continue;
    const r = ns.setns(j.fd, NS_TABLE[n].flag);
    if (!r.ok) {
      restore();
      closeSaved();
      return `config.json: ${j.field}: joining ${j.path} failed: setns: ${r.code}`;
    }
  }
  const flags = saved.filter((s) => !joins.has(s.name as NamespaceName)).reduce((f, s) => f | s.flag, 0);
  if (flags !== 0) {
    const u = ns.unshare(flags);
    if (!u.ok) {
      restore();
      closeSaved();
      return `unshare(${wanted.filter((n) => !joins.has(n)).join(', ')}) failed: ${u.code}${u.code === 'EPERM' ? ' (run as root, outside a restricted container)' : ''}`;
    }
  }
  // argv names the descriptors only (the plan comes over the channel), and
  // the environment is empty: nothing of the launcher's is readable in the
  // init's /proc/PID/cmdline or environ.
  const self = isSea() ? ['tini-ts'] : [process.execPath, process.argv[1]];
  const r = libc.spawn({
    file: process.execPath,
    argv: [...self, INIT_MODE, String(fds[0]), String(fds[1])].map((a) => Buffer.from(a)),
    env: [],
    newProcessGroup: true,
    foregroundTty: false,
    passFds: [0, 1, 2, ...fds],
  });
  // Back to the launcher's own namespaces: without this the main thread can
  // create no threads (pid) and the thread pool would see other namespaces.
  let restoreError: string | null = null;
  for (const s of saved) {
    const b = ns.setns(s.fd, s.flag);
    if (!b.ok && restoreError === null) restoreError = `setns back to the ${s.name} namespace failed: ${b.code}`;
  }
  closeSaved();
  if (restoreError !== null) {
    if (r.ok) libc.kill(r.value, SIG.KILL);
    return restoreError;
  }
  if (!r.ok) return `cannot start the init (${process.execPath}): ${r.code}`;
  return r.value;
}

/**
 * --events DEST for the init: a file is opened here (O_APPEND|O_CREAT, 0644;
 * O_NONBLOCK so a FIFO without a reader fails rather than hangs), `fd:N` must
 * be open, `-` is stderr. The init reopens the descriptor as the plain init
 * does (see events/destination.ts). A destination that cannot be used is
 * refused (exit 125) before anything is created.
 */
function openEvents(text: string, refuse: (message: string) => never): { fd: number; opened: boolean } {
  const dest = parseEventDest(text);
  if (typeof dest === 'string') return refuse(`--events: ${dest}`);
  if (dest.kind === 'fd') {
    try {
      fs.fstatSync(dest.fd);
    } catch (e) {
      return refuse(`--events ${text}: fd ${dest.fd} is not open (${(e as NodeJS.ErrnoException).code})`);
    }
    return { fd: dest.fd, opened: false };
  }
  const { O_WRONLY, O_APPEND, O_CREAT, O_NONBLOCK } = fs.constants;
  try {
    return { fd: fs.openSync(dest.path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, 0o644), opened: true };
  } catch (e) {
    return refuse(`--events: cannot open ${dest.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** What to undo, whatever the path out: kill everything, then remove the cgroup. */
class Teardown {
  cgroupCreated = false;
  initPid: number | null = null;
  /** Null until the cgroup is opened (the init is started before it). */
  cgroup: Cgroup | null = null;
  /** The container's state directory (removed once the init and its mount namespace are gone). */
  state: import('./container.js').ContainerState | null = null;
  constructor(
    private readonly logger: Logger,
    /** Blocking wait for a killed init that may not be in the cgroup yet (it joins it itself). */
    private readonly waitInit: (pid: number) => unknown,
  ) {}

  run(): boolean {
    let ok = true;
    if (this.initPid !== null) {
      try {
        process.kill(this.initPid, 'SIGKILL');
        // Gone with its namespaces before anything it could hold is removed.
        this.waitInit(this.initPid);
      } catch {
        // gone already
      }
      this.initPid = null;
    }
    const cgroup = this.cgroup;
    if (!this.cgroupCreated || cgroup === null) return this.removeState() && ok;
    if (!cgroup.killAll(BACKSTOP_MS)) {
      this.logger.log('warn', `processes survive in ${cgroup.dirs.join(', ')}`);
      ok = false;
    }
    if (!cgroup.remove()) {
      this.logger.log('warn', `could not remove ${cgroup.dirs.join(', ')}`);
      ok = false;
    }
    this.cgroupCreated = false;
    return this.removeState() && ok;
  }

  private removeState(): boolean {
    if (!this.state) return true;
    const problems = this.state.remove();
    for (const p of problems) this.logger.log('warn', render(p));
    this.state = null;
    return problems.length === 0;
  }
}

/** Blocking send of a whole buffer; false if the peer is gone. */
function sendAll(ns: NsLibc, fd: number, data: Buffer): boolean {
  for (let off = 0; off < data.length; ) {
    const r = ns.sendNoSignal(fd, data.subarray(off));
    if (!r.ok) {
      if (r.code === 'EINTR') continue;
      return false;
    }
    off += r.value;
  }
  return true;
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

function writeQuietly(file: string, value: string, logger: Logger): void {
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

/** Monotonic milliseconds without loading perf_hooks (the `performance` global does). */
function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function describeStatus(status: WaitStatus): string {
  const low = status & 0x7f;
  return low === 0 ? `exited with ${(status >> 8) & 0xff}` : `killed by signal ${low}`;
}

