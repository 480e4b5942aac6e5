/**
 * An OCI config.json's linux.seccomp, checked (parseSeccomp) and compiled to
 * classic BPF (compileSeccomp) with libseccomp's and runc's semantics, so that
 * Docker's and Podman's profiles are enforced as written. Pure.
 *
 * - defaultAction (+ defaultErrnoRet) for every call no rule decides;
 * - architectures: the native one is always in (as libseccomp adds it); its
 *   compat ones the kernel can present (x86_64: SCMP_ARCH_X86, SCMP_ARCH_X32)
 *   get their own block with their own numbers; a call from an architecture
 *   not in the filter (an x32 call when SCMP_ARCH_X32 is absent included)
 *   kills the process (libseccomp's bad-architecture action kills the thread;
 *   a process missing a thread is worse);
 * - syscalls[]: each name is looked up per architecture; a name no table
 *   knows is skipped (as runc does; returned in `skipped` for a debug line);
 *   rules whose action is the default one are dropped (runc); several rules
 *   for one call are ORed: conditional ones in the profile's order, the first
 *   whose conditions all hold decides, then an unconditional one, then the
 *   default; several conditions on one rule are ANDed, except that conditions
 *   repeating an argument index are ORed (runc's "old behaviour");
 * - args[]: 64-bit unsigned comparisons as two 32-bit halves (the low half
 *   only on 32-bit architectures), MASKED_EQ being (arg & value) == valueTwo;
 * - runc's -ENOSYS stub: unless the default action allows (ALLOW, LOG, TRACE), a call numbered
 *   above the highest one the profile names for its architecture gets ENOSYS
 *   (a newer call than the profile knows; libc then falls back, as for clone3);
 * - flags: SECCOMP_FILTER_FLAG_LOG and _SPEC_ALLOW are passed to seccomp(2);
 *   _TSYNC is implied (runc: the filtered thread execs, the others are gone).
 *   Notification (SCMP_ACT_NOTIFY, listenerPath, _NEW_LISTENER,
 *   _WAIT_KILLABLE_RECV) is refused.
 */
import { AUDIT_ARCH, X32_SYSCALL_BIT, syscalls, type SyscallTable } from '../../libc/arch.js';
import { SECCOMP_RET } from '../../libc/consts.js';
import { ERRNO } from '../../libc/errno.js';
import { argHi, argLo, assemble, insn, MAX_INSNS, OFF_ARCH, OFF_NR, OP, ret, type Insn } from './bpf.js';

export const RET = SECCOMP_RET;
const { EPERM, ENOSYS } = ERRNO;

export const FLAGS: Readonly<Record<string, number>> = {
  SECCOMP_FILTER_FLAG_TSYNC: 0, // implied (see above): nothing to pass
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
};

export type CompareOp = 'SCMP_CMP_EQ' | 'SCMP_CMP_NE' | 'SCMP_CMP_LT' | 'SCMP_CMP_LE' | 'SCMP_CMP_GT' | 'SCMP_CMP_GE' | 'SCMP_CMP_MASKED_EQ';
export const OPS: readonly CompareOp[] = ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_MASKED_EQ'];

/** The architectures a profile may name; only the ones below can reach a filter on x86_64 or aarch64. */
const ARCHES: readonly string[] = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_MIPS',
  'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64', 'SCMP_ARCH_MIPSEL64N32',
  'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390', 'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC',
  'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64', 'SCMP_ARCH_LOONGARCH64', 'SCMP_ARCH_M68K', 'SCMP_ARCH_SH', 'SCMP_ARCH_SHEB',
];

export interface SeccompCondition { index: number; op: CompareOp; value: bigint; valueTwo: bigint }
export interface SeccompRule { names: string[]; action: number; args: SeccompCondition[] }
export interface SeccompProfile {
  /** A SECCOMP_RET_* value, errno included. */
  defaultAction: number;
  architectures: string[];
  /** SECCOMP_FILTER_FLAG_* for seccomp(2); 0: prctl will do. */
  flags: number;
  rules: SeccompRule[];
}

type Json = null | boolean | number | bigint | string | Json[] | { [k: string]: Json };

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * JSON.parse keeping integers beyond 2^53 exact (as bigint): a seccomp
 * argument is 64 bits, and a double would round it.
 */
export function parseJsonExact(text: string): unknown {
  return JSON.parse(text, (_k, v: unknown, ctx?: { source?: string }) =>
    typeof v === 'number' && !Number.isSafeInteger(v) && ctx?.source !== undefined && /^[0-9]+$/.test(ctx.source) ? BigInt(ctx.source) : v,
  );
}

