/**
 * Why a spawn failed with EAGAIN, in words: the process or thread limit.
 *
 * The init is a Node process: its main thread and two helper threads
 * (DelayedTaskScheduler and one V8 worker, --v8-pool-size=1) count against
 * a pids cgroup limit like processes do, so `docker run --pids-limit 3` runs
 * the init but leaves no room for the program. Pure: the shell reads the
 * files and passes their text in.
 */

/** A pids cgroup's limit and use, as read from its pids.max and pids.current. */
export interface PidsLimit {
  /** The pids.max file the limit was read from. */
  file: string;
  max: number;
  current: number;
}

/**
 * The pids cgroup directories of the process, innermost first and up to the
 * root of the hierarchy (a limit set on an ancestor counts too), from the
 * text of /proc/self/cgroup: the v1 `pids` hierarchy, then the v2 one.
 */
export function pidsCgroupDirs(procSelfCgroup: string, root = '/sys/fs/cgroup'): string[] {
  const dirs: string[] = [];
  for (const line of procSelfCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line.trim());
    if (!m) continue;
    const controllers = m[2].split(',');
    const base = controllers.includes('pids') ? `${root}/pids` : m[1] === '0' && m[2] === '' ? root : undefined;
    if (base === undefined) continue;
    const parts = m[3].split('/').filter(Boolean);
    for (let i = parts.length; i >= 0; i--) dirs.push([base, ...parts.slice(0, i)].join('/'));
  }
  return dirs;
}

/** pids.max's text: a number, or `max` (no limit: undefined). */
export function parsePidsMax(text: string): number | undefined {
  const t = text.trim();
  return /^\d+$/.test(t) ? Number(t) : undefined;
}

/**
 * The rest of the one line after `exec PROGRAM failed: ... (EAGAIN)`: which
 * limit is reached and what the init needs. `limit` is the pids cgroup whose
 * limit is reached, if one is.
 */
export function describeTaskLimit(limit: PidsLimit | undefined, initTasks: number): string {
  const needs = `the init takes ${initTasks} tasks (Node's main thread and its helper threads) and the program at least 1 more`;
  if (limit) return `the pids limit is reached (${limit.file}: ${limit.max}, ${limit.current} in use); ${needs}, so pids.max must be at least ${initTasks + 1}`;
  return `the process or thread limit is reached (RLIMIT_NPROC, or the kernel's threads-max); ${needs}`;
}
