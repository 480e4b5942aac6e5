/**
 * `tini-ts run`: create, start, wait, destroy, in one process, then the
 * report. Reads as a table of contents:
 *   parse → the container's plan (command line or bundle) → createContainer
 *   (namespaces, the init started early, cgroup, root filesystem, set-up) →
 *   start (signals forwarded, --timeout) → waitExit → destroy (statistics,
 *   kill all, remove the cgroup) → report.
 *
 * Everything that can fail before the program runs exits 125 after undoing
 * what was done (nothing is left: the cgroup is removed, the init killed).
 */
import fs from 'node:fs';
import { EXIT_LAUNCHER, parseRunArgs } from '../cli/run-options.js';
import { render, type RunError } from '../libc/error.js';
import type { WaitStatus } from '../libc/types.js';
import { writeStderr, writeStdout } from '../log/log.js';
import { buildReport, formatReport } from '../runtime/report.js';
import { reportPathProblem } from '../runtime/host-paths.js';
import { quickExit } from '../runtime/quick-exit.js';
import { createContainer, type Container } from '../container/create.js';
import { destroy, ending } from '../container/destroy.js';
import { planContainer, type Say } from '../container/plan.js';
import { start, waitExit } from '../container/wait.js';
import { nodeOs } from '../util/node-os.js';

export function runLauncher(args: string[]): void {
  // The CPU count only when an option needs it (node:os is not loaded otherwise).
  const parsed = parseRunArgs(args, {
    get cpuCount() {
      return nodeOs().availableParallelism();
    },
  });
  if (parsed.kind === 'exit') {
    if (parsed.stdout) writeStdout(parsed.stdout);
    if (parsed.stderr) writeStderr(parsed.stderr);
    process.exit(parsed.code);
  }
  const started = nowMs();
  // An unusable --report is refused before anything is created (not after the workload ran).
  const badReport = parsed.options.reportFile === null ? null : reportPathProblem(parsed.options.reportFile);
  if (badReport) refuse(badReport);
  const say: Say = { warn: (w) => writeStderr(`tini-ts run: warning: ${w}\n`) };
  const plan = planContainer(args, parsed.options, parsed.argv, say);
  if (!plan.ok) return refuse(plan.error);

  createContainer(plan.value, say, (created) => {
    if (created.kind === 'failed') return refuse(created.error);
    // An init that ended before it was ready (a set-up failure) is reported as any end.
    if (created.kind === 'ended') return report(created.container, created.status, started);
    const c = created.container;
    start(c);
    waitExit(c, (status) => report(c, status, started));
  });
}

/** The one place `run` renders an error before the workload runs. */
function refuse(error: string | RunError): never {
  writeStderr(`tini-ts run: ${typeof error === 'string' ? error : render(error)}\n`);
  return process.exit(EXIT_LAUNCHER);
}

/** Destroys the container, says how it ended (stderr, --report) and exits with the workload's code. */
function report(c: Container, status: WaitStatus, started: number): never {
  const d = destroy(c);
  const end = ending(c, status, d);
  const { options } = c;
  const report = buildReport({
    status: end.mainStatus ? end.mainStatus.status : end.initOomKilled ? status : null,
    execError: end.execError ? { code: end.execError.code, exitCode: end.execError.exitCode } : null,
    error: end.failure,
    timedOut: c.timedOut,
    wallMs: nowMs() - started,
    stats: d.stats,
    sampledPidsPeak: d.sampledPidsPeak,
    limits: options.limits,
    cgroup: { version: c.cgroup.version, name: c.cgroupName },
    namespaces: [...options.namespaces],
  });
  // The init's own code for the status (--exit-on-stop) is the container's.
  if (report.error === null && end.mainStatus?.exitCode !== undefined) report.exit_code = end.mainStatus.exitCode;
  if (end.initOomKilled) c.logger.log('warn', "the kernel's OOM killer chose the init (the workload raised its OOM score): the container ended");
  // -q hides the report, never the launcher's own failure.
  if (!options.quiet || report.error) writeStderr(formatReport(report));
  let code = report.exit_code;
  if (options.reportFile) {
    try {
      fs.writeFileSync(options.reportFile, JSON.stringify(report, null, 2) + '\n');
    } catch (e) {
      writeStderr(`tini-ts run: cannot write the report to ${options.reportFile}: ${(e as NodeJS.ErrnoException).code}\n`);
      code = EXIT_LAUNCHER;
    }
  }
  return quickExit(c.ns, code); // everything is written (synchronously)
}

/** Monotonic milliseconds without loading perf_hooks (the `performance` global does). */
function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
