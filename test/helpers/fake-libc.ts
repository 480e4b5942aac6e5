/**
 * A Libc with no kernel behind it, for unit tests.
 *
 * - Every call is recorded (name and arguments) in `calls`.
 * - Any call can be made to fail (by errno name) or to return a value, for
 *   its next N calls or for good: `failNext('waitpid', 'EINTR')`.
 * - A small process table stands in for the kernel: spawned children and
 *   added processes live in process groups, `kill` delivers to a pid or a
 *   whole group (ESRCH when nothing is there), exits queue up as zombies for
 *   `waitpid(-1, WNOHANG)`, which returns [0, 0] when none is pending and
 *   ECHILD when the init has no child left.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errnoName } from '../../src/libc/errno.js';
import { SIG } from '../../src/libc/signals.js';
import {
  CLD_DUMPED,
  CLD_EXITED,
  CLD_KILLED,
  decodeWaitStatus,
  ok,
  signaledStatus,
  WNOHANG,
  WNOWAIT,
  type WaitidInfo,
  type Libc,
  type Result,
  type SpawnRequest,
  type SysError,
  type WaitStatus,
} from '../../src/libc/types.js';

export type LibcCall = keyof Libc;

export interface CallRecord {
  name: LibcCall;
  args: unknown[];
}

/** The `call` the real libc.ts puts in its errors, so messages read the same. */
export const SYSCALL_NAMES: Readonly<Record<LibcCall, string>> = {
  getpid: 'getpid',
  getpgrp: 'getpgrp',
  spawn: 'posix_spawnp',
  spawnAsync: 'posix_spawnp',
  kill: 'kill',
  waitpid: 'waitpid',
  setChildSubreaper: 'prctl(PR_SET_CHILD_SUBREAPER)',
  isChildSubreaper: 'prctl(PR_GET_CHILD_SUBREAPER)',
  setParentDeathSignal: 'prctl(PR_SET_PDEATHSIG)',
  setProcessName: 'prctl(PR_SET_NAME)',
  tcgetpgrp: 'tcgetpgrp',
  ignoreSignal: 'signal',
  unblockSignals: 'pthread_sigmask',
  waitid: 'waitid',
  sendNonBlocking: 'send',
  exitNow: '_exit',
  raise: 'raise',
  memfd: 'memfd_create',
  pipeBytes: 'ioctl(FIONREAD)',
  setPipeSize: 'fcntl(F_SETPIPE_SZ)',
  sigpendingLimit: 'getrlimit(RLIMIT_SIGPENDING)',
};

/** `ENOENT` -> 2, from the same table errno.ts names numbers with. */
export function errnoNumber(name: string): number {
  for (let n = 1; n < 200; n++) if (errnoName(n) === name) return n;
  throw new Error(`unknown errno name: ${name}`);
}

export function sysError(call: LibcCall, code: string): SysError {
  const errno = errnoNumber(code);
  return { ok: false, call: SYSCALL_NAMES[call], errno, code: errnoName(errno) };
}

export interface FakeProcess {
  readonly pid: number;
  pgid: number;
  argv: string[];
  state: 'running' | 'zombie' | 'reaped';
  status: WaitStatus | null;
  /** Every signal delivered to it (not the 0 of an existence check). */
  received: number[];
  /** Its reaction to a caught signal: a wait status to die with, or undefined to live on. SIGKILL always kills. */
  onSignal?: (sig: number) => WaitStatus | undefined;
}

/** A scripted answer: an errno name to fail with, or a result to return. */
type Scripted = string | Result<unknown>;

