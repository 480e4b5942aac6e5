/**
 * `events` (stats once, a stream with OOM events until the container stops),
 * `spec` and `features`, beside runc.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { expectNothingLeft, hasRunc, ociRoots, runtimeCall } from './oci-helpers.js';
import { canContainer, CONTAINER_NEEDS, editConfig, makeFixture, makeRuncBundle, type Fixture } from './container-helpers.js';
import { CG, CG_VERSION } from './run-helpers.js';

describe.skipIf(unmet(canContainer && hasRunc, `${CONTAINER_NEEDS} and runc`))('OCI events, spec, features', () => {
  let f: Fixture;
  let bundle: string;
  let roots: { tini: string; runc: string };
  const ids: string[] = [];
  const tini = (...args: string[]) => runtimeCall('tini', f.dir, roots.tini, args);
  const runc = (...args: string[]) => runtimeCall('runc', f.dir, roots.runc, args);
  const running = (rt: typeof tini, c: string) => {
    ids.push(c);
    expect(rt('create', '--bundle', bundle, c).status).toBe(0);
    expect(rt('start', c).status).toBe(0);
  };

  beforeAll(() => {
    f = makeFixture();
    bundle = makeRuncBundle(f, () => {});
    roots = ociRoots(f.dir);
  });
  afterAll(() => {
    expectNothingLeft(roots, () => f?.cleanup(), ids);
  });

  it('events --stats prints one stats event with the fields runc gives, from the container\'s cgroup', () => {
    editConfig(bundle, (config) => (config.process.args = ['sleep', '60']));
    const got: Record<string, Record<string, any>> = {};
    for (const [who, rt] of Object.entries({ tini, runc })) {
      const c = `ev-${who}-${process.pid}`;
      running(rt, c);
      const r = rt('events', '--stats', c);
      expect(r.status, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines, who).toHaveLength(1);
      got[who] = JSON.parse(lines[0]);
      expect(got[who], who).toMatchObject({ type: 'stats', id: c });
    }
    const d = got.tini.data;
    expect(d.pids.current).toBeGreaterThanOrEqual(2); // the init and sleep
    expect(d.memory.usage.usage).toBeGreaterThan(0);
    expect(d.cpu.usage.total).toBeGreaterThan(0);
    // Every field either gives is one of runc's (libcontainer's types.Stats; zero values are left out, so which appear varies).
    const RUNC: Record<string, string[]> = {
      data: ['cpu', 'cpuset', 'memory', 'pids', 'blkio', 'hugetlb', 'intel_rdt', 'network_interfaces'],
      cpu: ['usage', 'throttling'],
      'cpu.usage': ['total', 'percpu', 'percpu_kernel', 'percpu_user', 'kernel', 'user'],
      memory: ['cache', 'usage', 'swap', 'kernel', 'kernelTCP', 'raw'],
      'memory.usage': ['limit', 'usage', 'max', 'failcnt'],
      pids: ['current', 'limit'],
    };
    for (const [who, e] of Object.entries(got)) {
      for (const [at, allowed] of Object.entries(RUNC)) {
        const o = at.split('.').reduce((x, k) => x?.[k], at === 'data' ? e : e.data);
        expect(o, `${who} ${at}`).toBeDefined();
        for (const k of Object.keys(o)) expect(allowed, `${who}: ${at}.${k}`).toContain(k);
      }
    }
    for (const k of ['cpu', 'memory', 'pids', 'blkio']) expect(Object.keys(d)).toContain(k);
  });

  it.skipIf(CG_VERSION !== 1 || !fs.existsSync(`${CG}/memory/memory.memsw.limit_in_bytes`))('events streams stats and an oom event when the kernel kills for memory, and ends when the container stops', () => {
    editConfig(bundle, (config) => {
      config.process.args = ['sh', '-c', 'sleep 0.5; dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 0.5'];
      config.linux.resources = { ...config.linux.resources, memory: { limit: 24 << 20, swap: 24 << 20 } };
    });
    const c = `ev-oom-${process.pid}`;
    running(tini, c);
    const r = tini('events', '--interval', '100ms', c);
    editConfig(bundle, (config) => delete config.linux.resources.memory);
    expect(r.status, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events.filter((e) => e.type === 'oom')).toEqual([{ type: 'oom', id: c }]);
    expect(events.filter((e) => e.type === 'stats').length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(tini('state', c).stdout).status).toBe('stopped');
    expect(tini('events', '--stats', c).stderr.trim()).toBe(`container with id ${c} is not running`);
  });

  it('spec writes runc\'s default config.json (and its rootless form) and never overwrites one', () => {
    for (const rootless of [false, true]) {
      const dirs = { tini: path.join(f.dir, `spec-tini-${rootless}`), runc: path.join(f.dir, `spec-runc-${rootless}`) };
      const flags = rootless ? ['--rootless'] : [];
      for (const d of Object.values(dirs)) fs.mkdirSync(d);
      expect(tini('spec', '--bundle', dirs.tini, ...flags).status).toBe(0);
      expect(runc('spec', '--bundle', dirs.runc, ...flags).status).toBe(0);
      const ours = JSON.parse(fs.readFileSync(path.join(dirs.tini, 'config.json'), 'utf8'));
      const theirs = JSON.parse(fs.readFileSync(path.join(dirs.runc, 'config.json'), 'utf8'));
      expect({ ...ours, ociVersion: 'x' }).toEqual({ ...theirs, ociVersion: 'x' });
      const before = fs.readFileSync(path.join(dirs.tini, 'config.json'), 'utf8');
      const again = tini('spec', '--bundle', dirs.tini);
      expect(again.status).toBe(1);
      expect(again.stderr.trim()).toBe('File config.json exists. Remove it first');
      expect(fs.readFileSync(path.join(dirs.tini, 'config.json'), 'utf8')).toBe(before);
    }
    // the default spec, run as is but without a terminal, runs on tini-ts
    const d = path.join(f.dir, 'spec-tini-false');
    editConfig(d, (config) => {
      config.process.terminal = false;
      config.process.args = ['true'];
    });
    fs.symlinkSync(path.join(bundle, 'rootfs'), path.join(d, 'rootfs'));
    const c = `spec-run-${process.pid}`;
    ids.push(c);
    expect(tini('create', '--bundle', d, c).status).toBe(0);
  });

  it('features says what tini-ts honours, in runc\'s document shape', () => {
    const ours = JSON.parse(tini('features').stdout);
    const theirs = JSON.parse(runc('features').stdout);
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    expect(Object.keys(ours.linux).sort()).toEqual(Object.keys(theirs.linux).sort());
    expect(ours.hooks).toEqual(theirs.hooks);
    expect(ours.linux.namespaces).toEqual(theirs.linux.namespaces.filter((n: string) => n !== 'user'));
    expect(ours.linux.capabilities).toEqual(theirs.linux.capabilities);
    expect(ours.linux.cgroup).toEqual({ v1: true, v2: true, systemd: false, systemdUser: false });
    expect(ours.linux.seccomp).toMatchObject({ enabled: true, supportedFlags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'] });
    // runc 1.1 predates the spec's knownFlags/supportedFlags: its keys are a subset.
    for (const k of Object.keys(theirs.linux.seccomp)) expect(ours.linux.seccomp).toHaveProperty(k);
    expect(ours.linux.seccomp.operators).toEqual(theirs.linux.seccomp.operators);
    for (const a of ours.linux.seccomp.actions) expect(theirs.linux.seccomp.actions).toContain(a);
    for (const o of ['ro', 'nosuid', 'rbind', 'rprivate', 'strictatime']) expect(ours.mountOptions).toContain(o);
  });
});
