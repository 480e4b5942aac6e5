/** tini-ts run with real cgroup limits (v1 on the host, v2 in the VM stage): OOM, fork bomb, CPU quota, and the report. */
import { describe, expect, it } from 'vitest';
import { canRun, CG_VERSION, RUN_NEEDS, hasSyncReturn, processesWith, readReport, run, tmpFile, expectNothingLeftBehind } from './run-helpers.js';
import { unmet } from '../helpers/prereq.js';

describe.skipIf(unmet(canRun, RUN_NEEDS))('tini-ts run: cgroup limits (real)', () => {
  expectNothingLeftBehind();

  it('without a root filesystem the workload still sees its own cgroup at /sys/fs/cgroup, limits included, and no other', () => {
    const probe = CG_VERSION === 2 ? 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max; ls /sys/fs/cgroup | grep -c "^tini-ts$"' : 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max; ls /sys/fs/cgroup | grep -c "^freezer$"';
    const r = run(['-q', '-m', '64m', '--pids', '50', '--', 'sh', '-c', probe]);
    expect(r.status, hasSyncReturn(r)).toBe(1); // grep -c finds nothing of the host's tree
    const [memory, pids, others] = r.stdout.trim().split('\n');
    expect(Number(memory)).toBe(64 << 20);
    expect(Number(pids)).toBeGreaterThanOrEqual(50); // plus the init's own tasks
    expect(others).toBe('0');
  });

  it('a memory hog under --memory 64m is OOM-killed, and the report says so from the kernel counters', () => {
    const report = tmpFile('oom.json');
    const hog = 'x=[]\nwhile True: x.append(bytearray(1 << 20))';
    const r = run(['--memory', '64m', '--report', report, '--', 'python3', '-c', hog]);
    expect(r.status, hasSyncReturn(r)).toBe(137);
    const j = readReport(report);
    expect(j).toMatchObject({ exit_code: 137, signal: 'SIGKILL', oom_killed: true, timed_out: false, limits: { memory: { limit: 64 << 20 } } });
    expect(j.oom_kills).toBeGreaterThanOrEqual(1);
    expect(j.memory_peak_bytes).toBeGreaterThan(60 << 20);
    expect(j.memory_peak_bytes).toBeLessThanOrEqual(64 << 20);
    expect(r.stderr).toMatch(/killed by SIGKILL.*out of memory/);
  });

  it('a SIGKILL that is not an OOM kill is not reported as one', () => {
    const report = tmpFile('kill.json');
    const r = run(['--memory', '64m', '--report', report, '--', 'sh', '-c', 'kill -9 $$']);
    expect(r.status).toBe(137);
    expect(readReport(report)).toMatchObject({ signal: 'SIGKILL', oom_killed: false });
  });

  it('a fork bomb under --pids 32 is contained, reported, and entirely killed', () => {
    const marker = `tini-ts-bomb-${process.pid}-${Date.now()}`;
    const bomb = [
      'import os, time, sys',
      'while True:',
      '  try:',
      '    if os.fork() == 0:',
      '      time.sleep(1000); os._exit(0)',
      '  except OSError:',
      '    time.sleep(0.005)',
    ].join('\n');
    const report = tmpFile('bomb.json');
    const r = run(['--pids', '32', '--timeout', '2s', '--grace', '500ms', '--report', report, '--', 'python3', '-c', bomb, marker]);
    const j = readReport(report);
    expect(j, hasSyncReturn(r)).toMatchObject({ timed_out: true, limits: { pids: { limit: 32 } }, pids_peak: 32 });
    expect(j.pids_limit_hits).toBeGreaterThan(0);
    expect([137, 143]).toContain(r.status);
    expect(r.stderr).toMatch(/refused by the pids limit/);
    expect(processesWith(marker)).toEqual([]);
  });

  it('--cpus 0.2 keeps a busy loop near 20% of one core', () => {
    const report = tmpFile('cpu.json');
    const r = run(['--cpus', '0.2', '--timeout', '3s', '--report', report, '--', 'sh', '-c', 'while :; do :; done']);
    expect(r.status, hasSyncReturn(r)).toBe(143);
    const j = readReport(report) as { cpu_user_seconds: number; cpu_system_seconds: number; wall_seconds: number };
    const share = (j.cpu_user_seconds + j.cpu_system_seconds) / j.wall_seconds;
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.3);
  });

  it('the report carries exit code, times, peaks and the limits applied', () => {
    const report = tmpFile('ok.json');
    const r = run(['-m', '128m', '--pids', '100', '--cpu-shares', '512', '--cpuset-cpus', '0', '--report', report, '-q', '--', 'sh', '-c', 'sleep 0.2; exit 3']);
    expect(r.status).toBe(3);
    expect(r.stderr).toBe(''); // -q
    const j = readReport(report);
    expect(j).toMatchObject({
      exit_code: 3, signal: null, oom_killed: false, timed_out: false, error: null,
      limits: { memory: { limit: 128 << 20 }, pids: { limit: 100 }, cpu: { shares: 512, cpus: '0' } },
      cgroup: { version: CG_VERSION }, pids_peak_source: 'pids.peak',
    });
    expect(j.wall_seconds).toBeGreaterThan(0.2);
    expect(j.pids_peak).toBeGreaterThanOrEqual(2); // sh and sleep; the init's own threads are not counted
    expect(j.pids_peak).toBeLessThan(5);
  });
});
