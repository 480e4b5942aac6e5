import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NAMESPACES, RUN_USAGE, cgroupParentProblem } from '../../src/cli/run-options.js';
import { expectRunRefused as fails, parseRun as parse, parsedRun as ok } from './support.js';

describe('tini-ts run: command line', () => {
  it('defaults: every namespace, no limits, 10s grace', () => {
    const r = ok('--', 'sh', '-c', 'exit 3');
    expect(r.argv).toEqual(['sh', '-c', 'exit 3']);
    expect([...r.options.namespaces].sort()).toEqual([...NAMESPACES].sort());
    expect(r.options.limits).toEqual({});
    expect(r.options.graceMs).toBe(10_000);
    expect(r.options.timeoutMs).toBeNull();
  });

  it('options end at the first non-option, and the program keeps its own options', () => {
    expect(ok('--pids', '5', 'ls', '-l', '--pids').argv).toEqual(['ls', '-l', '--pids']);
  });

  it('parses every limit in both --flag value and --flag=value forms', () => {
    const r = ok('-m', '512m', '--memory-swap=1g', '--pids=32', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0-1', '--', 'x');
    // as docker writes them into a config.json: --cpus 0.5 is a quota of half of docker's 100 ms period
    expect(r.options.limits).toEqual({
      memory: { limit: 512 * 1024 ** 2, swap: 1024 ** 3 },
      pids: { limit: 32 },
      cpu: { quota: 50_000, period: 100_000, shares: 512, cpus: '0-1' },
    });
  });

  it('--share, --hostname, --timeout, --grace, --report, -q, -v', () => {
    const r = ok('--share', 'net,ipc', '--share=mnt', '--hostname', 'box', '--timeout', '1m30s', '--grace', '500ms', '--report', '/tmp/r.json', '-q', '-vv', 'x');
    expect([...r.options.namespaces].sort()).toEqual(['cgroup', 'pid', 'uts']);
    expect(r.options.hostname).toBe('box');
    expect(r.options.timeoutMs).toBe(90_000);
    expect(r.options.graceMs).toBe(500);
    expect(r.options.reportFile).toBe('/tmp/r.json');
    expect(r.options.quiet).toBe(true);
    expect(r.options.verbosity).toBe(3);
  });

  it('--memory-swap -1 is unlimited swap', () => {
    expect(ok('-m', '64m', '--memory-swap', '-1', 'x').options.limits.memory?.swap).toBe(-1);
  });

  it('help goes to stdout with status 0', () => {
    const r = parse('--help');
    expect(r).toMatchObject({ kind: 'exit', code: 0 });
    expect(r.kind === 'exit' && r.stdout).toMatch(/Usage: tini-ts run/);
  });

  it.each<[string[], RegExp]>([
    [['--bogus', 'x'], /unknown option '--bogus'.*--help/],
    [['-x', 'x'], /unknown option '-x'/],
    [['--memory'], /--memory needs a value/],
    [['--memory', '12q', 'x'], /--memory: unknown unit 'q'/],
    [['--memory', 'lots', 'x'], /--memory: not a size/],
    [['--memory', '1m', 'x'], /too small; give at least 16m/],
    [['--memory-swap', '1g', 'x'], /needs --memory too/],
    [['-m', '1g', '--memory-swap', '512m', 'x'], /at least --memory/],
    [['--pids', '0', 'x'], /--pids: not a number of tasks/],
    [['--pids', '3.5', 'x'], /--pids/],
    [['--cpus', '0', 'x'], /--cpus: not a positive number/],
    [['--cpus', '3', 'x'], /more than the 2 CPUs/],
    [['--cpus', '0.001', 'x'], /minimum/],
    [['--cpu-shares', '1', 'x'], /2 to 262144/],
    [['--cpuset-cpus', '0-5', 'x'], /CPU 5 does not exist/],
    [['--cpuset-cpus', 'x-y', 'x'], /not a CPU list/],
    [['--share', 'user', 'x'], /unknown namespace 'user'/],
    [['--share', 'uts', '--hostname', 'h', 'x'], /--hostname needs a uts namespace/],
    [['--hostname', 'bad name', 'x'], /not a valid host name/],
    [['--timeout', 'soon', 'x'], /--timeout: not a duration/],
    [['--timeout', '0', 'x'], /more than 0/],
    [['--report=', 'x'], /--report needs a file name/],
    [[], /no program to run given/],
    [['-m', '64m', '--'], /no program to run given/],
  ])('rejects %j with one line and exit 125', (args, pattern) => fails(args, pattern));
});

describe('tini-ts run --cgroup-parent', () => {
  it('defaults to tini-ts; takes a relative path, nested or not, in both forms', () => {
    expect(ok('--', 'x').options.cgroupParent).toBe('tini-ts');
    expect(ok('--cgroup-parent', 'ci', '--', 'x').options.cgroupParent).toBe('ci');
    expect(ok('--cgroup-parent=ci/job-42.slice', '--', 'x').options.cgroupParent).toBe('ci/job-42.slice');
    expect(ok('--cgroup-parent', 'tini-ts-test-1-abc', '--cgroup-root', '/tmp/x', '--', 'x').options).toMatchObject({ cgroupParent: 'tini-ts-test-1-abc', cgroupRoot: '/tmp/x' });
  });

  it.each<[string, RegExp]>([
    ['/sys/fs/cgroup/x', /must be relative/],
    ['/', /must be relative/],
    ['..', /'\.\.' is not allowed/],
    ['a/../../b', /'\.\.' is not allowed/],
    ['a//b', /empty or '\.' components/],
    ['a/', /empty or '\.' components/],
    ['./a', /empty or '\.' components/],
    ['', /an empty path/],
    ['a\nb', /control characters/],
    ['a\u0000b', /control characters/],
    ['x'.repeat(256), /longer than 255/],
  ])('refuses %j: one line, exit 125', (value, pattern) => {
    fails(['--cgroup-parent', value, '--', 'x'], pattern);
    expect(cgroupParentProblem(value)).not.toBeNull();
  });

  it('shows a bad value on one line, escaped', () => {
    const r = parse('--cgroup-parent', '../a\nb', '--', 'x');
    expect(r.kind === 'exit' && r.stderr).toBe('tini-ts run: --cgroup-parent: "../a\\nb": control characters (a newline?) are not allowed\n');
  });

  it('needs a value', () => fails(['--cgroup-parent'], /--cgroup-parent needs a value/));

  it('may come with --bundle', () => {
    expect(ok('--bundle', '/b', '--cgroup-parent', 'ci').options.cgroupParent).toBe('ci');
  });

  it('is documented', () => {
    expect(RUN_USAGE).toMatch(/--cgroup-parent PATH/);
    expect(RUN_USAGE).toMatch(/default tini-ts/);
  });
});

describe('tini-ts run --events', () => {
  it('is off by default; takes a file, fd:N or -', () => {
    expect(ok('--', 'x').options.events).toBeNull();
    expect(ok('--events', '/tmp/ev.jsonl', '--', 'x').options.events).toBe('/tmp/ev.jsonl');
    expect(ok('--events=fd:3', '--', 'x').options.events).toBe('fd:3');
    expect(ok('--events', '-', '--', 'x').options.events).toBe('-');
    expect(ok('--bundle', '/b', '--events', 'ev.jsonl').options.events).toBe(path.resolve('ev.jsonl'));
  });

  it.each<[string, RegExp]>([
    ['', /--events: an empty destination/],
    ['fd:', /not a file descriptor/],
    ['fd:x', /not a file descriptor/],
    ['a\nb', /control characters/],
  ])('refuses %j: one line, exit 125', (value, pattern) => fails(['--events', value, '--', 'x'], pattern));

  it('is documented', () => expect(RUN_USAGE).toMatch(/--events DEST/));
});
