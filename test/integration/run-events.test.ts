/**
 * `tini-ts run --events DEST`: the init inside the namespaces writes the same
 * event stream as the plain init (schema-valid, pids as its pid namespace
 * numbers them), to a file the launcher opened on the host (so it works with
 * --rootfs too), to fd:N, or to stderr. Nothing is left afterwards.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validate } from '../../src/events/validate.js';
import { busyboxAvailable, makeBusyboxRootfs } from '../helpers/rootfs.js';
import { BIN, canRun, RUN_NEEDS, hasSyncReturn, run, runArgs, start, tmpFile, waitFor, expectNothingLeftBehind } from './run-helpers.js';
import { unmet } from '../helpers/prereq.js';

const schema = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../../src/events/events.schema.json'), 'utf8'));

type Ev = Record<string, any>;

/** Every line a schema-valid event, seq 0, 1, 2, ... */
function parseEvents(text: string): Ev[] {
  const lines = text.split('\n');
  expect(lines.pop()).toBe('');
  const evs = lines.map((l) => {
    const e = JSON.parse(l) as Ev;
    expect(validate(schema, e), l).toEqual([]);
    return e;
  });
  expect(evs.map((e) => e.seq)).toEqual(evs.map((_, i) => i));
  return evs;
}

describe.skipIf(unmet(canRun, RUN_NEEDS))('tini-ts run --events', () => {
  expectNothingLeftBehind();

  it('FILE: start, spawn, the reap of the main child (exit 3) and exit, schema-valid, with the namespace\'s pids', () => {
    const file = tmpFile('events.jsonl');
    const r = run(['-q', '--events', file, '--', 'sh', '-c', 'sleep 0.1 & exit 3']);
    expect(r.status, hasSyncReturn(r)).toBe(3);
    const evs = parseEvents(fs.readFileSync(file, 'utf8'));
    expect(evs[0]).toMatchObject({ event: 'start', pid: 1, pid1: true, options: { expected_codes: [], parent_death_signal: 9 } });
    expect(evs[1]).toMatchObject({ event: 'spawn', argv: ['sh', '-c', 'sleep 0.1 & exit 3'], foreground_tty: false });
    const child = evs[1].pid as number;
    expect(evs[1].pgid).toBe(child);
    expect(child).toBeLessThan(100); // numbered in the new pid namespace
    const reap = evs.find((e) => e.event === 'reap' && e.main);
    expect(reap).toMatchObject({ pid: child, exit_code: 3, comm: 'sh' });
    const exit = evs.at(-1)!;
    expect(exit).toMatchObject({ event: 'exit', code: 3, reason: 'child-exited', dropped: 0 });
    expect(evs.filter((e) => e.event === 'exit')).toHaveLength(1);
    // the launcher left its descriptor to nobody: the file is appended to, not replaced
    const again = run(['-q', '--events', file, '--', 'true']);
    expect(again.status, hasSyncReturn(again)).toBe(0);
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(evs.length);
    expect(JSON.parse(lines[evs.length])).toMatchObject({ event: 'start', seq: 0 });
  });

  it('signals: SIGTERM to the launcher reaches the init, which forwards it to the group', async () => {
    const file = tmpFile('events.jsonl');
    const p = start(['-q', '--events', file, '--', 'sh', '-c', 'trap "exit 7" TERM; echo ready; while :; do sleep 0.05; done']);
    expect(await waitFor(() => p.out().includes('ready'))).toBe(true);
    p.child.kill('SIGTERM');
    const res = await p.done;
    expect(res.code).toBe(7);
    const evs = parseEvents(fs.readFileSync(file, 'utf8'));
    const child = evs.find((e) => e.event === 'spawn')!.pid;
    expect(evs.find((e) => e.event === 'signal' && e.name === 'SIGTERM')).toMatchObject({ handling: 'forward' });
    expect(evs.find((e) => e.event === 'forward' && e.name === 'SIGTERM')).toMatchObject({ target: 'group', id: child, result: 'ok' });
    expect(evs.find((e) => e.event === 'grace')).toMatchObject({ name: 'SIGTERM' });
    expect(evs.at(-1)).toMatchObject({ event: 'exit', code: 7 });
  });

  it('- writes to stderr; fd:N to an inherited descriptor', () => {
    const r = run(['-q', '--events', '-', '--', 'sh', '-c', 'exit 4']);
    expect(r.status, hasSyncReturn(r)).toBe(4);
    const evs = parseEvents(r.stderr);
    expect(evs.map((e) => e.event)).toEqual(expect.arrayContaining(['start', 'spawn', 'reap', 'exit']));

    const file = tmpFile('fd.jsonl');
    const fd = fs.openSync(file, 'a');
    try {
      const viaFd = spawnSync(BIN, runArgs(['-q', '--events', 'fd:3', '--', 'sh', '-c', 'ls /proc/self/fd | wc -l; exit 5']), {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe', fd],
      });
      expect(viaFd.status, hasSyncReturn(viaFd)).toBe(5);
      // the program inherits no descriptor of the stream: 0, 1, 2 and ls's own
      expect(viaFd.stdout.trim()).toBe('4');
    } finally {
      fs.closeSync(fd);
    }
    expect(parseEvents(fs.readFileSync(file, 'utf8')).at(-1)).toMatchObject({ event: 'exit', code: 5 });
  });

  it.skipIf(unmet(busyboxAvailable(), 'a static busybox at /bin/busybox (busybox-static)'))('with --rootfs the path is the host\'s: the container never sees the file', () => {
    const file = tmpFile('events.jsonl');
    const rootfs = makeBusyboxRootfs(path.join(path.dirname(file), 'rootfs'));
    const r = run(['-q', '--rootfs', rootfs, '--events', file, '--', 'sh', '-c', `test -e ${file} && exit 9; exit 6`]);
    expect(r.status, hasSyncReturn(r)).toBe(6);
    const evs = parseEvents(fs.readFileSync(file, 'utf8'));
    expect(evs.find((e) => e.event === 'reap' && e.main)).toMatchObject({ exit_code: 6 });
    expect(evs.at(-1)).toMatchObject({ event: 'exit', code: 6 });
  });

  it('a destination that cannot be used is refused: one line, exit 125, nothing created', () => {
    for (const [dest, pattern] of [
      ['/nonexistent/dir/events', /^tini-ts run: --events: cannot open \/nonexistent\/dir\/events: ENOENT\n$/],
      ['fd:77', /^tini-ts run: --events fd:77: fd 77 is not open \(EBADF\)\n$/],
      ['fd:x', /^tini-ts run: --events: not a file descriptor/],
    ] as const) {
      const r = run(['--events', dest, '--', 'true']);
      expect(r.status, hasSyncReturn(r)).toBe(125);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});
