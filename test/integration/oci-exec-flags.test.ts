/**
 * exec's process flags beside runc exec on the same running container:
 * --cwd, --env/-e, --user/-u, --additional-gids/-g, --cap/-c, --no-new-privs,
 * --preserve-fds; --apparmor/--process-label named as unsupported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unmet } from '../helpers/prereq.js';
import { expectNothingLeft, hasRunc, ociRoots, runtimeCall } from './oci-helpers.js';
import { canContainer, CONTAINER_NEEDS, editConfig, makeFixture, makeRuncBundle, type Fixture } from './container-helpers.js';
import { waitFor } from './run-helpers.js';

describe.skipIf(unmet(canContainer && hasRunc, `${CONTAINER_NEEDS} and runc`))('exec flags, beside runc', () => {
  let f: Fixture;
  let bundle: string;
  let roots: { tini: string; runc: string };
  const ids: Record<string, string> = {};
  /** A call with `extra` as fds 3, 4, ... (files opened by the test). */
  const call = (who: 'tini' | 'runc', args: string[], extraFds: number[] = []) =>
    runtimeCall(who, f.dir, roots[who], args, { global: ['--log', path.join(f.dir, `log-${who === 'tini' ? 'tini-ts' : 'runc'}.json`), '--log-format', 'json'], extraFds });
  const both = {
    tini: (args: string[], extra?: number[]) => call('tini', args, extra),
    runc: (args: string[], extra?: number[]) => call('runc', args, extra),
  };
  /** Runs `exec FLAGS ID sh -c SCRIPT` in both; `files` are opened afresh for each (an offset is shared) as fds 3, 4, ... */
  const execBoth = (flags: string[], script: string, files: string[] = []) =>
    Object.fromEntries(
      Object.entries(both).map(([who, rt]) => {
        const fds = files.map((p) => fs.openSync(p, 'r'));
        try {
          return [who, rt(['exec', ...flags, ids[who], 'sh', '-c', script], fds)];
        } finally {
          fds.forEach((fd) => fs.closeSync(fd));
        }
      }),
    ) as Record<'tini' | 'runc', ReturnType<typeof call>>;

  beforeAll(() => {
    f = makeFixture();
    bundle = makeRuncBundle(f, (config) => {
      config.process.args = ['sleep', '60'];
      config.process.noNewPrivileges = false; // so that --no-new-privs shows
    });
    roots = ociRoots(f.dir);
    for (const [who, rt] of Object.entries(both)) {
      ids[who] = `xf-${who}-${process.pid}`;
      expect(rt(['create', '--bundle', bundle, ids[who]]).status).toBe(0);
      expect(rt(['start', ids[who]]).status).toBe(0);
    }
  });
  afterAll(() => {
    expectNothingLeft(roots, () => f?.cleanup(), Object.values(ids));
  });

  it('--cwd, --env (repeatable, a name given again wins), --user, --additional-gids: what the process sees is what runc gives it', () => {
    // (runc's flag parser takes one form of a flag per call: --env, not --env and -e)
    const r = execBoth(['--cwd', '/tmp', '--env', 'FOO=bar', '--env', 'TERM=dumb', '--env', 'FOO=baz', '-u', '1000:1001', '--additional-gids', '2000', '--additional-gids', '2001'], 'pwd; echo "$FOO $TERM"; env | grep -c ^FOO=; id -u; id -g; id -G');
    expect(r.tini.status, r.tini.stderr).toBe(0);
    expect(r.tini.stdout).toBe('/tmp\nbaz dumb\n1\n1000\n1001\n1001 2000 2001\n');
    expect(r.tini.stdout).toBe(r.runc.stdout);
    // --user UID alone keeps the process's gid
    const u = execBoth(['--user', '65534'], 'echo $(id -u):$(id -g)');
    expect(u.tini.stdout).toBe('65534:0\n');
    expect(u.tini.stdout).toBe(u.runc.stdout);
  });

  it('--cap adds to the bounding, effective, permitted and ambient sets; --no-new-privs sets no_new_privs', () => {
    const script = 'grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)" /proc/self/status';
    const plain = execBoth([], script);
    const r = execBoth(['--cap', 'CAP_NET_ADMIN', '--cap', 'CAP_SYS_TIME', '--no-new-privs'], script);
    expect(r.tini.status, r.tini.stderr).toBe(0);
    expect(r.tini.stdout).toBe(r.runc.stdout);
    expect(r.tini.stdout).not.toBe(plain.tini.stdout);
    expect(r.tini.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(plain.tini.stdout).toMatch(/NoNewPrivs:\s+0/);
    // CAP_NET_ADMIN is bit 12, CAP_SYS_TIME bit 25
    const bnd = BigInt('0x' + /CapBnd:\s+([0-9a-f]+)/.exec(r.tini.stdout)![1]);
    expect(bnd & (1n << 12n)).not.toBe(0n);
    expect(bnd & (1n << 25n)).not.toBe(0n);
  });

  it('--preserve-fds N passes the caller\'s fds 3 .. 3+N-1, and no others', () => {
    const files = [0, 1].map((i) => {
      const p = path.join(f.dir, `fd${i}`);
      fs.writeFileSync(p, `content ${i}\n`);
      return p;
    });
    const r = execBoth(['--preserve-fds', '2'], 'cat <&3; cat <&4', files);
    expect(r.tini.stdout).toBe('content 0\ncontent 1\n');
    expect(r.tini.stdout).toBe(r.runc.stdout);
    const one = execBoth(['--preserve-fds', '1'], 'cat <&3; cat <&4 2>/dev/null || echo no fd 4', files);
    expect(one.tini.stdout).toBe('content 0\nno fd 4\n');
    expect(one.tini.stdout).toBe(one.runc.stdout);
    const none = execBoth([], 'cat <&3 2>/dev/null || echo no fd 3', files);
    expect(none.tini.stdout).toBe('no fd 3\n');
    expect(none.tini.stdout).toBe(none.runc.stdout);
  });

  it('create --preserve-fds N: the workload gets the caller\'s fds 3 .. 3+N-1, as with runc; an fd that is not open is refused', async () => {
    const input = path.join(f.dir, 'create-in');
    fs.writeFileSync(input, 'from fd 3\n');
    editConfig(bundle, (config) => (config.process.args = ['sh', '-c', 'cat <&3 >&4; ls /proc/self/fd >&4']));
    const seen: Record<string, string> = {};
    for (const [who, rt] of Object.entries(both)) {
      const c = `xf-create-${who}-${process.pid}`;
      const output = path.join(f.dir, `create-out-${who}`);
      const fds = [fs.openSync(input, 'r'), fs.openSync(output, 'w')];
      try {
        const r = rt(['create', '--preserve-fds', '2', '--bundle', bundle, c], fds);
        expect(r.status, `${who}: ${r.stderr}`).toBe(0);
      } finally {
        fds.forEach((fd) => fs.closeSync(fd));
      }
      expect(rt(['start', c]).status).toBe(0);
      expect(await waitFor(() => JSON.parse(rt(['state', c]).stdout).status === 'stopped', 10_000), who).toBe(true);
      expect(rt(['delete', c]).status).toBe(0);
      seen[who] = fs.readFileSync(output, 'utf8');
    }
    expect(seen.tini).toBe('from fd 3\n0\n1\n2\n3\n4\n5\n'); // 5: ls's own directory
    expect(seen.tini).toBe(seen.runc);
    // Its init was spawned before create's checks, with the two descriptors (the --debug log says so): the same workload.
    const early = `xf-create-early-${process.pid}`;
    const debugLog = path.join(f.dir, 'log-create-early.json');
    const earlyOut = path.join(f.dir, 'create-out-early');
    const fds = [fs.openSync(input, 'r'), fs.openSync(earlyOut, 'w')];
    try {
      const r = runtimeCall('tini', f.dir, roots.tini, ['create', '--preserve-fds', '2', '--bundle', bundle, early], { global: ['--log', debugLog, '--log-format', 'json', '--debug'], extraFds: fds });
      expect(r.status, r.stderr).toBe(0);
    } finally {
      fds.forEach((fd) => fs.closeSync(fd));
    }
    expect(fs.readFileSync(debugLog, 'utf8')).toMatch(/the init was spawned before the options were read \(pid \d+\)/);
    expect(both.tini(['start', early]).status).toBe(0);
    expect(await waitFor(() => JSON.parse(both.tini(['state', early]).stdout).status === 'stopped', 10_000)).toBe(true);
    expect(both.tini(['delete', early]).status).toBe(0);
    expect(fs.readFileSync(earlyOut, 'utf8')).toBe(seen.tini);
    editConfig(bundle, (config) => (config.process.args = ['sleep', '60']));
    const bad = both.tini(['create', '--preserve-fds', '5', '--bundle', bundle, `xf-bad-${process.pid}`]);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toMatch(/^create: --preserve-fds 5: fd [3-7] was not passed by the caller \(it is the runtime's own anon_inode:\[(eventpoll|io_uring)\]\)$/);
    expect(both.tini(['state', `xf-bad-${process.pid}`]).status).not.toBe(0);
    // One declared, none passed: fd 3 is no descriptor of the runtime's either (the channel of an init
    // spawned at the binary's entry would have taken it; with --preserve-fds the entry spawns nothing).
    const noneLog = path.join(f.dir, 'log-create-none.json');
    const none = runtimeCall('tini', f.dir, roots.tini, ['create', '--preserve-fds', '1', '--bundle', bundle, `xf-none-${process.pid}`], { global: ['--log', noneLog, '--log-format', 'json', '--debug'] });
    expect(none.status).toBe(1);
    expect(none.stderr.trim()).toMatch(/^create: --preserve-fds 1: fd 3 (is not open|was not passed by the caller \(it is the runtime's own anon_inode:\[(eventpoll|io_uring)\]\))$/);
    expect(fs.readFileSync(noneLog, 'utf8')).not.toMatch(/spawned at the binary's entry/);
    expect(both.tini(['state', `xf-none-${process.pid}`]).status).not.toBe(0);
  });

  it('--apparmor and --process-label: unconfined or empty is a warning, a profile an error; bad values are one line', () => {
    const t = both.tini;
    const warned = t(['exec', '--apparmor', 'unconfined', ids.tini, 'true']);
    expect(warned.status).toBe(0);
    const log = fs.readFileSync(path.join(f.dir, 'log-tini-ts.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.pop()).toMatchObject({ level: 'warning', msg: "exec: --apparmor 'unconfined' ignored: AppArmor is not supported by tini-ts" });
    for (const [args, message] of [
      [['--apparmor', 'docker-default'], "exec: --apparmor 'docker-default': AppArmor is not supported by tini-ts"],
      [['--process-label', 'system_u:system_r:container_t:s0'], "exec: --process-label 'system_u:system_r:container_t:s0': SELinux is not supported by tini-ts"],
      [['--user', 'nobody'], "exec: --user 'nobody' is not UID[:GID] (numbers: names are not looked up)"],
      [['--env', 'NOEQUALS'], "exec: --env 'NOEQUALS' is not NAME=VALUE"],
      [['--cap', 'CAP_FLY'], "process.json: process.capabilities.bounding[3]: unknown capability 'CAP_FLY'"],
    ] as const) {
      const r = t(['exec', ...args, ids.tini, 'true']);
      expect(r.status, message).toBe(1);
      expect(r.stderr.trim()).toBe(message);
    }
  });
});
