/**
 * The workload's process, in two halves: the init's set-up, then its spawn.
 *
 * dropPrivileges (the init, inside the container after pivot_root; or the
 * exec verb): the working directory is created, then credentials,
 * capabilities, no_new_privs and seccomp are taken on, by every thread of the
 * init or by the exec verb's main thread, in runc's order (finalizeNamespace / setupUser, adapted):
 *   1. hard rlimits raised where the workload's are higher, PR_SET_DUMPABLE 0;
 *   2. seccomp first if no_new_privs is off (installing a filter then needs
 *      CAP_SYS_ADMIN, which the drop below may remove);
 *   3. bounding set drop (needs CAP_SETPCAP, so before capset);
 *   4. PR_SET_KEEPCAPS, setgroups, setresgid, setresuid, PR_SET_KEEPCAPS off;
 *   5. capset to the sets the workload's exec will leave it (capsAfterExec);
 *      ambient raise (a failure is ignored as runc does);
 *   6. no_new_privs, then the seccomp filter.
 * The init holds what the workload will hold, no more, on every thread.
 *
 * workloadRequest (supervision): finds the program along the
 * workload's PATH and spawns it with its environment and working directory.
 */
import fs from 'node:fs';
import { SECCOMP_FILTER_FLAG_TSYNC, threadCalls, type ContainerLibc } from '../libc/container.js';
import type { ThreadCall } from '../libc/every-thread.js';
import { RLIMIT } from '../libc/consts.js';
import { ok, type Result, type SpawnRequest } from '../libc/types.js';
import type { ErrnoName } from '../libc/errno.js';
import { failed, fromSys, within, type Outcome, type RunError } from '../libc/error.js';
import { CAPABILITIES, capabilityWords } from '../libc/capabilities.js';
import { findProgram, resolveCredentials, withHome, type CapabilitySets, type ProcessSpec } from './process.js';

const readOr = (file: string, dflt: string) => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return dflt;
  }
};

