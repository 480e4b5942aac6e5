/**
 * Shared code for the integration tests: where the binary is, the compiled
 * child fixture, starting the init (as PID 1 of a fresh pid namespace, as a
 * subreaper, or plain), reading /proc, polling with deadlines, and cleaning
 * up every process a test started (by pid, checked against its start time,
 * never by name).
 *
 * Only the tests use node:child_process; the init under test never does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The init under test; TINI_TS_IT_BIN points the suite at another build (or another init, to see it fail). */
export const BIN = process.env.TINI_TS_IT_BIN ? path.resolve(process.env.TINI_TS_IT_BIN) : path.join(ROOT, 'dist/tini-ts');
export const TINI = '/usr/bin/tini';
export const HELPERS = path.join(ROOT, 'test/helpers/integration');
export const EXEC_WITH = path.join(HELPERS, 'exec_with.py');
export const PTY_RUN = path.join(HELPERS, 'pty_run.py');
export const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** The environment the init gets unless a test says otherwise: nothing from vitest. */
export const BASE_ENV: Record<string, string> = { PATH: BASE_PATH, LC_ALL: 'C' };

export const O_NONBLOCK = 0o4000;

// ---------------------------------------------------------------------------
// The binary and the fixtures

/** Fails with a clear message when the binary has not been built. */
export function requireBinary(): void {
  let ok = false;
  try {
    fs.accessSync(BIN, fs.constants.X_OK);
    ok = fs.statSync(BIN).isFile();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new Error(`${BIN} is missing or not executable: build it first (\`node build/build.mjs\`, or run \`npm test\`, which builds it)`);
  }
  if (process.getuid?.() !== 0) throw new Error('the integration tests need root (pid and mount namespaces, setpriv)');
}

/** dist/tini-ts-koffi-<hash>.node, the addon the build ships beside the binary. */
export function addonBeside(): string {
  const f = fs.readdirSync(path.dirname(BIN)).find((n) => /^tini-ts-koffi-[0-9a-f]+\.node$/.test(n));
  if (!f) throw new Error(`no tini-ts-koffi-*.node next to ${BIN}: rebuild`);
  return path.join(path.dirname(BIN), f);
}

/**
 * What build/build.mjs wrote beside the binary (BIN, or the one a test runs): its Node, its arch,
 * whether that Node has node:ffi, whether the build patched it not to need libatomic, its path.
 */
export function buildInfo(bin = BIN): { node: string; arch: string; ffi: boolean; libatomicPatched?: boolean; entrySpawn?: boolean; nodeBinary?: string } {
  const f = path.join(path.dirname(bin), 'build-info.json');
  if (!fs.existsSync(f)) throw new Error(`no build-info.json next to ${bin}: rebuild`);
  return JSON.parse(fs.readFileSync(f, 'utf8'));
}

const compiled = new Map<string, string>();

