/**
 * dockerd for the tests, started and stopped by the test itself: Debian's
 * docker.io 20.10 (/usr/sbin/dockerd and its client /usr/bin/docker) with
 * everything of its own under one unique temporary directory: data root,
 * exec root, pid file, API socket, daemon.json, the client's config, and the
 * trust key (else /etc/docker/key.json). Its containerd is not the one
 * dockerd would start (or the machine's, which dockerd picks when
 * /run/containerd/containerd.sock exists): it is the tests' own
 * (test/helpers/containerd.ts, `--containerd`), in a containerd namespace of
 * its own. No bridge, no iptables, no masquerading (`--bridge=none
 * --iptables=false --ip-masq=false --ip6tables=false`): containers run with
 * `--network none`. Container cgroups go under a uniquely named parent
 * (`--cgroup-parent`). HTTP(S)_PROXY point at a closed loopback port and
 * images are imported from a tarball (`docker import`): nothing can reach a
 * registry.
 *
 * `--add-runtime tini-ts=BIN` and `--init-path BIN`: the same binary is a
 * runtime (`docker run --runtime tini-ts`) and docker-init (`docker run
 * --init`, default runtime runc).
 *
 * stop() removes what is left (containers, through dockerd), ends dockerd by
 * pid (SIGTERM, then SIGKILL), stops the containerd, unmounts what is left
 * under the directory, removes it and the cgroup parent, and returns what it
 * had to clean up (a test asserts it is empty).
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { containerdAvailable, mountsUnder, processesNaming, startContainerd, waitUntil, type Containerd } from './containerd.js';

export const DOCKERD = '/usr/sbin/dockerd';
/** Debian's client (/usr/local/bin/docker may be another one). */
export const DOCKER = '/usr/bin/docker';

export const dockerAvailable = (): boolean => containerdAvailable() && [DOCKERD, DOCKER].every((f) => fs.existsSync(f));

export interface CmdResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Docker {
  dir: string;
  sock: string;
  pid: number;
  /** The cgroup parent (`--cgroup-parent`), one path component: containers are /PARENT/ID. */
  cgroupParent: string;
  /** The runtimes' state roots (`--root` of each runtime): EXEC_ROOT/runtime-NAME/NS. */
  runtimeRoots(): string[];
  docker(args: string[], opts?: { timeout?: number; input?: string }): CmdResult;
  /** `docker` in the background (a `run` that a test signals meanwhile). */
  dockerStart(args: string[]): { done: Promise<CmdResult>; out: () => string };
  /** The environment `docker` runs with (for a command line run through script(1)). */
  env: NodeJS.ProcessEnv;
  stop(): Promise<string[]>;
  log(): string;
}


export { mountsUnder };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** NAME (one component) in every cgroup v1 hierarchy, or the v2 tree, that has it. */
export function cgroupParentDirs(name: string): string[] {
  const cg = '/sys/fs/cgroup';
  if (fs.existsSync(path.join(cg, 'cgroup.controllers'))) return [path.join(cg, name)].filter((d) => fs.existsSync(d));
  // (a hierarchy mounted twice under two names, cpu -> cpu,cpuacct, is listed once)
  return fs.readdirSync(cg).filter((c) => !fs.lstatSync(path.join(cg, c)).isSymbolicLink()).map((c) => path.join(cg, c, name)).filter((d) => fs.existsSync(d));
}

/** Sub-directories (container cgroups) under the parent, in every hierarchy. */
export function cgroupsUnder(name: string): string[] {
  return cgroupParentDirs(name).flatMap((d) => fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(d, e.name)));
}

/** Removes the cgroup parent and what is under it; returns what was under it but EXPECTED, and what could not be removed. */
export function removeCgroupParent(name: string, expected: string[] = []): string[] {
  const left: string[] = [];
  for (const d of cgroupParentDirs(name)) {
    for (const sub of fs.readdirSync(d, { withFileTypes: true }).filter((e) => e.isDirectory())) {
      if (!expected.includes(sub.name)) left.push(`cgroup ${path.join(d, sub.name)}`);
      try {
        fs.rmdirSync(path.join(d, sub.name));
      } catch {
        // still has processes: named above
      }
    }
    try {
      fs.rmdirSync(d);
    } catch {
      left.push(`cgroup ${d} not removable`);
    }
  }
  return left;
}

