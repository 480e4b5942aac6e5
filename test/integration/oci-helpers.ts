/**
 * For the OCI tests: the runtime calls (tini-ts and runc on one bundle, their
 * output through files), this file's own cgroup parent for the containers,
 * and what afterAll checks: whatever containers a test left under its
 * runtimes' roots are force-deleted (so a failing test leaves nothing
 * running or mounted), and their ids returned for the test to assert there
 * were none.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { editConfig, makeFixture, makeRuncBundle, type Fixture } from './container-helpers.js';
import { BIN, CG, CG_VERSION, PARENT, parentLeft } from './run-helpers.js';

export const hasRunc = spawnSync('runc', ['--version']).status === 0;

/** What a runtime call gave. */
export interface Answer {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CallOptions {
  /** written to the runtime's stdin (a pipe); without it stdin is /dev/null */
  input?: string;
  cwd?: string;
  /** the runtime's environment (the caller's when not given) */
  env?: NodeJS.ProcessEnv;
  /** descriptors given to the runtime as fds 3, 4, ... */
  extraFds?: number[];
  timeout?: number;
}

/**
 * `FILE ARGS...`, stdout and stderr through files in `dir`, not pipes: after
 * create, the container's init holds them (they are the container's stdio),
 * so a pipe would not end before the container does.
 */
export function ociCall(dir: string, file: string, args: string[], opts: CallOptions = {}): Answer {
  const out = path.join(dir, 'out');
  const err = path.join(dir, 'err');
  const fds = [fs.openSync(out, 'w'), fs.openSync(err, 'w')];
  try {
    const stdin = opts.input === undefined ? 'ignore' : 'pipe';
    const r = spawnSync(file, args, { stdio: [stdin, fds[0], fds[1], ...(opts.extraFds ?? [])], input: opts.input, cwd: opts.cwd, env: opts.env, timeout: opts.timeout ?? 30_000 });
    return { status: r.status, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
  } finally {
    fds.forEach((fd) => fs.closeSync(fd));
  }
}

/**
 * linux.cgroupsPath for the container `id` of runtime `who`: a cgroup of its
 * own under this test file's parent (unique per file and run), so that test
 * runs side by side never see each other's cgroups and afterAll can tell
 * that nothing of this file's is left.
 */
export const cgroupsPathOf = (who: string, id: string): string => `/${PARENT}/${who}-${id}`;

/** Puts the next container `id` of `who` made from `bundle` in its own cgroup under this file's parent. */
export function placeCgroup(bundle: string, who: string, id: string): void {
  editConfig(bundle, (config) => (config.linux.cgroupsPath = cgroupsPathOf(who, id)));
}

/**
 * `tini-ts --root ROOT [GLOBAL...] ARGS...` (who = 'tini') or runc's: a
 * `create --bundle B ... ID` (or `run`) first places the container's cgroup
 * under this file's parent (placeCgroup).
 */
export function runtimeCall(who: 'tini' | 'runc', dir: string, root: string, args: string[], opts: CallOptions & { global?: string[] } = {}): Answer {
  const verb = args.findIndex((a) => a === 'create' || a === 'run');
  const b = args.indexOf('--bundle');
  if (verb >= 0 && b > verb) placeCgroup(args[b + 1], who, args[args.length - 1]);
  return ociCall(dir, who === 'tini' ? BIN : 'runc', ['--root', root, ...(opts.global ?? []), ...args], opts);
}

/** The two runtimes' --root directories, in the fixture's directory. */
export const ociRoots = (dir: string): { tini: string; runc: string } => ({ tini: path.join(dir, 'root-tini'), runc: path.join(dir, 'root-runc') });

/** Container ids unique to this process (`PREFIXWHAT-PID-N`), each remembered in `ids` for afterAll. */
export function containerIds(prefix = ''): { ids: string[]; id: (what: string) => string } {
  const ids: string[] = [];
  const id = (what: string) => {
    const i = `${prefix}${what}-${process.pid}-${ids.length}`;
    ids.push(i);
    return i;
  };
  return { ids, id };
}

/**
 * afterAll's checks. The test's own containers (`ids`, last made first: one
 * may share an earlier one's namespaces) are force-deleted in both runtimes,
 * as a test may end with them running; then no container may be left under
 * either root (any found is force-deleted too) and no cgroup under this
 * file's parent (which is then removed); `cleanup` runs whatever they find.
 */
export function expectNothingLeft(roots: { tini?: string; runc?: string }, cleanup: () => void, ids: string[] = []): void {
  for (const id of [...ids].reverse()) {
    if (roots.tini) spawnSync(BIN, ['--root', roots.tini, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
    if (roots.runc) spawnSync('runc', ['--root', roots.runc, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
  }
  const left = sweepContainers(roots);
  try {
    expect(left).toEqual([]);
    expect(parentLeft()).toEqual([]);
  } finally {
    cleanup();
  }
}

/** Whether the cgroup of the container `id` of `who` is in any hierarchy (placed by placeCgroup). */
export function cgroupExists(who: string, id: string): boolean {
  const rel = cgroupsPathOf(who, id).slice(1);
  const dirs = CG_VERSION === 2 ? [path.join(CG, rel)] : fs.readdirSync(CG).map((h) => path.join(CG, h, rel));
  return dirs.some((d) => fs.existsSync(d));
}

/** tini-ts's own parent level (a create without linux.cgroupsPath) in every hierarchy where it is. */
export function tiniParents(): string[] {
  return [CG, ...fs.readdirSync(CG).map((h) => path.join(CG, h))].map((d) => path.join(d, 'tini-ts')).filter((d) => fs.existsSync(d));
}

export function sweepContainers(roots: { tini?: string; runc?: string }): string[] {
  const left: string[] = [];
  if (roots.tini && fs.existsSync(roots.tini)) {
    for (const id of fs.readdirSync(roots.tini)) {
      left.push(id);
      spawnSync(BIN, ['--root', roots.tini, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
    }
  }
  if (roots.runc && fs.existsSync(roots.runc)) {
    const ids = spawnSync('runc', ['--root', roots.runc, 'list', '-q'], { encoding: 'utf8', timeout: 30_000 }).stdout ?? '';
    for (const id of ids.split('\n').filter(Boolean)) {
      left.push(`runc:${id}`);
      spawnSync('runc', ['--root', roots.runc, 'delete', '--force', id], { stdio: 'ignore', timeout: 30_000 });
    }
  }
  return left;
}

/** What a file running tini-ts beside runc on one bundle works on (`f`, `bundle`, `roots` are there from its beforeAll on). */
export interface BesideRunc {
  f: Fixture;
  bundle: string;
  roots: { tini: string; runc: string };
  /** The containers made (for afterAll), and a new unique id. */
  ids: string[];
  id: (what: string) => string;
  tini: (...args: string[]) => Answer;
  runc: (...args: string[]) => Answer;
  both: { tini: (...args: string[]) => Answer; runc: (...args: string[]) => Answer };
}

/**
 * A fixture and a runc bundle (`runc spec`, then `patch`; then `prepare`) for
 * the calling describe, made in beforeAll; afterAll checks nothing is left
 * (expectNothingLeft) and removes the fixture.
 */
export function besideRunc(patch: (config: Record<string, any>) => void, prepare?: (f: Fixture, bundle: string) => void): BesideRunc {
  const { ids, id } = containerIds();
  const pair = { ids, id } as BesideRunc;
  pair.tini = (...args) => runtimeCall('tini', pair.f.dir, pair.roots.tini, args);
  pair.runc = (...args) => runtimeCall('runc', pair.f.dir, pair.roots.runc, args);
  pair.both = { tini: pair.tini, runc: pair.runc };
  beforeAll(() => {
    pair.f = makeFixture();
    pair.bundle = makeRuncBundle(pair.f, patch);
    prepare?.(pair.f, pair.bundle);
    pair.roots = ociRoots(pair.f.dir);
  });
  afterAll(() => {
    // Nothing of ours is left: no container directory, no cgroup.
    expectNothingLeft(pair.roots ?? {}, () => pair.f?.cleanup(), ids);
  });
  return pair;
}
