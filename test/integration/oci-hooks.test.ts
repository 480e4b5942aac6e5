/**
 * OCI hooks through create, start and delete: each kind at its moment, in
 * its namespaces, with the state JSON on stdin, its args, env and timeout;
 * a failing hook fails the step with runc's text and leaves nothing; a
 * failing poststop is a warning. The runtime runs with no PATH (as under
 * Podman's conmon): hooks are never looked up.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { cgroupExists, containerIds, expectNothingLeft, hasRunc, placeCgroup, runtimeCall } from './oci-helpers.js';
import { canContainer, CONTAINER_NEEDS, editConfig, makeFixture, makeRuncBundle, type Fixture } from './container-helpers.js';
import { run, waitFor } from './run-helpers.js';

const HOOK_ENV = ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'HOOKVAR=seen'];

describe.skipIf(unmet(canContainer && hasRunc, `${CONTAINER_NEEDS} and runc`))('OCI hooks', () => {
  let f: Fixture;
  let bundle: string;
  let root: string;
  let log: string;
  let hook: string;
  const { ids, id } = containerIds();
  // No PATH at all.
  const tini = (...args: string[]) => runtimeCall('tini', f.dir, root, args, { global: ['--log', path.join(f.dir, 'log.json'), '--log-format', 'json'], env: {} });
  const state = (c: string) => JSON.parse(tini('state', c).stdout);
  /** The lines hooks appended: [kind, hostname, HOOKVAR, the state JSON]. */
  const entries = (file = log): { kind: string; host: string; v: string; state: Record<string, unknown> }[] =>
    fs.existsSync(file)
      ? fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
          const [kind, host, v, ...json] = l.split(' ');
          return { kind, host, v, state: json.length ? JSON.parse(json.join(' ')) : {} };
        })
      : [];
  const setHooks = (hooks: Record<string, unknown[]>, args = ['sh', '-c', 'echo workload >>/tmp/hooks.log']) =>
    editConfig(bundle, (config) => {
      config.process.args = args;
      config.hooks = hooks;
    });
  const h = (kind: string, extra: Record<string, unknown> = {}) => ({ path: hook, args: ['hook', kind], env: HOOK_ENV, ...extra });

  beforeAll(() => {
    f = makeFixture();
    bundle = makeRuncBundle(f, (config) => (config.root.readonly = false));
    root = path.join(f.dir, 'root');
    log = path.join(f.dir, 'hooks.log');
    hook = path.join(f.dir, 'hook.sh');
    // One script for every kind: what it was called as, where (the host name tells the uts namespace), its env, its stdin.
    const script = `#!/bin/sh\necho "$1 $(hostname) $HOOKVAR $(cat)" >>${log}\n`;
    fs.writeFileSync(hook, script, { mode: 0o755 });
    // startContainer runs in the container, after pivot_root: its path is the container's.
    fs.writeFileSync(path.join(bundle, 'rootfs/hook.sh'), script.replace(log, '/tmp/hooks.log'), { mode: 0o755 });
  });
  afterAll(() => {
    expectNothingLeft({ tini: root, runc: path.join(f.dir, 'runc-root') }, () => f?.cleanup(), ids);
  });

  it('each kind runs at its moment, in its namespaces, with the state on stdin, its args and env', async () => {
    const inContainer = path.join(bundle, 'rootfs/tmp/hooks.log');
    fs.rmSync(log, { force: true });
    fs.rmSync(inContainer, { force: true });
    setHooks({
      prestart: [h('prestart')],
      createRuntime: [h('createRuntime')],
      createContainer: [h('createContainer')],
      startContainer: [{ path: '/hook.sh', args: ['hook', 'startContainer'], env: HOOK_ENV }],
      poststart: [h('poststart')],
      poststop: [h('poststop')],
    });
    const c = id('moments');
    const pidFile = path.join(f.dir, `${c}.pid`);
    const cr = tini('create', '--bundle', bundle, '--pid-file', pidFile, c);
    expect(cr.status, cr.stderr).toBe(0);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    const host = os.hostname();
    const base = { ociVersion: expect.any(String), id: c, bundle };
    // create: prestart and createRuntime on the host, createContainer in the container's uts namespace (runc spec's hostname)
    expect(entries()).toEqual([
      { kind: 'prestart', host, v: 'seen', state: { ...base, status: 'creating', pid } },
      { kind: 'createRuntime', host, v: 'seen', state: { ...base, status: 'creating', pid } },
      { kind: 'createContainer', host: 'runc', v: 'seen', state: { ...base, status: 'creating', pid: 1 } },
    ]);
    expect(fs.existsSync(inContainer)).toBe(false);
    expect(tini('start', c).status).toBe(0);
    // start: poststart on the host, before start returns
    expect(entries().slice(3)).toEqual([{ kind: 'poststart', host, v: 'seen', state: { ...base, status: 'running', pid } }]);
    expect(await waitFor(() => state(c).status === 'stopped', 10_000)).toBe(true);
    // startContainer in the container (its own path, its view of the pid), before the workload
    const lines = fs.readFileSync(inContainer, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^startContainer runc seen \{/);
    expect(JSON.parse(lines[0].split(' ').slice(3).join(' '))).toEqual({ ...base, status: 'created', pid: 1 });
    expect(lines[1]).toBe('workload');
    expect(tini('delete', c).status).toBe(0);
    // delete: poststop on the host, no pid any more
    expect(entries().slice(4)).toEqual([{ kind: 'poststop', host, v: 'seen', state: { ...base, status: 'stopped' } }]);

    // Beside runc on the same bundle: the same hooks see the same states (the container's pid as 1, the
    // host's as "host"). Two known differences: runc 1.1 runs poststart during create (before start, status
    // "created"; the spec says after the program started), and sets the hostname only after createContainer.
    const normal = (list: ReturnType<typeof entries>, id: string, hostPid: number): { kind: string; v: string; state: Record<string, unknown> }[] =>
      list.map((e) => ({ kind: e.kind, v: e.v, state: { ...e.state, ociVersion: 'v', id: e.state.id === id ? 'ID' : e.state.id, ...(e.state.pid === undefined ? {} : { pid: e.state.pid === hostPid ? 'host' : e.state.pid }) } }));
    const ours = normal([...entries(), ...entries(inContainer).filter((e) => e.kind !== 'workload')], c, pid);
    fs.rmSync(log, { force: true });
    fs.rmSync(inContainer, { force: true });
    const runcRoot = path.join(f.dir, 'runc-root');
    const rc = `moments-runc-${process.pid}`;
    const runc = (...args: string[]) => spawnSync('runc', ['--root', runcRoot, ...args], { stdio: 'ignore', timeout: 30_000 }); // never a pipe: after create the container holds its stdio
    const runcPidFile = path.join(f.dir, 'runc.pid');
    placeCgroup(bundle, 'runc', rc);
    expect(runc('create', '--bundle', bundle, '--pid-file', runcPidFile, rc).status).toBe(0);
    expect(runc('start', rc).status).toBe(0);
    expect(await waitFor(() => JSON.parse(spawnSync('runc', ['--root', runcRoot, 'state', rc], { encoding: 'utf8' }).stdout).status === 'stopped', 10_000)).toBe(true);
    expect(runc('delete', rc).status).toBe(0);
    const fromContainer = fs.readFileSync(inContainer, 'utf8').trim().split('\n').filter((l) => l !== 'workload').map((l) => {
      const [kind, , v, ...json] = l.split(' ');
      return { kind, host: '', v, state: JSON.parse(json.join(' ')) };
    });
    const theirs = normal([...entries(), ...fromContainer], rc, Number(fs.readFileSync(runcPidFile, 'utf8')));
    const runcPoststart = theirs.find((e) => e.kind === 'poststart')!;
    expect(runcPoststart.state.status).toBe('created'); // runc 1.1's moment for it
    const order = (l: typeof ours) => [...l].filter((e) => e.kind !== 'poststart').sort((x, y) => x.kind.localeCompare(y.kind));
    expect(order(ours)).toEqual(order(theirs));
    expect(ours.find((e) => e.kind === 'poststart')).toEqual({ ...runcPoststart, state: { ...runcPoststart.state, status: 'running' } });
  });

  it("a failing prestart, createRuntime or createContainer hook fails create with its output in runc's text, leaving nothing", () => {
    const fail = path.join(f.dir, 'fail.sh');
    fs.writeFileSync(fail, '#!/bin/sh\necho "out $1"\necho "err $1" >&2\nexit 3\n', { mode: 0o755 });
    const cases: [Record<string, unknown[]>, string][] = [
      [{ prestart: [{ path: fail, args: ['fail', 'p'] }] }, 'error running prestart hook #0: error running hook: exit status 3, stdout: out p, stderr: err p'],
      [{ createRuntime: [h('createRuntime'), { path: fail, args: ['fail', 'r'] }] }, 'error running createRuntime hook #1: error running hook: exit status 3, stdout: out r, stderr: err r'],
      [{ createContainer: [{ path: fail, args: ['fail', 'c'] }] }, 'error running createContainer hook #0: error running hook: exit status 3, stdout: out c, stderr: err c'],
      [{ createRuntime: [{ path: '/nonexistent/hook' }] }, 'error running createRuntime hook #0: fork/exec /nonexistent/hook: no such file or directory'],
      [{ prestart: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] }, 'error running prestart hook #0: hook ran past specified timeout of 1.0s'],
    ];
    for (const [hooks, message] of cases) {
      setHooks(hooks);
      const c = id('failing');
      const r = tini('create', '--bundle', bundle, c);
      expect(r.status, message).toBe(1);
      expect(r.stderr.trim()).toBe(message);
      const last = JSON.parse(fs.readFileSync(path.join(f.dir, 'log.json'), 'utf8').trim().split('\n').pop()!);
      expect(last).toMatchObject({ level: 'error', msg: message });
      expect(tini('state', c).status, 'nothing created').not.toBe(0);
      expect(cgroupExists('tini', c)).toBe(false);
    }
    expect(fs.readdirSync(root)).toEqual([]);
  });

  it('a failing poststart fails start and kills the container; a failing poststop is a warning and delete succeeds', async () => {
    setHooks({ poststart: [{ path: '/bin/false' }], poststop: [{ path: '/bin/false', args: ['false'] }] }, ['sleep', '30']);
    const c = id('post');
    expect(tini('create', '--bundle', bundle, c).status).toBe(0);
    const s = tini('start', c);
    expect(s.status).toBe(1);
    expect(s.stderr.trim()).toBe('error running poststart hook #0: error running hook: exit status 1, stdout: , stderr:');
    expect(await waitFor(() => state(c).status === 'stopped', 10_000)).toBe(true);
    const d = tini('delete', c);
    expect(d.status).toBe(0);
    const last = JSON.parse(fs.readFileSync(path.join(f.dir, 'log.json'), 'utf8').trim().split('\n').pop()!);
    expect(last).toMatchObject({ level: 'warning', msg: 'error running poststop hook #0: error running hook: exit status 1, stdout: , stderr: ' });
    expect(tini('state', c).status).not.toBe(0);
  });

  it('tini-ts run --bundle does not run hooks, and says so', () => {
    fs.rmSync(log, { force: true });
    setHooks({ prestart: [h('prestart')], poststop: [h('poststop')] }, ['true']);
    const r = run(['-q', '--bundle', bundle]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('tini-ts run: warning: config.json: hooks are run by the OCI create, start and delete, not by tini-ts run');
    expect(fs.existsSync(log)).toBe(false);
  });
});
