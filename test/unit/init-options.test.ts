import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { atoi, parseInitArgs, parseSeconds, type Env, type InitOptions, type ParseResult } from '../../src/cli/init-options.js';
import { SIG } from '../../src/libc/signals.js';

const TEXTS = { usage: 'USAGE TEXT\n', license: 'LICENSE TEXT\n', version: 'tini version 1.2.3 (tini-ts) - git.abc' };

const parse = (args: string[], env: Env = {}) => parseInitArgs(args, env, TEXTS);

function options(args: string[], env: Env = {}): InitOptions & { programIndex: number } {
  const r = parse(args, env);
  if (r.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(r)}`);
  return { ...r.options, programIndex: r.programIndex };
}

/** A usage error: exit 1, exactly one line on stderr, nothing on stdout. Returns the line. */
function usageError(args: string[], env: Env = {}): string {
  const r = parse(args, env);
  expect(r.kind, JSON.stringify(args)).toBe('exit');
  const e = r as Extract<ParseResult, { kind: 'exit' }>;
  expect(e.code).toBe(1);
  expect(e.stdout).toBeUndefined();
  expect(e.stderr).toMatch(/^tini-ts: [^\n]+ \(see 'tini-ts -h'\)\n$/);
  return e.stderr!;
}

describe('defaults', () => {
  it('runs the first argument with tini\'s defaults', () => {
    expect(options(['app', 'arg'])).toMatchObject({
      subreaper: false,
      parentDeathSignal: null,
      verbosity: 1,
      warnOnReap: false,
      expectedCodes: new Set(),
      graceMs: null,
      programIndex: 0,
    });
  });

  it('no program is a usage error', () => {
    expect(usageError([])).toBe("tini-ts: no program to run given (see 'tini-ts -h')\n");
    expect(usageError(['-s', '-v'])).toContain('no program to run given');
    expect(usageError(['--'])).toContain('no program to run given');
  });
});

describe('-s and TINI_SUBREAPER', () => {
  it('-s enables it', () => expect(options(['-s', 'app']).subreaper).toBe(true));
  it.each(['1', '0', '', 'no'])('TINI_SUBREAPER=%j enables it: set at all, as in tini', (v) => {
    expect(options(['app'], { TINI_SUBREAPER: v }).subreaper).toBe(true);
  });
  it('unset leaves it off', () => expect(options(['app'], { TINI_SUBREAPER: undefined }).subreaper).toBe(false));
});

describe('-v and TINI_VERBOSITY', () => {
  it('counts -v, clustered or not', () => {
    expect(options(['-v', 'app']).verbosity).toBe(2);
    expect(options(['-v', '-v', 'app']).verbosity).toBe(3);
    expect(options(['-vvv', 'app']).verbosity).toBe(4);
    expect(options(['-vsv', 'app']).verbosity).toBe(3);
  });

  it.each([
    ['0', 0],
    ['3', 3],
    ['  2', 2],
    ['+2', 2],
    ['3x', 3],
    ['abc', 0],
    ['', 0],
    ['-1', -1],
    ['99999999999999999999', 0],
  ])('TINI_VERBOSITY=%j is atoi -> %i and overrides -v', (v, n) => {
    expect(options(['-vvv', 'app'], { TINI_VERBOSITY: v }).verbosity).toBe(n);
  });

  it('atoi is C\'s', () => {
    expect(atoi(' \t42abc')).toBe(42);
    expect(atoi('x42')).toBe(0);
    expect(atoi('-7')).toBe(-7);
  });
});

describe('-w and -g', () => {
  it('-w warns on reap', () => expect(options(['-w', 'app']).warnOnReap).toBe(true));
  it('-g is accepted (the group is the default target)', () => {
    expect(options(['-g', 'app'])).toMatchObject({ programIndex: 1 });
    expect(options(['-gsw', 'app'])).toMatchObject({ subreaper: true, warnOnReap: true, programIndex: 1 });
  });
  it('TINI_KILL_PROCESS_GROUP changes nothing', () => {
    expect(options(['app'], { TINI_KILL_PROCESS_GROUP: '1' })).toEqual(options(['app']));
  });
});

describe('-p', () => {
  it.each([
    [['-p', 'SIGKILL'], SIG.KILL],
    [['-p', 'KILL'], SIG.KILL],
    [['-p', 'term'], SIG.TERM],
    [['-p', 'sigusr1'], SIG.USR1],
    [['-p', '9'], 9],
    [['-p', '64'], 64],
    [['-p', 'RTMIN'], 34],
    [['-p', 'RTMIN+2'], 36],
    [['-p', 'SIGRTMAX-1'], 63],
    [['-p', 'SIGIOT'], SIG.ABRT],
    [['-pSIGKILL'], SIG.KILL],
    [['-sp', 'HUP'], SIG.HUP],
    [['-spHUP'], SIG.HUP],
  ])('%j -> %i', (flags, sig) => {
    const o = options([...flags, 'app']);
    expect(o.parentDeathSignal).toBe(sig);
    expect(o.programIndex).toBe(flags.length);
  });

  it.each(['SIGFOO', '0', '65', '32', '33', 'RTMIN+31', 'RTMAX+1', '', '-9', '9x'])('%j is rejected', (v) => {
    expect(usageError(['-p', v, 'app'])).toBe(`tini-ts: -p: not a signal: '${v}' (see 'tini-ts -h')\n`);
  });

  it('a missing value is an error', () => {
    expect(usageError(['-p'])).toBe("tini-ts: -p needs a value (see 'tini-ts -h')\n");
  });

  it('the value may be the next argument even when it looks like a program', () => {
    expect(usageError(['-p', 'app'])).toContain("-p: not a signal: 'app'");
  });
});

describe('-e', () => {
  it('collects exit codes 0..255, repeatable and clustered', () => {
    expect(options(['-e', '0', 'app']).expectedCodes).toEqual(new Set([0]));
    expect(options(['-e', '255', 'app']).expectedCodes).toEqual(new Set([255]));
    expect(options(['-e143', 'app']).expectedCodes).toEqual(new Set([143]));
    expect(options(['-e', '1', '-e', '2', '-se3', 'app'])).toMatchObject({ expectedCodes: new Set([1, 2, 3]), subreaper: true, programIndex: 5 });
    expect(options(['-e', '007', 'app']).expectedCodes).toEqual(new Set([7]));
  });

  it.each(['256', '-1', 'abc', '', '1000', '1.5', ' 1', '0x10'])('%j is rejected', (v) => {
    expect(usageError(['-e', v, 'app'])).toBe(`tini-ts: -e: not an exit code (0-255): '${v}' (see 'tini-ts -h')\n`);
  });

  it('a missing value is an error', () => {
    expect(usageError(['-e'])).toBe("tini-ts: -e needs a value (see 'tini-ts -h')\n");
  });
});

describe('--grace and TINI_GRACE', () => {
  it.each([
    [['--grace', '5'], 5000],
    [['--grace=2.5'], 2500],
    [['--grace', '0'], 0],
    [['--grace=.25'], 250],
    [['--grace=1.'], 1000],
    [['--grace', '0.0004'], 0],
  ])('%j -> %i ms', (flags, ms) => {
    const o = options([...flags, 'app']);
    expect(o.graceMs).toBe(ms);
    expect(o.programIndex).toBe(flags.length);
  });

  it('TINI_GRACE sets it; the flag wins, even over an invalid TINI_GRACE', () => {
    expect(options(['app'], { TINI_GRACE: '3' }).graceMs).toBe(3000);
    expect(options(['--grace', '1', 'app'], { TINI_GRACE: '3' }).graceMs).toBe(1000);
    expect(options(['--grace=1', 'app'], { TINI_GRACE: 'soon' }).graceMs).toBe(1000);
    expect(options(['app'], { TINI_GRACE: '' }).graceMs).toBeNull();
  });

  it('rejects what is not a number of seconds', () => {
    expect(usageError(['--grace', 'soon', 'app'])).toBe("tini-ts: --grace: not a number of seconds: 'soon' (see 'tini-ts -h')\n");
    expect(usageError(['--grace=', 'app'])).toContain("not a number of seconds: ''");
    expect(usageError(['--grace', '-1', 'app'])).toContain("not a number of seconds: '-1'");
    expect(usageError(['--grace', '1e3', 'app'])).toContain("not a number of seconds: '1e3'");
    expect(usageError(['--grace'])).toBe("tini-ts: --grace needs a number of seconds (see 'tini-ts -h')\n");
    expect(usageError(['app'], { TINI_GRACE: 'x' })).toBe("tini-ts: TINI_GRACE: not a number of seconds: 'x' (see 'tini-ts -h')\n");
  });

  it('rejects what setTimeout cannot wait for', () => {
    expect(parseSeconds('2147483')).toBe(2147483000);
    expect(usageError(['--grace', '2147484', 'app'])).toContain("too long: '2147484' (at most 2147483 seconds)");
  });
});

describe('where options stop', () => {
  it('at the first argument that is not an option', () => {
    expect(options(['app', '-s', '-v'])).toMatchObject({ programIndex: 0, subreaper: false, verbosity: 1 });
    expect(options(['-s', 'sh', '-c', 'exit 3'])).toMatchObject({ programIndex: 1, subreaper: true });
  });

  it('after --, even before something that looks like an option', () => {
    expect(options(['--', '-s'])).toMatchObject({ programIndex: 1, subreaper: false });
    expect(options(['-v', '--', '--', 'x'])).toMatchObject({ programIndex: 2, verbosity: 2 });
    expect(options(['--', '-h']).programIndex).toBe(1);
  });

  it('a lone - is a program', () => {
    expect(options(['-'])).toMatchObject({ programIndex: 0 });
    expect(options(['-s', '-', 'x'])).toMatchObject({ programIndex: 1 });
  });
});

describe('help, license, version', () => {
  it.each([['-h'], ['--help'], ['-vh'], ['-s', '-h', 'app']])('%j prints the usage on stdout, exit 0', (...args) => {
    expect(parse(args)).toEqual({ kind: 'exit', code: 0, stdout: TEXTS.usage });
  });

  it.each([['-l'], ['--license'], ['-sl']])('%j prints the license on stdout, exit 0', (...args) => {
    expect(parse(args)).toEqual({ kind: 'exit', code: 0, stdout: TEXTS.license });
  });

  it('--version prints the version line, exit 0', () => {
    expect(parse(['--version'])).toEqual({ kind: 'exit', code: 0, stdout: 'tini version 1.2.3 (tini-ts) - git.abc\n' });
  });

  it('after the program they belong to the program', () => {
    expect(options(['app', '--version'])).toMatchObject({ programIndex: 0 });
    expect(options(['app', '-h'])).toMatchObject({ programIndex: 0 });
  });
});

describe('usage errors', () => {
  it('unknown options, short, long or in a cluster', () => {
    expect(usageError(['-x', 'app'])).toBe("tini-ts: unknown option '-x' (see 'tini-ts -h')\n");
    expect(usageError(['--foo', 'app'])).toBe("tini-ts: unknown option '--foo' (see 'tini-ts -h')\n");
    expect(usageError(['-svx', 'app'])).toBe("tini-ts: unknown option '-x' (see 'tini-ts -h')\n");
    expect(usageError(['--grace5', 'app'])).toContain("unknown option '--grace5'");
  });

  it('name a whole non-ASCII character, not half of a surrogate pair', () => {
    expect(usageError(['-😀', 'app'])).toBe("tini-ts: unknown option '-😀' (see 'tini-ts -h')\n");
  });

  it('stay one line when the value has a newline or other control characters', () => {
    expect(usageError(['--grace', '1\n2', 'app'])).toBe("tini-ts: --grace: not a number of seconds: '1\\n2' (see 'tini-ts -h')\n");
    expect(usageError(['-p', 'A\r\u2028\u0085B', 'app'])).toBe("tini-ts: -p: not a signal: 'A\\r\\u2028\\u0085B' (see 'tini-ts -h')\n");
    expect(usageError(['-\n'])).toBe("tini-ts: unknown option '-\\n' (see 'tini-ts -h')\n");
    expect(usageError(['app'], { TINI_GRACE: '\t\u0000' })).toContain("'\\t\\u0000'");
  });
});

describe('properties', () => {
  const arg = fc.oneof(
    fc.string({ unit: 'binary' }),
    fc.string(),
    fc.constantFrom('-', '--', '-s', '-v', '-vvv', '-w', '-g', '-l', '-h', '--help', '--license', '--version', '-p', '-e', '--grace', '--grace=', '-pKILL', '-e143'),
    fc.string().map((s) => '-' + s),
    fc.string().map((s) => '--' + s),
    fc.string({ unit: 'binary' }).map((s) => '-' + s),
    fc.nat({ max: 300 }).map(String),
  );
  const envValue = fc.option(fc.oneof(fc.string({ unit: 'binary' }), fc.nat({ max: 1000 }).map(String), fc.constantFrom('', '0', '1.5', ' 3x', '-1')), { nil: undefined });
  const env = fc.record({ TINI_SUBREAPER: envValue, TINI_VERBOSITY: envValue, TINI_GRACE: envValue, TINI_KILL_PROCESS_GROUP: envValue });

  it('parseInitArgs never throws; it runs a program inside argv or exits with at most one clean line on stderr', () => {
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 8 }), env, (args, e) => {
        const r = parseInitArgs(args, e, TEXTS);
        if (r.kind === 'run') {
          expect(Number.isInteger(r.programIndex)).toBe(true);
          expect(r.programIndex).toBeGreaterThanOrEqual(0);
          expect(r.programIndex).toBeLessThan(args.length);
          expect(r.options.expectedCodes.size).toBeLessThanOrEqual(args.length);
          if (r.options.graceMs !== null) expect(r.options.graceMs).toBeGreaterThanOrEqual(0);
          return;
        }
        expect([0, 1]).toContain(r.code);
        if (r.stderr !== undefined) {
          expect(r.code).toBe(1);
          expect(r.stderr.endsWith('\n')).toBe(true);
          expect(r.stderr.slice(0, -1)).not.toMatch(/[\n\r\u2028\u2029\u0085]/);
          expect(r.stderr.startsWith('tini-ts: ')).toBe(true);
          expect(r.stderr).not.toMatch(/^\s+at /m);
          // Stack text could only come from the input itself.
          if (![...args, ...Object.values(e)].some((s) => s?.includes('    at '))) expect(r.stderr).not.toContain('    at ');
          // Encodable as UTF-8 without replacement characters the input did not have.
          expect(r.stderr).toBe(Buffer.from(r.stderr).toString());
        } else {
          expect(r.code).toBe(0);
          expect([TEXTS.usage, TEXTS.license, TEXTS.version + '\n']).toContain(r.stdout);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('options after the program or after -- never change the result', () => {
    fc.assert(
      fc.property(fc.array(arg, { maxLength: 4 }), fc.array(arg, { maxLength: 4 }), (rest, extra) => {
        const a = parse(['--', 'app', ...rest]);
        const b = parse(['--', 'app', ...rest, ...extra]);
        expect(a.kind).toBe('run');
        expect(b).toEqual(a);
      }),
    );
  });
});

describe('--map and TINI_MAP', () => {
  it('is empty by default', () => expect(options(['app']).signalMap).toEqual(new Map()));

  it('takes FROM:TO pairs (names, numbers, RTMIN+n) and ignore, repeatable', () => {
    const o = options(['--map', 'USR1:USR2', '--map=hup:ignore', '--map', '15:SIGQUIT', '--map', 'RTMIN+1:IGNORE', 'app']);
    expect(o.signalMap).toEqual(new Map([[SIG.USR1, SIG.USR2], [SIG.HUP, null], [SIG.TERM, SIG.QUIT], [35, null]]));
    expect(o.programIndex).toBe(7);
  });

  it.each([
    [['--map', 'USR1'], '--map: not FROM:TO'],
    [['--map', 'FOO:USR2'], "--map: not a signal: 'FOO'"],
    [['--map', 'USR1:BAR'], "--map: not a signal or 'ignore': 'BAR'"],
    [['--map', 'KILL:TERM'], '--map: SIGKILL cannot be mapped'],
    [['--map', 'STOP:ignore'], '--map: SIGSTOP cannot be mapped'],
    [['--map', 'CHLD:USR1'], '--map: SIGCHLD cannot be mapped'],
    [['--map', 'USR1:USR2', '--map', 'SIGUSR1:ignore'], '--map: SIGUSR1 is mapped twice'],
    [['--map'], '--map needs FROM:TO'],
  ])('%j is a usage error naming the flag', (args, text) => {
    expect(usageError([...args, ...(args.length > 1 || args[0] !== '--map' ? ['app'] : [])])).toContain(text);
  });

  it('TINI_MAP holds rules separated by commas or spaces; any --map replaces it', () => {
    expect(options(['app'], { TINI_MAP: 'USR1:USR2, HUP:ignore' }).signalMap).toEqual(new Map([[SIG.USR1, SIG.USR2], [SIG.HUP, null]]));
    expect(options(['--map', 'INT:TERM', 'app'], { TINI_MAP: 'USR1:USR2' }).signalMap).toEqual(new Map([[SIG.INT, SIG.TERM]]));
    expect(usageError(['app'], { TINI_MAP: 'USR1:USR2,KILL:TERM' })).toContain('TINI_MAP: SIGKILL cannot be mapped');
  });
});

describe('--stop-delay and TINI_STOP_DELAY', () => {
  it('off by default; seconds with decimals; 0 is off', () => {
    expect(options(['app']).stopDelayMs).toBeNull();
    expect(options(['--stop-delay', '2.5', 'app']).stopDelayMs).toBe(2500);
    expect(options(['--stop-delay=0', 'app']).stopDelayMs).toBeNull();
  });

  it('the variable sets it; the flag wins', () => {
    expect(options(['app'], { TINI_STOP_DELAY: '3' }).stopDelayMs).toBe(3000);
    expect(options(['--stop-delay', '1', 'app'], { TINI_STOP_DELAY: 'junk' }).stopDelayMs).toBe(1000);
  });

  it('bad values are one line naming the flag or the variable', () => {
    expect(usageError(['--stop-delay', '-1', 'app'])).toContain("--stop-delay: not a number of seconds: '-1'");
    expect(usageError(['--stop-delay', '5s', 'app'])).toContain('--stop-delay: not a number of seconds');
    expect(usageError(['--stop-delay'])).toContain('--stop-delay needs a number of seconds');
    expect(usageError(['app'], { TINI_STOP_DELAY: 'x' })).toContain("TINI_STOP_DELAY: not a number of seconds: 'x'");
  });
});

describe('--timeout and TINI_TIMEOUT', () => {
  it('off by default; durations as in run (30s, 2m, 1m30s, 500ms; a bare number is seconds)', () => {
    expect(options(['app']).timeoutMs).toBeNull();
    expect(options(['--timeout', '30s', 'app']).timeoutMs).toBe(30_000);
    expect(options(['--timeout=1m30s', 'app']).timeoutMs).toBe(90_000);
    expect(options(['--timeout', '500ms', 'app']).timeoutMs).toBe(500);
    expect(options(['--timeout', '2', 'app']).timeoutMs).toBe(2000);
  });

  it('the variable sets it; the flag wins', () => {
    expect(options(['app'], { TINI_TIMEOUT: '10m' }).timeoutMs).toBe(600_000);
    expect(options(['--timeout', '1s', 'app'], { TINI_TIMEOUT: 'junk' }).timeoutMs).toBe(1000);
  });

  it('bad values are one line naming the flag or the variable', () => {
    expect(usageError(['--timeout', '0', 'app'])).toContain("--timeout: must be more than 0: '0'");
    expect(usageError(['--timeout', '10x', 'app'])).toContain("--timeout: not a duration: '10x'");
    expect(usageError(['--timeout'])).toContain('--timeout needs a duration');
    expect(usageError(['app'], { TINI_TIMEOUT: '-5s' })).toContain("TINI_TIMEOUT: not a duration: '-5s'");
  });
});

describe('--termination-log and TINI_TERMINATION_LOG', () => {
  it('null by default (then /dev/termination-log if it exists); the flag wins over the variable', () => {
    expect(options(['app']).terminationLog).toBeNull();
    expect(options(['--termination-log', '/t/a', 'app'], { TINI_TERMINATION_LOG: '/t/b' }).terminationLog).toBe('/t/a');
    expect(options(['--termination-log=/t/a', 'app']).terminationLog).toBe('/t/a');
    expect(options(['app'], { TINI_TERMINATION_LOG: '/t/b' }).terminationLog).toBe('/t/b');
  });

  it('needs a file name', () => {
    expect(usageError(['--termination-log'])).toContain('--termination-log needs a file name');
    expect(usageError(['--termination-log=', 'app'])).toContain('--termination-log needs a file name');
  });
});

describe('--stop-scope and TINI_STOP_SCOPE', () => {
  it('group by default; all or group from the flag (both forms) or the variable; the flag wins', () => {
    expect(options(['app']).stopScope).toBe('group');
    expect(options(['--stop-scope', 'all', 'app']).stopScope).toBe('all');
    expect(options(['--stop-scope=all', 'app']).stopScope).toBe('all');
    expect(options(['app'], { TINI_STOP_SCOPE: 'all' }).stopScope).toBe('all');
    expect(options(['--stop-scope', 'group', 'app'], { TINI_STOP_SCOPE: 'all' }).stopScope).toBe('group');
    expect(options(['--stop-scope', 'group', 'app'], { TINI_STOP_SCOPE: 'junk' }).stopScope).toBe('group');
  });

  it('anything else is one usage line naming the flag or the variable', () => {
    expect(usageError(['--stop-scope', 'everyone', 'app'])).toContain("--stop-scope: not group or all: 'everyone'");
    expect(usageError(['--stop-scope'])).toContain('--stop-scope needs group or all');
    expect(usageError(['app'], { TINI_STOP_SCOPE: 'All' })).toContain("TINI_STOP_SCOPE: not group or all: 'All'");
  });
});

describe('--exit-on-stop and TINI_EXIT_ON_STOP', () => {
  it('none by default; a code 0-255 from the flag or the variable; the flag wins', () => {
    expect(options(['app']).exitOnStop).toBeNull();
    expect(options(['--exit-on-stop', '0', 'app']).exitOnStop).toBe(0);
    expect(options(['--exit-on-stop=255', 'app']).exitOnStop).toBe(255);
    expect(options(['app'], { TINI_EXIT_ON_STOP: '3' }).exitOnStop).toBe(3);
    expect(options(['--exit-on-stop', '1', 'app'], { TINI_EXIT_ON_STOP: 'junk' }).exitOnStop).toBe(1);
  });

  it('a bad code is one usage line naming the flag or the variable', () => {
    expect(usageError(['--exit-on-stop', '256', 'app'])).toContain("--exit-on-stop: not an exit code (0-255): '256'");
    expect(usageError(['--exit-on-stop'])).toContain('--exit-on-stop needs an exit code');
    expect(usageError(['app'], { TINI_EXIT_ON_STOP: '-1' })).toContain("TINI_EXIT_ON_STOP: not an exit code (0-255): '-1'");
  });
});

describe('--pre-stop and TINI_PRE_STOP', () => {
  it('none by default; the command from the flag or the variable; the flag wins', () => {
    expect(options(['app']).preStop).toBeNull();
    expect(options(['--pre-stop', 'sleep 5; echo done', 'app']).preStop).toBe('sleep 5; echo done');
    expect(options(['--pre-stop=x=1', 'app']).preStop).toBe('x=1');
    expect(options(['app'], { TINI_PRE_STOP: 'drain' }).preStop).toBe('drain');
    expect(options(['--pre-stop', 'a', 'app'], { TINI_PRE_STOP: 'b' }).preStop).toBe('a');
  });

  it('an empty command is one usage line', () => {
    expect(usageError(['--pre-stop', '', 'app'])).toContain('--pre-stop needs a command');
    expect(usageError(['--pre-stop'])).toContain('--pre-stop needs a command');
  });
});

describe('--user and TINI_USER', () => {
  it('USER or USER:GROUP, names or ids; the flag wins', () => {
    expect(options(['app']).user).toBeNull();
    expect(options(['--user', '1000', 'app']).user).toEqual({ user: '1000', group: null });
    expect(options(['--user=app:staff', 'app']).user).toEqual({ user: 'app', group: 'staff' });
    expect(options(['app'], { TINI_USER: '1:2' }).user).toEqual({ user: '1', group: '2' });
    expect(options(['--user', 'a', 'app'], { TINI_USER: 'bad:bad:bad' }).user).toEqual({ user: 'a', group: null });
  });

  it('a malformed value or an id out of the kernel\'s range is one usage line', () => {
    expect(usageError(['--user', 'a:b:c', 'app'])).toContain("--user: not USER[:GROUP]: 'a:b:c'");
    expect(usageError(['--user', ':5', 'app'])).toContain('--user: not USER[:GROUP]');
    expect(usageError(['--user', '4294967296', 'app'])).toContain('--user: user 4294967296 is outside');
    expect(usageError(['--user', '1:4294967296', 'app'])).toContain('--user: group 4294967296 is outside');
    expect(usageError(['app'], { TINI_USER: 'x y' })).toContain('TINI_USER: not USER[:GROUP]');
  });
});
