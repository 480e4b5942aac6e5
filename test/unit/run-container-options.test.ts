import { describe, expect, it } from 'vitest';
import { EXIT_LAUNCHER, UNLIMITED, parseRunArgs } from '../../src/cli/run-options.js';
import { expectRunRefused, parseRun as parse, parsedRun } from './support.js';

const ok = (...args: string[]) => parsedRun(...args).options.container;

describe('tini-ts run: container options', () => {
  it('defaults: no root filesystem, no_new_privs and the default seccomp filter for when there is one', () => {
    const c = ok('--', 'true');
    expect(c).toMatchObject({ rootfs: null, layers: [], upper: null, readOnly: false, volumes: [], noNewPrivs: true, seccomp: 'default', bundle: null });
  });

  it('reads the root filesystem, layers in order, volumes, process and hardening options', () => {
    const c = ok('--layer', '/l/base', '--layer=/l/app', '--upper', '/u', '--read-only', '--volume', '/data:/srv:ro', '--volume', '/w:/w',
      '--user', 'app:staff', '--group-add', '5', '-w', '/work', '-e', 'A=1', '--env', 'HOME', '--env-file', '/e',
      '--cap-add', 'net_admin,CAP_SYS_TIME', '--cap-drop', 'ALL', '--new-privileges', '--seccomp', 'unconfined',
      '--ulimit', 'nofile=1024:2048', '--ulimit', 'core=-1', '--', 'sh');
    expect(c.layers).toEqual(['/l/base', '/l/app']);
    expect(c.upper).toBe('/u');
    expect(c.readOnly).toBe(true);
    expect(c.volumes).toEqual([{ source: '/data', destination: '/srv', readonly: true }, { source: '/w', destination: '/w', readonly: false }]);
    expect(c.user).toEqual({ user: 'app', group: 'staff' });
    expect(c.groupAdd).toEqual(['5']);
    expect(c.workdir).toBe('/work');
    expect(c.env).toEqual(['A=1', 'HOME']);
    expect(c.envFiles).toEqual(['/e']);
    expect(c.capAdd).toEqual(['net_admin', 'CAP_SYS_TIME']);
    expect(c.capDrop).toEqual(['ALL']);
    expect(c.noNewPrivs).toBe(false);
    expect(c.seccomp).toBe('unconfined');
    expect(c.ulimits).toEqual([{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048 }, { type: 'RLIMIT_CORE', soft: UNLIMITED, hard: UNLIMITED }]);
  });

  it('--bundle takes no program and no container options', () => {
    expect(ok('--bundle', '/b', '--timeout', '5s').bundle).toBe('/b');
  });

  it.each([
    [['--rootfs', '/r', '--layer', '/l', 'x'], /exclude each other/],
    [['--upper', '/u', '--rootfs', '/r', 'x'], /--upper needs --layer/],
    [['--read-only', 'x'], /--read-only needs a root filesystem/],
    [['--cap-add', 'NET_ADMIN', 'x'], /--cap-add needs a root filesystem/],
    [['--volume', '/a:/b', 'x'], /--volume needs a root filesystem/],
    [['--rootfs', '/r', '--volume', '/a:b', 'x'], /the destination must be an absolute path/],
    [['--rootfs', '/r', '--volume', '/a', 'x'], /not SRC:DST/],
    [['--rootfs', '/r', '--volume', '/a:/b:rx', 'x'], /not SRC:DST/],
    [['--rootfs', '/r', '--cap-add', 'FLY', 'x'], /unknown capability 'FLY'/],
    [['--rootfs', '/r', '--seccomp', 'strict', 'x'], /not default or unconfined/],
    [['--ulimit', 'nofile=2048:1024', 'x'], /soft limit 2048 is above the hard limit 1024/],
    [['--ulimit', 'files=1', 'x'], /unknown limit 'files'/],
    [['--ulimit', 'nofile', 'x'], /not TYPE=SOFT/],
    [['--user', 'a:b:c', 'x'], /not USER\[:GROUP\]/],
    [['-w', 'rel', 'x'], /must be an absolute path/],
    [['--rootfs', '/r', '--share', 'mount', 'x'], /needs a mount namespace/],
    [['--bundle', '/b', '--rootfs', '/r'], /--rootfs cannot be combined with --bundle/],
    [['--bundle', '/b', '--', 'sh'], /give no program/],
  ])('rejects %j with one line and exit 125', (args, pattern) => expectRunRefused(args, pattern));

  it('refuses uids and gids outside 0..2^32-2 in --user and --group-add (one line, 125)', () => {
    for (const [args, line] of [
      [['--user', '4294967296'], '--user: user 4294967296 is outside 0..4294967294'],
      [['-u', '4294967295'], '-u: user 4294967295 is outside 0..4294967294'],
      [['--user', '0:4294967295'], '--user: group 4294967295 is outside 0..4294967294'],
      [['--user', 'app:99999999999999999999'], '--user: group 99999999999999999999 is outside 0..4294967294'],
      [['--group-add', '4294967296'], '--group-add: group 4294967296 is outside 0..4294967294'],
    ] as const) {
      const r = parse(...args, '--', 'true');
      expect(r.kind === 'exit' && r.code, args.join(' ')).toBe(EXIT_LAUNCHER);
      expect(r.kind === 'exit' && r.stderr, args.join(' ')).toBe(`tini-ts run: ${line} (the kernel's range; -1 means "unchanged")\n`);
    }
    expect(ok('--user', '4294967294:4294967294', '--group-add', '4294967294', '--', 'true')).toMatchObject({ user: { user: '4294967294', group: '4294967294' }, groupAdd: ['4294967294'] });
  });

  it('--volume: the destination is cleaned as docker does (`..` stays at the root); a relative one or the root is refused', () => {
    expect(ok('--rootfs', '/r', '--volume', '/src:/../../x', '--volume', '/s2:/a/./b/../c/:ro', '--', 'true').volumes).toEqual([
      { source: '/src', destination: '/x', readonly: false },
      { source: '/s2', destination: '/a/c', readonly: true },
    ]);
    for (const [v, why] of [['/src:x', 'the destination must be an absolute path in the container'], ['/src:/..', "the destination cannot be the container's root"], ['/src:/a/..', "the destination cannot be the container's root"]]) {
      const r = parse('--rootfs', '/r', '--volume', v, '--', 'true');
      expect(r.kind === 'exit' && r.stderr).toBe(`tini-ts run: --volume: '${v}': ${why}\n`);
    }
  });

  it('relative host paths are made absolute against the caller\'s working directory', () => {
    const r = parseRunArgs(['--report', 'r.json', '--events', 'ev/e.jsonl', '--cgroup-root', 'cg', '--layer', 'l1', '--layer', '../l2', '--upper', './up',
      '--volume', 'data:/data', '--env-file', 'vars.env', '--', 'true'], { cpuCount: 2, cwd: '/home/u/proj' });
    if (r.kind !== 'run') throw new Error(JSON.stringify(r));
    expect(r.options).toMatchObject({ reportFile: '/home/u/proj/r.json', events: '/home/u/proj/ev/e.jsonl', cgroupRoot: '/home/u/proj/cg' });
    expect(r.options.container).toMatchObject({
      layers: ['/home/u/proj/l1', '/home/u/l2'], upper: '/home/u/proj/up', envFiles: ['/home/u/proj/vars.env'],
      volumes: [{ source: '/home/u/proj/data', destination: '/data', readonly: false }],
    });
    const rootfs = parseRunArgs(['--rootfs', 'r', '--', 'true'], { cpuCount: 2, cwd: '/w' });
    expect(rootfs.kind === 'run' && rootfs.options.container.rootfs).toBe('/w/r');
    const bundle = parseRunArgs(['--bundle', 'b'], { cpuCount: 2, cwd: '/w' });
    expect(bundle.kind === 'run' && bundle.options.container.bundle).toBe('/w/b');
    // fd:N and - are not paths
    for (const e of ['fd:3', '-']) {
      const x = parseRunArgs(['--events', e, '--', 'true'], { cpuCount: 2, cwd: '/w' });
      expect(x.kind === 'run' && x.options.events).toBe(e);
    }
  });

  it("--layer and --upper: a path overlayfs would cut (',' ':' or a backslash, also in the cwd) is refused with one line", () => {
    for (const [args, cwd, shown] of [
      [['--layer', '/img/a,b'], '/', '/img/a,b'],
      [['--layer', '/img/a:b'], '/', '/img/a:b'],
      [['--layer', 'base'], '/home/u/x,y', '/home/u/x,y/base'],
      [['--layer', '/l', '--upper', '/up\\per'], '/', '/up\\per'],
    ] as const) {
      const r = parseRunArgs([...args, '--', 'true'], { cpuCount: 2, cwd });
      expect(r.kind === 'exit' && r.code).toBe(EXIT_LAUNCHER);
      const flag = (args as readonly string[]).includes('--upper') ? '--upper' : '--layer';
      const bad = [',', ':', '\\'].find((c) => shown.includes(c));
      expect(r.kind === 'exit' && r.stderr).toBe(`tini-ts run: ${flag} ${JSON.stringify(shown)}: '${bad}' cannot be used in an overlay layer's path (overlayfs reads it as a separator); rename or link the directory\n`);
    }
  });
});
