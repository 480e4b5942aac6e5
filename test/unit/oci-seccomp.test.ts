/**
 * linux.seccomp compiled to BPF, checked through the BPF interpreter: Docker's
 * default profile (the moby fixture, as Docker turns it into a config.json's
 * linux.seccomp) on representative calls of each architecture block, every
 * comparison operator against a plain reference on 64-bit values, the rule
 * semantics (ORed rules, ANDed conditions), and the one-line errors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AUDIT_ARCH, syscalls } from '../../src/libc/arch.js';
import { DOCKER_DEFAULT_CAPS } from '../../src/libc/capabilities.js';
import { compileSeccomp, MAX_INSNS, parseJsonExact, parseSeccomp, RET, type CompareOp, type SeccompProfile } from '../../src/runtime/hardening/oci-seccomp.js';
import { evaluate } from '../../src/runtime/hardening/seccomp.js';
import { ociSeccomp, ociSeccompOfConfig } from '../../src/runtime/container.js';

const [X86_64, I386, X32, AARCH64] = (['X86_64', 'I386', 'X32', 'AARCH64'] as const).map(syscalls);
import { render, type Outcome } from '../../src/libc/error.js';

/** What an Outcome said when it failed (null when it did not). */
const said = (r: Outcome<unknown>): string | null => (r.ok ? null : render(r.error));
import { dockerSeccomp, PODMAN_DEFAULT } from '../helpers/docker-seccomp.js';

const EPERM = (RET.ERRNO | 1) >>> 0;
const ENOSYS = (RET.ERRNO | 38) >>> 0;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNS = 0x00020000;
const SIGCHLD = 17;
const CLONE_THREAD_FLAGS = 0x003d0f00;
const DOCKER_CAPS = DOCKER_DEFAULT_CAPS.map((c) => `CAP_${c}`);

function profileOf(seccomp: unknown): SeccompProfile {
  const p = parseSeccomp(seccomp, 'linux.seccomp');
  if (!p.ok) throw new Error(p.error);
  return p.profile;
}

