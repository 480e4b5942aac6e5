/**
 * OCI update on fake cgroupfs trees: the container's existing cgroup gets
 * the new values through each version's controller list; a controller the
 * container has no cgroup of refuses the whole update before any write.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { eachTempDir, put, read } from '../helpers/fake-cgroup.js';
import { updateCgroup } from '../../src/cgroup/update.js';
import { render, type Outcome } from '../../src/libc/error.js';

/** What an update said: null when done, else its one line. */
const said = (r: Outcome<void>) => (r.ok ? null : render(r.error));

let root: string;

eachTempDir('tini-ts-cgupdate-', (d) => (root = d));

describe('update on a fake v2 tree', () => {
  const dir = () => path.join(root, 'docker', 'c1');
  beforeEach(() => {
    for (const f of ['memory.max', 'memory.swap.max', 'pids.max', 'cpu.max', 'cpu.weight', 'cpuset.cpus', 'cpuset.mems', 'io.weight']) put(path.join(dir(), f), 'max\n');
  });

  it('writes every value in v2 terms into the one directory', () => {
    const e = said(updateCgroup(root, 2, [dir()], { memory: { limit: 64 << 20, swap: 128 << 20 }, pids: { limit: 50 }, cpu: { quota: 10_000, period: 50_000, shares: 1024, cpus: '0', mems: '0' }, blockIO: { weight: 300 } }));
    expect(e).toBeNull();
    expect(read(path.join(dir(), 'memory.max'))).toBe(String(64 << 20));
    expect(read(path.join(dir(), 'memory.swap.max'))).toBe(String(64 << 20)); // memory plus swap, less the memory
    expect(read(path.join(dir(), 'pids.max'))).toBe('50');
    expect(read(path.join(dir(), 'cpu.max'))).toBe('10000 50000');
    expect(read(path.join(dir(), 'cpu.weight'))).toBe('39');
    expect(read(path.join(dir(), 'cpuset.cpus'))).toBe('0');
    expect(read(path.join(dir(), 'cpuset.mems'))).toBe('0');
    expect(read(path.join(dir(), 'io.weight'))).toBe('default 2930'); // runc's conversion of the blkio weight
  });

  it('touches only what the update names', () => {
    expect(said(updateCgroup(root, 2, [dir()], { pids: { limit: 7 } }))).toBeNull();
    expect(read(path.join(dir(), 'pids.max'))).toBe('7');
    for (const f of ['memory.max', 'cpu.max', 'cpuset.cpus']) expect(read(path.join(dir(), f))).toBe('max\n');
  });

  it('-1 removes a limit: max', () => {
    expect(said(updateCgroup(root, 2, [dir()], { memory: { limit: -1, swap: -1 }, pids: { limit: -1 }, cpu: { quota: -1, period: 50_000 } }))).toBeNull();
    expect(read(path.join(dir(), 'memory.max'))).toBe('max');
    expect(read(path.join(dir(), 'memory.swap.max'))).toBe('max');
    expect(read(path.join(dir(), 'pids.max'))).toBe('max');
    expect(read(path.join(dir(), 'cpu.max'))).toBe('max 50000');
  });

  it('a container whose cgroup is gone: one line, nothing written', () => {
    fs.rmSync(dir(), { recursive: true });
    expect(said(updateCgroup(root, 2, [dir()], { pids: { limit: 7 } }))).toBe('the container has no pids cgroup (it was created without that controller)');
    expect(fs.existsSync(dir())).toBe(false);
  });
});

describe('update on a fake v1 tree', () => {
  const dirOf = (c: string) => path.join(root, c, 'tini-ts', 'oci-c1');
  beforeEach(() => {
    put(path.join(dirOf('memory'), 'memory.limit_in_bytes'), '9223372036854771712\n');
    put(path.join(dirOf('memory'), 'memory.memsw.limit_in_bytes'), String(32 << 20));
    put(path.join(dirOf('pids'), 'pids.max'), 'max\n');
    put(path.join(dirOf('cpu'), 'cpu.shares'), '1024\n');
  });
  const dirs = () => ['memory', 'pids', 'cpu'].map(dirOf);

  it('writes each value in its hierarchy; memsw first when the new memory limit is above the old memsw', () => {
    expect(said(updateCgroup(root, 1, dirs(), { memory: { limit: 64 << 20, swap: 128 << 20 }, pids: { limit: 9 }, cpu: { shares: 512 } }))).toBeNull();
    expect(read(path.join(dirOf('memory'), 'memory.limit_in_bytes'))).toBe(String(64 << 20));
    expect(read(path.join(dirOf('memory'), 'memory.memsw.limit_in_bytes'))).toBe(String(128 << 20));
    expect(read(path.join(dirOf('pids'), 'pids.max'))).toBe('9');
    expect(read(path.join(dirOf('cpu'), 'cpu.shares'))).toBe('512');
  });

  it('-1 removes a limit: memory and memory+swap -1, pids max, quota -1 with the period given', () => {
    expect(said(updateCgroup(root, 1, dirs(), { memory: { limit: -1 }, pids: { limit: -1 }, cpu: { quota: -1, period: 50_000 } }))).toBeNull();
    expect(read(path.join(dirOf('memory'), 'memory.limit_in_bytes'))).toBe('-1');
    expect(read(path.join(dirOf('memory'), 'memory.memsw.limit_in_bytes'))).toBe('-1');
    expect(read(path.join(dirOf('pids'), 'pids.max'))).toBe('max');
    expect(read(path.join(dirOf('cpu'), 'cpu.cfs_quota_us'))).toBe('-1');
    expect(read(path.join(dirOf('cpu'), 'cpu.cfs_period_us'))).toBe('50000');
  });

  it('device rules are set at creation only: an update never writes them', () => {
    put(path.join(dirOf('devices'), 'devices.allow'), '');
    expect(said(updateCgroup(root, 1, [...dirs(), dirOf('devices')], { devices: [{ allow: true, type: 'a', major: null, minor: null, access: 'rwm' }] }))).toBeNull();
    expect(read(path.join(dirOf('devices'), 'devices.allow'))).toBe('');
  });

  it('a controller the container has no cgroup in (cpuset): refused before any write', () => {
    expect(said(updateCgroup(root, 1, dirs(), { pids: { limit: 9 }, cpu: { cpus: '0' } }))).toBe('the container has no cpuset cgroup (it was created without that controller)');
    expect(read(path.join(dirOf('pids'), 'pids.max'))).toBe('max\n');
  });
});
