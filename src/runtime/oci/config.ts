/**
 * OCI runtime-spec config.json -> a validated container plan. Pure: reads
 * nothing but the text it is given. Supports the subset `runc spec` writes
 * plus the fields tini-ts can honour; anything else it finds is listed in one
 * warning (never silently ignored), and invalid values are errors that name
 * the field and why.
 */
import path from 'node:path';
import { THROTTLE_LISTS, type DeviceRule, type LinuxResources } from '../../cgroup/types.js';
import { normalizeCapability } from '../../libc/capabilities.js';
import { sysctlProblem } from '../../libc/sysctl.js';
import { RLIMIT } from '../../libc/consts.js';
import { MAX_ID } from '../process.js';
import { cgroupParentProblem, cleanDestination } from '../../cli/run-options.js';
import { parseJsonExact, parseSeccomp, type SeccompProfile } from '../hardening/oci-seccomp.js';
import { HOOK_KINDS, type Hook, type HookKind, type Hooks } from './hooks.js';

export type NamespaceType = 'pid' | 'network' | 'ipc' | 'uts' | 'mount' | 'cgroup';

export interface Mount { destination: string; type: string; source: string; options: string[] }
export interface Rlimit { type: string; soft: number; hard: number }

export interface ContainerPlan {
  process: {
    args: string[];
    env: string[];
    cwd: string;
    uid: number;
    gid: number;
    additionalGids: number[];
    terminal: boolean;
    /** The terminal's size (TIOCSWINSZ) when one is made; null: the kernel's 0x0. */
    consoleSize: { height: number; width: number } | null;
    /** Capability names without CAP_, per set. */
    capabilities: Record<'bounding' | 'effective' | 'permitted' | 'inheritable' | 'ambient', string[]>;
    rlimits: Rlimit[];
    noNewPrivileges: boolean;
    oomScoreAdj: number | null;
    /** process.user.umask (0..0o777); null: not given. */
    umask: number | null;
  };
  root: { path: string; readonly: boolean };
  hostname: string | null;
  mounts: Mount[];
  namespaces: NamespaceType[];
  /** linux.namespaces[].path: namespaces joined rather than created (also listed in `namespaces`). */
  joinNamespaces: JoinNamespace[];
  /** linux.resources as read (values that mean "not set", such as Docker's 0s, left out); devices in order (the launcher appends runc's default allow list). */
  resources: LinuxResources;
  maskedPaths: string[];
  /** linux.devices: device nodes made in the container (Docker's and Podman's --device). */
  devices: DeviceNode[];
  /** linux.sysctl: namespaced keys only (see libc/sysctl.ts). */
  sysctl: Record<string, string>;
  readonlyPaths: string[];
  /** linux.seccomp, checked (compiled for the running architecture by the launcher); null: no filter, as runc. */
  seccomp: SeccompProfile | null;
  /** hooks, by kind (run by the OCI create, start and delete; see hooks.ts). */
  hooks: Hooks;
}

/** A linux.devices[] entry: a node at `path` inside the root (its parents made), mode and owner set. */
export interface DeviceNode { path: string; type: 'c' | 'b' | 'p'; major: number; minor: number; mode: number; uid: number; gid: number }

/** A namespace to join: its type, the path to open, and the field that named it (for errors). */
export interface JoinNamespace { type: NamespaceType; path: string; field: string }

export type ParsedConfig =
  | { ok: true; plan: ContainerPlan; unsupported: string[] }
  | { ok: false; error: string };


const NAMESPACES: readonly string[] = ['pid', 'network', 'ipc', 'uts', 'mount', 'cgroup'];

