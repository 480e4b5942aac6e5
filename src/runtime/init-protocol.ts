/**
 * What the launcher and the init it re-executes say to each other: the plan
 * (argv of the hidden `__run-init` mode) and the status lines on the pipe.
 * Kept apart from ns-init.ts so the launcher does not load the init's code
 * (root filesystem, workload) just for these types and one parser.
 */
import type { Op } from './rootfs/plan.js';
import type { ProcessSpec } from './process.js';

export const INIT_MODE = '__run-init';

export interface InitPlan {
  argv: string[];
  hostname: string | null;
  privateMounts: boolean;
  mountProc: boolean;
  loopbackUp: boolean;
  cgroupNamespace: boolean;
  /** Files to write 0 into to join the cgroup: cgroup.procs, or v1's `tasks` with `mainThreadOnly`. */
  procsFiles: string[];
  /**
   * cgroup v1: only the init's main thread joins (through `tasks`), as the
   * program it forks inherits that thread's cgroups. Moving a whole process
   * makes the kernel wait for an RCU grace period (10-15 ms); moving the
   * calling thread alone does not. The libuv pool and V8's threads stay where
   * the launcher is: they are the init's, and count against none of the limits.
   */
  mainThreadOnly: boolean;
  /** pids.current of the cgroup: the init's tasks in it, once joined (what the report and pids.max discount). */
  pidsCurrent: string | null;
  /** pids.max to raise by the init's own task count */
  pidsMax: { file: string; limit: number } | null;
  /** write end of the status pipe (inherited) */
  statusFd: number;
  /** --events: the destination as an inherited descriptor (a file the launcher opened, fd:N, or 2); null: off. */
  eventsFd: number | null;
  graceMs: number;
  verbosity: number;
  /** A root filesystem to build and pivot into (see rootfs/plan.ts). */
  container?: { ops: Op[]; root: string };
  /** The workload's process (user, env, cwd, rlimits, hardening); absent: as the init's own. */
  process?: ProcessSpec;
}

/** Lines the init writes to the launcher on the status pipe (JSON, one per line). */
export type InitMessage =
  | { kind: 'ready'; initTasks: number }
  | { kind: 'status'; status: number }
  | { kind: 'exec-error'; code: string; exitCode: number }
  | { kind: 'error'; message: string };

/** Parse the init's status lines. */
export function parseInitMessages(text: string): InitMessage[] {
  const out: InitMessage[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as InitMessage);
    } catch {
      // a torn line from a dying init: ignore
    }
  }
  return out;
}
