/** Small doubles shared by the unit tests (not a test file: vitest runs *.test.ts only). */
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