/** Keys this parser reads, per object path; anything else is reported. */
const KNOWN: Readonly<Record<string, readonly string[]>> = {
  '': ['ociVersion', 'process', 'root', 'hostname', 'mounts', 'linux', 'annotations', 'hooks'],
  process: ['terminal', 'consoleSize', 'user', 'args', 'env', 'cwd', 'capabilities', 'rlimits', 'noNewPrivileges', 'oomScoreAdj', 'apparmorProfile', 'selinuxLabel'],
  'process.user': ['uid', 'gid', 'additionalGids', 'umask'],
  'process.consoleSize': ['height', 'width'],
  root: ['path', 'readonly'],
  // cgroupsPath is read by the OCI create (cgroupPlace below), which every engine sends.
  linux: ['namespaces', 'resources', 'maskedPaths', 'readonlyPaths', 'uidMappings', 'gidMappings', 'seccomp', 'sysctl', 'cgroupsPath', 'devices', 'mountLabel'],
  'linux.resources': ['memory', 'pids', 'cpu', 'devices', 'blockIO'],
  'linux.resources.memory': ['limit', 'swap', 'swappiness', 'reservation', 'disableOOMKiller'],
  'linux.resources.blockIO': ['weight', 'throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'],
  'linux.resources.pids': ['limit'],
  'linux.resources.cpu': ['shares', 'quota', 'period', 'cpus', 'mems'],
};

/** Fields left out of KNOWN whose value here means "nothing to do". */
const NEUTRAL: Readonly<Record<string, unknown>> = {};

class ConfigError extends Error {}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

function fail(field: string, why: string): never {
  throw new ConfigError(`config.json: ${field}: ${why}`);
}

function obj(v: unknown, field: string): Record<string, Json> {
  if (!isObject(v)) fail(field, 'must be an object');
  return v;
}
function str(v: unknown, field: string): string {
  if (typeof v !== 'string') fail(field, 'must be a string');
  return v;
}
function bool(v: unknown, field: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(field, 'must be true or false');
  return v;
}
function int(v: unknown, field: string, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(field, `must be an integer >= ${min}`);
  return v;
}
/** A uid or gid: 0..MAX_ID, never wrapped ((uid_t)-1 means "unchanged", 2^32 would be 0). */
function id(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_ID) fail(field, `must be an integer from 0 to ${MAX_ID}`);
  return v;
}
function strings(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail(field, 'must be an array of strings');
  return v as string[];
}

function collectUnsupported(v: Record<string, Json>, at: string, out: string[]): void {
  const known = KNOWN[at];
  if (!known) return;
  for (const [k, child] of Object.entries(v)) {
    const here = at ? `${at}.${k}` : k;
    if (!known.includes(k)) {
      if (!(here in NEUTRAL && NEUTRAL[here] === child)) out.push(here);
    }
    else if (isObject(child)) collectUnsupported(child, here, out);
  }
}

/** A winsize holds 16-bit rows and columns. */
function consoleSize(o: Record<string, Json>): { height: number; width: number } {
  const dim = (k: 'height' | 'width') => {
    const n = o[k] === undefined ? 0 : int(o[k], `process.consoleSize.${k}`);
    if (n > 65535) fail(`process.consoleSize.${k}`, 'must be at most 65535');
    return n;
  };
  return { height: dim('height'), width: dim('width') };
}

function capabilities(v: unknown): ContainerPlan['process']['capabilities'] {
  const caps = { bounding: [] as string[], effective: [] as string[], permitted: [] as string[], inheritable: [] as string[], ambient: [] as string[] };
  if (v === undefined) return caps;
  const o = obj(v, 'process.capabilities');
  for (const set of Object.keys(caps) as (keyof typeof caps)[]) {
    if (o[set] === undefined) continue;
    caps[set] = strings(o[set], `process.capabilities.${set}`).map((name, i) => {
      const n = normalizeCapability(name);
      if (!n || n === 'ALL') fail(`process.capabilities.${set}[${i}]`, `unknown capability '${name}'`);
      return n;
    });
  }
  return caps;
}

