/**
 * The scenarios Docker and Podman share (docker.test.ts, podman.test.ts):
 * each file starts its engine and imports the image, describes the engine in
 * an `Engine` (its CLI, the flags every run gets, the runtimes by the names it
 * knows them, and its quirks as data), and calls engineScenarios() inside its
 * describe. Where the engines differ on purpose the difference is a field of
 * `Engine`, with why; every check runs for both.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { PROBE, type CmdResult, type traceWrapper } from '../helpers/docker.js';
import { buildInfo } from '../helpers/proc.js';
import { makeGlibcRootfs } from '../helpers/rootfs.js';
import { BIN, waitFor } from './run-helpers.js';

/** Whether the binary's Node has node:ffi (Node >= 26): its addon then comes from memory, and read-only non-root inits work. */
export const FFI = buildInfo(BIN).ffi;
/** The init's mapping of its addon when only the one binary is there: an anonymous memory file, else an unnamed file in the container's /dev. */
const ADDON_MAPPING = FFI ? String.raw`/memfd:tini-ts-koffi (deleted)` : String.raw`/dev/#[0-9]* (deleted)`;
const CRUN = '/usr/bin/crun';
/** `update` to a 32 MiB memory limit (from run's 64 MiB), swap included. */
const UPDATE_MEMORY = ['--memory', '32m', '--memory-swap', '64m'];

