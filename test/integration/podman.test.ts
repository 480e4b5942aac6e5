/**
 * Podman drives tini-ts for real: Debian's podman 4.3 and conmon 2.1, with
 * storage, configuration, cgroup parent and temporary directories of the
 * test's own (test/helpers/podman.ts), `--runtime` pointing at
 * dist/tini-ts (through a link named tini-ts-runc), `--network none` and
 * `--pull never` on every run, the image imported offline (`podman import`).
 * Where it makes sense the same scenario runs with runc and the outcomes are
 * compared.
 *
 * What Podman calls: conmon runs `RUNTIME --log-format=json --log F create
 * --bundle B --pid-file P ID` and `exec --pid-file P --process F --detach
 * ID`; Podman itself runs `start ID`, `kill ID N`, `pause ID`, `resume ID`,
 * `delete --force ID` (with an environment holding only XDG_RUNTIME_DIR,
 * no PATH), `update --resources=F ID`; never `--root`: tini-ts's default
 * state root (/run/tini-ts) is used.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cgroupsUnder, PROBE, traceWrapper, type CmdResult } from '../helpers/docker.js';
import { podmanAvailable, startPodman, type Podman } from '../helpers/podman.js';
import { unmet } from '../helpers/prereq.js';
import { makeGlibcRootfs } from '../helpers/rootfs.js';
import { buildInfo } from '../helpers/proc.js';
import { canContainer, CONTAINER_NEEDS } from './container-helpers.js';
import { BIN, waitFor } from './run-helpers.js';

const IMAGE = 'localhost/tini-ts-test:latest';
/** Whether the binary's Node has node:ffi (Node >= 26): its addon then comes from memory, where Podman's noexec /dev leaves Node 24 no place. */
const FFI = buildInfo(BIN).ffi;
const TINI_ROOT = '/run/tini-ts';
const show = (r: CmdResult) => `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const hostLinks = () => fs.readdirSync('/sys/class/net').sort();
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const hasRunc = fs.existsSync('/usr/sbin/runc');
const CRUN = '/usr/bin/crun';

describe.skipIf(unmet(canContainer && podmanAvailable() && hasRunc, `${CONTAINER_NEEDS}, Debian's podman and conmon, and runc`))('Podman drives tini-ts (podman --runtime tini-ts, podman run --init)', () => {
  let p: Podman;
  let links: string[];
  const ids: string[] = [];
  let RUNTIMES: Record<'tini-ts' | 'runc', string>;
  const podman = (...args: string[]) => p.podman(args);
  const runArgs = (runtime: string) => ['--runtime', runtime, '--network', 'none', '--pull', 'never', '--cgroup-parent', `/${p.cgroupParent}`];
  const run = (runtime: string, ...args: string[]) => podman('run', '--rm', ...runArgs(runtime), ...args);
  const detached = (runtime: string, ...args: string[]) => {
    const r = podman('run', '-d', ...runArgs(runtime), ...args);
    expect(r.status, show(r)).toBe(0);
    const id = r.stdout.trim();
    ids.push(id);
    return id;
  };
  const inspect = (id: string, format: string) => podman('inspect', '-f', format, id).stdout.trim();

  beforeAll(async () => {
    p = await startPodman(BIN);
    RUNTIMES = { 'tini-ts': p.runtime, runc: '/usr/sbin/runc' };
    const rootfs = makeGlibcRootfs(path.join(p.dir, 'rootfs'), BIN);
    const tar = spawnSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', path.join(p.dir, 'rootfs.tar'), '.']);
    expect(tar.status).toBe(0);
    fs.rmSync(rootfs, { recursive: true });
    const imp = podman('import', '--change', 'CMD=/bin/sh', path.join(p.dir, 'rootfs.tar'), IMAGE);
    expect(imp.status, show(imp)).toBe(0);
    fs.rmSync(path.join(p.dir, 'rootfs.tar'));
    links = hostLinks();
  }, 120_000);

  afterEach(async () => {
    const ps = () => podman('ps', '-aq').stdout.split('\n').filter(Boolean);
    expect(await waitFor(() => ps().length === 0, 20_000), `containers left: ${ps()}`).toBe(true);
    expect(await waitFor(() => cgroupsUnder(p.cgroupParent).filter((d) => !d.endsWith('/conmon')).length === 0, 10_000), `${cgroupsUnder(p.cgroupParent)}`).toBe(true);
    // tini-ts's state of these containers (under its default root: Podman passes no --root).
    for (const id of ids) expect(fs.existsSync(path.join(TINI_ROOT, id)), `state of ${id}`).toBe(false);
    expect(hostLinks(), "the host's network interfaces").toEqual(links);
  });

  afterAll(async () => {
    if (!p) return;
    const dir = p.dir;
    const left = await p.stop();
    expect(left, 'what stop() had to clean up').toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
  }, 120_000);

  it('exit codes as with runc: 0, 3, 127 for a missing program, 137 after podman kill; stdout and stderr pass; PID 1 is tini-ts, the program its child', () => {
    const outcome = (runtime: string) => ({
      ok: run(runtime, IMAGE, 'sh', '-c', 'echo out; echo err >&2'),
      three: run(runtime, IMAGE, 'sh', '-c', 'exit 3'),
      missing: run(runtime, IMAGE, 'no-such-program'),
      selfKilled: run(runtime, IMAGE, 'sh', '-c', 'kill -9 $$'),
      killed: (() => {
        const id = detached(runtime, IMAGE, 'sleep', '1000');
        const k = podman('kill', id); // SIGKILL
        expect(k.status, show(k)).toBe(0);
        const w = podman('wait', id);
        podman('rm', id);
        return w;
      })(),
    });
    const o = Object.fromEntries(Object.entries(RUNTIMES).map(([name, r]) => [name, outcome(r)]));
    for (const r of Object.keys(RUNTIMES)) {
      expect(o[r].ok.status, `${r}: ${show(o[r].ok)}`).toBe(0);
      expect(o[r].ok.stdout, r).toBe('out\n');
      expect(o[r].ok.stderr, r).toBe('err\n');
      expect(o[r].three.status, `${r}: ${show(o[r].three)}`).toBe(3);
      expect(o[r].missing.status, `${r}: ${show(o[r].missing)}`).toBe(127);
      expect(o[r].missing.stderr, r).toContain('executable file not found in $PATH');
      expect(o[r].killed.stdout.trim(), `${r}: ${show(o[r].killed)}`).toBe('137');
    }
    // kill -9 of the program by itself: 137 under tini-ts; runc's program is PID 1, which the kernel shields from it.
    expect(o['tini-ts'].selfKilled.status, show(o['tini-ts'].selfKilled)).toBe(137);
    expect(o.runc.selfKilled.status, show(o.runc.selfKilled)).toBe(0);
    const tree = run(p.runtime, IMAGE, 'sh', '-c', 'echo "init=$(cat /proc/1/comm) ppid=$PPID pid=$$"');
    expect(tree.stdout, show(tree)).toMatch(/^init=tini-ts ppid=1 pid=[0-9]+\n$/);
  });

  it('run -d, exec, top, kill -s USR1 (the program traps it), pause/unpause, stop (143 under tini-ts; runc\'s PID 1 shell ignores TERM: 137 after the timeout), rm', async () => {
    const results: Record<string, { stopStatus: string; stopMs: number }> = {};
    for (const [name, runtime] of Object.entries(RUNTIMES)) {
      const id = detached(runtime, IMAGE, 'sh', '-c', 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 1; done');
      try {
        expect(await waitFor(() => podman('logs', id).stdout.includes('ready'), 20_000), name).toBe(true);
        const e = podman('exec', id, 'sh', '-c', 'echo "pid1=$(cat /proc/1/comm)"; exit 5');
        expect(e.status, `${name}: ${show(e)}`).toBe(5);
        expect(e.stdout, name).toBe(`pid1=${name === 'tini-ts' ? 'tini-ts' : 'sh'}\n`);
        const flags = podman('exec', '-w', '/tmp', '-e', 'X=1', '-u', '1000', id, 'sh', '-c', 'echo "$(pwd) $X $(id -u)"');
        expect(flags.stdout, `${name}: ${show(flags)}`).toBe('/tmp 1 1000\n');
        const missing = podman('exec', id, 'no-such-program');
        expect(missing.status, `${name}: ${show(missing)}`).toBe(127);
        const top = podman('top', id, 'pid', 'comm');
        expect(top.status, `${name}: ${show(top)}`).toBe(0);
        expect(top.stdout, name).toMatch(/^\s*1\s+(tini-ts|sh)\s*$/m);
        const k = podman('kill', '-s', 'USR1', id);
        expect(k.status, `${name}: ${show(k)}`).toBe(0);
        expect(await waitFor(() => podman('logs', id).stdout.includes('got-usr1'), 20_000), `${name}: ${podman('logs', id).stdout}`).toBe(true);
        const pa = podman('pause', id);
        expect(pa.status, `${name}: ${show(pa)}`).toBe(0);
        expect(inspect(id, '{{.State.Status}}'), name).toBe('paused');
        const u = podman('unpause', id);
        expect(u.status, `${name}: ${show(u)}`).toBe(0);
        expect(inspect(id, '{{.State.Status}}'), name).toBe('running');
        const t0 = process.hrtime.bigint();
        const s = podman('stop', '-t', '3', id);
        const stopMs = ms(t0);
        expect(s.status, `${name}: ${show(s)}`).toBe(0);
        results[name] = { stopStatus: inspect(id, '{{.State.ExitCode}}'), stopMs };
        const rm = podman('rm', id);
        expect(rm.status, `${name}: ${show(rm)}`).toBe(0);
      } finally {
        podman('rm', '-f', '-t', '0', id);
      }
    }
    expect(results['tini-ts'].stopStatus).toBe('143');
    expect(results.runc.stopStatus).toBe('137');
    console.log(`podman.test: podman stop -t 3 of a trapping shell: tini-ts ${results['tini-ts'].stopMs.toFixed(0)} ms (143), runc ${results.runc.stopMs.toFixed(0)} ms (137)`);
  });

  it('stats --no-stream reads the container cgroup: the memory limit given to run, the processes', () => {
    const id = detached(p.runtime, '--memory', '64m', IMAGE, 'sleep', '1000');
    try {
      const s = podman('stats', '--no-stream', '--format', '{{.MemUsage}}|{{.PIDs}}', id);
      expect(s.status, show(s)).toBe(0);
      const [mem, pids] = s.stdout.trim().split('|');
      expect(mem, s.stdout).toMatch(/ \/ 67\.11MB$/);
      expect(Number(pids), s.stdout).toBeGreaterThanOrEqual(2);
    } finally {
      podman('rm', '-f', '-t', '0', id);
    }
  });

  it("a seccomp filter is in force (mode 2) and ordinary calls pass, as with runc", () => {
    for (const [name, runtime] of Object.entries(RUNTIMES)) {
      const ok = run(runtime, IMAGE, 'sh', '-c', 'echo x >/tmp/f && cat /tmp/f && grep "^Seccomp:" /proc/self/status');
      expect(ok.status, `${name}: ${show(ok)}`).toBe(0);
      expect(ok.stdout, name).toBe('x\nSeccomp:\t2\n');
    }
  });

  it("what the workload is and may do under Podman's config.json, beside runc: credentials, hostname, capabilities, seccomp mode, no_new_privs, rlimits, masked and read-only paths", () => {
    const seen = Object.fromEntries(
      Object.entries(RUNTIMES).map(([name, runtime]) => {
        const r = run(runtime, '--hostname', 'h1', '--user', '1000:1000', IMAGE, 'sh', '-c', PROBE);
        expect(r.status, `${name}: ${show(r)}`).toBe(0);
        return [name, r.stdout.split('-- mounts\n')[0]];
      }),
    );
    expect(seen['tini-ts']).toBe(seen.runc);
    expect(seen.runc).toMatch(/^id: uid=1000\S* gid=1000/);
  });

  it('podman run --read-only and --tmpfs (tmpfs mounts with runc\'s tmpcopyup), --umask: the workload sees what runc gives it', () => {
    const cases: string[][] = [
      ['--read-only', IMAGE, 'sh', '-c', 'touch /x 2>&1; echo y >/tmp/y && cat /tmp/y; grep -E " /(tmp|run|var/tmp) " /proc/self/mountinfo | cut -d" " -f5,6 | sort'],
      // what /etc held in the image is copied into the tmpfs
      ['--tmpfs', '/etc', IMAGE, 'sh', '-c', 'ls -ln /etc | awk "NR > 1 {print \\$1, \\$3, \\$4, \\$NF}" | sort; grep -E " /etc " /proc/self/mountinfo | cut -d" " -f5,6'],
      ['--umask', '0027', IMAGE, 'sh', '-c', 'umask'],
    ];
    for (const c of cases) {
      const [tini, runc] = Object.values(RUNTIMES).map((rt) => run(rt, ...c));
      expect(runc.status, `${c.join(' ')}\n${show(runc)}`).toBe(0);
      expect(tini.status, `${c.join(' ')}\n${show(tini)}`).toBe(0);
      expect(tini.stdout, c.join(' ')).toBe(runc.stdout);
    }
    expect(run(RUNTIMES['tini-ts'], '--tmpfs', '/etc', IMAGE, 'cat', '/etc/passwd').stdout).toMatch(/^root:/);
  });

  it("Podman's own seccomp profile is the one in force: it allows unshare -U, as runc shows", () => {
    const outcomes = Object.fromEntries(Object.entries(RUNTIMES).map(([name, runtime]) => [name, run(runtime, IMAGE, 'unshare', '-U', 'true').status]));
    expect(outcomes.runc).toBe(0);
    expect(outcomes).toEqual({ 'tini-ts': 0, runc: 0 });
  });

  it('podman run --init --init-path dist/tini-ts (runtime runc) as uid 65534: zombies reaped, podman stop ends the program with TERM (143)', async () => {
    const id = detached(RUNTIMES.runc, '--init', '--init-path', BIN, '--user', '65534', IMAGE, 'sh', '-c', 'for i in 1 2 3 4 5; do (sleep 0.1 &); done; echo ready; exec sleep 1000');
    try {
      expect(await waitFor(() => podman('logs', id).stdout.includes('ready'), 20_000)).toBe(true);
      const pid1 = podman('exec', id, 'sh', '-c', 'cat /proc/1/comm; id -u');
      expect(pid1.stdout, show(pid1)).toBe('tini-ts\n65534\n'); // /run/podman-init, bound from dist/tini-ts
      const zombies = () => podman('exec', id, 'sh', '-c', 'grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l').stdout.trim();
      expect(await waitFor(() => zombies() === '0', 10_000), `zombies: ${zombies()}`).toBe(true);
      const t0 = process.hrtime.bigint();
      const s = podman('stop', '-t', '10', id);
      const stopMs = ms(t0);
      expect(s.status, show(s)).toBe(0);
      expect(inspect(id, '{{.State.ExitCode}}')).toBe('143');
      console.log(`podman.test: podman stop of sleep under podman run --init (tini-ts as podman-init): ${stopMs.toFixed(0)} ms, exit 143`);
    } finally {
      podman('rm', '-f', '-t', '0', id);
    }
  });

  it("what Podman and conmon call, traced (conmon: create, exec; Podman: start, pause, resume, update, kill, delete --force), and every call succeeds; the log holds no warning or error", () => {
    // The wrapper is named tini-ts-runc too (in a directory of its own): Podman then passes --log as to tini-ts.
    const dir = path.join(p.dir, 'trace');
    fs.mkdirSync(dir);
    const trace = traceWrapper(dir, 'tini-ts-runc', p.runtime);
    expect(run(trace.path, IMAGE, 'true').status).toBe(0);
    const id = detached(trace.path, IMAGE, 'sleep', '1000');
    try {
      expect(podman('exec', id, 'true').status).toBe(0);
      expect(podman('pause', id).status).toBe(0);
      expect(podman('unpause', id).status).toBe(0);
      expect(podman('update', '--memory', '32m', id).status).toBe(0);
      expect(podman('stop', '-t', '1', id).status).toBe(0);
    } finally {
      podman('rm', '-f', '-t', '0', id);
    }
    const calls = trace.calls();
    // The word after the global flags (`--flag=value` or `--flag value`).
    const verb = (argv: string) => {
      const t = argv.split(' ');
      let i = 0;
      while (t[i]?.startsWith('--')) i += t[i].includes('=') ? 1 : 2;
      return t[i];
    };
    console.log(`podman.test: what Podman called:\n${calls.map((c) => `  rc=${c.rc} ${c.argv}`).join('\n')}\nthe runtime's log:\n${trace.logs().map((l) => `  ${l}`).join('\n')}`);
    for (const v of ['create', 'start', 'exec', 'pause', 'resume', 'update', 'kill', 'delete']) expect(calls.map((c) => verb(c.argv)), v).toContain(v);
    expect(calls.filter((c) => c.rc !== 0)).toEqual([]);
    // Everything Podman's config.json and process.json carry is acted on (process.user.umask was named as ignored).
    expect(trace.logs().map((l) => JSON.parse(l) as { level: string; msg: string }).filter((l) => l.level !== 'debug' && l.level !== 'info')).toEqual([]);
  });

  it('podman run --rm IMAGE true: the same outcome with tini-ts, runc and crun (times measured, interleaved, not asserted)', () => {
    // crun 1.8 refuses a host whose cgroup v2 tree is mounted beside v1 (this one): then it is named, and left out.
    const crun = fs.existsSync(CRUN) ? run(CRUN, IMAGE, 'true') : null;
    if (crun && crun.status !== 0) console.log(`podman.test: crun cannot run here: ${crun.stderr.trim()}`);
    const runtimes: Record<string, string> = { ...RUNTIMES, ...(crun?.status === 0 ? { crun: CRUN } : {}) };
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(runtimes).map((r) => [r, []]));
    for (let i = 0; i < 5; i++) {
      for (const [name, r] of Object.entries(runtimes)) {
        const t0 = process.hrtime.bigint();
        const res = run(r, IMAGE, 'true');
        times[name].push(ms(t0));
        expect(res.status, `${name}: ${show(res)}`).toBe(0);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`podman.test: podman run --rm --network none IMAGE true, median of 5: ${Object.keys(runtimes).map((r) => `${r} ${median(times[r]).toFixed(0)} ms`).join(', ')}`);
  });

  // Podman mounts /dev noexec (Docker does not): a root init on Node 24 has no place either.
  (FFI ? it : it.fails)(`podman run --init --read-only (root), with only the one binary (${FFI ? 'the addon from memory' : 'an expected failure on Node 24: "...; /dev: /proc/self/fd/N: failed to map segment from shared object"'})`, () => {
    const r = run(RUNTIMES.runc, '--init', '--init-path', BIN, '--read-only', '--read-only-tmpfs=false', IMAGE, 'sh', '-c', 'echo "init=$(cat /proc/1/comm)"; grep -c "/memfd:tini-ts-koffi (deleted)" /proc/1/maps');
    expect(r.stderr, show(r)).toBe('');
    expect(r.stdout).toMatch(/^init=tini-ts\n[1-9][0-9]*\n$/);
    expect(r.status).toBe(0);
  });

  // A non-root init on a read-only root has no writable place at all: only memfd_create (node:ffi, a Node >= 26 build) works there.
  (FFI ? it : it.fails)(`podman run --init --read-only as uid 65534, with only the one binary (${FFI ? 'the addon from memory' : 'an expected failure on Node 24: "cannot load the FFI addon (koffi.node); tried ...; memfd_create: Node v24... has no node:ffi to call it; ...; /dev: EACCES"'})`, () => {
    const r = run(RUNTIMES.runc, '--init', '--init-path', BIN, '--read-only', '--read-only-tmpfs=false', '--user', '65534', IMAGE, 'sh', '-c', 'echo "init=$(cat /proc/1/comm)"; grep -c "/memfd:tini-ts-koffi (deleted)" /proc/1/maps');
    expect(r.stderr, show(r)).toBe('');
    expect(r.stdout).toMatch(/^init=tini-ts\n[1-9][0-9]*\n$/);
    expect(r.status).toBe(0);
  });

  it('the image has no libatomic (the binary needs none): nothing named libatomic* in it, and the init runs there as podman-init', () => {
    const r = run(RUNTIMES.runc, '--init', '--init-path', BIN, IMAGE, 'sh', '-c', 'echo "init=$(cat /proc/1/comm)"; find / -xdev -name "libatomic*"; ls /lib/*/libstdc++.so.6 /lib64/ld-linux-* | wc -l');
    expect(r.stderr, show(r)).toBe('');
    expect(r.stdout).toBe('init=tini-ts\n2\n');
    expect(r.status).toBe(0);
  });

  it('podman update --memory changes the running container\'s limit', () => {
    const id = detached(p.runtime, '--memory', '64m', IMAGE, 'sleep', '1000');
    try {
      const u = podman('update', '--memory', '32m', id);
      expect(u.status, show(u)).toBe(0);
      const limit = path.join('/sys/fs/cgroup/memory', p.cgroupParent, `libpod-${id}`, 'memory.limit_in_bytes');
      expect(fs.readFileSync(limit, 'utf8').trim()).toBe(String(32 * 1024 * 1024));
    } finally {
      podman('rm', '-f', '-t', '0', id);
    }
  });

  it('podman run -t gives the program a terminal', () => {
    const cmd = ['/usr/bin/podman', ...p.globals, 'run', '--rm', '-t', ...runArgs(p.runtime), IMAGE, 'sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo tty-ok'].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], env: p.env });
    expect(r.error).toBeUndefined();
    expect(r.stdout, `${r.stdout}${r.stderr}`).toContain('tty-ok');
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
});