/** Parses config.json text; `bundle` resolves a relative root.path. */
export function parseConfig(text: string, bundle: string): ParsedConfig {
  try {
    let raw: unknown;
    try {
      // Exact beyond 2^53 (seccomp arguments are 64 bits); a number other fields cannot take stays refused.
      raw = parseJsonExact(text);
    } catch (e) {
      fail('(file)', jsonProblem(text, (e as Error).message));
    }
    const top = obj(raw, '(top level)');
    const unsupported: string[] = [];
    collectUnsupported(top, '', unsupported);

    const pObj = obj(top.process, 'process');
    const proc = processOf(pObj);
    const root = obj(top.root, 'root');
    const rootPath = str(root.path, 'root.path');
    const linux = top.linux === undefined ? {} : obj(top.linux, 'linux');
    const { namespaces, joinNamespaces } = namespacesOf(linux);
    // Security labels tini-ts cannot apply: ignoring one would leave the container less confined than asked.
    if (pObj.apparmorProfile !== undefined) {
      const profile = str(pObj.apparmorProfile, 'process.apparmorProfile');
      if (profile !== '' && profile !== 'unconfined') fail('process.apparmorProfile', `'${profile}': AppArmor is not supported by tini-ts (the container would run unconfined; give 'unconfined' to accept that)`);
      unsupported.push(`process.apparmorProfile ('${profile}': nothing to confine, as asked)`);
    }
    for (const [field, v] of [['process.selinuxLabel', pObj.selinuxLabel], ['linux.mountLabel', linux.mountLabel]] as const) {
      if (v === undefined) continue;
      const label = str(v, field);
      if (label !== '') fail(field, `'${label}': SELinux is not supported by tini-ts (the container would run without the label)`);
      unsupported.push(`${field} (empty)`);
    }
    const resources = linux.resources === undefined ? {} : resourcesOf(linux.resources, unsupported);
    const mounts = mountsOf(top.mounts, unsupported);

    const plan: ContainerPlan = {
      process: proc,
      root: { path: path.resolve(bundle, rootPath), readonly: bool(root.readonly, 'root.readonly', false) },
      hostname: top.hostname === undefined ? null : str(top.hostname, 'hostname'),
      mounts,
      namespaces,
      joinNamespaces,
      resources,
      maskedPaths: linux.maskedPaths === undefined ? [] : strings(linux.maskedPaths, 'linux.maskedPaths'),
      readonlyPaths: linux.readonlyPaths === undefined ? [] : strings(linux.readonlyPaths, 'linux.readonlyPaths'),
      seccomp: linux.seccomp === undefined || linux.seccomp === null ? null : seccompProfile(linux.seccomp, unsupported),
      hooks: top.hooks === undefined ? {} : hooks(top.hooks, unsupported),
      devices: linux.devices === undefined || linux.devices === null ? [] : (Array.isArray(linux.devices) ? linux.devices : fail('linux.devices', 'must be an array')).map((d, i) => deviceNode(d, `linux.devices[${i}]`, unsupported)),
      sysctl: linux.sysctl === undefined ? {} : sysctlOf(obj(linux.sysctl, 'linux.sysctl'), namespaces),
    };
    // runc would give the program a new pseudo-terminal; tini-ts run passes its own stdio (a terminal if it has one).
    if (plan.process.terminal) unsupported.push('process.terminal (no pseudo-terminal is made: the program gets tini-ts run\'s stdin, stdout and stderr)');
    for (const [i, p2] of [...plan.maskedPaths, ...plan.readonlyPaths].entries()) {
      if (!p2.startsWith('/')) fail(i < plan.maskedPaths.length ? `linux.maskedPaths[${i}]` : `linux.readonlyPaths[${i - plan.maskedPaths.length}]`, `'${p2}' must be an absolute path`);
    }
    if (plan.hostname !== null && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(plan.hostname)) fail('hostname', `'${plan.hostname}' is not a valid host name`);
    if (plan.hostname !== null && !namespaces.includes('uts')) fail('hostname', 'needs a uts namespace in linux.namespaces');
    return { ok: true, plan, unsupported };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, error: e.message };
    throw e;
  }
}

