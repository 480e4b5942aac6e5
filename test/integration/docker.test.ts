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
 *
 * The scenarios Podman runs too are engine-scenarios.ts's; this file keeps
 * Docker's start-up, its quirks (the `Engine` below) and its own cases.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cgroupsUnder, DOCKER as DOCKER_BIN, dockerAvailable, mountsUnder, startDocker, traceWrapper, type Docker } from '../helpers/docker.js';
import os from 'node:os';
import { unmet } from '../helpers/prereq.js';
import { canContainer, CONTAINER_NEEDS } from './container-helpers.js';
import { engineCalls, engineScenarios, expectEngineStopped, expectNoContainers, hostLinks, importImage, probe, show, type Engine } from './engine-scenarios.js';
import { BIN, waitFor } from './run-helpers.js';

const IMAGE = 'tini-ts-test:latest';
const RUNTIMES = ['tini-ts', 'runc'] as const;
const CRUN = '/usr/bin/crun';

describe.skipIf(unmet(canContainer && dockerAvailable(), `${CONTAINER_NEEDS} and Debian's docker.io and containerd (dockerd, docker, containerd, ctr, containerd-shim-runc-v2)`))('Docker drives tini-ts (docker run --runtime tini-ts, docker run --init)', () => {
  let d: Docker;
  let links: string[];
  let traceDir: string;
  let trace: ReturnType<typeof traceWrapper>;
  const engine: Engine = {
    name: 'docker',
    image: IMAGE,
    cli: (args) => d.docker(args),
    runFlags: (runtime) => ['--runtime', runtime, '--network', 'none'],
    runtimes: () => ({ 'tini-ts': 'tini-ts', runc: 'runc' }),
    crun: 'crun',
    forceRm: ['-f'],
    cgroupOf: (id) => path.join(d.cgroupParent, id),
    execMissing: { status: 126, says: 'executable file not found in $PATH' },
    top: { args: [], pids: 'host' },
    statsLimit64m: / \/ 64MiB$/,
    unshareUserNs: 'denied',
    probeId: /^id: uid=1000 gid=1000/,
    init: { args: ['--init'], as: 'docker-init' }, // /sbin/docker-init, bound from dist/tini-ts (dockerd --init-path)
    readOnly: ['--read-only'],
    devNoexec: false,
    trace: {
      // Registered with dockerd at its start (--add-runtime tini-ts-trace=...), in beforeAll.
      wrapper: () => ({ runtime: 'tini-ts-trace', calls: trace.calls, logs: trace.logs }),
      verbs: ['create', 'start', 'delete', 'exec', 'ps', 'pause', 'resume', 'update', 'kill'],
      exactly: true,
    },
    terminal: () => ({ argv: [DOCKER_BIN], env: d.env }),
  };
  const { cli: docker, run, detached, inspect } = engineCalls(engine);

  beforeAll(async () => {
    traceDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-docker-trace-'));
    trace = traceWrapper(traceDir, 'tini-ts-trace', BIN);
    d = await startDocker({ runtimes: { 'tini-ts': BIN, crun: CRUN, 'tini-ts-trace': trace.path }, initPath: BIN });
    importImage(engine, d.dir, 'CMD ["/bin/sh"]');
    links = hostLinks();
  }, 120_000);

  afterEach(async () => {
    // Nothing of a test is left: no container, no cgroup under our parent, no runtime state, no
    // container root mounted, no network interface on the host.
    await expectNoContainers(engine);
    expect(await waitFor(() => cgroupsUnder(d.cgroupParent).length === 0, 10_000), `${cgroupsUnder(d.cgroupParent)}`).toBe(true);
    for (const root of d.runtimeRoots()) expect(fs.readdirSync(root), root).toEqual([]);
    expect(mountsUnder(path.join(d.dir, 'data', 'overlay2'))).toEqual([]);
    expect(hostLinks(), "the host's network interfaces").toEqual(links);
  });

  afterAll(async () => {
    if (traceDir) fs.rmSync(traceDir, { recursive: true, force: true });
    await expectEngineStopped(d);
  }, 120_000);

  engineScenarios(engine);

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

  it('docker info shows the init version (dockerd --init-path dist/tini-ts): the binary and the commit of its --version', () => {
    const version = spawnSync(BIN, ['--version'], { encoding: 'utf8' }).stdout;
    const commit = /git\.(\S+)/.exec(version)?.[1];
    expect(commit, version).toBeTruthy();
    const info = docker('info', '--format', '{{.InitBinary}} {{.InitCommit.ID}}');
    expect(info.stdout.trim(), show(info)).toBe(`${BIN} ${commit}`);
  });

  it("the workload's mounts and cgroups are runc's: /sys/fs/cgroup binds every v1 hierarchy, name=systemd included; /proc/self/cgroup names the container's cgroup in each, and in a hybrid host's v2 tree", () => {
    const seen = probe(engine);
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

});