export class FakeLibc implements Libc {
  readonly calls: CallRecord[] = [];
  readonly processes = new Map<number, FakeProcess>();
  readonly spawnRequests: SpawnRequest[] = [];
  /** getpid(): 1 by default, as in a container. */
  pid = 1;
  pgrp = 1;
  /** The terminal's foreground group on fd 0; null: fd 0 is not a terminal (ENOTTY). */
  foregroundPgrp: number | null = null;
  subreaper = false;
  parentDeathSignal = 0;
  processName = '';
  readonly ignored = new Set<number>();
  readonly unblocked = new Set<number>();
  /** Pipes by descriptor: the bytes in them and their capacity (F_SETPIPE_SZ). */
  readonly pipes = new Map<number, { bytes: number; capacity: number }>();
  /** raise(sig) writes this many bytes into the pipe on this descriptor (libuv's handler), if set. */
  raiseWrites?: { fd: number; bytes: number };
  /** getrlimit(RLIMIT_SIGPENDING) */
  sigpending = 96365;
  /** /proc/sys/fs/pipe-max-size, above which F_SETPIPE_SZ fails with EPERM (as without CAP_SYS_RESOURCE). */
  pipeMax = Infinity;
  /** Applied to every spawned child before spawn returns (to give it signal reactions). */
  onSpawn?: (child: FakeProcess) => void;

  private nextPid = 100;
  /** Running or zombie processes, kept as a count so that reaping thousands stays linear. */
  private unreaped = 0;
  private readonly zombies: number[] = [];
  private readonly queued = new Map<LibcCall, Scripted[]>();
  private readonly forever = new Map<LibcCall, Scripted>();

  // --- scripting -----------------------------------------------------------

  /** The next `times` calls of `call` fail with errno `code`. */
  failNext(call: LibcCall, code: string, times = 1): this {
    for (let i = 0; i < times; i++) this.queue(call, code);
    return this;
  }

  /** Every call of `call` fails with errno `code` (until `clearScripts`). */
  failAlways(call: LibcCall, code: string): this {
    this.forever.set(call, code);
    return this;
  }

  /** The next call of `call` returns `value` instead of simulating. */
  returnNext<K extends LibcCall>(call: K, value: ReturnType<NonNullable<Libc[K]>> extends Result<infer T> ? T : never): this {
    this.queue(call, ok(value));
    return this;
  }

  clearScripts(): void {
    this.queued.clear();
    this.forever.clear();
  }

  callsOf(name: LibcCall): unknown[][] {
    return this.calls.filter((c) => c.name === name).map((c) => c.args);
  }

  // --- the process table ---------------------------------------------------

  /** A child of the init that it did not spawn (an orphan re-parented to it), in group `pgid`. */
  addProcess(pgid: number, onSignal?: FakeProcess['onSignal']): FakeProcess {
    const pid = this.nextPid++;
    const p: FakeProcess = { pid, pgid, argv: [], state: 'running', status: null, received: [], onSignal };
    this.processes.set(pid, p);
    this.unreaped++;
    return p;
  }

  /** The process ends with `status`; it stays a zombie (and a group member) until reaped. */
  exit(pid: number, status: WaitStatus): void {
    const p = this.processes.get(pid);
    if (!p || p.state !== 'running') throw new Error(`fake: process ${pid} is not running`);
    p.state = 'zombie';
    p.status = status;
    this.zombies.push(pid);
  }

  /** Processes the init still has to reap (running or zombie). */
  children(): FakeProcess[] {
    return [...this.processes.values()].filter((p) => p.state !== 'reaped');
  }

  pendingZombies(): number {
    return this.zombies.length;
  }

  groupMembers(pgid: number): FakeProcess[] {
    return this.children().filter((p) => p.pgid === pgid);
  }

  // --- Libc ----------------------------------------------------------------

  getpid(): number {
    this.record('getpid', []);
    return this.pid;
  }

  getpgrp(): number {
    this.record('getpgrp', []);
    return this.pgrp;
  }

  spawn(req: SpawnRequest): Result<number> {
    this.record('spawn', [req]);
    this.spawnRequests.push(req);
    const s = this.scripted<number>('spawn');
    if (s) return s;
    const pid = this.nextPid++;
    const child: FakeProcess = {
      pid,
      pgid: req.newProcessGroup ? pid : this.pgrp,
      argv: req.argv.map((b) => b.toString()),
      state: 'running',
      status: null,
      received: [],
    };
    this.processes.set(pid, child);
    this.unreaped++;
    this.onSpawn?.(child);
    return ok(pid);
  }

