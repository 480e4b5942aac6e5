/**
 * tini-ts run's lifecycle: --timeout and the grace sequence, signals to the
 * launcher, a SIGKILLed launcher, bad input. After each test nothing of it
 * remains: no cgroup, no mount, no process.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, canRun, RUN_NEEDS, TIMEOUT, hasSyncReturn, makeParent, parentDir, parentDirs, PARENT, processesWith, readReport, run, runArgs, start, tmpFile, waitFor, expectNothingLeftBehind } from './run-helpers.js';
import { unmet } from '../helpers/prereq.js';
import { buildInfo, stagePublic } from '../helpers/proc.js';

const marker = () => `tini-ts-life-${process.pid}-${Math.random().toString(36).slice(2)}`;

describe.skipIf(unmet(canRun, RUN_NEEDS))('tini-ts run: lifecycle', () => {
  expectNothingLeftBehind();

  it('--timeout sends SIGTERM, and the program exits in its own way', () => {
    const report = tmpFile('t.json');
    const r = run(['--timeout', TIMEOUT, '--report', report, '--', 'sh', '-c', 'trap "echo got TERM; exit 42" TERM; sleep 100 & wait']);
    expect(r.status, hasSyncReturn(r)).toBe(42);
    expect(r.stdout).toContain('got TERM');
    expect(readReport(report)).toMatchObject({ timed_out: true, exit_code: 42 });
  });

  it('--timeout then --grace then SIGKILL for a program that ignores SIGTERM', () => {
    const t0 = Date.now();
    const m = marker();
    const r = run(['--timeout', TIMEOUT, '--grace', '700ms', '--', 'sh', '-c', 'trap "" TERM; sleep 100; : ' + m]);
    const took = Date.now() - t0;
    expect(r.status, hasSyncReturn(r)).toBe(137);
    expect(took).toBeGreaterThanOrEqual(3700); // not before the timeout and the grace period
    expect(took).toBeLessThan(13_000); // nor after the launcher's own backstop (grace + 10 s)
    expect(r.stderr).toMatch(/timed out/);
    expect(processesWith(m)).toEqual([]);
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1'] as const)('%s to the launcher reaches the program', async (sig) => {
    const p = start(['--', 'sh', '-c', `trap "echo caught; exit 9" ${sig.slice(3)}; echo ready; while :; do sleep 0.05; done`]);
    expect(await waitFor(() => p.out().includes('ready'))).toBe(true);
    p.child.kill(sig);
    const res = await p.done;
    expect(res.stdout).toContain('caught');
    expect(res.code).toBe(9);
  });

  it('SIGTERM to the launcher: a program that ignores it is killed after --grace', async () => {
    const m = marker();
    const p = start(['--grace', '500ms', '--', 'sh', '-c', `trap "" TERM; echo ready; sleep 100; : ${m}`]);
    expect(await waitFor(() => p.out().includes('ready'))).toBe(true);
    p.child.kill('SIGTERM');
    const res = await p.done;
    expect(res.code).toBe(137);
    expect(processesWith(m)).toEqual([]);
  });

  it('a SIGKILLed launcher takes the program with it, and the next run removes its cgroup', async () => {
    const m = marker();
    const p = start(['--', 'sh', '-c', `echo ready; sleep 1000; : ${m}`]);
    expect(await waitFor(() => p.out().includes('ready'))).toBe(true);
    const owner = p.child.pid!;
    const leftovers = () => fs.readdirSync(parentDir('memory')).filter((n) => n.startsWith(`${owner}-`));
    expect(leftovers()).toHaveLength(1);
    p.child.kill('SIGKILL');
    await p.done;
    expect(await waitFor(() => processesWith(m).length === 0)).toBe(true);
    expect(leftovers()).toHaveLength(1); // nobody was left to remove it...
    const r = run(['-vv', '--', 'true']);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`removed .*/${owner}-.*left by a launcher that died`));
    expect(fs.existsSync(parentDir('memory')) ? leftovers() : []).toEqual([]);
  });

  it("a SIGKILLed launcher's --cgroup-parent levels: removed by a later run once empty, never the user's", async () => {
    makeParent(); // PARENT is the user's here; PARENT/made/here the launcher's
    const nested = `${PARENT}/made/here`;
    const m = marker();
    const p = start(['--', 'sh', '-c', `echo ready; sleep 1000; : ${m}`], nested);
    expect(await waitFor(() => p.out().includes('ready'))).toBe(true);
    const owner = p.child.pid!;
    p.child.kill('SIGKILL');
    await p.done;
    expect(await waitFor(() => processesWith(m).length === 0)).toBe(true);
    const made = () => parentDirs().filter((d) => fs.existsSync(path.join(d, 'made')));
    expect(made().length).toBeGreaterThan(0);
    // a run in the same parent removes the dead launcher's cgroup; the levels hold its own for now
    const same = run(['-vv', '--', 'true'], { parent: nested });
    expect(same.status, hasSyncReturn(same)).toBe(0);
    expect(same.stderr).toMatch(new RegExp(`removed .*/made/here/${owner}-.*left by a launcher that died`));
    // any later run removes the dead launcher's levels, now empty
    const later = run(['-vv', '--', 'true']);
    expect(later.status, hasSyncReturn(later)).toBe(0);
    expect(later.stderr).toMatch(new RegExp(`removed .*/${PARENT}/made, left by a launcher that died`));
    expect(made()).toEqual([]);
    expect(parentDirs().every((d) => fs.existsSync(d))).toBe(true); // the user's level stays
  });

  it.each<[string[], RegExp]>([
    [['--memroy', '1g', '--', 'true'], /unknown option '--memroy'/],
    [['--memory', '1x', '--', 'true'], /unknown unit/],
    [['--memory', '1k', '--', 'true'], /too small/],
    [['--pids', '-3', '--', 'true'], /--pids/],
    [['--cpus', '64', '--', 'true'], /CPUs available/],
    [['--'], /no program to run/],
    [['--cgroup-root', '/nonexistent', '--', 'true'], /no cgroup filesystem at \/nonexistent/],
  ])('bad input %j: one line, exit 125, nothing created', (args, pattern) => {
    const r = run(args);
    expect(r.status, hasSyncReturn(r)).toBe(125);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stdout).toBe('');
  });

  it('a failure after set-up began (a limit the kernel lacks) undoes the cgroup it created', () => {
    const root = path.dirname(tmpFile('x'));
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) fs.mkdirSync(path.join(root, c));
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) fs.writeFileSync(path.join(root, c, 'cgroup.procs'), '');
    const r = run(['--cgroup-root', root, '-m', '64m', '--memory-swap', '128m', '--', 'true']);
    expect(r.status, hasSyncReturn(r)).toBe(125);
    expect(r.stderr).toMatch(/^tini-ts run: --memory-swap: needs swap accounting.*\n$/);
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) expect(fs.readdirSync(path.join(root, c))).toEqual(['cgroup.procs']);
    fs.rmSync(root, { recursive: true });
  });

  it('a cgroup failure after the init started (it starts first, while the cgroup is prepared) kills and reaps that init', () => {
    const root = path.dirname(tmpFile('x'));
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) fs.mkdirSync(path.join(root, c));
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) fs.writeFileSync(path.join(root, c, 'cgroup.procs'), '');
    const r = run(['-vv', '--cgroup-root', root, '-m', '64m', '--memory-swap', '128m', '--', 'true']);
    expect(r.status, hasSyncReturn(r)).toBe(125);
    const lines = r.stderr.trimEnd().split('\n');
    const pid = Number(/init started with pid (\d+)/.exec(r.stderr)?.[1]);
    expect(pid, r.stderr).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatch(/^tini-ts run: --memory-swap: needs swap accounting/);
    // Reaped by the launcher before it exited: no such process, not even a zombie.
    expect(fs.existsSync(`/proc/${pid}`) ? fs.readFileSync(`/proc/${pid}/stat`, 'latin1') : '').not.toMatch(/^\d+ \(tini-ts\)/);
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) expect(fs.readdirSync(path.join(root, c))).toEqual(['cgroup.procs']);
    fs.rmSync(root, { recursive: true });
  });

  // The channel's read is the launcher's only use of libuv's pool: one thread, not the default four, unless the user sized it;
  // the user's setting reaches neither the init (its environment is its own one-thread setting) nor the workload.
  it.each([
    [undefined, 1],
    ['2', 2],
  ])('the launcher runs one thread-pool thread (UV_THREADPOOL_SIZE=%s: %i), and passes the setting on to no one', async (size, threads) => {
    const env = { ...process.env };
    delete env.UV_THREADPOOL_SIZE;
    if (size !== undefined) env.UV_THREADPOOL_SIZE = size;
    const child = spawn(BIN, runArgs(['--', 'sh', '-c', 'echo "pool=${UV_THREADPOOL_SIZE-unset}"; while :; do sleep 0.05; done']), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      expect(await waitFor(() => out.includes('pool='))).toBe(true);
      const comms = (pid: number) => fs.readdirSync(`/proc/${pid}/task`).map((t) => fs.readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').trim());
      expect(comms(child.pid!).filter((c) => c === 'libuv-worker')).toHaveLength(threads);
      const init = Number(fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ')[0]);
      // Nothing of the launcher's: the init spawned at the binary's entry (x64) has no environment and sets its pool size itself.
      expect(fs.readFileSync(`/proc/${init}/environ`, 'latin1')).toBe(buildInfo().entrySpawn ? '' : 'UV_THREADPOOL_SIZE=1\0');
      expect(comms(init).filter((c) => c === 'libuv-worker').length).toBeLessThanOrEqual(1);
      expect(out).toContain(`pool=${size ?? 'unset'}`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await done).toBe(143);
  });

  it('not root: one line, exit 125', () => {
    // From a world-readable copy: the clone may be under a directory uid 65534 cannot reach.
    const staged = stagePublic(BIN);
    let r: SpawnSyncReturns<string>;
    try {
      r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all',
        staged.paths[0], 'run', '--cgroup-parent', PARENT, '--', 'true'], { encoding: 'utf8' });
    } finally {
      fs.rmSync(staged.dir, { recursive: true, force: true });
    }
    expect(r.status, hasSyncReturn(r)).toBe(125);
    expect(r.stderr).toMatch(/^tini-ts run: must run as root.*\n$/);
  });
});
