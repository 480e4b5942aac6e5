/**
 * Linux signal numbers and names (x86_64 / arm64 / most architectures that
 * use the generic numbering). Pure data: the supervisor core and the CLI use
 * it without touching libc.
 */

export const SIG = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19,
  TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28,
  IO: 29, PWR: 30, SYS: 31,
} as const;

/** glibc reserves 32 and 33 for its threading implementation; SIGRTMIN is 34 in user space. */
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

const BY_NUMBER: ReadonlyMap<number, string> = new Map(
  Object.entries(SIG).map(([name, num]) => [num, `SIG${name}`]),
);

/** Conventional aliases accepted on input. */
const ALIASES: Readonly<Record<string, number>> = { SIGPOLL: SIG.IO, SIGIOT: SIG.ABRT, SIGCLD: SIG.CHLD };

/**
 * Synchronous "kernel" signals: they report a fault of the receiving process.
 * Like tini and catatonit, the init neither listens to nor forwards them.
 */
export const KERNEL_SIGNALS: ReadonlySet<number> = new Set([
  SIG.FPE, SIG.ILL, SIG.SEGV, SIG.BUS, SIG.ABRT, SIG.TRAP, SIG.SYS,
]);

/** SIGTTIN/SIGTTOU are ignored by the init (it may write while in the background). */
export const IGNORED_BY_INIT: ReadonlySet<number> = new Set([SIG.TTIN, SIG.TTOU]);

/** Every signal the init listens to and forwards (SIGCHLD is listened to, never forwarded). */
export function forwardableSignals(): number[] {
  const out: number[] = [];
  for (let n = 1; n <= SIGRTMAX; n++) {
    if (n === 32 || n === 33) continue;
    if (n === SIG.KILL || n === SIG.STOP || n === SIG.CHLD) continue;
    if (KERNEL_SIGNALS.has(n) || IGNORED_BY_INIT.has(n)) continue;
    out.push(n);
  }
  return out;
}

/** `SIGTERM`, `SIGRTMIN+3`, `SIGRTMAX`, or `SIG<n>` for anything unnamed. */
export function signalName(n: number): string {
  const named = BY_NUMBER.get(n);
  if (named) return named;
  if (n === SIGRTMIN) return 'SIGRTMIN';
  if (n === SIGRTMAX) return 'SIGRTMAX';
  if (n > SIGRTMIN && n < SIGRTMAX) return `SIGRTMIN+${n - SIGRTMIN}`;
  return `SIG${n}`;
}

/**
 * Parses `TERM`, `SIGTERM`, `sigterm`, `15`, `RTMIN+2`, `SIGRTMAX-1`.
 * Returns undefined for anything that is not a signal 1..64.
 */
export function parseSignal(text: string): number | undefined {
  const t = text.trim().toUpperCase();
  if (/^[0-9]+$/.test(t)) {
    const n = Number(t);
    return n >= 1 && n <= SIGRTMAX && n !== 32 && n !== 33 ? n : undefined;
  }
  const name = t.startsWith('SIG') ? t : `SIG${t}`;
  if (name in ALIASES) return ALIASES[name];
  const rt = /^SIGRT(MIN|MAX)(?:([+-])([0-9]+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
    const off = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === '-' ? -1 : 1);
    const n = base + off;
    return n >= SIGRTMIN && n <= SIGRTMAX ? n : undefined;
  }
  const key = name.slice(3) as keyof typeof SIG;
  return Object.prototype.hasOwnProperty.call(SIG, key) ? SIG[key] : undefined;
}
