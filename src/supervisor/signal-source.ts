/**
 * Delivers the signals the init receives to one callback.
 *
 * Node's `process.on` only knows the named signals, not the real-time ones
 * (34..64), so the SEA runs with --expose-internals and this module uses the
 * same libuv signal handles that `process.on` uses, for every signal number.
 * Without that flag (tests, `node dist/main.cjs`) it falls back to
 * `process.on` for the named signals.
 */
import { nodeOs } from '../util/node-os.js';
import { signalName } from '../libc/signals.js';

interface SignalHandle {
  onsignal: (signum: number) => void;
  start(signum: number): number;
  unref(): void;
  close(): void;
}

type SignalCtor = new () => SignalHandle;

function internalSignalCtor(): SignalCtor | undefined {
  try {
    // Resolves only with --expose-internals (set in the SEA's execArgv, with --no-warnings).
    const req = typeof require === 'function' ? require : undefined;
    if (!req) return undefined;
    const { internalBinding } = req('internal/test/binding') as { internalBinding(name: string): { Signal: SignalCtor } };
    return internalBinding('signal_wrap').Signal;
  } catch {
    return undefined;
  }
}

export interface SignalSource {
  /** Signals that could not be listened to (unknown to this Node without internals). */
  unavailable: number[];
}

export function listenToSignals(signals: number[], onSignal: (sig: number) => void): SignalSource {
  const Signal = internalSignalCtor();
  const unavailable: number[] = [];
  for (const sig of signals) {
    if (Signal) {
      const h = new Signal();
      h.onsignal = onSignal;
      const rc = h.start(sig);
      if (rc === 0) {
        h.unref(); // the supervisor's own timer keeps the loop alive
        continue;
      }
    }
    const name = signalName(sig);
    if ((nodeOs().constants.signals as Record<string, number>)[name] === sig) process.on(name as NodeJS.Signals, () => onSignal(sig));
    else unavailable.push(sig);
  }
  return { unavailable };
}

/**
 * Runs fn while a libuv signal handle listens to sig in the main loop (its
 * callback does nothing), then closes the handle. False, without running fn,
 * when no such handle can be made (no internals). A message the handle's
 * signal left in the loop's pipe is skipped by libuv once the handle is
 * closed.
 */
export function withTemporaryListener(sig: number, fn: () => void): boolean {
  const Signal = internalSignalCtor();
  if (!Signal) return false;
  const h = new Signal();
  h.onsignal = () => {};
  if (h.start(sig) !== 0) return false;
  h.unref();
  try {
    fn();
  } finally {
    h.close();
  }
  return true;
}
