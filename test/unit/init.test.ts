import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runInit, type InitDeps } from '../../src/init.js';
import type { Env } from '../../src/cli/init-options.js';
import { forwardableSignals, SIG } from '../../src/libc/signals.js';
import { exitedStatus, signaledStatus, type SpawnRequest } from '../../src/libc/types.js';
import type { Supervisor } from '../../src/supervisor/shell.js';
import { FakeLibc } from '../helpers/fake-libc.js';
import { installFakeClock, type FakeClock } from '../helpers/fake-clock.js';
import { ExitCalled, recordingLogger, type RecordingLogger } from './support.js';

// texts.ts imports the LICENSE file as text, which only the esbuild build knows how to load.
vi.mock('../../src/texts.js', () => ({
  VERSION: '9.9.9',
  VERSION_LINE: 'tini version 9.9.9 (tini-ts) - git.abcdef0',
  LICENSE: 'LICENSE TEXT\n',
  USAGE: 'Usage: tini-ts [OPTIONS] [--] PROGRAM [ARGS...]\n',
}));

const NOT_PID1_WARNING = "zombie reaping won't work";

let clock: FakeClock;
beforeEach(() => {
  clock = installFakeClock();
});
afterEach(() => {
  clock.uninstall();
});

interface Options {
  env?: Env;
  libc?: FakeLibc;
  /** What /proc/self/cmdline holds; an Error: /proc is not there. Default: matches args. */
  cmdline?: Buffer | Error;
  openFds?: number[];
  /** Files the PATH lookup finds executable. */
  executables?: string[];
  createLibcError?: Error;
  unavailable?: number[];
  signalPipe?: InitDeps['signalPipe'];
  readTaskLimit?: InitDeps['readTaskLimit'];
  openTerminationLog?: InitDeps['openTerminationLog'];
  exists?: InitDeps['exists'];
  readTextFile?: InitDeps['readTextFile'];
}

interface Outcome {
  /** The exit code, if runInit exited during set-up. */
  code: number | undefined;
  /** exit() calls after set-up (by the supervisor). */
  laterExits: number[];
  stdout: string;
  stderr: string;
  logger: RecordingLogger | undefined;
  loggerArgs: { verbosity: number; pid: number } | undefined;
  libc: FakeLibc;
  libcLoaded: boolean;
  listened: number[] | undefined;
  /** libc.calls.length when listenToSignals was called. */
  listenedAt: number;
  deliver(sig: number): void;
  sup: Supervisor | undefined;
  spawns: SpawnRequest[];
  fatal: string[];
}

function cmdlineFor(args: string[]): Buffer {
  return Buffer.from(['/usr/bin/tini-ts', '/usr/bin/tini-ts', ...args].map((a) => a + '\0').join(''));
}

function runWith(args: string[], o: Options = {}): Outcome {
  const libc = o.libc ?? new FakeLibc();
  let setupDone = false;
  const out: Outcome = {
    code: undefined,
    laterExits: [],
    stdout: '',
    stderr: '',
    logger: undefined,
    loggerArgs: undefined,
    libc,
    libcLoaded: false,
    listened: undefined,
    listenedAt: -1,
    deliver: () => {
      throw new Error('no signal listener');
    },
    sup: undefined,
    spawns: libc.spawnRequests,
    fatal: [],
  };
  const deps: InitDeps = {
    createLibc: () => {
      out.libcLoaded = true;
      if (o.createLibcError) throw o.createLibcError;
      return libc;
    },
    env: o.env ?? {},
    exit: (code) => {
      if (setupDone) {
        out.laterExits.push(code);
        return undefined as never; // the supervisor's exit is its last action
      }
      throw new ExitCalled(code);
    },
    listenToSignals: (signals, onSignal) => {
      out.listened = signals;
      out.listenedAt = libc.calls.length;
      out.deliver = onSignal;
      return { unavailable: o.unavailable ?? [] };
    },
    writeStdout: (t) => void (out.stdout += t),
    writeStderr: (t) => void (out.stderr += t),
    createLogger: (verbosity, pid) => {
      out.loggerArgs = { verbosity, pid };
      out.logger = recordingLogger(verbosity, pid);
      return out.logger;
    },
    now: () => clock.now(),
    readCmdline: () => {
      const c = o.cmdline ?? cmdlineFor(args);
      if (c instanceof Error) throw c;
      return c;
    },
    isFdOpen: (fd) => (o.openFds ?? [0, 1, 2]).includes(fd),
    isExecutableFile: (file) => (o.executables ?? []).includes(file),
    signalPipe: o.signalPipe,
    readTaskLimit: o.readTaskLimit,
    openTerminationLog: o.openTerminationLog,
    exists: o.exists,
    readTextFile: o.readTextFile,
  };
  try {
    out.sup = runInit(args, deps);
    setupDone = true;
  } catch (e) {
    if (!(e instanceof ExitCalled)) throw e;
    out.code = e.code;
  }
  out.fatal = out.logger?.messages('fatal') ?? [];
  return out;
}

