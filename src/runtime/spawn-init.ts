/**
 * Starting the container's init: the namespaces to join (opened and checked
 * first), the channel, and the spawn itself. Only the calling thread moves
 * with unshare(2), and after unshare(CLONE_NEWPID) it can no longer create
 * threads, so the main thread unshares, posix_spawns the init, then setns(2)s
 * back to the namespaces saved from /proc/thread-self/ns. The cgroup
 * namespace is created by the init itself, after joining the cgroup (see
 * ns-init.ts). A new network namespace is made only after the spawn: its
 * creation (0.5-0.6 ms, most of the unshare) then overlaps the init's Node
 * start instead of delaying it, and the launcher hands it over the channel
 * with the set-up plan (the init joins it before anything of its set-up).
 */
import fs from 'node:fs';
import type { NamespaceName, RunOptions } from '../cli/run-options.js';
import { CLONE, SOCK_CLOEXEC } from '../libc/consts.js';
import { failed, fromSys, type Outcome } from '../libc/error.js';
import { addonFd, isSea } from '../libc/koffi-native.js';
import type { NsLibc } from '../libc/ns.js';
import { SIG } from '../libc/signals.js';
import { ok, type Libc } from '../libc/types.js';
import { parseEventDest } from '../events/destination.js';
import { INIT_MODE, INIT_ROOTFS_WORD } from './init-protocol.js';
import type { ContainerConfig } from './container.js';

/** unshare(2) flag and /proc/self/ns name of each namespace the launcher creates (cgroup: the init does). */
export const NS_TABLE: Record<Exclude<NamespaceName, 'cgroup'>, { flag: number; file: string }> = {
  pid: { flag: CLONE.NEWPID, file: 'pid' },
  mount: { flag: CLONE.NEWNS, file: 'mnt' },
  uts: { flag: CLONE.NEWUTS, file: 'uts' },
  ipc: { flag: CLONE.NEWIPC, file: 'ipc' },
  net: { flag: CLONE.NEWNET, file: 'net' },
};

export type Joins = Map<NamespaceName, { fd: number; path: string; field: string }>;

/**
 * The namespaces to join (OCI linux.namespaces[].path), opened; a path that
 * cannot be opened or is not a namespace of that type (the kernel says which
 * through NS_GET_NSTYPE) is refused, naming the field, before anything is created.
 */
export function openJoins(ns: NsLibc, list: NonNullable<ContainerConfig['joinNamespaces']>): Outcome<Joins> {
  const joins: Joins = new Map();
  const closeAll = () => joins.forEach((j) => fs.closeSync(j.fd));
  const typeName = (flag: number) => Object.values(NS_TABLE).find((t) => t.flag === flag)?.file ?? (flag === CLONE.NEWCGROUP ? 'cgroup' : flag === CLONE.NEWUSER ? 'user' : `0x${flag.toString(16)}`);
  for (const j of list) {
    if (j.name === 'cgroup') {
      closeAll();
      return failed(`config.json: ${j.field}: joining an existing cgroup namespace is not supported`);
    }
    const { flag, file: kind } = NS_TABLE[j.name];
    let fd: number;
    try {
      fd = fs.openSync(j.path, fs.constants.O_RDONLY);
    } catch (e) {
      closeAll();
      return failed(`config.json: ${j.field}: cannot open ${j.path}: ${(e as NodeJS.ErrnoException).code}`);
    }
    const t = ns.nsType(fd);
    if (!t.ok || t.value !== flag) {
      fs.closeSync(fd);
      closeAll();
      return failed(`config.json: ${j.field}: ${j.path} is not a namespace of type ${kind}${t.ok ? ` (it is of type ${typeName(t.value)})` : ''}`);
    }
    joins.set(j.name, { fd, path: j.path, field: j.field });
  }
  return ok(joins);
}

/**
 * The channel (a blocking socket pair: the plan goes out framed, the init's
 * messages come back) and the init, spawned in its namespaces with the
 * channel, the FFI addon and FDS; the joined namespaces' descriptors closed.
 */
