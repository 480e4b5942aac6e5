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
import { BIN, canRun, hasSyncReturn, parentLeft, PY_SUBREAPER, run, runArgs, RUN_NEEDS, underSubreaper } from './run-helpers.js';

const CLAIMED = 'the init was spawned before the options were read';
const DISCARDED = /the init spawned before the options were read \(pid \d+\) is not this run's: killed/;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-early-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
// Nothing is left in this file's cgroup parent, which goes with it.
afterAll(() => expect(parentLeft()).toEqual([]));

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
    // SIGKILL before the early spawn, and 0 to 50 ms after the init appears
    // as its child (between the spawn and the signals being listened to,
    // before and after the plans), whatever the machine's speed. The init
    // that outlives the launcher is a child of the subreaper here: it must
    // end on its own (the end of its channel, or its parent-death signal),
    // leaving only a zombie for the subreaper to reap.
    const helper = `${PY_SUBREAPER}
def child_of(pid):
    try:
        return open(f'/proc/{pid}/task/{pid}/children').read().split()
    except OSError:
        return []
out = []
for after, ms in [(False, 5), (False, 20), (True, 0), (True, 2), (True, 10), (True, 50)]:
    p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = []
    if after:
        deadline = time.time() + 30
        while not seen and p.poll() is None and time.time() < deadline:
            seen = child_of(p.pid)
            time.sleep(0.0002)
    time.sleep(ms / 1000)
    p.send_signal(signal.SIGKILL)
    p.wait()
    # What it left must end by itself: wait for it (a slow machine's init is still starting Node).
    init = int(seen[0]) if seen else None
    deadline = time.time() + 30
    zombies = []
    while True:
        alive, reaped = left()
        zombies += reaped
        if (not alive and (init is None or init in zombies)) or time.time() > deadline:
            break
        time.sleep(0.05)
    out.append({'after': after, 'ms': ms, 'seen': init is not None, 'alive': alive, 'initReaped': init in zombies, 'rc': p.returncode})
print(json.dumps(out))
`;
    const r = spawnSync('python3', ['-c', helper, BIN, ...runArgs(['--', 'sleep', '5'])], { encoding: 'utf8', timeout: 240_000 });
    expect(r.status, r.stderr).toBe(0);
    const rounds = JSON.parse(r.stdout) as { after: boolean; ms: number; seen: boolean; alive: string[]; initReaped: boolean; rc: number }[];
    for (const round of rounds) {
      const at = round.after ? `${round.ms} ms after the spawn` : `after ${round.ms} ms`;
      expect(round.alive, `killed ${at}`).toEqual([]);
      // Killed after the spawn: the init it left ended by itself, and was reaped here (the subreaper).
      if (round.after) expect([round.seen, round.initReaped, round.rc], `killed ${at}`).toEqual([true, true, -9]);
    }
    // What the killed launchers left (cgroups, state directories) the next run sweeps.
    expect(run(['--', 'true']).status).toBe(0);
  }, 300_000);
});
