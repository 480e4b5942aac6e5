/**
 * A default seccomp filter in the spirit of Docker's profile, compiled to
 * classic BPF. Pure: the result is the bytes of a `struct sock_filter[]`,
 * which the runtime installs with prctl(PR_SET_SECCOMP) after
 * PR_SET_NO_NEW_PRIVS.
 *
 * Docker allow-lists about 350 system calls; this is a deny-list of the
 * ones that reach past the container (kernel modules, kexec, the clock,
 * keyrings, mounts and namespaces, BPF, perf, ...), which keeps working as
 * the kernel adds harmless new calls. What a capability would allow in
 * Docker's profile (for example mounts with CAP_SYS_ADMIN) is allowed here
 * when that capability is granted.
 */

import { AUDIT_ARCH, X32_SYSCALL_BIT, syscalls } from '../../libc/arch.js';
import { CLONE, SECCOMP_RET } from '../../libc/consts.js';
import { ERRNO } from '../../libc/errno.js';
import { argHi, argLo, assemble, insn, MAX_INSNS, OFF_ARCH, OFF_NR, OP, type Insn } from './bpf.js';

export const AUDIT_ARCH_X86_64 = AUDIT_ARCH.X86_64;
export const SECCOMP_RET_KILL_PROCESS = SECCOMP_RET.KILL_PROCESS;
export const SECCOMP_RET_ERRNO = SECCOMP_RET.ERRNO;
export const SECCOMP_RET_ALLOW = SECCOMP_RET.ALLOW;
const { EPERM, ENOSYS } = ERRNO;

const { LD_W_ABS, JEQ_K, JGE_K, JSET_K, RET_K } = OP;
const OFF_ARG0_LO = argLo(0);
const OFF_ARG0_HI = argHi(0);

/** The architectures the filter is compiled for: its AUDIT_ARCH value and numbers; x86_64 also refuses x32 calls. */
const ARCHES = {
  x86_64: { audit: AUDIT_ARCH.X86_64, table: 'X86_64', x32: true },
  aarch64: { audit: AUDIT_ARCH.AARCH64, table: 'AARCH64', x32: false },
} as const;

/** Every namespace flag of clone(2)/unshare(2). */
export const CLONE_NEW_ANY =
  CLONE.NEWNS | CLONE.NEWCGROUP | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWUSER | CLONE.NEWPID | CLONE.NEWNET | CLONE.NEWTIME;

/** Which syscalls each capability unlocks (as Docker's profile conditions them). */
const GATED: Readonly<Record<string, readonly string[]>> = {
  SYS_ADMIN: ['mount', 'umount2', 'pivot_root', 'setns', 'unshare-ns', 'clone-ns', 'open_tree', 'move_mount',
    'fsopen', 'fsconfig', 'fsmount', 'fspick', 'mount_setattr', 'quotactl', 'quotactl_fd', 'lookup_dcookie',
    'fanotify_init', 'name_to_handle_at', 'sethostname', 'setdomainname', 'bpf', 'perf_event_open'],
  SYS_MODULE: ['init_module', 'finit_module', 'delete_module'],
  SYS_BOOT: ['reboot', 'kexec_load', 'kexec_file_load'],
  SYS_TIME: ['settimeofday', 'clock_settime', 'adjtimex', 'clock_adjtime'],
  SYS_PACCT: ['acct'],
  SYS_RAWIO: ['iopl', 'ioperm'],
  SYS_TTY_CONFIG: ['vhangup'],
  SYS_PTRACE: ['process_vm_readv', 'process_vm_writev', 'kcmp'],
  DAC_READ_SEARCH: ['open_by_handle_at'],
  SYSLOG: ['syslog'],
  BPF: ['bpf'],
  PERFMON: ['perf_event_open'],
};

/**
 * Always denied: obsolete or never needed in a container; and io_uring, as
 * Docker denies it since 2023 (a large attack surface whose operations the
 * filter cannot see). All three calls: the init, which takes the filter
 * after Node made its event loop's ring, renews the loop under it (see
 * ContainerLibc.renewEventLoop), which then works without one.
 */
const ALWAYS: readonly string[] = ['uselib', 'ustat', 'sysfs', '_sysctl', 'create_module', 'get_kernel_syms',
  'query_module', 'nfsservctl', 'swapon', 'swapoff', 'add_key', 'request_key', 'keyctl', 'userfaultfd',
  'io_uring_setup', 'io_uring_enter', 'io_uring_register'];

/**
 * The personality(2) values Docker's profile allows: PER_LINUX, PER_LINUX32,
 * UNAME26, UNAME26|PER_LINUX32 and 0xffffffff (the query). Others (for
 * example READ_IMPLIES_EXEC or ADDR_NO_RANDOMIZE) fail with EPERM. Compared
 * on all 64 bits, as libseccomp does.
 */
export const PERSONALITIES: readonly number[] = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

