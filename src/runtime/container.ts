/**
 * The launcher's side of a container: one ContainerConfig from either the
 * command line (docker run's defaults) or an OCI bundle (runc's semantics),
 * its inputs checked before anything is created, its state directory (the
 * generated /etc files, the overlay's mount point, work directory and
 * temporary upper layer), and its removal.
 */
import type { Hooks } from './oci/hooks.js';
import fs from 'node:fs';
import path from 'node:path';
import { ownerAlive, processAlive } from '../cgroup/index.js';
import { CGROUP_PARENT, type DeviceRule, type LinuxResources } from '../cgroup/types.js';
import { DEFAULT_ALLOWED, DENY_ALL } from '../cgroup/v1/devices.js';
import { OCI_NAMESPACES, RESOURCE_FLAGS, MIN_MEMORY, isContainer, type NamespaceName, type RunOptions } from '../cli/run-options.js';
import { DOCKER_DEFAULT_CAPS, resolveCapabilities } from '../libc/capabilities.js';
import { nativeArch } from '../libc/arch.js';
import type { ErrnoName } from '../libc/errno.js';
import { failed, naming, runError, within, type Outcome, type RunError } from '../libc/error.js';
import { ok } from '../libc/types.js';
import { compile, defaultPolicy } from './hardening/seccomp.js';
import { compileSeccomp, parseJsonExact, parseSeccomp, type SeccompProfile } from './hardening/oci-seccomp.js';
import { parseConfig, unsupportedWarning, type ContainerPlan, type DeviceNode } from './oci/config.js';
import { readConfigFile } from './oci/config-file.js';
import { DEFAULT_PATH, mergeEnv, parseEnvFile, type ProcessSpec } from './process.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_MOUNTS, DEFAULT_READONLY_PATHS, planRootfs, type MountSpec, type Op, type Volume } from './rootfs/plan.js';

export { CONFIG_MAX_BYTES, readConfigFile } from './oci/config-file.js';

export interface ContainerConfig {
  rootfs: string | null;
  layers: string[];
  upper: string | null;
  readOnly: boolean;
  mounts: MountSpec[];
  volumes: Volume[];
  /** Provide /etc/hostname, /etc/hosts, /etc/resolv.conf (docker does; runc and OCI bundles do not). */
  etcFiles: boolean;
  maskedPaths: string[];
  readonlyPaths: string[];
  /** Device cgroup rules, in order (docker's and runc's defaults at the end); applied where the v1 devices controller is. */
  devices: DeviceRule[];
  /** OCI linux.devices: nodes made in the root's /dev. */
  deviceNodes?: DeviceNode[];
  process: ProcessSpec;
  /** Namespaced kernel parameters (see sysctl.ts), set by the init in the container's namespaces. */
  sysctl: Record<string, string>;
  /** OCI linux.namespaces[].path: namespaces the init joins instead of creating them. */
  joinNamespaces?: { name: NamespaceName; path: string; field: string }[];
  /** OCI hooks (run by the OCI create, start and delete). */
  hooks?: Hooks;
}

/** Docker mounts /proc nosuid, noexec, nodev; `runc spec` leaves it without options. */
const DOCKER_MOUNTS: MountSpec[] = DEFAULT_MOUNTS.map((m) => (m.destination === '/proc' ? { ...m, options: ['nosuid', 'noexec', 'nodev'] } : m));

