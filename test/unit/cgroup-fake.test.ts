/**
 * v1 and v2 against fake cgroupfs trees in a temp dir: the file layout, the
 * values written, the counters read, the stale sweep.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eachTempDir, put, read } from '../helpers/fake-cgroup.js';
import { cgroupName, detectVersion, openCgroup, ownerAlive, sweepStale } from '../../src/cgroup/index.js';
import { RunFailure } from '../../src/libc/error.js';
import { CgroupV1, otherHierarchies } from '../../src/cgroup/v1/index.js';
import { CgroupV2 } from '../../src/cgroup/v2/index.js';
import { sharesToWeight } from '../../src/cgroup/v2/cpu.js';

let root: string;
/** Where launchers record the --cgroup-parent levels they made (never the machine's /run here). */
let levels: string;

eachTempDir('tini-ts-cgfake-', (d) => (root = d));
eachTempDir('tini-ts-cglevels-', (d) => (levels = d));

function fakeV2(controllers = 'cpuset cpu io memory pids') {
  put(path.join(root, 'cgroup.controllers'), controllers + '\n');
  put(path.join(root, 'cgroup.subtree_control'), '');
  put(path.join(root, 'cgroup.procs'), '');
}

function fakeV1(controllers = ['memory', 'pids', 'cpu', 'cpuacct', 'cpuset']) {
  for (const c of controllers) put(path.join(root, c, 'cgroup.procs'), '');
  put(path.join(root, 'cpuset', 'cpuset.cpus'), '0-1\n');
  put(path.join(root, 'cpuset', 'cpuset.mems'), '0\n');
}

