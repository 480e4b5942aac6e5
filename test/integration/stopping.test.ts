/**
 * Stopping, with real processes: --map rewrites or drops a signal before it
 * reaches the program, --stop-delay holds SIGTERM back (the program sees it
 * no earlier than the delay after the init got it, by CLOCK_MONOTONIC, the
 * clock of the events), --timeout stops a program that runs too long.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readEvents } from '../helpers/events.js';
import { cleanup, isRunning, Recorder, requireBinary, ROOT, SIG, startInit, tempDir, track, waitFor, type Mode } from '../helpers/proc.js';

beforeAll(() => requireBinary());
afterEach(cleanup);

/**
 * A shell program that writes the name of each USR1/USR2 it gets to LOG and
 * leaves SIGHUP at its default (a forwarded SIGHUP kills it).
 */
function trapper(log: string): string[] {
  const script = `trap 'echo USR1 >> "$1"' USR1; trap 'echo USR2 >> "$1"' USR2; trap 'exit 0' TERM; echo ready >> "$1"; while :; do sleep 0.05; done`;
  return ['sh', '-c', script, 'trapper', log];
}

/** A Python program that writes CLOCK_MONOTONIC (ns) when it gets SIGTERM, then exits 0. */
function termClock(out: string): string[] {
  const code = [
    'import os, signal, sys, time',
    'def on_term(s, f):',
    `    open(sys.argv[1], "w").write(str(time.clock_gettime_ns(time.CLOCK_MONOTONIC)))`,
    '    os._exit(0)',
    'signal.signal(signal.SIGTERM, on_term)',
    `open(sys.argv[1] + ".ready", "w").close()`,
    'while True: time.sleep(1)',
  ].join('\n');
  return ['python3', '-c', code, out];
}

const lines = (file: string): string[] => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

describe.each<Mode>(['sub', 'pid1'])('--map (%s)', (mode) => {
  it('USR1 reaches the program as USR2; HUP:ignore never reaches it, so it keeps running', async () => {
    const dir = tempDir();
    const log = path.join(dir, 'log');
    const ev = path.join(dir, 'events');
    const init = startInit({ mode, flags: ['--map', 'USR1:USR2', '--map', 'HUP:ignore', '--events', ev], prog: trapper(log) });
    await waitFor(() => lines(log).includes('ready'), 'the program to be ready', { detail: () => init.stderr() });
    const child = track(await init.mainChild())!;
    // HUP first: were it forwarded, the program would die before the USR1 that follows.
    await init.signal(SIG.HUP);
    await init.signal(SIG.USR1);
    await waitFor(() => lines(log).includes('USR2'), 'the program to get USR2', { detail: () => lines(log).join(',') });
    expect(isRunning(child)).toBe(true);
    expect(lines(log)).toEqual(['ready', 'USR2']);
    await init.signal(SIG.TERM);
    expect(await init.exitCode()).toBe(0);
    const evs = readEvents(ev);
    expect(evs.filter((e) => e.event === 'signal' && e.signo === SIG.HUP)).toMatchObject([{ handling: 'ignored' }]);
    expect(evs.filter((e) => e.event === 'forward' && e.signo === SIG.HUP)).toEqual([]);
    expect(evs.filter((e) => e.event === 'forward' && e.received_signo === SIG.USR1)).toMatchObject([
      { signo: SIG.USR2, name: 'SIGUSR2', received_name: 'SIGUSR1', cause: 'mapped', result: 'ok' },
    ]);
  });
});

describe('--map, bad values', () => {
  it('is one line naming the flag, exit 1, and nothing is started', async () => {
    const dir = tempDir();
    const marker = path.join(dir, 'started');
    for (const flags of [['--map', 'KILL:TERM'], ['--map', 'USR1:USR2', '--map', 'USR1:HUP'], ['--map', 'NOPE:TERM']]) {
      const init = startInit({ mode: 'sub', flags, prog: ['touch', marker] });
      expect(await init.exitCode()).toBe(1);
      expect(init.stderr()).toMatch(/^tini-ts: --map: [^\n]+\n$/);
    }
    expect(fs.existsSync(marker)).toBe(false);
  });
});

