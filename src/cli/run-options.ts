/**
 * `tini-ts run [OPTIONS] [--] PROGRAM [ARGS...]`, parsed without side effects.
 * Errors are one line naming the problem and what to do, exit code 125 (as
 * `docker run` uses for its own failures, so callers can tell them from the
 * program's exit codes).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseCpuList, parseDuration, parseSize } from '../cgroup/size.js';
import type { LinuxResources, ThrottleList } from '../cgroup/types.js';
import { parseEventDest } from '../events/destination.js';
import { normalizeCapability } from '../libc/capabilities.js';
import { idRangeProblem, parseId } from '../libc/ids.js';
import { sysctlProblem } from '../libc/sysctl.js';
import { parseExitCode, parseMapRule, parseSeconds, parseStopScope } from './init-options.js';

export const EXIT_LAUNCHER = 125;

export const NAMESPACES = ['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup'] as const;
export type NamespaceName = (typeof NAMESPACES)[number];

/** OCI linux.namespaces[].type to these names. */
export const OCI_NAMESPACES: Readonly<Record<string, NamespaceName>> = { pid: 'pid', network: 'net', ipc: 'ipc', uts: 'uts', mount: 'mount', cgroup: 'cgroup' };

/** The init shares the workload's memory cgroup (see container/create.ts), so tiny limits cannot work. */
export const MIN_MEMORY = 16 * 1024 * 1024;
export const DEFAULT_GRACE_MS = 10_000;

export interface RunOptions {
  /** The cgroup's resources: from the flags (limitFlag, the one translation) or a bundle's linux.resources. */
  limits: LinuxResources;
  /** namespaces to create (all by default, minus --share) */
  namespaces: ReadonlySet<NamespaceName>;
  hostname: string | null;
  timeoutMs: number | null;
  /** SIGTERM → SIGKILL delay for --timeout and forwarded SIGTERM/SIGINT */
  graceMs: number;
  reportFile: string | null;
  quiet: boolean;
  verbosity: number;
  cgroupRoot: string | null;
  /** --cgroup-parent: where under each hierarchy's root the workload's cgroup is made (relative; default `tini-ts`). */
  cgroupParent: string;
  /** --events DEST: the init's event stream (a file path, `fd:N` or `-`); null: off. */
  events: string | null;
  /** The container: root filesystem, process and hardening (see ContainerOptions). */
  container: ContainerOptions;
  /** How the init stops the program: the plain init's --map, --stop-delay, --stop-scope, --exit-on-stop, --pre-stop. */
  stop: StopOptions;
}

/** The in-container init's stop policy (see cli/init-options.ts for each option's meaning). */
export interface StopOptions {
  signalMap: Map<number, number | null>;
  stopDelayMs: number | null;
  stopScope: 'group' | 'all';
  exitOnStop: number | null;
  preStop: string | null;
}

/** Docker's --ulimit names -> RLIMIT_*. */
export const ULIMITS: Readonly<Record<string, string>> = {
  as: 'RLIMIT_AS', core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS', memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME', sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK',
};
export const UNLIMITED = Number.MAX_SAFE_INTEGER;

export interface ContainerOptions {
  /** --rootfs DIR */
  rootfs: string | null;
  /** --layer DIR..., lowest first */
  layers: string[];
  /** --upper DIR: keep the writable layer there */
  upper: string | null;
  readOnly: boolean;
  volumes: { source: string; destination: string; readonly: boolean }[];
  /** --user NAME|UID[:GROUP|GID], resolved inside the container */
  user: { user: string; group: string | null } | null;
  groupAdd: string[];
  workdir: string | null;
  /** --env NAME=VALUE, or NAME alone (taken from tini-ts's environment), in order */
  env: string[];
  envFiles: string[];
  capAdd: string[];
  capDrop: string[];
  /** false with --new-privileges (no_new_privs is on by default) */
  noNewPrivs: boolean;
  seccomp: 'default' | 'unconfined';
  ulimits: { type: string; soft: number; hard: number }[];
  /** --sysctl KEY=VALUE, in order */
  sysctls: string[];
  /** --oom-score-adj N */
  oomScoreAdj: number | null;
  /** --bundle DIR: an OCI bundle (config.json + root filesystem) */
  bundle: string | null;
}

