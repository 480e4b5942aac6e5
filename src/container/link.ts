/**
 * The launcher's side of a running init: the channel (frames read in the
 * event loop, in order, each handed to whoever handles this phase: creation,
 * then supervision), the reaping of its children on SIGCHLD, and the signals
 * the launcher receives (kept until a phase forwards them). The init has
 * ended once both its status is reaped and the channel is closed: every
 * message is in by then (it held the only other end).
 */
import fs from 'node:fs';
import type { NsLibc } from '../libc/ns.js';
import { createTerminalLibc } from '../libc/terminal.js';
import { SIG, forwardableSignals } from '../libc/signals.js';
import { WNOHANG, type Libc, type WaitStatus } from '../libc/types.js';
import { listenToSignals } from '../supervisor/signal-source.js';
import { FrameReader, encodeFrame } from '../runtime/channel.js';
import { takeOverSignals } from './early.js';
import type { InitMessage, LauncherMessage } from '../runtime/init-protocol.js';

export class InitLink {
  readonly messages: InitMessage[] = [];
  /** Signals received before a phase forwards them, in order. */
  readonly early: number[] = [];
  /** The current phase's handler of each message (after it is recorded). */
  onMessage: (m: InitMessage) => void = () => {};
  /** The current phase's handler of a received signal (SIGCHLD excepted): kept for later by default. */
  onSignal: (sig: number) => void = (sig) => this.early.push(sig);
  /** Called once, when the init has ended and every message is in. */
  onEnd: (status: WaitStatus) => void = () => {};
  initPid = 0;
  private channel = -1;
  private channelOpen = false;
  private status: WaitStatus | null = null;
  private ended = false;
  private keepAlive: NodeJS.Timeout | undefined;

  constructor(
    private readonly libc: Libc,
    private readonly ns: NsLibc,
  ) {}

  /** Listens before the init exists: a signal that arrives during set-up is kept and passed on once the init runs. */
  listen(): void {
    const on = (sig: number) => {
      if (this.ended) return;
      if (sig === SIG.CHLD) this.reap();
      else this.onSignal(sig);
    };
    // The binary's early spawn listened already (and kept what came meanwhile).
    if (takeOverSignals(on)) return;
    listenToSignals([...forwardableSignals(), SIG.CHLD], on);
    this.libc.unblockSignals([...forwardableSignals(), SIG.CHLD]);
  }

  /** The init runs: read its channel from now on. */
  attach(initPid: number, channel: number): void {
    this.initPid = initPid;
    this.channel = channel;
    this.channelOpen = true;
    this.keepAlive = setInterval(() => {}, 2 ** 30);
    onePoolThread(() => this.read());
  }

  /** Blocking send of a whole frame (the init reads at once, or finds it waiting); false if the init is gone. */
  send(m: LauncherMessage): boolean {
    const data = encodeFrame(m);
    for (let off = 0; off < data.length; ) {
      const r = this.ns.sendNoSignal(this.channel, data.subarray(off));
      if (!r.ok) {
        if (r.code === 'EINTR') continue;
        return false;
      }
      off += r.value;
    }
    return true;
  }

  /** FD passed to the init (one SCM_RIGHTS message of one byte); false if the init is gone. */
  sendFd(fd: number): boolean {
    return createTerminalLibc().sendFd(this.channel, fd, 'n').ok;
  }

  /** The init's wait status is in (its pid may be another process's from now on). */
  get reaped(): boolean {
    return this.status !== null;
  }

  last<K extends InitMessage['kind']>(kind: K): Extract<InitMessage, { kind: K }> | undefined {
    return this.messages.findLast((m) => m.kind === kind) as Extract<InitMessage, { kind: K }> | undefined;
  }

  /** Nothing more is handled (the container is being destroyed or handed over). */
  detach(): void {
    this.ended = true;
    clearInterval(this.keepAlive);
  }

  /** Reaps every child that ended (orphans too, with --share pid): the init's status is kept. */
  reap(): void {
    for (;;) {
      const r = this.libc.waitpid(-1, WNOHANG);
      if (!r.ok) {
        if (r.code === 'EINTR') continue;
        return;
      }
      const [pid, status] = r.value;
      if (pid === 0) return;
      if (pid === this.initPid && this.status === null) {
        this.status = status;
        if (!this.channelOpen) this.end();
      }
    }
  }

  private read(): void {
    const buf = Buffer.alloc(65536);
    const reader = new FrameReader();
    const next = () =>
      fs.read(this.channel, buf, 0, buf.length, null, (e, n) => {
        if (e || n === 0) {
          this.channelOpen = false;
          this.ns.close(this.channel);
          if (this.status !== null) this.end();
          return;
        }
        for (const m of reader.push(buf.subarray(0, n))) {
          if (this.ended) return;
          this.messages.push(m as InitMessage);
          this.onMessage(m as InitMessage);
        }
        next();
      });
    next();
  }

  private end(): void {
    if (this.ended) return;
    this.detach();
    this.onEnd(this.status!);
  }
}

/**
 * Runs START, which makes the launcher's first use of libuv's thread pool,
 * with a pool of one thread unless the user sized it. The blocking read of
 * the channel is the launcher's only use of the pool: libuv's default four
 * threads are made while the init starts up (competing with it for the CPU)
 * and must all be killed at the exit. libuv reads the variable when the first
 * request starts the pool, so it is set for that moment only: nothing the
 * launcher starts later (OCI hooks with the runtime's environment) inherits it.
 */
function onePoolThread(start: () => void): void {
  if (process.env.UV_THREADPOOL_SIZE !== undefined) return start();
  process.env.UV_THREADPOOL_SIZE = '1';
  try {
    start();
  } finally {
    delete process.env.UV_THREADPOOL_SIZE;
  }
}
