/** Reading the process tree under a pid from /proc (the check command's sampler). */
import fs from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
  comm: string;
  /** Start time in clock ticks since boot: with pid, identifies a process. */
  start: number;
  /** The pid as the innermost pid namespace sees it (NSpid's last field). */
  nspid: number;
}

export function procInfo(pid: number): ProcInfo | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const open = s.indexOf('(');
    const close = s.lastIndexOf(')');
    const rest = s.slice(close + 2).split(' ');
    let nspid = pid;
    try {
      const m = /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
      if (m) nspid = Number(m[1].trim().split(/\s+/).at(-1));
    } catch {
      // gone meanwhile
    }
    return { pid, comm: s.slice(open + 1, close), state: rest[0], ppid: Number(rest[1]), start: Number(rest[19]), nspid };
  } catch {
    return null;
  }
}

export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[] = [];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      for (const c of fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ')) {
        const n = Number(c);
        if (Number.isInteger(n) && n > 0) out.push(n);
      }
    } catch {
      // thread gone
    }
  }
  return out;
}

/** Every descendant of pid (not pid itself), breadth first. */
export function descendants(pid: number): ProcInfo[] {
  const out: ProcInfo[] = [];
  const seen = new Set<number>([pid]);
  const queue = [pid];
  while (queue.length > 0) {
    for (const c of childrenOf(queue.shift()!)) {
      if (seen.has(c)) continue;
      seen.add(c);
      const info = procInfo(c);
      if (info) out.push(info);
      queue.push(c);
    }
  }
  return out;
}

function exeOf(pid: number): string | null {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

/** The topmost process under `launcher` (or launcher itself) running `exe`, or named `comm`. */
export function findInit(launcher: number, exe: string, comm: string): number | null {
  if (exeOf(launcher) === exe) return launcher;
  const all = descendants(launcher);
  return all.find((p) => exeOf(p.pid) === exe)?.pid ?? all.find((p) => p.comm === comm)?.pid ?? null;
}
