/**
 * tini-ts check [OPTIONS] -- PROGRAM [ARGS...]
 *
 * Runs PROGRAM under the init once per scenario and says whether its signal
 * semantics are healthy. Exit 0: every scenario healthy; 1: one is not;
 * 2: bad usage. (The check command is not the init: process.stdout is fine.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isSea } from '../libc/koffi-native.js';
import { parseSignal, signalName } from '../libc/signals.js';
import { outputFileProblem } from '../runtime/host-paths.js';
import { json, junit, table } from './report.js';
import { havePython, runScenario, type CheckOptions, type ScenarioName } from './scenario.js';
import { judge, type ScenarioReport } from './verdict.js';

export const CHECK_USAGE = `Usage: tini-ts check [OPTIONS] -- PROGRAM [ARGS...]

Runs PROGRAM under tini-ts once per scenario and reports whether it handles
signals well (as PID 1 of a new pid namespace when root, else with -s):

  docker-stop  SIGTERM as \`docker stop\` sends it: does everything exit by
               itself within the grace period, or is SIGKILL needed?
  ctrl-c       ^C typed on a terminal: SIGINT exactly once, and it stops
  orphans      orphans reaped by the init; no zombie of a living parent,
               no process left behind when the program ends
  sighup       (not by default) the program survives SIGHUP (reload)
  staged-stop  (not by default) SIGTERM under --stop-scope all: do the
               processes that left the program's group (daemons, their
               children) stop by themselves after their own SIGTERM?

Options:
  --scenario LIST     comma-separated scenarios (default docker-stop,ctrl-c,orphans)
  --signal NAME[=survive|exit]
                      also send NAME (repeatable); by default TERM, INT and QUIT
                      should make it exit and others should be survived
  --grace SECONDS     grace period before SIGKILL (default 10)
  --ready-after SECONDS  the program is ready this long after start (default 1)
  --ready-file PATH   the program is ready once PATH exists
  --observe SECONDS   how long to watch after a signal it should survive, and
                      before stopping it in the orphans scenario (default 2)
  --json FILE         write verdicts, evidence and every event stream as JSON
  --junit FILE        write JUnit XML
  -h, --help          this text
`;

const SCENARIOS = ['docker-stop', 'ctrl-c', 'orphans', 'sighup', 'staged-stop'];

/** Control characters (a terminal's escape sequences, newlines) as visible escapes: a usage error is one inert line. */
export function visible(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => ({ '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function usage(message: string): never {
  process.stderr.write(`tini-ts check: ${visible(message)} (see 'tini-ts check --help')\n`);
  process.exit(2);
}

function seconds(flag: string, v: string | undefined): number {
  if (v === undefined || !/^\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$/.test(v)) usage(`${flag} needs a number of seconds`);
  const ms = Math.round(Number(v) * 1000);
  if (ms > 2 ** 31 - 1) usage(`${flag}: too long`);
  return ms;
}

interface Parsed {
  scenarios: { name: ScenarioName; signal: number | null; expectExit: boolean }[];
  opts: Omit<CheckOptions, 'workDir'>;
  jsonFile: string | null;
  junitFile: string | null;
}

function selfCommand(): { self: string[]; selfExe: string } {
  const sea = isSea();
  const exe = fs.realpathSync(process.execPath);
  return sea ? { self: [process.execPath], selfExe: exe } : { self: [process.execPath, path.resolve(process.argv[1])], selfExe: exe };
}

export function parseCheckArgs(args: string[]): Parsed | 'help' {
  let scenarioList = ['docker-stop', 'ctrl-c', 'orphans'];
  const signals: { sig: number; expectExit: boolean }[] = [];
  let graceMs = 10_000;
  let readyAfterMs = 1000;
  let readyFile: string | null = null;
  let observeMs = 2000;
  let jsonFile: string | null = null;
  let junitFile: string | null = null;
  let i = 0;
  for (; i < args.length; i++) {
    let a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-h' || a === '--help') return 'help';
    if (!a.startsWith('-')) break;
    let v: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const value = () => v ?? args[++i] ?? usage(`${a} needs a value`);
    switch (a) {
      case '--scenario': {
        const v = value();
        scenarioList = v.split(',').map((s) => s.trim()).filter(Boolean);
        if (scenarioList.length === 0) usage(`--scenario '${v}' names no scenario (${SCENARIOS.join(', ')})`);
        for (const s of scenarioList) if (!SCENARIOS.includes(s)) usage(`unknown scenario '${s}' (${SCENARIOS.join(', ')})`);
        break;
      }
      case '--signal': {
        const [name, expect] = value().split('=');
        const sig = parseSignal(name);
        if (sig === undefined || sig === 9 || sig === 19) usage(`--signal: not a signal that can be forwarded: '${name}'`);
        if (expect !== undefined && expect !== 'survive' && expect !== 'exit') usage(`--signal ${name}=${expect}: expected survive or exit`);
        signals.push({ sig, expectExit: expect === undefined ? [2, 3, 15].includes(sig) : expect === 'exit' });
        break;
      }
      case '--grace': graceMs = seconds(a, value()); break;
      case '--ready-after': readyAfterMs = seconds(a, value()); break;
      case '--ready-file': readyFile = path.resolve(value()); break;
      case '--observe': observeMs = seconds(a, value()); break;
      case '--json':
      case '--junit': {
        // Checked now, not after every scenario ran: one line, exit 2.
        const file = path.resolve(value());
        const problem = outputFileProblem(a, file);
        if (problem) usage(problem);
        if (a === '--json') jsonFile = file;
        else junitFile = file;
        break;
      }
      default: usage(`unknown option '${a}'`);
    }
  }
  const program = args.slice(i);
  if (program.length === 0) usage('no program to check given');
  const scenarios: Parsed['scenarios'] = scenarioList.map((name) => ({ name: name as ScenarioName, signal: name === 'sighup' ? 1 : null, expectExit: false }));
  for (const s of signals) scenarios.push({ name: `signal:${signalName(s.sig)}`, signal: s.sig, expectExit: s.expectExit });
  return { scenarios, opts: { program, graceMs, readyAfterMs, readyFile, observeMs, ...selfCommand() }, jsonFile, junitFile };
}

export function runCheck(args: string[]): void {
  const parsed = parseCheckArgs(args);
  if (parsed === 'help') {
    process.stdout.write(CHECK_USAGE);
    return;
  }
  void check(parsed).then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`tini-ts check: ${(e as Error)?.message ?? e}\n`);
      process.exitCode = 1;
    },
  );
}

