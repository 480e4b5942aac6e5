/**
 * The end of a container made by createContainer: its counters read, every
 * process in its cgroup killed, the cgroup and the state directory removed;
 * and what the end was (the workload's status, an exec failure, the init's
 * own error), as `run`'s report and an OCI create's failure say it.
 */
import type { CgroupStats } from '../cgroup/types.js';
import { SIG } from '../libc/signals.js';
import type { WaitStatus } from '../libc/types.js';
import type { InitMessage } from '../runtime/init-protocol.js';
import { SECCOMP_KILLED_INIT } from '../runtime/hardening/texts.js';
import type { Container } from './create.js';

export interface Destroyed {
  /** The cgroup's counters, the init's own tasks taken out of the pids figures. */
  stats: CgroupStats | null;
  sampledPidsPeak: number | null;
  /** Everything was removed. */
  clean: boolean;
}

/** Statistics first (before anything is killed or removed), then kill all, remove the cgroup and the state. */
export function destroy(c: Container): Destroyed {
  c.link.detach();
  const stats = c.finalStats !== undefined ? c.finalStats : readStats(c);
  if (stats && stats.pidsPeak !== null) stats.pidsPeak = Math.max(0, stats.pidsPeak - c.initTasks);
  const sampled = c.sampledPeak === null ? null : Math.max(0, c.sampledPeak - c.initTasks);
  // A reaped init's pid may be another process's by now.
  if (c.link.reaped) c.teardown.initPid = null;
  const clean = c.teardown.run();
  return { stats, sampledPidsPeak: sampled, clean };
}

/** The cgroup's counters now, or null (said as a warning). */
export function readStats(c: Container): CgroupStats | null {
  try {
    return c.cgroup.stats();
  } catch (e) {
    c.logger.log('warn', `could not read the cgroup's counters: ${(e as Error).message}`);
    return null;
  }
}

export interface Ending {
  mainStatus: Extract<InitMessage, { kind: 'status' }> | undefined;
  execError: Extract<InitMessage, { kind: 'exec-error' }> | undefined;
  /** The container's end is a failure of tini-ts's own (the report's error), or null. */
  failure: string | null;
  /**
   * The workload can raise the init's OOM score and then run out of
   * memory: the init dies of SIGKILL with the counter up. That is the
   * container's OOM end, reported as such.
   */
  initOomKilled: boolean;
}

/** What the init's messages and its own status say of the end. */
export function ending(c: Container, status: WaitStatus, d: Destroyed): Ending {
  const mainStatus = c.link.last('status');
  const execError = c.link.last('exec-error');
  const error = c.link.last('error');
  const initOomKilled = !mainStatus && !execError && !error && (status & 0x7f) === SIG.KILL && (d.stats?.oomKills ?? 0) > 0;
  let failure = error?.message ?? null;
  if (!failure && !mainStatus && !execError && !initOomKilled) failure = `the init ended without reporting the program's status (init ${describeStatus(status)})${(status & 0x7f) === SIG.SYS && c.plan.config?.process.seccomp ? `: ${SECCOMP_KILLED_INIT}` : ''}`;
  if (!failure && !d.clean) failure = 'could not remove the cgroup (see the warnings above)';
  return { mainStatus, execError, failure, initOomKilled };
}

export function describeStatus(status: WaitStatus): string {
  const low = status & 0x7f;
  return low === 0 ? `exited with ${(status >> 8) & 0xff}` : `killed by signal ${low}`;
}
