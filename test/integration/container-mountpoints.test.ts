/**
 * Mount points in a user's root filesystem, attacked: a workload that plants
 * links where the runtime created mount points, a racing link swapper, `..`
 * in a destination, concurrent runs on one root, file volumes, a read-only
 * root that lacks mount points, a launcher SIGKILLed mid-run. Paths inside
 * the root are resolved through descriptors and missing mount points are
 * created in place and kept (as runc does), so nothing outside the root is
 * ever created or deleted, and a read-only root is never written.
 *
 * Each test works on root filesystems of its own (under the fixture's
 * directory): the shared fixture's tree is checked unchanged after each one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { makeBusyboxRootfs } from '../helpers/rootfs.js';
import { canContainer, CONTAINER_NEEDS, tree, useContainerFixture } from './container-helpers.js';
import { hasSyncReturn, processesWith, run, start, waitFor } from './run-helpers.js';

/** Every entry under `dir` (and `dir` itself) with its type, mode, size and mtime: what "unchanged" means. */
function listing(dir: string): string[] {
  const line = (p: string) => {
    const st = fs.lstatSync(p);
    return `${path.relative(dir, p) || '.'} ${st.mode.toString(8)} ${st.isFile() ? st.size : ''} ${st.mtimeMs}`;
  };
  const out = [line(dir)];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push(line(p));
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

describe.skipIf(unmet(canContainer, CONTAINER_NEEDS))('tini-ts run: mount points in the root filesystem', () => {
  const f = useContainerFixture();
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  /** A busybox root of this test's own; `bare`: without /proc, /dev, /sys and the /etc files (every mount point missing). */
  function rootfs(name: string, bare = false): string {
    const dir = makeBusyboxRootfs(path.join(f.dir, name, 'rootfs'));
    if (bare) {
      for (const d of ['proc', 'dev', 'sys']) fs.rmdirSync(path.join(dir, d));
      for (const e of ['hostname', 'hosts', 'resolv.conf']) fs.rmSync(path.join(dir, 'etc', e));
    }
    return dir;
  }
  /** A host directory with one file in it. */
  function hostDir(name: string, file = 'file', content = 'from the host\n'): string {
    const d = path.join(f.dir, name);
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, file), content);
    return d;
  }

  it('a workload that replaces created mount points with links to a host directory: the host directory is untouched', () => {
    const r = rootfs('attack', true);
    const victim = path.join(f.dir, 'victim');
    // What the old clean-up deleted through the links: an empty directory and empty files.
    fs.mkdirSync(path.join(victim, 'mnt'), { recursive: true });
    for (const e of ['hostname', 'hosts', 'resolv.conf']) fs.writeFileSync(path.join(victim, e), '');
    fs.writeFileSync(path.join(victim, 'keep'), 'precious\n');
    const before = listing(victim);
    const src = hostDir('attack-src');
    const x = run(['-q', '--rootfs', r, '--volume', `${src}:/newdir/mnt`, '--', 'sh', '-c',
      `cat /newdir/mnt/file && mv /newdir /n.old && ln -s ${victim} /newdir && mv /etc /etc.old && ln -s ${victim} /etc`]);
    expect(x.status, hasSyncReturn(x)).toBe(0);
    expect(x.stdout).toBe('from the host\n');
    expect(listing(victim)).toEqual(before);
    // The mount points made for the run are kept where they were made, inside the root.
    expect(fs.statSync(path.join(r, 'n.old/mnt')).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(r, 'etc.old/hostname')).size).toBe(0);
    // A second run on the trapped root: the links are followed inside the root, never to the host.
    const y = run(['-q', '--rootfs', r, '--volume', `${src}:/newdir/mnt`, '--', 'cat', '/newdir/mnt/file']);
    expect(y.status, hasSyncReturn(y)).toBe(0);
    expect(listing(victim)).toEqual(before);
    expect(fs.statSync(path.join(r, victim, 'mnt')).isDirectory()).toBe(true);
  });

  it('a link swapped back and forth while mount points are created: nothing appears outside the root', async () => {
    const r = rootfs('race');
    const outside = path.join(f.dir, 'race-outside');
    fs.mkdirSync(outside);
    fs.mkdirSync(path.join(r, 'race'));
    fs.symlinkSync(outside, path.join(r, 'race.alt'));
    // Exchanges race (a directory) and race.alt (a link to the host) atomically, as fast as it can
    // (at full speed: with the lookups by name of before, 15 runs let 3 to 6 directories escape).
    const swapper = path.join(f.dir, 'swapper.cjs');
    fs.writeFileSync(swapper, `
      const koffi = require(${JSON.stringify(createRequire(import.meta.url).resolve('koffi'))});
      const renameat2 = koffi.load('libc.so.6').func('int renameat2(int, const char *, int, const char *, unsigned int)');
      const [a, b] = process.argv.slice(2);
      process.stdout.write('swapping\\n');
      for (;;) renameat2(-100, a, -100, b, 2 /* RENAME_EXCHANGE */);
    `);
    const s = spawn(process.execPath, [swapper, path.join(r, 'race'), path.join(r, 'race.alt')], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(s);
    let out = '';
    s.stdout!.on('data', (d) => (out += d));
    expect(await waitFor(() => out.includes('swapping'))).toBe(true);
    const src = hostDir('race-src');
    const failures: string[] = [];
    for (let i = 0; i < 20; i++) {
      const x = run(['-q', '--rootfs', r, '--volume', `${src}:/race/a${i}/b`, '--', 'true']);
      if (x.status !== 0) failures.push(hasSyncReturn(x));
    }
    s.kill('SIGKILL');
    expect(fs.readdirSync(outside)).toEqual([]);
    expect(failures).toEqual([]);
    // Every mount point was made inside the root: under the directory, or where the link points, read inside the root.
    const made = [...fs.readdirSync(path.join(r, 'race')), ...fs.readdirSync(path.join(r, 'race.alt')), ...(fs.existsSync(path.join(r, outside)) ? fs.readdirSync(path.join(r, outside)) : [])];
    expect(made.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `a${i}`).sort());
    // 20 runs beside a swapper that keeps a CPU busy: 36-42 s in the VM stage's emulated guest at rest.
  }, 180_000);

  it('.. in a volume destination: mounted at the cleaned path inside, nothing created outside the root', () => {
    const r = rootfs('dotdot/a/b');
    const src = hostDir('dotdot-src');
    const x = run(['-q', '--rootfs', r, '--volume', `${src}:/../../x`, '--', 'cat', '/x/file']);
    expect(x.status, hasSyncReturn(x)).toBe(0);
    expect(x.stdout).toBe('from the host\n');
    expect(fs.readdirSync(path.join(f.dir, 'dotdot'))).toEqual(['a']);
    expect(fs.readdirSync(path.join(f.dir, 'dotdot/a'))).toEqual(['b']);
    expect(fs.readdirSync(path.join(f.dir, 'dotdot/a/b'))).toEqual(['rootfs']);
    expect(fs.statSync(path.join(r, 'x')).isDirectory()).toBe(true);
  });

  it('concurrent runs on one root that lacks every mount point all succeed, and leave what one run leaves', async () => {
    const one = rootfs('single', true);
    const shared = rootfs('shared', true);
    const src = hostDir('shared-src');
    const args = (root: string, i: number) => ['-q', '--rootfs', root, '--hostname', `c${i}`, '--volume', `${src}:/srv/vol`, '--', 'sh', '-c', 'cat /etc/hostname /srv/vol/file'];
    const first = run(args(one, 0));
    expect(first.status, hasSyncReturn(first)).toBe(0);
    const runs = Array.from({ length: 8 }, (_, i) => start(args(shared, i)));
    const results = await Promise.all(runs.map((p) => p.done));
    results.forEach((x, i) => {
      expect(x.code, x.stderr).toBe(0);
      expect(x.stdout).toBe(`c${i}\nfrom the host\n`);
    });
    expect(tree(shared)).toEqual(tree(one));
    expect(tree(one)).toEqual(expect.arrayContaining(['proc 40555 ', 'dev 40755 ', 'sys 40555 ', 'etc/hostname 100644 0', 'srv/vol 40755 ']));
  });

  it('file volumes, read-only and read-write, onto existing and missing files', () => {
    const r = rootfs('files');
    const ro = path.join(hostDir('files-src'), 'file');
    const rw = path.join(f.dir, 'files-src', 'rw');
    fs.writeFileSync(rw, 'before\n');
    const x = run(['-q', '--rootfs', r, '--volume', `${ro}:/etc/h2:ro`, '--volume', `${rw}:/new/dir/rw`, '--volume', '/etc/hostname:/etc/passwd2', '--', 'sh', '-c',
      'cat /etc/h2; echo after > /new/dir/rw; (echo no > /etc/h2) 2>/dev/null && echo writable || echo read-only; test -f /etc/passwd2 && echo file']);
    expect(x.status, hasSyncReturn(x)).toBe(0);
    expect(x.stdout).toBe('from the host\nread-only\nfile\n');
    expect(fs.readFileSync(rw, 'utf8')).toBe('after\n');
    expect(fs.readFileSync(ro, 'utf8')).toBe('from the host\n');
    expect(fs.statSync(path.join(r, 'etc/h2')).isFile()).toBe(true);
    expect(fs.statSync(path.join(r, 'new/dir/rw')).size).toBe(0);
  });

  it.each([
    ['a file onto a directory', (src: string) => `${path.join(src, 'file')}:/etc`, /\/etc exists in the root and is a directory; the source .*\/file is not/],
    ['a directory onto a file', (src: string) => `${src}:/etc/passwd`, /\/etc\/passwd exists in the root and is not a directory; the source .* is a directory/],
  ])('refuses %s: one line naming it, exit 125, the root unchanged', (_name, volume, pattern) => {
    const r = rootfs(`mismatch-${_name.length}`);
    const src = hostDir(`mismatch-src-${_name.length}`);
    const before = listing(r);
    const x = run(['--rootfs', r, '--volume', volume(src), '--', 'true']);
    expect(x.status, hasSyncReturn(x)).toBe(125);
    expect(x.stderr).toMatch(pattern);
    expect(x.stderr.trimEnd().split('\n'), x.stderr).toHaveLength(1);
    expect(listing(r)).toEqual(before);
  });

  it('a bundle binds a file onto a file', () => {
    const bundle = path.join(f.dir, 'file-bundle');
    makeBusyboxRootfs(path.join(bundle, 'rootfs'));
    const file = path.join(hostDir('bundle-src'), 'file');
    const config = {
      ociVersion: '1.0.2',
      process: { terminal: false, user: { uid: 0, gid: 0 }, args: ['sh', '-c', 'cat /etc/motd; cat /opt/conf/app.conf'], env: ['PATH=/bin'], cwd: '/' },
      root: { path: 'rootfs', readonly: true },
      hostname: 'b',
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
        { destination: '/etc/motd', type: 'bind', source: file, options: ['bind', 'ro'] },
        { destination: '/opt/conf/app.conf', type: 'bind', source: file, options: ['rbind'] },
      ],
      linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'network' }] },
    };
    fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
    const before = listing(path.join(bundle, 'rootfs'));
    const x = run(['-q', '--bundle', bundle]);
    expect(x.status, hasSyncReturn(x)).toBe(0);
    expect(x.stdout).toBe('from the host\nfrom the host\n');
    // A read-only root that lacked the mount points: made on a private overlay, the directory never written.
    expect(listing(path.join(bundle, 'rootfs'))).toEqual(before);
  });

  it('a read-only root that lacks every mount point: everything works inside, the directory is byte for byte unchanged', () => {
    const r = rootfs('ro', true);
    const src = hostDir('ro-src');
    const before = listing(r);
    const x = run(['-q', '--rootfs', r, '--read-only', '--hostname', 'ro', '--volume', `${src}:/mnt/v`, '--volume', `${path.join(src, 'file')}:/etc/f`, '--', 'sh', '-c',
      'cat /etc/hostname /mnt/v/file /etc/f; ls /dev/null /proc/self/stat >/dev/null && echo dev-proc; (touch /x) 2>/dev/null && echo writable || echo read-only; ls -ld / | cut -c1-10']);
    expect(x.status, hasSyncReturn(x)).toBe(0);
    expect(x.stdout).toBe(`ro\nfrom the host\nfrom the host\ndev-proc\nread-only\n${'drwxr-xr-x'}\n`);
    expect(listing(r)).toEqual(before);
  });

  it('a read-only root with every mount point present is bound as it is (no overlay)', () => {
    const r = rootfs('ro-full');
    const x = run(['-q', '--rootfs', r, '--read-only', '--', 'sh', '-c', "awk '$5 == \"/\" { print $9 }' /proc/self/mountinfo"]);
    expect(x.status, hasSyncReturn(x)).toBe(0);
    expect(x.stdout.trim()).not.toBe('overlay');
  });

  it('a launcher SIGKILLed mid-run: a read-only root is unchanged, a writable one holds only what a normal run keeps', async () => {
    const ro = rootfs('kill-ro', true);
    const rw = rootfs('kill-rw', true);
    const ref = rootfs('kill-ref', true);
    const before = listing(ro);
    const m = `tini-ts-mp-kill-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const normal = run(['-q', '--rootfs', ref, '--', 'true']);
    expect(normal.status, hasSyncReturn(normal)).toBe(0);
    for (const [root, extra] of [[ro, ['--read-only']], [rw, []]] as const) {
      const p = start(['--rootfs', root, ...extra, '--', 'sh', '-c', `echo ready; sleep 1000; : ${m}`]);
      expect(await waitFor(() => p.out().includes('ready'))).toBe(true);
      p.child.kill('SIGKILL');
      await p.done;
      expect(await waitFor(() => processesWith(m).length === 0)).toBe(true);
    }
    expect(listing(ro)).toEqual(before);
    expect(tree(rw)).toEqual(tree(ref));
    // The next run finishes the dead launchers' clean-up (their state directories).
    const next = run(['-q', '--', 'true']);
    expect(next.status, hasSyncReturn(next)).toBe(0);
  });

  it('a temporary upper layer holding links to the host is removed without following them', () => {
    const victim = hostDir('upper-victim', 'keep', 'precious\n');
    fs.mkdirSync(path.join(victim, 'sub'));
    fs.writeFileSync(path.join(victim, 'sub/keep'), 'precious\n');
    const before = listing(victim);
    const x = run(['-q', '--layer', f.rootfs, '--', 'sh', '-c', `ln -s ${victim} /evil && mkdir /d && ln -s ${victim}/sub /d/sub && ln -s ${victim}/keep /d/keep && ls /run/tini-ts 2>/dev/null | wc -l`]);
    expect(x.status, hasSyncReturn(x)).toBe(0);
    // The state directory is not visible inside the container.
    expect(x.stdout).toBe('0\n');
    expect(listing(victim)).toEqual(before);
  });
});
