/**
 * A container's cgroup counters in runc's `events` shape (libcontainer's
 * types.Stats: cpu, memory, pids, blkio), from a v1 or v2 directory set (the
 * real /sys/fs/cgroup or a fake tree). Counters are emitted as the kernel's
 * digits (JSON.rawJSON): u64 values such as an unlimited memory limit do not
 * fit a double. Missing files give missing fields, never an error.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readText } from './fsutil.js';

/** A JSON number written exactly as given (Node's JSON.rawJSON). */
type Raw = unknown;
const raw = (digits: string | bigint): Raw => (JSON as unknown as { rawJSON(t: string): Raw }).rawJSON(String(digits));
/** Linux's USER_HZ: cpuacct.stat counts ticks of 10 ms. */
const NS_PER_TICK = 10_000_000n;

const digits = (t: string | null | undefined): string | null => (t != null && /^\d+$/.test(t.trim()) ? t.trim() : null);

/** `key value` lines -> digits by key. */
function keyed(text: string | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && digits(v) !== null) out.set(k, v);
  }
  return out;
}

function put(o: Record<string, unknown>, key: string, value: string | bigint | null | undefined): void {
  if (value !== null && value !== undefined) o[key] = raw(value);
}
/** runc's `omitempty` fields: left out when zero. */
function putNonZero(o: Record<string, unknown>, key: string, value: string | bigint | null | undefined): void {
  if (value !== null && value !== undefined && BigInt(value) !== 0n) o[key] = raw(value);
}

/** The v1 hierarchy directory of `controller` among the container's dirs. */
function v1Dir(root: string, dirs: readonly string[], controller: string): string | null {
  let mount = path.join(root, controller);
  try {
    mount = fs.realpathSync(mount);
  } catch {
    // as named
  }
  return dirs.find((d) => d.startsWith(mount + '/')) ?? null;
}

export function ociStats(root: string, version: 1 | 2, dirs: readonly string[]): Record<string, unknown> {
  return version === 1 ? v1Stats(root, dirs) : v2Stats(dirs[0]);
}

/** The kernel's count of OOM kills in the container's cgroup (null: not available). */
export function oomKills(root: string, version: 1 | 2, dirs: readonly string[]): number | null {
  const dir = version === 1 ? v1Dir(root, dirs, 'memory') : dirs[0];
  if (!dir) return null;
  const v = keyed(readText(path.join(dir, version === 1 ? 'memory.oom_control' : 'memory.events'))).get('oom_kill');
  return v === undefined ? null : Number(v);
}

function v1Stats(root: string, dirs: readonly string[]): Record<string, unknown> {
  const cpu: Record<string, unknown> = {};
  const usage: Record<string, unknown> = {};
  const acct = v1Dir(root, dirs, 'cpuacct');
  if (acct) {
    putNonZero(usage, 'total', digits(readText(path.join(acct, 'cpuacct.usage'))));
    const per = (readText(path.join(acct, 'cpuacct.usage_percpu')) ?? '').trim().split(/\s+/).filter((x) => digits(x) !== null);
    if (per.length > 0) usage.percpu = per.map((x) => raw(x));
    const st = keyed(readText(path.join(acct, 'cpuacct.stat')));
    put(usage, 'kernel', st.has('system') ? BigInt(st.get('system')!) * NS_PER_TICK : null);
    put(usage, 'user', st.has('user') ? BigInt(st.get('user')!) * NS_PER_TICK : null);
  }
  cpu.usage = usage;
  const cpuDir = v1Dir(root, dirs, 'cpu');
  if (cpuDir) cpu.throttling = throttling(keyed(readText(path.join(cpuDir, 'cpu.stat'))), 1n);

  const memory: Record<string, unknown> = {};
  const mem = v1Dir(root, dirs, 'memory');
  if (mem) {
    const entry = (prefix: string) => {
      const e: Record<string, unknown> = {};
      put(e, 'limit', digits(readText(path.join(mem, `${prefix}.limit_in_bytes`))));
      putNonZero(e, 'usage', digits(readText(path.join(mem, `${prefix}.usage_in_bytes`))));
      putNonZero(e, 'max', digits(readText(path.join(mem, `${prefix}.max_usage_in_bytes`))));
      put(e, 'failcnt', digits(readText(path.join(mem, `${prefix}.failcnt`))));
      return e;
    };
    const stat = keyed(readText(path.join(mem, 'memory.stat')));
    putNonZero(memory, 'cache', stat.get('cache'));
    memory.usage = entry('memory');
    memory.swap = entry('memory.memsw');
    memory.kernel = entry('memory.kmem');
    memory.raw = Object.fromEntries([...stat].map(([k, v]) => [k, raw(v)]));
  }

  const blkio: Record<string, unknown> = {};
  const bio = v1Dir(root, dirs, 'blkio');
  if (bio) {
    const list = (file: string) =>
      (readText(path.join(bio, file)) ?? '').split('\n').flatMap((line) => {
        const m = /^(\d+):(\d+) (\w+) (\d+)$/.exec(line.trim());
        return m ? [{ major: raw(m[1]), minor: raw(m[2]), op: m[3], value: raw(m[4]) }] : [];
      });
    blkio.ioServiceBytesRecursive = list('blkio.throttle.io_service_bytes');
    blkio.ioServicedRecursive = list('blkio.throttle.io_serviced');
  }
  const pidsDir = v1Dir(root, dirs, 'pids');
  return { cpu, memory, pids: pidsDir ? pids(pidsDir) : {}, blkio };
}

