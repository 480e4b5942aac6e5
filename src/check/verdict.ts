/** Verdicts from a scenario's evidence (pure: unit-testable with made-up runs). */
import { signalName } from '../libc/signals.js';
import type { RunResult } from './scenario.js';

export type Verdict = 'healthy' | 'unhealthy' | 'skipped';

export interface ScenarioReport {
  scenario: string;
  verdict: Verdict;
  /** One line: what happened. */
  summary: string;
  /** Facts behind the verdict. */
  evidence: Record<string, unknown>;
  problems: string[];
  events: Record<string, any>[];
}

/** A zombie of a living parent that lasts this long is one nobody reaps. */
export const ZOMBIE_MS = 1000;

function describeMain(main: Record<string, any> | undefined): string {
  if (!main) return 'still running';
  if (main.signo !== null) return `killed by ${main.signal_name}${main.core_dumped ? ' (core dumped)' : ''}`;
  return `exited ${main.exit_code}`;
}

const secs = (ns: number) => `${(ns / 1e9).toFixed(2)} s`;

export function judge(run: RunResult, signal: number | null, expectExit: boolean): ScenarioReport {
  const ev = run.events;
  const main = ev.find((e) => e.event === 'reap' && e.main);
  const exit = ev.find((e) => e.event === 'exit');
  const spawn = ev.find((e) => e.event === 'spawn');
  const escalations = ev.filter((e) => e.event === 'escalate');
  const orphansReaped = ev.filter((e) => e.event === 'reap' && !e.main);
  const sentMono = run.signalMono === null ? null : Number(run.signalMono);
  const tookNs = main && sentMono !== null ? Math.max(0, main.mono_ns - sentMono) : null;
  // Zombies already handed to the init are its to reap (or go with the namespace): not left behind.
  const initPid = ev.find((e) => e.event === 'start')?.pid;
  const left = exit ? (exit.left as Record<string, any>[]).filter((p) => !(p.state === 'Z' && p.ppid === initPid)) : [];
  const leftText = left.map((p) => `${p.comm} (pid ${p.pid}, state ${p.state})`).join(', ');
  const lastingZombies = run.zombies.filter((z) => z.seenMs >= ZOMBIE_MS);
  const problems: string[] = [];
  const evidence: Record<string, unknown> = {
    mode: run.mode === 'pid1' ? 'init is PID 1 of a new pid namespace' : 'init is a subreaper (not root: no pid namespace)',
    main: describeMain(main),
    exit_code: exit?.code ?? null,
    took: tookNs === null ? null : secs(tookNs),
    sigkill_needed: escalations.length > 0,
    orphans_reaped: orphansReaped.length,
    left_at_exit: exit?.left_count ?? null,
  };
  const base = { scenario: run.scenario, evidence, problems, events: ev };

  if (run.error) return { ...base, verdict: 'unhealthy', summary: `could not run: ${run.error}`, problems: [run.error] };
  if (!spawn) {
    evidence.main = 'not started';
    const why = exit?.errno ? `the program could not be started (${exit.errno})` : 'the init did not start the program';
    return { ...base, verdict: 'unhealthy', summary: why, problems: [why, run.output.trim().split('\n').at(-1) ?? ''] };
  }
  if (!run.ready) {
    problems.push(main ? `the program ended before it was ready (${describeMain(main)})` : 'the program never became ready');
    const tail = run.output.trim().split('\n').slice(-3).join(' | ');
    if (tail) problems.push(`its output ended with: ${tail}`);
    return { ...base, verdict: 'unhealthy', summary: problems[0], problems };
  }

  const sig = signal ?? (run.scenario === 'ctrl-c' ? 2 : 15);
  const received = ev.filter((e) => e.event === 'signal' && e.signo === sig);
  const forwarded = ev.filter((e) => e.event === 'forward' && e.signo === sig && e.result === 'ok');
  const after = (e: Record<string, any>) => sentMono === null || e.mono_ns >= sentMono;

  if (run.scenario === 'staged-stop') {
    // --stop-scope all: the program's group, then every other process (stage 2), SIGKILL at the deadline.
    const stages = ev.filter((e) => e.event === 'stop-stage');
    const others = stages.filter((e) => e.stage === 'others').flatMap((e) => e.procs as Record<string, any>[]);
    const killed = stages.filter((e) => e.stage === 'kill').flatMap((e) => e.procs as Record<string, any>[]);
    const names = (ps: Record<string, any>[]) => ps.map((p) => `${p.comm} (pid ${p.pid})`).join(', ');
    evidence.outside_the_group = others.length;
    evidence.outside_the_group_stopped = others.length - killed.length;
    if (others.length > 0) evidence.note = `${others.length} process(es) had left the program's group: without --stop-scope all they would never get ${signalName(sig)}`;
    if (killed.length > 0) problems.push(`${killed.length} process(es) outside the program's group did not stop within the grace period after their ${signalName(sig)}: ${names(killed)}`);
    if (escalations.length > 0) problems.push(`the program's group did not exit within the grace period: SIGKILL was needed`);
    if (!main) problems.push('the program did not stop');
    if (forwarded.length !== 1) problems.push(`${signalName(sig)} was forwarded ${forwarded.length} times, not once`);
    if (problems.length === 0 && exit?.stop) evidence.took = secs(exit.stop.after_ms * 1e6);
  } else if (run.scenario === 'docker-stop' || (run.scenario.startsWith('signal:') && expectExit)) {
    if (escalations.length > 0) {
      problems.push(`did not exit within the ${run.scenario === 'docker-stop' ? 'grace period' : 'time given'}: SIGKILL was needed (${escalations.map((e) => `${e.target} ${e.id}`).join(', ')})`);
    } else if (!main || !after(main)) {
      if (!main) problems.push('the program did not stop');
    }
    if (main && main.signo === sig) evidence.note = `died of ${signalName(sig)}'s default action: no handler, no clean-up`;
    if (forwarded.length !== 1) problems.push(`${signalName(sig)} was forwarded ${forwarded.length} times, not once`);
  } else if (run.scenario === 'ctrl-c') {
    const extra = received.length;
    evidence.sigint_from_terminal = 1;
    evidence.sigint_forwarded_by_init = forwarded.length;
    evidence.foreground = spawn.foreground_tty ? 'the program' : 'the init';
    if (!spawn.foreground_tty && extra === 0) problems.push('the init did not give the terminal to the program');
    if (spawn.foreground_tty && forwarded.length > 0) problems.push(`the program got SIGINT ${1 + forwarded.length} times: the init forwarded ${forwarded.length} more`);
    if (escalations.length > 0) problems.push('the program did not stop on ^C: SIGKILL was needed');
    else if (!main || main.mono_ns < (sentMono ?? 0)) problems.push('the program did not stop on ^C');
  } else if (run.scenario === 'orphans') {
    evidence.zombies_of_living_parents = lastingZombies.length;
    evidence.max_descendants = run.maxDescendants;
    if (lastingZombies.length > 0) {
      const by = new Map<string, number>();
      for (const z of lastingZombies) by.set(`${z.parentComm} (pid ${z.ppid})`, (by.get(`${z.parentComm} (pid ${z.ppid})`) ?? 0) + 1);
      problems.push(`${lastingZombies.length} zombie(s) left unreaped by a living parent: ${[...by].map(([p, n]) => `${n} of ${p}`).join(', ')}`);
    }
  } else {
    // sighup and --signal NAME that the program should survive.
    evidence.forwarded = forwarded.length;
    if (forwarded.length !== 1) problems.push(`${signalName(sig)} was forwarded ${forwarded.length} times, not once`);
    if (main && sentMono !== null && main.mono_ns >= sentMono && isBeforeStop(ev, main)) {
      problems.push(`the program did not survive ${signalName(sig)}: ${describeMain(main)}`);
    }
  }
  if (left.length > 0) {
    problems.push(`${left.length} descendant(s) still there when the program ended: ${leftText}`);
  }
  if (run.timedOut) problems.push('the run had to be killed from outside');

  const verdict = problems.length === 0 ? 'healthy' : 'unhealthy';
  const summary =
    verdict === 'healthy'
      ? healthySummary(run, main, tookNs, orphansReaped.length)
      : problems[0];
  return { ...base, verdict, summary, problems };
}

