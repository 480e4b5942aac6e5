import { describe, expect, it } from 'vitest';
import { enlargeSignalPipe, pipeSizesToTry, PROBE_SIGNAL, type SignalPipeDeps } from '../../src/supervisor/signal-pipe.js';
import { SIG } from '../../src/libc/signals.js';
import { FakeLibc } from '../helpers/fake-libc.js';

describe('pipeSizesToTry', () => {
  it('asks for room for RLIMIT_SIGPENDING messages, as a power of two, then the unprivileged maximum', () => {
    expect(pipeSizesToTry(96365, 16, undefined)).toEqual([2 * 1024 * 1024]);
    expect(pipeSizesToTry(96365, 16, 1048576)).toEqual([2 * 1024 * 1024, 1048576]);
    expect(pipeSizesToTry(10000, 16, 1048576)).toEqual([262144]);
  });
  it('leaves a default pipe that already holds them', () => {
    expect(pipeSizesToTry(4000, 16, 1048576)).toEqual([]);
  });
  it('caps an unlimited RLIMIT_SIGPENDING', () => {
    expect(pipeSizesToTry(Infinity, 16, undefined)).toEqual([64 * 1024 * 1024]);
  });
});

/** Pipes 5 (libuv's lock pipe, 1 byte), 7 (another loop's) and 18 (the main loop's signal pipe). */
function setup(o: { listener?: boolean } = {}): { libc: FakeLibc; deps: SignalPipeDeps; listened: number[] } {
  const libc = new FakeLibc();
  libc.pipes.set(5, { bytes: 1, capacity: 65536 });
  libc.pipes.set(7, { bytes: 0, capacity: 65536 });
  libc.pipes.set(18, { bytes: 0, capacity: 65536 });
  libc.raiseWrites = { fd: 18, bytes: 16 };
  const listened: number[] = [];
  const deps: SignalPipeDeps = {
    libc,
    ownPipes: () => [5, 7, 18],
    withListener: (sig, fn) => {
      if (o.listener === false) return false;
      listened.push(sig);
      fn();
      return true;
    },
    pipeMaxSize: () => 1048576,
  };
  return { libc, deps, listened };
}

describe('enlargeSignalPipe', () => {
  it('finds the pipe the probe signal wrote to and sizes it for RLIMIT_SIGPENDING', () => {
    const { libc, deps, listened } = setup();
    const r = enlargeSignalPipe(deps);
    expect(r).toEqual({ ok: true, fd: 18, messageBytes: 16, capacity: 2 * 1024 * 1024, limit: 96365 });
    expect(listened).toEqual([SIG.TTIN]);
    expect(PROBE_SIGNAL).toBe(SIG.TTIN);
    expect(libc.callsOf('raise')).toEqual([[SIG.TTIN]]);
    expect(libc.pipes.get(18)!.capacity).toBe(2 * 1024 * 1024);
    expect(libc.pipes.get(7)!.capacity).toBe(65536);
  });

  it('falls back to pipe-max-size on EPERM (no CAP_SYS_RESOURCE)', () => {
    const { libc, deps } = setup();
    libc.pipeMax = 1048576;
    const r = enlargeSignalPipe(deps);
    expect(r).toMatchObject({ ok: true, fd: 18, capacity: 1048576 });
    expect(libc.callsOf('setPipeSize')).toEqual([[18, 2 * 1024 * 1024], [18, 1048576]]);
  });

  it('says why when even that is refused, and changes nothing', () => {
    const { libc, deps } = setup();
    libc.failAlways('setPipeSize', 'EPERM');
    const r = enlargeSignalPipe(deps);
    expect(r).toEqual({ ok: false, reason: 'fcntl(F_SETPIPE_SZ)(1048576) failed: EPERM' });
  });

  it('takes a signal arriving during the probe (its message in the same pipe) in its stride', () => {
    const { libc, deps } = setup();
    libc.raiseWrites = { fd: 18, bytes: 32 };
    expect(enlargeSignalPipe(deps)).toEqual({ ok: true, fd: 18, messageBytes: 16, capacity: 2 * 1024 * 1024, limit: 96365 });
  });

  it('changes nothing when the probe is ambiguous or finds no pipe', () => {
    const a = setup();
    a.libc.raiseWrites = undefined;
    expect(enlargeSignalPipe(a.deps)).toEqual({ ok: false, reason: '0 pipes changed when the probe signal was raised, not 1' });
    expect(a.libc.callsOf('setPipeSize')).toEqual([]);
    const b = setup();
    const raise = b.libc.raise.bind(b.libc);
    b.libc.raise = (sig) => {
      b.libc.pipes.get(7)!.bytes += 16;
      return raise(sig);
    };
    expect(enlargeSignalPipe(b.deps)).toMatchObject({ ok: false, reason: '2 pipes changed when the probe signal was raised, not 1' });
    expect(b.libc.callsOf('setPipeSize')).toEqual([]);
  });

  it('does not raise the probe signal without a listener in place (SIGTTIN would stop the init)', () => {
    const { libc, deps } = setup({ listener: false });
    expect(enlargeSignalPipe(deps)).toEqual({ ok: false, reason: 'no libuv signal handle to probe with' });
    expect(libc.callsOf('raise')).toEqual([]);
  });

  it('reports a failing getrlimit, raise or ioctl without throwing', () => {
    const a = setup();
    a.libc.failNext('sigpendingLimit', 'EINVAL');
    expect(enlargeSignalPipe(a.deps)).toEqual({ ok: false, reason: 'getrlimit(RLIMIT_SIGPENDING) failed: EINVAL' });
    const b = setup();
    b.libc.failNext('raise', 'EINVAL');
    expect(enlargeSignalPipe(b.deps)).toEqual({ ok: false, reason: 'raise failed: EINVAL' });
    const c = setup();
    c.libc.failAlways('pipeBytes', 'EBADF');
    expect(enlargeSignalPipe(c.deps)).toMatchObject({ ok: false });
  });

  it('leaves the pipe alone when RLIMIT_SIGPENDING fits the default', () => {
    const { libc, deps } = setup();
    libc.sigpending = 1024;
    expect(enlargeSignalPipe(deps)).toMatchObject({ ok: false });
    expect(libc.callsOf('raise')).toEqual([]);
  });
});