/** A root filesystem is given: the program runs in a container, hardened as docker run does. */
export function isContainer(c: ContainerOptions): boolean {
  return c.rootfs !== null || c.layers.length > 0 || c.bundle !== null;
}

/** Does the command line ask for anything the init must do to the workload's process? */
export function needsProcessSpec(options: RunOptions): boolean {
  const c = options.container;
  return isContainer(c) || c.user !== null || c.groupAdd.length > 0 || c.workdir !== null || c.env.length > 0 || c.envFiles.length > 0 || c.ulimits.length > 0 || c.sysctls.length > 0 || c.oomScoreAdj !== null;
}

export type RunParse =
  | { kind: 'run'; options: RunOptions; argv: string[] }
  | { kind: 'exit'; code: number; stdout?: string; stderr?: string };

export const RUN_USAGE = `Usage: tini-ts run [OPTIONS] [--] PROGRAM [ARGS...]

Runs PROGRAM under tini-ts as PID 1 in new namespaces and a cgroup of its
own, then reports how it ended (stderr; --report FILE for JSON). Needs root.

Namespaces (all new by default):
  --share NS[,NS]      keep the host's: pid, mount, uts, ipc, net, cgroup
  --hostname NAME      hostname inside (new uts namespace)
Limits (docker's forms):
  -m, --memory SIZE    memory limit, e.g. 512m, 1g (at least 16m)
  --memory-swap SIZE   memory plus swap (-1: unlimited swap)
  --pids N             maximum number of tasks of the program
  --cpus N             CPU bandwidth in cores, e.g. 0.5
  --cpu-shares N       relative CPU weight (2-262144; v2: cpu.weight)
  --cpuset-cpus LIST   CPUs allowed, e.g. 0-1,3
  --memory-swappiness N  0-100 (cgroup v1 only)
  --blkio-weight N     relative block I/O weight (10-1000; needs CFQ or BFQ)
  --device-read-bps DEVICE:RATE    read rate limit of a block device, e.g. /dev/vda:1mb
  --device-write-bps DEVICE:RATE   write rate limit
  --device-read-iops DEVICE:N      read operations per second
  --device-write-iops DEVICE:N     write operations per second
Run:
  --timeout DURATION   stop the program after DURATION (30s, 2m, 500ms)
  --grace DURATION     time between SIGTERM and SIGKILL (default 10s)
Stopping (as the init's options of the same names; see 'tini-ts -h'):
  --map FROM:TO        send TO when FROM is received (TO may be ignore); repeatable
  --stop-delay SECONDS hold a received SIGTERM/SIGINT back that long first
  --stop-scope group|all  all: stop every process in the container, staged
  --exit-on-stop CODE  exit CODE when the program ended by the stop signal
  --pre-stop CMD       run CMD (/bin/sh -c, in the container) before the stop
  --report FILE        write the report as JSON to FILE
  --cgroup-root DIR    cgroup filesystem root (default /sys/fs/cgroup)
  --cgroup-parent PATH where the program's cgroup is made, relative to each
                       hierarchy's root (default tini-ts; as docker's). Made
                       when missing; the levels it made are removed when empty
  --events DEST        the init's event stream (JSON Lines, see EVENTS.md):
                       a file (appended; opened on the host), fd:N, or - (stderr)
Container (a root filesystem makes it one; hardened as docker run by default):
  --rootfs DIR         root filesystem (pivot_root into it)
  --layer DIR          read-only image layer, lowest first (repeatable): overlayfs
  --upper DIR          keep the writable layer in DIR (default: a temporary one)
  --read-only          make the root filesystem read-only
  --volume SRC:DST[:ro]  bind-mount a host path (repeatable; -v is verbosity)
  --bundle DIR         run an OCI bundle (DIR/config.json); other container options do not apply
Process:
  -u, --user U[:G]     user and group (names or numbers, looked up in the container)
  --group-add G        supplementary group (repeatable)
  -w, --workdir DIR    working directory inside
  -e, --env K[=V]      set an environment variable (repeatable); --env-file FILE
  --ulimit T=S[:H]     resource limit, e.g. nofile=1024:2048 (-1: unlimited)
Hardening (with a root filesystem):
  --cap-add CAP, --cap-drop CAP   change docker's default 14 capabilities (ALL)
  --new-privileges     allow gaining privileges (no_new_privs is on by default)
  --seccomp MODE       default (a deny-list in the spirit of docker's) or unconfined
  -q, --quiet          no report on stderr
  -v                   more diagnostics (repeatable)
  -h, --help           this help
Exit status: the program's (128+N after signal N); 125 if tini-ts run itself failed.
`;

