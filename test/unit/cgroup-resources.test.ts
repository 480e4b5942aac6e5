/**
 * The controllers take an OCI LinuxResources: a config.json's
 * linux.resources, checked as a create takes it, reaches each v1 and v2
 * controller of a fake cgroupfs tree under the spec's names; `run`'s
 * docker-style flags become the same resources (one translation); the
 * hierarchies joined and the device rules are the cgroup's set-up, not
 * resources.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eachTempDir, put, read } from '../helpers/fake-cgroup.js';
import { openCgroup } from '../../src/cgroup/index.js';
import type { LinuxResources } from '../../src/cgroup/types.js';
import { DENY_ALL } from '../../src/cgroup/v1/devices.js';
import { controllersFor as v1For } from '../../src/cgroup/v1/index.js';
import { blkioToIoWeight } from '../../src/cgroup/v2/io.js';
import { sharesToWeight } from '../../src/cgroup/v2/cpu.js';
import { caught, render, runError } from '../../src/libc/error.js';
import { parseRunArgs } from '../../src/cli/run-options.js';
import { checkResources, resourceNamed } from '../../src/runtime/container.js';
import { parseConfig } from '../../src/runtime/oci/config.js';

let root: string;
let levels: string;
eachTempDir('tini-ts-cgres-', (d) => (root = d));
eachTempDir('tini-ts-cgreslevels-', (d) => (levels = d));

/** A config.json's linux.resources as the launcher hands it to the cgroup: parsed, then checked for a create. */
function fromBundle(resources: unknown, cpuCount = 2): LinuxResources {
  const parsed = parseConfig(JSON.stringify({ ociVersion: '1.0.2', process: { args: ['true'], cwd: '/' }, root: { path: 'rootfs' }, linux: { namespaces: [{ type: 'mount' }], resources } }), '/bundle');
  if (!parsed.ok) throw new Error(parsed.error);
  const checked = checkResources(parsed.plan.resources, cpuCount);
  if (!checked.ok) throw new Error(render(checked.error));
  return checked.value;
}

const BUNDLE = {
  memory: { limit: 64 << 20, reservation: 32 << 20, swap: 96 << 20, disableOOMKiller: true },
  cpu: { shares: 512, quota: 20000, period: 50000, cpus: '1', mems: '0' },
  pids: { limit: 32 },
  blockIO: {
    weight: 300,
    throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
    throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 2048 }],
    throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 50 }],
    throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
  },
  devices: [{ allow: false, access: 'rwm' }],
};