const isDirectory = (p: string) => {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** The container as `tini-ts run --rootfs/--layer` describes it, or what is wrong with the flags. */
export function fromCommandLine(options: RunOptions, env: NodeJS.ProcessEnv): Outcome<ContainerConfig> {
  const c = options.container;
  const caps = resolveCapabilities(c.capAdd, c.capDrop, DOCKER_DEFAULT_CAPS);
  if (!caps.ok) return failed(caps.error);
  const fileEnv: string[] = [];
  for (const f of c.envFiles) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return failed(`cannot read ${f}: ${code}`, { field: '--env-file', call: `open(${f})`, errno: code as ErrnoName });
    }
    const parsed = parseEnvFile(text, f, env);
    if (typeof parsed === 'string') return failed(parsed);
    fileEnv.push(...parsed);
  }
  const given = c.env.flatMap((e) => (e.includes('=') ? [e] : env[e] !== undefined ? [`${e}=${env[e]}`] : []));
  const container = isContainer(c);
  // Without a root filesystem the workload's tree is the host's: a missing
  // --workdir is refused, never created on the host.
  if (!container && c.workdir !== null && !isDirectory(c.workdir)) return failed(`--workdir ${JSON.stringify(c.workdir)}: no such directory on the host (without a root filesystem the program runs in the host's tree)`);
  const hostname = options.hostname ?? null;
  let seccomp: string | null = null;
  if (container && c.seccomp === 'default') {
    const arch = nativeArch();
    if ('error' in arch) return failed(arch.error, { field: '--seccomp default' });
    seccomp = compile(defaultPolicy(caps.caps), arch.name).toString('base64');
  }
  const processSpec: ProcessSpec = {
    env: container ? mergeEnv([`PATH=${DEFAULT_PATH}`, ...(hostname ? [`HOSTNAME=${hostname}`] : [])], fileEnv, given) : fileEnv.length + given.length ? mergeEnv(Object.entries(env).map(([k, v]) => `${k}=${v}`), fileEnv, given) : null,
    cwd: c.workdir,
    user: c.user,
    groupAdd: c.groupAdd,
    rlimits: c.ulimits,
    caps: container ? { bounding: caps.caps, effective: caps.caps, permitted: caps.caps, inheritable: [], ambient: [] } : null,
    noNewPrivs: container && c.noNewPrivs,
    seccomp,
    programMustExist: container,
    oomScoreAdj: c.oomScoreAdj,
  };
  return ok({
    rootfs: c.rootfs,
    layers: c.layers,
    upper: c.upper,
    readOnly: c.readOnly,
    mounts: DOCKER_MOUNTS,
    volumes: c.volumes,
    etcFiles: true,
    maskedPaths: [...DEFAULT_MASKED_PATHS],
    readonlyPaths: [...DEFAULT_READONLY_PATHS],
    devices: [DENY_ALL, ...DEFAULT_ALLOWED],
    process: processSpec,
    sysctl: Object.fromEntries(c.sysctls.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
  });
}

export { needsProcessSpec } from '../cli/run-options.js';


/** Reads DIR/config.json: the run options and container it describes, and the one warning for what it cannot honour. */
export function fromBundle(
  options: RunOptions,
  cpuCount: number,
  /** OCI create with --console-socket makes the terminal process.terminal asks for (run --bundle passes its stdio). */
  terminalMade = false,
): Outcome<{ options: RunOptions; argv: string[]; config: ContainerConfig; warning: string | null; debug: string[] }> {
  const dir = path.resolve(options.container.bundle!);
  const text = readConfigFile(path.join(dir, 'config.json'));
  if (!text.ok) return text;
  const parsed = parseConfig(text.value, dir);
  if (!parsed.ok) return failed(parsed.error);
  const plan = parsed.plan;
  if (!plan.namespaces.includes('mount')) return failed("must include 'mount' (tini-ts builds the root filesystem in a mount namespace of its own)", { field: 'linux.namespaces', context: ['config.json'] });
  const resources = checkResources(plan.resources, cpuCount);
  if (!resources.ok) return { ok: false, error: within(resources.error, 'config.json') };
  const namespaces = new Set<NamespaceName>(plan.namespaces.map((n) => OCI_NAMESPACES[n]));
  const p = plan.process;
  const compiled = ociSeccomp(plan.seccomp);
  if (!compiled.ok) return compiled;
  const seccomp = compiled.value;
  const run: RunOptions = { ...options, limits: resources.value, namespaces, hostname: plan.hostname };
  return ok({
    options: run,
    argv: p.args,
    warning: unsupportedWarning([
      ...(terminalMade ? parsed.unsupported.filter((u) => !u.startsWith('process.terminal ')) : parsed.unsupported),
      ...(seccomp?.unsupported ?? []),
    ]),
    debug: seccomp?.debug ?? [],
    config: {
      rootfs: plan.root.path,
      layers: [],
      upper: null,
      readOnly: plan.root.readonly,
      mounts: plan.mounts,
      volumes: [],
      etcFiles: false,
      maskedPaths: plan.maskedPaths,
      readonlyPaths: plan.readonlyPaths,
      // runc: the config's rules, then its default allow list
      devices: [...(plan.resources.devices ?? []), ...DEFAULT_ALLOWED],
      deviceNodes: plan.devices,
      // runc's workload gets 0022 when process.user.umask is not given, whatever its caller's mask.
      process: { ...ociProcessSpec(p, seccomp), umask: p.umask ?? 0o022 },
      sysctl: plan.sysctl,
      hooks: plan.hooks,
      joinNamespaces: plan.joinNamespaces.map((j) => ({ name: OCI_NAMESPACES[j.type], path: j.path, field: j.field })),
    },
  });
}

