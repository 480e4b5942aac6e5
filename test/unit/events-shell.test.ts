/** The supervisor shell with an event sink: what it reports, and that with none it pays nothing. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSupervisor } from '../../src/supervisor/shell.js';
import type { CoreConfig, ProcRef } from '../../src/supervisor/core.js';
import { SIG } from '../../src/libc/signals.js';
import { exitedStatus, signaledStatus } from '../../src/libc/types.js';
import { createEventSink, type LineWriter } from '../../src/events/sink.js';
import { validate } from '../../src/events/validate.js';
import { FakeLibc } from '../helpers/fake-libc.js';
import { installFakeClock, type FakeClock } from '../helpers/fake-clock.js';

const schema = JSON.parse(fs.readFileSync(new URL('../../src/events/events.schema.json', import.meta.url), 'utf8'));
const logger = { log() {}, enabled: () => false };

let clock: FakeClock;
let proc: string;
beforeEach(() => {
  clock = installFakeClock();
  proc = fs.mkdtempSync(path.join(os.tmpdir(), 'fakeproc-'));
});
afterEach(() => {
  clock.uninstall();
  fs.rmSync(proc, { recursive: true, force: true });
});

/** A writer that logs lines into the same timeline as the libc calls. */
function setup(over: Partial<CoreConfig> = {}, events = true, writer?: LineWriter, reachable?: (libc: FakeLibc) => ProcRef[] | null) {
  const libc = new FakeLibc();
  const pid = (libc.spawn({ argv: [Buffer.from('app')], newProcessGroup: true, foregroundTty: false, passFds: [0, 1, 2] }) as { value: number }).value;
  libc.calls.length = 0;
  const timeline: string[] = [];
  const lines: Record<string, any>[] = [];
  const w: LineWriter = writer ?? {
    write(line) {
      const e = JSON.parse(line.toString());
      expect(validate(schema, e)).toEqual([]);
      lines.push(e);
      timeline.push(`event:${e.event}`);
      return line.length;
    },
    close() {},
  };
  const origKill = libc.kill.bind(libc);
  libc.kill = (p, s) => {
    timeline.push(`kill:${p}:${s}`);
    return origKill(p, s);
  };
  const sink = events ? createEventSink(w, { proc }) : undefined;
  const exits: number[] = [];
  const config: CoreConfig = { childPid: pid, graceMs: null, expectedCodes: new Set(), warnOnReap: false, ...over };
  const sup = startSupervisor(config, { libc, logger, now: () => clock.now(), exit: (c) => void exits.push(c), events: sink, reachable: reachable && (() => reachable(libc)) });
  return { libc, pid, sup, lines, timeline, exits, sink };
}

describe('shell with events', () => {
  it('off: the reap loop makes no extra call', () => {
    const { libc, pid, sup, exits } = setup({}, false);
    libc.exit(pid, exitedStatus(3));
    sup.onSignal(SIG.CHLD);
    expect(libc.calls.map((c) => c.name)).toEqual(['waitpid']);
    expect(exits).toEqual([3]);
  });

  it('on: signal, forward (after the kill), grace, reap with comm, escalate, exit', () => {
    const { libc, pid, sup, lines, timeline, exits } = setup({ graceMs: 1000 });
    fs.mkdirSync(path.join(proc, String(pid)));
    fs.writeFileSync(path.join(proc, String(pid), 'comm'), 'app\n');
    sup.onSignal(SIG.USR1);
    // The kill comes first; both lines follow it.
    expect(timeline).toEqual([`kill:-${pid}:10`, 'event:signal', 'event:forward']);
    sup.onSignal(SIG.TERM);
    const grace = lines.find((e) => e.event === 'grace')!;
    expect(grace).toMatchObject({ signo: 15, grace_ms: 1000 });
    expect(grace.deadline_mono_ns - grace.mono_ns).toBeGreaterThan(900e6);
    clock.advance(1000);
    expect(lines.filter((e) => e.event === 'escalate')).toEqual([expect.objectContaining({ target: 'group', id: pid, result: 'ok', main_reaped: false })]);
    // The fake delivers SIGKILL: the main child is a zombie now.
    sup.onSignal(SIG.CHLD);
    expect(libc.calls.map((c) => c.name)).toContain('waitid');
    const reap = lines.find((e) => e.event === 'reap');
    expect(reap).toMatchObject({ pid, main: true, comm: 'app', signo: 9, signal_name: 'SIGKILL', exit_code: null });
    expect(exits).toEqual([137]);
    expect(lines.at(-1)).toMatchObject({ event: 'exit', code: 137, reason: 'child-signaled', dropped: 0 });
    expect(lines.map((e) => e.event)).toEqual(['signal', 'forward', 'signal', 'forward', 'grace', 'escalate', 'signal', 'reap', 'exit']);
  });

  it('orphans are reported as such, and the peeked pid is the one reaped', () => {
    const { libc, pid, sup, lines } = setup();
    const orphan = libc.addProcess(50);
    libc.exit(orphan.pid, exitedStatus(0));
    sup.onSignal(SIG.CHLD);
    expect(lines.filter((e) => e.event === 'reap')).toEqual([expect.objectContaining({ pid: orphan.pid, main: false, comm: null, exit_code: 0 })]);
    expect(libc.callsOf('waitpid')[0]).toEqual([orphan.pid, 1]);
    libc.exit(pid, signaledStatus(11, true));
    sup.onSignal(SIG.CHLD);
    expect(lines.find((e) => e.event === 'reap' && e.main)).toMatchObject({ core_dumped: true, signo: 11 });
  });

  it('a SIGPIPE raised by the stream itself is not forwarded; the next one is', () => {
    const w: LineWriter = {
      write() {
        throw Object.assign(new Error('EPIPE'), { code: 'EPIPE' });
      },
      close() {},
    };
    const { sup, timeline, pid } = setup({}, true, w);
    sup.onSignal(SIG.USR1); // its lines hit EPIPE: the kernel raised SIGPIPE on the init
    sup.onSignal(SIG.PIPE);
    expect(timeline).toEqual([`kill:-${pid}:10`]);
    sup.onSignal(SIG.PIPE);
    expect(timeline).toEqual([`kill:-${pid}:10`, `kill:-${pid}:13`]);
  });
});