describe("Docker's default profile on x86_64 (default capabilities)", () => {
  const c = compileSeccomp(profileOf(dockerSeccomp(DOCKER_CAPS)), 'x86_64');
  const run = (name: string, args: (number | bigint)[] = []) => evaluate(c.program, { nr: X86_64[name], arch: AUDIT_ARCH.X86_64, args });

  it('fits in the kernel limit, with the x86_64, i386 and x32 blocks', () => {
    expect(c.program.length / 8).toBeLessThan(MAX_INSNS);
    expect(c.leftOut).toEqual([]);
  });

  it('allows ordinary calls', () => {
    for (const s of ['read', 'write', 'openat', 'close', 'mmap', 'execve', 'execveat', 'exit_group', 'wait4', 'rt_sigaction', 'futex', 'epoll_wait', 'statx', 'rseq', 'capset', 'setresuid', 'prctl', 'arch_prctl']) {
      expect(run(s), s).toBe(RET.ALLOW);
    }
  });

  it('denies namespaces, mounts, modules, kexec, bpf, keyrings with EPERM', () => {
    for (const s of ['unshare', 'setns', 'mount', 'umount2', 'pivot_root', 'init_module', 'kexec_load', 'bpf', 'add_key', 'keyctl', 'reboot', 'settimeofday', 'open_by_handle_at', 'io_uring_setup']) {
      expect(run(s, [CLONE_NEWNS]), s).toBe(EPERM);
    }
  });

  it('lets clone fork and make threads, not namespaces; clone3 gets ENOSYS (libc falls back to clone)', () => {
    expect(run('clone', [SIGCHLD])).toBe(RET.ALLOW);
    expect(run('clone', [CLONE_THREAD_FLAGS])).toBe(RET.ALLOW);
    expect(run('clone', [CLONE_NEWUSER | SIGCHLD])).toBe(EPERM);
    expect(run('clone', [CLONE_NEWNS])).toBe(EPERM);
    // the mask is compared on all 64 bits: a high bit set is not a plain fork
    expect(run('clone', [0x100000000n | BigInt(SIGCHLD)])).toBe(RET.ALLOW);
    expect(run('clone3')).toBe(ENOSYS);
  });

  it("allows personality() with Docker's five values only, on all 64 bits", () => {
    for (const v of [0x0, 0x8, 0x20000, 0x20008, 0xffffffff]) expect(run('personality', [v]), v.toString(16)).toBe(RET.ALLOW);
    for (const v of [0x400000, 0x40000, 0x1, 0x100000000n, 0x100000008n, -1n]) expect(run('personality', [v]), v.toString(16)).toBe(EPERM);
  });

  it('allows socket() for the families the profile lets through (< 38, 39, > 40): not AF_ALG (38) nor AF_VSOCK (40)', () => {
    for (const af of [1, 2, 10, 16, 17, 37, 39, 41, 44]) expect(run('socket', [af, 1, 0]), `family ${af}`).toBe(RET.ALLOW);
    expect(run('socket', [38, 5, 0])).toBe(EPERM);
    expect(run('socket', [40, 1, 0])).toBe(EPERM);
    expect(run('socket', [0x100000002n, 1, 0])).toBe(RET.ALLOW); // > 40 on 64 bits
  });

  it('gives ENOSYS to numbers above the last call the profile names (runc), the default below', () => {
    expect(evaluate(c.program, { nr: 600 })).toBe(ENOSYS);
    expect(evaluate(c.program, { nr: 0x3fffffff })).toBe(ENOSYS);
    expect(evaluate(c.program, { nr: X86_64.clone3 + 0 })).toBe(ENOSYS);
    expect(evaluate(c.program, { nr: X86_64.uselib })).toBe(EPERM);
  });

  it('applies the rules to i386 calls by their own numbers (32-bit arguments)', () => {
    const i386 = (name: string, args: number[] = []) => evaluate(c.program, { nr: I386[name], arch: AUDIT_ARCH.I386, args });
    expect(i386('read')).toBe(RET.ALLOW);
    expect(i386('socketcall')).toBe(RET.ALLOW);
    expect(i386('unshare', [CLONE_NEWNS])).toBe(EPERM);
    expect(i386('personality', [8])).toBe(RET.ALLOW);
    expect(i386('personality', [0x400000])).toBe(EPERM);
    expect(i386('clone', [CLONE_NEWUSER])).toBe(EPERM);
    expect(i386('clone', [SIGCHLD])).toBe(RET.ALLOW);
    // a name applies wherever it exists (libseccomp): Docker lists arch_prctl for amd64, i386 has one too
    expect(i386('arch_prctl')).toBe(RET.ALLOW);
    expect(i386('mount')).toBe(EPERM);
  });

  it('applies the rules to x32 calls (x32 bit set, same AUDIT_ARCH)', () => {
    const x32 = (name: string, args: number[] = []) => evaluate(c.program, { nr: X32[name], arch: AUDIT_ARCH.X86_64, args });
    expect(x32('read')).toBe(RET.ALLOW);
    expect(x32('execve')).toBe(RET.ALLOW);
    expect(x32('unshare', [CLONE_NEWNS])).toBe(EPERM);
    expect(x32('socket', [40])).toBe(EPERM);
    expect(x32('socket', [2])).toBe(RET.ALLOW);
  });

  it('kills a call from an architecture the filter does not list', () => {
    expect(evaluate(c.program, { nr: 63, arch: AUDIT_ARCH.AARCH64 })).toBe(RET.KILL_PROCESS);
    expect(evaluate(c.program, { nr: 3, arch: AUDIT_ARCH.ARM })).toBe(RET.KILL_PROCESS);
  });

  it('without SCMP_ARCH_X32 listed, an x32 call is a foreign architecture', () => {
    const seccomp = { ...dockerSeccomp(DOCKER_CAPS), architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'] };
    const p = compileSeccomp(profileOf(seccomp), 'x86_64').program;
    expect(evaluate(p, { nr: X32.read })).toBe(RET.KILL_PROCESS);
    expect(evaluate(p, { nr: X86_64.read })).toBe(RET.ALLOW);
    expect(evaluate(p, { nr: I386.read, arch: AUDIT_ARCH.I386 })).toBe(RET.ALLOW);
    const native = compileSeccomp(profileOf({ ...seccomp, architectures: [] }), 'x86_64').program;
    expect(evaluate(native, { nr: I386.read, arch: AUDIT_ARCH.I386 })).toBe(RET.KILL_PROCESS);
  });

  it('opens what CAP_SYS_ADMIN opens in the profile', () => {
    const admin = compileSeccomp(profileOf(dockerSeccomp([...DOCKER_CAPS, 'CAP_SYS_ADMIN'])), 'x86_64').program;
    expect(evaluate(admin, { nr: X86_64.unshare, args: [CLONE_NEWNS] })).toBe(RET.ALLOW);
    expect(evaluate(admin, { nr: X86_64.mount })).toBe(RET.ALLOW);
    expect(evaluate(admin, { nr: X86_64.clone, args: [CLONE_NEWUSER] })).toBe(RET.ALLOW);
    expect(evaluate(admin, { nr: X86_64.clone3 })).toBe(RET.ALLOW);
    expect(evaluate(admin, { nr: X86_64.kexec_load })).toBe(EPERM);
  });

  it('skips exactly the names x86_64, i386 and x32 all lack (calls newer than the tables get ENOSYS)', () => {
    expect(c.skipped.length).toBeGreaterThan(0);
    for (const n of c.skipped) expect(X86_64[n] ?? I386[n] ?? X32[n], n).toBeUndefined();
    expect(c.skipped).toContain('fchmodat2'); // 452: newer than the 6.1 headers the tables come from
    expect(c.skipped).not.toContain('socketcall'); // i386's
    expect(evaluate(c.program, { nr: 452 })).toBe(ENOSYS);
  });
});

describe("Docker's default profile on aarch64", () => {
  const c = compileSeccomp(profileOf(dockerSeccomp(DOCKER_CAPS, 'arm64')), 'aarch64');
  const run = (name: string, args: (number | bigint)[] = []) => evaluate(c.program, { nr: AARCH64[name], arch: AUDIT_ARCH.AARCH64, args });

  it('allows, denies and conditions by aarch64 numbers', () => {
    for (const s of ['read', 'write', 'openat', 'execve', 'exit_group', 'fstat', 'newfstatat']) expect(run(s), s).toBe(RET.ALLOW);
    expect(run('unshare', [CLONE_NEWNS])).toBe(EPERM);
    expect(run('clone', [SIGCHLD])).toBe(RET.ALLOW);
    expect(run('clone', [CLONE_NEWUSER])).toBe(EPERM);
    expect(run('clone3')).toBe(ENOSYS);
    expect(run('personality', [0x400000])).toBe(EPERM);
    expect(evaluate(c.program, { nr: 0, arch: AUDIT_ARCH.X86_64 })).toBe(RET.KILL_PROCESS);
    // SCMP_ARCH_ARM has no table here: named, and its calls are a foreign architecture's
    expect(c.leftOut).toEqual(['SCMP_ARCH_ARM']);
    expect(evaluate(c.program, { nr: 3, arch: AUDIT_ARCH.ARM })).toBe(RET.KILL_PROCESS);
    expect(c.program.length / 8).toBeLessThan(MAX_INSNS);
  });
});

describe("Podman's default profile on x86_64 (Podman's default capabilities, without AUDIT_WRITE)", () => {
  const caps = DOCKER_CAPS.filter((c) => c !== 'CAP_AUDIT_WRITE');
  const c = compileSeccomp(profileOf(dockerSeccomp(caps, 'amd64', '6.1', PODMAN_DEFAULT)), 'x86_64');
  const run = (name: string, args: (number | bigint)[] = []) => evaluate(c.program, { nr: X86_64[name], args });
  const EINVAL = (RET.ERRNO | 22) >>> 0;

  it('allows, denies with its errnos, and decides socket() by its ORed conditional rules in order', () => {
    expect(c.program.length / 8).toBeLessThan(MAX_INSNS);
    for (const s of ['read', 'openat', 'execve', 'clone3', 'mount', 'unshare']) expect(run(s), s).toBe(RET.ALLOW); // Podman leaves these to capabilities
    for (const s of ['kexec_load', 'init_module', 'bpf', 'settimeofday', 'open_by_handle_at']) expect(run(s), s).toBe(EPERM);
    // NETLINK_AUDIT (AF_NETLINK, protocol 9) without CAP_AUDIT_WRITE: EINVAL; other sockets allowed
    expect(run('socket', [16, 3, 9])).toBe(EINVAL);
    expect(run('socket', [16, 3, 0])).toBe(RET.ALLOW);
    expect(run('socket', [2, 1, 9])).toBe(RET.ALLOW);
    expect(run('socket', [2, 1, 0])).toBe(RET.ALLOW);
    expect(run('personality', [0x400000])).toBe(ENOSYS); // Podman's default errno is ENOSYS (38)
    expect(run('uselib')).toBe(EPERM); // listed with errnoRet 1
    // a call the profile does not name at all gets the default
    const named = new Set(profileOf(dockerSeccomp(caps, 'amd64', '6.1', PODMAN_DEFAULT)).rules.flatMap((r) => r.names));
    const unnamed = Object.keys(X86_64).filter((n) => !named.has(n) && X86_64[n] < 300);
    expect(unnamed.length).toBeGreaterThan(0);
    for (const n of unnamed) expect(run(n), n).toBe(ENOSYS);
  });
});

/** The comparison as libseccomp defines it, on 64-bit unsigned values. */
function reference(op: CompareOp, arg: bigint, value: bigint, valueTwo: bigint): boolean {
  switch (op) {
    case 'SCMP_CMP_EQ': return arg === value;
    case 'SCMP_CMP_NE': return arg !== value;
    case 'SCMP_CMP_LT': return arg < value;
    case 'SCMP_CMP_LE': return arg <= value;
    case 'SCMP_CMP_GT': return arg > value;
    case 'SCMP_CMP_GE': return arg >= value;
    case 'SCMP_CMP_MASKED_EQ': return (arg & value) === valueTwo;
  }
}

describe('argument comparisons', () => {
  const OPS: CompareOp[] = ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_MASKED_EQ'];
  // Values that stress both halves: equal high halves, equal low halves, the extremes.
  const word = fc.oneof(fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff), fc.integer({ min: 0, max: 0xffffffff }));
  const u64 = fc.tuple(word, word).map(([h, l]) => (BigInt(h) << 32n) | BigInt(l));

  it('match the 64-bit reference on every operator (x86_64) and on the low half (i386)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...OPS), fc.integer({ min: 0, max: 5 }), u64, u64, u64, fc.boolean(), (op, index, value, valueTwo, arg, near) => {
        // Often the argument shares a half with the value, where the high/low logic matters.
        const a = near ? (value & 0xffffffff00000000n) | (arg & 0xffffffffn) : arg;
        const profile = profileOf({
          defaultAction: 'SCMP_ACT_ALLOW',
          architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
          syscalls: [{ names: ['getpid'], action: 'SCMP_ACT_ERRNO', errnoRet: 7, args: [{ index, op, value, valueTwo }] }],
        });
        const prog = compileSeccomp(profile, 'x86_64').program;
        const args = [0n, 0n, 0n, 0n, 0n, 0n];
        args[index] = a;
        const want = reference(op, a, value, valueTwo) ? (RET.ERRNO | 7) >>> 0 : RET.ALLOW;
        expect(evaluate(prog, { nr: X86_64.getpid, args })).toBe(want);
        // i386: arguments are 32 bits, compared with the value's low half
        const lo = (v: bigint) => v & 0xffffffffn;
        const args32 = args.map(lo);
        const want32 = reference(op, lo(a), lo(value), lo(valueTwo)) ? (RET.ERRNO | 7) >>> 0 : RET.ALLOW;
        expect(evaluate(prog, { nr: I386.getpid, arch: AUDIT_ARCH.I386, args: args32 })).toBe(want32);
      }),
      { numRuns: 400 },
    );
  });

  it('keeps integers beyond 2^53 exact from the JSON text', () => {
    const text = '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":1,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]}]}';
    const prog = compileSeccomp(profileOf(parseJsonExact(text)), 'x86_64').program;
    expect(evaluate(prog, { nr: X86_64.getpid, args: [0, -1n] })).toBe(RET.KILL_PROCESS);
    expect(evaluate(prog, { nr: X86_64.getpid, args: [0, 0xfffffffffffff800n] })).toBe(RET.ALLOW);
  });
});

