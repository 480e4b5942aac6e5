/**
 * `exec [--process FILE] [--detach] [--pid-file F] ID [COMMAND ARGS...]`: a
 * new process in a running container. This command's main thread joins the
 * container's cgroup (by the host's paths, first), then its namespaces (after
 * unshare(CLONE_FS), as setns into a mount namespace needs a private root
 * and cwd), takes the process's credentials, capabilities, no_new_privs and
 * seccomp filter, and spawns it: a child of this command in the container's
 * pid namespace, left to the caller (a subreaper) with --detach, else waited
 * for, its status becoming this command's. Its orphans go to the container's
 * init. The main thread's changes are for good: this command ends after.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { OciCommand } from '../../cli/oci-args.js';
import { createContainerLibc } from '../../libc/container.js';
import { createLibc } from '../../libc/libc.js';
import { CLONE, createNsLibc } from '../../libc/ns.js';
import { WNOHANG } from '../../libc/types.js';
import { ociProcessSpec, readConfigFile } from '../../runtime/container.js';
import { parseConfig } from '../../runtime/oci/config.js';
import { dropPrivileges, workloadRequest } from '../../runtime/workload.js';
import { preservedFdsProblem, runcText, type OciContext } from './context.js';
import { applyExecFlags } from './exec-flags.js';
import { loadContainer } from './load.js';

/** The namespaces joined, in order (mnt last: the others are opened through the host's /proc). */
const NAMESPACES = ['ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt'] as const;

export function exec(cmd: Extract<OciCommand, { verb: 'exec' }>, ctx: OciContext): void {
  const { rec, status } = loadContainer(cmd.id, ctx);
  const pidFile = cmd.pidFile === null ? null : path.resolve(cmd.pidFile);
  if (status !== 'running') ctx.fail(status === 'stopped' ? 'cannot exec in a stopped container' : `cannot exec in a ${status} container`);
  if (cmd.tty || cmd.consoleSocket !== null) ctx.fail('exec: a terminal (--tty, --console-socket) is not supported yet');

  // The process: process.json, or the container's own with other args.
  const configText = readConfigFile(path.join(rec.bundle, 'config.json'));
  if (typeof configText !== 'string') return ctx.fail(configText.error);
  const config = JSON.parse(configText) as { process?: unknown; linux?: { seccomp?: unknown } };
  let processJson: unknown = config.process;
  if (cmd.processFile !== null) {
    try {
      processJson = JSON.parse(fs.readFileSync(path.resolve(cmd.processFile), 'utf8'));
    } catch (e) {
      return ctx.fail(`exec: --process ${cmd.processFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } else {
    if (cmd.args.length === 0) ctx.fail('exec: a command is required (or --process FILE)');
    processJson = { ...(processJson as object), args: cmd.args, terminal: false };
  }
  const badFds = preservedFdsProblem(cmd.flags.preserveFds);
  if (badFds) ctx.fail(`exec: ${badFds}`);
  const withFlags = applyExecFlags(processJson, cmd.flags, (msg) => ctx.log('warning', msg));
  if (typeof withFlags === 'string') return ctx.fail(withFlags);
  processJson = withFlags;
  const parsed = parseConfig(JSON.stringify({ ociVersion: '1.0.2', process: processJson, root: { path: rec.rootfs }, linux: { namespaces: [{ type: 'mount' }] } }), rec.bundle);
  if (!parsed.ok) return ctx.fail(parsed.error.replace(/^config\.json/, 'process.json'));
  const p = parsed.plan.process;
  if (p.terminal) ctx.fail('exec: process.terminal (a terminal) is not supported yet');
  const spec = ociProcessSpec(p, config.linux?.seccomp !== undefined);

  const ns = createNsLibc();
  const libc = createLibc();
  const cl = createContainerLibc();
  // The libuv pool's threads, started now, keep the host's root and credentials:
  // the pid file (a host path) is written on them once this thread is inside.
  fs.access('/', () => {});
  // The cgroup first, by the host's paths; v1: this thread alone, the child inherits it.
  for (const dir of rec.cgroupDirs) {
    const file = fs.existsSync(path.join(dir, 'cgroup.type')) ? 'cgroup.procs' : 'tasks';
    try {
      fs.writeFileSync(path.join(dir, file), file === 'tasks' ? '0' : String(process.pid));
    } catch (e) {
      return ctx.fail(`exec: joining the container's cgroup ${dir}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
  const fds = NAMESPACES.map((n) => {
    try {
      return { n, fd: fs.openSync(`/proc/${rec.pid}/ns/${n}`, 'r') };
    } catch (e) {
      return ctx.fail(`exec: the container's ${n} namespace: ${(e as NodeJS.ErrnoException).code}`);
    }
  });
  const u = ns.unshare(CLONE.FS);
  if (!u.ok) ctx.fail(`exec: ${u.call} failed: ${u.code}`);
  for (const { n, fd } of fds) {
    const r = ns.setns(fd, 0);
    if (!r.ok) ctx.fail(`exec: joining the container's ${n} namespace: ${r.call} failed: ${r.code}`);
    ns.close(fd);
  }
  const w = workloadRequest({ argv: p.args.map((a) => Buffer.from(a)), env: p.env.map((e) => Buffer.from(e)), cwd: p.cwd, programMustExist: true, homeOf: spec.user });
  if (w.kind === 'error') return ctx.fail(runcText(w.message));
  const dropped = dropPrivileges(spec, cl);
  if (dropped) ctx.fail(dropped);
  // --preserve-fds N: this command's fds 3 .. 3+N-1 (the caller's) pass to the process.
  const r = libc.spawn({ ...w.req, newProcessGroup: false, passFds: [0, 1, 2, ...Array.from({ length: cmd.flags.preserveFds }, (_, i) => 3 + i)] });
  if (!r.ok) return ctx.fail(`exec failed: ${r.call}: ${r.code}`);
  const pid = r.value;
  if (pidFile === null) return finish(pid);
  // On the pool (the host's view), renamed into place.
  const tmp = path.join(path.dirname(pidFile), `.${path.basename(pidFile)}.${process.pid}`);
  fs.writeFile(tmp, String(pid), (e) => {
    if (e) return pidFileFailed(e);
    fs.rename(tmp, pidFile, (e2) => (e2 ? pidFileFailed(e2) : finish(pid)));
  });
  function pidFileFailed(e: NodeJS.ErrnoException): void {
    process.kill(pid, 'SIGKILL');
    ctx.fail(`exec: cannot write the pid file ${pidFile}: ${e.code}`);
  }
  function finish(pid: number): void {
    if (cmd.detach) return ctx.exit(0);
    // Waited for: this command's status is the process's.
    const nap = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      const wr = libc.waitpid(pid, WNOHANG);
      if (wr.ok && wr.value[0] === pid) {
        const st = wr.value[1];
        return ctx.exit((st & 0x7f) === 0 ? (st >> 8) & 0xff : 128 + (st & 0x7f));
      }
      if (!wr.ok && wr.code !== 'EINTR') return ctx.fail(`exec: waiting for ${pid}: ${wr.code}`);
      Atomics.wait(nap, 0, 0, 5);
    }
  }
}
