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
import { O, createAtLibc } from '../../libc/at.js';
import { createContainerLibc } from '../../libc/container.js';
import { createLibc } from '../../libc/libc.js';
import { CLONE, createNsLibc } from '../../libc/ns.js';
import { WNOHANG } from '../../libc/types.js';
import { ociProcessSpec, ociSeccompOfConfig, readConfigFile } from '../../runtime/container.js';
import { parseConfig } from '../../runtime/oci/config.js';
import { quickExit } from '../../runtime/quick-exit.js';
import { dropPrivileges, workloadRequest } from '../../runtime/workload.js';
import { preservedFdsProblem, runcText, type OciContext } from './context.js';
import { applyExecFlags } from './exec-flags.js';
import { loadContainer } from './load.js';
import { createTerminalLibc } from '../../libc/terminal.js';
import { connectConsole, makeTerminal, terminalProblem } from '../../runtime/terminal.js';
import { resolveCredentials } from '../../runtime/process.js';

const readOr = (file: string): string => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** The namespaces joined, in order (mnt last: the others are opened through the host's /proc). */
const NAMESPACES = ['ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt'] as const;

export function exec(cmd: Extract<OciCommand, { verb: 'exec' }>, ctx: OciContext): void {
  const { rec, status } = loadContainer(cmd.id, ctx);
  const pidFile = cmd.pidFile === null ? null : path.resolve(cmd.pidFile);
  if (status !== 'running') ctx.fail(status === 'stopped' ? 'cannot exec in a stopped container' : `cannot exec in a ${status} container`);

  // The process: process.json, or the container's own with other args.
  const configText = readConfigFile(path.join(rec.bundle, 'config.json'));
  if (typeof configText !== 'string') return ctx.fail(configText.error);
  const config = JSON.parse(configText) as { process?: unknown };
  let processJson: unknown = config.process;
  if (cmd.processFile !== null) {
    try {
      processJson = JSON.parse(fs.readFileSync(path.resolve(cmd.processFile), 'utf8'));
    } catch (e) {
      return ctx.fail(`exec: --process ${cmd.processFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } else {
    if (cmd.args.length === 0) ctx.fail('exec: a command is required (or --process FILE)');
    processJson = { ...(processJson as object), args: cmd.args, terminal: cmd.tty };
  }
  const badFds = preservedFdsProblem(cmd.flags.preserveFds);
  if (badFds) ctx.fail(`exec: ${badFds}`);
  const withFlags = applyExecFlags(processJson, cmd.flags, (msg) => ctx.log('warning', msg));
  if (typeof withFlags === 'string') return ctx.fail(withFlags);
  processJson = withFlags;
  const parsed = parseConfig(JSON.stringify({ ociVersion: '1.0.2', process: processJson, root: { path: rec.rootfs }, linux: { namespaces: [{ type: 'mount' }] } }), rec.bundle);
  if (!parsed.ok) return ctx.fail(parsed.error.replace(/^config\.json/, 'process.json'));
  const p = parsed.plan.process;
  // With --process, the file's terminal counts and --tty is ignored (as runc and crun do).
  const badTerminal = terminalProblem(p.terminal, cmd.consoleSocket, cmd.detach);
  if (badTerminal) ctx.fail(badTerminal);
  // runc without --detach makes the terminal itself and relays it to its own stdio; tini-ts does not.
  if (p.terminal && !cmd.detach) ctx.fail('exec: a terminal needs --detach and --console-socket (relaying it to this command\'s own stdio is not supported)');
  const seccomp = ociSeccompOfConfig(configText);
  if (typeof seccomp === 'string') return ctx.fail(seccomp);
  const spec = ociProcessSpec(p, seccomp);
  const tl = p.terminal ? createTerminalLibc() : null;
  // Connected before joining the container: the path is the caller's.
  const consoleSocket = tl && cmd.consoleSocket !== null ? connectConsole(path.resolve(cmd.consoleSocket), tl) : null;
  if (typeof consoleSocket === 'string') return ctx.fail(`exec: ${consoleSocket}`);

  const ns = createNsLibc();
  const libc = createLibc();
  const cl = createContainerLibc();
  // The pid file (a host path) is written relative to its directory, opened
  // now with the host's view, synchronously: once a seccomp filter is on this
  // thread, Node's event loop must not run (see quickExit below).
  let pidDir: number | null = null;
  if (pidFile !== null) {
    try {
      pidDir = fs.openSync(path.dirname(pidFile), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (e) {
      return ctx.fail(`exec: cannot write the pid file ${pidFile}: ${(e as NodeJS.ErrnoException).code}`);
    }
  }
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
  // Node's teardown at exit runs libuv's loop, whose io_uring ring predates a
  // seccomp filter that may deny io_uring (Docker's does): _exit instead.
  if (spec.seccomp !== null) ctx.exit = (code) => quickExit(ns, code);
  let req = w.req;
  if (tl && consoleSocket !== null) {
    // In the container's /dev/pts, while still privileged; the slave goes to the process's user.
    const size = p.consoleSize ? { rows: p.consoleSize.height, cols: p.consoleSize.width } : null;
    const made = makeTerminal({ socket: consoleSocket, size }, tl);
    if ('error' in made) return ctx.fail(`exec: ${made.error}`);
    const owner = spec.user === null ? null : resolveCredentials(spec, readOr('/etc/passwd'), readOr('/etc/group'));
    if (owner !== null && typeof owner !== 'string' && owner.uid !== 0) {
      try {
        fs.chownSync(made.slave, owner.uid, -1);
      } catch (e) {
        return ctx.fail(`exec: giving the terminal ${made.slave} to the process's user: ${(e as NodeJS.ErrnoException).code}`);
      }
    }
    req = { ...req, terminal: made.slave };
  }
  const dropped = dropPrivileges(spec, cl);
  if (dropped) ctx.fail(dropped);
  // --preserve-fds N: this command's fds 3 .. 3+N-1 (the caller's) pass to the process.
  const r = libc.spawn({ ...req, newProcessGroup: false, passFds: [0, 1, 2, ...Array.from({ length: cmd.flags.preserveFds }, (_, i) => 3 + i)] });
  if (!r.ok) return ctx.fail(`exec failed: ${r.call}: ${r.code}`);
  const pid = r.value;
  if (pidFile === null || pidDir === null) return finish(pid);
  const bad = writePidFile(pidDir, path.basename(pidFile), pid);
  if (bad) {
    process.kill(pid, 'SIGKILL');
    ctx.fail(`exec: cannot write the pid file ${pidFile}: ${bad}`);
  }
  finish(pid);
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

/** PID written to NAME in the directory DIR, renamed into place; an errno name, or null. */
function writePidFile(dir: number, name: string, pid: number): string | null {
  const at = createAtLibc();
  const tmp = `.${name}.${process.pid}`;
  const fd = at.openat(dir, tmp, O.WRONLY | O.CREAT | O.TRUNC | O.NOFOLLOW | O.CLOEXEC, 0o644);
  if (!fd.ok) return fd.code;
  try {
    fs.writeSync(fd.value, String(pid));
  } catch (e) {
    at.close(fd.value);
    at.unlinkat(dir, tmp);
    return (e as NodeJS.ErrnoException).code ?? 'EIO';
  }
  at.close(fd.value);
  const r = at.renameat(dir, tmp, name);
  if (!r.ok) at.unlinkat(dir, tmp);
  return r.ok ? null : r.code;
}
