/**
 * OCI hooks (config.json `hooks`): each one is spawned with posix_spawn
 * (its path as given, never looked up along PATH: Podman runs the runtime
 * with none), the container's state JSON on its stdin, its stdout and stderr
 * kept for the error, and killed after its `timeout`. Synchronous: the
 * caller's step (create, start, delete, the init's start) waits for it, as
 * runc's does. Errors use runc's wording, which engines show as they are.
 */
import fs from 'node:fs';
import { errnoMessage } from '../../libc/errno.js';
import { O } from '../../libc/consts.js';
import type { NsLibc } from '../../libc/ns.js';
import { SIG } from '../../libc/signals.js';
import { WNOHANG, decodeWaitStatus, ok, type Libc, type SysError } from '../../libc/types.js';
import { fromSys, runError, within, type Outcome, type RunError } from '../../libc/error.js';

export interface Hook {
  path: string;
  /** argv, argv[0] included (runc: empty means [path]). */
  args: string[];
  /** NAME=VALUE; null: the runtime's own environment (as runc's exec.Cmd with a nil Env). */
  env: string[] | null;
  /** Seconds; null: none. */
  timeout: number | null;
}

/** In runc's order of moments (see the README's runtime section). */
export const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
export type HookKind = (typeof HOOK_KINDS)[number];
export type Hooks = Partial<Record<HookKind, Hook[]>>;

/** The runtime-spec state a hook reads on its stdin. */
export interface HookState {
  ociVersion: string;
  id: string;
  status: 'creating' | 'created' | 'running' | 'stopped';
  pid?: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** A pipe holds this much without a reader: the state is written whole before the hook starts. */
const STATE_MAX = 65536;
const OUTPUT_MAX = 64 * 1024;

/** Runs the hooks of one kind in order; the first failure stops them (rendered, it is runc's one line). */
export function runHooks(libc: Libc, ns: NsLibc, kind: HookKind, hooks: readonly Hook[] | undefined, state: HookState): Outcome<void> {
  for (const [i, h] of (hooks ?? []).entries()) {
    const e = runHook(libc, ns, h, JSON.stringify(state));
    if (e) return { ok: false, error: within(e, `error running ${kind} hook #${i}`) };
  }
  return ok(undefined);
}

function runHook(libc: Libc, ns: NsLibc, h: Hook, state: string): RunError | null {
  if (Buffer.byteLength(state) > STATE_MAX) return runError(`error running hook: the state JSON is larger than ${STATE_MAX} bytes`);
  const stdin = ns.pipe(O.CLOEXEC);
  if (!stdin.ok) return fromSys(stdin, `error running hook: pipe2: ${stdin.code}`);
  const out = ns.pipe(O.CLOEXEC | O.NONBLOCK);
  const err = ns.pipe(O.CLOEXEC | O.NONBLOCK);
  const open = [...stdin.value, ...(out.ok ? out.value : []), ...(err.ok ? err.value : [])];
  const closeAll = () => open.splice(0).forEach((fd) => ns.close(fd));
  if (!out.ok || !err.ok) {
    closeAll();
    const bad = !out.ok ? out : (err as SysError);
    return fromSys(bad, `error running hook: pipe2: ${bad.code}`);
  }
  try {
    // Written whole and closed first: the hook reads it, then end of file.
    fs.writeSync(stdin.value[1], state);
    ns.close(stdin.value[1]);
    open.splice(open.indexOf(stdin.value[1]), 1);
    const r = libc.spawn({
      file: h.path,
      argv: (h.args.length > 0 ? h.args : [h.path]).map((a) => Buffer.from(a)),
      env: h.env === null ? undefined : h.env.map((e) => Buffer.from(e)),
      newProcessGroup: false,
      foregroundTty: false,
      stdio: [stdin.value[0], out.value[1], err.value[1]],
      passFds: [0, 1, 2],
    });
    if (!r.ok) return fromSys(r, `fork/exec ${h.path}: ${errnoMessage(r.errno).toLowerCase()}`);
    // Only our ends stay open here: the hook's end of file is its exit (or its children's).
    for (const fd of [stdin.value[0], out.value[1], err.value[1]]) {
      ns.close(fd);
      open.splice(open.indexOf(fd), 1);
    }
    const texts = { out: '', err: '' };
    const drain = () => {
      texts.out = readSome(out.value[0], texts.out);
      texts.err = readSome(err.value[0], texts.err);
    };
    const deadline = h.timeout === null ? Infinity : Date.now() + h.timeout * 1000;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    let status: number | null = null;
    while (status === null) {
      drain();
      const w = libc.waitpid(r.value, WNOHANG);
      if (w.ok && w.value[0] === r.value) status = w.value[1];
      else if (!w.ok && w.code !== 'EINTR') return fromSys(w, `error running hook: waitpid: ${w.code}`);
      else if (Date.now() > deadline) {
        libc.kill(r.value, SIG.KILL);
        libc.waitpid(r.value, 0);
        return runError(`hook ran past specified timeout of ${h.timeout!.toFixed(1)}s`);
      } else Atomics.wait(nap, 0, 0, 2);
    }
    drain();
    const d = decodeWaitStatus(status);
    if (d.kind === 'exited' && d.code === 0) return null;
    const why = d.kind === 'exited' ? `exit status ${d.code}` : d.kind === 'signaled' ? `signal: ${signalText(d.signal)}` : `wait status ${d.raw}`;
    return runError(`error running hook: ${why}, stdout: ${texts.out.trim()}, stderr: ${texts.err.trim()}`);
  } finally {
    closeAll();
  }
}

/** Appends what is waiting in a non-blocking pipe (up to OUTPUT_MAX in all). */
function readSome(fd: number, text: string): string {
  const buf = Buffer.alloc(4096);
  for (;;) {
    let n = 0;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch {
      return text; // EAGAIN: nothing more for now
    }
    if (n === 0) return text;
    if (text.length < OUTPUT_MAX) text += buf.toString('utf8', 0, n);
  }
}

/** Go's names for the signals a hook is likely to die of (runc prints os/exec's text). */
function signalText(sig: number): string {
  const names: Record<number, string> = { 9: 'killed', 15: 'terminated', 6: 'aborted', 11: 'segmentation fault', 2: 'interrupt', 1: 'hangup', 13: 'broken pipe' };
  return names[sig] ?? `signal ${sig}`;
}
