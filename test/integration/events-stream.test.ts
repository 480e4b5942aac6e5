/**
 * The event stream of the real binary (dist/tini-ts), compared with what
 * really happened: pids the child reports, signals it received, statuses.
 * Every event seen is validated against src/events/events.schema.json.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validate } from '../../src/events/validate.js';
import { unmet } from '../helpers/prereq.js';

const root = path.resolve(import.meta.dirname, '../..');
const INIT = path.join(root, 'dist/tini-ts');
const schema = JSON.parse(fs.readFileSync(path.join(root, 'src/events/events.schema.json'), 'utf8'));
const isRoot = process.getuid?.() === 0;
const have = fs.existsSync(INIT);

type Ev = Record<string, any>;
let dir = '';

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'events-it-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

export function readEvents(file: string): Ev[] {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  const evs = lines.map((l) => {
    expect(Buffer.byteLength(l) + 1).toBeLessThanOrEqual(4096);
    const e = JSON.parse(l);
    expect(validate(schema, e), l).toEqual([]);
    return e;
  });
  expect(evs.map((e) => e.seq)).toEqual(evs.map((_, i) => i));
  return evs;
}

let n = 0;
function evFile(): string {
  return path.join(dir, `ev-${n++}.jsonl`);
}

/** Runs the init (as PID 1 of a new pid namespace when root), waits for it. */
function run(flags: string[], prog: string[], opts: { pid1?: boolean; timeout?: number; input?: string } = {}) {
  const cmd = opts.pid1 ?? isRoot ? ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', INIT] : [INIT, '-s'];
  const r = spawnSync(cmd[0], [...cmd.slice(1), ...flags, '--', ...prog], { timeout: opts.timeout ?? 20_000, encoding: 'utf8', input: opts.input });
  return r;
}

const py = (code: string) => ['python3', '-c', code];