export function startInit(ns: NsLibc, libc: Libc, options: Pick<RunOptions, 'namespaces'>, rootfs: boolean, joins: Joins, fds: number[]): Outcome<StartedInit> {
  const closeJoins = () => joins.forEach((j) => ns.close(j.fd));
  const pair = ns.socketpair(SOCK_CLOEXEC);
  if (!pair.ok) {
    closeJoins();
    return { ok: false, error: fromSys(pair, `socketpair failed: ${pair.code}`) };
  }
  const [channel, initEnd] = pair.value;
  let addon: number;
  try {
    addon = addonFd();
  } catch (e) {
    closeJoins();
    [channel, initEnd].forEach((fd) => ns.close(fd));
    return failed(`cannot hand the FFI addon to the init: ${(e as Error).message}`);
  }
  // The channel and the addon first: the init finds them as its first two.
  const spawned = spawnInNamespaces(ns, libc, options, rootfs, joins, [initEnd, addon, ...fds]);
  ns.close(initEnd);
  closeJoins();
  if (typeof spawned === 'string') {
    ns.close(channel);
    return failed(spawned);
  }
  return ok({ initPid: spawned.pid, channel, netns: spawned.netns });
}

export interface StartedInit {
  initPid: number;
  channel: number;
  /** The container's network namespace, for the init to join (see the header); null: it was spawned in it, or shares the launcher's. */
  netns: number | null;
}

/** runc's order for joining: user first, mnt last (a joined user namespace would own the others). */
const JOIN_ORDER: (keyof typeof NS_TABLE)[] = ['ipc', 'uts', 'net', 'pid', 'mount'];

/**
 * Join the namespaces given by path and unshare the others in the main
 * thread (a new network namespace: after the spawn), posix_spawn the init,
 * setns back. Returns the pid (and the network namespace made) or an error text.
 */
function spawnInNamespaces(ns: NsLibc, libc: Libc, options: Pick<RunOptions, 'namespaces'>, rootfs: boolean, joins: Joins, fds: number[]): { pid: number; netns: number | null } | string {
  const wanted = (Object.keys(NS_TABLE) as (keyof typeof NS_TABLE)[]).filter((n) => options.namespaces.has(n));
  const saved: { fd: number; flag: number; name: string }[] = [];
  const closeSaved = () => saved.forEach((s) => ns.close(s.fd));
  try {
    for (const n of wanted) {
      const fd = fs.openSync(`/proc/thread-self/ns/${NS_TABLE[n].file}`, 'r');
      saved.push({ fd, flag: NS_TABLE[n].flag, name: n });
    }
  } catch (e) {
    closeSaved();
    return `cannot open /proc/thread-self/ns: ${(e as NodeJS.ErrnoException).code}`;
  }
  const restore = () => {
    for (const s of saved) ns.setns(s.fd, s.flag);
  };
  for (const n of JOIN_ORDER) {
    const j = joins.get(n);
    if (!j || !wanted.includes(n)) continue;
    const r = ns.setns(j.fd, NS_TABLE[n].flag);
    if (!r.ok) {
      restore();
      closeSaved();
      return `config.json: ${j.field}: joining ${j.path} failed: setns: ${r.code}`;
    }
  }
  const made = wanted.filter((n) => !joins.has(n));
  const deferNet = made.includes('net');
  const flags = saved.filter((s) => made.includes(s.name as keyof typeof NS_TABLE) && s.name !== 'net').reduce((f, s) => f | s.flag, 0);
  if (flags !== 0) {
    const u = ns.unshare(flags);
    if (!u.ok) {
      restore();
      closeSaved();
      return unshareRefused(u.code, made);
    }
  }
  // argv names the descriptors only (the plan comes over the channel), and
  // whether the init builds a root filesystem (the binary takes that init's
  // code cache, see build/sea-main.cjs), and
  // the environment is one libuv setting: nothing of the launcher's is
  // readable in the init's /proc/PID/cmdline or environ. One pool thread at
  // most (the v2 cgroup join's, the gated spawn's): fewer tasks against pids.max.
  const self = isSea() ? ['tini-ts'] : [process.execPath, process.argv[1]];
  const r = libc.spawn({
    file: process.execPath,
    argv: [...self, INIT_MODE, String(fds[0]), String(fds[1]), ...(rootfs ? [INIT_ROOTFS_WORD] : [])].map((a) => Buffer.from(a)),
    env: [Buffer.from('UV_THREADPOOL_SIZE=1')],
    newProcessGroup: true,
    foregroundTty: false,
    passFds: [0, 1, 2, ...fds],
  });
  // Back to the launcher's own namespaces: without this the main thread can
  // create no threads (pid) and the thread pool would see other namespaces.
  let restoreError: string | null = null;
  for (const s of saved) {
    const b = ns.setns(s.fd, s.flag);
    if (!b.ok && restoreError === null) restoreError = `setns back to the ${s.name} namespace failed: ${b.code}`;
  }
  let netns: number | null = null;
  if (r.ok && restoreError === null && deferNet) {
    const made = newNetns(ns, saved.find((s) => s.name === 'net')!.fd);
    if (typeof made === 'string') restoreError = made;
    else netns = made;
  }
  closeSaved();
  if (restoreError !== null) {
    if (r.ok) libc.kill(r.value, SIG.KILL);
    return restoreError;
  }
  if (!r.ok) return `cannot start the init (${process.execPath}): ${r.code}`;
  return { pid: r.value, netns };
}