/** A loopback port nobody listens on: where the proxies point. */
export async function closedPort(): Promise<number> {
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as import('node:net').AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

export async function startDocker(opts: { runtimes: Record<string, string>; initPath: string }): Promise<Docker> {
  const c: Containerd = await startContainerd();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-docker-'));
  const tag = `${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  const cgroupParent = `tini-ts-docker-${tag}`;
  const ns = `tini-ts-docker-${tag}`;
  const sock = path.join(dir, 'docker.sock');
  const execRoot = path.join(dir, 'exec');
  const port = await closedPort();
  const proxy = `http://127.0.0.1:${port}`;
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy, NO_PROXY: '', no_proxy: '' };
  // The trust key would be /etc/docker/key.json; the file also keeps dockerd from reading /etc/docker/daemon.json.
  fs.writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify({ 'deprecated-key-path': path.join(dir, 'key.json') }));
  const args = [
    '--config-file', path.join(dir, 'daemon.json'),
    '--containerd', c.sock,
    '--containerd-namespace', ns,
    '--containerd-plugins-namespace', `${ns}-plugins`,
    '--data-root', path.join(dir, 'data'),
    '--exec-root', execRoot,
    '--pidfile', path.join(dir, 'docker.pid'),
    '-H', `unix://${sock}`,
    '--bridge=none', '--iptables=false', '--ip-masq=false', '--ip6tables=false', '--userland-proxy=false',
    '--cgroup-parent', `/${cgroupParent}`,
    '--init-path', opts.initPath,
    ...Object.entries(opts.runtimes).flatMap(([name, p]) => ['--add-runtime', `${name}=${p}`]),
  ];
  const logFile = path.join(dir, 'dockerd.log');
  const logFd = fs.openSync(logFile, 'a');
  const daemon = spawn(DOCKERD, args, { stdio: ['ignore', logFd, logFd], env });
  fs.closeSync(logFd);
  let exited: number | null | undefined;
  const gone = new Promise<void>((resolve) => daemon.on('exit', (code) => ((exited = code), resolve())));
  const log = () => {
    try {
      return fs.readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const clientEnv = { PATH: env.PATH, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: path.join(dir, 'client') };
  const docker: Docker['docker'] = (a, o = {}) => {
    const r = spawnSync(DOCKER, a, { encoding: 'utf8', timeout: o.timeout ?? 60_000, input: o.input, env: clientEnv, stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const dockerStart: Docker['dockerStart'] = (a) => {
    const child = spawn(DOCKER, a, { stdio: ['ignore', 'pipe', 'pipe'], env: clientEnv });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const done = new Promise<CmdResult>((resolve) => child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr })));
    return { done, out: () => stdout };
  };
  const runtimeRoots = () => {
    if (!fs.existsSync(execRoot)) return [];
    return fs.readdirSync(execRoot).filter((n) => n.startsWith('runtime-')).map((n) => path.join(execRoot, n, ns)).filter((d) => fs.existsSync(d));
  };

  const stop = async (): Promise<string[]> => {
    const left: string[] = [];
    if (exited === undefined) {
      for (const id of docker(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) {
        left.push(`container ${id}`);
        docker(['rm', '-f', id], { timeout: 30_000 });
      }
      daemon.kill('SIGTERM');
      await Promise.race([gone, sleep(20_000)]);
      if (exited === undefined) {
        left.push('dockerd ignored SIGTERM');
        daemon.kill('SIGKILL');
        await gone;
      }
    }
    // What a runtime still holds under its root (dockerd lost it): named, then deleted through that runtime.
    for (const root of runtimeRoots()) {
      // (every v2 runtime shares the runc root: each runtime is asked, the one that knows the id deletes it)
      for (const id of fs.readdirSync(root)) {
        left.push(`runtime state ${id} in ${root}`);
        for (const bin of [...Object.values(opts.runtimes), 'runc']) spawnSync(bin, ['--root', root, 'delete', '--force', id], { stdio: 'ignore', timeout: 20_000 });
      }
    }
    left.push(...(await c.stop()));
    await waitUntil(() => processesNaming(dir).length === 0, 5_000);
    for (const pid of processesNaming(dir)) left.push(`process ${pid} still there`);
    for (const m of mountsUnder(dir).reverse()) {
      left.push(`mount ${m}`);
      spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    }
    left.push(...removeCgroupParent(cgroupParent));
    if (mountsUnder(dir).length === 0) fs.rmSync(dir, { recursive: true, force: true });
    else left.push(`${dir} kept: still mounted`);
    return left;
  };

  const up = await waitUntil(() => exited !== undefined || (fs.existsSync(sock) && docker(['version', '--format', '{{.Server.Version}}'], { timeout: 10_000 }).status === 0), 60_000);
  if (!up || exited !== undefined) {
    const why = log();
    const left = await stop();
    throw new Error(`dockerd did not come up (${exited !== undefined ? `exit ${exited}` : 'no answer in 60 s'}):\n${why.slice(-3000)}\nleft: ${left.join(', ')}`);
  }
  return { dir, sock, pid: daemon.pid!, cgroupParent, runtimeRoots, docker, dockerStart, env: clientEnv, stop, log };
}

/**
 * A logging wrapper around RUNTIME, as engines are traced: DIR/NAME appends
 * each call's argv and exit code to DIR/calls.log, and keeps a copy of the
 * runtime's --log file after each call (DIR/log-<its directory>.json). It
 * never reads stdin (`update --resources -`) nor writes to stdout/stderr
 * (they are the container's), and leaves the runtime's environment as the
 * engine gave it (Podman gives some calls no PATH: the wrapper's own commands
 * run in a subshell that sets one). It does not exec the runtime, to record
 * the exit code: the container's init is still re-parented to the engine's
 * subreaper (shim, conmon) when the runtime exits.
 */
export function traceWrapper(dir: string, name: string, runtime: string): { path: string; calls: () => { argv: string; rc: number }[]; logs: () => string[] } {
  const file = path.join(dir, name);
  const log = path.join(dir, 'calls.log');
  const q = JSON.stringify;
  fs.writeFileSync(
    file,
    `#!/bin/sh
( PATH=/usr/sbin:/usr/bin:/sbin:/bin; printf 'argv:'; for a in "$@"; do printf ' %s' "$a"; done; printf '\\n' ) >>${q(log)} 2>/dev/null
${q(runtime)} "$@"
rc=$?
( PATH=/usr/sbin:/usr/bin:/sbin:/bin
  printf 'rc=%s\\n' "$rc"
  prev=
  for a in "$@"; do
    f=
    [ "$prev" = --log ] && f=$a
    case "$a" in --log=*) f=\${a#--log=} ;; esac
    [ -n "$f" ] && cp "$f" ${q(dir)}/"log-$(basename "$(dirname "$f")").json"
    prev=$a
  done ) >>${q(log)} 2>/dev/null
exit $rc
`,
    { mode: 0o755 },
  );
  return {
    path: file,
    calls: () => {
      const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n') : [];
      const out: { argv: string; rc: number }[] = [];
      for (const l of lines) {
        if (l.startsWith('argv:')) out.push({ argv: l.slice(6), rc: -1 });
        else if (l.startsWith('rc=') && out.length > 0) out[out.length - 1].rc = Number(l.slice(3));
      }
      return out;
    },
    logs: () => fs.readdirSync(dir).filter((n) => n.startsWith('log-')).flatMap((n) => fs.readFileSync(path.join(dir, n), 'utf8').split('\n').filter(Boolean)),
  };
}

/** What a workload sees of its container (run by sh -c): what it is and may do, then `-- mounts`, its mounts and cgroups. */
export const PROBE = `echo "id: $(id)"
echo "hostname: $(hostname)"
grep -E '^(Cap|Seccomp|NoNewPrivs)' /proc/self/status | tr '\\t' ' '
echo "nofile: $(ulimit -n)"
for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /sys/firmware; do printf 'masked %s: %s\\n' "$f" "$(ls -la $f 2>&1 | head -2 | tr '\\n' ' ' | cut -c1-40)"; done
for f in /proc/sysrq-trigger /proc/sys/kernel/domainname /proc/irq; do (echo x > $f) 2>/dev/null && echo "writable $f" || echo "not writable $f"; done
echo '-- mounts'
awk '{print $5, $6}' /proc/self/mountinfo | sed 's/,relatime//; s/,noatime//' | sort
cat /proc/self/cgroup | sort
`;
