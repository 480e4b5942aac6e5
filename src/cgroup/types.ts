import { RunFailure, runError, type RunError } from '../libc/error.js';

/**
 * One interface for a cgroup, whatever the hierarchy: create, apply limits,
 * add a process, read statistics, kill everything in it, remove it.
 * v1/ and v2/ implement it with one file per controller; both work against
 * any directory tree (the real /sys/fs/cgroup, or a fake one in tests).
 */

/**
 * One device cgroup rule, as OCI's linux.resources.devices[] (and the v1
 * devices.allow/deny lines): `type` 'a' means every device; a null major or
 * minor is the wildcard `*`; `access` is a subset of "rwm".
 */
export interface DeviceRule {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  major: number | null;
  minor: number | null;
  access: string;
}

export interface Limits {
  /** memory limit in bytes; -1: none (OCI update removing a limit) */
  memoryBytes?: number;
  /** docker's --memory-reservation, a soft limit: v1 memory.soft_limit_in_bytes, v2 memory.low; -1: none */
  memoryReservationBytes?: number;
  /** docker's --oom-kill-disable: v1 memory.oom_control 1 (v2 has no such switch: the launcher warns and drops it) */
  oomKillDisable?: boolean;
  /** docker's --memory-swap: memory plus swap in bytes; -1 for unlimited swap */
  memorySwapBytes?: number;
  /** maximum number of tasks (processes and threads); -1: none */
  pids?: number;
  /** CPU bandwidth in cores (0.5 = half of one core); Infinity: none */
  cpus?: number;
  /** CFS period in microseconds for --cpus (docker's default 100000) */
  cpuPeriodUs?: number;
  /** v1 cpu.shares (2..262144); v2 converts it to cpu.weight */
  cpuShares?: number;
  /** cpuset.cpus, e.g. `0-1,3` */
  cpusetCpus?: string;
  /** cpuset.mems, e.g. `0` */
  cpusetMems?: string;
  /** Device rules applied in order (cgroup v1 devices controller), as runc does. */
  devices?: DeviceRule[];
  /** memory.swappiness (0..100; cgroup v1 only: v2 has no per-cgroup swappiness) */
  memorySwappiness?: number;
  /** block I/O weight (10..1000): v1 blkio.weight (or blkio.bfq.weight), v2 io.weight (or io.bfq.weight) */
  blkioWeight?: number;
  /** block I/O throttles, per device: v1 blkio.throttle.*_device, v2 io.max */
  blkioThrottle?: Throttle[];
  /** Join the v1 freezer hierarchy too (OCI containers: pause, resume, the paused status). */
  freezable?: boolean;
  /**
   * Join the v1 blkio and cpuset hierarchies too, limits or not (OCI containers, as runc:
   * engines read a container's statistics, block I/O included, from its init's cgroups).
   */
  everyController?: boolean;
  /**
   * Join every other hierarchy mounted under the root too, as runc does (OCI containers on v1):
   * named ones (name=systemd), controllers tini-ts sets nothing through (net_cls, perf_event...)
   * and a hybrid host's cgroup v2 tree (`unified`). Only the process is written there.
   */
  everyHierarchy?: boolean;
}

/** Where each limit sits in an OCI LinuxResources (config.json's `linux.resources`, `update`'s resources): errors name it so. */
export const LIMIT_RESOURCES: Readonly<Partial<Record<keyof Limits, string>>> = {
  memoryBytes: 'memory.limit', memorySwapBytes: 'memory.swap', memorySwappiness: 'memory.swappiness', pids: 'pids.limit',
  cpus: 'cpu.quota', cpuPeriodUs: 'cpu.period', cpuShares: 'cpu.shares', cpusetCpus: 'cpu.cpus', cpusetMems: 'cpu.mems',
  blkioWeight: 'blockIO.weight', blkioThrottle: 'blockIO', devices: 'devices',
};

export interface Throttle {
  kind: 'readBps' | 'writeBps' | 'readIops' | 'writeIops';
  major: number;
  minor: number;
  /** bytes or operations per second */
  rate: number;
}

/**
 * One controller of a hierarchy version, as a list entry (v1/index.ts and
 * v2/index.ts hold the lists): a cgroup uses the controllers whose `needed`
 * says so, applies each, and merges their statistics. A new controller is
 * one file per version and one entry per list.
 */
export interface Controller {
  /** The kernel's name (the v1 hierarchy, the v2 controller). */
  readonly name: string;
  /** Used for every cgroup (the report reads its counters), or only when the limits ask for it. */
  needed(limits: Limits): boolean;
  /** Writes the limits it handles; throws a RunFailure naming the file and the value. */
  apply?(dir: string, limits: Limits): void;
  stats?(dir: string): Partial<CgroupStats>;
}

export interface CgroupStats {
  /** times the kernel's OOM killer killed a task in the cgroup (null: counter not available) */
  oomKills: number | null;
  /** times the memory limit was hit (v1 memory.failcnt, v2 memory.events max) */
  memoryLimitHits: number | null;
  memoryPeakBytes: number | null;
  cpuUserUs: number | null;
  cpuSystemUs: number | null;
  /** the kernel's pids.peak, when the kernel has it */
  pidsPeak: number | null;
  /** forks refused by pids.max (pids.events max) */
  pidsLimitHits: number | null;
}

export interface Cgroup {
  readonly version: 1 | 2;
  /** the leaf name (same in every hierarchy) */
  readonly name: string;
  /** the cgroup's directories (one per v1 hierarchy, one for v2) */
  readonly dirs: readonly string[];
  /** create the directories; throws a RunFailure */
  create(): void;
  /** write the limits; throws a RunFailure naming the file and the value */
  apply(limits: Limits): void;
  /** move a process (pid as seen by the writer; 0 = the writer itself) */
  addProcess(pid: number): void;
  /** the cgroup.procs files: a process joins by writing its pid (or 0) to each */
  procsFiles(): string[];
  /** pids in the cgroup, as the reader's pid namespace sees them */
  pids(): number[];
  /** pids.current (tasks), or null */
  pidsCurrent(): number | null;
  stats(): CgroupStats;
  /** SIGKILL everything inside until it is empty or `timeoutMs` passes; true if empty */
  killAll(timeoutMs?: number): boolean;
  /** rmdir every directory (retries briefly while tasks drain); true if all are gone */
  remove(): boolean;
}

/**
 * What the cgroup layer throws when a step fails (controllers' apply are list
 * callbacks): the runtime's one error type, carrying the file written and its
 * errno, and for a limit the kind can refuse, the Limits key it concerns
 * (`field`), which the caller names as its user gave it.
 */
export const cgroupFailure = (what: string, more?: Partial<Omit<RunError, 'what'>>): RunFailure => new RunFailure(runError(what, more));

/** The names a launcher gives its cgroups: `<pid>-<starttime>-<random>` under a common parent. */
export const CGROUP_PARENT = 'tini-ts';