describe('cgroup v2 on a fake tree', () => {
  it('is detected, enables controllers, writes every limit in v2 terms', () => {
    fakeV2();
    expect(detectVersion(root)).toBe(2);
    const limits = { memory: { limit: 64 << 20, reservation: 32 << 20 }, pids: { limit: 32 }, cpu: { quota: 20000, shares: 512, cpus: '0' } };
    const cg = openCgroup(root, 'run1', limits);
    expect(cg).toBeInstanceOf(CgroupV2);
    cg.create();
    cg.apply(limits);
    const dir = path.join(root, 'tini-ts', 'run1');
    expect(cg.dirs).toEqual([dir]);
    expect(read(path.join(root, 'cgroup.subtree_control'))).toBe('+memory +pids +cpu +cpuset');
    expect(read(path.join(root, 'tini-ts', 'cgroup.subtree_control'))).toBe('+memory +pids +cpu +cpuset');
    expect(read(path.join(dir, 'memory.max'))).toBe(String(64 << 20));
    expect(read(path.join(dir, 'memory.low'))).toBe(String(32 << 20));
    expect(read(path.join(dir, 'pids.max'))).toBe('32');
    expect(read(path.join(dir, 'cpu.max'))).toBe('20000 100000');
    expect(read(path.join(dir, 'cpu.weight'))).toBe(String(sharesToWeight(512)));
    expect(read(path.join(dir, 'cpuset.cpus'))).toBe('0');
    expect(cg.procsFiles()).toEqual([path.join(dir, 'cgroup.procs')]);
  });

  it('--memory-swap fails clearly without swap accounting, and sets swap.max = total - memory with it', () => {
    fakeV2();
    const cg = openCgroup(root, 'r', {});
    cg.create();
    expect(() => cg.apply({ memory: { limit: 100, swap: 300 } })).toThrow(/swap accounting/);
    put(path.join(cg.dirs[0], 'memory.swap.max'), 'max');
    cg.apply({ memory: { limit: 100, swap: 300 } });
    expect(read(path.join(cg.dirs[0], 'memory.swap.max'))).toBe('200');
    cg.apply({ memory: { limit: 100, swap: -1 } });
    expect(read(path.join(cg.dirs[0], 'memory.swap.max'))).toBe('max');
  });

  it('reads the kernel counters: memory.events oom_kill, memory.peak, cpu.stat, pids.peak', () => {
    fakeV2();
    const cg = openCgroup(root, 'r', {});
    cg.create();
    const d = cg.dirs[0];
    put(path.join(d, 'memory.events'), 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n');
    put(path.join(d, 'memory.peak'), '67108864\n');
    put(path.join(d, 'cpu.stat'), 'usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\n');
    put(path.join(d, 'pids.peak'), '32\n');
    put(path.join(d, 'pids.events'), 'max 7\n');
    put(path.join(d, 'pids.current'), '3\n');
    expect(cg.stats()).toEqual({
      oomKills: 1, memoryLimitHits: 12, memoryPeakBytes: 67108864,
      cpuUserUs: 2000, cpuSystemUs: 1000, pidsPeak: 32, pidsLimitHits: 7,
    });
    expect(cg.pidsCurrent()).toBe(3);
  });

  it('a missing controller is an error before anything is created', () => {
    fakeV2('cpu io memory');
    const cg = openCgroup(root, 'r', {});
    expect(() => cg.create()).toThrow(RunFailure);
    expect(() => cg.create()).toThrow(/'pids' is not available/);
    expect(fs.existsSync(path.join(root, 'tini-ts'))).toBe(false);
  });

  it('remove() deletes the leaf and leaves a shared parent that is still in use', () => {
    fakeV2();
    const a = openCgroup(root, 'a', {});
    const b = openCgroup(root, 'b', {});
    a.create();
    b.create();
    expect(a.remove()).toBe(true);
    expect(fs.existsSync(a.dirs[0])).toBe(false);
    expect(fs.existsSync(b.dirs[0])).toBe(true);
  });
});

describe('cgroup v1 on a fake tree', () => {
  it('one directory per hierarchy, cpuset filled from the parent, v1 file names', () => {
    fakeV1();
    expect(detectVersion(root)).toBe(1);
    const limits = { memory: { limit: 64 << 20, reservation: 32 << 20, disableOOMKiller: true }, pids: { limit: 32 }, cpu: { quota: 20000, period: 100000, shares: 512, cpus: '1' } };
    const cg = openCgroup(root, 'run1', limits);
    expect(cg).toBeInstanceOf(CgroupV1);
    cg.create();
    cg.apply(limits);
    const dir = (c: string) => path.join(root, c, 'tini-ts', 'run1');
    expect(cg.dirs).toEqual(['memory', 'pids', 'cpu', 'cpuacct', 'cpuset'].map(dir));
    expect(read(path.join(dir('memory'), 'memory.limit_in_bytes'))).toBe(String(64 << 20));
    expect(read(path.join(dir('memory'), 'memory.soft_limit_in_bytes'))).toBe(String(32 << 20));
    expect(read(path.join(dir('memory'), 'memory.oom_control'))).toBe('1');
    expect(read(path.join(dir('pids'), 'pids.max'))).toBe('32');
    expect(read(path.join(dir('cpu'), 'cpu.cfs_period_us'))).toBe('100000');
    expect(read(path.join(dir('cpu'), 'cpu.cfs_quota_us'))).toBe('20000');
    expect(read(path.join(dir('cpu'), 'cpu.shares'))).toBe('512');
    expect(read(path.join(root, 'cpuset', 'tini-ts', 'cpuset.cpus'))).toBe('0-1');
    expect(read(path.join(root, 'cpuset', 'tini-ts', 'cpuset.mems'))).toBe('0');
    expect(read(path.join(dir('cpuset'), 'cpuset.mems'))).toBe('0');
    expect(read(path.join(dir('cpuset'), 'cpuset.cpus'))).toBe('1');
    expect(cg.procsFiles()).toHaveLength(5);
  });

  it('everyHierarchy (OCI containers): also name=systemd, other controllers and a hybrid host\'s v2 tree, each once; removed with the rest', () => {
    fakeV1(['memory', 'pids', 'cpu,cpuacct', 'net_cls,net_prio']);
    for (const c of ['cpu', 'cpuacct']) fs.symlinkSync('cpu,cpuacct', path.join(root, c));
    for (const c of ['net_cls', 'net_prio']) fs.symlinkSync('net_cls,net_prio', path.join(root, c));
    put(path.join(root, 'systemd', 'cgroup.procs'), '');
    put(path.join(root, 'unified', 'cgroup.procs'), '');
    put(path.join(root, 'unified', 'cgroup.controllers'), '');
    fs.mkdirSync(path.join(root, 'not-a-hierarchy'));
    const real = (d: string) => fs.realpathSync(path.join(root, d));
    expect(otherHierarchies(root)).toEqual(['net_cls,net_prio', 'systemd', 'unified'].map(real));
    const plain = openCgroup(root, 'r', {}, {}, 1, 'docker');
    expect(plain.dirs).toHaveLength(3); // memory, pids, cpu,cpuacct: `tini-ts run` stays in its caller's other hierarchies
    const cg = openCgroup(root, 'r', {}, { everyHierarchy: true }, 1, 'docker');
    cg.create();
    const dirs = ['memory', 'pids', 'cpu,cpuacct', 'net_cls,net_prio', 'systemd', 'unified'].map((c) => path.join(real(c), 'docker', 'r'));
    expect(cg.dirs).toEqual(dirs);
    for (const d of dirs) expect(fs.statSync(d).isDirectory(), d).toBe(true);
    expect(cg.remove()).toBe(true);
    for (const d of dirs) expect(fs.existsSync(d), d).toBe(false);
    for (const c of ['memory', 'systemd', 'unified']) expect(fs.existsSync(path.join(root, c, 'docker')), c).toBe(false);
  });

  it('co-mounted controllers (cpu,cpuacct) share one directory', () => {
    put(path.join(root, 'memory', 'cgroup.procs'), '');
    put(path.join(root, 'pids', 'cgroup.procs'), '');
    put(path.join(root, 'cpu,cpuacct', 'cgroup.procs'), '');
    fs.symlinkSync('cpu,cpuacct', path.join(root, 'cpu'));
    fs.symlinkSync('cpu,cpuacct', path.join(root, 'cpuacct'));
    const cg = openCgroup(root, 'r', {});
    cg.create();
    expect(cg.dirs).toHaveLength(3);
    expect(cg.dirs[2]).toBe(path.join(root, 'cpu,cpuacct', 'tini-ts', 'r'));
  });

  it('reads oom_kill from memory.oom_control, peak from max_usage_in_bytes, cpuacct in ns', () => {
    fakeV1();
    const cg = openCgroup(root, 'r', {});
    cg.create();
    const dir = (c: string) => path.join(root, c, 'tini-ts', 'r');
    put(path.join(dir('memory'), 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n');
    put(path.join(dir('memory'), 'memory.failcnt'), '40\n');
    put(path.join(dir('memory'), 'memory.max_usage_in_bytes'), '1000\n');
    put(path.join(dir('cpuacct'), 'cpuacct.usage_user'), '5000000\n');
    put(path.join(dir('cpuacct'), 'cpuacct.usage_sys'), '1000000\n');
    put(path.join(dir('pids'), 'pids.events'), 'max 3\n');
    expect(cg.stats()).toEqual({
      oomKills: 2, memoryLimitHits: 40, memoryPeakBytes: 1000,
      cpuUserUs: 5000, cpuSystemUs: 1000, pidsPeak: null, pidsLimitHits: 3,
    });
    fs.rmSync(path.join(dir('cpuacct'), 'cpuacct.usage_user'));
    put(path.join(dir('cpuacct'), 'cpuacct.stat'), 'user 150\nsystem 50\n');
    expect(cg.stats()).toMatchObject({ cpuUserUs: 1_500_000, cpuSystemUs: 500_000 });
  });

  it('--memory-swap needs memsw files', () => {
    fakeV1();
    const cg = openCgroup(root, 'r', {});
    cg.create();
    expect(() => cg.apply({ memory: { limit: 1, swap: 2 } })).toThrow(/swapaccount=1/);
  });

  it('an unmounted controller is named', () => {
    fakeV1(['memory', 'cpu', 'cpuacct']);
    expect(() => openCgroup(root, 'r', {}).create()).toThrow(/'pids' is not mounted/);
  });

  it('an existing cgroup of the same name is an error, not shared', () => {
    fakeV1();
    openCgroup(root, 'same', {}).create();
    expect(() => openCgroup(root, 'same', {}).create()).toThrow(/EEXIST/);
  });
});

describe('stale cgroups of dead launchers', () => {
  it('names carry the owner pid and start time', () => {
    expect(cgroupName(123, '456', 'abc')).toBe('123-456-abc');
    const alive = (pid: number, start: string) => pid === 123 && start === '456';
    expect(ownerAlive('123-456-abc', alive)).toBe(true);
    expect(ownerAlive('123-999-abc', alive)).toBe(false); // pid reused by another process
    expect(ownerAlive('not-ours', alive)).toBe(true);
  });

  it('removes empty cgroups of dead owners only, in every hierarchy', () => {
    fakeV1();
    for (const n of ['1-1-dead', '2-2-alive', '3-3-busy']) openCgroup(root, n, {}).create();
    put(path.join(root, 'pids', 'tini-ts', '3-3-busy', 'cgroup.procs'), '4242\n');
    const r = sweepStale(root, (pid) => pid === 2, undefined, levels);
    expect(r.removed.filter((d) => d.includes('1-1-dead'))).toHaveLength(4);
    expect(r.busy).toEqual([path.join(root, 'pids', 'tini-ts', '3-3-busy')]);
    expect(fs.existsSync(path.join(root, 'memory', 'tini-ts', '2-2-alive'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'memory', 'tini-ts', '1-1-dead'))).toBe(false);
  });
});

describe('--cgroup-parent: another, possibly nested, parent', () => {
  it('v2: the cgroup is made under it, with the controllers enabled at every level', () => {
    fakeV2();
    const cg = openCgroup(root, 'r', { pids: { limit: 8 } }, {}, 2, 'ci/job-1', levels);
    cg.create();
    expect(cg.dirs).toEqual([path.join(root, 'ci', 'job-1', 'r')]);
    for (const level of ['', 'ci', 'ci/job-1']) expect(read(path.join(root, level, 'cgroup.subtree_control')), level).toBe('+memory +pids +cpu');
    expect(fs.existsSync(path.join(root, 'tini-ts'))).toBe(false);
  });

  it('v1: under it in every hierarchy; a cpuset gets cpus and mems at every level', () => {
    fakeV1();
    const cg = openCgroup(root, 'r', { cpu: { cpus: '1' } }, {}, 1, 'ci/job-1', levels);
    cg.create();
    cg.apply({ cpu: { cpus: '1' } });
    expect(cg.dirs).toContain(path.join(root, 'memory', 'ci', 'job-1', 'r'));
    expect(cg.dirs).toContain(path.join(root, 'cpuset', 'ci', 'job-1', 'r'));
    for (const level of ['ci', 'ci/job-1']) {
      expect(read(path.join(root, 'cpuset', level, 'cpuset.cpus')), level).toBe('0-1');
      expect(read(path.join(root, 'cpuset', level, 'cpuset.mems')), level).toBe('0');
    }
    expect(read(path.join(root, 'cpuset', 'ci', 'job-1', 'r', 'cpuset.cpus'))).toBe('1');
  });

  it('removal takes the parent levels it made once empty, innermost first, and never what existed before', () => {
    fakeV1(['memory', 'pids', 'cpu', 'cpuacct']);
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) fs.mkdirSync(path.join(root, c, 'ci'));
    const a = openCgroup(root, 'a', {}, {}, 1, 'ci/job-1', levels);
    const b = openCgroup(root, 'b', {}, {}, 1, 'ci/job-1', levels);
    for (const cg of [a, b]) cg.create();
    expect(a.remove()).toBe(true);
    expect(fs.existsSync(path.join(root, 'memory', 'ci', 'job-1', 'b'))).toBe(true); // b still there: the parent stays
    expect(b.remove()).toBe(true);
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) {
      // job-1 was made by a's creation: a saw it in use and left it; b did not make it.
      expect(fs.existsSync(path.join(root, c, 'ci'))).toBe(true); // the user's: kept
    }
    const c1 = openCgroup(root, 'c', {}, {}, 1, 'ci/job-2', levels);
    c1.create();
    expect(c1.remove()).toBe(true);
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) {
      expect(fs.existsSync(path.join(root, c, 'ci', 'job-2'))).toBe(false); // made here, left empty: removed
      expect(fs.existsSync(path.join(root, c, 'ci'))).toBe(true);
    }
    const own1 = openCgroup(root, 'x', {}, {}, 1);
    const own2 = openCgroup(root, 'y', {}, {}, 1);
    own1.create();
    own2.create();
    expect(own1.remove()).toBe(true);
    expect(fs.existsSync(path.join(root, 'memory', 'tini-ts', 'y'))).toBe(true);
    expect(own2.remove()).toBe(true);
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) expect(fs.existsSync(path.join(root, c, 'tini-ts'))).toBe(false); // tini-ts's own
  });

  it('the stale sweep looks only in its own parent', () => {
    fakeV1(['memory', 'pids', 'cpu', 'cpuacct']);
    openCgroup(root, '1-1-dead', {}).create();
    openCgroup(root, '2-2-dead', {}, {}, 1, 'ci/job-1', levels).create();
    const r = sweepStale(root, () => false, 'ci/job-1', levels);
    const hier = ['cpu', 'cpuacct', 'memory', 'pids'];
    // its cgroups, then the levels its launcher made (ci and ci/job-1), which are empty now
    expect(r.removed.sort()).toEqual(
      [...hier.map((c) => path.join(root, c, 'ci', 'job-1', '2-2-dead')), ...hier.flatMap((c) => [path.join(root, c, 'ci'), path.join(root, c, 'ci', 'job-1')])].sort(),
    );
    expect(fs.existsSync(path.join(root, 'memory', 'tini-ts', '1-1-dead'))).toBe(true);
    expect(sweepStale(root, () => false, undefined, levels).removed).toHaveLength(4);
  });
});