  /** A real file (so the shell can read and write it), unlinked at once, as a memfd would be. */
  memfd(name: string): Result<number> {
    this.record('memfd', [name]);
    const s = this.scripted<number>('memfd');
    if (s) return s;
    const file = path.join(os.tmpdir(), `fake-memfd-${process.pid}-${this.nextPid}-${name}`);
    const fd = fs.openSync(file, 'w+');
    fs.unlinkSync(file);
    this.memfds.push(fd);
    return ok(fd);
  }

  /** Descriptors memfd() handed out. */
  readonly memfds: number[] = [];

  kill(pid: number, sig: number): Result<void> {
    this.record('kill', [pid, sig]);
    const s = this.scripted<void>('kill');
    if (s) return s;
    let targets: FakeProcess[];
    if (pid > 0) targets = this.children().filter((p) => p.pid === pid);
    else if (pid < -1) targets = this.groupMembers(-pid);
    else targets = this.children(); // 0 and -1 are not used by the init; treat them as "everyone"
    if (targets.length === 0) return sysError('kill', 'ESRCH');
    if (sig !== 0) for (const p of targets) this.deliver(p, sig);
    return ok(undefined);
  }

  waitpid(pid: number, options: number): Result<[number, WaitStatus]> {
    this.record('waitpid', [pid, options]);
    const s = this.scripted<[number, WaitStatus]>('waitpid');
    if (s) return s;
    const hasChild = pid === -1 ? this.unreaped > 0 : (this.processes.get(pid)?.state ?? 'reaped') !== 'reaped';
    if (!hasChild) return sysError('waitpid', 'ECHILD');
    const index = pid === -1 ? (this.zombies.length > 0 ? 0 : -1) : this.zombies.indexOf(pid);
    if (index === -1) {
      if (options & WNOHANG) return ok([0, 0]);
      throw new Error('fake: a blocking waitpid would hang');
    }
    const [zpid] = index === 0 ? [this.zombies.shift()!] : this.zombies.splice(index, 1);
    const p = this.processes.get(zpid)!;
    this.markReaped(p);
    return ok([zpid, p.status!]);
  }

  setChildSubreaper(): Result<void> {
    this.record('setChildSubreaper', []);
    const s = this.scripted<void>('setChildSubreaper');
    if (s) return s;
    this.subreaper = true;
    return ok(undefined);
  }

  isChildSubreaper(): Result<boolean> {
    this.record('isChildSubreaper', []);
    return this.scripted<boolean>('isChildSubreaper') ?? ok(this.subreaper);
  }

  setParentDeathSignal(sig: number): Result<void> {
    this.record('setParentDeathSignal', [sig]);
    const s = this.scripted<void>('setParentDeathSignal');
    if (s) return s;
    if (sig < 0 || sig > 64) return sysError('setParentDeathSignal', 'EINVAL');
    this.parentDeathSignal = sig;
    return ok(undefined);
  }

  setProcessName(name: string): Result<void> {
    this.record('setProcessName', [name]);
    const s = this.scripted<void>('setProcessName');
    if (s) return s;
    this.processName = name.slice(0, 15);
    return ok(undefined);
  }

  tcgetpgrp(fd: number): Result<number> {
    this.record('tcgetpgrp', [fd]);
    const s = this.scripted<number>('tcgetpgrp');
    if (s) return s;
    return this.foregroundPgrp === null ? sysError('tcgetpgrp', 'ENOTTY') : ok(this.foregroundPgrp);
  }

  ignoreSignal(sig: number): Result<void> {
    this.record('ignoreSignal', [sig]);
    const s = this.scripted<void>('ignoreSignal');
    if (s) return s;
    if (sig === SIG.KILL || sig === SIG.STOP) return sysError('ignoreSignal', 'EINVAL');
    this.ignored.add(sig);
    return ok(undefined);
  }

