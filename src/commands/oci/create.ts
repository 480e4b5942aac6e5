/**
 * `create ID`: the container is made as `tini-ts run --bundle` makes it
 * (createContainer) and its record persisted; the init (PID 1 in the
 * container) waits at the start FIFO, its host pid goes to --pid-file
 * (digits, no newline, renamed into place), and this process exits 0,
 * leaving the init to the caller (a subreaper: the shim, conmon).
 */
import fs from 'node:fs';
import { nodeOs } from '../../util/node-os.js';
import path from 'node:path';
import type { OciCommand } from '../../cli/oci-args.js';
import { OCI_VERSION, idProblem, procStartTime, type ContainerRecord } from '../../container/store.js';
import { createContainerLibc } from '../../libc/container.js';
import { O, S_IFIFO } from '../../libc/consts.js';
import { render } from '../../libc/error.js';
import { readConfigFile } from '../../runtime/container.js';
import { cgroupPlace } from '../../runtime/oci/config.js';
import { parseRunArgs } from '../../cli/run-options.js';
import { createContainer, type Container } from '../../container/create.js';
import { describeStatus, destroy, ending } from '../../container/destroy.js';
import { planContainer, type OciPlan, type Say } from '../../container/plan.js';
import { quickExit } from '../../runtime/quick-exit.js';
import { sayEarlyDiscard } from '../../container/early.js';
import { hookState, preservedFdsProblem, runcText, type OciContext } from './context.js';
import { consoleError, terminalProblem, type ConsoleRequest } from '../../runtime/terminal.js';

type Spec = {
  root?: { path?: string };
  annotations?: Record<string, string>;
  linux?: { cgroupsPath?: unknown };
  process?: { terminal?: unknown; consoleSize?: { height?: unknown; width?: unknown } };
};

export function create(cmd: Extract<OciCommand, { verb: 'create' }>, ctx: OciContext): void {
  // An init the binary spawned before these checks (container/early.ts) is killed if one fails: said in the --debug log.
  sayEarlyDiscard((msg) => ctx.log('debug', msg));
  const bad = idProblem(cmd.id);
  if (bad) ctx.fail(bad);
  const badFds = preservedFdsProblem(cmd.preserveFds);
  if (badFds) ctx.fail(`create: ${badFds}`);
  const bundle = path.resolve(cmd.bundle ?? process.cwd());
  const pidFile = cmd.pidFile === null ? null : path.resolve(cmd.pidFile);
  const spec = readSpec(bundle, ctx);
  const place = cgroupPlace(spec.linux?.cgroupsPath, cmd.id);
  if ('error' in place) return ctx.fail(place.error);
  const terminal = consoleOf(spec, cmd.consoleSocket, ctx);
  const store = ctx.store;
  const claimed = store.claim(cmd.id);
  if (!claimed.ok) ctx.fail(claimed.error);
  if (!claimed.value) ctx.fail('container with given ID already exists');
  // From here on every failure removes the container's directory.
  const undo = (msg: string): never => {
    store.remove(cmd.id);
    return ctx.fail(msg);
  };
  const gate = startGate(store.fifo(cmd.id));
  if (typeof gate === 'string') return undo(gate);
  const record = recordOf(cmd.id, bundle, spec);
  const written = store.write(record);
  if (!written.ok) undo(render(written.error));

  const say: Say = { warn: (msg) => ctx.log('warning', msg), debug: (msg) => ctx.log('debug', msg) };
  const parsed = parseRunArgs(['-q', '--bundle', bundle], {
    get cpuCount() {
      return nodeOs().availableParallelism();
    },
  });
  if (parsed.kind === 'exit') return undo(runcText((parsed.stderr ?? '').trim()));
  const base = hookState(record, 'creating', 0);
  const oci: OciPlan = {
    cgroupParent: place.parent, cgroupName: place.name, stateDir: store.dir(cmd.id), startGate: gate, startGateFifo: store.fifo(cmd.id), terminal, preserveFds: cmd.preserveFds,
    hookState: { ociVersion: base.ociVersion, id: base.id, bundle: base.bundle, ...(base.annotations ? { annotations: base.annotations } : {}) },
  };
  const plan = planContainer([], parsed.options, parsed.argv, say, oci);
  if (!plan.ok) return undo(runcText(render(plan.error)));
  createContainer(plan.value, say, (created) => {
    if (created.kind === 'failed') return undo(runcText(render(created.error)));
    const c = created.container;
    if (created.kind === 'ended') {
      // The init ended before it was ready: the create failed (everything is removed).
      const end = ending(c, created.status, destroy(c));
      return undo(runcText(end.failure ?? (end.execError ? `exec failed: ${end.execError.code}` : `the container's init ended before it was ready (init ${describeStatus(created.status)})`)));
    }
    // Handed over: the init waits at the start gate and outlives this process.
    const recorded = persist(c, record, pidFile, store);
    if (recorded !== null) {
      destroy(c);
      return undo(recorded);
    }
    quickExit(c.ns, 0);
  });
}

