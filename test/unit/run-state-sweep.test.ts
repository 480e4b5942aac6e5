/** The sweep of /run/tini-ts/NAME state directories left by launchers that died (SIGKILL). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeStateDir, sweepStaleState } from '../../src/runtime/container.js';

let base: string;
let stateRoot: string;
beforeEach(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-statesweep-'));
  stateRoot = path.join(base, 'run');
});
afterEach(() => fs.rmSync(base, { recursive: true, force: true }));

const make = (name: string) => {
  const dir = path.join(stateRoot, name);
  fs.mkdirSync(path.join(dir, 'upper', 'etc'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'upper', 'etc', 'x'), 'x');
  return dir;
};

describe('sweepStaleState', () => {
  it('removes only the directories whose owner (pid and start time) is gone, and the root once empty', () => {
    const dead = make('100-5000-aaaaaa');
    const alive = make('200-6000-bbbbbb');
    const other = make('not-ours');
    const isAlive = (pid: number, start: string) => pid === 200 && start === '6000';
    expect(sweepStaleState(stateRoot, isAlive)).toEqual({ removed: [dead], kept: [] });
    expect(fs.existsSync(dead)).toBe(false);
    expect(fs.existsSync(alive)).toBe(true);
    expect(fs.existsSync(other)).toBe(true);
    fs.rmSync(alive, { recursive: true });
    fs.rmSync(other, { recursive: true });
    make('300-7000-cccccc');
    expect(sweepStaleState(stateRoot, () => false).removed).toHaveLength(1);
    expect(fs.existsSync(stateRoot)).toBe(false);
  });

  it('a pid reused by another process (other start time) does not keep a stale directory', () => {
    const dir = make(`${process.pid}-1-dddddd`);
    expect(sweepStaleState(stateRoot).removed).toEqual([dir]);
  });

  it("also removes the overlay's work directory recorded beside a kept --upper, and nothing else", () => {
    const dir = make('100-5000-eeeeee');
    const work = fs.mkdtempSync(path.join(base, '.tini-ts-work-'));
    const upper = path.join(base, 'upper');
    fs.mkdirSync(upper);
    fs.writeFileSync(path.join(dir, 'work-dir'), work);
    expect(sweepStaleState(stateRoot, () => false).removed).toEqual([dir]);
    expect(fs.existsSync(work)).toBe(false);
    expect(fs.existsSync(upper)).toBe(true);
    // a recorded path that is not an overlay work directory is never removed
    const dir2 = make('100-5000-ffffff');
    fs.writeFileSync(path.join(dir2, 'work-dir'), upper);
    sweepStaleState(stateRoot, () => false);
    expect(fs.existsSync(upper)).toBe(true);
  });

  it('sweeps only the state of launchers with the same --cgroup-parent (recorded; none recorded: the default)', () => {
    const plain = make('100-5000-aaaaaa');
    const ci = make('101-5000-bbbbbb');
    fs.writeFileSync(path.join(ci, 'cgroup-parent'), 'ci/job-1');
    expect(sweepStaleState(stateRoot, () => false, 'ci/job-2').removed).toEqual([]);
    expect(sweepStaleState(stateRoot, () => false, 'ci/job-1').removed).toEqual([ci]);
    expect(fs.existsSync(plain)).toBe(true);
    expect(sweepStaleState(stateRoot, () => false).removed).toEqual([plain]);
  });

  it('no state root: nothing to do', () => {
    expect(sweepStaleState(path.join(base, 'missing'), () => false)).toEqual({ removed: [], kept: [] });
  });
});

describe('makeStateDir', () => {
  const enoent = () => Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  it("makes the root again when another launcher's sweep removed it (empty) between the two mkdirs", () => {
    const calls: string[] = [];
    let lost = 2;
    makeStateDir('/run/tini-ts/c1', (p) => {
      calls.push(p);
      if (p === '/run/tini-ts/c1' && lost-- > 0) throw enoent();
    });
    expect(calls).toEqual(['/run/tini-ts', '/run/tini-ts/c1', '/run/tini-ts', '/run/tini-ts/c1', '/run/tini-ts', '/run/tini-ts/c1']);
  });

  it('gives up after a few rounds, and on any other error at once', () => {
    expect(() => makeStateDir('/r/c', (p) => { if (p === '/r/c') throw enoent(); })).toThrow('ENOENT');
    let n = 0;
    expect(() => makeStateDir('/r/c', (p) => { n++; if (p === '/r/c') throw Object.assign(new Error('EEXIST'), { code: 'EEXIST' }); })).toThrow('EEXIST');
    expect(n).toBe(2);
  });
});