/** Whether the main child ended before the check's own stop (SIGTERM) was forwarded. */
function isBeforeStop(ev: Record<string, any>[], main: Record<string, any>): boolean {
  const stop = ev.find((e) => e.event === 'forward' && e.signo === 15);
  return !stop || main.mono_ns < stop.mono_ns;
}

function healthySummary(run: RunResult, main: Record<string, any> | undefined, tookNs: number | null, orphans: number): string {
  const took = tookNs === null ? '' : ` in ${secs(tookNs)}`;
  switch (run.scenario) {
    case 'docker-stop':
      return `stopped by itself${took} (${describeMain(main)}), no SIGKILL`;
    case 'staged-stop': {
      const others = run.events.filter((e) => e.event === 'stop-stage' && e.stage === 'others').flatMap((e) => e.procs as Record<string, any>[]);
      const stop = run.events.find((e) => e.event === 'exit')?.stop;
      const all = stop ? ` in ${secs(stop.after_ms * 1e6)}` : took;
      return others.length === 0
        ? `stopped by itself${all} (${describeMain(main)}); nothing had left the program's group`
        : `everything stopped by itself${all}: the program (${describeMain(main)}), then ${others.length} process(es) outside its group (${others.map((p) => p.comm).join(', ')}), no SIGKILL`;
    }
    case 'ctrl-c':
      return `got SIGINT once and stopped${took} (${describeMain(main)})`;
    case 'orphans':
      return `${orphans} orphan(s) reaped by the init, no zombie or process left behind`;
    default:
      return `survived the signal, which was forwarded once`;
  }
}