/** config.json `process`: the program, its environment, credentials, capabilities and limits. */
function processOf(p: Record<string, Json>): ContainerPlan['process'] {
  const args = strings(p.args, 'process.args');
  if (args.length === 0) fail('process.args', 'must name the program to run');
  const user = p.user === undefined ? {} : obj(p.user, 'process.user');
  const cwd = p.cwd === undefined ? '/' : str(p.cwd, 'process.cwd');
  if (!cwd.startsWith('/')) fail('process.cwd', 'must be an absolute path');
  const env = p.env === undefined ? [] : strings(p.env, 'process.env');
  env.forEach((e, i) => e.includes('=') || fail(`process.env[${i}]`, `'${e}' is not NAME=VALUE`));
  const rlimits = (p.rlimits === undefined ? [] : (Array.isArray(p.rlimits) ? p.rlimits : fail('process.rlimits', 'must be an array'))).map((r, i) => {
    const o = obj(r, `process.rlimits[${i}]`);
    const type = str(o.type, `process.rlimits[${i}].type`);
    if (!Object.hasOwn(RLIMIT, type)) fail(`process.rlimits[${i}].type`, `unknown limit '${type}'`);
    const soft = int(o.soft, `process.rlimits[${i}].soft`);
    const hard = int(o.hard, `process.rlimits[${i}].hard`);
    if (soft > hard) fail(`process.rlimits[${i}]`, `soft (${soft}) is above hard (${hard})`);
    return { type, soft, hard };
  });
  const oomScoreAdj = p.oomScoreAdj === undefined ? null : int(p.oomScoreAdj, 'process.oomScoreAdj', -1000);
  if (oomScoreAdj !== null && oomScoreAdj > 1000) fail('process.oomScoreAdj', 'must be from -1000 to 1000');
  const umask = user.umask === undefined || user.umask === null ? null : int(user.umask, 'process.user.umask');
  if (umask !== null && umask > 0o777) fail('process.user.umask', `must be from 0 to 511 (0777 in octal), not ${umask}`);
  return {
    args,
    env,
    cwd,
    uid: user.uid === undefined ? 0 : id(user.uid, 'process.user.uid'),
    gid: user.gid === undefined ? 0 : id(user.gid, 'process.user.gid'),
    additionalGids: user.additionalGids === undefined ? [] : (Array.isArray(user.additionalGids) ? user.additionalGids : fail('process.user.additionalGids', 'must be an array')).map((g, i) => id(g, `process.user.additionalGids[${i}]`)),
    terminal: bool(p.terminal, 'process.terminal', false),
    consoleSize: p.consoleSize === undefined ? null : consoleSize(obj(p.consoleSize, 'process.consoleSize')),
    capabilities: capabilities(p.capabilities),
    rlimits,
    noNewPrivileges: bool(p.noNewPrivileges, 'process.noNewPrivileges', false),
    oomScoreAdj,
    umask,
  };
}

/** linux.namespaces: those to create, and those joined by path (also listed in `namespaces`). */
function namespacesOf(linux: Record<string, Json>): { namespaces: NamespaceType[]; joinNamespaces: JoinNamespace[] } {
  const namespaces: NamespaceType[] = [];
  const joinNamespaces: JoinNamespace[] = [];
  const nsList = linux.namespaces === undefined ? [] : Array.isArray(linux.namespaces) ? linux.namespaces : fail('linux.namespaces', 'must be an array');
  nsList.forEach((n, i) => {
    const o = obj(n, `linux.namespaces[${i}]`);
    const type = str(o.type, `linux.namespaces[${i}].type`);
    if (type === 'user') fail(`linux.namespaces[${i}].type`, 'user namespaces are not supported (run as root)');
    if (type === 'time') fail(`linux.namespaces[${i}].type`, 'time namespaces are not supported');
    if (!NAMESPACES.includes(type)) fail(`linux.namespaces[${i}].type`, `unknown namespace '${type}'`);
    if (namespaces.includes(type as NamespaceType)) fail(`linux.namespaces[${i}].type`, `'${type}' is listed twice`);
    if (o.path !== undefined && o.path !== '') {
      const field = `linux.namespaces[${i}].path`;
      const p2 = str(o.path, field);
      if (!p2.startsWith('/')) fail(field, `'${p2}' must be an absolute path`);
      // The root filesystem is built in a mount namespace of tini-ts's own, and
      // the cgroup namespace is made by the init after it joined the cgroup.
      if (type === 'mount') fail(field, 'joining an existing mount namespace is not supported (tini-ts builds the root filesystem in a new one)');
      if (type === 'cgroup') fail(field, 'joining an existing cgroup namespace is not supported');
      joinNamespaces.push({ type: type as NamespaceType, path: p2, field });
    }
    namespaces.push(type as NamespaceType);
  });
  if (linux.uidMappings !== undefined || linux.gidMappings !== undefined) fail('linux.uidMappings', 'user namespaces are not supported');
  return { namespaces, joinNamespaces };
}

