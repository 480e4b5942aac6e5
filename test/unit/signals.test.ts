import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseSignal, signalName, SIG, SIGRTMAX, SIGRTMIN } from '../../src/libc/signals.js';
import { decodeWaitStatus, exitedStatus, signaledStatus } from '../../src/libc/types.js';
import { errnoMessage, errnoName, ERRNO } from '../../src/libc/errno.js';

const ALL = Array.from({ length: 64 }, (_, i) => i + 1).filter((n) => n !== 32 && n !== 33);

describe('signal names', () => {
  it('parseSignal(signalName(n)) === n for 1..64 except 32/33', () => {
    for (const n of ALL) expect(parseSignal(signalName(n)), signalName(n)).toBe(n);
  });

  it('also without the SIG prefix, in lower case, and as a number', () => {
    for (const n of ALL) {
      const name = signalName(n);
      expect(parseSignal(name.slice(3))).toBe(n);
      expect(parseSignal(name.toLowerCase())).toBe(n);
      expect(parseSignal(String(n))).toBe(n);
    }
  });

  it('names are unique and in the usual form', () => {
    const names = ALL.map(signalName);
    expect(new Set(names).size).toBe(names.length);
    expect(signalName(SIG.TERM)).toBe('SIGTERM');
    expect(signalName(SIGRTMIN)).toBe('SIGRTMIN');
    expect(signalName(SIGRTMIN + 3)).toBe('SIGRTMIN+3');
    expect(signalName(SIGRTMAX)).toBe('SIGRTMAX');
    expect(signalName(32)).toBe('SIG32');
  });

  it('accepts the aliases and RTMAX-n', () => {
    expect(parseSignal('SIGIOT')).toBe(SIG.ABRT);
    expect(parseSignal('POLL')).toBe(SIG.IO);
    expect(parseSignal('cld')).toBe(SIG.CHLD);
    expect(parseSignal('RTMAX-2')).toBe(62);
    expect(parseSignal(' TERM ')).toBe(SIG.TERM);
  });

  it('rejects anything else', () => {
    for (const t of ['', 'SIG', '0', '32', '33', '65', 'RTMIN-1', 'RTMAX+1', 'FOO', 'SIGTERMX', 'toString', 'constructor', '__proto__', '1.0', '0x9']) {
      expect(parseSignal(t), t).toBeUndefined();
    }
  });

  it('parseSignal never throws and returns a valid signal or undefined', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string().map((s) => 'SIGRT' + s)), (t) => {
        const n = parseSignal(t);
        return n === undefined || (Number.isInteger(n) && n >= 1 && n <= 64 && n !== 32 && n !== 33);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('wait status', () => {
  it('decodes what exitedStatus builds, for every code', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), (code) => {
        expect(decodeWaitStatus(exitedStatus(code))).toEqual({ kind: 'exited', code });
      }),
    );
  });

  it('decodes what signaledStatus builds, for every signal and core flag', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 126 }), fc.boolean(), (signal, core) => {
        expect(decodeWaitStatus(signaledStatus(signal, core))).toEqual({ kind: 'signaled', signal, core });
      }),
    );
  });

  it('rebuilds every exited or signaled status it decodes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), (status) => {
        const d = decodeWaitStatus(status);
        if (d.kind === 'exited' && (status & 0xff) === 0) expect(exitedStatus(d.code)).toBe(status);
        if (d.kind === 'signaled' && (status & 0xff00) === 0) expect(signaledStatus(d.signal, d.core)).toBe(status);
        if (d.kind === 'other') expect(status & 0x7f).toBe(0x7f);
      }),
    );
  });

  it('a stopped child (0x7f) is neither exited nor signaled', () => {
    expect(decodeWaitStatus((SIG.STOP << 8) | 0x7f)).toEqual({ kind: 'other', raw: (SIG.STOP << 8) | 0x7f });
  });
});

describe('errno names', () => {
  it('ERRNO and errnoName agree', () => {
    for (const [name, n] of Object.entries(ERRNO)) expect(errnoName(n)).toBe(name);
  });

  it('names unknown numbers and gives messages', () => {
    expect(errnoName(9999)).toBe('E9999');
    expect(errnoMessage(2)).toBe('No such file or directory');
    expect(errnoMessage(8)).toBe('Exec format error');
    expect(errnoMessage(61)).toBe('ENODATA');
  });
});
