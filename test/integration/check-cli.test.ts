/**
 * `tini-ts check`'s own robustness: usage errors (one inert line, exit 2,
 * before any scenario runs), a ^C typed after the program ended (no crash,
 * nothing left in /tmp), and no signal before the init has started the
 * program.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/check/scenario.js';
import { judge } from '../../src/check/verdict.js';

const root = path.resolve(import.meta.dirname, '../..');
const INIT = path.join(root, 'dist/tini-ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-cli-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The checks' own TMPDIR: what they leave there is theirs alone (other tests run checks side by side). */
const tmp = path.join(dir, 'tmp');
fs.mkdirSync(tmp);
const check = (args: string[], timeout = 60_000) =>
  spawnSync(INIT, ['check', ...args], { encoding: 'utf8', timeout, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: tmp } });

const checkDirs = () => new Set(fs.readdirSync(tmp));

describe('tini-ts check: usage errors', () => {
  it.each([
    [['--scenario', ',', '--', 'true'], "tini-ts check: --scenario ',' names no scenario (docker-stop, ctrl-c, orphans, sighup, staged-stop) (see 'tini-ts check --help')\n"],
    [['--scenario', ' , ', '--', 'true'], "tini-ts check: --scenario ' , ' names no scenario (docker-stop, ctrl-c, orphans, sighup, staged-stop) (see 'tini-ts check --help')\n"],
    [['--scenario=', '--', 'true'], "tini-ts check: --scenario '' names no scenario (docker-stop, ctrl-c, orphans, sighup, staged-stop) (see 'tini-ts check --help')\n"],
    [['--scenario', '\x1b[31mred\nnext', '--', 'true'], "tini-ts check: unknown scenario '\\x1b[31mred\\nnext' (docker-stop, ctrl-c, orphans, sighup, staged-stop) (see 'tini-ts check --help')\n"],
    [['--bo\x07gus\r', '--', 'true'], "tini-ts check: unknown option '--bo\\x07gus\\r' (see 'tini-ts check --help')\n"],
    [['--signal', '\x9b2J', '--', 'true'], "tini-ts check: --signal: not a signal that can be forwarded: '\\x9b2J' (see 'tini-ts check --help')\n"],
  ])('%j: one inert line, exit 2', (args, line) => {
    const r = check(args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(line);
  });

  it('--json and --junit that cannot be written are refused before any scenario runs (exit 2, nothing made)', () => {
    const marker = path.join(dir, `ran-${Math.random().toString(36).slice(2)}`);
    const prog = ['sh', '-c', `touch ${marker}; sleep 5`];
    const before = checkDirs();
    for (const [flag, file, why] of [
      ['--json', path.join(dir, 'missing/x.json'), `its directory ${path.join(dir, 'missing')} does not exist`],
      ['--junit', path.join(dir, 'missing/x.xml'), `its directory ${path.join(dir, 'missing')} does not exist`],
      ['--json', dir, 'is a directory (give a file name)'],
    ]) {
      const r = check(['--scenario', 'docker-stop', flag, file, '--', ...prog]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toBe(`tini-ts check: ${flag} ${JSON.stringify(file)}: ${why} (see 'tini-ts check --help')\n`);
      expect(r.stdout).toBe('');
    }
    expect(fs.existsSync(marker)).toBe(false);
    expect([...checkDirs()].filter((d) => !before.has(d))).toEqual([]);
  });
});

describe('tini-ts check: races with the program', () => {
  it('^C typed as the program ends by itself: never a crash (write EPIPE), never a directory left in /tmp', () => {
    const before = checkDirs();
    for (let i = 0; i < 25; i++) {
      const r = check(['--scenario', 'ctrl-c', '--grace', '1', '--ready-after', '0.05', '--', 'sleep', '0.06'], 30_000);
      expect([0, 1], `run ${i}: ${r.stderr}`).toContain(r.status);
      expect(r.stderr, `run ${i}`).not.toMatch(/EPIPE|Error|    at /);
      expect(r.stdout, `run ${i}`).toMatch(/^tini-ts check: sleep 0\.06\n/);
    }
    expect([...checkDirs()].filter((d) => !before.has(d))).toEqual([]);
  });

  it('no scenario signal is sent before the init has started the program, however slow its start', async () => {
    const workDir = fs.mkdtempSync(path.join(dir, 'w-'));
    // An init that takes 11 s to start (longer than the check used to wait for it).
    const run = await runScenario('docker-stop', null, {
      program: ['sleep', '30'], graceMs: 2000, readyAfterMs: 100, readyFile: null, observeMs: 500,
      self: ['sh', '-c', 'sleep 11; exec "$0" "$@"', INIT], selfExe: fs.realpathSync(INIT), workDir,
    });
    const spawn = run.events.find((e) => e.event === 'spawn');
    expect(spawn, run.output).toBeDefined();
    expect(run.signalMono).not.toBeNull();
    expect(run.signalMono! > BigInt(spawn!.mono_ns)).toBe(true);
    const report = judge(run, null, false);
    expect(report.verdict, JSON.stringify(report.problems)).toBe('healthy');
    expect(report.evidence.main).toBe('killed by SIGTERM');
  }, 40_000);
});

describe('tini-ts check --scenario staged-stop', () => {
  const DAEMON = path.join(root, 'test/helpers/integration/daemon.py');
  /** A program that starts a daemon (out of its group and session), then exits 0 on SIGTERM. */
  const tree = (work: string, mode: string) => ['sh', '-c', `python3 ${DAEMON} "$1" slowd ${mode} && trap 'exit 0' TERM && while :; do sleep 0.05; done`, 'tree', work];

  it('a daemon that stops on its own SIGTERM: healthy, and named; one that stays: unhealthy, named as SIGKILLed (exit 1)', () => {
    for (const [mode, status] of [['slow:200', 0], ['stubborn', 1]] as const) {
      const work = fs.mkdtempSync(path.join(dir, 'staged-'));
      const json = path.join(work, 'report.json');
      const r = check(['--scenario', 'staged-stop', '--grace', '2', '--ready-after', '1', '--json', json, '--', ...tree(work, mode)]);
      expect(r.status, r.stdout + r.stderr).toBe(status);
      const rep = JSON.parse(fs.readFileSync(json, 'utf8'));
      const s = rep.scenarios.find((x: Record<string, any>) => x.name === 'staged-stop');
      expect(s.evidence.outside_the_group).toBe(1);
      if (status === 0) {
        expect(s.verdict).toBe('healthy');
        expect(s.summary).toMatch(/^everything stopped by itself in [0-9.]+ s: the program \(exited 0\), then 1 process\(es\) outside its group \(slowd\), no SIGKILL$/);
      } else {
        expect(s.verdict).toBe('unhealthy');
        expect(s.summary).toMatch(/^1 process\(es\) outside the program's group did not stop within the grace period after their SIGTERM: slowd \(pid [0-9]+\)$/);
      }
    }
  });
});