/** config.json `mounts`: destinations cleaned; keys beyond the four read go to `unsupported`. */
function mountsOf(v: unknown, unsupported: string[]): Mount[] {
  const mountList = v === undefined ? [] : Array.isArray(v) ? v : fail('mounts', 'must be an array');
  return mountList.map((m, i) => {
    const o = obj(m, `mounts[${i}]`);
    const given = str(o.destination, `mounts[${i}].destination`);
    if (!given.startsWith('/')) fail(`mounts[${i}].destination`, `${JSON.stringify(given)} must be an absolute path`);
    // Cleaned as docker and runc do (`/../x` is `/x`): never a way out of the root.
    const destination = cleanDestination(given);
    const type = o.type === undefined ? 'bind' : str(o.type, `mounts[${i}].type`);
    const source = o.source === undefined ? type : str(o.source, `mounts[${i}].source`);
    const options = o.options === undefined ? [] : strings(o.options, `mounts[${i}].options`);
    for (const k of Object.keys(o)) if (!['destination', 'type', 'source', 'options'].includes(k)) unsupported.push(`mounts[${i}].${k}`);
    return { destination, type, source, options };
  });
}

/** linux.sysctl: namespaced keys only, of the namespaces the container has. */
function sysctlOf(given: Record<string, Json>, namespaces: NamespaceType[]): Record<string, string> {
  const sysctl: Record<string, string> = {};
  for (const [key, value] of Object.entries(given)) {
    const problem = sysctlProblem(key, { ipc: namespaces.includes('ipc'), net: namespaces.includes('network'), uts: namespaces.includes('uts') });
    if (problem) fail(`linux.sysctl.${key}`, problem);
    sysctl[key] = str(value, `linux.sysctl.${key}`);
  }
  return sysctl;
}

function seccompProfile(v: unknown, unsupported: string[]): SeccompProfile {
  const r = parseSeccomp(v, 'linux.seccomp');
  if (!r.ok) throw new ConfigError(`config.json: ${r.error}`);
  unsupported.push(...r.unsupported);
  return r.profile;
}

/**
 * Where and why TEXT is not JSON, without quoting it (V8's message can carry
 * the file's content, secrets included): `line L column C: problem`.
 */
export function jsonProblem(text: string, message: string): string {
  let problem: string;
  let pos: number;
  const at = /^(.*?)(?: in JSON)? at position (\d+)/s.exec(message);
  if (at) {
    problem = at[1];
    pos = Number(at[2]);
  } else if (message.startsWith('Unexpected end of JSON input')) {
    problem = 'unexpected end of the file';
    pos = text.length;
  } else {
    // "Unexpected token 'x', "...text..." is not valid JSON": no position, so
    // find the shortest prefix that is already wrong (not merely unfinished).
    problem = 'unexpected character';
    const wrong = (k: number) => {
      try {
        JSON.parse(text.slice(0, k));
        return false;
      } catch (e) {
        const m = (e as Error).message;
        if (m.startsWith('Unexpected end of JSON input')) return false;
        const p = /at position (\d+)/.exec(m);
        return !p || Number(p[1]) < k;
      }
    };
    let lo = 1;
    let hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (wrong(mid)) hi = mid;
      else lo = mid + 1;
    }
    pos = lo - 1;
  }
  const before = text.slice(0, pos).split('\n');
  return `not valid JSON at line ${before.length} column ${before[before.length - 1].length + 1}: ${problem.charAt(0).toLowerCase()}${problem.slice(1)}`;
}

