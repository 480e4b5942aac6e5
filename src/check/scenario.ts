/**
 * Runs a program under the init (this same binary, with --events to a file)
 * once for one scenario, and collects the evidence: the init's event stream,
 * samples of the process tree, timings. Verdicts are in verdict.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { descendants, findInit, procInfo, type ProcInfo } from './proc.js';
import { PTY_HELPER } from './pty-helper.js';

export type ScenarioName = 'docker-stop' | 'ctrl-c' | 'orphans' | 'sighup' | 'staged-stop' | `signal:${string}`;

export interface CheckOptions {
  program: string[];
  graceMs: number;
  readyAfterMs: number;
  readyFile: string | null;
  /** How long to watch after the signal (sighup, --signal) or before stopping (orphans). */
  observeMs: number;
  /** The init: [executable, ...arguments before the init's own]. */
  self: string[];
  selfExe: string;
  workDir: string;
}

export interface Sample {
  t_ms: number;
  procs: ProcInfo[];
}

export interface RunResult {
  scenario: ScenarioName;
  mode: 'pid1' | 'subreaper';
  tty: boolean;
  events: Record<string, any>[];
  /** ms since the launch when the signal was sent (or ^C typed); null if not sent. */
  signalAtMs: number | null;
  signalMono: bigint | null;
  /** Zombies seen under the init whose parent was not the init, with how long each lasted. */
  zombies: { pid: number; nspid: number; comm: string; ppid: number; parentComm: string; seenMs: number }[];
  maxDescendants: number;
  launcherStatus: number | null;
  timedOut: boolean;
  ready: boolean;
  output: string;
  error: string | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How long the init may take to start the program before the check gives up on it. */
export const START_TIMEOUT_MS = 60_000;

export function canUseNamespace(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('unshare', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function havePython(): boolean {
  return spawnSync('python3', ['-c', ''], { stdio: 'ignore' }).status === 0;
}

function readEvents(file: string): Record<string, any>[] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: Record<string, any>[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      // a line being written: the next read has it
    }
  }
  return out;
}

export async function runScenario(scenario: ScenarioName, signal: number | null, opts: CheckOptions): Promise<RunResult> {
  const tty = scenario === 'ctrl-c';
  const ns = canUseNamespace();
  const evFile = path.join(opts.workDir, `events-${scenario.replace(/[^a-zA-Z0-9-]/g, '_')}.jsonl`);
  fs.rmSync(evFile, { force: true });
  if (opts.readyFile) fs.rmSync(opts.readyFile, { force: true });
  // staged-stop: the whole tree, daemons that left the program's group included, gets the stop in stages.
  const scope = scenario === 'staged-stop' ? ['--stop-scope', 'all'] : [];
  const initCmd = [...opts.self, ...(ns ? [] : ['-s']), '--events', evFile, '--grace', String(opts.graceMs / 1000), ...scope, '--', ...opts.program];
  let cmd = ns ? ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child', ...initCmd] : initCmd;
  if (tty) cmd = ['python3', '-c', PTY_HELPER, ...cmd];

  const res: RunResult = {
    scenario, mode: ns ? 'pid1' : 'subreaper', tty, events: [], signalAtMs: null, signalMono: null, zombies: [],
    maxDescendants: 0, launcherStatus: null, timedOut: false, ready: false, output: '', error: null,
  };
  const t0 = performance.now();
  const child = spawn(cmd[0], cmd.slice(1), { stdio: [tty ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-4096);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // The terminal helper may be gone when ^C is typed (the program ended by
  // itself meanwhile): EPIPE then is a fact of the run, not a crash of the check.
  child.stdin?.on('error', () => {});
  let exited = false;
  const done = new Promise<void>((resolve) => {
    child.on('exit', (code, sig) => {
      exited = true;
      res.launcherStatus = code ?? (sig ? 128 : null);
      resolve();
    });
    child.on('error', (e) => {
      exited = true;
      res.error = e.message;
      resolve();
    });
  });

  // The init's pid (on this side of the namespace) and the sampler.
  let initPid: number | null = null;
  const zombieSeen = new Map<string, { first: number; last: number; z: ProcInfo; parent: ProcInfo | undefined }>();
  const sampler = setInterval(() => {
    if (exited || child.pid === undefined) return;
    initPid ??= findInit(child.pid, opts.selfExe, 'tini-ts');
    if (initPid === null) return;
    const procs = descendants(initPid);
    res.maxDescendants = Math.max(res.maxDescendants, procs.length);
    const now = performance.now() - t0;
    const byPid = new Map(procs.map((p) => [p.pid, p]));
    for (const p of procs) {
      if (p.state !== 'Z' || p.ppid === initPid) continue;
      const key = `${p.pid}:${p.start}`;
      const z = zombieSeen.get(key);
      if (z) z.last = now;
      else zombieSeen.set(key, { first: now, last: now, z: p, parent: byPid.get(p.ppid) ?? procInfo(p.ppid) ?? undefined });
    }
  }, 50);

  const kill = (sig: NodeJS.Signals | number) => {
    if (initPid !== null) {
      try {
        process.kill(initPid, sig);
      } catch {
        // gone
      }
    }
  };
  const until = async (cond: () => boolean, ms: number) => {
    const end = performance.now() + ms;
    while (!cond() && performance.now() < end) await sleep(20);
    return cond();
  };

  try {
    // Started: the spawn event is there (or the init ended early). Nothing is
    // sent before: a signal that reached the init before it started the
    // program (a slow start on a loaded machine) was judged as the program's
    // own doing ("the init did not start the program" while it ran).
    const started = await until(() => exited || (initPid !== null && readEvents(evFile).some((e) => e.event === 'spawn' || e.event === 'exit')), START_TIMEOUT_MS);
    if (!started) res.error = `the init did not start the program within ${START_TIMEOUT_MS / 1000} s`;
    else if (!exited) {
      res.ready = opts.readyFile
        ? await until(() => exited || fs.existsSync(opts.readyFile!), Math.max(opts.readyAfterMs, 30_000))
        : (await until(() => exited, opts.readyAfterMs), !exited);
      if (opts.readyFile && !fs.existsSync(opts.readyFile)) res.ready = false;
    }
    const send = () => {
      res.signalAtMs = performance.now() - t0;
      res.signalMono = process.hrtime.bigint();
    };
    if (!exited && res.ready) {
      if (scenario === 'docker-stop' || scenario === 'staged-stop') {
        send();
        kill('SIGTERM');
        await until(() => exited, opts.graceMs + 5000);
      } else if (scenario === 'ctrl-c') {
        send();
        if (!exited) child.stdin!.write('c');
        await until(() => exited, opts.graceMs);
      } else if (scenario === 'orphans') {
        await until(() => exited, opts.observeMs);
        if (!exited) {
          send();
          kill('SIGTERM');
          await until(() => exited, opts.graceMs + 5000);
        }
      } else if (signal !== null) {
        send();
        kill(signal);
        await until(() => exited, opts.observeMs);
      }
    }
    // Whatever is still running now is stopped as docker would: SIGTERM, grace, SIGKILL.
    if (!exited) {
      kill('SIGTERM');
      await until(() => exited, opts.graceMs + 5000);
    }
    if (!exited) {
      res.timedOut = true;
      kill('SIGKILL');
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await until(() => exited, 5000);
    }
    await done;
  } finally {
    clearInterval(sampler);
    try {
      child.stdin?.end();
    } catch {
      // closed
    }
  }
  res.events = readEvents(evFile);
  res.output = output;
  if (!ns) {
    // Without a pid namespace nothing takes what the init left behind with it:
    // stop it here (checked by name, so a recycled pid is left alone).
    const exitEv = res.events.find((e) => e.event === 'exit');
    for (const p of (exitEv?.left ?? []) as { pid: number; comm: string }[]) {
      if (procInfo(p.pid)?.comm === p.comm) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
  }
  for (const { first, last, z, parent } of zombieSeen.values()) {
    res.zombies.push({ pid: z.pid, nspid: z.nspid, comm: z.comm, ppid: z.ppid, parentComm: parent?.comm ?? '?', seenMs: Math.round(last - first) });
  }
  return res;
}
