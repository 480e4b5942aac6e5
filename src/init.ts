/**
 * The init: tini-ts [OPTIONS] [--] PROGRAM [ARGS...]
 *
 * Reads as tini's main does: parse, configure signals, parent-death signal,
 * subreaper, reaper check, spawn, then supervise. Set-up may fail loudly
 * (exit 1); once the child runs, the supervisor shell never throws.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseInitArgs, type InitOptions } from './cli/init-options.js';
import { createLibc } from './libc/libc.js';
import { errnoMessage } from './libc/errno.js';
import { SIG, forwardableSignals } from './libc/signals.js';
import type { Libc, Result } from './libc/types.js';
import { createLogger, writeStderr, writeStdout, type Logger } from './log/log.js';
import { execFailureCode } from './supervisor/core.js';
import { startSupervisor } from './supervisor/shell.js';
import { listenToSignals } from './supervisor/signal-source.js';
import { LICENSE, USAGE, VERSION_LINE } from './texts.js';

export function runInit(args: string[]): void {
  const parsed = parseInitArgs(args, process.env, { usage: USAGE, license: LICENSE, version: VERSION_LINE });
  if (parsed.kind === 'exit') {
    if (parsed.stdout) writeStdout(parsed.stdout);
    if (parsed.stderr) writeStderr(parsed.stderr);
    process.exit(parsed.code);
  }
  const { options } = parsed;
  const argv = programArgv(args, parsed.programIndex);

  const libc = createLibc();
  const pid = libc.getpid();
  const logger = createLogger(options.verbosity, pid);
  const fatal = (message: string, code = 1): never => {
    logger.log('fatal', message);
    process.exit(code);
  };

  libc.setProcessName('tini-ts');
  configureSignals(libc, logger, fatal);
  if (options.parentDeathSignal !== null) {
    must(libc.setParentDeathSignal(options.parentDeathSignal), fatal);
  }
  if (options.subreaper && pid !== 1) {
    const r = libc.setChildSubreaper();
    if (!r.ok) fatal(`PR_SET_CHILD_SUBREAPER failed: ${r.code}${r.code === 'EINVAL' ? ' (Linux >= 3.4 is needed)' : ''}`);
    logger.log('trace', 'Registered as child subreaper');
  }
  reaperCheck(libc, logger, pid);

  // Signals are listened to before the child exists, so none can be missed.
  let onSignal: (sig: number) => void = () => {};
  const source = listenToSignals([...forwardableSignals(), SIG.CHLD], (sig) => onSignal(sig));
  for (const sig of source.unavailable) logger.log('debug', `signal ${sig} cannot be listened to and will not be forwarded`);
  // Node leaves SIGUSR1 blocked with --disable-sigusr1, and the init may have
  // inherited a mask from its parent: unblock everything it forwards.
  must(libc.unblockSignals([...forwardableSignals(), SIG.CHLD]), fatal);

  const childPid = spawnChild(libc, logger, argv, options);
  logger.log('info', `Spawned child process '${argv[0].toString()}' with pid '${childPid}'`);

  const sup = startSupervisor(
    { childPid, graceMs: options.graceMs, expectedCodes: options.expectedCodes, warnOnReap: options.warnOnReap },
    { libc, logger, now: () => performance.now(), exit: (code) => process.exit(code) },
  );
  onSignal = (sig) => sup.onSignal(sig);
}

function must<T>(r: Result<T>, fatal: (m: string) => never): T {
  if (!r.ok) fatal(`${r.call} failed: ${r.code}`);
  return (r as { value: T }).value;
}

/**
 * SIGTTIN/SIGTTOU are ignored: the child gets the terminal's foreground, and
 * the init may still write (or reclaim the terminal) from the background.
 */
function configureSignals(libc: Libc, _logger: Logger, fatal: (m: string) => never): void {
  must(libc.ignoreSignal(SIG.TTIN), fatal);
  must(libc.ignoreSignal(SIG.TTOU), fatal);
}

function reaperCheck(libc: Libc, logger: Logger, pid: number): void {
  if (pid === 1) return;
  const r = libc.isChildSubreaper();
  if (r.ok && r.value) return;
  logger.log(
    'warn',
    "tini-ts is not running as PID 1 and isn't registered as a child subreaper.\n" +
      "Zombie processes will not be re-parented to tini-ts, so zombie reaping won't work.\n" +
      'To fix the problem, use the -s option or set the environment variable TINI_SUBREAPER to register tini-ts as a child subreaper, or run tini-ts as PID 1.',
  );
}

/**
 * The program's argv as the kernel passed it (from /proc/self/cmdline), so
 * bytes that are not UTF-8 reach the child unchanged. Falls back to
 * process.argv when /proc is not there.
 */
function programArgv(args: string[], programIndex: number): Buffer[] {
  const fromStrings = args.slice(programIndex).map((a) => Buffer.from(a));
  try {
    const raw = fs.readFileSync('/proc/self/cmdline');
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < raw.length; i++) {
      if (raw[i] === 0) {
        parts.push(raw.subarray(start, i));
        start = i + 1;
      }
    }
    if (parts.length < args.length) return fromStrings;
    const user = parts.slice(parts.length - args.length);
    if (user.some((b, i) => b.toString() !== args[i])) return fromStrings;
    return user.slice(programIndex);
  } catch {
    return fromStrings;
  }
}

function spawnChild(libc: Libc, logger: Logger, argv: Buffer[], options: InitOptions): number {
  // Hand the terminal to the child only if the init's group holds it now
  // (as under `docker run -t`); never steal it from a foreground job.
  const fg = libc.tcgetpgrp(0);
  const foregroundTty = fg.ok && fg.value === libc.getpgrp();
  const passFds = [0, 1, 2].filter((fd) => {
    try {
      fs.fstatSync(fd);
      return true;
    } catch {
      return false;
    }
  });
  const req = { argv, newProcessGroup: true, foregroundTty, passFds };
  let r = libc.spawn(req);
  if (!r.ok && r.code === 'ENOEXEC') {
    // execvp runs a script without a #! line with /bin/sh; posix_spawnp no longer does.
    const file = resolveInPath(argv[0].toString());
    if (file) r = libc.spawn({ ...req, argv: [Buffer.from('/bin/sh'), Buffer.from(file), ...argv.slice(1)] });
  }
  if (!r.ok) {
    logger.log('fatal', `exec ${argv[0].toString()} failed: ${errnoMessage(r.errno)} (${r.code})`);
    process.exit(execFailureCode(r.code, options.expectedCodes));
  }
  return r.value;
}

function resolveInPath(name: string): string | undefined {
  if (name.includes('/')) return name;
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const file = path.join(dir || '.', name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // keep looking
    }
  }
  return undefined;
}