class ProfileError extends Error {}
const bad = (field: string, why: string): never => {
  throw new ProfileError(`${field}: ${why}`);
};

function u64(v: unknown, field: string): bigint {
  if (typeof v === 'bigint' && v >= 0n && v < 1n << 64n) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  return bad(field, 'must be an integer from 0 to 2^64-1');
}

function errnoOf(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff) bad(field, 'must be an integer from 0 to 65535');
  return v as number;
}

/** An action and its errnoRet as a SECCOMP_RET_* value. */
function action(name: unknown, errnoRet: unknown, field: string, errField: string): number {
  const errno = errnoRet === undefined || errnoRet === null ? EPERM : errnoOf(errnoRet, errField);
  if (errnoRet !== undefined && errnoRet !== null && name !== 'SCMP_ACT_ERRNO' && name !== 'SCMP_ACT_TRACE') {
    bad(errField, `only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno (the action is ${String(name)})`);
  }
  switch (name) {
    case 'SCMP_ACT_ALLOW': return RET.ALLOW;
    case 'SCMP_ACT_ERRNO': return (RET.ERRNO | errno) >>> 0;
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD': return RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS': return RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP': return RET.TRAP;
    case 'SCMP_ACT_TRACE': return (RET.TRACE | errno) >>> 0;
    case 'SCMP_ACT_LOG': return RET.LOG;
    case 'SCMP_ACT_NOTIFY': return bad(field, 'SCMP_ACT_NOTIFY (a seccomp agent) is not supported');
    default:
      return bad(field, `${JSON.stringify(name)} is not a seccomp action (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG)`);
  }
}

/**
 * Checks a linux.seccomp object (at `at`, e.g. "linux.seccomp"): a profile,
 * or one line naming the field and the problem. Fields it does not know are
 * listed in `unsupported` (never silently ignored).
 */
