/**
 * What the OCI runtime makes of what Podman sends, beside runc on the same
 * bundle: process.user.umask (in every config.json and process.json), and
 * runc's 0022 when there is none, whatever the caller's mask; tmpfs mounts
 * with runc's `tmpcopyup` option (Podman's --tmpfs, --read-only, --systemd).
 * Every call here runs with the caller's mask at 077, so a mask that is
 * merely inherited shows.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { sweepContainers } from './oci-helpers.js';
import { canContainer, CONTAINER_NEEDS, editConfig, makeFixture, makeRuncBundle, type Fixture } from './container-helpers.js';
import { BIN, waitFor } from './run-helpers.js';

const hasRunc = spawnSync('runc', ['--version']).status === 0;

describe.skipIf(unmet(canContainer && hasRunc, `${CONTAINER_NEEDS} and runc`))('the process, its mounts and devices beside runc: umask, tmpcopyup, linux.devices', () => {
  let f: Fixture;
  let bundle: string;
  let roots: { tini: string; runc: string };
  const runtimes = () => ({ tini: { file: BIN, root: roots.tini }, runc: { file: 'runc', root: roots.runc } });
  /** `RUNTIME --root R --log L ARGS` with the caller's umask at 077; stdout (a create's: the container's) is the file `out`. */
  const call = (who: 'tini' | 'runc', args: string[], out = path.join(f.dir, `out-${who}`)) => {
    const { file, root } = runtimes()[who];
    // Files, not pipes: a created container holds its stdio open.
    const err = path.join(f.dir, `err-${who}`);
    const fds = [fs.openSync(out, 'w'), fs.openSync(err, 'w')];
    try {
      const r = spawnSync('/bin/sh', ['-c', 'umask 077; exec "$@"', 'sh', file, '--root', root, '--log', path.join(f.dir, `log-${who}.json`), '--log-format', 'json', ...args], { stdio: ['ignore', ...fds], timeout: 30_000 });
      return { status: r.status, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
    } finally {
      fds.forEach((fd) => fs.closeSync(fd));
    }
  };
  /** create + start + wait + delete of the bundle as it is: the workload's stdout. */
  const runBoth = async (tag: string) => {
    const seen: Record<string, string> = {};
    for (const who of ['tini', 'runc'] as const) {
      const id = `um-${tag}-${who}-${process.pid}`;
      const workload = path.join(f.dir, `workload-${who}`);
      const c = call(who, ['create', '--bundle', bundle, id], workload);
      expect(c.status, `${who}: ${c.stderr}`).toBe(0);
      expect(call(who, ['start', id]).status).toBe(0);
      expect(await waitFor(() => JSON.parse(call(who, ['state', id]).stdout).status === 'stopped', 10_000), who).toBe(true);
      seen[who] = fs.readFileSync(workload, 'utf8');
      expect(call(who, ['delete', id]).status).toBe(0);
    }
    return seen;
  };

  beforeAll(() => {
    f = makeFixture();
    bundle = makeRuncBundle(f, () => {});
    roots = { tini: path.join(f.dir, 'root-tini'), runc: path.join(f.dir, 'root-runc') };
  });
  afterEach(() => {
    expect(sweepContainers(roots)).toEqual([]);
  });
  afterAll(() => {
    f?.cleanup();
  });

  it('process.user.umask is the workload\'s mask (0027); without one it is 0022, not the caller\'s 077: as runc', async () => {
    editConfig(bundle, (config) => {
      config.process.args = ['sh', '-c', 'umask'];
      config.process.user.umask = 0o027;
    });
    const given = await runBoth('given');
    expect(given.tini).toBe('0027\n');
    expect(given.tini).toBe(given.runc);
    editConfig(bundle, (config) => delete config.process.user.umask);
    const none = await runBoth('none');
    expect(none.tini).toBe('0022\n');
    expect(none.tini).toBe(none.runc);
    // Nothing named as ignored any more.
    expect(fs.existsSync(path.join(f.dir, 'log-tini.json')) ? fs.readFileSync(path.join(f.dir, 'log-tini.json'), 'utf8') : '').not.toMatch(/umask/);
  });

  it("a tmpfs with runc's tmpcopyup option (Podman's --tmpfs, --read-only) holds what the image had there: names, modes, owners, links, as with runc", async () => {
    fs.mkdirSync(path.join(f.rootfs, 'seeded', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(f.rootfs, 'seeded', 'file'), 'content\n', { mode: 0o604 });
    fs.chownSync(path.join(f.rootfs, 'seeded', 'file'), 1000, 1001);
    // (runc makes subdirectories with their mode less the caller's mask, 077 here: 0700 is the same for both)
    fs.chmodSync(path.join(f.rootfs, 'seeded', 'sub'), 0o700);
    fs.chmodSync(path.join(f.rootfs, 'seeded'), 0o750);
    fs.symlinkSync('file', path.join(f.rootfs, 'seeded', 'link'));
    try {
      editConfig(bundle, (config) => {
        config.process.args = ['sh', '-c', 'for p in $(find /seeded | sort); do stat -c "%n %a %u %g %F" $p; done; readlink /seeded/link; cat /seeded/link; grep " /seeded " /proc/self/mountinfo | cut -d" " -f5,6,9; echo x >/seeded/new && echo writable; stat -c "%n %a" /fresh'];
        config.mounts.push({ destination: '/seeded', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'rprivate', 'nosuid', 'nodev', 'tmpcopyup'] });
        // a directory the image lacks: made, and the tmpfs keeps its own mode
        config.mounts.push({ destination: '/fresh', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'tmpcopyup'] });
      });
      const seen = await runBoth('copyup');
      expect(seen.tini).toMatch(/^\/seeded\/file 604 1000 1001 regular file$/m);
      expect(seen.tini).toMatch(/^\/seeded 750 0 0 directory$/m); // the directory's mode, not the tmpfs's 1777
      expect(seen.tini).toMatch(/^\/seeded\/sub 700 0 0 directory$/m);
      expect(seen.tini).toMatch(/^\/seeded\/link 777 0 0 symbolic link$/m);
      expect(seen.tini).toMatch(/^file\ncontent\n\/seeded rw,nosuid,nodev[^ ]* tmpfs\nwritable\n\/fresh 1777\n$/m);
      expect(seen.tini).toBe(seen.runc);
      expect(fs.existsSync(path.join(f.rootfs, 'seeded', 'new')), 'the image is not written').toBe(false);
    } finally {
      editConfig(bundle, (config) => (config.mounts = config.mounts.filter((m: { destination: string }) => !['/seeded', '/fresh'].includes(m.destination))));
      fs.rmSync(path.join(f.rootfs, 'seeded'), { recursive: true });
      fs.rmSync(path.join(f.rootfs, 'fresh'), { recursive: true, force: true });
    }
  });

  it('linux.devices (--device): the nodes are made with their type, numbers, mode and owner, as with runc', async () => {
    editConfig(bundle, (config) => {
      config.process.args = ['sh', '-c', 'stat -c "%n %a %u %g %F %t:%T" /dev/mynull /dev/sub/fifo /dev/myzero; head -c 3 /dev/myzero | od -An -tx1'];
      config.linux.devices = [
        { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o20640, uid: 1000, gid: 1001 },
        { path: '/dev/sub/fifo', type: 'p', fileMode: 0o600 },
        { path: '/dev/myzero', type: 'c', major: 1, minor: 5 },
      ];
    });
    try {
      const seen = await runBoth('devices');
      expect(seen.tini).toBe('/dev/mynull 640 1000 1001 character special file 1:3\n/dev/sub/fifo 600 0 0 fifo 0:0\n/dev/myzero 666 0 0 character special file 1:5\n 00 00 00\n');
      expect(seen.tini).toBe(seen.runc);
    } finally {
      editConfig(bundle, (config) => delete config.linux.devices);
    }
  });

  it("exec --process: process.json's umask is the process's; a mask out of range is refused in one line", async () => {
    editConfig(bundle, (config) => {
      config.process.args = ['sleep', '60'];
      config.process.user.umask = 0o027;
    });
    const id = `um-exec-${process.pid}`;
    expect(call('tini', ['create', '--bundle', bundle, id]).status).toBe(0);
    expect(call('tini', ['start', id]).status).toBe(0);
    const proc = path.join(f.dir, 'process.json');
    const write = (umask: number) => fs.writeFileSync(proc, JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')).process, args: ['sh', '-c', 'umask'], user: { uid: 0, gid: 0, umask } }));
    write(0o007);
    const e = call('tini', ['exec', '--process', proc, id]);
    expect(e.status, e.stderr).toBe(0);
    expect(e.stdout).toBe('0007\n');
    write(0o1000);
    const bad = call('tini', ['exec', '--process', proc, id]);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toBe('process.json: process.user.umask: must be from 0 to 511 (0777 in octal), not 512');
    expect(call('tini', ['delete', '--force', id]).status).toBe(0);
  });
});