describe('stopping, in the events', () => {
  it('--map: the forward says what was received and what was sent; an ignored signal is only a signal event', () => {
    const { pid, sup, lines, timeline } = setup({ signalMap: new Map([[SIG.USR1, SIG.USR2], [SIG.HUP, null]]) });
    sup.onSignal(SIG.USR1);
    sup.onSignal(SIG.HUP);
    expect(timeline).toEqual([`kill:-${pid}:${SIG.USR2}`, 'event:signal', 'event:forward', 'event:signal']);
    expect(lines[0]).toMatchObject({ event: 'signal', signo: SIG.USR1, handling: 'forward' });
    expect(lines[1]).toMatchObject({ event: 'forward', signo: SIG.USR2, name: 'SIGUSR2', received_signo: SIG.USR1, received_name: 'SIGUSR1', cause: 'mapped' });
    expect(lines[2]).toMatchObject({ event: 'signal', signo: SIG.HUP, handling: 'ignored' });
  });

  it('--stop-delay: signal (delayed), stop-delay, then the forward and the grace period at the end of the delay', () => {
    const { pid, sup, lines, timeline } = setup({ stopDelayMs: 2000, graceMs: 500 });
    sup.onSignal(SIG.TERM);
    expect(timeline).toEqual(['event:signal', 'event:stop-delay']);
    expect(lines[0]).toMatchObject({ handling: 'delayed' });
    expect(lines[1]).toMatchObject({ received_signo: SIG.TERM, signo: SIG.TERM, delay_ms: 2000 });
    expect(BigInt(lines[1].until_mono_ns)).toBeGreaterThan(BigInt(lines[1].mono_ns));
    clock.advance(1999);
    expect(timeline).toHaveLength(2);
    clock.advance(1);
    expect(timeline.slice(2)).toEqual([`kill:-${pid}:${SIG.TERM}`, 'event:forward', 'event:grace']);
    expect(lines[2]).toMatchObject({ received_signo: SIG.TERM, cause: 'stop-delay' });
    expect(lines[3]).toMatchObject({ grace_ms: 500 });
  });

  it('--timeout: timeout, forward (received null), grace; then escalate', () => {
    const { pid, lines, timeline } = setup({ timeoutMs: 3000, graceMs: 1000 });
    clock.advance(2999);
    expect(timeline).toEqual([]);
    clock.advance(1);
    expect(timeline).toEqual(['event:timeout', `kill:-${pid}:${SIG.TERM}`, 'event:forward', 'event:grace']);
    expect(lines[0]).toMatchObject({ timeout_ms: 3000, signo: SIG.TERM, name: 'SIGTERM' });
    expect(lines[1]).toMatchObject({ received_signo: null, received_name: null, cause: 'timeout' });
    clock.advance(1000);
    expect(timeline.slice(4)).toEqual([`kill:-${pid}:${SIG.KILL}`, 'event:escalate']);
  });
});