/** One linux.resources.devices[] entry: allow (required), type a|c|b (default a), major/minor (default: any), access (default rwm). */
function deviceRule(v: unknown, field: string, unsupported: string[]): DeviceRule {
  const o = obj(v, field);
  if (typeof o.allow !== 'boolean') fail(`${field}.allow`, 'must be true or false');
  const type = o.type === undefined ? 'a' : str(o.type, `${field}.type`);
  if (type !== 'a' && type !== 'c' && type !== 'b') fail(`${field}.type`, `'${type}' is not a, c or b`);
  const num = (x: unknown, f: string): number | null => (x === undefined || x === null || x === -1 ? null : int(x, f));
  const access = o.access === undefined || o.access === '' ? 'rwm' : str(o.access, `${field}.access`);
  if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) fail(`${field}.access`, `'${access}' is not made of r, w and m`);
  for (const k of Object.keys(o)) if (!['allow', 'type', 'major', 'minor', 'access'].includes(k)) unsupported.push(`${field}.${k}`);
  return { allow: o.allow as boolean, type, major: num(o.major, `${field}.major`), minor: num(o.minor, `${field}.minor`), access };
}

/**
 * One linux.devices[] entry: path (absolute, under /dev), type c, b or p (u is c, as runc), major and
 * minor (not for p), fileMode (permission bits; default 0666 as runc), uid and gid (default 0).
 */
function deviceNode(v: unknown, field: string, unsupported: string[]): DeviceNode {
  const o = obj(v, field);
  const p = cleanDestination(str(o.path, `${field}.path`));
  if (!str(o.path, `${field}.path`).startsWith('/')) fail(`${field}.path`, `'${o.path}' must be an absolute path`);
  if (!p.startsWith('/dev/')) fail(`${field}.path`, `'${p}' is not under /dev`);
  const t = str(o.type, `${field}.type`);
  if (!['c', 'u', 'b', 'p'].includes(t)) fail(`${field}.type`, `'${t}' is not c, u, b or p`);
  const type = t === 'u' ? 'c' : (t as DeviceNode['type']);
  const num = (k: 'major' | 'minor') => (type === 'p' && o[k] === undefined ? 0 : int(o[k], `${field}.${k}`));
  const mode = o.fileMode === undefined || o.fileMode === null ? 0o666 : int(o.fileMode, `${field}.fileMode`) & 0o7777;
  for (const k of Object.keys(o)) if (!['path', 'type', 'major', 'minor', 'fileMode', 'uid', 'gid'].includes(k)) unsupported.push(`${field}.${k}`);
  return { path: p, type, major: num('major'), minor: num('minor'), mode, uid: o.uid === undefined ? 0 : id(o.uid, `${field}.uid`), gid: o.gid === undefined ? 0 : id(o.gid, `${field}.gid`) };
}