export interface OciSeccomp {
  /** struct sock_filter[], base64 */
  program: string;
  flags: number;
  /** Architectures the filter cannot cover on this machine (for the warning). */
  unsupported: string[];
  /** What was skipped and why (debug lines). */
  debug: string[];
}

/** linux.seccomp compiled for the running architecture; null when absent (no filter, as runc). */
export function ociSeccomp(profile: SeccompProfile | null, arch: string = process.arch): Outcome<OciSeccomp | null> {
  if (profile === null) return ok(null);
  const refused = (what: string) => failed(what, { field: 'linux.seccomp', context: ['config.json'] });
  const native = nativeArch(arch);
  if ('error' in native) return refused(native.error);
  let c;
  try {
    c = compileSeccomp(profile, native.name);
  } catch (e) {
    return refused((e as Error).message);
  }
  const debug: string[] = [];
  const unsupported: string[] = [];
  if (c.skipped.length) debug.push(`seccomp: system calls unknown on ${native.name}, skipped (as runc does): ${c.skipped.join(', ')}`);
  for (const a of c.leftOut) {
    // aarch64 kernels may run 32-bit ARM programs; tini-ts has no table for them.
    if (a === 'SCMP_ARCH_ARM' && native.name === 'aarch64') unsupported.push('linux.seccomp.architectures: SCMP_ARCH_ARM (no system call table: 32-bit ARM programs are killed at their first system call)');
    else debug.push(`seccomp: ${a} is not an architecture an ${native.name} kernel runs: left out`);
  }
  return ok({ program: c.program.toString('base64'), flags: c.flags, unsupported, debug });
}

/** linux.seccomp of a config.json's text, compiled (for exec, which reads the bundle's config itself). */
export function ociSeccompOfConfig(text: string): Outcome<OciSeccomp | null> {
  let v: unknown;
  try {
    v = (parseJsonExact(text) as { linux?: { seccomp?: unknown } } | null)?.linux?.seccomp;
  } catch {
    return failed('not valid JSON', { context: ['config.json'] });
  }
  if (v === undefined || v === null) return ok(null);
  const r = parseSeccomp(v, 'linux.seccomp');
  return r.ok ? ociSeccomp(r.profile) : failed(r.error, { context: ['config.json'] });
}

/** A bundle's process (or an exec's process.json) as the init applies it; seccomp: the bundle's filter, if any. */
export function ociProcessSpec(p: ContainerPlan['process'], seccomp: OciSeccomp | null): ProcessSpec {
  return {
    env: p.env,
    cwd: p.cwd,
    user: { user: String(p.uid), group: String(p.gid) },
    groupAdd: p.additionalGids.map(String),
    rlimits: p.rlimits,
    caps: p.capabilities,
    noNewPrivs: p.noNewPrivileges,
    seccomp: seccomp?.program ?? null,
    seccompFlags: seccomp?.flags ?? 0,
    programMustExist: true,
    oomScoreAdj: p.oomScoreAdj,
    umask: p.umask,
  };
}

/**
 * A LinuxResources as the cgroup gets it, checked. At create (`update`
 * false), values that ask for the kernel's default (-1 for memory.limit,
 * pids.limit and cpu.quota, 0 for the last two) are left out, so a fresh
 * cgroup gets nothing written for them; for `update`, -1 stays: it removes a
 * limit. A period without a quota changes nothing and is left out too.
 * Device rules are left out: they reach the cgroup through its set-up
 * (CgroupSetup.devices), with the default rules after them. `at` is where the
 * object sits in the caller's input (config.json's `linux.resources`,
 * `update`'s `resources`): errors name the field under it.
 */