function v2Stats(dir: string): Record<string, unknown> {
  const st = keyed(readText(path.join(dir, 'cpu.stat')));
  const usage: Record<string, unknown> = {};
  const us = (k: string) => (st.has(k) ? BigInt(st.get(k)!) * 1000n : null);
  putNonZero(usage, 'total', us('usage_usec'));
  put(usage, 'kernel', us('system_usec'));
  put(usage, 'user', us('user_usec'));
  const cpu = { usage, throttling: throttling(st, 1000n) };

  const stat = keyed(readText(path.join(dir, 'memory.stat')));
  const entry = (current: string, max: string, events: string | null) => {
    const e: Record<string, unknown> = {};
    const limit = readText(path.join(dir, max))?.trim();
    // "max": no limit; runc says so with the largest u64.
    put(e, 'limit', limit === 'max' ? '18446744073709551615' : digits(limit));
    putNonZero(e, 'usage', digits(readText(path.join(dir, current))));
    if (events) put(e, 'failcnt', keyed(readText(path.join(dir, events))).get('max'));
    return e;
  };
  const memory = {
    ...(stat.has('file') && stat.get('file') !== '0' ? { cache: raw(stat.get('file')!) } : {}),
    usage: entry('memory.current', 'memory.max', 'memory.events'),
    swap: entry('memory.swap.current', 'memory.swap.max', null),
    raw: Object.fromEntries([...stat].map(([k, v]) => [k, raw(v)])),
  };

  const bytes: unknown[] = [];
  const ops: unknown[] = [];
  for (const line of (readText(path.join(dir, 'io.stat')) ?? '').split('\n')) {
    const m = /^(\d+):(\d+) (.*)$/.exec(line.trim());
    if (!m) continue;
    const kv = new Map(m[3].split(' ').map((p) => p.split('=') as [string, string]));
    const at = { major: raw(m[1]), minor: raw(m[2]) };
    for (const [key, op] of [['rbytes', 'Read'], ['wbytes', 'Write']]) if (digits(kv.get(key))) bytes.push({ ...at, op, value: raw(kv.get(key)!) });
    for (const [key, op] of [['rios', 'Read'], ['wios', 'Write']]) if (digits(kv.get(key))) ops.push({ ...at, op, value: raw(kv.get(key)!) });
  }
  return { cpu, memory, pids: pids(dir), blkio: { ioServiceBytesRecursive: bytes, ioServicedRecursive: ops } };
}

function throttling(st: Map<string, string>, timeScale: bigint): Record<string, unknown> {
  const t: Record<string, unknown> = {};
  putNonZero(t, 'periods', st.get('nr_periods'));
  putNonZero(t, 'throttledPeriods', st.get('nr_throttled'));
  const time = st.get('throttled_time') ?? st.get('throttled_usec');
  putNonZero(t, 'throttledTime', time === undefined ? null : BigInt(time) * (st.has('throttled_usec') ? timeScale : 1n));
  return t;
}

function pids(dir: string): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  putNonZero(p, 'current', digits(readText(path.join(dir, 'pids.current'))));
  putNonZero(p, 'limit', digits(readText(path.join(dir, 'pids.max')))); // "max": no limit, left out as runc's 0 (omitempty)
  return p;
}
