/**
 * The init's command line and environment, parsed without side effects.
 *
 * tini's surface: -s -p SIG -v -w -g -e CODE -l -h --version and
 * TINI_SUBREAPER, TINI_VERBOSITY, TINI_KILL_PROCESS_GROUP; plus --grace /
 * TINI_GRACE, --events / TINI_EVENTS, --map / TINI_MAP, --stop-delay /
 * TINI_STOP_DELAY, --timeout / TINI_TIMEOUT, --stop-scope / TINI_STOP_SCOPE,
 * --exit-on-stop / TINI_EXIT_ON_STOP, --pre-stop / TINI_PRE_STOP, --user /
 * TINI_USER (a flag wins over its variable). Options end at `--` or at the first argument that is not an
 * option (unlike tini's GNU getopt, `tini-ts sh -c 'exit 3'` runs `sh`).
 */
import { SIG, parseSignal, signalName } from '../libc/signals.js';
import { parseEventDest } from '../events/destination.js';
import { parseDuration } from '../cgroup/size.js';
import { idRangeProblem, parseId } from '../libc/ids.js';

export interface InitOptions {
  subreaper: boolean;
  /** Signal the init itself gets when its parent dies (prctl PR_SET_PDEATHSIG). */
  parentDeathSignal: number | null;
  /** 0 fatal only, 1 warnings (default), 2 info, 3 debug, 4 trace. */
  verbosity: number;
  warnOnReap: boolean;
  /** Exit codes of the main child that become 0 (-e). */
  expectedCodes: ReadonlySet<number>;
  /** Milliseconds between a forwarded SIGTERM/SIGINT and SIGKILL to the group; null: never. */
  graceMs: number | null;
  /** Event stream destination (--events / TINI_EVENTS): a path, `fd:N` or `-`; null: off. */
  events: string | null;
  /** --map FROM:TO: a received signal -> the one sent instead, or null (`ignore`): not forwarded. */
  signalMap: ReadonlyMap<number, number | null>;
  /** --stop-delay: milliseconds a received SIGTERM/SIGINT waits before it is forwarded; null: none. */
  stopDelayMs: number | null;
  /** --timeout: milliseconds the program may run before the init stops it; null: no limit. */
  timeoutMs: number | null;
  /**
   * --termination-log: the file that gets the termination message at exit;
   * null: /dev/termination-log if it exists (as Kubernetes provides it).
   */
  terminationLog: string | null;
  /** --stop-scope: who gets the stop (`group`: the main child's process group, as tini; `all`: everyone reachable, staged). */
  stopScope: 'group' | 'all';
  /** --exit-on-stop: the exit code when the program ended by the forwarded stop signal; null: its own. */
  exitOnStop: number | null;
  /** --pre-stop: a command (run by /bin/sh -c) on the first stop signal, before it is forwarded; null: none. */
  preStop: string | null;
  /** --user USER[:GROUP] (names or ids): the program's user, resolved against /etc/passwd and /etc/group at start; null: the init's. */
  user: { user: string; group: string | null } | null;
}

/** Where Kubernetes reads a container's termination message by default. */
export const DEFAULT_TERMINATION_LOG = '/dev/termination-log';

export type Env = Readonly<Record<string, string | undefined>>;

export type ParseResult =
  | { kind: 'run'; options: InitOptions; programIndex: number }
  | { kind: 'exit'; code: number; stdout?: string; stderr?: string };

/** Usage errors exit 1, as tini's do. */
export const EXIT_USAGE = 1;

/** setTimeout's ceiling (about 24.8 days). */
const MAX_GRACE_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

const usageError = (message: string): ParseResult => ({
  kind: 'exit',
  code: EXIT_USAGE,
  stderr: `tini-ts: ${printable(message)} (see 'tini-ts -h')\n`,
});

/**
 * Messages quote what the user typed: escape what would break the one line
 * (newlines, other control characters, line separators) or not encode
 * (a lone half of a surrogate pair).
 */
