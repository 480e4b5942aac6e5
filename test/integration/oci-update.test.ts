/**
 * `update`: a running container's cgroup gets new limits (cgroup v1 here),
 * beside runc update on the same bundle; LinuxResources on stdin as
 * containerd sends it; bad values are refused in one line, changing nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { expectNothingLeft, hasRunc, ociRoots, runtimeCall } from './oci-helpers.js';
import { canContainer, CONTAINER_NEEDS, makeFixture, makeRuncBundle, type Fixture } from './container-helpers.js';
import { CG, CG_VERSION, waitFor } from './run-helpers.js';

const FILES: Record<string, string[]> = {
  memory: ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes', 'memory.soft_limit_in_bytes'],
  cpu: ['cpu.cfs_quota_us', 'cpu.cfs_period_us', 'cpu.shares'],
  cpuset: ['cpuset.cpus', 'cpuset.mems'],
  pids: ['pids.max'],
};

describe.skipIf(unmet(canContainer && hasRunc && CG_VERSION === 1 && fs.existsSync(`${CG}/memory/memory.memsw.limit_in_bytes`), `${CONTAINER_NEEDS}, runc and cgroup v1 with swap accounting`))('OCI update (cgroup v1)', () => {
  let f: Fixture;
  let bundle: string;
  let roots: { tini: string; runc: string };
  const ids: string[] = [];
  const tini = (args: string[], input?: string) => runtimeCall('tini', f.dir, roots.tini, args, { input });
  const runc = (args: string[], input?: string) => runtimeCall('runc', f.dir, roots.runc, args, { input });
  /** A running container (sleep); returns its init's pid. */
  const running = (rt: typeof tini, c: string): number => {
    ids.push(c);
    const pidFile = path.join(f.dir, `${c}.pid`);
    expect(rt(['create', '--bundle', bundle, '--pid-file', pidFile, c]).status).toBe(0);
    expect(rt(['start', c]).status).toBe(0);
    return Number(fs.readFileSync(pidFile, 'utf8'));
  };
  /** The values of the container's cgroup files, found through /proc/PID/cgroup as engines find them. */
  const values = (pid: number): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n')) {
      const [, ctrls, p] = line.split(':');
      for (const c of ctrls.split(',')) {
        for (const file of FILES[c] ?? []) out[file] = fs.readFileSync(path.join(CG, ctrls, p, file), 'utf8').trim();
      }
    }
    return out;
  };

  beforeAll(() => {
    f = makeFixture();
    bundle = makeRuncBundle(f, (config) => (config.process.args = ['sleep', '60']));
    roots = ociRoots(f.dir);
  });
  afterAll(() => {
    expectNothingLeft(roots, () => f?.cleanup(), ids);
  });

  it('the flags change the cgroup files as runc update changes them', () => {
    const flags = ['--memory', '64m', '--memory-swap', '128m', '--memory-reservation', '32m', '--cpu-quota', '20000', '--cpu-period', '50000', '--cpu-share', '512', '--pids-limit', '50', '--cpuset-cpus', '1', '--cpuset-mems', '0'];
    const seen: Record<string, Record<string, string>> = {};
    for (const [who, rt] of Object.entries({ tini, runc })) {
      const c = `upd-${who}-${process.pid}`;
      const pid = running(rt, c);
      const r = rt(['update', ...flags, c]);
      expect(r.status, `${who}: ${r.stderr}`).toBe(0);
      seen[who] = values(pid);
    }
    expect(seen.tini).toEqual({
      'memory.limit_in_bytes': String(64 << 20),
      'memory.memsw.limit_in_bytes': String(128 << 20),
      'memory.soft_limit_in_bytes': String(32 << 20),
      'cpu.cfs_quota_us': '20000',
      'cpu.cfs_period_us': '50000',
      'cpu.shares': '512',
      'pids.max': '50',
      'cpuset.cpus': '1',
      'cpuset.mems': '0',
    });
    expect(seen.tini).toEqual(seen.runc);
    // -1 removes the limits again, as with runc
    const unlimited: Record<string, Record<string, string>> = {};
    for (const [who, rt] of Object.entries({ tini, runc })) {
      const c = `upd-${who}-${process.pid}`;
      const r = rt(['update', '--memory', '-1', '--memory-swap', '-1', '--memory-reservation', '-1', '--cpu-quota', '-1', '--pids-limit', '-1', c]);
      expect(r.status, `${who}: ${r.stderr}`).toBe(0);
      unlimited[who] = values(Number(JSON.parse(rt(['state', c]).stdout).pid));
    }
    expect(unlimited.tini).toMatchObject({ 'memory.limit_in_bytes': '9223372036854771712', 'memory.memsw.limit_in_bytes': '9223372036854771712', 'memory.soft_limit_in_bytes': '9223372036854771712', 'cpu.cfs_quota_us': '-1', 'pids.max': 'max' });
    expect(unlimited.tini).toEqual(unlimited.runc);
  });

  it('--resources - reads LinuxResources from stdin (containerd); zero means unchanged; the period stays when only the quota changes', () => {
    const c = `upd-json-${process.pid}`;
    const pid = running(tini, c);
    expect(tini(['update', '--cpu-quota', '30000', '--cpu-period', '60000', c]).status).toBe(0);
    const before = values(pid);
    const r = tini(['update', '--resources', '-', c], JSON.stringify({ memory: { limit: 96 << 20, swap: 0 }, pids: { limit: 0 }, cpu: { shares: 256, quota: 12000 } }));
    expect(r.status, r.stderr).toBe(0);
    expect(values(pid)).toEqual({ ...before, 'memory.limit_in_bytes': String(96 << 20), 'cpu.shares': '256', 'cpu.cfs_quota_us': '12000', 'cpu.cfs_period_us': '60000' });
  });

  it('bad values: one line naming the problem, exit 1, nothing changed; a stopped container cannot be updated', async () => {
    const c = `upd-bad-${process.pid}`;
    const pid = running(tini, c);
    const before = values(pid);
    const cases: [string[], string | undefined, string][] = [
      [['--memory', 'lots'], undefined, "update: invalid value for --memory: 'lots'"],
      [['--memory', '1m'], undefined, 'update: resources.memory.limit: at least 16 MiB (the init shares the cgroup)'],
      [['--pids-limit', '40', '--cpuset-cpus', '64'], undefined, 'update: resources.cpu.cpus: CPU 64 does not exist'],
      [['--memory-swap', '128m'], undefined, 'update: resources.memory.swap: needs resources.memory.limit'],
      [['--cpu-period', '50000'], undefined, 'update: resources.cpu.period: needs resources.cpu.quota in the same update'],
      [['--resources', '-'], '{"memory": {"limit": 1', 'update: --resources: not valid JSON at line 1 column'],
      [['--resources', '-'], '{"pids": {"limit": "many"}}', 'update: resources.pids.limit: must be an integer >= -1'],
      [['--resources', '/nonexistent.json'], undefined, 'update: cannot read /nonexistent.json: ENOENT'],
    ];
    for (const [args, input, message] of cases) {
      const r = tini(['update', ...args, c], input);
      expect(r.status, message).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim().startsWith(message), `${r.stderr} vs ${message}`).toBe(true);
      expect(values(pid), message).toEqual(before);
    }
    expect(tini(['kill', c, 'KILL']).status).toBe(0);
    expect(await waitFor(() => JSON.parse(tini(['state', c]).stdout).status === 'stopped', 10_000)).toBe(true);
    expect(tini(['update', '--pids-limit', '9', c]).stderr.trim()).toBe('container not running');
    expect(tini(['update', '--pids-limit', '9', 'no-such-container']).stderr.trim()).toBe('container does not exist');
  });
});