describe('--stop-scope all, in the shell', () => {
  /** The fake's running processes, as /proc would list them. */
  const running = (libc: FakeLibc): ProcRef[] => [...libc.processes.values()].filter((p) => p.state === 'running').map((p) => ({ pid: p.pid, pgid: p.pgid, comm: `p${p.pid}` }));

  it('the group first; the others when the main child is reaped; SIGKILL at the deadline to who stayed; each stage an event', () => {
    const { libc, pid, sup, lines, timeline, exits } = setup({ graceMs: 1000, stopScope: 'all' }, true, undefined, running);
    libc.processes.get(pid)!.onSignal = (sig) => (sig === SIG.TERM ? signaledStatus(SIG.TERM) : undefined);
    const polite = libc.addProcess(200, (sig) => (sig === SIG.TERM ? exitedStatus(0) : undefined));
    const stubborn = libc.addProcess(300);
    sup.onSignal(SIG.TERM);
    expect(timeline.filter((t) => t.startsWith('kill'))).toEqual([`kill:-${pid}:${SIG.TERM}`]);
    sup.onSignal(SIG.CHLD); // the main child died of it: stage 2 at once
    expect(polite.received).toEqual([SIG.TERM]);
    expect(stubborn.received).toEqual([SIG.TERM]);
    expect(lines.find((e) => e.event === 'stop-stage')).toMatchObject({ stage: 'others', reason: 'main-exited', signo: SIG.TERM, count: 2, procs: [{ pid: polite.pid, result: 'ok' }, { pid: stubborn.pid, result: 'ok' }] });
    sup.onSignal(SIG.CHLD); // the polite one is reaped
    clock.advance(500);
    expect(exits).toEqual([]);
    clock.advance(500);
    expect(stubborn.received).toEqual([SIG.TERM, SIG.KILL]);
    expect(exits).toEqual([143]);
    expect(lines.filter((e) => e.event === 'stop-stage').at(-1)).toMatchObject({ stage: 'kill', reason: 'deadline', procs: [{ pid: stubborn.pid, comm: `p${stubborn.pid}` }] });
    expect(lines.at(-1)).toMatchObject({ event: 'exit', code: 143, stop: { sigkill: true, scope: 'all', left: [{ pid: stubborn.pid }], left_count: 1 } });
  });

  it('the others at half the grace period while the main child still runs; a kill that fails is reported, and supervision goes on', () => {
    const { libc, pid, sup, lines, exits } = setup({ graceMs: 1000, stopScope: 'all' }, true, undefined, running);
    const other = libc.addProcess(300, (sig) => (sig === SIG.TERM ? exitedStatus(0) : undefined));
    sup.onSignal(SIG.TERM);
    clock.advance(499);
    expect(other.received).toEqual([]);
    libc.failNext('kill', 'EPERM');
    clock.advance(1);
    expect(lines.find((e) => e.event === 'stop-stage')).toMatchObject({ reason: 'share-elapsed', procs: [{ pid: other.pid, result: 'EPERM' }] });
    libc.exit(pid, exitedStatus(0));
    sup.onSignal(SIG.CHLD);
    clock.advance(600);
    expect(exits).toEqual([0]);
    expect(lines.at(-1)).toMatchObject({ event: 'exit', stop: { sigkill: true, left: [{ pid: other.pid }] } });
  });
});

describe('--pre-stop, in the shell', () => {
  const preStop = { command: 'echo draining', passFds: [0, 1, 2] };

  it('spawned through /bin/sh -c in its own group, its stdout and stderr to a memfd read into the ended event; then the stop', () => {
    const { libc, pid, sup, lines, timeline } = setup({ graceMs: 1000, preStop });
    sup.onSignal(SIG.TERM);
    const req = libc.spawnRequests.at(-1)!;
    expect(req.argv.map((b) => b.toString())).toEqual(['/bin/sh', '-c', 'echo draining']);
    expect(req).toMatchObject({ file: '/bin/sh', newProcessGroup: true, foregroundTty: false, passFds: [0] });
    const fd = libc.memfds[0];
    expect(req.redirect).toEqual([{ from: fd, to: 1 }, { from: fd, to: 2 }]);
    expect(timeline.filter((t) => t.startsWith('kill'))).toEqual([]);
    fs.writeSync(fd, 'drained\n', 0);
    const pre = [...libc.processes.values()].find((p) => p.argv[0] === '/bin/sh')!;
    libc.exit(pre.pid, exitedStatus(0));
    sup.onSignal(SIG.CHLD);
    expect(lines.filter((e) => e.event === 'pre-stop')).toMatchObject([
      { phase: 'started', pid: pre.pid },
      { phase: 'ended', pid: pre.pid, exit_code: 0, output: 'drained\n', killed: false },
    ]);
    expect(timeline.filter((t) => t.startsWith('kill'))).toEqual([`kill:-${pid}:${SIG.TERM}`]);
    expect(() => fs.fstatSync(fd)).toThrow(); // closed once read
  });

  it('without events nothing is captured (its output is the container log); a spawn failure goes on with the stop', () => {
    const { libc, pid, sup, timeline } = setup({ graceMs: 1000, preStop }, false);
    libc.failNext('spawn', 'ENOENT');
    sup.onSignal(SIG.TERM);
    expect(libc.callsOf('memfd')).toEqual([]);
    expect(timeline.filter((t) => t.startsWith('kill'))).toEqual([`kill:-${pid}:${SIG.TERM}`]);
  });
});
