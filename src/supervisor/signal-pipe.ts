/**
 * Room for every queued signal in libuv's signal pipe.
 *
 * libuv's signal handler (on whichever of Node's threads the kernel picks)
 * writes one message per signal to a non-blocking pipe that the event loop
 * reads; when the pipe is full the message, and so the signal, is dropped.
 * A pipe holds 64 KiB, 4,096 messages: a burst of queued real-time signals
 * lost everything beyond that. The kernel itself queues up to
 * RLIMIT_SIGPENDING signals (and refuses more to the sender, with EAGAIN, who
 * then knows), so a pipe with room for that many messages loses none that
 * the kernel accepted in a burst.
 *
 * Why not take the signals with signalfd or sigtimedwait instead (as tini
 * does): that needs them blocked in every thread, and Node's two helper
 * threads start, with the signals unblocked, before any JavaScript runs; no
 * call can change another thread's mask. A signal reaching one of them would
 * still go through the pipe.
 *
 * The pipe is libuv's own, so it is found by what it does, not by where
 * libuv keeps it: with a temporary listener for SIGTTIN (a signal the init
 * ignores and never forwards, so neither the message nor the signal has any
 * other effect; the caller ignores it again afterwards), raise(SIGTTIN) runs
 * the handler on this thread, which writes one message to the pipe of the
 * main loop; the one pipe of this process whose content grew is it.
 */
import fs from 'node:fs';
import type { Libc, Result } from '../libc/types.js';
import type { Logger } from '../log/log.js';
import { withTemporaryListener } from './signal-source.js';
import { SIG } from '../libc/signals.js';
import { ok } from '../libc/types.js';

export interface SignalPipeDeps {
  libc: Libc;
  /** One descriptor of each pipe whose two ends are both open in this process (from /proc/self/fd). */
  ownPipes(): number[];
  /** Runs fn while a temporary listener for sig is started in the main event loop; false (fn not run) when that is impossible. */
  withListener(sig: number, fn: () => void): boolean;
  /** /proc/sys/fs/pipe-max-size, the most an unprivileged process may ask for. */
  pipeMaxSize(): number | undefined;
}

export type SignalPipe =
  | { ok: true; fd: number; messageBytes: number; capacity: number; limit: number }
  | { ok: false; reason: string };

/**
 * One message: libuv's uv__signal_msg_t, a handle pointer and the signal
 * number (64-bit). Not measured by the probe: a signal arriving meanwhile
 * (the child runs) adds its own message to the same pipe.
 */
export const MESSAGE_BYTES = 16;
/** A pipe's default capacity: what needs no change. */
export const DEFAULT_PIPE_BYTES = 65536;
/** Whatever the limit says, no more than this (a pipe's pages are taken only as it fills). */
export const MAX_PIPE_BYTES = 64 * 1024 * 1024;
/** The probe signal: ignored by the init and never forwarded, so its message has no effect. */
export const PROBE_SIGNAL = SIG.TTIN;

/**
 * The capacities to ask for, largest first: room for `limit` queued signals
 * plus one of each standard signal, as the kernel sizes pipes (a power of two
 * of pages); then the unprivileged maximum when that is smaller. Empty when
 * the default capacity already holds them.
 */
export function pipeSizesToTry(limit: number, messageBytes: number, pipeMax: number | undefined): number[] {
  const want = Math.min(MAX_PIPE_BYTES, (Math.min(limit, MAX_PIPE_BYTES) + 64) * messageBytes);
  if (want <= DEFAULT_PIPE_BYTES) return [];
  let size = 4096;
  while (size < want) size *= 2;
  const sizes = [size];
  if (pipeMax !== undefined && pipeMax > DEFAULT_PIPE_BYTES && pipeMax < size) sizes.push(pipeMax);
  return sizes;
}

/** The main loop's signal pipe, by raising the probe signal with a listener in place. */
export function findSignalPipe(deps: SignalPipeDeps): Result<number> | { ok: false; reason: string } {
  const { libc } = deps;
  if (!libc.raise || !libc.pipeBytes) return { ok: false, reason: 'no raise/ioctl binding' };
  const pipes = deps.ownPipes();
  const before = pipes.map((fd) => libc.pipeBytes!(fd));
  let raised: Result<void> | undefined;
  const listened = deps.withListener(PROBE_SIGNAL, () => {
    raised = libc.raise!(PROBE_SIGNAL);
  });
  if (!listened) return { ok: false, reason: 'no libuv signal handle to probe with' };
  if (raised && !raised.ok) return { ok: false, reason: `${raised.call} failed: ${raised.code}` };
  const grew: number[] = [];
  pipes.forEach((fd, i) => {
    const a = before[i];
    const b = libc.pipeBytes!(fd);
    if (a.ok && b.ok && b.value > a.value) grew.push(fd);
  });
  if (grew.length !== 1) return { ok: false, reason: `${grew.length} pipes changed when the probe signal was raised, not 1` };
  return ok(grew[0]);
}