const callNames = (libc: FakeLibc) => libc.calls.map((c) => c.name);
const argvOf = (req: SpawnRequest) => req.argv.map((b) => b.toString());

describe('start-up', () => {
  it('runs tini\'s steps in order and spawns the program in its own group', () => {
    const r = runWith(['-p', 'SIGTERM', 'app', '--flag', 'x']);
    expect(r.code).toBeUndefined();
    expect(callNames(r.libc)).toEqual([
      'getpid', 'setProcessName', 'ignoreSignal', 'ignoreSignal', 'setParentDeathSignal',
      'unblockSignals', 'tcgetpgrp', 'spawn',
    ]);
    expect(r.libc.processName).toBe('tini-ts');
    expect([...r.libc.ignored]).toEqual([SIG.TTIN, SIG.TTOU]);
    expect(r.libc.parentDeathSignal).toBe(SIG.TERM);
    expect(r.spawns).toHaveLength(1);
    expect(argvOf(r.spawns[0])).toEqual(['app', '--flag', 'x']);
    expect(r.spawns[0]).toMatchObject({ newProcessGroup: true, foregroundTty: false, passFds: [0, 1, 2] });
    expect(r.sup?.state.config.childPid).toBe(r.libc.children()[0].pid);
    expect(r.logger?.records).toEqual([]); // verbosity 1, PID 1: nothing to say
  });

  it('listens to every forwarded signal and SIGCHLD before the child exists, and unblocks them', () => {
    const r = runWith(['app']);
    const expected = [...forwardableSignals(), SIG.CHLD];
    expect(r.listened).toEqual(expected);
    const spawnAt = callNames(r.libc).indexOf('spawn');
    expect(r.listenedAt).toBeLessThanOrEqual(callNames(r.libc).indexOf('unblockSignals'));
    expect(r.listenedAt).toBeLessThan(spawnAt);
    expect(r.libc.callsOf('unblockSignals')).toEqual([[expected]]);
  });

  it('logs signals it cannot listen to at debug', () => {
    const r = runWith(['-vv', 'app'], { unavailable: [40] });
    expect(r.logger?.messages('debug')).toContain('signal 40 cannot be listened to and will not be forwarded');
  });

  it('uses the libc pid and the verbosity for the logger, and reports the spawn at info', () => {
    const libc = new FakeLibc();
    libc.pid = 7;
    libc.subreaper = true;
    const r = runWith(['-v', 'app'], { libc });
    expect(r.loggerArgs).toEqual({ verbosity: 2, pid: 7 });
    expect(r.logger?.messages('info')).toEqual([`Spawned child process 'app' with pid '${r.libc.children()[0].pid}'`]);
  });

  it('passes only the stdio descriptors that are open', () => {
    const r = runWith(['app'], { openFds: [0, 2] });
    expect(r.spawns[0].passFds).toEqual([0, 2]);
  });
});

