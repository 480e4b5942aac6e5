/**
 * `tini-ts run`'s early spawn: the binary starts the container's init before
 * main.cjs is loaded, from a scan of argv. The launcher claims it when the
 * parsed options want what it got; a run refused after it kills and reaps
 * it, so that nothing is left (checked from a subreaper: an init left behind
 * would be re-parented to it).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { BIN, canRun, hasSyncReturn, run, runArgs, RUN_NEEDS } from './run-helpers.js';

const CLAIMED = 'the init was spawned before the options were read';
const DISCARDED = /the init spawned before the options were read \(pid \d+\) is not this run's: killed/;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-early-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the binary under a subreaper; whatever it leaves (alive or a zombie) is listed. */
function underSubreaper(args: string[]): { rc: number; stderr: string; left: string[] } {
  const helper = `
import ctypes, json, os, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True)
time.sleep(0.3)
left = []
for d in os.listdir('/proc'):
    try:
        stat = open(f'/proc/{d}/stat').read()
    except OSError:
        continue
    if int(stat[stat.rindex(')') + 2:].split()[1]) == os.getpid():
        left.append(stat[stat.index('(') + 1:stat.rindex(')')] + ' ' + d)
while True:
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        break
    if pid == 0:
        break
    left.append(f'zombie {pid}')
print(json.dumps({'rc': p.returncode, 'stderr': p.stderr.decode(), 'left': [l for l in left if not l.startswith('python')]}))
`;
  const r = spawnSync('python3', ['-c', helper, BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe.skipIf(unmet(canRun, RUN_NEEDS))('tini-ts run: the early spawn', () => {
  it('the init of a plain run is spawned before the options are read, and runs the program', () => {
    const r = run(['-vv', '--memory', '64m', '--', 'sh', '-c', 'tr "\\0" " " </proc/1/cmdline; exit 3']);
    expect(r.status, hasSyncReturn(r)).toBe(3);
    expect(r.stdout).toMatch(/^tini-ts __run-init \d+ \d+ $/); // PID 1 of its namespace
    expect(r.stderr).toContain(CLAIMED);
  });

  it('not where the init is handed a descriptor (--events): the usual spawn, the same run', () => {
    const r = run(['-vv', '--events', path.join(dir, 'ev.jsonl'), '--', 'sh', '-c', 'exit 4']);
    expect(r.status, hasSyncReturn(r)).toBe(4);
    expect(r.stderr).not.toContain(CLAIMED);
    expect(fs.readFileSync(path.join(dir, 'ev.jsonl'), 'utf8')).toMatch(/"event":"exit"/);
  });

  it('a run refused after the early spawn kills and reaps its init: nothing is left', () => {
    const bundle = path.join(dir, 'noprocess');
    fs.mkdirSync(bundle);
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ ociVersion: '1.0.2', root: { path: '/' }, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } }));
    for (const [args, line] of [
      [['-vv', '--cpus', 'lots', '--', 'true'], /--cpus/],
      [['-vv', '--report', path.join(dir, 'missing/r.json'), '--', 'true'], /--report/],
      [['-vv', '--bundle', bundle], /config\.json: process/],
    ] as const) {
      const r = underSubreaper(runArgs([...args]));
      expect(r.rc, r.stderr).toBe(125);
      expect(r.stderr).toMatch(line);
      expect(r.stderr).toMatch(DISCARDED);
      expect(r.left, args.join(' ')).toEqual([]);
    }
  });
});
