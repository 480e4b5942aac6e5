import { describe, expect, it } from 'vitest';
import { isRuntimeCall, parseOciArgs } from '../../src/cli/oci-args.js';
import { idProblem, stateJson, statusOf, type ContainerRecord } from '../../src/container/store.js';

describe("runc's command line", () => {
  it('takes global flags before the verb, in every spelling engines use', () => {
    const r = parseOciArgs(['--root', '/run/x', '--log=/b/log.json', '-log-format', 'json', 'create', '--bundle', '/b', '--pid-file=/b/pid', 'c1']);
    expect(r).toEqual({
      kind: 'ok',
      global: { root: '/run/x', log: '/b/log.json', logFormat: 'json', debug: false },
      command: { verb: 'create', id: 'c1', bundle: '/b', pidFile: '/b/pid', consoleSocket: null, preserveFds: 0 },
    });
  });

  it('kill: --all/-a, signals as numbers or names, SIGTERM by default', () => {
    expect(parseOciArgs(['kill', 'c1'])).toMatchObject({ command: { verb: 'kill', id: 'c1', all: false, signal: 15 } });
    expect(parseOciArgs(['kill', '-a', 'c1', 'KILL'])).toMatchObject({ command: { all: true, signal: 9 } });
    expect(parseOciArgs(['kill', '--all', 'c1', 'SIGUSR1'])).toMatchObject({ command: { signal: 10 } });
    expect(parseOciArgs(['kill', 'c1', '9'])).toMatchObject({ command: { signal: 9 } });
    expect(parseOciArgs(['kill', 'c1', 'BOGUS'])).toMatchObject({ kind: 'error', message: "kill: unknown signal 'BOGUS'" });
  });

  it('exec: flags before the id, the command after it keeps its own flags', () => {
    expect(parseOciArgs(['exec', '--process', '/p.json', '--detach', '--pid-file', '/e.pid', 'c1'])).toMatchObject({
      command: { verb: 'exec', id: 'c1', args: [], processFile: '/p.json', detach: true, pidFile: '/e.pid', tty: false, consoleSocket: null },
    });
    expect(parseOciArgs(['exec', 'c1', 'sh', '-c', 'echo -n x'])).toMatchObject({ command: { verb: 'exec', id: 'c1', args: ['sh', '-c', 'echo -n x'] } });
    expect(parseOciArgs(['exec', '--cwd', '/x', '-e', 'A=1', '--env', 'B=2', '-u', '10:20', '-g', '5', '--additional-gids=6', '--cap', 'CAP_KILL', '-c', 'NET_RAW', '--no-new-privs', '--preserve-fds', '2', '--apparmor', 'unconfined', 'c1', 'true'])).toMatchObject({
      command: { verb: 'exec', id: 'c1', args: ['true'], flags: { cwd: '/x', env: ['A=1', 'B=2'], user: { uid: 10, gid: 20 }, additionalGids: [5, 6], caps: ['CAP_KILL', 'NET_RAW'], noNewPrivs: true, preserveFds: 2, apparmor: 'unconfined', processLabel: null } },
    });
    expect(parseOciArgs(['exec', '-u', '7', 'c1', 'true'])).toMatchObject({ command: { flags: { user: { uid: 7, gid: null }, env: [], caps: [], noNewPrivs: false, preserveFds: 0 } } });
    expect(parseOciArgs(['exec', '-u', 'root', 'c1', 'true'])).toMatchObject({ kind: 'error', message: "exec: --user 'root' is not UID[:GID] (numbers: names are not looked up)" });
    expect(parseOciArgs(['exec', '-u', '4294967295', 'c1', 'true'])).toMatchObject({ kind: 'error', message: expect.stringContaining('is not UID[:GID]') });
    expect(parseOciArgs(['exec', '-e', 'X', 'c1', 'true'])).toMatchObject({ kind: 'error', message: "exec: --env 'X' is not NAME=VALUE" });
    expect(parseOciArgs(['exec', '-g', '-1', 'c1', 'true'])).toMatchObject({ kind: 'error', message: "exec: --additional-gids '-1' is not a group id" });
    expect(parseOciArgs(['exec', '--cwd', 'rel', 'c1', 'true'])).toMatchObject({ kind: 'error', message: "exec: --cwd 'rel' must be an absolute path" });
    expect(parseOciArgs(['exec', '--preserve-fds', 'x', 'c1', 'true'])).toMatchObject({ kind: 'error', message: 'exec: --preserve-fds: not a number: x' });
    expect(parseOciArgs(['exec', '-p', '/p.json', 'c1', 'true'])).toMatchObject({ kind: 'error', message: 'exec: give either --process FILE or a command, not both' });
  });

  it('update: runc\'s value flags as a LinuxResources fragment (sizes in bytes), --resources FILE or -; bad values in one line', () => {
    expect(parseOciArgs(['update', '--memory', '64m', '--memory-swap=-1', '--cpu-share', '512', '--cpu-quota', '20000', '--cpu-period', '100000', '--cpuset-cpus', '0', '--cpuset-mems', '0', '--pids-limit', '50', '--blkio-weight', '300', 'c1'])).toEqual({
      kind: 'ok',
      global: expect.anything(),
      command: {
        verb: 'update',
        id: 'c1',
        resources: null,
        flags: { memory: { limit: 64 << 20, swap: -1 }, cpu: { shares: 512, quota: 20000, period: 100000, cpus: '0', mems: '0' }, pids: { limit: 50 }, blockIO: { weight: 300 } },
      },
    });
    expect(parseOciArgs(['update', '--resources', '-', 'c1'])).toMatchObject({ command: { verb: 'update', id: 'c1', resources: '-', flags: {} } });
    expect(parseOciArgs(['update', '--memory', '1.5g', '--cpu-shares', '2', 'c1'])).toMatchObject({ command: { flags: { memory: { limit: 1.5 * 1024 ** 3 }, cpu: { shares: 2 } } } });
    expect(parseOciArgs(['update', '--memory', 'lots', 'c1'])).toMatchObject({ kind: 'error', message: "update: invalid value for --memory: 'lots'" });
    expect(parseOciArgs(['update', '--pids-limit', '5x', 'c1'])).toMatchObject({ kind: 'error', message: "update: invalid value for --pids-limit: '5x'" });
    expect(parseOciArgs(['update', '--kernel-memory', '1m', 'c1'])).toMatchObject({ kind: 'error', message: 'update: --kernel-memory is not supported' });
    expect(parseOciArgs(['update', 'c1', 'extra'])).toMatchObject({ kind: 'error', message: "update: unexpected argument 'extra'" });
  });

  it('events [--stats] [--interval D] ID, spec [--bundle D] [--rootless], features', () => {
    expect(parseOciArgs(['events', 'c1'])).toMatchObject({ command: { verb: 'events', id: 'c1', stats: false, intervalMs: 5000 } });
    expect(parseOciArgs(['events', '--stats', '--interval', '250ms', 'c1'])).toMatchObject({ command: { verb: 'events', id: 'c1', stats: true, intervalMs: 250 } });
    expect(parseOciArgs(['events', '--interval', 'soon', 'c1'])).toMatchObject({ kind: 'error', message: "events: invalid --interval 'soon' (a duration like 5s or 500ms)" });
    expect(parseOciArgs(['events'])).toMatchObject({ kind: 'error', message: 'events: a container id is required' });
    expect(parseOciArgs(['spec'])).toMatchObject({ command: { verb: 'spec', bundle: null, rootless: false } });
    expect(parseOciArgs(['spec', '-b', '/x', '--rootless'])).toMatchObject({ command: { verb: 'spec', bundle: '/x', rootless: true } });
    expect(parseOciArgs(['spec', 'c1'])).toMatchObject({ kind: 'error', message: "spec: unexpected argument 'c1'" });
    expect(parseOciArgs(['features'])).toMatchObject({ command: { verb: 'features' } });
  });

  it('delete -f, list --format json -q, --version', () => {
    expect(parseOciArgs(['delete', '-f', 'c1'])).toMatchObject({ command: { verb: 'delete', id: 'c1', force: true } });
    expect(parseOciArgs(['list', '--format', 'json'])).toMatchObject({ command: { verb: 'list', format: 'json', quiet: false } });
    expect(parseOciArgs(['--version'])).toMatchObject({ command: { verb: 'version' } });
  });

  it('ps --format json ID (what containerd sends for `ctr task ps`); the table form and ps arguments are refused in one line', () => {
    expect(parseOciArgs(['ps', '--format', 'json', 'c1'])).toMatchObject({ kind: 'ok', command: { verb: 'ps', id: 'c1' } });
    expect(parseOciArgs(['ps', '-f=json', 'c1'])).toMatchObject({ kind: 'ok', command: { verb: 'ps', id: 'c1' } });
    expect(parseOciArgs(['ps', 'c1'])).toMatchObject({ kind: 'error', message: "ps: only --format json is supported (got 'table')" });
    expect(parseOciArgs(['ps', '--format', 'json', 'c1', '-ef'])).toMatchObject({ kind: 'error', message: 'ps: flag provided but not defined: -ef' });
    expect(parseOciArgs(['ps', '--format', 'json', 'c1', '--', 'aux'])).toMatchObject({ kind: 'error', message: "ps: ps arguments are not supported with --format json ('aux')" });
    expect(parseOciArgs(['ps', '--format', 'json'])).toMatchObject({ kind: 'error', message: 'ps: a container id is required' });
  });

  it('bad input: one line naming the problem', () => {
    expect(parseOciArgs([])).toMatchObject({ kind: 'error', message: expect.stringMatching(/^no command given \(create, start, .*\bupdate\b.*\)$/) });
    expect(parseOciArgs(['frobnicate', 'c1'])).toMatchObject({ kind: 'error', message: expect.stringMatching(/^unknown command 'frobnicate' \(create, start, .*\bupdate\b.*\)$/) });
    expect(parseOciArgs(['start'])).toMatchObject({ kind: 'error', message: 'start: a container id is required' });
    expect(parseOciArgs(['start', 'a', 'b'])).toMatchObject({ kind: 'error', message: "start: unexpected argument 'b'" });
    expect(parseOciArgs(['create', '--nope', 'c1'])).toMatchObject({ kind: 'error', message: 'create: flag provided but not defined: -nope' });
    expect(parseOciArgs(['--root'])).toMatchObject({ kind: 'error', message: 'flag needs an argument: -root' });
    expect(parseOciArgs(['--log-format', 'xml', 'list'])).toMatchObject({ kind: 'error', message: 'invalid log-format: xml (text or json)' });
    expect(parseOciArgs(['--systemd-cgroup', 'create', 'c1'])).toMatchObject({ kind: 'error', message: expect.stringContaining('--systemd-cgroup is not supported') });
  });

  it("an engine's call is told from the init's by its first argument", () => {
    expect(isRuntimeCall(['--root', '/r', 'state', 'x'], '/usr/local/bin/tini-ts')).toBe(true);
    expect(isRuntimeCall(['--log=/x', 'create'], 'tini-ts')).toBe(true);
    for (const init of [['--', 'sh'], ['-s', 'sleep'], ['--grace', '3', 'x'], ['--version'], ['create'], ['--debug', 'create']]) expect(isRuntimeCall(init, '/usr/local/bin/tini-ts')).toBe(false);
    // Installed under a runc name: every call is the runtime's.
    expect(isRuntimeCall(['create', '--bundle', 'b', 'c1'], '/usr/local/sbin/runc')).toBe(true);
  });
});

