/**
 * The init's status channel: a socket pair written with send(MSG_NOSIGNAL),
 * so that once the init listens to SIGPIPE (it forwards it), a write to a
 * launcher that is gone fails with EPIPE and raises no SIGPIPE of its own
 * making; a pipe written with write(2) would.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { O_CLOEXEC, SOCK_CLOEXEC, SOCK_NONBLOCK, createNsLibc } from '../../src/libc/ns.js';
import { parseInitMessages } from '../../src/runtime/init-protocol.js';
import { writeStatus } from '../../src/runtime/ns-init.js';

const tick = () => new Promise((r) => setTimeout(r, 50));

describe('the status channel', () => {
  it('carries the lines to the launcher', () => {
    const ns = createNsLibc();
    const p = ns.socketpair(SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (!p.ok) throw new Error(p.code);
    const [r, w] = p.value;
    expect(writeStatus(w, JSON.stringify({ kind: 'ready', initTasks: 3 }) + '\n', ns)).toBe(true);
    expect(writeStatus(w, JSON.stringify({ kind: 'status', status: 0 }) + '\n', null)).toBe(true); // before the C library: write(2)
    const buf = Buffer.alloc(4096);
    const n = fs.readSync(r, buf);
    expect(parseInitMessages(buf.subarray(0, n).toString())).toEqual([{ kind: 'ready', initTasks: 3 }, { kind: 'status', status: 0 }]);
    ns.close(r);
    ns.close(w);
  });

  it('a launcher that is gone: false, and no SIGPIPE while SIGPIPE is listened to', async () => {
    const ns = createNsLibc();
    let sigpipes = 0;
    const onPipe = () => sigpipes++;
    process.on('SIGPIPE', onPipe);
    try {
      const p = ns.socketpair(SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (!p.ok) throw new Error(p.code);
      const [r, w] = p.value;
      ns.close(r);
      expect(writeStatus(w, '{"kind":"status","status":0}\n', ns)).toBe(false);
      await tick();
      expect(sigpipes).toBe(0);
      ns.close(w);
      // the control: the same write on a pipe does raise one
      const q = ns.pipe(O_CLOEXEC);
      if (!q.ok) throw new Error(q.code);
      ns.close(q.value[0]);
      expect(() => fs.writeSync(q.value[1], 'x')).toThrow(/EPIPE/);
      await tick();
      expect(sigpipes).toBe(1);
      ns.close(q.value[1]);
    } finally {
      process.off('SIGPIPE', onPipe);
    }
  });
});