const err = (message: string): RunParse => ({
  kind: 'exit',
  code: EXIT_LAUNCHER,
  stderr: `tini-ts run: ${message}\n`,
});

/** Options that take a value, with the name used in messages. */
const WITH_VALUE = new Set([
  '--memory', '-m', '--memory-swap', '--pids', '--cpus', '--cpu-shares', '--cpuset-cpus',
  '--memory-swappiness', '--blkio-weight', '--device-read-bps', '--device-write-bps', '--device-read-iops', '--device-write-iops',
  '--share', '--hostname', '--timeout', '--grace', '--report', '--cgroup-root', '--cgroup-parent', '--events',
  '--rootfs', '--layer', '--upper', '--volume', '--user', '-u', '--group-add', '--workdir', '-w',
  '--env', '-e', '--env-file', '--cap-add', '--cap-drop', '--seccomp', '--ulimit', '--bundle', '--sysctl', '--oom-score-adj',
  '--map', '--stop-delay', '--stop-scope', '--exit-on-stop', '--pre-stop',
]);

/** Options that may come with --bundle (the rest is in config.json). */
const WITH_BUNDLE = new Set([
  '--timeout', '--grace', '--report', '--cgroup-root', '--cgroup-parent', '--events', '--bundle',
  '--map', '--stop-delay', '--stop-scope', '--exit-on-stop', '--pre-stop',
]);

const absolute = (p: string) => p.startsWith('/');

/**
 * A path inside the container as Go's filepath.Clean makes it (what docker
 * does to a mount destination): `.`, `..` and repeated or trailing slashes
 * go, and `..` at the root stays at the root (`/../../x` is `/x`). The root
 * filesystem code only ever sees clean absolute destinations.
 */
