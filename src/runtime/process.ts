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
  /** Exit 125 rather than 127 when the program is not in the root filesystem. */
  programMustExist: boolean;
}

export interface Credentials { uid: number; gid: number; groups: number[]; home: string | null }

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    return f.length >= 7 && /^[0-9]+$/.test(f[2]) && /^[0-9]+$/.test(f[3]) ? [{ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] }] : [];
  });
}
function parseGroup(text: string): GroupEntry[] {
  return text.split('\n').flatMap((l) => {
    const f = l.split(':');
    return f.length >= 4 && /^[0-9]+$/.test(f[2]) ? [{ name: f[0], gid: Number(f[2]), members: f[3].split(',').filter(Boolean) }] : [];
  });
}

const isNum = (s: string) => /^[0-9]+$/.test(s);

/**
 * docker's rules: a numeric user need not exist; a name must. Without a
 * group, the user's primary group from /etc/passwd (0 if unknown).
 * Supplementary groups: the groups listing the user in /etc/group, then --group-add.
 */
export function resolveCredentials(
  spec: { user: { user: string; group: string | null } | null; groupAdd: string[] },
  passwdText: string,
  groupText: string,
): Credentials | string {
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const u = spec.user ?? { user: '0', group: null };
  const entry = isNum(u.user) ? passwd.find((p) => p.uid === Number(u.user)) : passwd.find((p) => p.name === u.user);
  if (!entry && !isNum(u.user)) return `no user '${u.user}' in the container's /etc/passwd`;
  const uid = isNum(u.user) ? Number(u.user) : entry!.uid;
  const groupId = (g: string, what: string): number | string => {
    if (isNum(g)) return Number(g);
    const e = groups.find((x) => x.name === g);
    return e ? e.gid : `no group '${g}' in the container's /etc/group (${what})`;
  };
  let gid = entry?.gid ?? 0;
  if (u.group !== null) {
    const g = groupId(u.group, '--user');
    if (typeof g === 'string') return g;
    gid = g;
  }
  const supplementary: number[] = [];
  if (entry) for (const g of groups) if (g.members.includes(entry.name) && g.gid !== gid) supplementary.push(g.gid);
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