export function parseSeccomp(v: unknown, at: string): { ok: true; profile: SeccompProfile; unsupported: string[] } | { ok: false; error: string } {
  try {
    const unsupported: string[] = [];
    if (!isObject(v)) bad(at, 'must be an object');
    const o = v as Record<string, Json>;
    for (const k of Object.keys(o)) {
      if (!['defaultAction', 'defaultErrnoRet', 'architectures', 'flags', 'syscalls', 'listenerPath', 'listenerMetadata'].includes(k)) unsupported.push(`${at}.${k}`);
    }
    if (o.listenerPath !== undefined && o.listenerPath !== '') bad(`${at}.listenerPath`, 'a seccomp agent (notification) is not supported');
    if (o.defaultAction === undefined) bad(`${at}.defaultAction`, 'is required');
    const defaultAction = action(o.defaultAction, o.defaultErrnoRet, `${at}.defaultAction`, `${at}.defaultErrnoRet`);
    const list = (x: unknown, f: string): Json[] => (x === undefined || x === null ? [] : Array.isArray(x) ? x : bad(f, 'must be an array'));
    const architectures = list(o.architectures, `${at}.architectures`).map((a, i) => {
      if (typeof a !== 'string' || !ARCHES.includes(a)) bad(`${at}.architectures[${i}]`, `${JSON.stringify(a)} is not a seccomp architecture (SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, ...)`);
      return a as string;
    });
    let flags = 0;
    list(o.flags, `${at}.flags`).forEach((f, i) => {
      if (f === 'SECCOMP_FILTER_FLAG_NEW_LISTENER' || f === 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV') bad(`${at}.flags[${i}]`, `${f}: a seccomp agent (notification) is not supported`);
      if (typeof f !== 'string' || FLAGS[f] === undefined) bad(`${at}.flags[${i}]`, `${JSON.stringify(f)} is not a seccomp flag (SECCOMP_FILTER_FLAG_TSYNC, SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW)`);
      flags |= FLAGS[f as string];
    });
    const rules = list(o.syscalls, `${at}.syscalls`).map((s, i): SeccompRule => {
      const f = `${at}.syscalls[${i}]`;
      if (!isObject(s)) bad(f, 'must be an object');
      const r = s as Record<string, Json>;
      for (const k of Object.keys(r)) if (!['names', 'action', 'errnoRet', 'args'].includes(k)) unsupported.push(`${f}.${k}`);
      const names = list(r.names, `${f}.names`);
      if (names.length === 0 || names.some((n) => typeof n !== 'string' || n === '')) bad(`${f}.names`, 'must be a non-empty array of system call names');
      if (r.action === undefined) bad(`${f}.action`, 'is required');
      const args = list(r.args, `${f}.args`).map((a, j): SeccompCondition => {
        const af = `${f}.args[${j}]`;
        if (!isObject(a)) bad(af, 'must be an object');
        const c = a as Record<string, Json>;
        for (const k of Object.keys(c)) if (!['index', 'value', 'valueTwo', 'op'].includes(k)) unsupported.push(`${af}.${k}`);
        if (typeof c.index !== 'number' || !Number.isInteger(c.index) || c.index < 0 || c.index > 5) bad(`${af}.index`, 'must be an argument index from 0 to 5');
        if (typeof c.op !== 'string' || !OPS.includes(c.op as CompareOp)) bad(`${af}.op`, `${JSON.stringify(c.op)} is not one of ${OPS.join(', ')}`);
        return {
          index: c.index as number,
          op: c.op as CompareOp,
          value: u64(c.value ?? 0, `${af}.value`),
          valueTwo: u64(c.valueTwo ?? 0, `${af}.valueTwo`),
        };
      });
      return { names: names as string[], action: action(r.action, r.errnoRet, `${f}.action`, `${f}.errnoRet`), args };
    });
    return { ok: true, profile: { defaultAction, architectures, flags, rules }, unsupported };
  } catch (e) {
    if (e instanceof ProfileError) return { ok: false, error: e.message };
    throw e;
  }
}

// ---- the compiler ----------------------------------------------------------

const { LD_W_ABS, ALU_AND_K, JA, JEQ_K: JEQ, JGT_K: JGT, JGE_K: JGE } = OP;
export { MAX_INSNS };

/** One architecture block: its AUDIT_ARCH value, table, word size, and which numbers it owns. */
interface Block { name: string; audit: number; table: SyscallTable; is64: boolean; lo: number; hi: number }

/** A condition's instructions: 'P' jumps to the next condition (passed), 'F' past the rule (failed), 0 falls through. */
type Target = number | 'P' | 'F';
interface SymInsn { code: number; k: number; jt: Target; jf: Target }

function condition(c: SeccompCondition, is64: boolean): SymInsn[] {
  const s = (code: number, k: number | bigint, jt: Target = 0, jf: Target = 0): SymInsn => ({ code, k: Number(BigInt.asUintN(32, BigInt(k))), jt, jf });
  const hi = (v: bigint) => v >> 32n;
  const v = c.value;
  const ldHi = s(LD_W_ABS, argHi(c.index));
  const ldLo = s(LD_W_ABS, argLo(c.index));
  // The high half decides unless equal; then the low half does.
  const ordered = (last: number, pass: 'P' | 'F', fail: 'P' | 'F'): SymInsn[] =>
    is64
      ? [ldHi, s(JGT, hi(v), pass, 0), s(JEQ, hi(v), 0, fail), ldLo, s(last, v, pass, fail)]
      : [ldLo, s(last, v, pass, fail)];
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      return is64 ? [ldHi, s(JEQ, hi(v), 0, 'F'), ldLo, s(JEQ, v, 'P', 'F')] : [ldLo, s(JEQ, v, 'P', 'F')];
    case 'SCMP_CMP_NE':
      return is64 ? [ldHi, s(JEQ, hi(v), 0, 'P'), ldLo, s(JEQ, v, 'F', 'P')] : [ldLo, s(JEQ, v, 'F', 'P')];
    case 'SCMP_CMP_GT': return ordered(JGT, 'P', 'F');
    case 'SCMP_CMP_GE': return ordered(JGE, 'P', 'F');
    case 'SCMP_CMP_LE': return ordered(JGT, 'F', 'P'); // not GT
    case 'SCMP_CMP_LT': return ordered(JGE, 'F', 'P'); // not GE
    case 'SCMP_CMP_MASKED_EQ': {
      const m = c.value;
      const d = c.valueTwo;
      const lo = [ldLo, s(ALU_AND_K, m), s(JEQ, d, 'P', 'F')];
      return is64 ? [ldHi, s(ALU_AND_K, hi(m)), s(JEQ, hi(d), 0, 'F'), ...lo] : lo;
    }
  }
}

