/** Shared helpers for the `tini-ts run` integration tests (real namespaces and cgroups; root only). */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { afterAll, afterEach, beforeEach, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BIN = path.resolve(import.meta.dirname, '../../dist/tini-ts');
export const CG = '/sys/fs/cgroup';
/** The machine's cgroup layout at CG: 2 (unified, cgroup2 mounted there), 1 (one hierarchy per controller), or null. */
export const CG_VERSION: 1 | 2 | null = fs.existsSync(`${CG}/cgroup.controllers`) ? 2 : fs.existsSync(`${CG}/memory/cgroup.procs`) ? 1 : null;
export const canRun = process.getuid?.() === 0 && fs.existsSync(BIN) && CG_VERSION !== null;
/**
 * A --timeout for tests that mean to stop a running program: long enough for
 * the init to be up even in the emulated guest of the VM stage. A timeout that
 * fires before the init has its signal handlers is lost today (the init, PID 1
 * of its namespace, ignores a signal it has no handler for yet).
 */
export const TIMEOUT = '3s';

/** The workload's cgroup path in `/proc/self/cgroup` text: the memory hierarchy's on v1, the unified one on v2. */
export function cgroupPathIn(procSelfCgroup: string): string | undefined {
  const re = CG_VERSION === 2 ? /^0::(.*)$/m : /^[0-9]+:(?:[^:]*,)?memory(?:,[^:]*)?:(.*)$/m;
  return re.exec(procSelfCgroup)?.[1];
}

/** What canRun needs, for the prerequisite's message. */
export const RUN_NEEDS = 'root, dist/tini-ts (npm run build) and a cgroup hierarchy at /sys/fs/cgroup (v1 or v2)';

/**
 * This test file's cgroup parent (--cgroup-parent), made unique so that test
 * runs side by side on one machine (two CI jobs, a developer's run beside CI)
 * never see each other's cgroups. Vitest evaluates this module once per test
 * file. Every launcher the helpers start uses it; the snapshots look only
 * under it, and parentLeft() checks at the end of the file that nothing
 * was left in it, then removes it (a --cgroup-parent is the user's: the
 * launcher makes it when missing but never removes it, as docker does).
 */
export const PARENT = `tini-ts-test-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

/** `run --cgroup-parent PARENT ARGS...`: a launcher's arguments, in this file's parent (or a level below it). */
export const runArgs = (args: string[], parent = PARENT): string[] => ['run', '--cgroup-parent', parent, ...args];

/** Pids of the launchers this file started (their state directories are named after them). */
const launchers = new Set<number>();

export function run(args: string[], opts: { timeout?: number; input?: string; cwd?: string; parent?: string } = {}): SpawnSyncReturns<string> {
  return runBin(runArgs(args, opts.parent), opts);
}

/** spawnSync of the binary with ARGS as they are (remembering the pid), for commands that build their own. */
export function runBin(args: string[], opts: { timeout?: number; input?: string; cwd?: string } = {}): SpawnSyncReturns<string> {
  const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: opts.timeout ?? 30_000, input: opts.input, cwd: opts.cwd });
  if (r.pid) launchers.add(r.pid);
  return r;
}

export function start(args: string[], parent = PARENT) {
  const child = spawn(BIN, runArgs(args, parent), { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid) launchers.add(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, out: () => stdout };
}

const tmpDirs: string[] = [];

/** A path in a new /tmp/tini-ts-run-* directory; removeTmpFiles() (in each file's afterEach) removes them all. */
export function tmpFile(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-run-'));
  tmpDirs.push(dir);
  return path.join(dir, name);
}

export function removeTmpFiles(): void {
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function readReport(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** This file's parent in the hierarchy of `controller` (e.g. memory): CG/memory/PARENT on v1, CG/PARENT on v2. */
export const parentDir = (controller: string): string => (CG_VERSION === 2 ? path.join(CG, PARENT) : path.join(CG, controller, PARENT));

/** Makes this file's parent in every hierarchy, as a user would before giving it as --cgroup-parent. */
export function makeParent(): void {
  for (const dir of parentDirs()) {
    try {
      fs.mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; // co-mounted hierarchies (cpu -> cpu,cpuacct)
    }
  }
}

/** This file's parent in every hierarchy (one on v2). */
export function parentDirs(): string[] {
  if (CG_VERSION === 2) return [path.join(CG, PARENT)];
  if (CG_VERSION === 1) return fs.readdirSync(CG).map((c) => path.join(CG, c, PARENT));
  return [];
}

/** Everything the tests could leave behind: our cgroups (under this file's parent only), the host's mounts. */
export function snapshot(): { cgroups: string[]; mounts: string } {
  const cgroups: string[] = [];
  for (const dir of parentDirs()) {
    try {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) cgroups.push(path.join(dir, e.name));
    } catch {
      // no parent in this hierarchy
    }
  }
  const mounts = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ').slice(3, 5).join(' '))
    .sort()
    .join('\n');
  return { cgroups: cgroups.sort(), mounts };
}

/**
 * The cgroups left under this file's parent, in any hierarchy (for afterAll:
 * expect []); then removes the parent itself, which only this file used.
 */
export function parentLeft(): string[] {
  const left: string[] = [];
  for (const dir of parentDirs()) {
    if (!fs.existsSync(dir)) continue;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) left.push(path.join(dir, e.name));
    if (left.length === 0) fs.rmdirSync(dir);
  }
  return left;
}

/**
 * The launcher state directories (/run/tini-ts/<pid>-<start>-<random>) of the
 * launchers this file started: other runs' are none of its business.
 */
export function ownStateDirs(): string[] {
  let names: string[];
  try {
    names = fs.readdirSync('/run/tini-ts');
  } catch {
    return [];
  }
  return names.filter((n) => launchers.has(Number(n.split('-')[0]))).sort();
}

/** pids of live processes whose command line contains `marker`. */
export function processesWith(marker: string): number[] {
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(p)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8');
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      if (cmd.includes(marker) && !/\) Z /.test(stat)) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

/** A probe's `key=value` lines (others skipped), values trimmed. */
export function fields(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).trim()]));
}

export async function waitFor(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

export function hasSyncReturn(r: SpawnSyncReturns<string>): string {
  return `code ${r.status} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

/**
 * Registers the checks every run test file makes: after each test its
 * temporary files are gone and no cgroup or mount of it remains; after the
 * file, nothing is left in its cgroup parent.
 */
export function expectNothingLeftBehind(): void {
  let before: ReturnType<typeof snapshot>;
  beforeEach(() => {
    before = snapshot();
  });
  afterEach(() => {
    removeTmpFiles();
    expect(snapshot()).toEqual(before);
  });
  afterAll(() => {
    expect(parentLeft()).toEqual([]);
  });
}

/**
 * Python that makes its process a subreaper, with left(): the children left
 * to it, alive (name and pid) and the zombies it reaps (their pids).
 */
export const PY_SUBREAPER = `
import ctypes, json, os, signal, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
def left():
    alive = []
    for d in os.listdir('/proc'):
        try:
            stat = open(f'/proc/{d}/stat').read()
        except OSError:
            continue
        rest = stat[stat.rindex(')') + 2:].split()
        if int(rest[1]) == os.getpid() and rest[0] != 'Z':
            alive.append(stat[stat.index('(') + 1:stat.rindex(')')] + ' ' + d)
    zombies = []
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        zombies.append(pid)
    return alive, zombies
`;

/** Runs the binary with ARGS under a subreaper (python3); whatever it leaves behind (alive, or a zombie) is listed. */
export function underSubreaper(args: string[]): { rc: number; stderr: string; left: string[] } {
  const helper = `${PY_SUBREAPER}
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True)
time.sleep(0.3)
alive, zombies = left()
print(json.dumps({'rc': p.returncode, 'stderr': p.stderr.decode(), 'left': [a for a in alive if not a.startswith('python')] + [f'zombie {z}' for z in zombies]}))
`;
  const r = spawnSync('python3', ['-c', helper, BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}
