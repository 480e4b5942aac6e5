/**
 * tini-ts doctor: the needs read from a real ELF binary (the Node running the
 * tests, which the binary is built from), and the verdict on root file
 * systems made here from the host's own libraries: a Debian-like layout with
 * merged /usr and relative links, one without libstdc++, one whose libc lacks
 * a needed version, a musl one, an arm64 one, and links that point outside.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnose, elfNeeds, libraryDirs, resolveIn, type ElfNeeds, type ReadAt } from '../../src/commands/doctor.js';

const fileReader = (file: string): ReadAt => (offset, length) => {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    return b.subarray(0, fs.readSync(fd, b, 0, length, offset));
  } finally {
    fs.closeSync(fd);
  }
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-doctor-'));
  dirs.push(d);
  return d;
}

const needs = elfNeeds(fileReader(process.execPath)) as ElfNeeds;
const TRIPLET = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch as 'x64'];

/** The host's copy of a library the binary needs (as the host's loader finds it). */
function hostLib(name: string): string {
  for (const d of [`/lib/${TRIPLET}`, `/usr/lib/${TRIPLET}`, '/lib64', '/usr/lib64']) {
    if (fs.existsSync(path.join(d, name))) return fs.realpathSync(path.join(d, name));
  }
  throw new Error(`the host has no ${name}`);
}

/** A merged-/usr root as Debian lays it out: /lib -> usr/lib, /lib64 -> usr/lib64, the loader linked from lib64. */
function debianRoot(skip: string[] = []): string {
  const root = tmp();
  const libdir = path.join(root, 'usr/lib', TRIPLET);
  fs.mkdirSync(libdir, { recursive: true });
  fs.mkdirSync(path.join(root, 'usr/lib64'));
  fs.symlinkSync('usr/lib', path.join(root, 'lib'));
  fs.symlinkSync('usr/lib64', path.join(root, 'lib64'));
  const loader = path.basename(needs.interp);
  fs.copyFileSync(fs.realpathSync(needs.interp), path.join(libdir, loader));
  fs.symlinkSync(`../lib/${TRIPLET}/${loader}`, path.join(root, 'usr/lib64', loader));
  for (const lib of needs.needed) if (lib !== loader && !skip.includes(lib)) fs.copyFileSync(hostLib(lib), path.join(libdir, lib));
  return root;
}