  unblockSignals(sigs: number[]): Result<void> {
    this.record('unblockSignals', [sigs]);
    const s = this.scripted<void>('unblockSignals');
    if (s) return s;
    for (const sig of sigs) this.unblocked.add(sig);
    return ok(undefined);
  }

  /** waitid(P_ALL, ...): like waitpid(-1), and with WNOWAIT the zombie stays to be reaped. */
  waitid(options: number): Result<WaitidInfo> {
    this.record('waitid', [options]);
    const s = this.scripted<WaitidInfo>('waitid');
    if (s) return s;
    if (this.unreaped === 0) return sysError('waitid', 'ECHILD');
    const zpid = this.zombies[0];
    if (zpid === undefined) {
      if (options & WNOHANG) return ok({ pid: 0, code: 0, status: 0 });
      throw new Error('fake: a blocking waitid would hang');
    }
    const p = this.processes.get(zpid)!;
    if (!(options & WNOWAIT)) {
      this.zombies.shift();
      this.markReaped(p);
    }
    const d = decodeWaitStatus(p.status!);
    if (d.kind === 'exited') return ok({ pid: zpid, code: CLD_EXITED, status: d.code });
    if (d.kind === 'signaled') return ok({ pid: zpid, code: d.core ? CLD_DUMPED : CLD_KILLED, status: d.signal });
    return ok({ pid: zpid, code: 0, status: d.raw });
  }

  raise(sig: number): Result<void> {
    this.record('raise', [sig]);
    const s = this.scripted<void>('raise');
    if (s) return s;
    const w = this.raiseWrites;
    const p = w && this.pipes.get(w.fd);
    if (p) p.bytes += w.bytes;
    return ok(undefined);
  }

  pipeBytes(fd: number): Result<number> {
    this.record('pipeBytes', [fd]);
    const s = this.scripted<number>('pipeBytes');
    if (s) return s;
    const p = this.pipes.get(fd);
    return p ? ok(p.bytes) : sysError('pipeBytes', 'EBADF');
  }

  setPipeSize(fd: number, bytes: number): Result<number> {
    this.record('setPipeSize', [fd, bytes]);
    const s = this.scripted<number>('setPipeSize');
    if (s) return s;
    const p = this.pipes.get(fd);
    if (!p) return sysError('setPipeSize', 'EBADF');
    if (bytes > this.pipeMax) return sysError('setPipeSize', 'EPERM');
    let size = 4096;
    while (size < bytes) size *= 2;
    p.capacity = size;
    return ok(size);
  }

  sigpendingLimit(): Result<number> {
    this.record('sigpendingLimit', []);
    return this.scripted<number>('sigpendingLimit') ?? ok(this.sigpending);
  }

  // --- internals -----------------------------------------------------------

  private record(name: LibcCall, args: unknown[]): void {
    this.calls.push({ name, args });
  }

  private queue(call: LibcCall, answer: Scripted): void {
    const q = this.queued.get(call) ?? [];
    q.push(answer);
    this.queued.set(call, q);
  }

  private scripted<T>(call: LibcCall): Result<T> | undefined {
    const answer = this.queued.get(call)?.shift() ?? this.forever.get(call);
    if (answer === undefined) return undefined;
    return typeof answer === 'string' ? sysError(call, answer) : (answer as Result<T>);
  }

  private markReaped(p: FakeProcess): void {
    p.state = 'reaped';
    this.unreaped--;
  }

  private deliver(p: FakeProcess, sig: number): void {
    if (p.state !== 'running') return; // a zombie takes signals and ignores them
    p.received.push(sig);
    const status = sig === SIG.KILL ? signaledStatus(SIG.KILL) : p.onSignal?.(sig);
    if (status !== undefined) this.exit(p.pid, status);
  }
}