describe('each controller applies a bundle\'s linux.resources', () => {
  it('v1: every file under its spec field, the bundle\'s cpu period included', () => {
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'devices']) put(path.join(root, c, 'cgroup.procs'));
    put(path.join(root, 'cpuset', 'cpuset.cpus'), '0-1\n');
    put(path.join(root, 'cpuset', 'cpuset.mems'), '0\n');
    const resources = fromBundle(BUNDLE);
    // device rules are the set-up's (the bundle's, then runc's defaults), never written from the resources
    expect(resources.devices).toBeUndefined();
    const devices = [DENY_ALL, { allow: true, type: 'c' as const, major: 1, minor: 3, access: 'rwm' }];
    const cg = openCgroup(root, 'c1', resources, { devices }, 1, 'tini-ts', levels);
    cg.create();
    const dir = (c: string) => path.join(root, c, 'tini-ts', 'c1');
    put(path.join(dir('memory'), 'memory.memsw.limit_in_bytes'), '9223372036854771712');
    put(path.join(dir('blkio'), 'blkio.weight'), '500');
    cg.apply(resources);
    expect(read(path.join(dir('memory'), 'memory.limit_in_bytes'))).toBe(String(64 << 20));
    expect(read(path.join(dir('memory'), 'memory.memsw.limit_in_bytes'))).toBe(String(96 << 20));
    expect(read(path.join(dir('memory'), 'memory.soft_limit_in_bytes'))).toBe(String(32 << 20));
    expect(read(path.join(dir('memory'), 'memory.oom_control'))).toBe('1');
    expect(read(path.join(dir('pids'), 'pids.max'))).toBe('32');
    expect(read(path.join(dir('cpu'), 'cpu.cfs_period_us'))).toBe('50000');
    expect(read(path.join(dir('cpu'), 'cpu.cfs_quota_us'))).toBe('20000');
    expect(read(path.join(dir('cpu'), 'cpu.shares'))).toBe('512');
    expect(read(path.join(dir('cpuset'), 'cpuset.cpus'))).toBe('1');
    expect(read(path.join(dir('cpuset'), 'cpuset.mems'))).toBe('0');
    expect(read(path.join(dir('blkio'), 'blkio.weight'))).toBe('300');
    // a fake file keeps the last line written: one device per list here but the read iops one
    expect(read(path.join(dir('blkio'), 'blkio.throttle.read_bps_device'))).toBe('8:0 1048576');
    expect(read(path.join(dir('blkio'), 'blkio.throttle.write_bps_device'))).toBe('8:16 2048');
    expect(read(path.join(dir('blkio'), 'blkio.throttle.read_iops_device'))).toBe('8:0 50');
    expect(read(path.join(dir('blkio'), 'blkio.throttle.write_iops_device'))).toBe('8:0 100');
    expect(read(path.join(dir('devices'), 'devices.deny'))).toBe('a');
    expect(read(path.join(dir('devices'), 'devices.allow'))).toBe('c 1:3 rwm');
  });

  it('v2: the same resources in v2 terms (swap alone, weights converted, io.max per device)', () => {
    put(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    put(path.join(root, 'cgroup.subtree_control'));
    put(path.join(root, 'cgroup.procs'));
    const { disableOOMKiller: _, ...memory } = BUNDLE.memory; // the launcher drops it on v2, with a warning
    const resources = fromBundle({ ...BUNDLE, memory });
    const cg = openCgroup(root, 'c1', resources, {}, 2, 'tini-ts', levels);
    cg.create();
    expect(read(path.join(root, 'cgroup.subtree_control'))).toBe('+memory +pids +cpu +cpuset +io');
    const dir = path.join(root, 'tini-ts', 'c1');
    put(path.join(dir, 'memory.swap.max'), 'max');
    put(path.join(dir, 'io.weight'), 'default 100');
    cg.apply(resources);
    expect(read(path.join(dir, 'memory.max'))).toBe(String(64 << 20));
    expect(read(path.join(dir, 'memory.swap.max'))).toBe(String(32 << 20));
    expect(read(path.join(dir, 'memory.low'))).toBe(String(32 << 20));
    expect(read(path.join(dir, 'pids.max'))).toBe('32');
    expect(read(path.join(dir, 'cpu.max'))).toBe('20000 50000');
    expect(read(path.join(dir, 'cpu.weight'))).toBe(String(sharesToWeight(512)));
    expect(read(path.join(dir, 'cpuset.cpus'))).toBe('1');
    expect(read(path.join(dir, 'cpuset.mems'))).toBe('0');
    expect(read(path.join(dir, 'io.weight'))).toBe(`default ${blkioToIoWeight(300)}`);
    // the last line written: device 8:16's (8:0's carries rbps, riops and wiops)
    expect(read(path.join(dir, 'io.max'))).toBe('8:16 wbps=2048');
  });

  it('a resources object that names nothing writes nothing, and joins only what the report reads', () => {
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) put(path.join(root, c, 'cgroup.procs'));
    const resources = fromBundle({ memory: { limit: -1, swap: -1 }, pids: { limit: 0 }, cpu: { quota: -1, period: 50000 } });
    expect(resources).toEqual({});
    expect(v1For(resources)).toEqual(['memory', 'pids', 'cpu', 'cpuacct']);
    const cg = openCgroup(root, 'c1', resources, {}, 1, 'tini-ts', levels);
    cg.create();
    cg.apply(resources);
    expect(() => read(path.join(root, 'cpu', 'tini-ts', 'c1', 'cpu.cfs_period_us'))).toThrow(/ENOENT/);
    expect(() => read(path.join(root, 'pids', 'tini-ts', 'c1', 'pids.max'))).toThrow(/ENOENT/);
  });
});

