/**
 * How the run ended, as data (for --report JSON) and as one human line
 * (stderr). Pure: the launcher gathers the facts, this shapes them.
 */
import { formatBytes } from '../cgroup/size.js';
import type { CgroupStats, LinuxResources } from '../cgroup/types.js';
import { decodeWaitStatus, type WaitStatus } from '../libc/types.js';
import { signalName } from '../libc/signals.js';

export interface RunReport {
  exit_code: number;
  /** the signal that killed the program, e.g. SIGKILL */
  signal: string | null;
  /** the kernel's OOM killer killed a task in the cgroup (from its counters) */
  oom_killed: boolean;
  oom_kills: number | null;
  timed_out: boolean;
  /** the program could not be started (ENOENT...) */
  exec_error: string | null;
  /** a launcher failure after set-up began (exit code 125) */
  error: string | null;
  wall_seconds: number;
  cpu_user_seconds: number | null;
  cpu_system_seconds: number | null;
  memory_peak_bytes: number | null;
  memory_limit_hits: number | null;
  pids_peak: number | null;
  /** 'pids.peak' when the kernel counts it, else 'sampled' (every 50 ms) */
  pids_peak_source: 'pids.peak' | 'sampled' | null;
  pids_limit_hits: number | null;
  /** the cgroup resources applied, as an OCI LinuxResources (config.json's `linux.resources` names) */
  limits: LinuxResources;
  cgroup: { version: 1 | 2; name: string } | null;
  namespaces: string[];
}

export interface Facts {
  /** the program's wait status, as the init reported it */
  status: WaitStatus | null;
  execError: { code: string; exitCode: number } | null;
  error: string | null;
  timedOut: boolean;
  wallMs: number;
  stats: CgroupStats | null;
  sampledPidsPeak: number | null;
  limits: LinuxResources;
  cgroup: { version: 1 | 2; name: string } | null;
  namespaces: string[];
}

export function buildReport(f: Facts): RunReport {
  let exitCode = 125;
  let signal: string | null = null;
  if (f.error === null && f.execError) exitCode = f.execError.exitCode;
  else if (f.error === null && f.status !== null) {
    const d = decodeWaitStatus(f.status);
    if (d.kind === 'exited') exitCode = d.code;
    else if (d.kind === 'signaled') {
      exitCode = 128 + d.signal;
      signal = signalName(d.signal);
    }
  }
  const s = f.stats;
  const oomKills = s?.oomKills ?? null;
  const kernelPeak = s?.pidsPeak ?? null;
  return {
    exit_code: exitCode,
    signal,
    oom_killed: (oomKills ?? 0) > 0,
    oom_kills: oomKills,
    timed_out: f.timedOut,
    exec_error: f.execError?.code ?? null,
    error: f.error,
    wall_seconds: round3(f.wallMs / 1000),
    cpu_user_seconds: s?.cpuUserUs == null ? null : round3(s.cpuUserUs / 1e6),
    cpu_system_seconds: s?.cpuSystemUs == null ? null : round3(s.cpuSystemUs / 1e6),
    memory_peak_bytes: s?.memoryPeakBytes ?? null,
    memory_limit_hits: s?.memoryLimitHits ?? null,
    pids_peak: kernelPeak ?? f.sampledPidsPeak,
    pids_peak_source: kernelPeak !== null ? 'pids.peak' : f.sampledPidsPeak !== null ? 'sampled' : null,
    pids_limit_hits: s?.pidsLimitHits ?? null,
    limits: f.limits,
    cgroup: f.cgroup,
    namespaces: f.namespaces,
  };
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

export function formatReport(r: RunReport): string {
  let how: string;
  if (r.error) how = `failed: ${r.error}`;
  else if (r.exec_error) how = `could not start the program (${r.exec_error}): exit ${r.exit_code}`;
  else if (r.signal) how = `killed by ${r.signal} (exit ${r.exit_code})`;
  else how = `exited with code ${r.exit_code}`;
  const notes: string[] = [];
  if (r.oom_killed) notes.push(`out of memory: the kernel's OOM killer killed ${r.oom_kills} task(s)`);
  if (r.timed_out) notes.push('timed out');
  if ((r.pids_limit_hits ?? 0) > 0) notes.push(`${r.pids_limit_hits} fork(s) refused by the pids limit`);
  const parts = [
    `wall ${r.wall_seconds.toFixed(3)}s`,
    r.cpu_user_seconds === null ? null : `cpu ${r.cpu_user_seconds.toFixed(3)}s user ${r.cpu_system_seconds?.toFixed(3)}s sys`,
    r.memory_peak_bytes === null ? null : `peak memory ${formatBytes(r.memory_peak_bytes)}`,
    r.pids_peak === null ? null : `max ${r.pids_peak} tasks`,
  ].filter((p): p is string => p !== null);
  return `tini-ts run: ${how}${notes.length ? ` (${notes.join('; ')})` : ''}; ${parts.join(', ')}\n`;
}