/** The launchers with a record of levels they made (the directory goes when the last record does). */
const recorded = () => (fs.existsSync(levels) ? fs.readdirSync(levels) : []);

describe('--cgroup-parent levels: removed on every failure path, and after a launcher that died', () => {
  it('v2: a level made under a parent that refuses controllers (EBUSY) is removed again, and the error names it', () => {
    fakeV2();
    fs.mkdirSync(path.join(root, 'busy.scope'));
    // the kernel refuses +controllers in a cgroup that holds processes: a directory stands in for that file
    fs.mkdirSync(path.join(root, 'busy.scope', 'cgroup.subtree_control'));
    const cg = openCgroup(root, '1-1-r', {}, {}, 2, 'busy.scope/sub', levels);
    expect(() => cg.create()).toThrow(/cgroup.subtree_control of .*busy.scope/);
    expect(fs.existsSync(path.join(root, 'busy.scope', 'sub'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'busy.scope'))).toBe(true); // the user's
    expect(recorded()).toEqual([]); // nothing left recorded either
    expect(cg.remove()).toBe(true);
  });

  it('v1: the levels a failing hierarchy made are removed, and remove() takes those of the others', () => {
    fakeV1(['memory', 'pids', 'cpu', 'cpuacct']);
    fs.mkdirSync(path.join(root, 'pids', 'ci'));
    fs.writeFileSync(path.join(root, 'pids', 'ci', 'job-1'), 'a file where the level should go');
    const cg = openCgroup(root, '1-1-r', {}, {}, 1, 'ci/job-1', levels);
    expect(() => cg.create()).toThrow(RunFailure);
    expect(cg.remove()).toBe(true);
    for (const c of ['memory', 'cpu', 'cpuacct']) expect(fs.existsSync(path.join(root, c, 'ci')), c).toBe(false);
    expect(fs.readdirSync(path.join(root, 'pids', 'ci'))).toEqual(['job-1']); // the user's
    expect(recorded()).toEqual([]);
  });

  it('the levels are recorded while the cgroup lives, and the record goes with them', () => {
    fakeV2();
    fs.mkdirSync(path.join(root, 'user'));
    const cg = openCgroup(root, '1-1-r', {}, {}, 2, 'user/a/b', levels);
    cg.create();
    const ino = (d: string) => String(fs.statSync(path.join(root, d), { bigint: true }).ino);
    expect(fs.readFileSync(path.join(levels, '1-1-r'), 'utf8')).toBe(`${ino('user/a')} ${path.join(root, 'user/a')}\n${ino('user/a/b')} ${path.join(root, 'user/a/b')}\n`);
    expect(cg.remove()).toBe(true);
    expect(fs.existsSync(path.join(root, 'user', 'a'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'user'))).toBe(true);
    expect(recorded()).toEqual([]);
  });

  it('a SIGKILLed launcher\'s levels: swept once empty and their owner dead, never a level the user made', () => {
    fakeV2();
    fs.mkdirSync(path.join(root, 'user'));
    openCgroup(root, '7-7-dead', {}, {}, 2, 'user/a/b', levels).create(); // never removed: the launcher was killed
    const live = openCgroup(root, '8-8-live', {}, {}, 2, 'user/a/b', levels);
    live.create(); // made nothing: the levels existed
    expect(recorded()).toEqual(['7-7-dead']);
    const alive = (pid: number) => pid === 8;
    // the dead one's cgroup goes; its levels stay while the live one's cgroup is inside
    expect(sweepStale(root, alive, 'user/a/b', levels).removed).toEqual([path.join(root, 'user/a/b/7-7-dead')]);
    expect(fs.existsSync(path.join(root, 'user/a/b'))).toBe(true);
    expect(recorded()).toEqual(['7-7-dead']);
    expect(live.remove()).toBe(true); // not its levels: left
    expect(fs.existsSync(path.join(root, 'user/a/b'))).toBe(true);
    expect(sweepStale(root, alive, 'user/a/b', levels).removed.sort()).toEqual([path.join(root, 'user/a'), path.join(root, 'user/a/b')]);
    expect(fs.existsSync(path.join(root, 'user'))).toBe(true);
    expect(recorded()).toEqual([]);
  });

  it('a cgroup not named as a launcher names its own (a container id) leaves no record: its owner removes it', () => {
    fakeV2();
    const cg = openCgroup(root, 'ok-0', {}, {}, 2, 'a/b', levels);
    cg.create();
    expect(recorded()).toEqual([]);
    expect(cg.remove()).toBe(true);
    expect(fs.existsSync(path.join(root, 'a'))).toBe(false);
  });

  it('a recorded level that is no longer the one made (another mount namespace, or made again since) is never removed', () => {
    fakeV2();
    openCgroup(root, '7-7-dead', {}, {}, 2, 'a/b', levels).create();
    // the user's now, same paths (the old ones kept aside so that no inode number is reused)
    fs.renameSync(path.join(root, 'a'), path.join(root, 'old'));
    fs.mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
    expect(sweepStale(root, () => false, 'a/b', levels).removed).toEqual([]);
    expect(fs.existsSync(path.join(root, 'a', 'b'))).toBe(true);
    expect(recorded()).toEqual([]); // nothing of it left to sweep
  });
});

describe('--cpu-shares on v2: cpu.weight exactly as runc converts (integer division)', () => {
  it.each([
    [2, 1], [3, 1], [256, 10], [512, 20], [1024, 39], [2048, 79], [262144, 10000],
  ])('%i shares -> weight %i', (shares, weight) => {
    expect(sharesToWeight(shares)).toBe(weight);
  });

  it('every value from 2 to 262144 is 1 + floor((shares - 2) * 9999 / 262142), within 1..10000', () => {
    for (let s = 2; s <= 262144; s++) {
      const w = sharesToWeight(s);
      if (w !== 1 + Math.trunc(((s - 2) * 9999) / 262142) || w < 1 || w > 10000) throw new Error(`${s} -> ${w}`);
    }
  });
});