describe('doctor', () => {
  it("reads the binary's loader, libraries and symbol versions from its ELF headers", () => {
    expect(needs.interp).toBe({ x64: '/lib64/ld-linux-x86-64.so.2', arm64: '/lib/ld-linux-aarch64.so.1' }[process.arch as 'x64']);
    expect(needs.needed).toEqual(expect.arrayContaining(['libc.so.6', 'libstdc++.so.6', 'libgcc_s.so.1']));
    expect(needs.versions['libc.so.6']).toContain('GLIBC_2.28');
    expect(needs.versions['libstdc++.so.6']?.some((v) => v.startsWith('GLIBCXX_3.4'))).toBe(true);
    expect(elfNeeds(() => Buffer.from('#!/bin/sh\n'))).toBe('not an ELF file');
  });

  it('a Debian-like root with every library: yes', () => {
    const root = debianRoot();
    const d = diagnose(root, needs);
    expect(d.lines.at(-1)).toBe(`yes: ${root} can run tini-ts linux/${{ x64: 'amd64', arm64: 'arm64' }[process.arch as 'x64']}`);
    expect(d.ok).toBe(true);
    expect(d.lines.filter((l) => l.startsWith('ok '))).toHaveLength(needs.needed.filter((l) => l !== path.basename(needs.interp)).length + 1);
  });

  it('without libstdc++: no, naming it and how to install it', () => {
    const root = debianRoot(['libstdc++.so.6']);
    const d = diagnose(root, needs);
    expect(d.ok).toBe(false);
    expect(d.lines).toContain('missing  libstdc++.so.6 (Debian/Ubuntu: apt-get install libstdc++6; UBI/Fedora: dnf install libstdc++)');
    expect(d.lines.at(-2)).toMatch(/^\(libraries looked for in \/lib\/.*, \/usr\/lib\)$/);
    expect(d.lines.at(-1)).toMatch(/^no: /);
  });

  it('a glibc older than 2.28: too old, naming the missing version', () => {
    const root = debianRoot();
    const libc = path.join(root, 'usr/lib', TRIPLET, 'libc.so.6');
    const bytes = fs.readFileSync(libc);
    const at = bytes.indexOf(Buffer.from('\0GLIBC_2.28\0'));
    expect(at).toBeGreaterThan(0);
    bytes.write('\0GLIBC_2.2X\0', at, 'latin1');
    fs.writeFileSync(libc, bytes);
    const d = diagnose(root, needs);
    expect(d.ok).toBe(false);
    expect(d.lines).toContain(`too old  /lib/${TRIPLET}/libc.so.6 lacks GLIBC_2.28 (tini-ts needs glibc 2.28 or later)`);
  });

  it('scratch (nothing) and Alpine (musl): the missing loader, and why the kernel says "no such file or directory"', () => {
    const empty = diagnose(tmp(), needs);
    expect(empty.ok).toBe(false);
    expect(empty.lines[0]).toMatch(/^missing  dynamic loader .*"no such file or directory" \(no glibc here: scratch/);
    const alpine = tmp();
    fs.mkdirSync(path.join(alpine, 'lib'));
    fs.writeFileSync(path.join(alpine, 'lib', 'ld-musl-x86_64.so.1'), '');
    expect(diagnose(alpine, needs).lines[0]).toMatch(/this is a musl image, e\.g\. Alpine: tini-ts needs glibc/);
  });

  it("another architecture's image: says which binary to use", () => {
    const root = tmp();
    const other = process.arch === 'x64' ? { file: 'lib/ld-linux-aarch64.so.1', machine: 183, name: 'arm64' } : { file: 'lib64/ld-linux-x86-64.so.2', machine: 62, name: 'amd64' };
    fs.mkdirSync(path.join(root, path.dirname(other.file)));
    const elf = Buffer.alloc(64);
    elf.writeUInt32BE(0x7f454c46, 0);
    elf.writeUInt16LE(other.machine, 18);
    fs.writeFileSync(path.join(root, other.file), elf);
    expect(diagnose(root, needs).lines[0]).toBe(`wrong    dynamic loader ${needs.interp} is missing and /${other.file} is there: this is a linux/${other.name} image (use tini-ts-linux-${other.name})`);
  });

  it("links resolve inside the root, never on the host; ld.so.conf's includes are read", () => {
    const root = tmp();
    fs.mkdirSync(path.join(root, 'etc/ld.so.conf.d'), { recursive: true });
    fs.symlinkSync('/etc/hostname', path.join(root, 'etc/abs'));
    fs.symlinkSync('../../../../../etc/hostname', path.join(root, 'etc/up'));
    expect(fs.existsSync('/etc/hostname')).toBe(true);
    expect(resolveIn(root, '/etc/abs')).toBeNull();
    expect(resolveIn(root, '/etc/up')).toBeNull();
    fs.writeFileSync(path.join(root, 'etc/hostname'), 'x');
    expect(resolveIn(root, '/etc/abs')).toBe(path.join(root, 'etc/hostname'));
    fs.symlinkSync('loop', path.join(root, 'loop'));
    expect(resolveIn(root, '/loop')).toBeNull();
    fs.writeFileSync(path.join(root, 'etc/ld.so.conf'), '# comment\ninclude /etc/ld.so.conf.d/*.conf\n/opt/first\n');
    fs.writeFileSync(path.join(root, 'etc/ld.so.conf.d/b.conf'), '/opt/b\n');
    fs.writeFileSync(path.join(root, 'etc/ld.so.conf.d/a.conf'), '/opt/a\n');
    fs.writeFileSync(path.join(root, 'etc/ld.so.conf.d/c.txt'), '/opt/not-this\n');
    expect(libraryDirs(root, 62)).toEqual(['/opt/a', '/opt/b', '/opt/first', '/lib/x86_64-linux-gnu', '/usr/lib/x86_64-linux-gnu', '/lib64', '/usr/lib64', '/lib', '/usr/lib']);
  });
});
