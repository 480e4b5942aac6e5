import { describe, expect, it } from 'vitest';
import { judge } from '../../src/check/verdict.js';
import { junit, json, table } from '../../src/check/report.js';
import { parseCheckArgs } from '../../src/check/main.js';
import type { RunResult } from '../../src/check/scenario.js';

const T = 1_000_000_000;
const start = { event: 'start', pid: 1, mono_ns: 0 };
const spawn = (fg = false) => ({ event: 'spawn', pid: 7, pgid: 7, argv: ['x'], foreground_tty: fg, mono_ns: 1 });
const reap = (mono: number, f: Record<string, unknown>) => ({ event: 'reap', pid: 7, main: true, comm: 'x', exit_code: null, signo: null, core_dumped: false, mono_ns: mono, ...f });
const exit = (code: number, left: Record<string, unknown>[] = []) => ({ event: 'exit', code, left, left_count: left.length, dropped: 0, mono_ns: 9 * T });
const fwd = (signo: number, mono: number) => ({ event: 'forward', signo, target: 'group', id: 7, result: 'ok', mono_ns: mono });
const sig = (signo: number, mono: number) => ({ event: 'signal', signo, mono_ns: mono });

function run(scenario: RunResult['scenario'], events: Record<string, any>[], over: Partial<RunResult> = {}): RunResult {
  return {
    scenario, mode: 'pid1', tty: scenario === 'ctrl-c', events, signalAtMs: 1000, signalMono: BigInt(T), zombies: [], maxDescendants: 1,
    launcherStatus: 0, timedOut: false, ready: true, output: '', error: null, ...over,
  };
}

describe('check verdicts', () => {
  it('docker-stop: exits by itself / needs SIGKILL', () => {
    const good = judge(run('docker-stop', [start, spawn(), sig(15, T), fwd(15, T + 1), reap(T + 0.3 * T, { exit_code: 0 }), exit(0)]), null, false);
    expect(good.verdict).toBe('healthy');
    expect(good.summary).toBe('stopped by itself in 0.30 s (exited 0), no SIGKILL');
    const bad = judge(run('docker-stop', [start, spawn(), sig(15, T), fwd(15, T + 1), { event: 'escalate', target: 'group', id: 7, mono_ns: 11 * T }, reap(11 * T, { signo: 9, signal_name: 'SIGKILL' }), exit(137)]), null, false);
    expect(bad.verdict).toBe('unhealthy');
    expect(bad.summary).toMatch(/SIGKILL was needed/);
    expect(bad.evidence.sigkill_needed).toBe(true);
  });

  it('ctrl-c: an extra SIGINT from the init, or a survivor, is unhealthy', () => {
    expect(judge(run('ctrl-c', [start, spawn(true), reap(T + 5, { signo: 2, signal_name: 'SIGINT' }), exit(130)]), null, false).verdict).toBe('healthy');
    const twice = judge(run('ctrl-c', [start, spawn(true), sig(2, T), fwd(2, T), reap(T + 5, { exit_code: 0 }), exit(0)]), null, false);
    expect(twice.summary).toBe('the program got SIGINT 2 times: the init forwarded 1 more');
    const left = judge(run('ctrl-c', [start, spawn(true), reap(T + 5, { signo: 2 }), exit(130, [{ pid: 8, ppid: 1, comm: 'sleep', state: 'S' }])]), null, false);
    expect(left.summary).toBe('1 descendant(s) still there when the program ended: sleep (pid 8, state S)');
    // A zombie the init was about to reap is not left behind.
    expect(judge(run('ctrl-c', [start, spawn(true), reap(T + 5, { signo: 2 }), exit(130, [{ pid: 8, ppid: 1, comm: 'sh', state: 'Z' }])]), null, false).verdict).toBe('healthy');
  });

  it('orphans: lasting zombies of a living parent', () => {
    const z = { pid: 99, nspid: 9, comm: 'python3', ppid: 98, parentComm: 'python3', seenMs: 1500 };
    const r = judge(run('orphans', [start, spawn(), reap(2 * T, { exit_code: 0 }), exit(0)], { zombies: [z, { ...z, pid: 100 }, { ...z, pid: 101, seenMs: 100 }] }), null, false);
    expect(r.summary).toBe('2 zombie(s) left unreaped by a living parent: 2 of python3 (pid 98)');
  });

  it('sighup: survived, or not', () => {
    expect(judge(run('sighup', [start, spawn(), sig(1, T), fwd(1, T), fwd(15, 3 * T), reap(3 * T + 5, { exit_code: 0 }), exit(0)]), 1, false).verdict).toBe('healthy');
    const died = judge(run('sighup', [start, spawn(), sig(1, T), fwd(1, T), reap(T + 5, { signo: 1, signal_name: 'SIGHUP' }), exit(129)]), 1, false);
    expect(died.summary).toBe('the program did not survive SIGHUP: killed by SIGHUP');
  });

  it('a program that ends before it is ready, or cannot start', () => {
    const early = judge(run('docker-stop', [start, spawn(), reap(5, { exit_code: 1 }), exit(1)], { ready: false, output: 'Error: boom\n' }), null, false);
    expect(early.problems).toEqual(['the program ended before it was ready (exited 1)', 'its output ended with: Error: boom']);
    const nx = judge(run('docker-stop', [start, { event: 'exit', code: 127, errno: 'ENOENT', left: [], left_count: 0 }], { ready: false }), null, false);
    expect(nx.summary).toBe('the program could not be started (ENOENT)');
  });
});