/** Finds libuv's signal pipe and gives it room for RLIMIT_SIGPENDING messages. Never throws. */
export function enlargeSignalPipe(deps: SignalPipeDeps): SignalPipe {
  const { libc } = deps;
  if (!libc.setPipeSize || !libc.sigpendingLimit) return { ok: false, reason: 'no fcntl/getrlimit binding' };
  const limit = libc.sigpendingLimit();
  if (!limit.ok) return { ok: false, reason: `${limit.call} failed: ${limit.code}` };
  const messageBytes = MESSAGE_BYTES;
  if (pipeSizesToTry(limit.value, messageBytes, undefined).length === 0) return { ok: false, reason: `RLIMIT_SIGPENDING ${limit.value} fits the default pipe` };
  const found = findSignalPipe(deps);
  if (!found.ok) return { ok: false, reason: 'reason' in found ? found.reason : `${found.call} failed: ${found.code}` };
  const fd = found.value;
  let last = '';
  let pipeMax: number | undefined;
  const sizes = pipeSizesToTry(limit.value, messageBytes, undefined);
  for (let i = 0; i < sizes.length; i++) {
    const r = libc.setPipeSize(fd, sizes[i]);
    if (r.ok) return { ok: true, fd, messageBytes, capacity: r.value, limit: limit.value };
    last = `${r.call}(${sizes[i]}) failed: ${r.code}`;
    // EPERM: above pipe-max-size without CAP_SYS_RESOURCE; then the most allowed.
    if (r.code === 'EPERM' && pipeMax === undefined) {
      pipeMax = deps.pipeMaxSize() ?? 0;
      for (const s of pipeSizesToTry(limit.value, messageBytes, pipeMax).slice(1)) sizes.push(s);
    }
  }
  return { ok: false, reason: last };
}

/** One descriptor of each pipe whose two ends this process holds (synchronous calls only: no libuv thread pool). */
function ownPipes(): number[] {
  const byInode = new Map<string, number[]>();
  let names: string[];
  try {
    names = fs.readdirSync('/proc/self/fd');
  } catch {
    return [];
  }
  for (const name of names) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${name}`);
      if (!target.startsWith('pipe:')) continue;
      const fds = byInode.get(target) ?? [];
      fds.push(Number(name));
      byInode.set(target, fds);
    } catch {
      // closed meanwhile (the directory's own descriptor)
    }
  }
  return [...byInode.values()].filter((fds) => fds.length >= 2).map((fds) => fds[0]);
}

/** The probe on the real process: its pipes in /proc/self/fd, a real listener, the system's pipe-max-size. */
export const signalPipeProbe: Omit<SignalPipeDeps, 'libc'> = {
  ownPipes,
  withListener: withTemporaryListener,
  pipeMaxSize() {
    try {
      const n = Number(fs.readFileSync('/proc/sys/fs/pipe-max-size', 'latin1').trim());
      return Number.isSafeInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  },
};

/**
 * Room in libuv's signal pipe for every signal the kernel may queue (see
 * signal-pipe.ts). The probe listens to SIGTTIN for a moment, and closing
 * that listener leaves SIGTTIN at its default action: ignore it again.
 * Never throws, never exits: the child runs.
 */
export function sizeSignalPipe(libc: Libc, logger: Logger, probe: Omit<SignalPipeDeps, 'libc'>): void {
  let ignored = false;
  const ignoreTtin = () => {
    if (ignored) return;
    ignored = true;
    const r = libc.ignoreSignal(SIG.TTIN);
    if (!r.ok) logger.log('warn', `${r.call}(SIGTTIN) failed: ${r.code}`);
  };
  try {
    const p = enlargeSignalPipe({
      libc,
      ...probe,
      // Ignored again as soon as the listener is closed: SIGTTIN's default action would stop the init.
      withListener: (sig, fn) => {
        try {
          return probe.withListener(sig, fn);
        } finally {
          ignoreTtin();
        }
      },
    });
    if (p.ok) logger.log('trace', `Signal pipe (fd ${p.fd}) holds ${p.capacity / p.messageBytes} signals (RLIMIT_SIGPENDING ${p.limit})`);
    else logger.log('debug', `Signal pipe left at its default size: ${p.reason}`);
  } catch (e) {
    logger.log('debug', `Signal pipe left at its default size: ${(e as Error)?.message ?? e}`);
  }
  ignoreTtin();
}
