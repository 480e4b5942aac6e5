/**
 * The init's status channel: a socket pair written with send(MSG_NOSIGNAL),
 * so that once the init listens to SIGPIPE (it forwards it), a write to a
 * launcher that is gone fails with EPIPE and raises no SIGPIPE of its own
 * making; a pipe written with write(2) would.
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { O, SOCK_CLOEXEC, SOCK_NONBLOCK } from '../../src/libc/consts.js';
import { createNsLibc } from '../../src/libc/ns.js';
import { createTerminalLibc } from '../../src/libc/terminal.js';
import { FrameReader, decodeBytes, encodeBytes, encodeFrame, readFrameSync } from '../../src/runtime/channel.js';
import { sendMessage } from '../../src/runtime/ns-init.js';

const tick = () => new Promise((r) => setTimeout(r, 50));

describe('the status channel', () => {
  it('carries the messages to the launcher, framed', () => {
    const ns = createNsLibc();
    const p = ns.socketpair(SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (!p.ok) throw new Error(p.code);
    const [r, w] = p.value;
    expect(sendMessage(w, { kind: 'ready', initTasks: 3 }, ns)).toBe(true);
    expect(sendMessage(w, { kind: 'status', status: 0 }, null)).toBe(true); // before the C library: write(2)
    const buf = Buffer.alloc(4096);
    const n = fs.readSync(r, buf);
    expect(new FrameReader().push(buf.subarray(0, n))).toEqual([{ kind: 'ready', initTasks: 3 }, { kind: 'status', status: 0 }]);
    ns.close(r);
    ns.close(w);
  });

  it('a reader takes exactly one frame and leaves the next in the socket (the two init stages)', () => {
    const ns = createNsLibc();
    const p = ns.socketpair(SOCK_CLOEXEC);
    if (!p.ok) throw new Error(p.code);
    const [a, b] = p.value;
    const big = 'x'.repeat(100_000);
    fs.writeSync(a, Buffer.concat([encodeFrame({ kind: 'setup', n: 1 }), encodeFrame({ kind: 'process', big })]));
    expect(readFrameSync(b)).toEqual({ kind: 'setup', n: 1 });
    expect(readFrameSync(b)).toEqual({ kind: 'process', big });
    ns.close(a);
    expect(readFrameSync(b)).toBeNull(); // end of stream
    ns.close(b);
  });

  it('a descriptor between two frames (the network namespace after the set-up plan) reaches the reader, and nothing else does', () => {
    const ns = createNsLibc();
    const tl = createTerminalLibc();
    const p = ns.socketpair(SOCK_CLOEXEC);
    if (!p.ok) throw new Error(p.code);
    const [a, b] = p.value;
    const passed = fs.openSync('/proc/self/ns/net', 'r');
    fs.writeSync(a, encodeFrame({ kind: 'setup', n: 1 }));
    expect(tl.sendFd(a, passed, 'n').ok).toBe(true);
    fs.writeSync(a, encodeFrame({ kind: 'process', n: 2 }));
    expect(readFrameSync(b)).toEqual({ kind: 'setup', n: 1 });
    const got = tl.recvFd(b);
    if (!got.ok) throw new Error(got.code);
    expect(got.value).not.toBe(passed);
    const [x, y] = [fs.fstatSync(got.value), fs.fstatSync(passed)];
    expect([x.dev, x.ino]).toEqual([y.dev, y.ino]);
    expect(fs.readlinkSync(`/proc/self/fd/${got.value}`)).toBe(fs.readlinkSync('/proc/self/ns/net'));
    const flags = /^flags:\s+([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${got.value}`, 'utf8'))![1];
    expect(parseInt(flags, 8) & 0o2000000).not.toBe(0); // close-on-exec
    expect(readFrameSync(b)).toEqual({ kind: 'process', n: 2 });
    // A byte without a descriptor, then the end of the stream.
    fs.writeSync(a, 'n');
    expect(tl.recvFd(b)).toMatchObject({ ok: false, code: 'EBADMSG' });
    ns.close(a);
    expect(tl.recvFd(b)).toMatchObject({ ok: false, code: 'ENODATA' });
    for (const fd of [b, passed, got.value]) ns.close(fd);
  });

  it('frames survive any split, and bytes that are not UTF-8 pass through base64', () => {
    const bytes = [Buffer.from([0xff, 0x00, 0xfe]), Buffer.from('é')];
    const data = Buffer.concat([encodeFrame({ argv: encodeBytes(bytes) }), encodeFrame({ kind: 'status', status: 256 })]);
    for (let cut = 0; cut <= data.length; cut++) {
      const reader = new FrameReader();
      const got = [...reader.push(data.subarray(0, cut)), ...reader.push(data.subarray(cut))];
      expect(got).toHaveLength(2);
      expect(decodeBytes((got[0] as { argv: string[] }).argv)).toEqual(bytes);
      expect(reader.pending).toBe(0);
    }
  });

  it('a torn or foreign frame ends the stream', () => {
    const torn = new FrameReader();
    expect(torn.push(encodeFrame({ kind: 'status', status: 0 }).subarray(0, 7))).toEqual([]);
    expect(torn.pending).toBe(7);
    const foreign = new FrameReader();
    expect(foreign.push(Buffer.from('{"kind":"status"}\n'))).toEqual([]);
    expect(foreign.broken).toMatch(/bytes|JSON/);
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
      expect(sendMessage(w, { kind: 'status', status: 0 }, ns)).toBe(false);
      await tick();
      expect(sigpipes).toBe(0);
      ns.close(w);
      // the control: the same write on a pipe does raise one
      const q = ns.pipe(O.CLOEXEC);
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
