/**
 * Delivers the signals the init receives to one callback.
 *
 * Node's `process.on` only knows the named signals, not the real-time ones
 * (34..64), so the SEA runs with --expose-internals and this module uses the
 * same libuv signal handles that `process.on` uses, for every signal number.
 * Without that flag (tests, `node dist/main.cjs`) it falls back to
 * `process.on` for the named signals.
 */
import os from 'node:os';
import { signalName } from '../libc/signals.js';

interface SignalHandle {
  onsignal: (signum: number) => void;
  start(signum: number): number;
  unref(): void;
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
  const named = os.constants.signals as Record<string, number>;
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
    if (named[name] === sig) process.on(name as NodeJS.Signals, () => onSignal(sig));
    else unavailable.push(sig);
  }
  return { unavailable };
}
