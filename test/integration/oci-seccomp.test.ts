/**
 * A bundle's linux.seccomp enforced as written: Docker's default profile (as
 * Docker puts it in config.json) run by `tini-ts run --bundle` and by `runc
 * run` on the same bundle, with and without no_new_privs, and in a process
 * `exec` adds to a running container (tini-ts and runc): a static probe makes
 * the calls the profile decides on and reports each errno; the same bundle
 * without linux.seccomp shows the kernel's own answers (so the EPERMs are
 * the filter's). A bad profile is refused in one line, leaving nothing; a
 * profile that kills a call of the init's (which runs under the filter, where
 * runc filters only the workload) is named when it does.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELPERS } from '../helpers/proc.js';
import { unmet } from '../helpers/prereq.js';
import { dockerSeccomp } from '../helpers/docker-seccomp.js';
import { canContainer, CONTAINER_NEEDS, editConfig, fields, makeFixture, makeRuncBundle, type Fixture } from './container-helpers.js';
import { containerIds, expectNothingLeft, hasRunc, ociRoots, placeCgroup, runtimeCall } from './oci-helpers.js';
import { ownStateDirs, runArgs, runBin, snapshot, waitFor } from './run-helpers.js';

const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNS = 0x20000;
const SIGCHLD = 0x11;
const CALLS = [`unshare:${CLONE_NEWUSER}`, `unshare:${CLONE_NEWNS}`, `clone:${CLONE_NEWUSER | SIGCHLD}`, `clone:${SIGCHLD}`, 'clone3', 'socket:40', 'socket:2', 'getpid', '0x400000', '0x8'];
/** What Docker's default profile decides (runc spec's capabilities: no CAP_SYS_ADMIN). */
const DOCKER_DECIDES = {
  [`unshare:${CLONE_NEWUSER}`]: 'EPERM',
  [`unshare:${CLONE_NEWNS}`]: 'EPERM',
  [`clone:${CLONE_NEWUSER | SIGCHLD}`]: 'EPERM',
  [`clone:${SIGCHLD}`]: 'ok',
  clone3: 'ENOSYS',
  'socket:40': 'EPERM', // AF_VSOCK
  'socket:2': 'ok',
  getpid: 'ok',
  '0x400000': 'EPERM', // personality(READ_IMPLIES_EXEC)
  '0x8': 'ok',
};
const SCRIPT = [
  'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status | tr -d "\\t" | sed "s/:/=/"',
  `/probe/probe ${CALLS.join(' ')}`,
  'unshare -U true 2>/dev/null; echo "unshareU=$?"',
  'ls / >/dev/null && echo "ls=ok"',
].join('; ');