export function cleanDestination(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/**
 * Overlayfs takes its directories in one option string: ',' ends an option,
 * ':' separates lower layers, a backslash escapes. A path with one of them would be
 * cut (an unclear ENOENT from mount), so it is refused.
 */
export function overlayPathProblem(p: string): string | null {
  const bad = [',', ':', '\\'].find((c) => p.includes(c));
  return bad ? `'${bad}' cannot be used in an overlay layer's path (overlayfs reads it as a separator); rename or link the directory` : null;
}

export const DEFAULT_CGROUP_PARENT = 'tini-ts';

/** The flag that sets each field of the resources (limitFlag): the cgroup's errors about a value name it so. */
export const RESOURCE_FLAGS: Readonly<Record<string, string>> = {
  'memory.limit': '--memory', 'memory.swap': '--memory-swap', 'memory.swappiness': '--memory-swappiness', 'pids.limit': '--pids',
  'cpu.quota': '--cpus', 'cpu.period': '--cpus', 'cpu.shares': '--cpu-shares', 'cpu.cpus': '--cpuset-cpus', 'blockIO.weight': '--blkio-weight',
  'blockIO.throttleReadBpsDevice': '--device-read-bps', 'blockIO.throttleWriteBpsDevice': '--device-write-bps',
  'blockIO.throttleReadIOPSDevice': '--device-read-iops', 'blockIO.throttleWriteIOPSDevice': '--device-write-iops',
};

/** Why PATH is not a usable --cgroup-parent, or null: relative, no '.', '..' or empty components, printable. */
export function cgroupParentProblem(value: string): string | null {
  if (value === '') return 'an empty path';
  if (value.startsWith('/')) return 'must be relative to the hierarchy\'s root (no leading /)';
  if (/[\x00-\x1f\x7f]/.test(value)) return 'control characters (a newline?) are not allowed';
  const parts = value.split('/');
  if (parts.includes('..')) return "'..' is not allowed (the cgroup must stay under the root)";
  if (parts.some((p) => p === '' || p === '.')) return "empty or '.' components are not allowed";
  if (parts.some((p) => p.length > 255)) return 'a component is longer than 255 bytes';
  return null;
}

/** One line for a bad --cgroup-parent value, shown safely (control characters escaped). */
const shown = (v: string) => JSON.stringify(v);

/**
 * `env.cwd` (default: this process's) is the caller's working directory:
 * every relative host path (--report, --events, --env-file, --rootfs,
 * --layer, --upper, --volume sources, --bundle, --cgroup-root) is made
 * absolute against it here, so nothing later depends on the cwd.
 */
/** A block device's numbers, or why it is not one (the launcher stats the path; tests give their own). */
export type DeviceNumber = (path: string) => { major: number; minor: number } | string;

const THROTTLE_FLAGS: Record<string, ThrottleList> = {
  '--device-read-bps': 'throttleReadBpsDevice',
  '--device-write-bps': 'throttleWriteBpsDevice',
  '--device-read-iops': 'throttleReadIOPSDevice',
  '--device-write-iops': 'throttleWriteIOPSDevice',
};

/** docker's CPU period: --cpus N is a quota of N periods. */
const CPU_PERIOD_US = 100_000;

export function parseRunArgs(args: readonly string[], env: { cpuCount: number; cwd?: string; deviceNumber?: DeviceNumber }): RunParse {
  const cwd = env.cwd ?? process.cwd();
  const host = (p: string) => path.resolve(cwd, p);
  const limits: LinuxResources = {};
  const namespaces = new Set<NamespaceName>(NAMESPACES);
  let hostname: string | null = null;
  let timeoutMs: number | null = null;
  let graceMs = DEFAULT_GRACE_MS;
  let reportFile: string | null = null;
  let quiet = false;
  let verbosity = 1;
  let cgroupRoot: string | null = null;
  let cgroupParent = DEFAULT_CGROUP_PARENT;
  let events: string | null = null;
  const stop: StopOptions = { signalMap: new Map(), stopDelayMs: null, stopScope: 'group', exitOnStop: null, preStop: null };
  const container: ContainerOptions = {
    rootfs: null, layers: [], upper: null, readOnly: false, volumes: [], user: null, groupAdd: [], workdir: null,
    env: [], envFiles: [], capAdd: [], capDrop: [], noNewPrivs: true, seccomp: 'default', ulimits: [], sysctls: [], oomScoreAdj: null, bundle: null,
  };
  const given: string[] = [];

  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a === '-h' || a === '--help') return { kind: 'exit', code: 0, stdout: RUN_USAGE };
    if (a === '-q' || a === '--quiet') {
      quiet = true;
      continue;
    }
    if (/^-v+$/.test(a)) {
      verbosity += a.length - 1;
      continue;
    }
    if (a === '--read-only' || a === '--new-privileges') {
      given.push(a);
      if (a === '--read-only') container.readOnly = true;
      else container.noNewPrivs = false;
      continue;
    }
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    if (!WITH_VALUE.has(flag)) return err(`unknown option '${a}' (see 'tini-ts run --help')`);
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) return err(`${flag} needs a value (see 'tini-ts run --help')`);
    given.push(flag);

    switch (flag) {
      case '--map': {
        const e = parseMapRule(value, stop.signalMap);
        if (e !== undefined) return err(`--map: ${e}`);
        break;
      }
      case '--stop-delay': {
        const ms = parseSeconds(value);
        if (typeof ms === 'string') return err(`--stop-delay: ${ms}`);
        stop.stopDelayMs = ms;
        break;
      }
      case '--stop-scope': {
        const sc = parseStopScope(value);
        if (sc === undefined) return err(`--stop-scope: not group or all: '${value}'`);
        stop.stopScope = sc;
        break;
      }
      case '--exit-on-stop': {
        const code = parseExitCode(value);
        if (code === undefined) return err(`--exit-on-stop: not an exit code (0-255): '${value}'`);
        stop.exitOnStop = code;
        break;
      }
      case '--pre-stop':
        if (value.trim() === '') return err('--pre-stop needs a command');
        stop.preStop = value;
        break;
      case '-m':
      case '--memory':
      case '--memory-swap':
      case '--pids':
      case '--cpus':
      case '--cpu-shares':
      case '--cpuset-cpus':
      case '--memory-swappiness':
      case '--blkio-weight':
      case '--device-read-bps':
      case '--device-write-bps':
      case '--device-read-iops':
      case '--device-write-iops': {
        const e = limitFlag(flag, value, limits, env, host);
        if (e !== null) return err(e);
        break;
      }
      case '--share': {
        for (const name of value.split(',').map((s) => s.trim())) {
          const ns = name === 'mnt' ? 'mount' : name;
          if (!(NAMESPACES as readonly string[]).includes(ns)) {
            return err(`--share: unknown namespace '${name}' (use ${NAMESPACES.join(', ')})`);
          }
          namespaces.delete(ns as NamespaceName);
        }
        break;
      }
      case '--hostname': {
        if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(value)) return err(`--hostname: '${value}' is not a valid host name (letters, digits, '.', '-'; at most 64)`);
        hostname = value;
        break;
      }
      case '--timeout':
      case '--grace': {
        const ms = parseDuration(value);
        if (typeof ms === 'string') return err(`${flag}: ${ms}`);
        if (flag === '--timeout') {
          if (ms <= 0) return err(`--timeout: must be more than 0 (e.g. 30s)`);
          timeoutMs = ms;
        } else graceMs = ms;
        break;
      }
      case '--report':
        if (value === '') return err('--report needs a file name');
        reportFile = host(value);
        break;
      case '--cgroup-root':
        cgroupRoot = host(value);
        break;
      case '--cgroup-parent': {
        const problem = cgroupParentProblem(value);
        if (problem) return err(`--cgroup-parent: ${shown(value)}: ${problem}`);
        cgroupParent = value;
        break;
      }
      case '--events': {
        const dest = parseEventDest(value);
        if (typeof dest === 'string') return err(`--events: ${dest} (give a file, fd:N or -)`);
        if (/[\x00\n]/.test(value)) return err(`--events: ${shown(value)}: control characters are not allowed in a file name`);
        events = dest.kind === 'path' ? host(value) : value;
        break;
      }
      case '--rootfs':
      case '--upper':
      case '--bundle':
      case '--layer':
      case '--volume':
      case '-u':
      case '--user':
      case '--group-add':
      case '-w':
      case '--workdir':
      case '-e':
      case '--env':
      case '--env-file':
      case '--cap-add':
      case '--cap-drop':
      case '--seccomp':
      case '--sysctl':
      case '--oom-score-adj':
      case '--ulimit': {
        const e = containerFlag(flag, value, container, host);
        if (e !== null) return err(e);
        break;
      }
    }
  }

  const bad = crossCheck(given, container, namespaces, limits, hostname);
  if (bad) return err(bad);
  if (i >= args.length && container.bundle === null) return err("no program to run given (e.g. 'tini-ts run -- /bin/true')");
  if (i < args.length && container.bundle !== null) return err('--bundle runs the program its config.json names (process.args); give no program');
  return {
    kind: 'run',
    argv: args.slice(i),
    options: { limits, namespaces, hostname, timeoutMs, graceMs, reportFile, quiet, verbosity, cgroupRoot, cgroupParent, events, container, stop },
  };
}