const unshareRefused = (code: string, names: string[]) => `unshare(${names.join(', ')}) failed: ${code}${code === 'EPERM' ? ' (run as root, outside a restricted container)' : ''}`;

/**
 * A new network namespace with `lo` up, made by the main thread, which then
 * returns to the launcher's (BACK): a descriptor holding it, or an error text.
 */
function newNetns(ns: NsLibc, back: number): number | string {
  const u = ns.unshare(CLONE.NEWNET);
  if (!u.ok) return unshareRefused(u.code, ['net']);
  let fd: number | string;
  const up = ns.interfaceUp('lo');
  if (!up.ok) fd = `bringing up lo in the container's network namespace: ${up.call} failed: ${up.code}`;
  else {
    try {
      fd = fs.openSync('/proc/thread-self/ns/net', 'r');
    } catch (e) {
      fd = `cannot open the new network namespace: ${(e as NodeJS.ErrnoException).code}`;
    }
  }
  const b = ns.setns(back, CLONE.NEWNET);
  if (!b.ok) {
    if (typeof fd === 'number') ns.close(fd);
    return `setns back to the net namespace failed: ${b.code}`;
  }
  return fd;
}

/**
 * --events DEST for the init: a file is opened here (O_APPEND|O_CREAT, 0644;
 * O_NONBLOCK so a FIFO without a reader fails rather than hangs), `fd:N` must
 * be open, `-` is stderr. The init reopens the descriptor as the plain init
 * does (see events/destination.ts). A destination that cannot be used is
 * refused before anything is created.
 */
export function openEvents(text: string): Outcome<{ fd: number; opened: boolean }> {
  const dest = parseEventDest(text);
  if (typeof dest === 'string') return failed(`--events: ${dest}`);
  if (dest.kind === 'fd') {
    try {
      fs.fstatSync(dest.fd);
    } catch (e) {
      return failed(`--events ${text}: fd ${dest.fd} is not open (${(e as NodeJS.ErrnoException).code})`);
    }
    return ok({ fd: dest.fd, opened: false });
  }
  const { O_WRONLY, O_APPEND, O_CREAT, O_NONBLOCK } = fs.constants;
  try {
    return ok({ fd: fs.openSync(dest.path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, 0o644), opened: true });
  } catch (e) {
    return failed(`--events: cannot open ${dest.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * --preserve-fds N: fds 3 .. 3+N-1 must be the caller's. Node fills the
 * lowest free slots with its own event loop's descriptors at start-up, so a
 * caller that passed fewer would hand those to the container: an epoll or
 * io_uring instance there is refused (never something a caller passes on).
 */
export function preservedFdsProblem(n: number): string | null {
  for (let fd = 3; fd < 3 + n; fd++) {
    let link: string;
    try {
      link = fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return `--preserve-fds ${n}: fd ${fd} is not open`;
    }
    if (/^anon_inode:\[(eventpoll|io_uring)\]$/.test(link)) return `--preserve-fds ${n}: fd ${fd} was not passed by the caller (it is the runtime's own ${link})`;
  }
  return null;
}
