/**
 * System calls made by every thread of this process, as glibc does for
 * setuid(2) and friends (its SIGSETXID broadcast): credentials, capabilities,
 * the bounding set and no_new_privs are per thread in Linux, and a Node
 * process has threads it never asked for (V8's workers, the delayed-task
 * scheduler, libuv's pool). The container's init uses this to take the
 * workload's privileges on all of them without re-executing itself.
 *
 * How: a signal handler of a few instructions (below, per architecture) runs
 * a list of raw system calls from memory of ours, counts itself done, and
 * notes the first call that failed. It is installed for SIGSETXID (33) with
 * rt_sigaction(2) directly: glibc never lets a thread block that signal
 * (its sigprocmask drops it from every mask) and refuses it to sigaction(3).
 * Each thread is sent it with tgkill(2), this one first (its handler runs
 * before tgkill returns); then glibc's handler is put back. The caller must
 * not use glibc's set*id wrappers meanwhile (they broadcast the same signal).
 * Then every thread's /proc status is compared with this one's.
 */
import fs from 'node:fs';
import type { Koffi } from './koffi-native.js';
import { sysno } from './arch.js';
import { lazyFunc } from './lazy.js';
import { errnoName, type ErrnoName } from './errno.js';
import { sysError as fail } from './errno.js';
import { ok, type Result } from './types.js';

/** One system call for each thread: its number, up to six arguments (a Buffer is passed by address), errnos that count as success. */
export interface ThreadCall {
  /** How a failure names it, e.g. `capset`. */
  call: string;
  nr: number;
  args: (number | bigint | Buffer)[];
  tolerate?: ErrnoName[];
}

/**
 * The handler, entered as handler(sig) on the signalled thread; it may
 * clobber any register (rt_sigreturn restores them all). Its data page:
 * u64 [0] number of calls, [1] threads done, [2] 1 + index of the call that
 * failed (0: none), [3] its errno; from byte 64, 64 bytes per call: number,
 * six arguments, a mask of errnos (< 64) taken as success. The page's address
 * is the code's last 8 bytes. Made with `as`/`aarch64-linux-gnu-as` from:
 *
 * x86_64                                  | aarch64
 *   mov rbx, [rip + data]                 |   ldr x9, data
 *   mov r13, [rbx]; lea r14, [rbx + 64]   |   ldr x10, [x9]; add x11, x9, #64
 *   xor r15d, r15d                        |   mov x12, #0
 * 1: cmp r15, r13; jae 4f                 | 1: cmp x12, x10; b.hs 4f
 *   rax, rdi, rsi, rdx, r10, r8, r9       |   ldp x8, x0 / x1, x2 / x3, x4
 *     <- [r14 + 0 .. 48]; syscall         |   ldr x5; svc #0
 *   cmp rax, -4095; jb 3f                 |   cmn x0, #4095; b.lo 3f
 *   neg rax; cmp rax, 64; jae 2f          |   neg x0, x0; cmp x0, #64; b.hs 2f
 *   bt qword [r14 + 56], rax; jc 3f       |   ldr x13, [x11, #56]; lsr; tbnz #0, 3f
 * 2: [rbx + 24] <- errno,                 | 2: [x9, #24] <- errno,
 *   [rbx + 16] <- index + 1; jmp 4f       |   [x9, #16] <- index + 1; b 4f
 * 3: add r14, 64; inc r15; jmp 1b         | 3: add x11, #64; add x12, #1; b 1b
 * 4: lock inc qword [rbx + 8]; ret        | 4: ldaxr/add/stlxr loop on [x9, #8]; ret
 * restorer: mov eax, 15; syscall; ud2     | restorer: mov x8, #139; svc #0; brk #0
 */