describe('set-up failures are fatal, with one line naming the call and the errno', () => {
  it('setProcessName failing is not fatal', () => {
    const libc = new FakeLibc().failNext('setProcessName', 'EPERM');
    const r = runWith(['-vv', 'app'], { libc });
    expect(r.code).toBeUndefined();
    expect(r.spawns).toHaveLength(1);
    expect(r.logger?.messages('debug')).toContain('prctl(PR_SET_NAME) failed: EPERM');
  });

  it.each(['EINVAL', 'EFAULT'])('ignoreSignal %s', (errno) => {
    const r = runWith(['app'], { libc: new FakeLibc().failNext('ignoreSignal', errno) });
    expect(r.code).toBe(1);
    expect(r.fatal).toEqual([`signal failed: ${errno}`]);
    expect(r.spawns).toEqual([]);
  });

  it('ignoreSignal failing for SIGTTOU only', () => {
    const libc = new FakeLibc();
    libc.returnNext('ignoreSignal', undefined).failNext('ignoreSignal', 'EINVAL');
    const r = runWith(['app'], { libc });
    expect(r.code).toBe(1);
    expect(r.libc.callsOf('ignoreSignal')).toEqual([[SIG.TTIN], [SIG.TTOU]]);
  });

  it.each(['EINVAL', 'EPERM'])('setParentDeathSignal %s', (errno) => {
    const r = runWith(['-p', 'SIGKILL', 'app'], { libc: new FakeLibc().failNext('setParentDeathSignal', errno) });
    expect(r.code).toBe(1);
    expect(r.fatal).toEqual([`prctl(PR_SET_PDEATHSIG) failed: ${errno}`]);
    expect(r.spawns).toEqual([]);
  });

  it('setParentDeathSignal is not called without -p', () => {
    const r = runWith(['app']);
    expect(r.libc.callsOf('setParentDeathSignal')).toEqual([]);
  });

  it('setParentDeathSignal gets the -p signal, real-time ones included', () => {
    expect(runWith(['-p', 'RTMIN+3', 'app']).libc.callsOf('setParentDeathSignal')).toEqual([[37]]);
    expect(runWith(['-pUSR1', 'app']).libc.callsOf('setParentDeathSignal')).toEqual([[SIG.USR1]]);
  });

  it('setChildSubreaper EINVAL names the kernel it needs', () => {
    const libc = new FakeLibc().failNext('setChildSubreaper', 'EINVAL');
    libc.pid = 42;
    const r = runWith(['-s', 'app'], { libc });
    expect(r.code).toBe(1);
    expect(r.fatal).toEqual(['prctl(PR_SET_CHILD_SUBREAPER) failed: EINVAL (Linux >= 3.4 is needed)']);
    expect(r.spawns).toEqual([]);
  });

  it('setChildSubreaper EPERM', () => {
    const libc = new FakeLibc().failNext('setChildSubreaper', 'EPERM');
    libc.pid = 42;
    const r = runWith(['-s', 'app'], { libc });
    expect(r.code).toBe(1);
    expect(r.fatal).toEqual(['prctl(PR_SET_CHILD_SUBREAPER) failed: EPERM']);
  });

  it('setChildSubreaper is not called as PID 1, even with -s', () => {
    const r = runWith(['-s', 'app']);
    expect(r.libc.callsOf('setChildSubreaper')).toEqual([]);
    expect(r.spawns).toHaveLength(1);
  });

  it.each(['EINVAL', 'EPERM'])('unblockSignals %s', (errno) => {
    const r = runWith(['app'], { libc: new FakeLibc().failNext('unblockSignals', errno) });
    expect(r.code).toBe(1);
    expect(r.fatal).toEqual([`pthread_sigmask failed: ${errno}`]);
    expect(r.spawns).toEqual([]);
  });

  it('a libc that cannot load is one FATAL line, not a stack', () => {
    const r = runWith(['app'], { createLibcError: new Error('cannot load the FFI addon (koffi.node); tried /tmp: EROFS\n    at dlopen (x.js:1:1)') });
    expect(r.code).toBe(1);
    expect(r.fatal).toEqual(['cannot load libc: cannot load the FFI addon (koffi.node); tried /tmp: EROFS']);
  });

  it('every fatal message is one line', () => {
    const cases: [string[], (l: FakeLibc) => void][] = [
      [['app'], (l) => l.failNext('ignoreSignal', 'EINVAL')],
      [['-p', '9', 'app'], (l) => l.failNext('setParentDeathSignal', 'EINVAL')],
      [['-s', 'app'], (l) => { l.pid = 5; l.failNext('setChildSubreaper', 'EINVAL'); }],
      [['app'], (l) => l.failNext('unblockSignals', 'EINVAL')],
      [['app'], (l) => l.failNext('spawn', 'ENOENT')],
    ];
    for (const [args, setup] of cases) {
      const libc = new FakeLibc();
      setup(libc);
      const r = runWith(args, { libc });
      expect(r.fatal).toHaveLength(1);
      expect(r.fatal[0]).not.toContain('\n');
    }
  });
});

