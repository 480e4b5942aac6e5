/**
 * Turns the event stream on for the init (`--events DEST` / TINI_EVENTS) and
 * writes its `start` event. A destination that cannot be opened is a warning,
 * not a fatal error: supervision matters more than its record.
 */
import type { Libc } from '../libc/types.js';
import type { Logger } from '../log/log.js';
import { openEventDest, parseEventDest } from './destination.js';
import { createEventSink, type EventSink } from './sink.js';

/** What the stream needs of the init's options (the parsed command line has them). */
export interface EventOptions {
  events: string | null;
  graceMs: number | null;
  expectedCodes: ReadonlySet<number>;
  verbosity: number;
  warnOnReap: boolean;
  parentDeathSignal: number | null;
  subreaper: boolean;
  signalMap?: ReadonlyMap<number, number | null>;
  stopDelayMs?: number | null;
  timeoutMs?: number | null;
  stopScope?: 'group' | 'all';
  exitOnStop?: number | null;
  preStop?: string | null;
  user?: { user: string; group: string | null } | null;
}

export function startEventStream(
  options: EventOptions,
  ctx: { libc: Libc; logger: Logger; pid: number; version: string },
): EventSink | undefined {
  if (options.events === null) return undefined;
  const dest = parseEventDest(options.events);
  if (typeof dest === 'string') {
    ctx.logger.log('warn', `--events: ${dest}: no events will be written`);
    return undefined;
  }
  let sink: EventSink;
  try {
    // Writes wait 1 ms: never between a forward and the program it wakes.
    sink = createEventSink(openEventDest(dest, ctx.libc), { deferMs: 1 });
  } catch (e) {
    ctx.logger.log('warn', `--events ${options.events}: ${(e as Error).message}: no events will be written`);
    return undefined;
  }
  const sub = ctx.libc.isChildSubreaper();
  sink.start({
    pid: ctx.pid,
    pid1: ctx.pid === 1,
    subreaper: sub.ok && sub.value,
    version: ctx.version,
    options: {
      grace_ms: options.graceMs,
      expected_codes: [...options.expectedCodes].sort((a, b) => a - b),
      verbosity: options.verbosity,
      warn_on_reap: options.warnOnReap,
      parent_death_signal: options.parentDeathSignal,
      subreaper: options.subreaper,
      ...(options.signalMap !== undefined && { signal_map: Object.fromEntries(options.signalMap) }),
      ...(options.stopDelayMs !== undefined && { stop_delay_ms: options.stopDelayMs }),
      ...(options.timeoutMs !== undefined && { timeout_ms: options.timeoutMs }),
      ...(options.stopScope !== undefined && { stop_scope: options.stopScope }),
      ...(options.exitOnStop !== undefined && { exit_on_stop: options.exitOnStop }),
      ...(options.preStop !== undefined && { pre_stop: options.preStop }),
      ...(options.user !== undefined && { user: options.user === null ? null : options.user.group === null ? options.user.user : `${options.user.user}:${options.user.group}` }),
    },
  });
  return sink;
}
