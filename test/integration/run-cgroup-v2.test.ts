/**
 * tini-ts run on cgroup v2 (the unified hierarchy): which controllers it
 * enables, pids.max and the init's tasks, where the init's memory is charged,
 * cpu.weight beside runc's, a --cgroup-parent under a cgroup that holds
 * processes, and a launcher in a cgroup namespace whose root holds processes.
 * They need a v2-only kernel: the VM stage runs them (npm run test:vm).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, canRun, CG, CG_VERSION, cgroupPathIn, hasSyncReturn, PARENT, RUN_NEEDS, run, expectNothingLeftBehind } from './run-helpers.js';
import { unmet } from '../helpers/prereq.js';

/** A cgroup of this file's own beside PARENT (never inside it: parentLeft() checks that PARENT ends empty). */
const SCRATCH = path.join(CG, `${PARENT}-scratch`);
const sleepers: ChildProcess[] = [];

function sleeperIn(dir: string): ChildProcess {
  const c = spawn('sleep', ['1000'], { stdio: 'ignore' });
  sleepers.push(c);
  fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(c.pid));
  return c;
}

/** rmdir a tree of cgroups, innermost first (their processes must be gone). */
function rmCgroupTree(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rmCgroupTree(path.join(dir, e.name));
  for (let i = 0; i < 100; i++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EBUSY') throw e;
      spawnSync('sleep', ['0.02']);
    }
  }
}

/** The workload's cgroup directory on the host, read by a program run with --share cgroup. */
const CGDIR = 'd=/sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)';

const v2 = CG_VERSION === 2;

describe.skipIf(unmet(canRun, RUN_NEEDS) || unmet(v2, 'cgroup v2 at /sys/fs/cgroup', CG_VERSION === 1 ? 'cgroup-v2-on-v1-host' : undefined))('tini-ts run on cgroup v2', () => {
  expectNothingLeftBehind();
  afterEach(() => {
    for (const c of sleepers.splice(0)) if (c.pid) spawnSync('kill', ['-9', String(c.pid)]);
    rmCgroupTree(SCRATCH);
  });

  it('enables only the controllers it sets or reads: cpu, memory, pids (and cpuset when asked)', () => {
    const r = run(['--share', 'cgroup', '--', 'sh', '-c', `${CGDIR}; cat $d/cgroup.controllers; cat $(dirname $d)/cgroup.subtree_control`]);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    expect(r.stdout.split('\n').slice(0, 2)).toEqual(['cpu memory pids', 'cpu memory pids']);
    const withCpuset = run(['--share', 'cgroup', '--cpuset-cpus', '0', '--', 'sh', '-c', `${CGDIR}; cat $d/cgroup.controllers $d/cpuset.cpus`]);
    expect(withCpuset.stdout.split('\n').slice(0, 2), hasSyncReturn(withCpuset)).toEqual(['cpuset cpu memory pids', '0']);
  });

  it("pids.max is --pids plus the init's own tasks, so the workload gets exactly N", () => {
    const probe = `${CGDIR}; echo "max=$(cat $d/pids.max) init=$(ls /proc/1/task | wc -l)"`;
    const r = run(['--share', 'cgroup', '--pids', '10', '--', 'sh', '-c', probe]);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    const [, max, init] = /max=([0-9]+) init=([0-9]+)/.exec(r.stdout)!.map(Number);
    expect(init).toBeGreaterThan(0);
    expect(max).toBe(10 + init);
    // N tasks for the workload: python and 9 children fit, a 10th fork is refused
    const forker = 'import os, time\nn = 0\nwhile n < 20:\n  try:\n    if os.fork() == 0:\n      time.sleep(5); os._exit(0)\n  except OSError:\n    break\n  n += 1\nprint("started=%d" % n)';
    const forks = run(['--pids', '10', '--', 'python3', '-c', forker]);
    expect(forks.stdout, hasSyncReturn(forks)).toMatch(/started=9\b/);
  });

  it("the init's memory is not charged to the container: memory.current stays below the init's own resident memory", () => {
    const probe = `${CGDIR}; echo "current=$(cat $d/memory.current) init=$(awk '/^RssAnon/ {print $2 * 1024}' /proc/1/status)"`;
    const r = run(['--share', 'cgroup', '--memory', '64m', '--', 'sh', '-c', probe]);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    const [, current, init] = /current=([0-9]+) init=([0-9]+)/.exec(r.stdout)!.map(Number);
    expect(init).toBeGreaterThan(4 << 20); // a Node process
    expect(current).toBeLessThan(init);
  });

  it.each([
    [256, 10],
    [1024, 39],
    [262144, 10000],
  ])("--cpu-shares %i gives cpu.weight %i, runc's integer conversion", (shares, weight) => {
    const r = run(['--share', 'cgroup', '--cpu-shares', String(shares), '--', 'sh', '-c', `${CGDIR}; cat $d/cpu.weight`]);
    expect(r.stdout.trim(), hasSyncReturn(r)).toBe(String(weight));
  });

  it('--cgroup-parent under a cgroup that holds processes: exit 125 naming EBUSY and the way out; the level it made is gone', () => {
    fs.mkdirSync(SCRATCH);
    sleeperIn(SCRATCH);
    const parent = `${path.basename(SCRATCH)}/sub`;
    const r = spawnSync(BIN, ['run', '--cgroup-parent', parent, '--', 'true'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, hasSyncReturn(r)).toBe(125);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/EBUSY.*holds processes.*move them into a child cgroup first/);
    expect(fs.existsSync(path.join(SCRATCH, 'sub'))).toBe(false);
    expect(fs.existsSync(SCRATCH)).toBe(true); // the user's
  });

  it('a launcher in a cgroup namespace whose root holds processes: EBUSY with the way out, which then works', () => {
    // SCRATCH/ns is the namespace's root, with controllers available and the shell inside it
    fs.mkdirSync(SCRATCH);
    fs.writeFileSync(path.join(SCRATCH, 'cgroup.subtree_control'), '+cpu +memory +pids');
    fs.mkdirSync(path.join(SCRATCH, 'ns'));
    const script = [
      'set -u',
      `echo $$ > ${SCRATCH}/ns/cgroup.procs`,
      // a new cgroup namespace (rooted at SCRATCH/ns) and cgroup2 mounted as a container sees it
      `exec unshare --cgroup --mount --propagation private sh -c '
        umount /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 99
        ${BIN} run -q --cgroup-parent ${PARENT} -- true; echo "first=$?"
        mkdir /sys/fs/cgroup/init
        for p in $(cat /sys/fs/cgroup/cgroup.procs); do echo $p > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null; done
        ${BIN} run -q --cgroup-parent ${PARENT} -- sh -c "cat /proc/self/cgroup"; echo "second=$?"
        rmdir /sys/fs/cgroup/${PARENT} 2>/dev/null; true'`,
    ].join('\n');
    const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout, hasSyncReturn(r)).toMatch(/first=125/);
    expect(r.stderr, hasSyncReturn(r)).toMatch(/cgroup\.subtree_control of \/sys\/fs\/cgroup: .*EBUSY.*holds processes.*mkdir \/sys\/fs\/cgroup\/init/);
    expect(r.stdout).toMatch(/second=0/);
    expect(cgroupPathIn(r.stdout)).toBe('/');
  });
});
