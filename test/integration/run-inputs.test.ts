/**
 * What `tini-ts run` takes from the caller, checked before anything is made:
 * ids in range, host paths against the caller's cwd, a usable --report, a
 * --workdir that exists on the host, mount destinations that stay in the
 * root, a config.json that is a small regular file, overlay-safe layer
 * paths. A refused run is one line, exit 125, and leaves nothing (the
 * fixture's checks compare cgroups, mounts, state and the layers' trees).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { canContainer, CONTAINER_NEEDS, useContainerFixture } from './container-helpers.js';
import { BIN, hasSyncReturn, run, runArgs } from './run-helpers.js';

const unique = () => `tini-ts-inputs-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
const made: string[] = [];
const scratch = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-inputs-'));
  made.push(d);
  return d;
};
afterEach(() => {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** One line on stderr, exit 125. */
function refused(r: ReturnType<typeof run>, line: string | RegExp): void {
  expect(r.status, hasSyncReturn(r)).toBe(125);
  if (typeof line === 'string') expect(r.stderr).toBe(`tini-ts run: ${line}\n`);
  else {
    expect(r.stderr).toMatch(line);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  }
}

describe.skipIf(unmet(canContainer, CONTAINER_NEEDS))('tini-ts run: inputs', () => {
  const f = useContainerFixture();

  function bundle(patch: (c: Record<string, any>) => void = () => {}): string {
    const dir = path.join(scratch(), 'bundle');
    fs.mkdirSync(dir);
    const c: Record<string, any> = {
      ociVersion: '1.0.2',
      process: { args: ['/bin/echo', 'ran'], cwd: '/' },
      root: { path: f.rootfs },
      linux: { namespaces: [{ type: 'mount' }, { type: 'pid' }] },
      // (without a /dev mount the device nodes would be made in the fixture's rootfs)
      mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/dev', type: 'tmpfs', source: 'tmpfs' }],
    };
    patch(c);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
    return dir;
  }

  it("a bundle's limit the cgroup cannot honour names config.json's field, not run's flag, and undoes the cgroup", () => {
    // A cgroup v1 tree without swap accounting (no memory.memsw.* files).
    const root = scratch();
    const controllers = ['memory', 'pids', 'cpu', 'cpuacct'];
    for (const c of controllers) {
      fs.mkdirSync(path.join(root, c));
      fs.writeFileSync(path.join(root, c, 'cgroup.procs'), '');
    }
    const b = bundle((c) => (c.linux.resources = { memory: { limit: 64 << 20, swap: 128 << 20 } }));
    refused(
      run(['-q', '--cgroup-root', root, '--bundle', b]),
      'config.json: linux.resources.memory.swap: needs swap accounting (memory.memsw.* files are missing; boot with swapaccount=1)',
    );
    for (const c of controllers) expect(fs.readdirSync(path.join(root, c))).toEqual(['cgroup.procs']);
  });

  it('uids and gids outside 0..2^32-2 are refused, never run as root (flags, bundle, the image\'s passwd)', () => {
    const range = `is outside 0..4294967294 (the kernel's range; -1 means "unchanged")`;
    refused(run(['-q', '--rootfs', f.rootfs, '--user', '4294967296', '--', 'id', '-u']), `--user: user 4294967296 ${range}`);
    refused(run(['-q', '--rootfs', f.rootfs, '--user', '0:4294967295', '--', 'id', '-g']), `--user: group 4294967295 ${range}`);
    refused(run(['-q', '--rootfs', f.rootfs, '--group-add', '4294967296', '--', 'id']), `--group-add: group 4294967296 ${range}`);
    refused(run(['-q', '--bundle', bundle((c) => (c.process.user = { uid: 4294967296, gid: 0 }))]), 'config.json: process.user.uid: must be an integer from 0 to 4294967294');
    const layer = path.join(scratch(), 'big');
    fs.mkdirSync(path.join(layer, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(layer, 'etc/passwd'), fs.readFileSync(path.join(f.rootfs, 'etc/passwd'), 'utf8') + 'big:x:4294967296:0::/:/bin/sh\n');
    // (no -q: it hides the line the init reports)
    const big = run(['--layer', f.rootfs, '--layer', layer, '--user', 'big', '--', 'id', '-u']);
    expect(big.status, hasSyncReturn(big)).toBe(125);
    expect(big.stderr).toContain(`the container's /etc/passwd gives user 'big' the uid 4294967296 ${range}`);
    expect(big.stdout).toBe('');
    // The largest id is taken.
    const ok = run(['-q', '--rootfs', f.rootfs, '--user', '4294967294:4294967294', '--', 'sh', '-c', 'id -u; id -g']);
    expect(ok.status, hasSyncReturn(ok)).toBe(0);
    expect(ok.stdout).toBe('4294967294\n4294967294\n');
  });

  it('a volume destination with `..` is cleaned as docker does: the volume is inside, nothing is made outside the root', () => {
    const src = scratch();
    fs.writeFileSync(path.join(src, 'file'), 'in the volume\n');
    const name = unique();
    const r = run(['-q', '--rootfs', f.rootfs, '--volume', `${src}:/../../${name}`, '--', 'cat', `/${name}/file`]);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    expect(r.stdout).toBe('in the volume\n');
    expect(fs.existsSync(path.join(f.rootfs, '../..', name))).toBe(false);
    expect(fs.existsSync(path.join(f.dir, name))).toBe(false);
    fs.rmdirSync(path.join(f.rootfs, name)); // the mount point, kept in a writable root as runc keeps it
  });

  it('a bundle mount destination with `..` is cleaned the same way', () => {
    const name = unique();
    const b = bundle((c) => {
      c.process.args = ['/bin/sh', '-c', `grep -c " /${name} rw" /proc/self/mountinfo`];
      c.mounts = [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs' },
        { destination: `/../../${name}`, type: 'tmpfs', source: 'tmpfs' },
      ];
    });
    const r = run(['-q', '--bundle', b]);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    expect(r.stdout).toBe('1\n');
    expect(fs.existsSync(path.join(f.rootfs, '../..', name))).toBe(false);
    fs.rmdirSync(path.join(f.rootfs, name)); // the mount point, kept in a writable root as runc keeps it
  });

  it("relative host paths are the caller's: --report, --rootfs, --env-file, --volume sources, --events", () => {
    const cwd = scratch();
    fs.symlinkSync(f.rootfs, path.join(cwd, 'root'));
    fs.writeFileSync(path.join(cwd, 'vars.env'), 'FROM_FILE=yes\n');
    fs.mkdirSync(path.join(cwd, 'src'));
    fs.writeFileSync(path.join(cwd, 'src/f'), 'from src\n');
    const r = run(['-q', '--report', 'r.json', '--events', 'ev.jsonl', '--rootfs', 'root', '--env-file', 'vars.env', '--volume', 'src:/v', '--', 'sh', '-c', 'echo $FROM_FILE; cat /v/f'], { cwd });
    expect(r.status, hasSyncReturn(r)).toBe(0);
    expect(r.stdout).toBe('yes\nfrom src\n');
    expect(JSON.parse(fs.readFileSync(path.join(cwd, 'r.json'), 'utf8'))).toMatchObject({ exit_code: 0 });
    expect(fs.readFileSync(path.join(cwd, 'ev.jsonl'), 'utf8')).toMatch(/"event":"exit"/);
    fs.rmdirSync(path.join(f.rootfs, 'v')); // the mount point, kept in a writable root as runc keeps it
  });

  it('an unusable --report is refused before anything is made, and no file is left', () => {
    const d = scratch();
    refused(run(['-q', '--report', path.join(d, 'missing/r.json'), '--', 'true']), `--report ${JSON.stringify(path.join(d, 'missing/r.json'))}: its directory ${path.join(d, 'missing')} does not exist`);
    refused(run(['-q', '--report', d, '--', 'true']), `--report ${JSON.stringify(d)}: is a directory (give a file name)`);
    fs.writeFileSync(path.join(d, 'file'), '');
    refused(run(['-q', '--report', path.join(d, 'file/r.json'), '--', 'true']), `--report ${JSON.stringify(path.join(d, 'file/r.json'))}: ${path.join(d, 'file')} is not a directory`);
    // Not writable: a read-only tmpfs in a mount namespace of the test's own (root writes anywhere else).
    const ro = path.join(d, 'ro');
    fs.mkdirSync(ro);
    const marker = unique();
    const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o ro none "$1" && shift && exec "$@"', 'sh', ro, BIN,
      ...runArgs(['-q', '--report', `${ro}/r.json`, '--', 'sh', '-c', `echo ${marker}`])], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, hasSyncReturn(r)).toBe(125);
    expect(r.stderr).toBe(`tini-ts run: --report ${JSON.stringify(`${ro}/r.json`)}: cannot create a file in ${ro}: EROFS\n`);
    expect(r.stdout).not.toContain(marker);
    expect(fs.readdirSync(d).sort()).toEqual(['file', 'ro']);
    expect(fs.readdirSync(ro)).toEqual([]);
  });

  it('without a root filesystem a missing --workdir is refused, never created on the host', () => {
    const d = scratch();
    refused(run(['-q', '--workdir', path.join(d, 'new/dir'), '--', 'pwd']),
      `--workdir ${JSON.stringify(path.join(d, 'new/dir'))}: no such directory on the host (without a root filesystem the program runs in the host's tree)`);
    expect(fs.readdirSync(d)).toEqual([]);
    const r = run(['-q', '--workdir', d, '--', 'pwd']);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    expect(r.stdout).toBe(`${d}\n`);
  });

  it('config.json must be a regular file of at most 4 MiB: a FIFO does not hang, /dev/zero does not exhaust memory', () => {
    const fifo = bundle();
    fs.rmSync(path.join(fifo, 'config.json'));
    expect(spawnSync('mkfifo', [path.join(fifo, 'config.json')]).status).toBe(0);
    refused(run(['-q', '--bundle', fifo], { timeout: 15_000 }), `--bundle: ${path.join(fifo, 'config.json')}: not a regular file`);
    const zero = bundle();
    fs.rmSync(path.join(zero, 'config.json'));
    fs.symlinkSync('/dev/zero', path.join(zero, 'config.json'));
    refused(run(['-q', '--bundle', zero], { timeout: 15_000 }), `--bundle: ${path.join(zero, 'config.json')}: not a regular file`);
    const big = bundle();
    fs.writeFileSync(path.join(big, 'config.json'), ' '.repeat(4 * 1024 * 1024 + 1));
    refused(run(['-q', '--bundle', big]), `--bundle: ${path.join(big, 'config.json')}: 4194305 bytes, more than the 4 MiB a config.json may have`);
  });

  it('a config.json that is not JSON: the file, the position and the problem, never its content', () => {
    const b = bundle();
    fs.writeFileSync(path.join(b, 'config.json'), '{\n  "process": {"env": ["TOKEN=s3cr3t-value"], oops}\n}\n');
    const r = run(['-q', '--bundle', b]);
    refused(r, 'config.json: (file): not valid JSON at line 2 column 46: expected double-quoted property name');
    expect(r.stderr).not.toContain('s3cr3t');
  });

  it('process.terminal: true is said in the warning; the program runs with tini-ts run\'s stdio', () => {
    const r = run(['-q', '--bundle', bundle((c) => (c.process.terminal = true))]);
    expect(r.status, hasSyncReturn(r)).toBe(0);
    expect(r.stdout).toBe('ran\n');
    expect(r.stderr).toBe("tini-ts run: warning: config.json: not supported, ignored: process.terminal (no pseudo-terminal is made: the program gets tini-ts run's stdin, stdout and stderr)\n");
  });

  it("a --layer path with ',' or ':' is refused with a clear line, not overlayfs's ENOENT", () => {
    const d = scratch();
    for (const name of ['a,b', 'a:b']) {
      fs.symlinkSync(f.rootfs, path.join(d, name));
      refused(run(['-q', '--layer', path.join(d, name), '--', 'true']),
        `--layer ${JSON.stringify(path.join(d, name))}: '${name[1]}' cannot be used in an overlay layer's path (overlayfs reads it as a separator); rename or link the directory`);
    }
  });
});