function printable(text: string): string {
  return text.replace(
    /[\x00-\x1f\x7f-\x9f\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  );
}

/** A number of seconds: `10`, `2.5`, `0`. Returns milliseconds or an error text. */
export function parseSeconds(text: string): number | string {
  if (!/^\s*(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*$/.test(text)) {
    return `not a number of seconds: '${text}'`;
  }
  const s = Number(text);
  if (s > MAX_GRACE_SECONDS) return `too long: '${text}' (at most ${MAX_GRACE_SECONDS} seconds)`;
  return Math.round(s * 1000);
}

/** Signals --map cannot take as FROM: the kernel never lets the init catch KILL and STOP, and SIGCHLD drives reaping. */
const UNMAPPABLE: ReadonlySet<number> = new Set([SIG.KILL, SIG.STOP, SIG.CHLD]);

/**
 * One --map rule, FROM:TO: two signals (names, numbers, RTMIN+n), or TO
 * `ignore`. Adds it to `map`, or returns the error text.
 */
export function parseMapRule(text: string, map: Map<number, number | null>): string | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return `not FROM:TO: '${text}' (e.g. USR1:USR2 or HUP:ignore)`;
  const [fromText, toText] = [text.slice(0, colon), text.slice(colon + 1)];
  const from = parseSignal(fromText);
  if (from === undefined) return `not a signal: '${fromText}'`;
  if (UNMAPPABLE.has(from)) return `${signalName(from)} cannot be mapped`;
  let to: number | null;
  if (toText.trim().toLowerCase() === 'ignore') to = null;
  else {
    const t = parseSignal(toText);
    if (t === undefined) return `not a signal or 'ignore': '${toText}'`;
    to = t;
  }
  if (map.has(from)) return `${signalName(from)} is mapped twice`;
  map.set(from, to);
  return undefined;
}

/** --timeout's value: a duration (30s, 2m, 1h30m, 500ms; a bare number is seconds), more than 0. */
function parseTimeout(text: string): number | string {
  const ms = parseDuration(text);
  if (typeof ms === 'string') return ms;
  return ms > 0 ? ms : `must be more than 0: '${text}'`;
}

/** USER[:GROUP]: names or decimal ids in the kernel's range (names are looked up at start). */
export function parseUser(text: string): { user: string; group: string | null } | string {
  const m = /^([^:\s]+)(?::([^:\s]+))?$/.exec(text);
  if (!m) return `not USER[:GROUP]: '${text}' (e.g. 1000, app, 1000:1000, app:staff)`;
  for (const [what, id] of [['user', m[1]], ['group', m[2]]] as const) {
    if (id !== undefined && /^[0-9]+$/.test(id) && parseId(id) === null) return idRangeProblem(what, id);
  }
  return { user: m[1], group: m[2] ?? null };
}

export function parseStopScope(text: string): 'group' | 'all' | undefined {
  return text === 'group' || text === 'all' ? text : undefined;
}

export function parseExitCode(text: string): number | undefined {
  if (!/^[0-9]{1,3}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 255 ? n : undefined;
}

export function parseInitArgs(args: readonly string[], env: Env, texts: { usage: string; license: string; version: string }): ParseResult {
  let subreaper = env.TINI_SUBREAPER !== undefined; // set at all, as in tini (even "0")
  let parentDeathSignal: number | null = null;
  let verbosity = 1;
  let warnOnReap = false;
  const expectedCodes = new Set<number>();
  let graceMs: number | null = null;
  let graceFromFlag = false;
  let events: string | null = null;
  const signalMap = new Map<number, number | null>();
  let stopDelayMs: number | null = null;
  let stopDelayFromFlag = false;
  let timeoutMs: number | null = null;
  let timeoutFromFlag = false;
  let terminationLog: string | null = null;
  let stopScope: 'group' | 'all' | null = null;
  let exitOnStop: number | null = null;
  let preStop: string | null = null;
  let user: { user: string; group: string | null } | null = null;

  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a === '--version') return { kind: 'exit', code: 0, stdout: texts.version + '\n' };
    if (a === '-h' || a === '--help') return { kind: 'exit', code: 0, stdout: texts.usage };
    if (a === '--license') return { kind: 'exit', code: 0, stdout: texts.license };
    if (a === '--grace' || a.startsWith('--grace=')) {
      let v: string | undefined;
      if (a.includes('=')) v = a.slice('--grace='.length);
      else v = args[++i];
      if (v === undefined) return usageError('--grace needs a number of seconds');
      const ms = parseSeconds(v);
      if (typeof ms === 'string') return usageError(`--grace: ${ms}`);
      graceMs = ms;
      graceFromFlag = true;
      continue;
    }
    if (a === '--events' || a.startsWith('--events=')) {
      const v = a.includes('=') ? a.slice('--events='.length) : args[++i];
      if (v === undefined) return usageError('--events needs a destination (a file, fd:N or -)');
      const d = parseEventDest(v);
      if (typeof d === 'string') return usageError(`--events: ${d}`);
      events = v;
      continue;
    }
    if (a === '--map' || a.startsWith('--map=')) {
      const v = a.includes('=') ? a.slice('--map='.length) : args[++i];
      if (v === undefined) return usageError('--map needs FROM:TO (e.g. USR1:USR2 or HUP:ignore)');
      const e = parseMapRule(v, signalMap);
      if (e !== undefined) return usageError(`--map: ${e}`);
      continue;
    }
    if (a === '--stop-delay' || a.startsWith('--stop-delay=')) {
      const v = a.includes('=') ? a.slice('--stop-delay='.length) : args[++i];
      if (v === undefined) return usageError('--stop-delay needs a number of seconds');
      const ms = parseSeconds(v);
      if (typeof ms === 'string') return usageError(`--stop-delay: ${ms}`);
      stopDelayMs = ms;
      stopDelayFromFlag = true;
      continue;
    }
    if (a === '--timeout' || a.startsWith('--timeout=')) {
      const v = a.includes('=') ? a.slice('--timeout='.length) : args[++i];
      if (v === undefined) return usageError('--timeout needs a duration (e.g. 30s, 10m)');
      const ms = parseTimeout(v);
      if (typeof ms === 'string') return usageError(`--timeout: ${ms}`);
      timeoutMs = ms;
      timeoutFromFlag = true;
      continue;
    }
    if (a === '--termination-log' || a.startsWith('--termination-log=')) {
      const v = a.includes('=') ? a.slice('--termination-log='.length) : args[++i];
      if (v === undefined || v === '') return usageError('--termination-log needs a file name');
      terminationLog = v;
      continue;
    }
    if (a === '--stop-scope' || a.startsWith('--stop-scope=')) {
      const v = a.includes('=') ? a.slice('--stop-scope='.length) : args[++i];
      if (v === undefined) return usageError('--stop-scope needs group or all');
      const sc = parseStopScope(v);
      if (sc === undefined) return usageError(`--stop-scope: not group or all: '${v}'`);
      stopScope = sc;
      continue;
    }
    if (a === '--exit-on-stop' || a.startsWith('--exit-on-stop=')) {
      const v = a.includes('=') ? a.slice('--exit-on-stop='.length) : args[++i];
      if (v === undefined) return usageError('--exit-on-stop needs an exit code (0-255)');
      const code = parseExitCode(v);
      if (code === undefined) return usageError(`--exit-on-stop: not an exit code (0-255): '${v}'`);
      exitOnStop = code;
      continue;
    }
    if (a === '--pre-stop' || a.startsWith('--pre-stop=')) {
      const v = a.includes('=') ? a.slice('--pre-stop='.length) : args[++i];
      if (v === undefined || v.trim() === '') return usageError('--pre-stop needs a command');
      preStop = v;
      continue;
    }
    if (a === '--user' || a.startsWith('--user=')) {
      const v = a.includes('=') ? a.slice('--user='.length) : args[++i];
      if (v === undefined) return usageError('--user needs USER[:GROUP] (names or ids)');
      const u = parseUser(v);
      if (typeof u === 'string') return usageError(`--user: ${u}`);
      user = u;
      continue;
    }
    if (a.startsWith('--')) return usageError(`unknown option '${a}'`);
    // A cluster of short options: -vvv, -sg, -e143, -pSIGKILL, -e 143.
    for (let j = 1; j < a.length; j++) {
      const f = a[j];
      if (f === 'p' || f === 'e') {
        let v: string | undefined = a.slice(j + 1);
        if (v === '') v = args[++i];
        if (v === undefined) return usageError(`-${f} needs a value`);
        if (f === 'p') {
          const sig = parseSignal(v);
          if (sig === undefined) return usageError(`-p: not a signal: '${v}'`);
          parentDeathSignal = sig;
        } else {
          const code = parseExitCode(v);
          if (code === undefined) return usageError(`-e: not an exit code (0-255): '${v}'`);
          expectedCodes.add(code);
        }
        break;
      }
      switch (f) {
        case 's': subreaper = true; break;
        case 'v': verbosity++; break;
        case 'w': warnOnReap = true; break;
        case 'g': break; // the process group is the default target already
        case 'l': return { kind: 'exit', code: 0, stdout: texts.license };
        case 'h': return { kind: 'exit', code: 0, stdout: texts.usage };
        // The whole character, not half of a surrogate pair.
        default: return usageError(`unknown option '-${String.fromCodePoint(a.codePointAt(j)!)}'`);
      }
    }
  }

  if (!graceFromFlag && env.TINI_GRACE !== undefined && env.TINI_GRACE !== '') {
    const ms = parseSeconds(env.TINI_GRACE);
    if (typeof ms === 'string') return usageError(`TINI_GRACE: ${ms}`);
    graceMs = ms;
  }
  if (events === null && env.TINI_EVENTS !== undefined && env.TINI_EVENTS !== '') {
    const d = parseEventDest(env.TINI_EVENTS);
    if (typeof d === 'string') return usageError(`TINI_EVENTS: ${d}`);
    events = env.TINI_EVENTS;
  }
  // TINI_MAP: rules separated by commas or spaces; any --map replaces it all.
  if (signalMap.size === 0 && env.TINI_MAP !== undefined && env.TINI_MAP.trim() !== '') {
    for (const rule of env.TINI_MAP.split(/[\s,]+/).filter((r) => r !== '')) {
      const e = parseMapRule(rule, signalMap);
      if (e !== undefined) return usageError(`TINI_MAP: ${e}`);
    }
  }
  if (!stopDelayFromFlag && env.TINI_STOP_DELAY !== undefined && env.TINI_STOP_DELAY !== '') {
    const ms = parseSeconds(env.TINI_STOP_DELAY);
    if (typeof ms === 'string') return usageError(`TINI_STOP_DELAY: ${ms}`);
    stopDelayMs = ms;
  }
  if (!timeoutFromFlag && env.TINI_TIMEOUT !== undefined && env.TINI_TIMEOUT !== '') {
    const ms = parseTimeout(env.TINI_TIMEOUT);
    if (typeof ms === 'string') return usageError(`TINI_TIMEOUT: ${ms}`);
    timeoutMs = ms;
  }
  if (terminationLog === null && env.TINI_TERMINATION_LOG !== undefined && env.TINI_TERMINATION_LOG !== '') terminationLog = env.TINI_TERMINATION_LOG;
  if (stopScope === null && env.TINI_STOP_SCOPE !== undefined && env.TINI_STOP_SCOPE !== '') {
    stopScope = parseStopScope(env.TINI_STOP_SCOPE) ?? null;
    if (stopScope === null) return usageError(`TINI_STOP_SCOPE: not group or all: '${env.TINI_STOP_SCOPE}'`);
  }
  if (exitOnStop === null && env.TINI_EXIT_ON_STOP !== undefined && env.TINI_EXIT_ON_STOP !== '') {
    exitOnStop = parseExitCode(env.TINI_EXIT_ON_STOP) ?? null;
    if (exitOnStop === null) return usageError(`TINI_EXIT_ON_STOP: not an exit code (0-255): '${env.TINI_EXIT_ON_STOP}'`);
  }
  if (preStop === null && env.TINI_PRE_STOP !== undefined && env.TINI_PRE_STOP.trim() !== '') preStop = env.TINI_PRE_STOP;
  if (user === null && env.TINI_USER !== undefined && env.TINI_USER !== '') {
    const u = parseUser(env.TINI_USER);
    if (typeof u === 'string') return usageError(`TINI_USER: ${u}`);
    user = u;
  }
  if (env.TINI_VERBOSITY !== undefined) verbosity = atoi(env.TINI_VERBOSITY);
  if (i >= args.length) return usageError('no program to run given');

  return {
    kind: 'run',
    programIndex: i,
    options: { subreaper, parentDeathSignal, verbosity, warnOnReap, expectedCodes, graceMs, events, signalMap, stopDelayMs: stopDelayMs || null, timeoutMs, terminationLog, stopScope: stopScope ?? 'group', exitOnStop, preStop, user },
  };
}

/** C's atoi: leading whitespace, optional sign, digits; anything else gives 0. */
export function atoi(text: string): number {
  const m = /^\s*([+-]?[0-9]+)/.exec(text);
  if (!m) return 0;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : 0;
}
