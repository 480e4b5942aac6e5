/**
 * `exec [--process FILE] [--detach] [--pid-file F] ID [COMMAND ARGS...]`: a
 * new process in a running container. This command's main thread joins the
 * container's cgroup (by the host's paths, first), then its namespaces (after
 * unshare(CLONE_FS), as setns into a mount namespace needs a private root
 * and cwd), takes the process's credentials, capabilities, no_new_privs and
 * seccomp filter, and spawns it: a child of this command in the container's
 * pid namespace, left to the caller (a subreaper) with --detach, else waited
 * for, its status becoming this command's. Its orphans go to the container's
 * init. The main thread's changes are for good: this command ends with
 * _exit(2), never back in Node's event loop, whose epoll updates go through
 * io_uring, which the process's seccomp filter may deny (libuv then aborts).
 * The pid file (a host path, written once the pid is known) is written by a
 * worker thread started first, which keeps the host's root and credentials
 * (both are per thread here), driven through shared memory.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { OciCommand } from '../../cli/oci-args.js';
import { createContainerLibc } from '../../libc/container.js';
import { createLibc } from '../../libc/libc.js';
import { CLONE } from '../../libc/consts.js';
import { createNsLibc, type NsLibc } from '../../libc/ns.js';
import { WNOHANG, type Libc } from '../../libc/types.js';
import { render } from '../../libc/error.js';
import { ociProcessSpec, ociSeccompOfConfig, readConfigFile } from '../../runtime/container.js';
import { parseConfig, unsupportedWarning } from '../../runtime/oci/config.js';
import { dropPrivileges, workloadRequest } from '../../runtime/workload.js';
import { preservedFdsProblem, runcText, type OciContext } from './context.js';
import { applyExecFlags } from './exec-flags.js';
import { loadContainer } from './load.js';
import type { ContainerRecord } from '../../container/store.js';
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

type ExecCommand = Extract<OciCommand, { verb: 'exec' }>;

export function exec(cmd: ExecCommand, ctx: OciContext): void {
  const { rec, status } = loadContainer(cmd.id, ctx);
  const pidFile = cmd.pidFile === null ? null : path.resolve(cmd.pidFile);
  if (status !== 'running') ctx.fail(status === 'stopped' ? 'cannot exec in a stopped container' : `cannot exec in a ${status} container`);
  const { p, spec } = processOf(cmd, rec.bundle, rec.rootfs, ctx);
  const tl = p.terminal ? createTerminalLibc() : null;
  // Connected before joining the container: the path is the caller's.
  const consoleSocket = tl && cmd.consoleSocket !== null ? connectConsole(path.resolve(cmd.consoleSocket), tl) : null;
  if (typeof consoleSocket === 'string') return ctx.fail(`exec: ${consoleSocket}`);

  // Every binding is made before this thread leaves the host's root (the libraries are the host's).
  const ns = createNsLibc();
  const libc = createLibc();
  const cl = createContainerLibc();
  const writePid = pidFile === null ? null : pidFileWriter(pidFile);
  ctx = joinContainer(rec, ns, ctx, libc.exitNow);
  const w = workloadRequest({ argv: p.args.map((a) => Buffer.from(a)), env: p.env.map((e) => Buffer.from(e)), cwd: p.cwd, programMustExist: true, homeOf: spec.user });
  if (!w.ok) return ctx.fail(runcText(render(w.error)));
  let req = w.value;
  if (tl && consoleSocket !== null) req = { ...req, terminal: terminalFor(p, spec, consoleSocket, tl, ctx) };
  // This thread's own (unshared) mask: the pid-file writer keeps the caller's.
  if (spec.umask !== undefined && spec.umask !== null) process.umask(spec.umask);
  const dropped = dropPrivileges(spec, cl);
  if (!dropped.ok) ctx.fail(dropped.error);
  // --preserve-fds N: this command's fds 3 .. 3+N-1 (the caller's) pass to the process.
  const r = libc.spawn({ ...req, newProcessGroup: false, passFds: [0, 1, 2, ...Array.from({ length: cmd.flags.preserveFds }, (_, i) => 3 + i)] });
  if (!r.ok) return ctx.fail(`exec failed: ${r.call}: ${r.code}`);
  const pid = r.value;
  if (writePid) {
    const e = writePid(pid);
    if (e !== null) {
      process.kill(pid, 'SIGKILL');
      ctx.fail(`exec: cannot write the pid file ${pidFile}: ${e}`);
    }
  }
  if (cmd.detach) return ctx.exit(0);
  waitFor(pid, libc, ctx);
}

/** The process to run: process.json, or the container's own with other args; checked as create checks config.json's. */
function processOf(cmd: ExecCommand, bundle: string, rootfs: string, ctx: OciContext) {
  const configText = readConfigFile(path.join(bundle, 'config.json'));
  if (!configText.ok) return ctx.fail(configText.error);
  const config = JSON.parse(configText.value) as { process?: unknown };
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
  const parsed = parseConfig(JSON.stringify({ ociVersion: '1.0.2', process: processJson, root: { path: rootfs }, linux: { namespaces: [{ type: 'mount' }] } }), bundle);
  if (!parsed.ok) return ctx.fail(parsed.error.replace(/^config\.json/, 'process.json'));
  const p = parsed.plan.process;
  // What process.json carries that exec does not act on is named, as create names config.json's (the terminal is made here).
  const ignored = unsupportedWarning(parsed.unsupported.filter((u) => !u.startsWith('process.terminal ')));
  if (ignored) ctx.log('warning', ignored.replace(/^config\.json/, 'process.json'));
  // With --process, the file's terminal counts and --tty is ignored (as runc and crun do).
  const badTerminal = terminalProblem(p.terminal, cmd.consoleSocket, cmd.detach);
  if (badTerminal) ctx.fail(badTerminal);
  // runc without --detach makes the terminal itself and relays it to its own stdio; tini-ts does not.
  if (p.terminal && !cmd.detach) ctx.fail('exec: a terminal needs --detach and --console-socket (relaying it to this command\'s own stdio is not supported)');
  const seccomp = ociSeccompOfConfig(configText.value);
  if (!seccomp.ok) return ctx.fail(seccomp.error);
  return { p, spec: ociProcessSpec(p, seccomp.value) };
}

