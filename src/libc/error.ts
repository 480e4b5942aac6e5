/**
 * The runtime's one error type (crun's libcrun_error_t): what failed, the
 * system call and its errno when one failed, the field of the input it
 * concerns, and the context it happened in (what we were doing, outermost
 * first). Layers build it and add context as it travels up; only the command
 * edge (an OCI verb's fail, `run`'s refuse, the init's fatal) renders it, once.
 * The init side keeps its own Result/SysError (types.ts), which this wraps.
 */
import type { ErrnoName } from './errno.js';
import type { Ok, SysError } from './types.js';

export interface RunError {
  /** What failed, one line, without the context (may already name the errno, as the texts users know do). */
  readonly what: string;
  /** The system call (or file operation) that failed, when one did. */
  readonly call?: string;
  readonly errno?: ErrnoName;
  /**
   * The input the failure is about, by a name of the layer that found it
   * (a cgroup limit's key, for one): the edge knows where the value came
   * from (a flag or a config.json field) and names that instead.
   */
  readonly field?: string;
  /** What we were doing, outermost first. */
  readonly context: readonly string[];
}

export type Failed = { ok: false; error: RunError };
export type Outcome<T> = Ok<T> | Failed;

export function runError(what: string, more: Partial<Omit<RunError, 'what'>> = {}): RunError {
  return { what, context: [], ...more };
}

export const failed = (what: string, more?: Partial<Omit<RunError, 'what'>>): Failed => ({ ok: false, error: runError(what, more) });

/** A system call's failure: `what` (default: "CALL failed") with its errno. */
export function fromSys(e: SysError, what = `${e.call}: ${e.code}`): RunError {
  return runError(what, { call: e.call, errno: e.code });
}

/** The same error, seen from one level up: `ctx` is what that level was doing. */
export function within(e: RunError, ctx: string): RunError {
  return { ...e, context: [ctx, ...e.context] };
}

/** The one line a user reads: the context, the field, then what failed ("ctx: ctx: field: what"). */
export function render(e: RunError): string {
  return [...e.context, ...(e.field === undefined ? [] : [e.field]), e.what].join(': ');
}

/** The field under the name its user gave it (a flag, a config.json path); one without a name keeps its own. */
export function naming(e: RunError, name: (field: string) => string | undefined): RunError {
  return e.field === undefined ? e : { ...e, field: name(e.field) ?? e.field };
}

/**
 * The same value, thrown: for layers whose steps are callbacks that cannot
 * return one (the cgroup controllers' apply); caught and rendered at the edge.
 */
export class RunFailure extends Error {
  constructor(readonly error: RunError) {
    super(render(error));
  }
}

/** What a caught exception says, as a RunError: ours as it is, anything else as its message under `ctx`. */
export function caught(e: unknown, ctx: string): RunError {
  if (e instanceof RunFailure) return e.error;
  return within(runError(e instanceof Error ? e.message : String(e)), ctx);
}
