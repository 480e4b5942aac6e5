/**
 * Starts the workload from the init (inside the container, after pivot_root):
 * credentials, capabilities, no_new_privs, rlimits and seccomp are applied to
 * the init's MAIN THREAD only, then posix_spawn (libc.ts's spawn, which runs
 * on that thread) gives them to the workload. See libc/container.ts for why per thread.
 *
 * Order (as runc's finalizeNamespace / setupUser, adapted):
 *   1. rlimits (process-wide; the init keeps them too, harmless), then
 *      PR_SET_DUMPABLE 0 (process-wide: the init is never dumpable);
 *   2. seccomp first if no_new_privs is off (installing a filter then needs
 *      CAP_SYS_ADMIN, which the drop below may remove);
 *   3. bounding set drop (needs CAP_SETPCAP, so before capset);
 *   4. PR_SET_KEEPCAPS, setgroups, setresgid, setresuid, PR_SET_KEEPCAPS off;
 *   5. capset(effective, permitted, inheritable); ambient raise (a failure is
 *      ignored as runc does: an ambient capability also needs to be inheritable);
 *   6. no_new_privs, then the seccomp filter (the last calls before spawn).
 *
 * What the init keeps afterwards: its main thread has the workload's uid, gid,
 * capabilities and filter (a deny-list that allows everything the init still
 * does: wait4, kill, read/write, epoll). Sending signals to the workload's
 * process group needs the same uid or CAP_KILL: the init has both unless the
 * workload changes its uid without CAP_KILL granted, and then PID 1's exit
 * (which kills the pid namespace) and the launcher's cgroup kill still end
 * it. The init's other threads keep root's credentials: the libuv pool
 * lowers the init's oom_score_adj once the workload runs (that needs
 * CAP_SYS_RESOURCE, which the main thread may no longer have).
 */
import fs from 'node:fs';
import type { ContainerLibc } from '../libc/container.js';
import { RLIMIT } from '../libc/container.js';
import type { Libc, Result } from '../libc/types.js';
import { CAPABILITIES, capabilityWords } from './hardening/capabilities.js';
import { findProgram, resolveCredentials, withHome, type ProcessSpec } from './process.js';

export type WorkloadStart =
  | { kind: 'spawned'; pid: number }
  /** Set-up failed before anything ran: exit 125. */
  | { kind: 'error'; message: string }
  /** posix_spawn failed (the program could not be executed). */
  | { kind: 'exec-error'; code: string };

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

export function startWorkload(
  spec: ProcessSpec,
  argv: string[],
  cl: ContainerLibc,
  spawn: Libc['spawn'],
): WorkloadStart {
  const creds = resolveCredentials(spec, readOr('/etc/passwd', ''), readOr('/etc/group', ''));
  if (typeof creds === 'string') return { kind: 'error', message: creds };
  const env = spec.env === null ? null : withHome(spec.env, creds.home);
  const cwd = spec.cwd ?? process.cwd();
  if (spec.cwd !== null && !fs.existsSync(cwd)) {
    // As runc and docker do: create the working directory (after pivot_root, so inside the root; kept, like mount points).
    try {
      const missing: string[] = [];
      for (let d = cwd; !fs.existsSync(d); d = d.slice(0, d.lastIndexOf('/')) || '/') missing.unshift(d);
      for (const d of missing) {
        fs.mkdirSync(d, { mode: 0o755 });
      }
    } catch (e) {
      return { kind: 'error', message: `cannot create the working directory ${cwd}: ${(e as NodeJS.ErrnoException).code}` };
    }
  }
  const program = findProgram(argv[0], env ?? Object.entries(process.env).map(([k, v]) => `${k}=${v}`), cwd, isExecutable);
  if (program === null && spec.programMustExist) {
    return { kind: 'error', message: `${argv[0]}: not found in the root filesystem${argv[0].includes('/') ? '' : ' (along PATH)'}` };
  }

  const must = (r: Result<unknown>, ignore: string[] = []): string | null => (r.ok || ignore.includes(r.code) ? null : `${r.call} failed: ${r.code}`);
  const seccomp = spec.seccomp === null ? null : Buffer.from(spec.seccomp, 'base64');
  const steps: (() => string | null)[] = [];
  for (const l of spec.rlimits) {
    const n = RLIMIT[l.type];
    if (n === undefined) return { kind: 'error', message: `unknown rlimit ${l.type}` };
    steps.push(() => must(cl.setrlimit(n, l.soft, l.hard)));
  }
  // Not dumpable, before the main thread takes the workload's credentials:
  // /proc/1/{mem,environ,...} become root's and ptrace needs CAP_SYS_PTRACE,
  // so a workload with the main thread's uid and capabilities cannot reach
  // into the init, whose other threads keep root's. The kernel would clear
  // the flag on a uid change, but not when only capabilities are dropped.
  // (exec gives the workload its own flag back.)
  steps.push(() => must(cl.setDumpable(false)));
  if (seccomp && !spec.noNewPrivs) steps.push(() => must(cl.installSeccomp(seccomp)));
  const caps = spec.caps;
  if (caps) {
    const keep = new Set(caps.bounding);
    const last = lastCap();
    for (let c = 0; c <= last; c++) {
      if (!keep.has(CAPABILITIES[c] ?? '')) steps.push(() => must(cl.dropBounding(c), ['EINVAL']));
    }
  }
  const changeIds = spec.user !== null || spec.groupAdd.length > 0;
  if (changeIds) {
    if (caps) steps.push(() => must(cl.setKeepCaps(true)));
    steps.push(() => must(cl.setgroups(creds.groups)));
    steps.push(() => must(cl.setresgid(creds.gid)));
    steps.push(() => must(cl.setresuid(creds.uid)));
    if (caps) steps.push(() => must(cl.setKeepCaps(false)));
  }
  if (caps) {
    steps.push(() =>
      must(cl.capset({ effective: capabilityWords(caps.effective), permitted: capabilityWords(caps.permitted), inheritable: capabilityWords(caps.inheritable) })),
    );
    for (const a of caps.ambient) steps.push(() => must(cl.raiseAmbient(CAPABILITIES.indexOf(a)), ['EPERM', 'EINVAL']));
  }
  if (spec.noNewPrivs) steps.push(() => must(cl.setNoNewPrivs()));
  if (seccomp && spec.noNewPrivs) steps.push(() => must(cl.installSeccomp(seccomp)));
  for (const step of steps) {
    const e = step();
    if (e) return { kind: 'error', message: `setting up the workload's process: ${e}` };
  }
  // In a new process group, stdio passed, everything else closed, in `cwd`.
  // No PATH search of the init's own: the program found above (absolute), or
  // the name as given, relative to the working directory (as execve takes it).
  const file = program ?? (argv[0].includes('/') ? argv[0] : `./${argv[0]}`);
  const r = spawn({
    file,
    argv: argv.map((a) => Buffer.from(a)),
    env: (env ?? Object.entries(process.env).map(([k, v]) => `${k}=${v}`)).map((e) => Buffer.from(e)),
    cwd,
    newProcessGroup: true,
    foregroundTty: false,
    passFds: [0, 1, 2],
  });
  return r.ok ? { kind: 'spawned', pid: r.value } : { kind: 'exec-error', code: r.code };
}