export function checkResources(r: LinuxResources, cpuCount: number, at = 'linux.resources', update = false): Outcome<LinuxResources> {
  const bad = (field: string, what: string) => failed(what, { field: `${at}.${field}` });
  const out: LinuxResources = {};
  const memory: NonNullable<LinuxResources['memory']> = { ...r.memory };
  const limit = memory.limit;
  if (limit === -1 && !update) delete memory.limit;
  if (limit !== undefined && limit !== -1 && limit < MIN_MEMORY) return bad('memory.limit', 'at least 16 MiB (the init shares the cgroup)');
  if (memory.swap !== undefined) {
    if (limit === -1) delete memory.swap; // no memory limit, no memory+swap limit
    else if (limit === undefined) return bad('memory.swap', `needs ${at}.memory.limit`);
    else if (memory.swap !== -1 && memory.swap < limit) return bad('memory.swap', 'must be at least memory.limit (memory plus swap), or -1');
  }
  // -1 passes: a create's soft limit of "none" is the kernel's default already, an update's removes one
  if (!memory.disableOOMKiller) delete memory.disableOOMKiller;
  if (Object.keys(memory).length > 0) out.memory = memory;
  const pids = r.pids?.limit;
  if (pids !== undefined && (pids > 0 || (update && pids === -1))) out.pids = { limit: pids };
  const cpu: NonNullable<LinuxResources['cpu']> = { ...r.cpu };
  if (cpu.quota !== undefined && !(cpu.quota > 0 || (update && cpu.quota === -1))) delete cpu.quota;
  if (cpu.quota === undefined) delete cpu.period;
  if (cpu.cpus !== undefined) {
    const max = Math.max(...cpu.cpus.split(',').map((x) => Number(x.split('-').pop())));
    if (max >= cpuCount) return bad('cpu.cpus', `CPU ${max} does not exist (CPUs 0-${cpuCount - 1})`);
  }
  if (Object.keys(cpu).length > 0) out.cpu = cpu;
  if (r.blockIO !== undefined && Object.keys(r.blockIO).length > 0) out.blockIO = r.blockIO;
  return ok(out);
}

/**
 * A cgroup error under the name its user gave the value: the flag for `run`,
 * the config.json field for a bundle (the cgroup layer names the field of its
 * LinuxResources input, `memory.swap`, and knows no more).
 */
export function resourceNamed(e: RunError, fromBundle: boolean): RunError {
  if (e.field === undefined) return e;
  if (!fromBundle) return naming(e, (f) => RESOURCE_FLAGS[f]);
  return within(naming(e, (f) => `linux.resources.${f}`), 'config.json');
}

/** Inputs that must exist on the host, checked before anything is created. */
export function checkInputs(c: ContainerConfig): Outcome<void> {
  const dirOk = (p: string) => {
    try {
      return fs.statSync(p).isDirectory();
    } catch {
      return false;
    }
  };
  if (c.rootfs !== null && !dirOk(c.rootfs)) return failed(`root filesystem ${c.rootfs}: not a directory (missing?)`);
  for (const l of c.layers) if (!dirOk(l)) return failed(`--layer ${l}: not a directory (missing?)`);
  if (c.upper !== null) {
    if (fs.existsSync(c.upper) && !dirOk(c.upper)) return failed(`--upper ${c.upper}: not a directory`);
    if (!fs.existsSync(c.upper) && !dirOk(path.dirname(path.resolve(c.upper)))) return failed(`--upper ${c.upper}: its parent directory does not exist`);
  }
  for (const v of c.volumes) if (!fs.existsSync(v.source)) return failed(`--volume ${v.source}:${v.destination}: the source does not exist on the host`);
  for (const m of c.mounts) {
    if ((m.type === 'bind' || m.options.includes('bind') || m.options.includes('rbind')) && path.isAbsolute(m.source) && !fs.existsSync(m.source)) {
      return failed(`the source of ${m.destination} (${m.source}) does not exist`, { field: 'mounts', context: ['config.json'] });
    }
  }
  return ok(undefined);
}