describe('run\'s flags: one translation into the same resources', () => {
  const env = { cpuCount: 2, cwd: '/', deviceNumber: (p: string) => (p === '/dev/sda' ? { major: 8, minor: 0 } : `${p} is not a block device`) };
  it('the flags give what docker writes into a config.json for them', () => {
    const r = parseRunArgs(
      ['-m', '64m', '--memory-swap', '96m', '--pids', '32', '--cpus', '0.2', '--cpu-shares', '512', '--cpuset-cpus', '1', '--memory-swappiness', '10',
        '--blkio-weight', '300', '--device-read-bps', '/dev/sda:1mb', '--device-write-iops', '/dev/sda:100', '--', 'true'],
      env,
    );
    if (r.kind !== 'run') throw new Error(r.stderr);
    expect(r.options.limits).toEqual(
      fromBundle({
        memory: { limit: 64 << 20, swap: 96 << 20, swappiness: 10 },
        pids: { limit: 32 },
        cpu: { quota: 20000, period: 100000, shares: 512, cpus: '1' },
        blockIO: { weight: 300, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1 << 20 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }] },
      }),
    );
  });
});

describe('checkResources: a create and an update', () => {
  it('a create leaves out what asks for the kernel\'s default; an update keeps -1, which removes a limit', () => {
    const asked: LinuxResources = { memory: { limit: -1, reservation: -1 }, pids: { limit: -1 }, cpu: { quota: -1, period: 50000 } };
    expect(checkResources(asked, 2)).toEqual({ ok: true, value: { memory: { reservation: -1 } } });
    expect(checkResources(asked, 2, 'resources', true)).toEqual({ ok: true, value: asked });
  });

  it('refuses with the field under the caller\'s object', () => {
    const said = (r: LinuxResources, at?: string) => {
      const c = checkResources(r, 2, at);
      return c.ok ? 'accepted' : render(c.error);
    };
    expect(said({ memory: { limit: 64 << 20, swap: 32 << 20 } })).toBe('linux.resources.memory.swap: must be at least memory.limit (memory plus swap), or -1');
    expect(said({ cpu: { cpus: '0-3' } }, 'resources')).toBe('resources.cpu.cpus: CPU 3 does not exist (CPUs 0-1)');
  });
});

describe('a cgroup error under the name its user gave the value', () => {
  const failure = (field: string) => runError('needs the CFQ or BFQ I/O scheduler', { field });
  it('run: the flag; a bundle: the config.json field', () => {
    expect(render(resourceNamed(failure('blockIO.weight'), false))).toBe('--blkio-weight: needs the CFQ or BFQ I/O scheduler');
    expect(render(resourceNamed(failure('memory.swappiness'), false))).toBe('--memory-swappiness: needs the CFQ or BFQ I/O scheduler');
    expect(render(resourceNamed(failure('blockIO.weight'), true))).toBe('config.json: linux.resources.blockIO.weight: needs the CFQ or BFQ I/O scheduler');
  });

  it('a v2 refusal from a flag names the flag', () => {
    put(path.join(root, 'cgroup.controllers'), 'cpu memory pids\n');
    put(path.join(root, 'cgroup.subtree_control'));
    put(path.join(root, 'cgroup.procs'));
    const r = parseRunArgs(['--memory-swappiness', '0', '--', 'true'], { cpuCount: 2, cwd: '/' });
    if (r.kind !== 'run') throw new Error(r.stderr);
    const cg = openCgroup(root, 'c1', r.options.limits, {}, 2, 'tini-ts', levels);
    cg.create();
    let said = 'applied';
    try {
      cg.apply(r.options.limits);
    } catch (e) {
      said = render(resourceNamed(caught(e, 'cgroup set-up failed'), false));
    }
    expect(said).toBe('--memory-swappiness: cgroup v2 has no per-cgroup swappiness (only v1 has memory.swappiness)');
  });
});
