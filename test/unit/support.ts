/** Small doubles shared by the unit tests (not a test file: vitest runs *.test.ts only). */
import { expect } from 'vitest';
import { EXIT_LAUNCHER, parseRunArgs } from '../../src/cli/run-options.js';
import { createLogger, type Logger } from '../../src/log/log.js';
import type { LogLevel } from '../../src/supervisor/core.js';

export interface LogRecord {
  level: LogLevel | 'fatal';
  message: string;
}

export interface RecordingLogger extends Logger {
  records: LogRecord[];
  messages(level?: LogLevel | 'fatal'): string[];
}

/** Records what would be printed; which levels pass is decided by the real logger. */
export function recordingLogger(verbosity = 4, pid = 1): RecordingLogger {
  const real = createLogger(verbosity, pid);
  const records: LogRecord[] = [];
  return {
    records,
    enabled: (level) => real.enabled(level),
    log(level, message) {
      if (real.enabled(level)) records.push({ level, message });
    },
    messages: (level) => records.filter((r) => level === undefined || r.level === level).map((r) => r.message),
  };
}

/** Thrown by a test's `exit`, which must not return (process.exit never does). */
export class ExitCalled extends Error {
  constructor(readonly code: number) {
    super(`exit(${code})`);
  }
}

/** `tini-ts run ARGS` parsed on a 2-CPU machine. */
export const parseRun = (...args: string[]): ReturnType<typeof parseRunArgs> => parseRunArgs(args, { cpuCount: 2 });

/** `tini-ts run ARGS` that must parse into a run (throws with what it gave otherwise). */
export function parsedRun(...args: string[]): Extract<ReturnType<typeof parseRunArgs>, { kind: 'run' }> {
  const r = parseRun(...args);
  if (r.kind !== 'run') throw new Error(`expected run, got ${JSON.stringify(r)}`);
  return r;
}

/** `tini-ts run ARGS` that must be refused: exit 125 and one line matching PATTERN. */
export function expectRunRefused(args: string[], pattern: RegExp): void {
  const r = parseRun(...args);
  expect(r.kind).toBe('exit');
  if (r.kind !== 'exit') return;
  expect(r.code).toBe(EXIT_LAUNCHER);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr!.trimEnd().split('\n')).toHaveLength(1);
}
