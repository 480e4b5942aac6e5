import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createEventSink, MAX_LINE_BYTES, type LineWriter } from '../../src/events/sink.js';
import { openEventDest, parseEventDest } from '../../src/events/destination.js';
import { validate } from '../../src/events/validate.js';
import { exitedStatus, signaledStatus } from '../../src/libc/types.js';
const schema = JSON.parse(fs.readFileSync(new URL('../../src/events/events.schema.json', import.meta.url), 'utf8'));

const S = schema as Record<string, unknown>;

function memoryWriter(): LineWriter & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    write(line) {
      lines.push(line.toString());
      return line.length;
    },
    close() {},
  };
}

function parseAll(lines: string[]): Record<string, unknown>[] {
  return lines.map((l) => {
    expect(l.endsWith('\n')).toBe(true);
    expect(Buffer.byteLength(l)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    const e = JSON.parse(l);
    expect(validate(S, e)).toEqual([]);
    return e;
  });
}

describe('event sink', () => {
  it('writes every event type as one schema-valid line', () => {
    const w = memoryWriter();
    const sink = createEventSink(w, { monoNs: () => 123456789012345678n, wallMs: () => 0 });
    sink.start({ pid: 1, pid1: true, subreaper: false, version: '0.1.0', options: { grace_ms: 1000, expected_codes: [143], verbosity: 1, warn_on_reap: false, parent_death_signal: null, subreaper: false } });
    sink.spawn(8, 8, [Buffer.from('sh'), Buffer.from('-c'), Buffer.from('exit 3')], true);
    sink.signal(15, 'forward');
    sink.forward(15, 'group', 8, 'ok');
    sink.forward(15, 'pid', 8, 'ESRCH');
    sink.grace(15, 1000, () => 1000);
    sink.reap(9, exitedStatus(0), false, 'sleep');
    sink.reap(8, signaledStatus(11, true), true, null);
    sink.escalate('group', 8, 'ok', true);
    sink.signal(13, 'suppressed');
    sink.exit(139, 'child-signaled');
    sink.flush();
    const ev = parseAll(w.lines);
    expect(ev.map((e) => e.event)).toEqual(['start', 'spawn', 'signal', 'forward', 'forward', 'grace', 'reap', 'reap', 'escalate', 'signal', 'exit']);
    expect(ev.map((e) => e.seq)).toEqual(ev.map((_, i) => i));
    // mono_ns is written exactly, as an integer.
    expect(w.lines[0]).toContain('"mono_ns":123456789012345678,');
    expect(w.lines[5]).toContain('"deadline_mono_ns":123456790012345678');
    expect(ev[0].time).toBe('1970-01-01T00:00:00.000Z');
    expect(ev[1]).toMatchObject({ pid: 8, pgid: 8, argv: ['sh', '-c', 'exit 3'], foreground_tty: true });
    expect(ev[2]).toMatchObject({ signo: 15, name: 'SIGTERM', sender_pid: null, sender_uid: null, handling: 'forward' });
    expect(ev[4]).toMatchObject({ target: 'pid', id: 8, result: 'ESRCH' });
    expect(ev[6]).toMatchObject({ pid: 9, main: false, comm: 'sleep', exit_code: 0, signo: null, core_dumped: false });
    expect(ev[7]).toMatchObject({ pid: 8, main: true, exit_code: null, signo: 11, signal_name: 'SIGSEGV', core_dumped: true });
    expect(ev[10]).toMatchObject({ code: 139, reason: 'child-signaled', errno: null, dropped: 0 });
  });

  it('with deferMs, writes nothing on the signal path: lines come later, in order, with the times they were taken', async () => {
    const w = memoryWriter();
    let t = 1000n;
    const sink = createEventSink(w, { monoNs: () => t++, wallMs: () => 0, deferMs: 1 });
    sink.signal(10, 'forward');
    sink.forward(10, 'group', 8, 'ok');
    sink.flush();
    sink.reap(9, exitedStatus(0), false, 'sleep');
    expect(w.lines).toEqual([]);
    await new Promise((r) => setTimeout(r, 20));
    const ev = parseAll(w.lines);
    expect(ev.map((e) => [e.event, e.seq, e.mono_ns])).toEqual([['signal', 0, 1000], ['forward', 1, 1001], ['reap', 2, 1002]]);
    sink.forward(12, 'group', 8, 'ok');
    sink.exit(0, 'child-exited');
    // exit drains at once: the process ends right after
    expect(parseAll(w.lines).map((e) => e.event)).toEqual(['signal', 'forward', 'reap', 'forward', 'exit']);
  });

  it("a deadline is this clock read first, plus the time left on the caller's read after it: never later than the caller's timer", () => {
    const w = memoryWriter();
    const order: string[] = [];
    let mono = 5_000_000n;
    const sink = createEventSink(w, { monoNs: () => (order.push('mono'), (mono += 1_000n)), wallMs: () => 0 });
    sink.grace(15, 1000, () => (order.push('left'), 2));
    sink.stopDelay(15, 15, 500, () => (order.push('left'), 0.5));
    sink.flush();
    const [grace, delay] = parseAll(w.lines);
    expect(order.slice(0, 2)).toEqual(['mono', 'left']);
    expect(BigInt(grace.deadline_mono_ns as string | number)).toBe(5_001_000n + 2_000_000n);
    expect(BigInt(delay.until_mono_ns as string | number)).toBe(5_003_000n + 500_000n);
  });

  it('keeps a huge argv under 4096 bytes and marks it truncated', () => {
    const w = memoryWriter();
    const sink = createEventSink(w);
    sink.spawn(8, 8, Array.from({ length: 200 }, () => Buffer.from('x'.repeat(500))), false);
    const [e] = parseAll(w.lines);
    expect(e).toMatchObject({ truncated: true, argc: 200 });
  });

  it('counts EAGAIN as dropped and goes on', () => {
    let full = true;
    const lines: string[] = [];
    const w: LineWriter = {
      write(line) {
        if (full) throw Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' });
        lines.push(line.toString());
        return line.length;
      },
      close() {},
    };
    const sink = createEventSink(w);
    sink.signal(10, 'forward');
    sink.signal(10, 'forward');
    sink.flush();
    full = false;
    sink.exit(0, 'child-exited');
    const [e] = parseAll(lines);
    expect(e).toMatchObject({ event: 'exit', dropped: 2, seq: 2 });
    expect(sink.takeSelfSigpipe()).toBe(false);
  });

  it('stops at EPIPE and owns up to the SIGPIPE it raised, once', () => {
    let closed = 0;
    const w: LineWriter = {
      write() {
        throw Object.assign(new Error('EPIPE'), { code: 'EPIPE' });
      },
      close() {
        closed++;
      },
    };
    let now = 0;
    const sink = createEventSink(w, { nowMs: () => now });
    sink.signal(10, 'forward');
    sink.signal(10, 'forward');
    sink.flush();
    expect(closed).toBe(1);
    expect(sink.dropped).toBe(2);
    expect(sink.takeSelfSigpipe()).toBe(true);
    expect(sink.takeSelfSigpipe()).toBe(false);
    // A SIGPIPE long after the EPIPE is somebody else's.
    const sink2 = createEventSink(w, { nowMs: () => now });
    sink2.signal(10, 'forward');
    sink2.flush();
    now = 10_000;
    expect(sink2.takeSelfSigpipe()).toBe(false);
  });

  it('reads comm and lists what is left below the init', () => {
    const sink = createEventSink(memoryWriter());
    expect(sink.comm(process.pid)).toBe(fs.readFileSync(`/proc/${process.pid}/comm`, 'latin1').trim());
    expect(sink.comm(0x3fffffff)).toBeNull();
  });
});

describe('event destinations', () => {
  it('parses DEST', () => {
    expect(parseEventDest('-')).toEqual({ kind: 'fd', fd: 2 });
    expect(parseEventDest('fd:7')).toEqual({ kind: 'fd', fd: 7 });
    expect(parseEventDest('/tmp/x.jsonl')).toEqual({ kind: 'path', path: '/tmp/x.jsonl' });
    expect(typeof parseEventDest('fd:x')).toBe('string');
    expect(typeof parseEventDest('')).toBe('string');
  });

  it('never blocks on a full FIFO: the overflow is dropped', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'events-'));
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reader = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      const sink = createEventSink(openEventDest({ kind: 'path', path: fifo }));
      const t0 = performance.now();
      for (let i = 0; i < 2000; i++) sink.signal(10, 'forward'); // ~200 kB > 64 kB pipe
      sink.flush();
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(sink.dropped).toBeGreaterThan(0);
      expect(sink.written + sink.dropped).toBe(2000);
      // Whatever was written is whole lines.
      const buf = Buffer.alloc(1 << 20);
      const n = fs.readSync(reader, buf);
      const text = buf.subarray(0, n).toString();
      expect(text.endsWith('\n')).toBe(true);
      expect(text.split('\n').length - 1).toBe(sink.written);
    } finally {
      fs.closeSync(reader);
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('fails (does not hang) on a FIFO without a reader', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'events-'));
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(() => openEventDest({ kind: 'path', path: fifo })).toThrow(/ENXIO/);
    fs.rmSync(dir, { recursive: true });
  });

  it('reopens fd:N as a description of its own and closes N', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'events-'));
    const file = path.join(dir, 'ev.jsonl');
    const n = fs.openSync(file, 'w');
    const w = openEventDest({ kind: 'fd', fd: n });
    expect(() => fs.fstatSync(n)).toThrow();
    const sink = createEventSink(w);
    sink.signal(1, 'forward');
    sink.flush();
    w.close();
    parseAll(fs.readFileSync(file, 'utf8').split(/(?<=\n)/));
    expect(() => openEventDest({ kind: 'fd', fd: 999 })).toThrow(/not open/);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('validator', () => {
  it('rejects what the schema does not allow', () => {
    expect(validate(S, { v: 1, seq: 0, event: 'signal', mono_ns: 1, time: 'x' })).not.toEqual([]);
    expect(validate(S, { v: 2, event: 'bogus' })).not.toEqual([]);
  });
});
