/**
 * The init: tini-ts [OPTIONS] [--] PROGRAM [ARGS...]
 *
 * Reads as tini's main does: parse, configure signals, parent-death signal,
 * subreaper, reaper check, spawn, then supervise. Set-up may fail loudly
 * (exit 1, one FATAL line naming the call and the errno); once the child
 * runs, the supervisor shell never throws.
 *
 * Everything that touches the process (libc, environment, exit, signals,
 * stdio, clock, /proc) comes in through InitDeps, so unit tests can drive
 * every path with a fake libc.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_TERMINATION_LOG, parseInitArgs, type Env, type InitOptions } from './cli/init-options.js';
import { createLibc } from './libc/libc.js';
import { errnoMessage } from './libc/errno.js';
import { SIG, forwardableSignals } from './libc/signals.js';
import type { Libc, Result, SpawnRequest } from './libc/types.js';
import { resolveCredentials } from './runtime/process.js';
import { createLogger, writeStderr, writeStdout, type Logger } from './log/log.js';
import { execFailureCode, type ProcRef } from './supervisor/core.js';
import { listReachable } from './supervisor/reach.js';
import { watchMemory, type MemoryWatch } from './supervisor/memory.js';
import { startSupervisor, type Supervisor } from './supervisor/shell.js';
import { listenToSignals, type SignalSource } from './supervisor/signal-source.js';
import { signalPipeProbe, sizeSignalPipe, type SignalPipeDeps } from './supervisor/signal-pipe.js';
import { describeTaskLimit, parsePidsMax, pidsCgroupDirs, type PidsLimit } from './supervisor/task-limit.js';
import { LICENSE, USAGE, VERSION, VERSION_LINE } from './texts.js';
import { startEventStream } from './events/start.js';
import { rawArgs } from './util/cmdline.js';
import type { EventSink } from './events/sink.js';

export interface InitDeps {
  /** Called only once the arguments name a program: -h and usage errors never load the FFI. */
  createLibc(): Libc;
  env: Env;
  /** Ends the process; never returns (tests throw). Given the libc once it is loaded. */
  exit(code: number, libc?: Libc): never;
  listenToSignals(signals: number[], onSignal: (sig: number) => void): SignalSource;
  writeStdout(text: string): void;
  writeStderr(text: string): void;
  createLogger(verbosity: number, pid: number): Logger;
  /** Monotonic milliseconds. */
  now(): number;
  /** The raw /proc/self/cmdline; throws when /proc is not there. */
  readCmdline(): Buffer;
  /** Whether a descriptor is open (only open stdio is passed to the child). */
  isFdOpen(fd: number): boolean;
  /** Whether a path is an executable regular file (the PATH lookup of the ENOEXEC retry). */
  isExecutableFile(file: string): boolean;
  /**
   * After a spawn failed with EAGAIN: the pids cgroup limit that is reached,
   * if one is, and how many tasks (threads) the init has.
   */
  readTaskLimit?(): { limit: PidsLimit | undefined; initTasks: number };
  /**
   * Opens the termination-log file for writing (created if missing): a
   * writer that replaces its content and never throws, or the error code.
   * Absent: no termination log (unit tests).
   */
  openTerminationLog?(file: string): ((text: string) => void) | { error: string };
  /** The init's memory cgroup, watched from now (OOM kills, peak); null when it cannot be read. */
  watchMemory?(): MemoryWatch | null;
  /** A text file's content, or '' (--user reads /etc/passwd and /etc/group). */
  readTextFile?(file: string): string;
  /** Whether a path exists (the default termination log is written only if it does). */
  exists?(file: string): boolean;
  /** --stop-scope all: the processes the init (pid) can reach, from /proc; null when /proc cannot say. */
  reachable?(pid: number): ProcRef[] | null;
  /** How to find libuv's signal pipe and its limits; absent: the pipe is left as it is. */
  signalPipe?: Omit<SignalPipeDeps, 'libc'>;
}