describe.skipIf(unmet(canContainer && hasRunc, `${CONTAINER_NEEDS} and runc`))("a bundle's linux.seccomp (Docker's default profile), beside runc", () => {
  let f: Fixture;
  let bundle: string;
  let probeDir: string;
  let root: { tini: string; runc: string };
  const { ids, id } = containerIds('sc-');

  beforeAll(() => {
    probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-probe-'));
    fs.chmodSync(probeDir, 0o755);
    const r = spawnSync('gcc', ['-static', '-O2', '-Wall', '-o', path.join(probeDir, 'probe'), path.join(HELPERS, 'syscall_probe.c')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    f = makeFixture();
    bundle = makeRuncBundle(f, (config) => {
      config.process.args = ['sh', '-c', SCRIPT];
      config.mounts.push({ destination: '/probe', type: 'bind', source: probeDir, options: ['rbind', 'ro'] });
      config.linux.seccomp = dockerSeccomp(config.process.capabilities.bounding);
      config.root.readonly = false; // a detached exec leaves its answer in /tmp
    });
    fs.mkdirSync(path.join(f.rootfs, 'probe'));
    root = ociRoots(f.dir);
  });
  afterAll(() => {
    expectNothingLeft(root, () => {
      f?.cleanup();
      fs.rmSync(probeDir, { recursive: true, force: true });
    }, ids);
  });

  /** A runtime call, its output through files (a created container's init holds its stdio). */
  const call = (who: 'tini' | 'runc', args: string[]) => runtimeCall(who, f.dir, root[who], args, { timeout: 60_000 });
  /** What a run could leave: our cgroups, and host mounts of our fixture (other suites on the machine mount their own meanwhile). */
  const ours = () => {
    const s = snapshot();
    return { cgroups: s.cgroups, mounts: s.mounts.split('\n').filter((m) => m.includes(f.dir) || m.includes(probeDir)) };
  };
  const tiniRun = () => runBin(runArgs(['-q', '--bundle', bundle]), { timeout: 60_000 });
  const runcRun = () => {
    const c = id('runc');
    placeCgroup(bundle, 'runc', c);
    const r = spawnSync('runc', ['--root', root.runc, 'run', '--bundle', bundle, c], { encoding: 'utf8', timeout: 60_000 });
    spawnSync('runc', ['--root', root.runc, 'delete', '-f', c]);
    return r;
  };

  it('denies what the profile denies, with its errnos, as runc does; ordinary commands (and the init) run', () => {
    const before = ours();
    const mine = tiniRun();
    expect(ours()).toEqual(before);
    expect(ownStateDirs()).toEqual([]);
    const theirs = runcRun();
    expect(mine.status, mine.stderr).toBe(0);
    expect(theirs.status, theirs.stderr).toBe(0);
    const a = fields(mine.stdout);
    expect(a).toMatchObject({ Seccomp: '2', NoNewPrivs: '1', ...DOCKER_DECIDES, unshareU: '1', ls: 'ok' });
    expect(a).toEqual(fields(theirs.stdout));
  });

  it('without no_new_privs the filter is installed while the init still holds CAP_SYS_ADMIN: the same decisions', () => {
    editConfig(bundle, (c) => (c.process.noNewPrivileges = false));
    try {
      const mine = tiniRun();
      const theirs = runcRun();
      expect(mine.status, mine.stderr).toBe(0);
      const a = fields(mine.stdout);
      expect(a).toMatchObject({ Seccomp: '2', NoNewPrivs: '0', ...DOCKER_DECIDES, ls: 'ok' });
      expect(a).toEqual(fields(theirs.stdout));
    } finally {
      editConfig(bundle, (c) => (c.process.noNewPrivileges = true));
    }
  });

  it('without linux.seccomp there is no filter (as runc): the kernel answers those calls itself', () => {
    const saved = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')).linux.seccomp;
    editConfig(bundle, (c) => delete c.linux.seccomp);
    try {
      const mine = tiniRun();
      expect(mine.status, mine.stderr).toBe(0);
      const a = fields(mine.stdout);
      expect(a).toMatchObject({ Seccomp: '0', clone3: 'EINVAL', '0x400000': 'ok', [`clone:${SIGCHLD}`]: 'ok' });
      expect(a['socket:40']).not.toBe('EPERM'); // ok, or EAFNOSUPPORT without the vsock module
      expect(a).toEqual(fields(runcRun().stdout));
    } finally {
      editConfig(bundle, (c) => (c.linux.seccomp = saved));
    }
  });

  it('exec (waited for, and --detach --pid-file as containerd calls it): the added process runs under the container\'s filter, in tini-ts as in runc', async () => {
    editConfig(bundle, (c) => (c.process.args = ['sleep', '60']));
    const answer = path.join(f.rootfs, 'tmp/detached');
    try {
      const outs: Record<string, Record<string, string>> = {};
      for (const who of ['tini', 'runc'] as const) {
        const c = id(`exec-${who}`);
        const rt = (...args: string[]) => call(who, args);
        const cr = rt('create', '--bundle', bundle, c);
        expect(cr.status, `${who}: ${cr.stderr}`).toBe(0);
        expect(rt('start', c).status, who).toBe(0);
        const pidFile = path.join(f.dir, `${c}.pid`);
        const ex = rt('exec', '--pid-file', pidFile, c, 'sh', '-c', `${SCRIPT}; exit 7`);
        expect(ex.status, `${who}: ${ex.stderr}`).toBe(7);
        expect(fs.readFileSync(pidFile, 'utf8'), who).toMatch(/^[0-9]+$/);
        outs[who] = fields(ex.stdout);
        // --detach: exec returns at once, the pid file names the process, which runs filtered
        fs.rmSync(answer, { force: true });
        const dt = rt('exec', '--detach', '--pid-file', pidFile, c, 'sh', '-c', `{ ${SCRIPT}; } >/tmp/detached.part; mv /tmp/detached.part /tmp/detached`);
        expect(dt.status, `${who}: ${dt.stderr}`).toBe(0);
        expect(fs.readFileSync(pidFile, 'utf8'), who).toMatch(/^[0-9]+$/);
        expect(await waitFor(() => fs.existsSync(answer), 10_000), who).toBe(true);
        expect(fields(fs.readFileSync(answer, 'utf8')), who).toEqual(outs[who]);
        expect(fs.readdirSync(f.dir).filter((n) => n.startsWith(`.${c}.pid`)), `${who}: no temporary pid file left`).toEqual([]);
        expect(rt('kill', c, 'KILL').status, who).toBe(0);
        expect(await waitFor(() => JSON.parse(rt('state', c).stdout).status === 'stopped', 10_000), who).toBe(true);
        expect(rt('delete', c).status, who).toBe(0);
      }
      expect(outs.tini).toMatchObject({ Seccomp: '2', ...DOCKER_DECIDES, ls: 'ok' });
      expect(outs.tini).toEqual(outs.runc);
    } finally {
      editConfig(bundle, (c) => (c.process.args = ['sh', '-c', SCRIPT]));
    }
  });

  it("a profile that kills a call of the init's (runc: the workload's only) is named when the init dies of it", () => {
    const saved = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')).linux.seccomp;
    // busybox sh never waits on epoll; the init's event loop does, once it is set up
    editConfig(bundle, (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['epoll_wait', 'epoll_pwait', 'epoll_pwait2'], action: 'SCMP_ACT_KILL_PROCESS' }] }));
    try {
      const before = ours();
      const r = tiniRun();
      expect(r.status).toBe(125);
      expect(r.stderr).toContain("init killed by signal 31): linux.seccomp killed a system call of tini-ts's init");
      expect(ours()).toEqual(before);
      expect(ownStateDirs()).toEqual([]);
      expect(runcRun().status).toBe(0);
    } finally {
      editConfig(bundle, (c) => (c.linux.seccomp = saved));
    }
  });

  it('a bad profile is one line naming the field, from run and create, and nothing is created', () => {
    const saved = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')).linux.seccomp;
    editConfig(bundle, (c) => (c.linux.seccomp.syscalls[2].action = 'SCMP_ACT_NOPE'));
    try {
      const want = 'config.json: linux.seccomp.syscalls[2].action: "SCMP_ACT_NOPE" is not a seccomp action';
      const before = ours();
      const r = tiniRun();
      expect(r.status).toBe(125);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(want);
      const c = id('bad');
      const cr = call('tini', ['create', '--bundle', bundle, c]);
      expect(cr.status).not.toBe(0);
      expect(cr.stderr).toContain(want);
      expect(cr.stderr.trim().split('\n')).toHaveLength(1);
      expect(call('tini', ['state', c]).status).not.toBe(0);
      expect(ours()).toEqual(before);
      expect(ownStateDirs()).toEqual([]);
    } finally {
      editConfig(bundle, (c) => (c.linux.seccomp = saved));
    }
  });
});