/** if (all conditions) return action; else fall through past it. */
function ruleBlock(conds: SeccompCondition[], act: number, is64: boolean): Insn[] {
  const parts = conds.map((c) => condition(c, is64));
  const total = parts.reduce((n, p) => n + p.length, 0) + 1;
  const out: Insn[] = [];
  let start = 0;
  for (const p of parts) {
    const end = start + p.length;
    p.forEach((x, j) => {
      const here = start + j;
      const rel = (t: Target) => (t === 'P' ? end : t === 'F' ? total : here + 1 + t) - here - 1;
      const jt = rel(x.jt);
      const jf = rel(x.jf);
      if (jt > 255 || jf > 255) throw new Error('seccomp rule has too many conditions');
      out.push(insn(x.code, x.k, jt, jf));
    });
    start = end;
  }
  out.push(ret(act));
  return out;
}

type Outcome = { ret: number } | { rules: { conds: SeccompCondition[]; action: number }[]; fallback: number };

function outcomeCode(o: Outcome, is64: boolean): Insn[] {
  if ('ret' in o) return [ret(o.ret)];
  return [...o.rules.flatMap((r) => ruleBlock(r.conds, r.action, is64)), ret(o.fallback)];
}

const sameOutcome = (a: Outcome, b: Outcome) => 'ret' in a && 'ret' in b && a.ret === b.ret;

/** A binary search over [lo, hi] intervals of system call numbers, each with its outcome. */
function tree(intervals: { lo: number; outcome: Outcome }[], is64: boolean): Insn[] {
  if (intervals.length === 1) return outcomeCode(intervals[0].outcome, is64);
  const mid = intervals.length >> 1;
  const left = tree(intervals.slice(0, mid), is64);
  const right = tree(intervals.slice(mid), is64);
  const split = intervals[mid].lo;
  // nr >= split: the right half (next); else jump over it, through a long jump if needed.
  if (right.length <= 255) return [insn(JGE, split, 0, right.length), ...right, ...left];
  return [insn(JGE, split, 1, 0), insn(JA, right.length), ...right, ...left];
}

/** The rules as they apply on one architecture. */
function archCode(b: Block, profile: SeccompProfile, stub: boolean): Insn[] {
  const byNr = new Map<number, { conds: SeccompCondition[][]; action: number }[]>();
  let highest = -1;
  for (const r of profile.rules) {
    for (const name of r.names) {
      const nr = b.table[name];
      if (nr === undefined || nr < b.lo || nr > b.hi) continue;
      highest = Math.max(highest, nr);
      if (r.action === profile.defaultAction) continue;
      // Conditions repeating an argument index: each one a rule of its own (ORed), as runc does.
      const indexes = r.args.map((c) => c.index);
      const repeated = new Set(indexes).size !== indexes.length;
      const alternatives = repeated ? r.args.map((c) => [c]) : [r.args];
      const list = byNr.get(nr) ?? [];
      list.push({ conds: alternatives, action: r.action });
      byNr.set(nr, list);
    }
  }
  const above: Outcome = { ret: stub && highest >= 0 ? (RET.ERRNO | ENOSYS) >>> 0 : profile.defaultAction };
  const dflt: Outcome = { ret: profile.defaultAction };
  const outcomeOf = (list: { conds: SeccompCondition[][]; action: number }[]): Outcome => {
    const rules = list.flatMap((r) => r.conds.filter((c) => c.length > 0).map((conds) => ({ conds, action: r.action })));
    const plain = list.find((r) => r.conds.some((c) => c.length === 0));
    const fallback = plain ? plain.action : profile.defaultAction;
    return rules.length === 0 ? { ret: fallback } : { rules, fallback };
  };
  const intervals: { lo: number; outcome: Outcome }[] = [];
  const add = (lo: number, outcome: Outcome) => {
    // A later interval starting at the same number replaces the earlier one.
    if (intervals.length > 0 && intervals[intervals.length - 1].lo === lo) intervals.pop();
    const last = intervals[intervals.length - 1];
    if (last && sameOutcome(last.outcome, outcome)) return;
    intervals.push({ lo, outcome });
  };
  add(b.lo, dflt);
  for (const nr of [...byNr.keys()].sort((x, y) => x - y)) {
    add(nr, outcomeOf(byNr.get(nr)!));
    if (nr + 1 <= highest) add(nr + 1, dflt);
  }
  if (highest >= 0 && highest + 1 <= b.hi) add(highest + 1, above);
  // Intervals start at b.lo: the first split is above it, so numbers below b.lo (x32's) never get here.
  return [insn(LD_W_ABS, OFF_NR), ...tree(intervals, b.is64)];
}