/** Where the launcher keeps a container's state: /run/tini-ts/NAME (NAME is the cgroup's, so unique). */
export const STATE_ROOT = '/run/tini-ts';

/** The overlay's work directory beside a kept --upper, and the file in the state directory naming it. */
const WORK_PREFIX = '.tini-ts-work-';
const WORK_RECORD = 'work-dir';
/** The file in the state directory naming the launcher's --cgroup-parent (absent: the default). */
const PARENT_RECORD = 'cgroup-parent';

/** Mount points (host view) from /proc/self/mountinfo, octal escapes decoded. */
function mountPoints(): string[] {
  let text = '';
  try {
    text = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  return text.split('\n').flatMap((l) => {
    const f = l.split(' ');
    return f.length > 4 ? [f[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))] : [];
  });
}

/**
 * Removes the state directories (/run/tini-ts/NAME) of launchers that died
 * (SIGKILL leaves them), as sweepStale does for their cgroups: only when the
 * owner named in NAME (pid and start time) is gone, and never one that still
 * has something mounted on or under it (it is then returned in `kept`). The
 * container's mounts lived in its own mount namespace, gone with its init, so
 * what is left is plain files: the generated /etc files, a temporary upper
 * layer, the overlay's work directory. Only the state of launchers that used
 * the same --cgroup-parent (`parent`) is swept, as their cgroups are: runs
 * with parents of their own (tests side by side) never touch each other's.
 */
export function sweepStaleState(stateRoot = STATE_ROOT, isAlive = processAlive, parent = CGROUP_PARENT): { removed: string[]; kept: string[] } {
  const removed: string[] = [];
  const kept: string[] = [];
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(stateRoot, { withFileTypes: true });
  } catch {
    return { removed, kept };
  }
  const parentOf = (dir: string) => {
    try {
      return fs.readFileSync(path.join(dir, PARENT_RECORD), 'utf8');
    } catch {
      return CGROUP_PARENT;
    }
  };
  const stale = entries.filter(
    (e) =>
      e.isDirectory() &&
      /^[0-9]+-[0-9]+-/.test(e.name) &&
      !fs.existsSync(path.join(stateRoot, e.name, 'state.json')) && // an OCI container's, whatever its id: `delete` removes it
      !ownerAlive(e.name, isAlive) &&
      parentOf(path.join(stateRoot, e.name)) === parent,
  );
  if (stale.length === 0) return { removed, kept };
  const mounts = mountPoints();
  for (const e of stale) {
    const dir = path.join(stateRoot, e.name);
    if (mounts.some((m) => m === dir || m.startsWith(dir + '/'))) {
      kept.push(dir);
      continue;
    }
    try {
      const work = fs.readFileSync(path.join(dir, WORK_RECORD), 'utf8');
      if (path.isAbsolute(work) && path.basename(work).startsWith(WORK_PREFIX) && !mounts.some((m) => m === work || m.startsWith(work + '/'))) {
        fs.rmSync(work, { recursive: true, force: true });
      }
    } catch {
      // no overlay work directory outside the state directory
    }
    fs.rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  try {
    fs.rmdirSync(stateRoot);
  } catch {
    // other containers' state
  }
  return { removed, kept };
}

/**
 * mkdir -p the state root, then DIR in it (0700); again when another
 * launcher, whose container ended, removed the root (empty) in between.
 */
export function makeStateDir(dir: string, mkdir: (p: string, o: fs.MakeDirectoryOptions) => unknown = fs.mkdirSync): void {
  for (let attempt = 0; ; attempt++) {
    mkdir(path.dirname(dir), { recursive: true, mode: 0o700 });
    try {
      mkdir(dir, { mode: 0o700 });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw e;
    }
  }
}

/**
 * What the launcher created for a container: its state directory (0700 under
 * /run/tini-ts, never visible inside the container: pivot_root detaches the
 * host's tree) and an --upper's work directory. Nothing in the user's root
 * filesystem is removed: mount points the init made there are kept (as runc
 * keeps them), so nothing can be tricked into deleting host files by name.
 */
export class ContainerState {
  readonly dir: string;
  root = '';
  upper: string | null = null;
  work: string | null = null;

