/**
 * The early spawn's scan of `run`'s argv (container/early.ts): where it
 * guesses, it must guess what the parser decides, or the early init is
 * thrown away (a whole spawn lost); where it cannot be sure it says null.
 */
import { describe, expect, it } from 'vitest';
import { parseRunArgs } from '../../src/cli/run-options.js';
import { earlyPlan } from '../../src/container/early.js';

const noFile = (f: string): string => {
  throw new Error(`ENOENT: ${f}`);
};
const spawned = (list: Iterable<string>) => [...list].filter((n) => n !== 'cgroup').sort();

describe('earlyPlan', () => {
  it('agrees with the parser on the namespaces of every plain run it plans', () => {
    const lines = [
      ['--', '/bin/true'],
      ['/bin/true'],
      ['-q', '--memory', '64m', '--cpus=0.5', '--', 'sh', '-c', 'exit 3'],
      ['-vv', '--share', 'net', '--', 'true'],
      ['--share=net,ipc', '--hostname', 'box', 'true'],
      ['--share', 'mnt,uts', '--pids', '10', 'true'],
      ['--rootfs', '/r', '--read-only', '--', 'true'],
      ['--timeout', '5', '--grace', '1', '--', '--share', 'pid'], // after --: the program's
    ];
    for (const l of lines) {
      const plan = earlyPlan(['run', ...l], noFile, '/');
      const parsed = parseRunArgs(l, { cpuCount: 4, cwd: '/' });
      expect(parsed.kind, l.join(' ')).toBe('run');
      expect(plan, l.join(' ')).not.toBeNull();
      if (parsed.kind === 'run') expect(spawned(plan!.namespaces), l.join(' ')).toEqual(spawned(parsed.options.namespaces));
    }
  });

  it('says whether the init builds a root (it only picks the code cache)', () => {
    expect(earlyPlan(['run', '--', 'true'], noFile, '/')?.rootfs).toBe(false);
    expect(earlyPlan(['run', '--rootfs', '/r', 'true'], noFile, '/')?.rootfs).toBe(true);
    expect(earlyPlan(['run', '--layer=/l', 'true'], noFile, '/')?.rootfs).toBe(true);
  });

  it('counts the -v flags as the parser does', () => {
    expect(earlyPlan(['run', '-v', '-vv', '--', 'true'], noFile, '/')?.verbosity).toBe(4);
    expect(parseRunArgs(['-v', '-vv', '--', 'true'], { cpuCount: 1, cwd: '/' })).toMatchObject({ options: { verbosity: 4 } });
  });

  it('plans nothing where the spawn would pass descriptors, keep the pid namespace, or is not run', () => {
    for (const args of [
      ['run', '--events', '/tmp/e', '--', 'true'],
      ['run', '--events=fd:3', 'true'],
      ['run', '--share', 'pid', 'true'],
      ['run', '--help'],
      ['run', '--memory'], // no value: the parser refuses
      ['check', '--', 'true'],
      ['--', 'run'],
    ]) expect(earlyPlan(args, noFile, '/'), args.join(' ')).toBeNull();
  });

  it('plans OCI create as engines call it, from the bundle (default: the working directory)', () => {
    const files: Record<string, string> = {
      '/w/b/config.json': JSON.stringify({ process: { terminal: false }, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }] } }),
      '/w/config.json': JSON.stringify({ linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } }),
      '/w/tty/config.json': JSON.stringify({ process: { terminal: true }, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } }),
    };
    const read = (f: string) => files[f] ?? noFile(f);
    const want = { namespaces: ['pid', 'mount', 'ipc'], rootfs: true, verbosity: 1, fds: [] };
    expect(earlyPlan(['--root', '/run/r', '--log', '/l', '--log-format', 'json', 'create', '--bundle', 'b', '--pid-file', '/p', 'c1'], read, '/w')).toEqual(want);
    expect(earlyPlan(['oci', 'create', '-b', '/w/b', '--no-pivot', '--no-new-keyring', 'c1'], read, '/')).toEqual(want);
    expect(earlyPlan(['create', '--bundle', 'b', 'c1'], read, '/w', '/usr/bin/runc')).toEqual(want);
    expect(earlyPlan(['--root', '/r', 'create', 'c1'], read, '/w')?.namespaces).toEqual(['pid', 'mount']);
    // A console socket the init connects to by path (create checks it is there).
    expect(earlyPlan(['--root', '/r', 'create', '--bundle', 'tty', '--console-socket', '/s', 'c1'], read, '/w')?.namespaces).toEqual(['pid', 'mount']);
    // Descriptors to preserve (Podman's socket activation): the init gets them at its spawn, if create's check passes.
    const fine = () => null;
    expect(earlyPlan(['--root', '/r', 'create', '--bundle', 'b', '--preserve-fds', '2', 'c1'], read, '/w', '', fine)).toEqual({ ...want, fds: [3, 4] });
    const notTheCallers = (n: number) => `--preserve-fds ${n}: fd 4 was not passed by the caller`;
    expect(earlyPlan(['--root', '/r', 'create', '--bundle', 'b', '--preserve-fds', '2', 'c1'], read, '/w', '', notTheCallers)).toBeNull();
    for (const [args, argv0] of [
      [['create', '--bundle', 'b', 'c1'], '/usr/local/bin/tini-ts'], // not an engine's call: the plain init's argv
      [['--root', '/r', 'start', 'c1'], ''],
      [['--root', '/r', 'create', '--bogus', 'c1'], ''],
    ] as const) expect(earlyPlan(args, read, '/w', argv0), args.join(' ')).toBeNull();
  });

  it("reads a bundle's namespaces from its config.json, relative to the working directory", () => {
    const files: Record<string, string> = {
      '/w/b/config.json': JSON.stringify({ linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }, { type: 'cgroup' }] } }),
      '/w/joins/config.json': JSON.stringify({ linux: { namespaces: [{ type: 'pid' }, { type: 'network', path: '/proc/1/ns/net' }] } }),
      '/w/nopid/config.json': JSON.stringify({ linux: { namespaces: [{ type: 'mount' }] } }),
      '/w/user/config.json': JSON.stringify({ linux: { namespaces: [{ type: 'pid' }, { type: 'user' }] } }),
      '/w/bad/config.json': '{',
    };
    const read = (f: string) => files[f] ?? noFile(f);
    expect(earlyPlan(['run', '--bundle', 'b'], read, '/w')).toEqual({ namespaces: ['pid', 'mount', 'net', 'cgroup'], rootfs: true, verbosity: 1, fds: [] });
    expect(earlyPlan(['run', '--timeout=3', '--bundle=/w/b'], read, '/')?.namespaces).toEqual(['pid', 'mount', 'net', 'cgroup']);
    for (const b of ['joins', 'nopid', 'user', 'bad', 'missing']) expect(earlyPlan(['run', '--bundle', b], read, '/w'), b).toBeNull();
  });
});