describe('rules', () => {
  const compile = (syscalls: unknown[], extra: Record<string, unknown> = {}) =>
    compileSeccomp(profileOf({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64'], syscalls, ...extra }), 'x86_64');
  const nr = X86_64.kill;

  it('ANDs the conditions of one rule, ORs the rules of one call, then its unconditional rule, then the default', () => {
    const { program } = compile([
      { names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, op: 'SCMP_CMP_GT', value: 10 }, { index: 1, op: 'SCMP_CMP_EQ', value: 15 }] },
      { names: ['kill'], action: 'SCMP_ACT_TRAP', args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 9 }] },
      { names: ['getpid', 'kill'], action: 'SCMP_ACT_LOG' },
    ]);
    expect(evaluate(program, { nr, args: [11, 15] })).toBe(RET.ALLOW);
    expect(evaluate(program, { nr, args: [10, 15] })).toBe(RET.LOG);
    expect(evaluate(program, { nr, args: [11, 9] })).toBe(RET.TRAP);
    expect(evaluate(program, { nr: X86_64.getpid })).toBe(RET.LOG);
    expect(evaluate(program, { nr: X86_64.read })).toBe(EPERM);
    expect(evaluate(program, { nr: X86_64.getppid })).toBe(ENOSYS); // above the last call named (runc's stub)
  });

  it('ORs conditions that repeat an argument index (as runc does)', () => {
    const { program } = compile([{ names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, op: 'SCMP_CMP_EQ', value: 15 }, { index: 1, op: 'SCMP_CMP_EQ', value: 2 }] }]);
    expect(evaluate(program, { nr, args: [1, 15] })).toBe(RET.ALLOW);
    expect(evaluate(program, { nr, args: [1, 2] })).toBe(RET.ALLOW);
    expect(evaluate(program, { nr, args: [1, 9] })).toBe(EPERM);
  });

  it('maps every action, with errnoRet and defaultErrnoRet', () => {
    const { program } = compile(
      [
        { names: ['read'], action: 'SCMP_ACT_KILL' },
        { names: ['write'], action: 'SCMP_ACT_KILL_THREAD' },
        { names: ['open'], action: 'SCMP_ACT_KILL_PROCESS' },
        { names: ['close'], action: 'SCMP_ACT_TRACE', errnoRet: 5 },
        { names: ['stat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['fstat'], action: 'SCMP_ACT_ERRNO' },
      ],
      { defaultErrnoRet: 38 },
    );
    const at = (name: string) => evaluate(program, { nr: X86_64[name] });
    expect([at('read'), at('write'), at('open')]).toEqual([RET.KILL_THREAD, RET.KILL_THREAD, RET.KILL_PROCESS]);
    expect(at('close')).toBe((RET.TRACE | 5) >>> 0);
    expect(at('stat')).toBe((RET.ERRNO | 13) >>> 0);
    expect(at('fstat')).toBe(EPERM);
    expect(at('lstat')).toBe(ENOSYS); // the default, errno 38
  });

  it('has no -ENOSYS stub under an allowing default (ALLOW, LOG, TRACE as runc), and skips unknown names', () => {
    const c = compileSeccomp(profileOf({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['no_such_call', 'unshare'], action: 'SCMP_ACT_ERRNO' }] }), 'x86_64');
    expect(c.skipped).toEqual(['no_such_call']);
    expect(evaluate(c.program, { nr: X86_64.unshare })).toBe(EPERM);
    expect(evaluate(c.program, { nr: 600 })).toBe(RET.ALLOW);
    expect(evaluate(c.program, { nr: X86_64.read })).toBe(RET.ALLOW);
    const traced = compileSeccomp(profileOf({ defaultAction: 'SCMP_ACT_TRACE', syscalls: [{ names: ['unshare'], action: 'SCMP_ACT_ERRNO' }] }), 'x86_64');
    expect(evaluate(traced.program, { nr: 600 })).toBe((RET.TRACE | 1) >>> 0);
    const killing = compileSeccomp(profileOf({ defaultAction: 'SCMP_ACT_KILL', syscalls: [{ names: ['unshare'], action: 'SCMP_ACT_ERRNO' }] }), 'x86_64');
    expect(evaluate(killing.program, { nr: 600 })).toBe(ENOSYS);
    expect(evaluate(killing.program, { nr: X86_64.read })).toBe(RET.KILL_THREAD);
  });

  it('passes SECCOMP_FILTER_FLAG_LOG and _SPEC_ALLOW; TSYNC needs nothing', () => {
    const flags = (f: string[]) => compile([], { flags: f }).flags;
    expect(flags(['SECCOMP_FILTER_FLAG_LOG'])).toBe(2);
    expect(flags(['SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_LOG'])).toBe(6);
    expect(flags(['SECCOMP_FILTER_FLAG_TSYNC'])).toBe(0);
  });

  it('stays small for a profile that names every x86_64 call with conditions', () => {
    const names = Object.keys(X86_64);
    const c = compile(names.map((n, i) => ({ names: [n], action: i % 2 ? 'SCMP_ACT_ALLOW' : 'SCMP_ACT_LOG', args: [{ index: 0, op: 'SCMP_CMP_NE', value: i }] })));
    expect(c.program.length / 8).toBeLessThan(MAX_INSNS);
    expect(evaluate(c.program, { nr: X86_64[names[3]], args: [3] })).toBe(EPERM);
    expect(evaluate(c.program, { nr: X86_64[names[3]], args: [4] })).toBe(RET.ALLOW);
    expect(evaluate(c.program, { nr: X86_64[names[300]], args: [4] })).toBe(RET.LOG);
  });
});

