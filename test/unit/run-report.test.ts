import { describe, expect, it } from 'vitest';
import { buildReport, formatReport, type Facts } from '../../src/runtime/report.js';
import { exitedStatus, signaledStatus } from '../../src/libc/types.js';

const base: Facts = {
  status: exitedStatus(0), execError: null, error: null, timedOut: false, wallMs: 1234.5,
  stats: { oomKills: 0, memoryLimitHits: 0, memoryPeakBytes: 1 << 20, cpuUserUs: 1500, cpuSystemUs: 500, pidsPeak: 3, pidsLimitHits: 0 },
  sampledPidsPeak: 2, limits: { memory: { limit: 64 << 20 } }, cgroup: { version: 1, name: 'x' }, namespaces: ['pid'],
};

describe('run report', () => {
  it('an exit code is the program’s', () => {
    const r = buildReport({ ...base, status: exitedStatus(3) });
    expect(r).toMatchObject({ exit_code: 3, signal: null, oom_killed: false, wall_seconds: 1.235, cpu_user_seconds: 0.002, pids_peak: 3, pids_peak_source: 'pids.peak' });
    expect(formatReport(r)).toMatch(/^tini-ts run: exited with code 3; wall 1\.235s, .*peak memory 1\.0 MiB, max 3 tasks\n$/);
  });

  it('a signal is 128+N and named; oom_killed comes from the kernel counter, not from 137', () => {
    const killed = buildReport({ ...base, status: signaledStatus(9) });
    expect(killed).toMatchObject({ exit_code: 137, signal: 'SIGKILL', oom_killed: false });
    const oom = buildReport({ ...base, status: signaledStatus(9), stats: { ...base.stats!, oomKills: 1 } });
    expect(oom.oom_killed).toBe(true);
    expect(formatReport(oom)).toMatch(/killed by SIGKILL \(exit 137\) \(out of memory/);
  });

  it('falls back to the sampled task peak', () => {
    const r = buildReport({ ...base, stats: { ...base.stats!, pidsPeak: null } });
    expect(r).toMatchObject({ pids_peak: 2, pids_peak_source: 'sampled' });
  });

  it('launcher failures are 125, exec failures 126/127', () => {
    expect(buildReport({ ...base, error: 'boom' }).exit_code).toBe(125);
    expect(buildReport({ ...base, status: null, execError: { code: 'ENOENT', exitCode: 127 } })).toMatchObject({ exit_code: 127, exec_error: 'ENOENT' });
  });
});
