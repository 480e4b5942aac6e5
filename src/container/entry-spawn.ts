/**
 * The init spawned at the binary's entry point (build/entry-spawn.c), before
 * Node started: for `tini-ts run` as root the x64 binary makes the channel and
 * spawns the container's init in new mount, UTS, IPC, pid and network
 * namespaces, so that the init's Node start runs beside the launcher's
 * instead of after it. That code tells the launcher what it made through a slot in memory
 * whose address is in a header just before the entry point (AT_ENTRY), read
 * here through /proc/self/mem: nothing of it is in argv or the environment,
 * which the program sees.
 */
import fs from 'node:fs';

export interface EntrySpawned {
  /** The init's pid (in the launcher's pid namespace). */
  pid: number;
  /** The launcher's end of the channel. */
  channel: number;
  /** Whether the entry guessed a root filesystem (it chose the init's code cache only). */
  rootfs: boolean;
  /** Whether the init exec'd (the entry does not wait for it: its failure pipe says). */
  ran: boolean;
}

const AT_ENTRY = 9n;
/** build/entry-spawn.mjs: the header before the entry point. */
const HEADER = 24;
const MAGIC = 'TINITSE1';
/** Written last by the entry, once the init has exec'd. */
const SLOT_MAGIC = 0x5453494e;
const SLOT_ROOTFS = 1;
/** magic, pid, channel, flags, the failure pipe. */
const SLOT_BYTES = 20;

/** AT_ENTRY of an auxiliary vector (/proc/self/auxv), or null. */
export function entryOf(auxv: Buffer): number | null {
  for (let o = 0; o + 16 <= auxv.length; o += 16) {
    const type = auxv.readBigUInt64LE(o);
    if (type === 0n) break;
    if (type === AT_ENTRY) return Number(auxv.readBigUInt64LE(o + 8));
  }
  return null;
}

/** The slot's address from the header before the entry point, or null if this binary has no entry spawn. */
export function slotOf(header: Buffer): number | null {
  return header.length === HEADER && header.toString('latin1', 0, 8) === MAGIC ? Number(header.readBigUInt64LE(8)) : null;
}

/** What the slot says (and the failure pipe's read end): null when the entry spawned nothing (another command, not root, a failure). */
export function readSlot(slot: Buffer): (Omit<EntrySpawned, 'ran'> & { failed: number }) | null {
  if (slot.length < SLOT_BYTES || slot.readUInt32LE(0) !== SLOT_MAGIC) return null;
  const pid = slot.readInt32LE(4);
  const channel = slot.readInt32LE(8);
  const failed = slot.readInt32LE(16);
  if (pid <= 0 || channel < 0 || failed < 0) return null;
  return { pid, channel, rootfs: (slot.readUInt32LE(12) & SLOT_ROOTFS) !== 0, failed };
}

/** The failure pipe: EOF once the init has exec'd (it is close-on-exec), a byte if it could not. */
function execd(fd: number): boolean {
  try {
    return fs.readSync(fd, Buffer.alloc(1), 0, 1, null) === 0;
  } catch {
    return false;
  } finally {
    fs.closeSync(fd);
  }
}

let taken = false;

/** The init the entry spawned, once per process (a second call says null); null if none. */
export function takeEntrySpawned(): EntrySpawned | null {
  if (taken) return null;
  taken = true;
  let fd = -1;
  try {
    const entry = entryOf(fs.readFileSync('/proc/self/auxv'));
    if (entry === null || entry < HEADER) return null;
    fd = fs.openSync('/proc/self/mem', 'r');
    const read = (at: number, n: number) => {
      const b = Buffer.alloc(n);
      return b.subarray(0, fs.readSync(fd, b, 0, n, at));
    };
    const slot = slotOf(read(entry - HEADER, HEADER));
    const found = slot === null ? null : readSlot(read(slot, SLOT_BYTES));
    if (found === null) return null;
    const { failed, ...rest } = found;
    return { ...rest, ran: execd(failed) };
  } catch {
    return null; // no /proc: nothing was spawned either (the entry execs /proc/self/exe)
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
