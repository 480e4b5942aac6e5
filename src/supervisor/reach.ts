/**
 * The processes the init can reach for --stop-scope all, read from /proc:
 *
 *  - as PID 1, every process of its pid namespace but itself (including
 *    those that entered it from outside, `docker exec`, whose parent is not
 *    the init);
 *  - otherwise (a subreaper), its descendants, found by walking each
 *    thread's /proc/PID/task/TID/children from the init down: the kernel's
 *    own list, so only the init's subtree is read, not every process of the
 *    host; a kernel without CONFIG_PROC_CHILDREN has no such file, and then
 *    the parent chains of every /proc/PID/stat are walked instead.
 *
 * /proc must be this pid namespace's (its `self` is the init's own pid):
 * with the host's /proc, "PID 1" would be the host's init. When it is not,
 * or /proc is missing, the answer is null and the stop stays with the group.
 * Zombies are left out: they are dead already.
 */
import fs from 'node:fs';
import type { ProcRef } from './core.js';

interface ProcStat extends ProcRef {
  ppid: number;
  state: string;
}

function readStat(proc: string, pid: number): ProcStat | null {
  let s: string;
  try {
    s = fs.readFileSync(`${proc}/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  const open = s.indexOf('(');
  const close = s.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const f = s.slice(close + 2).split(' ');
  return { pid, comm: s.slice(open + 1, close), state: f[0], ppid: Number(f[1]), pgid: Number(f[2]) };
}

function numericEntries(dir: string): number[] {
  return fs
    .readdirSync(dir)
    .filter((n) => /^[0-9]+$/.test(n))
    .map(Number);
}

/** The children of every thread of pid; null when the kernel has no children files. */
function childrenOf(proc: string, pid: number): number[] | null {
  let tids: number[];
  try {
    tids = numericEntries(`${proc}/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    let text: string;
    try {
      text = fs.readFileSync(`${proc}/${pid}/task/${tid}/children`, 'latin1');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' && fs.existsSync(`${proc}/${pid}/task/${tid}`)) return null;
      continue; // the thread is gone
    }
    for (const c of text.split(' ')) if (/^[0-9]+$/.test(c.trim())) out.push(Number(c));
  }
  return out;
}

function descendantsByChildren(proc: string, selfPid: number): number[] | null {
  const seen = new Set<number>();
  const todo = [selfPid];
  while (todo.length > 0 && seen.size < 1_000_000) {
    const kids = childrenOf(proc, todo.pop()!);
    if (kids === null) return null;
    for (const k of kids) {
      if (seen.has(k) || k === selfPid) continue;
      seen.add(k);
      todo.push(k);
    }
  }
  return [...seen];
}

function descendantsByParents(selfPid: number, all: ProcStat[]): ProcStat[] {
  const byParent = new Map<number, ProcStat[]>();
  for (const p of all) {
    const list = byParent.get(p.ppid);
    if (list) list.push(p);
    else byParent.set(p.ppid, [p]);
  }
  const out: ProcStat[] = [];
  const todo = [selfPid];
  const seen = new Set<number>([selfPid]);
  while (todo.length > 0) {
    for (const c of byParent.get(todo.pop()!) ?? []) {
      if (seen.has(c.pid)) continue;
      seen.add(c.pid);
      out.push(c);
      todo.push(c.pid);
    }
  }
  return out;
}

const alive = (p: ProcStat | null): p is ProcStat => p !== null && p.state !== 'Z' && p.state !== 'X';
const ref = (p: ProcStat): ProcRef => ({ pid: p.pid, pgid: p.pgid, comm: p.comm });

/** Sorted by pid. */
export function listReachable(selfPid: number, proc = '/proc'): ProcRef[] | null {
  const r = reachable(selfPid, proc);
  return r && r.sort((a, b) => a.pid - b.pid);
}

function reachable(selfPid: number, proc: string): ProcRef[] | null {
  try {
    if (fs.readlinkSync(`${proc}/self`) !== String(selfPid)) return null;
    if (selfPid === 1) {
      return numericEntries(proc)
        .filter((pid) => pid !== selfPid)
        .map((pid) => readStat(proc, pid))
        .filter(alive)
        .map(ref);
    }
    const pids = descendantsByChildren(proc, selfPid);
    if (pids !== null) return pids.map((pid) => readStat(proc, pid)).filter(alive).map(ref);
    const all = numericEntries(proc)
      .map((pid) => readStat(proc, pid))
      .filter((p): p is ProcStat => p !== null);
    return descendantsByParents(selfPid, all).filter(alive).map(ref);
  } catch {
    return null;
  }
}
