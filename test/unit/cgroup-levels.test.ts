/**
 * The records of --cgroup-parent levels a launcher made (cgroup/levels.ts),
 * on plain directories: a dead owner's empty levels and record are swept,
 * and so is what a launcher killed while writing its record left (the
 * temporary copy, an empty records directory).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readRecord, sweepLevels, writeRecord } from '../../src/cgroup/levels.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function setup() {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-levels-'));
  dirs.push(base);
  const run = path.join(base, 'run');
  const records = path.join(run, 'cgroup-levels');
  const level = (name: string) => {
    const d = path.join(base, 'tree', name);
    fs.mkdirSync(d, { recursive: true });
    return d;
  };
  return { base, run, records, level };
}

const DEAD = '100-200-abc';
const LIVE = '300-400-def';
const isDead = (owner: string) => owner === DEAD;

describe('cgroup levels records', () => {
  it('records levels with their inodes, and a sweep removes a dead owner\'s empty ones, its record, then the empty directories', () => {
    const { run, records, level } = setup();
    const outer = level('a');
    const inner = level('a/b');
    writeRecord(records, DEAD, [outer, inner]);
    expect(readRecord(records, DEAD).map((l) => l.dir)).toEqual([outer, inner]);
    expect(readRecord(records, DEAD).every((l) => /^[0-9]+$/.test(l.ino ?? ''))).toBe(true);
    expect(sweepLevels(records, isDead)).toEqual({ removed: [outer, inner], busy: [] });
    expect(fs.existsSync(outer)).toBe(false);
    expect(fs.existsSync(records)).toBe(false);
    expect(fs.existsSync(run)).toBe(false);
  });

  it("keeps a live owner's record and levels, and a level still in use", () => {
    const { records, level } = setup();
    const mine = level('live');
    writeRecord(records, LIVE, [mine]);
    const busy = level('dead');
    level('dead/other-launcher');
    writeRecord(records, DEAD, [busy]);
    expect(sweepLevels(records, isDead)).toEqual({ removed: [], busy: [busy] });
    expect(fs.readdirSync(records).sort()).toEqual([DEAD, LIVE]);
    expect(fs.existsSync(mine)).toBe(true);
  });

  it('removes what a launcher killed while writing its record left: its temporary copy, an empty records directory', () => {
    const { run, records, level } = setup();
    fs.mkdirSync(records, { recursive: true });
    fs.writeFileSync(path.join(records, `${DEAD}.tmp`), `- ${level('x')}\n`);
    fs.writeFileSync(path.join(records, `${LIVE}.tmp`), '');
    sweepLevels(records, isDead);
    expect(fs.readdirSync(records)).toEqual([`${LIVE}.tmp`]); // a live launcher renames its own
    fs.rmSync(path.join(records, `${LIVE}.tmp`));
    sweepLevels(records, isDead);
    expect(fs.existsSync(run)).toBe(false);
  });

  it('makes the records directory again if it is gone when a record is written', () => {
    const { records, level } = setup();
    const l = level('y');
    writeRecord(records, LIVE, [l]);
    fs.rmSync(records, { recursive: true });
    writeRecord(records, LIVE, [l]);
    expect(readRecord(records, LIVE).map((r) => r.dir)).toEqual([l]);
  });
});
