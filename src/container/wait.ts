/**
 * A created container's run, on the launcher's side: start(c) passes the
 * signals kept during creation to the init and forwards every later one
 * (`run`: the init spawns the workload once ready, its process frame having
 * come with the set-up; an OCI container is started by the `start` verb, at
 * the FIFO), and arms --timeout; waitExit(c) samples the pids count and calls
 * back once the init has ended and every message is in. A stop the init
 * should have ended within its allowance (delay, pre-stop, grace) ends in the
 * backstop: SIGKILL to everything in the cgroup.
 */
import { SIG } from '../libc/signals.js';
import type { WaitStatus } from '../libc/types.js';
import { readStats } from './destroy.js';
import { BACKSTOP_MS } from './teardown.js';
import { writeQuietly, type Container } from './create.js';

const SAMPLE_MS = 50;

export function start(c: Container): void {
  const { options, link, logger } = c;
  // The init may hold a stop back (--stop-delay) and run --pre-stop (bounded by the grace period) before its own grace starts.
  const { stop: policy } = options;
  const stopAllowanceMs = (policy.stopDelayMs ?? 0) + (policy.preStop !== null ? options.graceMs : 0) + options.graceMs + BACKSTOP_MS;
  let backstop: NodeJS.Timeout | undefined;
  const armBackstop = () => {
    backstop ??= setTimeout(() => {
      logger.log('warn', 'the program outlived its grace period: killing everything in its cgroup');
      c.cgroup.killAll(BACKSTOP_MS);
    }, stopAllowanceMs);
  };
  // What the init makes of a signal (--map): a stop when SIGTERM or SIGINT is received or sent.
  const stopsProgram = (sig: number): boolean => {
    const sent = policy.signalMap.has(sig) ? policy.signalMap.get(sig)! : sig;
    return sent !== null && [SIG.TERM, SIG.INT].some((s) => s === sig || s === sent);
  };
  const forward = (sig: number) => {
    c.libc.kill(c.initPid, sig);
    if (stopsProgram(sig) || c.timedOut) armBackstop();
  };
  const timeout =
    options.timeoutMs === null
      ? undefined
      : setTimeout(() => {
          logger.log('info', `timeout of ${options.timeoutMs! / 1000}s reached: stopping the program`);
          c.timedOut = true;
          forward(SIG.TERM);
        }, options.timeoutMs);
  c.stopTimers = () => [backstop, timeout].forEach((t) => t && clearTimeout(t));
  link.onMessage = (m) => {
    // Not the OOM killer's choice while the workload runs. Set from here
    // (the init lacks CAP_SYS_RESOURCE) and only now: a value set before
    // the spawn would be inherited by the workload, with the right to lower
    // its own score that far.
    if (m.kind === 'spawned') writeQuietly(`/proc/${c.initPid}/oom_score_adj`, '-1000', logger);
    // The workload's end, the init's last word: the counters are final (the init itself
    // runs no more code) and are read while the kernel tears the init down.
    else if (m.kind === 'status') c.finalStats = readStats(c);
  };
  // Signals that waited until the init listened to them (an init that is still starting would die of them), in order.
  link.onSignal = forward;
  for (const sig of link.early.splice(0)) forward(sig);
}

/** Calls back once the init has ended (its wait status), every message in; the timers stopped. */
export function waitExit(c: Container, onExit: (status: WaitStatus) => void): void {
  const sampler = setInterval(() => {
    const n = c.cgroup.pidsCurrent();
    if (n !== null && n > (c.sampledPeak ?? 0)) c.sampledPeak = n;
  }, SAMPLE_MS);
  c.link.onEnd = (status) => {
    clearInterval(sampler);
    c.stopTimers();
    onExit(status);
  };
}