export const HANDLER_CODE: Readonly<Record<string, { hex: string; restorer: number; data: number }>> = {
  x64: {
    hex:
      '488b1d710000004c8b2b4c8d73404531ff4d39ef734c498b06498b7e08498b7610498b56184d8b56204d8b46284d8b4e300f05483d01f0ffff721e48f7d84883f8407307490fa34638720e48894318498d470148894310eb094983c64049ffc7ebaff048ff4308c3b80f0000000f050f0b0f1f80000000000000000000000000',
    restorer: 0x68,
    data: 0x78,
  },
  arm64: {
    hex:
      '890400582a0140f92b0101910c0080d29f010aeba2020054680140a9610941a9631142a9651940f9010000d41ffc3fb163010054e00300cb1f0001f1820000546d1d40f9ad25c09aad000037200d00f98d0500912d0900f9040000146b0101918c050091ebffff172d210091aefd5fc8ce050091aefd0fc8afffff35c0035fd6681180d2010000d4000020d41f2003d50000000000000000',
    restorer: 0x80,
    data: 0x90,
  },
};

const SIGSETXID = 33;
const SA_RESTORER = 0x04000000;
const SA_RESTART = 0x10000000;
const PROT_READ = 1;
const PROT_WRITE = 2;
const PROT_EXEC = 4;
const MAP_PRIVATE = 0x02;
const MAP_ANONYMOUS = 0x20;
const PAGE = 4096;
/** Long enough for a thread stuck in the kernel; a thread that never answers is an error, not a wait. */
const WAIT_MS = 2000;

