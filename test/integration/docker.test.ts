/**
 * Docker drives tini-ts for real: Debian's docker.io 20.10, a dockerd of the
 * test's own (test/helpers/docker.ts: its data root, exec root, socket and
 * cgroup parent, the tests' own containerd, no bridge, no iptables, proxies
 * at a closed port) with `--add-runtime tini-ts=dist/tini-ts` and
 * `--init-path dist/tini-ts`. The image is imported offline (`docker
 * import`) from a busybox root filesystem plus the host's glibc and
 * libstdc++ (what the binary needs as docker-init). Every container runs
 * with `--network none`. Where it makes sense the same scenario runs with
 * Docker's runc, and the outcomes are compared.
 *
 * What Docker calls is containerd's runc shim (see containerd.test.ts), with
 * Docker's config.json: its seccomp profile, hooks (libnetwork-setkey),
 * sysctls, masked paths, `linux.cgroupsPath` /PARENT/ID.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cgroupsUnder, DOCKER as DOCKER_BIN, dockerAvailable, mountsUnder, PROBE, startDocker, traceWrapper, type CmdResult, type Docker } from '../helpers/docker.js';
import os from 'node:os';
import { unmet } from '../helpers/prereq.js';
import { makeGlibcRootfs } from '../helpers/rootfs.js';
import { buildInfo } from '../helpers/proc.js';
import { canContainer, CONTAINER_NEEDS } from './container-helpers.js';
import { BIN, waitFor } from './run-helpers.js';

const IMAGE = 'tini-ts-test:latest';
/** Whether the binary's Node has node:ffi (Node >= 26): its addon then comes from memory, and read-only non-root inits work. */
const FFI = buildInfo(BIN).ffi;
/** The init's mapping of its addon when only the one binary is there: an anonymous memory file, else an unnamed file in the container's /dev. */
const ADDON_MAPPING = FFI ? String.raw`/memfd:tini-ts-koffi (deleted)` : String.raw`/dev/#[0-9]* (deleted)`;
const RUNTIMES = ['tini-ts', 'runc'] as const;
const CRUN = '/usr/bin/crun';
const show = (r: CmdResult) => `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const hostLinks = () => fs.readdirSync('/sys/class/net').sort();
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

describe.skipIf(unmet(canContainer && dockerAvailable(), `${CONTAINER_NEEDS} and Debian's docker.io and containerd (dockerd, docker, containerd, ctr, containerd-shim-runc-v2)`))('Docker drives tini-ts (docker run --runtime tini-ts, docker run --init)', () => {
  let d: Docker;
  let links: string[];
  let traceDir: string;
  let trace: ReturnType<typeof traceWrapper>;
  const docker = (...args: string[]) => d.docker(args);
  const run = (runtime: string, ...args: string[]) => docker('run', '--rm', '--runtime', runtime, '--network', 'none', ...args);
  /** `docker run -d`: the container's id. */
  const detached = (runtime: string, ...args: string[]) => {
    const r = docker('run', '-d', '--runtime', runtime, '--network', 'none', ...args);
    expect(r.status, show(r)).toBe(0);
    return r.stdout.trim();
  };
  const inspect = (id: string, format: string) => docker('inspect', '-f', format, id).stdout.trim();

  beforeAll(async () => {
    traceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-docker-trace-'));
    trace = traceWrapper(traceDir, 'tini-ts-trace', BIN);
    d = await startDocker({ runtimes: { 'tini-ts': BIN, crun: CRUN, 'tini-ts-trace': trace.path }, initPath: BIN });
    const rootfs = makeGlibcRootfs(path.join(d.dir, 'rootfs'), BIN);
    const tar = spawnSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', path.join(d.dir, 'rootfs.tar'), '.']);
    expect(tar.status).toBe(0);
    fs.rmSync(rootfs, { recursive: true });
    const imp = docker('import', '--change', 'CMD ["/bin/sh"]', path.join(d.dir, 'rootfs.tar'), IMAGE);
    expect(imp.status, show(imp)).toBe(0);
    links = hostLinks();
  }, 120_000);

  afterEach(async () => {
    // Nothing of a test is left: no container, no cgroup under our parent, no runtime state, no
    // container root mounted, no network interface on the host.
    const ps = () => docker('ps', '-aq').stdout.split('\n').filter(Boolean);
    expect(await waitFor(() => ps().length === 0, 20_000), `containers left: ${ps()}`).toBe(true);
    expect(await waitFor(() => cgroupsUnder(d.cgroupParent).length === 0, 10_000), `${cgroupsUnder(d.cgroupParent)}`).toBe(true);
    for (const root of d.runtimeRoots()) expect(fs.readdirSync(root), root).toEqual([]);
    expect(mountsUnder(path.join(d.dir, 'data', 'overlay2'))).toEqual([]);
    expect(hostLinks(), "the host's network interfaces").toEqual(links);
  });

  afterAll(async () => {
    if (traceDir) fs.rmSync(traceDir, { recursive: true, force: true });
    if (!d) return;
    const dir = d.dir;
    const left = await d.stop();
    expect(left, 'what stop() had to clean up').toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
  }, 120_000);

  it('exit codes as with runc: 0, 3, 127 for a missing program, 137 after kill -9; stdout and stderr pass; PID 1 is tini-ts, the program its child', () => {
    const outcome = (runtime: string) => ({
      ok: run(runtime, IMAGE, 'sh', '-c', 'echo out; echo err >&2'),
      three: run(runtime, IMAGE, 'sh', '-c', 'exit 3'),
      missing: run(runtime, IMAGE, 'no-such-program'),
      selfKilled: run(runtime, IMAGE, 'sh', '-c', 'kill -9 $$'),
      killed: (() => {
        const id = detached(runtime, IMAGE, 'sleep', '1000');
        const k = docker('kill', id); // SIGKILL
        expect(k.status, show(k)).toBe(0);
        const w = docker('wait', id);
        docker('rm', id);
        return w;
      })(),
    });
    const o = Object.fromEntries(RUNTIMES.map((r) => [r, outcome(r)]));
    for (const r of RUNTIMES) {
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
    const tree = run('tini-ts', IMAGE, 'sh', '-c', 'echo "init=$(cat /proc/1/comm) ppid=$PPID pid=$$"');
    expect(tree.stdout, show(tree)).toMatch(/^init=tini-ts ppid=1 pid=[0-9]+\n$/);
    expect(tree.stdout).not.toMatch(/pid=1\n/);
  });

  it('run -d, exec, top, kill -s USR1 (the program traps it), pause/unpause (the freezer), stop (TERM reaches the program: 143, where runc\'s PID 1 shell ignores it: 137 after the timeout), rm', async () => {
    const results: Record<string, { stopStatus: string; stopMs: number }> = {};
    for (const runtime of RUNTIMES) {
      const id = detached(runtime, IMAGE, 'sh', '-c', 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 1; done');
      try {
        expect(await waitFor(() => docker('logs', id).stdout.includes('ready'), 20_000), runtime).toBe(true);
        const pid = Number(inspect(id, '{{.State.Pid}}'));
        expect(pid, runtime).toBeGreaterThan(0);
        const e = docker('exec', id, 'sh', '-c', 'echo "pid1=$(cat /proc/1/comm)"; exit 5');
        expect(e.status, `${runtime}: ${show(e)}`).toBe(5);
        expect(e.stdout, runtime).toBe(`pid1=${runtime === 'tini-ts' ? 'tini-ts' : 'sh'}\n`);
        const flags = docker('exec', '-w', '/tmp', '-e', 'X=1', '-u', '1000', id, 'sh', '-c', 'echo "$(pwd) $X $(id -u)"');
        expect(flags.stdout, `${runtime}: ${show(flags)}`).toBe('/tmp 1 1000\n');
        const missing = docker('exec', id, 'no-such-program');
        expect(missing.status, `${runtime}: ${show(missing)}`).toBe(126); // Docker's code for a failed exec, whatever the runtime
        expect(missing.stdout + missing.stderr, runtime).toContain('executable file not found in $PATH');
        const top = docker('top', id);
        expect(top.status, `${runtime}: ${show(top)}`).toBe(0);
        const topPids = top.stdout.split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[1])).filter((p) => p > 0);
        expect(topPids, `${runtime}: ${top.stdout}`).toContain(pid);
        const k = docker('kill', '-s', 'USR1', id);
        expect(k.status, `${runtime}: ${show(k)}`).toBe(0);
        expect(await waitFor(() => docker('logs', id).stdout.includes('got-usr1'), 20_000), `${runtime}: ${docker('logs', id).stdout}`).toBe(true);
        const p = docker('pause', id);
        expect(p.status, `${runtime}: ${show(p)}`).toBe(0);
        expect(inspect(id, '{{.State.Status}}'), runtime).toBe('paused');
        const freezer = path.join('/sys/fs/cgroup/freezer', d.cgroupParent, id, 'freezer.state');
        if (fs.existsSync(freezer)) expect(fs.readFileSync(freezer, 'utf8').trim(), runtime).toBe('FROZEN');
        const u = docker('unpause', id);
        expect(u.status, `${runtime}: ${show(u)}`).toBe(0);
        expect(inspect(id, '{{.State.Status}}'), runtime).toBe('running');
        const t0 = process.hrtime.bigint();
        const s = docker('stop', '-t', '3', id);
        const stopMs = ms(t0);
        expect(s.status, `${runtime}: ${show(s)}`).toBe(0);
        results[runtime] = { stopStatus: inspect(id, '{{.State.ExitCode}}'), stopMs };
      } finally {
        docker('rm', '-f', id);
      }
    }
    expect(results['tini-ts'].stopStatus).toBe('143');
    expect(results.runc.stopStatus).toBe('137');
    console.log(`docker.test: docker stop -t 3 of a trapping shell: tini-ts ${results['tini-ts'].stopMs.toFixed(0)} ms (143), runc ${results.runc.stopMs.toFixed(0)} ms (137)`);
  });

  it("the orphans of a docker exec are reaped by the container's init (tini-ts): no zombie is left", async () => {
    const id = detached('tini-ts', IMAGE, 'sleep', '1000');
    try {
      // The exec'd shell leaves five sleeps behind and exits: they are re-parented to PID 1 of the container.
      const e = docker('exec', id, 'sh', '-c', 'for i in 1 2 3 4 5; do sleep 3 </dev/null >/dev/null 2>&1 & done');
      expect(e.status, show(e)).toBe(0);
      const count = (state: string) => docker('exec', id, 'sh', '-c', `grep -l "^State:.*${state}" /proc/[0-9]*/status 2>/dev/null | wc -l`).stdout.trim();
      const orphans = () => docker('exec', id, 'sh', '-c', 'for s in /proc/[0-9]*/stat; do set -- $(cat $s 2>/dev/null); [ "$4" = 1 ] && [ "$(tr "\\0" " " </proc/$1/cmdline 2>/dev/null)" = "sleep 3 " ] && echo $1; done | wc -l').stdout.trim();
      expect(Number(orphans()), 'the sleeps are children of PID 1 meanwhile').toBeGreaterThan(0);
      expect(await waitFor(() => count('Z') === '0' && orphans() === '0', 10_000), `zombies ${count('Z')}, orphans ${orphans()}`).toBe(true);
    } finally {
      docker('rm', '-f', id);
    }
  });

  it('stats --no-stream reads the container cgroup: the memory limit given to run, the processes', () => {
    const id = detached('tini-ts', '--memory', '64m', IMAGE, 'sleep', '1000');
    try {
      const s = docker('stats', '--no-stream', '--format', '{{.MemUsage}}|{{.PIDs}}', id);
      expect(s.status, show(s)).toBe(0);
      const [mem, pids] = s.stdout.trim().split('|');
      expect(mem, s.stdout).toMatch(/ \/ 64MiB$/);
      expect(Number(pids), s.stdout).toBeGreaterThanOrEqual(2); // the init and sleep (and the init's threads)
    } finally {
      docker('rm', '-f', id);
    }
  });

  it("Docker's seccomp is in force: unshare is denied, ordinary calls pass; the same outcome as runc", () => {
    for (const runtime of RUNTIMES) {
      const denied = run(runtime, IMAGE, 'unshare', '-U', 'true');
      expect(denied.status, `${runtime}: ${show(denied)}`).not.toBe(0);
      expect(denied.stderr, runtime).toContain('Operation not permitted');
      const ok = run(runtime, IMAGE, 'sh', '-c', 'echo x >/tmp/f && cat /tmp/f && grep "^Seccomp:" /proc/self/status');
      expect(ok.status, `${runtime}: ${show(ok)}`).toBe(0);
      expect(ok.stdout, runtime).toBe('x\nSeccomp:\t2\n');
    }
  });

  it('docker run --init (default runtime runc, dockerd --init-path dist/tini-ts) as uid 65534: zombies reaped, docker stop ends the program with TERM (143), docker info shows the init version', async () => {
    const version = spawnSync(BIN, ['--version'], { encoding: 'utf8' }).stdout;
    const commit = /git\.(\S+)/.exec(version)?.[1];
    expect(commit, version).toBeTruthy();
    const info = docker('info', '--format', '{{.InitBinary}} {{.InitCommit.ID}}');
    expect(info.stdout.trim(), show(info)).toBe(`${BIN} ${commit}`);
    // Orphans: a background sleep whose parent is gone is re-parented to PID 1 and must be reaped there.
    const id = detached('runc', '--init', '--user', '65534', IMAGE, 'sh', '-c', 'for i in 1 2 3 4 5; do (sleep 0.1 &); done; echo ready; exec sleep 1000');
    try {
      expect(await waitFor(() => docker('logs', id).stdout.includes('ready'), 20_000)).toBe(true);
      const pid1 = docker('exec', id, 'sh', '-c', 'cat /proc/1/comm; id -u');
      expect(pid1.stdout, show(pid1)).toBe('tini-ts\n65534\n'); // /sbin/docker-init, bound from dist/tini-ts
      // No zombie once the sleeps are over (the init reaped them).
      const zombies = () => docker('exec', id, 'sh', '-c', 'grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l').stdout.trim();
      expect(await waitFor(() => zombies() === '0', 10_000), `zombies: ${zombies()}`).toBe(true);
      const t0 = process.hrtime.bigint();
      const s = docker('stop', '-t', '10', id);
      const stopMs = ms(t0);
      expect(s.status, show(s)).toBe(0);
      expect(inspect(id, '{{.State.ExitCode}}')).toBe('143');
      console.log(`docker.test: docker stop of sleep under docker run --init (tini-ts as docker-init): ${stopMs.toFixed(0)} ms, exit 143`);
    } finally {
      docker('rm', '-f', id);
    }
  });

  it("what Docker calls, traced (containerd's shim: create, start, exec, ps, pause, resume, update, kill, delete), and every call succeeds; the log holds no error", () => {
    expect(run('tini-ts-trace', IMAGE, 'true').status).toBe(0);
    const id = detached('tini-ts-trace', IMAGE, 'sleep', '1000');
    try {
      expect(docker('exec', id, 'true').status).toBe(0);
      expect(docker('top', id).status).toBe(0);
      expect(docker('pause', id).status).toBe(0);
      expect(docker('unpause', id).status).toBe(0);
      expect(docker('update', '--memory', '32m', '--memory-swap', '64m', id).status).toBe(0);
      expect(docker('stop', '-t', '1', id).status).toBe(0);
    } finally {
      docker('rm', '-f', id);
    }
    const calls = trace.calls();
    // The word after the global flags (`--flag=value` or `--flag value`).
    const verb = (argv: string) => {
      const t = argv.split(' ');
      let i = 0;
      while (t[i]?.startsWith('--')) i += t[i].includes('=') ? 1 : 2;
      return t[i];
    };
    console.log(`docker.test: what Docker called:\n${calls.map((c) => `  rc=${c.rc} ${c.argv}`).join('\n')}\nthe runtime's log:\n${trace.logs().map((l) => `  ${l}`).join('\n')}`);
    expect(new Set(calls.map((c) => verb(c.argv)))).toEqual(new Set(['create', 'start', 'delete', 'exec', 'ps', 'pause', 'resume', 'update', 'kill']));
    expect(calls.filter((c) => c.rc !== 0)).toEqual([]);
    // The log holds JSON lines only (containerd parses it), and no error.
    const lines = trace.logs().map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  /** The probe's output per runtime: [what the process is and may do, its mounts and cgroups]. */
  const probe = () => {
    const seen: Record<string, [string, string]> = {};
    for (const runtime of RUNTIMES) {
      const r = run(runtime, '--hostname', 'h1', '--user', '1000:1000', IMAGE, 'sh', '-c', PROBE);
      expect(r.status, `${runtime}: ${show(r)}`).toBe(0);
      // The container's id differs: it is the last component of every cgroup path.
      const [proc, mounts] = r.stdout.replace(/\/[0-9a-f]{64}/g, '/ID').split('-- mounts\n');
      seen[runtime] = [proc, mounts];
    }
    return seen;
  };

  it("what the workload is and may do under Docker's config.json, beside runc: credentials, hostname, capabilities, seccomp mode, no_new_privs, rlimits, masked and read-only paths", () => {
    const seen = probe();
    expect(seen['tini-ts'][0]).toBe(seen.runc[0]);
    expect(seen.runc[0]).toContain('id: uid=1000 gid=1000');
  });

  it("the workload's mounts and cgroups are runc's: /sys/fs/cgroup binds every v1 hierarchy, name=systemd included; /proc/self/cgroup names the container's cgroup in each, and in a hybrid host's v2 tree", () => {
    const seen = probe();
    expect(seen['tini-ts'][1]).toBe(seen.runc[1]);
    if (fs.existsSync('/sys/fs/cgroup/systemd/cgroup.procs')) expect(seen.runc[1]).toMatch(/^[0-9]+:name=systemd:\/tini-ts-docker-[^/]+\/ID$/m);
    if (fs.existsSync('/sys/fs/cgroup/unified/cgroup.procs')) expect(seen.runc[1]).toMatch(/^0::\/tini-ts-docker-[^/]+\/ID$/m);
  });

  it('docker run flags give what runc gives: --read-only with --tmpfs, a read-only volume with -w and -e, --cap-drop/--cap-add, cgroup limits, --ulimit, --sysctl, --device, --shm-size, --pid host, --oom-score-adj, --memory-reservation, --oom-kill-disable, --domainname, --group-add, -i (stdin), docker restart', () => {
    const vol = path.join(d.dir, 'vol');
    fs.mkdirSync(vol, { recursive: true });
    fs.writeFileSync(path.join(vol, 'f'), 'volume-content\n');
    const cases: string[][] = [
      ['--read-only', '--tmpfs', '/scratch', IMAGE, 'sh', '-c', 'touch /x 2>&1; touch /scratch/y && echo tmpfs-ok; grep -E " / | /scratch " /proc/self/mountinfo | cut -d" " -f5,6'],
      ['-v', `${vol}:/vol:ro`, '-w', '/vol', '-e', 'FOO=bar', IMAGE, 'sh', '-c', 'pwd; cat f; echo $FOO; touch g 2>&1; true'],
      ['--cap-drop', 'ALL', '--cap-add', 'NET_RAW', IMAGE, 'sh', '-c', 'grep Cap /proc/self/status'],
      // (pids.max is raised by the init's own 3 tasks, on purpose: not compared)
      ['--cpus', '0.5', '--memory', '32m', '--memory-swap', '64m', '--cpu-shares', '512', IMAGE, 'sh', '-c', 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes 2>&1'],
      ['--ulimit', 'nofile=100:200', IMAGE, 'sh', '-c', 'ulimit -n; ulimit -Hn'],
      ['--sysctl', 'net.ipv4.ip_forward=1', IMAGE, 'cat', '/proc/sys/net/ipv4/ip_forward'],
      ['--device', '/dev/null:/dev/mynull', IMAGE, 'sh', '-c', '[ -c /dev/mynull ] && echo x > /dev/mynull && echo dev-ok'],
      ['--ipc', 'private', '--shm-size', '8m', IMAGE, 'sh', '-c', 'df -k /dev/shm | tail -1'],
      ['--pid', 'host', IMAGE, 'sh', '-c', 'echo $$ >/dev/null; [ -d /proc/1 ] && echo host-pids'],
      ['--oom-score-adj', '500', IMAGE, 'cat', '/proc/self/oom_score_adj'],
      ['--memory', '64m', '--memory-reservation', '32m', '--oom-kill-disable', IMAGE, 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes; head -1 /sys/fs/cgroup/memory/memory.oom_control'],
      ['--domainname', 'example.test', IMAGE, 'cat', '/proc/sys/kernel/domainname'],
      ['--group-add', '123', '-u', '1000', IMAGE, 'id'],
    ];
    for (const c of cases) {
      const [tini, runc] = RUNTIMES.map((rt) => run(rt, ...c));
      expect(tini.status, `${c.join(' ')}\n${show(tini)}`).toBe(runc.status);
      expect(runc.status, `${c.join(' ')}\n${show(runc)}`).toBe(0);
      expect(tini.stdout, c.join(' ')).toBe(runc.stdout);
    }
    for (const rt of RUNTIMES) {
      const i = spawnSync(DOCKER_BIN, ['run', '-i', '--rm', '--runtime', rt, '--network', 'none', IMAGE, 'cat'], { input: 'from-stdin\n', encoding: 'utf8', env: d.env });
      expect(i.stdout, `${rt}: ${i.stderr}`).toBe('from-stdin\n');
      const id = detached(rt, IMAGE, 'sleep', '1000');
      try {
        const pid = inspect(id, '{{.State.Pid}}');
        const r = docker('restart', '-t', '1', id);
        expect(r.status, `${rt}: ${show(r)}`).toBe(0);
        expect(inspect(id, '{{.State.Status}}'), rt).toBe('running');
        expect(inspect(id, '{{.State.Pid}}'), rt).not.toBe(pid);
      } finally {
        docker('rm', '-f', id);
      }
    }
  });

  it('docker run --rm IMAGE true: the same outcome with tini-ts, runc and crun (times measured, interleaved, not asserted)', () => {
    // crun 1.8 refuses a host whose cgroup v2 tree is mounted beside v1 (this one): then it is named, and left out.
    const crun = fs.existsSync(CRUN) ? run('crun', IMAGE, 'true') : null;
    if (crun && crun.status !== 0) console.log(`docker.test: crun cannot run here: ${crun.stderr.trim()}`);
    const runtimes = crun?.status === 0 ? ['tini-ts', 'runc', 'crun'] : ['tini-ts', 'runc'];
    const times: Record<string, number[]> = Object.fromEntries(runtimes.map((r) => [r, []]));
    for (let i = 0; i < 5; i++) {
      for (const r of runtimes) {
        const t0 = process.hrtime.bigint();
        const res = run(r, IMAGE, 'true');
        times[r].push(ms(t0));
        expect(res.status, `${r}: ${show(res)}`).toBe(0);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    console.log(`docker.test: docker run --rm --network none IMAGE true, median of 5: ${runtimes.map((r) => `${r} ${median(times[r]).toFixed(0)} ms`).join(', ')}`);
  });

  it(`docker run --init --read-only (root), with only the one binary: the addon is ${FFI ? 'an anonymous memory file' : "an unnamed file in the container's /dev (a tmpfs without noexec)"}`, () => {
    const r = run('runc', '--init', '--read-only', IMAGE, 'sh', '-c', `echo "init=$(cat /proc/1/comm)"; grep -c "${ADDON_MAPPING}" /proc/1/maps`);
    expect(r.stderr, show(r)).toBe('');
    expect(r.stdout).toMatch(/^init=tini-ts\n[1-9][0-9]*\n$/);
    expect(r.status).toBe(0);
  });

  // A non-root init on a read-only root has no writable place at all: only memfd_create (node:ffi, a Node >= 26 build) works there.
  (FFI ? it : it.fails)(`docker run --init --read-only as uid 65534, with only the one binary (${FFI ? 'the addon from memory' : 'an expected failure on Node 24: "cannot load the FFI addon (koffi.node); tried ...; memfd_create: Node v24... has no node:ffi to call it; ...; /dev: EACCES"'})`, () => {
    const r = run('runc', '--init', '--read-only', '--user', '65534', IMAGE, 'sh', '-c', 'echo "init=$(cat /proc/1/comm)"; grep -c "/memfd:tini-ts-koffi (deleted)" /proc/1/maps');
    expect(r.stderr, show(r)).toBe('');
    expect(r.stdout).toMatch(/^init=tini-ts\n[1-9][0-9]*\n$/);
    expect(r.status).toBe(0);
  });

  it("the image has no libatomic (the binary needs none): nothing named libatomic* in it, and the init runs there as docker-init", () => {
    const r = run('runc', '--init', IMAGE, 'sh', '-c', 'echo "init=$(cat /proc/1/comm)"; find / -xdev -name "libatomic*"; ls /lib/*/libstdc++.so.6 /lib64/ld-linux-* | wc -l');
    expect(r.stderr, show(r)).toBe('');
    expect(r.stdout).toBe('init=tini-ts\n2\n');
    expect(r.status).toBe(0);
  });

  /** The v1 hierarchies (and v2 `0::`) where the container's init is in /PARENT/ID, per runtime. */
  const joined = () => {
    const hierarchies: Record<string, string[]> = {};
    for (const runtime of RUNTIMES) {
      const id = detached(runtime, IMAGE, 'sleep', '1000');
      try {
        const pid = Number(inspect(id, '{{.State.Pid}}'));
        hierarchies[runtime] = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter((l) => l.endsWith(`/${d.cgroupParent}/${id}`)).map((l) => l.split(':')[1]).sort();
      } finally {
        docker('rm', '-f', id);
      }
    }
    return hierarchies;
  };

  it("the init is in the container's cgroup in every controller runc joins, blkio and cpuset included (docker stats reads the block I/O there)", () => {
    const h = joined();
    const controllers = (l: string[]) => l.filter((x) => x !== '' && !x.startsWith('name='));
    expect(controllers(h['tini-ts'])).toEqual(controllers(h.runc));
    expect(h['tini-ts']).toEqual(expect.arrayContaining(['blkio', 'cpuset', 'memory', 'pids', 'freezer']));
  });

  it("the init is in every cgroup hierarchy runc joins: name=systemd and a hybrid host's v2 tree too (removed at delete: see afterEach)", () => {
    const h = joined();
    expect(h['tini-ts']).toEqual(h.runc);
    if (fs.existsSync('/sys/fs/cgroup/systemd/cgroup.procs')) expect(h.runc).toContain('name=systemd');
    if (fs.existsSync('/sys/fs/cgroup/unified/cgroup.procs')) expect(h.runc).toContain('');
  });

  it('docker run --network container:X joins the network namespace of X, as with runc', () => {
    const a = detached('tini-ts', IMAGE, 'sleep', '1000');
    try {
      const netOf = (pid: string) => fs.readlinkSync(`/proc/${pid}/ns/net`);
      const b = docker('run', '--rm', '--runtime', 'tini-ts', '--network', `container:${a}`, IMAGE, 'readlink', '/proc/self/ns/net');
      expect(b.status, show(b)).toBe(0);
      expect(b.stdout.trim()).toBe(netOf(inspect(a, '{{.State.Pid}}')));
    } finally {
      docker('rm', '-f', a);
    }
  });

  it('docker update --memory changes the running container\'s limit', () => {
    const id = detached('tini-ts', '--memory', '64m', IMAGE, 'sleep', '1000');
    try {
      const u = docker('update', '--memory', '32m', '--memory-swap', '64m', id);
      expect(u.status, show(u)).toBe(0);
      const limit = path.join('/sys/fs/cgroup/memory', d.cgroupParent, id, 'memory.limit_in_bytes');
      expect(fs.readFileSync(limit, 'utf8').trim()).toBe(String(32 * 1024 * 1024));
    } finally {
      docker('rm', '-f', id);
    }
  });

  it('docker run -t gives the program a terminal', () => {
    // docker -t needs a terminal itself: script(1) gives it one.
    const cmd = ['/usr/bin/docker', 'run', '--rm', '-t', '--runtime', 'tini-ts', '--network', 'none', IMAGE, 'sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo tty-ok'].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], env: d.env });
    expect(r.error).toBeUndefined();
    expect(r.stdout, `${r.stdout}${r.stderr}`).toContain('tty-ok');
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
});
