/**
 * `tini-ts run [OPTIONS] [--] PROGRAM [ARGS...]`, parsed without side effects.
 * Errors are one line naming the problem and what to do, exit code 125 (as
 * `docker run` uses for its own failures, so callers can tell them from the
 * program's exit codes).
 */
import { parseCpuList, parseDuration, parseSize } from '../cgroup/size.js';
import type { Limits } from '../cgroup/types.js';

export const EXIT_LAUNCHER = 125;

export const NAMESPACES = ['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup'] as const;
export type NamespaceName = (typeof NAMESPACES)[number];

/** The init shares the workload's memory cgroup (see runtime/launcher.ts), so tiny limits cannot work. */
export const MIN_MEMORY = 16 * 1024 * 1024;
export const DEFAULT_GRACE_MS = 10_000;

export interface RunOptions {
  limits: Limits;
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
Run:
  --timeout DURATION   stop the program after DURATION (30s, 2m, 500ms)
  --grace DURATION     time between SIGTERM and SIGKILL (default 10s)
  --report FILE        write the report as JSON to FILE
  --cgroup-root DIR    cgroup filesystem root (default /sys/fs/cgroup)
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
  '--share', '--hostname', '--timeout', '--grace', '--report', '--cgroup-root',
]);

export function parseRunArgs(args: readonly string[], env: { cpuCount: number }): RunParse {
  const limits: Limits = {};
  const namespaces = new Set<NamespaceName>(NAMESPACES);
  let hostname: string | null = null;
  let timeoutMs: number | null = null;
  let graceMs = DEFAULT_GRACE_MS;
  let reportFile: string | null = null;
  let quiet = false;
  let verbosity = 1;
  let cgroupRoot: string | null = null;

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
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    if (!WITH_VALUE.has(flag)) return err(`unknown option '${a}' (see 'tini-ts run --help')`);
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) return err(`${flag} needs a value (see 'tini-ts run --help')`);

    switch (flag) {
      case '-m':
      case '--memory': {
        const n = parseSize(value);
        if (typeof n === 'string') return err(`--memory: ${n}`);
        if (n < MIN_MEMORY) return err(`--memory: ${value} is too small; give at least 16m (the init shares the cgroup)`);
        limits.memoryBytes = n;
        break;
      }
      case '--memory-swap': {
        if (value.trim() === '-1') {
          limits.memorySwapBytes = -1;
          break;
        }
        const n = parseSize(value);
        if (typeof n === 'string') return err(`--memory-swap: ${n}`);
        limits.memorySwapBytes = n;
        break;
      }
      case '--pids': {
        if (!/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 4194304) {
          return err(`--pids: not a number of tasks: '${value}' (give a whole number from 1 to 4194304)`);
        }
        limits.pids = Number(value);
        break;
      }
      case '--cpus': {
        const n = /^\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$/.test(value) ? Number(value) : NaN;
        if (!(n > 0)) return err(`--cpus: not a positive number of CPUs: '${value}' (e.g. 0.5 or 2)`);
        if (n > env.cpuCount) return err(`--cpus: ${value} is more than the ${env.cpuCount} CPUs available; give at most ${env.cpuCount}`);
        if (n * 100_000 < 1000) return err(`--cpus: ${value} is below the kernel's minimum of 0.01`);
        limits.cpus = n;
        break;
      }
      case '--cpu-shares': {
        const n = /^[0-9]+$/.test(value) ? Number(value) : NaN;
        if (!(n >= 2 && n <= 262144)) return err(`--cpu-shares: '${value}' is not a whole number from 2 to 262144`);
        limits.cpuShares = n;
        break;
      }
      case '--cpuset-cpus': {
        const list = parseCpuList(value);
        if (Array.isArray(list)) return err(`--cpuset-cpus: ${list[0]}`);
        const max = Math.max(...list.split(',').map((p) => Number(p.split('-').pop())));
        if (max >= env.cpuCount) return err(`--cpuset-cpus: CPU ${max} does not exist (CPUs 0-${env.cpuCount - 1} are available)`);
        limits.cpusetCpus = list;
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
        reportFile = value;
        break;
      case '--cgroup-root':
        cgroupRoot = value;
        break;
    }
  }

  if (limits.memorySwapBytes !== undefined) {
    if (limits.memoryBytes === undefined) return err('--memory-swap needs --memory too (it is memory plus swap)');
    if (limits.memorySwapBytes !== -1 && limits.memorySwapBytes < limits.memoryBytes) {
      return err('--memory-swap must be at least --memory (it is memory plus swap), or -1 for unlimited swap');
    }
  }
  if (hostname !== null && !namespaces.has('uts')) return err('--hostname needs a uts namespace of its own; drop --share uts');
  if (i >= args.length) return err("no program to run given (e.g. 'tini-ts run -- /bin/true')");
  return {
    kind: 'run',
    argv: args.slice(i),
    options: { limits, namespaces, hostname, timeoutMs, graceMs, reportFile, quiet, verbosity, cgroupRoot },
  };
}
