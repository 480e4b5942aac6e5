/**
 * The controller lists (one entry per controller, the cgroup uses those its
 * limits need), block I/O on v1 (blkio) and v2 (io), memory swappiness, and
 * the new limits from the command line and from config.json.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eachTempDir, put, read } from '../helpers/fake-cgroup.js';
import { openCgroup } from '../../src/cgroup/index.js';
import type { LinuxResources } from '../../src/cgroup/types.js';
import { RunFailure } from '../../src/libc/error.js';
import { CONTROLLERS as V1, controllersFor as v1For } from '../../src/cgroup/v1/index.js';
import { CONTROLLERS as V2, controllersFor as v2For } from '../../src/cgroup/v2/index.js';
import { blkioToIoWeight, ioMaxLines } from '../../src/cgroup/v2/io.js';
import { parseRunArgs } from '../../src/cli/run-options.js';
import { parseConfig } from '../../src/runtime/oci/config.js';

let root: string;
let levels: string;
eachTempDir('tini-ts-cgio-', (d) => (root = d));
eachTempDir('tini-ts-cglevels-', (d) => (levels = d));

const throttle = {
  throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
  throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
};

describe('controllers as lists', () => {
  it('a cgroup uses the controllers its resources name, those the report always reads, and those its set-up joins', () => {
    expect(V1.map((c) => c.name)).toEqual(['memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'devices', 'blkio', 'freezer']);
    expect(V2.map((c) => c.name)).toEqual(['memory', 'pids', 'cpu', 'cpuset', 'io']);
    expect(v1For({})).toEqual(['memory', 'pids', 'cpu', 'cpuacct']);
    expect(v1For({ blockIO: throttle, cpu: { cpus: '0' } })).toEqual(['memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'blkio']);
    expect(v2For({ blockIO: { weight: 500 } })).toEqual(['memory', 'pids', 'cpu', 'io']);
    expect(v2For({ cpu: { mems: '0' } })).toEqual(['memory', 'pids', 'cpu', 'cpuset']);
    // an empty throttle list names nothing
    expect(v1For({ blockIO: { throttleReadBpsDevice: [] } })).toEqual(['memory', 'pids', 'cpu', 'cpuacct']);
    // an OCI container joins blkio and cpuset without limits (engines read its block I/O there), and the freezer
    expect(v1For({}, { everyController: true, freezable: true })).toEqual(['memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'blkio', 'freezer']);
    expect(v2For({}, { everyController: true, freezable: true })).toEqual(['memory', 'pids', 'cpu']);
  });
});

describe('block I/O and swappiness on fake trees', () => {
  it('v1: blkio throttles as "MAJOR:MINOR RATE", the weight where the scheduler has one, swappiness', () => {
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct', 'blkio']) put(path.join(root, c, 'cgroup.procs'));
    const limits: LinuxResources = { blockIO: throttle, memory: { swappiness: 10 } };
    const cg = openCgroup(root, 'run1', limits, {}, 1, 'tini-ts', levels);
    cg.create();
    cg.apply(limits);
    const blkio = path.join(root, 'blkio', 'tini-ts', 'run1');
    expect(read(path.join(blkio, 'blkio.throttle.read_bps_device'))).toBe('8:0 1048576');
    expect(read(path.join(blkio, 'blkio.throttle.write_iops_device'))).toBe('8:0 100');
    expect(read(path.join(root, 'memory', 'tini-ts', 'run1', 'memory.swappiness'))).toBe('10');
    // no CFQ/BFQ weight file: the weight is refused, naming what it needs
    expect(() => cg.apply({ blockIO: { weight: 300 } })).toThrow(/needs the CFQ or BFQ I\/O scheduler/);
    put(path.join(blkio, 'blkio.bfq.weight'), '100');
    cg.apply({ blockIO: { weight: 300 } });
    expect(read(path.join(blkio, 'blkio.bfq.weight'))).toBe('300');
  });

  it('v2: io.max keys per device, io.weight as runc converts it; swappiness refused (no v2 file)', () => {
    put(path.join(root, 'cgroup.controllers'), 'cpu io memory pids\n');
    put(path.join(root, 'cgroup.subtree_control'));
    put(path.join(root, 'cgroup.procs'));
    const limits: LinuxResources = { blockIO: { ...throttle, weight: 500 } };
    const cg = openCgroup(root, 'run1', limits, {}, 2, 'tini-ts', levels);
    cg.create();
    expect(read(path.join(root, 'cgroup.subtree_control'))).toBe('+memory +pids +cpu +io');
    const dir = path.join(root, 'tini-ts', 'run1');
    put(path.join(dir, 'io.weight'), 'default 100\n');
    cg.apply(limits);
    expect(read(path.join(dir, 'io.max'))).toBe('8:0 rbps=1048576 wiops=100');
    expect(read(path.join(dir, 'io.weight'))).toBe(`default ${blkioToIoWeight(500)}`);
    expect(() => cg.apply({ memory: { swappiness: 10 } })).toThrow(RunFailure);
  });

  it('conversions: one io.max line per device; blkio weight 10..1000 onto 1..10000 as runc', () => {
    expect(ioMaxLines({ ...throttle, throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 5 }] })).toEqual(['8:0 rbps=1048576 wiops=100', '8:16 wbps=5']);
    expect([10, 500, 1000].map(blkioToIoWeight)).toEqual([1, 4950, 10000]);
  });
});

describe('the new limits from the command line and from config.json', () => {
  const env = { cpuCount: 2, cwd: '/', deviceNumber: (p: string) => (p === '/dev/sda' ? { major: 8, minor: 0 } : `${p} is not a block device`) };
  it('docker-style flags: rates with sizes, a later flag for the same device replaces the earlier one', () => {
    const r = parseRunArgs(['--device-read-bps', '/dev/sda:1mb', '--device-read-bps', '/dev/sda:2mb', '--device-write-iops', '/dev/sda:100', '--blkio-weight', '300', '--memory-swappiness', '0', '--', 'true'], env);
    expect(r.kind).toBe('run');
    if (r.kind !== 'run') return;
    expect(r.options.limits).toEqual({
      blockIO: {
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 2 << 20 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
        weight: 300,
      },
      memory: { swappiness: 0 },
    });
  });

  it('bad values: one line each', () => {
    const bad = (args: string[]) => {
      const r = parseRunArgs([...args, '--', 'true'], env);
      return r.kind === 'exit' ? r.stderr : 'accepted';
    };
    expect(bad(['--device-read-bps', '/dev/null:1mb'])).toContain('/dev/null is not a block device');
    expect(bad(['--device-read-bps', '/dev/sda'])).toContain("is not DEVICE:RATE");
    expect(bad(['--device-read-iops', '/dev/sda:1k'])).toContain('not a whole number');
    expect(bad(['--blkio-weight', '5'])).toContain('from 10 to 1000');
    expect(bad(['--memory-swappiness', '101'])).toContain('from 0 to 100');
  });

  it('config.json: linux.resources.blockIO, memory.swappiness; the cpu period is kept', () => {
    const plan = parseConfig(
      JSON.stringify({
        ociVersion: '1.0.2',
        process: { args: ['true'], cwd: '/' },
        root: { path: 'rootfs' },
        linux: {
          namespaces: [{ type: 'mount' }, { type: 'pid' }],
          resources: {
            memory: { swappiness: 5 },
            cpu: { quota: 20000, period: 50000 },
            blockIO: { weight: 200, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1024 }], throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 7 }] },
          },
        },
      }),
      '/bundle',
    );
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.plan.resources).toEqual({
      memory: { swappiness: 5 },
      cpu: { quota: 20000, period: 50000 },
      blockIO: { weight: 200, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1024 }], throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 7 }] },
    });
    const bad = parseConfig(JSON.stringify({ ociVersion: '1.0.2', process: { args: ['true'], cwd: '/' }, root: { path: 'r' }, linux: { namespaces: [{ type: 'mount' }], resources: { blockIO: { weight: 2000 } } } }), '/bundle');
    expect(bad).toMatchObject({ ok: false });
  });
});