/** A C program of test/helpers/integration, compiled (cached by source hash; built once per machine). */
export function compiledHelper(name: string): string {
  const cached = compiled.get(name);
  if (cached) return cached;
  const src = path.join(HELPERS, `${name}.c`);
  const hash = crypto.createHash('sha256').update(fs.readFileSync(src)).digest('hex').slice(0, 12);
  const dir = path.join(os.tmpdir(), `tini-ts-it-${name}-${hash}`);
  const out = path.join(dir, name);
  if (!fs.existsSync(out)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const tmp = `${out}.${process.pid}.tmp`;
    const r = spawnSync('gcc', ['-O2', '-Wall', '-o', tmp, src], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gcc failed for ${src}: ${r.stderr || r.error}`);
    fs.renameSync(tmp, out);
  }
  compiled.set(name, out);
  return out;
}

/** The compiled fixture.c. */
export function fixture(): string {
  return compiledHelper('fixture');
}

// ---------------------------------------------------------------------------
// Polling

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `fn` until it returns something truthy (returned) or the deadline
 * passes (throws, naming what was awaited and, if given, the last state).
 */
export async function waitFor<T>(
  fn: () => T | undefined | null | false,
  what: string,
  opts: { timeoutMs?: number; intervalMs?: number; detail?: () => string } = {},
): Promise<T> {
  const end = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) {
      throw new Error(`timed out after ${opts.timeoutMs ?? 10_000} ms waiting for ${what}${opts.detail ? `: ${opts.detail()}` : ''}`);
    }
    await sleep(opts.intervalMs ?? 5);
  }
}

// ---------------------------------------------------------------------------
// /proc

export interface Stat {
  pid: number;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Foreground process group of the controlling terminal (-1: none). */
  tpgid: number;
  start: number;
  comm: string;
}

export function readStat(pid: number): Stat | undefined {
  let s: string;
  try {
    s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const r = s.lastIndexOf(')');
  const f = s.slice(r + 2).split(' ');
  return {
    pid,
    state: f[0],
    ppid: Number(f[1]),
    pgrp: Number(f[2]),
    session: Number(f[3]),
    tpgid: Number(f[5]),
    start: Number(f[19]),
    comm: s.slice(s.indexOf('(') + 1, r),
  };
}

/** Children of every thread of pid (a multi-threaded reaper may hold orphans on any thread). */
export function childrenOf(pid: number): number[] {
  const out = new Set<number>();
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  for (const t of tasks) {
    try {
      for (const c of fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ')) {
        if (c.trim()) out.add(Number(c));
      }
    } catch {
      // thread gone
    }
  }
  return [...out];
}

export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    for (const c of childrenOf(todo.pop()!)) {
      out.push(c);
      todo.push(c);
    }
  }
  return out;
}

export function procStatus(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1).trim();
  }
  return out;
}

export function exeOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** fdinfo flags (octal in /proc) of one descriptor of pid. */
export function fdFlags(pid: number, fd: number): number {
  const m = /^flags:\s+([0-7]+)/m.exec(fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
  if (!m) throw new Error(`no flags in /proc/${pid}/fdinfo/${fd}`);
  return parseInt(m[1], 8);
}

export function openFds(pid: number): number[] {
  return fs
    .readdirSync(`/proc/${pid}/fd`)
    .map(Number)
    .sort((a, b) => a - b);
}

/** A signal set from /proc/<pid>/status (SigBlk, SigIgn, ...) as the list of signal numbers in it. */
export function sigsetOf(hex: string): number[] {
  const v = BigInt(`0x${hex}`);
  const out: number[] = [];
  for (let n = 1; n <= 64; n++) if ((v >> BigInt(n - 1)) & 1n) out.push(n);
  return out;
}

/** TCP sockets in LISTEN state owned by pid ("addr:port" in /proc's hex). */
export function listeningSockets(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  const out: string[] = [];
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9])) out.push(`${table} ${f[1]}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Process references and cleanup

export interface Ref {
  pid: number;
  start: number;
}

export function refOf(pid: number): Ref | undefined {
  const st = readStat(pid);
  return st ? { pid, start: st.start } : undefined;
}

/** The process is still the one referred to (not a recycled pid) and not a zombie. */
export function isRunning(ref: Ref): boolean {
  const st = readStat(ref.pid);
  return !!st && st.start === ref.start && st.state !== 'Z' && st.state !== 'X';
}

/** Gone, or a zombie (dead, waiting for its parent). */
export function isDead(ref: Ref): boolean {
  return !isRunning(ref);
}

/** kill(pid, sig) only if pid still is the process referred to. */
export function signalRef(ref: Ref, sig: number): boolean {
  const st = readStat(ref.pid);
  if (!st || st.start !== ref.start) return false;
  try {
    process.kill(ref.pid, sig);
    return true;
  } catch {
    return false;
  }
}

const trackedRoots = new Set<Launched>();
const trackedRefs: Ref[] = [];
const tempDirs: string[] = [];

/** Remember a process to SIGKILL at cleanup (e.g. a grandchild that may outlive the init). */
export function track(pid: number): Ref | undefined {
  const ref = refOf(pid);
  if (ref) trackedRefs.push(ref);
  return ref;
}

/** A fresh directory, mode 0755, removed at cleanup. */
export function tempDir(prefix = 'tini-ts-it-', base = os.tmpdir()): string {
  const d = fs.mkdtempSync(path.join(base, prefix));
  fs.chmodSync(d, 0o755);
  tempDirs.push(d);
  return d;
}

/**
 * Ends everything the test started: releases fixture children (DIR/release),
 * SIGKILLs every tracked process and every descendant of a launched process
 * (by pid, start time checked), waits for the launched processes to be gone
 * and removes the temporary directories. Meant for afterEach.
 */
export async function cleanup(): Promise<void> {
  for (const d of tempDirs) {
    try {
      fs.writeFileSync(path.join(d, 'release'), '');
    } catch {
      // read-only or gone
    }
  }
  const victims: Ref[] = [...trackedRefs];
  for (const l of trackedRoots) {
    if (l.exited) continue;
    for (const p of descendantsOf(l.pid)) {
      const r = refOf(p);
      if (r) victims.push(r);
    }
    victims.push(l.ref);
  }
  for (const v of victims) signalRef(v, 9);
  for (const l of trackedRoots) {
    try {
      await l.waitExit(10_000);
    } catch {
      // reported by the test that started it, if it mattered
    }
  }
  await waitFor(() => victims.every((v) => isDead(v)), 'every process of the test to be gone', { timeoutMs: 10_000 }).catch(() => {});
  trackedRoots.clear();
  trackedRefs.length = 0;
  for (const d of tempDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// Launching

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the exit was seen. */
  at: number;
}

export interface LaunchOptions {
  env?: Record<string, string>;
  stdin?: 'ignore' | 'pipe';
  cwd?: string;
}

export class Launched {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly ref: Ref;
  readonly startedAt: number;
  readonly exitPromise: Promise<Exit>;
  exited: Exit | undefined;
  private out: Buffer[] = [];
  private err: Buffer[] = [];

  constructor(cmd: string, args: string[], opts: LaunchOptions = {}) {
    this.startedAt = performance.now();
    this.child = spawn(cmd, args, {
      env: opts.env ?? BASE_ENV,
      stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
      cwd: opts.cwd,
    });
    if (this.child.pid === undefined) throw new Error(`could not start ${cmd}`);
    this.pid = this.child.pid;
    this.ref = refOf(this.pid) ?? { pid: this.pid, start: -1 };
    this.child.stdout!.on('data', (b: Buffer) => this.out.push(b));
    this.child.stderr!.on('data', (b: Buffer) => this.err.push(b));
    const closed = new Promise<void>((resolve) => this.child.on('close', () => resolve()));
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exited = { code, signal, at: performance.now() };
        // Let stdout/stderr drain; a process left behind (on purpose, in some
        // tests) may hold them open, so do not wait for that forever.
        void Promise.race([closed, sleep(500)]).then(() => resolve(this.exited!));
      });
    });
    trackedRoots.add(this);
  }

  stdout(): string {
    return Buffer.concat(this.out).toString('utf8');
  }

  stderr(): string {
    return Buffer.concat(this.err).toString('utf8');
  }

  /** The exit, or an error (with what was printed) if it takes longer than timeoutMs. */
  async waitExit(timeoutMs = 15_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`process ${this.pid} still running after ${timeoutMs} ms; stderr: ${this.stderr().slice(-2000)}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exitPromise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The exit code; fails if the process was killed by a signal instead. */
  async exitCode(timeoutMs = 15_000): Promise<number> {
    const e = await this.waitExit(timeoutMs);
    if (e.code === null) throw new Error(`process ${this.pid} was killed by ${e.signal}; stderr: ${this.stderr()}`);
    return e.code;
  }
}

export function launch(cmd: string, args: string[], opts: LaunchOptions = {}): Launched {
  return new Launched(cmd, args, opts);
}

/** How the init is started. */
export type Mode =
  /** PID 1 of a fresh pid namespace: unshare --pid --fork --mount-proc --kill-child */
  | 'pid1'
  /** not PID 1, with -s */
  | 'sub'
  /** not PID 1, with TINI_SUBREAPER=1 */
  | 'subenv'
  /** not PID 1, no subreaper (the init warns) */
  | 'plain';

export const UNSHARE_PID1 = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];

export interface InitOptions {
  mode: Mode;
  /** Options for the init (before `--`). */
  flags?: string[];
  /** The program and its arguments. */
  prog: string[];
  env?: Record<string, string>;
  bin?: string;
  stdin?: 'ignore' | 'pipe';
}

/** [command, args, env] to start an init in a mode. */
export function initCommand(o: InitOptions): [string, string[], Record<string, string>] {
  const bin = o.bin ?? BIN;
  const env = { ...BASE_ENV, ...(o.env ?? {}) };
  const flags = [...(o.mode === 'sub' ? ['-s'] : []), ...(o.flags ?? [])];
  if (o.mode === 'subenv') env.TINI_SUBREAPER = '1';
  const initArgs = [...flags, '--', ...o.prog];
  if (o.mode === 'pid1') return [UNSHARE_PID1[0], [...UNSHARE_PID1.slice(1), bin, ...initArgs], env];
  return [bin, initArgs, env];
}

export class RunningInit {
  readonly proc: Launched;
  readonly bin: string;
  readonly mode: Mode;
  private hostPid: number | undefined;

  constructor(o: InitOptions) {
    const [cmd, args, env] = initCommand(o);
    this.bin = o.bin ?? BIN;
    this.mode = o.mode;
    this.proc = launch(cmd, args, { env, stdin: o.stdin });
  }

  /** The init's pid as seen from here (for pid1, the child of unshare once it runs the init). */
  async pid(): Promise<number> {
    if (this.hostPid !== undefined) return this.hostPid;
    if (this.mode !== 'pid1') {
      this.hostPid = this.proc.pid;
      return this.hostPid;
    }
    const real = fs.realpathSync(this.bin);
    // unshare --fork has one child; it is the init once it has exec'd it
    // (its executable is the binary, or, for a script, the script is among its first arguments).
    this.hostPid = await waitFor(
      () => childrenOf(this.proc.pid).find((c) => {
        const exe = exeOf(c);
        if (exe === this.bin || exe === real) return true;
        // test/setup/qemu-wrapper.sh: the wrapper execs qemu-user, which runs the arm64 binary.
        if (exe && /\/qemu-[a-z0-9_]+-static$/.test(exe)) return true;
        try {
          return fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').split('\0').slice(0, 3).includes(this.bin);
        } catch {
          return false;
        }
      }),
      `unshare (${this.proc.pid}) to start ${this.bin}`,
      { detail: () => this.proc.stderr() },
    );
    return this.hostPid;
  }

  /** The main child: the init's child that leads its own process group. */
  async mainChild(): Promise<number> {
    const init = await this.pid();
    return waitFor(
      () => childrenOf(init).find((c) => readStat(c)?.pgrp === c),
      `the init (${init}) to have a child leading its own process group`,
      { detail: () => `children ${childrenOf(init).join(',')}; stderr ${this.proc.stderr()}` },
    );
  }

  async signal(sig: number): Promise<void> {
    const pid = await this.pid();
    process.kill(pid, sig);
  }

  exitCode(timeoutMs?: number): Promise<number> {
    return this.proc.exitCode(timeoutMs);
  }

  stderr(): string {
    return this.proc.stderr();
  }

  stdout(): string {
    return this.proc.stdout();
  }
}

export function startInit(o: InitOptions): RunningInit {
  return new RunningInit(o);
}

/** Runs an init to completion and returns its exit code, stdout and stderr. */
export async function runInit(o: InitOptions, timeoutMs = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const init = startInit(o);
  const code = await init.exitCode(timeoutMs);
  return { code, stdout: init.stdout(), stderr: init.stderr() };
}

// ---------------------------------------------------------------------------
// The signal-recording child (fixture.c `rec`)

export interface RecOptions {
  /** Fork a grandchild in the same process group that records too. */
  grandchild?: boolean;
  /** Catch nothing: default dispositions (a plain child that waits). */
  none?: boolean;
  /** Main process: on SIG exit CODE, or die by SIG ('die'). */
  exitOn?: [number, number | 'die'];
  /** Grandchild: on SIG linger MS ms, write grand.exit, exit 0. */
  grandLinger?: [number, number];
  releaseCode?: number;
  /** Seconds before the fixture gives up by itself (exit 99). */
  lifetime?: number;
  /** Extra arguments after `--` (ignored by the fixture). */
  extra?: string[];
}

export interface ReadyInfo {
  /** As the child sees them (namespace pids under pid1). */
  pid: number;
  pgid: number;
  sid: number;
  gpid: number;
}

export class Recorder {
  readonly dir: string;

  constructor(dir?: string) {
    this.dir = dir ?? tempDir('tini-ts-rec-');
  }

  argv(o: RecOptions = {}): string[] {
    const a = [fixture(), 'rec', this.dir];
    if (o.grandchild) a.push('-g');
    if (o.none) a.push('-n');
    if (o.exitOn) a.push('-e', `${o.exitOn[0]}:${o.exitOn[1] === 'die' ? 'd' : o.exitOn[1]}`);
    if (o.grandLinger) a.push('-G', `${o.grandLinger[0]}:${o.grandLinger[1]}`);
    if (o.releaseCode !== undefined) a.push('-c', String(o.releaseCode));
    a.push('-t', String(o.lifetime ?? 60));
    if (o.extra) a.push('--', ...o.extra);
    return a;
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  has(name: string): boolean {
    return fs.existsSync(this.file(name));
  }

  async ready(timeoutMs = 10_000, detail?: () => string): Promise<ReadyInfo> {
    const text = await waitFor(
      () => {
        try {
          return fs.readFileSync(this.file('ready'), 'utf8');
        } catch {
          return undefined;
        }
      },
      `the child to be ready (${this.file('ready')})`,
      { timeoutMs, detail },
    );
    const [pid, pgid, sid, gpid] = text.trim().split(' ').map(Number);
    return { pid, pgid, sid, gpid };
  }

  /** Signals recorded, in order, by the main child or the grandchild. */
  log(who: 'main' | 'grand'): number[] {
    try {
      return fs
        .readFileSync(this.file(`${who}.log`), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  }

  count(who: 'main' | 'grand', sig: number): number {
    return this.log(who).filter((s) => s === sig).length;
  }

  /** Waits until `who` recorded sig at least n times. */
  async waitSignal(who: 'main' | 'grand', sig: number, n = 1, timeoutMs = 5_000): Promise<void> {
    await waitFor(() => this.count(who, sig) >= n, `${who} to record signal ${sig} ${n}x`, {
      timeoutMs,
      detail: () => `${who} log: ${this.log(who).join(',')}`,
    });
  }

  release(): void {
    fs.writeFileSync(this.file('release'), '');
  }
}

// ---------------------------------------------------------------------------
// exec_with.py: start a program with exact bytes, a dirty signal state or extra fds

export interface ExecSpec {
  argv: (string | Buffer)[];
  /** The file to exec when argv[0] is not it. */
  file?: string;
  /** Exact environment entries; undefined: inherit the launcher's environment. */
  env?: (string | Buffer)[];
  block?: number[];
  ignore?: number[];
  /** Extra descriptors the program inherits: fd -> path opened read-only. */
  fds?: Record<number, string>;
}

const b64 = (x: string | Buffer) => (typeof x === 'string' ? Buffer.from(x) : x).toString('base64');

export function execWithArgs(spec: ExecSpec): string[] {
  return [
    EXEC_WITH,
    JSON.stringify({
      argv: spec.argv.map(b64),
      file: spec.file === undefined ? null : b64(spec.file),
      env: spec.env ? spec.env.map(b64) : null,
      block: spec.block ?? [],
      ignore: spec.ignore ?? [],
      fds: spec.fds ?? {},
    }),
  ];
}

export function launchWith(spec: ExecSpec, opts: LaunchOptions = {}): Launched {
  return launch('python3', execWithArgs(spec), opts);
}

/**
 * Copies of FILES (the binary, a script) in a new world-readable directory
 * under the system's temporary directory, for a test that runs them as an
 * unprivileged user: the clone itself may sit under a directory that user
 * cannot reach (a home directory of mode 0700). The caller removes `dir`.
 */
export function stagePublic(...files: string[]): { dir: string; paths: string[] } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-public-'));
  fs.chmodSync(dir, 0o755);
  const paths = files.map((f) => {
    const dest = path.join(dir, path.basename(f));
    fs.copyFileSync(f, dest);
    fs.chmodSync(dest, (fs.statSync(f).mode & 0o777) | 0o444);
    return dest;
  });
  return { dir, paths };
}

/** A linked copy (or a copy) of a file into dir. */
export function linkInto(file: string, dir: string, name = path.basename(file)): string {
  const dest = path.join(dir, name);
  try {
    fs.linkSync(file, dest);
  } catch {
    fs.copyFileSync(file, dest);
    fs.chmodSync(dest, fs.statSync(file).mode & 0o777);
  }
  return dest;
}

// ---------------------------------------------------------------------------
// Signals

export const SIG = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19,
  TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28,
  IO: 29, PWR: 30, SYS: 31,
} as const;

/** What tini forwards (and tini-ts claims to): every catchable signal but CHLD, TTIN, TTOU and the 7 kernel signals. */
export const FORWARDED: readonly number[] = (() => {
  const out: number[] = [];
  const not = new Set([4, 5, 6, 7, 8, 9, 11, 17, 19, 21, 22, 31, 32, 33]);
  for (let n = 1; n <= 64; n++) if (!not.has(n)) out.push(n);
  return out;
})();
