/**
 * What every OCI verb shares: the store under --root, the --log file (runc's
 * format: JSON lines `{"level","msg","time"}` or logrus text), and the one
 * way a verb fails: the message in the log and on stderr, exit 1, as runc.
 * Nothing is ever written to stdout or stderr on success: in create and exec
 * they are the container's own.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { OciGlobal } from '../../cli/oci-args.js';
import { DEFAULT_ROOT, Store, type ContainerRecord } from '../../container/store.js';
import type { HookState } from '../../runtime/oci/hooks.js';
import { writeStderr } from '../../log/log.js';
import { render, type RunError } from '../../libc/error.js';

export const EXIT_FAILURE = 1;

export interface OciContext {
  store: Store;
  log(level: 'debug' | 'info' | 'warning' | 'error', msg: string): void;
  /** Logs the error, says it on stderr, exits 1: the one place an OCI verb renders a RunError. */
  fail(msg: string | RunError): never;
  exit(code: number): never;
  /** The same context, ending through EXIT instead (exec: _exit once its thread is changed for good). */
  withExit(exit: (code: number) => never): OciContext;
}

export function createContext(global: OciGlobal, exit: (code: number) => never = (code) => process.exit(code)): OciContext {
  let logFd: number | null = null;
  if (global.log !== null) {
    try {
      // Created on every command: engines read the last error line from it after any failure.
      logFd = fs.openSync(path.resolve(global.log), fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_APPEND, 0o644);
    } catch (e) {
      writeStderr(`tini-ts: cannot open the log ${global.log}: ${(e as NodeJS.ErrnoException).code}\n`);
    }
  }
  const log: OciContext['log'] = (level, msg) => {
    if (level === 'debug' && !global.debug) return;
    const time = new Date().toISOString();
    const line = global.logFormat === 'json' ? JSON.stringify({ level, msg, time }) : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
    if (logFd !== null) {
      try {
        fs.writeSync(logFd, line + '\n');
      } catch {
        // a log that cannot be written must not change the outcome
      }
    }
  };
  const store = new Store(path.resolve(global.root ?? DEFAULT_ROOT));
  const make = (exit: (code: number) => never): OciContext => ({
    store,
    log,
    fail(error) {
      const msg = typeof error === 'string' ? error : render(error);
      log('error', msg);
      if (logFd === null || global.log !== '/dev/stderr') writeStderr(`${msg}\n`);
      return exit(EXIT_FAILURE);
    },
    exit,
    withExit: make,
  });
  return make(exit);
}

/** runc's wording where engines match on it (Docker and Podman turn the missing program into 127). */
export function runcText(msg: string): string {
  const m = /^(.+): not found in the root filesystem/.exec(msg);
  return m ? `exec: "${m[1]}": executable file not found in $PATH` : msg;
}

/** The runtime-spec state a hook reads on its stdin (no pid once there is none, no empty annotations: runc's omitempty). */
export function hookState(rec: ContainerRecord, status: HookState['status'], pid = rec.pid): HookState {
  const annotations = Object.keys(rec.annotations).length > 0 ? { annotations: rec.annotations } : {};
  return { ociVersion: rec.ociVersion, id: rec.id, status, ...(pid > 0 ? { pid } : {}), bundle: rec.bundle, ...annotations };
}

export { preservedFdsProblem } from '../../runtime/spawn-init.js';
