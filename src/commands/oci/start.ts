/** `start ID`: opens the start FIFO; the init, waiting on it, spawns the workload. */
import fs from 'node:fs';
import type { OciCommand } from '../../cli/oci-args.js';
import { procStartTime } from '../../container/store.js';
import { createLibc } from '../../libc/libc.js';
import { createNsLibc } from '../../libc/ns.js';
import { runHooks } from '../../runtime/oci/hooks.js';
import { signal } from './kill.js';
import { hookState, type OciContext } from './context.js';
import { loadContainer } from './load.js';

const WAIT_MS = 10_000;

export function start(cmd: Extract<OciCommand, { verb: 'start' }>, ctx: OciContext): void {
  const { rec, status } = loadContainer(cmd.id, ctx);
  if (status === 'stopped') ctx.fail('cannot start a container that has stopped');
  if (status !== 'created') ctx.fail(`cannot start an already ${status === 'paused' ? 'paused' : 'running'} container`);
  const fifo = ctx.store.fifo(cmd.id);
  let fd: number;
  try {
    // Non-blocking: an init that died meanwhile must not hang `start`.
    fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    return ctx.fail(`cannot open the start gate: ${(e as NodeJS.ErrnoException).code}`);
  }
  const buf = Buffer.alloc(1);
  const deadline = Date.now() + WAIT_MS;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const read = (): number => {
    try {
      return fs.readSync(fd, buf, 0, 1, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
      return ctx.fail(`reading the start gate: ${(e as NodeJS.ErrnoException).code}`);
    }
  };
  const outcome = waitAtGate(read, () => procStartTime(rec.pid) !== null, () => Date.now() > deadline, () => Atomics.wait(nap, 0, 0, 1));
  if (outcome === 'dead') ctx.fail('container process is already dead');
  if (outcome === 'timeout') ctx.fail(`the container's init did not take the start within ${WAIT_MS / 1000}s`);
  fs.closeSync(fd);
  fs.rmSync(fifo, { force: true });
  // poststart: in the runtime's namespaces once the workload is started; a failure kills the container and fails start, as runc.
  // (The C library is loaded only for hooks: most containers have none.)
  const ran = rec.hooks?.poststart?.length ? runHooks(createLibc(), createNsLibc(), 'poststart', rec.hooks.poststart, hookState(rec, 'running')) : null;
  if (ran && !ran.ok) {
    signal(rec.pid, 9);
    ctx.fail(ran.error);
  }
  ctx.log('debug', `started ${cmd.id}`);
  ctx.exit(0);
}

/**
 * Waits for the init to take the start: its byte in the FIFO (READ returns
 * how many bytes it read, 0 while there is none). An init found gone may have
 * taken the start, run its workload and ended since the last read (a short
 * workload on a busy machine): its byte is still in the FIFO, which this
 * process holds open, so the gate is read once more before calling it dead.
 */
export function waitAtGate(read: () => number, alive: () => boolean, timedOut: () => boolean, nap: () => void): 'taken' | 'dead' | 'timeout' {
  for (;;) {
    if (read() === 1) return 'taken';
    if (!alive()) return read() === 1 ? 'taken' : 'dead';
    if (timedOut()) return 'timeout';
    nap();
  }
}
