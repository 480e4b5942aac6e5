/**
 * The entry spawn: the machine code is what build/entry-spawn.c compiles to;
 * the patch puts it into an executable as its entry point (a PT_LOAD of its
 * own, the slot at the end of .bss) and refuses, in one line, what it does
 * not know; the launcher's side reads the slot as the code writes it and
 * claims the init only for a plan that wants what it made.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JS build script, no types
import { assemble, CODE, ENTRY_OFFSET, find, MAGIC, patchEntry, SLOT_SIZE } from '../../build/entry-spawn.mjs';
import { entryOf, readSlot, slotOf } from '../../src/container/entry-spawn.js';
import { fitsEntrySpawn, type EarlyPlan } from '../../src/container/early.js';

const PT_LOAD = 1;
const PT_PHDR = 6;

/** A minimal non-PIE x64 executable: the header, a program header table with FREE spare entries, text and data. */
function elf(opts: { free?: number; type?: number; machine?: number; bssEnd?: number } = {}): Buffer {
  const free = opts.free ?? 2;
  const phnum = 3;
  const phoff = 64;
  const tableSize = (phnum + free) * 56;
  const buf = Buffer.alloc(0x3000);
  buf.writeUInt32BE(0x7f454c46, 0);
  buf[4] = 2;
  buf[5] = 1;
  buf[6] = 1;
  buf.writeUInt16LE(opts.type ?? 2, 16);
  buf.writeUInt16LE(opts.machine ?? 62, 18);
  buf.writeUInt32LE(1, 20);
  buf.writeBigUInt64LE(0x401000n, 24); // e_entry
  buf.writeBigUInt64LE(BigInt(phoff), 32);
  buf.writeUInt16LE(64, 52);
  buf.writeUInt16LE(56, 54);
  buf.writeUInt16LE(phnum, 56);
  const ph = (i: number, type: number, flags: number, offset: number, vaddr: number, filesz: number, memsz: number) => {
    const o = phoff + i * 56;
    buf.writeUInt32LE(type, o);
    buf.writeUInt32LE(flags, o + 4);
    buf.writeBigUInt64LE(BigInt(offset), o + 8);
    buf.writeBigUInt64LE(BigInt(vaddr), o + 16);
    buf.writeBigUInt64LE(BigInt(vaddr), o + 24);
    buf.writeBigUInt64LE(BigInt(filesz), o + 32);
    buf.writeBigUInt64LE(BigInt(memsz), o + 40);
    buf.writeBigUInt64LE(0x1000n, o + 48);
  };
  ph(0, PT_PHDR, 4, phoff, 0x400000 + phoff, tableSize, tableSize);
  ph(1, PT_LOAD, 5, 0, 0x400000, 0x2000, 0x2000); // headers and text
  ph(2, PT_LOAD, 6, 0x2000, 0x402000, 0x100, opts.bssEnd ?? 0x800); // data and .bss
  return buf;
}

const phdrs = (buf: Buffer) =>
  Array.from({ length: buf.readUInt16LE(56) }, (_, i) => {
    const o = Number(buf.readBigUInt64LE(32)) + i * 56;
    return { type: buf.readUInt32LE(o), flags: buf.readUInt32LE(o + 4), offset: Number(buf.readBigUInt64LE(o + 8)), vaddr: Number(buf.readBigUInt64LE(o + 16)), filesz: Number(buf.readBigUInt64LE(o + 32)), memsz: Number(buf.readBigUInt64LE(o + 40)) };
  });