/** config.json `hooks`: per kind, a list of {path (absolute), args, env, timeout (seconds, > 0)}. */
function hooks(v: unknown, unsupported: string[]): Hooks {
  const o = obj(v, 'hooks');
  const out: Hooks = {};
  for (const [kind, list] of Object.entries(o)) {
    if (!(HOOK_KINDS as readonly string[]).includes(kind)) {
      unsupported.push(`hooks.${kind}`);
      continue;
    }
    const at = `hooks.${kind}`;
    out[kind as HookKind] = (Array.isArray(list) ? list : fail(at, 'must be an array')).map((h, i): Hook => {
      const f = `${at}[${i}]`;
      const e = obj(h, f);
      const p = str(e.path, `${f}.path`);
      if (!p.startsWith('/')) fail(`${f}.path`, `'${p}' must be an absolute path`);
      const env = e.env === undefined ? null : strings(e.env, `${f}.env`);
      env?.forEach((x, j) => x.includes('=') || fail(`${f}.env[${j}]`, `'${x}' is not NAME=VALUE`));
      for (const k of Object.keys(e)) if (!['path', 'args', 'env', 'timeout'].includes(k)) unsupported.push(`${f}.${k}`);
      return { path: p, args: e.args === undefined ? [] : strings(e.args, `${f}.args`), env, timeout: e.timeout === undefined ? null : int(e.timeout, `${f}.timeout`, 1) };
    });
  }
  return out;
}

/** linux.resources (also `update --resources`): the values tini-ts applies; unknown keys go to `unsupported`. */
function resourcesOf(v: unknown, unsupported: string[]): LinuxResources {
  const resources: LinuxResources = {};
  const r = obj(v, 'linux.resources');
  if (r.memory !== undefined) {
    const m = obj(r.memory, 'linux.resources.memory');
    const memory: NonNullable<LinuxResources['memory']> = {};
    // -1: no limit (a create's default; update's way to remove one)
    if (m.limit !== undefined) memory.limit = int(m.limit, 'linux.resources.memory.limit', -1);
    if (m.swap !== undefined) memory.swap = int(m.swap, 'linux.resources.memory.swap', -1);
    // 0 means "not set", as runc reads it
    if (m.reservation !== undefined && m.reservation !== 0) memory.reservation = int(m.reservation, 'linux.resources.memory.reservation', -1);
    if (bool(m.disableOOMKiller, 'linux.resources.memory.disableOOMKiller', false)) memory.disableOOMKiller = true;
    if (m.swappiness !== undefined) {
      memory.swappiness = int(m.swappiness, 'linux.resources.memory.swappiness', 0);
      if (memory.swappiness > 100) fail('linux.resources.memory.swappiness', 'must be from 0 to 100');
    }
    if (Object.keys(memory).length > 0) resources.memory = memory;
  }
  if (r.blockIO !== undefined) {
    const b = obj(r.blockIO, 'linux.resources.blockIO');
    const blockIO: NonNullable<LinuxResources['blockIO']> = {};
    // 0 means "not set", as runc reads it: Docker sends weight 0 in every config.json.
    if (b.weight !== undefined && b.weight !== 0) {
      blockIO.weight = int(b.weight, 'linux.resources.blockIO.weight', 10);
      if (blockIO.weight > 1000) fail('linux.resources.blockIO.weight', 'must be from 10 to 1000');
    }
    for (const key of THROTTLE_LISTS) {
      if (b[key] === undefined) continue;
      const at = `linux.resources.blockIO.${key}`;
      const list = Array.isArray(b[key]) ? (b[key] as Json[]) : fail(at, 'must be an array');
      blockIO[key] = list.map((e, i) => {
        const t = obj(e, `${at}[${i}]`);
        return { major: int(t.major, `${at}[${i}].major`, 0), minor: int(t.minor, `${at}[${i}].minor`, 0), rate: int(t.rate, `${at}[${i}].rate`, 1) };
      });
    }
    if (Object.keys(blockIO).length > 0) resources.blockIO = blockIO;
  }
  if (r.pids !== undefined) {
    const limit = obj(r.pids, 'linux.resources.pids').limit;
    if (limit !== undefined) resources.pids = { limit: int(limit, 'linux.resources.pids.limit', -1) };
  }
  if (r.cpu !== undefined) {
    const c = obj(r.cpu, 'linux.resources.cpu');
    const cpu: NonNullable<LinuxResources['cpu']> = {};
    // 0 means "not set" (runc), and Docker sends shares 0 unless --cpu-shares is given.
    if (c.shares !== undefined && c.shares !== 0) cpu.shares = int(c.shares, 'linux.resources.cpu.shares', 2);
    if (c.quota !== undefined) cpu.quota = int(c.quota, 'linux.resources.cpu.quota', -1);
    if (c.period !== undefined) cpu.period = int(c.period, 'linux.resources.cpu.period', 1000);
    if (c.cpus !== undefined) {
      cpu.cpus = str(c.cpus, 'linux.resources.cpu.cpus');
      if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(cpu.cpus)) fail('linux.resources.cpu.cpus', `'${cpu.cpus}' is not a CPU list like 0-2,4`);
    }
    if (c.mems !== undefined) {
      cpu.mems = str(c.mems, 'linux.resources.cpu.mems');
      if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(cpu.mems)) fail('linux.resources.cpu.mems', `'${cpu.mems}' is not a memory node list like 0-1`);
    }
    if (Object.keys(cpu).length > 0) resources.cpu = cpu;
  }
  if (r.devices !== undefined) {
    const list = Array.isArray(r.devices) ? r.devices : fail('linux.resources.devices', 'must be an array');
    resources.devices = list.map((x, i) => deviceRule(x, `linux.resources.devices[${i}]`, unsupported));
  }
  return resources;
}