export interface CompiledSeccomp {
  /** struct sock_filter[] */
  program: Buffer;
  /** SECCOMP_FILTER_FLAG_* for seccomp(2) */
  flags: number;
  /** Names no architecture of the filter knows (skipped, as runc skips them). */
  skipped: string[];
  /** Architectures named that this machine's kernel cannot present (left out, as they can never match) or that have no table. */
  leftOut: string[];
}

/**
 * The BPF program for `native` (x86_64 or aarch64). Throws only if the
 * program would exceed the kernel's 4096 instructions.
 */
export function compileSeccomp(profile: SeccompProfile, native: 'x86_64' | 'aarch64'): CompiledSeccomp {
  const listed = new Set(profile.architectures);
  const blocks: Block[] = [];
  const leftOut: string[] = [];
  if (native === 'x86_64') {
    blocks.push({ name: 'SCMP_ARCH_X86_64', audit: AUDIT_ARCH.X86_64, table: syscalls('X86_64'), is64: true, lo: 0, hi: X32_SYSCALL_BIT - 1 });
    if (listed.has('SCMP_ARCH_X32')) blocks.push({ name: 'SCMP_ARCH_X32', audit: AUDIT_ARCH.X86_64, table: syscalls('X32'), is64: true, lo: X32_SYSCALL_BIT, hi: 0xffffffff });
    if (listed.has('SCMP_ARCH_X86')) blocks.push({ name: 'SCMP_ARCH_X86', audit: AUDIT_ARCH.I386, table: syscalls('I386'), is64: false, lo: 0, hi: 0xffffffff });
  } else {
    blocks.push({ name: 'SCMP_ARCH_AARCH64', audit: AUDIT_ARCH.AARCH64, table: syscalls('AARCH64'), is64: true, lo: 0, hi: 0xffffffff });
  }
  for (const a of listed) if (!blocks.some((b) => b.name === a)) leftOut.push(a);
  const known = new Set(blocks.flatMap((b) => Object.keys(b.table)));
  const skipped = [...new Set(profile.rules.flatMap((r) => r.names).filter((n) => !known.has(n)))];
  // runc counts TRACE as allowing too (a tracer handles new calls itself).
  const allowing = profile.defaultAction === RET.ALLOW || profile.defaultAction === RET.LOG || (profile.defaultAction & 0xffff0000) >>> 0 === RET.TRACE;
  const stub = !allowing && profile.defaultAction !== ((RET.ERRNO | ENOSYS) >>> 0);

  // One section per AUDIT_ARCH value; x86_64's splits on the x32 bit.
  const sections: { audit: number; code: Insn[] }[] = [];
  for (const b of blocks) {
    const code = archCode(b, profile, stub);
    if (b.name === 'SCMP_ARCH_X32') continue;
    if (b.name === 'SCMP_ARCH_X86_64') {
      const x32 = blocks.find((x) => x.name === 'SCMP_ARCH_X32');
      // nr >= X32_SYSCALL_BIT: the x32 block, or not an architecture of the filter.
      const other = x32 ? archCode(x32, profile, stub) : [ret(RET.KILL_PROCESS)];
      sections.push({ audit: b.audit, code: [insn(LD_W_ABS, OFF_NR), insn(JGE, X32_SYSCALL_BIT, 1, 0), insn(JA, other.length), ...other, ...code] });
    } else {
      sections.push({ audit: b.audit, code });
    }
  }
  // ld arch; for each section: jeq audit -> its code; else kill.
  const head: Insn[] = [insn(LD_W_ABS, OFF_ARCH)];
  let bodyOffset = 0;
  const dispatchLen = sections.length * 2 + 1;
  sections.forEach((s, i) => {
    // jeq audit, 0, 1; ja (to the section)
    const after = dispatchLen - (i * 2 + 2); // instructions from after this ja to the first section
    head.push(insn(JEQ, s.audit, 0, 1), insn(JA, after + bodyOffset));
    bodyOffset += s.code.length;
  });
  head.push(ret(RET.KILL_PROCESS));
  const prog = [...head, ...sections.flatMap((s) => s.code)];
  if (prog.length > MAX_INSNS) throw new Error(`the seccomp profile compiles to ${prog.length} BPF instructions, more than the kernel's ${MAX_INSNS}`);
  return { program: assemble(prog), flags: profile.flags, skipped, leftOut };
}