describe.each<Mode>(['sub', 'pid1'])('--stop-delay (%s)', (mode) => {
  it('the program sees SIGTERM no earlier than the delay after the init got it; --grace counts from the forward', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'term');
    const ev = path.join(dir, 'events');
    const init = startInit({ mode, flags: ['--stop-delay', '1', '--grace', '5', '--events', ev], prog: termClock(out) });
    await waitFor(() => fs.existsSync(`${out}.ready`), 'the program to be ready', { detail: () => init.stderr() });
    await init.signal(SIG.TERM);
    expect(await init.exitCode()).toBe(0);
    const seenNs = BigInt(fs.readFileSync(out, 'utf8'));
    const evs = readEvents(ev);
    const received = evs.find((e) => e.event === 'signal' && e.signo === SIG.TERM)!;
    expect(received.handling).toBe('delayed');
    const delay = evs.find((e) => e.event === 'stop-delay')!;
    expect(delay).toMatchObject({ received_signo: SIG.TERM, signo: SIG.TERM, delay_ms: 1000 });
    const forward = evs.find((e) => e.event === 'forward' && e.signo === SIG.TERM)!;
    expect(forward).toMatchObject({ cause: 'stop-delay', received_signo: SIG.TERM });
    const grace = evs.find((e) => e.event === 'grace')!;
    // By the one clock: forwarded, and seen by the program, at least 1 s after the init received it
    // (the forward event's own time is taken after the kill(2), so the program may see it first).
    expect(BigInt(forward.mono_ns) - BigInt(received.mono_ns)).toBeGreaterThanOrEqual(1_000_000_000n);
    expect(seenNs - BigInt(received.mono_ns)).toBeGreaterThanOrEqual(1_000_000_000n);
    // The grace period starts at the forward, not at the signal.
    expect(BigInt(grace.deadline_mono_ns) - BigInt(received.mono_ns)).toBeGreaterThanOrEqual(6_000_000_000n);
    expect(grace.seq).toBeGreaterThan(forward.seq);
  });

  it('a second SIGTERM during the delay is forwarded at once', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'term');
    const ev = path.join(dir, 'events');
    // A delay no test waits for: the init ends only because the second SIGTERM went through.
    const init = startInit({ mode, flags: ['--stop-delay', '3600', '--events', ev], prog: termClock(out) });
    await waitFor(() => fs.existsSync(`${out}.ready`), 'the program to be ready', { detail: () => init.stderr() });
    await init.signal(SIG.TERM);
    await waitFor(() => fs.existsSync(ev) && fs.readFileSync(ev, 'utf8').includes('"stop-delay"'), 'the stop-delay event');
    expect(fs.existsSync(out)).toBe(false);
    await init.signal(SIG.TERM);
    expect(await init.exitCode()).toBe(0);
    const evs = readEvents(ev);
    const signals = evs.filter((e) => e.event === 'signal' && e.signo === SIG.TERM);
    expect(signals.map((e) => e.handling)).toEqual(['delayed', 'forward']);
    const forwards = evs.filter((e) => e.event === 'forward');
    expect(forwards).toMatchObject([{ signo: SIG.TERM, cause: 'signal' }]);
    expect(BigInt(fs.readFileSync(out, 'utf8'))).toBeGreaterThanOrEqual(BigInt(signals[1].mono_ns));
  });
});

describe.each<Mode>(['sub', 'pid1'])('--timeout (%s)', (mode) => {
  it('ends a program that ignores SIGTERM: SIGTERM at the timeout, SIGKILL after the grace period, exit 137', async () => {
    const rec = new Recorder();
    const ev = path.join(rec.dir, 'events.jsonl');
    const init = startInit({ mode, flags: ['--timeout', '1s', '--grace', '0.5', '--events', ev], prog: rec.argv() });
    await rec.ready(10_000, () => init.stderr());
    expect(await init.exitCode(20_000)).toBe(137);
    expect(rec.log('main')).toEqual([SIG.TERM]);
    const evs = readEvents(ev);
    expect(evs.map((e) => e.event).filter((e) => e !== 'signal' && e !== 'reap')).toEqual(['start', 'spawn', 'timeout', 'forward', 'grace', 'escalate', 'exit']);
    const spawn = evs.find((e) => e.event === 'spawn')!;
    const timeout = evs.find((e) => e.event === 'timeout')!;
    expect(timeout).toMatchObject({ timeout_ms: 1000, signo: SIG.TERM });
    expect(BigInt(timeout.mono_ns) - BigInt(spawn.mono_ns)).toBeGreaterThanOrEqual(1_000_000_000n);
    expect(evs.find((e) => e.event === 'forward')).toMatchObject({ cause: 'timeout', received_signo: null, signo: SIG.TERM });
    expect(evs.find((e) => e.event === 'grace')).toMatchObject({ grace_ms: 500 });
  });

  it('a program that stops on SIGTERM ends with its own status (TINI_TIMEOUT)', async () => {
    const rec = new Recorder();
    const init = startInit({ mode, flags: [], prog: rec.argv({ exitOn: [SIG.TERM, 3] }), env: { TINI_TIMEOUT: '500ms' } });
    await rec.ready(10_000, () => init.stderr());
    expect(await init.exitCode(20_000)).toBe(3);
    expect(rec.log('main')).toEqual([SIG.TERM]);
  });
});

