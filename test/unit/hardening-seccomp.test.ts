import { describe, expect, it } from 'vitest';
import { AUDIT_ARCH, findSyscall, syscalls } from '../../src/libc/arch.js';
import { SYSCALL_NAMES } from '../../src/libc/syscall-tables.js';
import { DOCKER_DEFAULT_CAPS } from '../../src/libc/capabilities.js';
import {
  AUDIT_ARCH_X86_64, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, compile, defaultPolicy, evaluate,
} from '../../src/runtime/hardening/seccomp.js';

const X86_64 = syscalls('X86_64');
const AARCH64 = syscalls('AARCH64');
const EPERM = (SECCOMP_RET_ERRNO | 1) >>> 0;
const ENOSYS = (SECCOMP_RET_ERRNO | 38) >>> 0;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWNS = 0x00020000;
const CLONE_THREAD_FLAGS = 0x003d0f00; // what glibc's pthread_create passes

describe('default seccomp filter (docker defaults)', () => {
  const prog = compile(defaultPolicy(DOCKER_DEFAULT_CAPS));
  const run = (name: string, args: (number | bigint)[] = []) => evaluate(prog, { nr: X86_64[name] ?? Number(name), args });

  it('denies kexec, modules, the new mount API, mount, namespaces, bpf, keyrings', () => {
    for (const s of ['kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'open_tree',
      'move_mount', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'mount_setattr', 'mount', 'umount2', 'pivot_root',
      'setns', 'bpf', 'keyctl', 'add_key', 'perf_event_open', 'reboot', 'settimeofday', 'clock_settime', 'swapon']) {
      expect(run(s), s).toBe(EPERM);
    }
  });

  it('allows ordinary system calls', () => {
    for (const nr of [0 /* read */, 1 /* write */, 2 /* open */, 9 /* mmap */, 59 /* execve */, 57 /* fork */, 61 /* wait4 */, 62 /* kill */, 257 /* openat */, 231 /* exit_group */]) {
      expect(evaluate(prog, { nr })).toBe(SECCOMP_RET_ALLOW);
    }
  });

  it('lets threads and plain forks clone, but not into new namespaces', () => {
    expect(run('clone', [CLONE_THREAD_FLAGS])).toBe(SECCOMP_RET_ALLOW);
    expect(run('clone', [0x11 /* SIGCHLD */])).toBe(SECCOMP_RET_ALLOW);
    expect(run('clone', [CLONE_NEWUSER | 0x11])).toBe(EPERM);
    expect(run('unshare', [CLONE_NEWNS])).toBe(EPERM);
    expect(run('unshare', [0x400 /* CLONE_FILES */])).toBe(SECCOMP_RET_ALLOW);
    expect(run('clone3')).toBe(ENOSYS);
  });

  it('kills a foreign architecture and refuses x32 calls', () => {
    expect(evaluate(prog, { nr: 0, arch: 0x40000003 /* i386 */ })).toBe(SECCOMP_RET_KILL_PROCESS >>> 0);
    expect(evaluate(prog, { nr: 0x40000000 + 1, arch: AUDIT_ARCH_X86_64 })).toBe(EPERM);
  });

  it('opens what a granted capability would allow', () => {
    const admin = compile(defaultPolicy([...DOCKER_DEFAULT_CAPS, 'SYS_ADMIN']));
    expect(evaluate(admin, { nr: X86_64.mount })).toBe(SECCOMP_RET_ALLOW);
    expect(evaluate(admin, { nr: X86_64.unshare, args: [CLONE_NEWNS] })).toBe(SECCOMP_RET_ALLOW);
    expect(evaluate(admin, { nr: X86_64.kexec_load })).toBe(EPERM);
    const time = compile(defaultPolicy([...DOCKER_DEFAULT_CAPS, 'SYS_TIME']));
    expect(evaluate(time, { nr: X86_64.settimeofday })).toBe(SECCOMP_RET_ALLOW);
  });

  it('denies io_uring, as Docker does since 2023, whatever the capabilities', () => {
    expect(run('io_uring_setup', [8, 0])).toBe(EPERM);
    const all = compile(defaultPolicy(['SYS_ADMIN', 'SYS_PTRACE', 'SYS_RESOURCE', 'IPC_LOCK', 'SYS_RAWIO']));
    expect(evaluate(all, { nr: X86_64.io_uring_setup })).toBe(EPERM);
    expect(run('io_uring_enter', [4, 2])).toBe(EPERM);
    expect(run('io_uring_register', [4, 0])).toBe(EPERM);
  });

  it("allows personality() only with Docker's five values, compared on all 64 bits", () => {
    for (const v of [0x0, 0x8, 0x20000, 0x20008, 0xffffffff]) expect(run('personality', [v]), v.toString(16)).toBe(SECCOMP_RET_ALLOW);
    for (const v of [0x400000 /* READ_IMPLIES_EXEC */, 0x0040000 /* ADDR_NO_RANDOMIZE */, 0x1, 0x9, 0x20001, 0xfffffffe, 0x100000000, 0x100000008, -1n, -1]) {
      expect(run('personality', [v]), v.toString(16)).toBe(EPERM);
    }
    // the calls around it are untouched
    expect(evaluate(prog, { nr: 136 /* ustat */ })).toBe(EPERM);
    expect(evaluate(prog, { nr: 134 + 100 /* tgkill */, args: [0x400000] })).toBe(SECCOMP_RET_ALLOW);
  });

  it('is a valid classic BPF program of 8-byte instructions', () => {
    expect(prog.length % 8).toBe(0);
    expect(prog.length / 8).toBeLessThan(4096);
  });

  it('compiles for aarch64 with its own numbers (no x32 there)', () => {
    const arm = compile(defaultPolicy(DOCKER_DEFAULT_CAPS), 'aarch64');
    const at = (name: string, args: number[] = []) => evaluate(arm, { nr: AARCH64[name], arch: AUDIT_ARCH.AARCH64, args });
    for (const s of ['mount', 'umount2', 'pivot_root', 'setns', 'kexec_load', 'init_module', 'bpf', 'keyctl', 'io_uring_setup']) expect(at(s), s).toBe(EPERM);
    for (const s of ['read', 'write', 'openat', 'execve', 'exit_group', 'newfstatat']) expect(at(s), s).toBe(SECCOMP_RET_ALLOW);
    expect(at('unshare', [CLONE_NEWNS])).toBe(EPERM);
    expect(at('clone', [0x11])).toBe(SECCOMP_RET_ALLOW);
    expect(at('clone', [CLONE_NEWUSER])).toBe(EPERM);
    expect(at('clone3')).toBe(ENOSYS);
    expect(at('personality', [0x400000])).toBe(EPERM);
    expect(at('personality', [8])).toBe(SECCOMP_RET_ALLOW);
    // an x86_64 call never reaches aarch64's rules
    expect(evaluate(arm, { nr: X86_64.mount, arch: AUDIT_ARCH.X86_64 })).toBe(SECCOMP_RET_KILL_PROCESS >>> 0);
  });
});

