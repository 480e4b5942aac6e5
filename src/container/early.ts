/**
 * The early spawn: the container's init of `tini-ts run` and of OCI `create`
 * started by the binary's first bundle (src/early-main.ts), before main.cjs is
 * deserialised and set up (3.4 ms), so that the init's Node start-up overlaps
 * that and the options' parsing and planning. It needs what the spawn needs
 * before the options are parsed: a scan of argv (earlyPlan) says which
 * namespaces the init gets and whether it builds a root filesystem, or that
 * this call is not a plain one (descriptors to pass, namespaces to join, no
 * pid namespace, not root): then nothing is done early.
 *
 * The scan only guesses. createContainer claims the init only if the parsed
 * plan wants exactly what it got (claimEarly); otherwise it is killed and
 * reaped and the usual spawn follows. A launcher that exits without claiming
 * it (bad input, --help) kills and reaps it first. The stop signals are
 * listened to before the spawn, the others right after it; all are queued
 * until the launcher's link takes them over.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isRuntimeCall, parseOciArgs } from '../cli/oci-args.js';
import { NAMESPACES, OCI_NAMESPACES, type NamespaceName } from '../cli/run-options.js';
import { createLibc } from '../libc/libc.js';
import type { Outcome } from '../libc/error.js';
import { createNsLibc } from '../libc/ns.js';
import { ok } from '../libc/types.js';
import { SIG, forwardableSignals } from '../libc/signals.js';
import { readConfigFile } from '../runtime/oci/config-file.js';
import { preservedFdsProblem, startInit, type StartedInit } from '../runtime/spawn-init.js';
import { takeEntrySpawned, type EntrySpawned } from './entry-spawn.js';
import { writeStderr } from '../log/log.js';
import { listenToSignals } from '../supervisor/signal-source.js';

/** What the early spawn gives the init. */
export interface EarlyPlan {
  namespaces: NamespaceName[];
  rootfs: boolean;
  /** The -v flags' level (the launcher's logger: 1 warn, 3 debug). */
  verbosity: number;
  /** The caller's descriptors the init gets (OCI create --preserve-fds N: 3 .. 3+N-1). */
  fds: number[];
}

/** Options of `run` that change the spawn (descriptors, namespaces, a root): a plan is read for them. */
const ROOT_OPTIONS = new Set(['--rootfs', '--layer', '--bundle']);
/** Flags without a value (`-v`, `-vv`... too). */
const FLAGS = new Set(['-q', '--quiet', '--read-only', '--new-privileges']);

/**
 * The spawn `run ARGS` will want, or null where the scan cannot be sure
 * enough to be worth it (createContainer then spawns as usual). Never
 * throws: input the parser refuses yields null or a guess that is discarded.
 */
export function earlyPlan(args: readonly string[], readFile: (file: string) => string, cwd: string, argv0 = '', fdsProblem = preservedFdsProblem): EarlyPlan | null {
  if (args[0] !== 'run') return ociCreatePlan(args, readFile, cwd, argv0, fdsProblem);
  const namespaces = new Set<NamespaceName>(NAMESPACES);
  let rootfs = false;
  let bundle: string | null = null;
  let verbosity = 1;
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (a === '--' || !a.startsWith('-') || a === '-') break;
    if (/^-v+$/.test(a)) verbosity += a.length - 1;
    if (FLAGS.has(a) || /^-v+$/.test(a)) continue;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined || flag === '--events' || flag === '-h' || flag === '--help') return null;
    if (!flag.startsWith('-')) return null;
    if (flag === '--share') {
      for (const n of value.split(',')) namespaces.delete((n.trim() === 'mnt' ? 'mount' : n.trim()) as NamespaceName);
    } else if (ROOT_OPTIONS.has(flag)) {
      rootfs = true;
      if (flag === '--bundle') bundle = value;
    }
  }
  if (bundle !== null) {
    const fromConfig = bundleNamespaces(bundle, readFile, cwd);
    if (!fromConfig) return null;
    namespaces.clear();
    fromConfig.forEach((n) => namespaces.add(n));
  }
  if (!namespaces.has('pid')) return null; // the launcher would be the orphans' subreaper first
  return { namespaces: [...namespaces], rootfs, verbosity, fds: [] };
}

/**
 * OCI `create` as engines call it (`tini-ts oci create`, a binary named
 * runc, or runc's global flags first): its namespaces from the bundle's
 * config.json; the descriptors to preserve (Podman's socket activation), if
 * they pass create's own check (the caller's, not Node's), which the init
 * gets at its spawn (a console socket and the start FIFO it reaches by path).
 */
