/**
 * The system-call surface the init needs, as a typed interface. The real
 * implementation (`libc.ts`) goes through koffi; unit tests use a fake with
 * the same shape, so every error path can be driven without a kernel.
 *
 * Every call returns a Result: either its value, or the errno it failed with
 * (the number and its name) and the name of the call.
 */
import type { ErrnoName } from './errno.js';

export type SysError = { ok: false; call: string; errno: number; code: ErrnoName };
export type Ok<T> = { ok: true; value: T };
export type Result<T> = Ok<T> | SysError;

export const ok = <T>(value: T): Ok<T> => ({ ok: true, value });

/** A raw wait status, as waitpid(2) fills it in. */
export type WaitStatus = number;

export interface SpawnRequest {
  /** argv as NUL-free byte strings; argv[0] is looked up in PATH like execvp. */
  argv: Buffer[];
  /** Put the child in a new process group of its own (pgid = pid). */
  newProcessGroup: boolean;
  /** Make the child's group the foreground group of the terminal on fd 0. */
  foregroundTty: boolean;
  /**
   * Descriptors the child gets as they are (CLOEXEC cleared): 0, 1, 2 and
   * possibly a contiguous run from 3 (socket activation). Every descriptor
   * above the highest one listed is closed in the child.
   */
  passFds: number[];
  /**
   * The program to execute, when it is not argv[0] looked up along PATH: a
   * name with a '/' is executed as it is (relative to `cwd`), no PATH search.
   */
  file?: string;
  /** The child's working directory (posix_spawn_file_actions_addchdir_np); default: the init's. */
  cwd?: string;
  /** The child's environment as NAME=VALUE byte strings; default: the init's own `environ`, byte for byte. */
  env?: Buffer[];
  /**
   * A pipe's read end (its write end closed): the child first opens it for
   * reading through /proc/self/fd and waits there, before exec, until the
   * parent opens it for writing (see spawnAsync).
   */
  gate?: number;
  /**
   * dup2(from, to) in the child after passFds (e.g. the --pre-stop command's
   * stdout and stderr to a memfd); `from` is closed with the rest above
   * the highest of passFds.
   */
  redirect?: { from: number; to: number }[];
  /**
   * Run the child as this user (--user): set as the calling thread's real
   * ids and groups just for the spawn, which POSIX_SPAWN_RESETIDS turns
   * into the child's effective ids (and exec into its saved ones); the
   * thread's own are restored right after. Needs root.
   */
  credentials?: { uid: number; gid: number; groups: number[] };
  /**
   * A terminal's path (a pty slave): the child starts a session of its own
   * (POSIX_SPAWN_SETSID, so no process group of its own is asked for) and
   * opens it as fd 0 without O_NOCTTY, which makes it the session's
   * controlling terminal with the child's group in the foreground; 1 and 2
   * are duplicated from 0. `passFds` 0, 1 and 2 are then not passed.
   */
  terminal?: string;
  /** Descriptors to become the child's 0, 1 and 2 (dup2 before passFds); default: its own 0, 1, 2. */
  stdio?: [number, number, number];
}

export interface Libc {
  getpid(): number;
  getpgrp(): number;
  /** posix_spawnp with an empty signal mask and default dispositions for every signal. */
  spawn(req: SpawnRequest): Result<number>;
  /** spawn from a libuv pool thread (the calling thread is not held while a gated child waits); `tini-ts run` only. */
  spawnAsync?(req: SpawnRequest & { env: Buffer[] }, done: (r: Result<number>) => void): void;
  kill(pid: number, sig: number): Result<void>;
  /** waitpid(pid, &status, options): value is [pid, status]; pid 0 means nothing to reap (WNOHANG). */
  waitpid(pid: number, options: number): Result<[number, WaitStatus]>;
  setChildSubreaper(): Result<void>;
  isChildSubreaper(): Result<boolean>;
  setParentDeathSignal(sig: number): Result<void>;
  setProcessName(name: string): Result<void>;
  /** tcgetpgrp(fd): the terminal's foreground process group. */
  tcgetpgrp(fd: number): Result<number>;
  /** signal(sig, SIG_IGN) */
  ignoreSignal(sig: number): Result<void>;
  /** pthread_sigmask(SIG_UNBLOCK, sigs) on the calling (main) thread. */
  unblockSignals(sigs: number[]): Result<void>;
  /**
   * _exit(2): ends the process at once, without Node's exit work (which would
   * write NODE_V8_COVERAGE files or the compile cache meant for the child).
   */
  exitNow?(code: number): never;
  /**
   * waitid(P_ALL, 0, &info, options): value is the siginfo's pid (0: nothing
   * waitable with WNOHANG), si_code and si_status. Optional: used to peek
   * (WNOWAIT) at the next child to reap when the event stream is on.
   */
  waitid?(options: number): Result<WaitidInfo>;
  /**
   * send(fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL): a non-blocking write to
   * a socket that never raises SIGPIPE, leaving the socket's file status
   * flags alone. Optional: the event stream's writer for sockets.
   */
  sendNonBlocking?(fd: number, data: Buffer): Result<number>;
  /** raise(sig): the signal to the calling thread (its handler has run when this returns). */
  raise?(sig: number): Result<void>;
  /** memfd_create(name, MFD_CLOEXEC): an anonymous file in memory (the --pre-stop command's output). */
  memfd?(name: string): Result<number>;
  /** ioctl(fd, FIONREAD): the bytes waiting in a pipe (either end). */
  pipeBytes?(fd: number): Result<number>;
  /** fcntl(fd, F_SETPIPE_SZ, bytes): the pipe's capacity as the kernel set it (rounded up). */
  setPipeSize?(fd: number, bytes: number): Result<number>;
  /** getrlimit(RLIMIT_SIGPENDING): the soft limit of queued signals (Infinity when unlimited). */
  sigpendingLimit?(): Result<number>;
}

export interface WaitidInfo {
  pid: number;
  /** CLD_EXITED 1, CLD_KILLED 2, CLD_DUMPED 3, ... */
  code: number;
  /** The exit code, or the signal number. */
  status: number;
}

/** waitpid(2)/waitid(2) options and si_code values, beside the calls that take them. */
export { CLD_DUMPED, CLD_EXITED, CLD_KILLED, WEXITED, WNOHANG, WNOWAIT } from './consts.js';

/** WIFEXITED / WEXITSTATUS / WIFSIGNALED / WTERMSIG / WCOREDUMP, as in <sys/wait.h>. */
export function decodeWaitStatus(status: WaitStatus):
  | { kind: 'exited'; code: number }
  | { kind: 'signaled'; signal: number; core: boolean }
  | { kind: 'other'; raw: number } {
  const low = status & 0x7f;
  if (low === 0) return { kind: 'exited', code: (status >> 8) & 0xff };
  if (low !== 0x7f) return { kind: 'signaled', signal: low, core: (status & 0x80) !== 0 };
  return { kind: 'other', raw: status };
}

/** Build a raw status, for tests and fakes. */
export const exitedStatus = (code: number): WaitStatus => (code & 0xff) << 8;
export const signaledStatus = (sig: number, core = false): WaitStatus => (sig & 0x7f) | (core ? 0x80 : 0);