describe.skipIf(unmet(have, 'dist/tini-ts (npm run build)'))('event stream of dist/tini-ts', () => {
  it('start, spawn, reap and exit match the child and its status', () => {
    const f = evFile();
    const r = run(['--events', f], ['sh', '-c', 'echo $$; exit 42']);
    expect(r.status).toBe(42);
    const childPid = Number(r.stdout.trim());
    const ev = readEvents(f);
    expect(ev[0]).toMatchObject({ event: 'start', pid1: isRoot, v: 1 });
    if (isRoot) expect(ev[0].pid).toBe(1);
    expect(ev[1]).toMatchObject({ event: 'spawn', pid: childPid, pgid: childPid, argv: ['sh', '-c', 'echo $$; exit 42'] });
    const reaps = ev.filter((e) => e.event === 'reap');
    expect(reaps).toEqual([expect.objectContaining({ pid: childPid, main: true, comm: 'sh', exit_code: 42, signo: null, core_dumped: false })]);
    expect(ev.at(-1)).toMatchObject({ event: 'exit', code: 42, reason: 'child-exited', dropped: 0, left_count: 0 });
    // Timestamps go forward.
    for (let i = 1; i < ev.length; i++) expect(ev[i].mono_ns).toBeGreaterThanOrEqual(ev[i - 1].mono_ns);
  });

  it('TINI_EVENTS works, and --events wins over it', () => {
    const a = evFile();
    const b = evFile();
    let r = spawnSync(INIT, ['-s', '--', 'true'], { env: { ...process.env, TINI_EVENTS: a } });
    expect(r.status).toBe(0);
    expect(readEvents(a).map((e) => e.event)).toEqual(['start', 'spawn', 'signal', 'reap', 'exit']);
    r = spawnSync(INIT, ['-s', '--events', b, '--', 'true'], { env: { ...process.env, TINI_EVENTS: a + '.unused' } });
    expect(r.status).toBe(0);
    expect(fs.existsSync(a + '.unused')).toBe(false);
    expect(readEvents(b).length).toBeGreaterThan(0);
  });

  it('signal and forward: the group the child leads gets exactly what the init received', () => {
    const f = evFile();
    const got = path.join(dir, 'got-usr');
    // The child records every USR1/USR2/HUP it gets, then exits on TERM.
    const child = py(`
import os, signal, sys, time
out = open(${JSON.stringify(got)}, 'w')
def h(s, _): out.write('%d\\n' % s); out.flush()
for s in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGHUP): signal.signal(s, h)
signal.signal(signal.SIGTERM, lambda s, _: sys.exit(7))
print(os.getpid(), flush=True)
os.kill(os.getppid(), signal.SIGUSR1); time.sleep(0.2)
os.kill(os.getppid(), signal.SIGUSR2); time.sleep(0.2)
os.kill(os.getppid(), signal.SIGHUP); time.sleep(0.2)
os.kill(os.getppid(), signal.SIGTERM); time.sleep(5)
`);
    const r = run(['--events', f, '--grace', '3'], child);
    expect(r.status).toBe(7);
    const pid = Number(r.stdout.trim());
    expect(fs.readFileSync(got, 'utf8').trim().split('\n').map(Number)).toEqual([10, 12, 1]);
    const ev = readEvents(f);
    const sigs = ev.filter((e) => e.event === 'signal' && e.signo !== 17);
    expect(sigs.map((e) => [e.signo, e.name, e.handling, e.sender_pid])).toEqual([
      [10, 'SIGUSR1', 'forward', null], [12, 'SIGUSR2', 'forward', null], [1, 'SIGHUP', 'forward', null], [15, 'SIGTERM', 'forward', null],
    ]);
    const fwd = ev.filter((e) => e.event === 'forward');
    expect(fwd.map((e) => [e.signo, e.target, e.id, e.result])).toEqual([
      [10, 'group', pid, 'ok'], [12, 'group', pid, 'ok'], [1, 'group', pid, 'ok'], [15, 'group', pid, 'ok'],
    ]);
    // Each forward follows its signal.
    for (const fw of fwd) expect(ev.findIndex((e) => e.event === 'signal' && e.signo === fw.signo)).toBeLessThan(ev.indexOf(fw));
    const grace = ev.find((e) => e.event === 'grace')!;
    expect(grace).toMatchObject({ signo: 15, grace_ms: 3000 });
    expect(Math.abs(grace.deadline_mono_ns - grace.mono_ns - 3e9)).toBeLessThan(50e6);
    expect(ev.filter((e) => e.event === 'escalate')).toEqual([]);
    expect(ev.at(-1)).toMatchObject({ event: 'exit', code: 7 });
  });

  it.skipIf(unmet(isRoot, 'root'))('reap: orphans by pid, with their command names', () => {
    const f = evFile();
    // 5 orphans (sleep 0.2 in a subshell that exits at once); print their pids.
    // The main program exits only once the init has reaped them all (a zombie
    // still answers kill -0), so a loaded machine cannot end it first.
    const child = ['sh', '-c', 'for i in 1 2 3 4 5; do p="$p $(sleep 0.2 >/dev/null 2>&1 & echo $!)"; done; for q in $p; do echo $q; done; '
      + 'for q in $p; do while kill -0 $q 2>/dev/null; do sleep 0.05; done; done; exit 3'];
    const r = run(['--events', f], child, { pid1: true });
    expect(r.status).toBe(3);
    const orphans = r.stdout.trim().split('\n').map(Number).sort();
    const ev = readEvents(f);
    const spawnEv = ev.find((e) => e.event === 'spawn')!;
    const reaps = ev.filter((e) => e.event === 'reap');
    const orphanReaps = reaps.filter((e) => !e.main);
    // The subshells exit 0 and are reaped by the shell; the sleeps are the init's.
    expect(orphanReaps.filter((e) => e.comm === 'sleep').map((e) => e.pid).sort()).toEqual(orphans);
    for (const e of orphanReaps.filter((x) => x.comm === 'sleep')) expect(e).toMatchObject({ exit_code: 0, signo: null });
    expect(reaps.filter((e) => e.main)).toEqual([expect.objectContaining({ pid: spawnEv.pid, exit_code: 3 })]);
    expect(new Set(reaps.map((e) => e.pid)).size).toBe(reaps.length);
  });

  it('grace and escalate: SIGKILL to the group, 137, left nothing', () => {
    const f = evFile();
    const child = ['sh', '-c', 'trap "" TERM; sh -c "trap \\"\\" TERM; sleep 30" & kill -TERM $PPID; sleep 30'];
    const t0 = Date.now();
    const r = run(['--events', f, '--grace', '0.5'], child);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(r.status).toBe(137);
    const ev = readEvents(f);
    const grace = ev.find((e) => e.event === 'grace')!;
    const esc = ev.filter((e) => e.event === 'escalate');
    const spawnEv = ev.find((e) => e.event === 'spawn')!;
    expect(esc[0]).toMatchObject({ signo: 9, name: 'SIGKILL', target: 'group', id: spawnEv.pid, result: 'ok', reason: 'grace-expired', main_reaped: false });
    expect(esc[0].mono_ns).toBeGreaterThanOrEqual(grace.deadline_mono_ns);
    const main = ev.find((e) => e.event === 'reap' && e.main);
    expect(main).toMatchObject({ signo: 9, signal_name: 'SIGKILL', exit_code: null });
    expect(ev.at(-1)).toMatchObject({ event: 'exit', code: 137, reason: 'child-signaled' });
  });

  it('exec failure: an exit event with the errno', () => {
    const f = evFile();
    const r = run(['--events', f], ['/nonexistent/prog']);
    expect(r.status).toBe(127);
    const ev = readEvents(f);
    expect(ev.map((e) => e.event)).toEqual(['start', 'exit']);
    expect(ev[1]).toMatchObject({ code: 127, reason: 'exec-failed', errno: 'ENOENT' });
  });

  it('the child inherits no descriptor of the stream, and --events - leaves its stderr blocking', () => {
    const f = evFile();
    const fd = fs.openSync(f, 'a');
    // fd:N reopened and closed: the child sees only 0, 1, 2.
    const r1 = spawnSync(INIT, ['-s', '--events', 'fd:3', '--', 'sh', '-c', 'ls /proc/self/fd'], { stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8' });
    fs.closeSync(fd);
    expect(r1.status).toBe(0);
    // ls itself has one more (the directory it lists).
    expect(r1.stdout.trim().split('\n').map(Number).filter((x) => x > 3)).toEqual([]);
    expect(readEvents(f)[0].event).toBe('start');
    // '-': events on stderr (a pipe), but the child's fd 2 has no O_NONBLOCK.
    const r2 = spawnSync(INIT, ['-s', '--events', '-', '--', 'sh', '-c', 'sleep 0.2; grep flags /proc/self/fdinfo/2 >&2'], { encoding: 'utf8' });
    expect(r2.status).toBe(0);
    const lines = r2.stderr.trim().split('\n');
    const flags = lines.find((l) => l.startsWith('flags:'))!;
    expect(parseInt(flags.split(/\s+/)[1], 8) & 0o4000).toBe(0);
    const evs = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    for (const e of evs) expect(validate(schema, e)).toEqual([]);
    expect(evs.map((e) => e.event)).toContain('exit');
  });

  it('a reader that went away: no stuck init, no SIGPIPE forwarded to the child', () => {
    const got = path.join(dir, 'got-pipe');
    // python makes a real pipe, closes its read end, and runs the init with the write end as fd 3.
    const helper = `
import os, subprocess, sys
r, w = os.pipe()
os.dup2(w, 3); os.close(r)
if w != 3: os.close(w)
sys.exit(subprocess.call(sys.argv[1:], pass_fds=(3,)))
`;
    const child = py(`
import os, signal, time
got = []
signal.signal(signal.SIGPIPE, lambda s, _: got.append(s))
signal.signal(signal.SIGUSR1, lambda s, _: got.append(s))
for i in range(3): os.kill(os.getppid(), signal.SIGUSR1); time.sleep(0.2)
open(${JSON.stringify(got)}, 'w').write(' '.join(map(str, got)))
`);
    const r = spawnSync('python3', ['-c', helper, INIT, '-s', '--events', 'fd:3', '--', ...child], { timeout: 15_000 });
    expect(r.status).toBe(0);
    expect(fs.readFileSync(got, 'utf8')).toBe('10 10 10');
  });

  it('a full pipe nobody reads: supervision goes on, events are dropped and counted', () => {
    const helper = `
import os, subprocess, sys, json, fcntl
r, w = os.pipe()
r = fcntl.fcntl(r, fcntl.F_DUPFD, 10)
os.dup2(w, 3)
rc = subprocess.call(sys.argv[1:], pass_fds=(3,))
os.close(3)
data = b''
os.set_blocking(r, False)
try:
    while True:
        b = os.read(r, 65536)
        if not b: break
        data += b
except BlockingIOError: pass
lines = data.decode().splitlines()
print(json.dumps({'rc': rc, 'n': len(lines), 'last': json.loads(lines[-1])}))
`;
    // 600 orphans: ~1200 events, far more than a 64 KiB pipe holds.
    const child = ['sh', '-c', 'i=0; while [ $i -lt 600 ]; do ( true & ); i=$((i+1)); done; sleep 0.5; exit 5'];
    const r = spawnSync('python3', ['-c', helper, INIT, '-s', '--events', 'fd:3', '--', ...child], { timeout: 30_000, encoding: 'utf8' });
    const out = JSON.parse(r.stdout);
    expect(out.rc).toBe(5);
    expect(out.n).toBeGreaterThan(100);
    // The exit event did not fit; the pipe is full of whole lines.
    expect(out.last.event).not.toBe('exit');
    expect(validate(schema, out.last)).toEqual([]);
  });
});