async function check(p: Parsed): Promise<number> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tini-ts-check-'));
  // Also when the check dies of an exception: its temporary directory goes with it.
  process.on('exit', () => fs.rmSync(workDir, { recursive: true, force: true }));
  const opts: CheckOptions = { ...p.opts, workDir };
  const reports: ScenarioReport[] = [];
  const durations = new Map<ScenarioReport, number>();
  try {
    for (const s of p.scenarios) {
      const t0 = performance.now();
      let report: ScenarioReport;
      if (s.name === 'ctrl-c' && !havePython()) {
        report = { scenario: s.name, verdict: 'skipped', summary: 'python3 is needed for the pseudo-terminal', evidence: {}, problems: [], events: [] };
      } else {
        const run = await runScenario(s.name, s.signal, opts);
        report = judge(run, s.signal, s.expectExit);
      }
      durations.set(report, (performance.now() - t0) / 1000);
      reports.push(report);
    }
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  process.stdout.write(table(p.opts.program, reports));
  if (p.jsonFile) fs.writeFileSync(p.jsonFile, json(p.opts.program, reports));
  if (p.junitFile) fs.writeFileSync(p.junitFile, junit(p.opts.program, reports, (r) => durations.get(r) ?? 0));
  return reports.some((r) => r.verdict === 'unhealthy') ? 1 : 0;
}