export interface SeccompPolicy {
  /** Syscalls that fail with EPERM. */
  denied: string[];
  /** Deny clone/unshare with namespace flags (EPERM). */
  denyNamespaces: boolean;
  /** personality(2) arguments allowed; any other is EPERM. */
  personalities: readonly number[];
}

/** The policy for a workload with these capabilities. */
export function defaultPolicy(caps: readonly string[]): SeccompPolicy {
  const allowed = new Set<string>();
  for (const cap of caps) for (const s of GATED[cap] ?? []) allowed.add(s);
  const denied = new Set<string>(ALWAYS);
  for (const list of Object.values(GATED)) for (const s of list) if (!allowed.has(s)) denied.add(s);
  const denyNamespaces = !allowed.has('unshare-ns');
  denied.delete('unshare-ns');
  denied.delete('clone-ns');
  return { denied: [...denied].sort(), denyNamespaces, personalities: PERSONALITIES };
}

/**
 * Compiles the policy for x86_64 or aarch64 (calls the architecture lacks are
 * left out): wrong architecture -> kill; x32 system calls -> EPERM; clone3 -> ENOSYS (so libc falls back to clone, whose flags
 * can be inspected); denied calls -> EPERM; namespace flags on clone/unshare
 * -> EPERM; personality() with a value not listed -> EPERM; everything else
 * allowed.
 */
export function compile(policy: SeccompPolicy, arch: keyof typeof ARCHES = 'x86_64'): Buffer {
  const { audit, x32 } = ARCHES[arch];
  const table = syscalls(ARCHES[arch].table);
  const prog: Insn[] = [];
  const emit = (code: number, k: number, jt = 0, jf = 0) => prog.push(insn(code, k, jt, jf));
  const ret = (v: number) => emit(RET_K, v);
  const eperm = (SECCOMP_RET_ERRNO | EPERM) >>> 0;

  emit(LD_W_ABS, OFF_ARCH);
  emit(JEQ_K, audit, 1, 0);
  ret(SECCOMP_RET_KILL_PROCESS);
  emit(LD_W_ABS, OFF_NR);
  if (x32) {
    emit(JGE_K, X32_SYSCALL_BIT, 0, 1);
    ret(eperm);
  }
  if (policy.denyNamespaces) {
    emit(JEQ_K, table.clone3, 0, 1);
    ret((SECCOMP_RET_ERRNO | ENOSYS) >>> 0);
    for (const name of ['clone', 'unshare']) {
      // if (nr == name && (arg0 & CLONE_NEW_ANY)) return EPERM; (reload nr afterwards)
      emit(JEQ_K, table[name], 0, 4);
      emit(LD_W_ABS, OFF_ARG0_LO);
      emit(JSET_K, CLONE_NEW_ANY, 0, 1);
      ret(eperm);
      emit(LD_W_ABS, OFF_NR);
    }
  }
  for (const name of policy.denied.filter((d) => d in table)) {
    emit(JEQ_K, table[name], 0, 1);
    ret(eperm);
  }
  // if (nr == personality) return (arg0 >> 32 == 0 && (u32)arg0 in list) ? ALLOW : EPERM;
  const n = policy.personalities.length;
  emit(JEQ_K, table.personality, 0, 5 + n);
  emit(LD_W_ABS, OFF_ARG0_HI);
  emit(JEQ_K, 0, 0, n + 1);
  emit(LD_W_ABS, OFF_ARG0_LO);
  policy.personalities.forEach((v, j) => emit(JEQ_K, v >>> 0, n - j, 0));
  ret(eperm);
  ret(SECCOMP_RET_ALLOW);
  ret(SECCOMP_RET_ALLOW);

  if (prog.length > MAX_INSNS) throw new Error('seccomp program too long');
  return assemble(prog);
}

/**
 * Runs a compiled program on one system call, as the kernel would: the
 * interpreter tests use to check the filter's decisions without installing it.
 */
export function evaluate(program: Buffer, call: { nr: number; arch?: number; args?: (number | bigint)[] }): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(call.nr, OFF_NR);
  data.writeUInt32LE(call.arch ?? AUDIT_ARCH_X86_64, OFF_ARCH);
  // Each argument is 64 bits (a negative number is its two's complement, as a long is).
  (call.args ?? []).forEach((a, i) => data.writeBigUInt64LE(BigInt.asUintN(64, BigInt(a)), OFF_ARG0_LO + i * 8));
  let acc = 0;
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    switch (code) {
      case LD_W_ABS: acc = data.readUInt32LE(k); break;
      case OP.ALU_AND_K: acc = (acc & k) >>> 0; break;
      case OP.JA: pc += k; break;
      case JEQ_K: pc += acc === k ? jt : jf; break;
      case OP.JGT_K: pc += acc > k ? jt : jf; break;
      case JGE_K: pc += acc >= k ? jt : jf; break;
      case JSET_K: pc += (acc & k) !== 0 ? jt : jf; break;
      case RET_K: return k;
      default: throw new Error(`unknown BPF instruction ${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('BPF program fell off its end');
}
