/** The kernel's uid/gid range: 32 bits, -1 (2^32-1) meaning "unchanged" to setresuid and friends. */
export const MAX_ID = 2 ** 32 - 2;

/** A decimal uid or gid in 0..MAX_ID; null for anything else (not a number, or out of range). */
export function parseId(s: string): number | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const n = BigInt(s);
  return n <= BigInt(MAX_ID) ? Number(n) : null;
}

/** The one-line reason a decimal id is refused. */
export const idRangeProblem = (what: string, s: string): string => `${what} ${s} is outside 0..${MAX_ID} (the kernel's range; -1 means "unchanged")`;