describe('the container store', () => {
  it("ids as runc accepts them", () => {
    for (const ok of ['c1', 'a.b_c-d+e', 'X']) expect(idProblem(ok)).toBeNull();
    for (const bad of ['', '.', '..', 'a/b', 'a b', '../x']) expect(idProblem(bad)).not.toBeNull();
  });

  const rec: ContainerRecord = { ociVersion: '1.0.2', id: 'c1', pid: 42, pidStart: '100', bundle: '/b', rootfs: '/b/rootfs', created: '2026-01-01T00:00:00.000Z', annotations: {}, cgroupDirs: [] };
  const facts = (start: string | null, fifoExists = false, frozen = false) => ({ startTimeOf: () => start, fifoExists, frozen });

  it('the status comes from the facts: gone or pid reused is stopped; the gate still there is created', () => {
    expect(statusOf({ ...rec, pid: 0 }, facts('100'))).toBe('creating');
    expect(statusOf(rec, facts(null))).toBe('stopped');
    expect(statusOf(rec, facts('999'))).toBe('stopped'); // another process got the pid
    expect(statusOf(rec, facts('100', true))).toBe('created');
    expect(statusOf(rec, facts('100', false))).toBe('running');
    expect(statusOf(rec, facts('100', false, true))).toBe('paused');
  });

  it('the state JSON: pid 0 once stopped, annotations only when there are some', () => {
    expect(stateJson(rec, 'stopped')).toEqual({ ociVersion: '1.0.2', id: 'c1', pid: 0, status: 'stopped', bundle: '/b', rootfs: '/b/rootfs', created: rec.created, owner: '' });
    expect(stateJson({ ...rec, annotations: { a: 'b' } }, 'running')).toMatchObject({ pid: 42, annotations: { a: 'b' } });
  });
});
