/** The load-once pattern of the libc call groups that only some commands need (terminal, at, ns, container). */
import { loadKoffi, type Koffi } from './koffi-native.js';

type Lib = ReturnType<Koffi['load']>;

/**
 * A group of libc calls, bound on its first use and kept: `bind` gets libc,
 * a reader of the errno the last call left, and koffi (for its structs and
 * memory). Later calls return the first group, whatever koffi they pass.
 */
export function libcGroup<T>(bind: (c: Lib, errno: () => number, koffi: Koffi) => T): (koffi?: Koffi) => T {
  let cached: T | undefined;
  return (koffi = loadKoffi()) => (cached ??= bind(koffi.load('libc.so.6'), () => koffi.errno(), koffi));
}