describe.each<Mode>(['sub', 'pid1'])('why it ended (%s)', (mode) => {
  it('a stop that needed SIGKILL: one line on stderr, the termination log and the exit event say so', async () => {
    const rec = new Recorder();
    const ev = path.join(rec.dir, 'events.jsonl');
    const term = path.join(rec.dir, 'termination-log');
    const init = startInit({ mode, flags: ['--grace', '0.3', '--termination-log', term, '--events', ev], prog: rec.argv() });
    await rec.ready(10_000, () => init.stderr());
    await init.signal(SIG.TERM);
    expect(await init.exitCode()).toBe(137);
    expect(init.stderr()).toMatch(/^\[WARN  tini-ts \([0-9]+\)\] stopped by SIGTERM after [0-9]+\.[0-9]s; SIGKILL needed: yes\n$/m);
    expect(fs.readFileSync(term, 'utf8')).toMatch(/^stopped by SIGTERM after [0-9]+\.[0-9]s; SIGKILL needed: yes; the program was killed by SIGKILL$/);
    const exit = readEvents(ev).at(-1)!;
    expect(exit).toMatchObject({ event: 'exit', code: 137, stop: { cause: 'signal', received_signo: SIG.TERM, signo: SIG.TERM, sigkill: true } });
    expect(exit.stop.after_ms).toBeGreaterThanOrEqual(300);
  });

  it('a program that stops in time: SIGKILL needed: no; TINI_VERBOSITY=0 keeps stderr quiet', async () => {
    const rec = new Recorder();
    const term = path.join(rec.dir, 'termination-log');
    const init = startInit({ mode, flags: ['--termination-log', term], prog: rec.argv({ exitOn: [SIG.TERM, 0] }), env: { TINI_VERBOSITY: '0' } });
    await rec.ready(10_000, () => init.stderr());
    await init.signal(SIG.TERM);
    expect(await init.exitCode()).toBe(0);
    expect(init.stderr()).toBe('');
    expect(fs.readFileSync(term, 'utf8')).toMatch(/^stopped by SIGTERM after [0-9]+\.[0-9]s; SIGKILL needed: no; the program exited with status 0$/);
  });
});

describe('--termination-log', () => {
  it('without a stop: how the program ended, and nothing on stderr', async () => {
    const dir = tempDir();
    const term = path.join(dir, 'log');
    fs.writeFileSync(term, 'old content that is replaced, and longer than the message\n');
    const init = startInit({ mode: 'sub', flags: ['--termination-log', term], prog: ['sh', '-c', 'exit 3'] });
    expect(await init.exitCode()).toBe(3);
    expect(init.stderr()).toBe('');
    expect(fs.readFileSync(term, 'utf8')).toBe('the program exited with status 3');
  });

  it('a file that cannot be opened: one FATAL line naming the flag, exit 1, nothing started', async () => {
    const dir = tempDir();
    const marker = path.join(dir, 'started');
    const init = startInit({ mode: 'sub', flags: ['--termination-log', path.join(dir, 'no/such/dir/log')], prog: ['touch', marker] });
    expect(await init.exitCode()).toBe(1);
    expect(init.stderr()).toMatch(/^\[FATAL tini-ts \([0-9]+\)\] --termination-log \S+: cannot open: ENOENT\n$/);
    expect(fs.existsSync(marker)).toBe(false);
  });
});