export const show = (r: CmdResult): string => `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
export const hostLinks = (): string[] => fs.readdirSync('/sys/class/net').sort();
export const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

type Runtime = 'tini-ts' | 'runc';

/** An engine as the scenarios drive it. Functions are called inside tests only (after the file's beforeAll started the engine). */
export interface Engine {
  /** The CLI's name: `docker`, `podman` (in titles and in what the tests print). */
  name: string;
  image: string;
  cli(args: string[]): CmdResult;
  /** What every `run` gets after `run --rm` or `run -d` for RUNTIME. */
  runFlags(runtime: string): string[];
  /** tini-ts and runc as the engine names them (Docker: registered names; Podman: paths). */
  runtimes(): Record<Runtime, string>;
  /** crun as the engine names it (used only when /usr/bin/crun exists and runs here). */
  crun: string;
  /** `rm` of a container that may still run: Podman's `rm -f` would give it 10 s first without `-t 0`. */
  forceRm: string[];
  /** The container's cgroup, relative to a v1 hierarchy's root. */
  cgroupOf(id: string): string;
  /** Told every container `run -d` made (Podman's afterEach checks tini-ts kept no state of it). */
  onDetached?(id: string): void;
  /** `exec` of a missing program: Docker makes any failed exec 126 and passes the runtime's message; Podman gives 127. */
  execMissing: { status: number; says: string | null };
  /**
   * `top`: Docker lists host pids (the container's init's among them); Podman reads the container's own
   * /proc (its PID 1) and takes ps descriptors as arguments.
   */
  top: { args: string[]; pids: 'host' | 'container' };
  /** `stats --format {{.MemUsage}}` for `--memory 64m`: Docker writes binary units, Podman decimal ones. */
  statsLimit64m: RegExp;
  /** `unshare -U` under the engine's seccomp profile: Docker's denies it, Podman's allows it. */
  unshareUserNs: 'denied' | 'allowed';
  /** The probe's `id` line for `--user 1000:1000`: Podman adds an /etc/passwd entry for a uid the image lacks, so id may name it. */
  probeId: RegExp;
  /** `run --init` with dist/tini-ts as the engine's init (Docker: dockerd's --init-path; Podman: per run). */
  init: { args: string[]; as: string };
  /** `run --read-only` (Podman mounts tmpfs on /tmp, /run, /var/tmp unless told not to: the init would find a writable place). */
  readOnly: string[];
  /** Whether the engine mounts the container's /dev noexec (Podman does, Docker not): a root init on Node 24 then has no place for its addon either. */
  devNoexec: boolean;
  /** The trace scenario: a tracing wrapper the engine runs as a runtime, the steps, what it must have called. */
  trace: {
    /** Makes (or gives) the wrapper: the runtime as the engine names it, what it recorded. */
    wrapper(): { runtime: string } & Pick<ReturnType<typeof traceWrapper>, 'calls' | 'logs'>;
    /** What the engine must have called (Docker's `top` is the runtime's `ps`; Podman's reads /proc and calls nothing). */
    verbs: string[];
    /** Docker calls exactly these; Podman may call more (only these are required). */
    exactly: boolean;
  };
  /** The CLI's argv up to the sub-command and its environment, for `run -t` through script(1). */
  terminal(): { argv: string[]; env: NodeJS.ProcessEnv };
}

/** run, run -d, inspect and rm -f with the engine's flags, for the scenarios and a file's own tests. */
export function engineCalls(e: Engine): {
  cli: (...args: string[]) => CmdResult;
  run: (runtime: string, ...args: string[]) => CmdResult;
  detached: (runtime: string, ...args: string[]) => string;
  inspect: (id: string, format: string) => string;
  rmForce: (id: string) => CmdResult;
} {
  const cli = (...args: string[]) => e.cli(args);
  return {
    cli,
    run: (runtime, ...args) => cli('run', '--rm', ...e.runFlags(runtime), ...args),
    /** `run -d`: the container's id. */
    detached: (runtime, ...args) => {
      const r = cli('run', '-d', ...e.runFlags(runtime), ...args);
      expect(r.status, show(r)).toBe(0);
      const id = r.stdout.trim();
      e.onDetached?.(id);
      return id;
    },
    inspect: (id, format) => cli('inspect', '-f', format, id).stdout.trim(),
    rmForce: (id) => cli('rm', ...e.forceRm, id),
  };
}

/** The probe's output per runtime: [what the process is and may do, its mounts and cgroups]. */
export function probe(e: Engine): Record<Runtime, [string, string]> {
  const { run } = engineCalls(e);
  const seen = {} as Record<Runtime, [string, string]>;
  for (const [name, runtime] of Object.entries(e.runtimes()) as [Runtime, string][]) {
    const r = run(runtime, '--hostname', 'h1', '--user', '1000:1000', e.image, 'sh', '-c', PROBE);
    expect(r.status, `${name}: ${show(r)}`).toBe(0);
    // The container's id differs: it is the last component of every cgroup path.
    const [proc, mounts] = r.stdout.replace(/\/[0-9a-f]{64}/g, '/ID').split('-- mounts\n');
    seen[name] = [proc, mounts];
  }
  return seen;
}

/**
 * The test image, offline: a busybox root with the host's glibc and libstdc++ (what the binary needs as the engine's
 * init), as a tarball in DIR given to `import --change CHANGE` (each CLI spells the CMD its own way).
 */
export function importImage(e: Engine, dir: string, change: string): void {
  const rootfs = makeGlibcRootfs(path.join(dir, 'rootfs'), BIN);
  const tarball = path.join(dir, 'rootfs.tar');
  const tar = spawnSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', tarball, '.']);
  expect(tar.status).toBe(0);
  fs.rmSync(rootfs, { recursive: true });
  const imp = e.cli(['import', '--change', change, tarball, e.image]);
  expect(imp.status, show(imp)).toBe(0);
  fs.rmSync(tarball);
}

/** afterEach's first check for any engine: no container is left (`ps -aq`, given the time a removal takes). */
export async function expectNoContainers(e: Engine): Promise<void> {
  const ps = () => e.cli(['ps', '-aq']).stdout.split('\n').filter(Boolean);
  expect(await waitFor(() => ps().length === 0, 20_000), `containers left: ${ps()}`).toBe(true);
}

/** afterAll for any engine: stop() had nothing to clean up, and removed the engine's directory. */
export async function expectEngineStopped(engine: { dir: string; stop(): Promise<string[]> } | undefined): Promise<void> {
  if (!engine) return;
  const left = await engine.stop();
  expect(left, 'what stop() had to clean up').toEqual([]);
  expect(fs.existsSync(engine.dir)).toBe(false);
}

/** The shared scenarios, as `it`s of the caller's describe. */
export function engineScenarios(e: Engine): void {
  const { cli, run, detached, inspect, rmForce } = engineCalls(e);
  const IMAGE = e.image;
  const entries = () => Object.entries(e.runtimes()) as [Runtime, string][];

  it(`exit codes as with runc: 0, 3, 127 for a missing program, 137 after ${e.name} kill; stdout and stderr pass; PID 1 is tini-ts, the program its child`, () => {
    const outcome = (runtime: string) => ({
      ok: run(runtime, IMAGE, 'sh', '-c', 'echo out; echo err >&2'),
      three: run(runtime, IMAGE, 'sh', '-c', 'exit 3'),
      missing: run(runtime, IMAGE, 'no-such-program'),
      selfKilled: run(runtime, IMAGE, 'sh', '-c', 'kill -9 $$'),
      killed: (() => {
        const id = detached(runtime, IMAGE, 'sleep', '1000');
        const k = cli('kill', id); // SIGKILL
        expect(k.status, show(k)).toBe(0);
        const w = cli('wait', id);
        cli('rm', id);
        return w;
      })(),
    });
    const o = Object.fromEntries(entries().map(([name, r]) => [name, outcome(r)])) as Record<Runtime, ReturnType<typeof outcome>>;
    for (const [r] of entries()) {
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
    const tree = run(e.runtimes()['tini-ts'], IMAGE, 'sh', '-c', 'echo "init=$(cat /proc/1/comm) ppid=$PPID pid=$$"');
    expect(tree.stdout, show(tree)).toMatch(/^init=tini-ts ppid=1 pid=[0-9]+\n$/);
    expect(tree.stdout).not.toMatch(/pid=1\n/);
  });

  it(`run -d, exec, top, kill -s USR1 (the program traps it), pause/unpause (the freezer), stop (TERM reaches the program: 143, where runc's PID 1 shell ignores it: 137 after the timeout), rm`, async () => {
    const results: Record<string, { stopStatus: string; stopMs: number }> = {};
    for (const [name, runtime] of entries()) {
      const id = detached(runtime, IMAGE, 'sh', '-c', 'trap "echo got-usr1" USR1; echo ready; while :; do sleep 1; done');
      try {
        expect(await waitFor(() => cli('logs', id).stdout.includes('ready'), 20_000), name).toBe(true);
        const pid = Number(inspect(id, '{{.State.Pid}}'));
        expect(pid, name).toBeGreaterThan(0);
        const pid1 = name === 'tini-ts' ? 'tini-ts' : 'sh';
        const ex = cli('exec', id, 'sh', '-c', 'echo "pid1=$(cat /proc/1/comm)"; exit 5');
        expect(ex.status, `${name}: ${show(ex)}`).toBe(5);
        expect(ex.stdout, name).toBe(`pid1=${pid1}\n`);
        const flags = cli('exec', '-w', '/tmp', '-e', 'X=1', '-u', '1000', id, 'sh', '-c', 'echo "$(pwd) $X $(id -u)"');
        expect(flags.stdout, `${name}: ${show(flags)}`).toBe('/tmp 1 1000\n');
        const missing = cli('exec', id, 'no-such-program');
        expect(missing.status, `${name}: ${show(missing)}`).toBe(e.execMissing.status);
        if (e.execMissing.says !== null) expect(missing.stdout + missing.stderr, name).toContain(e.execMissing.says);
        const top = cli('top', id, ...e.top.args);
        expect(top.status, `${name}: ${show(top)}`).toBe(0);
        if (e.top.pids === 'host') {
          const topPids = top.stdout.split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[1])).filter((p) => p > 0);
          expect(topPids, `${name}: ${top.stdout}`).toContain(pid);
        } else {
          expect(top.stdout, name).toMatch(new RegExp(`^\\s*1\\s+${pid1}\\s*$`, 'm'));
        }
        const k = cli('kill', '-s', 'USR1', id);
        expect(k.status, `${name}: ${show(k)}`).toBe(0);
        expect(await waitFor(() => cli('logs', id).stdout.includes('got-usr1'), 20_000), `${name}: ${cli('logs', id).stdout}`).toBe(true);
        const pa = cli('pause', id);
        expect(pa.status, `${name}: ${show(pa)}`).toBe(0);
        expect(inspect(id, '{{.State.Status}}'), name).toBe('paused');
        // (on a v1 host: the container's freezer cgroup must be there, and frozen)
        if (fs.existsSync('/sys/fs/cgroup/freezer/cgroup.procs')) expect(fs.readFileSync(path.join('/sys/fs/cgroup/freezer', e.cgroupOf(id), 'freezer.state'), 'utf8').trim(), name).toBe('FROZEN');
        const u = cli('unpause', id);
        expect(u.status, `${name}: ${show(u)}`).toBe(0);
        expect(inspect(id, '{{.State.Status}}'), name).toBe('running');
        const t0 = process.hrtime.bigint();
        const s = cli('stop', '-t', '3', id);
        const stopMs = ms(t0);
        expect(s.status, `${name}: ${show(s)}`).toBe(0);
        results[name] = { stopStatus: inspect(id, '{{.State.ExitCode}}'), stopMs };
        const rm = cli('rm', id);
        expect(rm.status, `${name}: ${show(rm)}`).toBe(0);
      } finally {
        rmForce(id);
      }
    }
    expect(results['tini-ts'].stopStatus).toBe('143');
    expect(results.runc.stopStatus).toBe('137');
    console.log(`${e.name}.test: ${e.name} stop -t 3 of a trapping shell: tini-ts ${results['tini-ts'].stopMs.toFixed(0)} ms (143), runc ${results.runc.stopMs.toFixed(0)} ms (137)`);
  });

  it('stats --no-stream reads the container cgroup: the memory limit given to run, the processes', () => {
    const id = detached(e.runtimes()['tini-ts'], '--memory', '64m', IMAGE, 'sleep', '1000');
    try {
      const s = cli('stats', '--no-stream', '--format', '{{.MemUsage}}|{{.PIDs}}', id);
      expect(s.status, show(s)).toBe(0);
      const [mem, pids] = s.stdout.trim().split('|');
      expect(mem, s.stdout).toMatch(e.statsLimit64m);
      expect(Number(pids), s.stdout).toBeGreaterThanOrEqual(2); // the init and sleep (and the init's threads)
    } finally {
      rmForce(id);
    }
  });

  it(`${e.name}'s seccomp profile is in force (mode 2), as with runc: unshare -U is ${e.unshareUserNs}, ordinary calls pass`, () => {
    for (const [name, runtime] of entries()) {
      const u = run(runtime, IMAGE, 'unshare', '-U', 'true');
      if (e.unshareUserNs === 'denied') {
        expect(u.status, `${name}: ${show(u)}`).not.toBe(0);
        expect(u.stderr, name).toContain('Operation not permitted');
      } else {
        expect(u.status, `${name}: ${show(u)}`).toBe(0);
      }
      const ok = run(runtime, IMAGE, 'sh', '-c', 'echo x >/tmp/f && cat /tmp/f && grep "^Seccomp:" /proc/self/status');
      expect(ok.status, `${name}: ${show(ok)}`).toBe(0);
      expect(ok.stdout, name).toBe('x\nSeccomp:\t2\n');
    }
  });

  it(`${e.name} run --init (runtime runc, dist/tini-ts as ${e.init.as}) as uid 65534: zombies reaped, ${e.name} stop ends the program with TERM (143)`, async () => {
    // Orphans: a background sleep whose parent is gone is re-parented to PID 1 and must be reaped there.
    const id = detached(e.runtimes().runc, ...e.init.args, '--user', '65534', IMAGE, 'sh', '-c', 'for i in 1 2 3 4 5; do (sleep 0.1 &); done; echo ready; exec sleep 1000');
    try {
      expect(await waitFor(() => cli('logs', id).stdout.includes('ready'), 20_000)).toBe(true);
      const pid1 = cli('exec', id, 'sh', '-c', 'cat /proc/1/comm; id -u');
      expect(pid1.stdout, show(pid1)).toBe('tini-ts\n65534\n');
      // No zombie once the sleeps are over (the init reaped them).
      const zombies = () => cli('exec', id, 'sh', '-c', 'grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l').stdout.trim();
      expect(await waitFor(() => zombies() === '0', 10_000), `zombies: ${zombies()}`).toBe(true);
      const t0 = process.hrtime.bigint();
      const s = cli('stop', '-t', '10', id);
      const stopMs = ms(t0);
      expect(s.status, show(s)).toBe(0);
      expect(inspect(id, '{{.State.ExitCode}}')).toBe('143');
      console.log(`${e.name}.test: ${e.name} stop of sleep under ${e.name} run --init (tini-ts as ${e.init.as}): ${stopMs.toFixed(0)} ms, exit 143`);
    } finally {
      rmForce(id);
    }
  });

  it(`what ${e.name} calls, traced (${e.trace.verbs.join(', ')}), and every call succeeds; the log holds no warning or error`, () => {
    const trace = e.trace.wrapper();
    expect(run(trace.runtime, IMAGE, 'true').status).toBe(0);
    const id = detached(trace.runtime, IMAGE, 'sleep', '1000');
    try {
      expect(cli('exec', id, 'true').status).toBe(0);
      expect(cli('top', id).status).toBe(0);
      expect(cli('pause', id).status).toBe(0);
      expect(cli('unpause', id).status).toBe(0);
      expect(cli('update', ...UPDATE_MEMORY, id).status).toBe(0);
      expect(cli('stop', '-t', '1', id).status).toBe(0);
    } finally {
      rmForce(id);
    }
    const calls = trace.calls();
    // The word after the global flags (`--flag=value` or `--flag value`).
    const verb = (argv: string) => {
      const t = argv.split(' ');
      let i = 0;
      while (t[i]?.startsWith('--')) i += t[i].includes('=') ? 1 : 2;
      return t[i];
    };
    console.log(`${e.name}.test: what ${e.name} called:\n${calls.map((c) => `  rc=${c.rc} ${c.argv}`).join('\n')}\nthe runtime's log:\n${trace.logs().map((l) => `  ${l}`).join('\n')}`);
    const verbs = calls.map((c) => verb(c.argv));
    if (e.trace.exactly) expect(new Set(verbs)).toEqual(new Set(e.trace.verbs));
    for (const v of e.trace.verbs) expect(verbs, v).toContain(v);
    expect(calls.filter((c) => c.rc !== 0)).toEqual([]);
    // The log holds JSON lines only (the engine parses it), and no warning or error: everything the engine's
    // config.json and process.json carry is acted on.
    const lines = trace.logs().map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(lines.filter((l) => l.level !== 'debug' && l.level !== 'info')).toEqual([]);
  });

  it(`what the workload is and may do under ${e.name}'s config.json, beside runc: credentials, hostname, capabilities, seccomp mode, no_new_privs, rlimits, masked and read-only paths`, () => {
    const seen = probe(e);
    expect(seen['tini-ts'][0]).toBe(seen.runc[0]);
    expect(seen.runc[0]).toMatch(e.probeId);
  });

  it(`${e.name} run --rm IMAGE true: the same outcome with tini-ts, runc and crun (times measured, interleaved, not asserted)`, () => {
    // crun 1.8 refuses a host whose cgroup v2 tree is mounted beside v1 (this one): then it is named, and left out.
    const crun = fs.existsSync(CRUN) ? run(e.crun, IMAGE, 'true') : null;
    if (crun && crun.status !== 0) console.log(`${e.name}.test: crun cannot run here: ${crun.stderr.trim()}`);
    const runtimes: Record<string, string> = { ...e.runtimes(), ...(crun?.status === 0 ? { crun: e.crun } : {}) };
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
    console.log(`${e.name}.test: ${e.name} run --rm --network none IMAGE true, median of 5: ${Object.keys(runtimes).map((r) => `${r} ${median(times[r]).toFixed(0)} ms`).join(', ')}`);
  });

  /** `run --init --read-only [EXTRA] IMAGE sh -c`: PID 1 is tini-ts and has its addon mapped as MAPPING; nothing on stderr. */
  const readOnlyInit = (extra: string[], mapping: string) => {
    const r = run(e.runtimes().runc, ...e.init.args, ...e.readOnly, ...extra, IMAGE, 'sh', '-c', `echo "init=$(cat /proc/1/comm)"; grep -c "${mapping}" /proc/1/maps`);
    expect(r.stderr, show(r)).toBe('');
    expect(r.stdout).toMatch(/^init=tini-ts\n[1-9][0-9]*\n$/);
    expect(r.status).toBe(0);
  };
  // A root init on Node 24 puts its addon in an unnamed file in /dev: where the engine mounts /dev noexec, only memfd_create (Node >= 26) is left.
  const rootFails = !FFI && e.devNoexec;
  (rootFails ? it.fails : it)(
    `${e.name} run --init --read-only (root), with only the one binary: ${FFI ? 'the addon from memory' : rootFails ? `an expected failure on Node 24 ("...; /dev: /proc/self/fd/N: failed to map segment from shared object": ${e.name} mounts /dev noexec)` : "the addon is an unnamed file in the container's /dev (a tmpfs without noexec)"}`,
    () => readOnlyInit([], ADDON_MAPPING),
  );
  // A non-root init on a read-only root has no writable place at all: only memfd_create (node:ffi, a Node >= 26 build) works there.
  (FFI ? it : it.fails)(
    `${e.name} run --init --read-only as uid 65534, with only the one binary (${FFI ? 'the addon from memory' : 'an expected failure on Node 24: "cannot load the FFI addon (koffi.node); tried ...; memfd_create: Node v24... has no node:ffi to call it; ...; /dev: EACCES"'})`,
    () => readOnlyInit(['--user', '65534'], '/memfd:tini-ts-koffi (deleted)'),
  );

  it(`the image has no libatomic (the binary needs none): nothing named libatomic* in it, and the init runs there as ${e.init.as}`, () => {
    const r = run(e.runtimes().runc, ...e.init.args, IMAGE, 'sh', '-c', 'echo "init=$(cat /proc/1/comm)"; find / -xdev -name "libatomic*"; ls /lib/*/libstdc++.so.6 /lib64/ld-linux-* | wc -l');
    expect(r.stderr, show(r)).toBe('');
    expect(r.stdout).toBe('init=tini-ts\n2\n');
    expect(r.status).toBe(0);
  });

  it(`${e.name} update --memory changes the running container's limit`, () => {
    const id = detached(e.runtimes()['tini-ts'], '--memory', '64m', IMAGE, 'sleep', '1000');
    try {
      const u = cli('update', ...UPDATE_MEMORY, id);
      expect(u.status, show(u)).toBe(0);
      const limit = path.join('/sys/fs/cgroup/memory', e.cgroupOf(id), 'memory.limit_in_bytes');
      expect(fs.readFileSync(limit, 'utf8').trim()).toBe(String(32 * 1024 * 1024));
    } finally {
      rmForce(id);
    }
  });

  it(`${e.name} run -t gives the program a terminal`, () => {
    // -t needs a terminal on the CLI's side too: script(1) gives it one.
    const t = e.terminal();
    const cmd = [...t.argv, 'run', '--rm', '-t', ...e.runFlags(e.runtimes()['tini-ts']), IMAGE, 'sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo tty-ok'].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], env: t.env });
    expect(r.error).toBeUndefined();
    expect(r.stdout, `${r.stdout}${r.stderr}`).toContain('tty-ok');
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
}