/**
 * Podman runs the runtime with no PATH in its environment (start, kill,
 * delete get XDG_RUNTIME_DIR alone), and an init may be started so too:
 * every command, and the init's --pre-stop, must work with an empty
 * environment (hooks are covered in oci-hooks.test.ts, whose calls have none
 * either).
 */
describe.skipIf(unmet(canContainer, CONTAINER_NEEDS))('no PATH in the environment', () => {
  let f: Fixture;
  let bundle: string;
  let root: string;
  /** BIN ARGS with an empty environment; stdout and stderr through files (a created container holds them). */
  const bare = (args: string[], out = path.join(f.dir, 'out')) => {
    const err = path.join(f.dir, 'err');
    const fds = [fs.openSync(out, 'w'), fs.openSync(err, 'w')];
    try {
      const r = spawnSync(BIN, args, { stdio: ['ignore', ...fds], timeout: 30_000, env: {} });
      return { status: r.status, stdout: fs.readFileSync(out, 'utf8'), stderr: fs.readFileSync(err, 'utf8') };
    } finally {
      fds.forEach((fd) => fs.closeSync(fd));
    }
  };
  const oci = (...args: string[]) => bare(['--root', root, '--log', path.join(f.dir, 'log.json'), '--log-format', 'json', ...args]);
  beforeAll(() => {
    f = makeFixture();
    root = path.join(f.dir, 'root');
    bundle = path.join(f.dir, 'bundle');
    fs.mkdirSync(bundle);
    fs.renameSync(f.rootfs, path.join(bundle, 'rootfs'));
    f.rootfs = path.join(bundle, 'rootfs');
    // tini-ts's own `spec` (runc's default config.json), run with no PATH either
    const s = bare(['--root', root, 'spec', '--bundle', bundle]);
    expect(s.status, s.stderr).toBe(0);
    editConfig(bundle, (config) => {
      config.process.terminal = false;
      config.process.args = ['sh', '-c', 'echo started; exec sleep 60'];
    });
  });
  afterAll(() => {
    const left = sweepContainers({ tini: root });
    try {
      expect(left).toEqual([]);
    } finally {
      f?.cleanup();
    }
  });

  it('create, start, state, ps, exec (waited, detached, --process), pause, resume, update, events --stats, kill, delete: each exits 0, no warning or error logged', async () => {
    const id = `nopath-${process.pid}`;
    const workload = path.join(f.dir, 'workload');
    const c = bare(['--root', root, '--log', path.join(f.dir, 'log.json'), '--log-format', 'json', 'create', '--bundle', bundle, id], workload);
    expect(c.status, c.stderr).toBe(0);
    expect(oci('start', id).status).toBe(0);
    expect(await waitFor(() => fs.readFileSync(workload, 'utf8') === 'started\n', 10_000)).toBe(true);
    expect(JSON.parse(oci('state', id).stdout).status).toBe('running');
    expect(JSON.parse(oci('ps', '--format', 'json', id).stdout)).toHaveLength(2); // the init and sleep
    // The process's PATH is its own (runc spec's config.json has one): sh and id are found in the container.
    const e = oci('exec', id, 'sh', '-c', 'id -u; exit 4');
    expect(e.status, e.stderr).toBe(4);
    expect(e.stdout).toBe('0\n');
    const proc = path.join(f.dir, 'process.json');
    fs.writeFileSync(proc, JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')).process, args: ['true'] }));
    const p = oci('exec', '--process', proc, id);
    expect(p.status, p.stderr).toBe(0);
    const pid = path.join(f.dir, 'exec.pid');
    expect(oci('exec', '--detach', '--pid-file', pid, id, 'true').status).toBe(0);
    expect(Number(fs.readFileSync(pid, 'utf8'))).toBeGreaterThan(0);
    expect(oci('pause', id).status).toBe(0);
    expect(JSON.parse(oci('state', id).stdout).status).toBe('paused');
    expect(oci('resume', id).status).toBe(0);
    const u = oci('update', '--memory', String(64 << 20), id);
    expect(u.status, u.stderr).toBe(0);
    const ev = oci('events', '--stats', id);
    expect(ev.status, ev.stderr).toBe(0);
    expect(JSON.parse(ev.stdout)).toMatchObject({ type: 'stats', id });
    expect(oci('kill', id, 'KILL').status).toBe(0);
    expect(await waitFor(() => JSON.parse(oci('state', id).stdout).status === 'stopped', 10_000)).toBe(true);
    const d = oci('delete', id);
    expect(d.status, d.stderr).toBe(0);
    expect(fs.readFileSync(path.join(f.dir, 'log.json'), 'utf8')).toBe('');
  });

  it("the init's --pre-stop (/bin/sh -c) runs on SIGTERM, and its command is found by the shell", async () => {
    const mark = path.join(f.dir, 'pre-stop');
    const { spawn } = await import('node:child_process');
    const init = spawn(BIN, ['--grace', '5', '--pre-stop', `printf ran | tee ${mark} >/dev/null`, '--', '/bin/sleep', '60'], { stdio: 'ignore', env: {} });
    try {
      expect(await waitFor(() => fs.existsSync(`/proc/${init.pid}/task`) && fs.readFileSync(`/proc/${init.pid}/task/${init.pid}/children`, 'utf8').trim() !== '', 10_000)).toBe(true);
      const done = new Promise<number | null>((resolve) => init.on('exit', (code) => resolve(code)));
      init.kill('SIGTERM');
      expect(await done).toBe(143);
      expect(fs.readFileSync(mark, 'utf8')).toBe('ran');
    } finally {
      if (init.exitCode === null) init.kill('SIGKILL');
    }
  });
});