/**
 * A LinuxResources object as `update` takes it (--resources, its flags):
 * the same checks as config.json's linux.resources; errors name the field
 * under `resources`.
 */
export function parseResources(v: unknown): { ok: true; resources: LinuxResources; unsupported: string[] } | { ok: false; error: string } {
  try {
    const unsupported: string[] = [];
    collectUnsupported(obj(v, 'linux.resources'), 'linux.resources', unsupported);
    const resources = resourcesOf(v, unsupported);
    return { ok: true, resources, unsupported: unsupported.map((u) => u.replace(/^linux\.resources\./, '')) };
  } catch (e) {
    if (e instanceof ConfigError) return { ok: false, error: e.message.replace(/^config\.json: linux\.resources/, 'resources') };
    throw e;
  }
}

/** The one warning for fields that were read but are not acted on. */
export function unsupportedWarning(fields: string[]): string | null {
  return fields.length ? `config.json: not supported, ignored: ${fields.join(', ')}` : null;
}

/**
 * Where an OCI create makes the container's cgroup in each hierarchy, from
 * linux.cgroupsPath as engines send it (`/default/ID` from ctr, `/docker/ID`,
 * `/libpod_parent/libpod-ID`): its last component is the cgroup, the rest its
 * parent (`tini-ts` when there is none); no (or an empty) cgroupsPath gives
 * `tini-ts/oci-ID`. Both stay under the hierarchy's root: `..`, empty
 * components and control characters are refused, and so is systemd's
 * `slice:prefix:name` form (it names a unit, not a path; runc needs
 * --systemd-cgroup for it, which tini-ts does not support).
 */
export function cgroupPlace(cgroupsPath: unknown, id: string): { parent: string; name: string } | { error: string } {
  if (cgroupsPath === undefined || cgroupsPath === '') return { parent: 'tini-ts', name: `oci-${id}` };
  const bad = (why: string) => ({ error: `config.json: linux.cgroupsPath: ${JSON.stringify(cgroupsPath)} ${why}` });
  if (typeof cgroupsPath !== 'string') return { error: 'config.json: linux.cgroupsPath: must be a string' };
  if (/^[^/]*:[^/]*:[^/]*$/.test(cgroupsPath)) return bad("is systemd's slice:prefix:name form (--systemd-cgroup), which is not supported: give a cgroupfs path");
  const rel = cgroupsPath.replace(/^\/+|\/+$/g, '');
  const problem = cgroupParentProblem(rel);
  if (problem) return bad(problem);
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? { parent: 'tini-ts', name: rel } : { parent: rel.slice(0, slash), name: rel.slice(slash + 1) };
}
