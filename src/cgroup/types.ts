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

/** One entry of blockIO's throttle lists: a rate (bytes or operations per second) for one device. */
export interface ThrottleDevice {
  major: number;
  minor: number;
  rate: number;
}

/** blockIO's four per-device throttle lists, by their runtime-spec names. */
export const THROTTLE_LISTS = ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const;
export type ThrottleList = (typeof THROTTLE_LISTS)[number];

/**
 * The cgroup input: the OCI runtime-spec's LinuxResources (config.json's
 * `linux.resources`, `update`'s resources), the fields tini-ts applies, under
 * their spec names, as youki's controllers and crun's cgroup-resources.c take
 * them. `run` translates its docker-style flags into one (cli/run-options.ts).
 * -1 removes a limit (memory.limit, memory.swap, memory.reservation,
 * pids.limit, cpu.quota); 0 in pids.limit or cpu.quota means "not set", as runc reads it.
 */
export interface LinuxResources {
  memory?: {
    /** bytes */
    limit?: number;
    /** a soft limit: v1 memory.soft_limit_in_bytes, v2 memory.low */
    reservation?: number;
    /** memory plus swap, in bytes (as docker's --memory-swap) */
    swap?: number;
    /** 0..100, cgroup v1 only: v2 has no per-cgroup swappiness */
    swappiness?: number;
    /** v1 memory.oom_control 1 (v2 has no such switch: its callers warn and drop it) */
    disableOOMKiller?: boolean;
  };
  cpu?: {
    /** v1 cpu.shares (2..262144); v2 converts it to cpu.weight */
    shares?: number;
    /** CFS quota in microseconds per period */
    quota?: number;
    /** CFS period in microseconds (default 100000), written with the quota */
    period?: number;
    /** cpuset.cpus, e.g. `0-1,3` */
    cpus?: string;
    /** cpuset.mems, e.g. `0` */
    mems?: string;
  };
  pids?: { limit?: number };
  blockIO?: {
    /** 10..1000: v1 blkio.weight (or blkio.bfq.weight), v2 io.weight (or io.bfq.weight) */
    weight?: number;
  } & Partial<Record<ThrottleList, ThrottleDevice[]>>;
  /** Device rules applied in order (cgroup v1 devices controller), as runc does. */
  devices?: DeviceRule[];
}

/**
 * How a cgroup is set up, beyond its resources: which hierarchies it joins
 * whatever the limits, and the device rules it starts with.
 */
export interface CgroupSetup {
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
  /**
   * The container's device rules (v1 devices controller), written with the
   * resources at creation: a bundle's linux.resources.devices then runc's
   * default allow list, or docker's defaults for `run`.
   */
  devices?: readonly DeviceRule[];
}

/**
 * One controller of a hierarchy version, as a list entry (v1/index.ts and
 * v2/index.ts hold the lists): a cgroup uses the controllers its set-up joins
 * or its resources name, applies each, and merges their statistics. A new
 * controller is one file per version and one entry per list.
 */
export interface Controller {
  /** The kernel's name (the v1 hierarchy, the v2 controller). */
  readonly name: string;
  /** Joined whatever the resources: the report reads its counters, or the set-up asks for it. */
  joined(setup: CgroupSetup): boolean;
  /** The resources name something this controller writes. */
  applies(r: LinuxResources): boolean;
  /**
   * Writes what it handles of the resources; throws a RunFailure naming the
   * file and the value, and for a value the kernel side refuses, its field
   * (`memory.swap`: its place in a LinuxResources), which callers name as
   * their user gave it.
   */
  apply?(dir: string, r: LinuxResources): void;
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
  /** write the resources (and, at creation, the set-up's device rules); throws a RunFailure naming the file and the value */
  apply(resources: LinuxResources): void;
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
 * errno, and for a value the kernel side can refuse, its field in a
 * LinuxResources (`field`), which the caller names as its user gave it.
 */
export const cgroupFailure = (what: string, more?: Partial<Omit<RunError, 'what'>>): RunFailure => new RunFailure(runError(what, more));

/** The names a launcher gives its cgroups: `<pid>-<starttime>-<random>` under a common parent. */
export const CGROUP_PARENT = 'tini-ts';