describe('the entry spawn (build/entry-spawn.mjs)', () => {
  it('its bytes are what entry-spawn.c compiles to, with no relocation, header first', () => {
    const tools = ['gcc', 'ld', 'objcopy', 'readelf'].filter((t) => spawnSync(t, ['--version']).status !== 0);
    expect(tools, 'the tools test/setup/install-deps.sh installs (gcc, binutils)').toEqual([]);
    expect(assemble().toString('hex')).toBe(CODE.toString('hex'));
    expect(CODE.toString('latin1', 0, 8)).toBe(MAGIC);
    // The entry: endbr64, then it keeps %rsp and %rdx for Node's _start.
    expect(CODE.subarray(ENTRY_OFFSET, ENTRY_OFFSET + 4).toString('hex')).toBe('f30f1efa');
  });

  it('becomes the entry point: a read-execute PT_LOAD above every segment, the slot at the end of .bss, Node\'s entry kept', () => {
    const input = elf();
    const r = patchEntry(input);
    expect(find(input)).toBeNull();
    expect(find(r.buf)).toEqual({ code: r.code, slot: r.slot, entry: 0x401000 });
    expect(Number(r.buf.readBigUInt64LE(24))).toBe(r.code + ENTRY_OFFSET);
    const loads = phdrs(r.buf).filter((p) => p.type === PT_LOAD);
    expect(loads.map((l) => l.vaddr)).toEqual([...loads.map((l) => l.vaddr)].sort((a, b) => a - b));
    const code = loads.at(-1)!;
    expect(code).toMatchObject({ flags: 5, vaddr: 0x403000, filesz: CODE.length, memsz: CODE.length });
    expect(code.offset % 0x1000).toBe(0);
    expect(r.buf.subarray(code.offset + ENTRY_OFFSET, code.offset + CODE.length)).toEqual(CODE.subarray(ENTRY_OFFSET));
    expect(r.slot).toBe(0x402800);
    expect(loads[1].memsz).toBe(0x800 + SLOT_SIZE);
    expect(Number(r.buf.readBigUInt64LE(code.offset + 8))).toBe(r.slot);
    expect(Number(r.buf.readBigUInt64LE(code.offset + 16))).toBe(0x401000);
    expect(r.buf.subarray(0, 16)).toEqual(input.subarray(0, 16));
  });

  it('refuses, in one line, what it cannot patch', () => {
    const cases: [Buffer, RegExp][] = [
      [elf({ free: 0 }), /no free entry in the program header table/],
      [elf({ type: 3 }), /not a non-PIE executable/],
      [elf({ machine: 183 }), /ELF machine 183: the entry spawn is x64 code/],
      [elf({ bssEnd: 0xff8 }), /no room for the slot/],
      [patchEntry(elf()).buf, /has an entry spawn already/],
      [Buffer.from('#!/bin/sh\n'), /not a 64-bit little-endian ELF file/],
    ];
    for (const [buf, line] of cases) expect(() => patchEntry(buf)).toThrow(line);
  });
});

describe("the launcher's side (src/container/entry-spawn.ts)", () => {
  it('finds AT_ENTRY in an auxiliary vector, the slot in the header, and the init in the slot', () => {
    const auxv = Buffer.alloc(64);
    auxv.writeBigUInt64LE(6n, 0); // AT_PAGESZ
    auxv.writeBigUInt64LE(4096n, 8);
    auxv.writeBigUInt64LE(9n, 16); // AT_ENTRY
    auxv.writeBigUInt64LE(0xf2e0018n, 24);
    expect(entryOf(auxv)).toBe(0xf2e0018);
    expect(entryOf(Buffer.alloc(32))).toBeNull();
    const header = Buffer.alloc(24);
    header.write(MAGIC, 'latin1');
    header.writeBigUInt64LE(0x73dbcd0n, 8);
    expect(slotOf(header)).toBe(0x73dbcd0);
    expect(slotOf(Buffer.alloc(24))).toBeNull(); // Node's own _start: no header before it
    const slot = Buffer.alloc(20);
    expect(readSlot(slot)).toBeNull(); // nothing spawned
    slot.writeUInt32LE(0x5453494e, 0);
    slot.writeInt32LE(4242, 4);
    slot.writeInt32LE(3, 8);
    slot.writeUInt32LE(1, 12);
    slot.writeInt32LE(5, 16);
    expect(readSlot(slot)).toEqual({ pid: 4242, channel: 3, rootfs: true, failed: 5 });
    expect(readSlot(slot.subarray(0, 16))).toBeNull();
  });

  it('claims the init only for a plan that wants its namespaces (the cgroup one the init makes) and no descriptors', () => {
    const plan = (namespaces: EarlyPlan['namespaces'], fds: number[] = []): EarlyPlan => ({ namespaces, rootfs: false, verbosity: 1, fds });
    expect(fitsEntrySpawn(plan(['pid', 'mount', 'uts', 'ipc', 'net', 'cgroup']))).toBe(true);
    expect(fitsEntrySpawn(plan(['pid', 'mount', 'uts', 'ipc', 'net']))).toBe(true);
    expect(fitsEntrySpawn(plan(['pid', 'mount', 'uts', 'ipc']))).toBe(false); // the host's network namespace
    expect(fitsEntrySpawn(plan(['pid', 'mount', 'uts', 'net']))).toBe(false); // the host's IPC namespace
    expect(fitsEntrySpawn(plan(['pid', 'mount', 'uts', 'ipc', 'net'], [3]))).toBe(false);
  });
});
