/**
 * runc's command line, as containerd, Docker and Podman assemble it:
 * `BINARY [global flags] COMMAND [flags] ID [args]`. Flags follow urfave/cli:
 * `--flag value`, `--flag=value`, single-dash `-flag` alike. Pure: argv in,
 * a command or a one-line error out.
 */
import { parseDuration } from '../cgroup/size.js';
import { parseSignal } from '../libc/signals.js';

export interface OciGlobal {
  root: string | null;
  log: string | null;
  logFormat: 'text' | 'json';
  debug: boolean;
}

export type OciCommand =
  | { verb: 'create'; id: string; bundle: string | null; pidFile: string | null; consoleSocket: string | null; preserveFds: number }
  | { verb: 'start'; id: string }
  | { verb: 'state'; id: string }
  | { verb: 'kill'; id: string; all: boolean; signal: number }
  | { verb: 'delete'; id: string; force: boolean }
  | { verb: 'list'; format: 'table' | 'json'; quiet: boolean }
  | { verb: 'ps'; id: string }
  | { verb: 'pause' | 'resume'; id: string }
  | { verb: 'exec'; id: string; args: string[]; processFile: string | null; detach: boolean; pidFile: string | null; tty: boolean; consoleSocket: string | null; flags: ExecFlags }
  | { verb: 'update'; id: string; resources: string | null; flags: UpdateFlags }
  | { verb: 'events'; id: string; stats: boolean; intervalMs: number }
  | { verb: 'spec'; bundle: string | null; rootless: boolean }
  | { verb: 'features' }
  | { verb: 'version' };

/** exec's changes to the process (applied over --process FILE or the container's process, as runc does). */
export interface ExecFlags {
  cwd: string | null;
  /** NAME=VALUE, appended: a name given again replaces the earlier value. */
  env: string[];
  user: { uid: number; gid: number | null } | null;
  /** Added to the bounding, effective, permitted and ambient sets. */
  caps: string[];
  noNewPrivs: boolean;
  additionalGids: number[];
  /** fds 3 .. 3+N-1 of exec, passed to the process. */
  preserveFds: number;
  apparmor: string | null;
  processLabel: string | null;
}

/** `update`'s value flags as a LinuxResources fragment (sizes in bytes); --resources is merged under it. */
export interface UpdateFlags {
  memory?: { limit?: number; swap?: number; reservation?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit?: number };
  blockIO?: { weight?: number };
}

/** runc's update flags: [object, field, kind]; null: named as not supported. */
const UPDATE_VALUES: Record<string, [keyof UpdateFlags, string, 'size' | 'int' | 'list'] | null> = {
  memory: ['memory', 'limit', 'size'],
  'memory-swap': ['memory', 'swap', 'size'],
  'cpu-share': ['cpu', 'shares', 'int'],
  'cpu-shares': ['cpu', 'shares', 'int'],
  'cpu-quota': ['cpu', 'quota', 'int'],
  'cpu-period': ['cpu', 'period', 'int'],
  'cpuset-cpus': ['cpu', 'cpus', 'list'],
  'cpuset-mems': ['cpu', 'mems', 'list'],
  'pids-limit': ['pids', 'limit', 'int'],
  'blkio-weight': ['blockIO', 'weight', 'int'],
  'memory-reservation': ['memory', 'reservation', 'size'],
  'kernel-memory': null,
  'kernel-memory-tcp': null,
  'cpu-rt-period': null,
  'cpu-rt-runtime': null,
  'l3-cache-schema': null,
  'mem-bw-schema': null,
};