describe('check reports', () => {
  const reports = [
    judge(run('docker-stop', [start, spawn(), fwd(15, T), reap(2 * T, { exit_code: 0 }), exit(0)]), null, false),
    judge(run('ctrl-c', [start, spawn(true), sig(2, T), fwd(2, T), reap(T + 5, { exit_code: 0 }), exit(0)]), null, false),
  ];
  it('JUnit XML: a failure per unhealthy scenario, escaped', () => {
    const x = junit(['a&b', '<c>'], reports, () => 1.5);
    expect(x).toContain('<testsuites name="tini-ts check a&amp;b &lt;c&gt;" tests="2" failures="1" skipped="0" time="3.000">');
    expect(x).toContain('<testcase classname="tini-ts.check" name="ctrl-c" time="1.500">\n      <failure message="the program got SIGINT 2 times: the init forwarded 1 more">');
    expect(x.match(/<failure /g)).toHaveLength(1);
  });
  it('JSON and table', () => {
    const j = JSON.parse(json(['p'], reports));
    expect(j).toMatchObject({ version: 1, healthy: false, scenarios: [{ name: 'docker-stop', verdict: 'healthy' }, { name: 'ctrl-c', verdict: 'unhealthy' }] });
    expect(j.scenarios[0].events.length).toBe(5);
    const t = table(['p'], reports);
    expect(t).toMatch(/^docker-stop\s+PASS\s+stopped by itself in 1\.00 s/m);
    expect(t).toMatch(/^ctrl-c\s+FAIL\s+the program got SIGINT 2 times/m);
    expect(t).toContain('1 of 2 scenario(s) unhealthy');
  });
  it('parses its arguments', () => {
    expect(parseCheckArgs(['--help'])).toBe('help');
    const p = parseCheckArgs(['--grace=3', '--ready-file', 'r', '--signal', 'USR1', '--signal', 'QUIT', '--signal', 'HUP=exit', '--', 'prog', '-x']);
    if (p === 'help') throw new Error('help');
    expect(p.opts.graceMs).toBe(3000);
    expect(p.opts.program).toEqual(['prog', '-x']);
    expect(p.scenarios.map((s) => [s.name, s.signal, s.expectExit])).toEqual([
      ['docker-stop', null, false], ['ctrl-c', null, false], ['orphans', null, false],
      ['signal:SIGUSR1', 10, false], ['signal:SIGQUIT', 3, true], ['signal:SIGHUP', 1, true],
    ]);
  });
});

describe('staged-stop verdicts', () => {
  const stage = (st: 'others' | 'kill', procs: { pid: number; comm: string }[], mono: number) => ({ event: 'stop-stage', stage: st, signo: st === 'kill' ? 9 : 15, procs: procs.map((p) => ({ ...p, result: 'ok' })), count: procs.length, mono_ns: mono });
  const exitStop = (code: number, afterMs: number) => ({ ...exit(code), stop: { after_ms: afterMs, sigkill: false } });

  it('healthy when the daemons stop after their own SIGTERM, and names them', () => {
    const r = judge(run('staged-stop', [start, spawn(), sig(15, T), fwd(15, T + 1), reap(T + 0.1 * T, { exit_code: 0 }), stage('others', [{ pid: 20, comm: 'slowd' }], T + 0.1 * T), exitStop(0, 400)]), null, false);
    expect(r.verdict).toBe('healthy');
    expect(r.summary).toBe('everything stopped by itself in 0.40 s: the program (exited 0), then 1 process(es) outside its group (slowd), no SIGKILL');
    expect(r.evidence).toMatchObject({ outside_the_group: 1, outside_the_group_stopped: 1 });
  });

  it('unhealthy when one outside the group needed SIGKILL at the deadline', () => {
    const r = judge(run('staged-stop', [start, spawn(), sig(15, T), fwd(15, T + 1), reap(T + 0.1 * T, { exit_code: 0 }), stage('others', [{ pid: 20, comm: 'stubd' }, { pid: 21, comm: 'slowd' }], T), stage('kill', [{ pid: 20, comm: 'stubd' }], 3 * T), exitStop(0, 2000)]), null, false);
    expect(r.verdict).toBe('unhealthy');
    expect(r.summary).toBe("1 process(es) outside the program's group did not stop within the grace period after their SIGTERM: stubd (pid 20)");
    expect(r.evidence).toMatchObject({ outside_the_group: 2, outside_the_group_stopped: 1 });
  });

  it('a tree with nothing outside the group is judged as docker-stop would be', () => {
    const r = judge(run('staged-stop', [start, spawn(), sig(15, T), fwd(15, T + 1), reap(T + 0.2 * T, { exit_code: 0 }), exitStop(0, 200)]), null, false);
    expect(r.summary).toBe("stopped by itself in 0.20 s (exited 0); nothing had left the program's group");
  });
});