/**
 * This thread into the container: its cgroup first, by the host's paths (v1: this thread
 * alone, the child inherits it), then its namespaces. From here on the context exits with
 * _exit(2): the event loop is not safe to return to (see the header).
 */
function joinContainer(rec: ContainerRecord, ns: NsLibc, ctx: OciContext, exitNow: ((code: number) => never) | undefined): OciContext {
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
  if (exitNow) ctx = ctx.withExit((code) => exitNow(code));
  const u = ns.unshare(CLONE.FS);
  if (!u.ok) ctx.fail(`exec: ${u.call} failed: ${u.code}`);
  for (const { n, fd } of fds) {
    const r = ns.setns(fd, 0);
    if (!r.ok) ctx.fail(`exec: joining the container's ${n} namespace: ${r.call} failed: ${r.code}`);
    ns.close(fd);
  }
  return ctx;
}

/** A pty in the container's /dev/pts, made while still privileged; its slave goes to the process's user. */
function terminalFor(p: ProcessOf['p'], spec: ProcessOf['spec'], consoleSocket: number, tl: ReturnType<typeof createTerminalLibc>, ctx: OciContext): string {
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
  return made.slave;
}

type ProcessOf = ReturnType<typeof processOf>;

/** Waited for (never in the event loop): this command's status is the process's. */
function waitFor(pid: number, libc: Libc, ctx: OciContext): void {
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

/**
 * A thread that writes PIDFILE (digits, no newline, renamed into place) when
 * given the pid; started before this thread leaves the host's root and
 * credentials. The returned function hands it the pid and waits (never in the
 * event loop): null once written, else the errno name.
 */
function pidFileWriter(pidFile: string): (pid: number) => string | null {
  // [0]: 0 waiting, 1 pid given, 2 written, 3 failed; [1]: the pid; bytes from 8: the error.
  const shared = new SharedArrayBuffer(8 + 64);
  const tmp = path.join(path.dirname(pidFile), `.${path.basename(pidFile)}.${process.pid}`);
  const code = `
    const { workerData: { shared, tmp, file } } = require('node:worker_threads');
    const fs = require('node:fs');
    const s = new Int32Array(shared, 0, 2);
    while (Atomics.load(s, 0) === 0) Atomics.wait(s, 0, 0);
    let err = '';
    try {
      fs.writeFileSync(tmp, String(s[1]), { mode: 0o644 });
      fs.renameSync(tmp, file);
    } catch (e) {
      err = String(e.code || e.message);
      try { fs.unlinkSync(tmp); } catch {}
    }
    Buffer.from(shared, 8, 64).write(err);
    Atomics.store(s, 0, err ? 3 : 2);
    Atomics.notify(s, 0);
  `;
  const worker = new Worker(code, { eval: true, workerData: { shared, tmp, file: pidFile }, stdout: false, stderr: false });
  worker.unref();
  return (pid) => {
    const s = new Int32Array(shared, 0, 2);
    s[1] = pid;
    Atomics.store(s, 0, 1);
    Atomics.notify(s, 0);
    const deadline = Date.now() + 30_000;
    while (Atomics.load(s, 0) === 1 && Date.now() < deadline) Atomics.wait(s, 0, 1, 100);
    const st = Atomics.load(s, 0);
    if (st === 2) return null;
    if (st === 1) return 'no answer from the writer in 30 s';
    return Buffer.from(shared, 8, 64).toString().replace(/\0+$/, '') || 'unknown error';
  };
}