function ociCreatePlan(args: readonly string[], readFile: (file: string) => string, cwd: string, argv0: string, fdsProblem: (n: number) => string | null): EarlyPlan | null {
  const oci = args[0] === 'oci' ? args.slice(1) : isRuntimeCall(args, argv0) ? [...args] : null;
  if (!oci) return null;
  const parsed = parseOciArgs(oci);
  if (parsed.kind !== 'ok' || parsed.command.verb !== 'create') return null;
  const { bundle, preserveFds } = parsed.command;
  // Checked here as create checks them: they must be the caller's before an init takes them.
  if (preserveFds !== 0 && fdsProblem(preserveFds) !== null) return null;
  const config = readBundleConfig(bundle ?? '.', readFile, cwd);
  if (!config) return null;
  const namespaces = namespacesOf(config);
  if (!namespaces?.includes('pid')) return null;
  return { namespaces, rootfs: true, verbosity: 1, fds: Array.from({ length: preserveFds }, (_, i) => 3 + i) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function readBundleConfig(dir: string, readFile: (file: string) => string, cwd: string): any {
  try {
    return JSON.parse(readFile(path.resolve(cwd, dir, 'config.json')));
  } catch {
    return null;
  }
}

/** config.json's namespaces, all created (a path to join: null). */
function bundleNamespaces(dir: string, readFile: (file: string) => string, cwd: string): NamespaceName[] | null {
  const config = readBundleConfig(dir, readFile, cwd);
  return config === null ? null : namespacesOf(config);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function namespacesOf(config: any): NamespaceName[] | null {
  try {
    const list: unknown = config?.linux?.namespaces;
    if (!Array.isArray(list)) return null;
    const out: NamespaceName[] = [];
    for (const n of list) {
      const name = OCI_NAMESPACES[n?.type];
      if (!name || n.path !== undefined || out.includes(name)) return null;
      out.push(name);
    }
    return out;
  } catch {
    return null;
  }
}

/** config.json as the launcher reads it (a FIFO must not hang, /dev/zero must not be read): else the plan is null. */
function readConfig(file: string): string {
  const r = readConfigFile(file);
  if (!r.ok) throw new Error('config.json cannot be read safely'); // the launcher says why
  return r.value;
}

/** The namespaces the binary's entry creates (the init makes its cgroup namespace itself). */
const ENTRY_NAMESPACES = 'ipc,mount,net,pid,uts';

/** Whether the init the entry spawned is what PLAN wants: its namespaces, no descriptors to pass. */
export function fitsEntrySpawn(plan: EarlyPlan): boolean {
  const made = plan.namespaces.filter((n) => n !== 'cgroup').sort().join(',');
  return plan.fds.length === 0 && made === ENTRY_NAMESPACES;
}

/** Takes the entry's init as this spawn's: in its own network namespace already (`lo` up), nothing to hand over. */
function adoptEntrySpawned(entry: EntrySpawned): Outcome<StartedInit> {
  return ok({ initPid: entry.pid, channel: entry.channel, netns: null });
}

/** The entry's init is not this run's: killed now, reaped at the latest when the launcher exits. */
function dropEntrySpawned(entry: EntrySpawned, verbosity: number): void {
  const why = entry.ran ? "is not this run's: killed" : 'could not start (its exec failed): reaped';
  if (verbosity >= 3) writeStderr(`[DEBUG tini-ts (${process.pid})] the init spawned at the binary's entry (pid ${entry.pid}) ${why}\n`);
  try {
    process.kill(entry.pid, 'SIGKILL');
    fs.closeSync(entry.channel);
  } catch {
    // gone already
  }
  process.once('exit', () => {
    createLibc().waitpid(entry.pid, 0); // ECHILD if the launcher's reaping took it first
  });
}

/** Listened to before the spawn: what users and engines send a launcher to stop or notify it. */
const STOP_FIRST = new Set<number>([SIG.TERM, SIG.INT, SIG.HUP, SIG.QUIT, SIG.USR1, SIG.USR2, SIG.ALRM]);

/** The early init, as early-main leaves it for main.cjs (the two bundles share only globalThis). */
interface EarlyInit {
  plan: EarlyPlan;
  initPid: number;
  channel: number;
  /** The container's network namespace (see spawn-init.ts), or null. */
  netns: number | null;
  claimed: boolean;
  /** Signals received before the link took them over, in order. */
  queued: number[];
  onSignal: ((sig: number) => void) | null;
  /** Where a discard is said (OCI: the runtime's --debug log); else stderr at -vv. */
  say: ((msg: string) => void) | null;
}
const SLOT = Symbol.for('tini-ts.early-init');
const slot = globalThis as unknown as { [SLOT]?: EarlyInit };

/** early-main's work: spawn the init if this run is a plain one. Any failure leaves nothing and lets the usual path run (and report it). */
export function spawnEarly(args: readonly string[]): void {
  const entry = takeEntrySpawned();
  const plan = earlyPlan(args, readConfig, process.cwd(), process.argv0);
  const fits = entry !== null && entry.ran && plan !== null && fitsEntrySpawn(plan);
  if (entry && !fits) dropEntrySpawned(entry, plan?.verbosity ?? 1);
  if (!plan) return;
  const ns = createNsLibc();
  if (ns.geteuid() !== 0) {
    if (fits) dropEntrySpawned(entry, plan.verbosity);
    return;
  }
  const libc = createLibc();
  const early: EarlyInit = { plan, initPid: 0, channel: -1, netns: null, claimed: false, queued: [], onSignal: null, say: null };
  const onSignal = (sig: number) => (early.onSignal ? early.onSignal(sig) : early.queued.push(sig));
  // The signals that stop or notify a launcher (a user's ^C, an engine's
  // TERM) are listened to before the spawn, so that one sent as soon as the
  // init exists is kept and passed on; the other 55 handles (0.4-0.6 ms,
  // five system calls each) once the init is spawned. One of those that
  // comes in that millisecond ends the launcher, as it would during Node's
  // start a millisecond earlier, and leaves nothing: the init, PID 1 of its
  // own pid namespace, reads the end of its channel and exits.
  const all = [...forwardableSignals(), SIG.CHLD];
  const first = all.filter((s) => STOP_FIRST.has(s));
  listenToSignals(first, onSignal);
  libc.unblockSignals(first);
  const started = fits ? adoptEntrySpawned(entry) : startInit(ns, libc, { namespaces: new Set(plan.namespaces) }, plan.rootfs, new Map(), plan.fds);
  // Set either way: the link takes over these handles and what they queued.
  slot[SLOT] = early;
  const rest = all.filter((s) => !STOP_FIRST.has(s));
  listenToSignals(rest, onSignal);
  libc.unblockSignals(rest);
  if (!started.ok) {
    early.claimed = true; // nothing to claim: the usual spawn will say why
    return;
  }
  early.initPid = started.value.initPid;
  early.channel = started.value.channel;
  early.netns = started.value.netns;
  // Not claimed (bad input, --help, an error before the spawn): nothing is left behind.
  process.once('exit', () => {
    if (!early.claimed) discard(early);
  });
}

/**
 * The early init, if it has what the parsed plan wants (the namespaces
 * created, the same descriptors, no namespaces joined; whether it builds a root only
 * chose its code cache); one that has not is killed
 * and reaped (the caller spawns as usual). Either way it is claimed once.
 */
export function claimEarly(want: { namespaces: ReadonlySet<NamespaceName>; fds: readonly number[]; joins: number }): { initPid: number; channel: number; netns: number | null } | null {
  const early = slot[SLOT];
  if (!early || early.claimed || early.initPid === 0) return null;
  early.claimed = true;
  // The cgroup namespace is the init's to make, as the set-up plan says: not the spawn's.
  const spawned = (list: Iterable<NamespaceName>) => [...list].filter((n) => n !== 'cgroup').sort().join(',');
  const same = want.fds.join(',') === early.plan.fds.join(',') && want.joins === 0 && spawned(early.plan.namespaces) === spawned(want.namespaces);
  if (!same) {
    discard(early);
    return null;
  }
  return { initPid: early.initPid, channel: early.channel, netns: early.netns };
}

/**
 * Hands the signals listened to early to ON (the queued ones first, in
 * order); false if there was no early listener (the caller listens itself).
 */
export function takeOverSignals(on: (sig: number) => void): boolean {
  const early = slot[SLOT];
  if (!early) return false;
  early.onSignal = on;
  for (const sig of early.queued.splice(0)) on(sig);
  return true;
}

/** Where the discard of an early init is said (before the command may fail). */
export function sayEarlyDiscard(say: (msg: string) => void): void {
  const early = slot[SLOT];
  if (early) early.say = say;
}

function discard(early: EarlyInit): void {
  const libc = createLibc();
  const msg = `the init spawned before the options were read (pid ${early.initPid}) is not this run's: killed`;
  if (early.say) early.say(msg);
  else if (early.plan.verbosity >= 3) writeStderr(`[DEBUG tini-ts (${libc.getpid()})] ${msg}\n`);
  libc.kill(early.initPid, SIG.KILL);
  for (;;) {
    const r = libc.waitpid(early.initPid, 0);
    if (r.ok || r.code !== 'EINTR') break;
  }
  const ns = createNsLibc();
  ns.close(early.channel);
  if (early.netns !== null) ns.close(early.netns);
}