describe('--map against dumb-init --rewrite', () => {
  /** Sends HUP, USR1, USR2, then TERM through an init (HUP first: forwarded, it would kill the program); returns what the program saw and the exit code. */
  async function exercise(bin: string, flags: string[]): Promise<{ log: string[]; code: number }> {
    const dir = tempDir();
    const log = path.join(dir, 'log');
    const init = startInit({ mode: 'plain', bin, flags, prog: trapper(log) });
    await waitFor(() => lines(log).includes('ready'), `the program to be ready under ${bin}`, { detail: () => init.stderr() });
    // One at a time: two pending SIGUSR2s would merge into one.
    await init.signal(SIG.HUP);
    await init.signal(SIG.USR1);
    await waitFor(() => lines(log).length >= 2, `a signal to reach the program under ${bin}`, { detail: () => lines(log).join(',') });
    await init.signal(SIG.USR2);
    await waitFor(() => lines(log).length >= 3, `a second signal to reach the program under ${bin}`, { detail: () => lines(log).join(',') });
    await init.signal(SIG.TERM);
    return { log: lines(log), code: await init.exitCode() };
  }

  it('the same program sees the same signals, and ends the same way', async () => {
    const ours = await exercise(path.join(ROOT, 'dist/tini-ts'), ['--map', 'USR1:USR2', '--map', 'HUP:ignore']);
    // dumb-init: --rewrite s:r, r = 0 ignores s.
    const theirs = await exercise('/usr/bin/dumb-init', ['--rewrite', `${SIG.USR1}:${SIG.USR2}`, '--rewrite', `${SIG.HUP}:0`]);
    expect(ours).toEqual({ log: ['ready', 'USR2', 'USR2'], code: 0 });
    expect(ours).toEqual(theirs);
  });
});

describe.each<Mode>(['sub', 'pid1'])('--exit-on-stop (%s)', (mode) => {
  /** Exits 143 on SIGTERM, as the JVM does. */
  const jvmLike = (dir: string) => ['sh', '-c', `trap 'exit 143' TERM; : > "$1/ready"; while :; do sleep 0.05; done`, 'jvm', dir];

  async function stopped(flags: string[], env: Record<string, string> = {}): Promise<number> {
    const dir = tempDir();
    const init = startInit({ mode, flags, env, prog: jvmLike(dir) });
    await waitFor(() => fs.existsSync(path.join(dir, 'ready')), 'the program to be ready', { detail: () => init.stderr() });
    await init.signal(SIG.TERM);
    return init.exitCode();
  }

  it('143 after a forwarded SIGTERM becomes CODE (TINI_EXIT_ON_STOP too); without it, 143 stays', async () => {
    expect(await stopped(['--exit-on-stop', '0'])).toBe(0);
    expect(await stopped([], { TINI_EXIT_ON_STOP: '5' })).toBe(5);
    expect(await stopped([])).toBe(143);
  });

  it('a crash during the stop stays a crash', async () => {
    const dir = tempDir();
    // On SIGTERM this one dies of SIGSEGV instead.
    const prog = ['sh', '-c', `trap 'kill -SEGV $$' TERM; : > "$1/ready"; while :; do sleep 0.05; done`, 'crash', dir];
    const init = startInit({ mode, flags: ['--exit-on-stop', '0'], prog });
    await waitFor(() => fs.existsSync(path.join(dir, 'ready')), 'the program to be ready', { detail: () => init.stderr() });
    await init.signal(SIG.TERM);
    expect(await init.exitCode()).toBe(128 + SIG.SEGV);
  });
});

describe('--exit-on-stop, bad values', () => {
  it('one line naming the flag, exit 1, nothing started', async () => {
    const dir = tempDir();
    const marker = path.join(dir, 'started');
    for (const [flags, env, name] of [
      [['--exit-on-stop', '256'], {}, '--exit-on-stop'],
      [['--exit-on-stop', 'zero'], {}, '--exit-on-stop'],
      [[], { TINI_EXIT_ON_STOP: '-1' }, 'TINI_EXIT_ON_STOP'],
    ] as [string[], Record<string, string>, string][]) {
      const init = startInit({ mode: 'sub', flags, env, prog: ['touch', marker] });
      expect(await init.exitCode()).toBe(1);
      expect(init.stderr()).toMatch(new RegExp(`^tini-ts: ${name}: [^\\n]+\\n$`));
    }
    expect(fs.existsSync(marker)).toBe(false);
  });
});

