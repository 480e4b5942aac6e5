/** The cgroup v1 devices controller: rules in order as runc applies them, and what is written. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DeviceRule } from '../../src/cgroup/types.js';
import { DEFAULT_ALLOWED, DENY_ALL, effectiveRules, ruleLine } from '../../src/cgroup/v1/devices.js';
import { CgroupV1, controllersFor } from '../../src/cgroup/v1/index.js';
import { openCgroup } from '../../src/cgroup/index.js';

const c = (major: number | null, minor: number | null, access = 'rwm', allow = true): DeviceRule => ({ allow, type: 'c', major, minor, access });

describe('device rules', () => {
  it("docker's and runc's default: deny everything, then the standard devices and mknod of any", () => {
    const e = effectiveRules([DENY_ALL, ...DEFAULT_ALLOWED]);
    expect(e.allowByDefault).toBe(false);
    expect(e.exceptions.map(ruleLine)).toEqual([
      'c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 1:8 rwm', 'c 1:7 rwm', 'c 5:0 rwm', 'c 1:5 rwm', 'c 1:9 rwm', 'c 5:1 rwm', 'c 136:* rwm', 'c 5:2 rwm', 'c 10:200 rwm',
    ]);
    // no block device may be read or written
    expect(e.exceptions.some((r) => r.type === 'b' && /[rw]/.test(r.access))).toBe(false);
  });

  it('applies in order: a rule for all devices resets; a rule agreeing with the default removes its exception', () => {
    expect(effectiveRules([])).toEqual({ allowByDefault: true, exceptions: [] });
    // no deny-all first (a bundle without device rules): allow rules change nothing
    expect(effectiveRules([...DEFAULT_ALLOWED])).toEqual({ allowByDefault: true, exceptions: [] });
    expect(effectiveRules([c(1, 3, 'rwm', false)])).toEqual({ allowByDefault: true, exceptions: [c(1, 3, 'rwm', false)] });
    expect(effectiveRules([c(1, 3, 'rwm', false), DENY_ALL, c(1, 3), c(1, 3), c(1, 5)])).toEqual({ allowByDefault: false, exceptions: [c(1, 3), c(1, 5)] });
    expect(effectiveRules([DENY_ALL, c(1, 3), c(1, 3, 'rwm', false)])).toEqual({ allowByDefault: false, exceptions: [] });
    expect(effectiveRules([DENY_ALL, c(1, 3), { ...DENY_ALL, allow: true }])).toEqual({ allowByDefault: true, exceptions: [] });
  });
});

describe('the devices controller on a fake v1 tree', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-cgdev-'));
    for (const ctl of ['memory', 'pids', 'cpu', 'cpuacct', 'devices']) {
      fs.mkdirSync(path.join(root, ctl), { recursive: true });
      fs.writeFileSync(path.join(root, ctl, 'cgroup.procs'), '');
    }
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('is used only with device rules (the set-up\'s); writes the reset to devices.deny, the exceptions to devices.allow', () => {
    expect(controllersFor({})).not.toContain('devices');
    const devices = [DENY_ALL, c(1, 3), c(136, null)];
    expect(controllersFor({}, { devices })).toContain('devices');
    const cg = openCgroup(root, '1-2-abc', {}, { devices }, 1);
    expect(cg).toBeInstanceOf(CgroupV1);
    cg.create();
    cg.apply({});
    const dir = path.join(root, 'devices', 'tini-ts', '1-2-abc');
    expect(cg.dirs).toContain(dir);
    expect(fs.readFileSync(path.join(dir, 'devices.deny'), 'utf8')).toBe('a');
    // a fake tree keeps only the last line written (cgroupfs takes them one by one)
    expect(fs.readFileSync(path.join(dir, 'devices.allow'), 'utf8')).toBe('c 136:* rwm');
    expect(cg.remove()).toBe(true);
  });
});
