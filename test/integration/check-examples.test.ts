/**
 * `tini-ts check` on the example programs: the verdicts, and the same in the
 * JSON (with every event stream, schema-valid) and JUnit XML outputs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { validate } from '../../src/events/validate.js';
import { unmet } from '../helpers/prereq.js';
import { stagePublic } from '../helpers/proc.js';

const root = path.resolve(import.meta.dirname, '../..');
const INIT = path.join(root, 'dist/tini-ts');
const schema = JSON.parse(fs.readFileSync(path.join(root, 'src/events/events.schema.json'), 'utf8'));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-it-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const FAST = ['--grace', '2', '--ready-after', '0.7', '--observe', '1.5'];

function check(prog: string[], scenarios: string, extra: string[] = []) {
  const j = path.join(dir, `r-${Math.random().toString(36).slice(2)}.json`);
  const x = j.replace(/json$/, 'xml');
  const r = spawnSync(INIT, ['check', ...FAST, '--scenario', scenarios, ...extra, '--json', j, '--junit', x, '--', ...prog], {
    encoding: 'utf8',
    timeout: 90_000,
    cwd: root,
    env: { ...process.env, PATH: `${path.join(root, 'node_modules/.bin')}:${process.env.PATH}` },
  });
  const report = JSON.parse(fs.readFileSync(j, 'utf8'));
  const xml = fs.readFileSync(x, 'utf8');
  const verdicts: Record<string, string> = {};
  for (const s of report.scenarios) {
    verdicts[s.name] = s.verdict;
    for (const e of s.events) expect(validate(schema, e), JSON.stringify(e)).toEqual([]);
    // JUnit: one testcase per scenario, a <failure> exactly for the unhealthy ones.
    const tc = new RegExp(`<testcase classname="tini-ts.check" name="${s.name}" time="[0-9.]+">\\n(.*?)</testcase>`, 's').exec(xml);
    expect(tc, s.name).not.toBeNull();
    expect(tc![1].includes('<failure '), s.name).toBe(s.verdict === 'unhealthy');
  }
  const failures = Object.values(verdicts).filter((v) => v === 'unhealthy').length;
  expect(xml).toMatch(new RegExp(`<testsuites [^>]*tests="${report.scenarios.length}" failures="${failures}"`));
  expect(r.status).toBe(failures > 0 ? 1 : 0);
  expect(report.healthy).toBe(failures === 0);
  return { r, report, verdicts };
}

const ok = fs.existsSync(INIT) && spawnSync('python3', ['-c', '']).status === 0;

describe.skipIf(unmet(ok, 'dist/tini-ts and python3'))('tini-ts check on examples/', () => {
  it('node-drain-server.js: healthy everywhere, SIGHUP survived', () => {
    const { verdicts, r, report } = check(['node', 'examples/node-drain-server.js'], 'docker-stop,ctrl-c,orphans,sighup');
    expect(verdicts).toEqual({ 'docker-stop': 'healthy', 'ctrl-c': 'healthy', orphans: 'healthy', sighup: 'healthy' });
    expect(r.stdout).toMatch(/^docker-stop\s+PASS\s+stopped by itself/m);
    const ds = report.scenarios[0];
    expect(ds.evidence).toMatchObject({ main: 'exited 0', exit_code: 0, sigkill_needed: false });
    // The stream shows the SIGTERM forwarded once to the program's group.
    const spawn = ds.events.find((e: any) => e.event === 'spawn');
    expect(ds.events.filter((e: any) => e.event === 'forward' && e.signo === 15)).toEqual([expect.objectContaining({ target: 'group', id: spawn.pid, result: 'ok' })]);
  });

  it('sh-no-trap.sh: docker stop works through the group, ^C leaves the worker behind', () => {
    const { verdicts, report } = check(['examples/sh-no-trap.sh'], 'docker-stop,ctrl-c,sighup');
    expect(verdicts).toEqual({ 'docker-stop': 'healthy', 'ctrl-c': 'unhealthy', sighup: 'unhealthy' });
    const cc = report.scenarios.find((s: any) => s.name === 'ctrl-c');
    expect(cc.summary).toMatch(/descendant\(s\) still there when the program ended: sleep/);
    expect(cc.evidence).toMatchObject({ sigint_forwarded_by_init: 0, foreground: 'the program', main: 'killed by SIGINT' });
  });

  it('sh-trap.sh: the well-behaved shell script', () => {
    expect(check(['examples/sh-trap.sh'], 'docker-stop,ctrl-c,sighup').verdicts).toEqual({ 'docker-stop': 'healthy', 'ctrl-c': 'healthy', sighup: 'healthy' });
  });

  it('py-zombies.py: zombies of a living parent; py-reaper.py: orphans reaped', () => {
    const z = check(['python3', 'examples/py-zombies.py'], 'docker-stop,orphans');
    expect(z.verdicts).toEqual({ 'docker-stop': 'healthy', orphans: 'unhealthy' });
    expect(z.report.scenarios[1].summary).toMatch(/^3 zombie\(s\) left unreaped by a living parent: 3 of python3/);
    const g = check(['python3', 'examples/py-reaper.py'], 'orphans');
    expect(g.verdicts).toEqual({ orphans: 'healthy' });
    expect(g.report.scenarios[0].evidence.orphans_reaped).toBeGreaterThanOrEqual(3);
    const reaped = g.report.scenarios[0].events.filter((e: any) => e.event === 'reap' && !e.main);
    for (const e of reaped) expect(e.comm).toBe('python3');
  });

  it('sh-ignore-term.sh: SIGKILL needed', () => {
    const { verdicts, report } = check(['examples/sh-ignore-term.sh'], 'docker-stop');
    expect(verdicts).toEqual({ 'docker-stop': 'unhealthy' });
    expect(report.scenarios[0].summary).toMatch(/SIGKILL was needed/);
    expect(report.scenarios[0].events.some((e: any) => e.event === 'escalate')).toBe(true);
  });

  it('--signal NAME: USR2, which the server does not handle, kills it; TERM is handled', () => {
    const { verdicts } = check(['node', 'examples/node-drain-server.js'], 'docker-stop', ['--signal', 'USR2', '--signal', 'TERM']);
    expect(verdicts).toEqual({ 'docker-stop': 'healthy', 'signal:SIGUSR2': 'unhealthy', 'signal:SIGTERM': 'healthy' });
  });

  it.skipIf(unmet(process.getuid?.() === 0, 'root'))('not root: the init runs as a subreaper, same verdicts, nothing left running', () => {
    // Run from a world-readable copy: the clone may be under a directory uid 65534 cannot reach.
    const staged = stagePublic(INIT, path.join(root, 'examples/sh-no-trap.sh'));
    let r: SpawnSyncReturns<string>;
    try {
      r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all',
        staged.paths[0], 'check', ...FAST, '--scenario', 'docker-stop,ctrl-c', '--', staged.paths[1]], { encoding: 'utf8', timeout: 60_000, cwd: '/' });
    } finally {
      fs.rmSync(staged.dir, { recursive: true, force: true });
    }
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^docker-stop\s+PASS/m);
    expect(r.stdout).toMatch(/^ctrl-c\s+FAIL\s+1 descendant\(s\) still there when the program ended: sleep/m);
    expect(r.stdout).toContain('(init is a subreaper (not root: no pid namespace))');
    const left = spawnSync('pgrep', ['-u', '65534', '-x', 'sleep'], { encoding: 'utf8' });
    const alive = left.stdout.trim().split('\n').filter(Boolean).filter((p) => !fs.readFileSync(`/proc/${p}/stat`, 'latin1').includes(') Z '));
    expect(alive).toEqual([]);
  });

  it('--ready-file: waits for the program to say it is ready', () => {
    const ready = path.join(dir, 'ready');
    const r = spawnSync(INIT, ['check', '--grace', '2', '--ready-file', ready, '--scenario', 'docker-stop', '--', 'node', 'examples/node-drain-server.js'], {
      encoding: 'utf8', timeout: 60_000, cwd: root,
      env: { ...process.env, READY_FILE: ready, PATH: `${path.join(root, 'node_modules/.bin')}:${process.env.PATH}` },
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^docker-stop\s+PASS/m);
  });

  it('bad usage exits 2 with one line', () => {
    for (const args of [['check'], ['check', '--bogus', '--', 'true'], ['check', '--scenario', 'nope', '--', 'true'], ['check', '--grace', 'x', '--', 'true']]) {
      const r = spawnSync(INIT, args, { encoding: 'utf8' });
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const h = spawnSync(INIT, ['check', '--help'], { encoding: 'utf8' });
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/^Usage: tini-ts check/);
  });
});
