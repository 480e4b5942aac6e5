/**
 * The runtime's one error type: context and field rendered once, errno and
 * call kept as data; a cgroup limit's failure named as its user gave the
 * limit (a flag for run, a config.json field for a bundle, a resources field
 * for update), never in the cgroup layer's words.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openCgroup } from '../../src/cgroup/index.js';
import { updateCgroup } from '../../src/cgroup/update.js';
import { RunFailure, caught, fromSys, render, runError, within, type RunError } from '../../src/libc/error.js';
import { sysError } from '../../src/libc/errno.js';
import { checkInputs, checkResources, readConfigFile, resourceNamed } from '../../src/runtime/container.js';
import { applyRootfs } from '../../src/runtime/rootfs/apply.js';
import { limitChild, workloadRequest } from '../../src/runtime/workload.js';
import { runHooks } from '../../src/runtime/oci/hooks.js';
import { createLibc } from '../../src/libc/libc.js';
import { createNsLibc } from '../../src/libc/ns.js';
import { Store } from '../../src/container/store.js';
import type { AtLibc } from '../../src/libc/at.js';
import type { ContainerLibc } from '../../src/libc/container.js';
import type { NsLibc } from '../../src/libc/ns.js';

describe('RunError', () => {
  it('renders the context outermost first, then the field, then what failed', () => {
    const e = within(within(runError('needs swap accounting', { field: 'linux.resources.memory.swap' }), 'config.json'), 'create');
    expect(render(e)).toBe('create: config.json: linux.resources.memory.swap: needs swap accounting');
  });

  it('keeps a failed call and its errno as data', () => {
    const e = fromSys(sysError('mount(/x)', 13));
    expect(e).toMatchObject({ call: 'mount(/x)', errno: 'EACCES' });
    expect(render(within(e, 'rootfs'))).toBe('rootfs: mount(/x): EACCES');
  });

  it('a thrown RunFailure is caught as it is; anything else under the context given', () => {
    const ours = runError('x', { errno: 'EBUSY' });
    expect(caught(new RunFailure(ours), 'cgroup set-up failed')).toBe(ours);
    expect(render(caught(new Error('boom'), 'cgroup set-up failed'))).toBe('cgroup set-up failed: boom');
  });
});

const CONTROLLERS = ['memory', 'pids', 'cpu', 'cpuacct', 'cpuset'];

describe('a cgroup limit the machine cannot honour, named where the value came from', () => {
  let root: string;
  let levels: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-runerr-'));
    levels = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-runerr-levels-'));
    // cgroup v1 without swap accounting (no memory.memsw.* files)
    for (const c of CONTROLLERS) {
      fs.mkdirSync(path.join(root, c), { recursive: true });
      fs.writeFileSync(path.join(root, c, 'cgroup.procs'), '');
    }
    fs.writeFileSync(path.join(root, 'cpuset', 'cpuset.cpus'), '0-1\n');
    fs.writeFileSync(path.join(root, 'cpuset', 'cpuset.mems'), '0\n');
  });
  afterEach(() => {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(levels, { recursive: true, force: true });
  });

  const swapFailure = (): RunError => {
    const cg = openCgroup(root, 'r', { memory: { limit: 64 << 20, swap: 128 << 20 } }, {}, 1, 'tini-ts', levels);
    cg.create();
    try {
      cg.apply({ memory: { limit: 64 << 20, swap: 128 << 20 } });
    } catch (e) {
      return caught(e, 'cgroup set-up failed');
    }
    throw new Error('apply did not fail');
  };

  it('the cgroup layer names the field of its LinuxResources input, not a flag', () => {
    const e = swapFailure();
    expect(e.field).toBe('memory.swap');
    expect(e.what).not.toContain('--memory-swap');
  });

  it('run: the flag', () => {
    expect(render(resourceNamed(swapFailure(), false))).toBe('--memory-swap: needs swap accounting (memory.memsw.* files are missing; boot with swapaccount=1)');
  });

  it('a bundle: the config.json field', () => {
    expect(render(resourceNamed(swapFailure(), true))).toBe(
      'config.json: linux.resources.memory.swap: needs swap accounting (memory.memsw.* files are missing; boot with swapaccount=1)',
    );
  });

  it('update: the same failure comes back as a value with the field', () => {
    const dirs = CONTROLLERS.map((c) => path.join(root, c, 'c'));
    for (const d of dirs) fs.mkdirSync(d);
    const r = updateCgroup(root, 1, dirs, { memory: { limit: 64 << 20, swap: 128 << 20 } });
    expect(r.ok ? null : r.error.field).toBe('memory.swap');
  });
});

describe('container inputs as Outcomes', () => {
  it('checkResources names the field under the object the caller read', () => {
    const r = checkResources({ memory: { swap: 1 << 30 } }, 2, 'resources', true);
    expect(r.ok ? null : render(r.error)).toBe('resources.memory.swap: needs resources.memory.limit');
    const c = checkResources({ memory: { limit: 1 << 20 } }, 2);
    expect(c.ok ? null : render(within(c.error, 'config.json'))).toBe('config.json: linux.resources.memory.limit: at least 16 MiB (the init shares the cgroup)');
  });

  it('readConfigFile carries the errno of a missing file', () => {
    const r = readConfigFile('/nonexistent-tini-ts/config.json');
    expect(r.ok ? null : r.error).toMatchObject({ errno: 'ENOENT', call: 'open' });
    expect(r.ok ? null : render(r.error)).toBe('--bundle: /nonexistent-tini-ts/config.json: cannot open: ENOENT');
  });

  it('checkInputs: a bind source missing on the host, under config.json', () => {
    const r = checkInputs({
      rootfs: null, layers: [], upper: null, readOnly: false, volumes: [], etcFiles: false, maskedPaths: [], readonlyPaths: [], devices: [],
      mounts: [{ destination: '/data', type: 'bind', source: '/nonexistent-tini-ts', options: ['rbind'] }],
      process: {} as never, sysctl: {},
    });
    expect(r.ok ? null : render(r.error)).toBe('config.json: mounts: the source of /data (/nonexistent-tini-ts) does not exist');
  });
});

describe('applyRootfs fails with the call and its errno', () => {
  it('a refused mount: the op, the errno by name, the call', () => {
    const ns = { mount: (_s: unknown, target: string) => sysError(`mount(${target})`, 1) } as unknown as NsLibc;
    const r = applyRootfs([{ op: 'mount', source: '', target: '/', fstype: '', flags: 0, data: '' }], {
      ns, cl: {} as ContainerLibc, at: { close: () => ({ ok: true, value: undefined }) } as unknown as AtLibc, root: '/nonexistent', cgroups: [],
    });
    expect(r.ok ? null : r.error).toMatchObject({ call: 'mount(/)', errno: 'EPERM' });
    expect(r.ok ? null : render(within(r.error, 'setting up the root filesystem'))).toBe('setting up the root filesystem: mount(- at /): EPERM');
  });
});

describe('the workload set-up fails with the one error type', () => {
  it('a program missing from the root: ENOENT, the text engines match on', () => {
    const w = workloadRequest({ argv: [Buffer.from('tini-ts-no-such-program')], env: [Buffer.from('PATH=/nonexistent')], cwd: '/', programMustExist: true });
    expect(w.ok ? null : w.error.errno).toBe('ENOENT');
    expect(w.ok ? null : render(w.error)).toBe('tini-ts-no-such-program: not found in the root filesystem (along PATH)');
  });

  it('a refused prlimit keeps its call and errno', () => {
    const cl = { prlimit: () => sysError('prlimit(42)', 1) } as unknown as ContainerLibc;
    const r = limitChild(42, [{ type: 'RLIMIT_NOFILE', soft: 1, hard: 1 }], cl);
    expect(r.ok ? null : r.error).toMatchObject({ call: 'prlimit(42)', errno: 'EPERM' });
    expect(r.ok ? null : render(r.error)).toBe('setting the RLIMIT_NOFILE limit: prlimit(42) failed: EPERM');
  });
});

describe('OCI hooks fail with the one error type', () => {
  it("a hook that cannot be executed: runc's text, the spawn's errno kept", () => {
    const state = { ociVersion: '1.0.2', id: 'x', status: 'creating' as const, pid: 1, bundle: '/' };
    const r = runHooks(createLibc(), createNsLibc(), 'prestart', [{ path: '/nonexistent-tini-ts-hook', args: [], env: null, timeout: null }], state);
    expect(r.ok ? null : r.error.errno).toBe('ENOENT');
    expect(r.ok ? null : render(r.error)).toBe('error running prestart hook #0: fork/exec /nonexistent-tini-ts-hook: no such file or directory');
  });
});

describe('the OCI store', () => {
  it('claims an id once: the second claim says it is taken', () => {
    const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-store-')), 'a', 'b');
    try {
      const store = new Store(root);
      expect(store.claim('c1')).toEqual({ ok: true, value: true });
      expect(store.claim('c1')).toEqual({ ok: true, value: false });
      expect(fs.statSync(root).mode & 0o777).toBe(0o700);
      // A state file that cannot be written is an error value, never an exception (no stack trace for an engine).
      const rec = { ociVersion: '1.0.2', id: 'gone', pid: 0, pidStart: null, bundle: '/', rootfs: '/', created: '', annotations: {}, cgroupDirs: [] };
      const w = store.write(rec);
      expect(w.ok ? null : w.error.errno).toBe('ENOENT');
      expect(w.ok ? null : render(w.error)).toBe(`cannot write the container's state ${path.join(root, 'gone', 'state.json')}: ENOENT`);
    } finally {
      fs.rmSync(path.dirname(path.dirname(root)), { recursive: true, force: true });
    }
  });
});