describe('errors name the field, in one line', () => {
  const err = (seccomp: unknown) => {
    const p = parseSeccomp(seccomp, 'linux.seccomp');
    expect(p.ok).toBe(false);
    const e = (p as { error: string }).error;
    expect(e).not.toContain('\n');
    return e;
  };
  it.each([
    [{}, 'linux.seccomp.defaultAction: is required'],
    [{ defaultAction: 'SCMP_ACT_NOPE' }, 'linux.seccomp.defaultAction: "SCMP_ACT_NOPE" is not a seccomp action'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', defaultErrnoRet: 1 }, 'linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_Z80'] }, 'linux.seccomp.architectures[0]: "SCMP_ARCH_Z80" is not a seccomp architecture'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_NEW_LISTENER'] }, 'linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_NEW_LISTENER: a seccomp agent'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', flags: ['X'] }, 'linux.seccomp.flags[0]: "X" is not a seccomp flag'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock' }, 'linux.seccomp.listenerPath: a seccomp agent (notification) is not supported'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }, 'linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_KILL' }] }, 'linux.seccomp.syscalls[0].names: must be a non-empty array'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'] }] }, 'linux.seccomp.syscalls[0].action: is required'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', args: [{ index: 6, op: 'SCMP_CMP_EQ', value: 1 }] }] }, 'linux.seccomp.syscalls[0].args[0].index: must be an argument index from 0 to 5'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', args: [{ index: 0, op: 'SCMP_CMP_XX', value: 1 }] }] }, 'linux.seccomp.syscalls[0].args[0].op: "SCMP_CMP_XX" is not one of'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', args: [{ index: 0, op: 'SCMP_CMP_EQ', value: -1 }] }] }, 'linux.seccomp.syscalls[0].args[0].value: must be an integer from 0 to 2^64-1'],
    [{ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 70000 }] }, 'linux.seccomp.syscalls[0].errnoRet: must be an integer from 0 to 65535'],
  ])('%j', (seccomp, message) => {
    expect(err(seccomp)).toContain(message);
  });

  it('lists fields it does not know', () => {
    const p = parseSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', comment: 'x', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', comment: 'y' }] }, 'linux.seccomp');
    expect(p.ok && p.unsupported).toEqual(['linux.seccomp.comment', 'linux.seccomp.syscalls[0].comment']);
  });
});