/** The /proc status lines that carry a thread's privileges (the seccomp filter is synchronised apart, with TSYNC). */
export const PRIVILEGE_LINES = ['Uid', 'Gid', 'Groups', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs'];

export function privilegeLines(status: string): string {
  return status
    .split('\n')
    .filter((l) => PRIVILEGE_LINES.includes(l.slice(0, l.indexOf(':'))))
    .join('\n');
}

export type EveryThread = (calls: ThreadCall[]) => Result<number>;

/** The same calls on the calling thread alone, one by one through syscall(2). */
export function bindThisThread(c: ReturnType<Koffi['load']>, errno: () => number): (calls: ThreadCall[]) => Result<void> {
  const syscall = lazyFunc(c, 'long syscall(long number, ...)');
  return (calls) => {
    for (const k of calls) {
      const args = k.args.flatMap((a): unknown[] => (Buffer.isBuffer(a) ? ['void *', a] : ['long', BigInt.asIntN(64, BigInt(a))]));
      if (Number(syscall(k.nr, ...args)) !== -1) continue;
      const e = errno();
      if (!(k.tolerate ?? []).includes(errnoName(e))) return fail(k.call, e);
    }
    return ok(undefined);
  };
}

export function bindEveryThread(c: ReturnType<Koffi['load']>, errno: () => number, koffi: Koffi, arch: string = process.arch): EveryThread {
  const code = HANDLER_CODE[arch];
  const mmap = lazyFunc(c, 'void *mmap(void *addr, size_t len, int prot, int flags, int fd, long off)');
  const mprotect = lazyFunc(c, 'int mprotect(void *addr, size_t len, int prot)');
  const munmap = lazyFunc(c, 'int munmap(void *addr, size_t len)');
  const syscall = lazyFunc(c, 'long syscall(long number, ...)');
  const schedYield = lazyFunc(c, 'int sched_yield(void)');
  // Looked up when first broadcast (the binding is made with the group, on every init's path).
  let sys: { SYS_RT_SIGACTION: number; SYS_TGKILL: number; SYS_GETTID: number } | null = null;
  const numbers = () => (sys ??= { SYS_RT_SIGACTION: sysno('rt_sigaction', arch), SYS_TGKILL: sysno('tgkill', arch), SYS_GETTID: sysno('gettid', arch) });
  const MAP_FAILED = 2n ** 64n - 1n;
  let handler: { ptr: unknown; address: bigint; data: Buffer } | null = null;

  const map = (size: number, what: string): Result<{ ptr: unknown; address: bigint; mem: Buffer }> => {
    const ptr = mmap(null, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const address = ptr === null ? MAP_FAILED : koffi.address(ptr);
    if (address === MAP_FAILED) return fail(`mmap(${what})`, errno());
    return ok({ ptr, address, mem: Buffer.from(koffi.view(ptr, size)) });
  };

  /** The code page, made once and never unmapped: a thread may still be on its way out of it. */
  const install = (): Result<NonNullable<typeof handler>> => {
    if (handler) return ok(handler);
    if (!code || code.hex.length / 2 !== code.data + 8) return fail(`every-thread calls on ${arch}`, 38);
    const m = map(PAGE, 'handler');
    if (!m.ok) return m;
    Buffer.from(code.hex, 'hex').copy(m.value.mem);
    if (mprotect(m.value.ptr, PAGE, PROT_READ | PROT_EXEC) === -1) return fail('mprotect(handler)', errno());
    handler = { ptr: m.value.ptr, address: m.value.address, data: m.value.mem };
    return ok(handler);
  };

  return (calls) => {
    const h = install();
    if (!h.ok) return h;
    // The data page: header, calls, then the arguments passed by address.
    const argBytes = calls.reduce((n, k) => n + k.args.reduce<number>((m, a) => m + (Buffer.isBuffer(a) ? (a.length + 7) & ~7 : 0), 0), 0);
    const size = Math.ceil((64 + 64 * calls.length + argBytes) / PAGE) * PAGE;
    const m = map(size, 'calls');
    if (!m.ok) return m;
    const { ptr, address, mem } = m.value;
    try {
      // Plain numbers, written as two 32-bit halves through a typed array (both
      // architectures are little-endian): this runs once per start, mostly
      // in the interpreter, where Buffer's write calls cost ten times more.
      const u32 = new Uint32Array(mem.buffer, mem.byteOffset, mem.length >>> 2);
      const word = (v: number, at: number) => {
        u32[at >>> 2] = v >>> 0;
        u32[(at >>> 2) + 1] = v < 0 ? 0xffffffff : Math.floor(v / 2 ** 32) >>> 0;
      };
      let extra = 64 + 64 * calls.length;
      word(calls.length, 0);
      calls.forEach((k, i) => {
        const at = 64 + 64 * i;
        word(k.nr, at);
        k.args.forEach((a, j) => {
          if (Buffer.isBuffer(a)) {
            a.copy(mem, extra);
            mem.writeBigUInt64LE(address + BigInt(extra), at + 8 + 8 * j);
            extra += (a.length + 7) & ~7;
          } else if (typeof a === 'bigint') mem.writeBigUInt64LE(BigInt.asUintN(64, a), at + 8 + 8 * j);
          else word(a, at + 8 + 8 * j);
        });
        let low = 0;
        let high = 0;
        for (const e of k.tolerate ?? []) {
          const n = errnoNumber(e);
          if (n < 32) low |= 1 << n;
          else high |= 1 << (n - 32);
        }
        u32[(at + 56) >>> 2] = low >>> 0;
        u32[(at + 60) >>> 2] = high >>> 0;
      });
      // The handler finds the data page through the code's last word: writable only while we write it.
      if (mprotect(h.value.ptr, PAGE, PROT_READ | PROT_WRITE) === -1) return fail('mprotect(handler)', errno());
      h.value.data.writeBigUInt64LE(address, code.data);
      if (mprotect(h.value.ptr, PAGE, PROT_READ | PROT_EXEC) === -1) return fail('mprotect(handler)', errno());
      const b = broadcast(h.value.address, mem, calls);
      // A thread that has not answered may still read the page: keep it then (the caller gives up anyway).
      if (b.settled) munmap(ptr, size);
      return b.result;
    } catch (e) {
      munmap(ptr, size);
      throw e;
    }
  };

  function broadcast(codeAddress: bigint, mem: Buffer, calls: ThreadCall[]): { result: Result<number>; settled: boolean } {
    const { SYS_RT_SIGACTION, SYS_TGKILL, SYS_GETTID } = numbers();
    const act = Buffer.alloc(32);
    act.writeBigUInt64LE(codeAddress, 0);
    act.writeBigUInt64LE(BigInt(SA_RESTORER | SA_RESTART), 8);
    act.writeBigUInt64LE(codeAddress + BigInt(code.restorer), 16);
    act.writeBigUInt64LE(2n ** 64n - 1n, 24); // nothing else interrupts the handler
    const old = Buffer.alloc(32);
    if (Number(syscall(SYS_RT_SIGACTION, 'long', SIGSETXID, 'void *', act, 'void *', old, 'long', 8)) === -1) return { result: fail('rt_sigaction(SIGSETXID)', errno()), settled: true };
    const pid = process.pid;
    const self = Number(syscall(SYS_GETTID));
    const done = new BigInt64Array(mem.buffer, mem.byteOffset, 4);
    let sent = 0;
    const signal = (tid: number): Result<void> => {
      if (Number(syscall(SYS_TGKILL, 'long', pid, 'long', tid, 'long', SIGSETXID)) === 0) sent++;
      else if (errno() !== 3) return fail(`tgkill(${tid})`, errno()); // ESRCH: the thread has ended
      return ok(undefined);
    };
    /** Until every thread signalled has run the handler; false if one has not within WAIT_MS. */
    const settle = (): boolean => {
      const deadline = Date.now() + WAIT_MS;
      while (Number(Atomics.load(done, 1)) < sent) {
        if (Date.now() > deadline) return false;
        schedYield();
      }
      return true;
    };
    const failure = (): Result<number> | null => {
      const index = Number(mem.readBigUInt64LE(16));
      return index === 0 ? null : fail(calls[index - 1].call, Number(mem.readBigUInt64LE(24)));
    };
    let result: Result<number> | null = null;
    const handled = new Set([self]);
    // The others first (they wake up meanwhile), then this thread (its handler has run when tgkill
    // returns); threads started meanwhile (none should be) are signalled in the next round.
    for (let round = 0; result === null && round < 3; round++) {
      const all = tasks();
      if (all === null) {
        result = fail('reading /proc/self/task', 2);
        break;
      }
      const fresh = all.filter((t) => !handled.has(t));
      if (fresh.length === 0 && round > 0) break;
      for (const tid of fresh) {
        handled.add(tid);
        const r = signal(tid);
        if (!r.ok) {
          result = r;
          break;
        }
      }
      if (round === 0 && result === null) {
        const s = signal(self);
        if (!s.ok) result = s;
      }
      if (!settle()) return { result: fail(`waiting for ${sent - Number(Atomics.load(done, 1))} thread(s) to take the change`, 110), settled: false };
      result ??= failure();
    }
    // A signal still on its way would find glibc's handler and its null command: wait for all first.
    if (!settle()) return { result: result ?? fail('waiting for the threads to take the change', 110), settled: false };
    syscall(SYS_RT_SIGACTION, 'long', SIGSETXID, 'void *', old, 'void *', null, 'long', 8);
    if (result !== null) return { result, settled: true };
    // Every thread there is now holds what this one holds.
    const mine = privilegeLines(readStatus('thread-self'));
    const all = tasks();
    if (all === null) return { result: fail('reading /proc/self/task', 2), settled: true };
    for (const tid of all) {
      const theirs = readStatus(`self/task/${tid}`);
      if (theirs !== '' && privilegeLines(theirs) !== mine) return { result: fail(`thread ${tid} kept other privileges`, 1), settled: true };
    }
    return { result: ok(sent), settled: true };
  }
}

/** This process's threads; null without a /proc to tell (never "none": a thread missed would keep its privileges). */
function tasks(): number[] | null {
  try {
    return fs.readdirSync('/proc/self/task').map(Number);
  } catch {
    return null;
  }
}

function readStatus(which: string): string {
  try {
    return fs.readFileSync(`/proc/${which}/status`, 'latin1');
  } catch {
    return ''; // the thread has ended
  }
}

let errnoNumbers: Map<string, number> | null = null;

function errnoNumber(name: ErrnoName): number {
  errnoNumbers ??= new Map(Array.from({ length: 63 }, (_, i) => [errnoName(i + 1), i + 1]));
  const n = errnoNumbers.get(name);
  if (n === undefined) throw new Error(`unknown errno ${name}`);
  return n;
}
