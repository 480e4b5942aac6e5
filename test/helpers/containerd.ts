/**
 * containerd for the tests, started and stopped by the test itself: Debian's
 * `containerd` (test/setup/install-deps.sh) with a config file of its own, so
 * that its root, state, sockets, runtime root, FIFOs, image store and
 * containerd namespace are all under one unique temporary directory (or named
 * after it), and nothing of the machine's is used or touched. No CRI plugin
 * (no CNI, no network set-up), and HTTP(S)_PROXY at a closed loopback port:
 * the daemon and its shims can never reach a registry; images are imported
 * offline from an OCI archive built here (buildOciArchive).
 *
 * stop() ends what this daemon started, by pid: the tasks (deleted through
 * the runtime, by id under our runtime root), the shims (found by our socket
 * path in their argv), then the daemon; it unmounts what is left under the
 * directory, removes it, and returns what it had to clean up (a test asserts
 * that list is empty when its containers were all removed by containerd).
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const CONTAINERD = '/usr/bin/containerd';
export const CTR = '/usr/bin/ctr';
export const SHIM = '/usr/bin/containerd-shim-runc-v2';
/**
 * Where containerd 1.6 puts things whatever its config says: the shims' sockets
 * (/run/containerd/s) and ctr's FIFOs when a command is not given --fifo-dir.
 * Removed afterwards if this helper made them and they are empty.
 */
const FIXED_DIRS = ['/run/containerd/s', '/run/containerd/fifo', '/run/containerd'];

export const containerdAvailable = (): boolean => [CONTAINERD, CTR, SHIM].every((f) => fs.existsSync(f));

export interface CtrResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Containerd {
  /** The temporary directory everything lives in. */
  dir: string;
  sock: string;
  /** The containerd namespace (unique; also the cgroup parent ctr gives: /NS/ID). */
  ns: string;
  /** The runtime's --root (ctr run --runc-root). */
  runcRoot: string;
  fifoDir: string;
  pid: number;
  /** `ctr -a SOCK -n NS ARGS...`, waited for. */
  ctr(args: string[], opts?: { timeout?: number; input?: string }): CtrResult;
  /** The same, in the background. */
  ctrStart(args: string[]): { child: ChildProcess; done: Promise<CtrResult>; out: () => string };
  /** Ends everything this daemon started; returns what was still there (tasks, containers, shims, mounts...). */
  stop(): Promise<string[]>;
  /** The daemon's own output so far (for a failing test's message). */
  log(): string;
}

/** A loopback port nobody listens on (bound, then released): where the daemon's proxy variables point. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls PRED every 20 ms for up to MS; its last answer. */
export async function waitUntil(pred: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (pred()) return true;
    await sleep(20);
  }
  return pred();
}

function cmdline(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

function allPids(): number[] {
  return fs.readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n)).map(Number);
}

/** Processes whose argv names PATH (the daemon's socket, our directory) as one of its arguments or in one. */
export function processesNaming(needle: string): number[] {
  return allPids().filter((p) => p !== process.pid && cmdline(p).some((a) => a.includes(needle)));
}

/** Mount points at DIR or below it, from this process's mountinfo. */
export function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(dir + '/')))
    .map((m) => m.replace(/\\040/g, ' '));
}

/** The ns's cgroup parent in every v1 hierarchy (or the v2 tree): ctr's cgroupsPath is /NS/ID. */
export function nsCgroupDirs(ns: string): string[] {
  const cg = '/sys/fs/cgroup';
  if (fs.existsSync(path.join(cg, 'cgroup.controllers'))) return [path.join(cg, ns)];
  return fs.readdirSync(cg).map((c) => path.join(cg, c, ns)).filter((d) => fs.existsSync(d));
}

/** Starts a containerd of our own and waits for its socket to answer. */
export async function startContainerd(): Promise<Containerd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-ctrd-'));
  const sock = path.join(dir, 'containerd.sock');
  const ns = `tini-ts-test-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const runcRoot = path.join(dir, 'runc');
  const fifoDir = path.join(dir, 'fifo');
  const madeFixedDirs = FIXED_DIRS.filter((d) => !fs.existsSync(d));
  const port = await closedPort();
  const config = `version = 2
root = ${JSON.stringify(path.join(dir, 'root'))}
state = ${JSON.stringify(path.join(dir, 'state'))}
# No CRI (so no CNI and no network set-up), nothing we do not use, and the opt plugin
# would make /opt/containerd.
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = ${JSON.stringify(sock)}
[ttrpc]
  address = ${JSON.stringify(sock + '.ttrpc')}
[debug]
  address = ""
  level = "info"
[metrics]
  address = ""