export const defaultInitDeps: InitDeps = {
  createLibc: () => createLibc(),
  env: process.env,
  // Once the FFI is loaded: _exit, so that nothing of Node's exit path runs
  // (coverage or compile-cache writes meant for the child's NODE_* variables).
  exit: (code, libc) => (libc?.exitNow ? libc.exitNow(code) : process.exit(code)),
  listenToSignals,
  writeStdout,
  writeStderr,
  createLogger,
  now: () => performance.now(),
  readCmdline: () => fs.readFileSync('/proc/self/cmdline'),
  isFdOpen(fd) {
    try {
      fs.fstatSync(fd);
      return true;
    } catch {
      return false;
    }
  },
  isExecutableFile(file) {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  },
  readTaskLimit() {
    let initTasks = 3;
    try {
      initTasks = fs.readdirSync('/proc/self/task').length;
    } catch {
      // no /proc: Node's usual three
    }
    let dirs: string[] = [];
    try {
      dirs = pidsCgroupDirs(fs.readFileSync('/proc/self/cgroup', 'latin1'));
    } catch {
      return { limit: undefined, initTasks };
    }
    for (const dir of dirs) {
      try {
        const max = parsePidsMax(fs.readFileSync(`${dir}/pids.max`, 'latin1'));
        const current = Number(fs.readFileSync(`${dir}/pids.current`, 'latin1').trim());
        if (max !== undefined && current >= max) return { limit: { file: `${dir}/pids.max`, max, current }, initTasks };
      } catch {
        // not mounted here, or the root (no pids.max): look further up
      }
    }
    return { limit: undefined, initTasks };
  },
  signalPipe: signalPipeProbe,
  openTerminationLog(file) {
    let fd: number;
    try {
      // Node opens with O_CLOEXEC, and the child gets only fds 0-2 anyway.
      fd = fs.openSync(file, 'w', 0o644);
    } catch (e) {
      return { error: (e as NodeJS.ErrnoException).code ?? String(e) };
    }
    return (text) => {
      try {
        fs.ftruncateSync(fd, 0);
        fs.writeSync(fd, text, 0);
      } catch {
        // the message is a courtesy: never a reason to fail
      }
    };
  },
  exists: (file) => fs.existsSync(file),
  watchMemory() {
    try {
      return watchMemory(fs.readFileSync('/proc/self/cgroup', 'latin1'));
    } catch {
      return null;
    }
  },
  readTextFile(file) {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  },
  reachable: (pid) => listReachable(pid),
};

/** A fatal set-up error: logs one FATAL line and exits. */
type Fatal = (message: string, code?: number) => never;