describe('the system call tables', () => {
  it('are decoded from their lists: known numbers, no prototype, one object per architecture', () => {
    expect([X86_64.read, X86_64.write, X86_64.pidfd_open, X86_64.clone3, X86_64.io_uring_setup]).toEqual([0, 1, 434, 435, 425]);
    expect([AARCH64.io_setup, AARCH64.openat, AARCH64.pidfd_open, AARCH64.clone3]).toEqual([0, 56, 434, 435]);
    expect(syscalls('X32').read).toBe(0x40000000);
    expect(syscalls('X32').rt_sigaction).toBe(0x40000000 + 512); // the x32 compat range
    expect(syscalls('I386').exit).toBe(1);
    expect('toString' in X86_64 || 'constructor' in X86_64).toBe(false);
    expect(Object.isFrozen(X86_64) && syscalls('X86_64') === X86_64).toBe(true);
    expect([Object.keys(X86_64).length, Object.keys(syscalls('I386')).length, Object.keys(syscalls('X32')).length, Object.keys(AARCH64).length]).toEqual([362, 440, 351, 306]);
  });

  it('one number is found in a list without decoding it, the same as the decoded table says, for every name', () => {
    for (const arch of ['X86_64', 'I386', 'X32', 'AARCH64'] as const) {
      for (const [name, n] of Object.entries(syscalls(arch))) expect(findSyscall(SYSCALL_NAMES[arch], name), `${arch} ${name}`).toBe(n);
      for (const missing of ['nosuch', 'read.', 'rea', '', 'pidfd_open2']) expect(findSyscall(SYSCALL_NAMES[arch], missing)).toBeUndefined();
    }
  });
});