/** docker's sizes (512m, 1g, bytes) and -1 for "no limit". */
function sizeValue(text: string): number | null {
  if (text === '-1') return -1;
  const m = /^([0-9]+(?:\.[0-9]+)?)([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) return null;
  const n = Math.floor(Number(m[1]) * 1024 ** ' kmgt'.indexOf(m[2].toLowerCase() || ' '));
  return Number.isSafeInteger(n) ? n : null;
}

export type OciParse = { kind: 'ok'; global: OciGlobal; command: OciCommand } | { kind: 'error'; global: OciGlobal; message: string };

/** Global flags: name -> takes a value. */
const GLOBAL: Record<string, boolean> = {
  root: true,
  log: true,
  'log-format': true,
  debug: false,
  'systemd-cgroup': false,
  criu: true,
  rootless: true,
};

/** Each verb's flags (aliases included): name -> takes a value. */
const VERB_FLAGS: Record<string, Record<string, boolean>> = {
  create: { bundle: true, b: true, 'pid-file': true, 'console-socket': true, 'no-pivot': false, 'no-new-keyring': false, 'preserve-fds': true },
  start: {},
  state: {},
  kill: { all: false, a: false },
  delete: { force: false, f: false },
  list: { format: true, f: true, quiet: false, q: false },
  ps: { format: true, f: true },
  pause: {},
  resume: {},
  events: { stats: false, interval: true },
  spec: { bundle: true, b: true, rootless: false },
  features: {},
  update: { resources: true, r: true, ...Object.fromEntries(Object.keys(UPDATE_VALUES).map((k) => [k, true])) },
  exec: { process: true, p: true, detach: false, d: false, 'pid-file': true, tty: false, t: false, 'console-socket': true, cwd: true, env: true, e: true, user: true, u: true, cap: true, c: true, 'no-new-privs': false, 'preserve-fds': true, 'process-label': true, 'apparmor': true, 'additional-gids': true, g: true },
};

/**
 * An engine's call (containerd, Docker, Podman drive runc's command line):
 * the binary installed under a name with `runc` in it (ARGV0), or a first
 * argument that is one of runc's global flags (tini's own flags are none of
 * them; --debug is tini's too).
 */
export function isRuntimeCall(args: readonly string[], argv0: string): boolean {
  if ((argv0.split('/').pop() ?? '').includes('runc')) return true;
  const m = /^--?([a-z-]+)(=.*)?$/.exec(args[0] ?? '');
  return m !== null && m[1] in GLOBAL && m[1] !== 'debug';
}

interface Scanned {
  flags: Map<string, string | true>;
  /** Every value flag given, in order (repeatable flags and their aliases: --env and -e). */
  lists: [string, string][];
  rest: string[];
  error?: string;
}

/** Flags anywhere before `--` (urfave stops at the first argument; runc users put them before the id anyway). */
function scan(args: string[], known: Record<string, boolean>, stopAtWord: boolean): Scanned {
  const flags = new Map<string, string | true>();
  const lists: [string, string][] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      rest.push(...args.slice(i + 1));
      break;
    }
    const m = /^--?([A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(a);
    if (!m) {
      if (stopAtWord) {
        rest.push(...args.slice(i));
        break;
      }
      rest.push(a);
      continue;
    }
    const [, name, inline] = m;
    if (!(name in known)) return { flags, rest, lists, error: `flag provided but not defined: -${name}` };
    if (!known[name]) {
      if (inline !== undefined && !/^(true|false)$/.test(inline)) return { flags, rest, lists, error: `invalid boolean value "${inline}" for -${name}` };
      if (inline !== 'false') flags.set(name, true);
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined) return { flags, rest, lists, error: `flag needs an argument: -${name}` };
    flags.set(name, value);
    lists.push([name, value]);
  }
  return { flags, rest, lists };
}

const str = (f: Map<string, string | true>, ...names: string[]): string | null => {
  for (const n of names) {
    const v = f.get(n);
    if (typeof v === 'string') return v;
  }
  return null;
};
const bool = (f: Map<string, string | true>, ...names: string[]) => names.some((n) => f.get(n) === true);

export function parseOciArgs(args: string[]): OciParse {
  const g = scan(args, { ...GLOBAL, version: false, v: false, help: false, h: false }, true);
  const format = str(g.flags, 'log-format') ?? 'text';
  const global: OciGlobal = { root: str(g.flags, 'root'), log: str(g.flags, 'log'), logFormat: format === 'json' ? 'json' : 'text', debug: bool(g.flags, 'debug') };
  const fail = (message: string): OciParse => ({ kind: 'error', global, message });
  if (g.error) return fail(g.error);
  if (format !== 'text' && format !== 'json') return fail(`invalid log-format: ${format} (text or json)`);
  if (bool(g.flags, 'systemd-cgroup')) return fail('--systemd-cgroup is not supported: tini-ts manages cgroupfs directly (use the cgroupfs driver)');
  if (bool(g.flags, 'version', 'v')) return { kind: 'ok', global, command: { verb: 'version' } };
  const [verb, ...rest] = g.rest;
  if (verb === undefined) return fail(`no command given (${Object.keys(VERB_FLAGS).join(', ')})`);
  const known = VERB_FLAGS[verb];
  if (!known) return fail(`unknown command '${verb}' (${Object.keys(VERB_FLAGS).join(', ')})`);
  // exec: flags before the id only; what follows it is the command, its flags its own.
  const v = scan(rest, known, verb === 'exec');
  if (v.error) return fail(`${verb}: ${v.error}`);
  const [id, ...extra] = v.rest;
  if (verb === 'list') {
    if (v.rest.length > 0) return fail(`list: unexpected argument '${v.rest[0]}'`);
    const f = str(v.flags, 'format', 'f') ?? 'table';
    if (f !== 'table' && f !== 'json') return fail(`list: invalid format '${f}' (table or json)`);
    return { kind: 'ok', global, command: { verb: 'list', format: f, quiet: bool(v.flags, 'quiet', 'q') } };
  }
  if (verb === 'spec' || verb === 'features') {
    if (v.rest.length > 0) return fail(`${verb}: unexpected argument '${v.rest[0]}'`);
    if (verb === 'features') return { kind: 'ok', global, command: { verb } };
    return { kind: 'ok', global, command: { verb, bundle: str(v.flags, 'bundle', 'b'), rootless: bool(v.flags, 'rootless') } };
  }
  if (id === undefined) return fail(`${verb}: a container id is required`);
  if (verb === 'events') {
    if (extra.length > 0) return fail(`events: unexpected argument '${extra[0]}'`);
    const text = str(v.flags, 'interval') ?? '5s';
    const ms = parseDuration(text);
    if (typeof ms === 'string' || ms <= 0) return fail(`events: invalid --interval '${text}' (a duration like 5s or 500ms)`);
    return { kind: 'ok', global, command: { verb, id, stats: bool(v.flags, 'stats'), intervalMs: ms } };
  }
  if (verb === 'exec') {
    const flags = execFlags(v);
    if (typeof flags === 'string') return fail(`exec: ${flags}`);
    const processFile = str(v.flags, 'process', 'p');
    if (processFile !== null && extra.length > 0) return fail('exec: give either --process FILE or a command, not both');
    return {
      kind: 'ok',
      global,
      command: { verb, id, args: extra, processFile, detach: bool(v.flags, 'detach', 'd'), pidFile: str(v.flags, 'pid-file'), tty: bool(v.flags, 'tty', 't'), consoleSocket: str(v.flags, 'console-socket'), flags },
    };
  }
  if (verb === 'update') {
    if (extra.length > 0) return fail(`update: unexpected argument '${extra[0]}'`);
    const flags: UpdateFlags = {};
    for (const [name, value] of v.flags) {
      if (!(name in UPDATE_VALUES)) continue;
      const target = UPDATE_VALUES[name];
      if (target === null) return fail(`update: --${name} is not supported`);
      const [object, field, kind] = target;
      const text = value as string;
      const n = kind === 'size' ? sizeValue(text) : kind === 'int' ? (/^-?[0-9]+$/.test(text) ? Number(text) : null) : text;
      if (n === null || (typeof n === 'number' && !Number.isSafeInteger(n))) return fail(`update: invalid value for --${name}: '${text}'`);
      (flags[object] ??= {} as never)[field as never] = n as never;
    }
    return { kind: 'ok', global, command: { verb, id, resources: str(v.flags, 'resources', 'r'), flags } };
  }
  if (verb === 'ps') {
    // runc hands ps-args and the table format to the host's ps(1); engines only ask for json (containerd's Pids).
    const f = str(v.flags, 'format', 'f') ?? 'table';
    if (f !== 'json') return fail(`ps: only --format json is supported (got '${f}')`);
    if (extra.length > 0) return fail(`ps: ps arguments are not supported with --format json ('${extra[0]}')`);
    return { kind: 'ok', global, command: { verb, id } };
  }
  const maxArgs = verb === 'kill' ? 1 : 0;
  if (extra.length > maxArgs) return fail(`${verb}: unexpected argument '${extra[maxArgs]}'`);
  switch (verb) {
    case 'create': {
      const pf = str(v.flags, 'preserve-fds') ?? '0';
      if (!/^[0-9]+$/.test(pf)) return fail(`create: --preserve-fds: not a number: ${pf}`);
      return {
        kind: 'ok',
        global,
        command: { verb, id, bundle: str(v.flags, 'bundle', 'b'), pidFile: str(v.flags, 'pid-file'), consoleSocket: str(v.flags, 'console-socket'), preserveFds: Number(pf) },
      };
    }
    case 'kill': {
      const signal = parseSignal(extra[0] ?? 'TERM');
      if (signal === undefined) return fail(`kill: unknown signal '${extra[0]}'`);
      return { kind: 'ok', global, command: { verb, id, all: bool(v.flags, 'all', 'a'), signal } };
    }
    case 'delete':
      return { kind: 'ok', global, command: { verb, id, force: bool(v.flags, 'force', 'f') } };
    default:
      return { kind: 'ok', global, command: { verb: verb as 'start' | 'state' | 'pause' | 'resume', id } };
  }
}

/** exec's process flags, checked: a one-line error (without the `exec: `) or the flags. */
function execFlags(v: Scanned): ExecFlags | string {
  const all = (...names: string[]) => v.lists.filter(([n]) => names.includes(n)).map(([, value]) => value);
  const env = all('env', 'e');
  const badEnv = env.find((e) => !/^[^=]+=/.test(e));
  if (badEnv !== undefined) return `--env '${badEnv}' is not NAME=VALUE`;
  let user: ExecFlags['user'] = null;
  const u = str(v.flags, 'user', 'u');
  if (u !== null) {
    const m = /^([0-9]+)(?::([0-9]+))?$/.exec(u);
    if (!m || Number(m[1]) > MAX_UID || Number(m[2] ?? 0) > MAX_UID) return `--user '${u}' is not UID[:GID] (numbers: names are not looked up)`;
    user = { uid: Number(m[1]), gid: m[2] === undefined ? null : Number(m[2]) };
  }
  const gids: number[] = [];
  for (const g of all('additional-gids', 'g')) {
    if (!/^[0-9]+$/.test(g) || Number(g) > MAX_UID) return `--additional-gids '${g}' is not a group id`;
    gids.push(Number(g));
  }
  const pf = str(v.flags, 'preserve-fds') ?? '0';
  if (!/^[0-9]+$/.test(pf)) return `--preserve-fds: not a number: ${pf}`;
  const cwd = str(v.flags, 'cwd');
  if (cwd !== null && !cwd.startsWith('/')) return `--cwd '${cwd}' must be an absolute path`;
  return {
    cwd,
    env,
    user,
    caps: all('cap', 'c'),
    noNewPrivs: bool(v.flags, 'no-new-privs'),
    additionalGids: gids,
    preserveFds: Number(pf),
    apparmor: str(v.flags, 'apparmor'),
    processLabel: str(v.flags, 'process-label'),
  };
}

/** The largest uid or gid ((uid_t)-1 means "unchanged"). */
const MAX_UID = 4294967294;