export function runInit(args: string[], deps: InitDeps = defaultInitDeps): Supervisor {
  const parsed = parseInitArgs(args, deps.env, { usage: USAGE, license: LICENSE, version: VERSION_LINE });
  if (parsed.kind === 'exit') {
    if (parsed.stdout) deps.writeStdout(parsed.stdout);
    if (parsed.stderr) deps.writeStderr(parsed.stderr);
    return deps.exit(parsed.code);
  }
  const { options } = parsed;
  const argv = programArgv(args, parsed.programIndex, deps);
  // --user: names resolved from the image's files before anything is loaded or started.
  let credentials: SpawnRequest['credentials'];
  if (options.user !== null) {
    const readText = deps.readTextFile ?? (() => '');
    const c = resolveCredentials({ user: options.user, groupAdd: [] }, readText('/etc/passwd'), readText('/etc/group'));
    if (typeof c === 'string') {
      deps.writeStderr(`tini-ts: --user: ${c.replace(/[\x00-\x1f\x7f]/g, '?')}\n`);
      return deps.exit(1);
    }
    credentials = { uid: c.uid, gid: c.gid, groups: c.groups };
  }

  const libc = loadLibc(deps, options.verbosity);
  const pid = libc.getpid();
  const logger = deps.createLogger(options.verbosity, pid);
  const exit = (code: number): never => deps.exit(code, libc);
  const fatal: Fatal = (message, code = 1) => {
    logger.log('fatal', message);
    return exit(code);
  };

  // Only the name in ps/top: not worth dying for.
  const named = libc.setProcessName('tini-ts');
  if (!named.ok) logger.log('debug', `${named.call} failed: ${named.code}`);
  configureSignals(libc, fatal);
  if (options.parentDeathSignal !== null) {
    must(libc.setParentDeathSignal(options.parentDeathSignal), fatal);
  }
  if (options.subreaper && pid !== 1) {
    const r = libc.setChildSubreaper();
    if (!r.ok) fatal(`${r.call} failed: ${r.code}${r.code === 'EINVAL' ? ' (Linux >= 3.4 is needed)' : ''}`);
    logger.log('trace', 'Registered as child subreaper');
  }
  reaperCheck(libc, logger, pid);
  // --events / TINI_EVENTS: undefined when off (then nothing below pays for it).
  const events = startEventStream(options, { libc, logger, pid, version: VERSION });

  // Signals are listened to before the child exists, so none can be missed:
  // those that arrive before the supervisor starts wait in the event loop.
  let onSignal: (sig: number) => void = () => {};
  const source = deps.listenToSignals([...forwardableSignals(), SIG.CHLD], (sig) => onSignal(sig));
  for (const sig of source.unavailable) logger.log('debug', `signal ${sig} cannot be listened to and will not be forwarded`);
  // Node leaves SIGUSR1 blocked with --disable-sigusr1, and the init may have
  // inherited a mask from its parent: unblock everything it forwards.
  must(libc.unblockSignals([...forwardableSignals(), SIG.CHLD]), fatal);

  const terminationLog = openTerminationLog(options, deps, logger, fatal);
  // The OOM kill count before the program starts: only kills during its run are reported.
  const memory = deps.watchMemory?.() ?? null;
  const childPid = spawnChild(libc, logger, argv, options, deps, events, terminationLog, credentials);
  // From here on the child runs: nothing below may throw or exit on its own.
  logger.log('info', `Spawned child process '${argv[0].toString()}' with pid '${childPid}'`);
  // Once the child runs, so that its start does not wait for this (about 0.7 ms).
  if (deps.signalPipe) sizeSignalPipe(libc, logger, deps.signalPipe);

  const sup = startSupervisor(
    {
      childPid,
      graceMs: options.graceMs,
      expectedCodes: options.expectedCodes,
      warnOnReap: options.warnOnReap,
      signalMap: options.signalMap,
      stopDelayMs: options.stopDelayMs,
      timeoutMs: options.timeoutMs,
      stopScope: options.stopScope,
      exitOnStop: options.exitOnStop,
      preStop: options.preStop === null ? null : { command: options.preStop, passFds: [0, 1, 2].filter((fd) => deps.isFdOpen(fd)), credentials },
    },
    { libc, logger, now: deps.now, exit, events, terminationLog, memory, reachable: deps.reachable && (() => deps.reachable!(pid)) },
  );
  onSignal = (sig) => sup.onSignal(sig);
  return sup;
}

/** The FFI may fail to load (read-only, noexec /tmp): say so in one line, not a stack. */
function loadLibc(deps: InitDeps, verbosity: number): Libc {
  try {
    return deps.createLibc();
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    deps.createLogger(verbosity, process.pid).log('fatal', `cannot load libc: ${message.split('\n')[0]}`);
    return deps.exit(1);
  }
}

function must<T>(r: Result<T>, fatal: Fatal): T {
  if (!r.ok) fatal(`${r.call} failed: ${r.code}`);
  return (r as { value: T }).value;
}

/**
 * SIGTTIN/SIGTTOU are ignored: the child gets the terminal's foreground, and
 * the init may still write (or reclaim the terminal) from the background.
 */
function configureSignals(libc: Libc, fatal: Fatal): void {
  must(libc.ignoreSignal(SIG.TTIN), fatal);
  must(libc.ignoreSignal(SIG.TTOU), fatal);
}

function reaperCheck(libc: Libc, logger: Logger, pid: number): void {
  if (pid === 1) return;
  const r = libc.isChildSubreaper();
  if (r.ok && r.value) return;
  if (!r.ok) logger.log('debug', `${r.call} failed: ${r.code}`);
  logger.log(
    'warn',
    "tini-ts is not running as PID 1 and isn't registered as a child subreaper.\n" +
      "Zombie processes will not be re-parented to tini-ts, so zombie reaping won't work.\n" +
      'To fix the problem, use the -s option or set the environment variable TINI_SUBREAPER to register tini-ts as a child subreaper, or run tini-ts as PID 1.',
  );
}

