/**
 * What a container is made from, as data: the run options (from `run`'s
 * command line, or an OCI bundle's config.json read through the same
 * parser), the workload's argv, the container's configuration, and for an OCI
 * `create` what the verb adds (its cgroup place, state directory, start gate,
 * console and preserved descriptors). createContainer takes it as it is.
 */
import { needsProcessSpec, isContainer, type RunOptions } from '../cli/run-options.js';
import type { Outcome } from '../libc/error.js';
import { ok } from '../libc/types.js';
import type { ContainerConfig } from '../runtime/container.js';
import type { HookState } from '../runtime/oci/hooks.js';
import type { ConsoleRequest } from '../runtime/terminal.js';
import { nodeOs } from '../util/node-os.js';

/**
 * runtime/container.ts (OCI config, seccomp policies, root filesystem plans) is
 * loaded only when used: a plain `tini-ts run` needs it only after the init started.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const containerModule = () => require('../runtime/container.js') as typeof import('../runtime/container.js');

export interface ContainerPlan {
  /** `run`'s command line: the workload's argv and --env values are taken from it as the kernel passed them. */
  args: string[];
  options: RunOptions;
  argv: string[];
  config: ContainerConfig | null;
  /** A root filesystem of its own (a bundle, --rootfs, --image...), not only namespaces. */
  inContainer: boolean;
  /** Debug notes of the config's translation (seccomp). */
  notes: string[];
  oci?: OciPlan;
}

/** What an OCI `create` adds: the init waits at the start gate and outlives the process that created it. */
export interface OciPlan {
  cgroupParent: string;
  cgroupName: string;
  /** The container's state directory (the root filesystem's state goes in it). */
  stateDir: string;
  /** O_PATH descriptor of the start FIFO the init waits on. */
  startGate: number;
  /** The start FIFO's path (an init spawned early opens it itself). */
  startGateFifo: string;
  /** process.terminal with --console-socket: the connected socket (inherited by the init) and the size. */
  terminal?: ConsoleRequest;
  /** --preserve-fds N: the caller's fds 3 .. 3+N-1 go to the workload (through the init). */
  preserveFds: number;
  /** The runtime-spec state hooks read on their stdin, but for its status and pid. */
  hookState: Omit<HookState, 'status' | 'pid'>;
}

/** Where the container's messages go: `run` says them on stderr, an OCI verb in its --log. */
export interface Say {
  warn(message: string): void;
  /** Absent: the launcher's logger at -v levels. */
  debug?(message: string): void;
}

/** The container the options describe: from the bundle, or the command line; its host inputs checked. */
export function planContainer(args: string[], options: RunOptions, argv: string[], say: Say, oci?: OciPlan): Outcome<ContainerPlan> {
  let config: ContainerConfig | null = null;
  let notes: string[] = [];
  if (options.container.bundle !== null) {
    const b = containerModule().fromBundle(options, nodeOs().availableParallelism(), oci?.terminal !== undefined);
    if (!b.ok) return b;
    if (b.value.warning) say.warn(b.value.warning);
    ({ options, argv, debug: notes } = b.value);
    config = b.value.config;
  } else if (needsProcessSpec(options)) {
    const c = containerModule().fromCommandLine(options, process.env);
    if (!c.ok) return c;
    config = c.value;
  }
  const inContainer = config !== null && (options.container.bundle !== null || isContainer(options.container));
  if (config && inContainer) {
    const checked = containerModule().checkInputs(config);
    if (!checked.ok) return checked;
  }
  return ok({ args, options, argv, config, inContainer, notes, oci });
}

/** The runtime-spec state a hook reads (no pid once there is none: runc's omitempty). */
export function hookStateOf(oci: OciPlan, status: HookState['status'], pid: number): HookState {
  const s = oci.hookState;
  return { ociVersion: s.ociVersion, id: s.id, status, ...(pid > 0 ? { pid } : {}), bundle: s.bundle, ...(s.annotations ? { annotations: s.annotations } : {}) };
}
