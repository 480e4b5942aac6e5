/** listReachable over a fake /proc: who --stop-scope all may signal, and when it refuses to say. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listReachable } from '../../src/supervisor/reach.js';

let proc: string;
beforeEach(() => {
  proc = fs.mkdtempSync(path.join(os.tmpdir(), 'fakeproc-reach-'));
});
afterEach(() => fs.rmSync(proc, { recursive: true, force: true }));

/** A process in the fake /proc: stat (comm may hold spaces and parentheses), one thread with its children. */
function add(pid: number, ppid: number, pgid: number, comm: string, state = 'S', children: number[] | null = []): void {
  fs.mkdirSync(path.join(proc, String(pid), 'task', String(pid)), { recursive: true });
  fs.writeFileSync(path.join(proc, String(pid), 'stat'), `${pid} (${comm}) ${state} ${ppid} ${pgid} ${pgid} 0 -1 4194560 0 0 0 0`);
  if (children !== null) fs.writeFileSync(path.join(proc, String(pid), 'task', String(pid), 'children'), children.map((c) => `${c} `).join(''));
}
const self = (pid: number) => fs.symlinkSync(String(pid), path.join(proc, 'self'));

describe('listReachable', () => {
  it('as PID 1: every process of the namespace but the init and zombies, whoever their parent', () => {
    self(1);
    add(1, 0, 1, 'tini-ts', 'S', [7]);
    add(7, 1, 7, 'app', 'S', [8]);
    add(8, 7, 7, 'a (b) c');
    add(9, 1, 9, 'gone', 'Z');
    add(20, 0, 20, 'exec'); // entered with setns (docker exec): its parent is outside
    fs.mkdirSync(path.join(proc, 'sys'));
    expect(listReachable(1, proc)).toEqual([
      { pid: 7, pgid: 7, comm: 'app' },
      { pid: 8, pgid: 7, comm: 'a (b) c' },
      { pid: 20, pgid: 20, comm: 'exec' },
    ]);
  });

  it('as a subreaper: its descendants only, through the children files', () => {
    self(50);
    add(1, 0, 1, 'systemd', 'S', [40]);
    add(40, 1, 40, 'shell', 'S', [50, 99]);
    add(99, 40, 99, 'sibling');
    add(50, 40, 40, 'tini-ts', 'S', [51, 60]);
    add(51, 50, 51, 'app', 'S', [52]);
    add(52, 51, 51, 'worker');
    add(60, 50, 60, 'daemon');
    expect(listReachable(50, proc)?.map((p) => p.pid).sort()).toEqual([51, 52, 60]);
  });

  it('as a subreaper on a kernel without children files: the parent chains', () => {
    self(50);
    add(1, 0, 1, 'systemd', 'S', null);
    add(50, 1, 50, 'tini-ts', 'S', null);
    add(51, 50, 51, 'app', 'S', null);
    add(52, 51, 51, 'worker', 'S', null);
    add(53, 51, 51, 'dead', 'Z', null);
    add(99, 1, 99, 'other', 'S', null);
    expect(listReachable(50, proc)?.map((p) => p.pid).sort()).toEqual([51, 52]);
  });

  it('null when /proc is not this pid namespace\'s (its self is another pid), or missing', () => {
    self(4242);
    add(1, 0, 1, 'host-init', 'S', [4242]);
    add(4242, 1, 4242, 'x');
    expect(listReachable(1, proc)).toBeNull();
    expect(listReachable(1, path.join(proc, 'nope'))).toBeNull();
  });
});
