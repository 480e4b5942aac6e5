/**
 * The workload's process as data, and the pure rules that complete it inside
 * the container: user and group names looked up in the container's
 * /etc/passwd and /etc/group (as docker does), HOME, and the program found
 * along the container's PATH.
 */
import path from 'node:path';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface CapabilitySets {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable: string[];
  ambient: string[];
}

/** What the init applies to itself on its main thread just before it spawns the workload. */
export interface ProcessSpec {
  /** The environment, complete but for HOME (filled in from /etc/passwd if missing); null: the init's own. */
  env: string[] | null;
  cwd: string | null;
  user: { user: string; group: string | null } | null;
  groupAdd: string[];
  rlimits: { type: string; soft: number; hard: number }[];
  /** null: leave the capabilities alone (no root filesystem: a launcher, not a container). */
  caps: CapabilitySets | null;
  noNewPrivs: boolean;
  /** The seccomp program (struct sock_filter[]), base64; null: unconfined. */
  seccomp: string | null;
  /** SECCOMP_FILTER_FLAG_* to install it with (seccomp(2)); 0 or absent: none. */
  seccompFlags?: number;
  /** Exit 125 rather than 127 when the program is not in the root filesystem. */
  programMustExist: boolean;
  /** /proc/PID/oom_score_adj of the workload (and of the init that spawns it); null: inherited. */
  oomScoreAdj?: number | null;
  /** The workload's file mode creation mask (set in the init before it spawns); null or absent: inherited. */
  umask?: number | null;
}

export interface Credentials { uid: number; gid: number; groups: number[]; home: string | null }

/**
 * The ids a process may take: the kernel's 32-bit range minus (uid_t)-1,
 * which setresuid and setgroups read as "unchanged". Larger numbers must be
 * refused, never wrapped: 4294967296 would become uid 0.
 */
export { MAX_ID, idRangeProblem, parseId } from '../libc/ids.js';
import { idRangeProblem, parseId } from '../libc/ids.js';

/** Entries keep their id as written: checked when used, so that an out-of-range one is refused, not skipped. */
interface PasswdEntry { name: string; uid: string; gid: string; home: string }
interface GroupEntry { name: string; gid: string; members: string[] }

const isNum = (s: string) => /^[0-9]+$/.test(s);

function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    return f.length >= 7 && isNum(f[2]) && isNum(f[3]) ? [{ name: f[0], uid: f[2], gid: f[3], home: f[5] }] : [];
  });
}
function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    return f.length >= 4 && isNum(f[2]) ? [{ name: f[0], gid: f[2], members: f[3].split(',').filter(Boolean) }] : [];
  });
}

/** Numeric ids compare as numbers (0010 is 10); ids beyond the range never match a number given in range. */
const sameId = (a: string, b: number) => parseId(a) === b;

/**
 * docker's rules: a numeric user need not exist; a name must. Without a
 * group, the user's primary group from /etc/passwd (0 if unknown).
 * Supplementary groups: the groups listing the user in /etc/group, then --group-add.
 * Every id, given or read from the image, must be in 0..MAX_ID.
 */
export function resolveCredentials(
  spec: { user: { user: string; group: string | null } | null; groupAdd: string[] },
  passwdText: string,
  groupText: string,
): Credentials | string {
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const u = spec.user ?? { user: '0', group: null };
  let uid: number;
  let entry: PasswdEntry | undefined;
  if (isNum(u.user)) {
    const n = parseId(u.user);
    if (n === null) return idRangeProblem('user', u.user);
    uid = n;
    entry = passwd.find((p) => sameId(p.uid, uid));
  } else {
    entry = passwd.find((p) => p.name === u.user);
    if (!entry) return `no user '${u.user}' in the container's /etc/passwd`;
    const n = parseId(entry.uid);
    if (n === null) return idRangeProblem(`the container's /etc/passwd gives user '${u.user}' the uid`, entry.uid);
    uid = n;
  }
  const groupId = (g: string, what: string): number | string => {
    if (isNum(g)) return parseId(g) ?? idRangeProblem(`${what}: group`, g);
    const e = groups.find((x) => x.name === g);
    if (!e) return `no group '${g}' in the container's /etc/group (${what})`;
    return parseId(e.gid) ?? idRangeProblem(`the container's /etc/group gives group '${g}' the gid`, e.gid);
  };
  let gid = 0;
  if (entry) {
    const n = parseId(entry.gid);
    if (n === null) return idRangeProblem(`the container's /etc/passwd gives user '${entry.name}' the gid`, entry.gid);
    gid = n;
  }
  if (u.group !== null) {
    const g = groupId(u.group, '--user');
    if (typeof g === 'string') return g;
    gid = g;
  }
  const supplementary: number[] = [];
  if (entry) {
    for (const g of groups) {
      if (!g.members.includes(entry.name)) continue;
      const n = parseId(g.gid);
      if (n === null) return idRangeProblem(`the container's /etc/group lists user '${entry.name}' in group '${g.name}' with the gid`, g.gid);
      if (n !== gid && !supplementary.includes(n)) supplementary.push(n);
    }
  }
  for (const add of spec.groupAdd) {
    const g = groupId(add, '--group-add');
    if (typeof g === 'string') return g;
    if (!supplementary.includes(g)) supplementary.push(g);
  }
  return { uid, gid, groups: supplementary, home: entry?.home ?? null };
}

/** The environment with HOME set, as docker does (from /etc/passwd, else /). */
export function withHome(env: string[], home: string | null): string[] {
  return env.some((e) => e.startsWith('HOME=')) ? env : [...env, `HOME=${home ?? '/'}`];
}

/** PATH lookup as execvp does, inside the container; null if not found. `isExec` checks one candidate. */
export function findProgram(name: string, env: string[] | null, cwd: string, isExec: (p: string) => boolean): string | null {
  if (name.includes('/')) {
    const p = path.resolve(cwd, name);
    return isExec(p) ? p : null;
  }
  const pathVar = env?.find((e) => e.startsWith('PATH='))?.slice(5) ?? DEFAULT_PATH;
  for (const dir of pathVar.split(':')) {
    const p = path.resolve(cwd, dir || '.', name);
    if (isExec(p)) return p;
  }
  return null;
}

/** NAME=VALUE lines of an --env-file (docker's format: comments, blank lines, NAME alone takes the value from `from`). */
export function parseEnvFile(text: string, file: string, from: NodeJS.ProcessEnv): string[] | string {
  const out: string[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].replace(/^\s+/, '').replace(/\r$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    if (!/^[^\s=]+$/.test(name)) return `--env-file ${file}:${n + 1}: '${name}' is not a variable name`;
    if (eq >= 0) out.push(line);
    else if (from[name] !== undefined) out.push(`${name}=${from[name]}`);
  }
  return out;
}

/** Later entries replace earlier ones of the same name; order of first appearance is kept. */
export function mergeEnv(...lists: string[][]): string[] {
  const map = new Map<string, string>();
  for (const list of lists) for (const e of list) map.set(e.slice(0, e.indexOf('=')), e);
  return [...map.values()];
}
