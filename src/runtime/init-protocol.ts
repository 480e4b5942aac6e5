/**
 * What the launcher and the init it starts say to each other over their
 * channel (see channel.ts). Kept apart from ns-init.ts so the launcher does
 * not load the init's code (root filesystem, workload) for these types.
 *
 * The init (INIT_MODE) sets up, privileged: joins the cgroup, builds the
 * mounts and the root; with a workload of its own it then takes the
 * workload's credentials and hardening on every one of its threads; then it
 * spawns the workload and supervises it. It takes [channel fd, addon fd] as
 * arguments; everything else comes over the channel, never in argv or the
 * environment.
 */
import type { Op } from './rootfs/plan.js';
import type { CgroupMountInfo } from './rootfs/cgroup-mounts.js';
import type { ProcessSpec } from './process.js';
import type { TerminalSetup } from './terminal.js';
import type { Hook, HookState } from './oci/hooks.js';

export const INIT_MODE = '__run-init';
/** The init's third argument when it builds a root filesystem: only which code cache the binary takes (build/sea-main.cjs). */
export const INIT_ROOTFS_WORD = 'rootfs';

/** What the init's privileged set-up does. */
export interface SetupPlan {
  hostname: string | null;
  privateMounts: boolean;
  mountProc: boolean;
  /**
   * The init was spawned in the launcher's network namespace: the
   * container's (made by the launcher while the init's Node started, its
   * `lo` up) follows this frame as one SCM_RIGHTS message, for the init to
   * setns(2) into before anything else of its set-up. A joined one is
   * someone else's (a pod's, Podman's): left as it is.
   */
  netnsFollows: boolean;
  cgroupNamespace: boolean;
  /**
   * The cgroup hierarchies the init will be in, as the host mounts them (its
   * /sys/fs/cgroup), worked out by the launcher; null: the init reads them
   * once it has joined.
   */
  cgroupMounts: CgroupMountInfo[] | null;
  /** Files to write 0 into to join the cgroup: cgroup.procs (the whole init), or v1's `tasks` (its main thread; `mainThreadOnly`). */
  procsFiles: string[];
  /**
   * cgroup v1: the init's main thread joins (through `tasks`): moving a
   * whole process makes the kernel wait for an RCU grace period (10-15 ms),
   * moving the calling thread does not. With a workload process spec each
   * other thread then moves itself too, as it takes the workload's
   * privileges; without one (plain `run`) only the main thread and the
   * threads it starts later are inside.
   */
  mainThreadOnly: boolean;
  /** pids.max, raised by the init's own tasks (see INIT_TASKS); null: no pids limit. */
  pidsMax: { file: string; limit: number } | null;
  verbosity: number;
  /** Namespaced kernel parameters, written in the container's namespaces before the root is built. */
  sysctl: Record<string, string>;
  /** A root filesystem to build and pivot into (see rootfs/plan.ts). */
  container?: { ops: Op[]; root: string };
  /** The workload's credentials and hardening; present: every thread of the init takes them. */
  process?: ProcessSpec;
  /** OCI process.terminal: a pty made once the root is in place, its master sent to the console socket. */
  terminal?: TerminalSetup;
  /**
   * OCI create of an init spawned before the start FIFO existed (the early
   * spawn): its path, which the init opens (O_PATH) before pivot_root, in
   * place of ProcessPlan.startGate.
   */
  startGateFifo?: string;
  /**
   * OCI hooks at the root's pivot: the init stops just before pivot_root
   * ('hooks'), the launcher runs prestart and createRuntime, answers
   * 'hooks-done' with the state, and the init runs these createContainer
   * hooks in the container's namespaces (the host's root still in reach).
   */
  hooks?: { createContainer: Hook[] };
  /** OCI create --preserve-fds N: fds 3 .. 3+N-1 the init keeps for the workload. */
  preserveFds?: number;
}

/** What the init's supervision does. Byte strings are base64 (see channel.ts). */
export interface ProcessPlan {
  argv: string[];
  env: string[];
  cwd: string | null;
  /** Exit 125 rather than 127 when the program is not in the root filesystem. */
  programMustExist: boolean;
  /**
   * Re-applied just before the spawn: Node raises its soft RLIMIT_NOFILE to
   * the hard limit at start-up, and the workload must get the soft limits asked for.
   */
  rlimits: ProcessSpec['rlimits'];
  /** HOME is filled in for this user (from the container's /etc/passwd) when env lacks it; absent: env as it is. */
  homeOf?: ProcessSpec['user'];
  graceMs: number;
  verbosity: number;
  /** --events: the destination as an inherited descriptor; null: off. */
  eventsFd: number | null;
  /** `run`: the init dies with the launcher (PR_SET_PDEATHSIG); OCI create: it outlives it. */
  tiedToLauncher: boolean;
  /** OCI create: an O_PATH descriptor of the start FIFO (or SetupPlan.startGateFifo's); the workload is spawned once `start` opens it. */
  startGate: number | null;
  /** The workload gets the terminal on the init's fd 0 (see SetupPlan.terminal) as its controlling terminal. */
  terminal?: boolean;
  /** `run`'s stop policy (--map as [from, to|null] pairs); absent: the defaults. */
  stop?: {
    signalMap: [number, number | null][];
    stopDelayMs: number | null;
    stopScope: 'group' | 'all';
    exitOnStop: number | null;
    preStop: string | null;
  };
  /** OCI create --preserve-fds N: fds 3 .. 3+N-1 (inherited from the launcher) pass to the workload. */
  preserveFds?: number;
  /** OCI startContainer hooks, run by the init once started, before the workload (pid: the init's own). */
  startContainer?: { hooks: Hook[]; state: HookState };
}

export type LauncherMessage = { kind: 'setup'; plan: SetupPlan } | { kind: 'process'; plan: ProcessPlan } | { kind: 'hooks-done'; plan: { state: HookState } };

/** What the init tells the launcher. */
export type InitMessage =
  /** Listening to signals (the launcher forwards from now on); its own tasks in the cgroup. */
  | { kind: 'ready'; initTasks: number }
  /** At the pivot (see SetupPlan.hooks): the launcher's hooks may run. */
  | { kind: 'hooks' }
  /** The workload runs (the launcher protects the init from the OOM killer now, see container/wait.ts). */
  | { kind: 'spawned' }
  /** The program's raw wait status, and the init's exit code for it (--exit-on-stop may differ from 128+N). */
  | { kind: 'status'; status: number; exitCode?: number }
  | { kind: 'exec-error'; code: string; exitCode: number }
  | { kind: 'error'; message: string };

/**
 * Tasks of the supervising init in the container's cgroup (Node's main,
 * V8 worker and delayed-task threads), added to pids.max so that `--pids N`
 * means N for the workload. The launcher corrects it to the count the init
 * reports once it runs.
 */
export const INIT_TASKS = 3;

/** The kernel's PID_MAX_LIMIT: pids.max takes no larger number ("max" instead). */
export const PIDS_MAX_LIMIT = 4194304;

export function pidsMaxValue(limit: number, initTasks: number): string {
  const n = limit + initTasks;
  return n >= PIDS_MAX_LIMIT ? 'max' : String(n);
}