  constructor(
    name: string,
    private readonly config: ContainerConfig,
    private readonly cgroupParent = CGROUP_PARENT,
    dir?: string,
  ) {
    this.dir = dir ?? path.join(STATE_ROOT, name);
  }

  /** Creates the state directory; returns the init's rootfs plan, or why it could not (the caller removes what was made). */
  create(hostname: string, newNetNs: boolean): Outcome<{ ops: Op[]; root: string }> {
    try {
      return ok(this.make(hostname, newNetNs));
    } catch (e) {
      const x = e as NodeJS.ErrnoException;
      const sys = x.code ? { call: x.path ? `${x.syscall}(${x.path})` : x.syscall, errno: x.code as ErrnoName } : {};
      return failed(x.code ?? x.message, { ...sys, context: [`cannot prepare the container's state in ${this.dir}`] });
    }
  }

  private make(hostname: string, newNetNs: boolean): { ops: Op[]; root: string } {
    const c = this.config;
    makeStateDir(this.dir);
    // For the sweep (sweepStaleState), which takes only its own parent's.
    if (this.cgroupParent !== CGROUP_PARENT) fs.writeFileSync(path.join(this.dir, PARENT_RECORD), this.cgroupParent);
    let layers: { lower: string[]; upper: string; work: string } | undefined;
    if (c.layers.length > 0) {
      this.root = path.join(this.dir, 'root');
      fs.mkdirSync(this.root);
      if (c.upper !== null) {
        this.upper = path.resolve(c.upper);
        // Asked for: kept, with the mount points the init makes in it (as Docker's container layer).
        if (!fs.existsSync(this.upper)) fs.mkdirSync(this.upper, { mode: 0o755 });
        // The work directory must be on the upper layer's filesystem.
        this.work = fs.mkdtempSync(path.join(path.dirname(this.upper), WORK_PREFIX));
        // Recorded for the sweep of a launcher that dies (sweepStaleState).
        fs.writeFileSync(path.join(this.dir, WORK_RECORD), this.work);
      } else {
        this.upper = path.join(this.dir, 'upper');
        this.work = path.join(this.dir, 'work');
        fs.mkdirSync(this.upper, { mode: 0o755 });
        fs.mkdirSync(this.work, { mode: 0o700 });
      }
      layers = { lower: c.layers.map((l) => path.resolve(l)), upper: this.upper, work: this.work };
    } else {
      this.root = path.resolve(c.rootfs!);
    }
    let etcDir: string | null = null;
    let resolvConf = '';
    if (c.etcFiles) {
      etcDir = path.join(this.dir, 'etc');
      fs.mkdirSync(etcDir);
      try {
        resolvConf = fs.readFileSync('/etc/resolv.conf', 'utf8');
      } catch {
        resolvConf = '';
      }
      if (newNetNs) resolvConf = resolvConf.split('\n').filter((l) => !/^nameserver\s+127\./.test(l)).join('\n');
    }
    const ops = planRootfs({
      root: this.root,
      layers,
      readOnly: c.readOnly,
      mounts: c.mounts,
      volumes: c.volumes,
      hostname,
      resolvConf,
      etcDir,
      newNetNs,
      maskedPaths: c.maskedPaths,
      readonlyPaths: c.readonlyPaths,
      devices: c.deviceNodes,
    });
    return { ops, root: this.root };
  }

  /**
   * Removes what the launcher made: the overlay's work directory beside a
   * kept --upper, and the state directory (a temporary upper layer and work
   * directory included). Call once the init and everything it started are
   * gone (their mount namespace with them). What the workload wrote in a
   * temporary upper may hold symbolic links: the removal never follows one
   * (fs.rmSync unlinks a link, it does not descend through it). Returns
   * problems, if any.
   */
  remove(): RunError[] {
    const problems: RunError[] = [];
    const rm = (p: string) => {
      try {
        fs.rmSync(p, { recursive: true, force: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code as ErrnoName;
        problems.push(runError(`could not remove ${p}: ${code}`, { call: `rm(${p})`, errno: code }));
      }
    };
    if (this.work && !this.work.startsWith(this.dir + '/')) rm(this.work);
    rm(this.dir);
    try {
      fs.rmdirSync(STATE_ROOT);
    } catch {
      // other containers' state, or gone
    }
    return problems;
  }
}