/** A flag of `run` that describes the container (root filesystem, volumes, the process's user, environment, capabilities, limits): sets its field of `container`; a one-line error, or null. */
function containerFlag(flag: string, value: string, container: ContainerOptions, host: (p: string) => string): string | null {
  switch (flag) {
    case '--rootfs':
    case '--upper':
    case '--bundle':
    case '--layer': {
      if (value === '') return `${flag} needs a directory`;
      const dir = host(value);
      if (flag === '--layer' || flag === '--upper') {
        const problem = overlayPathProblem(dir);
        if (problem) return `${flag} ${shown(dir)}: ${problem}`;
      }
      if (flag === '--rootfs') container.rootfs = dir;
      else if (flag === '--upper') container.upper = dir;
      else if (flag === '--bundle') container.bundle = dir;
      else container.layers.push(dir);
      return null;
    }
    case '--volume': {
      const parts = value.split(':');
      const mode = parts.length === 3 ? parts[2] : 'rw';
      if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1] || !['ro', 'rw'].includes(mode)) {
        return `${flag}: '${value}' is not SRC:DST or SRC:DST:ro`;
      }
      if (!absolute(parts[1])) return `${flag}: '${value}': the destination must be an absolute path in the container`;
      const destination = cleanDestination(parts[1]);
      if (destination === '/') return `${flag}: '${value}': the destination cannot be the container's root`;
      container.volumes.push({ source: host(parts[0]), destination, readonly: mode === 'ro' });
      return null;
    }
    case '-u':
    case '--user': {
      const m = /^([A-Za-z0-9_][A-Za-z0-9_.-]*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]*))?$/.exec(value);
      if (!m) return `${flag}: '${value}' is not USER[:GROUP] (names or numbers)`;
      if (/^[0-9]+$/.test(m[1]) && parseId(m[1]) === null) return idRangeProblem(`${flag}: user`, m[1]);
      if (m[2] !== undefined && /^[0-9]+$/.test(m[2]) && parseId(m[2]) === null) return idRangeProblem(`${flag}: group`, m[2]);
      container.user = { user: m[1], group: m[2] ?? null };
      return null;
    }
    case '--group-add':
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(value)) return `--group-add: '${value}' is not a group name or number`;
      if (/^[0-9]+$/.test(value) && parseId(value) === null) return idRangeProblem('--group-add: group', value);
      container.groupAdd.push(value);
      return null;
    case '-w':
    case '--workdir':
      if (!absolute(value)) return `${flag}: '${value}' must be an absolute path`;
      container.workdir = value;
      return null;
    case '-e':
    case '--env':
      if (value === '' || value.startsWith('=')) return `${flag}: '${value}' is not NAME=VALUE or NAME`;
      container.env.push(value);
      return null;
    case '--env-file':
      if (value === '') return '--env-file needs a file name';
      container.envFiles.push(host(value));
      return null;
    case '--cap-add':
    case '--cap-drop':
      for (const c of value.split(',')) {
        if (!normalizeCapability(c)) return `${flag}: unknown capability '${c}'`;
        (flag === '--cap-add' ? container.capAdd : container.capDrop).push(c);
      }
      return null;
    case '--seccomp':
      if (value !== 'default' && value !== 'unconfined') return `--seccomp: '${value}' is not default or unconfined`;
      container.seccomp = value;
      return null;
    case '--sysctl': {
      const eq = value.indexOf('=');
      if (eq <= 0) return `--sysctl: '${value}' is not KEY=VALUE (e.g. net.ipv4.ip_forward=1)`;
      container.sysctls.push(value); // checked once --share is known (below)
      return null;
    }
    case '--oom-score-adj': {
      const n = /^-?[0-9]+$/.test(value) ? Number(value) : NaN;
      if (!(n >= -1000 && n <= 1000)) return `--oom-score-adj: '${value}' is not a whole number from -1000 to 1000`;
      container.oomScoreAdj = n;
      return null;
    }
    case '--ulimit': {
      const m = /^([a-z]+)=(-1|[0-9]+)(?::(-1|[0-9]+))?$/.exec(value);
      if (!m) return `--ulimit: '${value}' is not TYPE=SOFT[:HARD] (e.g. nofile=1024:2048)`;
      const type = ULIMITS[m[1]];
      if (!type) return `--ulimit: unknown limit '${m[1]}' (use ${Object.keys(ULIMITS).join(', ')})`;
      const num = (v: string) => (v === '-1' ? UNLIMITED : Number(v));
      const soft = num(m[2]);
      const hard = m[3] === undefined ? soft : num(m[3]);
      if (soft > hard) return `--ulimit: ${m[1]}: soft limit ${m[2]} is above the hard limit ${m[3]}`;
      container.ulimits = container.ulimits.filter((u) => u.type !== type);
      container.ulimits.push({ type, soft, hard });
      return null;
    }
  }
  return null;
}

