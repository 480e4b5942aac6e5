/**
 * tini-ts as an OCI runtime, driven as engines drive runc: create, state,
 * start, kill, delete, list, on the bundle `runc spec` writes, beside runc
 * itself on the same bundle (differential: statuses, state JSON, exit codes),
 * and through a shim-like parent (a child subreaper that waits for the
 * container's process, as containerd's shim and conmon do).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { HELPERS } from '../helpers/proc.js';
import { unmet } from '../helpers/prereq.js';
import { canContainer, CONTAINER_NEEDS, editConfig } from './container-helpers.js';
import { besideRunc, cgroupExists, hasRunc, ociCall, placeCgroup, runtimeCall, tiniParents } from './oci-helpers.js';
import { BIN, run, underSubreaper, waitFor } from './run-helpers.js';
const SHIM = path.join(HELPERS, 'oci_shim.py');

describe.skipIf(unmet(canContainer && hasRunc, `${CONTAINER_NEEDS} and runc`))('the OCI lifecycle, beside runc', () => {
  const oci = besideRunc((config) => (config.root.readonly = false)); // the programs leave a marker in the root
  const { id, tini, both } = oci;
  const setArgs = (args: string[]) => editConfig(oci.bundle, (config) => (config.process.args = args));


  it('create leaves the init waiting at the start gate; start runs the program; statuses and state JSON as runc gives them', async () => {
    setArgs(['sh', '-c', 'echo ran >/tmp/marker; sleep 1; exit 3']);
    for (const [who, rt] of Object.entries(both)) {
      const c = id(`life-${who}`);
      const pidFile = path.join(oci.f.dir, `${c}.pid`);
      const cr = rt('create', '--bundle', oci.bundle, '--pid-file', pidFile, c);
      expect(cr.status, `${who}: ${cr.stderr}`).toBe(0);
      const pid = fs.readFileSync(pidFile, 'utf8');
      expect(pid, who).toMatch(/^[0-9]+$/); // digits, no newline
      const created = JSON.parse(rt('state', c).stdout);
      expect(Object.keys(created).sort(), who).toEqual(['bundle', 'created', 'id', 'ociVersion', 'owner', 'pid', 'rootfs', 'status']);
      expect(created, who).toMatchObject({ id: c, status: 'created', pid: Number(pid), bundle: oci.bundle, rootfs: path.join(oci.bundle, 'rootfs') });
      expect(fs.existsSync(path.join(oci.bundle, 'rootfs/tmp/marker')), `${who}: nothing runs before start`).toBe(false);
      expect(rt('start', c).status, who).toBe(0);
      expect(JSON.parse(rt('state', c).stdout).status, who).toBe('running');
      expect(await waitFor(() => JSON.parse(rt('state', c).stdout).status === 'stopped', 10_000), who).toBe(true);
      expect(JSON.parse(rt('state', c).stdout).pid, who).toBe(0);
      expect(fs.readFileSync(path.join(oci.bundle, 'rootfs/tmp/marker'), 'utf8'), who).toBe('ran\n');
      fs.rmSync(path.join(oci.bundle, 'rootfs/tmp/marker'));
      expect(rt('delete', c).status, who).toBe(0);
      expect(rt('state', c).status, `${who}: gone`).not.toBe(0);
    }
  });

  it("create's init is spawned before create's checks (the --debug log says so); a create refused after that kills and reaps it", () => {
    setArgs(['sleep', '30']);
    const c = id('early');
    const log = path.join(oci.f.dir, 'early.log');
    const global = ['--log', log, '--log-format', 'json', '--debug'];
    const lines = () => fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l).msg as string);
    const cr = runtimeCall('tini', oci.f.dir, oci.roots.tini, ['create', '--bundle', oci.bundle, c], { global });
    expect(cr.status, cr.stderr).toBe(0);
    expect(lines().filter((m) => /the init was spawned before the options were read \(pid \d+\)/.test(m))).toHaveLength(1);
    // The same id again: refused after the early spawn; nothing of it is left (an init left behind would be the subreaper's).
    const again = underSubreaper(['--root', oci.roots.tini, ...global, 'create', '--bundle', oci.bundle, c]);
    expect(again.rc).toBe(1);
    expect(again.stderr).toBe('container with given ID already exists\n');
    expect(again.left).toEqual([]);
    expect(lines().filter((m) => /the init spawned before the options were read \(pid \d+\) is not this run's: killed/.test(m))).toHaveLength(1);
    expect(tini('delete', '--force', c).status).toBe(0);
  });

  it('bad requests fail (exit non-zero) where runc fails, with the texts engines match on, and change nothing', () => {
    setArgs(['sleep', '30']);
    const outcomes: Record<string, Record<string, number | null>> = {};
    const texts: string[] = [];
    for (const [who, rt] of Object.entries(both)) {
      const c = id(`bad-${who}`);
      const o: Record<string, number | null> = {};
      o.stateUnknown = rt('state', `${c}-nope`).status;
      o.deleteUnknown = rt('delete', `${c}-nope`).status;
      o.deleteForceUnknown = rt('delete', '--force', `${c}-nope`).status;
      o.killUnknown = rt('kill', `${c}-nope`).status;
      o.create = rt('create', '--bundle', oci.bundle, c).status;
      o.createAgain = rt('create', '--bundle', oci.bundle, c).status;
      o.startTwice = (rt('start', c).status ?? 0) + (rt('start', c).status === 0 ? 0 : 100);
      const del = rt('delete', c);
      o.deleteRunning = del.status;
      if (who === 'tini') texts.push(del.stderr, tini('state', `${c}-nope`).stderr, tini('create', '--bundle', oci.bundle, c).stderr);
      o.kill = rt('kill', c, 'KILL').status;
      o.deleteForce = rt('delete', '--force', c).status;
      outcomes[who] = Object.fromEntries(Object.entries(o).map(([k, v]) => [k, v === 0 ? 0 : 1]));
    }
    expect(outcomes.tini).toEqual(outcomes.runc);
    expect(outcomes.tini).toMatchObject({ stateUnknown: 1, deleteForceUnknown: 0, create: 0, createAgain: 1, startTwice: 1, deleteRunning: 1 });
    expect(texts[0]).toMatch(/cannot delete container .* that is not stopped: running/);
    expect(texts[1]).toMatch(/container does not exist/);
    expect(texts[2]).toMatch(/container with given ID already exists/);
  });

  it('a --root that cannot be made (mkdir says ENOENT under /proc) fails create in one line at once, as runc fails it', () => {
    setArgs(['true']);
    const root = '/proc/nonexistent-tini-ts/state';
    const r = runtimeCall('tini', oci.f.dir, root, ['create', '--bundle', oci.bundle, id('badroot')]);
    expect(r.status).toBe(1); // not null: spawnSync's timeout would have killed a create that spins
    expect(r.stderr).toBe('--root: cannot create /proc/nonexistent-tini-ts: ENOENT\n');
    expect(runtimeCall('runc', oci.f.dir, root, ['create', '--bundle', oci.bundle, id('badroot-runc')]).status).not.toBe(0);
  });

  it('a pid file that cannot be written (checked once the init is ready) fails create, and the container is destroyed: no cgroup, no state', () => {
    setArgs(['sleep', '30']);
    const c = id('badpidfile');
    const r = tini('create', '--bundle', oci.bundle, '--pid-file', path.join(oci.f.dir, 'no-such-dir', 'pid'), c);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot write the pid file .*no-such-dir\/pid: ENOENT/);
    expect(cgroupExists('tini', c), 'the cgroup is removed with the init').toBe(false);
    expect(tini('state', c).stderr).toMatch(/container does not exist/);
  });

  it("the shim waits on the init: its status is the program's; TERM reaches the program through the init (runc's PID 1 shell ignores it)", () => {
    setArgs(['sh', '-c', 'sleep 2; exit 3']);
    const shim = (rt: string, c: string, sig?: string) => {
      placeCgroup(oci.bundle, rt === 'runc' ? 'runc' : 'tini', c);
      return JSON.parse(spawnSync('python3', [SHIM, rt, rt === 'runc' ? oci.roots.runc : oci.roots.tini, oci.bundle, c, ...(sig ? [sig] : [])], { encoding: 'utf8', timeout: 30_000 }).stdout);
    };
    const [a, b] = [id('shim-tini'), id('shim-runc')];
    expect(shim(BIN, a)).toMatchObject({ create: 0, start: 0, status: 3 });
    expect(shim('runc', b)).toMatchObject({ create: 0, start: 0, status: 3 });
    const [c, d] = [id('term-tini'), id('term-runc')];
    expect(shim(BIN, c, 'TERM')).toMatchObject({ kill: 0, status: 143 });
    expect(shim('runc', d, 'TERM')).toMatchObject({ kill: 0, status: 3 });
    for (const i of [a, c]) expect(tini('delete', i).status).toBe(0);
  });

  it('delete kills a created container and removes everything; kill --all reaches every process of the cgroup', async () => {
    setArgs(['sleep', '30']);
    const c = id('created');
    expect(tini('create', '--bundle', oci.bundle, '--pid-file', path.join(oci.f.dir, 'p'), c).status).toBe(0);
    const pid = Number(fs.readFileSync(path.join(oci.f.dir, 'p'), 'utf8'));
    expect(cgroupExists('tini', c), 'the cgroup is under this file\'s parent').toBe(true);
    expect(tini('delete', c).status).toBe(0);
    expect(cgroupExists('tini', c)).toBe(false);
    expect(await waitFor(() => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '))).toBe(true);
    expect(fs.existsSync(path.join(oci.roots.tini, c))).toBe(false);

    const k = id('killall');
    setArgs(['sh', '-c', 'sleep 30 & sleep 30']);
    expect(tini('create', '--bundle', oci.bundle, k).status).toBe(0);
    expect(tini('start', k).status).toBe(0);
    expect(tini('kill', '--all', k, 'KILL').status).toBe(0);
    expect(await waitFor(() => JSON.parse(tini('state', k).stdout).status === 'stopped')).toBe(true);
    expect(tini('delete', k).status).toBe(0);
  });

  it("without linux.cgroupsPath the cgroup is tini-ts/oci-ID; delete removes it, and tini-ts's parent level once no container is left in it", () => {
    setArgs(['sleep', '30']);
    const c = id('default-cgroup');
    editConfig(oci.bundle, (config) => delete config.linux.cgroupsPath);
    // Straight through ociCall: runtimeCall would give it a cgroupsPath under this file's parent.
    const cr = ociCall(oci.f.dir, BIN, ['--root', oci.roots.tini, 'create', '--bundle', oci.bundle, c]);
    expect(cr.status, cr.stderr).toBe(0);
    const mine = () => tiniParents().map((p) => path.join(p, `oci-${c}`)).filter((d) => fs.existsSync(d));
    expect(mine().length).toBeGreaterThan(0);
    expect(tini('delete', c).status).toBe(0);
    expect(mine()).toEqual([]);
    // A parent level still there holds another container (a test run beside this one): never an empty one.
    for (const p of tiniParents()) expect(fs.readdirSync(p, { withFileTypes: true }).filter((e) => e.isDirectory()).length, p).toBeGreaterThan(0);
  });

  it('a missing program fails create with runc\'s text, before start, leaving nothing', () => {
    setArgs(['no-such-program']);
    const c = id('missing');
    const r = tini('--log', path.join(oci.f.dir, 'log.json'), '--log-format', 'json', 'create', '--bundle', oci.bundle, c);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('exec: "no-such-program": executable file not found in $PATH');
    const last = fs.readFileSync(path.join(oci.f.dir, 'log.json'), 'utf8').trim().split('\n').pop()!;
    expect(JSON.parse(last)).toMatchObject({ level: 'error', msg: 'exec: "no-such-program": executable file not found in $PATH', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(fs.existsSync(path.join(oci.roots.tini, c))).toBe(false);
  });

  it('a created container survives an unrelated `tini-ts run` (ownership is by id, not by a live launcher)', () => {
    setArgs(['sleep', '30']);
    const c = id('survives');
    expect(tini('create', '--bundle', oci.bundle, c).status).toBe(0);
    expect(run(['-q', '--', 'true']).status).toBe(0);
    expect(JSON.parse(tini('state', c).stdout).status).toBe('created');
    expect(tini('delete', c).status).toBe(0);
  });

  it('pause freezes every process of the container and resume thaws it, as runc; a paused container can be killed', async () => {
    setArgs(['sh', '-c', 'while :; do :; done']);
    for (const [who, rt] of Object.entries(both)) {
      const c = id(`pause-${who}`);
      expect(rt('create', '--bundle', oci.bundle, c).status, who).toBe(0);
      expect(rt('start', c).status, who).toBe(0);
      expect(rt('resume', c).status, `${who}: resume of a running one`).not.toBe(0);
      const pid = JSON.parse(rt('state', c).stdout).pid as number;
      // The busy loop: PID 1 under runc, the init's child under tini-ts (spawned just after start returned).
      // (from whichever of the init's threads spawned it: with rlimits, the libuv pool's)
      const children = () => fs.readdirSync(`/proc/${pid}/task`).map((t) => fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8')).join(' ').trim();
      if (who === 'tini') expect(await waitFor(() => children() !== '')).toBe(true);
      const loop = who === 'runc' ? pid : Number(children().split(' ')[0]);
      expect(rt('pause', c).status, who).toBe(0);
      expect(JSON.parse(rt('state', c).stdout).status, who).toBe('paused');
      // Frozen, it no longer runs.
      expect(fs.readFileSync(`/proc/${loop}/status`, 'utf8'), who).toMatch(/^State:\s+[SD]/m);
      expect(rt('resume', c).status, who).toBe(0);
      expect(JSON.parse(rt('state', c).stdout).status, who).toBe('running');
      expect(rt('pause', c).status, who).toBe(0);
      expect(rt('kill', c, 'KILL').status, who).toBe(0);
      expect(await waitFor(() => JSON.parse(rt('state', c).stdout).status === 'stopped'), who).toBe(true);
      expect(rt('delete', c).status, who).toBe(0);
    }
  });

  it('exec runs a process in the running container, as runc: its namespaces, the process.json credentials, the status; --detach leaves it', async () => {
    setArgs(['sleep', '30']);
    const processJson = path.join(oci.f.dir, 'process.json');
    fs.writeFileSync(processJson, JSON.stringify({ args: ['sh', '-c', 'echo "uid=$(id -u) host=$(hostname) nnp=$(grep NoNewPrivs /proc/self/status | tr -dc 0-9)"; exit 6'], cwd: '/', env: ['PATH=/bin:/usr/bin'], user: { uid: 65534, gid: 65534 }, noNewPrivileges: true }));
    for (const [who, rt] of Object.entries(both)) {
      const c = id(`exec-${who}`);
      expect(rt('create', '--bundle', oci.bundle, c).status, who).toBe(0);
      expect(rt('start', c).status, who).toBe(0);
      const e = rt('exec', '--process', processJson, c);
      expect(e.status, `${who}: ${e.stderr}`).toBe(6);
      expect(e.stdout, who).toBe('uid=65534 host=runc nnp=1\n');
      const args = rt('exec', c, 'sh', '-c', 'exit 3');
      expect(args.status, who).toBe(3);
      const pidFile = path.join(oci.f.dir, `${c}.exec.pid`);
      const d = rt('exec', '--detach', '--pid-file', pidFile, c, 'sleep', '30');
      expect(d.status, `${who}: ${d.stderr}`).toBe(0);
      expect(fs.readFileSync(pidFile, 'utf8'), who).toMatch(/^[0-9]+$/);
      expect(rt('exec', c, 'no-such-program').status, who).not.toBe(0);
      expect(rt('delete', '--force', c).status, who).toBe(0);
      expect(await waitFor(() => !fs.existsSync(`/proc/${fs.readFileSync(pidFile, 'utf8')}/stat`) || fs.readFileSync(`/proc/${fs.readFileSync(pidFile, 'utf8')}/stat`, 'utf8').includes(') Z ')), `${who}: the detached process ends with the container`).toBe(true);
    }
    const stopped = id('exec-stopped');
    setArgs(['true']);
    expect(tini('create', '--bundle', oci.bundle, stopped).status).toBe(0);
    expect(tini('start', stopped).status).toBe(0);
    expect(await waitFor(() => JSON.parse(tini('state', stopped).stdout).status === 'stopped')).toBe(true);
    expect(tini('exec', stopped, 'true').stderr).toContain('cannot exec in a stopped container');
    expect(tini('delete', stopped).status).toBe(0);
  });

  it('exec under a seccomp filter that denies io_uring (as Docker\'s and the default filters do), as uid 65534: the status, --detach with the pid file (libuv aborted: exit 134)', async () => {
    setArgs(['sleep', '30']);
    const deny = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['io_uring_setup', 'io_uring_enter', 'io_uring_register'], action: 'SCMP_ACT_ERRNO' }] };
    editConfig(oci.bundle, (config) => (config.linux.seccomp = deny));
    try {
      const processJson = path.join(oci.f.dir, 'process-nobody.json');
      fs.writeFileSync(processJson, JSON.stringify({ args: ['sh', '-c', 'echo "uid=$(id -u)"; exit 5'], cwd: '/', env: ['PATH=/bin:/usr/bin'], user: { uid: 65534, gid: 65534 } }));
      for (const [who, rt] of Object.entries(both)) {
        const c = id(`exec-seccomp-${who}`);
        expect(rt('create', '--bundle', oci.bundle, c).status, who).toBe(0);
        expect(rt('start', c).status, who).toBe(0);
        const e = rt('exec', '--process', processJson, c);
        expect(e.status, `${who}: ${e.stderr}`).toBe(5);
        expect(e.stdout, who).toBe('uid=65534\n');
        const pidFile = path.join(oci.f.dir, `${c}.exec.pid`);
        const d = rt('exec', '--process', processJson, '--detach', '--pid-file', pidFile, c);
        expect(d.status, `${who}: ${d.stderr}`).toBe(0);
        expect(fs.readFileSync(pidFile, 'utf8'), who).toMatch(/^[0-9]+$/);
        expect(fs.readdirSync(oci.f.dir).filter((n) => n.startsWith(`.${c}.exec.pid`)), `${who}: no temporary pid file left`).toEqual([]);
        const missing = rt('exec', '--detach', '--pid-file', pidFile + '2', c, 'no-such-program');
        expect(missing.status, who).not.toBe(0);
        expect(missing.stderr, who).toContain('executable file not found');
        expect(rt('delete', '--force', c).status, who).toBe(0);
      }
    } finally {
      editConfig(oci.bundle, (config) => delete config.linux.seccomp);
    }
  });

  it('a container whose process is not root starts, as with runc (its init opened the start FIFO as uid 1000: EACCES, the FIFO was 0600 after the umask)', async () => {
    setArgs(['sh', '-c', 'echo "uid=$(id -u):$(id -g)" >/tmp/whoami; exit 4']);
    editConfig(oci.bundle, (config) => (config.process.user = { uid: 1000, gid: 1000 }));
    try {
      for (const [who, rt] of Object.entries(both)) {
        const c = id(`user-${who}`);
        expect(rt('create', '--bundle', oci.bundle, c).status, who).toBe(0);
        const st = rt('start', c);
        expect(st.status, `${who}: ${st.stderr}`).toBe(0);
        expect(await waitFor(() => JSON.parse(rt('state', c).stdout).status === 'stopped', 10_000), who).toBe(true);
        expect(fs.readFileSync(path.join(oci.bundle, 'rootfs/tmp/whoami'), 'utf8'), who).toBe('uid=1000:1000\n');
        fs.rmSync(path.join(oci.bundle, 'rootfs/tmp/whoami'));
        expect(rt('delete', c).status, who).toBe(0);
      }
    } finally {
      editConfig(oci.bundle, (config) => (config.process.user = { uid: 0, gid: 0 }));
    }
  });

  it('list shows every container with its status', () => {
    setArgs(['sleep', '30']);
    const c = id('listed');
    expect(tini('create', '--bundle', oci.bundle, c).status).toBe(0);
    const listed = JSON.parse(tini('list', '--format', 'json').stdout) as { id: string; status: string }[];
    expect(listed.find((s) => s.id === c)).toMatchObject({ status: 'created' });
    expect(tini('list', '-q').stdout.split('\n')).toContain(c);
    expect(tini('delete', c).status).toBe(0);
  });
});
