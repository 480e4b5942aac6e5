/**
 * Docker's size and CPU forms, parsed without side effects.
 *   sizes: `512m`, `1g`, `1.5G`, `1048576`, `100k`, `2gb`, `64MiB` (binary units, as docker)
 *   cpu lists: `0-3,6`
 */

const UNITS: Readonly<Record<string, number>> = {
  '': 1, b: 1,
  k: 1024, kb: 1024, kib: 1024,
  m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2,
  g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3,
  t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
};

/** Bytes, or an error text. Fractions round down to whole bytes. */
export function parseSize(text: string): number | string {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return `not a size: '${text}' (use bytes or a suffix: 512m, 1g)`;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return `unknown unit '${m[2]}' in '${text}' (use b, k, m, g or t)`;
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(bytes)) return `too large: '${text}'`;
  return bytes;
}

/** A human form of a byte count: 64.0 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** `0-3,6` → normalised text, or an error text. */
export function parseCpuList(text: string): string | string[] {
  const parts = text.split(',');
  const out: string[] = [];
  for (const p of parts) {
    const m = /^\s*([0-9]+)(?:-([0-9]+))?\s*$/.exec(p);
    if (!m) return [`not a CPU list: '${text}' (e.g. 0-3,6)`];
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) return [`backwards CPU range '${p.trim()}' in '${text}'`];
    out.push(a === b ? `${a}` : `${a}-${b}`);
  }
  return out.join(',');
}

/** The CPU numbers in a list (`0-2,5` → [0,1,2,5]). */
export function expandCpuList(list: string): number[] {
  const out: number[] = [];
  for (const p of list.split(',')) {
    if (p.trim() === '') continue;
    const [a, b] = p.split('-').map(Number);
    for (let n = a; n <= (b ?? a); n++) out.push(n);
  }
  return out;
}

/**
 * A duration: `30` (seconds), `1.5s`, `500ms`, `2m`, `1h`, `1m30s`.
 * Returns milliseconds or an error text.
 */
export function parseDuration(text: string): number | string {
  const t = text.trim();
  if (/^[0-9]+(?:\.[0-9]+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(t)) !== null) {
    const mult = m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : m[2] === 'm' ? 60_000 : 3_600_000;
    total += Number(m[1]) * mult;
    pos = re.lastIndex;
  }
  if (pos === 0 || pos !== t.length) return `not a duration: '${text}' (e.g. 30s, 500ms, 2m, 1m30s)`;
  if (total > 2 ** 31 - 1) return `too long: '${text}' (at most about 24 days)`;
  return Math.round(total);
}
