/**
 * Classic BPF as both seccomp compilers emit it: the instructions they use,
 * where struct seccomp_data keeps what they load, and the bytes of a
 * `struct sock_filter[]` that prctl(PR_SET_SECCOMP) takes.
 */

import { BPF, OFFSETOF } from '../../libc/consts.js';

export interface Insn { code: number; jt: number; jf: number; k: number }

/** The opcodes the compilers use (and the test interpreter knows). */
export const OP = {
  LD_W_ABS: BPF.LD | BPF.W | BPF.ABS,
  ALU_AND_K: BPF.ALU | BPF.AND | BPF.K,
  JA: BPF.JMP | BPF.JA,
  JEQ_K: BPF.JMP | BPF.JEQ | BPF.K,
  JGT_K: BPF.JMP | BPF.JGT | BPF.K,
  JGE_K: BPF.JMP | BPF.JGE | BPF.K,
  JSET_K: BPF.JMP | BPF.JSET | BPF.K,
  RET_K: BPF.RET | BPF.K,
} as const;

/** struct seccomp_data: the call's number, its AUDIT_ARCH value, and each 64-bit argument's halves, low first (little-endian). */
export const OFF_NR = OFFSETOF.seccomp_data_nr;
export const OFF_ARCH = OFFSETOF.seccomp_data_arch;
export const argLo = (i: number): number => OFFSETOF.seccomp_data_args + i * 8;
export const argHi = (i: number): number => OFFSETOF.seccomp_data_args + 4 + i * 8;

/** The kernel's limit on a filter's length (BPF_MAXINSNS). */
export const MAX_INSNS = BPF.MAXINSNS;

export const insn = (code: number, k: number, jt = 0, jf = 0): Insn => ({ code, k: k >>> 0, jt, jf });
export const ret = (v: number): Insn => insn(OP.RET_K, v);

/** The program as a `struct sock_filter[]`: 8 bytes each (code u16, jt u8, jf u8, k u32), in the host's (little-endian) order. */
export function assemble(prog: readonly Insn[]): Buffer {
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach((x, i) => {
    buf.writeUInt16LE(x.code, i * 8);
    buf.writeUInt8(x.jt, i * 8 + 2);
    buf.writeUInt8(x.jf, i * 8 + 3);
    buf.writeUInt32LE(x.k >>> 0, i * 8 + 4);
  });
  return buf;
}
