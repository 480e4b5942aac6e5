/**
 * The launcher's side of a running init (src/container/link.ts), over a real
 * socket pair: the init's messages reach the handler of the moment, in
 * order, even several in one read (createContainer's `ready` handler hands
 * over to start()'s, which must get the `spawned` that follows in the same
 * read); the end comes once, when the init is both reaped and done writing.
 */
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { InitLink } from '../../src/container/link.js';
import { SOCK_CLOEXEC } from '../../src/libc/consts.js';
import { createNsLibc } from '../../src/libc/ns.js';
import type { Libc, WaitStatus } from '../../src/libc/types.js';
import { encodeFrame } from '../../src/runtime/channel.js';
import type { InitMessage } from '../../src/runtime/init-protocol.js';

const INIT = 4242;
const ns = createNsLibc();

/** waitpid as the kernel would answer it: the children that ended, then 0 (WNOHANG). */
function reaper(): { libc: Libc; ended(pid: number, status: WaitStatus): void } {
  const queue: [number, WaitStatus][] = [];
  const libc = { waitpid: () => ({ ok: true, value: queue.shift() ?? [0, 0] }) } as unknown as Libc;
  return { libc, ended: (pid, status) => queue.push([pid, status]) };
}

const until = async (cond: () => boolean): Promise<boolean> => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  return cond();
};

const open: number[] = [];
function channel(): { launcher: number; init: number } {
  const p = ns.socketpair(SOCK_CLOEXEC);
  if (!p.ok) throw new Error(p.code);
  open.push(p.value[1]);
  return { launcher: p.value[0], init: p.value[1] };
}
afterEach(() => {
  for (const fd of open.splice(0)) ns.close(fd);
});

const ready: InitMessage = { kind: 'ready', initTasks: 1 };
const spawned: InitMessage = { kind: 'spawned' };
const status: InitMessage = { kind: 'status', status: 3 << 8, exitCode: 3 };

describe('InitLink', () => {
  it('hands each message, in order, to the handler of the moment: one installed by a handler gets the rest of the same read', async () => {
    const { launcher, init } = channel();
    const link = new InitLink(reaper().libc, ns);
    const creating: string[] = [];
    const running: string[] = [];
    link.onMessage = (m) => {
      creating.push(m.kind);
      if (m.kind === 'ready') link.onMessage = (n) => running.push(n.kind);
    };
    // Written before the read starts: the three frames come in one read.
    fs.writeSync(init, Buffer.concat([ready, spawned, status].map((m) => encodeFrame(m))));
    link.attach(INIT, launcher);
    expect(await until(() => running.length === 2)).toBe(true);
    expect(creating).toEqual(['ready']);
    expect(running).toEqual(['spawned', 'status']);
    expect(link.last('status')).toEqual(status);
    link.detach();
  });

  it('ends once, with the wait status, when the init is reaped and its channel closed, in either order; another child reaped is not the init', async () => {
    for (const reapedFirst of [true, false]) {
      const { launcher, init } = channel();
      const { libc, ended } = reaper();
      const link = new InitLink(libc, ns);
      const ends: WaitStatus[] = [];
      link.onEnd = (s) => ends.push(s);
      link.attach(INIT, launcher);
      fs.writeSync(init, encodeFrame(status));
      ended(INIT + 1, 0); // an orphan of the workload (--share pid)
      link.reap();
      expect(link.reaped).toBe(false);
      if (reapedFirst) {
        ended(INIT, 3 << 8);
        link.reap();
        expect(link.reaped).toBe(true);
        expect(ends).toEqual([]); // its messages may still be in the channel
        ns.close(open.pop()!);
      } else {
        ns.close(open.pop()!);
        expect(await until(() => link.messages.length === 1)).toBe(true);
        await new Promise((r) => setTimeout(r, 20));
        expect(ends).toEqual([]); // not reaped yet
        ended(INIT, 3 << 8);
        link.reap();
      }
      expect(await until(() => ends.length > 0), `reaped first: ${reapedFirst}`).toBe(true);
      link.reap();
      expect(ends).toEqual([3 << 8]);
      expect(link.messages).toEqual([status]);
    }
  });
});
