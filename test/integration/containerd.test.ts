/**
 * containerd drives tini-ts for real: Debian's containerd 1.6 (a daemon of
 * the test's own, test/helpers/containerd.ts) and its runc shim v2, with
 * `ctr run --runc-binary` pointing at a symbolic link named tini-ts-runc to
 * dist/tini-ts. The image is imported offline from an OCI archive of the
 * busybox root filesystem; the daemon's proxies point at a closed loopback
 * port, ctr runs without CNI (a new, empty network namespace per container).
 *
 * What containerd's shim calls (recorded by the trace test below): `--root R
 * --log BUNDLE/log.json --log-format json` then `create --bundle B --pid-file
 * B/init.pid ID`, `start ID`, `kill ID N` (`kill --all ID 9` for -a),
 * `ps --format json ID`, `exec --process F --detach --pid-file B/E.pid ID`,
 * `pause ID`/`resume ID`, `delete ID`, and `delete --force ID` when the shim
 * cleans up; with -t, `create` and `exec` get `--console-socket S` and
 * receive the terminal's master over it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildOciArchive, containerdAvailable, nsCgroupDirs, processesNaming, runtimeWrapper, startContainerd, type Containerd, type CtrResult } from '../helpers/containerd.js';
import { unmet } from '../helpers/prereq.js';
import { HELPERS } from '../helpers/proc.js';
import { makeBusyboxRootfs } from '../helpers/rootfs.js';
import { canContainer, CONTAINER_NEEDS } from './container-helpers.js';
import { BIN, CG, waitFor } from './run-helpers.js';

const IMAGE = 'docker.io/library/tini-ts-test:latest';
const hostLinks = () => fs.readdirSync('/sys/class/net').sort();
const hostNetNs = () => fs.readlinkSync('/proc/self/ns/net');
const show = (r: CtrResult) => `exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

describe.skipIf(unmet(canContainer && containerdAvailable(), `${CONTAINER_NEEDS} and Debian's containerd (containerd, ctr, containerd-shim-runc-v2)`))('containerd drives tini-ts (ctr run --runc-binary)', () => {
  let c: Containerd;
  /** dist/tini-ts under a name with `runc` in it, as an engine's BinaryName would be. */
  let runtime: string;
  let links: string[];
  let n = 0;
  const hadRunContainerd = fs.existsSync('/run/containerd');
  const newId = (what: string) => `${what}-${n++}`;
  const rt = (binary = runtime) => ['--runc-binary', binary, '--runc-root', c.runcRoot, '--fifo-dir', c.fifoDir];
  /** `ctr run --rm IMAGE ID ARGS...` through tini-ts. */
  const run = (id: string, args: string[], opts: { binary?: string; extra?: string[] } = {}) => c.ctr(['run', '--rm', ...rt(opts.binary), ...(opts.extra ?? []), IMAGE, id, ...args]);
  const tasks = () => c.ctr(['tasks', 'ls', '-q']).stdout.split('\n').filter(Boolean);
  const containers = () => c.ctr(['containers', 'ls', '-q']).stdout.split('\n').filter(Boolean);

  beforeAll(async () => {
    c = await startContainerd();
    const rootfs = makeBusyboxRootfs(path.join(c.dir, 'rootfs'));
    buildOciArchive(rootfs, path.join(c.dir, 'image.tar'), IMAGE);
    fs.rmSync(rootfs, { recursive: true });
    const imp = c.ctr(['images', 'import', path.join(c.dir, 'image.tar')]);
    expect(imp.status, show(imp)).toBe(0);
    expect(c.ctr(['images', 'ls', '-q']).stdout.split('\n')).toContain(IMAGE);
    fs.mkdirSync(path.join(c.dir, 'bin'));
    runtime = path.join(c.dir, 'bin', 'tini-ts-runc');
    fs.symlinkSync(BIN, runtime);
    fs.writeFileSync(path.join(c.dir, 'runtime'), BIN); // what stop() deletes leftovers with
    links = hostLinks();
  });

  afterEach(async () => {
    // Nothing of any test is left: no task, no container, no state under the runtime's root, no
    // bundle, no cgroup under ctr's /NS parent, no shim.
    expect(await waitFor(() => tasks().length === 0 && containers().length === 0, 10_000), `tasks ${tasks()} containers ${containers()}`).toBe(true);
    const nsRoot = path.join(c.runcRoot, c.ns);
    expect(fs.existsSync(nsRoot) ? fs.readdirSync(nsRoot) : []).toEqual([]);
    const bundles = path.join(c.dir, 'state', 'io.containerd.runtime.v2.task', c.ns);
    expect(fs.existsSync(bundles) ? fs.readdirSync(bundles) : []).toEqual([]);
    expect(nsCgroupDirs(c.ns).flatMap((d) => fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(d, e.name)))).toEqual([]);
    expect(await waitFor(() => processesNaming(c.sock).length === 0, 10_000), 'a shim is still running').toBe(true);
    expect(hostLinks(), "the host's network interfaces").toEqual(links);
  });

  afterAll(async () => {
    if (!c) return;
    const left = await c.stop();
    expect(left, 'what stop() had to clean up').toEqual([]);
    expect(fs.existsSync(c.dir)).toBe(false);
    expect(fs.existsSync('/run/containerd'), 'containerd\'s fixed /run/containerd (shim sockets, FIFOs)').toBe(hadRunContainerd);
  });

  it("the program's stdout and stderr pass, its exit code is the task's (0, 3, 128+N for a signal)", () => {
    const ok = run(newId('ok'), ['sh', '-c', 'echo out; echo err >&2']);
    expect(ok.status, show(ok)).toBe(0);
    expect(ok.stdout).toBe('out\n');
    expect(ok.stderr).toBe('err\n');
    const three = run(newId('three'), ['sh', '-c', 'exit 3']);
    expect(three.status, show(three)).toBe(3);
    const killed = run(newId('kill9'), ['sh', '-c', 'kill -KILL $$']);
    expect(killed.status, show(killed)).toBe(128 + 9);
    const usr2 = run(newId('usr2'), ['sh', '-c', 'kill -USR2 $$']);
    expect(usr2.status, show(usr2)).toBe(128 + 12);
  });

  it('PID 1 inside is tini-ts and the program is its child; the container has its own network namespace with only lo', () => {
    const r = run(newId('pid1'), ['sh', '-c', 'echo "init=$(cat /proc/1/comm) pid=$$ ppid=$PPID"; echo "net=$(readlink /proc/self/ns/net)"; echo "links=$(ls /sys/class/net | tr "\\n" " ")"']);
    expect(r.status, show(r)).toBe(0);
    expect(r.stdout).toMatch(/^init=tini-ts pid=([0-9]+) ppid=1$/m);
    expect(/pid=([0-9]+)/.exec(r.stdout)?.[1]).not.toBe('1');
    expect(/^net=(.*)$/m.exec(r.stdout)?.[1]).not.toBe(hostNetNs());
    expect(/^links=(.*)$/m.exec(r.stdout)?.[1].trim()).toBe('lo');
  });

  it('what containerd calls, traced: create (pid file, log file), start, delete, and delete --force at the shim\'s clean-up; nothing logged', () => {
    const trace = runtimeWrapper(c, BIN);
    const id = newId('trace');
    const r = run(id, ['true'], { binary: trace.path });
    expect(r.status, show(r)).toBe(0);
    const bundle = path.join(c.dir, 'state', 'io.containerd.runtime.v2.task', c.ns, id);
    const global = `--root ${path.join(c.runcRoot, c.ns)} --log ${bundle}/log.json --log-format json`;
    expect(trace.calls()).toEqual([
      `${global} create --bundle ${bundle} --pid-file ${bundle}/init.pid ${id}`,
      `${global} start ${id}`,
      `${global} delete ${id}`,
      `${global} delete --force ${id}`,
    ]);
    // containerd's default spec is read whole: no warning (linux.cgroupsPath included), no error.
    const log = path.join(c.dir, `log-${id}.json`);
    expect(fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '').toBe('');
  });

  it('ctr task kill -s SIGUSR1 reaches the program through the init (it traps it)', async () => {
    const id = newId('usr1');
    const bg = c.ctrStart(['run', '--rm', ...rt(), IMAGE, id, 'sh', '-c', 'trap "echo got-usr1; exit 7" USR1; echo ready; while :; do sleep 1; done']);
    const { done } = bg;
    // The trap is set once "ready" is out.
    expect(await printed(bg, 'ready'), bg.out()).toBe(true);
    const k = c.ctr(['task', 'kill', '-s', 'SIGUSR1', id]);
    expect(k.status, show(k)).toBe(0);
    const r = await done;
    expect(r.status, show(r)).toBe(7);
    expect(r.stdout).toBe('ready\ngot-usr1\n');
  });

  it('ctr task kill (SIGTERM): a program that exits on TERM stops at once, the task exits 143', async () => {
    const id = newId('term');
    const bg = c.ctrStart(['run', '--rm', ...rt(), IMAGE, id, 'sh', '-c', 'echo ready; exec sleep 1000']);
    const { done } = bg;
    expect(await printed(bg, 'ready'), bg.out()).toBe(true);
    const t0 = process.hrtime.bigint();
    const k = c.ctr(['task', 'kill', id]);
    expect(k.status, show(k)).toBe(0);
    const r = await done;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(r.status, show(r)).toBe(128 + 15);
    // Measured, not asserted: from `ctr task kill` to the end of `ctr run --rm` (task deleted).
    console.log(`containerd.test: ctr task kill (SIGTERM) to the end of ctr run --rm: ${ms.toFixed(0)} ms`);
  });

  it('ctr task ps (ps --format json): the init and the program, by host pid; the program is the init\'s child', async () => {
    const id = newId('ps');
    const d = c.ctr(['run', '-d', ...rt(), IMAGE, id, 'sleep', '1000']);
    try {
      expect(d.status, show(d)).toBe(0);
      const init = Number(new RegExp(`^${id}\\s+([0-9]+)\\s+RUNNING`, 'm').exec(c.ctr(['tasks', 'ls']).stdout)?.[1]);
      expect(init).toBeGreaterThan(0);
      expect(fs.readFileSync(`/proc/${init}/comm`, 'utf8').trim()).toBe('tini-ts');
      let pids: number[] = [];
      // The program is spawned right after start returns: wait for it.
      expect(await waitFor(() => (pids = psPids(c.ctr(['task', 'ps', id]).stdout)).length === 2, 10_000), `${pids}`).toBe(true);
      expect(pids).toContain(init);
      const child = pids.find((p) => p !== init)!;
      expect(fs.readFileSync(`/proc/${child}/comm`, 'utf8').trim()).toBe('sleep');
      expect(ppidOf(child)).toBe(init);
    } finally {
      removeTask(c, id);
    }
  });

  it("ctr run --memory-limit is the container cgroup's, and containerd finds that cgroup from the init's pid (ctr task metrics)", () => {
    const id = newId('metrics');
    const limit = 64 * 1024 * 1024;
    const d = c.ctr(['run', '-d', ...rt(), '--memory-limit', String(limit), IMAGE, id, 'sleep', '1000']);
    try {
      expect(d.status, show(d)).toBe(0);
      const m = c.ctr(['task', 'metrics', id]);
      expect(m.status, show(m)).toBe(0);
      // The shim reads the cgroup of the pid in init.pid (tini-ts's init): the limit ctr asked for, and its tasks.
      const metric = (name: string) => new RegExp(`^${name.replace(/\./g, '\\.')}\\s+(\\S+)`, 'm').exec(m.stdout)?.[1];
      expect(metric('memory.limit_in_bytes') ?? metric('memory.max'), m.stdout).toBe(String(limit));
      expect(Number(metric('pids.current')), m.stdout).toBeGreaterThanOrEqual(2);
    } finally {
      removeTask(c, id);
    }
  });

  it('linux.cgroupsPath that leaves the hierarchy (ctr run --cgroup /../NAME/ID) is refused in one line; nothing is made', () => {
    const name = `tini-ts-escape-${process.pid}`;
    const id = newId('escape');
    const r = run(id, ['true'], { extra: ['--cgroup', `/../${name}/${id}`] });
    expect(r.status, show(r)).not.toBe(0);
    expect(r.stderr).toContain(`OCI runtime create failed: config.json: linux.cgroupsPath: "/../${name}/${id}" '..' is not allowed`);
    for (const d of [path.join(CG, name), ...fs.readdirSync(CG).map((h) => path.join(CG, h, '..', name))]) expect(fs.existsSync(d), d).toBe(false);
    c.ctr(['containers', 'rm', id]);
  });

  it('ctr task exec runs a process in the container: its namespaces (PID 1 is the init), its status', () => {
    const id = newId('exec');
    try {
      const run = c.ctr(['run', '-d', ...rt(), IMAGE, id, 'sleep', '1000']);
      expect(run.status, show(run)).toBe(0);
      const e = c.ctr(['task', 'exec', '--fifo-dir', c.fifoDir, '--exec-id', 'e1', id, 'sh', '-c', 'echo in-$$ $(cat /proc/1/comm); exit 4']);
      expect(e.status, show(e)).toBe(4);
      expect(e.stdout).toMatch(/^in-[0-9]+ tini-ts\n$/);
    } finally {
      removeTask(c, id);
    }
  });

  it('ctr task pause / resume freeze and thaw the container', () => {
    const id = newId('pause');
    try {
      const run = c.ctr(['run', '-d', ...rt(), IMAGE, id, 'sleep', '1000']);
      expect(run.status, show(run)).toBe(0);
      const p = c.ctr(['task', 'pause', id]);
      expect(p.status, show(p)).toBe(0);
      expect(c.ctr(['tasks', 'ls']).stdout).toMatch(new RegExp(`^${id}\\s+[0-9]+\\s+PAUSED`, 'm'));
      const r = c.ctr(['task', 'resume', id]);
      expect(r.status, show(r)).toBe(0);
      expect(c.ctr(['tasks', 'ls']).stdout).toMatch(new RegExp(`^${id}\\s+[0-9]+\\s+RUNNING`, 'm'));
    } finally {
      removeTask(c, id);
    }
  });

  it('ctr run -t gives the program a terminal: its controlling tty, the size of ctr\'s own, ^C typed reaches it', () => {
    const id = newId('tty');
    const r = onTerminal(40, 120, 5, ['run', '--rm', '-t', ...rt(), IMAGE, id]);
    c.ctr(['containers', 'rm', id]);
    expectTerminal(r, 5);
  });

  it('ctr task exec -t gives the exec\'d process a terminal of its own (exec --console-socket)', () => {
    const id = newId('exectty');
    try {
      const run = c.ctr(['run', '-d', ...rt(), IMAGE, id, 'sleep', '1000']);
      expect(run.status, show(run)).toBe(0);
      // The container's own program has no terminal: this one is a new pty of the container's devpts.
      expectTerminal(onTerminal(30, 90, 6, ['task', 'exec', '-t', '--fifo-dir', c.fifoDir, '--exec-id', 'e1', id]), 6);
    } finally {
      removeTask(c, id);
    }
  });

  /**
   * `ctr ARGS... sh -c SCRIPT` on a terminal of ROWS x COLS: ctr -t needs a
   * terminal itself, which pty_drive.py gives it, then types ^C once the
   * program is ready. ctr resizes the container's terminal to its own through
   * the master once the task started: the program waits for that, prints its
   * tty and ids, and exits CODE on ^C.
   */
  const onTerminal = (rows: number, cols: number, code: number, args: string[]) => {
    const script = `trap "echo got-INT; exit ${code}" INT; tty; until [ "$(stty size 2>/dev/null)" = "${rows} ${cols}" ]; do sleep 0.1; done; echo size-ok; set -- $(cat /proc/$$/stat); echo "sid=$6 pid=$1 fg=$8 pgrp=$5"; echo ready; while :; do sleep 1; done`;
    return spawnSync('python3', [path.join(HELPERS, 'pty_drive.py'), String(rows), String(cols), 'ready', '03', 'ctr', '-a', c.sock, '-n', c.ns, ...args, 'sh', '-c', script], { encoding: 'utf8', timeout: 90_000 });
  };
  /** What onTerminal's program printed: the first pty, the size, a session of its own (sid = pid) whose group is in the foreground, ^C reaching it. */
  const expectTerminal = (r: ReturnType<typeof onTerminal>, code: number) => {
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout) as { status: number | null; output: string };
    const lines = res.output.replace(/\r/g, '').replace(/\^C/g, '').split('\n'); // ^C: the terminal's echo
    expect(lines, res.output).toContain('/dev/pts/0');
    expect(lines, res.output).toContain('size-ok');
    const ids = /sid=(\d+) pid=(\d+) fg=(\d+) pgrp=(\d+)/.exec(res.output);
    expect(ids, res.output).not.toBeNull();
    expect(ids![1]).toBe(ids![2]);
    expect(ids![3]).toBe(ids![4]);
    expect(lines, res.output).toContain('got-INT');
    expect(res.status, res.output).toBe(code);
  };
});

/** Waits until the background `ctr run` printed LINE (or ended). */
async function printed(run: { out: () => string; done: Promise<CtrResult> }, line: string): Promise<boolean> {
  let ended = false;
  void run.done.then(() => (ended = true));
  await waitFor(() => ended || run.out().split('\n').includes(line), 20_000);
  return run.out().split('\n').includes(line);
}

function psPids(table: string): number[] {
  return table.split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0])).filter((p) => Number.isInteger(p) && p > 0);
}

function ppidOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** A detached task and its container, removed as a user would: SIGKILL to every process, then rm. */
function removeTask(c: Containerd, id: string): void {
  c.ctr(['task', 'kill', '-a', '-s', 'SIGKILL', id]);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !/STOPPED/.test(c.ctr(['tasks', 'ls']).stdout.split('\n').find((l) => l.startsWith(`${id} `)) ?? 'STOPPED')) spawnSync('sleep', ['0.05']);
  c.ctr(['task', 'rm', '-f', id]);
  c.ctr(['containers', 'rm', id]);
}