function isExecutable(p: string): boolean {
  try {
    const st = fs.statSync(p);
    return st.isFile() && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** The highest capability number this kernel knows. */
function lastCap(): number {
  const n = Number(readOr('/proc/sys/kernel/cap_last_cap', '').trim());
  return Number.isInteger(n) && n > 0 ? n : CAPABILITIES.length - 1;
}

/** The working directory, created as runc and docker do (after pivot_root, so inside the root; kept, like mount points). */
export function makeWorkdir(cwd: string): Outcome<void> {
  if (fs.existsSync(cwd)) return ok(undefined);
  try {
    const missing: string[] = [];
    for (let d = cwd; !fs.existsSync(d); d = d.slice(0, d.lastIndexOf('/')) || '/') missing.unshift(d);
    for (const d of missing) {
      fs.mkdirSync(d, { mode: 0o755 });
    }
    return ok(undefined);
  } catch (e) {
    const x = e as NodeJS.ErrnoException;
    return failed(`cannot create the working directory ${cwd}: ${x.code}`, { call: `mkdir(${x.path ?? cwd})`, errno: x.code as ErrnoName });
  }
}

/**
 * Rlimits are the workload's alone, except the few the init can share (see
 * sharedRlimit): V8 aborts under a small RLIMIT_AS, and the init needs its
 * descriptors. The privileged set-up
 * only raises its hard limits where the workload's are higher (that needs
 * CAP_SYS_RESOURCE, which the init may lack once it holds the workload's
 * privileges); supervision then sets the exact limits on the child with prlimit(2) while the
 * child waits at its gate, before exec (see ns-init.ts).
 */
export function raiseHardLimits(rlimits: ProcessSpec['rlimits'], cl: ContainerLibc): Outcome<void> {
  for (const l of rlimits) {
    const n = RLIMIT[l.type];
    if (n === undefined) return failed(`unknown rlimit ${l.type}`);
    const cur = cl.prlimit(0, n, null);
    if (!cur.ok) return { ok: false, error: fromSys(cur, `${cur.call}(${l.type}) failed: ${cur.code}`) };
    if (l.hard <= cur.value.hard) continue;
    const r = cl.prlimit(0, n, { soft: cur.value.soft, hard: l.hard });
    if (!r.ok) return { ok: false, error: fromSys(r, `raising the hard ${l.type} limit to ${l.hard}: ${r.call} failed: ${r.code}`) };
  }
  return ok(undefined);
}

/**
 * Limits the supervising init can take on itself, so that the child inherits
 * them through a plain spawn instead of waiting at the gate (2.5-7 ms): none
 * of them can starve the init. A descriptor limit counts only when it leaves
 * the init room for its own (Node's event loop, the channel, the signal pipe).
 * The rest (AS, DATA, STACK, NPROC, SIGPENDING, ...) stay the workload's alone.
 */
const SHARED_RLIMITS: ReadonlySet<string> = new Set(['RLIMIT_CORE', 'RLIMIT_NOFILE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_MSGQUEUE', 'RLIMIT_LOCKS']);
const INIT_MIN_NOFILE = 256;

export function sharedRlimit(l: ProcessSpec['rlimits'][number]): boolean {
  return SHARED_RLIMITS.has(l.type) && (l.type !== 'RLIMIT_NOFILE' || Math.min(l.soft, l.hard) >= INIT_MIN_NOFILE);
}

/** The rlimits that need the gate (see sharedRlimit). */
export function gatedRlimits(rlimits: ProcessSpec['rlimits']): ProcessSpec['rlimits'] {
  return rlimits.filter((l) => !sharedRlimit(l));
}

/** The workload's exact rlimits on the (gated) child, or (pid 0) on the init itself for the shared ones. */
export function limitChild(pid: number, rlimits: ProcessSpec['rlimits'], cl: ContainerLibc): Outcome<void> {
  for (const l of rlimits) {
    const n = RLIMIT[l.type];
    if (n === undefined) return failed(`unknown rlimit ${l.type}`);
    const r = cl.prlimit(pid, n, { soft: l.soft, hard: l.hard });
    if (!r.ok) return { ok: false, error: fromSys(r, `setting the ${l.type} limit: ${r.call} failed: ${r.code}`) };
  }
  return ok(undefined);
}

/**
 * The capability sets the workload's own exec will leave it (capabilities(7),
 * a file without capabilities): root gets its bounding set, inheritable and
 * ambient sets as permitted and effective; anyone else its ambient set. The
 * init takes these, so that it holds exactly what the workload will hold.
 * Ambient capabilities are kept only where the kernel raises them (permitted
 * and inheritable too), as runc ignores the others.
 */
export function capsAfterExec(caps: CapabilitySets, uid: number): CapabilitySets {
  const ambient = caps.ambient.filter((a) => caps.permitted.includes(a) && caps.inheritable.includes(a));
  const permitted = uid === 0 ? [...new Set([...caps.bounding, ...caps.inheritable, ...ambient])] : ambient;
  return { bounding: caps.bounding, effective: permitted, permitted, inheritable: caps.inheritable, ambient };
}

/**
 * The workload's credentials and hardening taken on, in runc's order (see the
 * header): by this thread alone (`thisThread`, the exec verb, which then
 * spawns the process), or by every thread of the process (the container's
 * init, which must never hold more than its workload; `first` runs on each
 * thread before the rest, e.g. its cgroup v1 joins).
 */
export function dropPrivileges(spec: ProcessSpec, cl: ContainerLibc, scope: { everyThread: boolean; first?: ThreadCall[] } = { everyThread: false }): Outcome<void> {
  const creds = resolveCredentials(spec, readOr('/etc/passwd', ''), readOr('/etc/group', ''));
  if (typeof creds === 'string') return failed(creds);
  const must = (r: Result<unknown>): RunError | null => (r.ok ? null : fromSys(r, `${r.call} failed: ${r.code}`));
  const seccomp = spec.seccomp === null ? null : Buffer.from(spec.seccomp, 'base64');
  // Every thread takes the filter at once (TSYNC), or the call fails and none does.
  const flags = (spec.seccompFlags ?? 0) | (scope.everyThread ? SECCOMP_FILTER_FLAG_TSYNC : 0);
  const changeIds = spec.user !== null || spec.groupAdd.length > 0;
  const caps = spec.caps === null ? null : capsAfterExec(spec.caps, changeIds ? creds.uid : process.getuid!());
  const calls: ThreadCall[] = [...(scope.first ?? [])];
  if (caps) {
    const keep = new Set(caps.bounding);
    const last = lastCap();
    for (let c = 0; c <= last; c++) if (!keep.has(CAPABILITIES[c] ?? '')) calls.push(threadCalls.dropBounding(c));
  }
  if (changeIds) {
    if (caps) calls.push(threadCalls.setKeepCaps(true));
    calls.push(threadCalls.setgroups(creds.groups), threadCalls.setresgid(creds.gid), threadCalls.setresuid(creds.uid));
    if (caps) calls.push(threadCalls.setKeepCaps(false));
  }
  if (caps) {
    calls.push(threadCalls.capset({ effective: capabilityWords(caps.effective), permitted: capabilityWords(caps.permitted), inheritable: capabilityWords(caps.inheritable) }));
    for (const a of caps.ambient) calls.push(threadCalls.raiseAmbient(CAPABILITIES.indexOf(a)));
  }
  if (spec.noNewPrivs) calls.push(threadCalls.setNoNewPrivs());
  const steps: (() => RunError | null)[] = [
    () => {
      const r = raiseHardLimits(spec.rlimits, cl);
      return r.ok ? null : r.error;
    },
    () => must(cl.setDumpable(false)),
  ];
  // Without no_new_privs the filter goes first: installing it needs CAP_SYS_ADMIN, which the calls may drop.
  if (seccomp && !spec.noNewPrivs) steps.push(() => must(cl.installSeccomp(seccomp, flags)));
  steps.push(() => must(scope.everyThread ? cl.everyThread(calls) : cl.thisThread(calls)));
  if (seccomp && spec.noNewPrivs) steps.push(() => must(cl.installSeccomp(seccomp, flags)));
  for (const step of steps) {
    const e = step();
    if (e) return { ok: false, error: within(e, "setting up the workload's process") };
  }
  return ok(undefined);
}

export interface WorkloadSpec {
  argv: Buffer[];
  env: Buffer[];
  cwd: string | null;
  programMustExist: boolean;
  /** HOME is filled in (from the container's /etc/passwd) for this user when the environment lacks it; undefined: left alone. */
  homeOf?: ProcessSpec['user'];
}

/** The spawn request for the workload (new process group, stdio passed, everything else closed), or the reason it cannot start. */
export function workloadRequest(w: WorkloadSpec): Outcome<SpawnRequest & { env: Buffer[] }> {
  let env = w.env;
  if (w.homeOf !== undefined && !env.some((e) => e.subarray(0, 5).toString() === 'HOME=')) {
    const creds = resolveCredentials({ user: w.homeOf, groupAdd: [] }, readOr('/etc/passwd', ''), readOr('/etc/group', ''));
    env = env.concat(withHome([], typeof creds === 'string' ? null : creds.home).map((e) => Buffer.from(e)));
  }
  const cwd = w.cwd ?? process.cwd();
  const name = w.argv[0].toString();
  const program = findProgram(name, env.map((e) => e.toString()), cwd, isExecutable);
  if (program === null && w.programMustExist) {
    return failed(`${name}: not found in the root filesystem${name.includes('/') ? '' : ' (along PATH)'}`, { errno: 'ENOENT' });
  }
  // No PATH search of the init's own: the program found above (absolute), or
  // the name as given, relative to the working directory (as execve takes it).
  const file = program ?? (name.includes('/') ? name : `./${name}`);
  return ok({ file, argv: w.argv, env, cwd, newProcessGroup: true, foregroundTty: false, passFds: [0, 1, 2] });
}
