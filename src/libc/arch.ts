/**
 * Architectures: system call numbers (generated from the kernel's headers by
 * build/gen-syscalls.mjs into syscall-tables.ts, the only place numbers live)
 * and the AUDIT_ARCH_* values seccomp filters see. The running one is
 * process.arch's: x86_64 or aarch64; any other is refused with one line, as
 * its numbers would be wrong.
 */
import { SYSCALL_NAMES } from './syscall-tables.js';

/** <linux/audit.h>: EM_* | __AUDIT_ARCH_64BIT (0x80000000) | __AUDIT_ARCH_LE (0x40000000). */
export const AUDIT_ARCH = {
  X86_64: 0xc000003e,
  I386: 0x40000003,
  AARCH64: 0xc00000b7,
  ARM: 0x40000028,
} as const;

/** x32 system calls are x86_64 ones with this bit set in the number (same AUDIT_ARCH). */
export const X32_SYSCALL_BIT = 0x40000000;

export type SyscallTable = Readonly<Record<string, number>>;

/** The tables: the running architecture's, and the compat ones a seccomp filter names. */
export type TableName = keyof typeof SYSCALL_NAMES;

const decoded: Partial<Record<TableName, SyscallTable>> = {};

/**
 * One architecture's system call numbers by name, decoded from its list on
 * first use: a process needs a few numbers of one table, and four object
 * literals of 300-440 properties cost each start-up 0.3-0.4 ms. No prototype:
 * `'toString' in table` is false.
 */
export function syscalls(arch: TableName): SyscallTable {
  const known = decoded[arch];
  if (known) return known;
  const table: Record<string, number> = Object.create(null);
  let n = -1;
  for (const token of SYSCALL_NAMES[arch].split(/\s+/)) {
    if (token === '') continue;
    const at = token.indexOf('@');
    if (at < 0) table[token] = ++n;
    else table[token.slice(0, at)] = n = Number(token.slice(at + 1));
  }
  return (decoded[arch] = Object.freeze(table));
}

export interface NativeArch {
  /** The kernel's name (uname -m). */
  name: 'x86_64' | 'aarch64';
  audit: number;
  table: TableName;
}

const NATIVE: Readonly<Record<string, NativeArch>> = {
  x64: { name: 'x86_64', audit: AUDIT_ARCH.X86_64, table: 'X86_64' },
  arm64: { name: 'aarch64', audit: AUDIT_ARCH.AARCH64, table: 'AARCH64' },
};

/** The running architecture, or the one line saying it is not supported. */
export function nativeArch(arch: string = process.arch): NativeArch | { error: string } {
  return NATIVE[arch] ?? { error: `architecture ${arch} is not supported (tini-ts knows the system calls of x86_64 and aarch64)` };
}

const looked = new Map<string, number | undefined>();

/**
 * The running architecture's number of a system call; throws (one line) on
 * an unknown architecture or name. Found in its table's list without
 * decoding the whole table: a container's init needs a dozen numbers.
 */
export function sysno(name: string, arch: string = process.arch): number {
  const a = nativeArch(arch);
  if ('error' in a) throw new Error(a.error);
  const key = `${a.table} ${name}`;
  if (!looked.has(key)) looked.set(key, decoded[a.table]?.[name] ?? findSyscall(SYSCALL_NAMES[a.table], name));
  const n = looked.get(key);
  if (n === undefined) throw new Error(`system call ${name} does not exist on ${a.name}`);
  return n;
}

/** NAME's number in a table's list (see syscall-tables.ts), or undefined. */
export function findSyscall(list: string, name: string): number | undefined {
  if (name === '' || /[\s@]/.test(name)) return undefined;
  let i = -1;
  for (;;) {
    i = list.indexOf(name, i + 1);
    if (i < 0) return undefined;
    const before = i === 0 ? ' ' : list[i - 1];
    const after = list[i + name.length] ?? ' ';
    if ((before === ' ' || before === '\n') && (after === ' ' || after === '\n' || after === '@')) break;
  }
  if (list[i + name.length] === '@') return parseInt(list.slice(i + name.length + 1), 10);
  // The previous name given a number, and how many names lie between.
  const mark = list.lastIndexOf('@', i);
  const tokenStart = Math.max(list.lastIndexOf(' ', mark), list.lastIndexOf('\n', mark)) + 1;
  return parseInt(list.slice(mark + 1), 10) + list.slice(tokenStart, i).trim().split(/\s+/).length;
}