/**
 * A cgroup limit flag of `run`: sets its field of the OCI resources, as
 * docker turns the same flags into a config.json's linux.resources (the one
 * translation from flags to resources); a one-line error, or null.
 */
function limitFlag(flag: string, value: string, r: LinuxResources, env: { cpuCount: number; deviceNumber?: DeviceNumber }, host: (p: string) => string): string | null {
  switch (flag) {
    case '-m':
    case '--memory': {
      const n = parseSize(value);
      if (typeof n === 'string') return `--memory: ${n}`;
      if (n < MIN_MEMORY) return `--memory: ${value} is too small; give at least 16m (the init shares the cgroup)`;
      (r.memory ??= {}).limit = n;
      return null;
    }
    case '--memory-swap': {
      if (value.trim() === '-1') {
        (r.memory ??= {}).swap = -1;
        return null;
      }
      const n = parseSize(value);
      if (typeof n === 'string') return `--memory-swap: ${n}`;
      (r.memory ??= {}).swap = n;
      return null;
    }
    case '--pids': {
      if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 4194304) {
        return `--pids: not a number of tasks: '${value}' (give a whole number from 1 to 4194304)`;
      }
      r.pids = { limit: Number(value) };
      return null;
    }
    case '--cpus': {
      const n = /^\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$/.test(value) ? Number(value) : NaN;
      if (!(n > 0)) return `--cpus: not a positive number of CPUs: '${value}' (e.g. 0.5 or 2)`;
      if (n > env.cpuCount) return `--cpus: ${value} is more than the ${env.cpuCount} CPUs available; give at most ${env.cpuCount}`;
      if (n * CPU_PERIOD_US < 1000) return `--cpus: ${value} is below the kernel's minimum of 0.01`;
      r.cpu = { ...r.cpu, quota: Math.round(n * CPU_PERIOD_US), period: CPU_PERIOD_US };
      return null;
    }
    case '--cpu-shares': {
      const n = wholeIn(value, 2, 262144);
      if (n === null) return `--cpu-shares: '${value}' is not a whole number from 2 to 262144`;
      (r.cpu ??= {}).shares = n;
      return null;
    }
    case '--cpuset-cpus': {
      const list = parseCpuList(value);
      if (Array.isArray(list)) return `--cpuset-cpus: ${list[0]}`;
      const max = Math.max(...list.split(',').map((p) => Number(p.split('-').pop())));
      if (max >= env.cpuCount) return `--cpuset-cpus: CPU ${max} does not exist (CPUs 0-${env.cpuCount - 1} are available)`;
      (r.cpu ??= {}).cpus = list;
      return null;
    }
    case '--memory-swappiness': {
      const n = wholeIn(value, 0, 100);
      if (n === null) return `--memory-swappiness: '${value}' is not a whole number from 0 to 100`;
      (r.memory ??= {}).swappiness = n;
      return null;
    }
    case '--blkio-weight': {
      const n = wholeIn(value, 10, 1000);
      if (n === null) return `--blkio-weight: '${value}' is not a whole number from 10 to 1000`;
      (r.blockIO ??= {}).weight = n;
      return null;
    }
    case '--device-read-bps':
    case '--device-write-bps':
    case '--device-read-iops':
    case '--device-write-iops': {
      const colon = value.lastIndexOf(':');
      if (colon <= 0) return `${flag}: '${value}' is not DEVICE:RATE (e.g. /dev/sda:10mb)`;
      const [device, rateText] = [value.slice(0, colon), value.slice(colon + 1)];
      const bytes = flag.endsWith('bps');
      const rate = bytes ? parseSize(rateText) : /^[0-9]+$/.test(rateText) ? Number(rateText) : `not a whole number: '${rateText}'`;
      if (typeof rate === 'string') return `${flag}: ${rate}`;
      if (rate <= 0) return `${flag}: the rate must be above 0`;
      const dev = (env.deviceNumber ?? statBlockDevice)(host(device));
      if (typeof dev === 'string') return `${flag}: ${dev}`;
      // a later flag for the same device replaces the earlier one
      const list = THROTTLE_FLAGS[flag];
      const b = (r.blockIO ??= {});
      b[list] = [...(b[list] ?? []).filter((t) => !(t.major === dev.major && t.minor === dev.minor)), { ...dev, rate }];
      return null;
    }
  }
  return null;
}