describe.each<Mode>(['sub', 'pid1'])('--pre-stop (%s)', (mode) => {
  const monoTo = (file: string) => `python3 -c 'import time,sys; open(sys.argv[1],"w").write(str(time.clock_gettime_ns(time.CLOCK_MONOTONIC)))' ${file}`;

  it('runs first on SIGTERM; the program sees SIGTERM only after it ended; its output and status are in the events', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'term');
    const done = path.join(dir, 'pre-stop-done');
    const ev = path.join(dir, 'events');
    const cmd = `echo draining; sleep 0.3; ${monoTo(done)}; echo drained >&2; exit 3`;
    const init = startInit({ mode, flags: ['--pre-stop', cmd, '--grace', '10', '--events', ev], prog: termClock(out) });
    await waitFor(() => fs.existsSync(`${out}.ready`), 'the program to be ready', { detail: () => init.stderr() });
    await init.signal(SIG.TERM);
    expect(await init.exitCode()).toBe(0);
    expect(BigInt(fs.readFileSync(out, 'utf8'))).toBeGreaterThan(BigInt(fs.readFileSync(done, 'utf8')));
    const evs = readEvents(ev);
    expect(evs.find((e) => e.event === 'signal' && e.signo === SIG.TERM)).toMatchObject({ handling: 'delayed' });
    const pre = evs.filter((e) => e.event === 'pre-stop');
    expect(pre.map((e) => e.phase)).toEqual(['started', 'ended']);
    expect(pre[1]).toMatchObject({ pid: pre[0].pid, exit_code: 3, killed: false, output: 'draining\ndrained\n' });
    expect(init.stdout()).toBe('');
  });

  it('bounded by the grace period: killed with what it started, then the stop goes on; without events its output is the init\'s', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'term');
    const ev = path.join(dir, 'events');
    const inner = path.join(dir, 'inner');
    const cmd = `echo hanging; sh -c 'echo $$ > ${inner}; exec sleep 30' & wait`;
    const init = startInit({ mode, flags: ['--pre-stop', cmd, '--grace', '0.5'], prog: termClock(out), env: { TINI_EVENTS: ev } });
    await waitFor(() => fs.existsSync(`${out}.ready`), 'the program to be ready', { detail: () => init.stderr() });
    await init.signal(SIG.TERM);
    await waitFor(() => fs.existsSync(inner) && fs.readFileSync(inner, 'utf8').endsWith('\n'), 'the command\'s own child to run');
    const innerRef = mode === 'sub' ? track(Number(fs.readFileSync(inner, 'utf8'))) : undefined;
    expect(await init.exitCode()).toBe(0);
    // As a subreaper the pids are the host's: what the command started was killed with it (as PID 1 the namespace ends anyway).
    if (innerRef) await waitFor(() => !isRunning(innerRef), 'the command\'s child to be killed');
    const pre = readEvents(ev).filter((e) => e.event === 'pre-stop');
    expect(pre.at(-1)).toMatchObject({ phase: 'ended', killed: true, output: 'hanging\n' });
    // Reaped before the init exited (SIGKILL), or not yet (null): never another status.
    expect([SIG.KILL, null]).toContain(pre.at(-1)!.signo);
    const quiet = startInit({ mode, flags: ['--pre-stop', 'echo to-the-log'], prog: termClock(`${out}2`) });
    await waitFor(() => fs.existsSync(`${out}2.ready`), 'the program to be ready', { detail: () => quiet.stderr() });
    await quiet.signal(SIG.TERM);
    expect(await quiet.exitCode()).toBe(0);
    expect(quiet.stdout()).toBe('to-the-log\n');
  });
});

describe('--pre-stop, bad values', () => {
  it('an empty command is one line naming the flag, exit 1, nothing started', async () => {
    const dir = tempDir();
    const marker = path.join(dir, 'started');
    const init = startInit({ mode: 'sub', flags: ['--pre-stop', ' '], prog: ['touch', marker] });
    expect(await init.exitCode()).toBe(1);
    expect(init.stderr()).toMatch(/^tini-ts: --pre-stop needs a command[^\n]*\n$/);
    expect(fs.existsSync(marker)).toBe(false);
  });
});