/** What the store keeps of a container being created (its pid once the init is ready). */
function recordOf(id: string, bundle: string, spec: Spec): ContainerRecord {
  return {
    ociVersion: OCI_VERSION,
    id,
    pid: 0,
    pidStart: null,
    bundle,
    rootfs: path.resolve(bundle, spec.root?.path ?? 'rootfs'),
    created: new Date().toISOString(),
    annotations: spec.annotations ?? {},
    cgroupDirs: [],
  };
}

/** The bundle's config.json, as far as create reads it itself (the rest is the config parser's). */
function readSpec(bundle: string, ctx: OciContext): Spec {
  const text = readConfigFile(path.join(bundle, 'config.json'));
  if (!text.ok) return ctx.fail(text.error);
  try {
    return JSON.parse(text.value) as Spec;
  } catch {
    return ctx.fail(`${bundle}/config.json: not valid JSON`);
  }
}

/**
 * process.terminal with --console-socket: the socket's host path (connected
 * when the init is spawned, or by an init spawned early, before pivot_root);
 * the init sends the master over it. A path that is not there fails here, as
 * runc's connect does.
 */
function consoleOf(spec: Spec, consoleSocket: string | null, ctx: OciContext): ConsoleRequest | undefined {
  const wantsTerminal = spec.process?.terminal === true;
  const badTerminal = terminalProblem(wantsTerminal, consoleSocket, true);
  if (badTerminal) ctx.fail(badTerminal);
  if (!wantsTerminal || consoleSocket === null) return undefined;
  const socketPath = path.resolve(consoleSocket);
  try {
    fs.statSync(socketPath);
  } catch (e) {
    return ctx.fail(consoleError(socketPath, (e as NodeJS.ErrnoException).code ?? 'EINVAL'));
  }
  // Checked by the config parser before the init starts (a bad size fails the create there).
  const size = spec.process?.consoleSize;
  return { path: socketPath, size: size ? { rows: Number(size.height ?? 0), cols: Number(size.width ?? 0) } : null };
}

/** The start gate: a FIFO the init opens for writing, which blocks until `start` opens it for reading; an O_PATH descriptor, or an error text. */
function startGate(fifo: string): number | string {
  try {
    const r = createContainerLibc().mknod(fifo, S_IFIFO | 0o622, 0, 0);
    if (!r.ok) return `${r.call} failed: ${r.code}`;
    // 0622 past the umask (runc's mode): the init opens it as the workload's user, which may not be root.
    fs.chmodSync(fifo, 0o622);
    return fs.openSync(fifo, O.PATH);
  } catch (e) {
    return `cannot make the start gate: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/** The record (with the init's pid and cgroup, and the hooks start and delete run) and the pid file; an error text, or null. */
function persist(c: Container, record: ContainerRecord, pidFile: string | null, store: OciContext['store']): string | null {
  const later = { poststart: c.hooks.poststart, poststop: c.hooks.poststop };
  const saved = store.write({ ...record, pid: c.initPid, pidStart: procStartTime(c.initPid), cgroupDirs: [...c.cgroup.dirs], ...(later.poststart || later.poststop ? { hooks: later } : {}) });
  if (!saved.ok) return render(saved.error);
  if (pidFile !== null) {
    try {
      const tmp = path.join(path.dirname(pidFile), `.${path.basename(pidFile)}.${process.pid}`);
      fs.writeFileSync(tmp, String(c.initPid));
      fs.renameSync(tmp, pidFile);
    } catch (e) {
      return `cannot write the pid file ${pidFile}: ${(e as NodeJS.ErrnoException).code}`;
    }
  }
  return null;
}
