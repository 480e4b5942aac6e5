/**
 * tini-ts doctor ROOTDIR: can an image's root file system run this binary?
 *
 * The binary is Node: dynamically linked against glibc, libstdc++ and
 * friends. Where its dynamic loader is missing the kernel says only "no such
 * file or directory" (scratch, distroless static, Alpine), and a missing
 * library or symbol version fails before any of tini-ts runs. So the
 * doctor reads what this very binary asks for from its own ELF headers (the
 * loader, every DT_NEEDED library and the symbol versions needed from each)
 * and looks for each in ROOTDIR, following symbolic links inside ROOTDIR.
 * Exit 0: it can; 1: it cannot (each missing piece named, with the way out);
 * 2: bad usage. (Not the init: nothing here runs under a child.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeStderr, writeStdout } from '../log/log.js';
import { ARCH } from '../texts.js';

export const DOCTOR_USAGE = `Usage: tini-ts doctor ROOTDIR

Says whether the root file system at ROOTDIR (an unpacked image, a
container's rootfs, a chroot) has what this binary needs to start: its
dynamic loader, and every library it links with, in the versions it needs.
Exit status: 0 it can run there, 1 it cannot (what is missing is named),
2 bad usage.
`;

/** What an ELF binary needs from the system that runs it. */
export interface ElfNeeds {
  machine: number;
  interp: string;
  needed: string[];
  /** Symbol versions needed, by library (GLIBC_2.28, GLIBCXX_3.4.21, ...). */
  versions: Record<string, string[]>;
}

/** Reads LENGTH bytes at OFFSET of a file. */
export type ReadAt = (offset: number, length: number) => Buffer;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NEEDED = 1;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_VERNEED = 0x6ffffffe;
const DT_VERNEEDNUM = 0x6fffffff;

export const MACHINE_NAMES: Readonly<Record<number, string>> = { 62: 'amd64', 183: 'arm64', 40: 'arm', 3: '386', 243: 'riscv64' };

/** The needs of a 64-bit little-endian ELF executable, or a one-line reason it is not one. */
export function elfNeeds(read: ReadAt): ElfNeeds | string {
  const h = read(0, 64);
  if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46) return 'not an ELF file';
  if (h[4] !== 2 || h[5] !== 1) return 'not a 64-bit little-endian ELF file';
  const machine = h.readUInt16LE(18);
  const phoff = Number(h.readBigUInt64LE(32));
  const phentsize = h.readUInt16LE(54);
  const phnum = h.readUInt16LE(56);
  const ph = read(phoff, phentsize * phnum);
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let interp = '';
  let dyn: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const p = ph.subarray(i * phentsize);
    const type = p.readUInt32LE(0);
    const offset = Number(p.readBigUInt64LE(8));
    const vaddr = Number(p.readBigUInt64LE(16));
    const filesz = Number(p.readBigUInt64LE(32));
    if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
    else if (type === PT_INTERP) interp = read(offset, filesz).toString('latin1').replace(/\0.*$/s, '');
    else if (type === PT_DYNAMIC) dyn = { offset, size: filesz };
  }
  if (!interp || !dyn) return 'a static executable (no dynamic loader, nothing to check)';
  const fileOffset = (vaddr: number): number => {
    const l = loads.find((s) => vaddr >= s.vaddr && vaddr < s.vaddr + s.filesz);
    if (!l) throw new Error(`address 0x${vaddr.toString(16)} is in no loaded segment`);
    return l.offset + vaddr - l.vaddr;
  };
  const d = read(dyn.offset, dyn.size);
  const tags: [number, number][] = [];
  for (let o = 0; o + 16 <= d.length; o += 16) {
    const tag = Number(d.readBigInt64LE(o));
    if (tag === 0) break;
    tags.push([tag, Number(d.readBigUInt64LE(o + 8))]);
  }
  const one = (t: number) => tags.find(([tag]) => tag === t)?.[1];
  const strtab = read(fileOffset(one(DT_STRTAB) ?? 0), one(DT_STRSZ) ?? 0);
  const str = (o: number) => strtab.toString('latin1', o, strtab.indexOf(0, o));
  const needed = tags.filter(([t]) => t === DT_NEEDED).map(([, v]) => str(v));
  const versions: Record<string, string[]> = {};
  const vn = one(DT_VERNEED);
  if (vn !== undefined) {
    // Elf64_Verneed (16 bytes) entries, each with vn_cnt Elf64_Vernaux (16 bytes).
    let at = fileOffset(vn);
    for (let i = 0; i < (one(DT_VERNEEDNUM) ?? 0); i++) {
      const e = read(at, 16);
      const file = str(e.readUInt32LE(4));
      let aux = at + e.readUInt32LE(8);
      for (let j = 0; j < e.readUInt16LE(2); j++) {
        const a = read(aux, 16);
        (versions[file] ??= []).push(str(a.readUInt32LE(8)));
        aux += a.readUInt32LE(12);
      }
      at += e.readUInt32LE(12);
    }
  }
  return { machine, interp, needed, versions };
}

