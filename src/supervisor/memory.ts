/**
 * Why it ended, the memory part: the init's own memory cgroup (the
 * container's, under docker or Kubernetes), read at start and at exit, says
 * whether the kernel's OOM killer killed anything in it meanwhile, and the
 * peak memory.
 *
 *   v1: memory.oom_control's `oom_kill` (Linux >= 4.13),
 *       memory.max_usage_in_bytes, memory.limit_in_bytes;
 *   v2: memory.events' `oom_kill`, memory.peak (Linux >= 5.19), memory.max.
 *
 * The directory is the one /proc/self/cgroup names under the mount; with a
 * cgroup namespace (or a container that mounts its own cgroup at the top,
 * as docker does on v1) it is the mount's root itself. Nothing readable:
 * null, and nothing is said.
 */
import fs from 'node:fs';
import type { MemoryInfo } from './core.js';

export type { MemoryInfo } from './core.js';

export interface MemoryWatch {
  read(): MemoryInfo | null;
}

const readText = (file: string): string | null => {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return null;
  }
};

/** A number of bytes from a one-value file; null for `max`, a missing file, or v1's "unlimited" (near 2^63). */
function bytes(text: string | null): number | null {
  if (text === null) return null;
  const t = text.trim();
  if (!/^[0-9]+$/.test(t)) return null;
  const n = Number(t);
  return n >= 2 ** 62 ? null : n;
}

/** `oom_kill N` from memory.oom_control (v1) or memory.events (v2). */
export function oomKillCount(text: string | null): number | null {
  const m = text === null ? null : /^oom_kill ([0-9]+)$/m.exec(text);
  return m ? Number(m[1]) : null;
}

/** The memory cgroup directory and its version, from /proc/self/cgroup's text. */
export function memoryCgroupDir(procSelfCgroup: string, root = '/sys/fs/cgroup', exists = fs.existsSync): { dir: string; v: 1 | 2 } | null {
  const lines = procSelfCgroup.split('\n').filter(Boolean);
  const pick = (base: string, rel: string): string | null => {
    const full = `${base}${rel === '/' ? '' : rel}`;
    if (exists(full)) return full;
    return exists(base) ? base : null;
  };
  for (const l of lines) {
    const [controllers, rel] = splitRest(l);
    if (controllers.split(',').includes('memory')) {
      const dir = pick(`${root}/memory`, rel);
      if (dir && exists(`${dir}/memory.oom_control`)) return { dir, v: 1 };
    }
  }
  const unified = lines.find((l) => l.startsWith('0::'));
  if (unified !== undefined && exists(`${root}/cgroup.controllers`)) {
    const dir = pick(root, unified.slice(3));
    if (dir && exists(`${dir}/memory.events`)) return { dir, v: 2 };
  }
  return null;
}

/** `N:controllers:path`, where path may itself hold colons. */
function splitRest(line: string): [string, string] {
  const a = line.indexOf(':');
  const b = line.indexOf(':', a + 1);
  return [line.slice(a + 1, b), line.slice(b + 1)];
}

/** Reads the baseline now; read() later gives the kills since. Null when there is no memory cgroup to read. */
export function watchMemory(procSelfCgroup: string | null, root = '/sys/fs/cgroup'): MemoryWatch | null {
  if (procSelfCgroup === null) return null;
  const cg = memoryCgroupDir(procSelfCgroup, root);
  if (cg === null) return null;
  const files =
    cg.v === 1
      ? { oom: `${cg.dir}/memory.oom_control`, peak: `${cg.dir}/memory.max_usage_in_bytes`, limit: `${cg.dir}/memory.limit_in_bytes` }
      : { oom: `${cg.dir}/memory.events`, peak: `${cg.dir}/memory.peak`, limit: `${cg.dir}/memory.max` };
  const base = oomKillCount(readText(files.oom));
  if (base === null) return null;
  return {
    read() {
      const now = oomKillCount(readText(files.oom));
      if (now === null) return null;
      return { oomKills: Math.max(0, now - base), peakBytes: bytes(readText(files.peak)), limitBytes: bytes(readText(files.limit)) };
    },
  };
}