describe('the not-PID-1 warning', () => {
  const notPid1 = (setup: (l: FakeLibc) => void = () => {}) => {
    const libc = new FakeLibc();
    libc.pid = 4321;
    setup(libc);
    return libc;
  };

  it('is printed when not PID 1 and not a subreaper', () => {
    const r = runWith(['app'], { libc: notPid1() });
    const warnings = r.logger!.messages('warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(NOT_PID1_WARNING);
    expect(warnings[0]).toContain('use the -s option or set the environment variable TINI_SUBREAPER');
    expect(r.spawns).toHaveLength(1);
  });

  it('is not printed as PID 1 (and the subreaper state is not even asked)', () => {
    const r = runWith(['app']);
    expect(r.logger!.records).toEqual([]);
    expect(r.libc.callsOf('isChildSubreaper')).toEqual([]);
  });

  it('is not printed with -s, TINI_SUBREAPER (even "0" or empty), or an inherited subreaper', () => {
    for (const [args, env] of [[['-s', 'app'], {}], [['app'], { TINI_SUBREAPER: '0' }], [['app'], { TINI_SUBREAPER: '' }]] as const) {
      const r = runWith([...args], { libc: notPid1(), env });
      expect(r.libc.subreaper).toBe(true);
      expect(r.logger!.messages('warn').join('\n')).not.toContain(NOT_PID1_WARNING);
    }
    const inherited = runWith(['app'], { libc: notPid1((l) => (l.subreaper = true)) });
    expect(inherited.libc.callsOf('setChildSubreaper')).toEqual([]);
    expect(inherited.logger!.records).toEqual([]);
  });

  it('is printed when the subreaper state cannot be read (and start-up goes on)', () => {
    const r = runWith(['-vv', 'app'], { libc: notPid1((l) => l.failNext('isChildSubreaper', 'EINVAL')) });
    expect(r.logger!.messages('warn')[0]).toContain(NOT_PID1_WARNING);
    expect(r.logger!.messages('debug')).toContain('prctl(PR_GET_CHILD_SUBREAPER) failed: EINVAL');
    expect(r.spawns).toHaveLength(1);
  });

  it('TINI_VERBOSITY=0 silences it, even with -v', () => {
    const r = runWith(['-v', 'app'], { libc: notPid1(), env: { TINI_VERBOSITY: '0' } });
    expect(r.logger!.records).toEqual([]);
    expect(r.spawns).toHaveLength(1);
  });
});

describe('terminal', () => {
  it('tcgetpgrp ENOTTY: no foreground hand-over', () => {
    const r = runWith(['-vv', 'app']);
    expect(r.libc.callsOf('tcgetpgrp')).toEqual([[0]]);
    expect(r.spawns[0].foregroundTty).toBe(false);
    expect(r.logger!.messages('debug')).toContain('tcgetpgrp(0) failed: ENOTTY: the terminal stays as it is');
  });

  it.each(['EBADF', 'ENXIO'])('tcgetpgrp %s: no foreground hand-over', (errno) => {
    const r = runWith(['app'], { libc: new FakeLibc().failNext('tcgetpgrp', errno) });
    expect(r.spawns[0].foregroundTty).toBe(false);
    expect(r.code).toBeUndefined();
  });

  it('hands the terminal over when the init\'s group holds it', () => {
    const libc = new FakeLibc();
    libc.foregroundPgrp = libc.pgrp;
    expect(runWith(['app'], { libc }).spawns[0].foregroundTty).toBe(true);
  });

  it('never steals the terminal from another foreground group', () => {
    const libc = new FakeLibc();
    libc.foregroundPgrp = libc.pgrp + 50;
    expect(runWith(['app'], { libc }).spawns[0].foregroundTty).toBe(false);
  });
});

describe('exec failures', () => {
  const failing = (...errnos: string[]) => {
    const libc = new FakeLibc();
    for (const e of errnos) libc.failNext('spawn', e);
    return libc;
  };

  it('ENOENT exits 127 and names the program', () => {
    const r = runWith(['/nonexistent', 'a'], { libc: failing('ENOENT') });
    expect(r.code).toBe(127);
    expect(r.fatal).toEqual(['exec /nonexistent failed: No such file or directory (ENOENT)']);
    expect(r.spawns).toHaveLength(1);
  });

  it('EACCES exits 126', () => {
    const r = runWith(['/etc'], { libc: failing('EACCES') });
    expect(r.code).toBe(126);
    expect(r.fatal).toEqual(['exec /etc failed: Permission denied (EACCES)']);
  });

  it('EIO exits 1', () => {
    const r = runWith(['app'], { libc: failing('EIO') });
    expect(r.code).toBe(1);
    expect(r.fatal).toEqual(['exec app failed: Input/output error (EIO)']);
  });

  it('-e 127 turns a missing program into 0, -e 126 a forbidden one', () => {
    expect(runWith(['-e', '127', '/nonexistent'], { libc: failing('ENOENT') }).code).toBe(0);
    expect(runWith(['-e126', '/etc'], { libc: failing('EACCES') }).code).toBe(0);
    expect(runWith(['-e', '126', '/nonexistent'], { libc: failing('ENOENT') }).code).toBe(127);
  });

  it('ENOEXEC: runs the file with /bin/sh, as execvp would', () => {
    const r = runWith(['./script.sh', 'a', 'b c'], { libc: failing('ENOEXEC') });
    expect(r.code).toBeUndefined();
    expect(r.spawns.map(argvOf)).toEqual([
      ['./script.sh', 'a', 'b c'],
      ['/bin/sh', './script.sh', 'a', 'b c'],
    ]);
    expect(r.spawns[1]).toMatchObject({ newProcessGroup: true, passFds: [0, 1, 2] });
  });

  it('ENOEXEC: a bare name is looked up in PATH from the environment', () => {
    const r = runWith(['script', 'x'], {
      libc: failing('ENOEXEC'),
      env: { PATH: '/nope:/opt/bin:/usr/bin' },
      executables: ['/opt/bin/script', '/usr/bin/script'],
    });
    expect(r.spawns.map(argvOf)[1]).toEqual(['/bin/sh', '/opt/bin/script', 'x']);
  });

  it('ENOEXEC: not found in PATH exits 126 without a retry', () => {
    const r = runWith(['script'], { libc: failing('ENOEXEC'), env: { PATH: '/a:/b' } });
    expect(r.spawns).toHaveLength(1);
    expect(r.code).toBe(126);
    expect(r.fatal).toEqual(['exec script failed: Exec format error (ENOEXEC)']);
  });

  it('ENOEXEC: the /bin/sh retry failing reports its own error', () => {
    const r = runWith(['/x/script'], { libc: failing('ENOEXEC', 'ENOENT') });
    expect(r.spawns).toHaveLength(2);
    expect(r.code).toBe(127);
  });
});

describe('program argv', () => {
  it('takes the bytes from /proc/self/cmdline, so non-UTF-8 arguments reach the child unchanged', () => {
    const raw = Buffer.from([0xff, 0xfe, 0x41]);
    const args = ['-s', 'app', raw.toString()];
    const cmdline = Buffer.concat([Buffer.from('/usr/bin/tini-ts\0/usr/bin/tini-ts\0-s\0app\0'), raw, Buffer.from([0])]);
    const r = runWith(args, { cmdline });
    expect(r.spawns[0].argv).toEqual([Buffer.from('app'), raw]);
  });

  it('keeps empty arguments', () => {
    const r = runWith(['sh', '-c', '', 'x']);
    expect(argvOf(r.spawns[0])).toEqual(['sh', '-c', '', 'x']);
  });

  it('falls back to the strings when /proc is missing or does not match', () => {
    expect(argvOf(runWith(['app', 'é'], { cmdline: new Error('ENOENT') }).spawns[0])).toEqual(['app', 'é']);
    expect(argvOf(runWith(['app', 'b'], { cmdline: Buffer.from('x\0app\0other\0') }).spawns[0])).toEqual(['app', 'b']);
    expect(argvOf(runWith(['app', 'b'], { cmdline: Buffer.from('b\0') }).spawns[0])).toEqual(['app', 'b']);
  });
});

describe('command line exits', () => {
  it('-h prints the usage on stdout, exits 0 and never loads libc', () => {
    const r = runWith(['-h']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: tini-ts [OPTIONS] [--] PROGRAM [ARGS...]');
    expect(r.stderr).toBe('');
    expect(r.libcLoaded).toBe(false);
  });

  it('--version prints tini\'s format', () => {
    const r = runWith(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('tini version 9.9.9 (tini-ts) - git.abcdef0\n');
  });

  it('a usage error is one line on stderr, exit 1, and never loads libc', () => {
    const r = runWith(['-x', 'app']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("tini-ts: unknown option '-x' (see 'tini-ts -h')\n");
    expect(r.stdout).toBe('');
    expect(r.libcLoaded).toBe(false);
  });

  it('reads TINI_* from the injected environment', () => {
    const r = runWith(['app'], { env: { TINI_GRACE: 'soon' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("tini-ts: TINI_GRACE: not a number of seconds: 'soon' (see 'tini-ts -h')\n");
  });
});

describe('after the spawn', () => {
  it('forwards signals, reaps, and exits with the child\'s code through the injected exit', () => {
    const r = runWith(['--grace', '2', 'app']);
    const child = r.libc.children()[0];
    r.deliver(SIG.HUP);
    expect(child.received).toEqual([SIG.HUP]);
    r.deliver(SIG.TERM);
    clock.advance(2000);
    expect(child.received).toEqual([SIG.HUP, SIG.TERM, SIG.KILL]);
    r.deliver(SIG.CHLD);
    expect(r.laterExits).toEqual([137]);
  });

  it('exits with 128+N and applies -e to it', () => {
    const r = runWith(['-e', '143', 'app']);
    r.libc.exit(r.libc.children()[0].pid, signaledStatus(SIG.TERM));
    r.deliver(SIG.CHLD);
    expect(r.laterExits).toEqual([0]);
  });

  it('never throws, whatever libc answers', () => {
    const r = runWith(['--grace', '0.5', '-w', 'app']);
    r.libc.failAlways('kill', 'EPERM').failAlways('waitpid', 'EINVAL');
    for (const sig of [...forwardableSignals(), SIG.CHLD]) expect(() => r.deliver(sig)).not.toThrow();
    expect(() => clock.advance(10_000)).not.toThrow();
    expect(r.laterExits).toEqual([]);
    r.libc.clearScripts();
    const child = r.libc.children()[0];
    r.libc.exit(child.pid, exitedStatus(9));
    r.deliver(SIG.CHLD);
    expect(r.laterExits).toEqual([9]);
  });
});

describe('the signal pipe', () => {
  it('is sized once the child runs, then SIGTTIN is ignored again (the probe listened to it); a failure is only a debug line', () => {
    const libc = new FakeLibc();
    libc.pipes.set(18, { bytes: 0, capacity: 65536 });
    libc.raiseWrites = { fd: 18, bytes: 16 };
    const r = runWith(['-vvvv', 'app'], {
      libc,
      signalPipe: { ownPipes: () => [18], withListener: (_sig, fn) => (fn(), true), pipeMaxSize: () => undefined },
    });
    expect(r.code).toBeUndefined();
    const names = callNames(libc);
    expect(names.indexOf('setPipeSize')).toBeGreaterThan(names.indexOf('spawn'));
    // SIGTTIN is ignored again right after the probe, before the pipe is resized.
    expect(names.lastIndexOf('ignoreSignal')).toBeGreaterThan(names.indexOf('raise'));
    expect(names.lastIndexOf('ignoreSignal')).toBeLessThan(names.indexOf('setPipeSize'));
    expect(libc.callsOf('ignoreSignal').at(-1)).toEqual([SIG.TTIN]);
    expect(names.filter((n) => n === 'ignoreSignal')).toHaveLength(3);
    expect(libc.pipes.get(18)!.capacity).toBe(2 * 1024 * 1024);
    expect(r.logger!.messages('trace')).toContain('Signal pipe (fd 18) holds 131072 signals (RLIMIT_SIGPENDING 96365)');

    const failing = new FakeLibc();
    failing.failAlways('sigpendingLimit', 'EPERM');
    const f = runWith(['-vvv', 'app'], {
      libc: failing,
      signalPipe: { ownPipes: () => [], withListener: () => false, pipeMaxSize: () => undefined },
    });
    expect(f.code).toBeUndefined();
    expect(f.spawns).toHaveLength(1);
    expect(failing.callsOf('ignoreSignal').at(-1)).toEqual([SIG.TTIN]);
    expect(f.logger!.messages('debug')).toContain('Signal pipe left at its default size: getrlimit(RLIMIT_SIGPENDING) failed: EPERM');
  });
});

describe('a spawn refused by the task limit (EAGAIN)', () => {
  it('one FATAL line names the pids limit reached and what the init needs; exit 1', () => {
    const libc = new FakeLibc().failNext('spawn', 'EAGAIN');
    const r = runWith(['app'], { libc, readTaskLimit: () => ({ limit: { file: '/sys/fs/cgroup/pids/t/pids.max', max: 3, current: 3 }, initTasks: 3 }) });
    expect(r.code).toBe(1);
    expect(r.fatal).toEqual([
      "exec app failed: Resource temporarily unavailable (EAGAIN): the pids limit is reached (/sys/fs/cgroup/pids/t/pids.max: 3, 3 in use); " +
        "the init takes 3 tasks (Node's main thread and its helper threads) and the program at least 1 more, so pids.max must be at least 4",
    ]);
  });
  it('without a pids limit reached, names RLIMIT_NPROC and threads-max; other errors look nowhere', () => {
    const libc = new FakeLibc().failNext('spawn', 'EAGAIN');
    const r = runWith(['app'], { libc, readTaskLimit: () => ({ limit: undefined, initTasks: 3 }) });
    expect(r.code).toBe(1);
    expect(r.fatal[0]).toMatch(/^exec app failed: Resource temporarily unavailable \(EAGAIN\): the process or thread limit is reached \(RLIMIT_NPROC/);
    let asked = false;
    const e = runWith(['app'], { libc: new FakeLibc().failNext('spawn', 'ENOMEM'), readTaskLimit: () => ((asked = true), { limit: undefined, initTasks: 3 }) });
    expect(e.fatal).toEqual(['exec app failed: Cannot allocate memory (ENOMEM)']);
    expect(asked).toBe(false);
  });
});

describe('--termination-log', () => {
  const failingSpawn = (errno: string) => {
    const libc = new FakeLibc();
    libc.failNext('spawn', errno);
    return libc;
  };

  /** A fake file system for the termination log: what was opened, and what each file holds. */
  function files(failing: Record<string, string> = {}) {
    const content = new Map<string, string>();
    const opened: string[] = [];
    const openTerminationLog = (file: string) => {
      opened.push(file);
      if (failing[file]) return { error: failing[file] };
      content.set(file, '');
      return (text: string) => void content.set(file, text);
    };
    return { content, opened, openTerminationLog };
  }

  it('gets the termination message when the init exits, the stop included', () => {
    const f = files();
    const r = runWith(['--termination-log', '/t/log', 'app'], { openTerminationLog: f.openTerminationLog, exists: () => false });
    expect(r.code).toBeUndefined();
    expect(f.opened).toEqual(['/t/log']);
    const child = [...r.libc.processes.values()].at(-1)!;
    r.deliver(SIG.TERM);
    clock.advance(1500);
    r.libc.exit(child.pid, signaledStatus(SIG.TERM));
    r.deliver(SIG.CHLD);
    expect(r.laterExits).toEqual([143]);
    expect(f.content.get('/t/log')).toBe('stopped by SIGTERM after 1.5s; SIGKILL needed: no; the program was killed by SIGTERM');
    expect(r.logger!.messages('warn')).toContain('stopped by SIGTERM after 1.5s; SIGKILL needed: no');
  });

  it('a file that cannot be opened is one FATAL line naming the flag, exit 1, and nothing is started', () => {
    const f = files({ '/ro/log': 'EROFS' });
    const r = runWith(['--termination-log', '/ro/log', 'app'], { openTerminationLog: f.openTerminationLog });
    expect(r.code).toBe(1);
    expect(r.fatal).toEqual(['--termination-log /ro/log: cannot open: EROFS']);
    expect(r.spawns).toEqual([]);
  });

  it('by default, /dev/termination-log only when it exists, and a failure there is no error', () => {
    const absent = files();
    runWith(['app'], { openTerminationLog: absent.openTerminationLog, exists: () => false });
    expect(absent.opened).toEqual([]);
    const present = files();
    runWith(['app'], { openTerminationLog: present.openTerminationLog, exists: (p) => p === '/dev/termination-log' });
    expect(present.opened).toEqual(['/dev/termination-log']);
    const broken = files({ '/dev/termination-log': 'EACCES' });
    const r = runWith(['app'], { openTerminationLog: broken.openTerminationLog, exists: () => true });
    expect(r.code).toBeUndefined();
    expect(r.spawns).toHaveLength(1);
  });

  it('an exec failure is the message too', () => {
    const f = files();
    const r = runWith(['--termination-log', '/t/log', 'nope'], { libc: failingSpawn('ENOENT'), openTerminationLog: f.openTerminationLog });
    expect(r.code).toBe(127);
    expect(f.content.get('/t/log')).toMatch(/^exec nope failed: .* \(ENOENT\)$/);
  });
});

describe('--user', () => {
  const files: Record<string, string> = {
    '/etc/passwd': 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n',
    '/etc/group': 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n',
  };
  const readTextFile = (f: string) => files[f] ?? '';

  it('resolves the name from the image\'s files and spawns the program (only) with those credentials', () => {
    const out = runWith(['--user', 'app', '--pre-stop', 'true', '--', 'prog'], { readTextFile });
    expect(out.code).toBeUndefined();
    expect(out.spawns[0].credentials).toEqual({ uid: 1000, gid: 1000, groups: [50] });
    expect(out.sup!.state.config.preStop?.credentials).toEqual({ uid: 1000, gid: 1000, groups: [50] });
  });

  it('an unknown name: one line naming the flag, exit 1, before the FFI is even loaded', () => {
    const out = runWith(['--user', 'nobody-here', '--', 'prog'], { readTextFile });
    expect(out.code).toBe(1);
    expect(out.stderr).toBe("tini-ts: --user: no user 'nobody-here' in the container's /etc/passwd\n");
    expect(out.libcLoaded).toBe(false);
    expect(out.spawns).toEqual([]);
  });

  it('taking the ids failing (not root): one FATAL line naming the flag and the call, exit 1', () => {
    const libc = new FakeLibc();
    libc.spawn = (req) => (req.credentials ? { ok: false, call: 'setgroups', errno: 1, code: 'EPERM' } : FakeLibc.prototype.spawn.call(libc, req));
    const out = runWith(['--user', '1000', '--', 'prog'], { readTextFile, libc });
    expect(out.code).toBe(1);
    expect(out.fatal).toEqual(['--user 1000:1000: setgroups failed: EPERM (running the program as another user needs root)']);
  });
});