/**
 * PATH (absolute, as the image sees it) resolved inside ROOT: symbolic links
 * are followed as the image would (an absolute target starts again at ROOT).
 * The host path, or null when missing.
 */
export function resolveIn(root: string, p: string): string | null {
  let todo = p.split('/').filter(Boolean);
  let at = root;
  for (let hops = 0; todo.length > 0;) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      if (at !== root) at = path.dirname(at);
      continue;
    }
    const next = path.join(at, part);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(next);
    } catch {
      return null;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) return null;
      let target: string;
      try {
        target = fs.readlinkSync(next);
      } catch {
        return null;
      }
      if (target.startsWith('/')) at = root;
      todo = [...target.split('/').filter(Boolean), ...todo];
    } else {
      at = next;
    }
  }
  return at;
}

/** glibc's dynamic loader by ELF machine. */
const LOADERS: Readonly<Record<number, string>> = { 62: '/lib64/ld-linux-x86-64.so.2', 183: '/lib/ld-linux-aarch64.so.1' };

const TRIPLETS: Readonly<Record<number, string>> = { 62: 'x86_64-linux-gnu', 183: 'aarch64-linux-gnu' };

/** The directories the image's loader searches: /etc/ld.so.conf (and its includes), then the defaults. */
export function libraryDirs(root: string, machine: number): string[] {
  const dirs: string[] = [];
  const readConf = (file: string, depth: number) => {
    const host = resolveIn(root, file);
    if (!host || depth > 4) return;
    let text = '';
    try {
      text = fs.readFileSync(host, 'utf8');
    } catch {
      return;
    }
    for (const raw of text.split('\n')) {
      const line = raw.replace(/#.*/, '').trim();
      const inc = /^include\s+(\S+)$/.exec(line);
      if (inc) {
        const pattern = inc[1].startsWith('/') ? inc[1] : path.join(path.dirname(file), inc[1]);
        const dir = path.dirname(pattern);
        const re = new RegExp(`^${path.basename(pattern).replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
        const hostDir = resolveIn(root, dir);
        let names: string[] = [];
        try {
          names = hostDir ? fs.readdirSync(hostDir).sort() : [];
        } catch {
          names = [];
        }
        for (const n of names) if (re.test(n)) readConf(path.join(dir, n), depth + 1);
      } else if (line.startsWith('/')) {
        dirs.push(line);
      }
    }
  };
  readConf('/etc/ld.so.conf', 0);
  const t = TRIPLETS[machine];
  if (t) dirs.push(`/lib/${t}`, `/usr/lib/${t}`);
  dirs.push('/lib64', '/usr/lib64', '/lib', '/usr/lib');
  return dirs.filter((d, i) => dirs.indexOf(d) === i);
}

/** How to install a library on the usual bases, for the "missing" line. */
const INSTALL: Readonly<Record<string, string>> = {
  'libstdc++.so.6': 'Debian/Ubuntu: apt-get install libstdc++6; UBI/Fedora: dnf install libstdc++',
  'libgcc_s.so.1': 'Debian/Ubuntu: apt-get install libgcc-s1; UBI/Fedora: dnf install libgcc',
  'libatomic.so.1': 'Debian/Ubuntu: apt-get install libatomic1; UBI/Fedora: microdnf install libatomic',
};

export interface Diagnosis {
  ok: boolean;
  lines: string[];
}

function readAtFile(file: string): ReadAt {
  return (offset, length) => {
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(length);
      const n = fs.readSync(fd, b, 0, length, offset);
      return b.subarray(0, n);
    } finally {
      fs.closeSync(fd);
    }
  };
}

/** Whether FILE defines every version in VERSIONS (each is a NUL-terminated string in its .dynstr); the missing ones. */
function missingVersions(file: string, versions: readonly string[]): string[] {
  const bytes = fs.readFileSync(file);
  return versions.filter((v) => bytes.indexOf(Buffer.from(`\0${v}\0`, 'latin1')) < 0);
}

/** Can ROOT run a binary with these needs? One line per need, then the verdict. */
export function diagnose(root: string, needs: ElfNeeds): Diagnosis {
  const lines: string[] = [];
  let ok = true;
  const bad = (line: string) => {
    ok = false;
    lines.push(line);
  };
  const arch = MACHINE_NAMES[needs.machine] ?? `ELF machine ${needs.machine}`;
  const machineOf = (file: string): number | null => {
    const h = readAtFile(file)(0, 20);
    return h.length === 20 && h.readUInt32BE(0) === 0x7f454c46 ? h.readUInt16LE(18) : null;
  };
  const checkArch = (what: string, host: string): boolean => {
    const m = machineOf(host);
    if (m === needs.machine) return true;
    bad(`wrong    ${what} is ${m === null ? 'not an ELF file' : `for ${MACHINE_NAMES[m] ?? `ELF machine ${m}`}`}, not ${arch}${m !== null && MACHINE_NAMES[m] ? ` (use tini-ts-linux-${MACHINE_NAMES[m]})` : ''}`);
    return false;
  };

  const loader = resolveIn(root, needs.interp);
  // Another architecture's glibc loader: the image is for that architecture.
  const otherArch = Object.entries(LOADERS).find(([m, file]) => Number(m) !== needs.machine && resolveIn(root, file));
  if (!loader && otherArch) {
    const other = MACHINE_NAMES[Number(otherArch[0])];
    bad(`wrong    dynamic loader ${needs.interp} is missing and ${otherArch[1]} is there: this is a linux/${other} image (use tini-ts-linux-${other})`);
  } else if (!loader) {
    const musl = ['/lib', '/usr/lib'].flatMap((d) => {
      const h = resolveIn(root, d);
      try {
        return h ? fs.readdirSync(h).filter((n) => n.startsWith('ld-musl-')) : [];
      } catch {
        return [];
      }
    });
    bad(`missing  dynamic loader ${needs.interp}: the kernel would say only "no such file or directory"` +
      (musl.length ? ` (this is a musl image, e.g. Alpine: tini-ts needs glibc; use a glibc base such as debian:*-slim or distroless/cc)` : ' (no glibc here: scratch or a static base; use a glibc base such as debian:*-slim or distroless/cc)'));
  } else if (checkArch(`dynamic loader ${needs.interp}`, loader)) {
    lines.push(`ok       dynamic loader ${needs.interp}`);
  }

  const dirs = libraryDirs(root, needs.machine);
  let anyMissing = false;
  for (const lib of needs.needed) {
    if (lib === path.basename(needs.interp)) continue; // the loader itself, checked above
    let found: string | null = null;
    let where = '';
    for (const d of dirs) {
      const host = resolveIn(root, path.posix.join(d, lib));
      if (host && fs.statSync(host).isFile() && machineOf(host) === needs.machine) {
        found = host;
        where = path.posix.join(d, lib);
        break;
      }
    }
    if (!found) {
      anyMissing = true;
      bad(`missing  ${lib}${INSTALL[lib] ? ` (${INSTALL[lib]})` : ''}`);
      continue;
    }
    const want = needs.versions[lib] ?? [];
    const lacking = missingVersions(found, want);
    if (lacking.length) {
      bad(`too old  ${where} lacks ${lacking.join(', ')}${lib === 'libc.so.6' ? ' (tini-ts needs glibc 2.28 or later)' : ''}`);
    } else {
      const newest = [...want].sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).pop();
      lines.push(`ok       ${lib} ${where}${newest ? ` (has ${newest})` : ''}`);
    }
  }
  if (anyMissing) lines.push(`(libraries looked for in ${dirs.join(', ')})`);
  lines.push(ok ? `yes: ${root} can run tini-ts linux/${arch}` : `no: ${root} cannot run tini-ts linux/${arch}`);
  return { ok, lines };
}

export function runDoctor(args: string[]): void {
  if (args[0] === '-h' || args[0] === '--help') {
    writeStdout(DOCTOR_USAGE);
    process.exit(0);
  }
  if (args.length !== 1) {
    writeStderr(`tini-ts doctor: ${args.length ? 'one ROOTDIR only' : 'a ROOTDIR is needed'} (tini-ts doctor --help)\n`);
    process.exit(2);
  }
  const root = path.resolve(args[0]);
  let isDir = false;
  try {
    isDir = fs.statSync(root).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    writeStderr(`tini-ts doctor: ${args[0]} is not a directory\n`);
    process.exit(2);
  }
  const needs = elfNeeds(readAtFile('/proc/self/exe'));
  if (typeof needs === 'string') {
    writeStderr(`tini-ts doctor: this binary (linux/${ARCH}) is ${needs}\n`);
    process.exit(2);
  }
  const d = diagnose(root, needs);
  writeStdout(`${d.lines.join('\n')}\n`);
  process.exit(d.ok ? 0 : 1);
}
