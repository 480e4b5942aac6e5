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
import { buildInfo } from '../helpers/proc.js';

const CLAIMED = 'the init was spawned before the options were read';
const DISCARDED = /the init spawned before the options were read \(pid \d+\) is not this run's: killed/;
const ENTRY_DISCARDED = /the init spawned at the binary's entry \(pid \d+\) is not this run's: killed/;
/** x64 builds spawn the init at the binary's entry, before Node starts (build/entry-spawn.c): it has no addon descriptor ("-"). */
const entrySpawn = () => buildInfo().entrySpawn === true;
const x64 = () => {
  try {
    return buildInfo().arch === 'x64';
  } catch {
    return false; // no binary: the file's other tests say so
  }
};
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-early-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
// Nothing is left in this file's cgroup parent, which goes with it.
afterAll(() => expect(parentLeft()).toEqual([]));

describe.skipIf(unmet(canRun, RUN_NEEDS))('tini-ts run: the early spawn', () => {
  it('the init of a plain run is spawned before the options are read, and runs the program', () => {
    const r = run(['-vv', '--memory', '64m', '--', 'sh', '-c', 'tr "\\0" " " </proc/1/cmdline; exit 3']);
    expect(r.status, hasSyncReturn(r)).toBe(3);
    // PID 1 of its namespace; spawned at the entry on x64 (no addon descriptor), else by the early bundle.
    expect(r.stdout).toMatch(entrySpawn() ? /^tini-ts __run-init \d+ - $/ : /^tini-ts __run-init \d+ \d+ $/);
    expect(r.stderr).toContain(CLAIMED);
  });

  it.skipIf(!x64())('x64: the init is spawned at the binary\'s entry, before Node starts, with nothing of the launcher\'s but its channel', () => {
    expect(entrySpawn(), 'an x64 build has the entry spawn').toBe(true);
    // Not the caller's descriptors (fd 7 here, inherited by the launcher), no environment,
    // a process group of its own (PID 1's own: 1).
    const marker = path.join(dir, 'caller-fd');
    fs.writeFileSync(marker, '');
    const script = 'for f in /proc/1/fd/*; do readlink "$f"; done; echo "env=$(tr "\\0" " " </proc/1/environ)"; echo "pgid=$(cut -d" " -f5 /proc/1/stat)"; exit 5';
    const quoted = runArgs(['-vv', '--', 'sh', '-c', script]).map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
    const r = spawnSync('/bin/sh', ['-c', `exec 7<"${marker}"; exec "${BIN}" ${quoted}`], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(5);
    expect(r.stdout).not.toContain(marker);
    expect(r.stdout).toContain('socket:'); // its channel
    expect(r.stdout).toMatch(/^env=$/m); // it sets its pool size itself
    expect(r.stdout).toMatch(/^pgid=1$/m);
    // With fd 0 closed the channel would be the lowest free descriptor: the entry leaves the spawn to the launcher.
    const closed = spawnSync('/bin/sh', ['-c', `exec "${BIN}" ${runArgs(['-vv', '--', 'sh', '-c', 'tr "\\0" " " </proc/1/cmdline']).map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ')} <&-`], { encoding: 'utf8', timeout: 30_000 });
    expect(closed.status, closed.stderr).toBe(0);
    expect(closed.stdout).toMatch(/^tini-ts __run-init \d+ \d+ $/);
    expect(r.stderr).toContain(CLAIMED);
  });

  it.skipIf(!x64())("x64: a run the entry's init does not fit (--share ipc) kills and reaps it and spawns its own: the same run, nothing left", () => {
    expect(entrySpawn(), 'an x64 build has the entry spawn').toBe(true);
    const r = underSubreaper(runArgs(['-vv', '--share', 'ipc', '--', 'sh', '-c', 'exit 6']));
    expect(r.rc, r.stderr).toBe(6);
    expect(r.stderr).toMatch(ENTRY_DISCARDED);
    expect(r.stderr).toContain(CLAIMED); // the early bundle's spawn, with the host's IPC namespace
    expect(r.left).toEqual([]);
    // Not a run at all: killed the same way.
    const h = underSubreaper([...runArgs(['-vv', '--help'])]);
    expect(h.rc, h.stderr).toBe(0);
    expect(h.left).toEqual([]);
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