/** The rules between flags, checked once every flag is read: a one-line error, or null. */
function crossCheck(given: readonly string[], container: ContainerOptions, namespaces: ReadonlySet<NamespaceName>, limits: LinuxResources, hostname: string | null): string | null {
  if (container.bundle !== null) {
    const other = given.find((f) => !WITH_BUNDLE.has(f));
    if (other) return `${other} cannot be combined with --bundle (its config.json says how to run)`;
  }
  if (container.rootfs !== null && container.layers.length > 0) return '--rootfs and --layer exclude each other (the layers build the root)';
  if (container.upper !== null && container.layers.length === 0) return '--upper needs --layer (it is the writable layer on top of them)';
  if (!isContainer(container)) {
    const needsRoot = given.find((f) => ['--read-only', '--volume', '--cap-add', '--cap-drop', '--seccomp', '--new-privileges'].includes(f));
    if (needsRoot) return `${needsRoot} needs a root filesystem (--rootfs, --layer or --bundle)`;
  }
  if (isContainer(container) && !namespaces.has('mount')) return 'a root filesystem needs a mount namespace of its own; drop --share mount';

  for (const kv of container.sysctls) {
    const problem = sysctlProblem(kv.slice(0, kv.indexOf('=')), { ipc: namespaces.has('ipc'), net: namespaces.has('net'), uts: namespaces.has('uts') });
    if (problem) return `--sysctl: ${problem}`;
  }
  const { limit, swap } = limits.memory ?? {};
  if (swap !== undefined) {
    if (limit === undefined) return '--memory-swap needs --memory too (it is memory plus swap)';
    if (swap !== -1 && swap < limit) {
      return '--memory-swap must be at least --memory (it is memory plus swap), or -1 for unlimited swap';
    }
  }
  if (hostname !== null && !namespaces.has('uts')) return '--hostname needs a uts namespace of its own; drop --share uts';
  return null;
}

/** The numbers of a block device node (stat's rdev), or why the path is not one. */
export function statBlockDevice(p: string): { major: number; minor: number } | string {
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch (e) {
    return `${p}: ${(e as NodeJS.ErrnoException).code}`;
  }
  if (!st.isBlockDevice()) return `${p} is not a block device`;
  // glibc's gnu_dev_major/minor, on 64 bits
  const d = BigInt(st.rdev);
  const major = ((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn);
  const minor = (d & 0xffn) | ((d >> 12n) & ~0xffn);
  return { major: Number(major & 0xffffffffn), minor: Number(minor & 0xffffffffn) };
}

/** VALUE as a whole number from LO to HI (decimal digits only), else null. */
function wholeIn(value: string, lo: number, hi: number): number | null {
  const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
  return n >= lo && n <= hi ? n : null;
}