describe('ociSeccomp: the bundle\'s filter for this machine', () => {
  const docker = (goArch: string) => profileOf(dockerSeccomp(DOCKER_CAPS, goArch));
  it('compiles for the running architecture, with what it skipped as debug lines', () => {
    const r = ociSeccomp(docker('amd64'), 'x64');
    const s = r.ok ? r.value : null;
    if (s === null) throw new Error(said(r) ?? 'no filter');
    expect(evaluate(Buffer.from(s.program, 'base64'), { nr: X86_64.unshare, args: [CLONE_NEWNS] })).toBe(EPERM);
    expect(s.unsupported).toEqual([]);
    expect(s.debug[0]).toMatch(/^seccomp: system calls unknown on x86_64, skipped \(as runc does\): .*fchmodat2/);
  });
  it('names SCMP_ARCH_ARM on aarch64 (no table) in the warning; is null without a profile', () => {
    const s = ociSeccomp(docker('arm64'), 'arm64');
    expect(s.ok && s.value?.unsupported).toEqual([expect.stringMatching(/^linux\.seccomp\.architectures: SCMP_ARCH_ARM \(no system call table/)]);
    expect(ociSeccomp(null, 'x64')).toEqual({ ok: true, value: null });
  });
  it('refuses a profile beyond the kernel\'s 4096 instructions in one line', () => {
    const gt = (index: number) => ({ index, op: 'SCMP_CMP_GT', value: 2 ** 40 });
    const huge = profileOf({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: Object.keys(X86_64).map((n) => ({ names: [n], action: 'SCMP_ACT_ALLOW', args: [gt(0), gt(1), gt(2)] })) });
    expect(said(ociSeccomp(huge, 'x64'))).toMatch(/^config\.json: linux\.seccomp: the seccomp profile compiles to [0-9]+ BPF instructions, more than the kernel's 4096$/);
  });
  it('refuses an architecture without tables in one line', () => {
    expect(said(ociSeccomp(docker('amd64'), 'riscv64'))).toBe('config.json: linux.seccomp: architecture riscv64 is not supported (tini-ts knows the system calls of x86_64 and aarch64)');
  });
  it('reads a config.json\'s text for exec', () => {
    expect(ociSeccompOfConfig('{"process":{}}')).toEqual({ ok: true, value: null });
    expect(said(ociSeccompOfConfig('{"linux":{"seccomp":{"defaultAction":"SCMP_ACT_BOGUS"}}}'))).toMatch(/^config\.json: linux\.seccomp\.defaultAction: "SCMP_ACT_BOGUS" is not a seccomp action/);
    const s = ociSeccompOfConfig(JSON.stringify({ linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', flags: ['SECCOMP_FILTER_FLAG_LOG'] } } }));
    expect(s.ok && s.value?.flags).toBe(2);
  });
});
