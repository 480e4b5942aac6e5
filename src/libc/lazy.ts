/** The load-once pattern of the libc call groups (libc, terminal, at, ns, container). */
import { loadKoffi, type Koffi } from './koffi-native.js';

type Lib = ReturnType<Koffi['load']>;

/**
 * A group of libc calls, bound on its first use and kept on the koffi
 * instance, under a name: a bundle that runs after another in the same
 * process (main.cjs after the binary's early spawn) finds the group the first
 * one bound, not declaring its prototypes twice. `bind` gets libc, a reader
 * of the errno the last call left, and koffi (for its structs and memory).
 */
export function libcGroup<T>(name: string, bind: (c: Lib, errno: () => number, koffi: Koffi) => T): (koffi?: Koffi) => T {
  const key = Symbol.for(`tini-ts.libc.${name}`);
  return (koffi = loadKoffi()) => {
    const slot = koffi as unknown as Record<symbol, T | undefined>;
    return (slot[key] ??= bind(koffi.load('libc.so.6'), () => koffi.errno(), koffi));
  };
}

/**
 * A C function declared on its first call: koffi parses a prototype in about
 * 10 µs, and a process uses a few of each group's (the launcher's early
 * spawn and the container's init run on the path to the workload). Not for
 * optional symbols: a missing one throws on the first call, not here.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function lazyFunc(c: Lib, decl: string): (...args: any[]) => any {
  let fn: ((...args: unknown[]) => unknown) | undefined;
  return (...args: unknown[]) => (fn ??= c.func(decl) as (...args: unknown[]) => unknown)(...args);
}