/** The program's argv as the kernel passed it, so bytes that are not UTF-8 reach the child unchanged. */
function programArgv(args: string[], programIndex: number, deps: InitDeps): Buffer[] {
  return rawArgs(args, deps.readCmdline).slice(programIndex);
}

/**
 * --termination-log: opened before the program starts, so that a path that
 * cannot be written is a set-up error (exit 1), not a surprise at the end.
 * The default (/dev/termination-log) is used only when it exists.
 */
function openTerminationLog(options: InitOptions, deps: InitDeps, logger: Logger, fatal: Fatal): ((text: string) => void) | undefined {
  if (!deps.openTerminationLog) return undefined;
  const file = options.terminationLog ?? DEFAULT_TERMINATION_LOG;
  if (options.terminationLog === null && !deps.exists?.(file)) return undefined;
  const w = deps.openTerminationLog(file);
  if (typeof w === 'function') return w;
  if (options.terminationLog === null) {
    logger.log('debug', `${file}: cannot open: ${w.error}: no termination message`);
    return undefined;
  }
  return fatal(`--termination-log ${file}: cannot open: ${w.error}`);
}

function spawnChild(
  libc: Libc,
  logger: Logger,
  argv: Buffer[],
  options: InitOptions,
  deps: InitDeps,
  events?: EventSink,
  terminationLog?: (text: string) => void,
  credentials?: SpawnRequest['credentials'],
): number {
  // Hand the terminal to the child only if the init's group holds it now
  // (as under `docker run -t`); never steal it from a foreground job.
  const fg = libc.tcgetpgrp(0);
  if (!fg.ok) logger.log('debug', `${fg.call}(0) failed: ${fg.code}: the terminal stays as it is`);
  const foregroundTty = fg.ok && fg.value === libc.getpgrp();
  const passFds = [0, 1, 2].filter((fd) => deps.isFdOpen(fd));
  const req: SpawnRequest = { argv, newProcessGroup: true, foregroundTty, passFds, ...(credentials && { credentials }) };
  let r = libc.spawn(req);
  if (!r.ok && credentials && /^set(groups|resuid|resgid)$|^getgroups$/.test(r.call)) {
    // Taking the user's ids failed (the init is not root): a set-up failure, nothing was started.
    logger.log('fatal', `--user ${credentials.uid}:${credentials.gid}: ${r.call} failed: ${r.code}${r.code === 'EPERM' ? ' (running the program as another user needs root)' : ''}`);
    return deps.exit(1, libc);
  }
  if (!r.ok && r.code === 'ENOEXEC') {
    // execvp runs a script without a #! line with /bin/sh; posix_spawnp no longer does.
    const file = resolveInPath(argv[0].toString(), deps);
    if (file) r = libc.spawn({ ...req, argv: [Buffer.from('/bin/sh'), Buffer.from(file), ...argv.slice(1)] });
  }
  if (!r.ok) {
    // EAGAIN from posix_spawn is the task limit (fork), never the program: say which limit and what the init needs.
    const why = r.code === 'EAGAIN' && deps.readTaskLimit ? taskLimitHint(deps.readTaskLimit()) : '';
    logger.log('fatal', `exec ${argv[0].toString()} failed: ${errnoMessage(r.errno)} (${r.code})${why}`);
    const code = execFailureCode(r.code, options.expectedCodes);
    terminationLog?.(`exec ${argv[0].toString()} failed: ${errnoMessage(r.errno)} (${r.code})`);
    events?.exit(code, 'exec-failed', r.code);
    return deps.exit(code, libc);
  }
  events?.spawn(r.value, r.value, argv, foregroundTty);
  return r.value;
}

function taskLimitHint(t: { limit: PidsLimit | undefined; initTasks: number }): string {
  return `: ${describeTaskLimit(t.limit, t.initTasks)}`;
}

function resolveInPath(name: string, deps: InitDeps): string | undefined {
  if (name.includes('/')) return name;
  for (const dir of (deps.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const file = path.join(dir || '.', name);
    if (deps.isExecutableFile(file)) return file;
  }
  return undefined;
}
