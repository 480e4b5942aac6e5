/**
 * Podman for the tests: Debian's podman 4.3 with conmon, daemonless, with
 * everything of its own under one unique temporary directory: storage root
 * and run root (`--root`, `--runroot`), containers.conf, storage.conf and
 * registries.conf (CONTAINERS_CONF, CONTAINERS_STORAGE_CONF,
 * CONTAINERS_REGISTRIES_CONF: no search registry), its temporary, static and
 * volume directories, the events file, XDG_RUNTIME_DIR. cgroupfs
 * (`--cgroup-manager cgroupfs`, no systemd), a uniquely named cgroup parent
 * (`--cgroup-parent`, given by the tests to every run), no network (netns
 * "none"; CNI with an empty configuration directory), `--pull never` on
 * every run, proxies at a closed loopback port: nothing can reach a registry;
 * images come from `podman import` of a tarball.
 *
 * The runtime is dist/tini-ts under a name with `runc` in it (a link,
 * BIN/tini-ts-runc): Podman calls `RUNTIME create ...`, `start ID`, `kill ID
 * N` with no global flag first, so the binary tells a runtime call by its
 * name; containers.conf lists that name in runtime_supports_json, so conmon
 * passes `--log-format=json --log FILE`, as it does for runc and crun.
 * Root has the nofile and nproc limits of containers.conf's default_ulimits
 * (1024): Podman otherwise asks for 1048576 open files, which a machine
 * without CAP_SYS_RESOURCE in its bounding set (this one) refuses to runc,
 * crun and tini-ts alike.
 *
 * Podman's blob-info cache is /var/lib/containers/cache whatever the
 * configuration says: removed afterwards if this helper made it.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processesNaming } from './containerd.js';
import { closedPort, mountsUnder, removeCgroupParent, type CmdResult } from './docker.js';

export const PODMAN = '/usr/bin/podman';
export const CONMON = '/usr/bin/conmon';
const FIXED = '/var/lib/containers';

export const podmanAvailable = (): boolean => [PODMAN, CONMON].every((f) => fs.existsSync(f));

export interface Podman {
  dir: string;
  /** The cgroup parent, one path component (give `--cgroup-parent /NAME` to every run). */
  cgroupParent: string;
  /** dist/tini-ts as Podman runs it (a link named tini-ts-runc). */
  runtime: string;
  podman(args: string[], opts?: { timeout?: number }): CmdResult;
  env: NodeJS.ProcessEnv;
  /** The global flags every `podman` call gets (for a command line run through script(1)). */
  globals: string[];
  stop(): Promise<string[]>;
}

export async function startPodman(binary: string): Promise<Podman> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-podman-'));
  const madeFixed = !fs.existsSync(FIXED);
  const cgroupParent = `tini-ts-podman-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
  for (const d of ['root', 'runroot', 'tmp', 'static', 'volumes', 'cni', 'cni-plugins', 'xdg', 'bin']) fs.mkdirSync(path.join(dir, d), { mode: 0o700 });
  const runtime = path.join(dir, 'bin', 'tini-ts-runc');
  fs.symlinkSync(binary, runtime);
  const q = JSON.stringify;
  fs.writeFileSync(
    path.join(dir, 'containers.conf'),
    `[containers]
netns = "none"
log_driver = "k8s-file"
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = ${q(path.join(dir, 'events.log'))}
runtime_supports_json = ["crun", "runc", "tini-ts-runc"]
static_dir = ${q(path.join(dir, 'static'))}
tmp_dir = ${q(path.join(dir, 'tmp'))}
volume_path = ${q(path.join(dir, 'volumes'))}
[network]
network_backend = "cni"
network_config_dir = ${q(path.join(dir, 'cni'))}
cni_plugin_dirs = [${q(path.join(dir, 'cni-plugins'))}]
`,
  );
  fs.writeFileSync(path.join(dir, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = ${q(path.join(dir, 'root'))}\nrunroot = ${q(path.join(dir, 'runroot'))}\n`);
  fs.writeFileSync(path.join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
  const proxy = `http://127.0.0.1:${await closedPort()}`;
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    CONTAINERS_CONF: path.join(dir, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: path.join(dir, 'registries.conf'),
    XDG_RUNTIME_DIR: path.join(dir, 'xdg'),
    TMPDIR: path.join(dir, 'tmp'),
    HTTP_PROXY: proxy, HTTPS_PROXY: proxy, http_proxy: proxy, https_proxy: proxy, NO_PROXY: '', no_proxy: '',
  };
  const globals = ['--root', path.join(dir, 'root'), '--runroot', path.join(dir, 'runroot'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', '--tmpdir', path.join(dir, 'tmp')];
  const podman: Podman['podman'] = (args, o = {}) => {
    const r = spawnSync(PODMAN, [...globals, ...args], { encoding: 'utf8', timeout: o.timeout ?? 60_000, env, stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  };
  const stop = async (): Promise<string[]> => {
    const left: string[] = [];
    for (const id of podman(['ps', '-aq', '--no-trunc']).stdout.split('\n').filter(Boolean)) {
      left.push(`container ${id}`);
      podman(['rm', '-f', '-t', '0', id], { timeout: 30_000 });
    }
    // conmon (and a container cleanup it started) name our directory in their argv.
    for (const pid of processesNaming(dir)) {
      left.push(`process ${pid}`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    // The storage's own mounts (the overlay root and its shm): podman leaves them until a reboot.
    for (const m of mountsUnder(dir).reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    left.push(...removeCgroupParent(cgroupParent, ['conmon'])); // conmon's own cgroup, Podman's (cgroupfs)
    if (mountsUnder(dir).length === 0) fs.rmSync(dir, { recursive: true, force: true });
    else left.push(`${dir} kept: still mounted`);
    if (madeFixed) fs.rmSync(FIXED, { recursive: true, force: true });
    return left;
  };
  return { dir, cgroupParent, runtime, podman, env, globals, stop };
}
