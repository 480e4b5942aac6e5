/**
 * `tini-ts run`'s early spawn: the binary starts the container's init before
 * main.cjs is loaded, from a scan of argv. The launcher claims it when the
 * parsed options want what it got; a run refused after it kills and reaps
 * it, so that nothing is left (checked from a subreaper: an init left behind
 * would be re-parented to it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { spawnSync } from 'node:child_process';
import { BIN, canRun, hasSyncReturn, run, runArgs, RUN_NEEDS, underSubreaper } from './run-helpers.js';

const CLAIMED = 'the init was spawned before the options were read';
const DISCARDED = /the init spawned before the options were read \(pid \d+\) is not this run's: killed/;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-early-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

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

  it('a launcher killed at any moment of its start leaves no process: an init it spawned ends by itself', () => {
    // SIGKILL after 10 to 100 ms: before the early spawn, between it and the
    // signals being listened to, before and after the plans. A spawned init
    // that outlives the launcher is a child of the subreaper here: it must
    // end on its own (the end of its channel, or its parent-death signal),
    // leaving only a zombie for the subreaper to reap.
    const helper = `
import ctypes, json, os, signal, subprocess, sys, time
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
out = []
for ms in range(10, 101, 5):
    p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(ms / 1000)
    p.send_signal(signal.SIGKILL)
    p.wait()
    time.sleep(0.3)
    alive = []
    for d in os.listdir('/proc'):
        try:
            stat = open(f'/proc/{d}/stat').read()
        except OSError:
            continue
        rest = stat[stat.rindex(')') + 2:].split()
        if int(rest[1]) == os.getpid() and rest[0] != 'Z':
            alive.append(stat[stat.index('(') + 1:stat.rindex(')')])
    zombies = 0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        zombies += 1
    out.append({'ms': ms, 'alive': alive, 'zombies': zombies})
print(json.dumps(out))
`;
    const r = spawnSync('python3', ['-c', helper, BIN, ...runArgs(['--', 'sleep', '5'])], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    const rounds = JSON.parse(r.stdout) as { ms: number; alive: string[]; zombies: number }[];
    for (const round of rounds) expect(round.alive, `killed after ${round.ms} ms`).toEqual([]);
    // Some kills fell after the spawn (an init was left to end by itself).
    expect(rounds.some((x) => x.zombies > 0)).toBe(true);
    // What the killed launchers left (cgroups, state directories) the next run sweeps.
    expect(run(['--', 'true']).status).toBe(0);
  });
});
