/**
 * Architectures: system call numbers (generated from the kernel's headers by
 * build/gen-syscalls.mjs into syscall-tables.ts, the only place numbers live)
 * and the AUDIT_ARCH_* values seccomp filters see. The running one is
 * process.arch's: x86_64 or aarch64; any other is refused with one line, as
 * its numbers would be wrong.
 */
import { AARCH64, I386, X32, X86_64 } from './syscall-tables.js';

export { AARCH64, I386, X32, X86_64 };

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

export interface NativeArch {
  /** The kernel's name (uname -m). */
  name: 'x86_64' | 'aarch64';
  audit: number;
  syscalls: SyscallTable;
}

const NATIVE: Readonly<Record<string, NativeArch>> = {
  x64: { name: 'x86_64', audit: AUDIT_ARCH.X86_64, syscalls: X86_64 },
  arm64: { name: 'aarch64', audit: AUDIT_ARCH.AARCH64, syscalls: AARCH64 },
};

/** The running architecture, or the one line saying it is not supported. */
export function nativeArch(arch: string = process.arch): NativeArch | { error: string } {
  return NATIVE[arch] ?? { error: `architecture ${arch} is not supported (tini-ts knows the system calls of x86_64 and aarch64)` };
}

/** The running architecture's number of a system call; throws (one line) on an unknown architecture or name. */
export function sysno(name: string, arch: string = process.arch): number {
  const a = nativeArch(arch);
  if ('error' in a) throw new Error(a.error);
  const n = a.syscalls[name];
  if (n === undefined) throw new Error(`system call ${name} does not exist on ${a.name}`);
  return n;
}
