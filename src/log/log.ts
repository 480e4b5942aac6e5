/**
 * Diagnostics on stderr with fs.writeSync(2, ...), never through
 * process.stderr or console: those switch the shared file description to
 * O_NONBLOCK under the child. A failed write is dropped, never thrown: once
 * the child runs, the init must not die of a diagnostic.
 */
import fs from 'node:fs';

/** The init's levels below fatal (tini's -v: warn by default). */
export type LogLevel = 'warn' | 'info' | 'debug' | 'trace';

const LEVELS: Record<LogLevel | 'fatal', { rank: number; tag: string }> = {
  fatal: { rank: 0, tag: 'FATAL' },
  warn: { rank: 1, tag: 'WARN ' },
  info: { rank: 2, tag: 'INFO ' },
  debug: { rank: 3, tag: 'DEBUG' },
  trace: { rank: 4, tag: 'TRACE' },
};

export interface Logger {
  log(level: LogLevel | 'fatal', message: string): void;
  enabled(level: LogLevel | 'fatal'): boolean;
}

export function writeStderr(text: string): void {
  try {
    fs.writeSync(2, text);
  } catch {
    // stderr closed, full or gone: nothing sensible to do about it
  }
}

export function writeStdout(text: string): void {
  try {
    fs.writeSync(1, text);
  } catch {
    // as above
  }
}

/** tini's format: `[WARN  tini-ts (PID)] message`. */
export function createLogger(verbosity: number, pid: number): Logger {
  return {
    enabled: (level) => LEVELS[level].rank <= Math.max(verbosity, 0),
    log(level, message) {
      if (LEVELS[level].rank > Math.max(verbosity, 0)) return;
      writeStderr(`[${LEVELS[level].tag} tini-ts (${pid})] ${message}\n`);
    },
  };
}