`;
  fs.writeFileSync(path.join(dir, 'config.toml'), config);
  const logFile = path.join(dir, 'containerd.log');
  const logFd = fs.openSync(logFile, 'a');
  const proxy = `http://127.0.0.1:${port}`;
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy, NO_PROXY: '', no_proxy: '' };
  const daemon = spawn(CONTAINERD, ['--config', path.join(dir, 'config.toml')], { stdio: ['ignore', logFd, logFd], env });
  fs.closeSync(logFd);
  let exited: number | null | undefined;
  const gone = new Promise<void>((resolve) =>
    daemon.on('exit', (code) => {
      exited = code;
      resolve();
    }),
  );
  const log = () => {
    try {
      return fs.readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };

  const ctrEnv = { PATH: env.PATH };
  const ctrArgs = (args: string[]) => ['-a', sock, '-n', ns, ...args];
  const ctr: Containerd['ctr'] = (args, opts = {}) => {
    const r: SpawnSyncReturns<string> = spawnSync(CTR, ctrArgs(args), { encoding: 'utf8', timeout: opts.timeout ?? 60_000, input: opts.input, env: ctrEnv, stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const ctrStart: Containerd['ctrStart'] = (args) => {
    const child = spawn(CTR, ctrArgs(args), { stdio: ['ignore', 'pipe', 'pipe'], env: ctrEnv });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const done = new Promise<CtrResult>((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })));
    return { child, done, out: () => stdout };
  };

  const stop = async (): Promise<string[]> => {
    const left: string[] = [];
    // Tasks and containers containerd still has: removed through containerd first (what a user would do).
    if (exited === undefined) {
      for (const id of ctr(['tasks', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
        left.push(`task ${id}`);
        ctr(['tasks', 'kill', '-a', '-s', 'SIGKILL', id], { timeout: 10_000 });
        await waitUntil(() => !ctr(['tasks', 'ls', '-q']).stdout.split('\n').includes(id), 10_000);
        ctr(['tasks', 'rm', '-f', id], { timeout: 10_000 });
      }
      for (const id of ctr(['containers', 'ls', '-q']).stdout.split('\n').filter(Boolean)) {
        left.push(`container ${id}`);
        ctr(['containers', 'rm', id], { timeout: 10_000 });
      }
    }
    // Whatever the runtime still knows (a task containerd lost): deleted by id under our own root.
    const binary = fs.existsSync(path.join(dir, 'runtime')) ? fs.readFileSync(path.join(dir, 'runtime'), 'utf8') : null;
    const nsRoot = path.join(runcRoot, ns);
    for (const id of fs.existsSync(nsRoot) ? fs.readdirSync(nsRoot) : []) {
      left.push(`runtime state ${id}`);
      if (binary) spawnSync(binary, ['--root', nsRoot, 'delete', '--force', id], { stdio: 'ignore', timeout: 20_000 });
    }
    // The shims: `containerd-shim-runc-v2 -namespace NS -id ID -address SOCK`, daemons of their own (reparented away).
    for (const pid of processesNaming(sock)) {
      if (pid === daemon.pid) continue;
      left.push(`process ${pid}: ${cmdline(pid).join(' ')}`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    if (exited === undefined) {
      daemon.kill('SIGTERM');
      await Promise.race([gone, sleep(10_000)]);
      if (exited === undefined) {
        left.push('the daemon ignored SIGTERM');
        daemon.kill('SIGKILL');
        await gone;
      }
    }
    await waitUntil(() => processesNaming(sock).length === 0 && processesNaming(dir).length === 0, 5_000);
    for (const pid of processesNaming(dir)) left.push(`process ${pid} still there: ${cmdline(pid).join(' ')}`);
    // Mounts (container root filesystems, if a shim was killed before it unmounted), deepest first.
    for (const m of mountsUnder(dir).reverse()) {
      left.push(`mount ${m}`);
      spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    }
    // The cgroup parent ctr's /NS/ID made (the runtime creates it; removed when empty, as it is ours).
    for (const d of nsCgroupDirs(ns)) {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) left.push(`cgroup ${path.join(d, e.name)}`);
      try {
        fs.rmdirSync(d);
      } catch {
        left.push(`cgroup ${d} not removable`);
      }
    }
    if (mountsUnder(dir).length === 0) fs.rmSync(dir, { recursive: true, force: true });
    else left.push(`${dir} kept: still mounted`);
    // Those, only if we made them and they are empty (another containerd may use them).
    for (const d of madeFixedDirs) {
      try {
        fs.rmdirSync(d);
      } catch {
        // not empty: someone else's
      }
    }
    return left;
  };

  const up = await waitUntil(() => exited !== undefined || (fs.existsSync(sock) && ctr(['version'], { timeout: 5_000 }).status === 0), 30_000);
  if (!up || exited !== undefined) {
    const why = log();
    await stop();
    throw new Error(`containerd did not come up (${exited !== undefined ? `exit ${exited}` : 'no socket in 30 s'}):\n${why.slice(-3000)}`);
  }
  return { dir, sock, ns, runcRoot, fifoDir, pid: daemon.pid!, ctr, ctrStart, stop, log };
}

/**
 * A logging wrapper around the runtime, as engines are traced (each call's
 * argv, cwd, its fds 0-2 and its exit code appended to DIR/calls.log), named
 * NAME in DIR. It never reads stdin nor writes to stdout/stderr: they are the
 * container's. It does not exec the runtime, to record the exit code: the
 * container's init is still re-parented to the shim (a subreaper) when the
 * runtime exits.
 */
export function runtimeWrapper(c: Containerd, runtime: string, name = 'tini-ts-runc'): { path: string; calls: () => string[] } {
  const file = path.join(c.dir, name);
  const log = path.join(c.dir, 'calls.log');
  fs.writeFileSync(
    file,
    `#!/bin/sh
fds="0->$(readlink /proc/$$/fd/0) 1->$(readlink /proc/$$/fd/1) 2->$(readlink /proc/$$/fd/2)"
{
  printf 'argv:'; for a in "$@"; do printf ' %s' "$a"; done; printf '\\n'
  printf '  cwd: %s\\n  fds: %s\\n' "$(pwd)" "$fds"
} >>${JSON.stringify(log)} 2>/dev/null
# The shim runs the runtime in the bundle: keep the config.json it wrote (one per container).
[ -f config.json ] && cp -n config.json ${JSON.stringify(c.dir)}/"config-$(basename "$(pwd)").json" 2>/dev/null
${JSON.stringify(runtime)} "$@"
rc=$?
printf '  rc=%s\\n' "$rc" >>${JSON.stringify(log)} 2>/dev/null
# And the runtime's --log file as it is after this call.
prev=; for a in "$@"; do [ "$prev" = --log ] && cp "$a" ${JSON.stringify(c.dir)}/"log-$(basename "$(pwd)").json" 2>/dev/null; prev=$a; done
exit $rc
`,
    { mode: 0o755 },
  );
  // stop() deletes what this runtime still holds under our root.
  fs.writeFileSync(path.join(c.dir, 'runtime'), runtime);
  return {
    path: file,
    calls: () => {
      try {
        return fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('argv:')).map((l) => l.slice(6));
      } catch {
        return [];
      }
    },
  };
}

const GOARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

/**
 * An OCI image archive (oci-layout, index.json, a manifest, a config, one
 * uncompressed layer) of ROOTFS, written to OUT, named NAME
 * (docker.io/library/x:tag) in the index's annotations; built offline with
 * tar, digests and sizes computed here. `cmd` is the image's default command.
 */
export function buildOciArchive(rootfs: string, out: string, name: string, cmd: string[] = ['/bin/sh']): void {
  const work = fs.mkdtempSync(path.join(path.dirname(out), '.oci-'));
  try {
    const blobs = path.join(work, 'blobs', 'sha256');
    fs.mkdirSync(blobs, { recursive: true });
    const layerTar = path.join(work, 'layer.tar');
    // Reproducible: sorted names, numeric owners root, one mtime.
    const t = spawnSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '--mtime=@0', '-C', rootfs, '-cf', layerTar, '.'], { encoding: 'utf8' });
    if (t.status !== 0) throw new Error(`tar of ${rootfs} failed: ${t.stderr}`);
    const put = (data: Buffer) => {
      const hex = crypto.createHash('sha256').update(data).digest('hex');
      fs.writeFileSync(path.join(blobs, hex), data);
      return { digest: `sha256:${hex}`, size: data.length };
    };
    const layer = put(fs.readFileSync(layerTar));
    fs.rmSync(layerTar);
    const arch = GOARCH[process.arch] ?? process.arch;
    const config = put(
      Buffer.from(
        JSON.stringify({
          created: '1970-01-01T00:00:00Z',
          architecture: arch,
          os: 'linux',
          config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: cmd, WorkingDir: '/' },
          rootfs: { type: 'layers', diff_ids: [layer.digest] }, // uncompressed: the diff id is the layer's digest
          history: [{ created: '1970-01-01T00:00:00Z', created_by: 'tini-ts test: busybox-static root filesystem' }],
        }),
      ),
    );
    const manifest = put(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
          layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
        }),
      ),
    );
    const tag = name.slice(name.lastIndexOf(':') + 1);
    fs.writeFileSync(path.join(work, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    fs.writeFileSync(
      path.join(work, 'index.json'),
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            ...manifest,
            platform: { architecture: arch, os: 'linux' },
            annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag },
          },
        ],
      }),
    );
    const a = spawnSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', work, '-cf', out, 'oci-layout', 'index.json', 'blobs'], { encoding: 'utf8' });
    if (a.status !== 0) throw new Error(`tar of the OCI layout failed: ${a.stderr}`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
